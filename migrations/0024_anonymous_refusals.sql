-- Refusals of anonymous requests (a cross-site POST, say) are counted per address and
-- minute; the audit log gets an event at the first, the 10th, the 100th … of each, with
-- the count, and at most a fixed number of such events a minute over all addresses (the
-- row of address '*'). Rows older than a day are removed as new minutes begin.
--
-- A new table; the timeouts make it give up rather than queue behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS anonymous_refusals (
    minute      timestamptz NOT NULL,
    client_addr text NOT NULL CHECK (length(client_addr) BETWEEN 1 AND 100),
    refused     bigint NOT NULL CHECK (refused >= 0),
    PRIMARY KEY (minute, client_addr)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON anonymous_refusals TO icts_app;
