-- 0009_sealed_secrets - device secrets sealed at rest (owner: store).
--
-- Copyright (c) 2026 the Wharf authors. Apache-2.0.
--
-- device_creds and signal_keys hold a session's private keys. The store
-- seals them with STORE_SECRET_KEY (src/st_seal.h). A row's `kid` names
-- the key that sealed it (8 hex digits); NULL means the row is plaintext:
-- written before this migration, or by a store with
-- STORE_SECRETS_PLAINTEXT. Every store-service start seals again the rows
-- that are not under its current key, plaintext ones included
-- (st_devices_reseal).
--
-- device_creds: either plaintext JSON in `creds` (kid NULL) or the sealed
-- JSON text in `sealed` (kid set), never both.
ALTER TABLE device_creds
    ALTER COLUMN creds DROP NOT NULL,
    ADD COLUMN sealed bytea,
    ADD COLUMN kid text,
    ADD CONSTRAINT device_creds_sealed_or_not CHECK (
        (kid IS NULL AND creds IS NOT NULL AND sealed IS NULL)
        OR (kid IS NOT NULL AND creds IS NULL AND sealed IS NOT NULL));

-- signal_keys: `data` is the record, sealed when kid is set.
ALTER TABLE signal_keys ADD COLUMN kid text;
ALTER TABLE signal_keys ALTER COLUMN kid SET STATISTICS 10;
