-- Security keys and passkeys (WebAuthn). Each key is one row: its name, the credential id
-- and the credential as webauthn-rs keeps it (public key, counter), and when it was last
-- used. A ceremony in progress keeps its state beside what it belongs to: a registration
-- or a step-up on the session, a sign-in on its challenge (which may be passwordless: a
-- passkey alone). A role's sign-in policy may require a security key.
--
-- A new table and nullable columns or columns with constant defaults; the timeouts make
-- the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS user_security_keys (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    credential_id bytea NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
    credential    jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz
);
-- The table is created just above, empty: nothing waits on this index build.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS user_security_keys_user_idx ON user_security_keys (user_id);

ALTER TABLE sessions ADD COLUMN IF NOT EXISTS webauthn_state jsonb;
ALTER TABLE sign_in_challenges ADD COLUMN IF NOT EXISTS webauthn_state jsonb;
ALTER TABLE sign_in_challenges ADD COLUMN IF NOT EXISTS passwordless boolean NOT NULL DEFAULT false;
ALTER TABLE role_sign_in_policies ADD COLUMN IF NOT EXISTS require_security_key boolean NOT NULL DEFAULT false;

GRANT SELECT, INSERT, UPDATE, DELETE ON user_security_keys TO icts_app;

-- Linking a card to the account of a supervisor, an auditor or an administrator is one more
-- change a second administrator approves: the request keeps the card's subject.
ALTER TABLE admin_approvals ADD COLUMN IF NOT EXISTS subject text CHECK (length(subject) <= 1024);
ALTER TABLE admin_approvals DROP CONSTRAINT IF EXISTS admin_approvals_kind_check;
ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_kind_check
    CHECK (kind IN ('password_reset', 'role_change', 'second_factor_reset', 'card_link')) NOT VALID;
ALTER TABLE admin_approvals VALIDATE CONSTRAINT admin_approvals_kind_check;
