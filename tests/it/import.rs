//! Bulk intake from CSV: the upload page and the command line.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::harness::TestApp;

const HEADER: &str = "docket_number,title,summary,origin,referring_agency,category,adversaries,item,kind,status,initiated_on,value_usd,data_categories,supplier_name,supplier_country,counterparty_name,counterparty_country\n";

fn multipart(csrf: &str, cookie: &str, csv: &str) -> Request<Body> {
    let boundary = "XyZboundary123";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    Request::post(format!("/cases/import?csrf_token={csrf}"))
        .header("cookie", cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap()
}

/// Follows an accepted upload to its import's page and waits until the import has ended;
/// returns that page.
async fn finished(app: &TestApp, s: &crate::harness::BrowserSession, r: crate::harness::TestResponse) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let job = r.header("location").unwrap();
    assert!(job.starts_with("/cases/import/jobs/"), "{job}");
    for _ in 0..600 {
        let page = app.send(s.get(&job)).await;
        assert_eq!(page.status, StatusCode::OK);
        let page = page.text();
        if !page.contains("data-state=\"running\"") {
            assert!(page.contains("data-state=\"done\""), "{page}");
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not end within 30 s");
}

#[tokio::test]
async fn a_file_with_bad_rows_loads_nothing_and_names_every_problem() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let s = app.sign_in(&sup).await;
    let csv = format!(
        "{HEADER},Routers,s,own_initiative,,data_hosting,CN,Router X,acquisition,pending,2024-01-02,100,geolocation,Maker,CN,Telco,US\n\
         ,,s,agency_referral,,gardening,FR,,theft,pending,yesterday,lots,horoscope,Maker,,Telco,US\n\
         ICTS-1999-001,,,,,,,Router Y,use,ongoing,,,,,,,\n"
    );
    let before = (
        app.count("cases").await,
        app.count("transactions").await,
        app.count("parties").await,
        app.count("audit_events").await,
    );
    let r = app.send(multipart(&s.csrf, &s.cookie, &csv)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    for needle in [
        "<td>3</td><td>title</td>",
        "<td>3</td><td>referring_agency</td>",
        "<td>3</td><td>category</td>",
        "<td>3</td><td>adversaries</td>",
        "<td>3</td><td>item</td>",
        "<td>3</td><td>kind</td>",
        "<td>3</td><td>initiated_on</td>",
        "<td>3</td><td>value_usd</td>",
        "<td>3</td><td>data_categories</td>",
        "<td>3</td><td>supplier_country</td>",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(html.contains("nothing was loaded"));
    let after = (
        app.count("cases").await,
        app.count("transactions").await,
        app.count("parties").await,
        app.count("audit_events").await,
    );
    assert_eq!(before.0, after.0);
    assert_eq!(before.1, after.1);
    assert_eq!(before.2, after.2);
    // Rows that are fine alone but name a case that does not exist: still nothing loads.
    let csv = format!(
        "{HEADER},Routers,s,own_initiative,,data_hosting,CN,Router X,acquisition,pending,,,,Maker,CN,Telco,US\nICTS-1999-001,,,,,,,Router Y,use,ongoing,,,,,,,\n"
    );
    let r = app.send(multipart(&s.csrf, &s.cookie, &csv)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("no case ICTS-1999-001"));
    assert_eq!(app.count("cases").await, before.0, "all or nothing");
    // Not a text file.
    let r = app.send(multipart(&s.csrf, &s.cookie, "\u{0}\u{1}")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Without the CSRF token the upload is refused.
    let r = app.send(multipart("wrong", &s.cookie, &csv)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_clean_file_opens_cases_joins_existing_ones_and_audits_each() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let s = app.sign_in(&sup).await;
    let token = app.token(&sup).await;
    let existing = app
        .send(crate::harness::api("POST", "/api/v1/cases", &token, Some(serde_json::json!({
            "title": "Existing", "summary": "s", "origin": "own_initiative", "category": "data_hosting", "adversaries": ["CN"], "restricted": false
        }))))
        .await
        .json();
    let docket = existing["docket_number"].as_str().unwrap();
    let csv = format!(
        "{HEADER},Routers for carrier A,Remote updates,agency_referral,DHS,network_infrastructure,CN,Router X,acquisition,ongoing,2024-01-02,1000,geolocation;biometric,Shenzhen Router Works,CN,Carrier A,US\n\
         ,Routers for carrier B,Remote updates,own_initiative,,network_infrastructure,CN,Router X,acquisition,ongoing,,,,Shenzhen Router Works,CN,Carrier B,US\n\
         {docket},,,,,,,Cloud hosting,use,ongoing,,,,Hosting Co,HK,Carrier A,US\n"
    );
    let r = app.send(multipart(&s.csrf, &s.cookie, &csv)).await;
    let page = finished(&app, &s, r).await;
    assert!(page.contains("2 cases opened, 1 cases joined, 4 parties registered"), "{page}");
    assert_eq!(app.count("transactions").await, 3);
    assert_eq!(app.events("case.created").await.len(), 3);
    assert_eq!(app.events("case.transactions_imported").await.len(), 1);
    assert_eq!(app.events("import.completed").await.len(), 1);
    assert!(
        matches!(icts_review::audit::verify(&app.pool).await.unwrap(), icts_review::audit::Verdict::Ok { .. }),
        "bulk events keep the chain"
    );
    // Imported cases are searchable by party name, the joined one too.
    let found = app.send(crate::harness::api("GET", "/api/v1/cases?q=Shenzhen", &token, None)).await.json();
    assert_eq!(found["items"].as_array().unwrap().len(), 2);
    let found = app.send(crate::harness::api("GET", "/api/v1/cases?q=Hosting", &token, None)).await.json();
    assert_eq!(found["items"][0]["docket_number"], docket);
    // Docket numbers continue without gaps.
    let year = app.state.now().year();
    let dockets: Vec<String> = sqlx::query_scalar("SELECT docket_number FROM cases ORDER BY docket_number")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(dockets, (1..=3).map(|n| format!("ICTS-{year}-{n:03}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_command_line_import_reports_rows_and_columns() {
    let app = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{HEADER},T,s,own_initiative,,data_hosting,CN,X,theft,pending,,,,,,,\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["import", "transactions", bad.to_str().unwrap()])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2, column kind"), "{err}");
    assert!(err.contains("nothing was loaded"));
    let good = dir.path().join("good.csv");
    std::fs::write(&good, format!("{HEADER},T,s,own_initiative,,data_hosting,CN,X,use,pending,,,,Maker,CN,,\n"))
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["import", "transactions", good.to_str().unwrap()])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("loaded 1 rows: 1 cases opened"));
    assert_eq!(app.count("cases").await, 1);
}

#[tokio::test]
async fn imported_cases_get_a_preliminary_triage_score_that_orders_the_queue() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let token = app.token(&sup).await;
    let s = app.sign_in(&sup).await;
    let ctx = icts_review::audit::AuditContext::default();
    icts_review::parties::screening_service::import_list(
        &mut app.state.conn().await.unwrap(),
        app.state.now(),
        &ctx,
        None,
        "csl.csv",
        icts_review::parties::screening_service::SAMPLE_LIST.as_bytes(),
        app.state.screening.threshold,
    )
    .await
    .unwrap();
    let header = "title,summary,origin,category,adversaries,item,kind,status,us_persons_affected,data_categories,supplier_name,supplier_country\n";
    let csv = format!(
        "{header}Quiet drones,s,own_initiative,emerging_technology,CN,Drone X,acquisition,pending,,,Small Drone Maker,CN\n\
         Carrier core network,s,own_initiative,network_infrastructure,CN;RU,Core router,installation,ongoing,2000000,geolocation;biometric,Huawei Technologies Co Ltd,CN\n"
    );
    let r = app.send(multipart(&s.csrf, &s.cookie, &csv)).await;
    finished(&app, &s, r).await;
    let scores: Vec<(String, Option<i32>)> =
        sqlx::query_as("SELECT title, preliminary_score FROM cases ORDER BY title").fetch_all(&app.pool).await.unwrap();
    assert_eq!(scores, [("Carrier core network".to_string(), Some(100)), ("Quiet drones".to_string(), Some(25))]);
    // The Huawei party was screened on the way in.
    let hits: i64 = sqlx::query_scalar("SELECT count(*) FROM screening_hits").fetch_one(&app.pool).await.unwrap();
    assert_eq!(hits, 1);
    let queue = app
        .send(crate::harness::api("GET", "/api/v1/cases?assignee=unassigned&sort=triage", &token, None))
        .await
        .json();
    assert_eq!(queue["items"][0]["title"], "Carrier core network");
    assert_eq!(queue["items"][0]["preliminary_score"], 100);
    let dashboard = app.send(s.get("/")).await.text();
    assert!(dashboard.contains("Preliminary triage score 100 (not an assessment)"));
}

#[tokio::test]
async fn a_control_character_in_a_cell_is_named_with_its_row_and_column() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let s = app.sign_in(&sup).await;
    let csv = format!(
        "{HEADER},Routers,s,own_initiative,,data_hosting,CN,Router\u{0}X,acquisition,pending,2024-01-02,100,geolocation,Maker,CN,Telco,US\n"
    );
    let before = (app.count("cases").await, app.count("audit_events").await);
    let r = app.send(multipart(&s.csrf, &s.cookie, &csv)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("control characters"), "{html}");
    assert!(html.contains("item"), "the column is named");
    assert_eq!((app.count("cases").await, app.count("audit_events").await), before, "nothing written");
}

#[tokio::test]
async fn one_pass_reports_unknown_and_missing_columns_bad_rows_and_unknown_cases_and_the_template_imports() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let s = app.sign_in(&sup).await;
    // The page teaches the columns and offers a template.
    let page = app.send(s.get("/cases/import")).await.text();
    assert!(page.contains("data-testid=\"import-template\""), "{page}");
    assert!(page.contains("<td><code>adversaries</code></td><td>for a new case</td>"), "{page}");
    assert!(!page.contains("docs/IMPORT.md"), "the help is on the page");

    // An unknown column, a missing one, a bad row and a case that does not exist: all at once.
    let csv = "colour,docket_number,title,summary,origin,category,adversaries,item,status\n\
               blue,,Routers,s,own_initiative,data_hosting,CN,Router X,pending\n\
               red,,,s,own_initiative,gardening,CN,Router Y,pending\n\
               green,ICTS-1999-001,,,,,,Router Z,ongoing\n";
    let events = app.count("audit_events").await;
    let r = app.send(multipart(&s.csrf, &s.cookie, csv)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    for needle in [
        "<td>1</td><td>colour</td><td>unknown column",
        "<td>1</td><td>kind</td><td>required column is missing from the header",
        "<td>3</td><td>title</td>",
        "<td>3</td><td>category</td>",
        "<td>4</td><td>docket_number</td><td>no case ICTS-1999-001 exists",
    ] {
        assert!(html.contains(needle), "missing {needle} in {html}");
    }
    assert!(!html.contains("<td>2</td><td>kind</td>"), "a missing column is named once, not on every row");
    assert_eq!(app.count("audit_events").await, events, "nothing is written");

    // The template, as downloaded, is a file that imports.
    let r = app.send(s.get("/cases/import/template.csv")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.header("content-disposition").unwrap().contains("icts-import-template.csv"));
    let template = r.text();
    assert!(template.starts_with("docket_number,title,summary,origin,"), "{template}");
    let cases = app.count("cases").await;
    let r = app.send(multipart(&s.csrf, &s.cookie, &template)).await;
    let page = finished(&app, &s, r).await;
    assert!(page.contains("1 cases opened"), "{page}");
    assert_eq!(app.count("cases").await, cases + 1);
}

/// A long import runs in the background: the upload answers at once with the import's
/// page, which shows a progress bar that a script keeps up to date while it runs, then what it did; the
/// import page lists it, so it can be left and come back to. One that stopped with its
/// process is shown as stopped, nothing of it kept.
#[tokio::test]
async fn an_import_runs_in_the_background_with_a_page_that_shows_its_progress_and_then_its_result() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let s = app.sign_in(&sup).await;
    let mut csv = String::from(HEADER);
    for i in 0..400 {
        csv.push_str(&format!(
            ",Routers for carrier {i},Remote updates,own_initiative,,network_infrastructure,CN,Router X,acquisition,ongoing,,,,Shenzhen Router Works,CN,Carrier {i},US\n"
        ));
    }
    let cases = app.count("cases").await;
    let r = app.send(multipart(&s.csrf, &s.cookie, &csv)).await;
    let job = r.header("location").unwrap_or_default();
    let page = finished(&app, &s, r).await;
    assert!(page.contains("Loaded 400 rows") && page.contains("400 cases opened"), "{page}");
    assert!(page.contains("rows.csv"), "the page names the file");
    assert_eq!(app.count("cases").await, cases + 400);
    let id: uuid::Uuid = job.rsplit('/').next().unwrap().parse().unwrap();
    let (done, rows): (i64, i64) =
        sqlx::query_as("SELECT done, rows FROM import_jobs WHERE id = $1").bind(id).fetch_one(&app.pool).await.unwrap();
    assert_eq!((done, rows), (400, 400));
    let list = app.send(s.get("/cases/import")).await.text();
    assert!(
        list.contains("data-testid=\"import-jobs\"") && list.contains(&job) && list.contains("400 rows loaded"),
        "{list}"
    );

    // While an import runs, its page shows a bar and reloads itself; it says it may be left.
    let now = icts_review::clock::Clock::now(&app.clock);
    let running = uuid::Uuid::now_v7();
    sqlx::query(
        "INSERT INTO import_jobs (id, created_by, created_at, file_name, rows, done, status, heartbeat_at) \
         VALUES ($1, $2, $3, 'big.csv', 1000, 250, 'running', $3)",
    )
    .bind(running)
    .bind(sup.id.0)
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();
    let page = app.send(s.get(&format!("/cases/import/jobs/{running}"))).await.text();
    assert!(page.contains("<script src=\"/static/import-progress.js?v="), "{page}");
    assert!(page.contains("max=\"1000\" value=\"250\"") && page.contains("250 of 1000 rows (25 %)"), "{page}");
    assert!(page.contains("You can leave this page") && page.contains("data-testid=\"check-again\""));
    let script = app.get("/static/import-progress.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.text().contains("[data-testid=import-job]"));
    // Without a heartbeat for longer than the limit, it stopped: no updating, nothing kept.
    app.clock.advance(time::Duration::seconds(61));
    let s = app.sign_in(&sup).await;
    let page = app.send(s.get(&format!("/cases/import/jobs/{running}"))).await.text();
    assert!(page.contains("data-state=\"stopped\"") && !page.contains("import-progress.js"), "{page}");
    // Another role does not reach the page; an unknown import is not found.
    let analyst = app.user("analyst").await;
    let a = app.sign_in(&analyst).await;
    assert_eq!(app.send(a.get(&format!("/cases/import/jobs/{running}"))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.send(s.get(&format!("/cases/import/jobs/{}", uuid::Uuid::now_v7()))).await.status,
        StatusCode::NOT_FOUND
    );
}
