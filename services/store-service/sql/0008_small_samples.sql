-- 0008_small_samples - small ANALYZE samples on the other hot tables
-- (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- As 0004 for events and messages: the planner needs row counts and key
-- distributions of these tables, not 30,000-row samples (a whole table
-- read each time the store refreshes its statistics as they grow).
ALTER TABLE webhook_deliveries
    ALTER COLUMN id SET STATISTICS 10,
    ALTER COLUMN event_id SET STATISTICS 10,
    ALTER COLUMN session SET STATISTICS 10,
    ALTER COLUMN seq SET STATISTICS 10,
    ALTER COLUMN event SET STATISTICS 10,
    ALTER COLUMN url SET STATISTICS 10,
    ALTER COLUMN hook_id SET STATISTICS 10,
    ALTER COLUMN source SET STATISTICS 10,
    ALTER COLUMN order_key SET STATISTICS 10,
    ALTER COLUMN status SET STATISTICS 10,
    ALTER COLUMN attempts SET STATISTICS 10,
    ALTER COLUMN next_attempt_at SET STATISTICS 10,
    ALTER COLUMN last_status SET STATISTICS 10,
    ALTER COLUMN replays SET STATISTICS 10,
    ALTER COLUMN created_at SET STATISTICS 10,
    ALTER COLUMN updated_at SET STATISTICS 10,
    ALTER COLUMN delivered_at SET STATISTICS 10,
    ALTER COLUMN last_at SET STATISTICS 10,
    ALTER COLUMN last_latency_ms SET STATISTICS 10,
    ALTER COLUMN last_request_id SET STATISTICS 0,
    ALTER COLUMN last_dispatcher SET STATISTICS 10;
ALTER TABLE chats
    ALTER COLUMN session SET STATISTICS 10,
    ALTER COLUMN jid SET STATISTICS 10,
    ALTER COLUMN name SET STATISTICS 10,
    ALTER COLUMN last_ts SET STATISTICS 10,
    ALTER COLUMN archived SET STATISTICS 10,
    ALTER COLUMN pinned SET STATISTICS 10,
    ALTER COLUMN muted_until SET STATISTICS 10,
    ALTER COLUMN unread SET STATISTICS 10,
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN updated_at SET STATISTICS 10;
ALTER TABLE signal_keys
    ALTER COLUMN session SET STATISTICS 10,
    ALTER COLUMN kind SET STATISTICS 10,
    ALTER COLUMN key_id SET STATISTICS 10,
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN updated_at SET STATISTICS 10;
ALTER TABLE messages
    ALTER COLUMN ack_name SET STATISTICS 10;
