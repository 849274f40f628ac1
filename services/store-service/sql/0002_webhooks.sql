-- 0002_webhooks - webhook delivery queue and log (owner: webhooks).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- One delivery per (event, webhook URL); one attempt row per HTTP
-- request. Deliveries of one session to one URL form a stream that is
-- sent in order, one at a time (see services/webhook-dispatcher/README.md
-- "Guarantees"); webhook_streams holds each stream's schedule and which
-- dispatcher holds it.

-- Webhook configurations in full form (cm_webhook_normalize), shared by
-- all deliveries made with the same configuration. id = hex SHA-256 of
-- the compact, key-sorted JSON text of the config.
CREATE TABLE webhook_hooks (
    id          text PRIMARY KEY,
    url         text NOT NULL,
    config      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (session, url): when its first pending delivery is due
-- (NULL: nothing pending) and which dispatcher holds it until when.
CREATE TABLE webhook_streams (
    session         text NOT NULL,
    url             text NOT NULL,
    next_at         timestamptz,
    claimed_by      text,
    claimed_until   timestamptz,
    PRIMARY KEY (session, url)
);
CREATE INDEX webhook_streams_due ON webhook_streams (next_at)
    WHERE next_at IS NOT NULL;
CREATE INDEX webhook_streams_holder ON webhook_streams (claimed_by)
    WHERE claimed_by IS NOT NULL;

-- Position of a delivery in its stream: taken at fan-out in per-session
-- seq order, and again (to the back of the queue) on replay.
CREATE SEQUENCE webhook_delivery_order;

CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        text NOT NULL,
    session         text NOT NULL,
    seq             bigint NOT NULL,
    event           text NOT NULL,
    url             text NOT NULL,
    hook_id         text NOT NULL REFERENCES webhook_hooks (id),
    source          text NOT NULL CHECK (source IN ('session', 'global')),
    order_key       bigint NOT NULL DEFAULT nextval('webhook_delivery_order'),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    replays         integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (event_id, url)
);
-- The queue of each stream.
CREATE INDEX webhook_deliveries_queue
    ON webhook_deliveries (session, url, order_key) WHERE status = 'pending';
-- Listing a session's deliveries, newest first.
CREATE INDEX webhook_deliveries_session ON webhook_deliveries (session, id);
-- Pruning webhook configs no delivery uses.
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (hook_id);
-- Pruning finished deliveries.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (updated_at)
    WHERE status <> 'pending';
ALTER SEQUENCE webhook_delivery_order OWNED BY webhook_deliveries.order_key;

-- One row per HTTP request. request_id (X-Webhook-Request-Id) makes a
-- resent delivery.result harmless.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL
                REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    request_id  text NOT NULL UNIQUE,
    at          timestamptz NOT NULL,
    http_status integer,
    latency_ms  integer NOT NULL,
    error       text,
    dispatcher  text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- Fan-out takes the oldest events not yet turned into deliveries (by id,
-- a time-ordered ULID); events_pending (0001) finds a session's earlier
-- ones.
CREATE INDEX events_unfanned ON events (id) WHERE NOT fanned_out;
