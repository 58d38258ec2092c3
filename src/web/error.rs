//! The web layer's error type, rendered as an HTML page for people and as
//! `application/problem+json` (RFC 9457) under `/api/`.
//!
//! Handlers return [`AppError`]; its `IntoResponse` puts a [`Problem`] into the response's
//! extensions, and the [`render_errors`] middleware, which knows the request path, turns
//! that into the right body. Responses that left the stack with an error status and no
//! body (a 405 from the router, a 413 from the body limit, a caught panic) get the same
//! treatment, so every error looks the same to a client.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::DomainError;
pub use crate::error::FieldError;
use crate::web::WebState;
use crate::web::layout::render_error_page;

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such page or object, or one the user may not know about.
    #[error("not found")]
    NotFound,
    /// The request is malformed (bad JSON, bad path parameter, ...).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The input is well-formed but some fields are invalid.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Sign-in is needed.
    #[error("authentication required")]
    Unauthenticated,
    /// The password was right; the account's one-time code is needed with it.
    #[error("second factor required")]
    SecondFactorRequired,
    /// The user may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The user may not do this to this object, for the reason given (e.g. four-eyes).
    #[error("forbidden: {0}")]
    ForbiddenBecause(String),
    /// The user must re-enter the password first (step-up, valid 5 minutes).
    #[error("re-authentication required")]
    ReauthRequired,
    /// The user must change the password before doing anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    /// The user's role requires a security key and the user has none: register one first.
    #[error("security key required")]
    SecurityKeyRequired,
    /// Too many attempts from this client.
    #[error("too many requests")]
    TooManyRequests,
    /// The object changed since the client read it, or the action does not fit its state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The body is too large.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body has a content type this endpoint does not take.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The database is unavailable.
    #[error("service unavailable")]
    Unavailable,
    /// Too much of one kind of work is in progress (e.g. exports); try again shortly.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// A database error that is not the client's fault.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Any other internal failure.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// An RFC 9457 problem description; also what the HTML error page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, generic title of the problem.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Explanation for this occurrence; never internal details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field errors for invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem with only a status and its standard title.
    pub fn from_status(status: StatusCode) -> Self {
        let (kind, title, detail) = match status {
            StatusCode::NOT_FOUND => {
                ("not-found", "Not found", "There is nothing at this address, or you may not see it.")
            }
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method-not-allowed", "Method not allowed", "This address does not take that kind of request.")
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("payload-too-large", "Request too large", "The request body is larger than this address accepts.")
            }
            StatusCode::REQUEST_TIMEOUT => ("timeout", "Request timed out", "The request took too long."),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "Sign-in required", "Sign in to continue."),
            StatusCode::FORBIDDEN => ("forbidden", "Forbidden", "You may not do this."),
            StatusCode::TOO_MANY_REQUESTS => (
                "too-many-requests",
                "Too many attempts",
                "Too many attempts from your address. Wait a few minutes and try again.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => {
                ("unavailable", "Service unavailable", "The service cannot reach its database. Try again in a moment.")
            }
            StatusCode::INSUFFICIENT_STORAGE => (
                "disk-full",
                "The server's disk is full",
                "Nothing was saved: the server has no space left to store it. Reading goes on; try again once the administrators have freed space.",
            ),
            s if s.is_server_error() => (
                "internal",
                "Something went wrong",
                "The error has been logged. Try again, or tell the administrators.",
            ),
            _ => ("bad-request", "Bad request", "The request could not be understood."),
        };
        Problem {
            kind: format!("urn:icts-review:problem:{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail: Some(detail.into()),
            errors: Vec::new(),
        }
    }

    fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl AppError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated | AppError::SecondFactorRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden
            | AppError::ForbiddenBecause(_)
            | AppError::ReauthRequired
            | AppError::PasswordChangeRequired
            | AppError::SecurityKeyRequired => StatusCode::FORBIDDEN,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable | AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(e) if is_disk_full(e) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(e) if is_disk_full_internal(e) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(e) if is_unavailable_internal(e) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem description shown to the client: never internal details.
    pub fn problem(&self) -> Problem {
        let base = Problem::from_status(self.status());
        match self {
            AppError::BadRequest(d) | AppError::ForbiddenBecause(d) => base.with_detail(d.clone()),
            AppError::Busy(d) => base.with_detail(*d),
            AppError::Conflict(d) => {
                let mut p = base.with_detail(d.clone());
                p.kind = "urn:icts-review:problem:conflict".into();
                p.title = "Conflict".into();
                p
            }
            AppError::UnsupportedMediaType(d) => {
                let mut p = base.with_detail(d.clone());
                p.kind = "urn:icts-review:problem:unsupported-media-type".into();
                p.title = "Unsupported media type".into();
                p
            }
            AppError::ReauthRequired => Problem {
                kind: "urn:icts-review:problem:reauth-required".into(),
                title: "Re-authentication required".into(),
                detail: Some("Re-enter your password (POST /account/reauth or the re-authentication page) and try again within 5 minutes.".into()),
                ..base
            },
            AppError::SecondFactorRequired => Problem {
                kind: "urn:icts-review:problem:second-factor-required".into(),
                title: "One-time code required".into(),
                detail: Some("This account signs in with a one-time code too: send the six digits its authenticator shows now (or a recovery code) as code, with the email and password.".into()),
                ..base
            },
            AppError::SecurityKeyRequired => Problem {
                kind: "urn:icts-review:problem:security-key-required".into(),
                title: "Security key required".into(),
                detail: Some("Your role signs in with a security key or passkey: register one on your account page (/account/security-keys) before continuing.".into()),
                ..base
            },
            AppError::PasswordChangeRequired => Problem {
                kind: "urn:icts-review:problem:password-change-required".into(),
                title: "Password change required".into(),
                detail: Some("Change your password before continuing.".into()),
                ..base
            },
            AppError::Invalid(errors) => Problem {
                kind: "urn:icts-review:problem:invalid-input".into(),
                title: "Invalid input".into(),
                status: StatusCode::UNPROCESSABLE_ENTITY.as_u16(),
                detail: Some(FieldError::join(errors)),
                errors: errors.clone(),
            },
            _ => base,
        }
    }
}

