-- Jobs that import an Amazon account's history through reports, and that reconcile it.
ALTER TABLE sync_jobs DROP CONSTRAINT sync_jobs_kind_check;
ALTER TABLE sync_jobs ADD CONSTRAINT sync_jobs_kind_check
    CHECK (kind IN ('orders', 'inventory', 'history', 'reconcile'));
