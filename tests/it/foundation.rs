//! The page shell, operational endpoints, security headers and error rendering, driven
//! through the production router in-process.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use icts_review::web::WebState;
use icts_review::web::error::render_errors;
use icts_review::web::extract::{ApiJson, AppPath};
use serde::Deserialize;

use crate::harness::{TestApp, test_config};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

fn assert_security_headers(r: &crate::harness::TestResponse) {
    assert_eq!(r.header("content-security-policy").as_deref(), Some(CSP));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(r.header("cross-origin-opener-policy").as_deref(), Some("same-origin"));
    assert!(r.header("x-request-id").is_some_and(|id| id.len() >= 8));
}

#[tokio::test]
async fn home_page_has_the_shell_and_every_security_header() {
    let app = TestApp::new().await;
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_security_headers(&r);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("strict-transport-security"), None, "no HSTS over plain HTTP");
    let html = r.text();
    assert!(html.contains("<title>Home · ICTS Review</title>"));
    assert!(html.contains(r##"class="usa-skipnav" href="#main-content""##), "skip link");
    assert!(html.contains(r#"<main id="main-content""#), "main landmark");
    assert!(html.contains("usa-footer"), "footer");
    assert!(html.contains("/static/vendor/uswds/css/uswds.min.css"));
    assert_eq!(html.matches("CONTROLLED UNCLASSIFIED INFORMATION").count(), 2, "marking at top and bottom");
    assert!(html.contains(r#"href="/sign-in""#));
    assert!(!html.contains("<script>") && !html.contains("style="), "no inline scripts or styles");
}

#[tokio::test]
async fn marking_is_configurable_and_https_adds_hsts() {
    let app = TestApp::with(|c| {
        c.marking = "UNCLASSIFIED".into();
        c.public_url = "https://icts.example.gov".parse().unwrap();
    })
    .await;
    let r = app.get("/").await;
    assert_eq!(r.header("strict-transport-security").as_deref(), Some("max-age=63072000; includeSubDomains"));
    let html = r.text();
    assert_eq!(html.matches(">UNCLASSIFIED</div>").count(), 2);
    assert!(html.contains("icts-marking--unclassified"));
    assert!(!html.contains("CONTROLLED UNCLASSIFIED INFORMATION"));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let r = app.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["database"], "up");
    assert_security_headers(&r);
}

#[tokio::test]
async fn readiness_is_503_quickly_when_the_database_is_unreachable() {
    // A pool pointed at a socket folder with no server behind it.
    let app = TestApp::with(|c| c.db_acquire_timeout = std::time::Duration::from_secs(1)).await;
    let missing = tempfile::tempdir().unwrap();
    let config = test_config(&format!("postgres://postgres@localhost/none?host={}", missing.path().display()));
    let pool =
        icts_review::db::pool_options(&config).connect_lazy(config.database_url.as_ref().unwrap().as_str()).unwrap();
    let state = icts_review::app::AppState::new(pool, &app.config);
    let router = icts_review::router::router(state);
    let started = std::time::Instant::now();
    let r = tower::ServiceExt::oneshot(router, Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "readiness answers within its own timeout");
}

#[tokio::test]
async fn unknown_routes_are_404_pages_or_problem_json() {
    let app = TestApp::new().await;
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("Not found"));
    assert_security_headers(&r);

    let r = app.get("/api/v1/no-such-thing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
    let p = r.json();
    assert_eq!(p["status"], 404);
    assert_eq!(p["title"], "Not found");
    assert!(p["type"].as_str().unwrap().starts_with("urn:icts-review:problem:"));
}

#[tokio::test]
async fn wrong_method_is_405_with_allow_header() {
    let app = TestApp::new().await;
    let r = app.send(Request::post("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.header("allow").unwrap().contains("GET"));
    assert!(r.text().contains("Method not allowed"));
}

#[tokio::test]
async fn static_assets_are_served_with_their_types() {
    let app = TestApp::new().await;
    let r = app.get("/static/vendor/uswds/css/uswds.min.css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/css"));
    assert!(r.body.len() > 100_000);
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    let r = app.get("/static/vendor/uswds/js/uswds.min.js").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/static/../Cargo.toml").await;
    assert_ne!(r.status, StatusCode::OK, "no path traversal out of static/");
    let r = app.get("/static/nothing.css").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn request_ids_are_kept_when_sane_and_replaced_otherwise() {
    let app = TestApp::new().await;
    let r =
        app.send(Request::get("/healthz").header("x-request-id", "lb-1234567890").body(Body::empty()).unwrap()).await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("lb-1234567890"));
    let r = app.send(Request::get("/healthz").header("x-request-id", "<script>").body(Body::empty()).unwrap()).await;
    let id = r.header("x-request-id").unwrap();
    assert_ne!(id, "<script>");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
}

/// A JSON endpoint built from the crate's extractors, to show how malformed input is
/// answered everywhere under `/api/`.
fn echo_router() -> axum::Router {
    #[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
    #[serde(deny_unknown_fields)]
    struct Input {
        title: String,
        count: u32,
    }
    async fn echo(AppPath(id): AppPath<uuid::Uuid>, ApiJson(input): ApiJson<Input>) -> ApiJson<serde_json::Value> {
        ApiJson(serde_json::json!({"id": id, "title": input.title, "count": input.count}))
    }
    let config = test_config("postgres://localhost/unused");
    let web = WebState::from_config(&config);
    axum::Router::new()
        .route("/api/v1/echo/{id}", post(echo))
        .with_state(icts_review::web::openapi::ApiDocument::default())
        .layer(axum::middleware::from_fn_with_state(web, render_errors))
        .layer(axum::extract::DefaultBodyLimit::max(1024))
}

async fn echo(body: &'static str, content_type: &str, id: &str) -> (StatusCode, serde_json::Value) {
    let r = tower::ServiceExt::oneshot(
        echo_router(),
        Request::post(format!("/api/v1/echo/{id}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
    .unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    let bytes = http_body_util::BodyExt::collect(r.into_body()).await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    if !status.is_success() {
        assert_eq!(ct.as_deref(), Some("application/problem+json"));
    }
    (status, json)
}

#[tokio::test]
async fn malformed_api_input_is_a_4xx_problem_never_a_5xx() {
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let (s, j) = echo(r#"{"title":"a","count":1}"#, "application/json", id).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, j) = echo(r#"{"title":"a","#, "application/json", id).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{j}");
    let (s, j) = echo(r#"{"title":"a","count":1,"extra":true}"#, "application/json", id).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(j["detail"].as_str().unwrap().contains("extra"), "names the unknown field: {j}");
    let (s, j) = echo(r#"{"title":"a","count":-1}"#, "application/json", id).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(j["detail"].as_str().unwrap().contains("count"), "names the field: {j}");
    let (s, _) = echo(r#"{"title":"a","count":1}"#, "text/plain", id).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, j) = echo(r#"{"title":"a","count":1}"#, "application/json", "not-a-uuid").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(j["detail"].as_str().unwrap().contains("path"), "{j}");
    let big: &'static str = Box::leak(format!(r#"{{"title":"{}","count":1}}"#, "x".repeat(4096)).into_boxed_str());
    let (s, _) = echo(big, "application/json", id).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // Invalid UTF-8 inside a JSON string.
    let bad_utf8: &'static [u8] = b"{\"title\":\"\xff\xfe\",\"count\":1}";
    let r = tower::ServiceExt::oneshot(
        echo_router(),
        Request::post(format!("/api/v1/echo/{id}"))
            .header("content-type", "application/json")
            .body(Body::from(bad_utf8))
            .unwrap(),
    )
    .await
    .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}
