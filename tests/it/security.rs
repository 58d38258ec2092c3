//! Security regressions, one test per finding of the outside attack: the sign-in throttle
//! under concurrency, lockout as a weapon, open redirects, 5xx from control characters and
//! out-of-range cursors, four-eyes on the case's filer, document downloads' own headers.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::determinations::{Office, content, draft, reauth};
use crate::harness::{TestApp, TestResponse, TestUser, api, form};

/// `POST /api/v1/auth/token` as if from `addr`.
fn token_request(addr: &str, email: &str, password: &str) -> Request<Body> {
    let mut r = Request::post("/api/v1/auth/token")
        .header("content-type", "application/json")
        .body(Body::from(json!({"email": email, "password": password}).to_string()))
        .unwrap();
    let addr: SocketAddr = format!("{addr}:40000").parse().unwrap();
    r.extensions_mut().insert(ConnectInfo(addr));
    r
}

async fn reasons(app: &TestApp, user: &TestUser) -> Vec<String> {
    app.events("auth.sign_in")
        .await
        .into_iter()
        .filter(|e| e["object_id"] == json!(user.id.to_string()))
        .filter_map(|e| e["changes"]["reason"].as_str().map(String::from))
        .collect()
}

async fn locked_until(app: &TestApp, user: &TestUser) -> Option<time::OffsetDateTime> {
    sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1").bind(user.id).fetch_one(&app.pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_address_sign_in_throttle_is_bypassed_by_concurrency() {
    let app = TestApp::new().await;
    let user = app.user("supervisor").await;
    // Sixty wrong passwords at once from one new address.
    let answers: Vec<TestResponse> = futures_util::future::join_all(
        (0..60).map(|_| app.send(token_request("10.9.0.1", &user.email, "a wrong guess at the passphrase"))),
    )
    .await;
    let count = |s: StatusCode| answers.iter().filter(|r| r.status == s).count();
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 30, "all but the address's 30 attempts are throttled");
    assert_eq!(count(StatusCode::UNAUTHORIZED), 30);
    let r = reasons(&app, &user).await;
    let checked = r.iter().filter(|r| *r == "wrong_password").count();
    assert_eq!(checked, 3, "only the account's three attempts reach the password check: {r:?}");
    assert_eq!(app.events("auth.lockout").await.len(), 1, "locked once");
    let throttled =
        app.events("auth.sign_in").await.into_iter().filter(|e| e["changes"]["reason"] == "address_throttled");
    assert_eq!(throttled.count(), 1, "the throttled ones are one event, not thirty");

    // The lock holds against the right password from another new address, and further
    // attempts do not extend it.
    let until = locked_until(&app, &user).await.expect("locked");
    app.clock.advance(time::Duration::hours(1));
    let r = app.send(token_request("10.9.0.2", &user.email, &user.password)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for _ in 0..5 {
        app.send(token_request("10.9.0.3", &user.email, "another wrong guess at it")).await;
    }
    assert_eq!(locked_until(&app, &user).await, Some(until), "attempts against a locked account do not extend it");
    app.clock.advance(time::Duration::hours(2) + time::Duration::minutes(1));
    let r = app.send(token_request("10.9.0.2", &user.email, &user.password)).await;
    assert_eq!(r.status, StatusCode::CREATED, "the lock ends when it said: {}", r.text());
}

