//! Declarations in the API: the intake the office's public portal calls, the list, a
//! declaration with its history, its review and amendments, and parties' filer roles.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::db::Filter;
use super::model::{
    Declaration, DeclarationAmendment, DeclarationKind, DeclarationStatus, DeclarationStatusChange, DueDate,
    FilerRoleRow, HistoryEntry, Missing, NewAnswer, NewDeclaration, NewDueDate, NewFilerRole, NewQuestion, Question,
};
use super::service::{self, Via};
use crate::app::AppState;
use crate::error::FieldError;
use crate::ids::{DeclarationId, PartyId};
use crate::web::auth::{Authorized, CurrentUser, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// The declaration list's filters and page: `?q=&status=&kind=&year=&filer=&limit=&cursor=&before=`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeclarationQuery {
    /// A part of the number, the filer's name or an item covered.
    pub q: Option<String>,
    /// Only declarations in this status.
    #[param(value_type = Option<DeclarationStatus>)]
    pub status: Option<String>,
    /// Only this kind.
    #[param(value_type = Option<DeclarationKind>)]
    pub kind: Option<String>,
    /// Only this model year (or calendar year, for hardware without one).
    #[param(value_type = Option<i64>)]
    pub year: Option<String>,
    /// Only this filer's.
    #[param(value_type = Option<uuid::Uuid>)]
    pub filer: Option<String>,
    /// Rows per page (1 to 200, 50 by default).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// The `next` of the page before.
    pub cursor: Option<String>,
    /// The `prev` of the page after (going back).
    pub before: Option<String>,
}

impl DeclarationQuery {
    /// The filter, naming every bad parameter.
    pub fn to_filter(&self) -> Result<Filter, Vec<FieldError>> {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errors = Vec::new();
        let status = closed::<DeclarationStatus>(
            ("status", some(&self.status)),
            "must be received, under_review, questions_asked, accepted, deficient or superseded",
            &mut errors,
        );
        let kind = closed::<DeclarationKind>(
            ("kind", some(&self.kind)),
            "must be hardware, software or completed_vehicle",
            &mut errors,
        );
        let year = some(&self.year).and_then(|y| match y.parse::<i64>() {
            Ok(y) if super::model::YEARS.contains(&y) => Some(y),
            _ => {
                errors.push(FieldError::new("year", "must be a year from 2024 to 2100"));
                None
            }
        });
        let filer = some(&self.filer).and_then(|f| match f.parse::<PartyId>() {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(FieldError::new("filer", "must be a party's id"));
                None
            }
        });
        let q = some(&self.q).map(|q| q.chars().take(200).collect::<String>());
        let limit = crate::db::page_size(some(&self.limit).as_deref(), &mut errors);
        let valid = |c: &str| service::parse_cursor(c).map(|(at, id)| (at.unix_timestamp_nanos().to_string(), id.0));
        let (after, backwards) =
            crate::db::keyset_args(some(&self.cursor).as_deref(), some(&self.before).as_deref(), valid, &mut errors);
        let after = after.and_then(|(key, id)| service::parse_cursor(&format!("{key}~{id}")));
        if errors.is_empty() {
            Ok(Filter { q, status, kind, year, filer, after, backwards, limit, matches: Default::default() })
        } else {
            Err(errors)
        }
    }
}

/// A closed set's value a query parameter names, if it is set; else `message` for it.
fn closed<T: Copy + serde::de::DeserializeOwned>(
    (field, value): (&str, Option<String>),
    message: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    value.and_then(|v| crate::choice::Choice::<T>::named(&v).or_error(field, message, errors))
}

/// A page of declarations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclarationList {
    pub declarations: Vec<Declaration>,
    /// Pass as `cursor` for the next page.
    pub next: Option<String>,
    /// Pass as `before` for the page before.
    pub prev: Option<String>,
}

/// The second docket's declarations, newest first, filtered and paged (analysts,
/// supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/declarations", tag = "declarations", params(DeclarationQuery),
    responses((status = 200, body = DeclarationList), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<DeclarationQuery>,
) -> Result<ApiJson<DeclarationList>, AppError> {
    let f = q.to_filter().map_err(AppError::Invalid)?;
    let page = service::page(&mut *state.conn().await?, &user, &f).await?;
    Ok(ApiJson(DeclarationList { declarations: page.rows, next: page.next, prev: page.prev }))
}

/// The answer to a filing: 201 with the declaration and where it lives.
fn created(d: Declaration) -> Response {
    let mut r = (StatusCode::CREATED, ApiJson(&d)).into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/declarations/{}", d.id)).expect("header-safe"),
    );
    r
}

/// Receives a Declaration of Conformity (791.305), the intake the office's public portal
/// calls (analysts, supervisors). One is in force per filer, kind and year: a second gets
/// 409, and a change is filed as an amendment.
#[utoipa::path(post, path = "/api/v1/declarations", tag = "declarations", request_body = NewDeclaration,
    responses((status = 201, body = Declaration), (status = 401), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn file(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    ApiJson(n): ApiJson<NewDeclaration>,
) -> Result<Response, AppError> {
    Ok(created(service::file(&mut *state.conn().await?, &user, state.now(), &n, Via::Api).await?))
}

/// A declaration with its history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclarationView {
    pub declaration: Declaration,
    /// Every status it went through, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The questions asked of its filer and their answers, in the order asked.
    pub questions: Vec<Question>,
}

/// A declaration with its history (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/declarations/{id}", tag = "declarations", params(("id" = Uuid, Path)),
    responses((status = 200, body = DeclarationView), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
) -> Result<ApiJson<DeclarationView>, AppError> {
    let mut conn = state.conn().await?;
    let (declaration, history) = service::get(&mut conn, &user, id).await?;
    let questions = service::questions(&mut conn, &user, id).await?;
    Ok(ApiJson(DeclarationView { declaration, history, questions }))
}

