-- Deactivated users, the audit log and sign-in failures (PostgreSQL). Kept in step with
-- ../sqlite/0009_users_audit_sign_in.sql.

-- A deactivated user can no longer sign in; their sessions and tokens end with it.
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;

-- Who did what, when and from where. Append-only: the triggers below refuse every change, and
-- the code has no path that tries one. `actor` is the user's email then, or 'system'.
CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_id BIGINT,
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
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Failed sign-ins, per client address ('address <ip>') and per account and address
-- ('account <email> <ip>'): the delay before the next try grows with the count. In the database
-- so that every instance on one PostgreSQL sees the same counts.
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure_at);
