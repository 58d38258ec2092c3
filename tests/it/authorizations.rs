//! Specific authorizations (791.307): an application returned incomplete naming what is
//! missing, supplemented, found complete; its clock paused by a question; an assessor tied
//! to the PRC refused; a grant signed only by a second supervisor after a step-up, on the
//! hash read; a breach of its condition reopening it. Through the API and the pages.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::harness::{TestApp, api, extract_csrf};

fn fields(r: &Value) -> Vec<String> {
    r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn party(app: &TestApp, t: &str, name: &str, country: &str, parent: Option<&str>) -> String {
    let mut body = json!({"legal_name": name, "kind": "company", "country": country});
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
        body["ownership_pct"] = json!(100);
    }
    let r = app.send(api("POST", "/api/v1/parties", t, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

async fn view(app: &TestApp, t: &str, id: &str) -> Value {
    let r = app.send(api("GET", &format!("/api/v1/authorizations/applications/{id}"), t, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn grant(version: i64, assessor: &str) -> Value {
    json!({
        "outcome": "granted",
        "reasons": "The telematics unit's PRC-linked module is isolated and its remote access cut off.",
        "assessment": {
            "threat": "The module's firmware comes from a PRC-controlled supplier.",
            "vulnerability": "It reaches the CAN bus through a gateway only.",
            "consequence": "Location data of about 40,000 vehicles a year.",
            "mitigation": "US-hosted updates, signed by the applicant; the supplier has no remote access."
        },
        "conditions": [{"description": "Annual audit of the update path by a third-party assessor",
                        "owner": "Voltra Motors LLC", "due_on": "2027-03-31", "assessor_id": assessor}],
        "version": version
    })
}

#[tokio::test]
#[allow(unused_variables)]
async fn an_application_is_returned_incomplete_granted_by_a_second_supervisor_and_reopened_by_a_breach() {
    let app = TestApp::new().await;
    app.clock.set(datetime!(2026-03-02 15:00 UTC));
    let (analyst, sup1, sup2, auditor) = (
        app.user("analyst").await,
        app.user("supervisor").await,
        app.user("supervisor").await,
        app.user("auditor").await,
    );
    let (ta, ts1, ts2, tu) =
        (app.token(&analyst).await, app.token(&sup1).await, app.token(&sup2).await, app.token(&auditor).await);
    let voltra = party(&app, &ta, "Voltra Motors LLC", "US", None).await;
    let base = "/api/v1/authorizations/applications";

    // Bad input is named by field; nothing is written. An auditor files nothing.
    let r = app.send(api("POST", base, &ta, Some(json!({"summary": " ", "filed_on": "2026-03-09"})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(fields(&r.json()), ["applicant_id", "summary", "filed_on"]);
    assert_eq!(app.count("authorization_applications").await, 0);
    let body = json!({"applicant_id": voltra, "summary": "Telematics units with a PRC-linked cellular module, MY2027",
        "contents": {"parties_and_owners": "Voltra Motors LLC (US); module by Quanta Link Ltd (CN)",
                     "foreign_items": "Cellular module firmware, designed and assembled by Quanta Link Ltd",
                     "vehicles": "Voltra Crossover LX and Touring, MY2027", "vcs_function": "Telematics and OTA updates",
                     "security_standards": "ISO/SAE 21434; UN R155", "proposed_mitigation": "US-hosted update server"}});
    let r = app.send(api("POST", base, &tu, Some(body.clone()))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(api("POST", base, &ta, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let a = r.json();
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["status"], "received");
    assert!(a["number"].as_str().unwrap().starts_with("SA-2026-"));
    let acts = format!("{base}/{id}/acts");

    // Only a complete application is decided.
    let r = app.send(api("PUT", &format!("{base}/{id}/decision"), &ta, Some(grant(1, &voltra)))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("only a complete application is decided"), "{}", r.text());

    // The completeness check returns it, naming the missing (c) items.
    let r = app.send(api("POST", &acts, &ta, Some(json!({"kind": "check", "version": 1})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "incomplete");
    let v = view(&app, &tu, &id).await;
    assert_eq!(v["missing"], json!(["analyses", "access_cutoff"]));
    let returned = &v["acts"][1];
    assert_eq!(
        (returned["kind"].as_str(), returned["items"].clone()),
        (Some("returned_incomplete"), json!(["analyses", "access_cutoff"]))
    );
    let s = app.sign_in(&analyst).await;
    let html = app.send(s.get(&format!("/authorizations/{id}"))).await.text();
    assert!(html.contains("Returned incomplete: missing"), "{html}");
    assert!(
        html.contains("(c)(5) supporting analyses") && html.contains("(c)(6) the applicant&#39;s ability to cut off"),
        "{html}"
    );

    // A stale version is refused; the applicant's material supplements what is missing.
    let r = app.send(api("POST", &acts, &ta, Some(json!({"kind": "check", "version": 1})))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let material = json!({"contents": {"analyses": "TARA per ISO/SAE 21434, 2026-02",
        "access_cutoff": "The module's remote management is disabled at the factory"}, "note": "Letter of 2026-03-04",
        "version": 2});
    let r = app.send(api("POST", &format!("{base}/{id}/material"), &ta, Some(material))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["contents"]["analyses"], "TARA per ISO/SAE 21434, 2026-02");
    let r = app.send(api("POST", &acts, &ta, Some(json!({"kind": "check", "version": 3})))).await;
    assert_eq!(r.json()["status"], "under_review", "{}", r.text());
    assert_eq!(r.json()["complete_on"], "2026-03-02");
    let v = view(&app, &tu, &id).await;
    assert_eq!((v["clock"]["due_on"].as_str(), v["clock"]["paused"].as_bool()), (Some("2026-05-31"), Some(false)));

    // A question pauses the clock and holds the decision; its answer lets it run again.
    app.clock.set(datetime!(2026-03-10 15:00 UTC));
    // (Tokens lapse when idle: the days between acts need fresh ones.)
    let (ta, ts1, ts2, tu) =
        (app.token(&analyst).await, app.token(&sup1).await, app.token(&sup2).await, app.token(&auditor).await);
    let q = json!({"kind": "question_asked", "note": "Who signs the update packages?", "version": 4});
    let r = app.send(api("POST", &acts, &ta, Some(q))).await;
    assert_eq!(r.json()["status"], "questions_asked", "{}", r.text());
    let r = app.send(api("PUT", &format!("{base}/{id}/decision"), &ta, Some(grant(5, &voltra)))).await;
    assert!(r.text().contains("questions open"), "{}", r.text());
    app.clock.set(datetime!(2026-03-20 15:00 UTC));
    // (Tokens lapse when idle: the days between acts need fresh ones.)
    let (ta, ts1, ts2, tu) =
        (app.token(&analyst).await, app.token(&sup1).await, app.token(&sup2).await, app.token(&auditor).await);
    let v = view(&app, &tu, &id).await;
    assert_eq!((v["clock"]["paused_days"].as_i64(), v["clock"]["due_on"].as_str()), (Some(10), Some("2026-06-10")));
    let question = v["acts"].as_array().unwrap().iter().find(|a| a["kind"] == "question_asked").unwrap()["seq"].clone();
    let r = app
        .send(api(
            "POST",
            &acts,
            &ta,
            Some(json!({"kind": "question_answered", "answers": 999999,
        "note": "x", "version": 5})),
        ))
        .await;
    assert_eq!(fields(&r.json()), ["answers"]);
    let ans =
        json!({"kind": "question_answered", "answers": question, "note": "Voltra's own HSM signs them", "version": 5});
    let r = app.send(api("POST", &acts, &ta, Some(ans))).await;
    assert_eq!((r.json()["status"].as_str(), r.json()["paused_days"].as_i64()), (Some("under_review"), Some(10)));

    // An assessor owned from the PRC is refused (791.315), with the reason.
    let parent = party(&app, &ta, "Quanta Holdings Ltd", "CN", None).await;
    let tied = party(&app, &ta, "Quanta Assurance Inc.", "US", Some(&parent)).await;
    let r = app.send(api("PUT", &format!("{base}/{id}/decision"), &ta, Some(grant(6, &tied)))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(fields(&r.json()), ["conditions[0].assessor_id"]);
    assert!(r.text().contains("its owner Quanta Holdings Ltd is in the People"), "{}", r.text());
    let r = app
        .send(api(
            "PUT",
            &format!("{base}/{id}/decision"),
            &ta,
            Some(json!({"outcome": "granted",
        "reasons": "", "assessment": {"threat": "x", "luck": "y"}, "version": 6})),
        ))
        .await;
    assert_eq!(
        fields(&r.json()),
        [
            "reasons",
            "assessment.vulnerability",
            "assessment.consequence",
            "assessment.mitigation",
            "assessment.luck",
            "conditions"
        ]
    );
    let assessor = party(&app, &ta, "Keystone Cyber Assurance LLC", "US", None).await;
    let r = app.send(api("PUT", &format!("{base}/{id}/decision"), &ta, Some(grant(6, &assessor)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Signed only by a supervisor who did not draft it, after a step-up, on the hash read.
    let hash = view(&app, &tu, &id).await["draft_sha256"].as_str().unwrap().to_string();
    let sign = |t: &str, h: &str| api("POST", &format!("{base}/{id}/sign"), t, Some(json!({"content_sha256": h})));
    assert_eq!(app.send(sign(&ta, &hash)).await.status, StatusCode::FORBIDDEN, "an analyst signs nothing");
    let r = app.send(sign(&ts1, &hash)).await;
    assert!(r.status == StatusCode::FORBIDDEN && r.text().contains("reauth"), "{}", r.text());
    crate::determinations::reauth(&app, &ts1, &sup1).await;
    let r = app.send(sign(&ts1, &"0".repeat(64))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = app.send(sign(&ts1, &hash)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "granted");
    let v = view(&app, &tu, &id).await;
    let d = &v["decisions"][0];
    assert_eq!(
        (d["content_sha256"].as_str(), d["conditions"][0]["status"].as_str()),
        (Some(hash.as_str()), Some("agreed"))
    );
    assert_eq!(d["conditions"][0]["assessor_name"], "Keystone Cyber Assurance LLC");
    // Both supervisors were told a decision awaits a signature; the drafter, that it was signed.
    assert_eq!(app.count("notifications").await, 3);
    let signed = app.events("authorization.decision_signed").await;
    assert_eq!((signed.len(), signed[0]["changes"]["content_sha256"].as_str()), (1, Some(hash.as_str())));
    let r = app
        .send(api(
            "POST",
            &format!("{base}/{id}/material"),
            &ta,
            Some(json!({"note": "late letter", "version": v["application"]["version"]})),
        ))
        .await;
    assert!(r.status == StatusCode::CONFLICT && r.text().contains("until the decision"), "{}", r.text());

    // Its condition's breach reopens it, with a fresh clock.
    app.clock.set(datetime!(2026-06-01 15:00 UTC));
    // (Tokens lapse when idle: the days between acts need fresh ones.)
    let (ta, ts1, ts2, tu) =
        (app.token(&analyst).await, app.token(&sup1).await, app.token(&sup2).await, app.token(&auditor).await);
    let check = |status: &str, version: i64| {
        api(
            "POST",
            &format!("{base}/{id}/conditions/1"),
            &ta,
            Some(json!({"status": status, "evidence": "Assessor's report of 2026-05-29", "version": version})),
        )
    };
    let version = v["application"]["version"].as_i64().unwrap();
    let r = app.send(check("verified", version)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "agreed is implemented before verified: {}", r.text());
    let r = app.send(check("implemented", version)).await;
    assert_eq!(r.json()["status"], "granted", "{}", r.text());
    let r = app.send(check("breached", version + 1)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!((r.json()["status"].as_str(), r.json()["complete_on"].as_str()), (Some("reopened"), Some("2026-06-01")));
    let v = view(&app, &tu, &id).await;
    assert_eq!(v["decisions"][0]["conditions"][0]["status"], "breached");
    assert_eq!(v["clock"]["due_on"], "2026-08-30");
    assert_eq!(app.events("authorization.condition_checked").await.len(), 2);
    assert_eq!(app.count("notifications").await, 5, "the supervisors are told of the breach");

    // A second application, denied: its drafter may not sign it, a second supervisor does.
    let body = json!({"applicant_id": voltra, "summary": "Driving-automation software of a PRC developer",
        "contents": {"parties_and_owners": "a", "foreign_items": "b", "vehicles": "c", "vcs_function": "d",
                     "analyses": "e", "access_cutoff": "f", "security_standards": "g", "proposed_mitigation": "h"}});
    let id2 = app.send(api("POST", base, &ta, Some(body))).await.json()["id"].as_str().unwrap().to_string();
    let r =
        app.send(api("POST", &format!("{base}/{id2}/acts"), &ts1, Some(json!({"kind": "check", "version": 1})))).await;
    assert_eq!(r.json()["status"], "under_review");
    let mut deny = grant(2, &assessor);
    deny["outcome"] = json!("denied");
    let r = app.send(api("PUT", &format!("{base}/{id2}/decision"), &ts1, Some(deny.clone()))).await;
    assert_eq!(fields(&r.json()), ["conditions"], "a denial carries no conditions");
    deny["conditions"] = json!([]);
    let r = app.send(api("PUT", &format!("{base}/{id2}/decision"), &ts1, Some(deny))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let h2 = view(&app, &tu, &id2).await["draft_sha256"].as_str().unwrap().to_string();
    crate::determinations::reauth(&app, &ts1, &sup1).await;
    let r = app.send(api("POST", &format!("{base}/{id2}/sign"), &ts1, Some(json!({"content_sha256": h2})))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the drafter does not sign: {}", r.text());
    crate::determinations::reauth(&app, &ts2, &sup2).await;
    let r = app.send(api("POST", &format!("{base}/{id2}/sign"), &ts2, Some(json!({"content_sha256": h2})))).await;
    assert_eq!(r.json()["status"], "denied", "{}", r.text());

    // The list filters by status; the applicant's page lists both.
    let r = app.send(api("GET", &format!("{base}?status=reopened"), &tu, None)).await.json();
    assert_eq!(r["applications"].as_array().unwrap().len(), 1);
    assert_eq!(r["applications"][0]["application"]["status"], "reopened");
    let r = app.send(api("GET", &format!("{base}?status=sideways"), &tu, None)).await;
    assert_eq!(fields(&r.json()), ["status"]);
    let s = app.sign_in(&analyst).await;
    let html = app.send(s.get(&format!("/parties/{voltra}"))).await.text();
    assert!(html.contains(a["number"].as_str().unwrap()) && html.contains("Denied"), "{html}");
}

#[tokio::test]
async fn the_pages_file_check_draft_and_sign_an_application_after_a_step_up() {
    let app = TestApp::new().await;
    app.clock.set(datetime!(2026-04-06 15:00 UTC));
    let (analyst, sup) = (app.user("analyst").await, app.user("supervisor").await);
    let ta = app.token(&analyst).await;
    let applicant = party(&app, &ta, "Northgate Vehicle Imports Inc.", "US", None).await;
    let s = app.sign_in(&analyst).await;
    let form = app.send(s.get(&format!("/authorizations/new?applicant={applicant}"))).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("Northgate Vehicle Imports Inc."));
    // Refused: named, kept.
    let r = app
        .send(s.post("/authorizations", &[("applicant_id", &applicant), ("summary", ""), ("vehicles", "Northgate LX")]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Northgate LX") && r.text().contains("summary-error"), "{}", r.text());
    let mut fields = vec![("applicant_id", applicant.as_str()), ("summary", "Gateway modules of a PRC supplier")];
    let items = [
        "parties_and_owners",
        "foreign_items",
        "vehicles",
        "vcs_function",
        "analyses",
        "access_cutoff",
        "security_standards",
        "proposed_mitigation",
    ];
    for i in items {
        fields.push((i, "given"));
    }
    let r = app.send(s.post("/authorizations", &fields)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = r.header("location").unwrap();
    let id = page.trim_start_matches("/authorizations/").to_string();
    let r = app.send(s.post(&format!("{page}/acts"), &[("kind", "check"), ("version", "1")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = app.send(s.get(&page)).await.text();
    assert!(html.contains("data-testid=\"clock\"") && html.contains("target 2026-07-05, 90 days left"), "{html}");
    let decision = [
        ("outcome", "denied"),
        ("reasons", "Remote access cannot be cut off."),
        ("threat", "t"),
        ("vulnerability", "v"),
        ("consequence", "c"),
        ("mitigation", "m"),
        ("version", "2"),
    ];
    let r = app.send(s.post(&format!("{page}/decision"), &decision)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let home = app.send(s.get("/")).await.text();
    assert!(home.contains("data-testid=\"authorizations-to-sign\">1 decision drafted</a>"), "{home}");

    // The supervisor is sent to step up first, then signs on the page's hash.
    let sv = app.sign_in(&sup).await;
    let r = app.send(sv.get(&format!("{page}/sign"))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header("location").unwrap().starts_with("/account/reauth?next=%2Fauthorizations%2F"));
    app.reauth(&sv, &sup.password).await;
    let sign = app.send(sv.get(&format!("{page}/sign"))).await.text();
    assert!(sign.contains("data-testid=\"outcome\">Denied"), "{sign}");
    let hash = sign.split("name=\"content_sha256\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(extract_csrf(&sign).is_some());
    let r = app.send(sv.post(&format!("{page}/sign"), &[("content_sha256", &hash)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let v = view(&app, &ta, &id).await;
    assert_eq!(v["application"]["status"], "denied");
    let html = app.send(sv.get(&page)).await.text();
    assert!(html.contains("Decision signed 2026-04-06: Denied"), "{html}");
}

#[tokio::test]
async fn the_second_dockets_new_pages_are_accessible_in_a_real_browser() {
    use crate::days::DemoOffice;
    use crate::harness::Browser;
    use fantoccini::Locator;
    use icts_review::access::Role;
    let office = DemoOffice::start().await;
    let base = office.server.base.clone();
    let browser = Browser::start().await;
    let c = &browser.client;
    office.sign_in(&browser, Role::Supervisor).await;

    c.goto(&format!("{base}/authorizations")).await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=applications]")).await.unwrap();
    browser.assert_accessible("the application list").await;
    // Voltra's, granted with its conditions and their check forms.
    c.find(Locator::XPath("//a[contains(text(), 'SA-2026-0001')]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=conditions]")).await.unwrap();
    browser.screenshot("authorization-granted").await;
    browser.assert_accessible("a granted application with its conditions").await;
    // The one waiting on its question, with the answer and decision forms.
    c.goto(&format!("{base}/authorizations?status=questions_asked")).await.unwrap();
    c.find(Locator::Css("[data-testid=applications] tbody a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=questions]")).await.unwrap();
    browser.assert_accessible("an application with a question open").await;
    // A refused filing lists its problems.
    c.goto(&format!("{base}/authorizations/new")).await.unwrap();
    browser.assert_accessible("the form that files an application").await;
    c.find(Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=error-summary]")).await.unwrap();
    browser.assert_accessible("the application form with errors").await;
    // General authorizations, a void reliance, and the search.
    c.goto(&format!("{base}/general-authorizations")).await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=reliances]")).await.unwrap();
    browser.screenshot("general-authorizations").await;
    browser.assert_accessible("the general authorizations").await;
    c.find(Locator::XPath("//a[contains(text(), 'Cascade Electric')]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=void]")).await.unwrap();
    browser.assert_accessible("a reliance void from a missed report").await;
    // The advisory opinion, issued, and its public version.
    c.goto(&format!("{base}/opinions")).await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=opinions]")).await.unwrap();
    browser.assert_accessible("the advisory opinion requests").await;
    c.find(Locator::Css("[data-testid=opinions] tbody a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("[data-testid=opinion]")).await.unwrap();
    browser.assert_accessible("a request with its issued opinion").await;
    c.find(Locator::Css("[data-testid=public-link]")).await.unwrap().click().await.unwrap();
    let text = c.wait().for_element(Locator::Css("[data-testid=public-text]")).await.unwrap().text().await.unwrap();
    assert!(text.contains("[CBI redacted]") && !text.contains("41.20"), "{text}");
    browser.assert_accessible("an opinion's public version").await;
    c.goto(&format!("{base}/search?q=Voltra")).await.unwrap();
    let found = c.wait().for_element(Locator::Css("[data-testid=found]")).await.unwrap();
    assert!(found.text().await.unwrap().contains("found"));
    browser.assert_accessible("the search across both dockets").await;
    browser.close().await;
}
