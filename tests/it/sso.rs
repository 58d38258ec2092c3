//! Single sign-on through a real OpenID provider: the `oidc-provider` package (a certified
//! implementation) run by node from `tests/oidc-provider`, on a free loopback port. The
//! tests play the browser: they follow the provider's redirects and sign in on its page,
//! then give the provider's answer to the service.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use icts_review::auth::sso::Refusal;
use icts_review::config::OidcSettings;
use sha2::{Digest, Sha256};

use crate::harness::{BrowserSession, TestApp, TestResponse, extract_csrf, manifest_dir};

/// The fixture's secret of the product's clients.
const SECRET: &str = "icts-review-fixture-secret";
const AAL2: &str = "http://idmanagement.gov/ns/assurance/aal/2";
const AAL3: &str = "http://idmanagement.gov/ns/assurance/aal/3";

/// A running fixture provider.
pub struct Provider {
    pub issuer: String,
}

/// Installs the fixture's packages from its lockfile once (`.ci/run` does it too).
fn install_fixture() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = manifest_dir().join("tests/oidc-provider");
        if dir.join("node_modules/oidc-provider/package.json").exists() {
            return;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (install nodejs and npm)");
        assert!(status.success(), "npm ci in tests/oidc-provider failed");
    });
}

impl Provider {
    /// Starts a provider of its own (for a test that changes it, such as its keys).
    pub fn start() -> Provider {
        Provider::start_for("http://localhost:8080")
    }

    /// Starts a provider of its own whose clients answer to the service at `rp_base`.
    pub fn start_for(rp_base: &str) -> Provider {
        install_fixture();
        let dir = manifest_dir().join("tests/oidc-provider");
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("RP_BASE", rp_base)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs the fixture provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the fixture prints its address");
        let issuer =
            line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("fixture said {line:?}")).to_string();
        // The provider ends when its standard input closes: when this test process ends.
        std::mem::forget(child.stdin.take());
        std::mem::forget(child);
        Provider { issuer }
    }

    /// The provider the tests share.
    pub fn shared() -> &'static Provider {
        static SHARED: OnceLock<Provider> = OnceLock::new();
        SHARED.get_or_init(Provider::start)
    }
}

/// An app whose single sign-on goes to `provider` as `client_id`, its clock at the real
/// time (the provider's tokens carry real times).
async fn app_with(provider: &Provider, client_id: &str) -> TestApp {
    let settings = OidcSettings {
        issuer: url::Url::parse(&provider.issuer).unwrap(),
        client_id: client_id.into(),
        client_secret: SECRET.into(),
        name: "Fixture ID".into(),
    };
    let app = TestApp::with(|c| c.oidc = Some(settings)).await;
    app.clock.set(time::OffsetDateTime::now_utc());
    app
}

async fn app() -> TestApp {
    app_with(Provider::shared(), "icts-review").await
}

/// Who signs in at the provider, and how.
struct Login<'a> {
    sub: &'a str,
    email: &'a str,
    verified: bool,
    acr: &'a str,
    amr: &'a str,
}

