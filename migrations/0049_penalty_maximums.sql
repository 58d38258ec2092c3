-- The civil penalty's adjusted statutory maximum under IEEPA (50 U.S.C. 1705), adjusted
-- yearly for inflation: dated reference data, the amount in force on a violation's date. A
-- penalty may reach the greater of it and twice the transaction's value (15 CFR 791.319).
--
-- A new table; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS penalty_maximums (
    effective_from  date PRIMARY KEY,
    amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
    citation        text NOT NULL DEFAULT '' CHECK (length(citation) <= 300)
);
INSERT INTO penalty_maximums (effective_from, amount_cents, citation) VALUES
    ('2024-01-01', 36813600, '2024 inflation adjustment'),
    ('2025-01-01', 37770000, '2025 inflation adjustment, 90 FR 8429')
ON CONFLICT (effective_from) DO NOTHING;
REVOKE ALL ON penalty_maximums FROM icts_app;
GRANT SELECT ON penalty_maximums TO icts_app;
