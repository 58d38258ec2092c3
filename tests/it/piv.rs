//! Card (PIV/CAC) sign-in behind the agency's reverse proxy: the subject header is
//! believed only on connections from the configured proxy.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};

use crate::harness::{BrowserSession, TestApp, TestResponse, extract_csrf};

const HEADER: &str = "x-client-subject";
const DN: &str = "CN=DOE.JANE.Q.1234567890,OU=PKI,OU=DoD,O=U.S. Government,C=US";

async fn app() -> TestApp {
    TestApp::with(|c| {
        c.piv = Some(icts_review::config::PivSettings {
            header: HEADER.to_string(),
            proxies: vec!["10.20.0.0/16".parse().unwrap()],
            issuers: None,
        })
    })
    .await
}

/// `GET /sign-in/piv` from `peer`, with the card `subject` if any.
async fn card(app: &TestApp, peer: &str, subject: Option<&str>) -> TestResponse {
    let mut r = Request::get("/sign-in/piv?next=/cases");
    if let Some(s) = subject {
        r = r.header(HEADER, s);
    }
    let mut r = r.body(Body::empty()).unwrap();
    r.extensions_mut().insert(ConnectInfo(format!("{peer}:443").parse::<SocketAddr>().unwrap()));
    app.send(r).await
}

async fn session_of(app: &TestApp, r: &TestResponse) -> BrowserSession {
    let set = r.header("set-cookie").expect("a session cookie");
    let mut s =
        BrowserSession { cookie: set.split(';').next().unwrap().to_string(), csrf: String::new(), set_cookie: set };
    s.csrf = extract_csrf(&app.send(s.get("/account/sessions")).await.text()).unwrap();
    s
}

