-- 0120_pictures - the profile pictures the engine learnt (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- The URL of a person's or a group's picture, by API chat id, as the
-- worker last learnt it: from a picture query (the chat picture and
-- contact profile-picture routes) or re-read after a picture
-- notification. url NULL: no picture, or hidden by privacy. Kept apart
-- from chats so a picture learnt before the chat exists still shows once
-- it does; chat.list reads it as the chat's `picture`.
CREATE TABLE pictures (
    session    text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    jid        text NOT NULL,
    url        text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, jid)
);
