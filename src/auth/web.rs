//! Pages: sign-in, sign-out, change password, re-authenticate, my sessions and time zone.
//! The administrators' account pages are `accounts::web`.

pub mod piv;
pub mod security_keys;
pub mod sso;
pub mod two_step;

use crate::ids::SessionId;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::service::{self, SignInError, SignInStep};
use super::session::{self, Created, Kind};
use crate::app::AppState;
use crate::web::auth::{
    CurrentUser, MaybeUser, RequestMeta, SignedIn, challenge_cookie_name, cookie_name, cookie_value,
};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery, CsrfForm};
use crate::web::layout::{FormErrors, Layout, render, show_time};

/// Only paths on this site are followed after sign-in (no open redirects): `next` must be
/// an absolute path (`/…`, not `//…` or `/\\…`), of printable ASCII only (no whitespace,
/// control characters or backslashes, which browsers strip or turn into slashes), and
/// must stay a path on this site once its percent-escapes are decoded too. Anything else
/// is the home page. What passes is always a valid header value.
pub fn safe_next(next: Option<&str>) -> String {
    fn local(p: &str) -> bool {
        p.starts_with('/')
            && !p.starts_with("//")
            && p.len() <= 2048
            && p.chars().all(|c| c.is_ascii_graphic() && c != '\\')
    }
    match next {
        Some(n) if local(n) => {
            // Decoded, it must still be a path on this site (escapes are for browsers and
            // proxies that decode once more).
            let decoded = percent_encoding::percent_decode_str(n).decode_utf8_lossy();
            if decoded.starts_with("//") || decoded.contains('\\') || decoded.chars().any(|c| c.is_control()) {
                "/".to_string()
            } else {
                n.to_string()
            }
        }
        _ => "/".to_string(),
    }
}

/// A session cookie: strict same-site, script-proof, `Secure` (and `__Host-` named) over
/// HTTPS, for the session's absolute lifetime (`Max-Age=0` clears it).
fn cookie(state: &AppState, value: &str, max_age: time::Duration) -> HeaderValue {
    named_cookie(state, cookie_name(state), value, max_age)
}

/// A cookie of this site with the session cookie's attributes, named `name`.
pub(super) fn named_cookie(state: &AppState, name: &str, value: &str, max_age: time::Duration) -> HeaderValue {
    let c = cookie::Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(max_age)
        .secure(state.web.https)
        .build();
    HeaderValue::from_str(&c.to_string()).expect("session cookies are header-safe")
}

/// The `Set-Cookie` value carrying a new session.
pub fn session_cookie(state: &AppState, created: &Created) -> HeaderValue {
    cookie(state, &created.secret, session::ABSOLUTE)
}

pub(super) fn clear_cookie(state: &AppState) -> HeaderValue {
    cookie(state, "", time::Duration::ZERO)
}

pub(super) fn redirect_with_cookie(to: &str, cookie: HeaderValue) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(header::SET_COOKIE, cookie);
    r
}

/// `?next=` on pages that send the user back.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    next: String,
    message: String,
    /// The OpenID provider's name, when single sign-on is configured.
    provider: String,
    /// Whether card sign-in is configured.
    piv: bool,
    /// Whether passkeys can sign in here.
    passkeys: bool,
}

fn provider_name(state: &AppState) -> String {
    state.sso.as_ref().map(|s| s.name().to_string()).unwrap_or_default()
}

/// The one wording for every failed sign-in.
pub const SIGN_IN_FAILED: &str = "The email or password is not correct, or the account cannot sign in now. If this keeps happening, ask an administrator.";

