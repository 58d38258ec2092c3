-- The log's head also keeps the position of the newest event that may have changed what a
-- case list shows (`written_seq`): everything but sign-ins, sessions, refusals, the log's
-- own reads and exports, and openings of cases. A searched list's total is kept while it
-- has not moved, so reading no longer drops the kept totals.
--
-- A column with a constant default on a one-row table, set from the head; the timeouts
-- make the migration give up rather than queue behind a writer.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE audit_head ADD COLUMN IF NOT EXISTS written_seq bigint NOT NULL DEFAULT 0;
UPDATE audit_head SET written_seq = seq WHERE singleton;
