-- A breach of a mitigation measure reopens a monitored case for review: a stage of its
-- own, added alone because a new enum value cannot be used in the transaction that adds it.
ALTER TYPE case_stage ADD VALUE IF NOT EXISTS 'compliance_review' AFTER 'monitoring';
