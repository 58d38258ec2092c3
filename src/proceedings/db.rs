//! The proceedings' SQL, checked against the schema at compile time.

use crate::ids::{CaseId, NoticeId, PartyId, SubmissionId, UserId};
use time::{Date, OffsetDateTime};

use super::model::{AgencyAnswer, AgencyNotice, NoticeStep, Submission, SubmissionKind};
use crate::error::DomainError;

/// The notices of a case, by step and date.
pub async fn notices(conn: &mut sqlx::PgConnection, case_id: CaseId) -> Result<Vec<AgencyNotice>, DomainError> {
    Ok(sqlx::query_as!(
        AgencyNotice,
        r#"SELECT id AS "id: NoticeId", case_id, step AS "step: NoticeStep", agency, sent_on, due_on,
         response AS "response: AgencyAnswer", responded_on, comment, objector_level,
         referred_to_president, dispute_resolved_on, dispute_resolution, version
         FROM agency_notices WHERE case_id = $1 ORDER BY step, sent_on, agency"#,
        case_id.0,
    )
    .fetch_all(conn)
    .await?)
}

/// One notice, locked for the caller's transaction when `lock`.
pub async fn notice(
    conn: &mut sqlx::PgConnection,
    id: NoticeId,
    lock: bool,
) -> Result<Option<AgencyNotice>, sqlx::Error> {
    if lock {
        sqlx::query_as!(
            AgencyNotice,
            r#"SELECT id AS "id: NoticeId", case_id, step AS "step: NoticeStep", agency, sent_on, due_on,
         response AS "response: AgencyAnswer", responded_on, comment, objector_level,
             referred_to_president, dispute_resolved_on, dispute_resolution, version
             FROM agency_notices WHERE id = $1 FOR UPDATE"#,
            id.0,
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as!(
            AgencyNotice,
            r#"SELECT id AS "id: NoticeId", case_id, step AS "step: NoticeStep", agency, sent_on, due_on,
         response AS "response: AgencyAnswer", responded_on, comment, objector_level,
             referred_to_president, dispute_resolved_on, dispute_resolution, version
             FROM agency_notices WHERE id = $1"#,
            id.0,
        )
        .fetch_optional(conn)
        .await
    }
}

/// The submissions of a case, in the order they were received.
pub async fn submissions(conn: &mut sqlx::PgConnection, case_id: CaseId) -> Result<Vec<Submission>, DomainError> {
    Ok(sqlx::query_as!(
        Submission,
        "SELECT id AS \"id: SubmissionId\", case_id, party_id AS \"party_id: PartyId\", received_on, kind AS \"kind: SubmissionKind\", summary, meeting_held_on, meeting_outcome, created_at \
         FROM case_submissions WHERE case_id = $1 ORDER BY received_on, created_at",
        case_id.0,
    )
    .fetch_all(conn)
    .await?)
}

/// How the initial determination was served on a case: method, date, recorded by.
pub async fn services(
    conn: &mut sqlx::PgConnection,
    case_id: CaseId,
) -> Result<Vec<(String, time::Date, String)>, DomainError> {
    Ok(sqlx::query!(
        "SELECT s.method, s.served_on, u.name FROM case_services s JOIN users u ON u.id = s.recorded_by WHERE s.case_id = $1 ORDER BY s.served_on",
        case_id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.method, r.served_on, r.name))
    .collect())
}

/// Whether `submission` is one of the case's (what a measure or a document refers to).
pub async fn is_submission_of(
    conn: &mut sqlx::PgConnection,
    submission: SubmissionId,
    case_id: CaseId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM case_submissions WHERE id = $1 AND case_id = $2) AS "exists!""#,
        submission.0,
        case_id.0,
    )
    .fetch_one(conn)
    .await
}

/// A party served with the initial determination and the date of its first written
/// response since service, if any.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServedParty {
    pub party_id: PartyId,
    pub name: String,
    pub answered_on: Option<time::Date>,
}

/// The parties to the transaction linked to a case (supplier, US counterparty): the ones
/// the initial determination is served on, each with its first written response.
pub async fn served_parties(conn: &mut sqlx::PgConnection, case_id: CaseId) -> Result<Vec<ServedParty>, sqlx::Error> {
    sqlx::query_as!(
        ServedParty,
        r#"SELECT p.id AS "party_id: PartyId", p.legal_name AS name,
             (SELECT min(s.received_on) FROM case_submissions s JOIN cases c ON c.id = s.case_id
               WHERE s.case_id = $1 AND s.party_id = p.id AND s.kind = 'written_response'
               AND s.received_on >= c.served_on) AS answered_on
           FROM parties p WHERE p.id IN (SELECT party_id FROM case_parties
             WHERE case_id = $1 AND role IN ('supplier', 'us_counterparty'))
           ORDER BY p.legal_name"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// The emergency deviations recorded on a case: date, justification, who recorded it.
pub async fn deviations(
    conn: &mut sqlx::PgConnection,
    case_id: CaseId,
) -> Result<Vec<(time::Date, String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT d.decided_on, d.justification, u.name FROM case_deviations d JOIN users u ON u.id = d.recorded_by \
         WHERE d.case_id = $1 ORDER BY d.decided_on, d.recorded_at",
        case_id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.decided_on, r.justification, r.name))
    .collect())
}