impl From<FieldError> for AppError {
    /// One bad field: 422 naming it.
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

impl From<DomainError> for AppError {
    /// The one place where a domain error gets its HTTP meaning.
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => AppError::NotFound,
            DomainError::Forbidden => AppError::Forbidden,
            DomainError::ForbiddenBecause(why) => AppError::ForbiddenBecause(why),
            DomainError::ReauthRequired => AppError::ReauthRequired,
            DomainError::Invalid(errors) => AppError::Invalid(errors),
            DomainError::Conflict(why) | DomainError::Refused(why) => AppError::Conflict(why),
            DomainError::Database(e) => AppError::Database(e),
            DomainError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// Seconds a client is asked to wait when the database is away (the watcher restarts the
/// built-in one within a few seconds).
const RETRY_AFTER_SECS: &str = "5";

/// Connection-level failures mean the database is away, not that we have a bug: the pool
/// has no connection to give, the connection broke, or the server is shutting down,
/// starting, or out of connections (SQLSTATE classes 08 and 57P, and 53300).
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300")
        }
        _ => false,
    }
}

/// The database could not write for want of space (SQLSTATE 53100, disk full, or the
/// system's ENOSPC); the service itself goes on and reads still work.
fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c == "53100"),
        sqlx::Error::Io(io) => io.raw_os_error() == Some(28),
        _ => false,
    }
}

/// An internal error caused by a full disk (the database's or a file the service writes).
fn is_disk_full_internal(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<sqlx::Error>().is_some_and(is_disk_full)
            || cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.raw_os_error() == Some(28))
    })
}

/// An internal error that is really a lost database connection.
fn is_unavailable_internal(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| cause.downcast_ref::<sqlx::Error>().is_some_and(is_unavailable))
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Details go to the log (with the request id of the span), never to the client.
            tracing::error!(error = %self, ?status, "request failed");
        }
        let problem = self.problem();
        let mut response = status.into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        response.extensions_mut().insert(problem);
        response
    }
}

/// Renders every error response: problem+json under `/api/`, an HTML page elsewhere.
pub async fn render_errors(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let is_get = request.method() == axum::http::Method::GET;
    let here = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let mut response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let problem = match response.extensions_mut().remove::<Problem>() {
        Some(p) => p,
        // A body with its own content type (e.g. /readyz) is left alone.
        None if response.headers().contains_key(header::CONTENT_TYPE)
            && status != StatusCode::INTERNAL_SERVER_ERROR =>
        {
            return response;
        }
        None => Problem::from_status(status),
    };
    // People are sent where they can fix the problem.
    if !is_api {
        let back = if is_get { here } else { "/".to_string() };
        let next_param: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        let target = match (problem.status, problem.kind.rsplit(':').next()) {
            (401, _) => Some(format!("/sign-in?next={next_param}")),
            (403, Some("password-change-required")) => Some("/account/password".to_string()),
            (403, Some("security-key-required")) => Some("/account/security-keys?required=1".to_string()),
            (403, Some("reauth-required")) => Some(format!("/account/reauth?next={next_param}")),
            _ => None,
        };
        if let Some(target) = target {
            return axum::response::Redirect::to(&target).into_response();
        }
    }
    let mut rendered = if is_api {
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        r
    } else {
        render_error_page(&state, &problem)
    };
    // Keep headers set by inner layers (e.g. Allow on a 405).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_problem() {
        let e = AppError::Internal(anyhow::anyhow!("secret connection string postgres://x:pw@h"));
        let p = e.problem();
        assert_eq!(p.status, 500);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("pw@h"), "{json}");
    }

    #[test]
    fn pool_timeouts_are_503() {
        assert_eq!(AppError::Database(sqlx::Error::PoolTimedOut).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(AppError::Database(sqlx::Error::RowNotFound).status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn invalid_input_names_the_fields() {
        let p = AppError::invalid("title", "must not be empty").problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "title");
        assert!(p.detail.unwrap().contains("title: must not be empty"));
    }
}
