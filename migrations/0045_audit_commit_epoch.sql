-- The life of the database since its last crash, for appends that commit without waiting
-- for the disk (`audit::durable`). An unlogged table is emptied by crash recovery: an
-- append records the epoch it saw, and the flush that makes it durable must see the same
-- one, or a crash came between the commit and the flush and the change may be gone. The
-- first flush after a crash makes a new epoch.
--
-- A new table; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE UNLOGGED TABLE IF NOT EXISTS audit_commit_epoch (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch      uuid NOT NULL
);
INSERT INTO audit_commit_epoch (epoch) VALUES (gen_random_uuid()) ON CONFLICT (singleton) DO NOTHING;
REVOKE ALL ON audit_commit_epoch FROM icts_app;
GRANT SELECT, INSERT ON audit_commit_epoch TO icts_app;
