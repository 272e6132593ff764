-- The health panel asks for each connection's last successful job of each kind.
CREATE INDEX sync_jobs_last ON sync_jobs (connection_id, kind, state, id);
