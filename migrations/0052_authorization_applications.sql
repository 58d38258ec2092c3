-- Specific authorization applications (15 CFR 791.307): the application's (c)(1)–(8)
-- content, its completeness check, questions and briefings, the applicant's added material,
-- the office's decision (drafted, then signed by a second supervisor) and a grant's
-- conditions, each tracked as a mitigation measure is. The office's target time to decide
-- is its setting, dated reference data, not a constant.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- The office's target for deciding a complete application, in days (the clock pauses
-- while questions are open), from the date it took effect.
CREATE TABLE IF NOT EXISTS authorization_targets (
    effective_from  date PRIMARY KEY,
    days            bigint NOT NULL CHECK (days BETWEEN 1 AND 3650),
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    set_at          timestamptz NOT NULL
);
INSERT INTO authorization_targets (effective_from, days, note, set_at)
VALUES ('2025-03-17', 90, 'The office''s target for deciding a complete application (the rule states none).', now())
ON CONFLICT (effective_from) DO NOTHING;

CREATE SEQUENCE IF NOT EXISTS authorization_application_numbers;

CREATE TABLE IF NOT EXISTS authorization_applications (
    id                   uuid PRIMARY KEY,
    number               text NOT NULL UNIQUE CHECK (length(number) <= 40),
    applicant_id         uuid NOT NULL REFERENCES parties (id),
    summary              text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    -- (c)(1)–(8), empty until given.
    parties_and_owners   text NOT NULL DEFAULT '' CHECK (length(parties_and_owners) <= 20000),
    foreign_items        text NOT NULL DEFAULT '' CHECK (length(foreign_items) <= 20000),
    vehicles             text NOT NULL DEFAULT '' CHECK (length(vehicles) <= 20000),
    vcs_function         text NOT NULL DEFAULT '' CHECK (length(vcs_function) <= 20000),
    analyses             text NOT NULL DEFAULT '' CHECK (length(analyses) <= 20000),
    access_cutoff        text NOT NULL DEFAULT '' CHECK (length(access_cutoff) <= 20000),
    security_standards   text NOT NULL DEFAULT '' CHECK (length(security_standards) <= 20000),
    proposed_mitigation  text NOT NULL DEFAULT '' CHECK (length(proposed_mitigation) <= 20000),
    filed_on             date NOT NULL,
    via                  text NOT NULL CHECK (via IN ('api', 'form')),
    status               text NOT NULL DEFAULT 'received' CHECK (status IN
                             ('received', 'incomplete', 'under_review', 'questions_asked', 'granted', 'denied',
                              'reopened', 'withdrawn')),
    -- The clock: from the date found complete, paused while questions are open.
    complete_on          date,
    paused_days          bigint NOT NULL DEFAULT 0 CHECK (paused_days >= 0),
    paused_since         date,
    last_act_on          date NOT NULL,
    version              bigint NOT NULL DEFAULT 1,
    received_at          timestamptz NOT NULL,
    received_by          uuid NOT NULL REFERENCES users (id),
    updated_at           timestamptz NOT NULL,
    CHECK ((status = 'questions_asked') = (paused_since IS NOT NULL)),
    CHECK (status IN ('received', 'incomplete', 'withdrawn') OR complete_on IS NOT NULL)
);
-- (The indexes are on tables this migration creates: nothing waits on them.)
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS authorization_applications_applicant
    ON authorization_applications (applicant_id, received_at DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS authorization_applications_received
    ON authorization_applications (received_at DESC, id DESC);

-- The office's decisions, each drafted by one user and signed by a second supervisor after
-- a fresh re-authentication; the signature covers the content's hash. A breach reopens the
-- application and a later decision may follow: every decision stays.
CREATE TABLE IF NOT EXISTS authorization_decisions (
    id                uuid PRIMARY KEY,
    application_id    uuid NOT NULL REFERENCES authorization_applications (id),
    outcome           text NOT NULL CHECK (outcome IN ('granted', 'denied')),
    reasons           text NOT NULL CHECK (length(reasons) BETWEEN 1 AND 20000),
    -- The assessment, factor by factor: {"threat": "...", ...}.
    assessment        jsonb NOT NULL,
    revision          bigint NOT NULL DEFAULT 1,
    drafted_by        uuid NOT NULL REFERENCES users (id),
    drafted_at        timestamptz NOT NULL,
    signed_by         uuid REFERENCES users (id),
    signed_at         timestamptz,
    signed_on         date,
    reauth_at         timestamptz,
    content_sha256    bytea CHECK (length(content_sha256) = 32),
    CHECK ((signed_by IS NULL) = (signed_at IS NULL)),
    CHECK ((signed_by IS NULL) = (content_sha256 IS NULL)),
    CHECK (signed_by IS NULL OR signed_by <> drafted_by)
);
-- One unsigned draft per application at a time.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS authorization_decisions_one_draft
    ON authorization_decisions (application_id) WHERE signed_by IS NULL;

-- A grant's conditions, tracked as mitigation measures are (the same statuses): who keeps
-- it, by when, the third-party assessor named (791.315), the evidence of the last check.
CREATE TABLE IF NOT EXISTS authorization_conditions (
    decision_id    uuid NOT NULL REFERENCES authorization_decisions (id),
    seq            bigint NOT NULL CHECK (seq >= 1),
    description    text NOT NULL CHECK (length(description) BETWEEN 1 AND 20000),
    owner          text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    due_on         date,
    assessor_id    uuid REFERENCES parties (id),
    status         measure_status NOT NULL DEFAULT 'proposed',
    evidence       text NOT NULL DEFAULT '' CHECK (length(evidence) <= 20000),
    checked_on     date,
    PRIMARY KEY (decision_id, seq)
);

-- Every act of an application, in the order recorded: filed, the completeness checks and
-- what they found missing, material added, questions and their answers, briefings, the
-- decision drafted and signed, a condition's status, withdrawal.
CREATE TABLE IF NOT EXISTS authorization_acts (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES authorization_applications (id),
    kind            text NOT NULL CHECK (kind IN
                        ('filed', 'returned_incomplete', 'found_complete', 'material_added', 'question_asked',
                         'question_answered', 'briefing_held', 'decision_drafted', 'decision_signed',
                         'condition_implemented', 'condition_verified', 'condition_breached', 'withdrawn')),
    effective_on    date NOT NULL,
    -- The (c) items concerned: missing (a return), supplemented (material added).
    items           text[] NOT NULL DEFAULT '{}',
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 20000),
    -- An answer: the question it answers; a condition's act: the condition.
    answers         bigint REFERENCES authorization_acts (seq),
    condition_seq   bigint,
    recorded_at     timestamptz NOT NULL,
    recorded_by     uuid NOT NULL REFERENCES users (id)
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS authorization_acts_of ON authorization_acts (application_id, seq);
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS authorization_acts_answered_once ON authorization_acts (answers)
    WHERE answers IS NOT NULL;

REVOKE ALL ON authorization_targets, authorization_applications, authorization_decisions, authorization_conditions,
    authorization_acts FROM icts_app;
GRANT SELECT ON authorization_targets TO icts_app;
GRANT SELECT, INSERT, UPDATE ON authorization_applications, authorization_decisions, authorization_conditions
    TO icts_app;
GRANT SELECT, INSERT ON authorization_acts TO icts_app;
GRANT USAGE, SELECT ON SEQUENCE authorization_application_numbers TO icts_app;
