//! Application state and the router: every route of the service is declared here.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use crate::error::{AppError, render_errors};
use crate::web::{self, WebState};

/// Largest request body accepted anywhere (uploads are up to 20 MiB).
pub const MAX_BODY_BYTES: usize = 21 * 1024 * 1024;

/// Shared state of the service. Handlers take the part they need through `FromRef`.
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub db: PgPool,
    /// Deployment settings for pages and headers.
    pub web: WebState,
    /// Folder of the vendored front-end assets.
    pub static_dir: std::path::PathBuf,
}

impl FromRef<AppState> for PgPool {
    fn from_ref(s: &AppState) -> Self {
        s.db.clone()
    }
}

impl FromRef<AppState> for WebState {
    fn from_ref(s: &AppState) -> Self {
        s.web.clone()
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Builds the whole router over `state`: the very same router serves in production and in
/// the tests.
pub fn router(state: AppState) -> Router {
    let static_files = ServeDir::new(&state.static_dir).append_index_html_on_directories(false);
    Router::new()
        .route("/", get(web::home::home))
        .route("/healthz", get(web::home::healthz))
        .route("/readyz", get(web::home::readyz))
        .nest_service("/static", static_files)
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(web::middleware::request_context))
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), web::middleware::security_headers))
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), render_errors))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .with_state(state)
}
