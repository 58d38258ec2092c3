//! The proceedings' SQL reads, checked against the schema at compile time.

use crate::ids::CaseId;
use crate::ids::PartyId;
use uuid::Uuid;

use super::model::{AgencyNotice, Submission};
use crate::error::DomainError;

/// The notices of a case, by step and date.
pub async fn notices(conn: &mut sqlx::PgConnection, case_id: CaseId) -> Result<Vec<AgencyNotice>, DomainError> {
    Ok(sqlx::query_as!(
        AgencyNotice,
        "SELECT id, case_id, step, agency, sent_on, due_on, response, responded_on, comment, objector_level, \
         referred_to_president, dispute_resolved_on, dispute_resolution, version \
         FROM agency_notices WHERE case_id = $1 ORDER BY step, sent_on, agency",
        case_id.0,
    )
    .fetch_all(conn)
    .await?)
}

/// The submissions of a case, in the order they were received.
pub async fn submissions(conn: &mut sqlx::PgConnection, case_id: CaseId) -> Result<Vec<Submission>, DomainError> {
    Ok(sqlx::query_as!(
        Submission,
        "SELECT id, case_id, party_id AS \"party_id: PartyId\", received_on, kind, summary, meeting_held_on, meeting_outcome, created_at \
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
    submission: Uuid,
    case_id: CaseId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM case_submissions WHERE id = $1 AND case_id = $2) AS "exists!""#,
        submission,
        case_id.0,
    )
    .fetch_one(conn)
    .await
}
