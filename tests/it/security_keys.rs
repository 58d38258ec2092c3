//! Security keys and passkeys in headless Chromium, with the WebDriver virtual
//! authenticator: a supervisor under a policy that requires a key registers one after
//! signing in, signs a determination with the key as the step-up, signs in with the key
//! after the password, and with the key alone.

use fantoccini::Locator::{Css, Id};
use reqwest::Method;
use serde_json::json;

use crate::browser::Api;
use crate::harness::{Browser, RunningServer, free_port};

/// A case at its initial determination, with a submitted draft; returns the draft's id.
async fn submitted_draft(analyst: &Api, supervisor: &Api, today: &str) -> String {
    let id = crate::browser::case_at_initial_determination(
        analyst,
        supervisor,
        "Satellite ground station software",
        "Ground station control software with remote updates from abroad.",
        today,
    )
    .await;
    let content = json!({
        "title": "Initial determination", "party": "Example Supplier Ltd.",
        "covered_finding": "Covered: ICTS used by US persons after 19 January 2021.",
        "nexus_finding": "The supplier is subject to a foreign adversary's jurisdiction.",
        "risk_analysis": "Undue risk: privileged access to US systems.", "background": "",
        "submission_answers": [], "cessation": "Cease within 30 days.", "prohibitions": [],
        "penalties": "IEEPA penalties apply.", "measures": []
    });
    let d = analyst
        .call(
            Method::POST,
            &format!("/api/v1/cases/{id}/determinations"),
            Some(json!({"kind": "initial", "outcome": "prohibition", "content": content, "unclassified_confirmed": true})),
        )
        .await;
    let did = d["id"].as_str().unwrap().to_string();
    analyst.call(Method::POST, &format!("/api/v1/determinations/{did}/submit"), None).await;
    did
}

