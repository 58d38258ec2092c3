-- Reference data (dated where the rule dates it) and cases with their workflow state,
-- notes, requests for information, clock extensions and determination events.

CREATE TABLE ref_adversaries (
    code           text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}$'),
    name           text NOT NULL,
    note           text NOT NULL DEFAULT '',
    effective_from date NOT NULL,
    effective_to   date,
    CHECK (effective_to IS NULL OR effective_to > effective_from)
);
INSERT INTO ref_adversaries (code, name, note, effective_from) VALUES
    ('CN', 'People''s Republic of China', 'including the Hong Kong Special Administrative Region', '2021-01-19'),
    ('CU', 'Republic of Cuba', '', '2021-01-19'),
    ('IR', 'Islamic Republic of Iran', '', '2021-01-19'),
    ('KP', 'Democratic People''s Republic of Korea', '', '2021-01-19'),
    ('RU', 'Russian Federation', '', '2021-01-19'),
    ('VE', 'Venezuelan politician Nicolás Maduro (Maduro regime)', '', '2021-01-19');

CREATE TABLE ref_categories (
    code               text PRIMARY KEY CHECK (code ~ '^[a-z_]{2,40}$'),
    name               text NOT NULL,
    description        text NOT NULL,
    connected_software boolean NOT NULL DEFAULT false,
    effective_from     date NOT NULL,
    effective_to       date
);
INSERT INTO ref_categories (code, name, description, connected_software, effective_from) VALUES
    ('critical_infrastructure', 'Critical-infrastructure ICTS', 'ICTS used by a party to a transaction in a critical-infrastructure sector', false, '2021-01-19'),
    ('network_infrastructure', 'Network infrastructure', 'Wireless local and wide area networks, mobile core and RAN, satellite payloads and operations, cable and wireline access, core networks, long- and short-haul fiber', false, '2021-01-19'),
    ('data_hosting', 'Data hosting and computing', 'Data hosting or computing services that use, process or retain sensitive personal data (over 1,000,000 US persons under the interim rule)', false, '2021-01-19'),
    ('connected_devices', 'Internet-connected devices', 'Internet-connected sensors, webcams, routers, modems, drones and similar (over 1,000,000 units under the interim rule)', false, '2021-01-19'),
    ('connected_software', 'Internet and connected software applications', 'Software, including mobile, desktop and gaming applications, used by US persons (over 1,000,000 under the interim rule)', true, '2021-01-19'),
    ('emerging_technology', 'Emerging technology', 'ICTS integral to artificial intelligence and machine learning, quantum key distribution and computing, drones, autonomous systems or advanced robotics', false, '2021-01-19'),
    ('connected_vehicles', 'Connected vehicles', 'Vehicle connectivity systems and automated driving systems (Subpart D: software from model year 2027, hardware from 2030)', true, '2025-03-17');

CREATE TABLE ref_agencies (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z]{2,10}$'),
    name text NOT NULL
);
INSERT INTO ref_agencies (code, name) VALUES
    ('TREAS', 'Department of the Treasury'),
    ('STATE', 'Department of State'),
    ('DOD', 'Department of Defense'),
    ('DOJ', 'Department of Justice'),
    ('DHS', 'Department of Homeland Security'),
    ('USTR', 'Office of the United States Trade Representative'),
    ('ODNI', 'Office of the Director of National Intelligence'),
    ('GSA', 'General Services Administration'),
    ('FCC', 'Federal Communications Commission'),
    ('DOC', 'Department of Commerce (other bureaus)'),
    ('OTHER', 'Another appropriate agency head');

CREATE TABLE ref_data_categories (
    code text PRIMARY KEY CHECK (code ~ '^[a-z_]{2,40}$'),
    name text NOT NULL
);
INSERT INTO ref_data_categories (code, name) VALUES
    ('financial_distress', 'Personally identifiable financial information indicating financial distress or hardship'),
    ('consumer_report', 'Consumer report information'),
    ('insurance_application', 'Information in applications for health, long-term care, professional liability, mortgage or life insurance'),
    ('health', 'Physical, mental or psychological health condition'),
    ('private_communications', 'Non-public electronic communications (email, messaging, chat)'),
    ('geolocation', 'Geolocation data'),
    ('biometric', 'Biometric enrollment data'),
    ('government_id', 'Government personal identification data'),
    ('security_clearance', 'Security clearance status and applications'),
    ('genetic', 'Results of genetic tests');

