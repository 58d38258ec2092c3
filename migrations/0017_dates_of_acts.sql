-- The legal record: every act of a review carries the date it took effect, apart from when
-- and by whom it was recorded (the audit event's time and actor).
--
-- `stage_since` is the date of the act that brought the case to its current stage; the
-- next act may not be dated before it. Cases recorded before this migration have none and
-- are held only by the dates of their other acts.
--
-- Every statement here is a catalogue change or touches a small table; the timeouts (local
-- to this migration's transaction) make it give up rather than queue behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE cases ADD COLUMN IF NOT EXISTS stage_since date;

-- A supervisor may keep a case under the rule other than the one in force on its
-- acceptance date (a pending case the office keeps under the rule it started under); the
-- written reason is shown on the case.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS rule_reason text;

-- The analyst's record that every served party filed its written response: the response
-- window then no longer holds the proposed final determination back (7.107 / 791.107).
ALTER TABLE cases ADD COLUMN IF NOT EXISTS response_complete_on date;

-- Emergency deviations from the procedure (7.100(e) / 791.100(e)): recorded by a
-- supervisor with a written justification; printed in the determination's procedural
-- history. Never edited or deleted.
CREATE TABLE IF NOT EXISTS case_deviations (
    id uuid NOT NULL,
    case_id uuid NOT NULL REFERENCES cases (id),
    decided_on date NOT NULL,
    justification text NOT NULL CHECK (length(btrim(justification)) > 0),
    recorded_by uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, id)
);
GRANT SELECT, INSERT ON case_deviations TO icts_app;
REVOKE UPDATE, DELETE ON case_deviations FROM icts_app;

-- Service of a determination by the methods of 7.105(b) / 791.105(b). The codes recorded
-- before them (mail, email, courier) stay readable as they were entered.
ALTER TABLE case_services DROP CONSTRAINT IF EXISTS case_services_method_check;
ALTER TABLE case_services ADD CONSTRAINT case_services_method_check CHECK (method IN (
    'registered_mail', 'facsimile', 'electronic_transmission', 'commercial_carrier', 'personal_delivery',
    'federal_register', 'mail', 'email', 'courier')) NOT VALID;
ALTER TABLE case_services VALIDATE CONSTRAINT case_services_method_check;

-- Notice and publication of a signed determination (7.109(e)-(f) / 791.109): its sending
-- to each party and to the appropriate agencies (method and date), and its publication in
-- the Federal Register (date, citation, document number). Never edited or deleted.
CREATE TABLE IF NOT EXISTS determination_sendings (
    id               uuid NOT NULL,
    determination_id uuid NOT NULL REFERENCES determinations (id),
    recipient        text NOT NULL CHECK (length(btrim(recipient)) BETWEEN 1 AND 300),
    recipient_kind   text NOT NULL CHECK (recipient_kind IN ('party', 'agency')),
    method           text NOT NULL CHECK (method IN ('registered_mail', 'electronic_mail', 'facsimile',
                         'commercial_carrier', 'personal_delivery')),
    sent_on          date NOT NULL,
    recorded_by      uuid NOT NULL REFERENCES users (id),
    recorded_at      timestamptz NOT NULL,
    PRIMARY KEY (determination_id, id)
);
CREATE TABLE IF NOT EXISTS determination_publications (
    determination_id uuid PRIMARY KEY REFERENCES determinations (id),
    published_on     date NOT NULL,
    citation         text NOT NULL CHECK (citation ~ '^[0-9]{1,3} FR [0-9]{1,6}$'),
    document_number  text NOT NULL CHECK (document_number ~ '^[0-9]{4}-[0-9]{4,6}$'),
    recorded_by      uuid NOT NULL REFERENCES users (id),
    recorded_at      timestamptz NOT NULL
);
GRANT SELECT, INSERT ON determination_sendings, determination_publications TO icts_app;
REVOKE UPDATE, DELETE ON determination_sendings, determination_publications FROM icts_app;
