-- A preliminary triage score (0–100) for cases opened by bulk intake, computed from
-- screening hits, adversary codes, category and data scale; not an assessment.
ALTER TABLE cases ADD COLUMN preliminary_score integer CHECK (preliminary_score BETWEEN 0 AND 100);
CREATE INDEX cases_triage_order_idx ON cases ((coalesce(preliminary_score, -1)) DESC, id DESC);
