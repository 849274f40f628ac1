-- 0004_hot_tables - cheaper writes and statistics on the tables every
-- message touches (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- - events_created is used only by retention, which deletes old rows in
--   bulk: a BRIN index (created_at follows the insertion order) serves it
--   and costs next to nothing per insert, where the btree was paid on
--   every event write and again when fan-out marks it.
-- - The store refreshes the planner statistics of these tables as they
--   grow (st_worker). Large JSON columns add nothing the planner uses, and
--   a small sample is enough for row counts and key distributions, so
--   ANALYZE reads a few thousand rows instead of 30,000 full envelopes.
DROP INDEX events_created;
CREATE INDEX events_created ON events USING brin (created_at);

ALTER TABLE events
    ALTER COLUMN envelope SET STATISTICS 0,
    ALTER COLUMN id SET STATISTICS 10,
    ALTER COLUMN session SET STATISTICS 10,
    ALTER COLUMN seq SET STATISTICS 10,
    ALTER COLUMN event SET STATISTICS 10,
    ALTER COLUMN fanned_out SET STATISTICS 10,
    ALTER COLUMN created_at SET STATISTICS 10;
ALTER TABLE messages
    ALTER COLUMN payload SET STATISTICS 0,
    ALTER COLUMN body SET STATISTICS 0,
    ALTER COLUMN session SET STATISTICS 10,
    ALTER COLUMN id SET STATISTICS 10,
    ALTER COLUMN chat SET STATISTICS 10,
    ALTER COLUMN from_me SET STATISTICS 10,
    ALTER COLUMN sender SET STATISTICS 10,
    ALTER COLUMN ts SET STATISTICS 10,
    ALTER COLUMN type SET STATISTICS 10,
    ALTER COLUMN ack SET STATISTICS 10,
    ALTER COLUMN created_at SET STATISTICS 10;
ALTER TABLE webhook_deliveries
    ALTER COLUMN last_error SET STATISTICS 0;
