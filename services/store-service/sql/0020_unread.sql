-- 0020_unread - which received messages are unread (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- sendSeen without ids and POST /chats/{chatId}/messages/read read "the
-- chat's unread messages". A message from someone else is unread from
-- the moment its event is stored until we send its read receipt
-- (message.mark_read) or one of our own devices reads it (a READ
-- message.ack about it). Rows from before this migration count as read.
-- The partial index holds only unread rows, so it stays small and acks
-- of our own messages (never unread) keep their HOT updates.
ALTER TABLE messages ADD COLUMN unread boolean NOT NULL DEFAULT false;
CREATE INDEX messages_unread ON messages (session, chat, ts DESC)
    WHERE unread;
