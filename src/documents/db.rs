//! Documents' SQL, checked against the schema at compile time.

use crate::ids::DocumentId;
use crate::ids::UserId;
use crate::ids::{CaseId, SubmissionId};
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::model::{Document, Marking};

/// The documents of a case, in the order they were uploaded.
pub async fn of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Document>, sqlx::Error> {
    sqlx::query_as!(
        Document,
        r#"SELECT d.id, d.case_id, d.title, d.marking AS "marking: Marking", d.filename, d.media_type, d.size_bytes, d.sha256,
           d.pointer, (SELECT sd.submission_id FROM submission_documents sd WHERE sd.document_id = d.id LIMIT 1) AS "submission_id?: SubmissionId",
           d.uploaded_at, u.name AS uploaded_by_name
           FROM documents d JOIN users u ON u.id = d.uploaded_by WHERE d.case_id = $1 ORDER BY d.uploaded_at, d.id"#,
        case_id.0,
    )
    .fetch_all(conn)
    .await
}

/// One document's metadata.
pub async fn get(conn: &mut PgConnection, id: DocumentId) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as!(
        Document,
        r#"SELECT d.id, d.case_id, d.title, d.marking AS "marking: Marking", d.filename, d.media_type, d.size_bytes, d.sha256,
           d.pointer, (SELECT sd.submission_id FROM submission_documents sd WHERE sd.document_id = d.id LIMIT 1) AS "submission_id?: SubmissionId",
           d.uploaded_at, u.name AS uploaded_by_name
           FROM documents d JOIN users u ON u.id = d.uploaded_by WHERE d.id = $1"#,
        id.0,
    )
    .fetch_optional(conn)
    .await
}

/// A document's content (none for a classified-reference pointer).
pub async fn content(conn: &mut PgConnection, id: DocumentId) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar!("SELECT content FROM document_contents WHERE document_id = $1", id.0).fetch_one(conn).await
}

/// Whether `document` is one of the case's (a check's evidence, say).
pub async fn is_document_of(
    conn: &mut PgConnection,
    document: DocumentId,
    case_id: CaseId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM documents WHERE id = $1 AND case_id = $2) AS "exists!""#,
        document.0,
        case_id.0,
    )
    .fetch_one(conn)
    .await
}

/// What a new document says about itself.
pub(super) struct NewRow<'a> {
    pub id: DocumentId,
    pub case_id: CaseId,
    pub title: &'a str,
    pub marking: &'a str,
    pub filename: Option<String>,
    pub media_type: Option<&'a str>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<Vec<u8>>,
    pub pointer: Option<&'a str>,
}

/// Inserts a document, its content (if any) and its link to a submission (if any).
pub(super) async fn insert(
    conn: &mut PgConnection,
    d: &NewRow<'_>,
    content: Option<&[u8]>,
    submission: Option<SubmissionId>,
    by: UserId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO documents (id, case_id, title, marking, filename, media_type, size_bytes, sha256, pointer, uploaded_by, uploaded_at) \
         VALUES ($1,$2,$3,$4::text::document_marking,$5,$6,$7,$8,$9,$10,$11)",
        d.id.0,
        d.case_id.0,
        d.title,
        d.marking,
        d.filename,
        d.media_type,
        d.size_bytes,
        d.sha256,
        d.pointer,
        by.0,
        at,
    )
    .execute(&mut *conn)
    .await?;
    if let Some(bytes) = content {
        sqlx::query!("INSERT INTO document_contents (document_id, content) VALUES ($1, $2)", d.id.0, bytes)
            .execute(&mut *conn)
            .await?;
    }
    if let Some(s) = submission {
        sqlx::query!("INSERT INTO submission_documents (submission_id, document_id) VALUES ($1, $2)", s.0, d.id.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
