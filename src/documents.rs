//! Documents: evidence on cases and party submissions. The type is checked by content
//! (magic bytes; plain text must be UTF-8 without control characters), never by name; at
//! most 20 MiB; the sha256 is stored; content lives in PostgreSQL under the document's id
//! (the file name is kept only for display). A classified-reference document stores a
//! pointer to where the classified material is held, never content. Downloads are
//! attachments, allowed to those who may see the case, and audited.

use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, NewEvent};
use crate::cases::proceedings::may_work;
use crate::cases::service::visible;
use crate::web::auth::{Authorized, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{ApiJson, AppPath};

/// Largest document accepted.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Markings, in increasing sensitivity.
pub const MARKINGS: [(&str, &str); 4] = [
    ("public", "Public"),
    ("cui", "CUI"),
    ("cbi", "Confidential business information (CBI)"),
    ("classified_reference", "Classified — reference only (pointer, no content)"),
];

/// A document's metadata.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Document {
    /// Id.
    pub id: Uuid,
    /// Case.
    pub case_id: Uuid,
    /// Title.
    pub title: String,
    /// `public`, `cui`, `cbi` or `classified_reference`.
    pub marking: String,
    /// Original file name (display only).
    pub filename: Option<String>,
    /// Media type found from the content.
    pub media_type: Option<String>,
    /// Size.
    pub size_bytes: Option<i64>,
    /// sha256 of the content (hex in JSON).
    #[serde(serialize_with = "crate::audit::hex_opt")]
    #[schema(value_type = Option<String>)]
    pub sha256: Option<Vec<u8>>,
    /// Where a classified-reference document is held.
    pub pointer: Option<String>,
    /// The submission it belongs to.
    pub submission_id: Option<Uuid>,
    /// Uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// By whom.
    pub uploaded_by_name: String,
}

impl Document {
    /// sha256 in hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.as_deref().map(hex::encode).unwrap_or_default()
    }
    /// Label of the marking.
    pub fn marking_label(&self) -> &'static str {
        MARKINGS.iter().find(|m| m.0 == self.marking).map(|m| m.1).unwrap_or("")
    }
}

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

/// The media type of `bytes` if it is an accepted kind: PDF, an image, plain text or an
/// office document.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const ACCEPTED: [&str; 15] = [
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/tiff",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    ];
    if let Some(t) = infer::get(bytes) {
        return ACCEPTED.iter().find(|a| **a == t.mime_type()).copied();
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}')) {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

/// A display-safe file name: the last path component, no control characters, at most 255.
pub fn clean_filename(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(255).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// An upload as received.
#[derive(Default)]
pub struct Upload {
    /// Title.
    pub title: String,
    /// Marking.
    pub marking: String,
    /// Pointer (classified reference).
    pub pointer: String,
    /// Submission.
    pub submission_id: Option<String>,
    /// File name and bytes.
    pub file: Option<(String, Vec<u8>)>,
}

/// Reads the multipart fields `title`, `marking`, `pointer`, `submission_id` and `file`.
pub async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut u = Upload::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload is not a valid form: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            if !bytes.is_empty() || !filename.is_empty() {
                u.file = Some((filename, bytes.to_vec()));
            }
            continue;
        }
        let value = field.text().await.map_err(|_| AppError::invalid(name.clone(), "must be UTF-8 text"))?;
        match name.as_str() {
            "title" => u.title = value,
            "marking" => u.marking = value,
            "pointer" => u.pointer = value,
            "submission_id" => u.submission_id = Some(value),
            _ => {}
        }
    }
    Ok(u)
}

