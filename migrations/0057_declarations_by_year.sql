-- no-transaction
-- The declaration list filtered by year, newest first: the declarations of a model (or
-- calendar) year as one range of this index in the list's order, instead of walking every
-- newer declaration to reach an earlier year's (a million rows at scale). The expression is
-- the one the list's SQL writes. Built concurrently; one statement per file.
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS declarations_year_received_idx
    ON declarations ((coalesce(model_year, calendar_year)), received_at DESC, id DESC);
