-- Determinations with four-eyes sign-off, interagency notices, service, party
-- submissions, mitigation measures and compliance checks, documents, notifications and
-- the mail outbox.

-- ---------------------------------------------------------------------------------------
-- Documents: evidence on cases and submissions. Content lives here (bytea) unless the
-- marking is classified-reference, for which only a pointer is kept, never content.
CREATE TYPE document_marking AS ENUM ('public', 'cui', 'cbi', 'classified_reference');

CREATE TABLE documents (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    marking     document_marking NOT NULL,
    filename    text CHECK (length(filename) BETWEEN 1 AND 255),
    media_type  text,
    size_bytes  bigint CHECK (size_bytes BETWEEN 1 AND 20971520),
    sha256      bytea CHECK (length(sha256) = 32),
    pointer     text CHECK (length(pointer) BETWEEN 1 AND 1000),
    uploaded_by uuid NOT NULL REFERENCES users (id),
    uploaded_at timestamptz NOT NULL,
    CHECK ((marking = 'classified_reference') = (pointer IS NOT NULL)),
    CHECK ((marking = 'classified_reference') = (sha256 IS NULL AND size_bytes IS NULL AND media_type IS NULL AND filename IS NULL))
);
CREATE INDEX documents_case_idx ON documents (case_id, uploaded_at);

CREATE TABLE document_contents (
    document_id uuid PRIMARY KEY REFERENCES documents (id),
    content     bytea NOT NULL
);
-- A classified-reference document never has content.
CREATE FUNCTION document_contents_not_classified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT marking FROM documents WHERE id = NEW.document_id) = 'classified_reference' THEN
        RAISE EXCEPTION 'classified-reference documents are stored as a pointer only' USING ERRCODE = 'check_violation';
    END IF;
    IF (SELECT sha256 FROM documents WHERE id = NEW.document_id) IS DISTINCT FROM sha256(NEW.content) THEN
        RAISE EXCEPTION 'document content does not match its recorded sha256' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER document_contents_check BEFORE INSERT ON document_contents
    FOR EACH ROW EXECUTE FUNCTION document_contents_not_classified();

-- ---------------------------------------------------------------------------------------
-- Party submissions: written responses, mitigation proposals, meeting requests.
CREATE TABLE case_submissions (
    id              uuid PRIMARY KEY,
    case_id         uuid NOT NULL REFERENCES cases (id),
    party_id        uuid REFERENCES parties (id),
    received_on     date NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('written_response', 'mitigation_proposal', 'meeting_request', 'other')),
    summary         text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    meeting_held_on date,
    meeting_outcome text CHECK (length(meeting_outcome) <= 20000),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    CHECK (meeting_outcome IS NULL OR kind = 'meeting_request')
);
CREATE INDEX case_submissions_case_idx ON case_submissions (case_id, received_on);

CREATE TABLE submission_documents (
    submission_id uuid NOT NULL REFERENCES case_submissions (id),
    document_id   uuid NOT NULL REFERENCES documents (id),
    PRIMARY KEY (submission_id, document_id)
);

-- Service of the initial determination on the parties.
CREATE TABLE case_services (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id),
    method      text NOT NULL CHECK (method IN ('mail', 'email', 'courier', 'federal_register')),
    served_on   date NOT NULL,
    recorded_by uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX case_services_case_idx ON case_services (case_id);

