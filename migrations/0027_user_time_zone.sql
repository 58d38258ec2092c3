-- Each user's time zone, where pages show them times (the instants themselves stay UTC).
-- NULL means the office's default (`--time-zone`, America/New_York unless configured).
-- The service accepts only names of its compiled-in IANA database; the check here bounds
-- the shape (`Area/Location` or `UTC`), added NOT VALID and then validated so that no
-- write waits behind a full-table scan under an exclusive lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE users ADD COLUMN IF NOT EXISTS time_zone text;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_time_zone_check;
ALTER TABLE users ADD CONSTRAINT users_time_zone_check
    CHECK (time_zone IS NULL OR time_zone ~ '^(UTC|[A-Z][A-Za-z]+/[A-Za-z0-9_+/-]{1,60})$') NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_time_zone_check;
