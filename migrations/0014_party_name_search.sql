-- Finding a party by part of its name or an alias (the case page's party pickers, the
-- parties list, GET /api/v1/parties?q=): a trigram index answers ILIKE '%…%' without
-- reading the whole registry (hundreds of thousands of parties at scale).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text searched: the legal name and every alias. Immutable (array_to_string is only
-- stable in general, but not for text[]), so it can be indexed.
CREATE FUNCTION party_search_text(legal_name text, aliases text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT legal_name || coalesce(' ' || array_to_string(aliases, ' '), '') $$;

CREATE INDEX parties_search_trgm_idx ON parties USING gin (party_search_text(legal_name, aliases) gin_trgm_ops);
