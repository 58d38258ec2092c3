//! Screening parties against the Consolidated Screening List.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::harness::{TestApp, api};

fn upload(csrf: &str, cookie: &str, name: &str, csv: &str) -> Request<Body> {
    let boundary = "B0undary77";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    Request::post(format!("/admin/screening?csrf_token={csrf}"))
        .header("cookie", cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

async fn party(app: &TestApp, t: &str, name: &str, country: &str) -> String {
    let r = app
        .send(api(
            "POST",
            "/api/v1/parties",
            t,
            Some(json!({"legal_name": name, "kind": "company", "country": country})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

async fn hits(app: &TestApp, t: &str, id: &str) -> Vec<serde_json::Value> {
    app.send(api("GET", &format!("/api/v1/parties/{id}/screening"), t, None)).await.json().as_array().unwrap().clone()
}

#[tokio::test]
async fn parties_are_screened_exactly_by_alias_reordered_and_misspelt() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let a = app.user("analyst").await;
    let t = app.token(&a).await;
    let s = app.sign_in(&admin).await;
    // A party registered before any list: screened when the list arrives.
    let early = party(&app, &t, "ZTE Corporation", "CN").await;
    let c = app.send(api("POST", "/api/v1/cases", &t, Some(json!({"title": "Handsets", "summary": "s", "origin": "own_initiative", "category": "connected_devices", "adversaries": ["CN"], "restricted": false})))).await.json();
    let cid = c["id"].as_str().unwrap();
    app.send(api(
        "POST",
        &format!("/api/v1/cases/{cid}/parties"),
        &t,
        Some(json!({"party_id": early, "role": "supplier"})),
    ))
    .await;
    assert!(hits(&app, &t, &early).await.is_empty());
    let r =
        app.submit(upload(&s.csrf, &s.cookie, "csl.csv", icts_review::parties::screening_service::SAMPLE_LIST)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("List version 1 imported"));
    let h = hits(&app, &t, &early).await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["status"], "open");
    assert!(h[0]["source"].as_str().unwrap().contains("Entity List"));
    let flagged = app.events("case.screening_hits").await;
    assert_eq!(flagged.len(), 1, "the open case with the party is flagged");
    assert_eq!(flagged[0]["object_id"], cid);
    // The case page warns at its top, above its parts, and links to the hit.
    let page = app.send(app.sign_in(&a).await.get(&format!("/cases/{cid}"))).await.text();
    let alert = page.find("data-testid=\"screening-alert\"").expect("a screening alert");
    assert!(alert < page.find("id=\"questions\"").unwrap(), "the alert comes before the three questions");
    let alert = &page[page[..alert].rfind("<div").unwrap()..];
    assert!(alert.starts_with("<div class=\"usa-alert usa-alert--warning\""), "{alert}");
    assert!(alert.contains(&format!("href=\"/parties/{early}#hit-{}\"", h[0]["id"].as_str().unwrap())), "{alert}");

    // New parties are screened when registered.
    for (name, country, expect) in [
        ("Huawei Technologies Co., Ltd", "CN", "Huawei Technologies Co. Ltd."),
        ("Lab, AO Kaspersky", "RU", "AO Kaspersky Lab"),
        ("Hangzhou Hikvison Digital Technology Company", "CN", "Hangzhou Hikvision Digital Technology Co. Ltd."),
        ("KOMID", "KP", "Korea Mining Development Trading Corporation"),
    ] {
        let id = party(&app, &t, name, country).await;
        let h = hits(&app, &t, &id).await;
        assert!(h.iter().any(|x| x["entry_name"] == expect), "{name} should match {expect}: {h:?}");
    }
    for name in ["Acme Widgets Inc", "Regional Telco LLC", "Pacific Semiconductor Supply"] {
        let id = party(&app, &t, name, "US").await;
        assert!(hits(&app, &t, &id).await.is_empty(), "{name} matched");
    }
    // Confirm or dismiss with a reason, once.
    let hid = h[0]["id"].as_str().unwrap();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/screening/hits/{hid}"),
            &t,
            Some(json!({"decision": "confirm", "reason": ""})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/screening/hits/{hid}"),
            &t,
            Some(json!({"decision": "confirm", "reason": "Same entity: Shenzhen address and FR notice"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/screening/hits/{hid}"),
            &t,
            Some(json!({"decision": "dismiss", "reason": "changed my mind"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(app.events("party.screening_hit_confirmed").await.len(), 1);
    // The case page lists the hit; the confirmed hit is offered as evidence for the
    // ownership/control criterion.
    let session = app.sign_in(&a).await;
    let page = app.send(session.get(&format!("/cases/{cid}"))).await.text();
    assert!(page.contains("data-testid=\"case-hits\"") && page.contains("ZTE Corporation"));
    assert!(
        page.contains("usa-alert--error\" role=\"region\" aria-labelledby=\"screening-alert-heading\""),
        "a confirmed hit"
    );
    let form = app.send(session.get(&format!("/cases/{cid}/assess"))).await.text();
    assert!(
        form.contains("ZTE Corporation is listed: ZTE Corporation (Entity List"),
        "confirmed hits feed the control criterion"
    );
    // A re-import (new version) screens everyone again; decided hits stay decided.
    let r =
        app.submit(upload(&s.csrf, &s.cookie, "csl-2.csv", icts_review::parties::screening_service::SAMPLE_LIST)).await;
    assert!(r.text().contains("List version 2 imported"));
    let h = hits(&app, &t, &early).await;
    assert_eq!(h.len(), 2, "one hit per list version");
    assert_eq!(h[1]["status"], "confirmed");
    assert_eq!(h[0]["status"], "confirmed", "the decision carries over to the same entry in the new version");
    assert!(h[0]["reason"].as_str().unwrap().starts_with("carried over from list version 1"));
    let lists = app.send(api("GET", "/api/v1/screening/lists", &t, None)).await.json();
    assert_eq!(lists.as_array().unwrap().len(), 2);
    // Assessments record the list version they saw.
    crate::risk::assess(&app, &t, cid, 2, &[]).await;
    let v: Option<i32> =
        sqlx::query_scalar("SELECT screening_list_version FROM assessments").fetch_one(&app.pool).await.unwrap();
    assert_eq!(v, Some(2));
}

#[tokio::test]
async fn a_malformed_list_is_refused_whole_with_its_line() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let s = app.sign_in(&admin).await;
    let mut lines: Vec<&str> = icts_review::parties::screening_service::SAMPLE_LIST.lines().collect();
    lines.insert(4, "Entity List (EL),,Entity,,,,,,,,,,,,,,,,,,,,,,,,,");
    let bad = lines.join("\n");
    let r = app.send(upload(&s.csrf, &s.cookie, "bad.csv", &bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("line 5: the name is empty"), "{}", r.text());
    assert_eq!(app.count("screening_lists").await, 0);
    assert_eq!(app.count("screening_entries").await, 0);
    // From the command line too.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.csv");
    std::fs::write(&f, &bad).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["screening", "import", f.to_str().unwrap()])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 5"));
    let good = dir.path().join("csl.csv");
    std::fs::write(&good, icts_review::parties::screening_service::SAMPLE_LIST).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["screening", "import", good.to_str().unwrap()])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.count("screening_entries").await, 12);
}
