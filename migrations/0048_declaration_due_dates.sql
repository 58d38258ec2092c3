-- The date by which the office expects each year's Declarations of Conformity (791.305: before
-- the first import or sale of the model year): the office's setting, dated reference data,
-- not a constant. A filer in its role by that date with no declaration for the year is
-- expected but missing once it passes; a declaration filed after it is late.
--
-- A new table; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS declaration_due_dates (
    -- The model year, or the calendar year of hardware declared without one.
    year     bigint PRIMARY KEY CHECK (year BETWEEN 2024 AND 2100),
    due_on   date NOT NULL,
    note     text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    set_at   timestamptz NOT NULL,
    set_by   uuid NOT NULL REFERENCES users (id)
);
REVOKE ALL ON declaration_due_dates FROM icts_app;
GRANT SELECT, INSERT, UPDATE ON declaration_due_dates TO icts_app;
