//! Application state and the router: every route of the service is declared here.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;

use crate::clock::SharedClock;
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
    /// The clock (a manual one in tests).
    pub clock: SharedClock,
    /// Similarity from which a screening match is a hit (0–1).
    pub screening_threshold: f64,
    /// The current screening list's index, built once per list version.
    pub screening: crate::parties::screening_service::IndexCache,
    /// Whether notifications are also mailed (an SMTP relay is configured): then each
    /// notification queues a message in the outbox.
    pub mail: bool,
    /// Signs and files audit checkpoints.
    pub checkpointer: crate::audit::checkpoint::Checkpointer,
}

impl AppState {
    /// State over `db` with the system clock.
    pub fn new(db: PgPool, config: &crate::config::Config) -> Self {
        AppState {
            db,
            web: WebState::from_config(config),
            static_dir: config.static_dir.clone(),
            clock: std::sync::Arc::new(crate::clock::SystemClock),
            screening_threshold: config.screening_threshold,
            screening: Default::default(),
            mail: config.smtp_url.is_some(),
            checkpointer: crate::audit::checkpoint::Checkpointer {
                key: config.audit_signing_key.clone(),
                file: config.audit_checkpoint_file.clone(),
            },
        }
    }

    /// The current time.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }
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

/// Every route of the service: method, path and handler. The router is built from this
/// table, and the route x role test walks it, so a route cannot escape the access matrix
/// (`tests/route_matrix.txt`).
pub fn route_table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    use crate::{audit, auth, cases, determinations, documents, notifications, parties, risk};
    vec![
        (Method::GET, "/", get(web::home::home)),
        (Method::GET, "/healthz", get(web::home::healthz)),
        (Method::GET, "/readyz", get(web::home::readyz)),
        // Sign-in and one's own account.
        (Method::GET, "/sign-in", get(auth::web::sign_in_page)),
        (Method::POST, "/sign-in", post(auth::web::sign_in_submit)),
        (Method::POST, "/sign-out", post(auth::web::sign_out)),
        (Method::GET, "/account/password", get(auth::web::password_page)),
        (Method::POST, "/account/password", post(auth::web::password_submit)),
        (Method::GET, "/account/reauth", get(auth::web::reauth_page)),
        (Method::POST, "/account/reauth", post(auth::web::reauth_submit)),
        (Method::GET, "/account/sessions", get(auth::web::sessions_page)),
        (Method::POST, "/account/sessions/{id}/end", post(auth::web::end_session)),
        // Account administration.
        (Method::GET, "/admin/users", get(auth::web::users_page)),
        (Method::POST, "/admin/users", post(auth::web::create_user)),
        (Method::GET, "/admin/users/{id}", get(auth::web::user_page)),
        (Method::POST, "/admin/users/{id}", post(auth::web::user_action)),
        (Method::GET, "/admin/reference", get(cases::web::reference_admin)),
        (Method::GET, "/admin/screening", get(parties::screening_web::lists_admin)),
        (Method::POST, "/admin/screening", post(parties::screening_web::upload)),
        (Method::POST, "/screening/hits/{id}", post(parties::screening_web::decide_page)),
        (Method::POST, "/admin/reference", post(cases::web::reference_save)),
        // Cases.
        (Method::GET, "/dashboard", get(cases::web::dashboard)),
        (Method::GET, "/cases", get(cases::web::list)),
        (Method::POST, "/cases", post(cases::web::create)),
        (Method::GET, "/cases/new", get(cases::web::new_form)),
        (Method::GET, "/cases/import", get(cases::web::import_form)),
        (Method::POST, "/cases/import", post(cases::web::import_upload)),
        (Method::POST, "/cases/assign", post(cases::web::assign)),
        (Method::GET, "/cases/{id}", get(cases::web::show)),
        (Method::GET, "/cases/{id}/edit", get(cases::web::edit_form)),
        (Method::POST, "/cases/{id}/edit", post(cases::web::edit_submit)),
        (Method::POST, "/cases/{id}/questions", post(cases::web::questions)),
        (Method::POST, "/cases/{id}/transitions", post(cases::web::transition)),
        (Method::POST, "/cases/{id}/notes", post(cases::web::add_note)),
        (Method::POST, "/cases/{id}/rfis", post(cases::web::add_rfi)),
        (Method::POST, "/cases/{id}/rfis/{rfi}/answer", post(cases::web::answer_rfi)),
        (Method::POST, "/cases/{id}/extensions", post(cases::web::extend)),
        (Method::POST, "/cases/{id}/parties", post(parties::web::link)),
        (Method::GET, "/cases/{id}/assess", get(risk::web::assess_form)),
        (Method::POST, "/cases/{id}/assess", post(risk::web::assess_submit)),
        (Method::GET, "/cases/{id}/nexus", get(risk::web::nexus_form)),
        (Method::POST, "/cases/{id}/nexus", post(risk::web::nexus_submit)),
        (Method::POST, "/assessments/{id}/override", post(risk::web::propose)),
        (Method::POST, "/overrides/{id}/decision", post(risk::web::decide)),
        (Method::POST, "/cases/{id}/transactions", post(parties::web::add_transaction)),
        (Method::POST, "/cases/{id}/consolidate", post(parties::web::consolidate)),
        // Proceedings: determinations, interagency notices, submissions, mitigation, documents.
        (Method::GET, "/cases/{id}/proceedings", get(determinations::web::proceedings)),
        (Method::POST, "/cases/{id}/determinations", post(determinations::web::create)),
        (Method::POST, "/cases/{id}/agency-notices", post(determinations::web::add_notice)),
        (Method::POST, "/agency-notices/{id}/response", post(determinations::web::respond)),
        (Method::POST, "/cases/{id}/submissions", post(determinations::web::add_submission)),
        (Method::POST, "/submissions/{id}/meeting", post(determinations::web::meeting)),
        (Method::POST, "/cases/{id}/measures", post(determinations::web::add_measure)),
        (Method::POST, "/measures/{id}/status", post(determinations::web::measure_status)),
        (Method::POST, "/measures/{id}/checks", post(determinations::web::add_check)),
        (Method::POST, "/cases/{id}/documents", post(determinations::web::upload)),
        (Method::GET, "/documents/{id}", get(documents::download)),
        (Method::GET, "/determinations", get(determinations::web::queue)),
        (Method::GET, "/determinations/{id}", get(determinations::web::show)),
        (Method::POST, "/determinations/{id}", post(determinations::web::save)),
        (Method::POST, "/determinations/{id}/submit", post(determinations::web::submit)),
        (Method::POST, "/determinations/{id}/sign", post(determinations::web::sign)),
        (Method::POST, "/determinations/{id}/return", post(determinations::web::return_draft)),
        (Method::GET, "/determinations/{id}/document", get(determinations::document::page)),
        // Notifications.
        (Method::GET, "/notifications", get(notifications::web::page)),
        (Method::POST, "/notifications/read-all", post(notifications::web::read_all)),
        (Method::POST, "/notifications/{id}/read", post(notifications::web::read)),
        // Parties.
        (Method::GET, "/parties", get(parties::web::list)),
        (Method::POST, "/parties", post(parties::web::create)),
        (Method::GET, "/parties/{id}", get(parties::web::show)),
        (Method::POST, "/parties/{id}", post(parties::web::update)),
        (Method::POST, "/parties/{id}/evidence", post(parties::web::add_evidence)),
        // Audit log, chain status and exports.
        (Method::GET, "/audit", get(audit::web::events_page)),
        (Method::GET, "/audit/chain", get(audit::exports_web::chain)),
        (Method::POST, "/audit/chain/verify", post(audit::exports_web::chain_verify)),
        (Method::GET, "/cases/{id}/export", get(audit::exports_web::export_case_page)),
        (Method::GET, "/cases/{id}/dossier", get(audit::exports_web::dossier_page)),
        // API.
        (Method::GET, "/api/v1/openapi.json", get(web::openapi::openapi_json)),
        (Method::POST, "/api/v1/auth/token", post(auth::api::create_token)),
        (Method::DELETE, "/api/v1/auth/token", delete(auth::api::delete_token)),
        (Method::GET, "/api/v1/me", get(auth::api::me)),
        (Method::GET, "/api/v1/users", get(auth::api::list_users)),
        (Method::POST, "/api/v1/users", post(auth::api::create_user)),
        (Method::PATCH, "/api/v1/users/{id}", patch(auth::api::patch_user)),
        (Method::GET, "/api/v1/audit/events", get(audit::api::list_events)),
        (Method::GET, "/api/v1/audit/verify", get(audit::exports_web::verify_api)),
        (Method::GET, "/api/v1/audit/checkpoints", get(audit::exports_web::checkpoints_api)),
        (Method::GET, "/api/v1/audit/export", get(audit::exports_web::export_log)),
        (Method::GET, "/api/v1/cases/{id}/export", get(audit::exports_web::export_case)),
        (Method::GET, "/api/v1/reference", get(cases::api::reference)),
        (Method::PUT, "/api/v1/reference/{kind}/{code}", put(cases::api::put_reference)),
        (Method::GET, "/api/v1/cases", get(cases::api::list)),
        (Method::POST, "/api/v1/cases", post(cases::api::create)),
        (Method::POST, "/api/v1/cases/assign", post(cases::api::assign)),
        (Method::GET, "/api/v1/cases/{id}", get(cases::api::get)),
        (Method::PATCH, "/api/v1/cases/{id}", patch(cases::api::patch)),
        (Method::POST, "/api/v1/cases/{id}/transitions", post(cases::api::transition)),
        (Method::POST, "/api/v1/cases/{id}/notes", post(cases::api::add_note)),
        (Method::GET, "/api/v1/cases/{id}/events", get(cases::api::events)),
        (Method::POST, "/api/v1/cases/{id}/parties", post(parties::api::link)),
        (Method::GET, "/api/v1/cases/{id}/transactions", get(parties::api::list_transactions)),
        (Method::POST, "/api/v1/cases/{id}/transactions", post(parties::api::add_transaction)),
        (Method::POST, "/api/v1/cases/{id}/consolidate", post(parties::api::consolidate)),
        (Method::GET, "/api/v1/rubrics/current", get(risk::api::current)),
        (Method::GET, "/api/v1/rubrics/{version}", get(risk::api::get)),
        (Method::POST, "/api/v1/rubrics", post(risk::api::create)),
        (Method::GET, "/api/v1/cases/{id}/assessments", get(risk::api::list)),
        (Method::POST, "/api/v1/cases/{id}/assessments", post(risk::api::assess)),
        (Method::POST, "/api/v1/assessments/{id}/override", post(risk::api::propose)),
        (Method::POST, "/api/v1/overrides/{id}/decision", post(risk::api::decide)),
        (Method::GET, "/api/v1/cases/{id}/nexus", get(risk::api::get_nexus)),
        (Method::POST, "/api/v1/cases/{id}/nexus", post(risk::api::record_nexus)),
        (Method::GET, "/api/v1/screening/lists", get(parties::screening_web::lists_api)),
        (Method::GET, "/api/v1/parties/{id}/screening", get(parties::screening_web::party_hits)),
        (Method::POST, "/api/v1/screening/hits/{id}", post(parties::screening_web::decide_api)),
        (Method::GET, "/api/v1/parties", get(parties::api::list)),
        (Method::POST, "/api/v1/parties", post(parties::api::create)),
        (Method::GET, "/api/v1/parties/{id}", get(parties::api::get)),
        (Method::PATCH, "/api/v1/parties/{id}", patch(parties::api::patch)),
        (Method::POST, "/api/v1/parties/{id}/evidence", post(parties::api::add_evidence)),
        (Method::POST, "/api/v1/auth/reauth", post(auth::api::reauth)),
        (Method::GET, "/api/v1/cases/{id}/determinations", get(determinations::api::list)),
        (Method::POST, "/api/v1/cases/{id}/determinations", post(determinations::api::create)),
        (Method::GET, "/api/v1/determinations/{id}", get(determinations::api::get)),
        (Method::PATCH, "/api/v1/determinations/{id}", patch(determinations::api::revise)),
        (Method::POST, "/api/v1/determinations/{id}/submit", post(determinations::api::submit)),
        (Method::POST, "/api/v1/determinations/{id}/sign", post(determinations::api::sign)),
        (Method::POST, "/api/v1/determinations/{id}/return", post(determinations::api::return_draft)),
        (Method::GET, "/api/v1/cases/{id}/agency-notices", get(cases::proceedings_api::notices)),
        (Method::POST, "/api/v1/cases/{id}/agency-notices", post(cases::proceedings_api::add_notice)),
        (Method::POST, "/api/v1/agency-notices/{id}/response", post(cases::proceedings_api::respond)),
        (Method::GET, "/api/v1/cases/{id}/submissions", get(cases::proceedings_api::submissions)),
        (Method::POST, "/api/v1/cases/{id}/submissions", post(cases::proceedings_api::add_submission)),
        (Method::POST, "/api/v1/submissions/{id}/meeting", post(cases::proceedings_api::meeting)),
        (Method::GET, "/api/v1/mitigation/kinds", get(cases::proceedings_api::kinds)),
        (Method::GET, "/api/v1/cases/{id}/measures", get(cases::proceedings_api::measures)),
        (Method::POST, "/api/v1/cases/{id}/measures", post(cases::proceedings_api::add_measure)),
        (Method::POST, "/api/v1/measures/{id}/status", post(cases::proceedings_api::measure_status)),
        (Method::GET, "/api/v1/cases/{id}/compliance-checks", get(cases::proceedings_api::checks)),
        (Method::POST, "/api/v1/measures/{id}/checks", post(cases::proceedings_api::add_check)),
        (Method::GET, "/api/v1/cases/{id}/documents", get(documents::list_api)),
        (Method::POST, "/api/v1/cases/{id}/documents", post(documents::upload_api)),
        (Method::GET, "/api/v1/documents/{id}/content", get(documents::download)),
        (Method::GET, "/api/v1/notifications", get(notifications::web::list_api)),
        (Method::POST, "/api/v1/notifications/{id}/read", post(notifications::web::read_api)),
    ]
}

/// Builds the whole router over `state`: the very same router serves in production and in
/// the tests.
pub fn router(state: AppState) -> Router {
    let static_files = ServeDir::new(&state.static_dir).append_index_html_on_directories(false);
    let mut router = Router::new();
    for (_, path, handler) in route_table() {
        router = router.route(path, handler);
    }
    router
        .nest_service("/static", static_files)
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(web::middleware::request_context))
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), web::middleware::security_headers))
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), render_errors))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
                .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::extract::authenticate)),
        )
        .with_state(state)
}
