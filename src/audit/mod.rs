//! The append-only, hash-chained audit log that every state change writes to, and its
//! verifier. Depends on nothing else in the crate but `canonical`.
//!
//! Each event's `hash = sha256(prev_hash || canonical bytes)`, where the canonical bytes
//! are the JSON of [`Canonical`] (fixed field order, object keys sorted, time in RFC 3339
//! with microseconds). Writers lock the single `audit_head` row, so the events of every
//! app instance form one linear chain: positions 1, 2, 3, ... with no fork.

pub mod api;
pub mod checkpoint;
pub mod db;
pub mod durable;
pub mod event_type;
pub mod export;
pub mod forward;
pub mod service;
pub mod web;
pub mod witness;

pub use db::{chain_now, head, latest_of_type, of_case, of_matter, of_party, written_seq};
pub use event_type::EventType;

use crate::ids::{EventId, UserId};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Who did something, from where: attached to every event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditContext {
    /// The acting user, if signed in (or identified, for a failed sign-in).
    pub actor_id: Option<UserId>,
    /// The actor's role at the time.
    pub actor_role: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    /// Request id (also in the logs).
    pub request_id: Option<String>,
}

/// How an action ended, stored, hashed and exported by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened.
    Success,
    /// It was attempted and failed (e.g. a wrong password).
    Failure,
    /// The actor was not allowed to do it.
    Denied,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Denied];

    /// The name stored, hashed and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// What happened, e.g. [`EventType::UserRoleChanged`] (stored as its code).
    pub event_type: EventType,
    /// Kind of object acted on, e.g. `user`.
    pub object_type: Option<String>,
    /// Id of the object acted on.
    pub object_id: Option<String>,
    /// Changed fields: `{"field": {"before": .., "after": ..}}`, or other facts. Never a
    /// password, token or session secret.
    pub changes: Value,
    pub outcome: Outcome,
}

impl NewEvent {
    /// A successful event of `event_type` with no object.
    pub fn new(event_type: EventType) -> Self {
        NewEvent {
            event_type,
            object_type: None,
            object_id: None,
            changes: Value::Object(Default::default()),
            outcome: Outcome::Success,
        }
    }

    /// Names the object acted on.
    pub fn object(mut self, kind: &str, id: impl ToString) -> Self {
        self.object_type = Some(kind.to_string());
        self.object_id = Some(id.to_string());
        self
    }

    /// Sets the changed fields or facts.
    pub fn changes(mut self, changes: Value) -> Self {
        self.changes = changes;
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// The canonical form that is hashed. Field order is fixed by this declaration; `changes`
/// is written as canonical JSON (`crate::canonical`: keys sorted at every level).
#[derive(Serialize)]
struct Canonical<'a> {
    v: u8,
    seq: i64,
    id: Uuid,
    at: String,
    actor_id: Option<UserId>,
    actor_role: Option<&'a str>,
    client_addr: Option<&'a str>,
    request_id: Option<&'a str>,
    event_type: &'a str,
    object_type: Option<&'a str>,
    object_id: Option<&'a str>,
    #[serde(serialize_with = "crate::canonical::serialize")]
    changes: &'a Value,
    outcome: &'a str,
}

/// Whether the changes of a stored event of type `event_type` hold no case content
/// ([`EventType::content_free`]). A code this release does not know may hold some: no.
pub fn content_free(event_type: &str) -> bool {
    EventType::parse(event_type).is_some_and(EventType::content_free)
}

/// The event as a reader may read it: for one who sees no case content (an administrator:
/// the access policy's `sees_case_content`), the changes of an event that may hold case
/// content are replaced by the names of its fields (ids, types, actors, times and hashes
/// stay, so what happened and when is still there, not what it said).
pub fn view_for(sees_case_content: bool, mut e: StoredEvent) -> StoredEvent {
    if !sees_case_content && !content_free(&e.event_type) {
        redact(&mut e);
    }
    e
}

/// Replaces an event's changes by the names of its fields.
pub fn redact(e: &mut StoredEvent) {
    let fields: Vec<String> = e.changes.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    e.changes = serde_json::json!({"redacted": "case content is not shown to administrators", "fields": fields});
}

/// A stored event, as read back.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoredEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Event id.
    pub id: EventId,
    /// When (UTC).
    #[serde(serialize_with = "as_rfc3339")]
    pub at: OffsetDateTime,
    /// Acting user.
    pub actor_id: Option<UserId>,
    /// Acting user's role.
    pub actor_role: Option<String>,
    /// Client address.
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// The event type's code as stored, e.g. `case.transition`: a string, since an old log
    /// may hold a code this release does not know (see [`StoredEvent::kind`]).
    pub event_type: String,
    /// Object kind.
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Changed fields / facts.
    pub changes: Value,
    /// How it ended. Kept as read, like the type's code: the chain hashes the stored text;
    /// the document lists the values from [`Outcome`].
    #[schema(value_type = Outcome)]
    pub outcome: String,
    /// Hash of the previous event (hex in JSON).
    #[serde(serialize_with = "as_hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub prev_hash: Vec<u8>,
    /// This event's hash (hex in JSON).
    #[serde(serialize_with = "as_hex")]
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub hash: Vec<u8>,
}

