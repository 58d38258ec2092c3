-- Enforcement (15 CFR 791.316–791.319), for both dockets: a matter per alleged violation,
-- linking the party, the case whose final determination was breached (the first docket) or
-- the declaration concerned (the second), and the acts of its proceeding, each with the
-- date it took effect: an initial finding of violation and its answer, the finding made
-- final, a pre-penalty notice with its answer date and any extension granted on request,
-- the answer, a settlement, a penalty notice, or the matter closed.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE SEQUENCE IF NOT EXISTS enforcement_matter_numbers;

CREATE TABLE IF NOT EXISTS enforcement_matters (
    id                       uuid PRIMARY KEY,
    number                   text NOT NULL UNIQUE CHECK (length(number) <= 40),
    docket                   text NOT NULL CHECK (docket IN ('subpart_b', 'subpart_d')),
    party_id                 uuid NOT NULL REFERENCES parties (id),
    case_id                  uuid REFERENCES cases (id),
    declaration_id           uuid REFERENCES declarations (id),
    provision                text NOT NULL CHECK (provision IN
                                 ('final_determination', '791.302', '791.303', '791.304', '791.305', '791.306', '791.307')),
    summary                  text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    violation_on             date NOT NULL,
    transaction_value_cents  bigint CHECK (transaction_value_cents >= 0),
    self_disclosed           boolean NOT NULL,
    -- The date the matter was opened (its first act took effect).
    opened_on                date NOT NULL,
    stage                    text NOT NULL DEFAULT 'open' CHECK (stage IN
                                 ('open', 'finding_issued', 'finding_final', 'pre_penalty_notice', 'settled',
                                  'penalty_imposed', 'closed')),
    -- The date the respondent's answer is due (an initial finding, a pre-penalty notice).
    answer_due_on            date,
    answered_on              date,
    -- The latest act's date: a later act may not be dated before it.
    last_act_on              date NOT NULL,
    version                  bigint NOT NULL DEFAULT 1,
    opened_at                timestamptz NOT NULL,
    opened_by                uuid NOT NULL REFERENCES users (id),
    updated_at               timestamptz NOT NULL,
    -- A breach of a final determination is the first docket's, and names its case.
    CHECK ((provision = 'final_determination') = (docket = 'subpart_b')),
    CHECK (docket = 'subpart_d' OR case_id IS NOT NULL),
    CHECK (docket = 'subpart_b' OR case_id IS NULL),
    CHECK (docket = 'subpart_d' OR declaration_id IS NULL),
    CHECK ((stage IN ('finding_issued', 'pre_penalty_notice')) = (answer_due_on IS NOT NULL))
);
-- (The indexes are on tables this migration creates: nothing waits on them.)
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS enforcement_matters_opened ON enforcement_matters (opened_at DESC, id DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS enforcement_matters_party ON enforcement_matters (party_id, opened_at DESC);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS enforcement_matters_answers_due ON enforcement_matters (answer_due_on)
    WHERE answer_due_on IS NOT NULL;

-- Every act of a matter's proceeding, with the date it took effect and who recorded it.
CREATE TABLE IF NOT EXISTS enforcement_acts (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matter_id     uuid NOT NULL REFERENCES enforcement_matters (id),
    kind          text NOT NULL CHECK (kind IN
                      ('opened', 'finding_issued', 'finding_answered', 'finding_final', 'pre_penalty_notice',
                       'extension', 'answer', 'settlement', 'penalty_notice', 'closed')),
    -- The date it took effect (a notice: the date it was delivered; an extension: the date
    -- it was requested).
    effective_on  date NOT NULL,
    -- A proposed penalty, a settlement's or a penalty notice's amount.
    amount_cents  bigint CHECK (amount_cents >= 0),
    -- The answer date it set (a finding, a pre-penalty notice, an extension).
    due_on        date,
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 20000),
    recorded_at   timestamptz NOT NULL,
    recorded_by   uuid NOT NULL REFERENCES users (id)
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS enforcement_acts_of ON enforcement_acts (matter_id, seq);

REVOKE ALL ON enforcement_matters, enforcement_acts FROM icts_app;
GRANT SELECT, INSERT, UPDATE ON enforcement_matters TO icts_app;
GRANT SELECT, INSERT ON enforcement_acts TO icts_app;
GRANT USAGE, SELECT ON SEQUENCE enforcement_matter_numbers TO icts_app;
