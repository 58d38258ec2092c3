//! The party registry, transactions and consolidation through the API.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, api};

async fn party(app: &TestApp, t: &str, body: Value) -> Value {
    let r = app.send(api("POST", "/api/v1/parties", t, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

async fn case(app: &TestApp, t: &str, title: &str, restricted: bool) -> String {
    let body = json!({"title": title, "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["RU"], "restricted": restricted});
    let r = app.send(api("POST", "/api/v1/cases", t, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn ownership_chains_lead_to_the_adversary_and_never_loop() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let t = app.token(&u).await;
    let ru = party(&app, &t, json!({"legal_name": "AO Kaspersky Lab", "kind": "company", "country": "RU"})).await;
    let uk = party(&app, &t, json!({"legal_name": "Kaspersky Labs Limited", "kind": "company", "country": "GB", "parent_id": ru["id"], "ownership_pct": 100.0})).await;
    let us = party(&app, &t, json!({"legal_name": "Kaspersky Lab, Inc.", "aliases": ["Kaspersky US"], "kind": "company", "country": "us", "parent_id": uk["id"], "ownership_pct": 100.0})).await;
    assert_eq!(us["country"], "US");
    let detail =
        app.send(api("GET", &format!("/api/v1/parties/{}", us["id"].as_str().unwrap()), &t, None)).await.json();
    let chain: Vec<(String, bool)> = detail["ownership_chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["party"]["legal_name"].as_str().unwrap().to_string(), l["in_adversary_country"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            ("Kaspersky Lab, Inc.".to_string(), false),
            ("Kaspersky Labs Limited".to_string(), false),
            ("AO Kaspersky Lab".to_string(), true)
        ]
    );
    // Making the Russian parent owned by its own grandchild would be a loop.
    let r = app.send(api("PATCH", &format!("/api/v1/parties/{}", ru["id"].as_str().unwrap()), &t, Some(json!({
        "legal_name": "AO Kaspersky Lab", "kind": "company", "country": "RU", "parent_id": us["id"], "ownership_pct": 10.0, "version": ru["version"]
    })))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("loop"));
    let r = app
        .send(api("POST", "/api/v1/parties", &t, Some(json!({"legal_name": "", "kind": "robot", "country": "Russia"}))))
        .await;
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["legal_name", "kind", "country"]);
    // Evidence per criterion.
    let r = app.send(api("POST", &format!("/api/v1/parties/{}/evidence", ru["id"].as_str().unwrap()), &t, Some(json!({
        "criterion": "facilities", "adversary": "RU", "finding": "Headquarters and R&D in Moscow", "source": "Company filings"
    })))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/parties/{}/evidence", ru["id"].as_str().unwrap()),
            &t,
            Some(json!({"criterion": "astrology", "adversary": "XX", "finding": ""})),
        ))
        .await;
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["criterion", "finding", "adversary"]);
    let detail =
        app.send(api("GET", &format!("/api/v1/parties/{}", ru["id"].as_str().unwrap()), &t, None)).await.json();
    assert_eq!(detail["evidence"][0]["criterion"], "facilities");
    assert_eq!(app.events("party.evidence_added").await.len(), 1);
}

#[tokio::test]
async fn parties_link_to_cases_make_them_searchable_and_respect_need_to_know() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let other = app.user("analyst").await;
    let ts = app.token(&sup).await;
    let to = app.token(&other).await;
    let p = party(&app, &ts, json!({"legal_name": "Zhongxing Telecom Equipment", "kind": "company", "country": "CN"}))
        .await;
    let pid = p["id"].as_str().unwrap();
    let open = case(&app, &ts, "Open review", false).await;
    let secret = case(&app, &ts, "Restricted review", true).await;
    for c in [&open, &secret] {
        let r = app
            .send(api(
                "POST",
                &format!("/api/v1/cases/{c}/parties"),
                &ts,
                Some(json!({"party_id": pid, "role": "supplier"})),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{open}/parties"),
            &ts,
            Some(json!({"party_id": pid, "role": "supplier"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the same link twice");
    let found = app.send(api("GET", "/api/v1/cases?q=Zhongxing", &ts, None)).await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 2, "party names are searched");
    let found = app.send(api("GET", "/api/v1/cases?q=Zhongxing", &to, None)).await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "but not into restricted cases");
    let d = app.send(api("GET", &format!("/api/v1/parties/{pid}"), &to, None)).await.json();
    assert_eq!(d["cases"].as_array().unwrap().len(), 1, "the party page lists only visible cases");
    let d = app.send(api("GET", &format!("/api/v1/parties/{pid}"), &ts, None)).await.json();
    assert_eq!(d["cases"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn transactions_are_recorded_and_consolidation_moves_them_losing_nothing() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let supplier =
        party(&app, &ts, json!({"legal_name": "Router Maker Ltd", "kind": "company", "country": "CN"})).await;
    let buyer = party(&app, &ts, json!({"legal_name": "Regional Telco LLC", "kind": "company", "country": "US"})).await;
    let a = case(&app, &ts, "Routers, carrier A", false).await;
    let b = case(&app, &ts, "Routers, carrier B", false).await;
    let tx = json!({
        "item": "Customer-premises routers, model X", "kind": "acquisition", "status": "ongoing", "initiated_on": "2024-03-01",
        "ongoing_activity": "Firmware updates pushed monthly", "value_usd": 1250000.0, "us_persons_affected": 2000000,
        "data_categories": ["geolocation"], "parties": [{"party_id": supplier["id"], "role": "supplier"}, {"party_id": buyer["id"], "role": "us_counterparty"}]
    });
    for c in [&a, &b] {
        let r = app.send(api("POST", &format!("/api/v1/cases/{c}/transactions"), &ts, Some(tx.clone()))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let bad = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{a}/transactions"),
            &ts,
            Some(json!({"item": "x", "kind": "theft", "status": "ongoing", "data_categories": ["horoscope"]})),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let list = app.send(api("GET", &format!("/api/v1/cases/{a}/transactions"), &ts, None)).await.json();
    assert_eq!(list[0]["item"], "Customer-premises routers, model X");
    assert_eq!(list[0]["value_usd"], 1250000.0);
    assert_eq!(list[0]["initiated_on"], "2024-03-01");
    // The transaction's parties are on the case.
    let found = app.send(api("GET", "/api/v1/cases?q=Regional%20Telco", &ts, None)).await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 2);

    let r = app.send(api("POST", &format!("/api/v1/cases/{a}/consolidate"), &ts, Some(json!({"from": b})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["transactions_moved"], 1);
    let list = app.send(api("GET", &format!("/api/v1/cases/{a}/transactions"), &ts, None)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "both transactions are now on A");
    let source = app.send(api("GET", &format!("/api/v1/cases/{b}"), &ts, None)).await.json();
    assert_eq!(source["stage"], "closed_no_action");
    assert_eq!(app.count("transactions").await, 2, "nothing lost");
    let into = app.send(api("GET", &format!("/api/v1/cases/{b}/events"), &ts, None)).await.json();
    assert!(into.as_array().unwrap().iter().any(|e| e["event_type"] == "case.consolidated_into"));
    let from = app.send(api("GET", &format!("/api/v1/cases/{a}/events"), &ts, None)).await.json();
    assert!(from.as_array().unwrap().iter().any(|e| e["event_type"] == "case.consolidated_from"));
    let again = app.send(api("POST", &format!("/api/v1/cases/{a}/consolidate"), &ts, Some(json!({"from": b})))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let analyst = app.user("analyst").await;
    let ta = app.token(&analyst).await;
    assert_eq!(
        app.send(api("POST", &format!("/api/v1/cases/{a}/consolidate"), &ta, Some(json!({"from": b})))).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_case_page_offers_parties_found_by_name_or_alias_never_the_whole_registry() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let wanted = party(
        &app,
        &ts,
        json!({"legal_name": "Baltic Relay Systems", "aliases": ["BRS Telecom"], "kind": "company", "country": "RU"}),
    )
    .await;
    let linked = party(&app, &ts, json!({"legal_name": "Harbor Logistics", "kind": "company", "country": "US"})).await;
    party(&app, &ts, json!({"legal_name": "Unrelated Widgets", "kind": "company", "country": "US"})).await;
    let c = case(&app, &ts, "Relay review", false).await;
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{c}/parties"),
            &ts,
            Some(json!({"party_id": linked["id"], "role": "us_counterparty"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let session = app.sign_in(&sup).await;
    let option = |p: &Value| format!("<option value=\"{}\">", p["id"].as_str().unwrap());

    // Without a search: the case's own parties for transactions, nothing from the registry.
    let page = app.send(session.get(&format!("/cases/{c}"))).await.text();
    assert!(page.contains("Find the party by name first."));
    assert!(page.contains(&option(&linked)), "the case's own party is offered for transactions");
    assert!(!page.contains(&option(&wanted)), "registry parties are not listed unasked");
    assert!(!page.contains("Unrelated Widgets"));

    // By part of an alias, any case: the match is offered, the others are not.
    for q in ["brs+tele", "Relay+Sys"] {
        let page = app.send(session.get(&format!("/cases/{c}?party_q={q}"))).await.text();
        assert!(page.contains("1 found for"), "{q}");
        assert!(page.contains(&option(&wanted)), "{q}");
        assert!(!page.contains("Unrelated Widgets"), "{q}");
    }
    let page = app.send(session.get(&format!("/cases/{c}?party_q=nobody+by+this+name"))).await.text();
    assert!(page.contains("No party matches"));
}

#[tokio::test]
async fn a_part_of_a_docket_number_finds_its_case() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let id = case(&app, &ts, "Docket search", false).await;
    case(&app, &ts, "Another", false).await;
    let d = app.send(api("GET", &format!("/api/v1/cases/{id}"), &ts, None)).await.json();
    let docket = d["docket_number"].as_str().unwrap().to_string();
    let tail = docket.rsplit('-').next().unwrap().to_string();
    let found = app.send(api("GET", &format!("/api/v1/cases?q={docket}"), &ts, None)).await.json();
    let ids: Vec<&str> = found["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![id.as_str()]);
    let found = app.send(api("GET", &format!("/api/v1/cases?q=-{tail}"), &ts, None)).await.json();
    assert!(found["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str()), "{found}");
}

#[tokio::test]
async fn a_search_pages_newest_first_across_recent_and_old_cases() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let mut ids = Vec::new();
    for title in ["Zephyr relay one", "Zephyr relay two", "Zephyr relay three", "Unrelated"] {
        ids.push(case(&app, &ts, title, false).await);
    }
    // The first was filed two years ago, the second forty days ago: outside the last month.
    for (id, days) in [(&ids[0], 730), (&ids[1], 40)] {
        sqlx::query("UPDATE cases SET created_at = now() - make_interval(days => $2) WHERE id = $1::uuid")
            .bind(id)
            .bind(days)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let seen = pages_of(&app, &ts, "/api/v1/cases?q=zephyr&limit=1").await;
    assert_eq!(seen, vec![ids[2].clone(), ids[1].clone(), ids[0].clone()], "newest first, the old ones too");
}

fn url_escape(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B").replace('~', "%7E")
}

#[tokio::test]
async fn a_searched_list_in_filing_order_finds_every_match_past_thousands_of_other_cases() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    // Five matches filed from ten days to two years ago, with 1,200 newer and 1,200 older
    // cases that do not match: more than the list tests one by one (1,000), so the pages
    // come from the index (the first week, then the few remaining matches), in both orders.
    let mut matches = Vec::new();
    for (n, days) in [(1, 730), (2, 400), (3, 100), (4, 40), (5, 10)] {
        let id = case(&app, &ts, &format!("Zephyr relay {n}"), false).await;
        sqlx::query("UPDATE cases SET created_at = now() - make_interval(days => $2) WHERE id = $1::uuid")
            .bind(&id)
            .bind(days)
            .execute(&app.pool)
            .await
            .unwrap();
        matches.push(id);
    }
    let template = case(&app, &ts, "Unrelated template", false).await;
    sqlx::query(
        "INSERT INTO cases (id, docket_number, title, summary, origin, category, adversaries, restricted, created_by, \
         created_at, updated_at) SELECT gen_random_uuid(), 'ICTS-1999-' || lpad(g::text, 4, '0'), \
         CASE WHEN g <= 1200 THEN 'Kestrel filler ' ELSE 'Osprey filler ' END || g, t.summary, t.origin, \
         t.category, t.adversaries, false, t.created_by, \
         CASE WHEN g <= 1200 THEN now() - make_interval(mins => g) ELSE now() - make_interval(days => 900 + g) END, now() \
         FROM cases t, generate_series(1, 2400) g WHERE t.id = $1::uuid",
    )
    .bind(&template)
    .execute(&app.pool)
    .await
    .unwrap();

    let newest: Vec<String> = matches.iter().rev().cloned().collect();
    let list = |q: &str| format!("/api/v1/cases?q={q}");
    assert_eq!(pages_of(&app, &ts, &list("zephyr&limit=2")).await, newest, "newest first, past 1,200 newer cases");
    assert_eq!(pages_of(&app, &ts, &list("zephyr&sort=newest&limit=50")).await, newest);
    assert_eq!(
        pages_of(&app, &ts, &list("zephyr&sort=oldest&limit=2")).await,
        matches,
        "oldest first, past 1,200 older cases"
    );
    assert_eq!(pages_of(&app, &ts, &list("relay+zephyr&sort=oldest&limit=3")).await, matches);
    assert!(pages_of(&app, &ts, &list("nothing-like-this")).await.is_empty());

    // Common words: 1,200 old cases match "osprey", more than the list fetches and sorts at
    // once (1,000), so newest first they come bucket by bucket; "kestrel", oldest first.
    let oracle = |q: &'static str, order: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
                "SELECT id::text FROM cases WHERE title ILIKE '{q}%' ORDER BY created_at {order}, id {order}"
            )))
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let osprey = oracle("osprey", "DESC").await;
    let first = app.send(api("GET", "/api/v1/cases?q=osprey&limit=50", &ts, None)).await.json();
    let first: Vec<String> =
        first["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(first, osprey[..50]);
    assert_eq!(pages_of(&app, &ts, &list("osprey&limit=200")).await, osprey);
    assert_eq!(pages_of(&app, &ts, &list("kestrel&sort=oldest&limit=200")).await, oracle("kestrel", "ASC").await);

    // A part of a docket number (a query with digits) is found the same way, and the
    // filler's dockets are found too, newest first: the first 1,200 walk, the rest bucket.
    let d = app.send(api("GET", &format!("/api/v1/cases/{}", matches[0]), &ts, None)).await.json();
    let docket = d["docket_number"].as_str().unwrap().to_string();
    let found = pages_of(&app, &ts, &format!("/api/v1/cases?q={docket}&limit=10")).await;
    assert_eq!(found, vec![matches[0].clone()]);
    let expected: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM cases WHERE docket_number LIKE 'ICTS-1999-23%' ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(expected.len(), 100, "2300..2399");
    assert_eq!(pages_of(&app, &ts, "/api/v1/cases?q=1999-23&limit=40").await, expected);
    // A whole docket number is that case only; without its "ICTS-" it is a start.
    assert_eq!(pages_of(&app, &ts, "/api/v1/cases?q=ICTS-1999-2300").await, expected[..1]);
    assert_eq!(pages_of(&app, &ts, "/api/v1/cases?q=1999-230&limit=4").await, expected[..10]);
}

async fn pages_of(app: &TestApp, ts: &str, base: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut url = base.to_string();
    loop {
        let page = app.send(api("GET", &url, ts, None)).await.json();
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{base}&cursor={}", url_escape(c)),
            None => break,
        }
    }
    seen
}