/// `GET /sign-in`.
pub async fn sign_in_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    AppQuery(q): AppQuery<NextQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    render(&SignInPage {
        layout: Layout::new(&state.web, "/sign-in"),
        email: String::new(),
        next,
        message: String::new(),
        provider: provider_name(&state),
        piv: state.piv.is_some(),
        passkeys: state.webauthn.is_some(),
    })
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// `POST /sign-in`.
pub async fn sign_in_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppForm(form): AppForm<SignInForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    let previous = cookie_value(&headers, cookie_name(&state));
    match service::sign_in(
        &state.db,
        state.now(),
        &meta,
        &form.email,
        &form.password,
        super::finish::SignInClient { kind: Kind::Browser, previous_secret: previous.as_deref(), next: Some(&next) },
    )
    .await
    {
        Ok(SignInStep::Done(signed)) => {
            let to = if signed.user.must_change_password { "/account/password".to_string() } else { next };
            Ok(redirect_with_cookie(&to, session_cookie(&state, &signed.session)))
        }
        Ok(SignInStep::Code(challenge)) => Ok(redirect_with_cookie(
            "/sign-in/code",
            named_cookie(
                &state,
                challenge_cookie_name(&state),
                &challenge.secret,
                super::second_factor::CHALLENGE_LIFETIME,
            ),
        )),
        Err(SignInError::Db(e)) => Err(e.into()),
        Err(e) => {
            let (status, message) = match e {
                SignInError::Throttled => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many sign-in attempts from your address. Wait 15 minutes and try again.".to_string(),
                ),
                SignInError::PasswordOff => (
                    StatusCode::FORBIDDEN,
                    match &state.sso {
                        Some(p) => format!("Your role does not sign in with a password: sign in with {}.", p.name()),
                        None => "Your role does not sign in with a password. Ask an administrator.".to_string(),
                    },
                ),
                _ => (StatusCode::UNAUTHORIZED, SIGN_IN_FAILED.to_string()),
            };
            sign_in_refused(&state, &form.email, next, status, message)
        }
    }
}

/// `value` as JSON to sit inside a `<script type="application/json">` element: `<`, `>`
/// and `&` are written as escapes, so no text in it (a user's name, say) can end the
/// element.
pub(super) fn script_json<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    let json = serde_json::to_string(value).map_err(|e| AppError::Internal(e.into()))?;
    Ok(json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026"))
}

/// The sign-in page again, with `message` for a refused attempt.
pub(super) fn sign_in_refused(
    state: &AppState,
    email: &str,
    next: String,
    status: StatusCode,
    message: String,
) -> Result<Response, AppError> {
    let page = SignInPage {
        layout: Layout::new(&state.web, "/sign-in"),
        email: email.trim().to_string(),
        next,
        message,
        provider: provider_name(state),
        piv: state.piv.is_some(),
        passkeys: state.webauthn.is_some(),
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Template)]
#[template(path = "auth/code.html")]
struct CodePage {
    layout: Layout,
    errors: FormErrors,
    /// Whether one-time codes answer this challenge.
    codes: bool,
    /// The options of a security key's assertion (JSON), when the account has a key.
    key_options: String,
}

/// The second step's page for the challenge `secret`, with `errors`; the first step again
/// when the challenge is gone.
pub(super) async fn code_page_with(state: &AppState, secret: &str, errors: FormErrors) -> Result<Response, AppError> {
    let offered = super::second_factor::offered(&state.db, state.now(), state.webauthn.as_deref(), secret).await?;
    let Some(offered) = offered else {
        let next = super::second_factor::next_of(&state.db, secret).await?;
        return code_gone(state, next.as_deref());
    };
    let key_options = match &offered.key {
        Some(o) => script_json(o)?,
        None => String::new(),
    };
    render(&CodePage { layout: Layout::new(&state.web, "/sign-in"), errors, codes: offered.codes, key_options })
}

/// The sign-in page when a challenge lapsed or was used up (its cookie cleared), going on
/// to `next`, where that sign-in was going.
pub(super) fn code_gone(state: &AppState, next: Option<&str>) -> Result<Response, AppError> {
    let mut r = render(&SignInPage {
        layout: Layout::new(&state.web, "/sign-in"),
        email: String::new(),
        next: safe_next(next),
        message: "The sign-in was not finished in time, or took too many wrong tries: sign in again.".into(),
        provider: provider_name(state),
        piv: state.piv.is_some(),
        passkeys: state.webauthn.is_some(),
    })?;
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r.headers_mut()
        .append(header::SET_COOKIE, named_cookie(state, challenge_cookie_name(state), "", time::Duration::ZERO));
    Ok(r)
}

