//! Two-step sign-in with one-time codes (TOTP) and recovery codes: setting up, signing in
//! through the code page and the API, codes used once, wrong codes towards lockout, and
//! the administrators' reset (a second administrator's approval for guarded roles). The
//! codes are computed by the test from the key the page shows, at the test clock's time.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use icts_review::auth::second_factor::code_at;
use time::Duration;

use crate::harness::{BrowserSession, TestApp, TestResponse, TestUser, api, form};

fn location(r: &TestResponse) -> String {
    r.header("location").unwrap_or_default()
}

/// The cookie a response set under `name` (`name=value`), among all its `Set-Cookie`s.
fn set_cookie(r: &TestResponse, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// The text of the element with `data-testid="{id}"`.
fn testid(html: &str, id: &str) -> String {
    let start = html.find(&format!("data-testid=\"{id}\"")).unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest[open..].find('<').unwrap() + open;
    rest[open..close].trim().to_string()
}

/// Sets up one-time codes for `user` through the account page; returns the secret (read
/// from the key the page shows) and the recovery codes the page showed once.
async fn enrol(app: &TestApp, s: &BrowserSession, user: &TestUser) -> (Vec<u8>, Vec<String>) {
    // Setting up asks for the password first.
    let started = app.events("user.totp_started").await.len();
    let r = app.send(s.post("/account/two-step/begin", &[])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/account/reauth?next=%2Faccount%2Ftwo-step");
    assert_eq!(app.events("user.totp_started").await.len(), started, "nothing begun without the password");
    let r = app.send(s.post("/account/reauth", &[("password", &user.password), ("next", "/account/two-step")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.send(s.post("/account/two-step/begin", &[])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/account/two-step");
    let page = app.send(s.get("/account/two-step")).await.text();
    assert!(page.contains("data-testid=\"totp-qr\"") && page.contains("<svg"), "a QR code drawn on the server");
    let key = testid(&page, "totp-key").replace(' ', "");
    let secret = totp_rs::Secret::try_from_base32(&key).expect("the key is base32").as_ref().to_vec();
    assert_eq!(secret.len(), 20, "160 bits");
    // A wrong first code is refused at the field, and codes are not on yet.
    let r = app.send(s.post("/account/two-step/confirm", &[("code", "000000")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#code\"") && html.contains("id=\"code-error\""), "{html}");
    assert!(html.contains("being set up"));
    let code = code_at(&secret, app.state.now());
    let r = app.send(s.post("/account/two-step/confirm", &[("code", &code)])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("data-testid=\"recovery-codes\""), "the recovery codes are shown once");
    let codes: Vec<String> =
        html.split("<li><code>").skip(1).map(|c| c.split("</code>").next().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    assert!(codes.iter().all(|c| c.len() == 19 && c.matches('-').count() == 3), "{codes:?}");
    let again = app.send(s.get("/account/two-step")).await.text();
    assert!(!again.contains(&codes[0]), "shown once only");
    assert!(again.contains("are <strong>on</strong>") && testid(&again, "recovery-left").starts_with("10 of 10"));
    // The confirming code's window is spent: sign-ins use the next one.
    app.clock.advance(Duration::seconds(30));
    (secret, codes)
}

/// Posts the password; returns the response (a redirect to the code page, with the
/// challenge cookie, for an account with codes).
async fn password_step(app: &TestApp, user: &TestUser, next: &str) -> TestResponse {
    app.send(
        Request::post("/sign-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form(&[("email", &user.email), ("password", &user.password), ("next", next)])))
            .unwrap(),
    )
    .await
}

async fn code_step(app: &TestApp, challenge: &str, code: &str) -> TestResponse {
    app.send(
        Request::post("/sign-in/code")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", challenge)
            .body(Body::from(form(&[("code", code)])))
            .unwrap(),
    )
    .await
}

/// The password step of `user`, which must lead to the code page; the challenge cookie.
async fn challenge_of(app: &TestApp, user: &TestUser, next: &str) -> String {
    let r = password_step(app, user, next).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/sign-in/code");
    assert!(set_cookie(&r, "icts_session").is_none(), "no session before the code");
    set_cookie(&r, "icts_challenge").expect("the challenge cookie")
}

/// Signs `user` in with the password and the code of `secret` (in the next time window).
async fn sign_in_with_code(app: &TestApp, user: &TestUser, secret: &[u8]) -> BrowserSession {
    app.clock.advance(Duration::seconds(30));
    let challenge = challenge_of(app, user, "/").await;
    let r = code_step(app, &challenge, &code_at(secret, app.state.now())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let cookie = set_cookie(&r, "icts_session").expect("a session");
    let mut s = BrowserSession { cookie, csrf: String::new(), set_cookie: String::new() };
    let page = app.send(s.get("/account/sessions")).await.text();
    s.csrf = crate::harness::extract_csrf(&page).expect("pages carry the CSRF token");
    s
}

#[tokio::test]
async fn one_time_codes_are_set_up_then_asked_after_the_password_and_each_is_used_once() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let s = app.sign_in(&analyst).await;
    let page = app.send(s.get("/account/two-step")).await.text();
    assert!(page.contains("are <strong>off</strong>"), "{page}");
    let (secret, recovery) = enrol(&app, &s, &analyst).await;
    let enrolled = app.events("user.totp_enrolled").await;
    assert_eq!(enrolled.len(), 1);
    assert_eq!(enrolled[0]["changes"]["recovery_codes"], 10);
    // Only hashes of the recovery codes are stored.
    let plain: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_recovery_codes WHERE position(convert_to($1, 'UTF8') IN code_hash) > 0",
    )
    .bind(recovery[0].replace('-', ""))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(plain, 0);

    // The password alone no longer signs in: it leads to the code page.
    let challenge = challenge_of(&app, &analyst, "/cases").await;
    let page = app.send(Request::get("/sign-in/code").header("cookie", &challenge).body(Body::empty()).unwrap()).await;
    assert!(page.text().contains("autocomplete=\"one-time-code\""));
    let accepted = app.events("auth.password_accepted").await;
    assert_eq!(accepted.last().unwrap()["changes"]["second_factor"], "totp");
    // A wrong code is refused at the field with the tries left.
    let r = code_step(&app, &challenge, "123456").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("2 tries left"), "{}", r.text());
    assert!(!r.text().contains("kept below"), "a code is not kept to be sent again");
    // The right one signs in and goes where the user was going.
    let code = code_at(&secret, app.state.now());
    let r = code_step(&app, &challenge, &code).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/cases");
    let session = set_cookie(&r, "icts_session").expect("a session");
    assert_eq!(set_cookie(&r, "icts_challenge").as_deref(), Some("icts_challenge="), "the challenge cookie is cleared");
    let home = app.send(Request::get("/").header("cookie", &session).body(Body::empty()).unwrap()).await;
    assert!(home.text().contains("data-testid=\"user-name\""));
    let sign_in = app.events("auth.sign_in").await;
    let last = sign_in.last().unwrap();
    assert_eq!(last["outcome"], "success");
    assert_eq!(last["changes"]["second_factor"], "totp");
    // The same challenge is spent.
    let r = code_step(&app, &challenge, &code).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("sign in again"));

    // The same code in the same window is refused the second time, even on a new challenge.
    let challenge = challenge_of(&app, &analyst, "/").await;
    let r = code_step(&app, &challenge, &code).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a used code is not accepted again");
    let refused = app.events("auth.second_factor").await;
    assert_eq!(refused.last().unwrap()["changes"]["reason"], "reused_code");
    // The next window's code is accepted.
    app.clock.advance(Duration::seconds(30));
    let r = code_step(&app, &challenge, &code_at(&secret, app.state.now())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // A recovery code signs in once, and says how many are left.
    app.clock.advance(Duration::seconds(30));
    let challenge = challenge_of(&app, &analyst, "/").await;
    let r = code_step(&app, &challenge, &recovery[3].to_lowercase()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), "/account/two-step?done=recovery-code");
    let session = set_cookie(&r, "icts_session").unwrap();
    let page = app.send(Request::get(location(&r)).header("cookie", &session).body(Body::empty()).unwrap()).await;
    assert!(page.text().contains("9 are left"), "{}", page.text());
    let challenge = challenge_of(&app, &analyst, "/").await;
    let r = code_step(&app, &challenge, &recovery[3]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a recovery code is used once");

    // A challenge lapses after five minutes; signing in again still goes where the user
    // was going.
    let challenge = challenge_of(&app, &analyst, "/determinations").await;
    app.clock.advance(Duration::minutes(6));
    let r = code_step(&app, &challenge, &code_at(&secret, app.state.now())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("sign in again"));
    assert!(r.text().contains("name=\"next\" value=\"/determinations\""), "{}", r.text());
}

#[tokio::test]
async fn wrong_codes_count_towards_the_lockout_and_end_the_challenge() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let s = app.sign_in(&analyst).await;
    let (secret, _) = enrol(&app, &s, &analyst).await;
    // A right password between wrong codes does not wipe their count, and a new challenge
    // replaces the old one: two wrong codes, the password again, one more wrong code lock.
    let first = challenge_of(&app, &analyst, "/").await;
    for code in ["111111", "222222"] {
        assert_eq!(code_step(&app, &first, code).await.status, StatusCode::UNAUTHORIZED);
    }
    let second = challenge_of(&app, &analyst, "/").await;
    let r = code_step(&app, &first, "333333").await;
    assert!(r.text().contains("sign in again"), "the older challenge is gone: {}", r.text());
    let r = code_step(&app, &second, "444444").await;
    assert!(r.text().contains("sign in again"), "the third wrong code locks: {}", r.text());
    let locked: Option<time::OffsetDateTime> = sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1")
        .bind(analyst.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(locked.is_some_and(|t| t > app.state.now()), "wrong codes across challenges lock the account");
    // Locked: the password from this (new) address no longer leads to a code.
    let r = password_step(&app, &analyst, "/").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", location(&r));
    // An administrator unlocks it; then one challenge takes three wrong codes.
    sqlx::query("UPDATE users SET locked_until = NULL, locked_from = NULL, failed_logins = 0, first_failed_login_at = NULL WHERE id = $1")
        .bind(analyst.id.0)
        .execute(&app.pool)
        .await
        .unwrap();
    let s = sign_in_with_code(&app, &analyst, &secret).await;
    let challenge = challenge_of(&app, &analyst, "/").await;
    for (i, code) in ["111111", "222222"].iter().enumerate() {
        let r = code_step(&app, &challenge, code).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.text().contains(&format!("{} tr", 2 - i)), "{}", r.text());
    }
    let r = code_step(&app, &challenge, "333333").await;
    assert!(r.text().contains("sign in again"), "the third wrong code ends the challenge");
    let locked: Option<time::OffsetDateTime> = sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1")
        .bind(analyst.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        locked.is_some_and(|t| t > app.state.now()),
        "three wrong codes lock the account like three wrong passwords"
    );
    assert_eq!(app.events("auth.lockout").await.len(), 2, "one lock before the unlock, one after");
    // Even the right code cannot finish a spent challenge, and every session ended.
    let r = code_step(&app, &challenge, &code_at(&secret, app.state.now())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.send(s.get("/account/sessions")).await.status,
        StatusCode::SEE_OTHER,
        "the lockout ended the sessions"
    );
}

#[tokio::test]
async fn the_api_takes_the_code_with_the_password() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let s = app.sign_in(&analyst).await;
    let (secret, _) = enrol(&app, &s, &analyst).await;
    let token = |code: Option<&str>| {
        let mut body = serde_json::json!({"email": analyst.email, "password": analyst.password});
        if let Some(c) = code {
            body["code"] = c.into();
        }
        Request::post("/api/v1/auth/token")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = app.send(token(None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["type"], "urn:icts-review:problem:second-factor-required", "{}", r.text());
    let r = app.send(token(Some("000000"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["type"], "urn:icts-review:problem:unauthenticated");
    let r = app.send(token(Some(&code_at(&secret, app.state.now())))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let t = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(app.send(api("GET", "/api/v1/me", &t, None)).await.status, StatusCode::OK);
    // A wrong password with a right code is the same plain 401 as any failure.
    let bad = serde_json::json!({"email": analyst.email, "password": "not the password at all", "code": "123456"});
    let r = app
        .send(
            Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(Body::from(bad.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.json()["type"], "urn:icts-review:problem:unauthenticated");
    assert_eq!(app.count("sign_in_challenges").await, 0, "no challenge outlives its request");
}

#[tokio::test]
async fn removing_codes_needs_the_password_again_and_admins_reset_them_with_a_second_admin_for_guarded_roles() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let s = app.sign_in(&analyst).await;
    enrol(&app, &s, &analyst).await;
    // Turning codes off asks for the password first (again, once 5 minutes have passed).
    app.clock.advance(Duration::minutes(6));
    let r = app.send(s.post("/account/two-step/remove", &[])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/account/reauth?next=%2Faccount%2Ftwo-step"), "{}", location(&r));
    assert!(app.events("user.totp_removed").await.is_empty());

    // An administrator resets an analyst's second factors at once: the codes go and the
    // user's sessions end.
    let admin = app.user("admin").await;
    let a = app.sign_in(&admin).await;
    let page = app.send(a.get(&format!("/admin/users/{}", analyst.id))).await.text();
    assert!(page.contains("data-testid=\"sign-in-methods\"") && page.contains("One-time codes"), "{page}");
    let version: i32 = sqlx::query_scalar("SELECT version FROM users WHERE id = $1")
        .bind(analyst.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = app
        .submit(a.post(
            &format!("/admin/users/{}", analyst.id),
            &[("action", "reset_second_factors"), ("version", &version.to_string())],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let reset = app.events("user.second_factors_reset").await;
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0]["changes"]["totp"]["before"], true);
    assert_eq!(reset[0]["changes"]["sessions_ended"], 1);
    assert_eq!(app.count("user_totp").await, 0);
    assert_eq!(app.send(s.get("/account/sessions")).await.status, StatusCode::SEE_OTHER, "the user's sessions ended");
    // The password alone signs in again.
    let r = password_step(&app, &analyst, "/").await;
    assert!(set_cookie(&r, "icts_session").is_some(), "{}", location(&r));

    // A supervisor's reset is a request for a second administrator.
    let supervisor = app.user("supervisor").await;
    let sv = app.sign_in(&supervisor).await;
    let (_, _) = enrol(&app, &sv, &supervisor).await;
    let version: i32 = sqlx::query_scalar("SELECT version FROM users WHERE id = $1")
        .bind(supervisor.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = app
        .send(a.post(
            &format!("/admin/users/{}", supervisor.id),
            &[("action", "reset_second_factors"), ("version", &version.to_string())],
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "with one administrator it is refused: {}", r.text());
    let second = app.user("admin").await;
    let r = app
        .submit(a.post(
            &format!("/admin/users/{}", supervisor.id),
            &[("action", "reset_second_factors"), ("version", &version.to_string())],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("reset the second factors of"), "{}", r.text());
    assert_eq!(app.count("user_totp").await, 1, "nothing changes until a second administrator approves");
    let approval: uuid::Uuid = sqlx::query_scalar("SELECT id FROM admin_approvals WHERE kind = 'second_factor_reset'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let b = app.sign_in(&second).await;
    let r = app
        .submit(b.post(
            &format!("/admin/users/{}", supervisor.id),
            &[("action", "approve"), ("approval", &approval.to_string()), ("version", "0")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.count("user_totp").await, 0);
    let reset = app.events("user.second_factors_reset").await;
    assert_eq!(reset.last().unwrap()["changes"]["approval"]["approval"], approval.to_string());
}

/// The value of the hidden field `name` in a page's form.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// The recovery codes an answer shows.
fn shown_codes(html: &str) -> Vec<String> {
    html.split("<li><code>").skip(1).map(|c| c.split("</code>").next().unwrap().to_string()).collect()
}

/// The stored hashes of `user`'s recovery codes, with when each was used.
async fn stored_codes(app: &TestApp, user: &TestUser) -> Vec<(Vec<u8>, Option<time::OffsetDateTime>)> {
    sqlx::query_as("SELECT code_hash, used_at FROM user_recovery_codes WHERE user_id = $1 ORDER BY code_hash")
        .bind(user.id.0)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// New recovery codes are shown in the answer itself (they are secrets: no redirect or
/// cookie carries them), so a refresh of that answer posts the same form again. The form
/// names the set it replaces; the same body posted again names a set that is gone, and is
/// refused with the page and a notice, writing nothing. So is a second post of the first
/// code that turned one-time codes on (the set-up it confirms is confirmed already).
#[tokio::test]
async fn posting_the_same_request_for_new_recovery_codes_again_makes_none() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let s = app.sign_in(&analyst).await;
    let (secret, first) = enrol(&app, &s, &analyst).await;
    let at_enrolment = stored_codes(&app, &analyst).await;
    assert_eq!(at_enrolment.len(), 10);

    // The confirming code posted again: refused, nothing written, no codes shown.
    let enrolled = app.events("user.totp_enrolled").await.len();
    let confirming = code_at(&secret, app.state.now() - Duration::seconds(30));
    let r = app.send(s.post("/account/two-step/confirm", &[("code", &confirming)])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(!r.text().contains("data-testid=\"recovery-codes\""));
    assert_eq!(app.events("user.totp_enrolled").await.len(), enrolled);
    assert_eq!(stored_codes(&app, &analyst).await, at_enrolment);

    // New codes in place of the first set, which the page names.
    app.reauth(&s, &analyst.password).await;
    let page = app.send(s.get("/account/two-step")).await.text();
    let first_set = hidden(&page, "replacing");
    assert_eq!(first_set.len(), 16, "{first_set}");
    assert!(first.iter().all(|c| !first_set.contains(c.as_str())));
    let request = [("replacing", first_set.as_str())];
    let r = app.send(s.post("/account/two-step/recovery-codes", &request)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let answer = r.text();
    let second = shown_codes(&answer);
    assert_eq!(second.len(), 10);
    assert!(second.iter().all(|c| !first.contains(c)), "a new set");
    let after_second = stored_codes(&app, &analyst).await;
    assert_ne!(after_second, at_enrolment);
    assert_eq!(app.events("user.recovery_codes_generated").await.len(), 1);
    let second_set = hidden(&answer, "replacing");
    assert_ne!(second_set, first_set, "the answer's form names the new set");

    // A refresh of that answer posts the same body: refused, nothing written, the codes in
    // force are the ones shown after the last request.
    let r = app.send(s.post("/account/two-step/recovery-codes", &request)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let refusal = r.text();
    assert!(
        refusal.contains(
            "These codes were already replaced; the codes shown after the last request are the ones in force."
        ),
        "{refusal}"
    );
    assert!(!refusal.contains("data-testid=\"recovery-codes\""), "no codes shown");
    assert!(shown_codes(&refusal).is_empty());
    assert_eq!(stored_codes(&app, &analyst).await, after_second, "nothing written");
    assert_eq!(app.events("user.recovery_codes_generated").await.len(), 1, "nothing recorded");
    // A code of the second set signs in; one of the first does not.
    app.clock.advance(Duration::seconds(30));
    let challenge = challenge_of(&app, &analyst, "/").await;
    assert_eq!(code_step(&app, &challenge, &first[0]).await.status, StatusCode::UNAUTHORIZED);
    let challenge = challenge_of(&app, &analyst, "/").await;
    let r = code_step(&app, &challenge, &second[0]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // Asking again on purpose, from the page the refusal shows, makes a third set.
    assert_eq!(hidden(&refusal, "replacing"), second_set);
    app.reauth(&s, &analyst.password).await;
    let current = hidden(&app.send(s.get("/account/two-step")).await.text(), "replacing");
    assert_eq!(current, second_set, "a used code leaves the set the same set");
    let r = app.send(s.post("/account/two-step/recovery-codes", &[("replacing", current.as_str())])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(shown_codes(&r.text()).len(), 10);
    assert_eq!(app.events("user.recovery_codes_generated").await.len(), 2);
}