-- The clocks of each rule version. src/cases/clocks.rs computes them; a test checks that
-- these rows and the code agree.
CREATE TABLE ref_rule_versions (
    code                      text PRIMARY KEY,
    name                      text NOT NULL,
    citation                  text NOT NULL,
    effective_from            date NOT NULL,
    final_clock_days          integer NOT NULL,
    final_clock_starts        text NOT NULL CHECK (final_clock_starts IN ('acceptance', 'service_of_initial_determination')),
    response_days             integer NOT NULL,
    agency_notice_days        integer,
    presumed_concurrence_days integer
);
INSERT INTO ref_rule_versions VALUES
    ('ifr-2021', 'Interim final rule (2021)', '86 FR 4909; 15 CFR Part 7, renumbered Part 791', '2021-03-22', 180, 'acceptance', 30, NULL, NULL),
    ('final-2025', 'Final rule (2025)', '89 FR 96872; 15 CFR Part 791', '2025-02-04', 180, 'service_of_initial_determination', 30, 21, 14);

CREATE TYPE case_stage AS ENUM (
    'intake', 'awaiting_information', 'rejected', 'initial_review', 'closed_no_action', 'first_interagency',
    'initial_determination', 'response_period', 'second_interagency', 'final_determination', 'decided',
    'monitoring', 'closed');
CREATE TYPE case_decision AS ENUM ('prohibited', 'not_prohibited', 'permitted_with_mitigation');
CREATE TYPE question_answer AS ENUM ('yes', 'no');
CREATE TYPE case_origin AS ENUM ('agency_referral', 'own_initiative', 'submitted_information');
CREATE TYPE clock_name AS ENUM ('final_determination', 'response_window', 'agency_notice', 'presumed_concurrence');

-- Docket numbers ICTS-YYYY-NNN are gap-free per year: the counter row is locked and
-- incremented in the transaction that creates the case.
CREATE TABLE docket_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE cases (
    id                   uuid PRIMARY KEY,
    docket_number        text NOT NULL UNIQUE CHECK (docket_number ~ '^ICTS-[0-9]{4}-[0-9]{3,}$'),
    title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    summary              text NOT NULL CHECK (length(summary) <= 20000),
    origin               case_origin NOT NULL,
    referring_agency     text REFERENCES ref_agencies (code),
    referral_date        date,
    category             text NOT NULL REFERENCES ref_categories (code),
    adversaries          text[] NOT NULL,
    rule_version         text REFERENCES ref_rule_versions (code),
    restricted           boolean NOT NULL DEFAULT false,
    assignee             uuid REFERENCES users (id),
    stage                case_stage NOT NULL DEFAULT 'intake',
    covered              question_answer,
    covered_note         text NOT NULL DEFAULT '',
    nexus                question_answer,
    nexus_note           text NOT NULL DEFAULT '',
    undue_risk           question_answer,
    undue_risk_note      text NOT NULL DEFAULT '',
    accepted_on          date,
    agencies_notified_on date,
    initial_signed_by    uuid REFERENCES users (id),
    initial_signed_at    timestamptz,
    served_on            date,
    response_received_on date,
    circulated_on        date,
    all_concurred        boolean NOT NULL DEFAULT false,
    final_decision       case_decision,
    final_signed_by      uuid REFERENCES users (id),
    final_signed_at      timestamptz,
    decided_on           date,
    -- Denormalised from src/cases/clocks.rs at every change that moves a clock, for the
    -- overdue / due-soon filters: the final-determination and response due dates, and
    -- whether an open request for information pauses them.
    final_due            date,
    response_due         date,
    clocks_paused        boolean NOT NULL DEFAULT false,
    created_by           uuid REFERENCES users (id),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    search_doc           tsvector,
    docket_year          integer GENERATED ALWAYS AS (split_part(docket_number, '-', 2)::integer) STORED,
    docket_seq           integer GENERATED ALWAYS AS (split_part(docket_number, '-', 3)::integer) STORED,
    CHECK ((origin = 'agency_referral') = (referring_agency IS NOT NULL)),
    CHECK (cardinality(adversaries) >= 1)
);
CREATE INDEX cases_stage_idx ON cases (stage, created_at DESC, id DESC);
CREATE INDEX cases_assignee_idx ON cases (assignee, created_at DESC, id DESC);
CREATE INDEX cases_category_idx ON cases (category, created_at DESC, id DESC);
CREATE INDEX cases_created_idx ON cases (created_at DESC, id DESC);
CREATE INDEX cases_adversaries_idx ON cases USING gin (adversaries);
CREATE INDEX cases_search_idx ON cases USING gin (search_doc);
CREATE INDEX cases_final_due_idx ON cases (final_due) WHERE final_due IS NOT NULL;
-- Keyset pages in each list order.
CREATE INDEX cases_docket_order_idx ON cases (docket_year, docket_seq, id);
CREATE INDEX cases_due_order_idx ON cases ((coalesce(final_due, DATE '9999-12-31')), id);

