-- General authorizations (15 CFR 791.306): the office's published authorizations as
-- versioned reference data, each firm's reliance on one with its reports and changes of
-- circumstance, and GA 3's approved-supplier list with its applications and decisions.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- Each version of a general authorization as the office published it: what it allows, its
-- conditions, and how often a firm relying on it reports (none when it asks for no report).
CREATE TABLE IF NOT EXISTS general_authorizations (
    number             text NOT NULL CHECK (number ~ '^GA [0-9]{1,3}$'),
    version            bigint NOT NULL CHECK (version >= 1),
    title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    effective_from     date NOT NULL,
    effective_to       date,
    conditions         text NOT NULL CHECK (length(conditions) BETWEEN 1 AND 20000),
    report_every_days  bigint CHECK (report_every_days BETWEEN 1 AND 3650),
    reports            text NOT NULL DEFAULT '' CHECK (length(reports) <= 20000),
    supplier_list      boolean NOT NULL DEFAULT false,
    set_at             timestamptz NOT NULL,
    PRIMARY KEY (number, version),
    CHECK (effective_to IS NULL OR effective_to > effective_from),
    CHECK ((report_every_days IS NULL) = (reports = ''))
);
-- The three the office published on 11 June 2025, as its reference data: an administrator
-- records a later version (or a later authorization) when the office publishes one.
INSERT INTO general_authorizations
    (number, version, title, effective_from, conditions, report_every_days, reports, supplier_list, set_at)
VALUES
    ('GA 1', 1, 'Limited uses', '2025-06-11',
     'Transactions for the limited uses the authorization lists, by a firm not owned, controlled or directed by the PRC or Russia and not told it is ineligible; reliance is reassessed within 30 days of a change of circumstance.',
     180, 'The uses made under the authorization and the vehicles or hardware concerned.', false, now()),
    ('GA 2', 1, 'Temporary import', '2025-06-11',
     'Temporary imports the authorization lists, by a firm not owned, controlled or directed by the PRC or Russia and not told it is ineligible; reliance is reassessed within 30 days of a change of circumstance.',
     NULL, '', false, now()),
    ('GA 3', 1, 'Approved suppliers', '2025-06-11',
     'Transactions with a supplier on the office''s approved-supplier list on the transaction''s date, by a firm not owned, controlled or directed by the PRC or Russia.',
     NULL, '', true, now())
ON CONFLICT (number, version) DO NOTHING;

-- A firm's reliance on a general authorization (the version in force when it began).
CREATE TABLE IF NOT EXISTS ga_reliances (
    id              uuid PRIMARY KEY,
    party_id        uuid NOT NULL REFERENCES parties (id),
    ga_number       text NOT NULL,
    ga_version      bigint NOT NULL,
    declaration_id  uuid REFERENCES declarations (id),
    summary         text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    relied_from     date NOT NULL,
    ended_on        date,
    version         bigint NOT NULL DEFAULT 1,
    recorded_at     timestamptz NOT NULL,
    recorded_by     uuid NOT NULL REFERENCES users (id),
    updated_at      timestamptz NOT NULL,
    FOREIGN KEY (ga_number, ga_version) REFERENCES general_authorizations (number, version)
);
-- (The indexes are on tables this migration creates: nothing waits on them.)
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS ga_reliances_party ON ga_reliances (party_id, relied_from DESC);

-- Every act of a reliance: begun, a report filed, a change of circumstance, its
-- reassessment, the reliance ended.
CREATE TABLE IF NOT EXISTS ga_reliance_acts (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reliance_id   uuid NOT NULL REFERENCES ga_reliances (id),
    kind          text NOT NULL CHECK (kind IN ('relied', 'report_filed', 'circumstance_changed', 'reassessed', 'ended')),
    effective_on  date NOT NULL,
    note          text NOT NULL DEFAULT '' CHECK (length(note) <= 20000),
    recorded_at   timestamptz NOT NULL,
    recorded_by   uuid NOT NULL REFERENCES users (id)
);
-- squawk-ignore require-concurrent-index-creation
CREATE INDEX IF NOT EXISTS ga_reliance_acts_of ON ga_reliance_acts (reliance_id, seq);

-- GA 3's approved-supplier list: each supplier's application, the office's decision and
-- any removal; the list as of a date is read from their dates.
CREATE TABLE IF NOT EXISTS ga_suppliers (
    id           uuid PRIMARY KEY,
    party_id     uuid NOT NULL REFERENCES parties (id),
    applied_on   date NOT NULL,
    status       text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'approved', 'denied', 'removed')),
    decided_on   date,
    removed_on   date,
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 20000),
    version      bigint NOT NULL DEFAULT 1,
    recorded_at  timestamptz NOT NULL,
    recorded_by  uuid NOT NULL REFERENCES users (id),
    updated_at   timestamptz NOT NULL,
    CHECK ((status = 'applied') = (decided_on IS NULL)),
    CHECK ((status = 'removed') = (removed_on IS NOT NULL)),
    CHECK (decided_on IS NULL OR decided_on >= applied_on),
    CHECK (removed_on IS NULL OR removed_on >= decided_on)
);
-- One open application or listing per supplier at a time.
-- squawk-ignore require-concurrent-index-creation
CREATE UNIQUE INDEX IF NOT EXISTS ga_suppliers_one_open ON ga_suppliers (party_id)
    WHERE status IN ('applied', 'approved');

REVOKE ALL ON general_authorizations, ga_reliances, ga_reliance_acts, ga_suppliers FROM icts_app;
GRANT SELECT, INSERT ON general_authorizations, ga_reliance_acts TO icts_app;
GRANT SELECT, INSERT, UPDATE ON ga_reliances, ga_suppliers TO icts_app;