impl StoredEvent {
    /// The event's type, or `None` for a code this release does not know (one a retired
    /// release wrote, or a later one). Such an event is shown by its stored code, verifies
    /// like any other, and is treated as holding case content.
    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }
}

/// Bytes (a hash) as lowercase hex, without a string per value (the log export writes two
/// per event).
fn as_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 128];
    match buf.get_mut(..bytes.len() * 2) {
        Some(out) => {
            hex::encode_to_slice(bytes, out).map_err(serde::ser::Error::custom)?;
            s.serialize_str(std::str::from_utf8(out).map_err(serde::ser::Error::custom)?)
        }
        None => s.serialize_str(&hex::encode(bytes)),
    }
}

/// A time in RFC 3339, as `time::serde::rfc3339` writes it, without a string per value.
fn as_rfc3339<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 64];
    let mut out = &mut buf[..];
    t.format_into(&mut out, &Rfc3339).map_err(serde::ser::Error::custom)?;
    let n = 64 - out.len();
    s.serialize_str(std::str::from_utf8(&buf[..n]).map_err(serde::ser::Error::custom)?)
}

/// Serialises optional bytes (a hash) as lowercase hex or null.
pub fn hex_opt<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_some(&hex::encode(b)),
        None => s.serialize_none(),
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("UTC times format")
}

/// Recomputes a stored event's hash from its own `prev_hash` and fields (for offline
/// verification of exported events).
pub fn recompute_hash(e: &StoredEvent) -> [u8; 32] {
    event_hash(&e.prev_hash, e)
}

/// An exported event (hex hashes) read back.
pub fn event_from_json(v: &Value) -> Result<StoredEvent, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Exported {
        seq: i64,
        id: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor_id: Option<UserId>,
        actor_role: Option<String>,
        client_addr: Option<String>,
        request_id: Option<String>,
        event_type: String,
        object_type: Option<String>,
        object_id: Option<String>,
        changes: Value,
        outcome: String,
        prev_hash: String,
        hash: String,
    }
    let e: Exported = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let unhex = |h: &str, what: &str| {
        if h.len() == 64 && h.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
            hex::decode(h).map_err(|e| e.to_string())
        } else {
            Err(format!("{what} is not 64 lowercase hex digits"))
        }
    };
    Ok(StoredEvent {
        seq: e.seq,
        id: e.id.into(),
        at: e.at,
        actor_id: e.actor_id,
        actor_role: e.actor_role,
        client_addr: e.client_addr,
        request_id: e.request_id,
        event_type: e.event_type,
        object_type: e.object_type,
        object_id: e.object_id,
        changes: e.changes,
        outcome: e.outcome,
        prev_hash: unhex(&e.prev_hash, "prev_hash")?,
        hash: unhex(&e.hash, "hash")?,
    })
}

/// Computes an event's hash from its predecessor's hash and its fields.
#[allow(clippy::too_many_arguments)]
fn event_hash(prev: &[u8], e: &StoredEvent) -> [u8; 32] {
    let bytes = serde_json::to_vec(&canonical(e)).expect("canonical events serialise");
    let mut h = Sha256::new();
    h.update(prev);
    h.update(&bytes);
    h.finalize().into()
}

/// The fields of an event that its hash covers, in their fixed order.
fn canonical(e: &StoredEvent) -> Canonical<'_> {
    Canonical {
        v: 1,
        seq: e.seq,
        id: e.id.0,
        at: rfc3339(e.at),
        actor_id: e.actor_id,
        actor_role: e.actor_role.as_deref(),
        client_addr: e.client_addr.as_deref(),
        request_id: e.request_id.as_deref(),
        event_type: &e.event_type,
        object_type: e.object_type.as_deref(),
        object_id: e.object_id.as_deref(),
        changes: &e.changes,
        outcome: &e.outcome,
    }
}