#[tokio::test]
async fn anyone_who_knows_an_email_can_lock_that_account() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let user = app.user("supervisor").await;
    // The supervisor signs in at their desk.
    assert_eq!(app.send(token_request("10.1.1.1", &user.email, &user.password)).await.status, StatusCode::CREATED);
    // Someone elsewhere guesses three times: the account is locked for new addresses …
    for _ in 0..3 {
        let r = app.send(token_request("198.51.100.7", &user.email, "guessing from far away")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert!(locked_until(&app, &user).await.is_some());
    let r = app.send(token_request("198.51.100.8", &user.email, &user.password)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "not from a new address, even with the right password");
    // … but not from the desk.
    let r = app.send(token_request("10.1.1.1", &user.email, &user.password)).await;
    assert_eq!(r.status, StatusCode::CREATED, "the owner still signs in where they did before: {}", r.text());
    // Guessing from the desk's address is counted there: after three failures the desk
    // is an address like any other, and the account's own count locks it for it too.
    app.send(token_request("198.51.100.7", &user.email, "guessing from far away")).await;
    for _ in 0..3 {
        app.send(token_request("10.1.1.1", &user.email, "guessing at the desk")).await;
    }
    let lockouts = app.events("auth.lockout").await;
    assert!(lockouts.iter().any(|e| e["changes"]["scope"] == "known_address"), "{lockouts:?}");
    for _ in 0..2 {
        app.send(token_request("10.1.1.1", &user.email, "guessing at the desk")).await;
    }
    let r = app.send(token_request("10.1.1.1", &user.email, &user.password)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "guessing at the desk locks it there too");
    // The admins see who was locked and from where.
    let lockouts = app.events("auth.lockout").await;
    assert!(lockouts.iter().any(|e| e["changes"]["locked_from"] == "198.51.100.7"), "{lockouts:?}");
    let s = app.sign_in(&admin).await;
    let page = app.send(s.get(&format!("/admin/users/{}", user.id))).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    let lock = &text[text.find("data-testid=\"lock\"").expect("the lock is shown")..];
    assert!(
        lock[..lock.find("</dd>").unwrap()].contains("10.1.1.1"),
        "the account page names where the lock came from"
    );
}

/// What `GET /sign-in?next=…` and `POST /sign-in` do with `next`.
#[tokio::test]
async fn open_redirect_through_next() {
    let app = TestApp::new().await;
    let user = app.user("analyst").await;
    let payloads = [
        "/\t/evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "https:evil.example",
        "https://evil.example/",
        "/%09/evil.example",
        "/%5C%5Cevil.example",
        "/x\r\nSet-Cookie: icts=1",
        "/x%0d%0aSet-Cookie:%20icts=1",
    ];
    for next in payloads {
        let body = form(&[("email", &user.email), ("password", &user.password), ("next", next)]);
        let r = app
            .send(
                Request::post("/sign-in")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.text());
        assert_eq!(r.header("location").as_deref(), Some("/"), "{next:?} stays on the site");
        assert!(r.header("set-cookie").is_some_and(|c| !c.contains("icts=1")), "{next:?}");
    }
    // Signed in already, the sign-in page sends the user on: to the site only.
    let s = app.sign_in(&user).await;
    let enc = |p: &str| url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>();
    for next in payloads {
        let r = app.send(s.get(&format!("/sign-in?next={}", enc(next)))).await;
        assert!(r.status.is_redirection(), "{next:?}: {}", r.status);
        assert_eq!(r.header("location").as_deref(), Some("/"), "{next:?}");
    }
    let r = app.send(s.get("/sign-in?next=%2Fcases%3Fstage%3Dinitial_review")).await;
    assert_eq!(r.header("location").as_deref(), Some("/cases?stage=initial_review"), "a path on the site is kept");
    // The re-authentication form keeps only site paths too.
    let page = app.send(s.get(&format!("/account/reauth?next={}", enc("/\t/evil.example/x")))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains("evil.example"), "the form does not carry it on");
}

#[tokio::test]
async fn control_characters_and_out_of_range_cursors_gave_500() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let notes = app.count("case_notes").await;
    let r = app.send(api("POST", &format!("/api/v1/cases/{id}/notes"), &o.ta, Some(json!({"body": "a\u{0}b"})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["field"], "body");
    assert!(r.json()["errors"][0]["message"].as_str().unwrap().contains("control characters"));
    assert_eq!(app.count("case_notes").await, notes, "nothing written");
    // Nested fields are named by their path.
    let r = app
        .send(api(
            "POST",
            "/api/v1/cases",
            &o.ta,
            Some(json!({"title": "Ok", "summary": "Ok", "origin": "own_initiative", "category": "connected_devices",
                "adversaries": ["CN", "R\u{1b}U"], "restricted": false})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["field"], "adversaries[1]");
    // Tabs and line breaks are text.
    let r = app
        .send(api("POST", &format!("/api/v1/cases/{id}/notes"), &o.ta, Some(json!({"body": "line\r\n\tindented"}))))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Search and cursors.
    for (path, field) in [
        ("/api/v1/cases?q=a%00b", "q"),
        ("/api/v1/parties?q=%00", "q"),
        ("/api/v1/cases?sort=docket&cursor=ICTS-2026-3000000000~5f0c4f6e-6b7c-4a3c-9d61-2f0e3a1b4c5d", "cursor"),
        ("/api/v1/cases?sort=docket&cursor=ICTS-0-1~5f0c4f6e-6b7c-4a3c-9d61-2f0e3a1b4c5d", "cursor"),
        ("/api/v1/cases?cursor=0000-01-01T00:00:00Z~5f0c4f6e-6b7c-4a3c-9d61-2f0e3a1b4c5d", "cursor"),
    ] {
        let r = app.send(api("GET", path, &o.ta, None)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.text());
        assert_eq!(r.json()["errors"][0]["field"], field, "{path}");
    }
    // The page forms too: a NUL in a note posted from the case page.
    let s = app.sign_in(&o.analyst).await;
    let r = app.send(s.post(&format!("/cases/{id}/notes"), &[("body", "a\u{0}b")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("control characters"));
    let r = app.send(s.get("/cases?q=%00")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn four_eyes_narrower_than_promised() {
    let base = Office::new().await;
    // A supervisor files the case (in the analyst's place); another supervisor drafts.
    let filer = base.app.user("supervisor").await;
    let tf = base.app.token(&filer).await;
    let o = Office { ta: tf.clone(), analyst: filer, ..base };
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let body = content(app, &o.ts2, &id, "initial", "prohibition").await;
    let r = draft(app, &o.ts2, &id, "initial", "prohibition", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ts2, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The filer may not sign it …
    reauth(app, &tf, &o.analyst).await;
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/sign"), &tf, None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("case they filed"), "{}", r.text());
    // … nor can the database be made to take it.
    let e = sqlx::query(
        "UPDATE determinations SET status = 'signed', signed_by = $2, signed_at = now(), reauth_at = now(), \
         content_sha256 = sha256('x'), signed_on = current_date, signer_title = 'Supervisor', signer_authority = 'x' \
         WHERE id = $1::uuid",
    )
    .bind(&did)
    .bind(o.analyst.id)
    .execute(&app.pool)
    .await
    .expect_err("the guard refuses");
    assert!(e.to_string().contains("case they filed"), "{e}");
    // The page says why there is no Sign button for them.
    let s = app.sign_in(&o.analyst).await;
    let page = app.send(s.get(&format!("/determinations/{did}"))).await.text();
    assert!(page.contains("you filed this case"), "{page}");
    // A supervisor who neither filed nor drafted it signs.
    reauth(app, &o.ts, &o.sup).await;
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/sign"), &o.ts, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn document_downloads_lose_their_sandboxing_csp() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let r = app
        .send(crate::determinations::upload(
            &id,
            &o.ta,
            &[("title", "Notes"), ("marking", "public")],
            Some(("notes.txt", "Meeting notes.\n".as_bytes())),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let doc: Value = r.json();
    let s = app.sign_in(&o.analyst).await;
    let r = app.send(s.get(&format!("/documents/{}", doc["id"].as_str().unwrap()))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-security-policy").as_deref(), Some("default-src 'none'; sandbox"));
    assert!(r.header("content-disposition").unwrap().starts_with("attachment"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    // Pages keep the page policy.
    let page = app.send(s.get(&format!("/cases/{id}"))).await;
    assert!(page.header("content-security-policy").unwrap().contains("script-src 'self'"));
}

#[tokio::test]
async fn anonymous_audit_growth() {
    let app = TestApp::new().await;
    let post = |addr: &str| {
        let mut r = Request::post("/sign-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .body(Body::from("email=a%40b.c&password=x"))
            .unwrap();
        r.extensions_mut().insert(ConnectInfo(format!("{addr}:40000").parse::<SocketAddr>().unwrap()));
        r
    };
    for _ in 0..1000 {
        assert_eq!(app.send(post("203.0.113.9")).await.status, StatusCode::FORBIDDEN);
    }
    let events = app.events("access.refused").await;
    let counts: Vec<i64> = events.iter().map(|e| e["changes"]["refused_this_minute"].as_i64().unwrap()).collect();
    assert_eq!(counts, [1, 10, 100, 1000], "one event at each power of ten, with the count");
    // Many addresses in one minute: a fixed bound in all.
    for i in 0..100 {
        app.send(post(&format!("203.0.113.{}", 100 + i))).await;
    }
    let n = app.events("access.refused").await.len() as i64;
    assert_eq!(n, icts_review::audit::ANONYMOUS_REFUSAL_EVENTS_PER_MINUTE, "no more than the bound a minute");
    // The next minute counts afresh; a signed-in user's refusals are one event each.
    app.clock.advance(time::Duration::minutes(1));
    app.send(post("203.0.113.9")).await;
    assert_eq!(app.events("access.refused").await.len() as i64, n + 1);
    let user = app.user("analyst").await;
    let s = app.sign_in(&user).await;
    for _ in 0..3 {
        let r = app
            .send(
                Request::post("/account/password")
                    .header("cookie", s.cookie_header())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("csrf_token=wrong"))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.events("access.refused").await.len() as i64, n + 4);
}

#[tokio::test]
async fn admins_read_restricted_case_content_through_the_audit_log() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(true).await;
    let admin = app.user("admin").await;
    let auditor = app.user("auditor").await;
    let (tadm, taud) = (app.token(&admin).await, app.token(&auditor).await);
    let path = format!("/api/v1/audit/events?object={id}&limit=200");
    let seen = app.send(api("GET", &path, &tadm, None)).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text());
    let items = seen.json()["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|e| e["event_type"] == "case.created"), "admins see that it happened");
    for e in &items {
        let t = e["event_type"].as_str().unwrap();
        if !icts_review::audit::content_free(t) {
            assert!(e["changes"]["redacted"].is_string(), "{t} is redacted for admins: {e}");
        }
    }
    let text = seen.text();
    assert!(!text.contains("Router firmware") && !text.contains("foreign adversary"), "no title or summary: {text}");
    // Auditors see all of it.
    let full = app.send(api("GET", &path, &taud, None)).await.text();
    assert!(full.contains("Router firmware"), "{full}");
    // The same in the whole-log export and on the audit page.
    reauth(app, &tadm, &admin).await;
    let export = app.send(api("GET", "/api/v1/audit/export", &tadm, None)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(!export.text().contains("Router firmware"));
    let s = app.sign_in(&admin).await;
    let page = app.send(s.get(&format!("/audit?object={id}"))).await.text();
    assert!(page.contains("case.created") && !page.contains("Router firmware"));
    // Analysts never read the log.
    assert_eq!(app.send(api("GET", &path, &o.ta, None)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn multipart_text_fields_with_control_characters() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let before = app.count("documents").await;
    let r = app
        .send(crate::determinations::upload(
            &id.to_string(),
            &o.ta,
            &[("title", "Letter\u{0}of intent"), ("marking", "public")],
            Some(("letter.txt", b"plain text")),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["field"], "title");
    assert_eq!(app.count("documents").await, before, "nothing written");
    // A multipart body without its boundary is our problem document, not a bare text.
    let r = app
        .send(
            Request::post(format!("/api/v1/cases/{id}/documents"))
                .header("authorization", format!("Bearer {}", o.ta))
                .header("content-type", "multipart/form-data")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"));
}

#[tokio::test]
async fn one_admin_can_reset_a_supervisors_password_and_sign_in_as_them() {
    let app = TestApp::new().await;
    let first = app.user("admin").await;
    let supervisor = app.user("supervisor").await;
    let analyst = app.user("analyst").await;
    let a = app.sign_in(&first).await;
    let version =
        |html: String| html.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // Alone, an administrator is refused, and the refusal is recorded.
    let v = version(app.send(a.get(&format!("/admin/users/{}", supervisor.id))).await.text());
    let r = app
        .send(a.post(&format!("/admin/users/{}", supervisor.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("no other active administrator"), "{}", r.text());
    assert!(!r.text().contains("data-testid=\"temporary-password\""));
    let refused = app.events("user.change_refused").await;
    assert_eq!((refused.len(), refused[0]["outcome"].as_str()), (1, Some("denied")));
    let ta = app.token(&first).await;
    let r =
        app.send(api("PATCH", &format!("/api/v1/users/{}", analyst.id), &ta, Some(json!({"role": "auditor"})))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(app.try_sign_in(&supervisor.email, &supervisor.password, None).await.is_ok(), "the password holds");
    // Resetting an analyst's password, or lowering a role, is one administrator's to do.
    let v = version(app.send(a.get(&format!("/admin/users/{}", analyst.id))).await.text());
    let r = app
        .send(a.post(&format!("/admin/users/{}", analyst.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert!(r.text().contains("data-testid=\"temporary-password\""));

    // With a second administrator: asked by one, carried out by the other.
    let second = app.user("admin").await;
    let tb = app.token(&second).await;
    let v = version(app.send(a.get(&format!("/admin/users/{}", supervisor.id))).await.text());
    let r = app
        .submit(a.post(&format!("/admin/users/{}", supervisor.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains("data-testid=\"temporary-password\""), "the one who asks learns no password");
    let list = app.send(api("GET", "/api/v1/approvals", &tb, None)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let request = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["kind"], "password_reset");
    // A second request of the same kind on the same account waits for the first.
    let r = app
        .send(a.post(&format!("/admin/users/{}", supervisor.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The one who asked cannot approve it.
    let r =
        app.send(api("POST", &format!("/api/v1/approvals/{request}"), &ta, Some(json!({"decision": "approve"})))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(app.try_sign_in(&supervisor.email, &supervisor.password, None).await.is_ok(), "nothing changed yet");
    let r =
        app.send(api("POST", &format!("/api/v1/approvals/{request}"), &tb, Some(json!({"decision": "approve"})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let done = r.json();
    assert_eq!(done["outcome"], "approved");
    let temporary = done["temporary_password"].as_str().unwrap().to_string();
    assert!(app.try_sign_in(&supervisor.email, &supervisor.password, None).await.is_err(), "the old password is gone");
    assert!(app.try_sign_in(&supervisor.email, &temporary, None).await.is_ok());
    let reset = app.events("user.password_reset").await;
    let reset = reset.last().unwrap();
    assert_eq!(reset["actor_id"], second.id.to_string());
    assert_eq!(reset["changes"]["approval"]["requested_by"], first.id.to_string());
    assert_eq!(app.events("user.change_requested").await.len(), 1);
    assert_eq!(app.events("user.change_approved").await.len(), 1);
    let r =
        app.send(api("POST", &format!("/api/v1/approvals/{request}"), &tb, Some(json!({"decision": "approve"})))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "decided once");

    // A role raised through the API waits (202) and can be withdrawn by the one who asked.
    let r = app
        .send(api("PATCH", &format!("/api/v1/users/{}", analyst.id), &tb, Some(json!({"role": "supervisor"}))))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let request = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .send(api("POST", &format!("/api/v1/approvals/{request}"), &ta, Some(json!({"decision": "withdraw"}))))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only the one who asked withdraws");
    let r = app
        .send(api("POST", &format!("/api/v1/approvals/{request}"), &tb, Some(json!({"decision": "withdraw"}))))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let role: String = sqlx::query_scalar("SELECT role::text FROM users WHERE id = $1")
        .bind(analyst.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "analyst");

    // The database itself refuses a request decided by the one who asked.
    let r = sqlx::query(
        "INSERT INTO admin_approvals (id, target_id, kind, requested_by, requested_at, expires_at, decided_by, decided_at, outcome) \
         VALUES ($1, $2, 'password_reset', $3, now(), now() + interval '1 day', $3, now(), 'approved')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(supervisor.id)
    .bind(first.id)
    .execute(&app.pool)
    .await;
    assert!(r.is_err(), "the table's check refuses it");
}

#[tokio::test]
async fn the_openapi_document_is_not_the_api() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    let event = &doc["components"]["schemas"]["StoredEvent"]["properties"];
    for hash in ["hash", "prev_hash"] {
        assert_eq!(event[hash]["type"], "string", "{hash} is hex");
        assert_eq!(event[hash]["pattern"], "^[0-9a-f]{64}$");
    }
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "operation id {id} is used twice");
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                assert!(r["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}");
                if status.as_str() >= "400" {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(s), "{method} {path} documents {s}");
                }
            }
            if op.get("security").is_some() {
                assert!(responses.contains_key("401") && responses.contains_key("403"), "{method} {path}");
            }
            if method != "get" {
                assert!(responses.contains_key("409"), "{method} {path} documents 409");
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if !path.contains(&format!("{{{}}}", p["name"].as_str().unwrap())) {
                    assert_ne!(p["in"], "path", "{method} {path}: {} is not in the path", p["name"]);
                }
            }
        }
    }
    assert!(doc["paths"]["/api/v1/auth/token"]["post"]["responses"].get("429").is_some(), "sign-in is throttled");
    // Closed sets are enums, drawn from the domain's own types.
    let stage = &doc["paths"]["/api/v1/cases"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "stage")
        .unwrap()["schema"]["anyOf"][0];
    assert!(resolved(&doc, stage).to_string().contains("initial_review"), "{stage}");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(resolved(&doc, &schemas["CaseInput"]["properties"]["origin"])["enum"].as_array().unwrap().len(), 3);
    assert!(
        resolved(&doc, &schemas["DraftRequest"]["properties"]["outcome"])["enum"]
            .to_string()
            .contains("not_prohibited")
    );
    assert_eq!(schemas["NewNotice"]["properties"]["sent_on"]["format"], "date");
    // A transaction's kind and status, a notice's step and answer and a check's result are
    // types: the document lists their values from them.
    let values = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    use icts_review::cases::transactions::{TransactionKind, TransactionStatus};
    assert_eq!(values("TransactionKind"), TransactionKind::ALL.map(|k| k.as_str().to_string()));
    assert_eq!(values("TransactionStatus"), TransactionStatus::ALL.map(|k| k.as_str().to_string()));
    use icts_review::mitigation::model::CheckResult;
    assert_eq!(values("CheckResult"), CheckResult::ALL.map(|r| r.as_str().to_string()));
    for schema in ["Check", "NewCheck"] {
        let result = &schemas[schema]["properties"]["result"];
        assert_eq!(result["$ref"], "#/components/schemas/CheckResult", "{schema}: {result}");
    }
    use icts_review::proceedings::model::{AgencyAnswer, NoticeStep};
    assert_eq!(values("NoticeStep"), NoticeStep::ALL.map(|s| s.as_str().to_string()));
    assert_eq!(values("AgencyAnswer"), AgencyAnswer::ALL.map(|a| a.as_str().to_string()));
    for (schema, prop, ty) in [
        ("AgencyNotice", "step", "NoticeStep"),
        ("NewNotice", "step", "NoticeStep"),
        ("NoticeResponse", "response", "AgencyAnswer"),
    ] {
        let s = &schemas[schema]["properties"][prop];
        assert_eq!(s["$ref"], format!("#/components/schemas/{ty}"), "{schema}.{prop}: {s}");
    }
    let response = &schemas["AgencyNotice"]["properties"]["response"];
    assert!(response.to_string().contains("#/components/schemas/AgencyAnswer"), "{response}");
    use icts_review::parties::api::HitVerdict;
    assert_eq!(values("HitVerdict"), HitVerdict::ALL.map(|v| v.as_str().to_string()));
    assert_eq!(schemas["HitDecision"]["properties"]["decision"]["$ref"], "#/components/schemas/HitVerdict");
    for schema in ["Transaction", "TransactionInput"] {
        let props = &schemas[schema]["properties"];
        assert_eq!(props["kind"]["$ref"], "#/components/schemas/TransactionKind", "{schema}: {props}");
        assert_eq!(props["status"]["$ref"], "#/components/schemas/TransactionStatus", "{schema}: {props}");
    }
    // Every closed set is an enum in the document, listing its type's values: those that
    // `web::openapi::closed_sets` once listed by hand, and the types' since. A field that goes
    // back to a plain string (or a renamed schema, property or parameter) fails here.
    use icts_review::declarations as decl;
    use icts_review::{
        access, accounts, audit, cases, determinations as det, documents, mitigation, parties, proceedings, risk,
    };
    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| name(*v).to_string()).collect()
    }
    let roles = names(&access::policy::Role::ALL, access::policy::Role::as_str);
    let party_roles = names(&parties::PartyRole::ALL, parties::PartyRole::as_str);
    let kinds = names(&det::Kind::ALL, det::Kind::as_str);
    let outcomes = names(&det::Outcome::ALL, det::Outcome::as_str);
    let answer_or_clear = names(&cases::model::AnswerEdit::ALL, cases::model::AnswerEdit::as_str);
    let submission_kinds = names(&proceedings::model::SubmissionKind::ALL, proceedings::model::SubmissionKind::as_str);
    let markings = names(&documents::Marking::ALL, documents::Marking::as_str);
    let sets: Vec<(&str, Vec<String>)> = vec![
        ("CaseInput.origin", names(&cases::model::Origin::ALL, cases::model::Origin::as_str)),
        ("CaseEdit.covered", answer_or_clear.clone()),
        ("CaseEdit.nexus", answer_or_clear.clone()),
        ("CaseEdit.undue_risk", answer_or_clear),
        (
            "NexusRequest.conclusion",
            names(&[cases::workflow::Answer::Yes, cases::workflow::Answer::No], |a| match a {
                cases::workflow::Answer::Yes => "yes",
                cases::workflow::Answer::No => "no",
            }),
        ),
        ("TransitionRequest.action", names(&cases::workflow::Action::ALL, cases::workflow::Action::as_str)),
        (
            "TransitionRequest.method",
            names(&cases::workflow::ServiceMethod::ALL, cases::workflow::ServiceMethod::as_str),
        ),
        (
            "RuleRequest.rule_version",
            names(
                &[cases::workflow::RuleVersion::Ifr2021, cases::workflow::RuleVersion::Final2025],
                cases::workflow::RuleVersion::code,
            ),
        ),
        ("CreateUser.role", roles.clone()),
        ("PatchUser.role", roles),
        ("PartyInput.kind", names(&parties::PartyKind::ALL, parties::PartyKind::as_str)),
        ("LinkRequest.role", party_roles.clone()),
        ("TransactionPartyInput.role", party_roles),
        ("EvidenceInput.criterion", names(&parties::NexusCriterion::ALL, parties::NexusCriterion::as_str)),
        ("OverrideRequest.band", names(&risk::model::Band::ALL, risk::model::Band::as_str)),
        ("DraftRequest.kind", kinds.clone()),
        ("Determination.kind", kinds),
        ("DraftRequest.outcome", outcomes.clone()),
        ("ReviseRequest.outcome", outcomes.clone()),
        ("Determination.outcome", outcomes),
        ("Content.cbi_sections", names(&det::CbiSection::ALL, det::CbiSection::as_str)),
        ("NewSending.method", names(&det::SendingMethod::ALL, det::SendingMethod::as_str)),
        ("NewSending.recipient_kind", names(&det::RecipientKind::ALL, det::RecipientKind::as_str)),
        ("Sending.method", names(&det::SendingMethod::ALL, det::SendingMethod::as_str)),
        ("NewSubmission.kind", submission_kinds.clone()),
        ("Submission.kind", submission_kinds),
        (
            "StatusChange.status",
            names(&mitigation::model::MeasureStatus::ALL, mitigation::model::MeasureStatus::as_str),
        ),
        ("Document.marking", markings.clone()),
        ("UploadForm.marking", markings),
        (
            "ApprovalDecision.decision",
            names(&accounts::api::ApprovalVerdict::ALL, accounts::api::ApprovalVerdict::as_str),
        ),
        ("Approval.kind", names(&accounts::model::ApprovalKind::ALL, accounts::model::ApprovalKind::as_str)),
        ("StoredEvent.outcome", names(&audit::Outcome::ALL, audit::Outcome::as_str)),
        ("NewDeclaration.kind", names(&decl::DeclarationKind::ALL, decl::DeclarationKind::as_str)),
        ("Declaration.status", names(&decl::DeclarationStatus::ALL, decl::DeclarationStatus::as_str)),
        ("DeclarationStatusChange.status", names(&decl::DeclarationStatus::ALL, decl::DeclarationStatus::as_str)),
        ("NewFilerRole.role", names(&decl::FilerRole::ALL, decl::FilerRole::as_str)),
        ("/api/v1/declarations?status", names(&decl::DeclarationStatus::ALL, decl::DeclarationStatus::as_str)),
        ("/api/v1/declarations?kind", names(&decl::DeclarationKind::ALL, decl::DeclarationKind::as_str)),
        ("/api/v1/cases?stage", names(&cases::workflow::Stage::ALL, cases::workflow::Stage::as_str)),
        ("/api/v1/cases?except_stage", names(&cases::workflow::Stage::ALL, cases::workflow::Stage::as_str)),
        ("/api/v1/cases?sort", names(&cases::db::Sort::ALL, cases::db::Sort::as_str)),
        ("/api/v1/cases/{id}/export?format", vec!["json".into(), "csv".into()]),
        ("/api/v1/audit/export?format", vec!["ndjson".into(), "csv".into()]),
    ];
    for (key, values) in sets {
        let target = if let Some((path, name)) = key.split_once('?') {
            let params = doc["paths"][path].as_object().into_iter().flat_map(|m| m.values());
            let p = params
                .flat_map(|op| op["parameters"].as_array().cloned().unwrap_or_default())
                .find(|p| p["name"] == name && p["in"] == "query");
            p.map(|p| resolved(&doc, &p["schema"]["anyOf"][0])).unwrap_or(Value::Null)
        } else {
            let (schema, prop) = key.split_once('.').unwrap();
            let s = resolved(&doc, &schemas[schema]["properties"][prop]);
            if s["type"] == "array" { resolved(&doc, &s["items"]) } else { s }
        };
        let listed: Vec<String> =
            target["enum"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
        assert_eq!(listed, values, "{key}: {target}");
    }
    // Every reference names a schema of the document (a type used only in a parameter is
    // not gathered into it by itself).
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1).filter_map(|s| s.split('"').next()) {
        assert!(doc.pointer(r.trim_start_matches('#')).is_some(), "{r} names no schema");
    }
}

/// The schema `s` stands for in `doc`: its `$ref` followed, and of a `oneOf` or `anyOf` (an
/// optional value, a filter that may be left blank) the first branch that is not `null` or
/// blank.
fn resolved(doc: &Value, s: &Value) -> Value {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return resolved(doc, doc.pointer(r.trim_start_matches('#')).unwrap_or(&Value::Null));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = s[key].as_array().and_then(|v| v.iter().find(|b| b["type"] != "null")) {
            return resolved(doc, first);
        }
    }
    s.clone()
}

/// A body for `schema` (resolved against `doc`) whose every text is `text`.
fn body_of(doc: &Value, schema: &Value, text: &str, depth: usize) -> Value {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).cloned().unwrap_or(Value::Null),
        None => schema.clone(),
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema[key].as_array().and_then(|v| v.iter().find(|s| s["type"] != "null")) {
            return body_of(doc, first, text, depth);
        }
    }
    let ty = match &schema["type"] {
        Value::Array(t) => t.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null),
        t => t.clone(),
    };
    match ty.as_str() {
        Some("object") | None if schema.get("properties").is_some() && depth < 5 => {
            let props = schema["properties"].as_object().unwrap();
            Value::Object(props.iter().map(|(k, s)| (k.clone(), body_of(doc, s, text, depth + 1))).collect())
        }
        Some("object") if schema["additionalProperties"].is_object() && depth < 5 => {
            json!({MAP_KEY: body_of(doc, &schema["additionalProperties"], text, depth + 1)})
        }
        // Values that parse, so that the texts are read.
        Some("string") if schema["enum"].is_array() => {
            schema["enum"].as_array().unwrap().iter().find(|v| !v.is_null()).cloned().unwrap_or(json!(text))
        }
        Some("string") if schema["format"] == "uuid" => json!("5f0c4f6e-6b7c-4a3c-9d61-2f0e3a1b4c5d"),
        Some("string") if schema["format"] == "date" => json!("2025-06-02"),
        Some("string") => json!(text),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        Some("array") if depth < 5 => json!([body_of(doc, &schema["items"], text, depth + 1)]),
        _ => json!({}),
    }
}

#[tokio::test]
async fn no_text_in_any_json_body_gives_a_5xx_or_writes_half() {
    let o = Office::new().await;
    let app = &o.app;
    let case = o.at_initial_determination(false).await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    const SURROGATE: &str = "@@lone-surrogate@@";
    let long = "x".repeat(100_000);
    let texts = ["a\u{0}b", "tab\tand\u{1b}escape", SURROGATE, long.as_str(), "Grüße, 東京 🌍", ""];
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else { continue };
            // Ending the session would end the run; sign-in has its own tests.
            if path.starts_with("/api/v1/auth/") {
                continue;
            }
            let uri = path
                .replace("{id}", &case.to_string())
                .replace("{kind}", "adversaries")
                .replace("{code}", "XX")
                .replace("{year}", "2027")
                .replace("{seq}", "1");
            for text in texts {
                let mut raw = body_of(&doc, schema, text, 0).to_string();
                raw = raw.replace(SURROGATE, "\\ud800");
                let events = app.count("audit_events").await;
                let request = Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(&uri)
                    .header("authorization", format!("Bearer {}", o.ts))
                    .header("content-type", "application/json")
                    .body(Body::from(raw))
                    .unwrap();
                let r = app.send(request).await;
                tried += 1;
                let label = format!("{method} {uri} with {:.20?}", text);
                assert!(r.status.as_u16() < 500, "{label}: {} {}", r.status, r.text());
                if matches!(r.status.as_u16(), 400 | 404 | 409 | 413 | 415 | 422) {
                    assert_eq!(app.count("audit_events").await, events, "{label}: refused, yet written");
                }
                if text != "Grüße, 東京 🌍" && !text.is_empty() && r.status.is_success() {
                    // Only the refused texts matter here: a control character or a lone
                    // surrogate may never be stored.
                    assert!(
                        text == long,
                        "{label}: accepted a text holding a control character or a lone surrogate: {}",
                        r.text()
                    );
                }
            }
        }
    }
    assert!(tried > 150, "every JSON route was tried ({tried} requests)");
}

/// A length the document gives for a field of a request body.
struct Limit {
    /// Where the field is in a body made by [`body_of`].
    pointer: String,
    /// The field's name as an error names it (`content.title`, `parties[0].role`).
    field: String,
    /// `maxLength` of a text, or `maxItems` of a list.
    max: usize,
    list: bool,
}

/// Every length limit in `schema`, following the branches [`body_of`] follows; a free text
/// without one is a limit of `usize::MAX`.
fn limits_of(doc: &Value, schema: &Value, pointer: &str, field: &str, depth: usize, out: &mut Vec<Limit>) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).cloned().unwrap_or(Value::Null),
        None => schema.clone(),
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema[key].as_array().and_then(|v| v.iter().find(|s| s["type"] != "null")) {
            return limits_of(doc, first, pointer, field, depth, out);
        }
    }
    if depth > 5 {
        return;
    }
    let text = schema["type"] == "string" || schema["type"].as_array().is_some_and(|t| t.contains(&json!("string")));
    let free = ["enum", "format", "pattern"].iter().all(|k| schema.get(k).is_none());
    if let Some(max) = schema["maxLength"].as_u64() {
        out.push(Limit { pointer: pointer.into(), field: field.into(), max: max as usize, list: false });
    } else if text && free {
        out.push(Limit { pointer: pointer.into(), field: field.into(), max: usize::MAX, list: false });
    }
    if let Some(max) = schema["maxItems"].as_u64() {
        out.push(Limit { pointer: pointer.into(), field: field.into(), max: max as usize, list: true });
    }
    if let Some(items) = schema.get("items") {
        limits_of(doc, items, &format!("{pointer}/0"), &format!("{field}[0]"), depth + 1, out);
    }
    for (k, s) in schema["properties"].as_object().into_iter().flatten() {
        let name = if field.is_empty() { k.clone() } else { format!("{field}.{k}") };
        limits_of(doc, s, &format!("{pointer}/{k}"), &name, depth + 1, out);
    }
    if let Some(s) = schema.get("additionalProperties").filter(|s| s.is_object()) {
        let name = if field.is_empty() { MAP_KEY.to_string() } else { format!("{field}.{MAP_KEY}") };
        limits_of(doc, s, &format!("{pointer}/{MAP_KEY}"), &name, depth + 1, out);
    }
}

/// The key [`body_of`] gives the one entry of a map (`scores`, `criteria`).
const MAP_KEY: &str = "k";

/// The messages of a 422 answer's errors on `field`, or (as the domain names some nested
/// fields) on its last part, or on its list.
fn field_errors(r: &TestResponse, field: &str) -> Vec<String> {
    if r.status != StatusCode::UNPROCESSABLE_ENTITY {
        return Vec::new();
    }
    let leaf = |f: &str| f.rsplit('.').next().unwrap().split('[').next().unwrap().to_string();
    r.json()["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            let f = e["field"].as_str().unwrap_or("");
            f == field || leaf(f) == leaf(field)
        })
        .map(|e| format!("{}: {}", e["field"], e["message"].as_str().unwrap_or("").replace(['é', 'É'], "")))
        .collect()
}

#[tokio::test]
async fn the_openapi_document_gives_no_lengths() {
    let o = Office::new().await;
    let app = &o.app;
    let case = o.at_initial_determination(false).await;
    let admin = app.user("admin").await;
    let ta = app.token(&admin).await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    // The limits are the fields' own, from the domain's constants (`text::Text<{ text::NAME }>`
    // on the field): a text, a list of texts, a list of other values, an optional text.
    use icts_review::text;
    let props = |schema: &str| schemas[schema]["properties"].clone();
    assert_eq!(props("CaseInput")["title"]["maxLength"], text::NAME);
    assert_eq!(props("CaseInput")["adversaries"]["items"]["maxLength"], text::CODE);
    assert_eq!(props("CaseInput")["adversaries"]["maxItems"], text::CODES);
    assert_eq!(props("AssignRequest")["cases"]["maxItems"], icts_review::cases::api::ASSIGN_AT_ONCE);
    assert_eq!(props("AssignRequest")["cases"]["items"]["$ref"], "#/components/schemas/CaseId");
    assert_eq!(props("CaseEdit")["late_reason"]["maxLength"], text::LINE);
    assert_eq!(props("CaseEdit")["late_reason"]["type"], json!(["string", "null"]));
    assert_eq!(props("CaseEdit")["late_reason"]["description"].as_str().map(|d| d.contains("7 days")), Some(true));
    assert_eq!(props("Criterion")["levels"]["minItems"], props("Criterion")["levels"]["maxItems"]);
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else { continue };
            let uri = path
                .replace("{id}", &case.to_string())
                .replace("{kind}", "adversaries")
                .replace("{code}", "XX")
                .replace("{year}", "2027")
                .replace("{seq}", "1");
            let mut limits = Vec::new();
            limits_of(&doc, schema, "", "", 0, &mut limits);
            // Every free text of a body has a limit.
            let free: Vec<&str> = limits.iter().filter(|l| l.max == usize::MAX).map(|l| l.field.as_str()).collect();
            assert!(free.is_empty(), "{method} {path}: no maxLength for {free:?}");
            // As the case's analyst, else as a supervisor, else as an administrator.
            let send = async |body: Value| {
                let mut r = None;
                for token in [&o.ta, &o.ts, &ta] {
                    let answer = app.send(api(&method.to_uppercase(), &uri, token, Some(body.clone()))).await;
                    if answer.status != StatusCode::FORBIDDEN {
                        return answer;
                    }
                    r = Some(answer);
                }
                r.unwrap()
            };
            for l in &limits {
                let label = format!("{method} {path} {}", l.field);
                let base = body_of(&doc, schema, "x", 0);
                let over = |n: usize, text: &str| {
                    let mut b = base.clone();
                    let target = b.pointer_mut(&l.pointer).unwrap();
                    *target = if l.list {
                        Value::Array(vec![target.as_array().unwrap()[0].clone(); n])
                    } else {
                        json!(text.repeat(n))
                    };
                    b
                };
                // One over: refused at the boundary, naming the field, nothing written (but
                // the supervisor's refusal where only an administrator may).
                let written = async || -> i64 {
                    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE event_type <> 'access.refused'")
                        .fetch_one(&app.pool)
                        .await
                        .unwrap()
                };
                let events = written().await;
                let r = send(over(l.max + 1, "x")).await;
                tried += 1;
                assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}: {}", r.text());
                assert!(
                    r.json()["errors"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|e| e["field"] == l.field.as_str() && e["message"].as_str().unwrap().contains("at most")),
                    "{label}: {}",
                    r.text()
                );
                assert_eq!(written().await, events, "{label}: refused, yet written");
                // At the limit, counted in characters however many bytes they take, the
                // domain agrees (whatever else it makes of the request).
                // (The errors on the field at the limit are those it has with one character.)
                let r = send(over(l.max, "é")).await;
                assert!(r.status.as_u16() < 500, "{label}: {}", r.text());
                let short = send(over(1, "é")).await;
                let known = field_errors(&short, &l.field);
                let new: Vec<String> = field_errors(&r, &l.field).into_iter().filter(|e| !known.contains(e)).collect();
                assert_eq!(new, Vec::<String>::new(), "{label}: the document allows it, the domain does not");
            }
        }
    }
    assert!(tried > 100, "every limit was tried ({tried})");
}

#[tokio::test]
async fn a_restricted_case_stays_in_the_inbox_of_someone_who_no_longer_sees_it() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(true).await;
    let first = app.user("analyst").await;
    let second = app.user("analyst").await;
    let (t1, t2) = (app.token(&first).await, app.token(&second).await);
    let assign = |to: &TestUser| json!({"cases": [id], "assignee": to.id});
    let r = app.send(api("POST", "/api/v1/cases/assign", &o.ts, Some(assign(&first)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mine = |t: String| async move { app.send(api("GET", "/api/v1/notifications", &t, None)).await.json() };
    let n = mine(t1.clone()).await;
    assert_eq!((n["items"].as_array().unwrap().len(), n["unread"].as_i64()), (1, Some(1)), "{n}");
    let r = app.send(api("POST", "/api/v1/cases/assign", &o.ts, Some(assign(&second)))).await;
    assert_eq!(r.status, StatusCode::OK);
    let n = mine(t1.clone()).await;
    assert_eq!((n["items"].as_array().unwrap().len(), n["unread"].as_i64()), (0, Some(0)), "withdrawn: {n}");
    let s = app.sign_in(&first).await;
    assert!(!app.send(s.get("/notifications")).await.text().contains(&id), "nor on the page");
    assert_eq!(mine(t2).await["items"].as_array().unwrap().len(), 1, "the new assignee has theirs");
    let ev = app.events("case.assigned").await;
    assert_eq!(ev.last().unwrap()["changes"]["notifications_withdrawn"], 1);
}

#[tokio::test]
async fn every_event_type_as_each_role_reads_it() {
    let app = TestApp::new().await;
    icts_review::seed::demo(app.pool.clone(), &app.config).await.unwrap();
    let (admin, auditor) = (app.user("admin").await, app.user("auditor").await);
    let (ta, tu) = (app.token(&admin).await, app.token(&auditor).await);
    for role in ["analyst", "supervisor"] {
        let u = app.user(role).await;
        let t = app.token(&u).await;
        let r = app.send(api("GET", "/api/v1/audit/events", &t, None)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}s never read the log");
    }
    let types: Vec<String> = sqlx::query_scalar("SELECT DISTINCT event_type FROM audit_events ORDER BY 1")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(types.len() >= 25, "the demo office holds many kinds of event: {types:?}");
    // The texts of cases: none may appear in an event an admin reads whole.
    let texts: Vec<String> = sqlx::query_scalar(
        "SELECT t FROM (SELECT title AS t FROM cases UNION SELECT summary FROM cases UNION SELECT body FROM case_notes) x \
         WHERE length(t) >= 12",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!texts.is_empty());
    for t in &types {
        let stored: Vec<(String, Value)> = sqlx::query_as(
            "SELECT id::text, changes FROM audit_events WHERE event_type = $1 ORDER BY seq DESC LIMIT 20",
        )
        .bind(t)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let path = format!("/api/v1/audit/events?type={t}&limit=20");
        let as_auditor = app.send(api("GET", &path, &tu, None)).await.json();
        let as_admin = app.send(api("GET", &path, &ta, None)).await.json();
        let free = icts_review::audit::content_free(t);
        for (i, (id, changes)) in stored.iter().enumerate() {
            assert_eq!(as_auditor["items"][i]["id"], *id, "{t}");
            assert_eq!(as_auditor["items"][i]["changes"], *changes, "{t}: auditors read every field");
            assert_eq!(as_admin["items"][i]["id"], *id, "{t}: admins see that it happened");
            let seen = &as_admin["items"][i]["changes"];
            if free {
                assert_eq!(seen, changes, "{t}: a content-free event reads whole");
                let text = changes.to_string();
                for c in &texts {
                    assert!(!text.contains(c.as_str()), "{t} is read whole by admins but holds case text {c:?}");
                }
            } else {
                let fields: Vec<String> = changes.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                assert_eq!(seen["fields"], json!(fields), "{t}: admins get the names of the fields");
                assert_eq!(seen.as_object().unwrap().len(), 2, "{t}: and nothing else: {seen}");
            }
        }
    }
}

#[tokio::test]
async fn reading_administrator_requests_writes_nothing_and_the_sweep_marks_lapsed_ones_expired() {
    let app = TestApp::new().await;
    let first = app.user("admin").await;
    let _second = app.user("admin").await;
    let supervisor = app.user("supervisor").await;
    let a = app.sign_in(&first).await;
    let page = app.send(a.get(&format!("/admin/users/{}", supervisor.id))).await.text();
    let v = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = app
        .submit(a.post(&format!("/admin/users/{}", supervisor.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    app.clock.advance(time::Duration::hours(25));
    let token = app.token(&first).await;
    let events = app.count("audit_events").await;
    let list = app.send(api("GET", "/api/v1/approvals", &token, None)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 0, "a lapsed request is not listed");
    let _ = app.send(a.get("/admin/users")).await;
    assert_eq!(app.count("audit_events").await, events, "reading wrote nothing");
    icts_review::accounts::approvals::expire_lapsed(&app.pool, app.state.now()).await.unwrap();
    let expired = app.events("user.change_expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["changes"]["kind"], "password_reset");
}

#[tokio::test]
async fn a_body_of_many_bad_items_is_told_of_the_first_ones_only() {
    let o = Office::new().await;
    let app = &o.app;
    // Half a million over-long codes (20 MiB), and as many NULs: a bounded answer, nothing
    // written.
    for item in ["x".repeat(41), "a\u{0}".to_string()] {
        let body = json!({"title": "t", "summary": "s", "origin": "own_initiative", "category": "connected_software",
            "adversaries": vec![item; 400_000], "restricted": false});
        let cases = app.count("cases").await;
        let r = app.send(api("POST", "/api/v1/cases", &o.ta, Some(body))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let errors = r.json()["errors"].as_array().unwrap().len();
        assert!((1..=icts_review::error::MAX_FIELD_ERRORS).contains(&errors), "{errors} errors");
        assert_eq!(app.count("cases").await, cases);
    }
    // A list longer than the document allows is one error.
    let body = json!({"title": "t", "summary": "s", "origin": "own_initiative", "category": "connected_software",
        "adversaries": vec!["RU"; 51], "restricted": false});
    let r = app.send(api("POST", "/api/v1/cases", &o.ta, Some(body))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"], json!([{"field": "adversaries", "message": "list at most 50"}]));
}

/// The sign-in policy request waiting for a second administrator.
async fn waiting(app: &TestApp) -> uuid::Uuid {
    sqlx::query_scalar("SELECT id FROM admin_approvals WHERE kind = 'sign_in_policy' AND outcome IS NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The supervisors' policy row as stored: whether a password signs in, whether a key is
/// required.
async fn supervisor_policy(app: &TestApp) -> (bool, bool, i64) {
    sqlx::query_as(
        "SELECT password_allowed, require_security_key, version FROM role_sign_in_policies WHERE role = 'supervisor'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn one_administrator_loosens_how_a_role_signs_in() {
    let app = TestApp::new().await;
    let first = app.user("admin").await;
    let a = app.sign_in(&first).await;
    app.reauth(&a, &first.password).await;
    let save = |key: bool, version: i64| {
        let version = version.to_string();
        let mut fields = vec![("version_supervisor", version), ("password_allowed_supervisor", "on".to_string())];
        if key {
            fields.push(("require_security_key_supervisor", "on".to_string()));
        }
        fields.push(("sso_assurance_supervisor", String::new()));
        fields
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        a.post("/admin/sign-in-policy", &borrowed)
    };
    // Tightening applies at once, with one administrator.
    let r = app.send(post(save(true, 1))).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin/sign-in-policy?done=1"), "{r:?}");
    assert_eq!(supervisor_policy(&app).await, (true, true, 2));

    // Loosening it back, alone, is refused at the field, and nothing is written.
    let events = app.count("audit_events").await;
    let r = app.send(post(save(false, 2))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.text().contains(r##"href="#require_security_key_supervisor""##), "{}", r.text());
    assert!(r.text().contains("no other active administrator"));
    assert_eq!(supervisor_policy(&app).await, (true, true, 2));
    assert_eq!(app.count("audit_events").await, events);

    // With a second administrator it waits for their approval.
    let second = app.user("admin").await;
    let r = app.send(post(save(false, 2))).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin/sign-in-policy?asked=1"), "{r:?}");
    assert_eq!(supervisor_policy(&app).await, (true, true, 2), "nothing changes yet");
    let asked = app.events("sign_in_policy.change_requested").await;
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["changes"]["require_security_key"], json!({"before": true, "after": false}));
    let id = waiting(&app).await;
    let page = app.send(a.get("/admin/sign-in-policy?asked=1")).await.text();
    assert!(page.contains("Withdraw my request") && page.contains("no security key required"), "{page}");
    assert!(page.contains("Now: password sign-in allowed; a security key required"), "the policy it replaces: {page}");
    // A second loosening of the same role waits for the first to be decided.
    let r = app.send(post(save(false, 2))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert!(r.text().contains("already waiting for approval"));
    // The one who asked cannot approve it.
    let decide = |s: &crate::harness::BrowserSession, action: &str| {
        s.post(&format!("/admin/sign-in-policy/approvals/{id}"), &[("action", action)])
    };
    let r = app.send(decide(&a, "approve")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("a second administrator must approve or refuse it"));
    assert_eq!(supervisor_policy(&app).await, (true, true, 2));

    // The second approves it after proving who they are; the users list shows it first.
    let b = app.sign_in(&second).await;
    let users = app.send(b.get("/admin/users")).await.text();
    assert!(users.contains("/admin/sign-in-policy") && users.contains("loosen the sign-in policy of supervisors"));
    let list = app.send(api("GET", "/api/v1/approvals", &app.token(&second).await, None)).await.json();
    assert_eq!(list[0]["kind"], "sign_in_policy");
    assert_eq!(list[0]["target_id"], Value::Null);
    assert_eq!(list[0]["policy"]["require_security_key"], false);
    let r = app.send(decide(&b, "approve")).await;
    assert_eq!(r.header("location").as_deref(), Some("/account/reauth?next=%2Fadmin%2Fsign-in-policy"));
    assert_eq!(supervisor_policy(&app).await, (true, true, 2));
    app.reauth(&b, &second.password).await;
    let r = app.submit(decide(&b, "approve")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.text().contains("Approved: loosen the sign-in policy of supervisors"));
    assert_eq!(supervisor_policy(&app).await, (true, false, 3));
    let changed = app.events("sign_in_policy.changed").await;
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[1]["actor_id"], json!(second.id.to_string()));
    assert_eq!(changed[1]["changes"]["approval"]["requested_by"], json!(first.id.to_string()));
    assert_eq!(app.events("sign_in_policy.change_approved").await.len(), 1);
    let r = app.send(decide(&b, "approve")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "decided once: {r:?}");

    // An administrator reads these events whole: they hold no case content.
    let path = "/api/v1/audit/events?type=sign_in_policy.changed&limit=5";
    let seen = app.send(api("GET", path, &app.token(&first).await, None)).await.json();
    assert_eq!(seen["items"][0]["changes"]["role"], "supervisor", "{seen}");

    // A request the second refuses changes nothing; one nobody decides lapses.
    app.send(post(save(true, 3))).await;
    let r = app.send(post(save(false, 4))).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin/sign-in-policy?asked=1"), "{r:?}");
    let id = waiting(&app).await;
    let r = app.submit(b.post(&format!("/admin/sign-in-policy/approvals/{id}"), &[("action", "refuse")])).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(supervisor_policy(&app).await, (true, true, 4));
    let r = app.send(post(save(false, 4))).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin/sign-in-policy?asked=1"), "{r:?}");
    app.clock.advance(time::Duration::hours(25));
    icts_review::accounts::approvals::expire_lapsed(&app.pool, app.state.now()).await.unwrap();
    let expired = app.events("sign_in_policy.change_expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["changes"]["role"], "supervisor");
    assert_eq!(supervisor_policy(&app).await, (true, true, 4));
    // An account's request is not decided on the policy's page.
    let (a, b) = (app.sign_in(&first).await, app.sign_in(&second).await);
    let supervisor = app.user("supervisor").await;
    let page = app.send(a.get(&format!("/admin/users/{}", supervisor.id))).await.text();
    let v = page.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = app
        .submit(a.post(&format!("/admin/users/{}", supervisor.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let reset: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM admin_approvals WHERE kind = 'password_reset' AND outcome IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let r = app.send(b.post(&format!("/admin/sign-in-policy/approvals/{reset}"), &[("action", "refuse")])).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_approvals WHERE outcome IS NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(open, 1, "the reset still waits");
}

#[tokio::test]
async fn one_administrator_creates_a_second_to_approve_their_own_requests() {
    let app = TestApp::new().await;
    let first = app.user("admin").await;
    let t1 = app.token(&first).await;
    let create = |email: &str, role: &str| json!({"email": email, "name": "Made Here", "role": role, "password": "a passphrase the creator knows"});
    // Alone, an administrator cannot make another guarded account at all.
    let users = app.count("users").await;
    let r = app.send(api("POST", "/api/v1/users", &t1, Some(create("helper@agency.gov", "admin")))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("second administrator"));
    let a = app.sign_in(&first).await;
    let r = app
        .send(a.post("/admin/users", &[("email", "helper@agency.gov"), ("name", "Helper"), ("role", "supervisor")]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert!(r.text().contains(r##"href="#role""##), "the refusal is at the role: {}", r.text());
    assert_eq!(app.count("users").await, users, "nothing made");
    // An analyst's account is made at once, as before.
    let r = app.send(api("POST", "/api/v1/users", &t1, Some(create("analyst.made@agency.gov", "analyst")))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // With a second administrator, the new one is made inactive, with a password nobody
    // knows, and waits for the second to activate it.
    let second = app.user("admin").await;
    let r = app.send(api("POST", "/api/v1/users", &t1, Some(create("helper@agency.gov", "admin")))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let request = r.json();
    assert_eq!(request["kind"], "activation");
    let helper: (uuid::Uuid, bool) = sqlx::query_as("SELECT id, active FROM users WHERE email = 'helper@agency.gov'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!helper.1, "inactive");
    assert!(app.try_sign_in("helper@agency.gov", "a passphrase the creator knows", None).await.is_err());
    let id = request["id"].as_str().unwrap();
    let decide = |token: &str, decision: &str| {
        api("POST", &format!("/api/v1/approvals/{id}"), token, Some(json!({"decision": decision})))
    };
    let r = app.send(decide(&t1, "approve")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the creator cannot activate it: {}", r.text());
    let t2 = app.token(&second).await;
    let r = app.send(decide(&t2, "approve")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let temporary = r.json()["temporary_password"].as_str().expect("the approver gets the password").to_string();
    assert_eq!(r.json()["user"]["active"], true);
    assert!(app.try_sign_in("helper@agency.gov", "a passphrase the creator knows", None).await.is_err());
    assert!(app.try_sign_in("helper@agency.gov", &temporary, None).await.is_ok(), "the approver's password signs in");
    let activated = app.events("user.activated").await;
    assert_eq!(activated.len(), 1);
    assert_eq!(activated[0]["changes"]["approval"]["requested_by"], json!(first.id.to_string()));

    // An analyst's account the first made (its password theirs, a key and a card its
    // holder's) raised to administrator with the second's approval starts afresh: the
    // approver's temporary password, no key, no card.
    let r = app.send(api("POST", "/api/v1/users", &t1, Some(create("raised@agency.gov", "analyst")))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let raised = r.json()["id"].as_str().unwrap().to_string();
    let raised_id: uuid::Uuid = raised.parse().unwrap();
    sqlx::query(
        "INSERT INTO user_security_keys (id, user_id, name, credential_id, credential, created_at) \
         VALUES (gen_random_uuid(), $1, 'Kept key', '\\x0a0b'::bytea, '{}'::jsonb, now())",
    )
    .bind(raised_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO user_identities (issuer, subject, user_id, linked_at) VALUES ('urn:icts-review:piv', 'CN=Kept Card', $1, now())")
        .bind(raised_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app.send(api("PATCH", &format!("/api/v1/users/{raised}"), &t1, Some(json!({"role": "admin"})))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let raise = r.json()["id"].as_str().unwrap().to_string();
    let r =
        app.send(api("POST", &format!("/api/v1/approvals/{raise}"), &t2, Some(json!({"decision": "approve"})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let temporary = r.json()["temporary_password"].as_str().expect("the approver gets the password").to_string();
    assert!(app.try_sign_in("raised@agency.gov", "a passphrase the creator knows", None).await.is_err());
    assert!(app.try_sign_in("raised@agency.gov", &temporary, None).await.is_ok());
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM user_security_keys WHERE user_id = $1), \
                (SELECT count(*) FROM user_identities WHERE user_id = $1)",
    )
    .bind(raised_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0), "no key, no card");
    let changed = app.events("user.role_changed").await;
    assert_eq!(changed.last().unwrap()["changes"]["credentials"]["security_keys_removed"], 1);

    // Both at once are refused: either may wait while the other is made.
    let r = app
        .send(api("PATCH", &format!("/api/v1/users/{raised}"), &t1, Some(json!({"role": "analyst", "active": true}))))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    // Reactivating a guarded account goes the same way; activating an active one is nothing.
    let supervisor = app.user("supervisor").await;
    let path = format!("/api/v1/users/{}", supervisor.id);
    let r = app.send(api("PATCH", &path, &t1, Some(json!({"active": true})))).await;
    assert_eq!(r.status, StatusCode::OK, "already active: {}", r.text());
    let r = app.send(api("PATCH", &path, &t1, Some(json!({"active": false})))).await;
    assert_eq!(r.status, StatusCode::OK, "deactivating is at once: {}", r.text());
    let r = app.send(api("PATCH", &path, &t1, Some(json!({"active": true})))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json()["kind"], "activation");
    let active: bool = sqlx::query_scalar("SELECT active FROM users WHERE id = $1")
        .bind(supervisor.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!active);
}

/// The answers that show a new password (an account made, a password reset, a reset
/// approved) show it in the answer itself, which a refresh posts again. Each such re-post is
/// refused and writes nothing: the account exists, its version moved, the request is
/// decided.
#[tokio::test]
async fn posting_a_form_that_showed_a_new_password_again_makes_no_other() {
    let app = TestApp::new().await;
    let first = app.user("admin").await;
    let second = app.user("admin").await;
    let supervisor = app.user("supervisor").await;
    let a = app.sign_in(&first).await;
    let b = app.sign_in(&second).await;
    let password_of = |email: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE email = $1")
                .bind(email)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let shown = |r: &TestResponse| r.text().contains("data-testid=\"temporary-password\"");

    // An account made: its initial password is shown once; the same form again makes nothing.
    let made = [("email", "new.analyst@agency.gov"), ("name", "New Analyst"), ("role", "analyst")];
    let r = app.send(a.post("/admin/users", &made)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(shown(&r));
    let (users, created) = (app.count("users").await, app.events("user.created").await.len());
    let initial = password_of("new.analyst@agency.gov".into()).await;
    let r = app.send(a.post("/admin/users", &made)).await;
    assert!(r.status.is_client_error(), "{}", r.text());
    assert!(!shown(&r), "no other password");
    assert_eq!((app.count("users").await, app.events("user.created").await.len()), (users, created));
    assert_eq!(password_of("new.analyst@agency.gov".into()).await, initial);

    // A reset, by one administrator (an analyst's): the same form again is refused.
    let new_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = 'new.analyst@agency.gov'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let version =
        |html: String| html.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let v = version(app.send(a.get(&format!("/admin/users/{new_id}"))).await.text());
    let reset = [("action", "reset_password"), ("version", v.as_str())];
    let r = app.send(a.post(&format!("/admin/users/{new_id}"), &reset)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(shown(&r));
    let resets = app.events("user.password_reset").await.len();
    let after_reset = password_of("new.analyst@agency.gov".into()).await;
    assert_ne!(after_reset, initial);
    let r = app.send(a.post(&format!("/admin/users/{new_id}"), &reset)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(!shown(&r));
    assert_eq!(app.events("user.password_reset").await.len(), resets);
    assert_eq!(password_of("new.analyst@agency.gov".into()).await, after_reset);

    // A supervisor's reset, approved by the second administrator: the same approval again
    // is refused.
    let v = version(app.send(a.get(&format!("/admin/users/{}", supervisor.id))).await.text());
    let r = app
        .submit(a.post(&format!("/admin/users/{}", supervisor.id), &[("action", "reset_password"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let request: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM admin_approvals WHERE outcome IS NULL").fetch_one(&app.pool).await.unwrap();
    let page = app.send(b.get(&format!("/admin/users/{}", supervisor.id))).await.text();
    let v = version(page);
    let request = request.to_string();
    let approve = [("action", "approve"), ("version", v.as_str()), ("approval", request.as_str())];
    let r = app.send(b.post(&format!("/admin/users/{}", supervisor.id), &approve)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(shown(&r));
    let resets = app.events("user.password_reset").await.len();
    let approved = password_of(supervisor.email.clone()).await;
    let r = app.send(b.post(&format!("/admin/users/{}", supervisor.id), &approve)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(!shown(&r));
    assert_eq!(app.events("user.password_reset").await.len(), resets);
    assert_eq!(password_of(supervisor.email.clone()).await, approved);
}
