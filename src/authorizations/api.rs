//! Specific authorizations in the API: applications filed (the intake the office's portal
//! calls), listed and read; their dated acts, added material, the decision drafted and
//! signed, a grant's conditions checked.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::db::Filter;
use super::model::{Application, ApplicationStatus, ConditionCheck, Listed, NewDecision};
use super::service::{self, Material, NewAct, NewApplication, SignRequest, View};
use crate::app::AppState;
use crate::error::FieldError;
use crate::ids::ApplicationId;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// The application list's filters and page:
/// `?q=&status=&applicant=&sort=&limit=&cursor=&before=`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// A part of the number, the applicant's name or the transaction.
    pub q: Option<String>,
    /// Only applications with this status.
    #[param(value_type = Option<ApplicationStatus>)]
    pub status: Option<String>,
    /// Only this applicant's.
    #[param(value_type = Option<uuid::Uuid>)]
    pub applicant: Option<String>,
    /// `newest` (received, the default) or `oldest` first.
    pub sort: Option<String>,
    /// Rows per page (1 to 200, 50 by default).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// The `next` of the page before.
    pub cursor: Option<String>,
    /// The `prev` of the page after (going back).
    pub before: Option<String>,
}

impl ApplicationQuery {
    /// The filter and page asked for, naming every bad parameter.
    pub fn to_filter(&self) -> Result<Filter, Vec<FieldError>> {
        crate::filings::ListParams {
            q: self.q.as_deref(),
            status: self.status.as_deref(),
            party: ("applicant", self.applicant.as_deref()),
            sort: self.sort.as_deref(),
            limit: self.limit.as_deref(),
            cursor: self.cursor.as_deref(),
            before: self.before.as_deref(),
        }
        .filter(service::status_named)
    }
}

/// A page of applications.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationList {
    /// Each with its clock now.
    pub applications: Vec<Listed>,
    /// How many match the filters.
    pub total: crate::db::Total,
    /// Pass as `cursor` for the next page.
    pub next: Option<String>,
    /// Pass as `before` for the page before.
    pub prev: Option<String>,
}

/// The specific authorization applications, filtered and paged, newest first unless asked
/// otherwise (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/authorizations/applications", tag = "authorizations", params(ApplicationQuery),
    responses((status = 200, body = ApplicationList), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn applications(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ApplicationQuery>,
) -> Result<ApiJson<ApplicationList>, AppError> {
    let f = q.to_filter().map_err(AppError::Invalid)?;
    let mut conn = state.conn().await?;
    let page = service::page(&mut conn, &user, &f, state.now()).await?;
    let total = page.total(f.page.after.is_some(), service::count(&mut conn, &user, &f)).await?;
    Ok(ApiJson(ApplicationList { applications: page.rows, total, next: page.next, prev: page.prev }))
}

/// Files an application for a specific authorization (791.307; analysts, supervisors):
/// the applicant, the transaction, and the (c)(1)–(8) content. What is left empty is named
/// by the completeness check, which only the office runs.
#[utoipa::path(post, path = "/api/v1/authorizations/applications", tag = "authorizations", request_body = NewApplication,
    responses((status = 201, body = Application), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn file(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    ApiJson(n): ApiJson<NewApplication>,
) -> Result<Response, AppError> {
    let a = service::file(&mut *state.conn().await?, &user, state.now(), &n, "api").await?;
    let mut r = (StatusCode::CREATED, ApiJson(&a)).into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/authorizations/applications/{}", a.id)).expect("header-safe"),
    );
    Ok(r)
}

/// An application with what is missing of it, its acts, its decisions (the latest first,
/// each with its conditions) and the office's clock (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/authorizations/applications/{id}", tag = "authorizations", params(("id" = Uuid, Path)),
    responses((status = 200, body = View), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn application(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
) -> Result<ApiJson<View>, AppError> {
    Ok(ApiJson(service::get(&mut *state.conn().await?, &user, state.now(), id).await?))
}

/// Records a dated act (analysts, supervisors): `check` (the completeness check: an
/// incomplete application is returned naming the missing (c) items, a complete one goes
/// under review and its clock starts), `question_asked` (the clock pauses),
/// `question_answered` (naming the question; the clock runs again once none is open),
/// `briefing_held`, or `withdrawn`. A stale `version` gets 409.
#[utoipa::path(post, path = "/api/v1/authorizations/applications/{id}/acts", tag = "authorizations", request_body = NewAct, params(("id" = Uuid, Path)),
    responses((status = 200, body = Application), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_act(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    ApiJson(n): ApiJson<NewAct>,
) -> Result<ApiJson<Application>, AppError> {
    Ok(ApiJson(service::record_act(&mut *state.conn().await?, &user, state.now(), id, &n).await?))
}

/// Adds the applicant's material until the decision: text added to the (c) items it
/// names (never replacing what was given), with a note (analysts, supervisors).
#[utoipa::path(post, path = "/api/v1/authorizations/applications/{id}/material", tag = "authorizations", request_body = Material, params(("id" = Uuid, Path)),
    responses((status = 200, body = Application), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_material(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    ApiJson(m): ApiJson<Material>,
) -> Result<ApiJson<Application>, AppError> {
    Ok(ApiJson(service::add_material(&mut *state.conn().await?, &user, state.now(), id, &m).await?))
}

/// Drafts (or redrafts) the decision on a complete application with no question open
/// (analysts, supervisors): granted with conditions (each with its owner, date and any
/// third-party assessor, who may not be PRC- or Russia-controlled, 791.315) or denied, with
/// the reasons and a finding per factor.
#[utoipa::path(put, path = "/api/v1/authorizations/applications/{id}/decision", tag = "authorizations", request_body = NewDecision, params(("id" = Uuid, Path)),
    responses((status = 200, body = Application), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn draft_decision(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    ApiJson(d): ApiJson<NewDecision>,
) -> Result<ApiJson<Application>, AppError> {
    Ok(ApiJson(service::draft_decision(&mut *state.conn().await?, &user, state.now(), id, &d, state.mail).await?))
}

/// Signs the draft decision (a supervisor who did not draft it, after a fresh
/// re-authentication), on the content hash the signer read: the application is granted,
/// its conditions agreed, or denied.
#[utoipa::path(post, path = "/api/v1/authorizations/applications/{id}/sign", tag = "authorizations", request_body = SignRequest, params(("id" = Uuid, Path)),
    responses((status = 200, body = Application), (status = 401), (status = 403, description = "not a supervisor, the drafter, or no fresh re-authentication"),
        (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn sign(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    ApiJson(r): ApiJson<SignRequest>,
) -> Result<ApiJson<Application>, AppError> {
    Ok(ApiJson(service::sign(&mut *state.conn().await?, &user, state.now(), id, &r, state.mail).await?))
}

/// Records a check of a grant's condition (analysts, supervisors): implemented, verified,
/// or breached, which reopens the application for review.
#[utoipa::path(post, path = "/api/v1/authorizations/applications/{id}/conditions/{seq}", tag = "authorizations", request_body = ConditionCheck,
    params(("id" = Uuid, Path), ("seq" = i64, Path)),
    responses((status = 200, body = Application), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn check_condition(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath((id, seq)): AppPath<(ApplicationId, i64)>,
    ApiJson(c): ApiJson<ConditionCheck>,
) -> Result<ApiJson<Application>, AppError> {
    Ok(ApiJson(service::check_condition(&mut *state.conn().await?, &user, state.now(), id, seq, &c, state.mail).await?))
}
