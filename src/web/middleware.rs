//! Middleware every request passes through: request ids and the access log (tower-http's
//! `SetRequestId`, `TraceLayer` and `PropagateRequestId`, see [`request_layers`]), and the
//! security headers of every response, and the flush before any response (see
//! [`durable`]).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnBodyChunk, DefaultOnEos, DefaultOnRequest, TraceLayer};

use super::WebState;

/// The `X-Request-Id` header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, as handlers and audit events read it (set by
/// `SetRequestId` in the request's headers).
pub fn request_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A request id supplied by a proxy is kept when it is a short token; anything else is
/// replaced, so that logs cannot be polluted through this header.
fn acceptable(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Drops an `X-Request-Id` that is not [`acceptable`], so that `SetRequestId` makes a new
/// one (it keeps any id it finds).
pub async fn drop_unacceptable_request_id(mut request: Request, next: Next) -> Response {
    let bad = request.headers().get(&X_REQUEST_ID).is_some_and(|v| !v.to_str().is_ok_and(acceptable));
    if bad {
        request.headers_mut().remove(&X_REQUEST_ID);
    }
    next.run(request).await
}

fn request_span(request: &Request) -> tracing::Span {
    let id = request_id(request.headers()).unwrap_or_default();
    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
}

fn log_response(response: &Response, latency: Duration, _: &tracing::Span) {
    let status = response.status().as_u16();
    let elapsed_ms = latency.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, elapsed_ms, "request finished");
    } else {
        tracing::info!(status, elapsed_ms, "request finished");
    }
}

/// The access log: one span per request, one line per response.
pub type Trace = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request) -> tracing::Span,
    DefaultOnRequest,
    fn(&Response, Duration, &tracing::Span),
    DefaultOnBodyChunk,
    DefaultOnEos,
    (),
>;

/// The layers of [`request_layers`], outermost last.
pub type RequestLayers =
    Stack<PropagateRequestIdLayer, Stack<Trace, Stack<SetRequestIdLayer<MakeRequestUuid>, Identity>>>;

/// Gives every request an id (kept from `X-Request-Id` when acceptable, else a new UUID),
/// runs it inside a span carrying that id so every log line of the request shows it, logs
/// its outcome, and returns the id in the `X-Request-Id` response header. (Unacceptable
/// incoming ids are dropped first by [`drop_unacceptable_request_id`].)
pub fn request_layers() -> ServiceBuilder<RequestLayers> {
    let trace: Trace = TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request) -> tracing::Span)
        .on_response(log_response as fn(&Response, Duration, &tracing::Span))
        // A 5xx is logged once, by `log_response`.
        .on_failure(());
    ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), MakeRequestUuid))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
}

/// The Content-Security-Policy of every response: only our own scripts, styles, images and
/// fonts; no inline code; no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Sets the security headers of QUALITY.md on every response. A handler that set its own
/// Content-Security-Policy (a document download's sandbox) keeps it.
pub async fn security_headers(State(web): State<WebState>, request: Request, next: Next) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    if is_static {
        // The static files set their own caching (`web::assets`); anything else under
        // /static/ is asked for again.
        if !h.contains_key(header::CACHE_CONTROL) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(super::assets::REVALIDATE));
        }
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if web.https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    response
}

/// Every request runs inside [`crate::audit::durable::durably`]: its audit appends release
/// the chain's head without waiting for the disk, and its response waits until they are
/// on disk. A failed flush answers as the database's failure would (the outcome is not
/// known), never as the handler's success.
pub async fn durable(State(state): State<crate::app::AppState>, request: Request, next: Next) -> Response {
    match crate::audit::durable::durably(&state.flusher, next.run(request)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "flushing the request's changes to disk failed");
            axum::response::IntoResponse::into_response(crate::web::error::AppError::from(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn request_ids_from_clients_are_checked() {
        assert!(acceptable("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!acceptable("short"));
        assert!(!acceptable("has spaces in it, and more"));
        assert!(!acceptable(&"x".repeat(65)));
    }
}
