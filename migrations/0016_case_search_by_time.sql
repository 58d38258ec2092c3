-- A searched case list in filing order (newest or oldest first) at scale. Walking the
-- filing order testing each case is fast only while matches are dense near the page; all
-- matches then a sort is fast only for rare words. The list instead asks for the matches
-- of one time bucket at a time (1, 4, 16, then 64 weeks: `list_searched_by_time` in
-- src/cases/db.rs), and this index answers "the matches of the query in bucket K" with one
-- scan: the document and each level's bucket key in one GIN index (btree_gin for the
-- integer keys), intersected inside the index. It also serves every other full-text test,
-- so it replaces the document-only index.
--
-- Docket numbers are now matched by their words in the document (a prefix query), so the
-- trigram index of 0015 goes too: every docket shares most of its trigrams (`ict`, `cts`,
-- `-20`…), and a fragment's scan read 2,000 index pages (40–150 ms at a million cases).
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- The week (counted from 1970-01-01) of an instant, shifted right by `level` bits: the
-- buckets of levels 0, 2, 4, 6 are 1, 4, 16, 64 weeks long. Immutable: the epoch of a
-- timestamptz does not depend on the time zone.
CREATE FUNCTION case_search_bucket(at timestamptz, level integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT floor(extract(epoch FROM at) / 604800)::integer >> level $$;

CREATE INDEX cases_search_bucket_idx ON cases USING gin (
    search_doc,
    case_search_bucket(created_at, 0),
    case_search_bucket(created_at, 2),
    case_search_bucket(created_at, 4),
    case_search_bucket(created_at, 6)
);

DROP INDEX cases_search_idx;
DROP INDEX cases_docket_trgm_idx;
