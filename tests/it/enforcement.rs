//! Enforcement: the penalty calculator through the API and its page.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, api};

fn fields(r: &serde_json::Value) -> Vec<String> {
    r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_penalty_calculator_takes_the_greater_basis_in_force_on_the_violations_date() {
    let app = TestApp::new().await;
    let t = app.token(&app.user("analyst").await).await;
    let get = |q: &str| api("GET", &format!("/api/v1/enforcement/penalty-basis?{q}"), &t, None);
    // 2024's adjusted maximum against a small transaction: the statute's amount.
    let b = app.send(get("violation_on=2024-08-01&transaction_value=100000")).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    let b = b.json();
    assert_eq!((b["maximum_cents"].as_i64(), b["ground"].as_str()), (Some(36_813_600), Some("statutory")));
    // 2025's, against a large one: twice its value, with the factors stated.
    let q = "violation_on=2025-03-01&transaction_value=%241%2C250%2C000&factors=voluntary_self_disclosure,cooperation";
    let b = app.send(get(q)).await.json();
    assert_eq!(b["statutory"]["amount_cents"], 37_770_000);
    assert_eq!((b["maximum_cents"].as_i64(), b["ground"].as_str()), (Some(250_000_000), Some("twice_the_value")));
    assert_eq!(b["factors"], json!(["voluntary_self_disclosure", "cooperation"]));
    // Bad facts are named; a date before any recorded maximum says so.
    let r = app.send(get("violation_on=someday&transaction_value=-3&factors=luck")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&r.json()), ["violation_on", "transaction_value", "factors"]);
    let r = app.send(get("violation_on=2019-05-15&transaction_value=10")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("no adjusted maximum"), "{}", r.text());
    // The page shows the same.
    let s = app.sign_in(&app.user("supervisor").await).await;
    let page = app
        .send(s.get(
            "/enforcement/penalty?violation_on=2025-03-01&transaction_value=1250000&factor=voluntary_self_disclosure",
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("data-testid=\"maximum\">$2,500,000</span>"), "{html}");
    assert!(html.contains("Voluntary self-disclosure (toward less)"), "{html}");
}
