//! The API of agency notices, party submissions, mitigation measures and compliance checks.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::proceedings::{self, AgencyNotice, MeetingOutcome, NewNotice, NewSubmission, NoticeResponse, Submission};
use super::service::visible;
use crate::app::AppState;
use crate::mitigation::{self, Check, Measure, MeasureKind, NewCheck, NewMeasure, StatusChange};
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath};

/// The agency notices of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/agency-notices", tag = "interagency", params(("id" = Uuid, Path)),
    responses((status = 200, body = [AgencyNotice]), (status = 404)), security(("bearer" = [])))]
pub async fn notices(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiJson<Vec<AgencyNotice>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(proceedings::notices(&mut conn, id).await?))
}

/// Records a notice sent to an agency (first step: before service; second: the proposed
/// final determination).
#[utoipa::path(post, path = "/api/v1/cases/{id}/agency-notices", tag = "interagency", params(("id" = Uuid, Path)), request_body = NewNotice,
    responses((status = 201, body = AgencyNotice), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_notice(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
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
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiJson<Vec<Submission>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(proceedings::submissions(&mut conn, id).await?))
}

/// Records a party submission (written response, mitigation proposal, meeting request).
#[utoipa::path(post, path = "/api/v1/cases/{id}/submissions", tag = "submissions", params(("id" = Uuid, Path)), request_body = NewSubmission,
    responses((status = 201, body = Submission), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_submission(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
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

/// The catalogue of mitigation measure kinds.
#[utoipa::path(get, path = "/api/v1/mitigation/kinds", tag = "mitigation", responses((status = 200, body = [MeasureKind])), security(("bearer" = [])))]
pub async fn kinds(
    _user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<MeasureKind>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(mitigation::kinds(&mut conn).await?))
}

/// The mitigation measures of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/measures", tag = "mitigation", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Measure]), (status = 404)), security(("bearer" = [])))]
pub async fn measures(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiJson<Vec<Measure>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(mitigation::measures(&mut conn, id).await?))
}

/// Records a proposed mitigation measure.
#[utoipa::path(post, path = "/api/v1/cases/{id}/measures", tag = "mitigation", params(("id" = Uuid, Path)), request_body = NewMeasure,
    responses((status = 201, body = Measure), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_measure(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    ApiJson(m): ApiJson<NewMeasure>,
) -> Result<Response, AppError> {
    Ok((StatusCode::CREATED, ApiJson(mitigation::add(&mut *state.conn().await?, &user, state.now(), id, m).await?))
        .into_response())
}

/// Moves a measure to a new status (a breach reopens a monitored case for review).
#[utoipa::path(post, path = "/api/v1/measures/{id}/status", tag = "mitigation", params(("id" = Uuid, Path)), request_body = StatusChange,
    responses((status = 200, body = Measure), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn measure_status(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    ApiJson(s): ApiJson<StatusChange>,
) -> Result<ApiJson<Measure>, AppError> {
    Ok(ApiJson(mitigation::set_status(&mut *state.conn().await?, &user, state.now(), id, s, state.mail).await?))
}

/// The compliance checks of a case's measures.
#[utoipa::path(get, path = "/api/v1/cases/{id}/compliance-checks", tag = "mitigation", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Check]), (status = 404)), security(("bearer" = [])))]
pub async fn checks(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiJson<Vec<Check>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(mitigation::checks(&mut conn, id).await?))
}

/// Records a compliance check of a measure (a `breach` result reopens the case).
#[utoipa::path(post, path = "/api/v1/measures/{id}/checks", tag = "mitigation", params(("id" = Uuid, Path)), request_body = NewCheck,
    responses((status = 201, body = Check), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_check(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    ApiJson(k): ApiJson<NewCheck>,
) -> Result<Response, AppError> {
    Ok((
        StatusCode::CREATED,
        ApiJson(mitigation::add_check(&mut *state.conn().await?, &user, state.now(), id, k, state.mail).await?),
    )
        .into_response())
}
