//! The API of agency notices and party submissions.

use crate::ids::{CaseId, NoticeId, SubmissionId};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::model::{AgencyNotice, MeetingOutcome, NewNotice, NewSubmission, NoticeResponse, Submission};
use super::{db, service as proceedings};
use crate::app::AppState;
use crate::cases::service::visible;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath};

/// The agency notices of a case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/agency-notices", tag = "interagency", params(("id" = Uuid, Path)),
    responses((status = 200, body = [AgencyNotice]), (status = 404)), security(("bearer" = [])))]
pub async fn notices(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<AgencyNotice>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::notices(&mut conn, id).await?))
}

/// Records a notice sent to an agency (first step: before service; second: the proposed
/// final determination).
#[utoipa::path(post, path = "/api/v1/cases/{id}/agency-notices", tag = "interagency", params(("id" = Uuid, Path)), request_body = NewNotice,
    responses((status = 201, body = AgencyNotice), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_notice(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
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
    AppPath(id): AppPath<NoticeId>,
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
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<Submission>>, AppError> {
    let mut conn = state.db.acquire().await?;
    visible(&mut conn, &user, id, false).await?;
    Ok(ApiJson(db::submissions(&mut conn, id).await?))
}

/// Records a party submission (written response, mitigation proposal, meeting request).
#[utoipa::path(post, path = "/api/v1/cases/{id}/submissions", tag = "submissions", params(("id" = Uuid, Path)), request_body = NewSubmission,
    responses((status = 201, body = Submission), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn add_submission(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
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
    AppPath(id): AppPath<SubmissionId>,
    ApiJson(m): ApiJson<MeetingOutcome>,
) -> Result<ApiJson<Submission>, AppError> {
    Ok(ApiJson(proceedings::record_meeting(&mut *state.conn().await?, &user, state.now(), id, m).await?))
}

/// An emergency deviation from the procedure, or the response marked complete.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatedAct {
    /// The date of the act, YYYY-MM-DD (today when absent).
    #[serde(default)]
    pub date: Option<String>,
    /// The written justification (an emergency deviation).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub justification: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

impl DatedAct {
    /// The date of the act, if given.
    pub fn date(&self) -> Result<Option<time::Date>, AppError> {
        let mut errors = Vec::new();
        let on = super::model::date(&mut errors, "date", self.date.as_deref(), false);
        if errors.is_empty() { Ok(on) } else { Err(AppError::Invalid(errors)) }
    }
}

/// Records an emergency deviation from the procedure (7.100(e) / 791.100(e); supervisors):
/// the response window then no longer holds the final determination back.
#[utoipa::path(post, path = "/api/v1/cases/{id}/deviations", tag = "interagency", params(("id" = Uuid, Path)), request_body = DatedAct,
    responses((status = 201), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn record_deviation(
    user: Authorized<perm::RecordDeviations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(a): ApiJson<DatedAct>,
) -> Result<StatusCode, AppError> {
    let on = a.date()?;
    let justification = a.justification.as_deref().unwrap_or("");
    proceedings::record_deviation(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        on,
        justification,
        a.late_reason.as_deref(),
    )
    .await?;
    Ok(StatusCode::CREATED)
}

/// Records that every served party filed its written response (the assigned analyst or a
/// supervisor).
#[utoipa::path(post, path = "/api/v1/cases/{id}/response-complete", tag = "interagency", params(("id" = Uuid, Path)), request_body = DatedAct,
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn mark_response_complete(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(a): ApiJson<DatedAct>,
) -> Result<StatusCode, AppError> {
    if a.justification.is_some() {
        return Err(AppError::invalid("justification", "applies only to an emergency deviation"));
    }
    let on = a.date()?;
    proceedings::mark_response_complete(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        on,
        a.late_reason.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
