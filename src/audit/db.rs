//! The audit log's SQL, checked against the schema at compile time: appending events (to
//! `audit_pending` for the commit to link, or linked at once, or in bulk), reading them
//! back, the chain's head, checkpoints, the forwarder's position, the commit epoch, and the
//! counts of anonymous refusals. It knows no domain: the events of a case, a matter or a
//! party are read by the object's id.

use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{EventFilter, StoredEvent};
use crate::ids::{CaseId, EventId, MatterId, PartyId, UserId};

/// The position of the newest event that may have changed a case list. When a release
/// that does not keep it appended last (`classified_seq` behind `seq`), every event counts:
/// the head's `seq`.
pub async fn written_seq(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT CASE WHEN classified_seq = seq THEN written_seq ELSE seq END AS "seq!" FROM audit_head WHERE singleton"#
    )
    .fetch_one(conn)
    .await
}

/// Writes an event's content to `audit_pending`, for the commit to link into the chain,
/// marking the transaction as having events waiting. With `may_defer` and an epoch, it sets
/// `synchronous_commit = off` for the transaction and returns the epoch (no round trip of
/// its own); otherwise `None`.
pub async fn insert_pending(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    tail: &[u8],
    may_change_cases: bool,
    may_defer: bool,
) -> Result<Option<Uuid>, sqlx::Error> {
    let appended = sqlx::query!(
        "INSERT INTO audit_pending (id, at, actor_id, actor_role, client_addr, request_id, event_type, object_type, \
           object_id, changes, outcome, tail, may_change_cases) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         RETURNING set_config('icts.audit_pending', 'yes', true), \
           (SELECT e.epoch FROM audit_commit_epoch e WHERE CASE WHEN NOT $14 OR e.epoch IS NULL THEN false \
           ELSE set_config('synchronous_commit', 'off', true) IS NOT NULL END) AS deferred_epoch",
        stored.id.0,
        stored.at,
        stored.actor_id as _,
        &stored.actor_role as _,
        &stored.client_addr as _,
        &stored.request_id as _,
        &stored.event_type,
        &stored.object_type as _,
        &stored.object_id as _,
        &stored.changes,
        &stored.outcome,
        tail,
        may_change_cases,
        may_defer,
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(appended.deferred_epoch)
}

/// An event linked into the chain at once: its position and hash, and the epoch when its
/// commit need not wait for the disk.
pub struct Linked {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub deferred_epoch: Option<Uuid>,
}

/// Locks the head, hashes the event after it, appends it and moves the head, in one
/// statement; `None` (appending nothing) while this transaction has events waiting for its
/// commit. With `may_defer` and an epoch, it sets `synchronous_commit = off` for the
/// transaction and reports the epoch.
pub async fn append_linked(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    tail: &[u8],
    may_change_cases: bool,
    may_defer: bool,
) -> Result<Option<Linked>, sqlx::Error> {
    sqlx::query_as!(
        Linked,
        "WITH head AS (SELECT seq, hash FROM audit_head WHERE singleton AND coalesce(current_setting('icts.audit_pending', true), '') = '' FOR UPDATE), \
         appended AS (INSERT INTO audit_events (seq, id, at, actor_id, actor_role, client_addr, request_id, event_type, \
           object_type, object_id, changes, outcome, prev_hash, hash) \
           SELECT head.seq + 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, head.hash, \
             sha256(head.hash || convert_to('{\"v\":1,\"seq\":' || (head.seq + 1)::text || ',', 'UTF8') || $12) FROM head \
           RETURNING seq, hash) \
         UPDATE audit_head h SET seq = a.seq, hash = a.hash, classified_seq = a.seq, \
           written_seq = CASE WHEN $13 OR h.classified_seq <> h.seq THEN a.seq ELSE h.written_seq END \
         FROM appended a WHERE h.singleton \
         RETURNING h.seq, h.hash, (SELECT e.epoch FROM audit_commit_epoch e WHERE CASE WHEN NOT $14 OR e.epoch IS NULL THEN false \
           ELSE set_config('synchronous_commit', 'off', true) IS NOT NULL END) AS deferred_epoch",
        stored.id.0,
        stored.at,
        stored.actor_id as _,
        &stored.actor_role as _,
        &stored.client_addr as _,
        &stored.request_id as _,
        &stored.event_type,
        &stored.object_type as _,
        &stored.object_id as _,
        &stored.changes,
        &stored.outcome,
        tail,
        may_change_cases,
        may_defer,
    )
    .fetch_optional(&mut *conn)
    .await
}

/// Links the events this transaction has recorded so far into the chain now rather than at
/// its commit (and every later one as it is recorded): for a transaction that reads the
/// head or its own events before it commits. It holds the head until the commit.
pub async fn chain_now(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SET CONSTRAINTS audit_pending_chain IMMEDIATE").execute(conn).await?;
    Ok(())
}

/// The chain's head, locked for the caller's transaction: its position and hash.
pub async fn lock_head(conn: &mut PgConnection) -> Result<(i64, Vec<u8>), sqlx::Error> {
    let head =
        sqlx::query!("SELECT seq, hash FROM audit_head WHERE singleton FOR UPDATE").fetch_one(&mut *conn).await?;
    Ok((head.seq, head.hash))
}

/// Inserts events already placed in the chain (position, previous hash and hash set), in
/// one statement.
pub async fn insert_events(conn: &mut PgConnection, chunk: &[StoredEvent]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_events (seq, id, at, actor_id, actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash) SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::timestamptz[], $4::uuid[], $5::text[], \
         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[], $12::text[], $13::bytea[], $14::bytea[])",
        &chunk.iter().map(|e| e.seq).collect::<Vec<_>>(),
        &chunk.iter().map(|e| e.id).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.at).collect::<Vec<_>>(),
        &chunk.iter().map(|e| e.actor_id).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.actor_role.clone()).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.client_addr.clone()).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.request_id.clone()).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.event_type.clone()).collect::<Vec<_>>(),
        &chunk.iter().map(|e| e.object_type.clone()).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.object_id.clone()).collect::<Vec<_>>() as _,
        &chunk.iter().map(|e| e.changes.clone()).collect::<Vec<_>>(),
        &chunk.iter().map(|e| e.outcome.clone()).collect::<Vec<_>>(),
        &chunk.iter().map(|e| e.prev_hash.clone()).collect::<Vec<_>>(),
        &chunk.iter().map(|e| e.hash.clone()).collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the head to `seq` with hash `prev`, every event up to it counted as classified and
