//! General authorizations (791.306): the published versions; a reliance whose missed
//! report voids it from the date it was due, and whose change of circumstance is reassessed
//! within 30 days; refused to a PRC-controlled firm; GA 3's supplier list as of a date.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::harness::{TestApp, TestUser, api};

fn fields(r: &Value) -> Vec<String> {
    r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn party(app: &TestApp, t: &str, name: &str, country: &str) -> String {
    let body = json!({"legal_name": name, "kind": "company", "country": country});
    let r = app.send(api("POST", "/api/v1/parties", t, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// Moves the clock to `at` and gives a fresh token for `user` (tokens lapse when idle).
async fn at(app: &TestApp, user: &TestUser, at: time::OffsetDateTime) -> String {
    app.clock.set(at);
    app.token(user).await
}

#[tokio::test]
async fn a_missed_report_voids_reliance_from_its_date_and_a_change_is_reassessed_within_thirty_days() {
    let app = TestApp::new().await;
    let (analyst, supervisor, auditor) =
        (app.user("analyst").await, app.user("supervisor").await, app.user("auditor").await);
    let t = at(&app, &analyst, datetime!(2026-01-05 15:00 UTC)).await;
    let tu = app.token(&auditor).await;
    let versions = app.send(api("GET", "/api/v1/general-authorizations", &tu, None)).await.json();
    let numbers: Vec<&str> = versions.as_array().unwrap().iter().map(|g| g["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["GA 1", "GA 2", "GA 3"]);
    assert_eq!(versions[0]["report_every_days"], 180);
    let voltra = party(&app, &t, "Voltra Motors LLC", "US").await;
    let quanta = party(&app, &t, "Quanta Link Ltd", "CN").await;
    let rel = "/api/v1/general-authorizations/reliances";

    // Bad input named; the version must be in force; a PRC firm may not rely.
    let r = app.send(api("POST", rel, &t, Some(json!({"ga_number": "", "summary": ""})))).await;
    assert_eq!(fields(&r.json()), ["party_id", "summary", "ga_number"]);
    let b = json!({"party_id": voltra, "ga_number": "GA 1", "summary": "Test fleet", "relied_from": "2025-01-01"});
    let r = app.send(api("POST", rel, &t, Some(b))).await;
    assert!(r.text().contains("GA 1 is not in force on 2025-01-01"), "{}", r.text());
    let b = json!({"party_id": quanta, "ga_number": "GA 1", "summary": "Test fleet"});
    let r = app.send(api("POST", rel, &t, Some(b))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Quanta Link Ltd is in the People"), "{}", r.text());
    assert_eq!(app.count("ga_reliances").await, 0);
    assert_eq!(app.send(api("POST", rel, &tu, Some(json!({})))).await.status, StatusCode::FORBIDDEN);

    // Relied on from 5 January: the first report is due 180 days later.
    let b = json!({"party_id": voltra, "ga_number": "ga1", "summary": "Test fleet of 40 vehicles on public roads"});
    let r = app.send(api("POST", rel, &t, Some(b))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = r.json();
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!((r["ga_number"].as_str(), r["standing"]["status"].as_str()), (Some("GA 1"), Some("active")));
    assert_eq!(r["standing"]["next_report_due"], "2026-07-04");
    let acts = format!("{rel}/{id}/acts");
    let act = |kind: &str, note: &str, version: i64| json!({"kind": kind, "note": note, "version": version});

    // A report on time; a change of circumstance, reassessed late.
    let t = at(&app, &analyst, datetime!(2026-06-30 15:00 UTC)).await;
    let r = app.send(api("POST", &acts, &t, Some(act("report_filed", "40 vehicles, 3 states", 1)))).await;
    assert_eq!(r.json()["standing"]["next_report_due"], "2026-12-31", "{}", r.text());
    let r = app.send(api("POST", &acts, &t, Some(act("reassessed", "x", 2)))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "nothing to reassess: {}", r.text());
    let t = at(&app, &analyst, datetime!(2026-07-10 15:00 UTC)).await;
    let r = app.send(api("POST", &acts, &t, Some(act("circumstance_changed", "New telematics supplier", 2)))).await;
    assert_eq!(r.json()["standing"]["reassess_due"], "2026-08-09", "{}", r.text());
    let t = at(&app, &analyst, datetime!(2026-08-10 15:00 UTC)).await;
    let v = app.send(api("GET", &format!("{rel}/{id}"), &t, None)).await.json();
    assert_eq!(v["reliance"]["standing"]["reassess_overdue"], true);
    let r =
        app.send(api("POST", &acts, &t, Some(act("reassessed", "Still eligible: the supplier is US-owned", 3)))).await;
    assert_eq!(r.json()["standing"]["reassess_due"], Value::Null, "{}", r.text());

    // The next report is missed: void from the date it was due, even once filed late.
    let t = at(&app, &analyst, datetime!(2027-01-02 15:00 UTC)).await;
    let v = app.send(api("GET", &format!("{rel}?party={voltra}"), &t, None)).await.json();
    assert_eq!(
        (v[0]["standing"]["status"].as_str(), v[0]["standing"]["void_from"].as_str()),
        (Some("void"), Some("2026-12-31"))
    );
    let r = app.send(api("POST", &acts, &t, Some(act("report_filed", "Late report", 4)))).await;
    assert_eq!(r.json()["standing"]["void_from"], "2026-12-31", "{}", r.text());
    let s = app.sign_in(&analyst).await;
    let html = app.send(s.get("/general-authorizations")).await.text();
    assert!(html.contains("void from 2026-12-31"), "{html}");
    // The home page counts it among the reliances that need the office.
    let home = app.send(s.get("/")).await.text();
    assert!(home.contains("data-testid=\"reliances-void\">1 void</a>"), "{home}");
    assert!(home.contains("data-testid=\"reliances-reassessments\">0 changes of circumstance</span>"), "{home}");
    let html = app.send(s.get(&format!("/general-authorizations/reliances/{id}"))).await.text();
    assert!(html.contains("The report due on 2026-12-31 was not filed by then"), "{html}");
    let html = app.send(s.get(&format!("/parties/{voltra}"))).await.text();
    assert!(html.contains("Void (a report was missed) (void from 2026-12-31)"), "{html}");
    assert_eq!(app.events("general_authorization.reliance_act").await.len(), 4);

    // GA 2 asks for no report.
    let b = json!({"party_id": voltra, "ga_number": "GA 2", "summary": "Prototypes imported for testing"});
    let g2 = app.send(api("POST", rel, &t, Some(b))).await.json()["id"].as_str().unwrap().to_string();
    let r = app.send(api("POST", &format!("{rel}/{g2}/acts"), &t, Some(act("report_filed", "x", 1)))).await;
    assert!(r.status == StatusCode::CONFLICT && r.text().contains("asks for no report"), "{}", r.text());

    // GA 3's list: applications, a supervisor's decisions, the list as of a date.
    let sup = "/api/v1/general-authorizations/suppliers";
    let keystone = party(&app, &t, "Keystone Modules Inc.", "US").await;
    let r = app.send(api("POST", sup, &t, Some(json!({"party_id": keystone, "applied_on": "2026-08-01"})))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sid = r.json()["id"].as_str().unwrap().to_string();
    let r = app.send(api("POST", sup, &t, Some(json!({"party_id": keystone})))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.send(api("POST", sup, &t, Some(json!({"party_id": quanta})))).await;
    assert_eq!(fields(&r.json()), ["party_id"]);
    let decide = format!("{sup}/{sid}/decision");
    let r = app.send(api("POST", &decide, &t, Some(json!({"status": "approved", "version": 1})))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "an analyst decides nothing");
    let ts = app.token(&supervisor).await;
    let r = app.send(api("POST", &decide, &ts, Some(json!({"status": "denied", "version": 1})))).await;
    assert_eq!(fields(&r.json()), ["reason"]);
    let r = app
        .send(api("POST", &decide, &ts, Some(json!({"status": "approved", "on": "2026-09-01", "version": 1}))))
        .await;
    assert_eq!(r.json()["status"], "approved", "{}", r.text());
    let r = app
        .send(api(
            "POST",
            &decide,
            &ts,
            Some(json!({"status": "removed", "on": "2026-12-01",
        "reason": "Acquired by a PRC-owned group", "version": 2})),
        ))
        .await;
    assert_eq!(r.json()["status"], "removed", "{}", r.text());
    let tu = app.token(&auditor).await;
    for (day, n) in [("2026-08-15", 0), ("2026-10-01", 1), ("2026-12-02", 0)] {
        let v = app.send(api("GET", &format!("{sup}?on={day}"), &tu, None)).await.json();
        assert_eq!(v.as_array().unwrap().len(), n, "{day}: {v}");
    }
    let r = app.send(api("GET", &format!("{sup}?on=soon"), &tu, None)).await;
    assert_eq!(fields(&r.json()), ["on"]);
    assert_eq!(app.events("general_authorization.supplier_decided").await.len(), 2);
    // The page takes the supplier by its name, and names one the registry does not hold.
    let s = app.sign_in(&analyst).await;
    let r = app.send(s.post("/general-authorizations/suppliers", &[("party_id", "Keystone Modules Inc.")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.send(s.post("/general-authorizations/suppliers", &[("party_id", "Nobody Ltd")])).await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY && r.text().contains("no party named Nobody Ltd"),
        "{}",
        r.text()
    );
    assert_eq!(app.count("ga_suppliers").await, 2);
}
