//! Specific authorizations' SQL, checked at compile time: the office's target, the
//! applications and their acts, the decisions and a grant's conditions.

use sqlx::PgConnection;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};

use super::model::{
    ActKind, ActRow, Application, ApplicationStatus, Assessment, AuthorizationWork, Condition, Contents, Decision,
    Item, Outcome,
};
use crate::ids::{ApplicationId, DecisionId, PartyId, UserId};
use crate::mitigation::model::MeasureStatus;

/// The office's target in days in force on `day`.
pub async fn target_on(conn: &mut PgConnection, day: Date) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT days FROM authorization_targets WHERE effective_from <= $1 ORDER BY effective_from DESC LIMIT 1",
        day
    )
    .fetch_optional(conn)
    .await
}

/// The next application number in `year`: `SA-2026-0007`.
pub async fn next_number(conn: &mut PgConnection, year: i32) -> Result<String, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar!(r#"SELECT nextval('authorization_application_numbers') AS "n!""#).fetch_one(conn).await?;
    Ok(format!("SA-{year}-{n:04}"))
}

/// An application's row as read.
struct Row {
    id: ApplicationId,
    number: String,
    applicant_id: PartyId,
    applicant_name: String,
    summary: String,
    parties_and_owners: String,
    foreign_items: String,
    vehicles: String,
    vcs_function: String,
    analyses: String,
    access_cutoff: String,
    security_standards: String,
    proposed_mitigation: String,
    filed_on: Date,
    status: ApplicationStatus,
    complete_on: Option<Date>,
    paused_days: i64,
    paused_since: Option<Date>,
    last_act_on: Date,
    version: i64,
    received_at: OffsetDateTime,
}

impl From<Row> for Application {
    fn from(r: Row) -> Application {
        Application {
            id: r.id,
            number: r.number,
            applicant_id: r.applicant_id,
            applicant_name: r.applicant_name,
            summary: r.summary,
            contents: Contents {
                parties_and_owners: r.parties_and_owners,
                foreign_items: r.foreign_items,
                vehicles: r.vehicles,
                vcs_function: r.vcs_function,
                analyses: r.analyses,
                access_cutoff: r.access_cutoff,
                security_standards: r.security_standards,
                proposed_mitigation: r.proposed_mitigation,
            },
            filed_on: r.filed_on,
            status: r.status,
            complete_on: r.complete_on,
            paused_days: r.paused_days,
            paused_since: r.paused_since,
            last_act_on: r.last_act_on,
            version: r.version,
            received_at: r.received_at,
        }
    }
}

/// An application's columns, with its applicant's name.
macro_rules! select_applications {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Row,
            r#"SELECT a.id AS "id: ApplicationId", a.number, a.applicant_id AS "applicant_id: PartyId",
                 p.legal_name AS applicant_name, a.summary, a.parties_and_owners, a.foreign_items, a.vehicles,
                 a.vcs_function, a.analyses, a.access_cutoff, a.security_standards, a.proposed_mitigation, a.filed_on,
                 a.status AS "status: ApplicationStatus", a.complete_on, a.paused_days, a.paused_since, a.last_act_on,
                 a.version, a.received_at
               FROM authorization_applications a JOIN parties p ON p.id = a.applicant_id "# + $rest
            $(, $arg)*
        )
    };
}

/// An application to insert, checked.
pub struct NewRow<'a> {
    pub id: ApplicationId,
    pub number: &'a str,
    pub applicant: PartyId,
    pub summary: &'a str,
    pub contents: &'a Contents,
    pub filed_on: Date,
    pub via: &'static str,
}

