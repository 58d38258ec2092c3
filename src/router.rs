//! The route table: every route of the service, and the layers every request passes.
//!
//! One list declares both the pages and the API: API handlers are added with `routes!`,
//! which takes method and path from their `#[utoipa::path]` annotation, so the OpenAPI
//! document is built from the very routes that serve (no second list of paths). Pages are
//! added with their method and path. [`routes`] lists both for the route x role test.
//! Nothing imports this module back: handlers reach shared state through [`AppState`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::app::{AppState, MAX_BODY_BYTES};
use crate::web::error::{AppError, render_errors};
use crate::web::{self, openapi::ApiDocument};

/// The routes being declared: the router with its OpenAPI paths, and the pages' methods and
/// paths (the API's are in the OpenAPI document).
struct Table {
    router: OpenApiRouter<AppState>,
    pages: Vec<(Method, &'static str)>,
}

impl Table {
    fn page<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let route = match method {
            Method::GET => axum::routing::get(handler),
            Method::POST => axum::routing::post(handler),
            _ => unreachable!("pages answer GET and POST"),
        };
        self.pages.push((method, path));
        self.router = self.router.route(path, route);
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.page(Method::GET, path, handler)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.page(Method::POST, path, handler)
    }

    fn api(mut self, route: UtoipaMethodRouter<AppState>) -> Self {
        self.router = self.router.routes(route);
        self
    }
}

