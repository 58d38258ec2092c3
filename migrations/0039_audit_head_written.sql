-- The log's head also keeps the position of the newest event that may have changed what a
-- case list shows (`written_seq`): every event but sign-ins and sessions (`auth.`,
-- `session.`), refusals (`access.`), the log's own checks and exports (`audit.`) and the
-- openings and exports of cases (`case.viewed`, `case.exported`), which only read. A
-- searched list's total is kept while it has not moved (`cases::totals`), so reading no
-- longer drops the kept totals. A trigger keeps it, whichever release appends the event.
--
-- A column with a constant default on a one-row table, a new function and trigger; the
-- timeouts make the migration give up rather than queue behind a writer.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE audit_head ADD COLUMN IF NOT EXISTS written_seq bigint NOT NULL DEFAULT 0;
UPDATE audit_head SET written_seq = seq WHERE singleton;

CREATE OR REPLACE FUNCTION audit_head_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head h SET written_seq = w.seq
      FROM (SELECT max(seq) AS seq FROM appended
             WHERE NOT (event_type LIKE 'auth.%' OR event_type LIKE 'session.%' OR event_type LIKE 'access.%'
                        OR event_type LIKE 'audit.%' OR event_type IN ('case.viewed', 'case.exported'))) w
     WHERE h.singleton AND w.seq > h.written_seq;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS audit_events_written ON audit_events;
CREATE TRIGGER audit_events_written AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION audit_head_written();
