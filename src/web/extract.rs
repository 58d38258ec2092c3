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
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppState;
use crate::web::auth::CsrfPending;
use crate::web::error::AppError;
use crate::web::openapi::ApiDocument;

/// JSON body (`application/json`); unknown fields are rejected by the target type's
/// `#[serde(deny_unknown_fields)]`, a text holding a control character is refused naming
/// its field (see [`control_character`]), and so is a text or a list longer than the
/// served OpenAPI document allows for it (see [`crate::web::openapi::over_limits`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned + utoipa::ToSchema,
    S: Send + Sync,
    ApiDocument: FromRef<S>,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        // Content type, size and syntax as axum checks them; then every string, then the
        // lengths the document gives, then the target type (whose errors name the field: a
        // value outside a closed set is an unknown variant of its enum).
        let axum::Json(raw) = axum::Json::<Box<serde_json::value::RawValue>>::from_request(req, state).await?;
        let value: serde_json::Value = serde_json::from_str(raw.get())
            .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
        let mut errors = Vec::new();
        control_characters_in(&value, &mut String::new(), &mut errors);
        let document = ApiDocument::from_ref(state);
        for e in crate::web::openapi::over_limits(&document.0, &T::name(), &value) {
            if errors.len() < crate::error::MAX_FIELD_ERRORS && !errors.iter().any(|known| known.field == e.field) {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let mut deserializer = serde_json::Deserializer::from_str(raw.get());
        serde_path_to_error::deserialize(&mut deserializer).map(ApiJson).map_err(|e| {
            AppError::Invalid(vec![crate::error::FieldError::new(field_of(e.path()), message_of(e.inner()))])
        })
    }
}

/// The field a deserialisation error is about, as the body names it (`parties[0].role`), or
/// `body` for the body as a whole.
fn field_of(path: &serde_path_to_error::Path) -> String {
    match path.to_string() {
        p if p == "." || p.is_empty() => "body".to_string(),
        p => p,
    }
}

/// What serde says of a value that does not fit its type (`unknown variant `x`, expected
/// `yes` or `no``), without the position in the body.
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) if e.line() > 0 => message.to_string(),
        _ => text,
    }
}

pub use crate::error::control_character;

/// The message for a text holding a control character.
const CONTROL_MESSAGE: &str =
    "must not contain control characters (such as NUL); only tabs and line breaks are allowed in text";

/// The error for a text field read outside the extractors (multipart parts, uploaded CSV)
/// when it holds a control character.
pub fn control_characters(field: &str, text: &str) -> Option<crate::error::FieldError> {
    text.chars().any(control_character).then(|| crate::error::FieldError::new(field, CONTROL_MESSAGE))
}

/// Walks a JSON value and names each field (`parties[0].legal_name`) whose text, or whose
/// key, holds a control character.
fn control_characters_in(v: &serde_json::Value, path: &mut String, errors: &mut Vec<crate::error::FieldError>) {
    if errors.len() >= crate::error::MAX_FIELD_ERRORS {
        return;
    }
    let name = |path: &str| if path.is_empty() { "body".to_string() } else { path.to_string() };
    match v {
        serde_json::Value::String(s) if s.chars().any(control_character) => {
            errors.push(crate::error::FieldError::new(name(path), CONTROL_MESSAGE));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                control_characters_in(item, path, errors);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if k.chars().any(control_character) {
                    errors.push(crate::error::FieldError::new(
                        name(path),
                        "field names must not contain control characters",
                    ));
                    path.truncate(len);
                    continue;
                }
                path.push_str(k);
                control_characters_in(item, path, errors);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Names each field of URL-encoded pairs (a form body or a query string) whose value
/// holds a control character; a name holding one is reported as such.
fn control_characters_in_pairs(bytes: &[u8]) -> Vec<crate::error::FieldError> {
    let mut errors: Vec<crate::error::FieldError> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(bytes) {
        if errors.len() >= crate::error::MAX_FIELD_ERRORS {
            break;
        }
        let bad_name = k.chars().any(control_character);
        let field = if bad_name { "form".to_string() } else { k.into_owned() };
        if (bad_name || v.chars().any(control_character)) && !errors.iter().any(|e| e.field == field) {
            errors.push(crate::error::FieldError::new(field, CONTROL_MESSAGE));
        }
    }
    errors
}

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

impl<T: serde::de::DeserializeOwned + utoipa::ToSchema + Default> FromRequest<AppState> for MaybeJson<T> {
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
        AppFormKept::<T>::from_request(req, state).await.map(|AppFormKept(v, _)| AppForm(v))
    }
}

/// A URL-encoded form body parsed into `T`, with the body as posted kept as text (for a
/// refused panel form that comes back with what was typed: [`crate::web::layout::Panel`]).
#[derive(Debug, Clone, Default)]
pub struct AppFormKept<T>(pub T, pub String);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for AppFormKept<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, bytes) = read_form(req, state).await?;
        let errors = control_characters_in_pairs(&bytes);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors).into_response());
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(AppFormKept(v, body)),
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
        let errors = control_characters_in_pairs(&bytes);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors).into_response());
        }
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

/// Query-string parameters; a value holding a control character is refused naming its
/// parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let errors = control_characters_in_pairs(parts.uri.query().unwrap_or("").as_bytes());
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let axum::extract::Query(v) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(AppQuery(v))
    }
}

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
