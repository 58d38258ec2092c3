-- no-transaction
-- Open, unpaused cases by their final-determination due date: the overdue and due-soon
-- lists and counts read the cases their final-determination date puts there as one range
-- of this index (an index-only walk), instead of testing open cases one by one (the
-- office-wide overdue count read thousands of rows at a million cases). The predicate is
-- the one `cases::db` writes for "open", word for word, so that the planner proves the
-- index holds every match. Built concurrently so that no write waits for it; a migration
-- without a transaction runs as one query, so this file holds this one statement only.
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_open_final_due_idx ON cases (final_due, id)
    WHERE final_due IS NOT NULL
      AND stage NOT IN ('rejected','closed_no_action','decided','monitoring','compliance_review','closed')
      AND NOT clocks_paused;
