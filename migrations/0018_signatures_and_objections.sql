-- Signatures as the legal record needs them, and objections counted at the rule's level.
--
-- Every signature records its date (the date of the act), the signer's title and the
-- delegation of the Secretary's authority under which they sign (7.109(d) / 791.109).
-- A determination signed outside the system (on paper, or in the office's earlier system)
-- is recorded by one supervisor with its signer's name, title, authority, date and the
-- signed copy (a case document, with its sha256), and becomes part of the record only when
-- a second supervisor confirms it: status `recorded` until then.
--
-- Every statement here is a catalogue change or touches a small table; the timeouts (local
-- to this migration's transaction) make it give up rather than queue behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE determinations ADD COLUMN IF NOT EXISTS signed_on date;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS signer_title text;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS signer_authority text;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS outside_signer text;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS signed_copy_id uuid;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS signed_copy_sha256 bytea;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS recorded_by uuid;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS recorded_at timestamptz;
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS confirmed_by uuid;

ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_signed_copy_fkey;
ALTER TABLE determinations ADD CONSTRAINT determinations_signed_copy_fkey
    FOREIGN KEY (signed_copy_id) REFERENCES documents (id) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_signed_copy_fkey;
ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_recorded_by_fkey;
ALTER TABLE determinations ADD CONSTRAINT determinations_recorded_by_fkey
    FOREIGN KEY (recorded_by) REFERENCES users (id) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_recorded_by_fkey;
ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_confirmed_by_fkey;
ALTER TABLE determinations ADD CONSTRAINT determinations_confirmed_by_fkey
    FOREIGN KEY (confirmed_by) REFERENCES users (id) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_confirmed_by_fkey;

ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_status_check;
ALTER TABLE determinations ADD CONSTRAINT determinations_status_check
    CHECK (status IN ('draft', 'submitted', 'returned', 'recorded', 'signed')) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_status_check;

-- A signature is whole: a time, a hash and a re-authentication at most 5 minutes old, and
-- either the product's signer or a recorded outside signer with the supervisor who
-- confirmed the recording.
ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_signature_whole;
ALTER TABLE determinations ADD CONSTRAINT determinations_signature_whole CHECK (
    (status = 'signed') = (signed_at IS NOT NULL AND content_sha256 IS NOT NULL AND reauth_at IS NOT NULL
        AND (signed_by IS NOT NULL OR (outside_signer IS NOT NULL AND confirmed_by IS NOT NULL)))
) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_signature_whole;

-- An outside signature is whole once recorded: signer, title, authority, date, the signed
-- copy and its hash, who recorded it and when; and nobody confirms their own recording or
-- their own draft.
ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_outside_whole;
ALTER TABLE determinations ADD CONSTRAINT determinations_outside_whole CHECK (
    (outside_signer IS NULL) = (recorded_by IS NULL)
    AND (outside_signer IS NULL OR (signer_title IS NOT NULL AND signer_authority IS NOT NULL AND signed_on IS NOT NULL
        AND signed_copy_id IS NOT NULL AND length(signed_copy_sha256) = 32 AND recorded_at IS NOT NULL AND signed_by IS NULL))
    AND (confirmed_by IS NULL OR (outside_signer IS NOT NULL AND confirmed_by <> recorded_by AND confirmed_by <> drafted_by))
    AND ((status = 'recorded') = (outside_signer IS NOT NULL AND confirmed_by IS NULL))
) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_outside_whole;

ALTER TABLE determinations DROP CONSTRAINT IF EXISTS determinations_signer_lengths;
ALTER TABLE determinations ADD CONSTRAINT determinations_signer_lengths CHECK (
    length(signer_title) BETWEEN 1 AND 300 AND length(signer_authority) BETWEEN 1 AND 2000
    AND length(outside_signer) BETWEEN 1 AND 200
) NOT VALID;
ALTER TABLE determinations VALIDATE CONSTRAINT determinations_signer_lengths;

CREATE OR REPLACE FUNCTION determinations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'determinations are never deleted' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' OR NEW.signed_by IS NOT NULL OR NEW.outside_signer IS NOT NULL THEN
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
    IF NEW.status IN ('recorded', 'signed') AND OLD.status IN ('submitted', 'recorded') THEN
        IF NEW.content IS DISTINCT FROM OLD.content OR NEW.outcome <> OLD.outcome
           OR NEW.cited_documents IS DISTINCT FROM OLD.cited_documents OR NEW.revision <> OLD.revision THEN
            RAISE EXCEPTION 'signing does not change the content' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.status = 'recorded' THEN
        IF OLD.status <> 'submitted' THEN
            RAISE EXCEPTION 'only a submitted determination has an outside signature recorded' USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.recorded_by AND u.role = 'supervisor' AND u.active) THEN
            RAISE EXCEPTION 'an outside signature is recorded by a supervisor' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.signed_by IS NOT NULL OR NEW.signed_at IS NOT NULL OR NEW.content_sha256 IS NOT NULL OR NEW.reauth_at IS NOT NULL THEN
            RAISE EXCEPTION 'signature fields are set only by signing' USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.status = 'signed' THEN
        IF NEW.outside_signer IS NULL AND OLD.status <> 'submitted' THEN
            RAISE EXCEPTION 'only a submitted determination can be signed' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.outside_signer IS NOT NULL AND (OLD.status <> 'recorded'
           OR NEW.outside_signer IS DISTINCT FROM OLD.outside_signer OR NEW.signed_on IS DISTINCT FROM OLD.signed_on
           OR NEW.signer_title IS DISTINCT FROM OLD.signer_title OR NEW.signer_authority IS DISTINCT FROM OLD.signer_authority
           OR NEW.signed_copy_id IS DISTINCT FROM OLD.signed_copy_id OR NEW.recorded_by IS DISTINCT FROM OLD.recorded_by) THEN
            RAISE EXCEPTION 'an outside signature is confirmed as it was recorded' USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM users u WHERE u.id = coalesce(NEW.signed_by, NEW.confirmed_by)
                       AND u.role = 'supervisor' AND u.active) THEN
            RAISE EXCEPTION 'the signer must hold the supervisor role when signing' USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NEW.signed_by IS NOT NULL OR NEW.signed_at IS NOT NULL OR NEW.content_sha256 IS NOT NULL OR NEW.reauth_at IS NOT NULL
          OR NEW.outside_signer IS NOT NULL OR NEW.confirmed_by IS NOT NULL OR NEW.signed_on IS NOT NULL
          OR NEW.signer_title IS NOT NULL OR NEW.signer_authority IS NOT NULL THEN
        RAISE EXCEPTION 'signature fields are set only by signing' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

