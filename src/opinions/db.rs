//! Advisory opinions' SQL, checked at compile time.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use super::model::{ActKind, ActRow, Conclusion, Contents, Item, OpinionWork, Request, Status};
use crate::ids::{OpinionId, PartyId, UserId};

/// The next request number in `year`: `AO-2026-0003`.
pub async fn next_number(conn: &mut PgConnection, year: i32) -> sqlx::Result<String> {
    let n: i64 = sqlx::query_scalar!(r#"SELECT nextval('opinion_request_numbers') AS "n!""#).fetch_one(conn).await?;
    Ok(format!("AO-{year}-{n:04}"))
}

struct Row {
    id: OpinionId,
    number: String,
    requester_id: PartyId,
    requester_name: String,
    question: String,
    interest: String,
    submitter: String,
    submitter_address: String,
    parties: String,
    technology: String,
    vehicle: String,
    system: String,
    other: String,
    filed_on: Date,
    status: Status,
    complete_on: Option<Date>,
    last_act_on: Date,
    version: i64,
    conclusion: Option<Conclusion>,
    opinion: String,
    revision: i64,
    drafted_by: Option<UserId>,
    drafted_by_name: Option<String>,
    signed_by_name: Option<String>,
    signed_on: Option<Date>,
    content_sha256: Option<Vec<u8>>,
    received_at: OffsetDateTime,
}

impl From<Row> for Request {
    fn from(r: Row) -> Request {
        Request {
            id: r.id,
            number: r.number,
            requester_id: r.requester_id,
            requester_name: r.requester_name,
            question: r.question,
            interest: r.interest,
            contents: Contents {
                submitter: r.submitter,
                submitter_address: r.submitter_address,
                parties: r.parties,
                technology: r.technology,
                vehicle: r.vehicle,
                system: r.system,
                other: r.other,
            },
            filed_on: r.filed_on,
            status: r.status,
            complete_on: r.complete_on,
            last_act_on: r.last_act_on,
            version: r.version,
            conclusion: r.conclusion,
            opinion: r.opinion,
            revision: r.revision,
            drafted_by: r.drafted_by,
            drafted_by_name: r.drafted_by_name,
            signed_by_name: r.signed_by_name,
            signed_on: r.signed_on,
            content_sha256: r.content_sha256.map(hex::encode),
            received_at: r.received_at,
        }
    }
}

macro_rules! select_requests {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Row,
            r#"SELECT o.id AS "id: OpinionId", o.number, o.requester_id AS "requester_id: PartyId",
                 p.legal_name AS requester_name, o.question, o.interest, o.submitter, o.submitter_address, o.parties,
                 o.technology, o.vehicle, o.system, o.other, o.filed_on, o.status AS "status: Status", o.complete_on,
                 o.last_act_on, o.version, o.conclusion AS "conclusion: Conclusion", o.opinion, o.revision,
                 o.drafted_by AS "drafted_by: UserId", du.name AS "drafted_by_name?", su.name AS "signed_by_name?",
                 o.signed_on, o.content_sha256, o.received_at
               FROM opinion_requests o JOIN parties p ON p.id = o.requester_id
                 LEFT JOIN users du ON du.id = o.drafted_by LEFT JOIN users su ON su.id = o.signed_by "# + $rest
            $(, $arg)*
        )
    };
}

/// A request to insert, checked.
pub struct NewRow<'a> {
    pub id: OpinionId,
    pub number: &'a str,
    pub requester: PartyId,
    pub question: &'a str,
    pub interest: &'a str,
    pub contents: &'a Contents,
    pub filed_on: Date,
    pub via: &'static str,
}

