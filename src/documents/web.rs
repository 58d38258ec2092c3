//! Uploading and downloading documents: the multipart form, the upload from the
//! proceedings page, the audited attachment download (also the API's content route).

use crate::ids::CaseId;
use crate::ids::DocumentId;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::model::Upload;
use crate::app::AppState;
use crate::audit::{self, EventType, NewEvent};
use crate::cases::service::visible;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppMultipart, AppPath};
use crate::web::layout::answer_form;

/// Reads the multipart fields `title`, `marking`, `pointer`, `submission_id` and `file`;
/// a text part's control characters ride in [`Upload::refused`], to be reported with the
/// upload's other problems.
pub async fn read_upload(multipart: Multipart) -> Result<Upload, AppError> {
    Ok(read_upload_kept(multipart).await?.0)
}

/// As [`read_upload`], also giving the text fields as posted (for a form that comes back
/// with what was typed); only a body that is not a form at all (or too large) fails.
async fn read_upload_kept(mut multipart: Multipart) -> Result<(Upload, Vec<(String, String)>), AppError> {
    let mut u = Upload::default();
    let mut errors = Vec::new();
    let mut values = Vec::new();
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
        let value = match field.text().await {
            Ok(v) => v,
            Err(_) => {
                errors.push(crate::error::FieldError::new(name, "must be UTF-8 text"));
                continue;
            }
        };
        if let Some(e) = crate::web::extract::control_characters(&name, &value) {
            errors.push(e);
        }
        // The document's limits, counted as sent (as the API's document counts them).
        let max = match name.as_str() {
            "title" => Some(crate::text::NAME),
            "pointer" => Some(super::service::POINTER_MAX),
            _ => None,
        };
        if let Some(max) = max
            && value.chars().count() > max
        {
            errors.push(crate::error::FieldError::new(&name, crate::text::at_most(max)));
        }
        match name.as_str() {
            "title" => u.title = value.clone(),
            "marking" => u.marking = value.clone(),
            "pointer" => u.pointer = value.clone(),
            "submission_id" => u.submission_id = Some(value.clone()),
            _ => continue,
        }
        values.push((name, value));
    }
    u.refused = errors;
    Ok((u, values))
}

/// Downloads a document's content as an attachment (audited).
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "documents", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the file, as an attachment"), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn download(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DocumentId>,
) -> Result<Response, AppError> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let doc = super::db::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    visible(&mut tx, &user, doc.case_id, false).await?;
    if doc.marking == super::Marking::ClassifiedReference {
        return Err(AppError::Conflict(format!(
            "this is a classified-reference document: no content is held here; it is at {}",
            doc.pointer.clone().unwrap_or_default()
        )));
    }
    let content = super::db::content(&mut tx, id).await?;
    let event = NewEvent::new(EventType::DocumentDownloaded)
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

/// `POST /cases/{id}/documents` (multipart; the CSRF token rides in the query string). A
/// refused upload reopens its panel with the errors at the fields and the text kept; the
/// file itself must be chosen again (a browser never lets a page fill a file input).
pub async fn upload(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppMultipart(multipart): AppMultipart,
) -> Result<Response, AppError> {
    let (u, values) = read_upload_kept(multipart).await?;
    let result = super::service::store(&mut *state.conn().await?, &user, state.now(), id, u)
        .await
        .map_err(AppError::from)
        .map(|_| ());
    answer_form(&state.web, &user, result, "Document stored.", &format!("/cases/{id}/proceedings"), |o| {
        crate::proceedings::web::proceedings_after_values(&state, &user, id, o, "document", "doc-", values)
    })
    .await
}
