//! The determinations API.

use crate::ids::CaseId;
use crate::ids::DeterminationId;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::service::{self, Draft};
use super::{Content, Determination, Kind, Outcome};
use crate::app::AppState;
use crate::choice::Choice;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, MaybeJson};

/// A new draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// What it is.
    #[schema(value_type = Kind)]
    pub kind: Choice<Kind>,
    /// What it decides: one of its kind's outcomes (initial: `prohibition` / `mitigation`;
    /// final and amendment: `prohibited` / `not_prohibited` / `permitted_with_mitigation`;
    /// revocation: `revoked`).
    #[schema(value_type = Outcome)]
    pub outcome: Choice<Outcome>,
    pub content: Content,
    /// Documents of the case cited (never classified-reference ones).
    #[serde(default)]
    pub cited_documents: Vec<crate::ids::DocumentId>,
    /// The drafter confirms the determination is unclassified (required).
    pub unclassified_confirmed: bool,
    /// The date drafting began, YYYY-MM-DD (today when absent).
    #[serde(default)]
    pub drafted_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// A revision of a draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviseRequest {
    /// The revision this one replaces (409 when stale).
    pub revision: i32,
    /// What it decides: one of its kind's outcomes.
    #[schema(value_type = Outcome)]
    pub outcome: Choice<Outcome>,
    /// Content (the whole of it).
    pub content: Content,
    /// Documents cited.
    #[serde(default)]
    pub cited_documents: Vec<crate::ids::DocumentId>,
    /// Confirmation that it is unclassified.
    pub unclassified_confirmed: bool,
}

/// A return to the drafter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// What must change (required).
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub comment: String,
}

/// Starts a draft determination on a case (the assigned analyst or a supervisor).
#[utoipa::path(post, path = "/api/v1/cases/{id}/determinations", tag = "determinations", params(("id" = Uuid, Path)), request_body = DraftRequest,
    responses((status = 201, body = Determination), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(r): ApiJson<DraftRequest>,
) -> Result<Response, AppError> {
    let kind = r.kind.or_invalid("kind", "must be initial, final, amendment or revocation")?;
    let d = service::create(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        kind,
        Draft {
            outcome: r.outcome.as_text(),
            content: r.content,
            cited_documents: r.cited_documents,
            unclassified_confirmed: r.unclassified_confirmed,
        },
        &crate::dates::When { on: r.drafted_on, late_reason: r.late_reason },
    )
    .await?;
    let mut resp = (StatusCode::CREATED, ApiJson(&d)).into_response();
    resp.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/determinations/{}", d.id)).expect("header-safe"),
    );
    Ok(resp)
}

/// The determinations of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/determinations", tag = "determinations", params(("id" = Uuid, Path)),
    responses((status = 200, body = [Determination]), (status = 404)), security(("bearer" = [])))]
pub async fn list(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Determination>>, AppError> {
    let mut conn = state.db.acquire().await?;
    crate::cases::service::visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(super::db::of_case(&mut conn, id).await?))
}

/// One determination.
#[utoipa::path(get, path = "/api/v1/determinations/{id}", tag = "determinations", params(("id" = Uuid, Path)),
    responses((status = 200, body = Determination), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
) -> Result<ApiJson<Determination>, AppError> {
    let mut conn = state.db.acquire().await?;
    Ok(ApiJson(service::get(&mut conn, &user, id, false).await?.0))
}

/// Saves a new revision of a draft (its drafter, until submission).
#[utoipa::path(patch, path = "/api/v1/determinations/{id}", tag = "determinations", params(("id" = Uuid, Path)), request_body = ReviseRequest,
    responses((status = 200, body = Determination), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn revise(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    ApiJson(r): ApiJson<ReviseRequest>,
) -> Result<ApiJson<Determination>, AppError> {
    let draft = Draft {
        outcome: r.outcome.as_text(),
        content: r.content,
        cited_documents: r.cited_documents,
        unclassified_confirmed: r.unclassified_confirmed,
    };
    Ok(ApiJson(service::revise(&mut *state.conn().await?, &user, state.now(), id, r.revision, draft).await?))
}

/// Submits a complete draft for signature.
#[utoipa::path(post, path = "/api/v1/determinations/{id}/submit", tag = "determinations", params(("id" = Uuid, Path)),
    responses((status = 200, body = Determination), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn submit(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
) -> Result<ApiJson<Determination>, AppError> {
    Ok(ApiJson(service::submit(&mut *state.conn().await?, &user, state.now(), id, state.mail).await?))
}

/// Signs a submitted determination: a supervisor who is not the drafter, after
/// `POST /api/v1/auth/reauth` within the last 5 minutes. The body (optional) states the
/// signer's title and the delegation they sign under; left out, those of their last
/// signature are used.
#[utoipa::path(post, path = "/api/v1/determinations/{id}/sign", tag = "determinations", params(("id" = Uuid, Path)),
    request_body(content = super::SignRequest, description = "optional"),
    responses((status = 200, body = Determination), (status = 403, description = "not a supervisor, the drafter, or no fresh re-authentication"),
    (status = 404), (status = 409, description = "not signable now: the reason is named"), (status = 422)), security(("bearer" = [])))]
