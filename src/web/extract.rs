//! Wrappers around axum's extractors whose rejections become [`AppError`], so that bad
//! input always gets our problem page or problem+json, naming what was wrong.
//!
//! The raw `axum::Json`, `Form`, `Path` and `Query` extractors are banned by clippy
//! (`clippy.toml`), as a missing wrapper would answer in axum's plain-text format; this
//! module is the one place allowed to name them.
#![allow(clippy::disallowed_types)]

use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppState;
use crate::web::auth::CsrfPending;
use crate::web::error::AppError;

/// JSON body (`application/json`); unknown fields are rejected by the target type's
/// `#[serde(deny_unknown_fields)]`.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        #[allow(clippy::disallowed_types)]
        axum::Json(self.0).into_response()
    }
}

/// A JSON body that may be left out: a request without a body (and without a
/// `Content-Type`) reads as `T::default()`; one with a body is read as [`ApiJson`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MaybeJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default> FromRequest<AppState> for MaybeJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        if req.headers().contains_key(axum::http::header::CONTENT_TYPE) {
            return ApiJson::<T>::from_request(req, state).await.map(|ApiJson(v)| MaybeJson(v));
        }
        let bytes = axum::body::to_bytes(req.into_body(), crate::app::MAX_BODY_BYTES)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(MaybeJson(T::default()))
        } else {
            Err(AppError::UnsupportedMediaType("send the body as JSON with Content-Type: application/json".into()))
        }
    }
}

/// URL-encoded form body, parsed into `T`. Its CSRF token is checked as it is read (see
/// [`read_form`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppForm<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for AppForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, bytes) = read_form(req, state).await?;
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(AppForm(v)),
            Err(r) => Err(AppError::from(r).into_response()),
        }
    }
}

/// A URL-encoded form body as text, for forms with repeated or dynamic fields; its CSRF
/// token is checked as it is read.
#[derive(Debug, Clone, Default)]
pub struct FormBody(pub String);

impl FromRequest<AppState> for FormBody {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (_, bytes) = read_form(req, state).await?;
        String::from_utf8(bytes.to_vec())
            .map(FormBody)
            .map_err(|_| AppError::BadRequest("the form body is not UTF-8".into()).into_response())
    }
}

/// A form that carries nothing but its CSRF token (buttons such as "Sign out"); taking it
/// is what checks the token.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsrfForm;

impl FromRequest<AppState> for CsrfForm {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        read_form(req, state).await.map(|_| CsrfForm)
    }
}

/// A file upload (`multipart/form-data`). Its CSRF token rides in the form's action URL
/// (the middleware checks it there); an upload whose token was left in a body is refused.
pub struct AppMultipart(pub axum::extract::Multipart);

impl FromRequest<AppState> for AppMultipart {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        if let Some(pending) = req.extensions().get::<CsrfPending>().cloned() {
            return Err(pending.refuse(state).await);
        }
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(AppMultipart)
            .map_err(|r| AppError::BadRequest(r.body_text()).into_response())
    }
}

/// Reads a request's body whole (forms are small; the body limit applies) and, when the
/// session still owes a CSRF token (`web::auth::CsrfPending`, set for cookie sessions whose
/// form carries it in the body), checks the form's `csrf_token` against it: a mismatch is
/// refused (403) and audited before any handler runs. The middleware never buffers bodies.
pub async fn read_form(req: Request, state: &AppState) -> Result<(Parts, Bytes), Response> {
    let pending = req.extensions().get::<CsrfPending>().cloned();
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::app::MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge.into_response())?;
    if let Some(pending) = pending {
        pending.check(state, &bytes).await?;
    }
    Ok((parts, bytes))
}

/// Path parameters.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

/// Query-string parameters.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                AppError::UnsupportedMediaType("send the body as JSON with Content-Type: application/json".into())
            }
            JsonRejection::JsonSyntaxError(e) => {
                AppError::BadRequest(format!("the body is not valid JSON: {}", e.body_text()))
            }
            JsonRejection::JsonDataError(e) => {
                AppError::Invalid(vec![crate::error::FieldError::new("body", e.body_text())])
            }
            JsonRejection::BytesRejection(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge
            }
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(r: FormRejection) -> Self {
        match r {
            FormRejection::InvalidFormContentType(_) => {
                AppError::UnsupportedMediaType("send the form as application/x-www-form-urlencoded".into())
            }
            FormRejection::FailedToDeserializeFormBody(e) => {
                AppError::Invalid(vec![crate::error::FieldError::new("form", e.body_text())])
            }
            FormRejection::BytesRejection(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::PayloadTooLarge
            }
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest(format!("invalid path parameter: {}", r.body_text()))
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest(format!("invalid query parameter: {}", r.body_text()))
    }
}
