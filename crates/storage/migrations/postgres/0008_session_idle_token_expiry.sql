-- Sessions idle and tokens expiring (PostgreSQL). Kept in step with ../sqlite/0008_session_idle_token_expiry.sql.
-- A session ends after 12 hours without use as well as at its expiry: when it was last seen is
-- kept (written at most once a minute). An API token may expire; tokens made before stay open.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
