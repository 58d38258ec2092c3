-- The party registry shared across cases (with ownership chains and adversary-nexus
-- evidence), the ICTS transactions a case reviews, and case consolidation.

CREATE TYPE party_kind AS ENUM ('company', 'person', 'government_body');
CREATE TYPE party_role AS ENUM ('supplier', 'us_counterparty', 'owner', 'intermediary');
-- The evidence of a foreign-adversary nexus the rule names (791.103(b)).
CREATE TYPE nexus_criterion AS ENUM ('ownership', 'facilities', 'personnel_ties', 'adversary_law', 'operation_control');

CREATE TABLE parties (
    id            uuid PRIMARY KEY,
    legal_name    text NOT NULL CHECK (length(legal_name) BETWEEN 1 AND 300),
    aliases       text[] NOT NULL DEFAULT '{}',
    kind          party_kind NOT NULL,
    country       text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    parent_id     uuid REFERENCES parties (id),
    ownership_pct numeric(5, 2) CHECK (ownership_pct IS NULL OR (ownership_pct > 0 AND ownership_pct <= 100)),
    notes         text NOT NULL DEFAULT '' CHECK (length(notes) <= 20000),
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    CHECK (parent_id IS NULL OR parent_id <> id),
    CHECK ((parent_id IS NULL) = (ownership_pct IS NULL))
);
CREATE INDEX parties_legal_name_idx ON parties (legal_name);
CREATE INDEX parties_parent_idx ON parties (parent_id);

CREATE TABLE party_nexus_evidence (
    id          uuid PRIMARY KEY,
    party_id    uuid NOT NULL REFERENCES parties (id),
    criterion   nexus_criterion NOT NULL,
    adversary   text NOT NULL REFERENCES ref_adversaries (code),
    finding     text NOT NULL CHECK (length(finding) BETWEEN 1 AND 20000),
    source      text NOT NULL DEFAULT '' CHECK (length(source) <= 2000),
    recorded_by uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX party_nexus_evidence_party_idx ON party_nexus_evidence (party_id);

CREATE TABLE case_parties (
    case_id  uuid NOT NULL REFERENCES cases (id),
    party_id uuid NOT NULL REFERENCES parties (id),
    role     party_role NOT NULL,
    added_by uuid REFERENCES users (id),
    added_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, party_id, role)
);
CREATE INDEX case_parties_party_idx ON case_parties (party_id);

CREATE TABLE transactions (
    id                  uuid PRIMARY KEY,
    case_id             uuid NOT NULL REFERENCES cases (id),
    item                text NOT NULL CHECK (length(item) BETWEEN 1 AND 500),
    kind                text NOT NULL CHECK (kind IN ('acquisition', 'importation', 'transfer', 'installation', 'dealing', 'use')),
    status              text NOT NULL CHECK (status IN ('pending', 'completed', 'ongoing')),
    initiated_on        date,
    completed_on        date,
    ongoing_activity    text NOT NULL DEFAULT '' CHECK (length(ongoing_activity) <= 2000),
    value_usd           numeric(18, 2) CHECK (value_usd IS NULL OR value_usd >= 0),
    us_persons_affected bigint CHECK (us_persons_affected IS NULL OR us_persons_affected >= 0),
    data_categories     text[] NOT NULL DEFAULT '{}',
    -- NULL when loaded by the command-line import (its audit event names the run).
    created_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL,
    CHECK (completed_on IS NULL OR initiated_on IS NULL OR completed_on >= initiated_on)
);
CREATE INDEX transactions_case_idx ON transactions (case_id);

CREATE TABLE transaction_parties (
    transaction_id uuid NOT NULL REFERENCES transactions (id),
    party_id       uuid NOT NULL REFERENCES parties (id),
    role           party_role NOT NULL,
    PRIMARY KEY (transaction_id, party_id, role)
);

-- A case consolidated into another keeps its record and points at the survivor.
ALTER TABLE cases ADD COLUMN consolidated_into uuid REFERENCES cases (id);

-- Party names join the case search.
CREATE OR REPLACE FUNCTION case_search_doc(case_id uuid, docket text, title text, summary text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('simple', coalesce(docket, '')), 'A')
        || setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('simple', coalesce((
               SELECT string_agg(p.legal_name || ' ' || array_to_string(p.aliases, ' '), ' ')
               FROM case_parties cp JOIN parties p ON p.id = cp.party_id WHERE cp.case_id = $1), '')), 'B')
        || setweight(to_tsvector('english', coalesce((SELECT string_agg(body, ' ') FROM case_notes n WHERE n.case_id = $1), '')), 'C')
$$;

-- Statement-level, so that many links refresh each case once. A bulk import (which sets
-- icts.bulk_load for its transaction) computes the documents itself and skips this.
CREATE FUNCTION case_parties_refresh_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('icts.bulk_load', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    UPDATE cases SET search_doc = NULL WHERE id IN (SELECT DISTINCT case_id FROM changed_rows);
    RETURN NULL;
END
$$;

-- A bulk import supplies each new case's search document with the row.
CREATE OR REPLACE FUNCTION cases_set_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.search_doc IS NOT NULL AND coalesce(current_setting('icts.bulk_load', true), '') = 'on' THEN
        RETURN NEW;
    END IF;
    NEW.search_doc := case_search_doc(NEW.id, NEW.docket_number, NEW.title, NEW.summary);
    RETURN NEW;
END
$$;
CREATE TRIGGER case_parties_search_insert AFTER INSERT ON case_parties
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parties_refresh_search_inserted();
CREATE TRIGGER case_parties_search_delete AFTER DELETE ON case_parties
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION case_parties_refresh_search_inserted();

CREATE FUNCTION parties_refresh_case_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search_doc = NULL WHERE id IN (SELECT case_id FROM case_parties WHERE party_id = NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER parties_case_search AFTER UPDATE OF legal_name, aliases ON parties
    FOR EACH ROW EXECUTE FUNCTION parties_refresh_case_search();

-- Evidence and transaction links are history: added, never edited.
REVOKE UPDATE, DELETE ON party_nexus_evidence FROM icts_app;
REVOKE DELETE ON parties FROM icts_app;