pub async fn insert(conn: &mut PgConnection, r: &NewRow<'_>, (by, at): (UserId, OffsetDateTime)) -> sqlx::Result<()> {
    let c = r.contents;
    sqlx::query!(
        "INSERT INTO opinion_requests (id, number, requester_id, question, interest, submitter, submitter_address, \
           parties, technology, vehicle, system, other, filed_on, via, last_act_on, received_at, received_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $15, $16, $15)",
        r.id.0,
        r.number,
        r.requester.0,
        r.question,
        r.interest,
        c.submitter,
        c.submitter_address,
        c.parties,
        c.technology,
        c.vehicle,
        c.system,
        c.other,
        r.filed_on,
        r.via,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An act to record.
pub struct NewActRow<'a> {
    pub kind: ActKind,
    pub effective_on: Date,
    pub items: &'a [Item],
    pub note: &'a str,
    pub source: &'a str,
    pub answers: Option<i64>,
}

pub async fn insert_act(
    conn: &mut PgConnection,
    id: OpinionId,
    a: &NewActRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<()> {
    let items: Vec<String> = a.items.iter().map(|i| i.as_str().to_string()).collect();
    sqlx::query!(
        "INSERT INTO opinion_acts (request_id, kind, effective_on, items, note, source, answers, recorded_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id.0,
        a.kind as ActKind,
        a.effective_on,
        &items,
        a.note,
        a.source,
        a.answers,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves request `id` from `version` to `status` with its contents; `false` when it changed.
pub async fn set_standing(
    conn: &mut PgConnection,
    id: OpinionId,
    version: i64,
    (status, complete_on, last_act_on): (Status, Option<Date>, Date),
    c: &Contents,
    at: OffsetDateTime,
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "UPDATE opinion_requests SET status = $3, complete_on = $4, last_act_on = $5, submitter = $6, \
           submitter_address = $7, parties = $8, technology = $9, vehicle = $10, system = $11, other = $12, \
           version = version + 1, updated_at = $13 WHERE id = $1 AND version = $2",
        id.0,
        version,
        status as Status,
        complete_on,
        last_act_on,
        c.submitter,
        c.submitter_address,
        c.parties,
        c.technology,
        c.vehicle,
        c.system,
        c.other,
        at,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Writes the draft opinion of request `id` from `version`; `false` when it changed.
pub async fn set_draft(
    conn: &mut PgConnection,
    id: OpinionId,
    version: i64,
    (conclusion, opinion, on): (Conclusion, &str, Date),
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "UPDATE opinion_requests SET conclusion = $3, opinion = $4, revision = revision + 1, drafted_by = $5, \
           drafted_at = $6, last_act_on = $7, version = version + 1, updated_at = $6 \
         WHERE id = $1 AND version = $2 AND signed_by IS NULL",
        id.0,
        version,
        conclusion as Conclusion,
        opinion,
        by.0,
        at,
        on,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Signs the draft of request `id` at `revision` with the hash it covers: the opinion is
/// issued. `false` when it changed or was signed meanwhile.
pub async fn sign(
    conn: &mut PgConnection,
    id: OpinionId,
    revision: i64,
    hash: &[u8; 32],
    (by, at, reauth_at, on): (UserId, OffsetDateTime, OffsetDateTime, Date),
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "UPDATE opinion_requests SET status = 'issued', signed_by = $3, signed_at = $4, signed_on = $5, reauth_at = $6, \
           content_sha256 = $7, last_act_on = $5, version = version + 1, updated_at = $4 \
         WHERE id = $1 AND revision = $2 AND signed_by IS NULL",
        id.0,
        revision,
        by.0,
        at,
        on,
        reauth_at,
        &hash[..],
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn get(conn: &mut PgConnection, id: OpinionId) -> sqlx::Result<Option<Request>> {
    Ok(select_requests!("WHERE o.id = $1", id.0).fetch_optional(conn).await?.map(Request::from))
}

pub async fn lock(conn: &mut PgConnection, id: OpinionId) -> sqlx::Result<Option<Request>> {
    Ok(select_requests!("WHERE o.id = $1 FOR UPDATE OF o", id.0).fetch_optional(conn).await?.map(Request::from))
}

/// What the list shows: its filters, and where the page starts.
pub type Filter = crate::filings::ListFilter<Status>;

/// A page of the request list, one row more when more follow (see [`Keyset`]).
pub async fn page(conn: &mut PgConnection, f: &Filter) -> sqlx::Result<Vec<Request>> {
    let rows = select_requests!(
        r#"WHERE ($1::text IS NULL OR o.status = $1) AND ($2::uuid IS NULL OR o.requester_id = $2)
             AND ($3::text IS NULL OR o.number ILIKE $3 OR p.legal_name ILIKE $3 OR o.question ILIKE $3)
             AND ($4::timestamptz IS NULL
                  OR CASE WHEN $6::boolean THEN (o.received_at, o.id) > ($4, $5::uuid)
                          ELSE (o.received_at, o.id) < ($4, $5::uuid) END)
           ORDER BY CASE WHEN $6 THEN o.received_at END, CASE WHEN $6 THEN o.id END,
                    o.received_at DESC, o.id DESC
           LIMIT $7"#,
        f.status.map(|s| s.as_str()),
        f.party.map(|p| p.0),
        f.q.as_deref().map(crate::db::contains_pattern),
        f.page.key(),
        f.page.id(),
        f.page.reads_ascending(),
        f.page.read_limit(),
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

/// How many requests match `f`'s filters, counted up to [`crate::db::Total::CAP`].
pub async fn count(conn: &mut PgConnection, f: &Filter) -> sqlx::Result<crate::db::Total> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM opinion_requests o JOIN parties p ON p.id = o.requester_id
             WHERE ($1::text IS NULL OR o.status = $1) AND ($2::uuid IS NULL OR o.requester_id = $2)
               AND ($3::text IS NULL OR o.number ILIKE $3 OR p.legal_name ILIKE $3 OR o.question ILIKE $3)
             LIMIT $4) x"#,
        f.status.map(|s| s.as_str()),
        f.party.map(|p| p.0),
        f.q.as_deref().map(crate::db::contains_pattern),
        crate::db::Total::CAP + 1,
    )
    .fetch_one(conn)
    .await?;
    Ok(crate::db::Total::counted(n))
}

/// The requests of `requester`, newest first; at most `limit`.
pub async fn of_requester(conn: &mut PgConnection, requester: PartyId, limit: i64) -> sqlx::Result<Vec<Request>> {
    let rows = select_requests!(
        "WHERE o.requester_id = $1 ORDER BY o.received_at DESC, o.id DESC LIMIT $2",
        requester.0,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

pub async fn acts(conn: &mut PgConnection, id: OpinionId) -> sqlx::Result<Vec<ActRow>> {
    sqlx::query_as!(
        ActRow,
        r#"SELECT a.seq, a.kind AS "kind: ActKind", a.effective_on, a.items, a.note, a.source, a.answers, a.recorded_at,
             u.name AS recorded_by
           FROM opinion_acts a JOIN users u ON u.id = a.recorded_by WHERE a.request_id = $1 ORDER BY a.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// The requests whose number, requester or question holds `q`, newest first; at most `limit`.
pub async fn search(conn: &mut PgConnection, q: &str, limit: i64) -> sqlx::Result<Vec<Request>> {
    let rows = select_requests!(
        "WHERE o.number ILIKE $1 OR p.legal_name ILIKE $1 OR o.question ILIKE $1 \
         ORDER BY o.received_at DESC, o.id DESC LIMIT $2",
        crate::db::contains_pattern(q),
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

/// The requests' counts for a home page.
pub async fn work(conn: &mut PgConnection) -> sqlx::Result<OpinionWork> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'received') AS "to_check!",
             count(*) FILTER (WHERE status IN ('under_review', 'questions_asked')) AS "in_review!",
             count(*) FILTER (WHERE status = 'questions_asked') AS "questions!",
             count(*) FILTER (WHERE drafted_by IS NOT NULL AND signed_by IS NULL
                              AND status IN ('under_review', 'questions_asked')) AS "to_sign!"
           FROM opinion_requests"#
    )
    .fetch_one(conn)
    .await?;
    Ok(OpinionWork { to_check: r.to_check, in_review: r.in_review, questions_asked: r.questions, to_sign: r.to_sign })
}
