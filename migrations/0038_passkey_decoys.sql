-- A passkey sign-in for an e-mail address that has no passkey (or no account, or an
-- account that cannot sign in so) goes on exactly like one that has: it opens a decoy
-- challenge, a row of `sign_in_challenges` without an account, whose page asks for a key
-- that no authenticator holds and whose answers all fail. Its key's id is derived from the
-- address with a secret of this installation (`instance_secrets`), so the same address is
-- offered the same key every time, as a real account's key is. `decoy` keeps that
-- derivation.
--
-- A new table of one row, nullable columns; the timeouts make the migration give up
-- rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS instance_secrets (
    name   text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
    secret bytea NOT NULL CHECK (length(secret) >= 16)
);
-- 244 bits from the server's strong random source (gen_random_uuid uses it).
INSERT INTO instance_secrets (name, secret)
    VALUES ('passkey_decoys', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
    ON CONFLICT (name) DO NOTHING;
GRANT SELECT ON instance_secrets TO icts_app;

-- Only this service reads the table. A release before this one reads `user_id` as always
-- set, which holds while it runs: only this release writes a row without it. Dropping a
-- NOT NULL is idempotent, so a rerun is safe.
-- squawk-ignore ban-drop-not-null, prefer-robust-stmts
ALTER TABLE sign_in_challenges ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE sign_in_challenges ADD COLUMN IF NOT EXISTS decoy bytea CHECK (length(decoy) = 32);
-- A challenge has an account or is a decoy, never both; a decoy is a passkey sign-in's.
ALTER TABLE sign_in_challenges DROP CONSTRAINT IF EXISTS sign_in_challenges_owner_check;
ALTER TABLE sign_in_challenges ADD CONSTRAINT sign_in_challenges_owner_check
    CHECK ((user_id IS NULL) = (decoy IS NOT NULL) AND (decoy IS NULL OR passwordless)) NOT VALID;
ALTER TABLE sign_in_challenges VALIDATE CONSTRAINT sign_in_challenges_owner_check;
-- A decoy's address finds its decoys (the newest five are kept) through this index; the
-- table holds the sign-ins of the last hour, a few rows: nothing waits on the build.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS sign_in_challenges_decoy_idx ON sign_in_challenges (decoy) WHERE decoy IS NOT NULL;
