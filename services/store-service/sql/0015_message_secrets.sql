-- 0015_message_secrets - the secrets of polls and events (owner: store,
-- module st_kinds).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- A poll or an event carries a 32-byte message secret; the votes and
-- responses to it are encrypted with a key derived from it. The worker
-- keeps the secret of every poll and event it sends or receives here,
-- so that a vote arriving after a restart or on another worker still
-- opens. `secret` is the base64 of the secret, sealed by st_seal when
-- `kid` is set (as signal_keys); `info` is what reading a vote needs:
-- {kind, chat, creator, options}.
CREATE TABLE message_secrets (
    session    text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    -- the stanza id of the poll or event
    id         text NOT NULL,
    secret     text NOT NULL,
    kid        text,
    info       json NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, id)
);
