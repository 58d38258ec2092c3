//! The supervisor's home page: what awaits their signature says why it cannot be signed
//! yet, and a case appears in one list of work only.

use crate::determinations::{Office, content, draft};
use crate::harness::api;
use axum::http::StatusCode;
use serde_json::json;

/// The part of a page inside the element with `data-testid="{id}"` (up to its `</section>`).
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("data-testid=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The case ids linked from a part of a page.
fn cases_in(part: &str) -> Vec<String> {
    part.match_indices("href=\"/cases/").map(|(i, m)| part[i + m.len()..i + m.len() + 36].to_string()).collect()
}

#[tokio::test]
async fn referrals_and_the_unassigned_queue_share_no_case_and_a_waiting_signature_says_why() {
    let o = Office::new().await;
    let app = &o.app;
    // Referrals a supervisor filed: at intake and unassigned, waiting for a disposition.
    let mut referrals = Vec::new();
    for i in 0..3 {
        let body = json!({"title": format!("Referral {i}"), "summary": "s", "origin": "own_initiative", "category": "connected_software", "adversaries": ["RU"], "restricted": false});
        let r = app.send(api("POST", "/api/v1/cases", &o.ts2, Some(body))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        referrals.push(r.json()["id"].as_str().unwrap().to_string());
    }
    // An accepted case nobody works: unassigned, past intake.
    let accepted = referrals.pop().unwrap();
    let r = app
        .send(api("POST", &format!("/api/v1/cases/{accepted}/transitions"), &o.ts2, Some(json!({"action": "accept"}))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(api("POST", "/api/v1/cases/assign", &o.ts2, Some(json!({"cases": [accepted], "assignee": null}))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Two drafts awaiting the supervisor's signature: an initial one on a case at its
    // initial determination, which can be signed now, and a final one on a case in the
    // parties' response window, which cannot be signed yet.
    let mut o = o;
    let later = o.at_initial_determination(false).await;
    crate::determinations::signed(&o.app, &o.ta, (&o.sup2, &o.ts2), &later, "initial", "prohibition").await;
    o.app.clock.advance(time::Duration::days(21));
    o.refresh().await;
    let today = o.app.state.now().date().to_string();
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{later}/transitions"),
            &o.ta,
            Some(json!({"action": "serve_initial_determination", "date": today, "method": "electronic_transmission"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let case = o.at_initial_determination(false).await;
    let app = &o.app;
    let mut drafts = Vec::new();
    for (case, kind, outcome) in [(&case, "initial", "prohibition"), (&later, "final", "prohibited")] {
        let body = content(app, &o.ta, case, kind, outcome).await;
        let r = draft(app, &o.ta, case, kind, outcome, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{kind}: {}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        let r = app.send(api("POST", &format!("/api/v1/determinations/{id}/submit"), &o.ta, None)).await;
        assert_eq!(r.status, StatusCode::OK, "{kind}: {}", r.text());
        drafts.push(id);
    }

    let s = app.sign_in(&o.sup).await;
    let page = app.send(s.get("/")).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    let (to_decide, unassigned) = (section(&page, "referrals"), section(&page, "unassigned"));
    let (to_decide, unassigned) = (cases_in(to_decide), cases_in(unassigned));
    for r in &referrals {
        assert!(to_decide.contains(r), "a referral to decide is listed there: {to_decide:?}");
    }
    assert!(unassigned.contains(&accepted), "{unassigned:?}");
    assert!(!to_decide.contains(&accepted));
    assert!(
        to_decide.iter().all(|c| !unassigned.contains(c)),
        "the lists share no case: {to_decide:?} / {unassigned:?}"
    );
    // The full list the unassigned queue links to leaves the referrals out as well.
    let more = section(&page, "unassigned");
    assert!(!more.contains("href=\"/cases?") || more.contains("except_stage=intake"), "{more}");
    let full = app.send(s.get("/cases?assignee=unassigned&open=true&except_stage=intake&sort=triage")).await.text();
    assert!(full.contains(&accepted) && referrals.iter().all(|r| !full.contains(r.as_str())));
    assert!(full.contains("Leaving out cases at"), "the filter shows and can be removed");

    // Each determination awaiting signature: the final one says why it waits, in the
    // words signing would refuse with; the initial one says nothing of the kind.
    let to_sign = section(&page, "to-sign");
    let item = |id: &str| {
        let at = to_sign.find(&format!("/determinations/{id}")).unwrap_or_else(|| panic!("{id} listed: {to_sign}"));
        let rest = &to_sign[at..];
        rest[..rest.find("</li>").unwrap()].to_string()
    };
    let (initial, fin) = (item(&drafts[0]), item(&drafts[1]));
    assert!(!initial.contains("data-testid=\"waits\""), "{initial}");
    assert!(fin.contains("data-testid=\"waits\"") && fin.contains("Cannot be signed yet"), "{fin}");
    assert!(fin.contains("a final determination is signed once the case is at Final determination"), "{fin}");
    // Signing it is refused for that reason.
    crate::determinations::reauth(app, &o.ts, &o.sup).await;
    let r = app.send(api("POST", &format!("/api/v1/determinations/{}/sign", drafts[1]), &o.ts, None)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("a final determination is signed once the case is at Final determination"));
}
