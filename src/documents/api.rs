//! Documents' JSON API (content is downloaded through `web::download`).

use crate::ids::CaseId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::model::Document;
use super::web::read_upload;
use super::{db, service};
use crate::app::AppState;
use crate::cases::service::visible;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppMultipart, AppPath};

/// The parts of a document upload (what the API document describes; the handler reads the
/// parts as they come, see [`read_upload`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// Title.
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    title: String,
    /// How it is marked.
    marking: super::Marking,
    /// The content (not for `classified_reference`).
    #[schema(value_type = Option<String>, format = Binary)]
    file: Option<Vec<u8>>,
    /// Where a classified-reference document is held.
    #[schema(value_type = Option<crate::text::Text<{ crate::documents::service::POINTER_MAX }>>, inline)]
    pointer: Option<String>,
    /// The party submission it came with.
    submission_id: Option<crate::ids::SubmissionId>,
}

/// Uploads a document to a case (multipart: `title`, `marking`, `file` or, for
/// `classified_reference`, `pointer`; optional `submission_id`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/documents", tag = "documents", params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", content = UploadForm, description = "title, marking, file | pointer, submission_id"),
    responses((status = 201, body = Document), (status = 404), (status = 413), (status = 422)), security(("bearer" = [])))]
pub async fn upload_api(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppMultipart(multipart): AppMultipart,
) -> Result<Response, AppError> {
    let upload = read_upload(multipart).await?;
    let doc = service::store(&mut *state.conn().await?, &user, state.now(), id, upload).await?;
    Ok((StatusCode::CREATED, ApiJson(doc)).into_response())
}

/// The documents of a case (metadata and hashes).
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents", tag = "documents", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Document]), (status = 404)), security(("bearer" = [])))]
pub async fn list_api(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Document>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::of_case(&mut conn, id).await?))
}
