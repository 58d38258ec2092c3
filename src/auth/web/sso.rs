//! Pages of single sign-on: the start (to the provider), the provider's answer, and what a
//! refused sign-in is told. The use cases are [`crate::auth::sso`]'s.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{safe_next, session_cookie};
use crate::app::AppState;
use crate::auth::sso::{self, Answer, Finished, Purpose, Refusal};
use crate::web::auth::{CurrentUser, MaybeUser, RequestMeta, cookie_name, cookie_value};
use crate::web::error::AppError;
use crate::web::extract::AppQuery;
use crate::web::layout::{Layout, render};

/// The cookie binding a sign-in at the provider to this browser, over HTTPS.
pub const BINDING_COOKIE_SECURE: &str = "__Host-icts_sso";
/// The same in plain-HTTP development mode.
pub const BINDING_COOKIE_DEV: &str = "icts_sso";

fn binding_cookie_name(state: &AppState) -> &'static str {
    if state.web.https { BINDING_COOKIE_SECURE } else { BINDING_COOKIE_DEV }
}

/// The binding cookie. `Lax`, not `Strict` like the session's: the provider's answer is a
/// navigation from another site, which must carry it.
fn binding_cookie(state: &AppState, value: &str, max_age: time::Duration) -> HeaderValue {
    let c = cookie::Cookie::build((binding_cookie_name(state), value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .max_age(max_age)
        .secure(state.web.https)
        .build();
    HeaderValue::from_str(&c.to_string()).expect("binding cookies are header-safe")
}

/// `?next=` and `?fresh=1` (ask the provider to authenticate again).
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
    fresh: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/sign_in_refused.html")]
pub(super) struct RefusedPage {
    pub(super) layout: Layout,
    /// The provider's name, for the button that starts again there (`again`, when any).
    pub(super) provider: String,
    pub(super) heading: String,
    pub(super) message: String,
    pub(super) again: String,
}

fn refused(state: &AppState, status: StatusCode, heading: &str, message: String, again: String) -> Response {
    let provider = state.sso.as_ref().map(|s| s.name().to_string()).unwrap_or_default();
    let page =
        RefusedPage { layout: Layout::new(&state.web, "/sign-in"), provider, heading: heading.into(), message, again };
    match render(&page) {
        Ok(mut r) => {
            *r.status_mut() = status;
            r.headers_mut().append(header::SET_COOKIE, binding_cookie(state, "", time::Duration::ZERO));
            r
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /sign-in/sso`: sends the browser to the provider with a new sign-in.
pub async fn start(
    State(state): State<AppState>,
    meta: RequestMeta,
    MaybeUser(user): MaybeUser,
    AppQuery(q): AppQuery<StartQuery>,
) -> Result<Response, AppError> {
    if state.sso.is_none() {
        return Err(AppError::NotFound);
    }
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    go_to_provider(&state, &meta, &next, Purpose::SignIn { fresh: q.fresh.is_some() }).await
}

async fn go_to_provider(
    state: &AppState,
    meta: &RequestMeta,
    next: &str,
    purpose: Purpose,
) -> Result<Response, AppError> {
    let Some(provider) = state.sso.clone() else { return Err(AppError::NotFound) };
    match provider.start(&state.db, state.now(), meta, next, purpose).await {
        Ok(started) => {
            let mut r = Redirect::to(started.url.as_str()).into_response();
            r.headers_mut().append(header::SET_COOKIE, binding_cookie(state, &started.binding, sso::LOGIN_LIFETIME));
            Ok(r)
        }
        Err(Refusal::Db(e)) => Err(e.into()),
        Err(refusal) => Ok(answer_refusal(state, &refusal, next)),
    }
}

/// `?next=` of the step-up.
#[derive(Debug, Deserialize)]
pub struct ReauthQuery {
    next: Option<String>,
}

/// `GET /account/reauth/sso`: the step-up through the provider, which authenticates the
/// user again (`prompt=login`, `max_age=0`); its answer re-authenticates this session.
pub async fn reauth(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<ReauthQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref());
    go_to_provider(&state, &user.meta, &next, Purpose::Reauth(user.session_id)).await
}

#[derive(Template)]
#[template(path = "auth/sso_done.html")]
struct DonePage {
    layout: Layout,
    next: String,
    /// A step-up rather than a sign-in.
    reauth: bool,
}

/// `GET /sign-in/sso/callback`: the provider's answer. Signed in, the browser gets its
/// session and a page that goes on to where it was going: a redirect here would still be
/// part of the provider's cross-site navigation, which does not carry the `Strict`
/// session cookie to the next page.
pub async fn callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppQuery(answer): AppQuery<Answer>,
) -> Result<Response, AppError> {
    let Some(provider) = state.sso.clone() else { return Err(AppError::NotFound) };
    let binding = cookie_value(&headers, binding_cookie_name(&state));
    let previous = cookie_value(&headers, cookie_name(&state));
    match provider.finish(&state.db, state.now(), &meta, binding.as_deref(), &answer, previous.as_deref()).await {
        Ok(done) => {
            let reauth = matches!(done, Finished::Reauthenticated { .. });
            let (next, session) = match done {
                Finished::SignedIn { signed, next } => (next, Some(signed.session)),
                Finished::Reauthenticated { next } => (next, None),
            };
            let next = safe_next(Some(&next));
            let mut r = render(&DonePage { layout: Layout::new(&state.web, "/sign-in"), next, reauth })?;
            if let Some(session) = session {
                r.headers_mut().append(header::SET_COOKIE, session_cookie(&state, &session));
            }
            r.headers_mut().append(header::SET_COOKIE, binding_cookie(&state, "", time::Duration::ZERO));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(Refusal::Db(e)) => Err(e.into()),
        Err(refusal) => Ok(answer_refusal(&state, &refusal, "/")),
    }
}

/// What a refused sign-in is told, and its status.
fn answer_refusal(state: &AppState, refusal: &Refusal, next: &str) -> Response {
    let name = state.sso.as_ref().map(|s| s.name().to_string()).unwrap_or_default();
    let again = format!(
        "/sign-in/sso?next={}",
        percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
    );
    match refusal {
        Refusal::UnknownIdentity { subject, email } => refused(
            state,
            StatusCode::FORBIDDEN,
            "No account for this identity",
            format!(
                "You signed in at {name} as {}, but no account of ICTS Review belongs to that identity. Accounts are created by an administrator: ask one to create yours with the e-mail address {name} has verified for you.",
                email.clone().unwrap_or_else(|| format!("the identity {subject}"))
            ),
            String::new(),
        ),
        Refusal::Assurance { required, .. } => refused(
            state,
            StatusCode::FORBIDDEN,
            "A stronger sign-in is needed",
            format!(
                "Your role signs in through {name} only with one of these methods: {}. Sign in again at {name} with one of them, such as a security key or your PIV card.",
                required.join(", ")
            ),
            format!("{again}&fresh=1"),
        ),
        Refusal::Deactivated { .. } => refused(
            state,
            StatusCode::FORBIDDEN,
            "This account cannot sign in",
            "The account is deactivated. If you need it, ask an administrator.".into(),
            String::new(),
        ),
        Refusal::NotStarted => refused(
            state,
            StatusCode::BAD_REQUEST,
            "This sign-in cannot be finished",
            format!(
                "The answer from {name} is not for a sign-in this browser started, came after more than 10 minutes, or was used already. Start the sign-in again."
            ),
            again,
        ),
        Refusal::Provider { error, description } => refused(
            state,
            StatusCode::UNAUTHORIZED,
            "You are not signed in",
            format!(
                "{name} did not sign you in ({error}{}).",
                description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
            ),
            again,
        ),
        Refusal::Throttled => refused(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-ins started",
            "Too many sign-ins were started from your address and not finished. Wait 10 minutes and try again.".into(),
            String::new(),
        ),
        Refusal::Unavailable(_) => refused(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "The sign-on service cannot be reached",
            format!("{name} cannot be reached now. Try again in a few minutes; if it lasts, tell an administrator."),
            again,
        ),
        Refusal::NotTheSessionUser => refused(
            state,
            StatusCode::FORBIDDEN,
            "The confirmation is not yours",
            format!(
                "To confirm it is you, sign in again at {name} as the user of this session. The confirmation was made as someone else, or {name} did not ask you to sign in again."
            ),
            String::new(),
        ),
        Refusal::StateMismatch
        | Refusal::IssuerMismatch
        | Refusal::CodeRefused(_)
        | Refusal::Token { .. }
        | Refusal::Db(_) => refused(
            state,
            StatusCode::BAD_REQUEST,
            "The sign-in could not be accepted",
            format!(
                "The answer from {name} did not pass this service's checks ({}). Start the sign-in again; if it happens again, tell an administrator.",
                refusal.reason().replace('_', " ")
            ),
            again,
        ),
    }
}
