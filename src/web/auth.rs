//! Who is asking: the `authenticate` middleware resolves the session (cookie or bearer
//! token) once per request and enforces CSRF; extractors hand the result to handlers.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use crate::access::actor::{Actor, RequestMeta};
use crate::access::policy::{Action, Role};
use crate::app::AppState;
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::auth::session::{self, Kind, Live};
use crate::web::error::AppError;

fn request_meta(parts: &Parts) -> RequestMeta {
    RequestMeta {
        client_addr: parts
            .extensions
            .get::<ConnectInfo<crate::web::conn::PeerAddr>>()
            .map(|c| c.0.0)
            .or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0))
            .map(|a| a.ip().to_string()),
        request_id: crate::web::middleware::request_id(&parts.headers),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(request_meta(parts))
    }
}

/// The credential a request carried.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Session cookie (browser).
    Cookie(String),
    /// `Authorization: Bearer` (API).
    Bearer(String),
}

impl Credential {
    /// The secret.
    pub fn secret(&self) -> &str {
        match self {
            Credential::Cookie(s) | Credential::Bearer(s) => s,
        }
    }
}

/// The resolved session of a request, put into its extensions by [`authenticate`].
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The live session and its user.
    pub live: Live,
    /// How it was presented.
    pub credential: Credential,
}

/// Reads the session cookie's value from the `Cookie` headers.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

fn credential(parts: &Parts, cookie_name: &str) -> Option<Credential> {
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer "))?;
        return Some(Credential::Bearer(token.trim().to_string()));
    }
    cookie_value(&parts.headers, cookie_name).map(Credential::Cookie)
}

/// The session cookie's name for this deployment.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.web.https { session::COOKIE_SECURE } else { session::COOKIE_DEV }
}

/// The name of the cookie of a sign-in waiting for its one-time code.
pub fn challenge_cookie_name(state: &AppState) -> &'static str {
    if state.web.https { session::CHALLENGE_COOKIE_SECURE } else { session::CHALLENGE_COOKIE_DEV }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Resolves the request's session, refuses cross-site state changes, and checks the CSRF
/// token of every state-changing request that carries the session cookie.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/static/") {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let cred = credential(&parts, cookie_name(&state));
    let unsafe_method = !is_safe(&parts.method);
    let meta = request_meta(&parts);

    // While the database is away, whatever needs it (a session to resolve, a change to
    // write, the API) is answered at once instead of waiting for a connection.
    if !state.health.is_up() && (cred.is_some() || unsafe_method || parts.uri.path().starts_with("/api/")) {
        return AppError::Unavailable.into_response();
    }

    // Browsers say where a request comes from; refuse state changes from other sites
    // (bearer-token API calls carry no ambient credentials and are exempt). Without a
    // session cookie it is refused at once (and counted as an anonymous refusal); with
    // one, once the session is known, as that user's.
    let cross_site = unsafe_method && !matches!(cred, Some(Credential::Bearer(_))) && is_cross_site(&parts, &state);
    if cross_site && cred.is_none() {
        return refuse(&state, &meta, None, "cross-site request").await;
    }

    let mut authenticated = None;
    if let Some(cred) = cred {
        let now = state.now();
        let resolved = state
            .health
            .unless_down(async {
                let mut conn = state.db.acquire().await?;
                session::resolve(&mut conn, cred.secret(), now).await
            })
            .await
            .unwrap_or(Err(sqlx::Error::PoolTimedOut));
        match resolved {
            Ok(Some(live)) => {
                let kind_matches = matches!(
                    (&cred, live.kind.as_str()),
                    (Credential::Cookie(_), "browser") | (Credential::Bearer(_), "api")
                );
                if kind_matches {
                    authenticated = Some(Authenticated { live, credential: cred });
                }
            }
            Ok(None) => {}
            Err(e) => return AppError::Database(e).into_response(),
        }
    }

    if cross_site {
        let actor = authenticated.as_ref().map(|a| (a.live.user_id, a.live.role));
        return refuse(&state, &meta, actor, "cross-site request").await;
    }

    // Signing in (and its one-time code step) replaces whatever session the browser had, so
    // it needs no token of the old one; it stays covered by the cross-site check above.
    let exempt = matches!(parts.uri.path(), "/sign-in" | "/sign-in/code" | "/sign-in/key" | "/sign-in/passkey");
    if unsafe_method
        && !exempt
        && let Some(auth) = &authenticated
        && matches!(auth.credential, Credential::Cookie(_))
    {
        let actor = Some((auth.live.user_id, auth.live.role));
        match csrf_token_of(&parts) {
            Presented::Token(t) if crate::auth::csrf::tokens_match(&t, &auth.live.csrf_token) => {}
            // A page form's token is in its body: the form extractors (`web::extract`) check
            // it as they read the body, which the middleware never buffers. Every POST page
            // takes one (tests/it/access.rs proves it for each); the API wants the header.
            Presented::InFormBody if !parts.uri.path().starts_with("/api/") => {
                let pending = CsrfPending { expected: auth.live.csrf_token.clone(), actor, meta: meta.clone() };
                parts.extensions.insert(pending);
            }
            Presented::Token(_) | Presented::InFormBody | Presented::None => {
                return refuse(&state, &meta, actor, CSRF_REFUSED).await;
            }
        }
    }
    parts.extensions.insert(authenticated);
    next.run(Request::from_parts(parts, body)).await
}

