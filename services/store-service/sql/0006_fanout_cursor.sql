-- 0006_fanout_cursor - fan-out follows each session's seq instead of
-- marking every event (owner: webhooks).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Every event used to be written twice: inserted, then rewritten with
-- fanned_out = true (a new row version and an entry in every index), and
-- two partial indexes found the unmarked ones. Events of a session
-- commit in seq order (each append locks the session row to take its
-- seq), so "fanned out" is a prefix of the session's seqs: one cursor
-- row per session says how far. The events table becomes insert-only.
--
-- What is committed for a session goes up to sessions.event_seq; a
-- deleted session leaves its last seq in event_orphans so its remaining
-- events still reach the global webhooks.
CREATE TABLE event_fanned (
    session   text PRIMARY KEY,
    -- every event of the session with seq <= fanned has its deliveries
    fanned    bigint NOT NULL,
    fanned_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_orphans (
    session text PRIMARY KEY,
    upto    bigint NOT NULL
);

INSERT INTO event_fanned (session, fanned)
SELECT session, COALESCE(min(seq) FILTER (WHERE NOT fanned_out) - 1, max(seq))
  FROM events GROUP BY session;

INSERT INTO event_orphans (session, upto)
SELECT e.session, max(e.seq) FROM events e
 WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.name = e.session)
 GROUP BY e.session;

CREATE FUNCTION sessions_orphan_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_orphans (session, upto) VALUES (OLD.name, OLD.event_seq)
    ON CONFLICT (session) DO UPDATE
        SET upto = GREATEST(event_orphans.upto, EXCLUDED.upto);
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_orphan_events AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_orphan_events();

DROP INDEX events_pending;
DROP INDEX events_unfanned;
ALTER TABLE events DROP COLUMN fanned_out;