pub async fn sign(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    MaybeJson(req): MaybeJson<super::SignRequest>,
) -> Result<ApiJson<Determination>, AppError> {
    Ok(ApiJson(service::sign(&mut *state.conn().await?, &user, state.now(), id, req, state.mail).await?))
}

/// Records a determination signed outside the system (on paper, or in the office's earlier
/// system): signer, title, authority, date and the signed copy (a document of the case). A
/// second supervisor confirms it.
#[utoipa::path(post, path = "/api/v1/determinations/{id}/outside-signature", tag = "determinations", params(("id" = Uuid, Path)),
    request_body = super::OutsideSignature,
    responses((status = 200, body = Determination), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_outside(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    ApiJson(s): ApiJson<super::OutsideSignature>,
) -> Result<ApiJson<Determination>, AppError> {
    Ok(ApiJson(service::record_outside(&mut *state.conn().await?, &user, state.now(), id, s, state.mail).await?))
}

/// Confirms a recorded outside signature: a second supervisor (not the one who recorded it,
/// not the drafter), after `POST /api/v1/auth/reauth` within the last 5 minutes.
#[utoipa::path(post, path = "/api/v1/determinations/{id}/confirm", tag = "determinations", params(("id" = Uuid, Path)),
    responses((status = 200, body = Determination), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn confirm_outside(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
) -> Result<ApiJson<Determination>, AppError> {
    Ok(ApiJson(service::confirm_outside(&mut *state.conn().await?, &user, state.now(), id, state.mail).await?))
}

/// Returns a submitted draft to its drafter with a comment.
#[utoipa::path(post, path = "/api/v1/determinations/{id}/return", tag = "determinations", params(("id" = Uuid, Path)), request_body = ReturnRequest,
    responses((status = 200, body = Determination), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn return_draft(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    ApiJson(r): ApiJson<ReturnRequest>,
) -> Result<ApiJson<Determination>, AppError> {
    Ok(ApiJson(service::return_draft(&mut *state.conn().await?, &user, state.now(), id, &r.comment, state.mail).await?))
}

/// The notice and publication of a determination.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NoticeAndPublication {
    /// Sent to the parties and agencies.
    pub sendings: Vec<super::Sending>,
    /// Federal Register publication, once recorded.
    pub publication: Option<super::Publication>,
}

/// How a determination was sent and where it was published.
#[utoipa::path(get, path = "/api/v1/determinations/{id}/notice", tag = "determinations", params(("id" = Uuid, Path)),
    responses((status = 200, body = NoticeAndPublication), (status = 404)), security(("bearer" = [])))]
pub async fn notice(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
) -> Result<ApiJson<NoticeAndPublication>, AppError> {
    let mut conn = state.db.acquire().await?;
    service::get(&mut conn, &user, id, false).await?;
    Ok(ApiJson(NoticeAndPublication {
        sendings: super::db::sendings(&mut conn, id).await?,
        publication: super::db::publication(&mut conn, id).await?,
    }))
}

/// Records that a signed final determination was sent to a party or an agency (7.109(e)).
#[utoipa::path(post, path = "/api/v1/determinations/{id}/sendings", tag = "determinations", params(("id" = Uuid, Path)), request_body = super::NewSending,
    responses((status = 201, body = super::Sending), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_sending(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    ApiJson(s): ApiJson<super::NewSending>,
) -> Result<(StatusCode, ApiJson<super::Sending>), AppError> {
    let sent = service::record_sending(&mut *state.conn().await?, &user, state.now(), id, s).await?;
    Ok((StatusCode::CREATED, ApiJson(sent)))
}

/// Records the Federal Register publication of a signed final determination (7.109(f)).
#[utoipa::path(post, path = "/api/v1/determinations/{id}/publication", tag = "determinations", params(("id" = Uuid, Path)), request_body = super::NewPublication,
    responses((status = 201, body = super::Publication), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_publication(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    ApiJson(p): ApiJson<super::NewPublication>,
) -> Result<(StatusCode, ApiJson<super::Publication>), AppError> {
    let published = service::record_publication(&mut *state.conn().await?, &user, state.now(), id, p).await?;
    Ok((StatusCode::CREATED, ApiJson(published)))
}
