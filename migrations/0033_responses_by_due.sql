-- no-transaction
-- Unpaused cases in the response period by the due date of the parties' response, with
-- their final-determination date: the other part of the overdue and due-soon lists and
-- counts (those the response's date puts there and the final-determination date does not)
-- is one range of this index, read without the table. Built concurrently, alone in its
-- file, as 0032.
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_open_response_due_idx ON cases (response_due, id) INCLUDE (final_due)
    WHERE stage = 'response_period' AND NOT clocks_paused;