/// The canonical JSON of `e` after its position: what follows `{"v":1,"seq":N,`.
fn canonical_tail(e: &StoredEvent) -> Vec<u8> {
    let mut fields = canonical(e);
    fields.seq = 0;
    let mut bytes = serde_json::to_vec(&fields).expect("canonical events serialise");
    const PREFIX: &[u8] = br#"{"v":1,"seq":0,"#;
    assert!(bytes.starts_with(PREFIX), "the canonical form starts with its version and position");
    bytes.drain(..PREFIX.len());
    bytes
}

/// The event as it will be stored and read back, before it has a place in the chain: the
/// time as the database keeps it, the changes as they come back through jsonb (what is
/// hashed is what will be read).
fn to_store(at: OffsetDateTime, ctx: &AuditContext, event: &NewEvent) -> StoredEvent {
    StoredEvent {
        seq: 0,
        id: EventId::new(),
        at: crate::clock::storable(at),
        actor_id: ctx.actor_id,
        actor_role: ctx.actor_role.clone(),
        client_addr: ctx.client_addr.clone(),
        request_id: ctx.request_id.clone(),
        event_type: event.event_type.as_str().to_string(),
        object_type: event.object_type.clone(),
        object_id: event.object_id.clone(),
        changes: serde_json::from_str(&event.changes.to_string()).expect("JSON re-parses"),
        outcome: event.outcome.as_str().to_string(),
        prev_hash: Vec::new(),
        hash: Vec::new(),
    }
}

/// Appends one event inside the caller's transaction (so the event commits or rolls back
/// with the change it records). The commit links it into the chain, in the order the
/// transaction recorded its events; until then it is not in `audit_events` (see
/// [`chain_now`]).
pub async fn record(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    ctx: &AuditContext,
    event: NewEvent,
) -> Result<(), sqlx::Error> {
    let stored = to_store(at, ctx, &event);
    // The event's content goes to `audit_pending`; the commit links it into the chain (a
    // deferred trigger, migration 0046: it locks the head, hashes as `event_hash` does —
    // sha256 of the previous hash, the canonical prefix with the position, and this tail —
    // appends and moves the head), so that the head is held only inside the commit, never
    // across a round trip to this process.
    let tail = canonical_tail(&stored);
    // Inside `durable::durably` the commit need not wait for the disk: the statement says
    // so itself (`set_config` for this transaction) and returns the database's epoch,
    // costing no round trip of its own.
    let may_defer = durable::may_defer();
    let deferred_epoch =
        db::insert_pending(conn, &stored, &tail, event.event_type.may_change_cases(), may_defer).await?;
    durable::deferred(deferred_epoch);
    Ok(())
}

/// Appends one event inside the caller's transaction and links it into the chain at once,
/// returning its position and hash: for a transaction that takes the checkpoint covering
/// its own event (a dossier's export). The head stays locked until the transaction ends,
/// so the caller commits promptly. Events it recorded before come first ([`chain_now`]).
pub async fn record_linked(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    ctx: &AuditContext,
    event: NewEvent,
) -> Result<(i64, Vec<u8>), sqlx::Error> {
    let stored = to_store(at, ctx, &event);
    let tail = canonical_tail(&stored);
    let may_defer = durable::may_defer();
    // One statement locks the head, hashes (as `event_hash` does), appends and moves it;
    // it appends nothing while this transaction has events waiting for its commit, which
    // are linked first (once: linking clears the mark the statement reads).
    for _ in 0..2 {
        let appended =
            db::append_linked(&mut *conn, &stored, &tail, event.event_type.may_change_cases(), may_defer).await?;
        match appended {
            Some(appended) => {
                durable::deferred(appended.deferred_epoch);
                return Ok((appended.seq, appended.hash));
            }
            None => chain_now(&mut *conn).await?,
        }
    }
    Err(sqlx::Error::Protocol("the audit head stayed marked as having events waiting after they were linked".into()))
}

/// Appends many events in the caller's transaction with one lock of the head and bulk
/// inserts (for imports): the same chain as calling [`record`] once per event.
pub async fn record_many(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    ctx: &AuditContext,
    events: Vec<NewEvent>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    durable::defer(&mut *conn).await?;
    // The events this transaction recorded one by one come first.
    chain_now(&mut *conn).await?;
    let (mut seq, mut prev): (i64, Vec<u8>) = db::lock_head(&mut *conn).await?;
    let mut rows: Vec<StoredEvent> = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let mut stored = StoredEvent { seq, prev_hash: prev.clone(), ..to_store(at, ctx, &event) };
        stored.hash = event_hash(&prev, &stored).to_vec();
        prev = stored.hash.clone();
        rows.push(stored);
    }
    for chunk in rows.chunks(5000) {
        db::insert_events(&mut *conn, chunk).await?;
    }
    db::set_head(&mut *conn, seq, &prev).await?;
    Ok(())
}

