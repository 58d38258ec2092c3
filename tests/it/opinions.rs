//! Advisory opinions (791.310): a request returned naming what it lacks, supplemented by
//! the requester and noted from a third party, questioned, answered by an opinion a second
//! supervisor signs after a step-up on the hash read, whose public version redacts the
//! confidential business information.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::harness::{TestApp, api};

fn fields(r: &Value) -> Vec<String> {
    r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_request_is_completed_questioned_and_answered_by_an_opinion_whose_public_version_redacts_cbi() {
    let app = TestApp::new().await;
    app.clock.set(datetime!(2026-04-01 15:00 UTC));
    let (analyst, sup, auditor) = (app.user("analyst").await, app.user("supervisor").await, app.user("auditor").await);
    let (ta, ts, tu) = (app.token(&analyst).await, app.token(&sup).await, app.token(&auditor).await);
    let body = json!({"legal_name": "Northgate Vehicle Imports Inc.", "kind": "company", "country": "US"});
    let party =
        app.send(api("POST", "/api/v1/parties", &ta, Some(body))).await.json()["id"].as_str().unwrap().to_string();

    let r = app.send(api("POST", "/api/v1/opinions", &ta, Some(json!({"question": ""})))).await;
    assert_eq!(fields(&r.json()), ["requester_id", "question", "interest"]);
    let b = json!({"requester_id": party, "question": "Is importing the GW-4100 gateway, whose modem is assembled in the PRC, prohibited for MY2028?",
        "interest": "Northgate would import 20,000 gateways a year.",
        "contents": {"submitter": "J. Park, counsel, 555-0100, jpark@northgate.example", "parties": "Northgate; Quanta Link Ltd (CN)"}});
    let r = app.send(api("POST", "/api/v1/opinions", &ta, Some(b))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert!(r.json()["number"].as_str().unwrap().starts_with("AO-2026-"));
    let base = format!("/api/v1/opinions/{id}");
    let act = |body: Value| api("POST", &format!("{base}/acts"), &ta, Some(body));

    // Returned naming what it lacks: the address, the technology, a vehicle or a system.
    let r = app.send(act(json!({"kind": "check", "version": 1}))).await;
    assert_eq!(r.json()["status"], "incomplete", "{}", r.text());
    let v = app.send(api("GET", &base, &tu, None)).await.json();
    assert_eq!(v["missing"], json!(["submitter_address", "technology", "vehicle", "system"]));
    // A third party's material is noted, not added to the request's items.
    let m = json!({"source": "Quanta Link Ltd", "contents": {"technology": "x"}, "note": "Letter", "version": 2});
    let r = app.send(api("POST", &format!("{base}/material"), &ta, Some(m))).await;
    assert_eq!(fields(&r.json()), ["contents"]);
    let m =
        json!({"source": "Quanta Link Ltd", "note": "The modem maker's letter on its firmware updates", "version": 2});
    let r = app.send(api("POST", &format!("{base}/material"), &ta, Some(m))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = json!({"contents": {"submitter_address": "1 Harbor Way, Newark, NJ 07114, US",
        "technology": "GW-4100 telematics gateway; modem firmware updated over the air by Quanta Link", "system": "GW-4100"},
        "note": "Requester's letter of 2026-04-01", "version": 3});
    assert_eq!(app.send(api("POST", &format!("{base}/material"), &ta, Some(m))).await.status, StatusCode::OK);
    let r = app.send(act(json!({"kind": "check", "version": 4}))).await;
    assert_eq!(r.json()["status"], "under_review", "{}", r.text());

    // A question holds the opinion until it is answered.
    let r =
        app.send(act(json!({"kind": "question_asked", "note": "Who signs the modem's firmware?", "version": 5}))).await;
    assert_eq!(r.json()["status"], "questions_asked");
    let draft = |text: &str, version: i64| {
        api(
            "PUT",
            &format!("{base}/opinion"),
            &ta,
            Some(json!({"conclusion": "prohibited", "opinion": text, "version": version})),
        )
    };
    assert_eq!(app.send(draft("x", 6)).await.status, StatusCode::CONFLICT);
    let q =
        app.send(api("GET", &base, &tu, None)).await.json()["acts"].as_array().unwrap().last().unwrap()["seq"].clone();
    let r = app
        .send(act(json!({"kind": "question_answered", "answers": q, "note": "Quanta Link does", "version": 6})))
        .await;
    assert_eq!(r.json()["status"], "under_review", "{}", r.text());
    let secret = "Quanta Link's unit price of $41.20";
    let text = format!(
        "The modem is VCS hardware supplied by a PRC-controlled person ([CBI]{secret}[/CBI]); importing it for MY2028 vehicles is not prohibited before model year 2030 (791.302)."
    );
    let r = app.send(draft(&text, 7)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The home page counts the draft awaiting a second supervisor.
    let home = app.send(app.sign_in(&analyst).await.get("/")).await.text();
    assert!(home.contains("data-testid=\"opinions-to-sign\">1 opinion drafted</span>"), "{home}");
    assert!(home.contains("data-testid=\"opinions-in-review\">1 in review</a>"), "{home}");
    let r = app.send(api("GET", &format!("{base}/public"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no public version before it is issued");

    // Signed by a supervisor after a step-up on the hash read; an analyst signs nothing.
    let hash = app.send(api("GET", &base, &tu, None)).await.json()["draft_sha256"].as_str().unwrap().to_string();
    let sign = |t: &str| api("POST", &format!("{base}/sign"), t, Some(json!({"content_sha256": hash})));
    assert_eq!(app.send(sign(&ta)).await.status, StatusCode::FORBIDDEN);
    let r = app.send(sign(&ts)).await;
    assert!(r.status == StatusCode::FORBIDDEN && r.text().contains("reauth"), "{}", r.text());
    crate::determinations::reauth(&app, &ts, &sup).await;
    let r = app.send(sign(&ts)).await;
    assert_eq!(r.json()["status"], "issued", "{}", r.text());
    assert_eq!(r.json()["content_sha256"], json!(hash));
    assert_eq!(app.events("opinion.issued").await.len(), 1);

    // The public version redacts the confidential span and says what the opinion binds.
    let p = app.send(api("GET", &format!("{base}/public"), &tu, None)).await.json();
    let public = p["text"].as_str().unwrap();
    assert!(public.contains("[CBI redacted]") && !public.contains("41.20"), "{p}");
    let s = app.sign_in(&auditor).await;
    let html = app.send(s.get(&format!("/opinions/{id}/public"))).await.text();
    assert!(
        html.contains("[CBI redacted]") && !html.contains("41.20") && html.contains("binds the Bureau only"),
        "{html}"
    );
    let html = app.send(s.get(&format!("/opinions/{id}"))).await.text();
    assert!(html.contains("Third-party material considered (Quanta Link Ltd)"), "{html}");
    assert!(
        html.contains("[CBI: Quanta Link&#39;s unit price of $41.20]"),
        "the office reads the span, marked: {html}"
    );
    // Nothing is added after the opinion.
    let m = json!({"note": "late letter", "version": 9});
    let r = app.send(api("POST", &format!("{base}/material"), &ta, Some(m))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
}
