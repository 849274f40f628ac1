-- 0045_lid_map - a session's LID <-> phone number map (owner: lid).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- WhatsApp addresses a user by phone number (PN) and by LID, a hidden
-- identity of the account. The session-worker's engine learns which LID
-- belongs to which number (usync, message attributes, groups, history
-- sync) and writes each new pair with `lid.put`; it reads them back at
-- start with `lid.list`, which also serves the /lids routes. At most one
-- pair per LID and one per number: a new pair replaces the old pairs of
-- both sides. Both columns hold digits only (the user part).
CREATE TABLE lid_map (
    session    text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    lid        text NOT NULL,
    pn         text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, lid)
);
CREATE UNIQUE INDEX lid_map_pn ON lid_map (session, pn);
