-- A change that loosens how a role signs in (password sign-in back on, a security key no
-- longer required, a provider's sign-in accepted with fewer or other methods) is one more
-- change a second administrator approves. The request names no account: it keeps the
-- role's policy as asked for, with the version it was asked against, in `policy`. At most
-- one request per role is open at a time.
--
-- Nullable and new columns, a new index on a table of a few rows; the timeouts make the
-- migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Only this service reads the table. A release before this one reads `target_id` as always
-- set, which holds while it runs: only this release writes a row without it. Dropping a
-- NOT NULL is idempotent, so a rerun is safe.
-- squawk-ignore ban-drop-not-null, prefer-robust-stmts
ALTER TABLE admin_approvals ALTER COLUMN target_id DROP NOT NULL;
ALTER TABLE admin_approvals ADD COLUMN IF NOT EXISTS policy jsonb;
ALTER TABLE admin_approvals DROP CONSTRAINT IF EXISTS admin_approvals_kind_check;
ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_kind_check
    CHECK (kind IN ('password_reset', 'role_change', 'second_factor_reset', 'card_link', 'sign_in_policy')) NOT VALID;
ALTER TABLE admin_approvals VALIDATE CONSTRAINT admin_approvals_kind_check;
-- A policy request, and only one, names no account and keeps the policy with its role.
ALTER TABLE admin_approvals DROP CONSTRAINT IF EXISTS admin_approvals_policy_check;
ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_policy_check
    CHECK ((kind = 'sign_in_policy') = (target_id IS NULL)
       AND (kind = 'sign_in_policy') = (policy IS NOT NULL)
       AND (policy IS NULL OR (jsonb_typeof(policy) = 'object' AND policy ? 'role'))) NOT VALID;
ALTER TABLE admin_approvals VALIDATE CONSTRAINT admin_approvals_policy_check;
-- admin_approvals holds a row per administrator's request (a handful a month): the build
-- takes no time worth a concurrent one.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS admin_approvals_one_open_policy
    ON admin_approvals ((policy ->> 'role')) WHERE kind = 'sign_in_policy' AND outcome IS NULL;