/// The audit reason of a state change refused for its CSRF token.
pub const CSRF_REFUSED: &str = "missing or wrong CSRF token";

/// A form's CSRF token still to be checked against the session's, by the extractor that
/// reads the form's body.
#[derive(Debug, Clone)]
pub struct CsrfPending {
    /// The session's token.
    pub expected: String,
    /// Who sent it, for the refusal's audit event.
    pub actor: Option<(crate::ids::UserId, Role)>,
    /// Where it came from.
    pub meta: RequestMeta,
}

impl CsrfPending {
    /// Checks the `csrf_token` field of a form body; a refusal is audited.
    pub async fn check(&self, state: &AppState, form: &[u8]) -> Result<(), Response> {
        let token = url::form_urlencoded::parse(form).find(|(k, _)| k == "csrf_token").map(|(_, v)| v.into_owned());
        if token.is_some_and(|t| crate::auth::csrf::tokens_match(&t, &self.expected)) {
            Ok(())
        } else {
            Err(self.refuse(state).await)
        }
    }

    /// Refuses the request (403) and audits it: its token was not where it belongs.
    pub async fn refuse(&self, state: &AppState) -> Response {
        refuse(state, &self.meta, self.actor, CSRF_REFUSED).await
    }
}

/// Modern browsers send `Sec-Fetch-Site`, which decides alone. Otherwise a real `Origin`
/// must be ours. (`Origin: null` is what browsers send under `Referrer-Policy:
/// no-referrer`, so it proves nothing either way; the CSRF token still applies.)
fn is_cross_site(parts: &Parts, state: &AppState) -> bool {
    if let Some(site) = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null") {
        let host_origin = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(|h| {
            let scheme = if state.web.https { "https" } else { "http" };
            format!("{scheme}://{h}")
        });
        if origin != &*state.web.origin && Some(origin) != host_origin.as_deref() {
            return true;
        }
    }
    false
}

/// Where a state-changing request carries its CSRF token.
enum Presented {
    /// In the `X-CSRF-Token` header (scripts) or the query string (file uploads, whose
    /// multipart form's action URL carries it).
    Token(String),
    /// In the body of a URL-encoded form, read later by the form extractor.
    InFormBody,
    /// Nowhere.
    None,
}

fn csrf_token_of(parts: &Parts) -> Presented {
    if let Some(t) = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Presented::Token(t.to_string());
    }
    if let Some(t) =
        parts.uri.query().and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "csrf_token"))
    {
        return Presented::Token(t.1.into_owned());
    }
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form { Presented::InFormBody } else { Presented::None }
}

async fn refuse(
    state: &AppState,
    meta: &RequestMeta,
    actor: Option<(crate::ids::UserId, Role)>,
    why: &str,
) -> Response {
    let recorded = match actor {
        Some(_) => {
            let event = NewEvent::new(EventType::AccessRefused)
                .outcome(Outcome::Denied)
                .changes(serde_json::json!({"reason": why}));
            audit::record_alone(&state.db, state.now(), &meta.audit(actor), event).await.map(|_| ())
        }
        // Anonymous refusals are counted and recorded per address and minute.
        None => audit::record_anonymous_refusal(&state.db, state.now(), &meta.audit(None), why).await.map(|_| ()),
    };
    if let Err(e) = recorded {
        return AppError::Database(e).into_response();
    }
    AppError::Forbidden.into_response()
}

/// A signed-in user (even one who must change the password before doing anything else):
/// the [`Actor`] the use cases take, and what the pages need besides.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who acts; `SignedIn` dereferences to it.
    pub actor: Actor,
    /// Browser or API.
    pub kind: Kind,
    /// CSRF token for forms.
    pub csrf_token: String,
    /// Whether the password must be changed first.
    pub must_change_password: bool,
    /// Whether a security key must be registered first.
    pub must_register_key: bool,
    /// Unread notifications when the request arrived.
    pub unread_notifications: i64,
    /// The session secret as presented (to end this very session).
    pub secret: String,
    /// Where pages show this user times: their own zone, or the office's.
    pub zone: crate::zone::Zone,
    /// Whether the user chose their own zone (otherwise `zone` is the office's).
    pub own_zone: bool,
}

impl std::ops::Deref for SignedIn {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}

