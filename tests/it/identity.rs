//! Sign-in, sessions, lockout, CSRF, passwords, step-up and account administration.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use time::Duration;

use crate::harness::{TestApp, api, form};

fn location(r: &crate::harness::TestResponse) -> String {
    r.header("location").unwrap_or_default()
}

fn is_signed_out(r: &crate::harness::TestResponse) -> bool {
    r.status == StatusCode::SEE_OTHER && location(r).starts_with("/sign-in?next=")
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_shows_the_user() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let s = app.sign_in(&analyst).await;
    assert!(s.cookie.starts_with("icts_session="), "development mode cookie name: {}", s.set_cookie);
    for attr in ["Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=28800"] {
        assert!(s.set_cookie.contains(attr), "{attr} missing: {}", s.set_cookie);
    }
    assert!(!s.set_cookie.contains("Domain"), "{}", s.set_cookie);
    let secret = s.cookie.split_once('=').unwrap().1;
    assert!(secret.len() >= 43, "at least 256 bits");
    // Only the hash is stored.
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE secret_hash = sha256(convert_to($1, 'UTF8'))")
            .bind(secret)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);
    let plain: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE encode(secret_hash, 'escape') LIKE '%' || $1 || '%'")
            .bind(secret)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(plain, 0);
    let home = app.send(s.get("/")).await;
    assert!(home.text().contains("data-testid=\"user-name\">Test analyst"), "the header names the user");
    assert_eq!(app.events("auth.sign_in").await.last().unwrap()["outcome"], "success");
}

#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_secure() {
    let app = TestApp::with(|c| c.public_url = "https://icts.example.gov".parse().unwrap()).await;
    let u = app.user("auditor").await;
    let r = app
        .send(
            Request::post("/sign-in")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form(&[("email", &u.email), ("password", &u.password)])))
                .unwrap(),
        )
        .await;
    let set = r.header("set-cookie").unwrap();
    assert!(set.starts_with("__Host-icts_session=") && set.contains("; Secure") && set.contains("Path=/"), "{set}");
}

#[tokio::test]
async fn session_fixation_a_cookie_from_before_sign_in_is_dead_after_it() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let first = app.sign_in(&u).await;
    // Signing in again while presenting the old cookie replaces it.
    let second = app.try_sign_in(&u.email, &u.password, Some(&first)).await.unwrap();
    assert_ne!(first.cookie, second.cookie);
    assert!(is_signed_out(&app.send(first.get("/account/sessions")).await), "old session is dead");
    assert_eq!(app.send(second.get("/account/sessions")).await.status, StatusCode::OK);
    // A cookie value an attacker planted never becomes a session.
    let planted = crate::harness::BrowserSession {
        cookie: "icts_session=attacker-chosen-value-0123456789abcdefghijklmnop".into(),
        csrf: String::new(),
        set_cookie: String::new(),
    };
    let after = app.try_sign_in(&u.email, &u.password, Some(&planted)).await.unwrap();
    assert_ne!(after.cookie, planted.cookie);
    assert!(is_signed_out(&app.send(planted.get("/account/sessions")).await));
}