impl<'a> Login<'a> {
    fn new(sub: &'a str, email: &'a str) -> Self {
        Login { sub, email, verified: true, acr: AAL2, amr: "pwd,otp,mfa" }
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(r: &reqwest::Response, base: &str) -> String {
    let l = r.headers().get("location").unwrap_or_else(|| panic!("{} has no Location", r.url())).to_str().unwrap();
    if l.starts_with('/') { format!("{base}{l}") } else { l.to_string() }
}

/// Follows the provider from `url` (its authorization URL) through its sign-in page to
/// the redirect back; returns the URL the provider sends the browser back to.
async fn at_provider(issuer: &str, url: &str, login: &Login<'_>) -> String {
    let http = browser();
    let mut next = url.to_string();
    let mut signed = false;
    for _ in 0..10 {
        if !next.starts_with(issuer) {
            return next;
        }
        if next.contains("/interaction/") && !signed {
            let page = http.get(&next).send().await.unwrap();
            assert_eq!(page.status(), 200, "the provider's sign-in page");
            let form = [
                ("sub", login.sub),
                ("email", login.email),
                ("email_verified", if login.verified { "true" } else { "false" }),
                ("acr", login.acr),
                ("amr", login.amr),
            ];
            let r = http.post(format!("{next}/login")).form(&form).send().await.unwrap();
            assert!(r.status().is_redirection(), "the provider took the sign-in: {}", r.text().await.unwrap());
            next = location(&r, issuer);
            signed = true;
            continue;
        }
        let r = http.get(&next).send().await.unwrap();
        assert!(r.status().is_redirection(), "the provider redirects from {next}: {}", r.text().await.unwrap());
        next = location(&r, issuer);
    }
    panic!("the provider did not send the browser back");
}

/// A sign-in begun at the service: the binding cookie and the provider's URL.
struct Begun {
    cookie: String,
    url: String,
}

async fn begin(app: &TestApp, next: &str) -> Begun {
    let r = app.get(&format!("/sign-in/sso?next={next}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    let set = r.header("set-cookie").expect("the sign-in's binding cookie");
    assert!(set.contains("SameSite=Lax") && set.contains("HttpOnly"), "{set}");
    let url = r.header("location").unwrap();
    for p in ["code_challenge_method=S256", "code_challenge=", "state=", "nonce=", "scope=openid"] {
        assert!(url.contains(p), "the authorization request carries {p}: {url}");
    }
    Begun { cookie: set.split(';').next().unwrap().to_string(), url }
}

/// Gives the provider's answer (`back`, the URL it redirected to) to the service.
async fn answer(app: &TestApp, cookie: &str, back: &str) -> TestResponse {
    let u = url::Url::parse(back).unwrap();
    assert_eq!(u.path(), "/sign-in/sso/callback", "{back}");
    let path = format!("{}?{}", u.path(), u.query().unwrap_or(""));
    app.send(Request::get(path).header("cookie", cookie).body(Body::empty()).unwrap()).await
}

/// A whole sign-in through the provider.
async fn sign_in_through(app: &TestApp, login: &Login<'_>, next: &str) -> TestResponse {
    let begun = begin(app, next).await;
    let back = at_provider(&Provider::shared().issuer, &begun.url, login).await;
    answer(app, &begun.cookie, &back).await
}

/// The browser session a successful answer set.
async fn session_of(app: &TestApp, r: &TestResponse) -> BrowserSession {
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("icts_session="))
        .unwrap_or_else(|| panic!("no session cookie: {r:?}"));
    let cookie = set.split(';').next().unwrap().to_string();
    let mut s = BrowserSession { cookie, csrf: String::new(), set_cookie: set };
    // A page every signed-in user reaches, even one who must register a key first.
    let page = app.send(s.get("/account/security-keys")).await;
    s.csrf = extract_csrf(&page.text()).expect("pages carry the CSRF token");
    s
}

fn refusal_reason(app_events: &[serde_json::Value]) -> Vec<String> {
    app_events
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .map(|e| e["changes"]["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_user_an_admin_created_signs_in_through_the_provider_and_lands_home_with_its_amr() {
    let app = app().await;
    let user = app.user("analyst").await;
    let page = app.get("/sign-in").await;
    assert!(page.text().contains("Sign in with Fixture ID"), "the sign-in page offers the provider");

    let login = Login { amr: "pwd,hwk,mfa", acr: AAL3, ..Login::new("sub-analyst-1", &user.email) };
    let r = sign_in_through(&app, &login, "/cases").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.text().contains(r#"content="0; url=/cases""#), "the page goes on to where the user was going");
    let s = session_of(&app, &r).await;
    let home = app.send(s.get("/")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains(&user.name), "signed in as the account's owner");

    // The provider's acr and amr are in the audit event and on the session.
    let signed = app.events("auth.sign_in").await;
    let ok = signed.iter().find(|e| e["outcome"] == "success").expect("a successful sign-in");
    assert_eq!(ok["changes"]["method"], "sso");
    assert_eq!(ok["changes"]["acr"], AAL3);
    assert_eq!(ok["changes"]["amr"], serde_json::json!(["pwd", "hwk", "mfa"]));
    assert_eq!(ok["object_id"], user.id.0.to_string());
    let linked = app.events("user.identity_linked").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["changes"]["subject"], "sub-analyst-1");
    let (method, acr, amr): (String, Option<String>, Vec<String>) =
        sqlx::query_as("SELECT sign_in_method, acr, amr FROM sessions WHERE user_id = $1")
            .bind(user.id.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((method.as_str(), acr.as_deref(), amr.len()), ("sso", Some(AAL3), 3));

    // Later the subject alone finds the account, whatever e-mail the provider gives.
    let again = Login::new("sub-analyst-1", "renamed@elsewhere.example");
    let r = sign_in_through(&app, &again, "/").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(app.events("user.identity_linked").await.len(), 1, "linked once");

    // The user sees it among their sign-in methods in the API, the admin on the account's page.
    let token = app.token(&user).await;
    let methods = app.send(crate::harness::api("GET", "/api/v1/me/sign-in-methods", &token, None)).await.json();
    assert_eq!(methods["identities"][0]["kind"], "sso");
    assert_eq!(methods["identities"][0]["subject"], "sub-analyst-1");
    let admin = app.user("admin").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let shown = app.send(a.get(&format!("/admin/users/{}", user.id.0))).await.text();
    assert!(shown.contains("Single sign-on at") && shown.contains("sub-analyst-1"), "{shown}");

    // Signing out ends the session here and offers the provider's sign-out.
    let out = app.send(s.post("/sign-out", &[])).await;
    assert_eq!(out.status, StatusCode::OK, "{out:?}");
    let text = out.text();
    assert!(text.contains("Sign out of Fixture ID too"), "{text}");
    let issuer = &Provider::shared().issuer;
    assert!(text.contains(&format!("{issuer}/session/end?")), "RP-initiated logout at the provider's endpoint: {text}");
    assert!(text.contains("id_token_hint=") && text.contains("post_logout_redirect_uri="), "{text}");
    let after = app.send(s.get("/account/sessions")).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session is over");
}

#[tokio::test]
async fn an_identity_with_no_account_is_refused_with_a_clear_page_and_an_audit_event() {
    let app = app().await;
    let r = sign_in_through(&app, &Login::new("sub-stranger", "stranger@agency.gov"), "/").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert!(r.text().contains("No account for this identity"));
    assert!(r.text().contains("stranger@agency.gov"));
    assert!(r.header("set-cookie").is_some_and(|c| !c.contains("icts_session=")), "no session");
    let events = app.events("auth.sign_in").await;
    assert_eq!(refusal_reason(&events), ["unknown_identity"]);
    assert_eq!(events[0]["changes"]["subject"], "sub-stranger");
    assert_eq!(app.count("sessions").await, 0);

    // An account's e-mail the provider has not verified does not link it.
    let user = app.user("analyst").await;
    let unverified = Login { verified: false, ..Login::new("sub-unverified", &user.email) };
    let r = sign_in_through(&app, &unverified, "/").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(app.count("user_identities").await, 0);
}

#[tokio::test]
async fn a_bad_state_and_a_replayed_answer_are_refused() {
    let app = app().await;
    let user = app.user("analyst").await;
    let issuer = &Provider::shared().issuer;
    let login = Login::new("sub-replay", &user.email);

    // A state that is not the one sent.
    let begun = begin(&app, "/").await;
    let back = at_provider(issuer, &begun.url, &login).await;
    let mut tampered = url::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = tampered
        .query_pairs()
        .map(|(k, v)| (k.to_string(), if k == "state" { format!("{v}x") } else { v.to_string() }))
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    let r = answer(&app, &begun.cookie, tampered.as_str()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.text().contains("state mismatch"), "{}", r.text());
    // The sign-in it belonged to is spent: the right answer is refused after it.
    let r = answer(&app, &begun.cookie, &back).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Without the browser's binding cookie, no answer is taken.
    let begun = begin(&app, "/").await;
    let back = at_provider(issuer, &begun.url, &login).await;
    let r = answer(&app, "icts_sso=forged", &back).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A good answer signs in once; replayed, it is refused.
    let begun = begin(&app, "/").await;
    let back = at_provider(issuer, &begun.url, &login).await;
    assert_eq!(answer(&app, &begun.cookie, &back).await.status, StatusCode::OK);
    let r = answer(&app, &begun.cookie, &back).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("was used already"));

    // The used code under a new sign-in's state: the provider refuses to exchange it.
    let used_code = url::Url::parse(&back).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    let fresh = begin(&app, "/").await;
    let state = url::Url::parse(&fresh.url).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.to_string();
    let forged = format!("http://localhost:8080/sign-in/sso/callback?code={used_code}&state={state}&iss={issuer}");
    let r = answer(&app, &fresh.cookie, &forged).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.text().contains("code refused"), "{}", r.text());

    let events = app.events("auth.sign_in").await;
    assert_eq!(
        refusal_reason(&events),
        ["state_mismatch", "no_sign_in_waiting", "no_sign_in_waiting", "no_sign_in_waiting", "code_refused"]
    );
    assert_eq!(events.iter().filter(|e| e["outcome"] == "success").count(), 1);
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    // This client's ID tokens live 30 seconds at the provider.
    let app = app_with(Provider::shared(), "icts-review-brief").await;
    let user = app.user("analyst").await;
    let begun = begin(&app, "/").await;
    let back = at_provider(&Provider::shared().issuer, &begun.url, &Login::new("sub-brief", &user.email)).await;
    app.clock.advance(time::Duration::minutes(2));
    let r = answer(&app, &begun.cookie, &back).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert_eq!(refusal_reason(&app.events("auth.sign_in").await), ["id_token_expired"]);
    assert_eq!(app.count("sessions").await, 0);
}

/// The S256 PKCE challenge of `verifier`.
fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[tokio::test]
async fn an_id_token_issued_to_another_client_is_refused_for_its_audience() {
    let app = app().await;
    let issuer = &Provider::shared().issuer;
    // Another relying party of the same provider gets a genuine ID token for itself.
    let verifier = "another-relying-party-verifier-0123456789-abcdefghijklmnop";
    let redirect = "http://127.0.0.1:9/other/callback";
    let mut auth = url::Url::parse(&format!("{issuer}/auth")).unwrap();
    auth.query_pairs_mut()
        .append_pair("client_id", "other-client")
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email")
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "s-1")
        .append_pair("nonce", "n-other")
        .append_pair("code_challenge", &challenge(verifier))
        .append_pair("code_challenge_method", "S256");
    let back = at_provider(issuer, auth.as_str(), &Login::new("sub-other", "someone@agency.gov")).await;
    let code = url::Url::parse(&back).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth("other-client", Some("other-client-fixture-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().expect("the other client's ID token");

    let sso = app.state.sso.clone().unwrap();
    match sso.check_id_token(id_token, "n-other", app.state.now()).await {
        Err(Refusal::Token { reason, .. }) => assert_eq!(reason, "id_token_wrong_audience"),
        other => panic!("a token for another client must be refused: {other:?}"),
    }
    // Its signature, issuer and times are good: only the audience is wrong (and a wrong
    // nonce is refused as such).
    let ours = app_with(Provider::shared(), "other-client").await;
    let sso = ours.state.sso.clone().unwrap();
    assert!(sso.check_id_token(id_token, "n-other", ours.state.now()).await.is_ok());
    match sso.check_id_token(id_token, "n-else", ours.state.now()).await {
        Err(Refusal::Token { reason, .. }) => assert_eq!(reason, "id_token_wrong_nonce"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn password_sign_in_off_for_supervisors_refuses_their_password_and_the_provider_still_signs_them_in() {
    let app = app().await;
    let admin = app.user("admin").await;
    let sup = app.user("supervisor").await;
    let analyst = app.user("analyst").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let page = app.send(a.get("/admin/sign-in-policy")).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut fields = vec![];
    for role in ["analyst", "supervisor", "auditor", "admin"] {
        fields.push((format!("version_{role}"), "1".to_string()));
        if role != "supervisor" {
            fields.push((format!("password_allowed_{role}"), "on".to_string()));
        }
        fields.push((format!("sso_assurance_{role}"), String::new()));
    }
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.send(a.post("/admin/sign-in-policy", &borrowed)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    let changed = app.events("sign_in_policy.changed").await;
    assert_eq!(changed.len(), 1, "one event, for the one role that changed");
    assert_eq!(changed[0]["changes"]["role"], "supervisor");
    assert_eq!(changed[0]["changes"]["password_allowed"]["after"], false);

    // The supervisor's right password is refused, on the page and in the API.
    let r = app.try_sign_in(&sup.email, &sup.password, None).await.expect_err("refused");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("does not sign in with a password: sign in with Fixture ID"), "{}", r.text());
    let body = serde_json::json!({"email": sup.email, "password": sup.password}).to_string();
    let api = app
        .send(
            Request::post("/api/v1/auth/token")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(refusal_reason(&app.events("auth.sign_in").await).iter().all(|r| r == "password_sign_in_off"));
    // A wrong password gets the same answer: the page tells nothing of the password.
    let wrong = app.try_sign_in(&sup.email, "not the password at all", None).await.expect_err("refused");
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.text().contains("does not sign in with a password"));
    // It is no guess: the account is not locked by it.
    for _ in 0..3 {
        let _ = app.try_sign_in(&sup.email, &sup.password, None).await;
    }
    let locked: Option<time::OffsetDateTime> = sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1")
        .bind(sup.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(locked.is_none());
    // Other roles still sign in with their password; the supervisor through the provider.
    app.sign_in(&analyst).await;
    let r = sign_in_through(&app, &Login::new("sub-sup", &sup.email), "/").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn password_sign_in_cannot_be_turned_off_without_a_provider() {
    let app = TestApp::new().await;
    let admin = app.user("admin").await;
    let a = app.sign_in(&admin).await;
    // The policy changes only after a step-up.
    let r =
        app.send(a.post("/admin/sign-in-policy", &[("version_admin", "1"), ("password_allowed_admin", "on")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header("location").as_deref(), Some("/account/reauth?next=%2Fadmin%2Fsign-in-policy"));
    assert!(app.events("sign_in_policy.changed").await.is_empty());
    app.reauth(&a, &admin.password).await;
    let r = app
        .send(a.post(
            "/admin/sign-in-policy",
            &[
                ("version_admin", "1"),
                ("sso_assurance_admin", ""),
                ("version_analyst", "1"),
                ("password_allowed_analyst", "on"),
                ("sso_assurance_analyst", ""),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let text = r.text();
    assert!(text.contains("Password sign-in of the admin role cannot be turned off"), "{text}");
    assert!(text.contains(r##"href="#password_allowed_admin""##), "the summary links to the field: {text}");
    assert!(app.events("sign_in_policy.changed").await.is_empty(), "nothing is written");
    app.sign_in(&admin).await;
}

#[tokio::test]
async fn a_roles_minimum_is_enforced_on_the_providers_acr_and_amr() {
    let app = app().await;
    let admin = app.user("admin").await;
    let sup = app.user("supervisor").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let r = app
        .send(a.post(
            "/admin/sign-in-policy",
            &[
                ("version_supervisor", "1"),
                ("password_allowed_supervisor", "on"),
                ("sso_assurance_supervisor", "hwk phr"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");

    let weak = Login { amr: "pwd,otp", ..Login::new("sub-sup-min", &sup.email) };
    let r = sign_in_through(&app, &weak, "/").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert!(r.text().contains("A stronger sign-in is needed") && r.text().contains("hwk, phr"), "{}", r.text());
    assert!(r.text().contains("fresh=1"), "it offers to sign in again at the provider");
    let events = app.events("auth.sign_in").await;
    assert_eq!(refusal_reason(&events), ["insufficient_assurance"]);
    let refused = events.iter().find(|e| e["changes"]["reason"] == "insufficient_assurance").unwrap();
    assert_eq!(refused["changes"]["amr"], serde_json::json!(["pwd", "otp"]));

    let strong = Login { amr: "hwk,pin,mfa", ..Login::new("sub-sup-min", &sup.email) };
    let r = sign_in_through(&app, &strong, "/").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn a_password_locked_account_still_signs_in_through_the_provider() {
    let app = app().await;
    let user = app.user("supervisor").await;
    for _ in 0..3 {
        let _ = app.try_sign_in(&user.email, "wrong password guess", None).await;
    }
    let r = app.try_sign_in(&user.email, &user.password, None).await.expect_err("locked for passwords");
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = sign_in_through(&app, &Login::new("sub-locked", &user.email), "/").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let s = session_of(&app, &r).await;
    assert_eq!(app.send(s.get("/")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_providers_keys_are_read_again_when_a_token_names_a_key_not_held() {
    let provider = Provider::start();
    let app = app_with(&provider, "icts-review").await;
    let user = app.user("analyst").await;
    let login = Login::new("sub-rotation", &user.email);
    let begun = begin(&app, "/").await;
    let back = at_provider(&provider.issuer, &begun.url, &login).await;
    assert_eq!(answer(&app, &begun.cookie, &back).await.status, StatusCode::OK);

    let rotated = reqwest::Client::new().post(format!("{}/test/rotate-keys", provider.issuer)).send().await.unwrap();
    assert_eq!(rotated.status(), 204);
    let begun = begin(&app, "/").await;
    let back = at_provider(&provider.issuer, &begun.url, &login).await;
    let r = answer(&app, &begun.cookie, &back).await;
    assert_eq!(r.status, StatusCode::OK, "signed with the new key: {r:?}");
}

/// In Chromium, as a user would: the sign-in page's button, the provider's page (on
/// another site: 127.0.0.1 against localhost), back signed in on the home page, and the
/// provider's sign-out offered at the end.
#[tokio::test]
async fn in_a_browser_a_user_signs_in_through_the_provider_and_is_offered_its_sign_out() {
    use crate::harness::{Browser, RunningServer, free_port, server_db};
    use fantoccini::Locator;
    let (_, url) = server_db().create_database().await;
    let config = crate::harness::test_config(&url);
    let pool = icts_review::db::pool_options(&config).connect(&url).await.unwrap();
    let input = icts_review::accounts::model::NewUser::parse(
        "sam.sso@agency.gov",
        "Sam Signon",
        "supervisor",
        "sam's long passphrase",
    )
    .unwrap();
    let now = icts_review::clock::Clock::now(&icts_review::clock::SystemClock);
    icts_review::accounts::service::create_user(&pool, now, &Default::default(), input, false).await.unwrap();

    let port = free_port();
    let base = format!("http://localhost:{port}");
    let provider = Provider::start_for(&base);
    let log = std::env::temp_dir().join(format!("icts-sso-server-{port}.log"));
    let args = [
        "--public-url",
        &base,
        "--oidc-issuer",
        &provider.issuer,
        "--oidc-client-id",
        "icts-review",
        "--oidc-client-secret",
        SECRET,
        "--oidc-name",
        "Fixture ID",
    ];
    let server = RunningServer::start_on(port, &args, &[("DATABASE_URL", url.as_str())], log).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{base}/sign-in?next=/cases")).await.unwrap();
    let button = c.wait().for_element(Locator::Css("[data-testid=sso-sign-in]")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Sign in with Fixture ID");
    browser.assert_accessible("the sign-in page with single sign-on").await;
    button.click().await.unwrap();
    // The provider's own page.
    c.wait().for_element(Locator::Css("input[name=sub]")).await.unwrap().send_keys("sub-sam").await.unwrap();
    c.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("sam.sso@agency.gov").await.unwrap();
    c.find(Locator::Css("form button")).await.unwrap().click().await.unwrap();
    let name = c.wait().for_element(Locator::Css("[data-testid=user-name]")).await.unwrap().text().await.unwrap();
    assert_eq!(name, "Sam Signon");
    let at = c.current_url().await.unwrap();
    assert_eq!(at.path(), "/cases", "on where the user was going, signed in: {at}");
    browser.screenshot("sso-signed-in").await;

    c.find(Locator::Css(".icts-user button[type=submit]")).await.unwrap().click().await.unwrap();
    let offer = c.wait().for_element(Locator::Css("[data-testid=provider-logout]")).await.unwrap();
    let href = offer.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with(&format!("{}/session/end?", provider.issuer)), "{href}");
    browser.assert_accessible("the signed-out page").await;
    browser.screenshot("sso-signed-out").await;
    c.goto(&format!("{base}/account/sessions")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in · ICTS Review", "the session is over");
    drop(server);
    browser.close().await;
}

#[tokio::test]
async fn a_step_up_through_the_provider_confirms_the_session_user_only() {
    let app = app().await;
    let admin = app.user("admin").await;
    let sup = app.user("supervisor").await;
    let other = app.user("analyst").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let r = app
        .send(a.post("/admin/sign-in-policy", &[("version_supervisor", "1"), ("sso_assurance_supervisor", "")]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "password sign-in off for supervisors: {r:?}");
    let issuer = &Provider::shared().issuer;
    let r = sign_in_through(&app, &Login::new("sub-step-up", &sup.email), "/").await;
    let s = session_of(&app, &r).await;

    // The step-up page offers the provider, not the password the role does not use.
    let page = app.send(s.get("/account/reauth?next=/determinations")).await.text();
    assert!(page.contains("Confirm with Fixture ID") && page.contains("Your role does not confirm with a password"));
    let r = app.send(s.post("/account/reauth", &[("password", &sup.password), ("next", "/")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the password does not confirm it: {r:?}");

    // Confirmed as someone else: refused.
    let go = |next: &'static str| {
        let s = s.clone();
        let app = &app;
        async move {
            let r = app.send(s.get(&format!("/account/reauth/sso?next={next}"))).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
            let binding = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
            let url = r.header("location").unwrap();
            assert!(
                url.contains("prompt=login") && url.contains("max_age=0"),
                "the provider authenticates again: {url}"
            );
            (format!("{}; {binding}", s.cookie), url)
        }
    };
    let (cookies, url) = go("/determinations").await;
    let back = at_provider(issuer, &url, &Login::new("sub-someone-else", &other.email)).await;
    let r = answer(&app, &cookies, &back).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert!(r.text().contains("The confirmation is not yours"));
    let reauth_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT reauth_at FROM sessions WHERE user_id = $1")
            .bind(sup.id.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(reauth_at.is_none());

    // Confirmed as the session's user: the session counts as re-authenticated.
    let (cookies, url) = go("/determinations").await;
    let back = at_provider(issuer, &url, &Login { amr: "hwk,pin", ..Login::new("sub-step-up", &sup.email) }).await;
    let r = answer(&app, &cookies, &back).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.text().contains(r#"content="0; url=/determinations""#));
    assert!(
        !r.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("icts_session=")),
        "the same session"
    );
    let reauth_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT reauth_at FROM sessions WHERE user_id = $1")
            .bind(sup.id.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(reauth_at.is_some());
    // The supervisor's step-up (the admin's, before the policy change, was by password).
    let events: Vec<serde_json::Value> =
        app.events("auth.reauthenticate").await.into_iter().filter(|e| e["actor_id"] == sup.id.0.to_string()).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["changes"]["method"], "sso");
    assert_eq!(events[0]["changes"]["amr"], serde_json::json!(["hwk", "pin"]));
    assert_eq!(refusal_reason(&app.events("auth.sign_in").await), ["reauth_mismatch"]);
}

#[tokio::test]
async fn a_provider_sign_in_stands_in_for_a_required_key_only_by_the_methods_the_role_lists() {
    let app = app().await;
    let admin = app.user("admin").await;
    let sup = app.user("supervisor").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let policy = |assurance: &'static str, version: &'static str| {
        let a = a.clone();
        let app = &app;
        async move {
            let r = app
                .send(a.post(
                    "/admin/sign-in-policy",
                    &[
                        ("version_supervisor", version),
                        ("password_allowed_supervisor", "on"),
                        ("require_security_key_supervisor", "on"),
                        ("sso_assurance_supervisor", assurance),
                    ],
                ))
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
        }
    };
    // A key is required and the provider's methods are not named: its sign-in is not a key.
    policy("", "1").await;
    let r = sign_in_through(&app, &Login::new("sub-sup-key", &sup.email), "/").await;
    let s = session_of(&app, &r).await;
    let home = app.send(s.get("/cases")).await;
    assert_eq!(home.header("location").as_deref(), Some("/account/security-keys?required=1"));
    // Named, a sign-in by one of them stands in for the key.
    policy("hwk", "2").await;
    let strong = Login { amr: "hwk,pin", ..Login::new("sub-sup-key", &sup.email) };
    let r = sign_in_through(&app, &strong, "/").await;
    let s = session_of(&app, &r).await;
    assert_eq!(app.send(s.get("/cases")).await.status, StatusCode::OK);
}
