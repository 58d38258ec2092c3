//! The proceedings' SQL reads.

use uuid::Uuid;

use super::model::{AgencyNotice, Submission};
use crate::error::DomainError;

/// The notices of a case.
pub async fn notices(conn: &mut sqlx::PgConnection, case_id: Uuid) -> Result<Vec<AgencyNotice>, DomainError> {
    sqlx::query_as("SELECT * FROM agency_notices WHERE case_id = $1 ORDER BY step, sent_on, agency")
        .bind(case_id)
        .fetch_all(conn)
        .await
        .map_err(DomainError::from)
}

/// The submissions of a case.
pub async fn submissions(conn: &mut sqlx::PgConnection, case_id: Uuid) -> Result<Vec<Submission>, DomainError> {
    Ok(sqlx::query_as(
        "SELECT id, case_id, party_id, received_on, kind, summary, meeting_held_on, meeting_outcome, created_at \
         FROM case_submissions WHERE case_id = $1 ORDER BY received_on, created_at",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await?)
}
