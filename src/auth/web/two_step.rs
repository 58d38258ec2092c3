//! The account page's two-step sign-in: setting up an authenticator app (a QR code and a
//! key, confirmed by a first code), the recovery codes shown once, and removing both.
//! Removing them and replacing the recovery codes need the password again within 5
//! minutes, as signing does.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::second_factor::{self, Enrolment, NewRecoveryCodes};
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::extract::{AppForm, AppQuery, CsrfForm};
use crate::web::layout::show_time;
use crate::web::layout::{FormErrors, Layout, render};

/// Where the page sends the user to re-enter the password before setting up, removing or
/// replacing.
const REAUTH: &str = "/account/reauth?next=%2Faccount%2Ftwo-step";

/// The answer to a refused act of this page: the re-authentication page when the act
/// needs the password again first, else the error.
fn refused(e: crate::error::DomainError) -> Result<Response, AppError> {
    match e {
        crate::error::DomainError::ReauthRequired => Ok(Redirect::to(REAUTH).into_response()),
        e => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/two_step.html")]
struct TwoStepPage {
    layout: Layout,
    csrf_token: String,
    /// Whether one-time codes are on.
    on: bool,
    since: String,
    last_used: String,
    recovery_left: i64,
    recovery_last_used: String,
    /// The name of the current set of recovery codes, which the form that replaces it
    /// carries.
    recovery_set: String,
    /// A set-up waiting for its first code.
    pending: Option<Enrolment>,
    /// Recovery codes to show, once.
    codes: Vec<String>,
    errors: FormErrors,
    /// What just happened (`removed`, `recovery-code`, `enrolled`, `recovery-codes`), or was
    /// refused (`already-replaced`).
    done: String,
    /// Whether the password was re-entered within 5 minutes.
    reauth_fresh: bool,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    codes: Vec<String>,
    errors: FormErrors,
    done: String,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let m = crate::accounts::db::second_factors(&mut conn, user.id).await?;
    let pending = if m.totp_pending { second_factor::pending(&mut conn, user).await? } else { None };
    let recovery_set = second_factor::recovery_set(&mut conn, user.id).await?;
    let when = |t: Option<time::OffsetDateTime>| t.map(|t| show_time(t, &user.zone)).unwrap_or_default();
    let refused = !errors.is_empty();
    let mut r = render(&TwoStepPage {
        layout: Layout::for_user(&state.web, "/account/sessions", Some(user)),
        csrf_token: user.csrf_token.clone(),
        on: m.totp_since.is_some(),
        since: when(m.totp_since),
        last_used: when(m.totp_last_used),
        recovery_left: m.recovery_left,
        recovery_last_used: when(m.recovery_last_used),
        recovery_set,
        pending,
        codes,
        errors,
        done,
        reauth_fresh: user.require_recent_reauth(state.now()).is_ok(),
    })?;
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// `?done=` after an act of this page.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /account/two-step`.
pub async fn two_step_page(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<DoneQuery>,
) -> Result<Response, AppError> {
    let done = q.done.filter(|d| ["removed", "recovery-code"].contains(&d.as_str())).unwrap_or_default();
    page(&state, &user, Vec::new(), FormErrors::default(), done).await
}

/// `POST /account/two-step/begin`: a new key to set up (any earlier unconfirmed one is
/// replaced), after the password again within 5 minutes.
pub async fn two_step_begin(
    State(state): State<AppState>,
    user: CurrentUser,
    _: CsrfForm,
) -> Result<Response, AppError> {
    match second_factor::begin(&mut *state.conn().await?, &user, state.now()).await {
        Ok(_) => Ok(Redirect::to("/account/two-step").into_response()),
        Err(e) => refused(e),
    }
}

/// The first code of a new authenticator.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    code: String,
}

/// `POST /account/two-step/confirm`: a right first code turns one-time codes on and shows
/// the recovery codes, once.
pub async fn two_step_confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    AppForm(form): AppForm<ConfirmForm>,
) -> Result<Response, AppError> {
    match second_factor::confirm(&mut *state.conn().await?, &user, state.now(), &form.code)
        .await
        .map_err(AppError::from)
    {
        Ok(codes) => page(&state, &user, codes, FormErrors::default(), "enrolled".into()).await,
        Err(AppError::Invalid(errors)) => page(&state, &user, Vec::new(), FormErrors(errors), String::new()).await,
        Err(e) => Err(e),
    }
}

/// The request for new recovery codes.
#[derive(Debug, Deserialize)]
pub struct RecoveryCodesForm {
    /// The set the page showed as current ([`second_factor::recovery_set`]).
    replacing: String,
}

/// `POST /account/two-step/recovery-codes`: ten new recovery codes in place of the set the
/// form names, shown in this answer (they are secrets: no redirect can carry them). The same
/// form posted again (a refresh, the back button) names a set that is gone: it is answered
/// 409 with the page and a notice that the codes shown after the last request are in force,
/// and nothing is written.
pub async fn two_step_recovery_codes(
    State(state): State<AppState>,
    user: CurrentUser,
    AppForm(form): AppForm<RecoveryCodesForm>,
) -> Result<Response, AppError> {
    let made = second_factor::new_recovery_codes(&mut *state.conn().await?, &user, state.now(), &form.replacing).await;
    match made {
        Ok(NewRecoveryCodes::Made(codes)) => {
            page(&state, &user, codes, FormErrors::default(), "recovery-codes".into()).await
        }
        Ok(NewRecoveryCodes::AlreadyReplaced) => {
            let mut r = page(&state, &user, Vec::new(), FormErrors::default(), "already-replaced".into()).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => refused(e),
    }
}

/// `POST /account/two-step/remove`: one-time codes off; the password alone signs in.
pub async fn two_step_remove(
    State(state): State<AppState>,
    user: CurrentUser,
    _: CsrfForm,
) -> Result<Response, AppError> {
    match second_factor::remove(&mut *state.conn().await?, &user, state.now()).await {
        Ok(()) => Ok(Redirect::to("/account/two-step?done=removed").into_response()),
        Err(e) => refused(e),
    }
}
