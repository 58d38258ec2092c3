//! The OpenAPI document's frame (title, security scheme); its paths come from the route
//! list in `router.rs`. Served at `GET /api/v1/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
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
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The document built by the router from its route list (`router.rs`), shared with the
/// handler that serves it.
#[derive(Clone, Default)]
pub struct ApiDocument(pub Arc<utoipa::openapi::OpenApi>);

impl serde::Serialize for ApiDocument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document")))]
pub async fn openapi_json(State(doc): State<ApiDocument>) -> ApiJson<ApiDocument> {
    ApiJson(doc)
}
