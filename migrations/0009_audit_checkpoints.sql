-- Signed checkpoints of the audit chain head: every few minutes and at every export the
-- service signs (position, hash, time) with an Ed25519 key kept outside the database, so a
-- rewrite of the whole chain (even rehashed by a superuser) no longer matches them. The
-- same lines are appended to a file that can live on other storage. Unsigned checkpoints
-- are kept when no key is configured (and say so).
CREATE TABLE audit_checkpoints (
    id         uuid PRIMARY KEY,
    seq        bigint NOT NULL CHECK (seq >= 0),
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    at         timestamptz NOT NULL,
    public_key bytea CHECK (length(public_key) = 32),
    signature  bytea CHECK (length(signature) = 64),
    reason     text NOT NULL CHECK (reason IN ('periodic', 'export', 'manual')),
    CHECK ((public_key IS NULL) = (signature IS NULL))
);
CREATE INDEX audit_checkpoints_seq_idx ON audit_checkpoints (seq DESC, at DESC);

CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_change();

REVOKE ALL ON audit_checkpoints FROM icts_app;
GRANT SELECT, INSERT ON audit_checkpoints TO icts_app;

-- Cases are never deleted through the service (they close); nor are their parts.
REVOKE DELETE, TRUNCATE ON cases, case_notes, case_rfis, case_extensions, case_determination_events FROM icts_app;
