-- 0003_webhooks_lean - fewer writes per webhook delivery (owner: webhooks).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Every delivery is written twice (created by fan-out, finished by its
-- result); each index and foreign key on webhook_deliveries is paid on
-- both writes. This drops what only rare maintenance needed:
--  - the foreign key to webhook_hooks (fan-out inserts a config before
--    the deliveries using it; prune deletes only unused configs, under
--    the same advisory lock as fan-out);
--  - UNIQUE (event_id, url) (fan-out creates each event's deliveries
--    once: it marks the event fanned_out in the same transaction);
--  - the indexes on hook_id and on updated_at of finished rows; retention
--    now goes by created_at, through a BRIN index that costs next to
--    nothing to maintain.
-- A successful attempt is recorded on the delivery row itself (last_*
-- columns) instead of a webhook_attempts row; failed attempts keep their
-- rows. delivery.get shows both as one log.
ALTER TABLE webhook_deliveries
    DROP CONSTRAINT webhook_deliveries_hook_id_fkey,
    DROP CONSTRAINT webhook_deliveries_event_id_url_key,
    ADD COLUMN last_at timestamptz,
    ADD COLUMN last_latency_ms integer,
    ADD COLUMN last_request_id text,
    ADD COLUMN last_dispatcher text;
DROP INDEX webhook_deliveries_hook;
DROP INDEX webhook_deliveries_finished;
CREATE INDEX webhook_deliveries_created ON webhook_deliveries
    USING brin (created_at);
