-- Mail is sent at most once more after a crash: a worker claims a message (committed)
-- before it sends it and records the send right after, one message at a time. A claim
-- left by a worker that died is taken again only after the lease (15 minutes); the count
-- of claims whose outcome is unknown stops a message after one retry, so a crash at any
-- point sends it at most once more, with the same Message-ID.
--
-- A catalogue change on a small table; the timeouts make it give up rather than queue
-- behind a long lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE mail_outbox ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
ALTER TABLE mail_outbox ADD COLUMN IF NOT EXISTS claimed_by text;
ALTER TABLE mail_outbox ADD COLUMN IF NOT EXISTS unconfirmed bigint NOT NULL DEFAULT 0;
