//! Mitigation's JSON API.

use crate::ids::CaseId;
use crate::ids::MeasureId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::model::{Check, Measure, MeasureKind, NewCheck, NewMeasure, StatusChange};
use super::{db, service};
use crate::app::AppState;
use crate::cases::service::visible;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath};

/// The catalogue of mitigation measure kinds.
#[utoipa::path(get, path = "/api/v1/mitigation/kinds", tag = "mitigation", responses((status = 200, body = [MeasureKind])), security(("bearer" = [])))]
pub async fn kinds(
    _user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<MeasureKind>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(db::kinds(&mut conn).await?))
}

/// The mitigation measures of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/measures", tag = "mitigation", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Measure]), (status = 404)), security(("bearer" = [])))]
pub async fn measures(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Measure>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::measures(&mut conn, id).await?))
}

/// Records a proposed mitigation measure.
#[utoipa::path(post, path = "/api/v1/cases/{id}/measures", tag = "mitigation", params(("id" = Uuid, Path)), request_body = NewMeasure,
    responses((status = 201, body = Measure), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_measure(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(m): ApiJson<NewMeasure>,
) -> Result<Response, AppError> {
    Ok((StatusCode::CREATED, ApiJson(service::add(&mut *state.conn().await?, &user, state.now(), id, m).await?))
        .into_response())
}

/// Moves a measure to a new status (a breach reopens a monitored case for review).
#[utoipa::path(post, path = "/api/v1/measures/{id}/status", tag = "mitigation", params(("id" = Uuid, Path)), request_body = StatusChange,
    responses((status = 200, body = Measure), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn measure_status(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MeasureId>,
    ApiJson(s): ApiJson<StatusChange>,
) -> Result<ApiJson<Measure>, AppError> {
    Ok(ApiJson(service::set_status(&mut *state.conn().await?, &user, state.now(), id, s, state.mail).await?))
}

/// The compliance checks of a case's measures.
#[utoipa::path(get, path = "/api/v1/cases/{id}/compliance-checks", tag = "mitigation", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Check]), (status = 404)), security(("bearer" = [])))]
pub async fn checks(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Check>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::checks(&mut conn, id).await?))
}

/// Records a compliance check of a measure (a `breach` result reopens the case).
#[utoipa::path(post, path = "/api/v1/measures/{id}/checks", tag = "mitigation", params(("id" = Uuid, Path)), request_body = NewCheck,
    responses((status = 201, body = Check), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_check(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MeasureId>,
    ApiJson(k): ApiJson<NewCheck>,
) -> Result<Response, AppError> {
    Ok((
        StatusCode::CREATED,
        ApiJson(service::add_check(&mut *state.conn().await?, &user, state.now(), id, k, state.mail).await?),
    )
        .into_response())
}