-- ---------------------------------------------------------------------------------------
-- Interagency notices: first step (before service; 21 days' notice under final-2025) and
-- second step (proposed final determination; 14 days' silence is concurrence).
CREATE TABLE agency_notices (
    id                     uuid PRIMARY KEY,
    case_id                uuid NOT NULL REFERENCES cases (id),
    step                   text NOT NULL CHECK (step IN ('first', 'second')),
    agency                 text NOT NULL REFERENCES ref_agencies (code),
    sent_on                date NOT NULL,
    due_on                 date NOT NULL CHECK (due_on >= sent_on),
    response               text CHECK (response IN ('concur', 'object', 'none')),
    responded_on           date CHECK (responded_on >= sent_on),
    comment                text NOT NULL DEFAULT '' CHECK (length(comment) <= 20000),
    objector_level         text CHECK (length(objector_level) BETWEEN 1 AND 200),
    referred_to_president  date,
    dispute_resolved_on    date,
    dispute_resolution     text CHECK (length(dispute_resolution) <= 20000),
    created_by             uuid NOT NULL REFERENCES users (id),
    created_at             timestamptz NOT NULL,
    version                integer NOT NULL DEFAULT 1,
    UNIQUE (case_id, step, agency),
    CHECK ((response IS NULL) = (responded_on IS NULL)),
    CHECK (objector_level IS NULL OR response = 'object'),
    CHECK (referred_to_president IS NULL OR response = 'object'),
    CHECK (dispute_resolved_on IS NULL OR response = 'object')
);

-- ---------------------------------------------------------------------------------------
-- Mitigation: a catalogue of measure kinds, measures per case, status history and
-- compliance checks.
CREATE TABLE ref_mitigation_kinds (
    code text PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO ref_mitigation_kinds (code, name) VALUES
    ('restructuring', 'Restructuring or divestiture'),
    ('remove_control', 'Removal of foreign-adversary control'),
    ('third_party_monitor', 'Third-party monitor'),
    ('independent_audit', 'Independent audits'),
    ('data_localisation', 'Data localisation'),
    ('source_code_review', 'Source-code review'),
    ('access_restrictions', 'Access restrictions'),
    ('other', 'Other');

CREATE TYPE measure_status AS ENUM ('proposed', 'agreed', 'implemented', 'verified', 'rejected', 'breached');

CREATE TABLE mitigation_measures (
    id            uuid PRIMARY KEY,
    case_id       uuid NOT NULL REFERENCES cases (id),
    kind          text NOT NULL REFERENCES ref_mitigation_kinds (code),
    description   text NOT NULL CHECK (length(description) BETWEEN 1 AND 20000),
    owner         text NOT NULL CHECK (length(owner) BETWEEN 1 AND 300),
    due_on        date,
    status        measure_status NOT NULL DEFAULT 'proposed',
    submission_id uuid REFERENCES case_submissions (id),
    created_by    uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       integer NOT NULL DEFAULT 1
);
CREATE INDEX mitigation_measures_case_idx ON mitigation_measures (case_id);

CREATE TABLE measure_status_changes (
    id         uuid PRIMARY KEY,
    measure_id uuid NOT NULL REFERENCES mitigation_measures (id),
    before     measure_status,
    after      measure_status NOT NULL,
    comment    text NOT NULL DEFAULT '' CHECK (length(comment) <= 20000),
    actor      uuid NOT NULL REFERENCES users (id),
    at         timestamptz NOT NULL
);
CREATE INDEX measure_status_changes_idx ON measure_status_changes (measure_id, at);

CREATE TABLE compliance_checks (
    id          uuid PRIMARY KEY,
    measure_id  uuid NOT NULL REFERENCES mitigation_measures (id),
    checked_on  date NOT NULL,
    result      text NOT NULL CHECK (result IN ('compliant', 'deficient', 'breach')),
    finding     text NOT NULL CHECK (length(finding) BETWEEN 1 AND 20000),
    document_id uuid REFERENCES documents (id),
    checked_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX compliance_checks_measure_idx ON compliance_checks (measure_id, checked_on);

-- ---------------------------------------------------------------------------------------
-- Determinations. A draft is revised by its drafter (each save a new revision), submitted,
-- then signed by a supervisor who is not the drafter, or returned with a comment. Signing
-- freezes it: the sha256 of the signed content, the signer, the time and the time of the
-- signer's re-authentication are kept, and the row never changes again. Amendments and
-- revocations are new determinations that need their own signature.
CREATE TABLE determinations (
    id                    uuid PRIMARY KEY,
    case_id               uuid NOT NULL REFERENCES cases (id),
    kind                  text NOT NULL CHECK (kind IN ('initial', 'final', 'amendment', 'revocation')),
    supersedes            uuid REFERENCES determinations (id),
    outcome               text NOT NULL CHECK (outcome IN ('prohibition', 'mitigation', 'prohibited', 'not_prohibited', 'permitted_with_mitigation', 'revoked')),
    status                text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'returned', 'signed')),
    revision              integer NOT NULL DEFAULT 1,
    content               jsonb NOT NULL,
    assessment_id         uuid REFERENCES assessments (id),
    cited_documents       uuid[] NOT NULL DEFAULT '{}',
    unclassified_confirmed boolean NOT NULL CHECK (unclassified_confirmed),
    drafted_by            uuid NOT NULL REFERENCES users (id),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    submitted_at          timestamptz,
    signed_by             uuid REFERENCES users (id),
    signed_at             timestamptz,
    reauth_at             timestamptz,
    content_sha256        bytea CHECK (length(content_sha256) = 32),
    -- Four-eyes: the signer is never the drafter.
    CONSTRAINT determinations_four_eyes CHECK (signed_by IS NULL OR signed_by <> drafted_by),
    -- A signature is whole: signer, time, hash and a re-authentication at most 5 minutes old.
    CONSTRAINT determinations_signature_whole CHECK (
        (status = 'signed') = (signed_by IS NOT NULL AND signed_at IS NOT NULL AND content_sha256 IS NOT NULL AND reauth_at IS NOT NULL)
    ),
    CONSTRAINT determinations_fresh_reauth CHECK (
        reauth_at IS NULL OR (reauth_at <= signed_at AND reauth_at >= signed_at - interval '5 minutes')
    ),
    CONSTRAINT determinations_outcome_fits_kind CHECK (
        (kind = 'initial' AND outcome IN ('prohibition', 'mitigation'))
        OR (kind IN ('final', 'amendment') AND outcome IN ('prohibited', 'not_prohibited', 'permitted_with_mitigation'))
        OR (kind = 'revocation' AND outcome = 'revoked')
    ),
    CHECK ((kind IN ('amendment', 'revocation')) = (supersedes IS NOT NULL))
);
CREATE INDEX determinations_case_idx ON determinations (case_id, created_at);
CREATE INDEX determinations_queue_idx ON determinations (submitted_at) WHERE status = 'submitted';

CREATE FUNCTION determinations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'determinations are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' OR NEW.signed_by IS NOT NULL THEN
            RAISE EXCEPTION 'a determination starts as a draft' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'signed' THEN
        RAISE EXCEPTION 'determination % is signed and never changes', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.drafted_by <> OLD.drafted_by OR NEW.case_id <> OLD.case_id OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'drafter, case and kind of a determination never change' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = 'signed' THEN
        IF OLD.status <> 'submitted' THEN
            RAISE EXCEPTION 'only a submitted determination can be signed' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.content IS DISTINCT FROM OLD.content OR NEW.outcome <> OLD.outcome
           OR NEW.cited_documents IS DISTINCT FROM OLD.cited_documents OR NEW.revision <> OLD.revision THEN
            RAISE EXCEPTION 'signing does not change the content' USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.signed_by AND u.role = 'supervisor' AND u.active) THEN
            RAISE EXCEPTION 'the signer must hold the supervisor role when signing' USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NEW.signed_by IS NOT NULL OR NEW.signed_at IS NOT NULL OR NEW.content_sha256 IS NOT NULL OR NEW.reauth_at IS NOT NULL THEN
        RAISE EXCEPTION 'signature fields are set only by signing' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER determinations_guard BEFORE INSERT OR UPDATE OR DELETE ON determinations
    FOR EACH ROW EXECUTE FUNCTION determinations_guard();
CREATE FUNCTION determinations_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'determinations are never deleted' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER determinations_no_truncate BEFORE TRUNCATE ON determinations
    FOR EACH STATEMENT EXECUTE FUNCTION determinations_refuse_truncate();

-- Every saved revision of a draft, and every return with its comment.
CREATE TABLE determination_revisions (
    determination_id uuid NOT NULL REFERENCES determinations (id),
    revision         integer NOT NULL,
    outcome          text NOT NULL,
    content          jsonb NOT NULL,
    saved_by         uuid NOT NULL REFERENCES users (id),
    saved_at         timestamptz NOT NULL,
    PRIMARY KEY (determination_id, revision)
);
CREATE TABLE determination_returns (
    id               uuid PRIMARY KEY,
    determination_id uuid NOT NULL REFERENCES determinations (id),
    revision         integer NOT NULL,
    comment          text NOT NULL CHECK (length(btrim(comment)) BETWEEN 1 AND 20000),
    returned_by      uuid NOT NULL REFERENCES users (id),
    returned_at      timestamptz NOT NULL
);
CREATE INDEX determination_returns_idx ON determination_returns (determination_id, returned_at);

-- ---------------------------------------------------------------------------------------
-- Notifications in the application, and the outbox of mail a worker sends when SMTP is
-- configured. Workers claim rows with FOR UPDATE SKIP LOCKED, so two instances never send
-- the same message.
CREATE TABLE notifications (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    kind       text NOT NULL CHECK (kind IN ('assigned', 'returned', 'awaiting_signature', 'clock_due', 'breach', 'signed')),
    case_id    uuid REFERENCES cases (id),
    message    text NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
    link       text NOT NULL CHECK (link ~ '^/'),
    dedupe_key text,
    created_at timestamptz NOT NULL,
    read_at    timestamptz,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE mail_outbox (
    id              uuid PRIMARY KEY,
    notification_id uuid REFERENCES notifications (id),
    to_address      text NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    body            text NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    sent_at         timestamptz,
    sent_by         text,
    last_error      text
);
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- ---------------------------------------------------------------------------------------
-- Privileges of the service role: history is INSERT-only; determinations are updated only
-- through the guard above; nothing here is deleted.
REVOKE ALL ON documents, document_contents, case_submissions, submission_documents, case_services,
    agency_notices, ref_mitigation_kinds, mitigation_measures, measure_status_changes, compliance_checks,
    determinations, determination_revisions, determination_returns, notifications, mail_outbox FROM icts_app;
GRANT SELECT, INSERT ON documents, document_contents, submission_documents, case_services,
    measure_status_changes, compliance_checks, determination_revisions, determination_returns TO icts_app;
GRANT SELECT ON ref_mitigation_kinds TO icts_app;
GRANT SELECT, INSERT, UPDATE ON case_submissions, agency_notices, mitigation_measures, determinations,
    notifications, mail_outbox TO icts_app;