/// Every route of the service.
fn table() -> Table {
    use crate::{
        accounts, audit, auth, authorizations, calendar, cases, declarations, determinations, documents, enforcement,
        general_authorizations, mitigation, notifications, opinions, parties, proceedings, risk, search,
    };
    Table { router: OpenApiRouter::with_openapi(web::openapi::ApiDoc::openapi()), pages: Vec::new() }
        .get("/", crate::home::web::home)
        .get("/healthz", web::health::healthz)
        .get("/readyz", web::health::readyz)
        // Sign-in and one's own account.
        .get("/sign-in", auth::web::sign_in_page)
        .post("/sign-in", auth::web::sign_in_submit)
        .get("/sign-in/code", auth::web::code_page)
        .post("/sign-in/code", auth::web::code_submit)
        .get("/sign-in/sso", auth::web::sso::start)
        .get("/sign-in/sso/callback", auth::web::sso::callback)
        .get("/sign-in/piv", auth::web::piv::sign_in)
        .post("/sign-in/key", auth::web::security_keys::sign_in_key)
        .post("/sign-in/passkey", auth::web::security_keys::passkey)
        .post("/sign-out", auth::web::sign_out)
        .get("/account/password", auth::web::password_page)
        .post("/account/password", auth::web::password_submit)
        .get("/account/reauth", auth::web::reauth_page)
        .post("/account/reauth", auth::web::reauth_submit)
        .get("/account/reauth/sso", auth::web::sso::reauth)
        .post("/account/reauth/key", auth::web::security_keys::reauth)
        .get("/account/security-keys", auth::web::security_keys::show)
        .post("/account/security-keys", auth::web::security_keys::begin)
        .post("/account/security-keys/finish", auth::web::security_keys::finish)
        .post("/account/security-keys/{id}/remove", auth::web::security_keys::remove)
        .get("/account/sessions", auth::web::sessions_page)
        .get("/account/two-step", auth::web::two_step::two_step_page)
        .post("/account/two-step/begin", auth::web::two_step::two_step_begin)
        .post("/account/two-step/confirm", auth::web::two_step::two_step_confirm)
        .post("/account/two-step/recovery-codes", auth::web::two_step::two_step_recovery_codes)
        .post("/account/two-step/remove", auth::web::two_step::two_step_remove)
        .post("/account/sessions/{id}/end", auth::web::end_session)
        .post("/account/time-zone", auth::web::time_zone_submit)
        // Account administration.
        .get("/admin/users", accounts::web::users_page)
        .post("/admin/users", accounts::web::create_user)
        .get("/admin/users/{id}", accounts::web::user_page)
        .post("/admin/users/{id}", accounts::web::user_action)
        .post("/admin/users/{id}/confirm", accounts::web::confirm_user_action)
        .post("/admin/users/{id}/cards", auth::web::piv::link)
        .post("/admin/users/{id}/identities/remove", auth::web::piv::unlink)
        .get("/admin/sign-in-policy", accounts::web::sign_in_policy::show)
        .post("/admin/sign-in-policy", accounts::web::sign_in_policy::save)
        .post("/admin/sign-in-policy/approvals/{id}", accounts::web::sign_in_policy::decide)
        .get("/admin/reference", cases::web::reference_admin)
        .get("/admin/screening", parties::web::lists_admin)
        .post("/admin/screening", parties::web::upload)
        .post("/screening/hits/{id}", parties::web::decide_page)
        .post("/admin/reference", cases::web::reference_save)
        // Cases.
        .get("/dashboard", cases::web::dashboard)
        .get("/cases", cases::web::list)
        .post("/cases", cases::web::create)
        .get("/cases/new", cases::web::new_form)
        .get("/cases/import", cases::web::import_form)
        .post("/cases/import", cases::web::import_upload)
        .get("/cases/import/template.csv", cases::web::import_template)
        .get("/cases/import/jobs/{id}", cases::web::import_job)
        .post("/cases/assign", cases::web::assign)
        .get("/cases/{id}", cases::web::show)
        .get("/cases/{id}/edit", cases::web::edit_form)
        .post("/cases/{id}/edit", cases::web::edit_submit)
        .post("/cases/{id}/questions", cases::web::questions)
        .post("/cases/{id}/transitions", cases::web::transition)
        .post("/cases/{id}/transitions/confirm", cases::web::confirm_transition)
        .post("/cases/{id}/notes", cases::web::add_note)
        .post("/cases/{id}/rfis", cases::web::add_rfi)
        .post("/cases/{id}/rfis/{rfi}/answer", cases::web::answer_rfi)
        .post("/cases/{id}/extensions", cases::web::extend)
        .post("/cases/{id}/rule", cases::web::set_rule)
        .post("/cases/{id}/parties", parties::web::link)
        .get("/cases/{id}/assess", risk::web::assess_form)
        .post("/cases/{id}/assess", risk::web::assess_submit)
        .get("/cases/{id}/nexus", risk::web::nexus_form)
        .post("/cases/{id}/nexus", risk::web::nexus_submit)
        .post("/assessments/{id}/override", risk::web::propose)
        .post("/overrides/{id}/decision", risk::web::decide)
        .post("/cases/{id}/transactions", parties::web::add_transaction)
        .post("/cases/{id}/consolidate", parties::web::consolidate)
        // Proceedings: determinations, interagency notices, submissions, mitigation, documents.
        .get("/cases/{id}/proceedings", proceedings::web::proceedings)
        .post("/cases/{id}/determinations", determinations::web::create)
        .post("/cases/{id}/agency-notices", proceedings::web::add_notice)
        .post("/agency-notices/{id}/response", proceedings::web::respond)
        .post("/cases/{id}/submissions", proceedings::web::add_submission)
        .post("/submissions/{id}/meeting", proceedings::web::meeting)
        .post("/cases/{id}/deviations", proceedings::web::record_deviation)
        .post("/cases/{id}/response-complete", proceedings::web::mark_response_complete)
        .post("/cases/{id}/measures", mitigation::web::add_measure)
        .post("/measures/{id}/status", mitigation::web::measure_status)
        .post("/measures/{id}/checks", mitigation::web::add_check)
        .post("/cases/{id}/documents", documents::web::upload)
        .get("/documents/{id}", documents::web::download)
        .get("/determinations", determinations::web::queue)
        .get("/determinations/{id}", determinations::web::show)
        .post("/determinations/{id}", determinations::web::save)
        .post("/determinations/{id}/submit", determinations::web::submit)
        .post("/determinations/{id}/sign", determinations::web::sign)
        .get("/determinations/{id}/sign", determinations::web::sign_form)
        .post("/determinations/{id}/outside-signature", determinations::web::record_outside)
        .post("/determinations/{id}/confirm", determinations::web::confirm_outside)
        .post("/determinations/{id}/return", determinations::web::return_draft)
        .get("/determinations/{id}/document", determinations::web::document)
        .post("/determinations/{id}/sendings", determinations::web::record_sending)
        .post("/determinations/{id}/publication", determinations::web::record_publication)
        // The second docket: Declarations of Conformity, and parties' filer roles.
        .get("/declarations", declarations::web::list)
        .post("/declarations", declarations::web::file)
        .get("/declarations/import", declarations::web::import_form)
        .post("/declarations/import", declarations::web::import_upload)
        .get("/declarations/import/template.csv", declarations::web::import_template)
        .get("/declarations/{id}", declarations::web::show)
        .post("/declarations/{id}/status", declarations::web::set_status)
        .post("/declarations/{id}/amendment", declarations::web::amend)
        .post("/declarations/{id}/questions", declarations::web::ask)
        .post("/declarations/{id}/questions/{seq}/answer", declarations::web::answer)
        .post("/parties/{id}/filer-roles", declarations::web::record_filer_role)
        .get("/admin/declaration-due-dates", declarations::web::due_dates)
        .post("/admin/declaration-due-dates", declarations::web::set_due_date)
        // Enforcement: the matters and the penalty calculator.
        .get("/authorizations", authorizations::web::list)
        .post("/authorizations", authorizations::web::file)
        .get("/authorizations/new", authorizations::web::new)
        .get("/authorizations/{id}", authorizations::web::show)
        .post("/authorizations/{id}/acts", authorizations::web::record_act)
        .post("/authorizations/{id}/material", authorizations::web::add_material)
        .post("/authorizations/{id}/decision", authorizations::web::draft_decision)
        .get("/authorizations/{id}/sign", authorizations::web::sign_form)
        .post("/authorizations/{id}/sign", authorizations::web::sign)
        .post("/authorizations/{id}/conditions/{seq}", authorizations::web::check_condition)
        .get("/opinions", opinions::web::list)
        .post("/opinions", opinions::web::file)
        .get("/opinions/new", opinions::web::new)
        .get("/opinions/{id}", opinions::web::show)
        .post("/opinions/{id}/acts", opinions::web::record_act)
        .post("/opinions/{id}/material", opinions::web::add_material)
        .post("/opinions/{id}/opinion", opinions::web::draft)
        .get("/opinions/{id}/sign", opinions::web::sign_form)
        .post("/opinions/{id}/sign", opinions::web::sign)
        .get("/opinions/{id}/public", opinions::web::public)
        .get("/search", search::web::page)
        .get("/general-authorizations", general_authorizations::web::index)
        .post("/general-authorizations/reliances", general_authorizations::web::rely)
        .get("/general-authorizations/reliances/{id}", general_authorizations::web::reliance)
        .post("/general-authorizations/reliances/{id}/acts", general_authorizations::web::record)
        .post("/general-authorizations/suppliers", general_authorizations::web::apply_supplier)
        .post("/general-authorizations/suppliers/{id}/decision", general_authorizations::web::decide_supplier)
        .get("/enforcement", enforcement::web::list)
        .post("/enforcement", enforcement::web::open)
        .get("/enforcement/new", enforcement::web::new)
        .get("/enforcement/penalty", enforcement::web::page)
        .get("/enforcement/{id}", enforcement::web::show)
        .post("/enforcement/{id}/acts", enforcement::web::record_act)
        .get("/enforcement/{id}/export", audit::web::export_matter_page)
        // The federal calendar.
        .get("/calendar", calendar::web::page)
        // Notifications.
        .get("/notifications", notifications::web::page)
        .post("/notifications/read-all", notifications::web::read_all)
        .post("/notifications/{id}/read", notifications::web::read)
        // Parties.
        .get("/parties", parties::web::list)
        .post("/parties", parties::web::create)
        .get("/parties/{id}", parties::web::show)
        .post("/parties/{id}", parties::web::update)
        .post("/parties/{id}/evidence", parties::web::add_evidence)
        // Audit log, chain status and exports.
        .get("/audit", audit::web::events_page)
        .get("/audit/chain", audit::web::chain)
        .get("/audit/export", audit::web::export_log_page)
        .post("/audit/chain/verify", audit::web::chain_verify)
        .get("/cases/{id}/export", audit::web::export_case_page)
        .get("/parties/{id}/export", audit::web::export_party_page)
        .get("/cases/{id}/dossier", audit::web::dossier_page)
        // API.
        .api(routes!(web::openapi::openapi_json))
        .api(routes!(auth::api::create_token))
        .api(routes!(auth::api::delete_token))
        .api(routes!(auth::api::me))
        .api(routes!(auth::api::sign_in_methods))
        .api(routes!(auth::api::set_time_zone))
        .api(routes!(accounts::api::list_users))
        .api(routes!(accounts::api::create_user))
        .api(routes!(accounts::api::patch_user))
        .api(routes!(accounts::api::list_approvals))
        .api(routes!(accounts::api::decide_approval))
        .api(routes!(audit::api::list_events))
        .api(routes!(audit::api::verify_api))
        .api(routes!(audit::api::checkpoints_api))
        .api(routes!(audit::api::export_log))
        .api(routes!(audit::api::export_case))
        .api(routes!(audit::api::export_party))
        .api(routes!(audit::api::export_matter))
        .api(routes!(cases::api::reference))
        .api(routes!(cases::api::put_reference))
        .api(routes!(cases::api::list))
        .api(routes!(cases::api::create))
        .api(routes!(cases::api::assign))
        .api(routes!(cases::api::get))
        .api(routes!(cases::api::patch))
        .api(routes!(cases::api::transition))
        .api(routes!(cases::api::add_note))
        .api(routes!(cases::api::events))
        .api(routes!(parties::api::link))
        .api(routes!(parties::api::list_transactions))
        .api(routes!(parties::api::add_transaction))
        .api(routes!(parties::api::consolidate))
        .api(routes!(cases::api::set_rule))
        .api(routes!(risk::api::current))
        .api(routes!(risk::api::get))
        .api(routes!(risk::api::create))
        .api(routes!(risk::api::list))
        .api(routes!(risk::api::assess))
        .api(routes!(risk::api::propose))
        .api(routes!(risk::api::decide))
        .api(routes!(risk::api::get_nexus))
        .api(routes!(risk::api::record_nexus))
        .api(routes!(parties::api::lists_api))
        .api(routes!(parties::api::party_hits))
        .api(routes!(parties::api::decide_api))
        .api(routes!(parties::api::list))
        .api(routes!(parties::api::create))
        .api(routes!(parties::api::get))
        .api(routes!(parties::api::patch))
        .api(routes!(parties::api::add_evidence))
        .api(routes!(auth::api::reauth))
        .api(routes!(determinations::api::list))
        .api(routes!(determinations::api::create))
        .api(routes!(determinations::api::get))
        .api(routes!(determinations::api::revise))
        .api(routes!(determinations::api::submit))
        .api(routes!(determinations::api::sign))
        .api(routes!(determinations::api::record_outside))
        .api(routes!(determinations::api::confirm_outside))
        .api(routes!(determinations::api::return_draft))
        .api(routes!(determinations::api::notice))
        .api(routes!(determinations::api::record_sending))
        .api(routes!(determinations::api::record_publication))
        .api(routes!(proceedings::api::notices))
        .api(routes!(proceedings::api::add_notice))
        .api(routes!(proceedings::api::respond))
        .api(routes!(proceedings::api::submissions))
        .api(routes!(proceedings::api::add_submission))
        .api(routes!(proceedings::api::meeting))
        .api(routes!(proceedings::api::record_deviation))
        .api(routes!(proceedings::api::mark_response_complete))
        .api(routes!(mitigation::api::kinds))
        .api(routes!(mitigation::api::measures))
        .api(routes!(mitigation::api::add_measure))
        .api(routes!(mitigation::api::measure_status))
        .api(routes!(mitigation::api::checks))
        .api(routes!(mitigation::api::add_check))
        .api(routes!(documents::api::list_api))
        .api(routes!(documents::api::upload_api))
        .api(routes!(documents::web::download))
        .api(routes!(notifications::web::list_api))
        .api(routes!(notifications::web::read_api))
        .api(routes!(declarations::api::list, declarations::api::file))
        .api(routes!(declarations::api::get))
        .api(routes!(declarations::api::set_status))
        .api(routes!(declarations::api::amend))
        .api(routes!(declarations::api::ask))
        .api(routes!(declarations::api::answer))
        .api(routes!(declarations::api::due_dates))
        .api(routes!(declarations::api::set_due_date))
        .api(routes!(declarations::api::missing))
        .api(routes!(declarations::api::filer_roles, declarations::api::record_filer_role))
        .api(routes!(authorizations::api::applications, authorizations::api::file))
        .api(routes!(authorizations::api::application))
        .api(routes!(authorizations::api::record_act))
        .api(routes!(authorizations::api::add_material))
        .api(routes!(authorizations::api::draft_decision))
        .api(routes!(authorizations::api::sign))
        .api(routes!(authorizations::api::check_condition))
        .api(routes!(opinions::api::list, opinions::api::file))
        .api(routes!(opinions::api::get))
        .api(routes!(opinions::api::record_act))
        .api(routes!(opinions::api::add_material))
        .api(routes!(opinions::api::draft))
        .api(routes!(opinions::api::sign))
        .api(routes!(opinions::api::public))
        .api(routes!(search::api::search))
        .api(routes!(general_authorizations::api::versions))
        .api(routes!(general_authorizations::api::reliances, general_authorizations::api::rely))
        .api(routes!(general_authorizations::api::reliance))
        .api(routes!(general_authorizations::api::record))
        .api(routes!(general_authorizations::api::suppliers, general_authorizations::api::apply_supplier))
        .api(routes!(general_authorizations::api::decide_supplier))
        .api(routes!(enforcement::api::penalty_basis))
        .api(routes!(enforcement::api::matters, enforcement::api::open))
        .api(routes!(enforcement::api::matter))
        .api(routes!(enforcement::api::record_act))
        .api(routes!(calendar::api::holidays))
        .api(routes!(calendar::api::due))
}

