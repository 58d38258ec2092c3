-- Separation of duties among administrators: resetting the password of a supervisor, an
-- auditor or another administrator, and raising an account to one of those roles, is
-- asked for by one administrator and carried out only when a second one approves. Each
-- request is a row; the database refuses a decision by the administrator who asked, and a
-- second open request of the same kind on the same account.
--
-- A new table; the timeouts make it give up rather than queue behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS admin_approvals (
    id           uuid PRIMARY KEY,
    target_id    uuid NOT NULL REFERENCES users (id),
    kind         text NOT NULL CHECK (kind IN ('password_reset', 'role_change')),
    role         user_role,
    requested_by uuid NOT NULL REFERENCES users (id),
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    decided_by   uuid REFERENCES users (id),
    decided_at   timestamptz,
    outcome      text CHECK (outcome IN ('approved', 'refused', 'withdrawn', 'expired')),
    CHECK ((kind = 'role_change') = (role IS NOT NULL)),
    CHECK ((outcome IS NULL) = (decided_at IS NULL)),
    -- Every decision but expiry is someone's.
    CHECK ((decided_by IS NULL) = (outcome IS NULL OR outcome = 'expired')),
    -- The one who asked may withdraw the request, never approve or refuse it.
    CHECK (outcome IS NULL OR outcome = 'withdrawn' OR decided_by <> requested_by),
    CHECK (target_id <> requested_by)
);
-- The table is created just above, empty: nothing waits on this index build.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS admin_approvals_one_open
    ON admin_approvals (target_id, kind) WHERE outcome IS NULL;
GRANT SELECT, INSERT, UPDATE ON admin_approvals TO icts_app;
