-- Case search matches the full text OR a part of the docket number (ILIKE '%…%'). With no
-- index for the second branch the planner could not combine the full-text index with
-- anything, and walked the newest-first order testing every case: fast for common words,
-- a walk through the whole table for a rare one. A trigram index on the docket number lets
-- it take both branches from indexes (BitmapOr) when the match is rare.
CREATE INDEX cases_docket_trgm_idx ON cases USING gin (docket_number gin_trgm_ops);
