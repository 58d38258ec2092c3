-- no-transaction
-- The trigram index of the declarations' searched text (0055): `ILIKE '%…%'` on a part of
-- a number or an item covered reads the matching rows, not the table. Built concurrently so
-- that no filing waits for it; a migration without a transaction runs as one query, so this
-- file holds this one statement only.
-- squawk-ignore require-statement-timeout, require-lock-timeout
CREATE INDEX CONCURRENTLY IF NOT EXISTS declarations_search_trgm_idx
    ON declarations USING gin (declaration_search_text(number, covers) gin_trgm_ops);
