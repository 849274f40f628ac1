-- 0001_core - sessions, leases, device state, what a session has seen,
-- and the event outbox. Copyright (c) 2026 the Wharf authors. Apache-2.0.
-- Applied once, in a transaction, by store-service (st_migrate). Never
-- edit a landed migration: add a new NNNN_name.sql file.

-- A WhatsApp session. desired is what the API wants, status what the
-- worker running it reports (WAHA names).
CREATE TABLE sessions (
    name              text PRIMARY KEY,
    config            jsonb NOT NULL DEFAULT '{}',
    desired           text NOT NULL DEFAULT 'stopped'
                      CHECK (desired IN ('running', 'stopped')),
    status            text NOT NULL DEFAULT 'STOPPED',
    reason            text,
    -- last 3 {status, timestamp(ms)}, oldest first
    statuses          jsonb NOT NULL DEFAULT '[]',
    -- {id, lid?, pushName?} once authenticated
    me                jsonb,
    -- Wawp instance id (defaults to the name)
    instance_id       text UNIQUE NOT NULL,
    -- sha512 hex of the Wawp per-session access token
    access_token_hash text,
    -- last events.seq handed out for this session
    event_seq         bigint NOT NULL DEFAULT 0,
    -- last lease epoch handed out; never decreases, survives release
    lease_epoch       bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_wanted ON sessions (updated_at) WHERE desired = 'running';

-- Which worker runs a session, until when, and under which epoch (the
-- fencing token its writes carry). A row whose expires_at has passed is
-- free to claim. Released leases are deleted.
CREATE TABLE session_leases (
    session    text PRIMARY KEY REFERENCES sessions (name) ON DELETE CASCADE,
    worker     text NOT NULL,
    expires_at timestamptz NOT NULL,
    epoch      bigint NOT NULL
);
CREATE INDEX session_leases_worker ON session_leases (worker);

-- The WhatsApp device credentials of a session (engine-defined JSON).
CREATE TABLE device_creds (
    session    text PRIMARY KEY REFERENCES sessions (name) ON DELETE CASCADE,
    creds      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Signal protocol state: identities, sessions, pre-keys, sender keys.
CREATE TABLE signal_keys (
    session    text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    kind       text NOT NULL,
    key_id     text NOT NULL,
    data       bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, kind, key_id)
);

CREATE TABLE contacts (
    session       text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    jid           text NOT NULL,
    lid           text,
    name          text,
    push_name     text,
    short_name    text,
    business_name text,
    data          jsonb NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, jid)
);
CREATE INDEX contacts_lid ON contacts (session, lid) WHERE lid IS NOT NULL;

CREATE TABLE chats (
    session     text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    jid         text NOT NULL,
    name        text,
    -- last message time, epoch seconds
    last_ts     bigint,
    archived    boolean NOT NULL DEFAULT false,
    pinned      boolean NOT NULL DEFAULT false,
    muted_until bigint,
    unread      integer NOT NULL DEFAULT 0,
    data        jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, jid)
);
CREATE INDEX chats_recent ON chats (session, last_ts DESC);

CREATE TABLE messages (
    session    text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    id         text NOT NULL,
    chat       text NOT NULL,
    from_me    boolean NOT NULL,
    sender     text,
    -- epoch seconds
    ts         bigint NOT NULL,
    type       text NOT NULL,
    body       text,
    -- the WAMessage as the API returns it
    payload    jsonb NOT NULL DEFAULT '{}',
    -- WAHA ack level: -1 ERROR .. 4 PLAYED
    ack        integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session, id)
);
CREATE INDEX messages_chat_ts ON messages (session, chat, ts DESC);

CREATE TABLE labels (
    session   text NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
    id        text NOT NULL,
    name      text NOT NULL,
    color     integer,
    color_hex text,
    PRIMARY KEY (session, id)
);

CREATE TABLE label_chats (
    session  text NOT NULL,
    label_id text NOT NULL,
    chat     text NOT NULL,
    PRIMARY KEY (session, label_id, chat),
    FOREIGN KEY (session, label_id) REFERENCES labels (session, id)
        ON DELETE CASCADE
);

-- The outbox: every event in its final WAHA envelope, numbered per
-- session. seq comes from sessions.event_seq in the inserting
-- transaction, so per-session commit order is seq order. No foreign key:
-- events outlive a deleted session until pruned.
CREATE TABLE events (
    id         text PRIMARY KEY,
    session    text NOT NULL,
    seq        bigint NOT NULL,
    event      text NOT NULL,
    envelope   jsonb NOT NULL,
    fanned_out boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session, seq)
);
CREATE INDEX events_pending ON events (session, seq) WHERE NOT fanned_out;
CREATE INDEX events_created ON events (created_at);
