//! Security keys and passkeys in the browser: the account page that registers (named),
//! lists and removes them, the second step of a sign-in answered by a key, a passkey alone
//! from the sign-in page, and the step-up with a key. The browser's side of each ceremony
//! is `static/webauthn.js`: it reads the options the page carries, asks the authenticator,
//! and posts its answer in the form's `credential` field.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{named_cookie, redirect_with_cookie, safe_next, session_cookie};
use crate::app::AppState;
use crate::auth::second_factor::{self, CodeError, Proof};
use crate::auth::security_keys;
use crate::auth::service::{self, SignInError};
use crate::auth::session::Kind;
use crate::error::DomainError;
use crate::web::auth::{RequestMeta, SignedIn, challenge_cookie_name, cookie_name, cookie_value};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::layout::show_time;
use crate::web::layout::{FormErrors, Layout, render};

/// Where the page sends the user to confirm who they are before adding or removing a key.
const REAUTH: &str = "/account/reauth?next=%2Faccount%2Fsecurity-keys";

/// A key as listed.
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: String,
}

#[derive(Template)]
#[template(path = "auth/security_keys.html")]
struct KeysPage {
    layout: Layout,
    csrf_token: String,
    keys: Vec<KeyView>,
    /// Whether keys can be used here at all (the public URL has a host name).
    available: bool,
    /// The user's role requires a key and the user has none yet.
    required: bool,
    errors: FormErrors,
    /// The name entered for a new key.
    key_name: String,
    /// A registration waiting for the authenticator: its options (JSON) and name.
    ceremony: String,
    done: String,
}

