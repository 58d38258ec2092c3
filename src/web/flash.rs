//! Post, redirect, get: a page form that succeeded answers `303 See Other` to the page that
//! shows its result, and its confirmation ("Note added.") rides along as a one-time
//! message, the flash, which that page shows once. A refresh or the back button then
//! fetches the page again and repeats nothing.
//!
//! The flash is a short-lived cookie with the session cookie's attributes (`Path=/`,
//! `HttpOnly`, `SameSite=Strict`, and `Secure` under a `__Host-` name over HTTPS), living
//! [`LIFETIME`]. It holds the path of the page it is for, the message and whether it
//! reports a problem, signed with HMAC-SHA-256 under the secret of the session that made
//! it: it cannot be altered or made by anyone else, and means nothing in another session.
//! [`carry`] reads it when that page is fetched, hands it to the page's handler (the
//! [`Flash`] extractor) and clears it; a page's template shows the message as text (askama
//! escapes it), where it showed a form's outcome before. Secrets are never put in it.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};

use super::WebState;
use super::auth::{Authenticated, SignedIn, cookie_value};

/// The flash cookie's name over HTTPS (`__Host-`: this host, path `/`, secure).
pub const COOKIE_SECURE: &str = "__Host-icts_flash";
/// Its name in plain-HTTP development mode.
pub const COOKIE_DEV: &str = "icts_flash";
/// How long a flash waits for its page: the redirect is followed at once.
pub const LIFETIME: time::Duration = time::Duration::minutes(1);
/// The longest message kept (a cookie holds about 4 KB; ours are a sentence or two).
const MAX_MESSAGE: usize = 1000;

type HmacSha256 = Hmac<sha2::Sha256>;

/// A one-time message for the next page: the outcome of a form posted just before.
/// As an extractor it is the flash meant for the page being fetched (empty when none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flash {
    /// What the page shows in its banner (empty: nothing).
    pub message: String,
    /// Whether the banner reports a problem (the act was done and found one).
    pub is_error: bool,
}

/// What the cookie carries.
#[derive(Serialize, Deserialize)]
struct Payload {
    /// The path of the page the flash is for.
    p: String,
    /// The message.
    m: String,
    /// Whether it reports a problem.
    e: bool,
}

impl Flash {
    /// A confirmation: what was done.
    pub fn done(message: impl Into<String>) -> Self {
        Flash { message: message.into(), is_error: false }
    }

    /// The outcome of an act that was done and found a problem.
    pub fn problem(message: impl Into<String>) -> Self {
        Flash { message: message.into(), is_error: true }
    }

    /// `303 See Other` to `to`, the page that shows the result of what `user` just did,
    /// with this message for it, once.
    pub fn see_other(self, web: &WebState, user: &SignedIn, to: &str) -> Response {
        let value = self.sealed(&user.secret, to);
        let mut r = Redirect::to(to).into_response();
        r.headers_mut().append(header::SET_COOKIE, cookie(web, &value, LIFETIME));
        r
    }

