//! The parties API, and the case endpoints that link parties and record transactions.

use crate::ids::{CaseId, HitId, PartyId};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::screening_service::{self, Hit, ListVersion};
use super::{CaseLink, ChainLink, Evidence, EvidenceInput, Party, PartyInput, PartyRole};
use crate::app::AppState;
use crate::cases::transactions::{self, Transaction, TransactionInput};
use crate::choice::Choice;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// Search parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartyQuery {
    /// Part of a legal name or alias.
    pub q: Option<String>,
}

/// Lists parties (up to 200), optionally by name.
#[utoipa::path(get, path = "/api/v1/parties", tag = "parties", params(PartyQuery), responses((status = 200, body = [Party])), security(("bearer" = [])))]
pub async fn list(
    _user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<PartyQuery>,
) -> Result<ApiJson<Vec<Party>>, AppError> {
    let q = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(200).collect::<String>());
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(super::list(&mut conn, q.as_deref(), 200).await?))
}

/// Registers a party.
#[utoipa::path(post, path = "/api/v1/parties", tag = "parties", request_body = PartyInput, responses((status = 201, body = Party), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PartyInput>,
) -> Result<Response, AppError> {
    let valid = input.parse().map_err(AppError::Invalid)?;
    let party = super::create(&mut *state.conn().await?, &user, state.now(), &state.screening, valid).await?;
    let mut r = (StatusCode::CREATED, ApiJson(&party)).into_response();
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/parties/{}", party.id)).expect("header-safe"),
    );
    Ok(r)
}

/// A party with its ownership chain, nexus evidence and visible cases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartyDetail {
    /// The party.
    pub party: Party,
    /// From the party up to its ultimate parent.
    pub ownership_chain: Vec<ChainLink>,
    /// Adversary-nexus evidence.
    pub evidence: Vec<Evidence>,
    /// Cases (only those the requester may see).
    pub cases: Vec<CaseLink>,
}

/// One party.
#[utoipa::path(get, path = "/api/v1/parties/{id}", tag = "parties", params(("id" = Uuid, Path)), responses((status = 200, body = PartyDetail), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
) -> Result<ApiJson<PartyDetail>, AppError> {
    let mut conn = state.db.acquire().await?;
    let party = super::get(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    Ok(ApiJson(PartyDetail {
        party,
        ownership_chain: super::ownership_chain(&mut conn, id).await?,
        evidence: super::evidence(&mut conn, id).await?,
        cases: super::cases_of(&mut conn, id, &user).await?,
    }))
}

/// Edits a party: the full record with the `version` it started from.
#[utoipa::path(patch, path = "/api/v1/parties/{id}", tag = "parties", params(("id" = Uuid, Path)), request_body = PartyInput,
    responses((status = 200, body = Party), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn patch(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    ApiJson(input): ApiJson<PartyInput>,
) -> Result<ApiJson<Party>, AppError> {
    let version = input.version.ok_or_else(|| AppError::invalid("version", "send the version you started from"))?;
    let valid = input.parse().map_err(AppError::Invalid)?;
    Ok(ApiJson(
        super::update(&mut *state.conn().await?, &user, state.now(), &state.screening, id, version, valid).await?,
    ))
}

/// Records adversary-nexus evidence for a party.
#[utoipa::path(post, path = "/api/v1/parties/{id}/evidence", tag = "parties", params(("id" = Uuid, Path)), request_body = EvidenceInput,
    responses((status = 201, description = "{\"id\": ...}"), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn add_evidence(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
    ApiJson(e): ApiJson<EvidenceInput>,
) -> Result<Response, AppError> {
    let eid = super::add_evidence(&mut *state.conn().await?, &user, state.now(), id, &e).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"id": eid}))).into_response())
}

/// Links a party to a case.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub party_id: PartyId,
    /// The part the party plays in the case.
    #[schema(value_type = PartyRole)]
    pub role: Choice<PartyRole>,
}

