-- Identity (accounts, sessions, sign-in throttling) and the append-only audit chain.
--
-- Privileges: the service runs its queries as the role `icts_app` (it connects as the
-- database owner and switches with SET ROLE; see docs/ARCHITECTURE.md for managed
-- databases). `icts_app` may only INSERT and SELECT audit events, and triggers refuse
-- UPDATE, DELETE and TRUNCATE on them for everyone, the owner included.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'icts_app') THEN
        CREATE ROLE icts_app NOLOGIN;
    END IF;
END
$$;
-- The connecting (owner) role must be able to SET ROLE icts_app.
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'icts_app', 'MEMBER') THEN
        EXECUTE format('GRANT icts_app TO %I', current_user);
    END IF;
END
$$;

CREATE TYPE user_role AS ENUM ('analyst', 'supervisor', 'auditor', 'admin');

CREATE TABLE users (
    id                    uuid PRIMARY KEY,
    email                 text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role                  user_role NOT NULL,
    password_hash         text NOT NULL,
    must_change_password  boolean NOT NULL DEFAULT false,
    active                boolean NOT NULL DEFAULT true,
    failed_logins         integer NOT NULL DEFAULT 0,
    first_failed_login_at timestamptz,
    locked_until          timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    version               integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Server-side sessions, for browsers (cookie) and API clients (bearer token). Only the
-- sha256 of the secret is stored; `id` is a public handle for listing and revoking.
CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('browser', 'api')),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    reauth_at    timestamptz,
    client_addr  text,
    user_agent   text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Sign-in attempts per client address, for throttling across every app instance.
CREATE TABLE login_throttle (
    client_addr  text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL
);

-- The audit chain. `hash = sha256(prev_hash || canonical bytes of the event)`; one row in
-- `audit_head` holds the latest position and hash and is locked by every writer, so
-- events form one linear chain however many instances write.
CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      bytea NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_head (singleton, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE audit_events (
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    id           uuid NOT NULL UNIQUE,
    at           timestamptz NOT NULL,
    actor_id     uuid,
    actor_role   text,
    client_addr  text,
    request_id   text,
    event_type   text NOT NULL,
    object_type  text,
    object_id    text,
    changes      jsonb NOT NULL DEFAULT '{}'::jsonb,
    outcome      text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    prev_hash    bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash         bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, seq);
CREATE INDEX audit_events_type_idx ON audit_events (event_type, seq);
CREATE INDEX audit_events_object_idx ON audit_events (object_id, seq);

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

GRANT USAGE ON SCHEMA public TO icts_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, sessions, login_throttle TO icts_app;
GRANT SELECT, UPDATE ON audit_head TO icts_app;
GRANT SELECT, INSERT ON audit_events TO icts_app;

-- Tables and sequences of later migrations are usable by the service by default; a
-- migration that needs less (as the audit table above) revokes explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO icts_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO icts_app;