#[tokio::test]
async fn idle_and_absolute_timeouts_follow_the_clock() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let admin = app.user("admin").await;

    // Analyst: 14 minutes idle is fine, 16 is not.
    let s = app.sign_in(&analyst).await;
    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.send(s.get("/account/sessions")).await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(14));
    assert_eq!(app.send(s.get("/account/sessions")).await.status, StatusCode::OK, "activity resets the idle timer");
    app.clock.advance(Duration::minutes(16));
    assert!(is_signed_out(&app.send(s.get("/account/sessions")).await), "idle 16 minutes ends the session");

    // Admin: 10 minutes.
    let s = app.sign_in(&admin).await;
    app.clock.advance(Duration::minutes(11));
    assert!(is_signed_out(&app.send(s.get("/account/sessions")).await), "admins time out after 10 idle minutes");

    // Absolute: 8 hours however active.
    let s = app.sign_in(&analyst).await;
    for _ in 0..47 {
        app.clock.advance(Duration::minutes(10));
        assert_eq!(app.send(s.get("/account/sessions")).await.status, StatusCode::OK);
    }
    app.clock.advance(Duration::minutes(11)); // 8 h 01 min after sign-in
    assert!(is_signed_out(&app.send(s.get("/account/sessions")).await), "absolute timeout of 8 hours");
    // Expired sessions are removed on the server.
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(analyst.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn three_failures_lock_the_account_and_every_failure_looks_the_same() {
    let app = TestApp::new().await;
    let victim = app.user("analyst").await;
    let inactive = app.user("analyst").await;
    let admin = app.user("admin").await;
    let admin_s = app.sign_in(&admin).await;
    let page = app.send(admin_s.get(&format!("/admin/users/{}", inactive.id))).await;
    let version = page.text().split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = app
        .submit(
            admin_s.post(&format!("/admin/users/{}", inactive.id), &[("action", "deactivate"), ("version", &version)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let attempt = |email: String, password: String| {
        let app = &app;
        async move {
            let r = app.try_sign_in(&email, &password, None).await.expect_err("sign-in fails");
            // The email is echoed back into the form; take it out to compare the rest.
            let body = r.text().replace(&email, "EMAIL");
            let body = body.split("x-request-id").next().unwrap().to_string();
            (r.status, body)
        }
    };
    let wrong1 = attempt(victim.email.clone(), "not the password 1".into()).await;
    let unknown = attempt("nobody@agency.gov".into(), "whatever passphrase".into()).await;
    let deactivated = attempt(inactive.email.clone(), inactive.password.clone()).await;
    let _wrong2 = attempt(victim.email.clone(), "not the password 2".into()).await;
    let _wrong3 = attempt(victim.email.clone(), "not the password 3".into()).await;
    let locked = attempt(victim.email.clone(), victim.password.clone()).await;
    assert_eq!(wrong1.0, StatusCode::UNAUTHORIZED);
    for (name, other) in [("unknown", &unknown), ("deactivated", &deactivated), ("locked", &locked)] {
        assert_eq!(other.0, wrong1.0, "{name}: status");
        assert_eq!(other.1, wrong1.1, "{name}: body differs from a wrong password's");
    }
    assert_eq!(app.events("auth.lockout").await.len(), 1);
    let reasons: Vec<String> = app
        .events("auth.sign_in")
        .await
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .map(|e| e["changes"]["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(
        reasons.contains(&"locked".to_string())
            && reasons.contains(&"unknown_account".to_string())
            && reasons.contains(&"deactivated".to_string()),
        "{reasons:?}"
    );
    // No password ever reaches the audit log.
    let all: String = sqlx::query_scalar("SELECT string_agg(changes::text, ' ') FROM audit_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!all.contains("not the password") && !all.contains(&victim.password), "{all}");

    // The lockout also holds for the API.
    let r = app
        .send(
            Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(Body::from(serde_json::json!({"email": victim.email, "password": victim.password}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // An admin unlocks it.
    let page = app.send(admin_s.get(&format!("/admin/users/{}", victim.id))).await;
    assert!(page.text().contains("locked after failed sign-ins"));
    let version = page.text().split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = app
        .submit(admin_s.post(&format!("/admin/users/{}", victim.id), &[("action", "unlock"), ("version", &version)]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(app.try_sign_in(&victim.email, &victim.password, None).await.is_ok());
}

#[tokio::test]
async fn a_lockout_lifts_by_itself_after_three_hours() {
    let app = TestApp::new().await;
    let u = app.user("supervisor").await;
    for i in 0..3 {
        assert!(app.try_sign_in(&u.email, &format!("wrong passphrase {i}"), None).await.is_err());
    }
    assert!(app.try_sign_in(&u.email, &u.password, None).await.is_err(), "locked");
    app.clock.advance(Duration::minutes(179));
    assert!(app.try_sign_in(&u.email, &u.password, None).await.is_err(), "still locked");
    app.clock.advance(Duration::minutes(2));
    assert!(app.try_sign_in(&u.email, &u.password, None).await.is_ok(), "unlocked after 3 hours");
}

#[tokio::test]
async fn failures_spread_beyond_fifteen_minutes_do_not_lock() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    for i in 0..4 {
        assert!(app.try_sign_in(&u.email, &format!("wrong passphrase {i}"), None).await.is_err());
        app.clock.advance(Duration::minutes(8));
        if i % 2 == 1 {
            app.clock.advance(Duration::minutes(8));
        }
    }
    assert!(app.try_sign_in(&u.email, &u.password, None).await.is_ok());
}

#[tokio::test]
async fn csrf_missing_foreign_or_cross_site_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let other_admin = app.user("admin").await;
    let s = app.sign_in(&admin).await;
    let other = app.sign_in(&other_admin).await;
    let users_before = app.count("users").await;
    let create = [("email", "new.person@agency.gov"), ("name", "New Person"), ("role", "analyst")];

    // No token.
    let body = form(&create);
    let r = app
        .send(
            Request::post("/admin/users")
                .header("cookie", s.cookie_header())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another session's token.
    let mut with_foreign = create.to_vec();
    with_foreign.push(("csrf_token", &other.csrf));
    let r = app
        .send(
            Request::post("/admin/users")
                .header("cookie", s.cookie_header())
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form(&with_foreign)))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The right token, but sent from another site.
    let mut req = s.post("/admin/users", &create);
    req.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    let mut req = s.post("/admin/users", &create);
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    // Sign-out is a state change too.
    let r = app.send(Request::post("/sign-out").header("cookie", s.cookie_header()).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    assert_eq!(app.count("users").await, users_before, "nothing was created");
    assert_eq!(app.events("access.refused").await.len(), 5, "each refusal is audited");
    // With everything right, it works.
    let mut req = s.post("/admin/users", &create);
    req.headers_mut().insert("sec-fetch-site", "same-origin".parse().unwrap());
    req.headers_mut().insert("origin", "http://localhost:8080".parse().unwrap());
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.count("users").await, users_before + 1);
    assert!(r.text().contains("temporary-password"));
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let s = app.sign_in(&u).await;
    let r = app.send(s.post("/sign-out", &[])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert!(is_signed_out(&app.send(s.get("/account/sessions")).await), "replaying the old cookie does not work");
    assert_eq!(app.events("auth.sign_out").await.len(), 1);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let s1 = app.sign_in(&u).await;
    let s2 = app.sign_in(&u).await;
    let r = app
        .send(s1.post(
            "/account/password",
            &[
                ("current_password", "wrong one here"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("the current password is not correct"));
    let r = app
        .send(s1.post(
            "/account/password",
            &[("current_password", &u.password), ("new_password", "password123"), ("confirm_password", "password123")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("commonly used"), "common passwords are refused with a clear message");
    let r = app
        .send(s1.post(
            "/account/password",
            &[("current_password", &u.password), ("new_password", "short"), ("confirm_password", "short")],
        ))
        .await;
    assert!(r.text().contains("at least 8 characters"));
    let r = app
        .send(s1.post(
            "/account/password",
            &[
                ("current_password", &u.password),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let fresh = r.header("set-cookie").unwrap();
    assert!(is_signed_out(&app.send(s1.get("/account/sessions")).await), "the session that changed it gets a new id");
    assert!(is_signed_out(&app.send(s2.get("/account/sessions")).await), "other sessions end");
    let s3 = crate::harness::BrowserSession {
        cookie: fresh.split(';').next().unwrap().into(),
        csrf: String::new(),
        set_cookie: fresh.clone(),
    };
    assert_eq!(app.send(s3.get("/account/sessions")).await.status, StatusCode::OK);
    assert!(app.try_sign_in(&u.email, &u.password, None).await.is_err());
    assert!(app.try_sign_in(&u.email, "a brand new passphrase", None).await.is_ok());
}

#[tokio::test]
async fn admin_reset_forces_a_password_change_and_role_change_ends_sessions() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    // Raising an account to supervisor and resetting a supervisor's password take a second
    // administrator (security::one_admin_cannot_take_over_a_supervisor).
    let second = app.user("admin").await;
    let u = app.user("analyst").await;
    let a = app.sign_in(&admin).await;
    let b = app.sign_in(&second).await;
    let victim_session = app.sign_in(&u).await;
    let version =
        |html: String| html.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let open_request = |kind: &'static str| {
        let pool = app.pool.clone();
        let target = u.id;
        async move {
            sqlx::query_scalar::<_, uuid::Uuid>(
                "SELECT id FROM admin_approvals WHERE target_id = $1 AND kind = $2 AND outcome IS NULL",
            )
            .bind(target)
            .bind(kind)
            .fetch_one(&pool)
            .await
            .unwrap()
            .to_string()
        }
    };

    let v = version(app.send(a.get(&format!("/admin/users/{}", u.id))).await.text());
    let r = app
        .submit(
            a.post(&format!("/admin/users/{}", u.id), &[("action", "role"), ("role", "supervisor"), ("version", &v)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("second administrator"), "asked, not made");
    let request = open_request("role_change").await;
    let r =
        app.submit(b.post(
            &format!("/admin/users/{}", u.id),
            &[("action", "approve"), ("approval", &request), ("version", &v)],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(is_signed_out(&app.send(victim_session.get("/account/sessions")).await), "role change ends sessions");
    // A stale version is a conflict and changes nothing.
    let r = app
        .send(a.post(&format!("/admin/users/{}", u.id), &[("action", "role"), ("role", "auditor"), ("version", &v)]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let role: String =
        sqlx::query_scalar("SELECT role::text FROM users WHERE id = $1").bind(u.id).fetch_one(&app.pool).await.unwrap();
    assert_eq!(role, "supervisor");
    let ev = app.events("user.role_changed").await;
    assert_eq!(ev[0]["changes"]["role"]["before"], "analyst");
    assert_eq!(ev[0]["changes"]["role"]["after"], "supervisor");
    assert_eq!(ev[0]["actor_role"], "admin");
    assert_eq!(ev[0]["changes"]["approval"]["requested_by"], admin.id.to_string());

    let v = version(app.send(a.get(&format!("/admin/users/{}", u.id))).await.text());
    let r = app.send(a.post(&format!("/admin/users/{}", u.id), &[("action", "reset_password"), ("version", &v)])).await;
    assert!(!r.text().contains("data-testid=\"temporary-password\""), "the one who asks sees no password");
    let request = open_request("password_reset").await;
    let r =
        app.send(b.post(
            &format!("/admin/users/{}", u.id),
            &[("action", "approve"), ("approval", &request), ("version", &v)],
        ))
        .await;
    let html = r.text();
    let temp = html.split("data-testid=\"temporary-password\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let s = app.try_sign_in(&u.email, &temp, None).await.unwrap();
    let r = app.send(s.get("/account/sessions")).await;
    assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/account/password".to_string()), "must change first");
    let r = app
        .send(s.post(
            "/account/password",
            &[
                ("current_password", &temp),
                ("new_password", "my own new passphrase"),
                ("confirm_password", "my own new passphrase"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Admins cannot demote or deactivate themselves.
    let v = version(app.send(a.get(&format!("/admin/users/{}", admin.id))).await.text());
    let r = app.send(a.post(&format!("/admin/users/{}", admin.id), &[("action", "deactivate"), ("version", &v)])).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn step_up_reauthentication_lasts_five_minutes() {
    let app = TestApp::new().await;
    let u = app.user("supervisor").await;
    let s = app.sign_in(&u).await;
    let r =
        app.send(s.post("/account/reauth", &[("password", "not my password"), ("next", "/account/sessions")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.send(s.post("/account/reauth", &[("password", &u.password), ("next", "https://evil.example/")])).await;
    assert_eq!((r.status, location(&r)), (StatusCode::SEE_OTHER, "/".to_string()), "no open redirect");
    let reauth_at: time::OffsetDateTime = sqlx::query_scalar("SELECT reauth_at FROM sessions WHERE user_id = $1")
        .bind(u.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // The guard later features use.
    let mut conn = app.pool.acquire().await.unwrap();
    let secret = s.cookie.split_once('=').unwrap().1;
    let live = icts_review::auth::session::resolve(&mut conn, secret, app.state.now()).await.unwrap().unwrap();
    assert_eq!(live.reauth_at, Some(reauth_at));
    let signed_in = icts_review::access::Actor {
        id: live.user_id,
        email: live.email,
        name: live.name,
        role: live.role,
        session_id: live.session_id,
        reauth_at: live.reauth_at,
        meta: Default::default(),
    };
    assert!(signed_in.require_recent_reauth(reauth_at + Duration::minutes(4)).is_ok());
    assert!(signed_in.require_recent_reauth(reauth_at + Duration::minutes(5) + Duration::seconds(1)).is_err());
    assert_eq!(app.events("auth.reauthenticate").await.len(), 2, "the failure and the success");
}

#[tokio::test]
async fn api_tokens_me_users_and_revocation() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let analyst = app.user("analyst").await;

    let r = app
        .send(
            Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(Body::from(serde_json::json!({"email": admin.email, "password": admin.password}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let j = r.json();
    let token = j["token"].as_str().unwrap().to_string();
    assert!(j["expires_at"].as_str().is_some());
    assert_eq!(j["user"]["email"], admin.email);
    assert_eq!(j["user"]["role"], "admin");
    assert_eq!(j["user"]["id"], admin.id.to_string());

    // Every failure is the same 401 problem.
    let fail = |email: &str, pw: &str| {
        Request::post("/api/v1/auth/token")
            .header("content-type", "application/json")
            .body(Body::from(serde_json::json!({"email": email, "password": pw}).to_string()))
            .unwrap()
    };
    let a = app.send(fail(&analyst.email, "wrong passphrase")).await;
    let b = app.send(fail("ghost@agency.gov", "wrong passphrase")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.header("content-type").as_deref(), Some("application/problem+json"));
    assert_eq!((a.status, a.body.clone()), (b.status, b.body.clone()));
    let r = app
        .send(
            Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"email":"a@b.gov","password":"x","extra":1}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are rejected");

    let me = app.send(api("GET", "/api/v1/me", &token, None)).await;
    assert_eq!(me.json()["email"], admin.email);

    // Users: create, list, patch.
    let r = app.send(api("POST", "/api/v1/users", &token, Some(serde_json::json!({"email": "Api.Made@Agency.gov", "name": "Api Made", "role": "analyst", "password": "a temporary passphrase"})))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    assert_eq!(created["email"], "api.made@agency.gov");
    assert!(r.header("location").unwrap().ends_with(created["id"].as_str().unwrap()));
    let r = app.send(api("POST", "/api/v1/users", &token, Some(serde_json::json!({"email": "api.made@agency.gov", "name": "Again", "role": "analyst", "password": "a temporary passphrase"})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "email");
    let r = app
        .send(api(
            "POST",
            "/api/v1/users",
            &token,
            Some(serde_json::json!({"email": "x", "name": "", "role": "boss", "password": "123"})),
        ))
        .await;
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["email", "name", "role", "password"]);
    let list = app.send(api("GET", "/api/v1/users", &token, None)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 3);

    let analyst_token = app.token(&analyst).await;
    let id = analyst.id;
    let r = app
        .send(api("PATCH", &format!("/api/v1/users/{id}"), &token, Some(serde_json::json!({"active": false}))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    assert_eq!(
        app.send(api("GET", "/api/v1/me", &analyst_token, None)).await.status,
        StatusCode::UNAUTHORIZED,
        "deactivation ends sessions"
    );
    let r = app
        .send(api(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            &token,
            Some(serde_json::json!({"active": true, "version": 1})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "stale version");
    let r = app.send(api("PATCH", "/api/v1/users/not-a-uuid", &token, Some(serde_json::json!({"active": true})))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Revocation.
    let r = app.send(api("DELETE", "/api/v1/auth/token", &token, None)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(api("GET", "/api/v1/me", &token, None)).await.status, StatusCode::UNAUTHORIZED);
    // A bearer token is not a cookie and a cookie is not a bearer token.
    let s = app.sign_in(&admin).await;
    let secret = s.cookie.split_once('=').unwrap().1;
    assert_eq!(app.send(api("GET", "/api/v1/me", secret, None)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn audit_events_api_filters_and_pages() {
    let app = TestApp::new().await;
    let auditor = app.user("auditor").await;
    let analyst = app.user("analyst").await;
    for _ in 0..3 {
        let _ = app.try_sign_in(&analyst.email, "wrong passphrase!", None).await;
    }
    let token = app.token(&auditor).await;
    let page = app.send(api("GET", "/api/v1/audit/events?type=auth.&limit=2", &token, None)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let j = page.json();
    assert_eq!(j["items"].as_array().unwrap().len(), 2);
    let cursor = j["next_cursor"].as_str().unwrap().to_string();
    let seqs: Vec<i64> = j["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs[0] > seqs[1], "newest first");
    let next = app
        .send(api("GET", &format!("/api/v1/audit/events?type=auth.&limit=2&cursor={cursor}"), &token, None))
        .await
        .json();
    assert!(next["items"][0]["seq"].as_i64().unwrap() < seqs[1]);
    let by_actor = app
        .send(api("GET", &format!("/api/v1/audit/events?actor={}&type=auth.lockout", analyst.id), &token, None))
        .await
        .json();
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 1);
    let e = &by_actor["items"][0];
    for field in [
        "seq",
        "id",
        "at",
        "actor_id",
        "actor_role",
        "event_type",
        "object_type",
        "object_id",
        "changes",
        "outcome",
        "prev_hash",
        "hash",
    ] {
        assert!(e.get(field).is_some(), "event has {field}");
    }
    let bad = app.send(api("GET", "/api/v1/audit/events?from=yesterday&limit=9999", &token, None)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> =
        bad.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["from", "limit"]);
    // The page shows the same.
    let s = app.sign_in(&auditor).await;
    let html = app.send(s.get("/audit?type=auth.lockout")).await.text();
    assert!(html.contains("auth.lockout") && !html.contains("user.created"));
}

#[tokio::test]
async fn openapi_document_lists_every_api_route() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in icts_review::router::routes() {
        if !path.starts_with("/api/") {
            continue;
        }
        let op = &doc["paths"][path.as_str()][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {path} is missing from the OpenAPI document");
    }
}

#[tokio::test]
async fn failed_attempts_from_one_address_are_throttled_but_not_its_successes() {
    use axum::extract::ConnectInfo;
    let app = TestApp::new().await;
    let u = app.user("analyst").await;
    let from = |addr: &str, email: &str, pw: &str| {
        let mut req = Request::post("/sign-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form(&[("email", email), ("password", pw)])))
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(addr.parse::<std::net::SocketAddr>().unwrap()));
        req
    };
    // Successful sign-ins from a shared address never count.
    for _ in 0..5 {
        assert_eq!(app.send(from("10.0.0.1:5000", &u.email, &u.password)).await.status, StatusCode::SEE_OTHER);
    }
    // 30 failures (spread over unknown accounts, so no account locks) use up the address.
    for i in 0..30 {
        let r = app.send(from("10.0.0.1:5000", &format!("ghost{i}@agency.gov"), "wrong passphrase")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = app.send(from("10.0.0.1:5000", &u.email, &u.password)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("Too many sign-in attempts"));
    // Another address is unaffected, and the window passes.
    assert_eq!(app.send(from("10.0.0.2:5000", &u.email, &u.password)).await.status, StatusCode::SEE_OTHER);
    app.clock.advance(Duration::minutes(16));
    assert_eq!(app.send(from("10.0.0.1:5000", &u.email, &u.password)).await.status, StatusCode::SEE_OTHER);
    let throttled =
        app.events("auth.sign_in").await.iter().filter(|e| e["changes"]["reason"] == "address_throttled").count();
    assert_eq!(throttled, 1);
}
