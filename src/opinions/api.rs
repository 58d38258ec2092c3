//! Advisory opinions in the API.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::db::Filter;
use super::model::{NewOpinion, PublicOpinion, Request, Status};
use super::service::{self, Material, NewAct, NewRequest, SignRequest, View};
use crate::app::AppState;
use crate::error::FieldError;
use crate::ids::OpinionId;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// The request list's filters and page: `?q=&status=&requester=&sort=&limit=&cursor=&before=`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OpinionQuery {
    /// A part of the number, the requester's name or the question.
    pub q: Option<String>,
    /// Only requests with this status.
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    /// Only this requester's.
    #[param(value_type = Option<uuid::Uuid>)]
    pub requester: Option<String>,
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

impl OpinionQuery {
    /// The filter and page asked for, naming every bad parameter.
    pub fn to_filter(&self) -> Result<Filter, Vec<FieldError>> {
        crate::filings::ListParams {
            q: self.q.as_deref(),
            status: self.status.as_deref(),
            party: ("requester", self.requester.as_deref()),
            sort: self.sort.as_deref(),
            limit: self.limit.as_deref(),
            cursor: self.cursor.as_deref(),
            before: self.before.as_deref(),
        }
        .filter(service::status_named)
    }
}

/// A page of requests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpinionRequestList {
    pub requests: Vec<Request>,
    /// How many match the filters.
    pub total: crate::db::Total,
    /// Pass as `cursor` for the next page.
    pub next: Option<String>,
    /// Pass as `before` for the page before.
    pub prev: Option<String>,
}

/// The requests for advisory opinions, filtered and paged, newest first unless asked
/// otherwise (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/opinions", tag = "opinions", params(OpinionQuery),
    responses((status = 200, body = OpinionRequestList), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<OpinionQuery>,
) -> Result<ApiJson<OpinionRequestList>, AppError> {
    let f = q.to_filter().map_err(AppError::Invalid)?;
    let mut conn = state.conn().await?;
    let page = service::page(&mut conn, &user, &f).await?;
    let total = page.total(f.page.after.is_some(), service::count(&mut conn, &user, &f)).await?;
    Ok(ApiJson(OpinionRequestList { requests: page.rows, total, next: page.next, prev: page.prev }))
}

/// Files a request for an advisory opinion (791.310; analysts, supervisors): the requester,
/// the question, its direct financial interest and the (c)(1)–(7) content.
#[utoipa::path(post, path = "/api/v1/opinions", tag = "opinions", request_body = NewRequest,
    responses((status = 201, body = Request), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn file(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    ApiJson(n): ApiJson<NewRequest>,
) -> Result<Response, AppError> {
    let r = service::file(&mut *state.conn().await?, &user, state.now(), &n, "api").await?;
    let mut resp = (StatusCode::CREATED, ApiJson(&r)).into_response();
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&format!("/api/v1/opinions/{}", r.id)).expect("header-safe"));
    Ok(resp)
}

/// A request with what it lacks, its history and the hash of its unsigned draft.
#[utoipa::path(get, path = "/api/v1/opinions/{id}", tag = "opinions", params(("id" = Uuid, Path)),
    responses((status = 200, body = View), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
) -> Result<ApiJson<View>, AppError> {
    Ok(ApiJson(service::get(&mut *state.conn().await?, &user, id).await?))
}

/// Records a dated act (analysts, supervisors): `check` (an incomplete request is returned
/// naming what it lacks), `question_asked`, `question_answered` (naming the question) or
/// `withdrawn`. A stale `version` gets 409.
#[utoipa::path(post, path = "/api/v1/opinions/{id}/acts", tag = "opinions", request_body = NewAct, params(("id" = Uuid, Path)),
    responses((status = 200, body = Request), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_act(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    ApiJson(n): ApiJson<NewAct>,
) -> Result<ApiJson<Request>, AppError> {
    Ok(ApiJson(service::record_act(&mut *state.conn().await?, &user, state.now(), id, &n).await?))
}

/// Adds material until the opinion: the requester's, supplementing the items it names, or
/// a third party's (791.310(d)), noted with whose it is.
#[utoipa::path(post, path = "/api/v1/opinions/{id}/material", tag = "opinions", request_body = Material, params(("id" = Uuid, Path)),
    responses((status = 200, body = Request), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_material(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    ApiJson(m): ApiJson<Material>,
) -> Result<ApiJson<Request>, AppError> {
    Ok(ApiJson(service::add_material(&mut *state.conn().await?, &user, state.now(), id, &m).await?))
}

/// Drafts (or redrafts) the opinion on a complete request with no question open (analysts,
/// supervisors); `[CBI]…[/CBI]` marks what the public version redacts.
#[utoipa::path(put, path = "/api/v1/opinions/{id}/opinion", tag = "opinions", request_body = NewOpinion, params(("id" = Uuid, Path)),
    responses((status = 200, body = Request), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn draft(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    ApiJson(d): ApiJson<NewOpinion>,
) -> Result<ApiJson<Request>, AppError> {
    Ok(ApiJson(service::draft(&mut *state.conn().await?, &user, state.now(), id, &d, state.mail).await?))
}

/// Signs and issues the draft opinion (a supervisor who did not draft it, after a fresh
/// re-authentication) on the content hash read.
#[utoipa::path(post, path = "/api/v1/opinions/{id}/sign", tag = "opinions", request_body = SignRequest, params(("id" = Uuid, Path)),
    responses((status = 200, body = Request), (status = 401), (status = 403, description = "not a supervisor, the drafter, or no fresh re-authentication"),
        (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn sign(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
    ApiJson(r): ApiJson<SignRequest>,
) -> Result<ApiJson<Request>, AppError> {
    Ok(ApiJson(service::sign(&mut *state.conn().await?, &user, state.now(), id, &r, state.mail).await?))
}

/// The public version of an issued opinion: confidential business information redacted
/// span by span (`[CBI redacted]`), with what the opinion binds.
#[utoipa::path(get, path = "/api/v1/opinions/{id}/public", tag = "opinions", params(("id" = Uuid, Path)),
    responses((status = 200, body = PublicOpinion), (status = 401), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn public(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OpinionId>,
) -> Result<ApiJson<PublicOpinion>, AppError> {
    Ok(ApiJson(service::public(&mut *state.conn().await?, &user, id).await?))
}
