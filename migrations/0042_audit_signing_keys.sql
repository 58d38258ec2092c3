-- The public keys that have signed this installation's audit checkpoints, each recorded
-- the first time it signs. An installation with a key here signs its checkpoints: a
-- command or a service started without the signing key takes no checkpoint (an unsigned
-- one would make every later `audit verify --public-key` fail), and says which setting is
-- missing. Checkpoints signed before this table existed record their keys now.
--
-- A new table, filled from a small one; the timeouts make the migration give up rather
-- than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS audit_signing_keys (
    public_key  bytea PRIMARY KEY CHECK (length(public_key) = 32),
    first_used  timestamptz NOT NULL
);
INSERT INTO audit_signing_keys (public_key, first_used)
    SELECT public_key, min(at) FROM audit_checkpoints WHERE public_key IS NOT NULL GROUP BY public_key
    ON CONFLICT (public_key) DO NOTHING;
REVOKE ALL ON audit_signing_keys FROM icts_app;
GRANT SELECT, INSERT ON audit_signing_keys TO icts_app;
