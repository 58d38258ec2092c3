-- One-time codes as a second factor (RFC 6238, 30-second steps, six digits), ten
-- single-use recovery codes, and the short-lived challenge between a correct password and
-- its code. A TOTP row counts only once confirmed by a first code; `last_step` is the
-- newest time step accepted, so a code cannot be used twice in its window. Recovery codes
-- and challenge secrets are stored as sha256 only (each has 80 or more random bits).
-- Resetting an account's second factors is one more change a second administrator
-- approves for a supervisor, an auditor or an administrator.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS user_totp (
    user_id      uuid PRIMARY KEY REFERENCES users (id),
    secret       bytea NOT NULL CHECK (length(secret) = 20),
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint CHECK (last_step >= 0),
    last_used_at timestamptz
);

CREATE TABLE IF NOT EXISTS user_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE IF NOT EXISTS sign_in_challenges (
    id          uuid PRIMARY KEY,
    secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    user_id     uuid NOT NULL REFERENCES users (id),
    kind        text NOT NULL CHECK (kind IN ('browser', 'api')),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    failures    bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
    client_addr text,
    user_agent  text CHECK (length(user_agent) <= 300),
    next        text CHECK (length(next) <= 2048)
);
-- The table is created just above, empty: nothing waits on this index build.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS sign_in_challenges_user_idx ON sign_in_challenges (user_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp, user_recovery_codes, sign_in_challenges TO icts_app;

ALTER TABLE admin_approvals DROP CONSTRAINT IF EXISTS admin_approvals_kind_check;
ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_kind_check
    CHECK (kind IN ('password_reset', 'role_change', 'second_factor_reset')) NOT VALID;
ALTER TABLE admin_approvals VALIDATE CONSTRAINT admin_approvals_kind_check;