/// Links a party to a case with a role.
#[utoipa::path(post, path = "/api/v1/cases/{id}/parties", tag = "cases", params(("id" = Uuid, Path)), request_body = LinkRequest,
    responses((status = 201), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn link(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(l): ApiJson<LinkRequest>,
) -> Result<StatusCode, AppError> {
    let role = l.role.or_invalid("role", "must be supplier, us_counterparty, owner or intermediary")?;
    crate::cases::service::link_party(&mut *state.conn().await?, &user, state.now(), id, l.party_id, role).await?;
    Ok(StatusCode::CREATED)
}

/// The transactions a case reviews.
#[utoipa::path(get, path = "/api/v1/cases/{id}/transactions", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = [Transaction]), (status = 404)), security(("bearer" = [])))]
pub async fn list_transactions(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Transaction>>, AppError> {
    let mut conn = state.db.acquire().await?;
    crate::cases::service::visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(transactions::of_case(&mut conn, id).await?))
}

/// Records a transaction on a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/transactions", tag = "cases", params(("id" = Uuid, Path)), request_body = TransactionInput,
    responses((status = 201, description = "{\"id\": ...}"), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn add_transaction(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(t): ApiJson<TransactionInput>,
) -> Result<Response, AppError> {
    let known = crate::cases::reference::data_category_codes(&state.db).await?;
    let valid = t.parse(&known).map_err(AppError::Invalid)?;
    let tid = transactions::create(&mut *state.conn().await?, &user, state.now(), id, valid).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"id": tid}))).into_response())
}

/// Consolidation request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsolidateRequest {
    /// The case whose transactions move into this one (it is then closed).
    pub from: CaseId,
}

/// Consolidates another case into this one (supervisors).
#[utoipa::path(post, path = "/api/v1/cases/{id}/consolidate", tag = "cases", params(("id" = Uuid, Path)), request_body = ConsolidateRequest,
    responses((status = 200, description = "{\"transactions_moved\": n}"), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn consolidate(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(c): ApiJson<ConsolidateRequest>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    let moved = transactions::consolidate(&mut *state.conn().await?, &user, state.now(), id, c.from).await?;
    Ok(ApiJson(json!({"transactions_moved": moved})))
}

/// The imported list versions.
#[utoipa::path(get, path = "/api/v1/screening/lists", tag = "screening", responses((status = 200, body = [ListVersion])), security(("bearer" = [])))]
pub async fn lists_api(
    _user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<ListVersion>>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(screening_service::lists(&mut conn).await?))
}

/// A party's screening hits.
#[utoipa::path(get, path = "/api/v1/parties/{id}/screening", tag = "screening", params(("id" = Uuid, Path)), responses((status = 200, body = [Hit]), (status = 404)), security(("bearer" = [])))]
pub async fn party_hits(
    _user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<PartyId>,
) -> Result<ApiJson<Vec<Hit>>, AppError> {
    let mut conn = state.db.acquire().await?;
    super::get(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    Ok(ApiJson(screening_service::hits_of_party(&mut conn, id).await?))
}

/// A decision on a hit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HitDecision {
    /// Whether the hit is the party.
    #[schema(value_type = HitVerdict)]
    pub decision: Choice<HitVerdict>,
    /// Why.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub reason: String,
}

/// What a screener decides on a hit (not stored as such: the hit's status says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HitVerdict {
    /// The hit is the party: confirmed.
    Confirm,
    /// The hit is someone else: dismissed.
    Dismiss,
}

impl HitVerdict {
    /// Both decisions.
    pub const ALL: [HitVerdict; 2] = [HitVerdict::Confirm, HitVerdict::Dismiss];

    /// The name sent by the form and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            HitVerdict::Confirm => "confirm",
            HitVerdict::Dismiss => "dismiss",
        }
    }

    /// The decision named `s`, if any.
    pub fn parse(s: &str) -> Option<HitVerdict> {
        HitVerdict::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Whether `d` confirms the hit (`false`: dismisses it).
pub(super) fn parse_decision(d: &Choice<HitVerdict>) -> Result<bool, AppError> {
    Ok(d.or_invalid("decision", "must be confirm or dismiss")? == HitVerdict::Confirm)
}

/// Confirms or dismisses a hit, with a reason.
#[utoipa::path(post, path = "/api/v1/screening/hits/{id}", tag = "screening", params(("id" = Uuid, Path)), request_body = HitDecision,
    responses((status = 200), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn decide_api(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<HitId>,
    ApiJson(d): ApiJson<HitDecision>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    let confirm = parse_decision(&d.decision)?;
    let party =
        screening_service::decide_hit(&mut *state.conn().await?, &user, state.now(), id, confirm, &d.reason).await?;
    Ok(ApiJson(json!({"party": party, "status": if confirm { "confirmed" } else { "dismissed" }})))
}
