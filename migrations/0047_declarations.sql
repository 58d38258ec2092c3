-- The second docket's first filings (15 CFR 791 Subpart D): the parties that file, by their
-- filer roles, and their Declarations of Conformity (791.305), each kept with its history;
-- an amendment supersedes the declaration it replaces, which stays.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- A party's role as a filer, from the date it took it up.
CREATE TABLE IF NOT EXISTS filer_roles (
    party_id     uuid NOT NULL REFERENCES parties (id),
    role         text NOT NULL CHECK (role IN ('vehicle_manufacturer', 'hardware_importer')),
    since        date NOT NULL,
    recorded_at  timestamptz NOT NULL,
    recorded_by  uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (party_id, role)
);

CREATE SEQUENCE IF NOT EXISTS declaration_numbers;

CREATE TABLE IF NOT EXISTS declarations (
    id                     uuid PRIMARY KEY,
    number                 text NOT NULL UNIQUE CHECK (length(number) <= 40),
    filer_id               uuid NOT NULL REFERENCES parties (id),
    kind                   text NOT NULL CHECK (kind IN ('hardware', 'software', 'completed_vehicle')),
    -- The model year it covers, or for VCS hardware without one the calendar year.
    model_year             bigint CHECK (model_year BETWEEN 2024 AND 2100),
    calendar_year          bigint CHECK (calendar_year BETWEEN 2024 AND 2100),
    -- Makes, models and trims (completed vehicles, software) or part numbers (hardware).
    covers                 text[] NOT NULL CHECK (cardinality(covers) BETWEEN 1 AND 500),
    certifications         text[] NOT NULL CHECK (cardinality(certifications) >= 1),
    -- The general authorization relied on, if any (e.g. `GA 1`).
    general_authorization  text CHECK (length(general_authorization) <= 40),
    filed_on               date NOT NULL,
    received_at            timestamptz NOT NULL,
    received_by            uuid NOT NULL REFERENCES users (id),
    via                    text NOT NULL CHECK (via IN ('api', 'form', 'bulk')),
    status                 text NOT NULL DEFAULT 'received' CHECK (status IN
                               ('received', 'under_review', 'questions_asked', 'accepted', 'deficient', 'superseded')),
    status_reason          text NOT NULL DEFAULT '' CHECK (length(status_reason) <= 20000),
    amends                 uuid REFERENCES declarations (id),
    amendment_reason       text NOT NULL DEFAULT '' CHECK (length(amendment_reason) <= 20000),
    superseded_by          uuid REFERENCES declarations (id) DEFERRABLE INITIALLY DEFERRED,
    version                bigint NOT NULL DEFAULT 1,
    updated_at             timestamptz NOT NULL,
    CHECK ((model_year IS NULL) <> (calendar_year IS NULL)),
    CHECK (kind = 'hardware' OR model_year IS NOT NULL),
    CHECK ((status = 'superseded') = (superseded_by IS NOT NULL)),
    CHECK ((amends IS NULL) = (amendment_reason = ''))
);
-- (The indexes are on tables this migration creates: nothing waits on them.)
-- One declaration in force per filer, kind and year; an amendment is filed once.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS declarations_one_in_force
    ON declarations (filer_id, kind, coalesce(model_year, -calendar_year)) WHERE superseded_by IS NULL;
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS declarations_amended_once ON declarations (amends) WHERE amends IS NOT NULL;
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS declarations_received ON declarations (received_at DESC, id DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS declarations_filer ON declarations (filer_id, received_at DESC);

-- Every status a declaration went through, with who moved it and why.
CREATE TABLE IF NOT EXISTS declaration_history (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    declaration_id  uuid NOT NULL REFERENCES declarations (id),
    at              timestamptz NOT NULL,
    by_user         uuid NOT NULL REFERENCES users (id),
    status_before   text,
    status_after    text NOT NULL,
    reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 20000)
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS declaration_history_of ON declaration_history (declaration_id, seq);

REVOKE ALL ON filer_roles, declarations, declaration_history FROM icts_app;
GRANT SELECT, INSERT ON filer_roles, declaration_history TO icts_app;
GRANT SELECT, INSERT, UPDATE ON declarations TO icts_app;
GRANT USAGE, SELECT ON SEQUENCE declaration_numbers TO icts_app;
