//! Risk's SQL: rubric versions, assessments, band overrides and nexus findings, checked
//! against the schema at compile time.

use crate::ids::{AssessmentId, CaseId, FindingId, OverrideId, UserId};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use super::model::{Band, Override};
use crate::cases::workflow::Answer;

/// A rubric version as stored: its definition still JSON.
pub struct RubricRow {
    pub version: i32,
    pub name: String,
    pub definition: serde_json::Value,
}

/// A rubric version.
pub async fn rubric(conn: &mut PgConnection, version: i32) -> Result<Option<RubricRow>, sqlx::Error> {
    sqlx::query_as!(RubricRow, "SELECT version, name, definition FROM rubric_versions WHERE version = $1", version)
        .fetch_optional(conn)
        .await
}

/// The number of the newest rubric version.
pub async fn newest_rubric_version(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT max(version) AS "v!" FROM rubric_versions"#).fetch_one(conn).await
}

/// Takes the lock that numbers rubric versions, until the caller's transaction ends.
pub async fn lock_rubric_numbering(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('rubric_versions'))").execute(conn).await?;
    Ok(())
}

/// The number the next rubric version takes.
pub async fn next_rubric_version(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT coalesce(max(version), 0) + 1 AS "v!" FROM rubric_versions"#).fetch_one(conn).await
}

