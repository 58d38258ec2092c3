-- A migration the linter must refuse: a blocking index build on a large table.
CREATE INDEX cases_title_idx ON cases (title);
