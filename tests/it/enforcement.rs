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

async fn party(app: &TestApp, t: &str, name: &str) -> String {
    let body = json!({"legal_name": name, "kind": "company", "country": "CN"});
    let r = app.send(api("POST", "/api/v1/parties", t, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_matter_runs_its_proceeding_in_the_rules_order_with_its_answer_date_rolled_past_labor_day() {
    let app = TestApp::new().await;
    app.clock.set(time::macros::datetime!(2026-09-20 12:00 UTC));
    let (analyst, supervisor) = (app.user("analyst").await, app.user("supervisor").await);
    let (ta, ts) = (app.token(&analyst).await, app.token(&supervisor).await);
    let importer = party(&app, &ta, "Shenzhen Telematics Trading Co.").await;

    // Bad input is named by field, and nothing is written.
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(json!({})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(fields(&r.json()), ["party_id", "provision", "summary", "violation_on"]);
    let b =
        json!({"party_id": importer, "provision": "final_determination", "summary": "x", "violation_on": "2026-03-01"});
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(b))).await;
    assert_eq!(fields(&r.json()), ["case_id"], "a breach of a final determination names its case");
    let b = json!({"party_id": importer, "provision": "791.399", "summary": "x", "violation_on": "2027-01-01",
                   "transaction_value": "lots"});
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(b))).await;
    assert_eq!(fields(&r.json()), ["provision", "violation_on", "transaction_value"]);
    assert_eq!(app.count("enforcement_matters").await, 0);

    // An analyst opens it; the auditor reads it and opens nothing.
    let b = json!({"party_id": importer, "provision": "791.302", "violation_on": "2026-03-01",
                   "summary": "Imported VCS hardware of a PRC-controlled supplier without a declaration",
                   "transaction_value": "1,000,000", "self_disclosed": true, "opened_on": "2026-07-01"});
    let auditor = app.token(&app.user("auditor").await).await;
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &auditor, Some(b.clone()))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(b))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = r.json();
    let id = m["id"].as_str().unwrap().to_string();
    assert!(m["number"].as_str().unwrap().starts_with("ENF-2026-"), "{m}");
    assert_eq!((m["docket"].as_str(), m["stage"].as_str()), (Some("subpart_d"), Some("open")));
    let v = app.send(api("GET", &format!("/api/v1/enforcement/matters/{id}"), &auditor, None)).await.json();
    assert_eq!(v["acts"][0]["kind"], "opened");
    // 2025's adjusted maximum is in force; twice the value is the greater.
    assert_eq!(v["penalty_basis"]["maximum_cents"], 200_000_000, "{v}");
    assert_eq!(v["penalty_basis"]["factors"], json!(["voluntary_self_disclosure"]));

    let acts = format!("/api/v1/enforcement/matters/{id}/acts");
    let act = |body: serde_json::Value, t: &str| api("POST", &acts, t, Some(body));
    // The notice is the office's act: a supervisor's, not an analyst's.
    let notice = json!({"kind": "pre_penalty_notice", "effective_on": "2026-08-07", "amount": "500,000",
                        "note": "The alleged violation and the penalty proposed", "version": 1});
    assert_eq!(app.send(act(notice.clone(), &ta)).await.status, StatusCode::FORBIDDEN);
    let mut too_much = notice.clone();
    too_much["amount"] = json!("2,500,000");
    let r = app.send(act(too_much, &ts)).await;
    assert_eq!(fields(&r.json()), ["amount"], "{}", r.text());
    // Delivered on Friday 7 August 2026: the 30th day after is Sunday 6 September, and
    // Monday the 7th is Labor Day, so the answer is due on Tuesday 8 September.
    let r = app.send(act(notice.clone(), &ts)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        (r.json()["stage"].as_str(), r.json()["answer_due_on"].as_str()),
        (Some("pre_penalty_notice"), Some("2026-09-08"))
    );
    let stale = app.send(act(notice, &ts)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let s = app.sign_in(&supervisor).await;
    let html = app.send(s.get(&format!("/enforcement/{id}"))).await.text();
    assert!(html.contains("Tuesday 8 September 2026"), "{html}");
    assert!(html.contains("Labor Day"), "{html}");

    // The penalty waits for the answer or its date; an extension comes only on a request
    // made by the date, to a business day after it.
    let r = app
        .send(act(
            json!({"kind": "penalty_notice", "effective_on": "2026-09-08", "amount": "400000", "version": 2}),
            &ts,
        ))
        .await;
    assert_eq!(fields(&r.json()), ["effective_on"], "{}", r.text());
    let ext = |on: &str, due: &str, note: &str| json!({"kind": "extension", "effective_on": on, "due_on": due, "note": note, "version": 2});
    let r = app.send(act(ext("2026-09-01", "2026-09-22", ""), &ts)).await;
    assert_eq!(fields(&r.json()), ["note"]);
    let r = app.send(act(ext("2026-09-01", "2026-09-19", "Counsel asked on 1 September"), &ts)).await;
    assert_eq!(fields(&r.json()), ["due_on"]);
    assert!(r.text().contains("Saturday"), "{}", r.text());
    let r = app.send(act(ext("2026-09-01", "2026-09-22", "Counsel asked on 1 September"), &ts)).await;
    assert_eq!(r.json()["answer_due_on"], "2026-09-22", "{}", r.text());
    // The answer (an analyst records it), then the penalty notice ends the matter.
    let r = app
        .send(act(
            json!({"kind": "answer", "effective_on": "2026-09-15", "note": "Denies wilfulness", "version": 3}),
            &ta,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(act(
            json!({"kind": "penalty_notice", "effective_on": "2026-09-14", "amount": "400000", "version": 4}),
            &ts,
        ))
        .await;
    assert_eq!(fields(&r.json()), ["effective_on"], "acts follow one another: {}", r.text());
    let r = app
        .send(act(
            json!({"kind": "penalty_notice", "effective_on": "2026-09-16", "amount": "400000", "version": 4}),
            &ts,
        ))
        .await;
    assert_eq!(r.json()["stage"], "penalty_imposed", "{}", r.text());
    let r = app.send(act(json!({"kind": "closed", "note": "x", "version": 5}), &ts)).await;
    assert_eq!(fields(&r.json()), ["kind"]);

    let v = app.send(api("GET", &format!("/api/v1/enforcement/matters/{id}"), &ts, None)).await.json();
    let kinds: Vec<&str> = v["acts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "pre_penalty_notice", "extension", "answer", "penalty_notice"]);
    assert_eq!(v["acts"][4]["amount_cents"], 40_000_000);
    assert_eq!(app.events("enforcement.matter_opened").await.len(), 1);
    assert_eq!(app.events("enforcement.act_recorded").await.len(), 4);
    // The party's page lists it; the list finds it by stage.
    let l = app.send(api("GET", "/api/v1/enforcement/matters?stage=penalty_imposed", &ta, None)).await.json();
    assert_eq!(l["matters"].as_array().unwrap().len(), 1);
    assert_eq!(l["total"], serde_json::json!({"kind": "exact", "count": 1}));
    let bad = app.send(api("GET", "/api/v1/enforcement/matters?stage=lost&party=x", &ta, None)).await;
    assert_eq!(fields(&bad.json()), ["stage", "party"]);
    let html = app.send(s.get(&format!("/parties/{importer}"))).await.text();
    assert!(html.contains(v["matter"]["number"].as_str().unwrap()), "{html}");
}