#[tokio::test]
async fn a_card_the_proxy_verified_signs_in_once_an_admin_linked_it_and_only_through_the_proxy() {
    let app = app().await;
    let admin = app.user("admin").await;
    let sup = app.user("supervisor").await;
    assert!(app.get("/sign-in").await.text().contains("Sign in with your PIV or CAC card"));

    // Not linked yet: refused, with the card's subject in the event.
    let r = card(&app, "10.20.1.5", Some(DN)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert!(r.text().contains("No account for this card"));
    let failed = app.events("auth.sign_in").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["changes"]["reason"], "unknown_identity");
    assert_eq!(failed[0]["changes"]["subject"], DN);

    // An admin links the card on the account's page (a bad subject is named first). The
    // account is a supervisor's: the link waits for a second administrator.
    let second = app.user("admin").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let page = app.send(a.get(&format!("/admin/users/{}", sup.id.0))).await.text();
    assert!(page.contains("Link a card"));
    let r = app.send(a.post(&format!("/admin/users/{}/cards", sup.id.0), &[("subject", "  ")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("Certificate subject must be 1 to 1,024 characters"), "{}", r.text());
    let r = app.send(a.post(&format!("/admin/users/{}/cards", sup.id.0), &[("subject", DN)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert!(r.header("location").unwrap().ends_with("?done=card-requested"));
    assert!(
        app.events("user.identity_linked").await.is_empty(),
        "one administrator alone links no card to a supervisor"
    );
    assert_eq!(card(&app, "10.20.1.5", Some(DN)).await.status, StatusCode::FORBIDDEN);
    let token = app.token(&second).await;
    let list = app.send(crate::harness::api("GET", "/api/v1/approvals", &token, None)).await.json();
    assert_eq!(list[0]["kind"], "card_link");
    assert_eq!(list[0]["subject"], DN);
    let approve = serde_json::json!({"decision": "approve"});
    let path = format!("/api/v1/approvals/{}", list[0]["id"].as_str().unwrap());
    let r = app.send(crate::harness::api("POST", &path, &token, Some(approve))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let linked = app.events("user.identity_linked").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["changes"]["by"], "admin");
    assert_eq!(linked[0]["actor_id"], second.id.0.to_string());
    let r = app.send(a.post(&format!("/admin/users/{}/cards", admin.id.0), &[("subject", DN)])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a card belongs to one account");
    // An analyst's card is one administrator's to link.
    let analyst = app.user("analyst").await;
    let r = app.send(a.post(&format!("/admin/users/{}/cards", analyst.id.0), &[("subject", "CN=ROE.RICH.222")])).await;
    assert!(r.header("location").unwrap().ends_with("?done=card-linked"), "{r:?}");

    // Through the proxy the card signs in, even while the password is locked.
    for _ in 0..3 {
        let _ = app.try_sign_in(&sup.email, "a wrong guess", None).await;
    }
    let r = card(&app, "10.20.1.5", Some(DN)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert_eq!(r.header("location").as_deref(), Some("/cases"));
    let s = session_of(&app, &r).await;
    assert!(app.send(s.get("/")).await.text().contains(&sup.name));
    let ok = app.events("auth.sign_in").await.into_iter().rfind(|e| e["outcome"] == "success").unwrap();
    assert_eq!(ok["changes"]["method"], "piv");
    assert_eq!(ok["changes"]["amr"], serde_json::json!(["sc", "hwk", "pin", "mfa"]));

    // The same header from anywhere else is not believed; no header is no card.
    let sessions = app.count("sessions").await;
    let r = card(&app, "192.0.2.66", Some(DN)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("did not come through the agency"));
    let r = card(&app, "10.20.1.5", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = card(&app, "10.20.1.5", Some("(null)")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("sessions").await, sessions, "no session from any of them");
    let refused: Vec<String> = app
        .events("access.refused")
        .await
        .iter()
        .map(|e| e["changes"]["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(refused.iter().any(|r| r == "piv_untrusted_proxy"), "{refused:?}");

    // Removing the card ends its sign-ins.
    let r = app
        .send(a.post(
            &format!("/admin/users/{}/identities/remove", sup.id.0),
            &[("issuer", "urn:icts-review:piv"), ("subject", DN)],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let unlinked = app.events("user.identity_unlinked").await;
    assert_eq!(unlinked.len(), 1);
    assert_eq!(unlinked[0]["changes"]["sessions_ended"], 1, "the card's session ends with it");
    assert_eq!(app.send(s.get("/account/sessions")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(card(&app, "10.20.1.5", Some(DN)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_card_whose_upn_is_the_accounts_e_mail_links_itself_and_the_role_policy_applies() {
    let app = app().await;
    let analyst = app.user("analyst").await;
    let r = card(&app, "10.20.9.9", Some(&analyst.email.to_uppercase())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert_eq!(app.events("user.identity_linked").await[0]["changes"]["by"], "sign_in");

    // A role whose policy asks for what a card does not give refuses it.
    let admin = app.user("admin").await;
    let a = app.sign_in(&admin).await;
    app.reauth(&a, &admin.password).await;
    let r = app
        .send(a.post(
            "/admin/sign-in-policy",
            &[("version_analyst", "1"), ("password_allowed_analyst", "on"), ("sso_assurance_analyst", "phrh")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = card(&app, "10.20.9.9", Some(&analyst.email)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let last = app.events("auth.sign_in").await.pop().unwrap();
    assert_eq!(last["changes"]["reason"], "insufficient_assurance");
}

const ISSUER_HEADER: &str = "x-client-issuer";
const AGENCY_CA: &str = "CN=Agency PIV CA 2,OU=Certification Authorities,O=U.S. Government,C=US";

/// `GET /sign-in/piv` through the proxy with the card `subject` issued by `issuer`.
async fn card_from(app: &TestApp, subject: &str, issuer: Option<&str>) -> TestResponse {
    let mut r = Request::get("/sign-in/piv?next=/cases").header(HEADER, subject);
    if let Some(i) = issuer {
        r = r.header(ISSUER_HEADER, i);
    }
    let mut r = r.body(Body::empty()).unwrap();
    r.extensions_mut().insert(ConnectInfo("10.20.1.5:443".parse::<SocketAddr>().unwrap()));
    app.send(r).await
}

#[tokio::test]
async fn a_card_from_an_issuer_the_proxy_trusts_but_the_agency_does_not_is_refused() {
    let app = TestApp::with(|c| {
        c.piv = Some(icts_review::config::PivSettings {
            header: HEADER.to_string(),
            proxies: vec!["10.20.0.0/16".parse().unwrap()],
            issuers: Some((ISSUER_HEADER.to_string(), vec![AGENCY_CA.to_string()])),
        })
    })
    .await;
    let admin = app.user("admin").await;
    // A certificate from another issuer the proxy trusts, whose UPN is the administrator's
    // e-mail: it would link itself by the e-mail; it is refused before any account is read.
    let sessions = app.count("sessions").await;
    let foreign = "CN=Commercial PIV-I CA,O=Example Trust,C=US";
    let r = card_from(&app, &admin.email, Some(foreign)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert!(r.text().contains("does not sign in here"));
    let refused = app.events("auth.sign_in").await.pop().unwrap();
    assert_eq!(refused["outcome"], "failure");
    assert_eq!(refused["changes"]["reason"], "piv_untrusted_issuer");
    assert_eq!(refused["changes"]["issuer"], foreign);
    assert_eq!(refused["changes"]["subject"], admin.email.as_str());
    // No issuer forwarded is no accepted issuer either, and a header given twice (the
    // client's own beside the proxy's) is no card.
    assert_eq!(card_from(&app, &admin.email, None).await.status, StatusCode::FORBIDDEN);
    let mut twice = Request::get("/sign-in/piv")
        .header(HEADER, admin.email.as_str())
        .header(ISSUER_HEADER, AGENCY_CA)
        .header(ISSUER_HEADER, foreign)
        .body(Body::empty())
        .unwrap();
    twice.extensions_mut().insert(ConnectInfo("10.20.1.5:443".parse::<SocketAddr>().unwrap()));
    assert_eq!(app.send(twice).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("sessions").await, sessions, "no session");
    assert!(app.events("user.identity_linked").await.is_empty(), "nothing linked");
    // The agency's own card signs in (and links itself by the UPN).
    let r = card_from(&app, &admin.email, Some(AGENCY_CA)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert_eq!(app.events("user.identity_linked").await.len(), 1);
}
