//! The OpenAPI document, generated from the handlers' annotations and served at
//! `GET /api/v1/openapi.json`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::web::extract::ApiJson;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "icts-review API", description = "Case management for ICTS transaction reviews (15 CFR Part 791). Errors are application/problem+json (RFC 9457)."),
    paths(
        crate::auth::api::create_token,
        crate::auth::api::delete_token,
        crate::auth::api::me,
        crate::auth::api::list_users,
        crate::auth::api::create_user,
        crate::auth::api::patch_user,
        crate::audit::api::list_events,
        crate::audit::exports_web::verify_api,
        crate::audit::exports_web::checkpoints_api,
        crate::audit::exports_web::export_log,
        crate::audit::exports_web::export_case,
        crate::cases::api::reference,
        crate::cases::api::put_reference,
        crate::cases::api::list,
        crate::cases::api::create,
        crate::cases::api::assign,
        crate::cases::api::get,
        crate::cases::api::patch,
        crate::cases::api::transition,
        crate::cases::api::add_note,
        crate::cases::api::events,
        crate::risk::api::current,
        crate::risk::api::get,
        crate::risk::api::create,
        crate::risk::api::list,
        crate::risk::api::assess,
        crate::risk::api::propose,
        crate::risk::api::decide,
        crate::risk::api::record_nexus,
        crate::risk::api::get_nexus,
        crate::parties::screening_web::lists_api,
        crate::parties::screening_web::party_hits,
        crate::parties::screening_web::decide_api,
        crate::parties::api::link,
        crate::parties::api::list_transactions,
        crate::parties::api::add_transaction,
        crate::parties::api::consolidate,
        crate::parties::api::list,
        crate::parties::api::create,
        crate::parties::api::get,
        crate::parties::api::patch,
        crate::parties::api::add_evidence,
        crate::auth::api::reauth,
        crate::determinations::api::list,
        crate::determinations::api::create,
        crate::determinations::api::get,
        crate::determinations::api::revise,
        crate::determinations::api::submit,
        crate::determinations::api::sign,
        crate::determinations::api::return_draft,
        crate::cases::proceedings_api::notices,
        crate::cases::proceedings_api::add_notice,
        crate::cases::proceedings_api::respond,
        crate::cases::proceedings_api::submissions,
        crate::cases::proceedings_api::add_submission,
        crate::cases::proceedings_api::meeting,
        crate::cases::proceedings_api::kinds,
        crate::cases::proceedings_api::measures,
        crate::cases::proceedings_api::add_measure,
        crate::cases::proceedings_api::measure_status,
        crate::cases::proceedings_api::checks,
        crate::cases::proceedings_api::add_check,
        crate::documents::list_api,
        crate::documents::upload_api,
        crate::documents::download,
        crate::notifications::web::list_api,
        crate::notifications::web::read_api,
        openapi_json,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document")))]
pub async fn openapi_json() -> ApiJson<utoipa::openapi::OpenApi> {
    ApiJson(ApiDoc::openapi())
}