impl SignedIn {
    /// Asks the policy; a refusal is recorded as an audit event and answered 403.
    /// Every `Authorized` extractor asks this, so an allowed request takes no connection.
    pub async fn authorize(&self, state: &AppState, action: Action) -> Result<(), AppError> {
        if self.may(action) {
            return Ok(());
        }
        Ok(self.actor.authorize(&mut *state.conn().await?, state.now(), action).await?)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(Some(auth)) = parts.extensions.get::<Option<Authenticated>>().cloned() else {
            return Err(AppError::Unauthenticated);
        };
        let live = auth.live;
        // A name the compiled-in database no longer knows falls back to the office's.
        let own = live.time_zone.as_deref().and_then(|n| crate::zone::Zone::parse(n).ok());
        Ok(SignedIn {
            actor: Actor {
                id: live.user_id,
                email: live.email,
                name: live.name,
                role: live.role,
                session_id: live.session_id,
                reauth_at: live.reauth_at,
                meta: request_meta(parts),
            },
            kind: if live.kind == "api" { Kind::Api } else { Kind::Browser },
            csrf_token: live.csrf_token,
            must_change_password: live.must_change_password,
            must_register_key: live.must_register_key,
            unread_notifications: live.unread_notifications,
            secret: auth.credential.secret().to_string(),
            own_zone: own.is_some(),
            zone: own.unwrap_or_else(|| state.web.zone.clone()),
        })
    }
}

/// A signed-in user who may use the system (no pending forced password change).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SignedIn);

impl std::ops::Deref for CurrentUser {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = SignedIn::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        if user.must_register_key {
            return Err(AppError::SecurityKeyRequired);
        }
        Ok(CurrentUser(user))
    }
}

/// The signed-in user, if any (for pages that anyone may see).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SignedIn>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(SignedIn::from_request_parts(parts, state).await.ok()))
    }
}

/// A permission a route requires, named by a marker type (see [`perm`]).
pub trait Permission: Send + Sync + 'static {
    /// The policy action it stands for.
    const ACTION: Action;
}

/// Marker types for [`Authorized`].
pub mod perm {
    use super::{Action, Permission};

    /// May manage accounts.
    #[derive(Debug)]
    pub struct ManageUsers;
    impl Permission for ManageUsers {
        const ACTION: Action = Action::ManageUsers;
    }

    /// May read the audit log.
    #[derive(Debug)]
    pub struct ReadAuditLog;
    impl Permission for ReadAuditLog {
        const ACTION: Action = Action::ReadAuditLog;
    }

    /// May see cases.
    #[derive(Debug)]
    pub struct ViewCases;
    impl Permission for ViewCases {
        const ACTION: Action = Action::ViewCases;
    }

    /// May work cases.
    #[derive(Debug)]
    pub struct WorkCases;
    impl Permission for WorkCases {
        const ACTION: Action = Action::WorkCases;
    }

    /// May edit reference data.
    #[derive(Debug)]
    pub struct ManageReference;
    impl Permission for ManageReference {
        const ACTION: Action = Action::ManageReference;
    }

    /// May keep a case under the other rule version.
    #[derive(Debug)]
    pub struct SetCaseRule;
    impl Permission for SetCaseRule {
        const ACTION: Action = Action::SetCaseRule;
    }

    /// May record an emergency deviation from the procedure.
    #[derive(Debug)]
    pub struct RecordDeviations;
    impl Permission for RecordDeviations {
        const ACTION: Action = Action::RecordDeviations;
    }

    /// May export a case's complete history.
    #[derive(Debug)]
    pub struct ExportCases;
    impl Permission for ExportCases {
        const ACTION: Action = Action::ExportCases;
    }

    /// May see the second docket's filings.
    #[derive(Debug)]
    pub struct ViewFilings;
    impl Permission for ViewFilings {
        const ACTION: Action = Action::ViewFilings;
    }

    /// May receive and review filings.
    #[derive(Debug)]
    pub struct WorkFilings;
    impl Permission for WorkFilings {
        const ACTION: Action = Action::WorkFilings;
    }

    /// May see enforcement matters.
    #[derive(Debug)]
    pub struct ViewEnforcement;
    impl Permission for ViewEnforcement {
        const ACTION: Action = Action::ViewEnforcement;
    }

    /// May open enforcement matters and record answers (the office's acts need
    /// [`Action::DecideEnforcement`], checked by the service).
    #[derive(Debug)]
    pub struct WorkEnforcement;
    impl Permission for WorkEnforcement {
        const ACTION: Action = Action::WorkEnforcement;
    }

    /// May sign the decision on a specific authorization application (never one's own
    /// draft: checked by the service).
    #[derive(Debug)]
    pub struct SignAuthorizations;
    impl Permission for SignAuthorizations {
        const ACTION: Action = Action::SignAuthorizations;
    }

    /// May sign or return determinations.
    #[derive(Debug)]
    pub struct SignDeterminations;
    impl Permission for SignDeterminations {
        const ACTION: Action = Action::SignDeterminations;
    }

    /// May assign cases.
    #[derive(Debug)]
    pub struct AssignCases;
    impl Permission for AssignCases {
        const ACTION: Action = Action::AssignCases;
    }
}

/// A current user the policy allows `P`. As an extractor it runs before any body is
/// read, so a refused request learns nothing about what its body should have been; the
/// refusal is audited.
#[derive(Debug, Clone)]
pub struct Authorized<P: Permission>(pub CurrentUser, std::marker::PhantomData<P>);

impl<P: Permission> std::ops::Deref for Authorized<P> {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

impl<P: Permission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.authorize(state, P::ACTION).await?;
        Ok(Authorized(user, std::marker::PhantomData))
    }
}
