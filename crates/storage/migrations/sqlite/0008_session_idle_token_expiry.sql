-- Sessions idle and tokens expiring (SQLite). Kept in step with ../postgres/0008_session_idle_token_expiry.sql.
-- A session ends after 12 hours without use as well as at its expiry: when it was last seen is
-- kept (written at most once a minute). An API token may expire; tokens made before stay open.
-- SQLite cannot add a NOT NULL column without a default: the small sessions table is rebuilt.
CREATE TABLE sessions_next (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
INSERT INTO sessions_next (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
SELECT token_hash, user_id, csrf_token, created_at, expires_at, created_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_next RENAME TO sessions;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