/// Inserts an application, received.
pub async fn insert(conn: &mut PgConnection, a: &NewRow<'_>, (by, at): (UserId, OffsetDateTime)) -> sqlx::Result<()> {
    let c = a.contents;
    sqlx::query!(
        "INSERT INTO authorization_applications (id, number, applicant_id, summary, parties_and_owners, foreign_items, \
           vehicles, vcs_function, analyses, access_cutoff, security_standards, proposed_mitigation, filed_on, via, \
           last_act_on, received_at, received_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $15, $16, $15)",
        a.id.0,
        a.number,
        a.applicant.0,
        a.summary,
        c.parties_and_owners,
        c.foreign_items,
        c.vehicles,
        c.vcs_function,
        c.analyses,
        c.access_cutoff,
        c.security_standards,
        c.proposed_mitigation,
        a.filed_on,
        a.via,
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
    pub answers: Option<i64>,
    pub condition_seq: Option<i64>,
}

/// Records an act of application `id`; its `seq`.
pub async fn insert_act(
    conn: &mut PgConnection,
    id: ApplicationId,
    a: &NewActRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<i64> {
    let items: Vec<String> = a.items.iter().map(|i| i.as_str().to_string()).collect();
    sqlx::query_scalar!(
        "INSERT INTO authorization_acts (application_id, kind, effective_on, items, note, answers, condition_seq, \
           recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
        id.0,
        a.kind as ActKind,
        a.effective_on,
        &items,
        a.note,
        a.answers,
        a.condition_seq,
        at,
        by.0,
    )
    .fetch_one(conn)
    .await
}

/// Where an application stands after an act.
pub struct Standing {
    pub status: ApplicationStatus,
    pub complete_on: Option<Date>,
    pub paused_days: i64,
    pub paused_since: Option<Date>,
    pub last_act_on: Date,
}

impl Standing {
    /// Application `a` as it stands.
    pub fn of(a: &Application) -> Standing {
        Standing {
            status: a.status,
            complete_on: a.complete_on,
            paused_days: a.paused_days,
            paused_since: a.paused_since,
            last_act_on: a.last_act_on,
        }
    }
}

/// Moves application `id` from `version` to where an act left it, with its contents;
/// `false` when it changed meanwhile.
pub async fn set_standing(
    conn: &mut PgConnection,
    id: ApplicationId,
    version: i64,
    s: &Standing,
    c: &Contents,
    at: OffsetDateTime,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE authorization_applications SET status = $3, complete_on = $4, paused_days = $5, paused_since = $6, \
           last_act_on = $7, parties_and_owners = $8, foreign_items = $9, vehicles = $10, vcs_function = $11, \
           analyses = $12, access_cutoff = $13, security_standards = $14, proposed_mitigation = $15, \
           version = version + 1, updated_at = $16 WHERE id = $1 AND version = $2",
        id.0,
        version,
        s.status as ApplicationStatus,
        s.complete_on,
        s.paused_days,
        s.paused_since,
        s.last_act_on,
        c.parties_and_owners,
        c.foreign_items,
        c.vehicles,
        c.vcs_function,
        c.analyses,
        c.access_cutoff,
        c.security_standards,
        c.proposed_mitigation,
        at,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An application.
pub async fn get(conn: &mut PgConnection, id: ApplicationId) -> sqlx::Result<Option<Application>> {
    Ok(select_applications!("WHERE a.id = $1", id.0).fetch_optional(conn).await?.map(Application::from))
}

/// An application, locked for an act.
pub async fn lock(conn: &mut PgConnection, id: ApplicationId) -> sqlx::Result<Option<Application>> {
    Ok(select_applications!("WHERE a.id = $1 FOR UPDATE OF a", id.0).fetch_optional(conn).await?.map(Application::from))
}

/// The office's targets to decide: each with the day it took effect, earliest first.
pub async fn targets(conn: &mut PgConnection) -> Result<Vec<(Date, i64)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT effective_from, days FROM authorization_targets ORDER BY effective_from")
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.effective_from, r.days))
        .collect())
}

/// What the list shows: its filters, and where the page starts.
pub type Filter = crate::filings::ListFilter<ApplicationStatus>;

/// A page of the application list, one row more when more follow (see [`Keyset`]).
pub async fn page(conn: &mut PgConnection, f: &Filter) -> sqlx::Result<Vec<Application>> {
    let rows = select_applications!(
        r#"WHERE ($1::text IS NULL OR a.status = $1) AND ($2::uuid IS NULL OR a.applicant_id = $2)
             AND ($3::text IS NULL OR a.number ILIKE $3 OR p.legal_name ILIKE $3 OR a.summary ILIKE $3)
             AND ($4::timestamptz IS NULL
                  OR CASE WHEN $6::boolean THEN (a.received_at, a.id) > ($4, $5::uuid)
                          ELSE (a.received_at, a.id) < ($4, $5::uuid) END)
           ORDER BY CASE WHEN $6 THEN a.received_at END, CASE WHEN $6 THEN a.id END,
                    a.received_at DESC, a.id DESC
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
    Ok(rows.into_iter().map(Application::from).collect())
}

/// How many applications match `f`'s filters, counted up to [`crate::db::Total::CAP`].
pub async fn count(conn: &mut PgConnection, f: &Filter) -> sqlx::Result<crate::db::Total> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM authorization_applications a JOIN parties p ON p.id = a.applicant_id
             WHERE ($1::text IS NULL OR a.status = $1) AND ($2::uuid IS NULL OR a.applicant_id = $2)
               AND ($3::text IS NULL OR a.number ILIKE $3 OR p.legal_name ILIKE $3 OR a.summary ILIKE $3)
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

/// The applications of `applicant`, newest first; at most `limit`.
pub async fn of_applicant(conn: &mut PgConnection, applicant: PartyId, limit: i64) -> sqlx::Result<Vec<Application>> {
    let rows = select_applications!(
        "WHERE a.applicant_id = $1 ORDER BY a.received_at DESC, a.id DESC LIMIT $2",
        applicant.0,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Application::from).collect())
}

