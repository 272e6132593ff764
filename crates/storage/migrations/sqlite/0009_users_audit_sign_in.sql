-- Deactivated users, the audit log and sign-in failures (SQLite). Kept in step with
-- ../postgres/0009_users_audit_sign_in.sql.

-- A deactivated user can no longer sign in; their sessions and tokens end with it.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- Who did what, when and from where. Append-only: the triggers below refuse every change, and
-- the code has no path that tries one. `actor` is the user's email then, or 'system'.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at INTEGER NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    ip TEXT,
    user_agent TEXT,
    detail TEXT
);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_occurred ON audit_events (occurred_at);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- Failed sign-ins, per client address ('address <ip>') and per account and address
-- ('account <email> <ip>'): the delay before the next try grows with the count. In the database
-- so that every instance on one PostgreSQL sees the same counts.
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure_at);
