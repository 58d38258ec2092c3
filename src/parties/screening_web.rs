//! Screening pages and API: the administrators' list upload, the lists, a party's hits,
//! and confirming or dismissing a hit.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::screening_service::{self, Hit, ListVersion};
use crate::app::AppState;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppForm, AppPath};
use crate::web::layout::{Layout, render};

/// The small list in the Consolidated Screening List's format shipped for tests and the
/// demo (publicly known listed entities; nothing is downloaded at run time).
pub const SAMPLE_LIST: &str = include_str!("csl-sample.csv");

#[derive(Template)]
#[template(path = "admin/screening.html")]
struct ListsPage {
    layout: Layout,
    lists: Vec<ListVersion>,
    message: String,
    message_is_error: bool,
    csrf_token: String,
}

async fn lists_page(
    state: &AppState,
    user: &SignedIn,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let lists = screening_service::lists(&mut conn).await?;
    let mut r = render(&ListsPage {
        layout: Layout::for_user(&state.web, "/admin/screening", Some(user)),
        lists,
        message,
        message_is_error: is_error,
        csrf_token: user.csrf_token.clone(),
    })?;
    *r.status_mut() = status;
    Ok(r)
}

/// `GET /admin/screening` (administrators).
pub async fn lists_admin(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    lists_page(&state, &user, String::new(), false, StatusCode::OK).await
}

/// `POST /admin/screening` (administrators): upload a list file (multipart, field `file`).
pub async fn upload(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload is not a valid form: {e}")))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.csv").chars().take(200).collect::<String>();
            let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let Some((name, bytes)) = file.filter(|f| !f.1.is_empty()) else {
        return lists_page(
            &state,
            &user,
            "file: choose a list file (CSV)".into(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if std::str::from_utf8(&bytes).is_err() {
        return lists_page(
            &state,
            &user,
            "file: is not a UTF-8 text (CSV) file".into(),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match screening_service::import_list(
        &mut *state.conn().await?,
        state.now(),
        &user.audit(),
        Some(user.id),
        &name,
        &bytes,
        state.screening.threshold,
    )
    .await
    .map_err(AppError::from)
    {
        Ok((version, parties, cases)) => {
            let m = format!(
                "List version {version} imported: {parties} parties with new hits, {cases} open cases flagged."
            );
            lists_page(&state, &user, m, false, StatusCode::OK).await
        }
        Err(AppError::Invalid(e)) => {
            let m = e.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            lists_page(&state, &user, format!("The file was refused: {m}"), true, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(e) => Err(e),
    }
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
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiJson<Vec<Hit>>, AppError> {
    let mut conn = state.db.acquire().await?;
    super::get(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    Ok(ApiJson(screening_service::hits_of_party(&mut conn, id).await?))
}

/// A decision on a hit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HitDecision {
    /// `confirm` or `dismiss`.
    pub decision: String,
    /// Why.
    pub reason: String,
}

fn parse_decision(d: &str) -> Result<bool, AppError> {
    match d.trim() {
        "confirm" => Ok(true),
        "dismiss" => Ok(false),
        _ => Err(AppError::invalid("decision", "must be confirm or dismiss")),
    }
}

/// Confirms or dismisses a hit, with a reason.
#[utoipa::path(post, path = "/api/v1/screening/hits/{id}", tag = "screening", params(("id" = Uuid, Path)), request_body = HitDecision,
    responses((status = 200), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn decide_api(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    ApiJson(d): ApiJson<HitDecision>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    let confirm = parse_decision(&d.decision)?;
    let party =
        screening_service::decide_hit(&mut *state.conn().await?, &user, state.now(), id, confirm, &d.reason).await?;
    Ok(ApiJson(json!({"party": party, "status": if confirm { "confirmed" } else { "dismissed" }})))
}

/// The decision form on the party page.
#[derive(Debug, Deserialize)]
pub struct HitForm {
    decision: String,
    reason: String,
    party_id: Uuid,
}

/// `POST /screening/hits/{id}`.
pub async fn decide_page(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<HitForm>,
) -> Result<Response, AppError> {
    let result = match parse_decision(&f.decision) {
        Ok(c) => screening_service::decide_hit(&mut *state.conn().await?, &user, state.now(), id, c, &f.reason)
            .await
            .map_err(AppError::from)
            .map(|_| ()),
        Err(e) => Err(e),
    };
    super::web::back_to_party(&state, &user, f.party_id, result, "Screening hit decided.").await
}