    /// How a page's post answers: once `done`, `303 See Other` to `to` with its
    /// confirmation; otherwise the page again through `again` (the form's errors, the
    /// message shown and whether it is a problem, the status): the errors with 422, a
    /// refusal (a stale version, an act the record no longer allows) as a problem with 409.
    pub async fn answered<Fut>(
        web: &WebState,
        user: &SignedIn,
        to: &str,
        done: Result<String, crate::web::error::AppError>,
        again: impl FnOnce(Vec<crate::error::FieldError>, (String, bool), axum::http::StatusCode) -> Fut,
    ) -> Result<Response, crate::web::error::AppError>
    where
        Fut: std::future::Future<Output = Result<Response, crate::web::error::AppError>>,
    {
        use crate::web::error::AppError;
        match done {
            Ok(message) => Ok(Flash::done(message).see_other(web, user, to)),
            Err(AppError::Invalid(errors)) => {
                again(errors, (String::new(), false), axum::http::StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(AppError::Conflict(message)) => {
                again(Vec::new(), (message, true), axum::http::StatusCode::CONFLICT).await
            }
            Err(e) => Err(e),
        }
    }

    /// The flash cookie's value for the page at `to` in the session of `session_secret`:
    /// the payload and its signature, each base64url.
    pub fn sealed(self, session_secret: &str, to: &str) -> String {
        let path = path_of(to);
        let mut message = self.message;
        if message.len() > MAX_MESSAGE {
            let mut end = MAX_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let payload = Payload { p: path.to_string(), m: message, e: self.is_error };
        let json = serde_json::to_vec(&payload).expect("a flash serialises");
        let body = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(mac(session_secret, &body).finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// The path and flash of a cookie `value` signed under `session_secret`; `None` when it
    /// was not (altered, another session's, not a flash at all).
    fn open(value: &str, session_secret: &str) -> Option<(String, Flash)> {
        let (body, tag) = value.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        mac(session_secret, body).verify_slice(&tag).ok()?;
        let payload: Payload = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        Some((payload.p, Flash { message: payload.m, is_error: payload.e }))
    }
}

/// The MAC of a cookie's payload under a session's secret (the label keeps it apart from
/// any other use of that secret).
fn mac(session_secret: &str, body: &str) -> HmacSha256 {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(session_secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"icts-review flash\n");
    mac.update(body.as_bytes());
    mac
}

/// The path of a local address: without its query and fragment.
fn path_of(to: &str) -> &str {
    to.split(['?', '#']).next().unwrap_or(to)
}

/// The flash cookie's name for this deployment.
pub fn cookie_name(web: &WebState) -> &'static str {
    if web.https { COOKIE_SECURE } else { COOKIE_DEV }
}

/// The `Set-Cookie` value of a flash (`Max-Age=0` with an empty value clears it).
fn cookie(web: &WebState, value: &str, max_age: time::Duration) -> HeaderValue {
    let c = cookie::Cookie::build((cookie_name(web), value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(max_age)
        .secure(web.https)
        .build();
    HeaderValue::from_str(&c.to_string()).expect("a flash cookie is header-safe")
}

/// Middleware (inside [`authenticate`](super::auth::authenticate), which resolves the
/// session): a page fetched with a flash meant for it gets it, as a request extension that
/// [`Flash`] hands to its handler, and the cookie is cleared with the answer. A flash for
/// another page is left on its way there; one that does not verify under this request's
/// session is cleared.
pub async fn carry(State(web): State<WebState>, mut request: Request, next: Next) -> Response {
    if request.method() != Method::GET || request.uri().path().starts_with("/static/") {
        return next.run(request).await;
    }
    let Some(value) = cookie_value(request.headers(), cookie_name(&web)) else {
        return next.run(request).await;
    };
    let session = request.extensions().get::<Option<Authenticated>>().and_then(Option::as_ref);
    let opened = session.and_then(|a| Flash::open(&value, a.credential.secret()));
    let clear = match opened {
        Some((path, flash)) if path == request.uri().path() => {
            request.extensions_mut().insert(flash);
            true
        }
        Some(_) => false,
        None => true,
    };
    let mut response = next.run(request).await;
    if clear {
        response.headers_mut().append(header::SET_COOKIE, cookie(&web, "", time::Duration::ZERO));
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Flash>().cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_opens_under_its_own_session_only_and_unaltered() {
        let value = Flash::done("Note added.").sealed("session-a", "/cases/1#notes");
        assert_eq!(Flash::open(&value, "session-a"), Some(("/cases/1".to_string(), Flash::done("Note added."))));
        assert_eq!(Flash::open(&value, "session-b"), None, "another session's");
        let (body, tag) = value.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"p":"/cases/1","m":"Call 555-0100 now.","e":false}"#);
        assert_eq!(Flash::open(&format!("{forged}.{tag}"), "session-a"), None, "altered");
        assert_eq!(Flash::open(body, "session-a"), None, "unsigned");
        assert_eq!(Flash::open("", "session-a"), None);
    }

    #[test]
    fn a_flash_keeps_its_tone_and_a_bounded_message() {
        let long = "é".repeat(MAX_MESSAGE);
        let (_, f) = Flash::open(&Flash::problem(long).sealed("s", "/audit/chain"), "s").unwrap();
        assert!(f.is_error);
        assert!(f.message.len() <= MAX_MESSAGE && f.message.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_flash_is_for_the_path_of_its_address() {
        assert_eq!(path_of("/cases/1#notes"), "/cases/1");
        assert_eq!(path_of("/admin/users/2?done=x"), "/admin/users/2");
        assert_eq!(path_of("/cases"), "/cases");
    }
}
