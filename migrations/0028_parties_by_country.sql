-- no-transaction
-- The party registry's list sorts by legal name (parties_legal_name_idx) or by country and
-- then legal name; this index serves the second, walked either way for the next and the
-- previous page. Built concurrently so that registering parties does not wait for it; a
-- migration without a transaction runs as one query, and PostgreSQL runs the statements
-- of one query in one implicit transaction, so this file holds this one statement only
-- (no timeout settings before it: the build waits for no lock that writes hold).
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS parties_country_name_idx ON parties (country, legal_name, id);
