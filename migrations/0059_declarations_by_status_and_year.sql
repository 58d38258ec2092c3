-- no-transaction
-- The declaration list filtered by status and year (a review queue of one model year),
-- newest first, as one range of this index; its total is then counted from the index
-- alone. Built concurrently; one statement per file.
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS declarations_status_year_received_idx
    ON declarations (status, (coalesce(model_year, calendar_year)), received_at DESC, id DESC);