/// Whether `code` is a known agency code.
pub async fn agency_exists(conn: &mut sqlx::PgConnection, code: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM ref_agencies WHERE code = $1) AS "v!""#, code,)
        .fetch_one(conn)
        .await
}

/// Records a notice sent to an agency on `sent`, due on `due`, by `by` at `at`; `false`
/// when the agency has one already for the step.
pub async fn insert_notice(
    conn: &mut sqlx::PgConnection,
    id: NoticeId,
    case_id: CaseId,
    step: NoticeStep,
    agency: &str,
    (sent, due): (Date, Date),
    (by, at): (UserId, OffsetDateTime),
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "INSERT INTO agency_notices (id, case_id, step, agency, sent_on, due_on, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id, step, agency) DO NOTHING",
        id.0,
        case_id.0,
        step.as_str(),
        agency,
        sent,
        due,
        by.0,
        at
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted != 0)
}

/// An agency's response to a notice, as recorded.
pub struct ResponseRow<'a> {
    pub response: AgencyAnswer,
    pub responded_on: Option<Date>,
    pub comment: &'a str,
    pub objector_level: &'a Option<String>,
    pub referred_to_president: Option<Date>,
    pub dispute_resolved_on: Option<Date>,
    pub dispute_resolution: &'a Option<String>,
}

/// Records an agency's response on a notice, and its version on.
pub async fn set_response(conn: &mut sqlx::PgConnection, id: NoticeId, r: &ResponseRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE agency_notices SET response = $2, responded_on = $3, comment = $4, objector_level = $5, \
         referred_to_president = $6, dispute_resolved_on = $7, dispute_resolution = $8, version = version + 1 WHERE id = $1",
        id.0,
        r.response.as_str(),
        r.responded_on,
        r.comment,
        r.objector_level as _,
        r.referred_to_president,
        r.dispute_resolved_on,
        r.dispute_resolution as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `party` is linked to the case.
pub async fn is_party_of(conn: &mut sqlx::PgConnection, case_id: CaseId, party: PartyId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM case_parties WHERE case_id = $1 AND party_id = $2) AS "v!""#,
        case_id.0,
        party.0,
    )
    .fetch_one(conn)
    .await
}

/// A submission to insert.
pub struct NewSubmissionRow<'a> {
    pub id: SubmissionId,
    pub case_id: CaseId,
    pub party_id: Option<PartyId>,
    pub received_on: Date,
    pub kind: SubmissionKind,
    pub summary: &'a str,
}

/// Records a submission, by `by` at `at`.
pub async fn insert_submission(
    conn: &mut sqlx::PgConnection,
    s: &NewSubmissionRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_submissions (id, case_id, party_id, received_on, kind, summary, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        s.id.0,
        s.case_id.0,
        s.party_id as _,
        s.received_on,
        s.kind.as_str(),
        s.summary,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the date the case's parties first responded, and the case's version on.
pub async fn set_response_received(
    conn: &mut sqlx::PgConnection,
    case_id: CaseId,
    on: Date,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET response_received_on = $2, version = version + 1, updated_at = $3 WHERE id = $1",
        case_id.0,
        on,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A submission's case, kind and date received, locked for the caller's transaction.
pub async fn lock_submission(
    conn: &mut sqlx::PgConnection,
    id: SubmissionId,
) -> Result<Option<(CaseId, String, Date)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT case_id AS "case_id: CaseId", kind, received_on FROM case_submissions WHERE id = $1 FOR UPDATE"#,
        id.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.case_id, r.kind, r.received_on)))
}

/// Records the date and outcome of the meeting a submission requested.
pub async fn set_meeting(
    conn: &mut sqlx::PgConnection,
    id: SubmissionId,
    held: Date,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE case_submissions SET meeting_held_on = $2, meeting_outcome = $3 WHERE id = $1",
        id.0,
        held,
        outcome
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an emergency deviation on a case, decided `on` with its justification, by `by`
/// at `at`.
pub async fn insert_deviation(
    conn: &mut sqlx::PgConnection,
    id: uuid::Uuid,
    case_id: CaseId,
    on: Date,
    justification: &str,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_deviations (id, case_id, decided_on, justification, recorded_by, recorded_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
        id,
        case_id.0,
        on,
        justification,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the date the case's served parties had all responded, and the case's version on.
pub async fn set_response_complete(
    conn: &mut sqlx::PgConnection,
    case_id: CaseId,
    on: Date,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET response_complete_on = $2, updated_at = $3, version = version + 1 WHERE id = $1",
        case_id.0,
        on,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
