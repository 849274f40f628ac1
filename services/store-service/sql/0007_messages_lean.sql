-- 0007_messages_lean - a message row is written as text and its ack
-- kept beside it (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Every message row was parsed into jsonb when written, and every ack
-- rewrote that jsonb with the new level merged in: a whole new row, an
-- entry in each index. Now the payload stays the text it came in, and an
-- ack sets two narrow columns (a HOT update: no index covers them);
-- message.list merges them into the payload when it reads.
ALTER TABLE messages ADD COLUMN ack_name text;
UPDATE messages SET ack_name = payload ->> 'ackName'
 WHERE payload ? 'ackName';
ALTER TABLE messages ALTER COLUMN payload DROP DEFAULT;
ALTER TABLE messages ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE messages ALTER COLUMN payload SET DEFAULT '{}'::json;