/// as possibly changing a case list.
pub async fn set_head(conn: &mut PgConnection, seq: i64, prev: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE audit_head SET seq = $1, hash = $2, written_seq = $1, classified_seq = $1 WHERE singleton",
        seq,
        prev
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Counts one more anonymous refusal from `addr` in `minute`; returns the count so far.
pub async fn count_refusal(db: impl PgExecutor<'_>, minute: OffsetDateTime, addr: String) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO anonymous_refusals (minute, client_addr, refused) VALUES ($1, $2, 1) \
         ON CONFLICT (minute, client_addr) DO UPDATE SET refused = anonymous_refusals.refused + 1 RETURNING refused",
        minute,
        addr,
    )
    .fetch_one(db)
    .await
}

/// Deletes the counts of anonymous refusals of the minutes before `minute`.
pub async fn forget_refusals_before(db: impl PgExecutor<'_>, minute: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM anonymous_refusals WHERE minute < $1", minute).execute(db).await?;
    Ok(())
}

/// Every event about one case, in chain order (its history, for the case page, the API
/// and the procedural history of its documents).
pub async fn of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash FROM audit_events WHERE object_type = 'case' AND object_id = $1 ORDER BY seq",
        case_id.to_string(),
    )
    .fetch_all(conn)
    .await
}

/// An enforcement matter's audit events, in chain order.
pub async fn of_matter(conn: &mut PgConnection, matter: MatterId) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash FROM audit_events WHERE object_type = 'enforcement_matter' AND object_id = $1 ORDER BY seq",
        matter.to_string(),
    )
    .fetch_all(conn)
    .await
}

/// A party's audit events, in chain order: the party's own, its declarations', its
/// enforcement matters', its specific authorization applications', its reliances on general
/// authorizations', its applications for GA 3's list and its requests for advisory opinions.
pub async fn of_party(conn: &mut PgConnection, party: PartyId) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash FROM audit_events \
         WHERE (object_type = 'party' AND object_id = $1) \
            OR (object_type = 'declaration' AND object_id IN (SELECT id::text FROM declarations WHERE filer_id = $2)) \
            OR (object_type = 'enforcement_matter' AND object_id IN (SELECT id::text FROM enforcement_matters WHERE party_id = $2)) \
            OR (object_type = 'authorization_application' AND object_id IN (SELECT id::text FROM authorization_applications WHERE applicant_id = $2)) \
            OR (object_type = 'ga_reliance' AND object_id IN (SELECT id::text FROM ga_reliances WHERE party_id = $2)) \
            OR (object_type = 'ga_supplier' AND object_id IN (SELECT id::text FROM ga_suppliers WHERE party_id = $2)) \
            OR (object_type = 'opinion_request' AND object_id IN (SELECT id::text FROM opinion_requests WHERE requester_id = $2)) \
         ORDER BY seq",
        party.to_string(),
        party.0,
    )
    .fetch_all(conn)
    .await
}

