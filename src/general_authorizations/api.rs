//! General authorizations in the API: the published versions; reliances, their standing
//! and acts; GA 3's suppliers and the list as of a date.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::model::{
    ActRow, GeneralAuthorization, NewAct, NewReliance, NewSupplier, Reliance, Supplier, SupplierDecision,
};
use super::service;
use crate::app::AppState;
use crate::ids::{PartyId, RelianceId, SupplierId};
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// Every version of every general authorization the office published (analysts,
/// supervisors, auditors).
#[utoipa::path(get, path = "/api/v1/general-authorizations", tag = "general-authorizations",
    responses((status = 200, body = [GeneralAuthorization]), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn versions(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<GeneralAuthorization>>, AppError> {
    Ok(ApiJson(service::versions(&mut *state.conn().await?, &user).await?))
}

/// The reliance list's filter: `?party=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelianceQuery {
    /// Only this firm's.
    #[param(value_type = Option<uuid::Uuid>)]
    pub party: Option<String>,
}

impl RelianceQuery {
    /// The firm asked for, or the error naming the parameter.
    pub fn party(&self) -> Result<Option<PartyId>, AppError> {
        match self.party.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(p) => p.parse().map(Some).map_err(|_| AppError::invalid("party", "must be a party's id")),
        }
    }
}

/// The reliances on general authorizations, newest first, each with its standing today:
/// active, void from a missed report's date, or ended; the next report due; a
/// reassessment due after a change of circumstance.
#[utoipa::path(get, path = "/api/v1/general-authorizations/reliances", tag = "general-authorizations", params(RelianceQuery),
    responses((status = 200, body = [Reliance]), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn reliances(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<RelianceQuery>,
) -> Result<ApiJson<Vec<Reliance>>, AppError> {
    let party = q.party()?;
    Ok(ApiJson(service::reliances(&mut *state.conn().await?, &user, state.now(), party).await?))
}

/// Records a firm's reliance on a general authorization (analysts, supervisors): the
/// version in force on its first day; refused to a PRC- or Russia-controlled firm.
#[utoipa::path(post, path = "/api/v1/general-authorizations/reliances", tag = "general-authorizations", request_body = NewReliance,
    responses((status = 201, body = Reliance), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn rely(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    ApiJson(n): ApiJson<NewReliance>,
) -> Result<Response, AppError> {
    let r = service::rely(&mut *state.conn().await?, &user, state.now(), &n).await?;
    let mut resp = (StatusCode::CREATED, ApiJson(&r)).into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/general-authorizations/reliances/{}", r.id)).expect("header-safe"),
    );
    Ok(resp)
}

/// A reliance with its acts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RelianceView {
    pub reliance: Reliance,
    pub acts: Vec<ActRow>,
}

/// A reliance with its standing today and every act.
#[utoipa::path(get, path = "/api/v1/general-authorizations/reliances/{id}", tag = "general-authorizations", params(("id" = Uuid, Path)),
    responses((status = 200, body = RelianceView), (status = 401), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn reliance(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<RelianceId>,
) -> Result<ApiJson<RelianceView>, AppError> {
    let (reliance, acts) = service::reliance(&mut *state.conn().await?, &user, state.now(), id).await?;
    Ok(ApiJson(RelianceView { reliance, acts }))
}

/// Records an act of a reliance (analysts, supervisors): a report filed (one filed after
/// its date still leaves reliance void from that date), a change of circumstance (its
/// reassessment due within 30 days), the reassessment, or the end. A stale `version` gets
/// 409.
#[utoipa::path(post, path = "/api/v1/general-authorizations/reliances/{id}/acts", tag = "general-authorizations", request_body = NewAct, params(("id" = Uuid, Path)),
    responses((status = 200, body = Reliance), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<RelianceId>,
    ApiJson(a): ApiJson<NewAct>,
) -> Result<ApiJson<Reliance>, AppError> {
    Ok(ApiJson(service::record(&mut *state.conn().await?, &user, state.now(), id, &a).await?))
}

/// The supplier list's filter: `?on=` for GA 3's list as it stood that day.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SupplierQuery {
    /// Only the suppliers listed on this day (`YYYY-MM-DD`); every application without it.
    #[param(value_type = Option<time::Date>)]
    pub on: Option<String>,
}

/// GA 3's supplier applications, newest first; with `?on=`, the approved-supplier list as
/// it stood that day.
#[utoipa::path(get, path = "/api/v1/general-authorizations/suppliers", tag = "general-authorizations", params(SupplierQuery),
    responses((status = 200, body = [Supplier]), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn suppliers(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<SupplierQuery>,
) -> Result<ApiJson<Vec<Supplier>>, AppError> {
    let mut conn = state.conn().await?;
    match q.on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(ApiJson(service::suppliers(&mut conn, &user).await?)),
        Some(t) => {
            let day =
                crate::dates::parse_date(t).ok_or_else(|| AppError::invalid("on", "give a date as YYYY-MM-DD"))?;
            Ok(ApiJson(service::listed_on(&mut conn, &user, day).await?))
        }
    }
}

/// Records a supplier's application for GA 3's list (analysts, supervisors); refused to a
/// PRC- or Russia-controlled supplier and to one listed or applying already.
#[utoipa::path(post, path = "/api/v1/general-authorizations/suppliers", tag = "general-authorizations", request_body = NewSupplier,
    responses((status = 201, body = Supplier), (status = 401), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn apply_supplier(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    ApiJson(n): ApiJson<NewSupplier>,
) -> Result<Response, AppError> {
    let s = service::apply_supplier(&mut *state.conn().await?, &user, state.now(), &n).await?;
    Ok((StatusCode::CREATED, ApiJson(&s)).into_response())
}

/// The office's decision on a supplier (a supervisor's): approved or denied, or a listed
/// supplier removed, dated, with the reason.
#[utoipa::path(post, path = "/api/v1/general-authorizations/suppliers/{id}/decision", tag = "general-authorizations", request_body = SupplierDecision, params(("id" = Uuid, Path)),
    responses((status = 200, body = Supplier), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn decide_supplier(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<SupplierId>,
    ApiJson(d): ApiJson<SupplierDecision>,
) -> Result<ApiJson<Supplier>, AppError> {
    Ok(ApiJson(service::decide_supplier(&mut *state.conn().await?, &user, state.now(), id, &d).await?))
}