/// Appends one event in a transaction of its own (for events with no other change, such
/// as a failed sign-in or a refused request).
pub async fn record_alone<'c>(
    db: impl sqlx::Acquire<'c, Database = sqlx::Postgres>,
    at: OffsetDateTime,
    ctx: &AuditContext,
    event: NewEvent,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    record(&mut tx, at, ctx, event).await?;
    tx.commit().await
}

/// Events about anonymous refusals written per minute over all addresses, at most.
pub const ANONYMOUS_REFUSAL_EVENTS_PER_MINUTE: i64 = 60;

/// Records the refusal of an anonymous request (a cross-site form post, say) without
/// letting a flood grow the log at its pace: refusals are counted per address and minute,
/// and an `access.refused` event is written at the 1st, 10th, 100th … refusal of each,
/// carrying the count so far, and no more than [`ANONYMOUS_REFUSAL_EVENTS_PER_MINUTE`]
/// such events a minute in all. Returns whether an event was written. (A signed-in
/// user's refusals are events each, through [`record_alone`].)
pub async fn record_anonymous_refusal(
    pool: &sqlx::PgPool,
    at: OffsetDateTime,
    ctx: &AuditContext,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let addr = ctx.client_addr.clone().unwrap_or_else(|| "unknown".into());
    let minute = at.replace_second(0).unwrap_or(at).replace_nanosecond(0).unwrap_or(at);
    let count = |addr: String| db::count_refusal(pool, minute, addr);
    let n = count(addr).await?;
    let mut m = n;
    while m >= 10 && m % 10 == 0 {
        m /= 10;
    }
    if m != 1 {
        return Ok(false);
    }
    let written = count("*".into()).await?;
    if written == 1 {
        // A new minute: yesterday's counts go.
        db::forget_refusals_before(pool, minute - time::Duration::days(1)).await?;
    }
    if written > ANONYMOUS_REFUSAL_EVENTS_PER_MINUTE {
        return Ok(false);
    }
    let event = NewEvent::new(EventType::AccessRefused).outcome(Outcome::Denied).changes(serde_json::json!({
        "reason": reason, "anonymous": true, "minute": minute, "refused_this_minute": n,
    }));
    record_alone(pool, at, ctx, event).await?;
    Ok(true)
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every event checks out.
    Ok {
        /// Number of events.
        count: i64,
        /// Hash of the last event (zeros for an empty chain).
        head: String,
    },
    /// The first event that does not.
    Broken {
        /// Position where the chain breaks.
        seq: i64,
        /// What is wrong there.
        reason: String,
    },
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Ok { count, head } => write!(f, "OK {count} {head}"),
            Verdict::Broken { seq, reason } => write!(f, "BROKEN at event {seq}: {reason}"),
        }
    }
}

/// Recomputes the whole chain from the stored events, reading them in pages.
pub async fn verify(pool: &PgPool) -> Result<Verdict, sqlx::Error> {
    let mut expected_seq = 1i64;
    let mut running = vec![0u8; 32];
    let mut after = 0i64;
    loop {
        let page: Vec<StoredEvent> = db::events_after(pool, after).await?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            if e.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("event {expected_seq} is missing (next stored event is {})", e.seq),
                });
            }
            if e.prev_hash != running {
                return Ok(Verdict::Broken {
                    seq: e.seq,
                    reason: "its previous-hash does not match the event before it".into(),
                });
            }
            let computed = event_hash(&running, e);
            if computed.as_slice() != e.hash.as_slice() {
                return Ok(Verdict::Broken {
                    seq: e.seq,
                    reason: "its content does not match its hash (altered)".into(),
                });
            }
            running = e.hash.clone();
            expected_seq += 1;
        }
        after = page.last().map(|e| e.seq).unwrap_or(after);
    }
    let count = expected_seq - 1;
    let (head_seq, head_hash) = db::head(pool).await?;
    if head_seq != count || head_hash != running {
        return Ok(Verdict::Broken {
            seq: count + 1,
            reason: format!(
                "the chain head says {head_seq} events but {count} are stored (events removed from the end?)"
            ),
        });
    }
    Ok(Verdict::Ok { count, head: hex::encode(running) })
}

/// Filters for listing events.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events by this actor.
    pub actor: Option<UserId>,
    /// Only events of this type (exact) or type prefix ending in `.`.
    pub event_type: Option<String>,
    /// Only events on this object id.
    pub object: Option<String>,
    /// Events at or after.
    pub from: Option<OffsetDateTime>,
    /// Events before.
    pub to: Option<OffsetDateTime>,
    /// Keyset paging: the page after this position in the list's order, or the page
    /// before it when `backwards`.
    pub cursor: Option<i64>,
    pub backwards: bool,
    /// Oldest first (the chain's order) instead of newest first.
    pub oldest_first: bool,
    /// Page size.
    pub limit: i64,
}

