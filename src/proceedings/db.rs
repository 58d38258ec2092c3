//! The proceedings' SQL reads, checked against the schema at compile time.

use crate::ids::{CaseId, NoticeId, PartyId, SubmissionId};

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
