-- 0005_events_json - the outbox keeps each envelope as the text it was
-- written in (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Nothing queries inside an envelope: it is written once and read back
-- whole (event.list, and every webhook delivery sends it as its body).
-- As jsonb each one was parsed, its keys sorted, and turned back into
-- text on every delivery; as json it is checked once and kept as is.
ALTER TABLE events ALTER COLUMN envelope TYPE json USING envelope::json;
