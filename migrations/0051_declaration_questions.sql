-- The questions the office asks a filer about a declaration (791.305: whether a general
-- authorization is relied on, its records), each tracked as a request for information is:
-- asked on a date, answered on a date with the answer. A declaration waits for the
-- answers while any is open.
--
-- A new table; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS declaration_questions (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    declaration_id  uuid NOT NULL REFERENCES declarations (id),
    question        text NOT NULL CHECK (length(question) BETWEEN 1 AND 20000),
    asked_on        date NOT NULL,
    asked_at        timestamptz NOT NULL,
    asked_by        uuid NOT NULL REFERENCES users (id),
    answered_on     date,
    answer          text CHECK (length(answer) BETWEEN 1 AND 20000),
    answered_at     timestamptz,
    answered_by     uuid REFERENCES users (id),
    CHECK ((answered_on IS NULL) = (answer IS NULL)),
    CHECK ((answered_on IS NULL) = (answered_at IS NULL)),
    CHECK ((answered_on IS NULL) = (answered_by IS NULL)),
    CHECK (answered_on IS NULL OR answered_on >= asked_on)
);
-- (The index is on a table this migration creates: nothing waits on it.)
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS declaration_questions_of ON declaration_questions (declaration_id, seq);

REVOKE ALL ON declaration_questions FROM icts_app;
GRANT SELECT, INSERT ON declaration_questions TO icts_app;
GRANT UPDATE (answered_on, answer, answered_at, answered_by) ON declaration_questions TO icts_app;
