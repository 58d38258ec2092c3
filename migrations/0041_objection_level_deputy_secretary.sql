-- Under the 2025 rule an agency's objection to a proposed final determination counts only
-- when the agency's Deputy Secretary or equivalent or higher submits it within the 14 days
-- (15 CFR 791.108(c), 89 FR 96896). The level named here since migration 0018 was the
-- Assistant Secretary's; objections recorded below the Deputy Secretary's level stay on
-- the record with their level and no longer hold the step.
--
-- One row of a reference table; the timeouts make the migration give up rather than queue
-- behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

UPDATE ref_rule_versions SET objection_level = 'deputy_secretary' WHERE code = 'final-2025';
