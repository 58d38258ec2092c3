//! Documents' SQL reads.

use sqlx::PgConnection;
use uuid::Uuid;

use super::model::Document;

const SELECT: &str = "SELECT d.id, d.case_id, d.title, d.marking::text AS marking, d.filename, d.media_type, d.size_bytes, d.sha256, \
    d.pointer, (SELECT sd.submission_id FROM submission_documents sd WHERE sd.document_id = d.id LIMIT 1) AS submission_id, \
    d.uploaded_at, u.name AS uploaded_by_name FROM documents d JOIN users u ON u.id = d.uploaded_by";

/// The documents of a case.
pub async fn of_case(conn: &mut PgConnection, case_id: Uuid) -> Result<Vec<Document>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE d.case_id = $1 ORDER BY d.uploaded_at, d.id"))
        .bind(case_id)
        .fetch_all(conn)
        .await
}

/// One document's metadata.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE d.id = $1")).bind(id).fetch_optional(conn).await
}