/// A passkey sign-in for `email` as a script sees it: the form's answer and where it
/// leads, the key options on the next page, and the answer to a wrong assertion with its
/// error message.
async fn passkey_as_seen(base: &str, email: &str) -> (u16, Option<String>, serde_json::Value, u16, String) {
    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.post(format!("{base}/sign-in/passkey")).form(&[("email", email)]).send().await.unwrap();
    let (status, location) =
        (r.status().as_u16(), r.headers().get("location").map(|v| v.to_str().unwrap().to_string()));
    let page = http.get(format!("{base}/sign-in/code")).send().await.unwrap().text().await.unwrap();
    let options = page
        .split(r#"<script type="application/json" id="key-options">"#)
        .nth(1)
        .and_then(|t| t.split("</script>").next())
        .map(|t| serde_json::from_str(t).unwrap())
        .unwrap_or_default();
    let r = http.post(format!("{base}/sign-in/key")).form(&[("credential", r#"{"id":"x"}"#)]).send().await.unwrap();
    let answered = r.status().as_u16();
    let text = r.text().await.unwrap();
    let error = text
        .split(r#"<span class="usa-error-message" id="credential">"#)
        .nth(1)
        .and_then(|t| t.split("</span>").next())
        .unwrap_or_default()
        .to_string();
    (status, location, options, answered, error)
}

/// The paths of a JSON value's fields, without their values (an array's items as one).
fn shape(v: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    let here = format!("{at}.{k}");
                    out.push(here.clone());
                    walk(v, &here, out);
                }
            }
            serde_json::Value::Array(a) => {
                out.push(format!("{at}[{}]", a.len().min(1)));
                if let Some(first) = a.first() {
                    walk(first, &format!("{at}[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn a_supervisor_under_a_key_policy_registers_a_key_signs_with_it_and_signs_in_with_it() {
    let password = "a shared long passphrase";
    let (url, pool, now) = crate::browser::database_with_users(
        &[
            ("kit.analyst@agency.gov", "Kit Analyst", "analyst"),
            ("lee.supervisor@agency.gov", "Lee Supervisor", "supervisor"),
        ],
        password,
    )
    .await;
    // Keys answer to a host name, not an IP address: the service is reached at localhost.
    let port = free_port();
    let base = format!("http://localhost:{port}");
    let log = std::env::temp_dir().join(format!("icts-keys-server-{port}.log"));
    let server = RunningServer::start_on(port, &["--public-url", &base], &[("DATABASE_URL", url.as_str())], log).await;
    let analyst = Api::new(&base, "kit.analyst@agency.gov", password).await;
    let supervisor = Api::new(&base, "lee.supervisor@agency.gov", password).await;
    let today = icts_review::dates::today(now).to_string();
    let did = submitted_draft(&analyst, &supervisor, &today).await;
    // The policy now requires a key of supervisors (set as an admin's page would).
    sqlx::query("UPDATE role_sign_in_policies SET require_security_key = true WHERE role = 'supervisor'")
        .execute(&pool)
        .await
        .unwrap();

    let browser = Browser::start().await;
    browser.add_virtual_authenticator().await;
    let c = &browser.client;
    browser.sign_in(&base, "lee.supervisor@agency.gov", password).await;
    // Sent to register a key before anything else.
    c.wait().for_element(Css("[data-testid=key-required]")).await.unwrap();
    c.goto(&format!("{base}/determinations")).await.unwrap();
    c.wait().for_element(Css("[data-testid=key-required]")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/account/security-keys");
    browser.assert_accessible("the security keys page, a key required").await;
    c.find(Id("name")).await.unwrap().send_keys("Desk key").await.unwrap();
    c.find(Css("form[action='/account/security-keys'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let register = c.wait().for_element(Css("[data-testid=register-key]:enabled")).await.unwrap();
    browser.screenshot("security-key-register").await;
    register.click().await.unwrap();
    c.wait().for_element(Css("[data-testid=keys-done]")).await.unwrap();
    let listed = c.find(Css("[data-testid=keys]")).await.unwrap().text().await.unwrap();
    assert!(listed.contains("Desk key"), "{listed}");
    browser.screenshot("security-keys").await;

    // Signing the determination: the key is the step-up.
    c.goto(&format!("{base}/determinations/{did}")).await.unwrap();
    c.wait().for_element(Css("[data-testid=reauth-to-sign]")).await.unwrap().click().await.unwrap();
    let confirm = c.wait().for_element(Css("[data-testid=reauth-key]:enabled")).await.unwrap();
    browser.assert_accessible("the step-up with a key").await;
    confirm.click().await.unwrap();
    c.wait().for_element(Css("[data-testid=content-hash]")).await.unwrap();
    c.find(Css("[data-testid=sign]")).await.unwrap().click().await.unwrap();
    let sig = c.wait().for_element(Css("[data-testid=signature]")).await.unwrap().text().await.unwrap();
    assert!(sig.contains("Signed by Lee Supervisor"), "{sig}");

    // Signing in again: after the password, the key (codes are not offered).
    c.find(Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Css("form[action='/sign-in']")).await.unwrap();
    c.find(Id("email")).await.unwrap().send_keys("lee.supervisor@agency.gov").await.unwrap();
    c.find(Id("password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
    let use_key = c.wait().for_element(Css("[data-testid=use-key]:enabled")).await.unwrap();
    assert!(c.find(Id("code")).await.is_err(), "a role that requires a key is not offered codes");
    browser.assert_accessible("the second step with a key").await;
    use_key.click().await.unwrap();
    let name = c.wait().for_element(Css("[data-testid=user-name]")).await.unwrap().text().await.unwrap();
    assert_eq!(name, "Lee Supervisor");
    assert_eq!(c.current_url().await.unwrap().path(), "/");

    // And with the passkey alone, even while wrong passwords have locked password sign-in.
    c.find(Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http
            .post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"email": "lee.supervisor@agency.gov", "password": "a wrong guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": "lee.supervisor@agency.gov", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the password is locked out from here for now");
    c.wait().for_element(Id("passkey-email")).await.unwrap().send_keys("lee.supervisor@agency.gov").await.unwrap();
    c.find(Css("[data-testid=passkey-sign-in]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Css("[data-testid=use-key]:enabled")).await.unwrap().click().await.unwrap();
    let name = c.wait().for_element(Css("[data-testid=user-name]")).await.unwrap().text().await.unwrap();
    assert_eq!(name, "Lee Supervisor");
    browser.close().await;

    // An address without a passkey, or without an account, is answered as the one with: the
    // same steps, key options of the same shape, the same refusal of a wrong answer.
    let real = passkey_as_seen(&base, "lee.supervisor@agency.gov").await;
    for email in ["kit.analyst@agency.gov", "nobody.here@agency.gov"] {
        let decoy = passkey_as_seen(&base, email).await;
        assert_eq!(decoy.0, real.0, "{email}: {decoy:?} {real:?}");
        assert_eq!(decoy.1, real.1, "{email}");
        assert_eq!(shape(&decoy.2), shape(&real.2), "{email}: {} / {}", decoy.2, real.2);
        for field in ["rpId", "timeout", "userVerification"] {
            assert_eq!(decoy.2["publicKey"][field], real.2["publicKey"][field], "{email}: {field}");
        }
        assert_eq!((decoy.3, &decoy.4), (real.3, &real.4), "{email}");
    }
    assert!(real.4.contains("was not from a key of this account"), "{}", real.4);
    drop(server);

    let events: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT event_type, changes FROM audit_events WHERE event_type IN \
         ('user.security_key_added', 'auth.reauthenticate', 'auth.sign_in', 'determination.signed') AND outcome = 'success' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let kinds: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert!(kinds.contains(&"user.security_key_added"), "{kinds:?}");
    let reauth = events.iter().find(|(t, _)| t == "auth.reauthenticate").expect("a step-up");
    assert_eq!(reauth.1["method"], "security_key");
    let browser_sign_ins: Vec<&serde_json::Value> =
        events.iter().filter(|(t, c)| t == "auth.sign_in" && c["kind"] == "browser").map(|(_, c)| c).collect();
    let last_two = &browser_sign_ins[browser_sign_ins.len() - 2..];
    assert_eq!(last_two[0]["second_factor"], "security_key");
    assert_eq!(last_two[0]["passwordless"], false);
    assert_eq!(last_two[1]["passwordless"], true);
    let methods: Vec<String> =
        sqlx::query_scalar("SELECT sign_in_method FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'lee.supervisor@agency.gov' AND s.kind = 'browser'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(methods.contains(&"passkey".to_string()), "{methods:?}");
}

mod pages {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};

    use crate::harness::{TestApp, api, form};

    #[tokio::test]
    async fn a_role_that_requires_a_key_sends_its_users_to_register_one_before_anything_else() {
        let app = TestApp::new().await;
        let admin = app.user("admin").await;
        let sup = app.user("supervisor").await;
        let a = app.sign_in(&admin).await;
        app.reauth(&a, &admin.password).await;
        app.reauth(&a, &admin.password).await;
        let page = app.send(a.get("/admin/sign-in-policy")).await.text();
        assert!(page.contains("require_security_key_supervisor"));
        let r = app
            .send(a.post(
                "/admin/sign-in-policy",
                &[
                    ("version_supervisor", "1"),
                    ("password_allowed_supervisor", "on"),
                    ("require_security_key_supervisor", "on"),
                    ("sso_assurance_supervisor", ""),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
        let changed = app.events("sign_in_policy.changed").await;
        assert_eq!(changed[0]["changes"]["require_security_key"]["after"], true);

        // Signed in with the password, the supervisor can only register a key.
        let s = app.sign_in(&sup).await;
        for path in ["/", "/cases", "/determinations"] {
            let r = app.send(s.get(path)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(r.header("location").as_deref(), Some("/account/security-keys?required=1"), "{path}");
        }
        let keys = app.send(s.get("/account/security-keys?required=1")).await;
        assert_eq!(keys.status, StatusCode::OK);
        assert!(keys.text().contains("Register one now to continue"));
        // The API says the same, as a problem; the user's sign-in methods say why.
        let token = app.token(&sup).await;
        let r = app.send(api("GET", "/api/v1/cases", &token, None)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.json()["type"], "urn:icts-review:problem:security-key-required");
        let methods = app.send(api("GET", "/api/v1/me/sign-in-methods", &token, None)).await;
        assert_eq!(methods.status, StatusCode::OK, "{}", methods.text());
        let m = methods.json();
        assert_eq!(m["must_register_key"], true);
        assert_eq!(m["security_keys"], serde_json::json!([]));
        assert_eq!(m["totp"], false);
        // Other roles are not touched.
        let analyst = app.user("analyst").await;
        let s = app.sign_in(&analyst).await;
        assert_eq!(app.send(s.get("/cases")).await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn key_pages_refuse_what_is_not_a_key_and_ask_for_the_password_when_the_session_is_old() {
        let app = TestApp::new().await;
        let user = app.user("analyst").await;
        let s = app.sign_in(&user).await;
        // A bad name is named; a fresh session starts a registration at once.
        let r = app.send(s.post("/account/security-keys", &[("name", "")])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("Name must be 1 to 100 characters"), "{}", r.text());
        let r = app.send(s.post("/account/security-keys", &[("name", "Desk key </script><b>")])).await;
        assert_eq!(r.status, StatusCode::OK);
        let text = r.text();
        assert!(text.contains(r#"<script type="application/json" id="registration-options">"#));
        assert!(!text.contains("</script><b>"), "the options cannot end their element");
        // An answer that is no key's is refused at the field, and nothing is stored.
        let r = app.send(s.post("/account/security-keys/finish", &[("credential", "{\"id\":\"x\"}")])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("Credential"), "{}", r.text());
        assert_eq!(app.count("user_security_keys").await, 0);
        // Later in the session, adding a key asks for the password first.
        app.clock.advance(time::Duration::minutes(6));
        let r = app.send(s.post("/account/security-keys", &[("name", "Laptop")])).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.header("location").as_deref(), Some("/account/reauth?next=%2Faccount%2Fsecurity-keys"));
    }

    /// Starts a passkey sign-in for `email`: the response and its challenge cookie.
    async fn passkey_start(app: &TestApp, email: &str) -> (crate::harness::TestResponse, String) {
        let r = app
            .send(
                Request::post("/sign-in/passkey")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(form(&[("email", email), ("next", "/cases")])))
                    .unwrap(),
            )
            .await;
        let cookie = r.header("set-cookie").unwrap_or_default().split(';').next().unwrap_or_default().to_string();
        (r, cookie)
    }

    /// The key options on the challenge's page.
    async fn key_options(app: &TestApp, cookie: &str) -> serde_json::Value {
        let page = app.send(Request::get("/sign-in/code").header("cookie", cookie).body(Body::empty()).unwrap()).await;
        assert_eq!(page.status, StatusCode::OK);
        let text = page.text();
        let json = text.split(r#"<script type="application/json" id="key-options">"#).nth(1).expect("key options");
        serde_json::from_str(json.split("</script>").next().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_lapsed_decoy_stays_as_long_as_a_lapsed_real_sign_in() {
        let app = TestApp::new().await;
        let (_, first) = passkey_start(&app, "first.probe@agency.gov").await;
        app.clock.advance(time::Duration::minutes(6));
        // Another address's start leaves the first's lapsed decoy where it is: its page
        // still knows where the sign-in was going, as a real one's does.
        let (_, _second) = passkey_start(&app, "second.probe@agency.gov").await;
        assert_eq!(app.count("sign_in_challenges").await, 2);
        let page = app.send(Request::get("/sign-in/code").header("cookie", &first).body(Body::empty()).unwrap()).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.text().contains(r#"name="next" value="/cases""#), "{}", page.text());
        // The sweep deletes lapsed challenges of both kinds alike, an hour after they lapse.
        let swept = icts_review::auth::second_factor::sweep_lapsed(&app.pool, app.state.now()).await.unwrap();
        assert_eq!(swept, 0);
        app.clock.advance(time::Duration::minutes(60));
        let swept = icts_review::auth::second_factor::sweep_lapsed(&app.pool, app.state.now()).await.unwrap();
        assert_eq!(swept, 1, "the first, lapsed 61 minutes ago");
        app.clock.advance(time::Duration::minutes(6));
        let swept = icts_review::auth::second_factor::sweep_lapsed(&app.pool, app.state.now()).await.unwrap();
        assert_eq!(swept, 1, "then the second");
    }

    #[tokio::test]
    async fn a_passkey_sign_in_for_an_address_without_one_goes_on_like_one_with_a_key_and_is_recorded() {
        let app = TestApp::new().await;
        let user = app.user("analyst").await;
        assert!(app.get("/sign-in").await.text().contains("Sign in with a passkey"));
        // An account without a key and an address without an account: the same answer.
        let (r, cookie) = passkey_start(&app, &user.email).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
        assert_eq!(r.header("location").as_deref(), Some("/sign-in/code"));
        let (other, other_cookie) = passkey_start(&app, "nobody.here@agency.gov").await;
        assert_eq!((other.status, other.header("location")), (r.status, r.header("location")));
        let failed = app.events("auth.sign_in").await;
        assert_eq!(failed.len(), 2);
        assert!(failed.iter().all(|e| e["changes"]["reason"] == "no_passkey" && e["outcome"] == "failure"));

        // Each page asks for one key, derived from the address: the same key every time for
        // the same address, another for another.
        let options = key_options(&app, &cookie).await;
        let public = &options["publicKey"];
        assert_eq!(public["userVerification"], "required");
        assert_eq!(public["rpId"], "localhost");
        assert_eq!(public["timeout"], 300_000);
        assert_eq!(public["challenge"].as_str().unwrap().len(), 43, "32 bytes");
        let allowed = public["allowCredentials"].as_array().unwrap();
        assert_eq!(allowed.len(), 1);
        assert_eq!(allowed[0]["type"], "public-key");
        let id = allowed[0]["id"].clone();
        let again = key_options(&app, &cookie).await;
        assert_ne!(again["publicKey"]["challenge"], public["challenge"], "a new challenge each time");
        let (_, cookie2) = passkey_start(&app, &user.email.to_uppercase()).await;
        assert_eq!(key_options(&app, &cookie2).await["publicKey"]["allowCredentials"][0]["id"], id);
        assert_ne!(key_options(&app, &other_cookie).await["publicKey"]["allowCredentials"][0]["id"], id);

        // No answer signs anyone in: each takes a try, as a wrong key's does, then the
        // sign-in starts again on its way.
        let answer = |cookie: &str| {
            Request::post("/sign-in/key")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(Body::from(form(&[("credential", r#"{"id":"x"}"#)])))
                .unwrap()
        };
        for left in ["2 tries left", "1 try left"] {
            let r = app.send(answer(&cookie)).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
            assert!(r.text().contains("was not from a key of this account") && r.text().contains(left), "{}", r.text());
        }
        let r = app.send(answer(&cookie)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.text().contains("took too many wrong tries: sign in again"), "{}", r.text());
        assert!(r.text().contains(r#"name="next" value="/cases""#), "on its way: {}", r.text());
        let tries = app.events("auth.second_factor").await;
        assert_eq!(tries.len(), 3);
        assert!(tries.iter().all(|e| e["changes"]["reason"] == "no_passkey"));
        assert_eq!(app.count("sessions").await, 0, "nobody signed in");
        // A decoy takes no code either.
        let r = app
            .send(
                Request::post("/sign-in/code")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", &other_cookie)
                    .body(Body::from(form(&[("code", "123456")])))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
        assert_eq!(app.count("sessions").await, 0);
    }
}

mod reset {
    use axum::http::StatusCode;

    use crate::harness::TestApp;

    #[tokio::test]
    async fn an_admins_reset_of_second_factors_removes_security_keys_too() {
        let app = TestApp::new().await;
        let analyst = app.user("analyst").await;
        // A key as stored (its credential is not read by a reset).
        sqlx::query(
            "INSERT INTO user_security_keys (id, user_id, name, credential_id, credential, created_at) \
             VALUES (gen_random_uuid(), $1, 'Desk key', '\\x0102'::bytea, '{}'::jsonb, now())",
        )
        .bind(analyst.id.0)
        .execute(&app.pool)
        .await
        .unwrap();
        let admin = app.user("admin").await;
        let a = app.sign_in(&admin).await;
        app.reauth(&a, &admin.password).await;
        app.reauth(&a, &admin.password).await;
        let page = app.send(a.get(&format!("/admin/users/{}", analyst.id))).await.text();
        assert!(page.contains("Security key “Desk key”"), "{page}");
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
        assert_eq!(app.count("user_security_keys").await, 0);
        let reset = app.events("user.second_factors_reset").await;
        assert_eq!(reset[0]["changes"]["security_keys"]["before"], 1);
    }
}
