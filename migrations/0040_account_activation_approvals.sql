-- Activating an account of a supervisor, an auditor or an administrator (a new one an
-- administrator creates, or one deactivated) is one more change a second administrator
-- approves: else one administrator could create a second administrator and approve their
-- own requests with it. The approver sets the account's temporary password.
--
-- A check replaced on a table of a few rows; the timeouts make the migration give up
-- rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE admin_approvals DROP CONSTRAINT IF EXISTS admin_approvals_kind_check;
ALTER TABLE admin_approvals ADD CONSTRAINT admin_approvals_kind_check
    CHECK (kind IN ('password_reset', 'role_change', 'second_factor_reset', 'card_link', 'sign_in_policy', 'activation')) NOT VALID;
ALTER TABLE admin_approvals VALIDATE CONSTRAINT admin_approvals_kind_check;
