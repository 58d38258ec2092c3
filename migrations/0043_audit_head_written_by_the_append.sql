-- The log's head keeps `written_seq` (the newest event that may change a case list) in the
-- append's own statement again, not in a statement-level trigger: the trigger collected
-- every append's rows into a transition table, ran a function and wrote the one-row head a
-- second time while the head was locked, and eight writers fell from about 0.9× to under
-- 0.5× the rate of plain inserts.
--
-- A release before this one moves `seq` and not `classified_seq`: while the two differ the
-- readers take `seq` (every event counts as a write, as before 0039), and the next append
-- of this release, seeing them differ, counts itself as a write. Kept totals are never
-- stale, whichever release appends.
--
-- A column with a constant default on a one-row table and a dropped trigger; the timeouts
-- make the migration give up rather than queue behind a writer.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE audit_head ADD COLUMN IF NOT EXISTS classified_seq bigint NOT NULL DEFAULT 0;
DROP TRIGGER IF EXISTS audit_events_written ON audit_events;
DROP FUNCTION IF EXISTS audit_head_written();
-- Up to here the trigger kept written_seq right.
UPDATE audit_head SET classified_seq = seq WHERE singleton;