CREATE TABLE case_notes (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id),
    author     uuid NOT NULL REFERENCES users (id),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL
);
CREATE INDEX case_notes_case_idx ON case_notes (case_id, created_at);

-- Requests for information: what was asked, of whom, when, when answered; an open
-- request tolls the clocks it names.
CREATE TABLE case_rfis (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    asked_of    text NOT NULL CHECK (length(asked_of) BETWEEN 1 AND 300),
    question    text NOT NULL CHECK (length(question) BETWEEN 1 AND 20000),
    asked_on    date NOT NULL,
    tolls       clock_name[] NOT NULL DEFAULT '{}',
    answered_on date,
    answer      text,
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    CHECK (answered_on IS NULL OR answered_on >= asked_on)
);
CREATE INDEX case_rfis_case_idx ON case_rfis (case_id);

-- Extensions of a clock, granted in writing by a supervisor.
CREATE TABLE case_extensions (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    clock         clock_name NOT NULL,
    days          integer NOT NULL CHECK (days BETWEEN 1 AND 365),
    justification text NOT NULL CHECK (length(justification) BETWEEN 1 AND 20000),
    granted_by    uuid NOT NULL REFERENCES users (id),
    granted_at    timestamptz NOT NULL
);
CREATE INDEX case_extensions_case_idx ON case_extensions (case_id);

-- Determinations issued, amended or revoked: new rows, never edits.
CREATE TABLE case_determination_events (
    id         uuid PRIMARY KEY,
    case_id    uuid NOT NULL REFERENCES cases (id),
    kind       text NOT NULL CHECK (kind IN ('issued', 'amended', 'revoked')),
    decision   case_decision,
    comment    text NOT NULL DEFAULT '',
    actor      uuid NOT NULL REFERENCES users (id),
    at         timestamptz NOT NULL
);
CREATE INDEX case_determination_events_case_idx ON case_determination_events (case_id, at);

-- Full-text search over docket number, title, summary and notes (party names join in when
-- the party registry lands).
CREATE FUNCTION case_search_doc(case_id uuid, docket text, title text, summary text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', coalesce(docket, '')), 'A')
        || setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', coalesce((SELECT string_agg(body, ' ') FROM case_notes n WHERE n.case_id = $1), '')), 'C')
$$;

CREATE FUNCTION cases_set_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_doc := case_search_doc(NEW.id, NEW.docket_number, NEW.title, NEW.summary);
    RETURN NEW;
END
$$;
CREATE TRIGGER cases_search_doc BEFORE INSERT OR UPDATE OF title, summary, docket_number, search_doc ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_set_search_doc();

CREATE FUNCTION case_notes_refresh_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search_doc = NULL WHERE id = NEW.case_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_notes_search AFTER INSERT ON case_notes
    FOR EACH ROW EXECUTE FUNCTION case_notes_refresh_search();

-- Idempotent creates: a replayed key returns the first answer; the same key with another
-- body is refused.
CREATE TABLE idempotency_keys (
    user_id      uuid NOT NULL REFERENCES users (id),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash bytea NOT NULL,
    status       integer NOT NULL,
    location     text,
    body         jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Reference data is read by everyone and edited by administrators through the service.
GRANT SELECT, INSERT, UPDATE, DELETE ON ref_adversaries, ref_categories, ref_agencies, ref_data_categories, ref_rule_versions TO icts_app;
GRANT SELECT, INSERT, UPDATE ON docket_counters, cases, case_rfis TO icts_app;
GRANT SELECT, INSERT ON case_notes, case_extensions, case_determination_events TO icts_app;
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO icts_app;
-- Notes, extensions and determination events are history: never changed or removed.
REVOKE UPDATE, DELETE ON case_notes, case_extensions, case_determination_events FROM icts_app;
REVOKE DELETE ON cases, case_rfis FROM icts_app;
