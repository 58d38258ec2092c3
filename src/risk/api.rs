//! The risk API: rubrics, assessments, band overrides and nexus findings.

use crate::ids::{AssessmentId, CaseId, OverrideId};
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::model::{Band, Rubric, RubricDefinition};
use super::service::{self, Assessment, CriterionScore, NexusFinding, NexusItem};
use crate::app::AppState;
use crate::cases::workflow::Answer;
use crate::choice::Choice;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath};

/// The current rubric version.
#[utoipa::path(get, path = "/api/v1/rubrics/current", tag = "risk", responses((status = 200, body = Rubric)), security(("bearer" = [])))]
pub async fn current(
    _user: crate::web::auth::CurrentUser,
    State(state): State<AppState>,
) -> Result<ApiJson<Rubric>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(service::current_rubric(&mut conn).await?))
}

/// One rubric version.
#[utoipa::path(get, path = "/api/v1/rubrics/{version}", tag = "risk", params(("version" = i32, Path)), responses((status = 200, body = Rubric), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    _user: crate::web::auth::CurrentUser,
    State(state): State<AppState>,
    AppPath(version): AppPath<i32>,
) -> Result<ApiJson<Rubric>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(service::rubric(&mut conn, version).await?.ok_or(AppError::NotFound)?))
}

/// A new rubric version.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRubric {
    #[schema(value_type = crate::text::Text<{ crate::risk::service::RUBRIC_NAME_MAX }>, inline)]
    pub name: String,
    /// Criteria and thresholds.
    pub definition: RubricDefinition,
}

/// Creates the next rubric version (administrators); existing versions never change.
#[utoipa::path(post, path = "/api/v1/rubrics", tag = "risk", request_body = NewRubric, responses((status = 201), (status = 422), (status = 403)), security(("bearer" = [])))]
pub async fn create(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    ApiJson(r): ApiJson<NewRubric>,
) -> Result<Response, AppError> {
    let version = service::create_rubric(&mut *state.conn().await?, &user, state.now(), &r.name, r.definition).await?;
    let mut resp = (StatusCode::CREATED, ApiJson(json!({"version": version}))).into_response();
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&format!("/api/v1/rubrics/{version}")).expect("header-safe"));
    Ok(resp)
}

/// An assessment request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRequest {
    /// Criterion code → score and rationale.
    pub scores: BTreeMap<String, CriterionScore>,
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub narrative: String,
    /// The date of the assessment, YYYY-MM-DD (today when absent).
    #[serde(default)]
    pub assessed_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// Records an assessment of a case under the current rubric.
#[utoipa::path(post, path = "/api/v1/cases/{id}/assessments", tag = "risk", params(("id" = Uuid, Path)), request_body = AssessmentRequest,
    responses((status = 201, body = Assessment), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn assess(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(r): ApiJson<AssessmentRequest>,
) -> Result<Response, AppError> {
    let when = crate::dates::When { on: r.assessed_on, late_reason: r.late_reason };
    let a = service::assess(&mut *state.conn().await?, &user, state.now(), id, r.scores, &r.narrative, &when).await?;
    Ok((StatusCode::CREATED, ApiJson(a)).into_response())
}

/// The assessments of a case, newest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/assessments", tag = "risk", params(("id" = Uuid, Path)), responses((status = 200, body = [Assessment]), (status = 404)), security(("bearer" = [])))]
pub async fn list(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Assessment>>, AppError> {
    let mut conn = state.db.acquire().await?;
    crate::cases::service::visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(service::assessments(&mut conn, id).await?))
}

/// A proposed band override.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// The band proposed instead of the computed one.
    #[schema(value_type = Band)]
    pub band: Choice<Band>,
    /// Why.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub justification: String,
}

/// Proposes a band other than the computed one.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/override", tag = "risk", params(("id" = Uuid, Path)), request_body = OverrideRequest,
    responses((status = 201), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn propose(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<AssessmentId>,
    ApiJson(o): ApiJson<OverrideRequest>,
) -> Result<Response, AppError> {
    let band = o.band.or_invalid("band", "must be low, moderate, high or critical")?;
    let oid =
        service::propose_override(&mut *state.conn().await?, &user, state.now(), id, band, &o.justification).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"id": oid}))).into_response())
}

/// A supervisor's decision on an override.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Approve (true) or refuse (false).
    pub approve: bool,
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub comment: String,
}

/// Approves or refuses an override (a supervisor other than the proposer).
#[utoipa::path(post, path = "/api/v1/overrides/{id}/decision", tag = "risk", params(("id" = Uuid, Path)), request_body = DecisionRequest,
    responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn decide(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OverrideId>,
    ApiJson(d): ApiJson<DecisionRequest>,
) -> Result<StatusCode, AppError> {
    service::decide_override(&mut *state.conn().await?, &user, state.now(), id, d.approve, &d.comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A nexus finding.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NexusRequest {
    /// Criterion (`ownership`, `facilities`, `personnel_ties`, `adversary_law`, `operation_control`) → finding.
    pub criteria: BTreeMap<String, NexusItem>,
    /// Whether the nexus is found.
    #[schema(value_type = Answer)]
    pub conclusion: Choice<Answer>,
    /// The conclusion in words.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub summary: String,
    /// The date of the finding, YYYY-MM-DD (today when absent).
    #[serde(default)]
    pub found_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// Records the case's foreign-adversary nexus finding.
#[utoipa::path(post, path = "/api/v1/cases/{id}/nexus", tag = "risk", params(("id" = Uuid, Path)), request_body = NexusRequest,
    responses((status = 201, body = NexusFinding), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn record_nexus(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(n): ApiJson<NexusRequest>,
) -> Result<Response, AppError> {
    let conclusion = n.conclusion.or_invalid("conclusion", "must be yes or no")?;
    let when = crate::dates::When { on: n.found_on, late_reason: n.late_reason };
    let f = service::record_nexus(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        n.criteria,
        conclusion,
        &n.summary,
        &when,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(f)).into_response())
}

/// The case's current nexus finding.
#[utoipa::path(get, path = "/api/v1/cases/{id}/nexus", tag = "risk", params(("id" = Uuid, Path)), responses((status = 200, body = NexusFinding), (status = 404)), security(("bearer" = [])))]
pub async fn get_nexus(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<NexusFinding>, AppError> {
    let mut conn = state.db.acquire().await?;
    crate::cases::service::visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(service::current_nexus(&mut conn, id).await?.ok_or(AppError::NotFound)?))
}
