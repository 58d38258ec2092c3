-- Single sign-on through the agency's OpenID provider, and the sign-in policy of each role.
--
-- `user_identities` links a provider's subject to an account an administrator created: at
-- the first sign-in by the account's verified e-mail, or recorded by an administrator; the
-- subject alone finds the account after that. `sso_logins` holds each authorization request
-- between the redirect to the provider and its answer (state, nonce, PKCE verifier), keyed
-- by the sha256 of the cookie that binds it to the browser; it is taken once. A request
-- with a session re-authenticates that session's user (the step-up before signing or an
-- export) rather than signing in.
-- A session records how it was signed in to and, through a provider, the provider's `acr`
-- and `amr` and the ID token (the hint of the provider's sign-out).
-- `role_sign_in_policies`: whether a role may sign in with a password, and which `acr` or
-- `amr` values a provider's sign-in must carry for it (none listed: any).
--
-- New tables and nullable columns; the timeouts make the migration give up rather than
-- queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS user_identities (
    issuer       text NOT NULL CHECK (length(issuer) <= 2048),
    subject      text NOT NULL CHECK (length(subject) BETWEEN 1 AND 1024),
    user_id      uuid NOT NULL REFERENCES users (id),
    email        text CHECK (length(email) <= 254),
    linked_at    timestamptz NOT NULL,
    last_used_at timestamptz,
    PRIMARY KEY (issuer, subject)
);
-- The table is created just above, empty: nothing waits on this index build.
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS user_identities_user_idx ON user_identities (user_id);
-- One subject per account at a provider (cards may be several: a replaced card, a second one).
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS user_identities_one_per_provider
    ON user_identities (user_id, issuer) WHERE issuer <> 'urn:icts-review:piv';

CREATE TABLE IF NOT EXISTS sso_logins (
    binding_hash  bytea PRIMARY KEY CHECK (length(binding_hash) = 32),
    state         text NOT NULL CHECK (length(state) <= 200),
    nonce         text NOT NULL CHECK (length(nonce) <= 200),
    pkce_verifier text NOT NULL CHECK (length(pkce_verifier) <= 200),
    next          text NOT NULL CHECK (length(next) <= 2048),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    client_addr   text,
    -- Set when the request re-authenticates this session (a step-up) instead of signing in.
    session_id    uuid REFERENCES sessions (id) ON DELETE CASCADE
);

ALTER TABLE sessions ADD COLUMN IF NOT EXISTS sign_in_method text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS acr text;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS amr text[];
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS id_token text;

CREATE TABLE IF NOT EXISTS role_sign_in_policies (
    role             user_role PRIMARY KEY,
    password_allowed boolean NOT NULL DEFAULT true,
    sso_assurance    text[] NOT NULL DEFAULT '{}',
    updated_at       timestamptz,
    updated_by       uuid REFERENCES users (id),
    version          bigint NOT NULL DEFAULT 1
);
INSERT INTO role_sign_in_policies (role)
    VALUES ('analyst'), ('supervisor'), ('auditor'), ('admin')
    ON CONFLICT (role) DO NOTHING;

GRANT SELECT, INSERT, UPDATE, DELETE ON user_identities, sso_logins TO icts_app;
GRANT SELECT, UPDATE ON role_sign_in_policies TO icts_app;
