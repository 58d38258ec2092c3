-- Checkpoints are also taken at shutdown, at the end of a command that wrote events, and
-- before a backup.
--
-- A catalogue change on a small table; the timeouts make it give up rather than queue
-- behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE audit_checkpoints DROP CONSTRAINT IF EXISTS audit_checkpoints_reason_check;
ALTER TABLE audit_checkpoints ADD CONSTRAINT audit_checkpoints_reason_check
    CHECK (reason IN ('periodic', 'export', 'manual', 'shutdown', 'command', 'backup')) NOT VALID;
ALTER TABLE audit_checkpoints VALIDATE CONSTRAINT audit_checkpoints_reason_check;
