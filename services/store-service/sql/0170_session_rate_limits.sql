-- 0170_session_rate_limits - a session's send rate-limit policy (owner:
-- ratelimits).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Wawp's /v2/session/rate-limit: the policy a session's sends follow,
-- chosen by slug (strict, standard_policy, relaxed, unlimited, custom).
-- `limits` holds the numbers the gateways apply (send_message_per_minute,
-- burst, send_interval_ms, send_jitter_ms, concurrent_limit); the
-- gateway checks them, the store keeps them. No row: the gateway's own
-- defaults (GATEWAY_SEND_INTERVAL_MS...). Goes with its session.
CREATE TABLE session_rate_limits (
    session    text PRIMARY KEY REFERENCES sessions (name) ON DELETE CASCADE,
    policy     text NOT NULL CHECK (length(policy) BETWEEN 1 AND 32),
    limits     jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
