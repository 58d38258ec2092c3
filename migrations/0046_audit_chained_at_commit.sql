-- An event joins the chain when its transaction commits, not when it is recorded.
--
-- Every append locks the one-row `audit_head` until its transaction ends. Appended by a
-- statement of its own, the lock was held from that statement through the round trip to
-- the client and back with COMMIT: with eight writers on two cores, the time a writer
-- waited for its turn was mostly another writer's client being scheduled, and appends ran
-- at about half the rate of plain inserts. Now `audit::record` writes the event's content
-- to `audit_pending` (no lock), and a deferred constraint trigger, run by the commit
-- itself, takes the head, links the event (position, previous hash, hash), moves the head
-- and removes the pending row: the head is held only inside the commit.
--
-- The chain is the same: the hash is computed here as `audit::event_hash` computes it,
-- from the canonical tail the application wrote. A transaction that must see its own
-- events in the chain before it commits (a checkpoint that covers its own event, a bulk
-- append after single ones) runs `SET CONSTRAINTS audit_pending_chain IMMEDIATE`; the
-- setting `icts.audit_pending`, which `audit::record` sets and this trigger clears, tells
-- whether it has events waiting without reading the table. Rows of
-- a transaction that rolls back vanish with it; a crash empties the table with the
-- transactions it belonged to.
--
-- A new table, function and trigger; the timeouts make the migration give up rather than
-- queue behind a lock.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE UNLOGGED TABLE IF NOT EXISTS audit_pending (
    n                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               uuid NOT NULL,
    at               timestamptz NOT NULL,
    actor_id         uuid,
    actor_role       text,
    client_addr      text,
    request_id       text,
    event_type       text NOT NULL,
    object_type      text,
    object_id        text,
    changes          jsonb NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    -- The canonical JSON of the event after its position (`audit::canonical_tail`).
    tail             bytea NOT NULL,
    -- Whether the event may change a case list (`EventType::may_change_cases`).
    may_change_cases boolean NOT NULL
);
REVOKE ALL ON audit_pending FROM icts_app;
GRANT SELECT, INSERT, DELETE ON audit_pending TO icts_app;

CREATE OR REPLACE FUNCTION audit_pending_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Outside the head's lock: the pending row goes first.
    DELETE FROM audit_pending WHERE n = NEW.n;
    -- One statement, as `audit::record` appended before: lock the head, link, move it.
    -- `written_seq` moves when the event may change a case list, or when a release that
    -- does not keep it appended last (`classified_seq` behind `seq`, migration 0043).
    WITH head AS (SELECT seq, hash FROM audit_head WHERE singleton FOR UPDATE),
    appended AS (
        INSERT INTO audit_events (seq, id, at, actor_id, actor_role, client_addr, request_id, event_type,
            object_type, object_id, changes, outcome, prev_hash, hash)
        SELECT head.seq + 1, NEW.id, NEW.at, NEW.actor_id, NEW.actor_role, NEW.client_addr, NEW.request_id,
            NEW.event_type, NEW.object_type, NEW.object_id, NEW.changes, NEW.outcome, head.hash,
            sha256(head.hash || convert_to('{"v":1,"seq":' || (head.seq + 1)::text || ',', 'UTF8') || NEW.tail)
        FROM head
        RETURNING seq, hash)
    UPDATE audit_head h SET seq = a.seq, hash = a.hash, classified_seq = a.seq,
        written_seq = CASE WHEN NEW.may_change_cases OR h.classified_seq <> h.seq THEN a.seq ELSE h.written_seq END
    FROM appended a WHERE h.singleton;
    -- None of this transaction's events waits any more (`audit::record` marks that one
    -- does; each pending row's trigger runs before the commit ends).
    PERFORM set_config('icts.audit_pending', '', true);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS audit_pending_chain ON audit_pending;
CREATE CONSTRAINT TRIGGER audit_pending_chain AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_pending_chain();
