-- Cases whose response window closes soon (dashboard "due within 14 days"): with the
-- filter split into two lookups (src/cases/db.rs), this index answers the second one.
CREATE INDEX cases_response_due_idx ON cases (response_due) WHERE stage = 'response_period';
