//! Determinations' reads for the pages, checked against the schema at compile time.

use crate::ids::CaseId;
use crate::ids::UserId;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// How many submitted drafts await a signature that `supervisor` may give (not their own).
pub async fn awaiting_signature_of(conn: &mut PgConnection, supervisor: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM determinations WHERE status = 'submitted' AND drafted_by <> $1"#,
        supervisor.0
    )
    .fetch_one(conn)
    .await
}

/// How many of `drafter`'s drafts were returned to them.
pub async fn returned_to(conn: &mut PgConnection, drafter: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM determinations WHERE status = 'returned' AND drafted_by = $1"#,
        drafter.0
    )
    .fetch_one(conn)
    .await
}

/// The score of the assessment a determination rests on: composite, band, when, rubric.
pub async fn assessment_summary(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(f64, String, OffsetDateTime, i32)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT composite::float8 AS "composite!", band::text AS "band!", created_at, rubric_version FROM assessments WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.composite, r.band, r.created_at, r.rubric_version)))
}

/// The name of a case's first party (by role), for a new draft's title.
pub async fn first_party_name(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT p.legal_name FROM case_parties cp JOIN parties p ON p.id = cp.party_id WHERE cp.case_id = $1 ORDER BY cp.role LIMIT 1",
        case_id.0
    )
    .fetch_optional(conn)
    .await
}