/// Asks the filer a question (791.305: whether a general authorization is relied on, its
/// records), tracked as a request for information: a declaration under review moves to
/// questions asked; one waiting for answers gets one more (analysts, supervisors). 409 for a
/// declaration not under review, or a stale `version`.
#[utoipa::path(post, path = "/api/v1/declarations/{id}/questions", tag = "declarations", request_body = NewQuestion, params(("id" = Uuid, Path)),
    responses((status = 200, body = Declaration), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn ask(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    ApiJson(q): ApiJson<NewQuestion>,
) -> Result<ApiJson<Declaration>, AppError> {
    Ok(ApiJson(service::ask(&mut *state.conn().await?, &user, state.now(), id, &q).await?))
}

/// Records the filer's answer to a question; once every question is answered the
/// declaration goes back under review (analysts, supervisors). 409 when it is answered
/// already.
#[utoipa::path(post, path = "/api/v1/declarations/{id}/questions/{seq}/answer", tag = "declarations", request_body = NewAnswer,
    params(("id" = Uuid, Path), ("seq" = i64, Path, description = "The question's number")),
    responses((status = 200, body = Declaration), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn answer(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath((id, seq)): AppPath<(DeclarationId, i64)>,
    ApiJson(a): ApiJson<NewAnswer>,
) -> Result<ApiJson<Declaration>, AppError> {
    Ok(ApiJson(service::answer(&mut *state.conn().await?, &user, state.now(), id, seq, &a).await?))
}

/// Moves a declaration through its review: under review, questions asked (with the
/// questions), accepted, or deficient (with the deficiencies); a decided one may be taken
/// back under review with a reason. A stale `version` gets 409.
#[utoipa::path(post, path = "/api/v1/declarations/{id}/status", tag = "declarations", request_body = DeclarationStatusChange, params(("id" = Uuid, Path)),
    responses((status = 200, body = Declaration), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn set_status(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    ApiJson(c): ApiJson<DeclarationStatusChange>,
) -> Result<ApiJson<Declaration>, AppError> {
    Ok(ApiJson(service::set_status(&mut *state.conn().await?, &user, state.now(), id, &c).await?))
}

/// Files an amendment after a material change: a new declaration of the same filer, kind
/// and year that supersedes this one (whose history stays). 409 when this one is
/// superseded already.
#[utoipa::path(post, path = "/api/v1/declarations/{id}/amendments", tag = "declarations", request_body = DeclarationAmendment, params(("id" = Uuid, Path)),
    responses((status = 201, body = Declaration), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn amend(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeclarationId>,
    ApiJson(a): ApiJson<DeclarationAmendment>,
) -> Result<Response, AppError> {
    Ok(created(service::amend(&mut *state.conn().await?, &user, state.now(), id, &a, Via::Api).await?))
}

/// A party's filer roles (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/parties/{id}/filer-roles", tag = "declarations", params(("id" = Uuid, Path)),
    responses((status = 200, body = [FilerRoleRow]), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn filer_roles(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
) -> Result<ApiJson<Vec<FilerRoleRow>>, AppError> {
    Ok(ApiJson(service::filer_roles(&mut *state.conn().await?, &user, id).await?))
}

/// Records a party's filer role (connected-vehicle manufacturer, VCS hardware importer)
/// from a date (analysts, supervisors): its declarations are received from then on. 409
/// when it holds the role already.
#[utoipa::path(post, path = "/api/v1/parties/{id}/filer-roles", tag = "declarations", request_body = NewFilerRole, params(("id" = Uuid, Path)),
    responses((status = 200, body = [FilerRoleRow]), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_filer_role(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    ApiJson(r): ApiJson<NewFilerRole>,
) -> Result<ApiJson<Vec<FilerRoleRow>>, AppError> {
    Ok(ApiJson(service::record_filer_role(&mut *state.conn().await?, &user, state.now(), id, &r).await?))
}

/// The dates by which the office expects each year's declarations, latest year first
/// (readers of filings, administrators).
#[utoipa::path(get, path = "/api/v1/declarations/due-dates", tag = "declarations",
    responses((status = 200, body = [DueDate]), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn due_dates(user: CurrentUser, State(state): State<AppState>) -> Result<ApiJson<Vec<DueDate>>, AppError> {
    Ok(ApiJson(service::due_dates(&mut *state.conn().await?, &user).await?))
}

/// Sets the date by which a year's declarations are expected (administrators: the office's
/// reference data). Filers in their role by then with no declaration for the year show as
/// missing once it passes, and declarations filed after it as late.
#[utoipa::path(put, path = "/api/v1/declarations/due-dates/{year}", tag = "declarations", request_body = NewDueDate,
    params(("year" = i64, Path, description = "The model year (or calendar year)")),
    responses((status = 200, body = DueDate), (status = 401), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn set_due_date(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    AppPath(year): AppPath<i64>,
    ApiJson(n): ApiJson<NewDueDate>,
) -> Result<ApiJson<DueDate>, AppError> {
    Ok(ApiJson(service::set_due_date(&mut *state.conn().await?, &user, state.now(), year, &n).await?))
}

/// The filers expected but missing today: in their role by a year's due date that has
/// passed, with no declaration for the year (analysts, supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/declarations/missing", tag = "declarations",
    responses((status = 200, body = [Missing]), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn missing(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<Missing>>, AppError> {
    Ok(ApiJson(service::missing(&mut *state.conn().await?, &user, state.now()).await?))
}