/// The applications whose number, applicant or transaction holds `q`, newest first; at
/// most `limit`.
pub async fn search(conn: &mut PgConnection, q: &str, limit: i64) -> sqlx::Result<Vec<Application>> {
    let rows = select_applications!(
        "WHERE a.number ILIKE $1 OR p.legal_name ILIKE $1 OR a.summary ILIKE $1 \
         ORDER BY a.received_at DESC, a.id DESC LIMIT $2",
        crate::db::contains_pattern(q),
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Application::from).collect())
}

/// An application's acts, in the order recorded.
pub async fn acts(conn: &mut PgConnection, id: ApplicationId) -> sqlx::Result<Vec<ActRow>> {
    sqlx::query_as!(
        ActRow,
        r#"SELECT a.seq, a.kind AS "kind: ActKind", a.effective_on, a.items, a.note, a.answers, a.condition_seq,
             a.recorded_at, u.name AS recorded_by
           FROM authorization_acts a JOIN users u ON u.id = a.recorded_by WHERE a.application_id = $1 ORDER BY a.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// An application's decisions, the latest first, each with its conditions.
pub async fn decisions(conn: &mut PgConnection, id: ApplicationId) -> sqlx::Result<Vec<Decision>> {
    let rows = sqlx::query!(
        r#"SELECT d.id AS "id: DecisionId", d.outcome AS "outcome: Outcome", d.reasons,
             d.assessment AS "assessment: Json<Assessment>", d.revision, d.drafted_by AS "drafted_by: UserId",
             du.name AS drafted_by_name, d.drafted_at, su.name AS "signed_by_name?", d.signed_on, d.content_sha256
           FROM authorization_decisions d JOIN users du ON du.id = d.drafted_by
             LEFT JOIN users su ON su.id = d.signed_by
           WHERE d.application_id = $1 ORDER BY d.drafted_at DESC, d.id DESC"#,
        id.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let conditions = conditions(&mut *conn, r.id).await?;
        out.push(Decision {
            id: r.id,
            outcome: r.outcome,
            reasons: r.reasons,
            assessment: r.assessment.0,
            revision: r.revision,
            drafted_by: r.drafted_by,
            drafted_by_name: r.drafted_by_name,
            drafted_at: r.drafted_at,
            signed_by_name: r.signed_by_name,
            signed_on: r.signed_on,
            content_sha256: r.content_sha256.map(hex::encode),
            conditions,
        });
    }
    Ok(out)
}

/// A decision's conditions, in order.
async fn conditions(conn: &mut PgConnection, id: DecisionId) -> sqlx::Result<Vec<Condition>> {
    sqlx::query_as!(
        Condition,
        r#"SELECT c.seq, c.description, c.owner, c.due_on, c.assessor_id AS "assessor_id: PartyId",
             p.legal_name AS "assessor_name?", c.status AS "status: MeasureStatus", c.evidence, c.checked_on
           FROM authorization_conditions c LEFT JOIN parties p ON p.id = c.assessor_id
           WHERE c.decision_id = $1 ORDER BY c.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// A decision's draft to write.
pub struct DraftRow<'a> {
    pub outcome: Outcome,
    pub reasons: &'a str,
    pub assessment: &'a Assessment,
}

/// A condition to write with a draft.
pub struct ConditionRow<'a> {
    pub description: &'a str,
    pub owner: &'a str,
    pub due_on: Option<Date>,
    pub assessor: Option<PartyId>,
}

/// Writes the unsigned draft of application `id`: a new one, or the existing draft
/// revised (its conditions replaced). The draft's id.
pub async fn write_draft(
    conn: &mut PgConnection,
    id: ApplicationId,
    d: &DraftRow<'_>,
    conditions: &[ConditionRow<'_>],
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<DecisionId> {
    let existing = sqlx::query_scalar!(
        r#"SELECT id AS "id: DecisionId" FROM authorization_decisions WHERE application_id = $1 AND signed_by IS NULL
           FOR UPDATE"#,
        id.0
    )
    .fetch_optional(&mut *conn)
    .await?;
    let decision = match existing {
        Some(did) => {
            sqlx::query!(
                "UPDATE authorization_decisions SET outcome = $2, reasons = $3, assessment = $4, revision = revision + 1, \
                   drafted_by = $5, drafted_at = $6 WHERE id = $1",
                did.0,
                d.outcome as Outcome,
                d.reasons,
                Json(d.assessment) as _,
                by.0,
                at,
            )
            .execute(&mut *conn)
            .await?;
            sqlx::query!("DELETE FROM authorization_conditions WHERE decision_id = $1", did.0)
                .execute(&mut *conn)
                .await?;
            did
        }
        None => {
            let did = DecisionId::new();
            sqlx::query!(
                "INSERT INTO authorization_decisions (id, application_id, outcome, reasons, assessment, drafted_by, \
                   drafted_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                did.0,
                id.0,
                d.outcome as Outcome,
                d.reasons,
                Json(d.assessment) as _,
                by.0,
                at,
            )
            .execute(&mut *conn)
            .await?;
            did
        }
    };
    for (i, c) in conditions.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO authorization_conditions (decision_id, seq, description, owner, due_on, assessor_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            decision.0,
            i as i64 + 1,
            c.description,
            c.owner,
            c.due_on,
            c.assessor.map(|p| p.0),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(decision)
}

/// Signs draft `id` with the hash it covers; its conditions are agreed. `false` when it
/// was signed meanwhile.
pub async fn sign(
    conn: &mut PgConnection,
    id: DecisionId,
    hash: &[u8; 32],
    (by, at, reauth_at): (UserId, OffsetDateTime, OffsetDateTime),
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "UPDATE authorization_decisions SET signed_by = $2, signed_at = $3, signed_on = $4, reauth_at = $5, \
           content_sha256 = $6 WHERE id = $1 AND signed_by IS NULL",
        id.0,
        by.0,
        at,
        crate::dates::today(at),
        reauth_at,
        &hash[..],
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE authorization_conditions SET status = $2 WHERE decision_id = $1",
        id.0,
        MeasureStatus::Agreed as MeasureStatus
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// Records a condition's check on its decision.
pub async fn check_condition(
    conn: &mut PgConnection,
    decision: DecisionId,
    seq: i64,
    (status, evidence, on): (MeasureStatus, &str, Date),
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE authorization_conditions SET status = $3, evidence = $4, checked_on = $5 WHERE decision_id = $1 AND seq = $2",
        decision.0,
        seq,
        status as MeasureStatus,
        evidence,
        on,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The applications' counts for a home page on `today`, with the office's target in days.
pub async fn work(conn: &mut PgConnection, today: Date, target_days: i64) -> sqlx::Result<AuthorizationWork> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'received') AS "to_check!",
             count(*) FILTER (WHERE status IN ('under_review', 'questions_asked', 'reopened')) AS "in_review!",
             count(*) FILTER (WHERE status IN ('under_review', 'reopened')
               AND complete_on + ($2::bigint + paused_days)::int < $1) AS "past_target!"
           FROM authorization_applications"#,
        today,
        target_days
    )
    .fetch_one(&mut *conn)
    .await?;
    let s = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM authorization_decisions WHERE signed_by IS NULL) AS "to_sign!",
             (SELECT count(*) FROM authorization_conditions c JOIN authorization_decisions d ON d.id = c.decision_id
               WHERE d.signed_by IS NOT NULL AND c.status IN ('agreed', 'implemented') AND c.due_on < $1) AS "due!""#,
        today
    )
    .fetch_one(conn)
    .await?;
    Ok(AuthorizationWork {
        to_check: r.to_check,
        in_review: r.in_review,
        past_target: r.past_target,
        to_sign: s.to_sign,
        conditions_due: s.due,
    })
}