/// The LIKE pattern of an event type filter: exact, or a prefix ending in `.`.
fn type_pattern(event_type: &Option<String>) -> Option<String> {
    event_type.as_ref().map(|t| {
        let escaped = t.replace('%', "\\%").replace('_', "\\_");
        if t.ends_with('.') { format!("{escaped}%") } else { escaped }
    })
}

/// One page of events in the filter's order (newest first unless `oldest_first`), with
/// the positions of the pages on either side.
pub async fn list(pool: &PgPool, f: &EventFilter) -> Result<crate::db::Page<StoredEvent>, sqlx::Error> {
    let type_pattern = type_pattern(&f.event_type);
    // Read newest first (below the cursor) or oldest first (above it): the list's order,
    // or the opposite one for the page before the cursor.
    let downwards = f.oldest_first == f.backwards;
    let rows = db::events(pool, f, type_pattern, downwards).await?;
    Ok(crate::db::Page::from_read(rows, f.limit, f.cursor.is_some(), f.backwards, |e| e.seq.to_string()))
}

/// How many events match the filter (its order and page aside), counted up to
/// [`crate::db::Total::CAP`].
pub async fn count(pool: &PgPool, f: &EventFilter) -> Result<crate::db::Total, sqlx::Error> {
    let type_pattern = type_pattern(&f.event_type);
    let n = db::count_events(pool, f, type_pattern, crate::db::Total::CAP + 1).await?;
    Ok(crate::db::Total::counted(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_written_as_before_with_hex_hashes_and_rfc_3339_times() {
        let e = StoredEvent {
            seq: 7,
            id: EventId::new(),
            at: time::macros::datetime!(2026-12-07 10:00:00.123456 UTC),
            actor_id: None,
            actor_role: None,
            client_addr: None,
            request_id: None,
            event_type: "case.note_added".into(),
            object_type: None,
            object_id: None,
            changes: serde_json::json!({"b": 1, "a": "é"}),
            outcome: "success".into(),
            prev_hash: vec![0xab; 32],
            hash: (0u8..32).collect(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["at"], "2026-12-07T10:00:00.123456Z");
        assert_eq!(v["at"], time::OffsetDateTime::format(e.at, &Rfc3339).unwrap());
        assert_eq!(v["prev_hash"], "ab".repeat(32));
        assert_eq!(v["hash"], hex::encode(&e.hash));
    }

    fn sample() -> StoredEvent {
        StoredEvent {
            seq: 1,
            id: EventId(Uuid::nil()),
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: None,
            actor_role: Some("admin".into()),
            client_addr: None,
            request_id: Some("r".into()),
            event_type: "user.created".into(),
            object_type: Some("user".into()),
            object_id: Some("x".into()),
            changes: serde_json::json!({"b": 1, "a": {"after": "analyst"}}),
            outcome: "success".into(),
            prev_hash: vec![0; 32],
            hash: vec![],
        }
    }

    #[test]
    fn the_database_side_hash_is_the_same_as_event_hash() {
        // What `record` asks PostgreSQL to hash: prev || {"v":1,"seq":N, || tail.
        for seq in [1, 42, 9_876_543_210] {
            let e = StoredEvent { seq, ..sample() };
            let mut h = Sha256::new();
            h.update([3u8; 32]);
            h.update(format!("{{\"v\":1,\"seq\":{seq},").as_bytes());
            h.update(canonical_tail(&e));
            let db_side: [u8; 32] = h.finalize().into();
            assert_eq!(db_side, event_hash(&[3; 32], &e), "seq {seq}");
        }
    }

    #[test]
    fn hashing_is_deterministic_and_covers_every_field() {
        let e = sample();
        let h = event_hash(&[0; 32], &e);
        assert_eq!(h, event_hash(&[0; 32], &e.clone()));
        assert_ne!(h, event_hash(&[1; 32], &e), "depends on the previous hash");
        let mut changed = e.clone();
        changed.outcome = "failure".into();
        assert_ne!(h, event_hash(&[0; 32], &changed));
        let mut changed = e.clone();
        changed.changes = serde_json::json!({"b": 2, "a": {"after": "analyst"}});
        assert_ne!(h, event_hash(&[0; 32], &changed));
        let mut changed = e;
        changed.at += time::Duration::microseconds(1);
        assert_ne!(h, event_hash(&[0; 32], &changed));
    }
}