/// `?required=1`, `?done=added|removed`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    user: &SignedIn,
    errors: FormErrors,
    name: String,
    ceremony: String,
    done: String,
) -> Result<Response, AppError> {
    let keys = crate::accounts::db::security_keys(&mut *state.conn().await?, user.id).await?;
    let refused = !errors.is_empty();
    let mut r = render(&KeysPage {
        layout: Layout::for_user(&state.web, "/account/sessions", Some(user)),
        csrf_token: user.csrf_token.clone(),
        available: state.webauthn.is_some(),
        required: user.must_register_key,
        keys: keys
            .into_iter()
            .map(|k| KeyView {
                id: k.id.to_string(),
                name: k.name,
                added: show_time(k.created_at, &user.zone),
                last_used: k.last_used_at.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
            })
            .collect(),
        errors,
        key_name: name,
        ceremony,
        done,
    })?;
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// `GET /account/security-keys`.
pub async fn show(
    State(state): State<AppState>,
    user: SignedIn,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response, AppError> {
    page(&state, &user, FormErrors::default(), String::new(), String::new(), q.done.unwrap_or_default()).await
}

/// The form naming a new key.
#[derive(Debug, Deserialize)]
pub struct BeginForm {
    name: String,
}

/// `POST /account/security-keys`: starts registering a key; the page comes back with the
/// options for the authenticator.
pub async fn begin(
    State(state): State<AppState>,
    user: SignedIn,
    AppForm(form): AppForm<BeginForm>,
) -> Result<Response, AppError> {
    let Some(rp) = state.webauthn.clone() else { return Err(AppError::NotFound) };
    match security_keys::begin_registration(&state.db, state.now(), &user, &rp, &form.name).await {
        Ok(options) => {
            let json = super::script_json(&options)?;
            page(&state, &user, FormErrors::default(), form.name.trim().to_string(), json, String::new()).await
        }
        Err(DomainError::ReauthRequired) => Ok(Redirect::to(REAUTH).into_response()),
        Err(DomainError::Invalid(errors)) => {
            page(&state, &user, FormErrors(errors), form.name, String::new(), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The authenticator's answer.
#[derive(Debug, Deserialize)]
pub struct CredentialForm {
    credential: String,
    next: Option<String>,
}

/// `POST /account/security-keys/finish`: the authenticator's answer adds the key.
pub async fn finish(
    State(state): State<AppState>,
    user: SignedIn,
    AppForm(form): AppForm<CredentialForm>,
) -> Result<Response, AppError> {
    let Some(rp) = state.webauthn.clone() else { return Err(AppError::NotFound) };
    match security_keys::finish_registration(&state.db, state.now(), &user, &rp, &form.credential).await {
        Ok(_) => Ok(Redirect::to("/account/security-keys?done=added").into_response()),
        Err(DomainError::Invalid(errors)) => {
            page(&state, &user, FormErrors(errors), String::new(), String::new(), String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/security-keys/{id}/remove`.
pub async fn remove(
    State(state): State<AppState>,
    user: SignedIn,
    AppPath(id): AppPath<uuid::Uuid>,
    _: crate::web::extract::CsrfForm,
) -> Result<Response, AppError> {
    match security_keys::remove(&state.db, state.now(), &user, id).await {
        Ok(()) => Ok(Redirect::to("/account/security-keys?done=removed").into_response()),
        Err(DomainError::ReauthRequired) => Ok(Redirect::to(REAUTH).into_response()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/reauth/key`: the step-up answered by a key.
pub async fn reauth(
    State(state): State<AppState>,
    user: SignedIn,
    AppForm(form): AppForm<CredentialForm>,
) -> Result<Response, AppError> {
    let Some(rp) = state.webauthn.clone() else { return Err(AppError::NotFound) };
    let next = safe_next(form.next.as_deref());
    match security_keys::reauth(&state.db, state.now(), &user, &rp, &form.credential).await {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(DomainError::Invalid(errors)) => super::reauth_page_with(&state, &user, next, FormErrors(errors)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /sign-in/key`: the second step of a sign-in (or a passkey alone) answered by a
/// key.
pub async fn sign_in_key(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppForm(form): AppForm<CredentialForm>,
) -> Result<Response, AppError> {
    let Some(rp) = state.webauthn.clone() else { return Err(AppError::NotFound) };
    let Some(secret) = cookie_value(&headers, challenge_cookie_name(&state)) else {
        return super::code_gone(&state, None);
    };
    let previous = cookie_value(&headers, cookie_name(&state));
    let proof = Proof::Key { rp: &rp, credential: &form.credential };
    match second_factor::answer(&state.db, state.now(), &meta, &secret, proof, Kind::Browser, previous.as_deref()).await
    {
        Ok(done) => {
            let to = safe_next(done.next.as_deref());
            let mut r = redirect_with_cookie(&to, session_cookie(&state, &done.signed.session));
            r.headers_mut().append(
                header::SET_COOKIE,
                named_cookie(&state, challenge_cookie_name(&state), "", time::Duration::ZERO),
            );
            Ok(r)
        }
        Err(CodeError::Wrong { tries_left }) => {
            let message = format!(
                "was not from a key of this account, or the key did not verify you: try again ({tries_left} {} left before you sign in again)",
                if tries_left == 1 { "try" } else { "tries" }
            );
            let mut r =
                super::code_page_with(&state, &secret, FormErrors(vec![FieldError::new("credential", message)]))
                    .await?;
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(r)
        }
        Err(CodeError::Gone { next }) => super::code_gone(&state, next.as_deref()),
        Err(CodeError::Db(e)) => Err(e.into()),
    }
}

/// The passkey form of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct PasskeyForm {
    email: String,
    next: Option<String>,
}

/// `POST /sign-in/passkey`: a sign-in with a passkey alone; the account's key is asked
/// for on the next page.
pub async fn passkey(
    State(state): State<AppState>,
    meta: RequestMeta,
    AppForm(form): AppForm<PasskeyForm>,
) -> Result<Response, AppError> {
    if state.webauthn.is_none() {
        return Err(AppError::NotFound);
    }
    let next = safe_next(form.next.as_deref());
    match service::start_passkey_sign_in(&state.db, state.now(), &meta, &form.email, Some(&next)).await {
        Ok(challenge) => Ok(redirect_with_cookie(
            "/sign-in/code",
            named_cookie(&state, challenge_cookie_name(&state), &challenge.secret, second_factor::CHALLENGE_LIFETIME),
        )),
        Err(SignInError::Db(e)) => Err(e.into()),
        Err(SignInError::Throttled) => super::sign_in_refused(
            &state,
            &form.email,
            next,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts from your address. Wait 15 minutes and try again.".into(),
        ),
        Err(_) => super::sign_in_refused(
            &state,
            &form.email,
            next,
            StatusCode::UNAUTHORIZED,
            "No passkey is registered for this e-mail address, or the account cannot sign in now. Sign in with your password, then add a passkey on your account page.".into(),
        ),
    }
}
