//! Mitigation's SQL, checked against the schema at compile time.

use crate::ids::MeasureId;
use crate::ids::UserId;
use crate::ids::{CaseId, SubmissionId};
use crate::ids::{CheckId, DocumentId};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::model::{Check, Measure, MeasureKind, MeasureStatus};
use crate::error::DomainError;

/// The catalogue of measure kinds ("other" last).
pub async fn kinds(conn: &mut PgConnection) -> Result<Vec<MeasureKind>, sqlx::Error> {
    sqlx::query_as!(
        MeasureKind,
        "SELECT code, name FROM ref_mitigation_kinds ORDER BY CASE code WHEN 'other' THEN 1 ELSE 0 END, name",
    )
    .fetch_all(conn)
    .await
}

/// The measures of a case, in the order they were proposed.
pub async fn measures(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Measure>, sqlx::Error> {
    sqlx::query_as!(
        Measure,
        r#"SELECT id, case_id, kind, description, owner, due_on, status AS "status: MeasureStatus", submission_id AS "submission_id: SubmissionId",
           version, updated_at FROM mitigation_measures WHERE case_id = $1 ORDER BY created_at, id"#,
        case_id.0,
    )
    .fetch_all(conn)
    .await
}

/// One measure.
pub(super) async fn get(conn: &mut PgConnection, id: MeasureId) -> Result<Measure, DomainError> {
    sqlx::query_as!(
        Measure,
        r#"SELECT id, case_id, kind, description, owner, due_on, status AS "status: MeasureStatus", submission_id AS "submission_id: SubmissionId",
           version, updated_at FROM mitigation_measures WHERE id = $1"#,
        id.0,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(DomainError::NotFound)
}

/// One measure, locked until the transaction ends (status changes and checks).
pub(super) async fn lock(conn: &mut PgConnection, id: MeasureId) -> Result<Measure, DomainError> {
    sqlx::query_as!(
        Measure,
        r#"SELECT id, case_id, kind, description, owner, due_on, status AS "status: MeasureStatus", submission_id AS "submission_id: SubmissionId",
           version, updated_at FROM mitigation_measures WHERE id = $1 FOR UPDATE"#,
        id.0,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(DomainError::NotFound)
}

/// The checks of a case's measures, oldest first.
pub async fn checks(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Check>, sqlx::Error> {
    sqlx::query_as!(
        Check,
        "SELECT k.id, k.measure_id, k.checked_on, k.result AS \"result: super::model::CheckResult\", k.finding, k.document_id AS \"document_id: DocumentId\", k.created_at FROM compliance_checks k \
         JOIN mitigation_measures m ON m.id = k.measure_id WHERE m.case_id = $1 ORDER BY k.checked_on, k.created_at",
        case_id.0,
    )
    .fetch_all(conn)
    .await
}

/// One check.
pub(super) async fn check(conn: &mut PgConnection, id: CheckId) -> Result<Check, sqlx::Error> {
    sqlx::query_as!(
        Check,
        "SELECT id, measure_id, checked_on, result AS \"result: super::model::CheckResult\", finding, document_id AS \"document_id: DocumentId\", created_at FROM compliance_checks WHERE id = $1",
        id.0,
    )
    .fetch_one(conn)
    .await
}

/// What a new measure says.
pub(super) struct MeasureRow<'a> {
    pub id: MeasureId,
    pub case_id: CaseId,
    pub kind: &'a str,
    pub description: &'a str,
    pub owner: &'a str,
    pub due_on: Option<Date>,
    pub submission_id: Option<SubmissionId>,
}

/// Inserts a proposed measure.
pub(super) async fn insert_measure(
    conn: &mut PgConnection,
    m: &MeasureRow<'_>,
    by: UserId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO mitigation_measures (id, case_id, kind, description, owner, due_on, submission_id, created_by, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)",
        m.id.0,
        m.case_id.0,
        m.kind,
        m.description,
        m.owner,
        m.due_on,
        m.submission_id as _,
        by.0,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a measure to `to` (a new version).
pub(super) async fn set_status(
    conn: &mut PgConnection,
    id: MeasureId,
    to: MeasureStatus,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mitigation_measures SET status = $2, updated_at = $3, version = version + 1 WHERE id = $1",
        id.0,
        to as MeasureStatus,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends to a measure's status history (never changed).
pub(super) async fn record_status(
    conn: &mut PgConnection,
    measure: MeasureId,
    (before, after): (Option<MeasureStatus>, MeasureStatus),
    comment: &str,
    actor: UserId,
    (at, on): (OffsetDateTime, time::Date),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO measure_status_changes (id, measure_id, before, after, comment, actor, at, changed_on) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        Uuid::now_v7(),
        measure.0,
        before as Option<MeasureStatus>,
        after as MeasureStatus,
        comment,
        actor.0,
        at,
        on,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What a compliance check found.
pub(super) struct CheckRow<'a> {
    pub id: CheckId,
    pub measure_id: MeasureId,
    pub checked_on: Date,
    pub result: super::model::CheckResult,
    pub finding: &'a str,
    pub document_id: Option<DocumentId>,
}

/// Inserts a compliance check.
pub(super) async fn insert_check(
    conn: &mut PgConnection,
    k: &CheckRow<'_>,
    by: UserId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO compliance_checks (id, measure_id, checked_on, result, finding, document_id, checked_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        k.id.0,
        k.measure_id.0,
        k.checked_on,
        k.result.as_str(),
        k.finding,
        k.document_id as _,
        by.0,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The measures of a case that were proposed and rejected, each with the reason given when
/// it was rejected: a determination's "mitigation considered".
pub async fn rejected(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<(Measure, String)>, sqlx::Error> {
    let measures = measures(&mut *conn, case_id).await?;
    let mut out = Vec::new();
    for m in measures.into_iter().filter(|m| m.status == MeasureStatus::Rejected) {
        let why: Option<String> = sqlx::query_scalar!(
            "SELECT comment FROM measure_status_changes WHERE measure_id = $1 AND after = 'rejected' ORDER BY at DESC LIMIT 1",
            m.id.0
        )
        .fetch_optional(&mut *conn)
        .await?;
        out.push((m, why.unwrap_or_default()));
    }
    Ok(out)
}