/// Inserts a rubric version, created by `by` at `at`.
pub async fn insert_rubric(
    conn: &mut PgConnection,
    version: i32,
    name: &str,
    definition: serde_json::Value,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO rubric_versions (version, name, definition, created_by, created_at) VALUES ($1,$2,$3,$4,$5)",
        version,
        name,
        definition,
        by.0,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An assessment as stored: its scores and contributions still JSON, with its author's name.
pub struct AssessmentRow {
    pub id: AssessmentId,
    pub case_id: CaseId,
    pub rubric_version: i32,
    pub connected_software: bool,
    pub scores: serde_json::Value,
    pub contributions: serde_json::Value,
    pub composite: f64,
    pub band: Band,
    pub narrative: String,
    pub author: UserId,
    pub author_name: String,
    pub created_at: OffsetDateTime,
}

/// The assessments of a case, newest first.
pub async fn assessments(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    sqlx::query_as!(
        AssessmentRow,
        r#"SELECT a.id AS "id: AssessmentId", a.case_id AS "case_id: CaseId", a.rubric_version, a.connected_software, a.scores,
         a.contributions, a.composite::float8 AS "composite!", a.band AS "band: Band", a.narrative, a.author AS "author: UserId",
         u.name AS author_name, a.created_at FROM assessments a JOIN users u ON u.id = a.author
         WHERE a.case_id = $1 ORDER BY a.created_at DESC, a.id DESC"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// The band overrides of a case's assessments, in the order they were proposed.
pub async fn overrides_of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Override>, sqlx::Error> {
    sqlx::query_as!(
        Override,
        r#"SELECT o.id AS "id: OverrideId", o.assessment_id AS "assessment_id: AssessmentId", o.proposed_band AS "proposed_band: Band",
         o.justification, o.proposed_by AS "proposed_by: UserId", o.decided_by AS "decided_by: UserId", o.approved
         FROM band_overrides o JOIN assessments a ON a.id = o.assessment_id WHERE a.case_id = $1 ORDER BY o.proposed_at"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// Whether a category covers connected software; `false` for an unknown category.
pub async fn connected_software(conn: &mut PgConnection, category: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT connected_software FROM ref_categories WHERE code = $1", category)
        .fetch_optional(conn)
        .await?
        .unwrap_or(false))
}

/// The version of the newest screening list, if one was imported.
pub async fn screening_list_version(conn: &mut PgConnection) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar!("SELECT max(version) FROM screening_lists").fetch_one(conn).await
}

/// An assessment to insert.
pub struct NewAssessment<'a> {
    pub id: AssessmentId,
    pub case_id: CaseId,
    pub rubric_version: i32,
    pub connected_software: bool,
    pub scores: serde_json::Value,
    pub contributions: serde_json::Value,
    pub composite: f64,
    pub band: Band,
    pub narrative: &'a str,
    /// The screening-list version the assessment saw.
    pub screening_list_version: Option<i32>,
    pub assessed_on: Date,
}

/// Inserts an assessment, written by `by` at `at`.
pub async fn insert_assessment(
    conn: &mut PgConnection,
    a: NewAssessment<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO assessments (id, case_id, rubric_version, connected_software, scores, contributions, composite, band, narrative, author, created_at, \
         screening_list_version, assessed_on) VALUES ($1,$2,$3,$4,$5,$6,$7::float8::numeric,$8,$9,$10,$11,$12,$13)",
        a.id.0,
        a.case_id.0,
        a.rubric_version,
        a.connected_software,
        a.scores,
        a.contributions,
        a.composite,
        a.band as _,
        a.narrative,
        by.0,
        at,
        a.screening_list_version,
        a.assessed_on,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The case of an assessment.
pub async fn case_of_assessment(conn: &mut PgConnection, id: AssessmentId) -> Result<Option<CaseId>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT case_id AS "case_id: CaseId" FROM assessments WHERE id = $1"#, id.0)
        .fetch_optional(conn)
        .await
}

/// Inserts a proposed band override, by `by` at `at`. A unique violation says another
/// override of the assessment is awaiting a decision.
pub async fn insert_override(
    conn: &mut PgConnection,
    id: OverrideId,
    assessment_id: AssessmentId,
    band: Band,
    justification: &str,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO band_overrides (id, assessment_id, proposed_band, justification, proposed_by, proposed_at) VALUES ($1,$2,$3,$4,$5,$6)",
        id.0,
        assessment_id.0,
        band as _,
        justification,
        by.0,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A band override to decide: its case, proposer, decider (if decided) and band.
pub struct OverrideToDecide {
    pub case_id: CaseId,
    pub proposed_by: UserId,
    pub decided_by: Option<UserId>,
    pub proposed_band: Band,
}

/// A band override, locked for the caller's transaction.
pub async fn lock_override(conn: &mut PgConnection, id: OverrideId) -> Result<Option<OverrideToDecide>, sqlx::Error> {
    sqlx::query_as!(
        OverrideToDecide,
        r#"SELECT a.case_id AS "case_id: CaseId", o.proposed_by AS "proposed_by: UserId", o.decided_by AS "decided_by: UserId",
         o.proposed_band AS "proposed_band: Band"
         FROM band_overrides o JOIN assessments a ON a.id = o.assessment_id WHERE o.id = $1 FOR UPDATE OF o"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// Records the decision on a band override, by `by` at `at`, with its comment.
pub async fn decide_override(
    conn: &mut PgConnection,
    id: OverrideId,
    approve: bool,
    comment: &str,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE band_overrides SET decided_by = $2, decided_at = $3, approved = $4, decision_comment = $5 WHERE id = $1",
        id.0,
        by.0,
        at,
        approve,
        comment,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A nexus finding as stored: its criteria still JSON.
pub struct NexusRow {
    pub id: FindingId,
    pub criteria: serde_json::Value,
    pub conclusion: Answer,
    pub summary: String,
    pub author: UserId,
    pub created_at: OffsetDateTime,
}

/// The latest nexus finding of a case.
pub async fn latest_nexus(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<NexusRow>, sqlx::Error> {
    sqlx::query_as!(
        NexusRow,
        r#"SELECT id AS "id: FindingId", criteria, conclusion AS "conclusion: Answer", summary, author AS "author: UserId", created_at
         FROM nexus_findings WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"#,
        case_id.0
    )
    .fetch_optional(conn)
    .await
}

/// A nexus finding to insert.
pub struct NewNexus<'a> {
    pub id: FindingId,
    pub case_id: CaseId,
    pub criteria: serde_json::Value,
    pub conclusion: Answer,
    pub summary: &'a str,
    pub found_on: Date,
}

/// Inserts a nexus finding, written by `by` at `at`.
pub async fn insert_nexus(
    conn: &mut PgConnection,
    n: NewNexus<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO nexus_findings (id, case_id, criteria, conclusion, summary, author, created_at, found_on) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        n.id.0,
        n.case_id.0,
        n.criteria,
        n.conclusion as _,
        n.summary,
        by.0,
        at,
        n.found_on,
    )
    .execute(conn)
    .await?;
    Ok(())
}
