//! Cases through the API: intake, docket numbers, idempotency, need-to-know, lost updates,
//! the workflow with its clocks, search and filters.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use crate::harness::{TestApp, api};

fn intake(title: &str, restricted: bool) -> Value {
    json!({
        "title": title,
        "summary": "Anti-virus software with kernel-level access on US systems; updates pushed from servers under Russian jurisdiction.",
        "origin": "agency_referral",
        "referring_agency": "DOJ",
        "referral_date": "2021-08-10",
        "category": "connected_software",
        "adversaries": ["RU"],
        "restricted": restricted
    })
}

async fn create(app: &TestApp, token: &str, title: &str, restricted: bool) -> Value {
    let r = app.send(api("POST", "/api/v1/cases", token, Some(intake(title, restricted)))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> crate::harness::TestResponse {
    app.send(api("POST", &format!("/api/v1/cases/{id}/transitions"), token, Some(body))).await
}

#[tokio::test]
async fn reference_data_lists_everything_the_rule_dates() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let t = app.token(&u).await;
    let r = app.send(api("GET", "/api/v1/reference", &t, None)).await.json();
    let codes: Vec<&str> = r["adversaries"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["CN", "CU", "IR", "KP", "RU", "VE"]);
    assert!(r["adversaries"][0]["note"].as_str().unwrap().contains("Hong Kong"));
    assert_eq!(r["adversaries"][0]["effective_from"], "2021-01-19");
    for k in ["categories", "agencies", "data_categories", "rule_versions"] {
        assert!(!r[k].as_array().unwrap().is_empty(), "{k}");
    }
    // The rule-version rows agree with the clocks the code computes.
    let rules = r["rule_versions"].as_array().unwrap();
    let fin = rules.iter().find(|v| v["code"] == "final-2025").unwrap();
    assert_eq!(fin["agency_notice_days"], icts_review::cases::clocks::AGENCY_NOTICE_DAYS);
    assert_eq!(fin["presumed_concurrence_days"], icts_review::cases::clocks::PRESUMED_CONCURRENCE_DAYS);
    assert_eq!(fin["final_clock_days"], icts_review::cases::clocks::FINAL_DAYS);
    assert_eq!(fin["response_days"], icts_review::cases::clocks::RESPONSE_DAYS);
}

#[tokio::test]
async fn intake_assigns_gap_free_docket_numbers_and_validates_every_field() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let t = app.token(&u).await;
    let year = app.state.now().year();
    let a = create(&app, &t, "First", false).await;
    let b = create(&app, &t, "Second", false).await;
    assert_eq!(a["docket_number"], format!("ICTS-{year}-001"));
    assert_eq!(b["docket_number"], format!("ICTS-{year}-002"));
    assert_eq!(a["stage"], "intake");
    assert_eq!(a["assignee"]["id"], u.id.to_string(), "the filing analyst works the case");
    for k in [
        "id",
        "docket_number",
        "title",
        "stage",
        "version",
        "restricted",
        "assignee",
        "rule_version",
        "clocks",
        "allowed_actions",
    ] {
        assert!(a.get(k).is_some(), "case JSON has {k}");
    }
    // A failed intake does not use up a number.
    let mut bad = intake("", false);
    bad["origin"] = json!("agency_referral");
    bad["referring_agency"] = Value::Null;
    bad["category"] = json!("gardening");
    bad["adversaries"] = json!(["FR"]);
    let r = app.send(api("POST", "/api/v1/cases", &t, Some(bad))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["title", "referring_agency", "category", "adversaries"]);
    let c = create(&app, &t, "Third", false).await;
    assert_eq!(c["docket_number"], format!("ICTS-{year}-003"));
    let r = app.send(api("POST", "/api/v1/cases", &t, Some(json!({"title": "x", "unknown": 1})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are rejected");
    // Concurrent filings still get distinct, consecutive numbers.
    let mut tasks = Vec::new();
    for i in 0..6 {
        let req = api("POST", "/api/v1/cases", &t, Some(intake(&format!("Parallel {i}"), false)));
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move { tower::ServiceExt::oneshot(router, req).await.unwrap().status() }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    let dockets: Vec<String> = sqlx::query_scalar("SELECT docket_number FROM cases ORDER BY docket_number")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let expected: Vec<String> = (1..=9).map(|n| format!("ICTS-{year}-{n:03}")).collect();
    assert_eq!(dockets, expected);
}

#[tokio::test]
async fn idempotent_create_replays_the_first_answer() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let t = app.token(&u).await;
    let mut req = api("POST", "/api/v1/cases", &t, Some(intake("Once", false)));
    req.headers_mut().insert("idempotency-key", "k-123".parse().unwrap());
    let first = app.send(req).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let mut req = api("POST", "/api/v1/cases", &t, Some(intake("Once", false)));
    req.headers_mut().insert("idempotency-key", "k-123".parse().unwrap());
    let replay = app.send(req).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.json()["id"], first.json()["id"]);
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(app.count("cases").await, 1);
    let mut req = api("POST", "/api/v1/cases", &t, Some(intake("Something else", false)));
    req.headers_mut().insert("idempotency-key", "k-123".parse().unwrap());
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("cases").await, 1);
}

#[tokio::test]
async fn need_to_know_hides_restricted_cases_everywhere() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let analyst = app.user("analyst").await;
    let other = app.user("analyst").await;
    let auditor = app.user("auditor").await;
    let admin = app.user("admin").await;
    let (ts, ta, to, tu, tadm) = (
        app.token(&sup).await,
        app.token(&analyst).await,
        app.token(&other).await,
        app.token(&auditor).await,
        app.token(&admin).await,
    );
    let secret = create(&app, &ts, "Quantum routers of Zorblat Corp", true).await;
    let open = create(&app, &ts, "Open matter", false).await;
    let id = secret["id"].as_str().unwrap();
    app.send(api("POST", &format!("/api/v1/cases/{id}/notes"), &ts, Some(json!({"body": "zorblat firmware note"}))))
        .await;

    let missing = app.send(api("GET", &format!("/api/v1/cases/{}", uuid::Uuid::now_v7()), &ta, None)).await;
    let hidden = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ta, None)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body, missing.body, "the same answer as for a case that does not exist");
    assert_eq!(
        app.send(api("GET", &format!("/api/v1/cases/{id}/events"), &ta, None)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.send(api("POST", &format!("/api/v1/cases/{id}/notes"), &ta, Some(json!({"body": "peek"})))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = app.send(api("GET", "/api/v1/cases", &ta, None)).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], open["id"]);
    for q in ["zorblat", "Quantum", secret["docket_number"].as_str().unwrap()] {
        let found = app.send(api("GET", &format!("/api/v1/cases?q={}", urlencode(q)), &ta, None)).await.json();
        assert!(found["items"].as_array().unwrap().is_empty(), "search for {q} leaks the restricted case");
        let found = app.send(api("GET", &format!("/api/v1/cases?q={}", urlencode(q)), &ts, None)).await.json();
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "supervisor finds {q}");
    }
    // Counts on the dashboard leave it out too.
    let mut conn = app.pool.acquire().await.unwrap();
    let counts = icts_review::cases::db::count_by_stage(&mut conn, analyst.id, icts_review::access::Role::Analyst)
        .await
        .unwrap();
    assert_eq!(counts.iter().map(|c| c.1).sum::<i64>(), 1);
    drop(conn);
    // Auditors see it; administrators see no case at all.
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{id}"), &tu, None)).await.status, StatusCode::OK);
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{id}"), &tadm, None)).await.status, StatusCode::FORBIDDEN);
    // Assigned to an analyst, it becomes visible to that analyst only.
    let r =
        app.send(api("POST", "/api/v1/cases/assign", &ts, Some(json!({"cases": [id], "assignee": analyst.id})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{id}"), &ta, None)).await.status, StatusCode::OK);
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{id}"), &to, None)).await.status, StatusCode::NOT_FOUND);
    // The analyst is told.
    let n = app.send(api("GET", "/api/v1/notifications", &ta, None)).await.json();
    assert_eq!(n["unread"], 1);
    assert_eq!(n["items"][0]["kind"], "assigned");
    assert_eq!(n["items"][0]["link"], format!("/cases/{id}"));
    assert_eq!(
        app.send(api("POST", "/api/v1/cases/assign", &ta, Some(json!({"cases": [id], "assignee": other.id}))))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn two_writers_from_one_version_one_wins_one_gets_409() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let t = app.token(&u).await;
    let c = create(&app, &t, "Original title", false).await;
    let id = c["id"].as_str().unwrap();
    let v = c["version"].as_i64().unwrap();
    let a = app
        .send(api("PATCH", &format!("/api/v1/cases/{id}"), &t, Some(json!({"version": v, "title": "Writer A"}))))
        .await;
    let b = app
        .send(api(
            "PATCH",
            &format!("/api/v1/cases/{id}"),
            &t,
            Some(json!({"version": v, "title": "Writer B", "summary": "B's summary"})),
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(b.status, StatusCode::CONFLICT);
    assert_eq!(b.header("content-type").as_deref(), Some("application/problem+json"));
    let now = app.send(api("GET", &format!("/api/v1/cases/{id}"), &t, None)).await.json();
    assert_eq!(now["title"], "Writer A");
    assert_ne!(now["summary"], "B's summary", "the loser changed nothing");
    assert_eq!(now["version"].as_i64().unwrap(), v + 1);
    let updates = app.events("case.updated").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["changes"]["title"]["before"], "Original title");
    assert_eq!(updates[0]["changes"]["title"]["after"], "Writer A");
}

#[tokio::test]
async fn the_workflow_runs_from_referral_to_decision_with_its_clocks() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let sup2 = app.user("supervisor").await;
    let analyst = app.user("analyst").await;
    let (ts, ta) = (app.token(&sup).await, app.token(&analyst).await);
    let c = create(&app, &ta, "Kaspersky anti-virus", false).await;
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["allowed_actions"], json!([]), "an analyst cannot dispose of a referral");
    assert_eq!(act(&app, &ta, &id, json!({"action": "accept"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        act(&app, &ts, &id, json!({"action": "reject"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reason required"
    );
    assert_eq!(
        act(&app, &ts, &id, json!({"action": "notify_agencies"})).await.status,
        StatusCode::CONFLICT,
        "not at intake"
    );
    let r = act(&app, &ts, &id, json!({"action": "accept"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["stage"], "initial_review");
    assert_eq!(v["rule_version"], "final-2025", "the rule in force on the acceptance date");
    assert_eq!(v["clocks"], json!([]), "under the final rule the final clock starts at service");

    // The first interagency step needs the notices recorded.
    let r = act(&app, &ta, &id, json!({"action": "notify_agencies"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("notice"));
    crate::determinations::notice(&app, &ta, &id, "first", "DOJ").await;
    // The three questions gate the initial determination.
    assert_eq!(act(&app, &ta, &id, json!({"action": "notify_agencies"})).await.status, StatusCode::OK);
    let r = act(&app, &ta, &id, json!({"action": "begin_initial_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("three questions"));
    let ver = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ta, None)).await.json()["version"].clone();
    let r = app
        .send(api(
            "PATCH",
            &format!("/api/v1/cases/{id}"),
            &ta,
            Some(json!({"version": ver, "covered": "yes", "nexus": "yes", "nexus_note": "HQ in Moscow", "undue_risk": "yes"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The risk feature's preconditions: a nexus finding and an assessment.
    let r = act(&app, &ta, &id, json!({"action": "begin_initial_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("nexus finding"));
    crate::risk::research(&app, &ta, &id, 3).await;
    assert_eq!(act(&app, &ta, &id, json!({"action": "begin_initial_determination"})).await.status, StatusCode::OK);
    // Service needs the signed initial determination (the determinations tests cover the
    // sign-off itself).
    let today = app.state.now().date();
    let r = act(
        &app,
        &ta,
        &id,
        json!({"action": "serve_initial_determination", "date": today.to_string(), "method": "registered_mail"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("signed"), "{}", r.text());
    crate::determinations::signed(&app, &ta, (&sup, &ts), &id, "initial", "prohibition").await;
    // 21 days' notice to agencies before service under the final rule.
    let r = act(
        &app,
        &ta,
        &id,
        json!({"action": "serve_initial_determination", "date": today.to_string(), "method": "registered_mail"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("21 days"));
    app.clock.advance(Duration::days(21));
    // Sessions time out while the clock jumps; sign in again.
    let ta = app.token(&analyst).await;
    let served = app.state.now().date();
    let r = act(&app, &ta, &id, json!({"action": "serve_initial_determination", "date": served.to_string()})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the method of service is required");
    assert_eq!(r.json()["errors"][0]["field"], "method");
    let r = act(
        &app,
        &ta,
        &id,
        json!({"action": "serve_initial_determination", "date": served.to_string(), "method": "commercial_carrier"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["stage"], "response_period");
    let clock =
        |v: &Value, name: &str| v["clocks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap();
    let fin = clock(&v, "final_determination");
    assert_eq!(fin["due"], (served + Duration::days(180)).to_string());
    assert_eq!(fin["days_left"], 180);
    assert_eq!(fin["paused"], false);
    assert_eq!(fin["overdue"], false);
    assert_eq!(clock(&v, "response_window")["due"], (served + Duration::days(30)).to_string());

    // No response in 30 days: straight to the final determination.
    assert_eq!(act(&app, &ta, &id, json!({"action": "proceed_without_response"})).await.status, StatusCode::CONFLICT);
    app.clock.advance(Duration::days(31));
    let (ts, ts2, ta) = (app.token(&sup).await, app.token(&sup2).await, app.token(&analyst).await);
    let overdue = app.send(api("GET", "/api/v1/cases?overdue=true", &ts, None)).await.json();
    assert_eq!(overdue["items"][0]["id"], json!(id), "the response window is past");
    assert_eq!(act(&app, &ta, &id, json!({"action": "proceed_without_response"})).await.status, StatusCode::OK);
    let r = act(&app, &ta, &id, json!({"action": "issue_final_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the final determination must be signed first");
    let _ = ts;
    crate::determinations::signed(&app, &ta, (&sup2, &ts2), &id, "final", "prohibited").await;
    let r = act(&app, &ta, &id, json!({"action": "issue_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["stage"], "decided");
    assert_eq!(r.json()["decision"], "prohibited");
    // Amending is a new, signed determination, never an edit.
    crate::determinations::signed(&app, &ta, (&sup, &ts), &id, "amendment", "prohibited").await;
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM case_determination_events ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["issued", "amended"]);
    // The timeline has every step.
    let events = app.send(api("GET", &format!("/api/v1/cases/{id}/events"), &ta, None)).await.json();
    let actions: Vec<&str> =
        events.as_array().unwrap().iter().filter_map(|e| e["changes"]["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "accept",
            "notify_agencies",
            "begin_initial_determination",
            "serve_initial_determination",
            "proceed_without_response",
            "issue_final_determination",
        ]
    );
}

#[tokio::test]
async fn the_interim_rule_clock_runs_from_acceptance_and_tolls_and_extends() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let c = create(&app, &ts, "Routers", false).await;
    let id = c["id"].as_str().unwrap().to_string();
    act(&app, &ts, &id, json!({"action": "accept"})).await;
    // Cases accepted before 4 Feb 2025 keep the interim rule: simulate one.
    sqlx::query("UPDATE cases SET rule_version = 'ifr-2021' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    let state = app.state.clone();
    let user_row = icts_review::access::Actor {
        id: sup.id,
        email: sup.email.clone(),
        name: "s".into(),
        role: icts_review::access::Role::Supervisor,
        session_id: icts_review::ids::SessionId(uuid::Uuid::nil()),
        reauth_at: None,
        meta: Default::default(),
    };
    let case_id: icts_review::ids::CaseId = id.parse().unwrap();
    use icts_review::cases::clocks::ClockName;
    let rfi = icts_review::cases::service::add_rfi(
        &mut state.conn().await.unwrap(),
        &user_row,
        state.now(),
        case_id,
        "Vendor counsel",
        "Ownership chart?",
        vec![ClockName::FinalDetermination],
        &Default::default(),
    )
    .await
    .unwrap();
    app.clock.advance(Duration::days(10));
    let ts = app.token(&sup).await;
    let v = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ts, None)).await.json();
    let fin = v["clocks"][0].clone();
    assert_eq!(fin["name"], "final_determination");
    assert_eq!(fin["paused"], true);
    assert_eq!(fin["days_left"], 180, "a paused clock does not run down");
    icts_review::cases::service::answer_rfi(
        &mut state.conn().await.unwrap(),
        &user_row,
        state.now(),
        case_id,
        rfi,
        "Chart received",
        &Default::default(),
    )
    .await
    .unwrap();
    icts_review::cases::service::extend(
        &mut state.conn().await.unwrap(),
        &user_row,
        state.now(),
        case_id,
        ClockName::FinalDetermination,
        30,
        "Complex ownership",
        &Default::default(),
    )
    .await
    .unwrap();
    let err = icts_review::cases::service::extend(
        &mut state.conn().await.unwrap(),
        &user_row,
        state.now(),
        case_id,
        ClockName::FinalDetermination,
        30,
        "  ",
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, icts_review::error::DomainError::Invalid(_)));
    let v = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ts, None)).await.json();
    let fin = v["clocks"][0].clone();
    assert_eq!(fin["paused"], false);
    assert_eq!(fin["days_left"], 210);
    assert_eq!(app.events("case.clock_extended").await.len(), 1);
    assert_eq!(app.events("case.rfi_sent").await.len(), 1);
}

#[tokio::test]
async fn search_filters_and_keyset_pages() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    for i in 0..7 {
        let mut body = intake(&format!("Case number {i}"), false);
        if i % 2 == 0 {
            body["category"] = json!("data_hosting");
            body["adversaries"] = json!(["CN"]);
        }
        app.send(api("POST", "/api/v1/cases", &ts, Some(body))).await;
        app.clock.advance(Duration::seconds(1));
    }
    let id = app.send(api("GET", "/api/v1/cases?limit=1", &ts, None)).await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.send(api(
        "POST",
        &format!("/api/v1/cases/{id}/notes"),
        &ts,
        Some(json!({"body": "Spoke with the hyperscaler's counsel"})),
    ))
    .await;
    let hits = app.send(api("GET", "/api/v1/cases?q=hyperscaler", &ts, None)).await.json();
    assert_eq!(hits["items"].as_array().unwrap().len(), 1, "notes are searched");
    assert_eq!(hits["items"][0]["id"], json!(id));
    let cn = app.send(api("GET", "/api/v1/cases?adversary=CN&category=data_hosting", &ts, None)).await.json();
    assert_eq!(cn["items"].as_array().unwrap().len(), 4);
    // Keyset pages cover everything once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=3&sort=docket&cursor={}", urlencode(c)),
            None => "/api/v1/cases?limit=3&sort=docket".to_string(),
        };
        let page = app.send(api("GET", &path, &ts, None)).await.json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["docket_number"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen, sorted);
    // The other orders page the same way.
    for sort in ["newest", "oldest", "due"] {
        let mut n = 0;
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/cases?limit=2&sort={sort}&cursor={}", urlencode(c)),
                None => format!("/api/v1/cases?limit=2&sort={sort}"),
            };
            let page = app.send(api("GET", &path, &ts, None)).await.json();
            n += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(n, 7, "{sort}");
    }
    let forged =
        format!("/api/v1/cases?sort=newest&cursor={}", urlencode(&format!("not-a-time~{}", uuid::Uuid::nil())));
    assert_eq!(
        app.send(api("GET", &forged, &ts, None)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a forged cursor is a 4xx"
    );
    let bad = app.send(api("GET", "/api/v1/cases?stage=limbo&limit=0&sort=random", &ts, None)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> =
        bad.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["stage", "sort", "limit"]);
}

#[tokio::test]
async fn administrators_edit_dated_reference_data() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let analyst = app.user("analyst").await;
    let (tadm, ta) = (app.token(&admin).await, app.token(&analyst).await);
    let today = app.state.now().date();
    // A notice removes Venezuela from the list as of today.
    let r = app
        .send(api("PUT", "/api/v1/reference/adversaries/VE", &tadm, Some(json!({
            "name": "Venezuelan politician Nicolás Maduro (Maduro regime)", "effective_from": "2021-01-19", "effective_to": today.to_string()
        }))))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let mut body = intake("Oil-field telemetry", false);
    body["adversaries"] = json!(["VE"]);
    let r = app.send(api("POST", "/api/v1/cases", &ta, Some(body))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no longer a listed adversary today");
    let ev = app.events("reference.updated").await;
    assert_eq!(ev.len(), 1);
    assert!(ev[0]["changes"]["before"]["effective_to"].is_null());
    assert_eq!(ev[0]["changes"]["after"]["effective_to"], today.to_string());
    // A new agency.
    let r = app
        .send(api(
            "PUT",
            "/api/v1/reference/agencies/NASA",
            &tadm,
            Some(json!({"name": "National Aeronautics and Space Administration"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.events("reference.added").await.len(), 1);
    // Bad input names the fields; other roles may not.
    let r = app.send(api("PUT", "/api/v1/reference/adversaries/venezuela", &tadm, Some(json!({"name": ""})))).await;
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["code", "name", "effective_from"]);
    assert_eq!(
        app.send(api("PUT", "/api/v1/reference/astrology/XX", &tadm, Some(json!({"name": "x"})))).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(api("PUT", "/api/v1/reference/agencies/NASA", &ta, Some(json!({"name": "x"})))).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_stale_edit_on_the_page_shows_the_conflict_and_the_current_values() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let c = create(&app, &ts, "Before", false).await;
    let id = c["id"].as_str().unwrap();
    let s = app.sign_in(&sup).await;
    let form = app.send(s.get(&format!("/cases/{id}/edit"))).await.text();
    assert!(form.contains("name=\"version\" value=\"1\""));
    // Someone else saves first.
    app.send(api("PATCH", &format!("/api/v1/cases/{id}"), &ts, Some(json!({"version": 1, "title": "Their title"}))))
        .await;
    let r = app
        .send(s.post(
            &format!("/cases/{id}/edit"),
            &[
                ("version", "1"),
                ("title", "My title"),
                ("summary", "x"),
                ("origin", "agency_referral"),
                ("category", "connected_software"),
                ("adversaries", "RU"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let html = r.text();
    assert!(html.contains("changed by someone else"), "a clear message");
    assert!(html.contains("value=\"Their title\""), "the current values are shown");
    assert!(html.contains("name=\"version\" value=\"2\""), "with the current version to retry from");
    let now = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ts, None)).await.json();
    assert_eq!(now["title"], "Their title");
    // Retrying from the current version works and comes back to the case page.
    let r = app
        .send(s.post(
            &format!("/cases/{id}/edit"),
            &[
                ("version", "2"),
                ("title", "My title"),
                ("summary", "x"),
                ("origin", "agency_referral"),
                ("category", "connected_software"),
                ("adversaries", "RU"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Invalid input comes back beside its field with what was typed.
    let r = app
        .send(s.post(
            &format!("/cases/{id}/edit"),
            &[("version", "3"), ("title", ""), ("summary", "kept summary"), ("category", "gardening")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("id=\"title-error\"") && html.contains("id=\"category-error\"") && html.contains("kept summary")
    );
}

#[tokio::test]
async fn a_decided_case_is_not_edited_only_amended() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let c = create(&app, &ts, "To reject", false).await;
    let id = c["id"].as_str().unwrap();
    act(&app, &ts, id, json!({"action": "reject", "comment": "Out of scope"})).await;
    let now = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ts, None)).await.json();
    let r = app
        .send(api(
            "PATCH",
            &format!("/api/v1/cases/{id}"),
            &ts,
            Some(json!({"version": now["version"], "title": "Rewritten"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("no longer edited"));
}

#[tokio::test]
async fn the_api_refuses_a_field_the_act_does_not_take_and_an_empty_date() {
    let app = TestApp::new().await;
    let ta = app.token(&app.user("analyst").await).await;
    let ts = app.token(&app.user("supervisor").await).await;
    let id = create(&app, &ta, "Routers, carrier A", false).await["id"].as_str().unwrap().to_string();
    let events = app.count("audit_events").await;
    // Accepting a referral names no method of service: a method on it is refused, by name.
    let r = act(&app, &ts, &id, json!({"action": "accept", "method": "__not_in_enum__"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let errors = r.json()["errors"].clone();
    assert!(errors.as_array().unwrap().iter().any(|e| e["field"] == "method"), "{errors}");
    let r = act(&app, &ts, &id, json!({"action": "accept", "method": "registered_mail"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a method of the rule is still not taken by accept");
    let v = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ts, None)).await.json();
    assert_eq!(v["stage"], "intake", "nothing moved");
    // An empty date is a missing date: leave it out, do not send "".
    let tx =
        json!({"item": "Customer-premises routers", "kind": "acquisition", "status": "ongoing", "initiated_on": ""});
    let r = app.send(api("POST", &format!("/api/v1/cases/{id}/transactions"), &ta, Some(tx))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let errors = r.json()["errors"].clone();
    assert!(errors.as_array().unwrap().iter().any(|e| e["field"] == "initiated_on"), "{errors}");
    assert_eq!(app.count("transactions").await, 0);
    assert_eq!(app.count("audit_events").await, events, "nothing written");
    let tx = json!({"item": "Customer-premises routers", "kind": "acquisition", "status": "ongoing"});
    let r = app.send(api("POST", &format!("/api/v1/cases/{id}/transactions"), &ta, Some(tx))).await;
    assert_eq!(r.status, StatusCode::CREATED, "left out, the date is missing: {}", r.text());
}