/// Stores an upload on a case (one transaction with its audit event).
pub async fn store(
    conn: &mut PgConnection,
    user: &crate::auth::Actor,
    now: OffsetDateTime,
    case_id: Uuid,
    u: Upload,
) -> Result<Document, AppError> {
    let mut errors = Vec::new();
    let title = u.title.trim();
    if title.is_empty() || title.chars().count() > 300 {
        errors.push(FieldError::new("title", "must be 1 to 300 characters"));
    }
    let marking = u.marking.trim();
    if !MARKINGS.iter().any(|m| m.0 == marking) {
        errors.push(FieldError::new("marking", "must be public, cui, cbi or classified_reference"));
    }
    let submission = match u.submission_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("submission_id", "is not a submission id"));
                None
            }
        },
        None => None,
    };
    let classified = marking == "classified_reference";
    let pointer = u.pointer.trim();
    let mut content: Option<(String, Vec<u8>, &'static str)> = None;
    if classified {
        if u.file.as_ref().is_some_and(|f| !f.1.is_empty()) {
            errors.push(FieldError::new(
                "file",
                "classified material is never uploaded: give a pointer to where it is held instead",
            ));
        }
        if pointer.is_empty() || pointer.chars().count() > 1000 {
            errors
                .push(FieldError::new("pointer", "say where the classified material is held (1 to 1,000 characters)"));
        }
    } else {
        if !pointer.is_empty() {
            errors.push(FieldError::new("pointer", "only a classified-reference document is a pointer"));
        }
        match u.file {
            None => errors.push(FieldError::new("file", "choose a file")),
            Some((_, ref b)) if b.is_empty() => errors.push(FieldError::new("file", "the file is empty")),
            Some((_, ref b)) if b.len() > MAX_BYTES => errors.push(FieldError::new("file", "is larger than 20 MiB")),
            Some((name, bytes)) => match sniff(&bytes) {
                None => errors.push(FieldError::new(
                    "file",
                    "is not a PDF, an image (PNG, JPEG, GIF, WebP, TIFF), plain UTF-8 text or an office document (judged by its content)",
                )),
                Some(t) => content = Some((clean_filename(&name).unwrap_or_else(|| "document".into()), bytes, t)),
            },
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, false).await?;
    may_work(user, &c)?;
    if let Some(s) = submission {
        let ok: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM case_submissions WHERE id = $1 AND case_id = $2)")
                .bind(s)
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
        if !ok {
            return Err(AppError::invalid("submission_id", "is not a submission of this case"));
        }
    }
    let id = Uuid::now_v7();
    let hash = content.as_ref().map(|(_, b, _)| Sha256::digest(b).to_vec());
    sqlx::query(
        "INSERT INTO documents (id, case_id, title, marking, filename, media_type, size_bytes, sha256, pointer, uploaded_by, uploaded_at) \
         VALUES ($1,$2,$3,$4::document_marking,$5,$6,$7,$8,$9,$10,$11)",
    )
    .bind(id)
    .bind(case_id)
    .bind(title)
    .bind(marking)
    .bind(content.as_ref().map(|c| c.0.clone()))
    .bind(content.as_ref().map(|c| c.2))
    .bind(content.as_ref().map(|c| c.1.len() as i64))
    .bind(&hash)
    .bind(classified.then_some(pointer))
    .bind(user.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some((_, bytes, _)) = &content {
        sqlx::query("INSERT INTO document_contents (document_id, content) VALUES ($1, $2)")
            .bind(id)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(s) = submission {
        sqlx::query("INSERT INTO submission_documents (submission_id, document_id) VALUES ($1, $2)")
            .bind(s)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let event = NewEvent::new("document.uploaded").object("case", case_id).changes(json!({
        "document": id, "title": title, "marking": marking, "media_type": content.as_ref().map(|c| c.2),
        "size_bytes": content.as_ref().map(|c| c.1.len()), "sha256": hash.as_deref().map(hex::encode), "submission": submission,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let doc: Document = sqlx::query_as(&format!("{SELECT} WHERE d.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(doc)
}

/// Uploads a document to a case (multipart: `title`, `marking`, `file` or, for
/// `classified_reference`, `pointer`; optional `submission_id`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/documents", tag = "documents", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "title, marking, file | pointer, submission_id"),
    responses((status = 201, body = Document), (status = 404), (status = 413), (status = 422)), security(("bearer" = [])))]
pub async fn upload_api(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = read_upload(multipart).await?;
    let doc = store(&mut *state.conn().await?, &user, state.now(), id, upload).await?;
    Ok((StatusCode::CREATED, ApiJson(doc)).into_response())
}

/// The documents of a case (metadata and hashes).
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents", tag = "documents", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Document]), (status = 404)), security(("bearer" = [])))]
pub async fn list_api(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiJson<Vec<Document>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(of_case(&mut conn, id).await?))
}

/// Downloads a document's content as an attachment (audited).
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "documents", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the file, as an attachment"), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn download(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, AppError> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let doc: Document = sqlx::query_as(&format!("{SELECT} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    visible(&mut tx, &user, doc.case_id, false).await?;
    if doc.marking == "classified_reference" {
        return Err(AppError::Conflict(format!(
            "this is a classified-reference document: no content is held here; it is at {}",
            doc.pointer.clone().unwrap_or_default()
        )));
    }
    let content: Vec<u8> = sqlx::query_scalar("SELECT content FROM document_contents WHERE document_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let event = NewEvent::new("document.downloaded")
        .object("case", doc.case_id)
        .changes(json!({"document": id, "marking": doc.marking, "sha256": doc.sha256_hex()}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    let name = doc.filename.clone().unwrap_or_else(|| "document".into());
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut r = content.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(doc.media_type.as_deref().unwrap_or("application/octet-stream"))
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ascii header"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff("Plain notes, with accents: é.\n".as_bytes()), Some("text/plain; charset=utf-8"));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"), None, "a Windows executable");
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None, "an ELF binary");
        assert_eq!(sniff(b"text with a \x00 NUL"), None);
        assert_eq!(sniff(&[0xff, 0xfe, 0x00, 0x41]), None, "not UTF-8");
    }

    #[test]
    fn file_names_are_display_only_and_cleaned() {
        assert_eq!(clean_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_filename("C:\\docs\\report \"final\".pdf").as_deref(), Some("report final.pdf"));
        assert_eq!(clean_filename("..").as_deref(), None);
        assert_eq!(clean_filename("a\u{0}b\nc.txt").as_deref(), Some("abc.txt"));
    }
}
