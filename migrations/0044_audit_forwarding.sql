-- Forwarding the audit log to the agency's collector (RFC 5424 syslog over TLS): the
-- newest event the collector was sent, when, and whether sending fails; and which
-- checkpoints it was sent. The log itself is the queue: the forwarder sends what follows
-- `seq`, so an outage or a restart loses nothing.
--
-- New tables; the timeouts make the migration give up rather than queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE IF NOT EXISTS audit_forwarding (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq            bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    forwarded_at   timestamptz,
    failing_since  timestamptz,
    last_error     text CHECK (length(last_error) <= 2000)
);
INSERT INTO audit_forwarding (singleton) VALUES (true) ON CONFLICT (singleton) DO NOTHING;
CREATE TABLE IF NOT EXISTS audit_forwarded_checkpoints (
    checkpoint_id  uuid PRIMARY KEY REFERENCES audit_checkpoints (id),
    forwarded_at   timestamptz NOT NULL
);
REVOKE ALL ON audit_forwarding, audit_forwarded_checkpoints FROM icts_app;
GRANT SELECT, UPDATE ON audit_forwarding TO icts_app;
GRANT SELECT, INSERT ON audit_forwarded_checkpoints TO icts_app;
