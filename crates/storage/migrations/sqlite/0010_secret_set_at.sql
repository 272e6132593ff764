-- When each credential was set (SQLite). Kept in step with ../postgres/0010_secret_set_at.sql.
-- `updated_at` also moves when a key rotation seals a secret again; `set_at` only when the seller
-- (or the marketplace, for an access token) gave a new value: Amazon's client secrets expire 180
-- days after they were made. Until now the two were the same.
ALTER TABLE connection_secrets ADD COLUMN set_at INTEGER NOT NULL DEFAULT 0;
UPDATE connection_secrets SET set_at = updated_at;