/// Every route as (method, path): the pages, then the API from its OpenAPI document.
pub fn routes() -> Vec<(Method, String)> {
    let table = table();
    let mut all: Vec<(Method, String)> = table.pages.iter().map(|(m, p)| (m.clone(), p.to_string())).collect();
    for (path, item) in &table.router.get_openapi().paths.paths {
        let operations = [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ];
        for (method, op) in operations {
            if op.is_some() {
                all.push((method, path.clone()));
            }
        }
    }
    all
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Builds the whole router over `state`: the very same router serves in production and in
/// the tests.
pub fn router(mut state: AppState) -> Router {
    let (routes, doc) = table().router.split_for_parts();
    state.api = ApiDocument(Arc::new(web::openapi::conform(doc)));
    let manifest = web::assets::Manifest::read(&state.static_dir).unwrap_or_else(|e| {
        tracing::warn!(dir = %state.static_dir.display(), "the static folder cannot be read: {e}");
        web::assets::Manifest::default()
    });
    let manifest = Arc::new(manifest);
    web::assets::install(manifest.clone());
    let static_files =
        ServiceBuilder::new().layer(axum::middleware::from_fn_with_state(manifest, web::assets::headers)).service(
            ServeDir::new(&state.static_dir)
                .append_index_html_on_directories(false)
                .precompressed_br()
                .precompressed_gzip(),
        );
    routes
        .nest_service("/static", static_files)
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(web::middleware::drop_unacceptable_request_id))
                .layer(web::middleware::request_layers())
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), web::middleware::security_headers))
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), render_errors))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
                .layer(axum::middleware::from_fn_with_state(state.clone(), web::middleware::durable))
                .layer(axum::middleware::from_fn_with_state(state.clone(), crate::web::auth::authenticate))
                .layer(axum::middleware::from_fn_with_state(state.web.clone(), crate::web::flash::carry)),
        )
        .with_state(state)
}
