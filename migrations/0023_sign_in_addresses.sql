-- Lockout that cannot be used as a weapon: the addresses each account has signed in from
-- with its password. Three failures lock the account for password sign-in from other
-- addresses; from an address it signed in from lately, the account still signs in, with
-- its own count of failures there. The account row keeps where the lock came from, for
-- the admins' page.
--
-- A new table and a new nullable column; the timeouts make it give up rather than queue
-- behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS user_sign_in_addresses (
    user_id          uuid NOT NULL REFERENCES users (id),
    client_addr      text NOT NULL CHECK (length(client_addr) BETWEEN 1 AND 100),
    last_success_at  timestamptz NOT NULL,
    failures         bigint NOT NULL DEFAULT 0 CHECK (failures >= 0),
    first_failure_at timestamptz,
    PRIMARY KEY (user_id, client_addr)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_sign_in_addresses TO icts_app;

ALTER TABLE users ADD COLUMN IF NOT EXISTS locked_from text;