/// The newest event of a type, if any (e.g. the last verification of the chain).
pub async fn latest_of_type(
    pool: &sqlx::PgPool,
    event_type: super::EventType,
) -> Result<Option<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash FROM audit_events WHERE event_type = $1 ORDER BY seq DESC LIMIT 1",
        event_type.as_str(),
    )
    .fetch_optional(pool)
    .await
}

/// The next 5,000 events after position `after`, in chain order (the verifier's pages).
pub async fn events_after(db: impl PgExecutor<'_>, after: i64) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000",
        after,
    )
    .fetch_all(db)
    .await
}

/// The chain's head: the newest position and its hash.
pub async fn head(db: impl PgExecutor<'_>) -> Result<(i64, Vec<u8>), sqlx::Error> {
    let r = sqlx::query!("SELECT seq, hash FROM audit_head WHERE singleton").fetch_one(db).await?;
    Ok((r.seq, r.hash))
}

/// The chain head's position.
pub async fn head_seq(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT seq FROM audit_head WHERE singleton").fetch_one(db).await
}

/// The events of `f` (its page aside), `f.limit + 1` of them from its cursor: newest first
/// below the cursor when `downwards`, else oldest first above it. `type_pattern` is the
/// LIKE pattern of `f.event_type`.
pub async fn events(
    db: impl PgExecutor<'_>,
    f: &EventFilter,
    type_pattern: Option<String>,
    downwards: bool,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    if downwards {
        sqlx::query_as!(
            StoredEvent,
            r#"SELECT seq, id AS "id: EventId", at, actor_id AS "actor_id: UserId", actor_role, client_addr, request_id, event_type,
             object_type, object_id, changes, outcome, prev_hash, hash
             FROM audit_events WHERE ($1::uuid IS NULL OR actor_id = $1) AND ($2::text IS NULL OR event_type LIKE $2)
             AND ($3::text IS NULL OR object_id = $3) AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
             AND ($6::bigint IS NULL OR seq < $6) ORDER BY seq DESC LIMIT $7"#,
            f.actor as _,
            type_pattern,
            f.object.as_deref(),
            f.from,
            f.to,
            f.cursor,
            f.limit + 1
        )
        .fetch_all(db)
        .await
    } else {
        sqlx::query_as!(
            StoredEvent,
            r#"SELECT seq, id AS "id: EventId", at, actor_id AS "actor_id: UserId", actor_role, client_addr, request_id, event_type,
             object_type, object_id, changes, outcome, prev_hash, hash
             FROM audit_events WHERE ($1::uuid IS NULL OR actor_id = $1) AND ($2::text IS NULL OR event_type LIKE $2)
             AND ($3::text IS NULL OR object_id = $3) AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
             AND ($6::bigint IS NULL OR seq > $6) ORDER BY seq ASC LIMIT $7"#,
            f.actor as _,
            type_pattern,
            f.object.as_deref(),
            f.from,
            f.to,
            f.cursor,
            f.limit + 1
        )
        .fetch_all(db)
        .await
    }
}

/// How many events match `f` (its order and page aside), up to `cap`. `type_pattern` is
/// the LIKE pattern of `f.event_type`.
pub async fn count_events(
    db: impl PgExecutor<'_>,
    f: &EventFilter,
    type_pattern: Option<String>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM audit_events WHERE ($1::uuid IS NULL OR actor_id = $1)
         AND ($2::text IS NULL OR event_type LIKE $2) AND ($3::text IS NULL OR object_id = $3)
         AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5) LIMIT $6) x"#,
        f.actor as _,
        type_pattern,
        f.object.as_deref(),
        f.from,
        f.to,
        cap
    )
    .fetch_one(db)
    .await
}

/// The hash of the event at `seq`, if it is there.
pub async fn hash_at(db: impl PgExecutor<'_>, seq: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT hash FROM audit_events WHERE seq = $1", seq).fetch_optional(db).await
}

