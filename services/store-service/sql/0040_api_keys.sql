-- 0040_api_keys - API keys made through /api/keys (owner: apikeys).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- Beside the admin key of the environment (WAHA_API_KEY), operators make
-- keys with the API: admin keys, and session keys that reach one session
-- only. The key itself is shown once, when it is made; only its SHA-512
-- (hex) is kept here. `actions` holds WAHA's scopes
-- {read, send, control, setting, app, delete} as booleans.
CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    key_hash   text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{128}$'),
    is_admin   boolean NOT NULL DEFAULT false,
    session    text,
    is_active  boolean NOT NULL DEFAULT true,
    actions    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (is_admin OR session IS NOT NULL)
);
