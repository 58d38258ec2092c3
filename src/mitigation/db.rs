//! Mitigation's SQL reads.

use sqlx::PgConnection;
use uuid::Uuid;

use super::model::{Check, Measure, MeasureKind};
use crate::error::DomainError;

/// The catalogue of measure kinds.
pub async fn kinds(conn: &mut PgConnection) -> Result<Vec<MeasureKind>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, name FROM ref_mitigation_kinds ORDER BY CASE code WHEN 'other' THEN 1 ELSE 0 END, name",
    )
    .fetch_all(conn)
    .await
}

pub(super) const MEASURE_SELECT: &str = "SELECT id, case_id, kind, description, owner, due_on, status, submission_id, version, updated_at FROM mitigation_measures";

/// The measures of a case.
pub async fn measures(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<Measure>, sqlx::Error> {
    sqlx::query_as(&format!("{MEASURE_SELECT} WHERE case_id = $1 ORDER BY created_at, id"))
        .bind(case_id)
        .fetch_all(conn)
        .await
}

pub(super) async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Measure, DomainError> {
    sqlx::query_as(&format!("{MEASURE_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// The checks of a case's measures.
pub async fn checks(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<Check>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.id, k.measure_id, k.checked_on, k.result, k.finding, k.document_id, k.created_at FROM compliance_checks k \
         JOIN mitigation_measures m ON m.id = k.measure_id WHERE m.case_id = $1 ORDER BY k.checked_on, k.created_at",
    )
    .bind(case_id)
    .fetch_all(conn)
    .await
}