/// The position and hash of each of the events at `seqs` that is there.
pub async fn hashes_at(db: impl PgExecutor<'_>, seqs: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT seq, hash FROM audit_events WHERE seq = ANY($1)", seqs)
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.seq, r.hash))
        .collect())
}

/// The first event after position `covered`: its position and time.
pub async fn first_after(db: impl PgExecutor<'_>, covered: i64) -> Result<Option<(i64, OffsetDateTime)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT seq, at FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 1", covered)
        .fetch_optional(db)
        .await?
        .map(|e| (e.seq, e.at)))
}

/// The events of a log export's chunk: after position `after` and through `through`, with
/// `from <= at < to` (either bound optional), at most `limit`, in chain order.
pub async fn export_chunk(
    db: impl PgExecutor<'_>,
    (after, through): (i64, i64),
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash FROM audit_events \
         WHERE seq > $1 AND seq <= $2 AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4) \
         ORDER BY seq LIMIT $5",
        after,
        through,
        from,
        to,
        limit,
    )
    .fetch_all(db)
    .await
}

/// The position of the last event before `to` (read through the index on `at`).
pub async fn last_before(db: impl PgExecutor<'_>, to: OffsetDateTime) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(seq) FROM (SELECT seq FROM audit_events WHERE at < $1 OFFSET 0) q", to)
        .fetch_one(db)
        .await
}

/// The position of the first event at or after `from`, through `through` (read through the
/// index on `at`).
pub async fn first_from(
    db: impl PgExecutor<'_>,
    from: OffsetDateTime,
    through: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT min(seq) FROM (SELECT seq FROM audit_events WHERE at >= $1 AND seq <= $2 OFFSET 0) q",
        from,
        through
    )
    .fetch_one(db)
    .await
}

/// The installation's newest signing key as recorded when it first signed: the key and when.
pub async fn recorded_key(db: impl PgExecutor<'_>) -> Result<Option<(Vec<u8>, OffsetDateTime)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT public_key, first_used FROM audit_signing_keys ORDER BY first_used DESC LIMIT 1")
        .fetch_optional(db)
        .await?
        .map(|r| (r.public_key, r.first_used)))
}

/// The position of the newest checkpoint, if any.
pub async fn last_checkpoint_seq(db: impl PgExecutor<'_>) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(seq) FROM audit_checkpoints").fetch_one(db).await
}

/// A checkpoint as stored (the signing key recorded the first time it signs).
pub struct NewCheckpoint<'a> {
    pub seq: i64,
    pub hash: &'a [u8],
    pub at: OffsetDateTime,
    pub public_key: Option<&'a [u8]>,
    pub signature: Option<&'a [u8]>,
    pub reason: &'a str,
    /// Whether it goes to the checkpoint file too.
    pub for_file: bool,
}

