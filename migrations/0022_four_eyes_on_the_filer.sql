-- Four-eyes as the README states it: a supervisor signs (or confirms the outside
-- signature of) no determination on a case they filed, nor one they drafted (the
-- determinations_four_eyes check), nor approves their own band override (the
-- band_overrides check). The guard is the one of 0018 with the filer's check added.
--
-- Replacing a function takes no lock on the table's rows; the timeouts make it give up
-- rather than queue behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

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
        IF EXISTS (SELECT 1 FROM cases c WHERE c.id = NEW.case_id
                   AND c.created_by = coalesce(NEW.signed_by, NEW.confirmed_by)) THEN
            RAISE EXCEPTION 'a supervisor never signs a determination on a case they filed' USING ERRCODE = 'check_violation';
        END IF;
    ELSIF NEW.signed_by IS NOT NULL OR NEW.signed_at IS NOT NULL OR NEW.content_sha256 IS NOT NULL OR NEW.reauth_at IS NOT NULL
          OR NEW.outside_signer IS NOT NULL OR NEW.confirmed_by IS NOT NULL OR NEW.signed_on IS NOT NULL
          OR NEW.signer_title IS NOT NULL OR NEW.signer_authority IS NOT NULL THEN
        RAISE EXCEPTION 'signature fields are set only by signing' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