-- Objections under the final rule count only from an official at the level it names
-- (791.108); under the interim rule every objection holds the step (consensus, 7.108).
CREATE TABLE IF NOT EXISTS ref_official_levels (
    code text PRIMARY KEY,
    name text NOT NULL,
    rank bigint NOT NULL UNIQUE
);
INSERT INTO ref_official_levels (code, name, rank) VALUES
    ('agency_head', 'Head of the agency', 50),
    ('deputy_secretary', 'Deputy Secretary or equivalent', 40),
    ('under_secretary', 'Under Secretary or equivalent', 30),
    ('assistant_secretary', 'Assistant Secretary or equivalent', 20),
    ('below_assistant_secretary', 'Below Assistant Secretary', 10)
ON CONFLICT (code) DO NOTHING;
GRANT SELECT ON ref_official_levels TO icts_app;

ALTER TABLE ref_rule_versions ADD COLUMN IF NOT EXISTS objection_level text;
ALTER TABLE ref_rule_versions DROP CONSTRAINT IF EXISTS ref_rule_versions_objection_level_fkey;
ALTER TABLE ref_rule_versions ADD CONSTRAINT ref_rule_versions_objection_level_fkey
    FOREIGN KEY (objection_level) REFERENCES ref_official_levels (code) NOT VALID;
ALTER TABLE ref_rule_versions VALIDATE CONSTRAINT ref_rule_versions_objection_level_fkey;
UPDATE ref_rule_versions SET objection_level = 'assistant_secretary' WHERE code = 'final-2025';

-- The dates of the other acts: an extension granted, a measure's status changed, a nexus
-- finding and a risk assessment made (rows recorded before keep none: their time of
-- recording stands for it).
ALTER TABLE case_extensions ADD COLUMN IF NOT EXISTS granted_on date;
ALTER TABLE measure_status_changes ADD COLUMN IF NOT EXISTS changed_on date;
ALTER TABLE nexus_findings ADD COLUMN IF NOT EXISTS found_on date;
ALTER TABLE assessments ADD COLUMN IF NOT EXISTS assessed_on date;