/// Stores a checkpoint, and its signing key the first time that key signs, in one
/// statement.
pub async fn insert_checkpoint(conn: &mut PgConnection, cp: NewCheckpoint<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH key AS (INSERT INTO audit_signing_keys (public_key, first_used) SELECT $5::bytea, $4 WHERE $5::bytea IS NOT NULL \
           ON CONFLICT (public_key) DO NOTHING) \
         INSERT INTO audit_checkpoints (id, seq, hash, at, public_key, signature, reason, for_file) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        Uuid::now_v7(),
        cp.seq,
        cp.hash,
        cp.at,
        cp.public_key,
        cp.signature,
        cp.reason,
        cp.for_file,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A stored checkpoint, as read back.
pub struct CheckpointRow {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at: OffsetDateTime,
    pub public_key: Option<Vec<u8>>,
    pub signature: Option<Vec<u8>>,
    pub reason: String,
    /// Whether it was meant for the checkpoint file.
    pub for_file: bool,
}

/// Every stored checkpoint, oldest first.
pub async fn checkpoints(db: impl PgExecutor<'_>) -> Result<Vec<CheckpointRow>, sqlx::Error> {
    sqlx::query_as!(
        CheckpointRow,
        "SELECT seq, hash, at, public_key, signature, reason, for_file FROM audit_checkpoints ORDER BY at, seq"
    )
    .fetch_all(db)
    .await
}

/// How forwarding stands, and the head's position.
pub struct Forwarding {
    /// The newest event the collector was sent.
    pub seq: i64,
    pub forwarded_at: Option<OffsetDateTime>,
    pub failing_since: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// The head's position.
    pub head: i64,
}

/// Reads how forwarding stands.
pub async fn forwarding(db: impl PgExecutor<'_>) -> Result<Forwarding, sqlx::Error> {
    sqlx::query_as!(
        Forwarding,
        r#"SELECT f.seq, f.forwarded_at, f.failing_since, f.last_error, h.seq AS "head!"
           FROM audit_forwarding f CROSS JOIN audit_head h WHERE f.singleton AND h.singleton"#
    )
    .fetch_one(db)
    .await
}

/// Records that forwarding fails with `error` (since when, if it did not already).
pub async fn note_forwarding_failure(db: impl PgExecutor<'_>, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE audit_forwarding SET failing_since = coalesce(failing_since, now()), last_error = $1 WHERE singleton",
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Clears a recorded forwarding failure, if there is one.
pub async fn clear_forwarding_failure(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE audit_forwarding SET failing_since = NULL, last_error = NULL WHERE singleton AND failing_since IS NOT NULL"
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The position of the newest event the collector was sent.
pub async fn forwarded_seq(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("SELECT seq FROM audit_forwarding WHERE singleton").fetch_one(conn).await
}

/// The next `limit` events after position `cursor`, in chain order (a forwarder's batch).
pub async fn events_to_forward(
    conn: &mut PgConnection,
    cursor: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as!(
        StoredEvent,
        "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, \
         object_type, object_id, changes, outcome, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
        cursor,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// A stored checkpoint the collector has not been sent.
pub struct UnsentCheckpoint {
    pub id: Uuid,
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at: OffsetDateTime,
    pub public_key: Option<Vec<u8>>,
    pub signature: Option<Vec<u8>>,
    pub reason: String,
}

/// The first 100 checkpoints at or before position `upto` the collector has not been sent,
/// in chain order.
pub async fn checkpoints_to_forward(conn: &mut PgConnection, upto: i64) -> Result<Vec<UnsentCheckpoint>, sqlx::Error> {
    sqlx::query_as!(
        UnsentCheckpoint,
        "SELECT c.id, c.seq, c.hash, c.at, c.public_key, c.signature, c.reason FROM audit_checkpoints c \
         WHERE c.seq <= $1 AND NOT EXISTS (SELECT 1 FROM audit_forwarded_checkpoints f WHERE f.checkpoint_id = c.id) \
         ORDER BY c.seq, c.at LIMIT 100",
        upto
    )
    .fetch_all(conn)
    .await
}

/// Moves the forwarder's position to `upto`, clearing any failure.
pub async fn forwarded_through(conn: &mut PgConnection, upto: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE audit_forwarding SET seq = $1, forwarded_at = now(), failing_since = NULL, last_error = NULL \
         WHERE singleton",
        upto
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the checkpoints `ids` as sent to the collector.
pub async fn checkpoints_forwarded(conn: &mut PgConnection, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_forwarded_checkpoints (checkpoint_id, forwarded_at) \
         SELECT unnest($1::uuid[]), now() ON CONFLICT DO NOTHING",
        ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Tries to take the session's advisory lock `key` (held until it is released or the
/// connection ends); whether it was taken.
pub async fn try_advisory_lock(conn: &mut PgConnection, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "locked!""#, key).fetch_one(conn).await
}

/// Whether the connection still answers.
pub async fn ping(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT 1 AS one").fetch_one(conn).await?;
    Ok(())
}

/// The epoch of this life of the database when there is one, then setting
/// `synchronous_commit = off` for the transaction; `None` when crash recovery emptied it.
pub async fn defer_commit(conn: &mut PgConnection) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT epoch FROM audit_commit_epoch \
         WHERE CASE WHEN epoch IS NULL THEN false ELSE set_config('synchronous_commit', 'off', true) IS NOT NULL END"
    )
    .fetch_optional(&mut *conn)
    .await
}

/// Makes every commit made so far in this life of the database durable, and returns the
/// life's epoch (making one if crash recovery emptied it). A transaction commits
/// synchronously only when it wrote to the log and has a transaction id: a transactional
/// logical-decoding message is the smallest such write, and its commit flushes the log up
/// to itself, so through every earlier commit.
pub async fn flush(conn: &mut PgConnection) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "WITH made AS (INSERT INTO audit_commit_epoch (epoch) VALUES (gen_random_uuid()) \
           ON CONFLICT (singleton) DO NOTHING RETURNING epoch) \
         SELECT coalesce((SELECT epoch FROM made), (SELECT epoch FROM audit_commit_epoch)) AS \"epoch!\" \
         FROM (SELECT pg_logical_emit_message(true, 'icts-review', 'flush')) AS flushed"
    )
    .fetch_one(&mut *conn)
    .await
}
