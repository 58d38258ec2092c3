-- Advisory opinions (15 CFR 791.310): a request by a party with a direct financial interest
-- in a prospective transaction, with its (c)(1)–(7) content, its completeness check,
-- questions, the requester's and third parties' material, and the office's opinion,
-- drafted by one user and signed by a second supervisor on the hash of what they read.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE SEQUENCE IF NOT EXISTS opinion_request_numbers;

CREATE TABLE IF NOT EXISTS opinion_requests (
    id                 uuid PRIMARY KEY,
    number             text NOT NULL UNIQUE CHECK (length(number) <= 40),
    requester_id       uuid NOT NULL REFERENCES parties (id),
    question           text NOT NULL CHECK (length(question) BETWEEN 1 AND 20000),
    interest           text NOT NULL CHECK (length(interest) BETWEEN 1 AND 20000),
    -- (c)(1)–(7), empty until given.
    submitter          text NOT NULL DEFAULT '' CHECK (length(submitter) <= 20000),
    submitter_address  text NOT NULL DEFAULT '' CHECK (length(submitter_address) <= 20000),
    parties            text NOT NULL DEFAULT '' CHECK (length(parties) <= 20000),
    technology         text NOT NULL DEFAULT '' CHECK (length(technology) <= 20000),
    vehicle            text NOT NULL DEFAULT '' CHECK (length(vehicle) <= 20000),
    system             text NOT NULL DEFAULT '' CHECK (length(system) <= 20000),
    other              text NOT NULL DEFAULT '' CHECK (length(other) <= 20000),
    filed_on           date NOT NULL,
    via                text NOT NULL CHECK (via IN ('api', 'form')),
    status             text NOT NULL DEFAULT 'received' CHECK (status IN
                           ('received', 'incomplete', 'under_review', 'questions_asked', 'issued', 'withdrawn')),
    complete_on        date,
    last_act_on        date NOT NULL,
    -- The opinion: drafted (revision counts the drafts), then signed.
    conclusion         text CHECK (conclusion IN ('prohibited', 'not_prohibited')),
    opinion            text NOT NULL DEFAULT '' CHECK (length(opinion) <= 50000),
    revision           bigint NOT NULL DEFAULT 0,
    drafted_by         uuid REFERENCES users (id),
    drafted_at         timestamptz,
    signed_by          uuid REFERENCES users (id),
    signed_at          timestamptz,
    signed_on          date,
    reauth_at          timestamptz,
    content_sha256     bytea CHECK (length(content_sha256) = 32),
    version            bigint NOT NULL DEFAULT 1,
    received_at        timestamptz NOT NULL,
    received_by        uuid NOT NULL REFERENCES users (id),
    updated_at         timestamptz NOT NULL,
    CHECK ((status = 'issued') = (signed_by IS NOT NULL)),
    CHECK ((signed_by IS NULL) = (content_sha256 IS NULL)),
    CHECK (signed_by IS NULL OR signed_by <> drafted_by),
    CHECK ((conclusion IS NULL) = (drafted_by IS NULL))
);
-- (The indexes are on tables this migration creates: nothing waits on them.)
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS opinion_requests_requester ON opinion_requests (requester_id, received_at DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS opinion_requests_received ON opinion_requests (received_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS opinion_acts (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    uuid NOT NULL REFERENCES opinion_requests (id),
    kind          text NOT NULL CHECK (kind IN
                      ('filed', 'returned_incomplete', 'found_complete', 'material_added', 'third_party_material',
                       'question_asked', 'question_answered', 'opinion_drafted', 'opinion_issued', 'withdrawn')),
    effective_on  date NOT NULL,
    items         text[] NOT NULL DEFAULT '{}',
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 20000),
    -- Third-party material: whose.
    source        text NOT NULL DEFAULT '' CHECK (length(source) <= 300),
    answers       bigint REFERENCES opinion_acts (seq),
    recorded_at   timestamptz NOT NULL,
    recorded_by   uuid NOT NULL REFERENCES users (id)
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS opinion_acts_of ON opinion_acts (request_id, seq);
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS opinion_acts_answered_once ON opinion_acts (answers) WHERE answers IS NOT NULL;

REVOKE ALL ON opinion_requests, opinion_acts FROM icts_app;
GRANT SELECT, INSERT, UPDATE ON opinion_requests TO icts_app;
GRANT SELECT, INSERT ON opinion_acts TO icts_app;
GRANT USAGE, SELECT ON SEQUENCE opinion_request_numbers TO icts_app;
