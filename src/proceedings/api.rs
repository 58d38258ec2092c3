//! The API of agency notices and party submissions.

use crate::ids::CaseId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::model::{AgencyNotice, MeetingOutcome, NewNotice, NewSubmission, NoticeResponse, Submission};
use super::{db, service as proceedings};
use crate::app::AppState;
use crate::cases::service::visible;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath};

/// The agency notices of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/agency-notices", tag = "interagency", params(("id" = Uuid, Path)),
    responses((status = 200, body = [AgencyNotice]), (status = 404)), security(("bearer" = [])))]
pub async fn notices(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<AgencyNotice>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::notices(&mut conn, id).await?))
}

/// Records a notice sent to an agency (first step: before service; second: the proposed
/// final determination).
#[utoipa::path(post, path = "/api/v1/cases/{id}/agency-notices", tag = "interagency", params(("id" = Uuid, Path)), request_body = NewNotice,
    responses((status = 201, body = AgencyNotice), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_notice(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(n): ApiJson<NewNotice>,
) -> Result<Response, AppError> {
    Ok((
        StatusCode::CREATED,
        ApiJson(proceedings::add_notice(&mut *state.conn().await?, &user, state.now(), id, n).await?),
    )
        .into_response())
}

/// Records an agency's response (and an objection's referral to the President or resolution).
#[utoipa::path(post, path = "/api/v1/agency-notices/{id}/response", tag = "interagency", params(("id" = Uuid, Path)), request_body = NoticeResponse,
    responses((status = 200, body = AgencyNotice), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn respond(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    ApiJson(r): ApiJson<NoticeResponse>,
) -> Result<ApiJson<AgencyNotice>, AppError> {
    Ok(ApiJson(proceedings::respond(&mut *state.conn().await?, &user, state.now(), id, r).await?))
}

/// The parties' submissions on a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/submissions", tag = "submissions", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Submission]), (status = 404)), security(("bearer" = [])))]
pub async fn submissions(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Submission>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::submissions(&mut conn, id).await?))
}

/// Records a party submission (written response, mitigation proposal, meeting request).
#[utoipa::path(post, path = "/api/v1/cases/{id}/submissions", tag = "submissions", params(("id" = Uuid, Path)), request_body = NewSubmission,
    responses((status = 201, body = Submission), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_submission(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(s): ApiJson<NewSubmission>,
) -> Result<Response, AppError> {
    Ok((
        StatusCode::CREATED,
        ApiJson(proceedings::add_submission(&mut *state.conn().await?, &user, state.now(), id, s).await?),
    )
        .into_response())
}

/// Records the outcome of a requested meeting.
#[utoipa::path(post, path = "/api/v1/submissions/{id}/meeting", tag = "submissions", params(("id" = Uuid, Path)), request_body = MeetingOutcome,
    responses((status = 200, body = Submission), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn meeting(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    ApiJson(m): ApiJson<MeetingOutcome>,
) -> Result<ApiJson<Submission>, AppError> {
    Ok(ApiJson(proceedings::record_meeting(&mut *state.conn().await?, &user, state.now(), id, m).await?))
}
