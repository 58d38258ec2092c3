//! Page forms answer as browsers expect (post, redirect, get): a form that succeeded
//! answers `303 See Other` to the page that shows its result, and that page shows the
//! confirmation once; a refused form answers with its page, the error summary and what
//! was entered.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use icts_review::web::flash::Flash;
use serde_json::json;

use crate::harness::{BrowserSession, TestApp, TestResponse, api};

/// A case filed through the API by `token`: its id.
async fn case(app: &TestApp, token: &str) -> String {
    let body = json!({
        "title": "Router firmware", "summary": "Firmware updates pushed from abroad.", "origin": "own_initiative",
        "category": "network_infrastructure", "adversaries": ["CN"], "restricted": false,
    });
    let r = app.send(api("POST", "/api/v1/cases", token, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// `GET path` with the session's cookie and `more` cookies.
async fn get_with(app: &TestApp, s: &BrowserSession, path: &str, more: &[&str]) -> TestResponse {
    let cookie = std::iter::once(s.cookie_header()).chain(more.iter().map(|c| c.to_string())).collect::<Vec<_>>();
    app.send(Request::get(path).header("cookie", cookie.join("; ")).body(Body::empty()).unwrap()).await
}

/// The banner a page shows a form's outcome in.
fn banner(r: &TestResponse) -> Option<String> {
    let html = r.text();
    let rest = html.split("data-testid=\"message\">").nth(1)?;
    Some(rest.split('<').next().unwrap().to_string())
}

#[tokio::test]
async fn a_form_that_succeeded_answers_see_other_and_its_page_shows_the_message_once() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let id = case(&app, &app.token(&analyst).await).await;
    let s = app.sign_in(&analyst).await;
    let notes = app.count("case_notes").await;

    let r = app.send(s.post(&format!("/cases/{id}/notes"), &[("body", "The vendor called back.")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{r:?}");
    assert_eq!(r.header("location"), Some(format!("/cases/{id}")));
    assert!(r.body.is_empty());
    assert_eq!(app.count("case_notes").await, notes + 1);
    // The message rides in a short-lived cookie with the session cookie's attributes.
    let set = r.header("set-cookie").expect("the answer carries the message");
    let flash = set.split(';').next().unwrap().to_string();
    assert!(flash.starts_with("icts_flash="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
        assert!(set.split("; ").any(|a| a == attribute), "{attribute} in {set}");
    }

    // The page it names shows the message and clears the cookie.
    let page = get_with(&app, &s, &format!("/cases/{id}"), &[&flash]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(banner(&page).as_deref(), Some("Note added."));
    assert!(page.text().contains("The vendor called back."));
    let cleared = page.header("set-cookie").expect("the page clears the message");
    assert!(cleared.starts_with("icts_flash=;") && cleared.contains("Max-Age=0"), "{cleared}");
    // Loaded again, it shows the page alone and writes nothing.
    let again = app.send(s.get(&format!("/cases/{id}"))).await;
    assert_eq!((again.status, banner(&again)), (StatusCode::OK, None));
    assert_eq!(app.count("case_notes").await, notes + 1);
    assert_eq!(app.events("case.note_added").await.len(), 1);

    // A message for another page waits for it: the list neither shows nor clears it.
    let list = get_with(&app, &s, "/cases", &[&flash]).await;
    assert_eq!(banner(&list), None);
    assert!(list.header("set-cookie").is_none(), "{list:?}");
    // Another session's message, or an altered one, is not shown, and is cleared.
    let other = app.sign_in(&analyst).await;
    let page = get_with(&app, &other, &format!("/cases/{id}"), &[&flash]).await;
    assert_eq!(banner(&page), None);
    assert!(page.header("set-cookie").unwrap().contains("Max-Age=0"));
    let (value, tag) = flash.split_once('.').unwrap();
    let altered = format!("{}A.{tag}", value);
    let page = get_with(&app, &s, &format!("/cases/{id}"), &[&altered]).await;
    assert_eq!(banner(&page), None);
    // The message is text: markup in it is shown, never run.
    let secret = s.cookie.split_once('=').unwrap().1;
    let marked = Flash::done("<script>alert(1)</script> & more").sealed(secret, &format!("/cases/{id}"));
    let page = get_with(&app, &s, &format!("/cases/{id}"), &[&format!("icts_flash={marked}")]).await;
    assert_eq!(banner(&page).as_deref(), Some("&#60;script&#62;alert(1)&#60;/script&#62; &#38; more"));
    assert!(!page.text().contains("<script>alert(1)"));
}

#[tokio::test]
async fn a_refused_form_answers_422_with_its_page_errors_and_what_was_entered() {
    let app = TestApp::new().await;
    let analyst = app.user("analyst").await;
    let id = case(&app, &app.token(&analyst).await).await;
    let s = app.sign_in(&analyst).await;
    let (rows, events) = (app.count("transactions").await, app.count("audit_events").await);
    let r = app
        .send(s.post(
            &format!("/cases/{id}/transactions"),
            &[("item", "Edge router firmware"), ("kind", "installation"), ("status", "ongoing"), ("value_usd", "lots")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.header("location").is_none() && r.header("set-cookie").is_none(), "{r:?}");
    let html = r.text();
    assert!(html.contains("data-testid=\"error-summary\""), "{html}");
    assert!(html.contains(r##"href="#tx-value_usd""##), "the summary links to the field: {html}");
    assert!(html.contains("value=\"Edge router firmware\"") && html.contains("value=\"lots\""), "kept: {html}");
    assert_eq!((app.count("transactions").await, app.count("audit_events").await), (rows, events));

    // The same form corrected is recorded once and lands on the case page.
    let r = app
        .submit(s.post(
            &format!("/cases/{id}/transactions"),
            &[("item", "Edge router firmware"), ("kind", "installation"), ("status", "ongoing"), ("value_usd", "1200")],
        ))
        .await;
    assert_eq!((r.status, banner(&r).as_deref()), (StatusCode::OK, Some("Transaction recorded.")));
    assert_eq!(app.count("transactions").await, rows + 1);
}