/// `GET /sign-in/code`: the second step of a sign-in, for an account with one-time codes
/// or a security key (or a passkey alone). Without a challenge cookie it is the first step
/// again.
pub async fn code_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    let Some(secret) = cookie_value(&headers, challenge_cookie_name(&state)) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    code_page_with(&state, &secret, FormErrors::default()).await
}

/// The code form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /sign-in/code`: a right code signs the user in and goes where they were going; a
/// wrong one asks again (with the tries left); a lapsed or used-up challenge starts the
/// sign-in again.
pub async fn code_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    AppForm(form): AppForm<CodeForm>,
) -> Result<Response, AppError> {
    use super::second_factor::{self, CodeError, Proof};
    let Some(secret) = cookie_value(&headers, challenge_cookie_name(&state)) else {
        return code_gone(&state, None);
    };
    let previous = cookie_value(&headers, cookie_name(&state));
    let proof = Proof::Code(&form.code);
    match second_factor::answer(&state.db, state.now(), &meta, &secret, proof, Kind::Browser, previous.as_deref()).await
    {
        Ok(done) => {
            let to = if done.signed.user.must_change_password {
                "/account/password".to_string()
            } else if done.recovery_left.is_some() {
                "/account/two-step?done=recovery-code".to_string()
            } else {
                safe_next(done.next.as_deref())
            };
            let mut r = redirect_with_cookie(&to, session_cookie(&state, &done.signed.session));
            r.headers_mut().append(
                header::SET_COOKIE,
                named_cookie(&state, challenge_cookie_name(&state), "", time::Duration::ZERO),
            );
            Ok(r)
        }
        Err(CodeError::Wrong { tries_left }) => {
            let message = format!(
                "is not right, or was used already: enter the six digits your authenticator shows now, or a recovery code ({tries_left} {} left before you sign in again)",
                if tries_left == 1 { "try" } else { "tries" }
            );
            let mut r = code_page_with(&state, &secret, FormErrors(vec![FieldError::new("code", message)])).await?;
            if r.status() == StatusCode::OK {
                *r.status_mut() = StatusCode::UNAUTHORIZED;
            }
            Ok(r)
        }
        Err(CodeError::Gone { next }) => code_gone(&state, next.as_deref()),
        Err(CodeError::Db(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "auth/signed_out.html")]
struct SignedOutPage {
    layout: Layout,
    provider: String,
    provider_logout: String,
}

/// `POST /sign-out`. A session signed in to through the OpenID provider ends here and is
/// offered the provider's own sign-out (RP-initiated logout, when the provider has it).
pub async fn sign_out(State(state): State<AppState>, user: SignedIn, _: CsrfForm) -> Result<Response, AppError> {
    let method = super::db::sign_in_method(&mut *state.conn().await?, user.session_id).await?;
    service::sign_out(&mut *state.conn().await?, &user, state.now()).await?;
    let provider_logout = match (&state.sso, method) {
        (Some(p), Some((m, id_token))) if m == "sso" => p.logout_url(id_token.as_deref()).await,
        _ => None,
    };
    let Some(logout) = provider_logout else {
        return Ok(redirect_with_cookie("/sign-in?signed_out=1", clear_cookie(&state)));
    };
    let mut r = render(&SignedOutPage {
        layout: Layout::new(&state.web, "/sign-in"),
        provider: provider_name(&state),
        provider_logout: logout.to_string(),
    })?;
    r.headers_mut().append(header::SET_COOKIE, clear_cookie(&state));
    Ok(r)
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    layout: Layout,
    forced: bool,
    errors: FormErrors,
    done: bool,
}

/// `GET /account/password`.
pub async fn password_page(
    State(state): State<AppState>,
    user: SignedIn,
    AppQuery(q): AppQuery<DoneQuery>,
) -> Result<Response, AppError> {
    render(&PasswordPage {
        layout: Layout::for_user(&state.web, "/account/password", Some(&user)),
        forced: user.must_change_password,
        errors: FormErrors::default(),
        done: q.done.is_some(),
    })
}

/// `?done=1` after a successful change.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The change-password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/password`.
pub async fn password_submit(
    State(state): State<AppState>,
    user: SignedIn,
    AppForm(form): AppForm<PasswordForm>,
) -> Result<Response, AppError> {
    match service::change_own_password(
        &mut *state.conn().await?,
        &user,
        state.now(),
        &form.current_password,
        &form.new_password,
        &form.confirm_password,
    )
    .await
    .map_err(AppError::from)
    {
        Ok(created) => Ok(redirect_with_cookie("/?done=password", session_cookie(&state, &created))),
        Err(AppError::Invalid(errors)) => {
            // The account may just have been locked by this failure; its sessions are gone.
            let page = PasswordPage {
                layout: Layout::for_user(&state.web, "/account/password", Some(&user)),
                forced: user.must_change_password,
                errors: FormErrors(errors),
                done: false,
            };
            let mut r = render(&page)?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/reauth.html")]
struct ReauthPage {
    layout: Layout,
    next: String,
    errors: FormErrors,
    /// The OpenID provider's name, when single sign-on is configured.
    provider: String,
    /// Whether the user's role may confirm with its password.
    password: bool,
    /// The options of a security key's assertion (JSON), when the user has a key.
    key_options: String,
}

/// The re-authentication page: the password (when the role signs in with one), the
/// provider (when configured) and the user's security key (when they have one; its
/// assertion is started here and kept on the session).
pub(super) async fn reauth_page_with(
    state: &AppState,
    user: &SignedIn,
    next: String,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let password =
        crate::accounts::sign_in_policy::of_role(&mut *state.conn().await?, user.role).await?.password_allowed;
    let key_options = match &state.webauthn {
        Some(rp) => match super::security_keys::begin_reauth(&state.db, state.now(), user, rp).await? {
            Some(o) => script_json(&o)?,
            None => String::new(),
        },
        None => String::new(),
    };
    let refused = !errors.is_empty();
    let mut r = render(&ReauthPage {
        layout: Layout::for_user(&state.web, "/account/reauth", Some(user)),
        next,
        errors,
        provider: provider_name(state),
        password,
        key_options,
    })?;
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// `GET /account/reauth`.
pub async fn reauth_page(
    State(state): State<AppState>,
    user: SignedIn,
    AppQuery(q): AppQuery<NextQuery>,
) -> Result<Response, AppError> {
    reauth_page_with(&state, &user, safe_next(q.next.as_deref()), FormErrors::default()).await
}

/// The re-authentication form.
#[derive(Debug, Deserialize)]
pub struct ReauthForm {
    password: String,
    next: Option<String>,
}

/// `POST /account/reauth`.
pub async fn reauth_submit(
    State(state): State<AppState>,
    user: SignedIn,
    AppForm(form): AppForm<ReauthForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    match service::reauthenticate(&mut *state.conn().await?, &user, state.now(), &form.password)
        .await
        .map_err(AppError::from)
    {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(AppError::Invalid(errors)) => reauth_page_with(&state, &user, next, FormErrors(errors)).await,
        Err(e) => Err(e),
    }
}

/// A session row on the sessions page.
pub struct SessionRow {
    id: SessionId,
    kind: String,
    created: String,
    last_seen: String,
    expires: String,
    client: String,
    agent: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "auth/sessions.html")]
struct SessionsPage {
    layout: Layout,
    name: String,
    email: String,
    role: &'static str,
    sessions: Vec<SessionRow>,
    csrf_token: String,
    /// The zone pages show times in now, and whether the user chose it.
    zone: String,
    own_zone: bool,
    /// The office's default zone.
    office_zone: String,
    /// The time now, as pages show it.
    now: String,
    /// Zones offered first, then every zone.
    common_zones: Vec<&'static str>,
    all_zones: &'static [String],
    /// The zone selected in the form ("" for the office's).
    chosen: String,
    errors: FormErrors,
    /// Just after the zone was set.
    done: bool,
}

impl SessionsPage {
    /// Whether `zone` is among the zones offered first (selected there, not twice).
    fn is_common(&self, zone: &str) -> bool {
        self.common_zones.contains(&zone)
    }
}

/// `GET /account/sessions`: the account page.
pub async fn sessions_page(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<DoneQuery>,
) -> Result<Response, AppError> {
    let done = q.done.as_deref() == Some("time-zone");
    account_page(&state, &user, FormErrors::default(), None, done).await
}

/// The account page, with the time zone form's refusal (and what was chosen) if any.
async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    errors: FormErrors,
    chosen: Option<String>,
    done: bool,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let rows = super::db::sessions_of(&mut conn, user.id).await?;
    let sessions = rows
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            kind: s.kind,
            created: show_time(s.created_at, &user.zone),
            last_seen: show_time(s.last_seen_at, &user.zone),
            expires: show_time(s.expires_at, &user.zone),
            client: s.client_addr.unwrap_or_default(),
            agent: s.user_agent.unwrap_or_default(),
            current: s.id == user.session_id,
        })
        .collect();
    let refused = !errors.is_empty();
    let chosen = chosen.unwrap_or_else(|| if user.own_zone { user.zone.name().to_string() } else { String::new() });
    let mut r = render(&SessionsPage {
        layout: Layout::for_user(&state.web, "/account/sessions", Some(user)),
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role.label(),
        sessions,
        csrf_token: user.csrf_token.clone(),
        zone: user.zone.name().to_string(),
        own_zone: user.own_zone,
        office_zone: state.web.zone.name().to_string(),
        now: show_time(state.now(), &user.zone),
        common_zones: crate::zone::COMMON.to_vec(),
        all_zones: crate::zone::names(),
        chosen,
        errors,
        done,
    })?;
    if refused {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

/// The time zone form of the account page; empty means the office's.
#[derive(Debug, Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

/// `POST /account/time-zone`.
pub async fn time_zone_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppForm(form): AppForm<TimeZoneForm>,
) -> Result<Response, AppError> {
    let zone = if form.time_zone.trim().is_empty() {
        None
    } else {
        match crate::zone::Zone::parse(&form.time_zone) {
            Ok(z) => Some(z),
            Err(e) => {
                let errors = FormErrors(vec![FieldError::new("time_zone", e.0)]);
                return account_page(&state, &user, errors, Some(form.time_zone), false).await;
            }
        }
    };
    crate::accounts::service::set_own_time_zone(&mut *state.conn().await?, &user, state.now(), zone.as_ref()).await?;
    Ok(Redirect::to("/account/sessions?done=time-zone").into_response())
}

/// `POST /account/sessions/{id}/end`.
pub async fn end_session(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<SessionId>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    service::end_own_session(&mut *state.conn().await?, &user, state.now(), id).await?;
    if id == user.session_id {
        return Ok(redirect_with_cookie("/sign-in", clear_cookie(&state)));
    }
    Ok(Redirect::to("/account/sessions").into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_keeps_paths_on_this_site_only() {
        for kept in ["/", "/cases?stage=initial_review&page=2", "/cases/5f0c%20x", "/determinations#sign"] {
            assert_eq!(safe_next(Some(kept)), kept, "{kept}");
        }
        for refused in [
            "//evil.example/x",
            "/\\evil.example/x",
            "/\t/evil.example/x",
            "/%09/evil.example/x",
            "/%2F%2Fevil.example",
            "/%5Cevil.example",
            "/x\r\nSet-Cookie: a=b",
            "/x%0d%0aSet-Cookie:%20a=b",
            "https:evil.example",
            "https://evil.example",
            "evil.example",
            " /\\/evil.example",
            "/ /evil.example",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), "/", "{refused:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
