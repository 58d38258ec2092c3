//! One search across both dockets, as far as each role sees.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, api};

#[tokio::test]
async fn one_search_finds_parties_declarations_applications_and_matters_of_both_dockets() {
    let app = TestApp::new().await;
    app.clock.set(time::macros::datetime!(2026-05-04 15:00 UTC));
    let (analyst, auditor, admin) = (app.user("analyst").await, app.user("auditor").await, app.user("admin").await);
    let (ta, tu) = (app.token(&analyst).await, app.token(&auditor).await);
    let body = json!({"legal_name": "Harbin Connected Modules", "kind": "company", "country": "CN"});
    let party =
        app.send(api("POST", "/api/v1/parties", &ta, Some(body))).await.json()["id"].as_str().unwrap().to_string();
    let role = json!({"role": "hardware_importer", "since": "2025-03-17"});
    app.send(api("POST", &format!("/api/v1/parties/{party}/filer-roles"), &ta, Some(role))).await;
    let d = json!({"filer_id": party, "kind": "hardware", "calendar_year": 2027, "covers": ["TCU-2203"],
                   "certifications": ["No VCS hardware of a PRC- or Russia-linked supplier"]});
    assert_eq!(app.send(api("POST", "/api/v1/declarations", &ta, Some(d))).await.status, StatusCode::CREATED);
    let a = json!({"applicant_id": party, "summary": "Gateways whose modem is assembled in Harbin"});
    assert_eq!(
        app.send(api("POST", "/api/v1/authorizations/applications", &ta, Some(a))).await.status,
        StatusCode::CREATED
    );
    let m = json!({"party_id": party, "provision": "791.302", "summary": "Gateways of a PRC-controlled supplier",
                   "violation_on": "2026-03-01", "opened_on": "2026-04-01"});
    assert_eq!(app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(m))).await.status, StatusCode::CREATED);

    let r = app.send(api("GET", "/api/v1/search?q=harbin", &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let sections = r.json();
    let found: Vec<(String, usize)> = sections
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().to_string(), s["hits"].as_array().unwrap().len()))
        .collect();
    let want =
        [("cases", 0), ("parties", 1), ("declarations", 1), ("applications", 1), ("opinions", 0), ("matters", 1)];
    assert_eq!(found, want.map(|(k, n)| (k.to_string(), n)), "{sections}");
    assert!(sections[3]["hits"][0]["href"].as_str().unwrap().starts_with("/authorizations/"));
    // A part of an item covered finds its declaration; nothing is found for nothing.
    let r = app.send(api("GET", "/api/v1/search?q=TCU-22", &tu, None)).await.json();
    assert_eq!(r[2]["hits"][0]["title"].as_str().map(|t| t.starts_with("CVD-")), Some(true), "{r}");
    assert_eq!(app.send(api("GET", "/api/v1/search?q=", &tu, None)).await.json(), json!([]));
    let long = "x".repeat(201);
    let r = app.send(api("GET", &format!("/api/v1/search?q={long}"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // Administrators see no case or filing.
    let t = app.token(&admin).await;
    assert_eq!(app.send(api("GET", "/api/v1/search?q=harbin", &t, None)).await.status, StatusCode::FORBIDDEN);
    // The page.
    let s = app.sign_in(&analyst).await;
    let html = app.send(s.get("/search?q=Harbin")).await.text();
    assert!(html.contains("<strong>4 found</strong>") && html.contains("data-testid=\"search-matters\""), "{html}");
}
