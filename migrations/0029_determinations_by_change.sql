-- no-transaction
-- The list of every determination sorts by when each last changed, newest or oldest
-- first, and pages by keyset on (updated_at, id) either way; this index serves it. Built
-- concurrently so that drafting does not wait for it; a migration without a transaction
-- runs as one query, whose statements PostgreSQL runs in one implicit transaction, so the
-- file holds this one statement (no timeout settings: see 0028).
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS determinations_updated_idx ON determinations (updated_at, id);
