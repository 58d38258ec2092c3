//! The second docket's lists (applications, advisory opinion requests, enforcement matters):
//! keyset pages forward and back that neither skip nor repeat a row, totals, filters by
//! text and status, both orders, each bad parameter named, and need-to-know on the
//! matters of restricted cases.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use crate::harness::{TestApp, api};

fn fields(r: &Value) -> Vec<String> {
    r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

fn numbers(page: &Value, rows: &str, number: fn(&Value) -> &Value) -> Vec<String> {
    page[rows].as_array().unwrap().iter().map(|r| number(r).as_str().unwrap().to_string()).collect()
}

async fn party(app: &TestApp, token: &str, name: &str) -> String {
    let body = json!({"legal_name": name, "kind": "company", "country": "US"});
    let r = app.send(api("POST", "/api/v1/parties", token, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// Reads a list a page at a time to its end, then back from the last page to the first,
/// and returns the rows in the order read forward; both ways must agree.
async fn walk(app: &TestApp, token: &str, first: &str, rows: &str, number: fn(&Value) -> &Value) -> Vec<String> {
    let sep = if first.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut page = app.send(api("GET", first, token, None)).await.json();
    assert!(page["prev"].is_null(), "the first page has none before it: {page}");
    loop {
        pages.push(numbers(&page, rows, number));
        let Some(next) = page["next"].as_str().map(str::to_string) else { break };
        page = app.send(api("GET", &format!("{first}{sep}cursor={}", urlencode(&next)), token, None)).await.json();
    }
    // Back from the last page: each page before it is the one read forward.
    let mut back = pages.len() - 1;
    while let Some(prev) = page["prev"].as_str().map(str::to_string) {
        page = app.send(api("GET", &format!("{first}{sep}before={}", urlencode(&prev)), token, None)).await.json();
        back -= 1;
        assert_eq!(numbers(&page, rows, number), pages[back], "page {back} read back");
    }
    assert_eq!(back, 0, "going back reaches the first page");
    pages.concat()
}

fn application_number(r: &Value) -> &Value {
    &r["application"]["number"]
}

fn question(r: &Value) -> &Value {
    &r["question"]
}

fn row_number(r: &Value) -> &Value {
    &r["number"]
}

fn urlencode(s: &str) -> String {
    s.replace('~', "%7E")
}

#[tokio::test]
async fn applications_and_opinion_requests_page_forward_and_back_filter_and_count() {
    let app = TestApp::new().await;
    app.clock.set(datetime!(2027-02-01 14:00 UTC));
    let analyst = app.user("analyst").await;
    let auditor = app.user("auditor").await;
    let ta = app.token(&analyst).await;
    let voltra = party(&app, &ta, "Voltra Motors Inc.").await;
    let northbeam = party(&app, &ta, "Northbeam Telematics LLC").await;
    let mut filed = Vec::new();
    for i in 0..5 {
        app.clock.advance(Duration::minutes(7));
        let applicant = if i % 2 == 0 { &voltra } else { &northbeam };
        let ta = app.token(&analyst).await;
        let body = json!({"applicant_id": applicant, "summary": format!("Gateway lot {i} with a PRC-linked modem"),
                          "filed_on": "2027-02-01"});
        let r = app.send(api("POST", "/api/v1/authorizations/applications", &ta, Some(body))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        filed.push(r.json()["number"].as_str().unwrap().to_string());
        let body = json!({"requester_id": applicant, "question": format!("Is gateway lot {i} prohibited?"),
                          "interest": "The requester would import it."});
        let r = app.send(api("POST", "/api/v1/opinions", &ta, Some(body))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let tu = app.token(&auditor).await;
    let newest_first: Vec<String> = filed.iter().rev().cloned().collect();

    // Pages of two, newest first, forward and back; the total is the whole list's.
    let apps = "/api/v1/authorizations/applications";
    let number = application_number;
    assert_eq!(walk(&app, &tu, &format!("{apps}?limit=2"), "applications", number).await, newest_first);
    let first = app.send(api("GET", &format!("{apps}?limit=2"), &tu, None)).await.json();
    assert_eq!(first["total"], json!({"kind": "exact", "count": 5}));
    assert_eq!(walk(&app, &tu, &format!("{apps}?limit=2&sort=oldest"), "applications", number).await, filed);
    // By text (the applicant's name, any case), and by status.
    let r = app.send(api("GET", &format!("{apps}?q=northBEAM"), &tu, None)).await.json();
    assert_eq!(numbers(&r, "applications", number), [filed[3].clone(), filed[1].clone()]);
    assert_eq!(r["total"], json!({"kind": "exact", "count": 2}));
    let r = app.send(api("GET", &format!("{apps}?status=granted"), &tu, None)).await.json();
    assert_eq!(r["total"], json!({"kind": "exact", "count": 0}));
    // A wildcard typed is taken literally.
    let r = app.send(api("GET", &format!("{apps}?q=%25"), &tu, None)).await.json();
    assert_eq!(r["total"], json!({"kind": "exact", "count": 0}));
    // Every bad parameter is named at once.
    let r =
        app.send(api("GET", &format!("{apps}?status=lost&applicant=x&sort=up&limit=0&cursor=nope"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&r.json()), ["status", "applicant", "sort", "limit", "cursor"]);
    let r = app.send(api("GET", &format!("{apps}?cursor=1~{voltra}&before=1~{voltra}"), &tu, None)).await;
    assert_eq!(fields(&r.json()), ["before"]);

    // Opinion requests the same way.
    let ops = "/api/v1/opinions";
    let number = question;
    let questions = walk(&app, &tu, &format!("{ops}?limit=2"), "requests", number).await;
    let expected: Vec<String> = (0..5).rev().map(|i| format!("Is gateway lot {i} prohibited?")).collect();
    assert_eq!(questions, expected);
    let r = app.send(api("GET", &format!("{ops}?q=lot%203&sort=oldest"), &tu, None)).await.json();
    assert_eq!(numbers(&r, "requests", number), ["Is gateway lot 3 prohibited?"]);
    let r = app.send(api("GET", &format!("{ops}?requester={voltra}&limit=1"), &tu, None)).await.json();
    assert_eq!(r["total"], json!({"kind": "exact", "count": 3}), "counted past the page");
    let r = app.send(api("GET", &format!("{ops}?sort=due"), &tu, None)).await;
    assert_eq!(fields(&r.json()), ["sort"]);

    // The pages show the same, with their links.
    let s = app.sign_in(&auditor).await;
    let html = app.send(s.get("/authorizations?limit=2&sort=oldest")).await.text();
    assert!(html.contains("5 applications"), "{html}");
    assert!(html.contains(&filed[0]) && html.contains(&filed[1]) && !html.contains(&filed[2]), "{html}");
    assert!(html.contains("data-testid=\"next-page\""), "{html}");
    let html = app.send(s.get("/opinions?q=lot%201")).await.text();
    assert!(html.contains("1 request<") && html.contains("Is gateway lot 1 prohibited?"), "{html}");
    let r = app.send(s.get("/opinions?limit=500")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("must be a whole number from 1 to 200"));
}

#[tokio::test]
async fn matters_list_answers_due_first_and_hide_restricted_cases_from_who_may_not_see_them() {
    let app = TestApp::new().await;
    app.clock.set(datetime!(2026-09-21 14:00 UTC));
    let (owner, other, sup) = (app.user("analyst").await, app.user("analyst").await, app.user("supervisor").await);
    let to = app.token(&owner).await;
    let importer = party(&app, &to, "Shenzhen Telematics Trading Co.").await;
    // A restricted case (its filer works it) and a matter for a breach of it.
    let case = json!({"title": "Restricted review", "summary": "Gateway firmware signed abroad.",
        "origin": "own_initiative", "category": "connected_software", "adversaries": ["CN"], "restricted": true});
    let r = app.send(api("POST", "/api/v1/cases", &to, Some(case))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let case_id = r.json()["id"].as_str().unwrap().to_string();
    let open = |body: Value| api("POST", "/api/v1/enforcement/matters", &to, Some(body));
    let m = json!({"party_id": importer, "provision": "final_determination", "case_id": case_id,
                   "summary": "Breach of the final determination's prohibition", "violation_on": "2026-06-01"});
    let r = app.send(open(m)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let hidden = r.json()["number"].as_str().unwrap().to_string();
    // Three second-docket matters, the last with a pre-penalty notice whose answer is due.
    let mut opened = Vec::new();
    for i in 0..3 {
        app.clock.advance(Duration::minutes(5));
        let m = json!({"party_id": importer, "provision": "791.302", "violation_on": "2026-03-01",
                       "summary": format!("Import lot {i} without a declaration")});
        let r = app.send(api("POST", "/api/v1/enforcement/matters", &app.token(&owner).await, Some(m))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        opened.push((r.json()["id"].as_str().unwrap().to_string(), r.json()["number"].as_str().unwrap().to_string()));
    }
    let ts = app.token(&sup).await;
    let notice = json!({"kind": "pre_penalty_notice", "amount": "250,000", "effective_on": "2026-09-21",
                        "note": "The alleged violation and the penalty proposed", "version": 1});
    let r =
        app.send(api("POST", &format!("/api/v1/enforcement/matters/{}/acts", opened[0].0), &ts, Some(notice))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let list = "/api/v1/enforcement/matters";
    let number = row_number;
    // The other analyst does not see the restricted case's matter, nor count it.
    let tother = app.token(&other).await;
    let seen = walk(&app, &tother, &format!("{list}?limit=2"), "matters", number).await;
    // The matter awaiting its answer first, then the rest in the order opened.
    assert_eq!(seen, [opened[0].1.clone(), opened[1].1.clone(), opened[2].1.clone()]);
    let r = app.send(api("GET", &format!("{list}?limit=2"), &tother, None)).await.json();
    assert_eq!(r["total"], json!({"kind": "exact", "count": 3}));
    // The supervisor sees all four; newest first is by opening.
    let ts = app.token(&sup).await;
    let all = walk(&app, &ts, &format!("{list}?limit=3&sort=newest"), "matters", number).await;
    assert_eq!(all, [opened[2].1.clone(), opened[1].1.clone(), opened[0].1.clone(), hidden.clone()]);
    let r = app.send(api("GET", &format!("{list}?q=lot%202"), &ts, None)).await.json();
    assert_eq!(numbers(&r, "matters", number), [opened[2].1.clone()]);
    let r = app.send(api("GET", &format!("{list}?sort=soonest&limit=x"), &ts, None)).await;
    assert_eq!(fields(&r.json()), ["sort", "limit"]);
    let s = app.sign_in(&other).await;
    let html = app.send(s.get("/enforcement")).await.text();
    assert!(html.contains("3 matters") && !html.contains(&hidden), "{html}");
}
