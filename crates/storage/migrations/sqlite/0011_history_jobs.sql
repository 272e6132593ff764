-- Jobs that import an Amazon account's history through reports, and that reconcile it.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing refers to it).
CREATE TABLE sync_jobs_new (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    kind TEXT NOT NULL CHECK (kind IN ('orders', 'inventory', 'history', 'reconcile')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    origin TEXT NOT NULL CHECK (origin IN ('seller', 'schedule')),
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    cursor TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    fetched INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    skipped_reasons TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
INSERT INTO sync_jobs_new SELECT id, connection_id, kind, state, origin, run_at, lease_owner, lease_expires_at,
    attempts, cursor, pages, fetched, created, updated, skipped, skipped_reasons, note, error, created_at,
    started_at, finished_at FROM sync_jobs;
DROP TABLE sync_jobs;
ALTER TABLE sync_jobs_new RENAME TO sync_jobs;
CREATE INDEX sync_jobs_claim ON sync_jobs (state, run_at);
CREATE INDEX sync_jobs_connection ON sync_jobs (connection_id, id DESC);
CREATE UNIQUE INDEX sync_jobs_one_active ON sync_jobs (connection_id, kind)
    WHERE state IN ('queued', 'running');
CREATE INDEX sync_jobs_last ON sync_jobs (connection_id, kind, state, id);
