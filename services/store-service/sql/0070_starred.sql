-- 0070_starred - which messages are starred (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- A star is app state (the `star` action, any device of the account) or
-- comes with history sync. The flag is a column beside the payload, as
-- the ack is: a star or unstar is a narrow update, and message.list
-- merges it into the WAMessage (`_data.starred: true`) when it reads.
ALTER TABLE messages ADD COLUMN starred boolean NOT NULL DEFAULT false;
