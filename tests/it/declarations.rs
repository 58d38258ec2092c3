//! The second docket's Declarations of Conformity through the API and the pages: filer
//! roles, intake, one in force per filer, kind and year, review, amendments that supersede
//! with the history kept, bad input named by field with nothing written, and who may do what.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, api};

fn fields(r: &Value) -> Vec<String> {
    r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn party(app: &TestApp, t: &str, name: &str, country: &str) -> String {
    let body = json!({"legal_name": name, "kind": "company", "country": country});
    let r = app.send(api("POST", "/api/v1/parties", t, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

fn declaration(filer: &str, covers: &[&str]) -> Value {
    json!({
        "filer_id": filer, "kind": "completed_vehicle", "model_year": 2027, "covers": covers,
        "certifications": ["No VCS hardware or covered software of a PRC- or Russia-linked supplier (791.305(b))"],
    })
}

#[tokio::test]
async fn a_declaration_is_received_reviewed_and_superseded_by_its_amendment_with_its_history_kept() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let t = app.token(&analyst).await;
    let maker = party(&app, &t, "Voltra Motors LLC", "US").await;

    // A party that is not recorded as a manufacturer files nothing.
    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(declaration(&maker, &["Voltra EX"])))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(fields(&r.json()), ["filer_id"]);
    assert!(r.text().contains("connected-vehicle manufacturer"), "{}", r.text());

    let roles = json!({"role": "vehicle_manufacturer", "since": "2024-03-01"});
    let r = app.send(api("POST", &format!("/api/v1/parties/{maker}/filer-roles"), &t, Some(roles.clone()))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()[0]["role"], "vehicle_manufacturer");
    let again = app.send(api("POST", &format!("/api/v1/parties/{maker}/filer-roles"), &t, Some(roles))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(declaration(&maker, &["Voltra EX Touring"])))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first = r.json();
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(r.header("location"), Some(format!("/api/v1/declarations/{id}")));
    assert!(first["number"].as_str().unwrap().starts_with("CVD-"), "{first}");
    assert_eq!((first["status"].as_str(), first["via"].as_str()), (Some("received"), Some("api")));

    // One in force per filer, kind and year: a second is refused, naming the first.
    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(declaration(&maker, &["Voltra GT"])))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains(first["number"].as_str().unwrap()), "{}", r.text());

    // The list finds it by filter and search; the year of another season finds nothing.
    let l = app.send(api("GET", "/api/v1/declarations?year=2027&status=received&q=touring", &t, None)).await.json();
    assert_eq!(l["declarations"].as_array().unwrap().len(), 1, "{l}");
    let l = app.send(api("GET", "/api/v1/declarations?year=2028", &t, None)).await.json();
    assert!(l["declarations"].as_array().unwrap().is_empty());
    let bad = app.send(api("GET", "/api/v1/declarations?status=lost&kind=boat&year=1900&limit=0", &t, None)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.json()), ["status", "kind", "year", "limit"]);

    // The review: under review, then deficient needs its deficiencies, then accepted.
    let to = |status: &str, reason: &str, version: i64| json!({"status": status, "reason": reason, "version": version});
    let path = format!("/api/v1/declarations/{id}/status");
    let r = app.send(api("POST", &path, &t, Some(to("accepted", "", 1)))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "received cannot be accepted unreviewed: {}", r.text());
    let r = app.send(api("POST", &path, &t, Some(to("under_review", "", 1)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.send(api("POST", &path, &t, Some(to("deficient", " ", 2)))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&r.json()), ["reason"]);
    let stale = app.send(api("POST", &path, &t, Some(to("accepted", "", 1)))).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "a stale version: {}", stale.text());
    let r = app.send(api("POST", &path, &t, Some(to("accepted", "", 2)))).await;
    assert_eq!(r.json()["status"], "accepted");

    // A material change: the amendment supersedes it, which keeps its history.
    let mut changed = declaration(&maker, &["Voltra EX Touring", "Voltra EX Sport"]);
    changed["general_authorization"] = json!("GA 1");
    let amendment = json!({"declaration": changed, "reason": "A trim added for the 2027 season"});
    let r = app.send(api("POST", &format!("/api/v1/declarations/{id}/amendments"), &t, Some(amendment.clone()))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let second = r.json();
    assert_eq!(second["amends"].as_str(), Some(id.as_str()));
    assert_eq!(second["status"], "received");
    let old = app.send(api("GET", &format!("/api/v1/declarations/{id}"), &t, None)).await.json();
    assert_eq!(old["declaration"]["status"], "superseded");
    assert_eq!(old["declaration"]["superseded_by"], second["id"]);
    let history: Vec<&str> =
        old["history"].as_array().unwrap().iter().map(|h| h["status_after"].as_str().unwrap()).collect();
    assert_eq!(history, ["received", "under_review", "accepted", "superseded"]);
    // Superseded once: amending it again is refused, and so is moving it.
    let r = app.send(api("POST", &format!("/api/v1/declarations/{id}/amendments"), &t, Some(amendment))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app.send(api("POST", &path, &t, Some(to("under_review", "again", 4)))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // An amendment keeps the filer, kind and year.
    let other_year = json!({"declaration": {"filer_id": maker, "kind": "completed_vehicle", "model_year": 2028,
        "covers": ["Voltra EX"], "certifications": ["c"]}, "reason": "r"});
    let sid = second["id"].as_str().unwrap();
    let r = app.send(api("POST", &format!("/api/v1/declarations/{sid}/amendments"), &t, Some(other_year))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    // Every act is in the audit chain.
    assert_eq!(app.events("declaration.filed").await.len(), 2);
    assert_eq!(app.events("declaration.status_changed").await.len(), 2);
    assert_eq!(app.events("declaration.superseded").await.len(), 1);
    assert_eq!(app.events("party.filer_role_recorded").await.len(), 1);
    assert_eq!(app.count("declarations").await, 2);
}

#[tokio::test]
async fn bad_declarations_are_named_by_field_and_write_nothing_and_roles_limit_who_acts() {
    let app = TestApp::new().await;
    let t = app.token(&app.user("analyst").await).await;
    let importer = party(&app, &t, "Shenzhen Telematics Co.", "CN").await;
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/parties/{importer}/filer-roles"),
            &t,
            Some(json!({"role": "hardware_importer"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let bad = json!({"filer_id": importer, "kind": "spaceship", "model_year": 2027, "calendar_year": 2029,
        "covers": [], "certifications": [" "], "filed_on": "2999-01-01"});
    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(bad))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&r.json()), ["kind", "calendar_year", "covers", "certifications", "filed_on"]);
    // Hardware without a model year is declared by calendar year.
    let hw = json!({"filer_id": importer, "kind": "hardware", "calendar_year": 2029,
        "covers": ["TCU-4G-2231", "TCU-5G-0100"], "certifications": ["Not designed by a PRC-controlled firm"]});
    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(hw.clone()))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(app.count("declarations").await, 1);
    assert_eq!(app.count("declaration_history").await, 1);

    // Auditors read and do not file; administrators see no filings.
    let auditor = app.token(&app.user("auditor").await).await;
    let l = app.send(api("GET", "/api/v1/declarations", &auditor, None)).await;
    assert_eq!(l.status, StatusCode::OK);
    assert_eq!(l.json()["declarations"].as_array().unwrap().len(), 1);
    let r = app.send(api("POST", "/api/v1/declarations", &auditor, Some(hw))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let admin = app.token(&app.user("admin").await).await;
    assert_eq!(app.send(api("GET", "/api/v1/declarations", &admin, None)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_pages_receive_review_and_amend_a_declaration_and_a_refresh_repeats_nothing() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let t = app.token(&analyst).await;
    let maker = party(&app, &t, "Northbeam Automotive Inc.", "US").await;
    let s = app.sign_in(&analyst).await;

    // The party's page records the filer role.
    let r = app
        .send(s.post(&format!("/parties/{maker}/filer-roles"), &[("role", "vehicle_manufacturer"), ("since", "")]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    let page = app.send(s.get(&format!("/parties/{maker}"))).await.text();
    assert!(page.contains("Connected-vehicle manufacturer"), "{page}");

    // A form with errors comes back at 422 with its summary, and writes nothing.
    let bad = [
        ("filer_id", maker.as_str()),
        ("kind", "software"),
        ("model_year", "MY27"),
        ("covers", ""),
        ("certifications", ""),
    ];
    let r = app.send(s.post("/declarations", &bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.text().contains("data-testid=\"error-summary\""));
    assert_eq!(app.count("declarations").await, 0);

    let good = [
        ("filer_id", maker.as_str()),
        ("kind", "software"),
        ("model_year", "2027"),
        ("covers", "Northbeam Aria LX\nNorthbeam Aria Base"),
        ("certifications", "No covered software from a PRC- or Russia-linked developer"),
        ("general_authorization", ""),
        ("filed_on", ""),
    ];
    let r = app.send(s.post("/declarations", &good)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    let at = r.header("location").unwrap();
    assert!(at.starts_with("/declarations/"), "{at}");
    assert_eq!(app.count("declarations").await, 1);
    let shown = app.send(s.get(&at)).await.text();
    assert!(shown.contains("Northbeam Aria LX") && shown.contains("Covered software, MY2027"), "{shown}");
    // Loading the page again files nothing.
    app.send(s.get(&at)).await;
    assert_eq!(app.count("declarations").await, 1);

    let r = app
        .send(s.post(&format!("{at}/status"), &[("status", "under_review"), ("reason", ""), ("version", "1")]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    let r = app
        .send(s.post(&format!("{at}/status"), &[("status", "under_review"), ("reason", ""), ("version", "1")]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a re-post of a stale form is refused");
    let r = app
        .send(s.post(
            &format!("{at}/amendment"),
            &[
                ("filer_id", maker.as_str()),
                ("kind", "software"),
                ("model_year", "2027"),
                ("calendar_year", ""),
                ("covers", "Northbeam Aria LX"),
                ("certifications", "No covered software from a PRC- or Russia-linked developer"),
                ("general_authorization", ""),
                ("filed_on", ""),
                ("reason", "The base trim is withdrawn from the 2027 season"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    let amended = app.send(s.get(&r.header("location").unwrap())).await.text();
    assert!(amended.contains("data-testid=\"amends\""), "{amended}");
    let old = app.send(s.get(&at)).await.text();
    assert!(old.contains("data-testid=\"superseded-by\"") && old.contains("Superseded"), "{old}");
    let list = app.send(s.get("/declarations?status=superseded")).await.text();
    assert!(list.contains("1 declaration"), "{list}");
}

#[tokio::test]
async fn after_the_date_the_office_set_a_filer_without_a_declaration_is_missing_and_a_later_one_is_late() {
    let app = TestApp::new().await;
    let t = app.token(&app.user("analyst").await).await;
    let admin = app.token(&app.user("admin").await).await;
    let early = party(&app, &t, "Early Motors Inc.", "US").await;
    let tardy = party(&app, &t, "Tardy Motors Inc.", "US").await;
    let silent = party(&app, &t, "Silent Motors Inc.", "US").await;
    let newcomer = party(&app, &t, "Newcomer Motors Inc.", "US").await;
    for (p, since) in
        [(&early, Some("2025-06-01")), (&tardy, Some("2025-06-01")), (&silent, Some("2025-06-01")), (&newcomer, None)]
    {
        let role = json!({"role": "vehicle_manufacturer", "since": since});
        let r = app.send(api("POST", &format!("/api/v1/parties/{p}/filer-roles"), &t, Some(role))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let mut on_time = declaration(&early, &["Early E1"]);
    on_time["filed_on"] = json!("2026-01-15");
    assert_eq!(app.send(api("POST", "/api/v1/declarations", &t, Some(on_time))).await.status, StatusCode::CREATED);
    let mut late = declaration(&tardy, &["Tardy T1"]);
    late["filed_on"] = json!("2026-02-10");
    assert_eq!(app.send(api("POST", "/api/v1/declarations", &t, Some(late))).await.status, StatusCode::CREATED);
    // No date set: nobody is missing, nothing is late.
    let m = app.send(api("GET", "/api/v1/declarations/missing", &t, None)).await.json();
    assert!(m.as_array().unwrap().is_empty(), "{m}");

    // Only an administrator sets the date, and a bad one is named.
    let due = json!({"due_on": "2026-02-01", "note": "Before the first 2027 sales"});
    let r = app.send(api("PUT", "/api/v1/declarations/due-dates/2027", &t, Some(due.clone()))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(api("PUT", "/api/v1/declarations/due-dates/1999", &admin, Some(json!({"due_on": "soon"})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&r.json()), ["year", "due_on"]);
    let r = app.send(api("PUT", "/api/v1/declarations/due-dates/2027", &admin, Some(due))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.events("reference.updated").await.len(), 1);

    // The date has passed: the filer in its role by then with nothing filed is missing (the
    // newcomer took up its role after it), and the declaration filed after it is late.
    let m = app.send(api("GET", "/api/v1/declarations/missing", &t, None)).await.json();
    let names: Vec<&str> = m.as_array().unwrap().iter().map(|x| x["filer_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Silent Motors Inc."], "{m}");
    assert_eq!(m[0]["due_on"], "2026-02-01");
    let l = app.send(api("GET", "/api/v1/declarations?year=2027", &t, None)).await.json();
    let late: Vec<(&str, bool)> = l["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["filer_name"].as_str().unwrap(), d["late"].as_bool().unwrap()))
        .collect();
    assert_eq!(late, [("Tardy Motors Inc.", true), ("Early Motors Inc.", false)]);

    // The list page says so too.
    let s = app.sign_in(&app.user("supervisor").await).await;
    let page = app.send(s.get("/declarations")).await.text();
    assert!(page.contains("Expected but missing: 1") && page.contains("Silent Motors Inc."), "{page}");
    assert_eq!(page.matches("data-testid=\"late\"").count(), 1);
    // And the supervisor's home page counts the work.
    let home = app.send(s.get("/")).await.text();
    assert!(home.contains("data-testid=\"filings-missing\">1 expected but missing</a> · 1 filed late"), "{home}");
    assert!(home.contains("data-testid=\"filings-received\">2 received</a>"), "{home}");
}

fn upload(s: &crate::harness::BrowserSession, csv: &str) -> axum::http::Request<axum::body::Body> {
    let boundary = "DeclBoundary42";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"season.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    axum::http::Request::post(format!("/declarations/import?csrf_token={}", s.csrf))
        .header("cookie", &s.cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_file_of_declarations_is_received_whole_or_lists_every_rows_problems_and_writes_nothing() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let t = app.token(&analyst).await;
    let maker = party(&app, &t, "Voltra Motors LLC", "US").await;
    let importer = party(&app, &t, "Harbin Connected Modules", "CN").await;
    let plain = party(&app, &t, "No Role Holdings", "US").await;
    for (p, role) in [(&maker, "vehicle_manufacturer"), (&importer, "hardware_importer")] {
        let r =
            app.send(api("POST", &format!("/api/v1/parties/{p}/filer-roles"), &t, Some(json!({"role": role})))).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let existing = declaration(&maker, &["Voltra EX"]);
    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(existing))).await;
    let in_force = r.json()["number"].as_str().unwrap().to_string();
    let s = app.sign_in(&analyst).await;
    let header = "filer,kind,model_year,calendar_year,covers,certifications,general_authorization,filed_on";

    // Every row's problems at once, by line and column; nothing received.
    let bad = format!(
        "{header}\n\
         Voltra Motors LLC,completed_vehicle,2027,,Voltra GT,certified,,\n\
         Nobody Inc.,hardware,2027,,P-1,certified,,\n\
         {plain},hardware,2027,,P-2,certified,,\n\
         harbin connected modules,hardware,MY27,,P-3,certified,,\n\
         Harbin Connected Modules,hardware,2028,,P-4;P-5,certified,,\n\
         {importer},hardware,2028,,P-6,certified,,\n\
         Harbin Connected Modules,boat,2028,,,,,2999-01-01\n"
    );
    let r = app.send(upload(&s, &bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let page = r.text();
    let rows: Vec<String> = page
        .split("<tr><td>")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("</td><td>").take(2).collect();
            format!("{}:{}", cells[0], cells[1])
        })
        .collect();
    assert_eq!(
        rows,
        [
            "2:filer",
            "3:filer",
            "4:filer",
            "5:model_year",
            "7:filer",
            "8:kind",
            "8:covers",
            "8:certifications",
            "8:filed_on"
        ],
        "{page}"
    );
    assert!(page.contains(&in_force), "the declaration in force is named: {page}");
    assert_eq!(app.count("declarations").await, 1);

    // A good file is received whole, each declaration numbered and audited.
    let good = format!(
        "{header}\n\
         harbin connected modules,hardware,,2027,TCU-1;TCU-2,Not designed by a PRC-controlled firm,,\n\
         {importer},hardware,2028,,TCU-3,Not designed by a PRC-controlled firm|Due diligence done,GA 2,2026-02-01\n"
    );
    let r = app.send(upload(&s, &good)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert_eq!(r.header("location").as_deref(), Some("/declarations?status=received"));
    assert_eq!(app.count("declarations").await, 3);
    assert_eq!(app.events("declaration.filed").await.len(), 3);
    // Each with its "received" history, numbered in the file's order.
    let history: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT d.number, h.status_before, h.status_after FROM declaration_history h \
         JOIN declarations d ON d.id = h.declaration_id WHERE d.via = 'bulk' ORDER BY h.seq",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history.iter().all(|(_, before, after)| before.is_none() && after == "received"), "{history:?}");
    assert!(history[0].0 < history[1].0, "{history:?}");
    let l = app.send(api("GET", &format!("/api/v1/declarations?filer={importer}"), &t, None)).await.json();
    let got: Vec<(Value, Value, Value)> = l["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["calendar_year"].clone(), d["via"].clone(), d["certifications"].clone()))
        .collect();
    assert_eq!(got.len(), 2, "{l}");
    assert!(got.contains(&(json!(2027), json!("bulk"), json!(["Not designed by a PRC-controlled firm"]))), "{l}");
    assert!(got.iter().any(|g| g.2 == json!(["Not designed by a PRC-controlled firm", "Due diligence done"])), "{l}");
    // The template reads back as a file with the columns.
    let tpl = app.send(s.get("/declarations/import/template.csv")).await;
    assert!(tpl.text().starts_with(header), "{}", tpl.text());
}

#[tokio::test]
async fn questions_to_a_filer_are_tracked_until_answered_and_the_review_resumes() {
    let app = TestApp::new().await;
    let t = app.token(&app.user("analyst").await).await;
    let maker = party(&app, &t, "Northbeam Automotive Inc.", "US").await;
    let roles = json!({"role": "vehicle_manufacturer", "since": "2024-03-01"});
    app.send(api("POST", &format!("/api/v1/parties/{maker}/filer-roles"), &t, Some(roles))).await;
    let r = app.send(api("POST", "/api/v1/declarations", &t, Some(declaration(&maker, &["Northbeam LX"])))).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let ask = |q: &str, version: i64| {
        api(
            "POST",
            &format!("/api/v1/declarations/{id}/questions"),
            &t,
            Some(json!({"question": q, "version": version})),
        )
    };
    // Only a declaration under review is asked questions.
    let r = app.send(ask("Is General Authorization 1 relied on?", 1)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let step = json!({"status": "under_review", "reason": "", "version": 1});
    app.send(api("POST", &format!("/api/v1/declarations/{id}/status"), &t, Some(step))).await;
    let r = app.send(ask(" ", 2)).await;
    assert_eq!(fields(&r.json()), ["question"]);
    let r = app.send(ask("Is General Authorization 1 relied on for the test fleet?", 2)).await;
    assert_eq!(r.json()["status"], "questions_asked", "{}", r.text());
    let r = app.send(ask("Send the supplier due-diligence records for the telematics unit.", 3)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = app.send(api("GET", &format!("/api/v1/declarations/{id}"), &t, None)).await.json();
    let q = v["questions"].as_array().unwrap();
    assert_eq!(q.len(), 2, "{v}");
    assert!(q.iter().all(|q| q["answered_on"].is_null()));
    let (first, second) = (q[0]["seq"].as_i64().unwrap(), q[1]["seq"].as_i64().unwrap());
    let answer = |seq: i64, body: Value| {
        api("POST", &format!("/api/v1/declarations/{id}/questions/{seq}/answer"), &t, Some(body))
    };
    let r = app.send(answer(first, json!({"answer": "", "answered_on": "2999-01-01"}))).await;
    assert_eq!(fields(&r.json()), ["answer", "answered_on"]);
    let r = app.send(answer(first, json!({"answer": "Yes, for twelve test vehicles."}))).await;
    assert_eq!(r.json()["status"], "questions_asked", "one question is still open: {}", r.text());
    let again = app.send(answer(first, json!({"answer": "Again"}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(app.send(answer(9_999_999, json!({"answer": "x"}))).await.status, StatusCode::NOT_FOUND);
    let r = app.send(answer(second, json!({"answer": "Records attached to the portal filing."}))).await;
    assert_eq!(r.json()["status"], "under_review", "every question answered: {}", r.text());
    assert_eq!(app.events("declaration.question_asked").await.len(), 2);
    assert_eq!(app.events("declaration.question_answered").await.len(), 2);
    // The page shows the questions and their answers.
    let s = app.sign_in(&app.user("supervisor").await).await;
    let html = app.send(s.get(&format!("/declarations/{id}"))).await.text();
    assert!(html.contains("Yes, for twelve test vehicles.") && html.contains("due-diligence records"), "{html}");
    // The page's own forms: a question left empty is named; one asked answers 303 back to
    // the questions.
    let at = format!("/declarations/{id}/questions");
    let r = app.send(s.post(&at, &[("question", ""), ("asked_on", ""), ("version", "1")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("give the question"), "{}", r.text());
    let v = app.send(api("GET", &format!("/api/v1/declarations/{id}"), &t, None)).await.json();
    let version = v["declaration"]["version"].to_string();
    let r = app
        .send(s.post(&at, &[("question", "Which supplier made the gateway?"), ("asked_on", ""), ("version", &version)]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some(format!("/declarations/{id}#questions")));
}

#[tokio::test]
async fn with_more_filers_than_a_list_shows_the_forms_take_a_filers_name_and_suggest_near_ones() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let t = app.token(&analyst).await;
    let s = app.sign_in(&analyst).await;
    // A small office chooses its filer from a list.
    let first = party(&app, &t, "Granite Motors 0 Inc.", "US").await;
    let role = json!({"role": "vehicle_manufacturer", "since": "2025-03-17"});
    app.send(api("POST", &format!("/api/v1/parties/{first}/filer-roles"), &t, Some(role))).await;
    let page = app.send(s.get("/declarations")).await.text();
    assert!(page.contains(&format!("<option value=\"{first}\">Granite Motors 0 Inc.</option>")), "{page}");
    // Past a hundred filers, the form takes a name instead of listing them all.
    let listed = icts_review::declarations::service::FILERS_LISTED;
    sqlx::query(
        "INSERT INTO parties (id, legal_name, kind, country, created_at, updated_at) \
         SELECT gen_random_uuid(), 'Granite Motors ' || n || ' Inc.', 'company', 'US', now(), now() FROM generate_series(1, $1) n",
    )
    .bind(listed)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO filer_roles (party_id, role, since, recorded_at, recorded_by) \
         SELECT id, 'vehicle_manufacturer', '2025-03-17', now(), $1 FROM parties WHERE legal_name LIKE 'Granite Motors %' AND id <> $2",
    )
    .bind(analyst.id)
    .bind(uuid::Uuid::parse_str(&first).unwrap())
    .execute(&app.pool)
    .await
    .unwrap();
    let page = app.send(s.get("/declarations")).await.text();
    assert!(!page.contains("Granite Motors 0 Inc.</option>"), "no filer is listed: {page}");
    assert!(page.contains("the office has too many filers to list"), "{page}");
    let form = |filer: &str| {
        vec![
            ("filer_id", filer.to_string()),
            ("kind", "software".to_string()),
            ("model_year", "2027".to_string()),
            ("covers", "Granite Ridge 2027".to_string()),
            ("certifications", "No covered software from a PRC- or Russia-linked developer".to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        s.post("/declarations", &f)
    };
    // A name not quite right is refused, naming the filers whose names hold it, and nothing
    // is written.
    let r = app.send(post(form("Granite Motors 4"))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text();
    assert!(text.contains("no filer is named exactly") && text.contains("Granite Motors 4 Inc."), "{text}");
    assert_eq!(app.count("declarations").await, 0);
    let r = app.send(post(form("Nobody At All"))).await;
    assert!(r.text().contains("record the party&#39;s filer role on its page first"), "{}", r.text());
    // Its exact name, in any case, finds it; its id still does.
    let r = app.send(post(form("granite MOTORS 42 inc."))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.send(post(form(&first))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT p.legal_name FROM declarations d JOIN parties p ON p.id = d.filer_id ORDER BY d.received_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(names, ["Granite Motors 42 Inc.", "Granite Motors 0 Inc."]);
    // The applications' and opinions' forms take a name the same way.
    let page = app.send(s.get("/authorizations/new")).await.text();
    assert!(page.contains("the office has too many filers to list"), "{page}");
    let page = app.send(s.get("/opinions/new")).await.text();
    assert!(page.contains("the office has too many filers to list"), "{page}");
}

#[tokio::test]
async fn a_search_finds_the_same_declarations_whether_its_matches_are_few_or_many() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let t = app.token(&analyst).await;
    // More declarations covering a common part than a search reads through its indexes, each
    // of its own importer, every hundredth also covering a rare one; received an hour apart.
    let many = icts_review::declarations::db::SEARCH_PROBE as i64 + 150;
    sqlx::query(
        "WITH f AS (INSERT INTO parties (id, legal_name, kind, country, created_at, updated_at) \
           SELECT gen_random_uuid(), 'Harborline Imports ' || n || ' LLC', 'company', 'US', now(), now() \
           FROM generate_series(1, $1) n RETURNING id, legal_name) \
         INSERT INTO declarations (id, number, filer_id, kind, calendar_year, covers, certifications, filed_on, \
           received_at, received_by, via, updated_at) \
         SELECT gen_random_uuid(), 'CVD-T-' || lpad(n::text, 6, '0'), f.id, 'hardware', 2026, \
           CASE WHEN n % 100 = 0 THEN ARRAY['GW-COMMON', 'QX-RARE-' || n] ELSE ARRAY['GW-COMMON'] END, \
           ARRAY['No VCS hardware of a PRC- or Russia-linked supplier'], DATE '2026-01-01', \
           TIMESTAMPTZ '2026-01-01 00:00Z' + n * interval '1 hour', $2, 'api', now() \
         FROM f CROSS JOIN LATERAL (SELECT substring(f.legal_name from '[0-9]+')::int AS n) x",
    )
    .bind(many)
    .bind(analyst.id)
    .execute(&app.pool)
    .await
    .unwrap();
    let number = |v: &Value| v["number"].as_str().unwrap().to_string();
    let page = |q: &str, extra: &str| api("GET", &format!("/api/v1/declarations?q={q}&limit=40{extra}"), &t, None);
    // A rare part (few matches, read through the indexes and sorted): newest first.
    let r = app.send(page("QX-RARE", "")).await.json();
    let rare: Vec<String> = r["declarations"].as_array().unwrap().iter().map(number).collect();
    let expected: Vec<String> = (1..=many).rev().filter(|n| n % 100 == 0).map(|n| format!("CVD-T-{n:06}")).collect();
    assert_eq!(rare, expected[..expected.len().min(40)]);
    // A common part (more matches than the indexes' reading takes: the list walks its
    // order): newest first, pages that neither skip nor repeat, the same total either way.
    let mut seen = Vec::new();
    let mut r = app.send(page("gw-common", "")).await.json();
    loop {
        seen.extend(r["declarations"].as_array().unwrap().iter().map(number));
        let Some(next) = r["next"].as_str().map(str::to_string) else { break };
        if seen.len() >= 200 {
            break;
        }
        r = app.send(page("gw-common", &format!("&cursor={}", next.replace('~', "%7E")))).await.json();
    }
    let expected: Vec<String> = (1..=many).rev().take(seen.len()).map(|n| format!("CVD-T-{n:06}")).collect();
    assert_eq!(seen, expected);
    // A filer's name finds its declaration through the parties' index.
    let r = app.send(page("Harborline%20Imports%20777%20LLC", "")).await.json();
    assert_eq!(r["declarations"].as_array().unwrap().iter().map(number).collect::<Vec<_>>(), ["CVD-T-000777"]);
    // The list's page counts both kinds of search.
    let s = app.sign_in(&analyst).await;
    let html = app.send(s.get("/declarations?q=QX-RARE&limit=5")).await.text();
    assert!(html.contains(&format!("{} declarations", many / 100)), "{html}");
    // A common word alone is counted as far as the indexes read it; with another filter,
    // exactly.
    let probe = icts_review::db::thousands(icts_review::declarations::db::SEARCH_PROBE as i64);
    let html = app.send(s.get("/declarations?q=GW-COMMON&limit=5")).await.text();
    assert!(html.contains(&format!("more than {probe} declarations")), "{html}");
    let html = app.send(s.get("/declarations?q=GW-COMMON&year=2026&limit=5")).await.text();
    assert!(html.contains(&format!("{} declarations", icts_review::db::thousands(many))), "{html}");
}
