//! Determinations' reads for the pages, checked against the schema at compile time.

use crate::ids::{AssessmentId, CaseId, DeterminationId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;

/// The title and authority `signer` stated at their last signature in the system.
pub async fn last_statement(conn: &mut PgConnection, signer: UserId) -> Result<Option<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT signer_title AS "title!", signer_authority AS "authority!" FROM determinations
           WHERE signed_by = $1 AND signer_title IS NOT NULL AND signer_authority IS NOT NULL
           ORDER BY signed_at DESC LIMIT 1"#,
        signer.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.title, r.authority)))
}

/// The score of the assessment a determination rests on: composite, band, when, rubric.
pub async fn assessment_summary(
    conn: &mut PgConnection,
    id: AssessmentId,
) -> Result<Option<(f64, String, OffsetDateTime, i32)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT composite::float8 AS "composite!", band::text AS "band!", created_at, rubric_version FROM assessments WHERE id = $1"#,
        id.0
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

/// The sendings of a determination, in the order they were sent.
pub async fn sendings(conn: &mut PgConnection, id: DeterminationId) -> Result<Vec<super::Sending>, sqlx::Error> {
    sqlx::query_as!(
        super::Sending,
        r#"SELECT id, recipient, recipient_kind AS "recipient_kind: super::RecipientKind",
             method AS "method: super::SendingMethod", sent_on
           FROM determination_sendings WHERE determination_id = $1 ORDER BY sent_on, recorded_at, id"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// The Federal Register publication of a determination, if recorded.
pub async fn publication(
    conn: &mut PgConnection,
    id: DeterminationId,
) -> Result<Option<super::Publication>, sqlx::Error> {
    sqlx::query_as!(
        super::Publication,
        "SELECT published_on, citation, document_number FROM determination_publications WHERE determination_id = $1",
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// The Federal Register publications of a case's determinations: citation and date.
pub async fn publications_of_case(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Vec<super::Publication>, sqlx::Error> {
    sqlx::query_as!(
        super::Publication,
        "SELECT p.published_on, p.citation, p.document_number FROM determination_publications p \
         JOIN determinations d ON d.id = p.determination_id WHERE d.case_id = $1 ORDER BY p.published_on",
        case_id.0
    )
    .fetch_all(conn)
    .await
}
