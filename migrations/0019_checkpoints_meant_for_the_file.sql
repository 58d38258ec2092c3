-- Whether a checkpoint was meant for the checkpoint file: true when the service that took
-- it had a checkpoint file configured. `audit verify` then expects it in the file, so a
-- checkpoint that never reached the file, or a line removed from the file, is reported.
-- Checkpoints taken before this column existed are not expected there (false).
--
-- A catalogue change on a small table; the timeouts make it give up rather than queue
-- behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE audit_checkpoints ADD COLUMN IF NOT EXISTS for_file boolean NOT NULL DEFAULT false;
