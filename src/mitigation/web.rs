//! The mitigation forms of the proceedings page: propose a measure, move its status,
//! record a compliance check. Each goes back to the proceedings page: with its confirmation
//! when it was done, with its refusal (the panel open, what was typed kept) when not.

use crate::ids::CaseId;
use crate::ids::DocumentId;
use crate::ids::MeasureId;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::model::{NewCheck, NewMeasure, StatusChange};
use super::service;
use crate::app::AppState;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppFormKept, AppPath};
use crate::web::layout::answer_form;

/// The measure form.
#[derive(Debug, Deserialize)]
pub struct MeasureForm {
    kind: String,
    description: String,
    owner: String,
    #[serde(default)]
    due_on: Option<String>,
}

/// `POST /cases/{id}/measures`.
pub async fn add_measure(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppFormKept(f, body): AppFormKept<MeasureForm>,
) -> Result<Response, AppError> {
    let m =
        NewMeasure { kind: f.kind, description: f.description, owner: f.owner, due_on: f.due_on, submission_id: None };
    let result = service::add(&mut *state.conn().await?, &user, state.now(), id, m).await.map(|_| ());
    answer_form(&state.web, &user, result, "Measure recorded.", &format!("/cases/{id}/proceedings"), |o| {
        crate::proceedings::web::proceedings_after(&state, &user, id, o, "measure", "m-", &body)
    })
    .await
}

/// The measure status form.
#[derive(Debug, Deserialize)]
pub struct MeasureStatusForm {
    status: String,
    #[serde(default)]
    comment: String,
    version: i32,
    case_id: CaseId,
    #[serde(default)]
    changed_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /measures/{id}/status`.
pub async fn measure_status(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MeasureId>,
    AppFormKept(f, body): AppFormKept<MeasureStatusForm>,
) -> Result<Response, AppError> {
    let s = StatusChange {
        status: crate::choice::Choice::named(f.status.trim()),
        comment: f.comment,
        version: f.version,
        changed_on: f.changed_on,
        late_reason: f.late_reason,
    };
    let result =
        service::set_status(&mut *state.conn().await?, &user, state.now(), id, s, state.mail).await.map(|_| ());
    answer_form(&state.web, &user, result, "Measure updated.", &format!("/cases/{}/proceedings", f.case_id), |o| {
        crate::proceedings::web::proceedings_after(
            &state,
            &user,
            f.case_id,
            o,
            format!("status-{id}"),
            format!("st-{id}-"),
            &body,
        )
    })
    .await
}

/// The compliance check form.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    checked_on: String,
    result: String,
    finding: String,
    #[serde(default)]
    document_id: Option<String>,
    case_id: CaseId,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /measures/{id}/checks`.
pub async fn add_check(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MeasureId>,
    AppFormKept(f, body): AppFormKept<CheckForm>,
) -> Result<Response, AppError> {
    let document_id = match f.document_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<DocumentId>().map_err(|_| AppError::invalid("document_id", "choose a document"))?),
        None => None,
    };
    let k = NewCheck {
        checked_on: f.checked_on,
        result: crate::choice::Choice::named(f.result.trim()),
        finding: f.finding,
        document_id,
        late_reason: f.late_reason,
    };
    let result = service::add_check(&mut *state.conn().await?, &user, state.now(), id, k, state.mail).await.map(|_| ());
    answer_form(
        &state.web,
        &user,
        result,
        "Compliance check recorded.",
        &format!("/cases/{}/proceedings", f.case_id),
        |o| {
            crate::proceedings::web::proceedings_after(
                &state,
                &user,
                f.case_id,
                o,
                format!("check-{id}"),
                format!("ck-{id}-"),
                &body,
            )
        },
    )
    .await
}
