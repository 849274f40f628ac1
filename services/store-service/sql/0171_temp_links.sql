-- 0171_temp_links - a session's temporary QR link (owner: templinks).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Wawp's /v2/session/temp-link: a link to a hosted QR page for one
-- session, so that someone without an API key can scan it. One row per
-- session, the last link made (a new one replaces it, so the old token
-- stops working). Only the SHA-256 of the token (hex) is kept; the token
-- is shown once, when made. revoked_at: revoked by DELETE.
CREATE TABLE temp_links (
    session    text PRIMARY KEY REFERENCES sessions (name) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
