//! The legal record: every act on the date it took effect (apart from when and by whom it
//! was recorded), the rule version by the acceptance date, and the order the rule imposes
//! (the response window, emergency deviations, consensus under the 2021 rule).

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use crate::determinations::{Office, concur, content, draft, notice, reauth, signed};
use crate::harness::api;

async fn act(o: &Office, token: &str, id: &str, body: Value) -> crate::harness::TestResponse {
    o.app.send(api("POST", &format!("/api/v1/cases/{id}/transitions"), token, Some(body))).await
}

async fn file(o: &Office) -> String {
    let body = json!({
        "title": "Anti-virus software with kernel access",
        "summary": "Security software whose updates are controlled from a foreign adversary's jurisdiction.",
        "origin": "agency_referral", "referring_agency": "DOJ", "referral_date": "2021-08-16",
        "category": "connected_software", "adversaries": ["RU"]
    });
    let r = o.app.send(api("POST", "/api/v1/cases", &o.ta, Some(body))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

fn error_of(r: &crate::harness::TestResponse, field: &str) -> String {
    let v = r.json();
    v["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|x| x["field"] == field))
        .and_then(|x| x["message"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {v}"))
        .to_string()
}

#[tokio::test]
async fn acts_carry_their_dates_and_the_rule_follows_the_acceptance_date() {
    let o = Office::new().await;
    let id = file(&o).await;
    let today = o.app.state.now().date();

    // A date in the future is refused, naming both dates.
    let tomorrow = (today + Duration::days(1)).to_string();
    let r = act(&o, &o.ts, &id, json!({"action": "accept", "date": tomorrow})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let m = error_of(&r, "date");
    assert!(m.contains(&tomorrow) && m.contains(&today.to_string()), "{m}");

    // Recorded years after the act: a written reason is required.
    let r = act(&o, &o.ts, &id, json!({"action": "accept", "date": "2021-09-01"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "late_reason").contains("2021-09-01"));
    let r = act(
        &o,
        &o.ts,
        &id,
        json!({"action": "accept", "date": "2021-09-01", "late_reason": "Moved in from the office's paper docket."}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["rule_version"], "ifr-2021", "the rule in force on the acceptance date, not today's");
    assert_eq!(v["dates"]["accepted_on"], "2021-09-01");
    let fin = v["clocks"].as_array().unwrap().iter().find(|c| c["name"] == "final_determination").unwrap().clone();
    assert_eq!(fin["due"], "2022-02-28", "180 days after acceptance under the interim rule");

    // The audit event keeps the date of the act apart from when and by whom it was recorded.
    let e = o.app.events("case.transition").await.pop().unwrap();
    assert_eq!(e["changes"]["on"], "2021-09-01");
    assert_eq!(e["changes"]["late_reason"], "Moved in from the office's paper docket.");
    assert_eq!(e["actor_id"], json!(o.sup.id));

    // A notice dated before the acceptance is refused, naming both dates.
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/agency-notices"),
            &o.ta,
            Some(json!({"step": "first", "agency": "DHS", "sent_on": "2021-08-30", "late_reason": "paper file"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let m = error_of(&r, "sent_on");
    assert!(m.contains("2021-08-30") && m.contains("2021-09-01"), "{m}");
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/agency-notices"),
            &o.ta,
            Some(json!({"step": "first", "agency": "DHS", "sent_on": "2021-09-14", "late_reason": "paper file"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The workflow act may not precede the act that brought the case to its stage.
    let r = act(&o, &o.ta, &id, json!({"action": "notify_agencies", "date": "2021-08-31", "late_reason": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "date").contains("2021-09-01"));
    let r = act(&o, &o.ta, &id, json!({"action": "notify_agencies", "date": "2021-09-14", "late_reason": "x"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["dates"]["agencies_notified_on"], "2021-09-14");

    // The case page reads in the order of the acts and says which were recorded late.
    let s = o.app.sign_in(&o.sup).await;
    let page = o.app.send(s.get(&format!("/cases/{id}"))).await.text();
    assert!(page.contains("2021-09-01 · Accept for review"), "the act's date leads its timeline entry");
    assert!(page.contains("recorded late") && page.contains("Moved in from the office"));
    assert!(page.contains("accepted 2021-09-01"));

    // A supervisor may keep the case under the other rule, with a reason; audited and shown.
    let rule = |token: &str, body: Value| api("POST", &format!("/api/v1/cases/{id}/rule"), token, Some(body));
    let r = o.app.send(rule(&o.ta, json!({"rule_version": "final-2025", "reason": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = o.app.send(rule(&o.ts, json!({"rule_version": "final-2025", "reason": " "}))).await;
    assert!(!error_of(&r, "reason").is_empty());
    let r = o
        .app
        .send(rule(
            &o.ts,
            json!({"rule_version": "final-2025", "reason": "The office applies the final rule to pending cases."}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["rule_version"], "final-2025");
    assert_eq!(v["rule_reason"], "The office applies the final rule to pending cases.");
    let e = o.app.events("case.rule_set").await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["changes"]["in_force_on_acceptance"], "ifr-2021");
    let page = o.app.send(s.get(&format!("/cases/{id}"))).await.text();
    assert!(page.contains("Set by a supervisor: The office applies the final rule to pending cases."));
}

#[tokio::test]
async fn the_response_window_holds_the_proposed_final_determination_back() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    let today = o.app.state.now().date();
    // Service cannot precede the signature.
    let early = (today - Duration::days(22)).to_string();
    let r = act(
        &o,
        &o.ta,
        &id,
        json!({"action": "serve_initial_determination", "date": early, "method": "electronic_transmission", "late_reason": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "date").contains(&early));
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    assert_eq!(r.status, StatusCode::OK, "dated today when no date is given: {}", r.text());
    assert_eq!(r.json()["dates"]["served_on"], today.to_string());
    let window_end = (today + Duration::days(30)).to_string();
    // A response dated before service is refused.
    let sub = |on: String| {
        api(
            "POST",
            &format!("/api/v1/cases/{id}/submissions"),
            &o.ta,
            Some(json!({"kind": "written_response", "received_on": on, "summary": "We disagree."})),
        )
    };
    let r = o.app.send(sub((today - Duration::days(1)).to_string())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "received_on").contains(&today.to_string()));
    assert_eq!(o.app.send(sub(today.to_string())).await.status, StatusCode::CREATED);
    notice(&o.app, &o.ta, &id, "second", "STATE").await;

    // Inside the parties' 30 days the proposed final determination is not circulated.
    let r = act(&o, &o.ta, &id, json!({"action": "circulate_final_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains(&window_end), "{}", r.text());

    // An emergency deviation (supervisors, with a written justification) lifts the hold.
    let dev = |token: &str, body: Value| api("POST", &format!("/api/v1/cases/{id}/deviations"), token, Some(body));
    assert_eq!(o.app.send(dev(&o.ta, json!({"justification": "x"}))).await.status, StatusCode::FORBIDDEN);
    let r = o.app.send(dev(&o.ts, json!({}))).await;
    assert!(!error_of(&r, "justification").is_empty());
    let r = o
        .app
        .send(dev(
            &o.ts,
            json!({"justification": "The Secretary found an emergency: the party is shipping updates now."}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(o.app.events("case.emergency_deviation").await.len(), 1);
    let r = act(&o, &o.ta, &id, json!({"action": "circulate_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = o.app.send(o.app.sign_in(&o.sup).await.get(&format!("/cases/{id}/proceedings"))).await.text();
    assert!(page.contains("Emergency deviation from the procedure") && page.contains("shipping updates now"));
}

#[tokio::test]
async fn under_the_2021_rule_silence_is_not_concurrence() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    // Keep this case under the interim rule (a supervisor's recorded choice).
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/rule"),
            &o.ts,
            Some(json!({"rule_version": "ifr-2021", "reason": "Accepted under the interim rule's procedure."})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "electronic_transmission"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    o.app.clock.advance(Duration::days(31));
    o.refresh().await;
    let n = notice(&o.app, &o.ta, &id, "second", "DOD").await;
    let r = act(&o, &o.ta, &id, json!({"action": "circulate_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "the window has closed: {}", r.text());
    o.app.clock.advance(Duration::days(20));
    o.refresh().await;
    let r = act(&o, &o.ta, &id, json!({"action": "begin_final_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "20 days of silence: {}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("consensus"));
    concur(&o.app, &o.ta, &n).await;
    let r = act(&o, &o.ta, &id, json!({"action": "begin_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "every notified agency concurred: {}", r.text());
}

#[tokio::test]
async fn a_final_determination_says_what_the_rule_asks_and_the_public_form_redacts_cbi_spans() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    // Two measures proposed: one is rejected with its reason.
    let mut ids = Vec::new();
    for (kind, text) in [
        ("third_party_monitor", "An independent monitor of updates."),
        ("data_localisation", "US data kept in the US."),
    ] {
        let r = o
            .app
            .send(api(
                "POST",
                &format!("/api/v1/cases/{id}/measures"),
                &o.ta,
                Some(json!({"kind": kind, "description": text, "owner": "Supplier"})),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/measures/{}/status", ids[0]),
            &o.ts,
            Some(json!({"status": "rejected", "comment": "A monitor cannot see the signed update channel.", "version": 1})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    assert_eq!(
        act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "personal_delivery"}))
            .await
            .status,
        StatusCode::OK
    );
    o.app.clock.advance(Duration::days(31));
    o.refresh().await;
    let n = notice(&o.app, &o.ta, &id, "second", "DOJ").await;
    assert_eq!(act(&o, &o.ta, &id, json!({"action": "circulate_final_determination"})).await.status, StatusCode::OK);
    concur(&o.app, &o.ta, &n).await;
    assert_eq!(act(&o, &o.ta, &id, json!({"action": "begin_final_determination"})).await.status, StatusCode::OK);

    // Not prohibited: the statement that it may be reviewed again is required.
    let mut body = content(&o.app, &o.ta, &id, "final", "not_prohibited").await;
    body["risk_analysis"] = json!("Revenue of [CBI]$4.2 million a year[/CBI] depends on US customers.");
    let r = draft(&o.app, &o.ta, &id, "final", "not_prohibited", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "future_review").contains("reviewed again"));
    body["future_review"] = json!("The transaction may be reviewed again in the future.");
    let r = o
        .app
        .send(api(
            "PATCH",
            &format!("/api/v1/determinations/{did}"),
            &o.ta,
            Some(json!({"outcome": "not_prohibited", "content": body, "unclassified_confirmed": true, "revision": 1})),
        ))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    reauth(&o.app, &o.ts2, &o.sup2).await;
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/sign"), &o.ts2, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Notice and publication (7.109(e)-(f)), each dated, not before the signature.
    let today = o.app.state.now().date();
    let send = |body: Value| api("POST", &format!("/api/v1/determinations/{did}/sendings"), &o.ta, Some(body));
    let r = o
        .app
        .send(send(
            json!({"recipient": "Example Supplier Ltd.", "recipient_kind": "party", "method": "registered_mail",
            "sent_on": (today - Duration::days(1)).to_string()}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "sent_on").contains(&today.to_string()), "names the signature date");
    for (to, kind, method) in [
        ("Example Supplier Ltd.", "party", "registered_mail"),
        ("Example Supplier Ltd.", "party", "electronic_mail"),
        ("Department of Justice", "agency", "electronic_mail"),
    ] {
        let r = o.app.send(send(json!({"recipient": to, "recipient_kind": kind, "method": method}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let publish = |body: Value| api("POST", &format!("/api/v1/determinations/{did}/publication"), &o.ta, Some(body));
    let r = o
        .app
        .send(publish(json!({"published_on": today.to_string(), "citation": "page 52434", "document_number": "13532"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!error_of(&r, "citation").is_empty() && !error_of(&r, "document_number").is_empty());
    let body = json!({"published_on": today.to_string(), "citation": "91  fr 12345", "document_number": "2026-01234"});
    let r = o.app.send(publish(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["citation"], "91 FR 12345");
    assert_eq!(o.app.send(publish(body)).await.status, StatusCode::CONFLICT, "published once");
    let notice = o.app.send(api("GET", &format!("/api/v1/determinations/{did}/notice"), &o.ta, None)).await.json();
    assert_eq!(notice["sendings"].as_array().unwrap().len(), 3);
    assert_eq!(notice["publication"]["document_number"], "2026-01234");

    let s = o.app.sign_in(&o.sup).await;
    let doc = o.app.send(s.get(&format!("/determinations/{did}/document"))).await.text();
    assert!(doc.contains("Published in the Federal Register on") && doc.contains("91 FR 12345"));
    assert!(doc.contains("Sent to Department of Justice by electronic mail"));
    let page = o.app.send(s.get(&format!("/cases/{id}"))).await.text();
    assert!(page.contains("91 FR 12345"), "the case page shows the publication");
    assert!(doc.contains("Does it pose an undue or unacceptable risk?"), "all three questions");
    assert!(doc.contains("Mitigation considered") && doc.contains("A monitor cannot see the signed update channel."));
    assert!(!doc.contains("<h2>Mitigation measures</h2>"), "a rejected measure never prints as adopted");
    assert!(doc.contains("The transaction may be reviewed again in the future."));
    assert!(doc.contains("15 CFR part 791, subpart B"), "the part in force on the signing date");
    assert!(doc.contains("[CBI: $4.2 million a year]"), "the internal form keeps the span, marked");
    let public = o.app.send(s.get(&format!("/determinations/{did}/document?form=federal-register"))).await.text();
    assert!(public.contains("Revenue of [CBI redacted] depends on US customers."));
    assert!(!public.contains("4.2 million"));
    assert!(!public.contains("composite risk"), "the office's internal score is not published");
}

#[tokio::test]
async fn once_every_served_party_answered_the_response_can_be_marked_complete() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    let mut parties = Vec::new();
    for (name, country, role) in
        [("Example Supplier Ltd.", "CN", "supplier"), ("US Buyer Inc.", "US", "us_counterparty")]
    {
        let r = o
            .app
            .send(api(
                "POST",
                "/api/v1/parties",
                &o.ta,
                Some(json!({"legal_name": name, "kind": "company", "country": country})),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let pid = r.json()["id"].as_str().unwrap().to_string();
        let r = o
            .app
            .send(api(
                "POST",
                &format!("/api/v1/cases/{id}/parties"),
                &o.ta,
                Some(json!({"party_id": pid, "role": role})),
            ))
            .await;
        assert!(r.status.is_success(), "{}", r.text());
        parties.push(pid);
    }
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    assert_eq!(
        act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await.status,
        StatusCode::OK
    );
    let today = o.app.state.now().date().to_string();
    let complete = || api("POST", &format!("/api/v1/cases/{id}/response-complete"), &o.ta, Some(json!({})));
    let respond = |p: &str| {
        api(
            "POST",
            &format!("/api/v1/cases/{id}/submissions"),
            &o.ta,
            Some(json!({"kind": "written_response", "received_on": today, "summary": "Our answer.", "party_id": p})),
        )
    };
    assert_eq!(o.app.send(respond(&parties[0])).await.status, StatusCode::CREATED);
    let r = o.app.send(complete()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("US Buyer Inc."), "names the party still to answer");
    assert_eq!(o.app.send(respond(&parties[1])).await.status, StatusCode::CREATED);
    let r = o.app.send(complete()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(o.app.send(complete()).await.status, StatusCode::CONFLICT, "once");
    notice(&o.app, &o.ta, &id, "second", "DOJ").await;
    let r = act(&o, &o.ta, &id, json!({"action": "circulate_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "inside the window, every party having answered: {}", r.text());
    assert_eq!(r.json()["dates"]["response_complete_on"], today);
}

#[tokio::test]
async fn a_supervisor_moves_an_existing_case_in_with_its_docket_number() {
    let o = Office::new().await;
    let year = o.app.state.now().year();
    let body = |docket: &str| {
        json!({
            "title": "Anti-virus software with kernel access", "summary": "Moved in from the paper docket.",
            "origin": "agency_referral", "referring_agency": "DOJ", "referral_date": "2021-08-16",
            "category": "connected_software", "adversaries": ["RU"], "docket_number": docket
        })
    };
    let create = |token: &str, docket: &str| api("POST", "/api/v1/cases", token, Some(body(docket)));
    assert_eq!(o.app.send(create(&o.ta, "ICTS-2021-002")).await.status, StatusCode::FORBIDDEN, "supervisors only");
    let r = o.app.send(create(&o.ts, "2021/2")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!error_of(&r, "docket_number").is_empty());
    let r = o.app.send(create(&o.ts, "icts-2021-002")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["docket_number"], "ICTS-2021-002");
    assert_eq!(o.app.send(create(&o.ts, "ICTS-2021-002")).await.status, StatusCode::CONFLICT, "unique");
    // The gap-free counter continues after the numbers moved in.
    let r = o.app.send(create(&o.ts, &format!("ICTS-{year}-040"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let mut fresh = body("");
    fresh.as_object_mut().unwrap().remove("docket_number");
    let r = o.app.send(api("POST", "/api/v1/cases", &o.ta, Some(fresh))).await;
    assert_eq!(r.json()["docket_number"], format!("ICTS-{year}-041"));
    // Its history is then recorded act by act with the real dates.
    let r = act(&o, &o.ts, &id, json!({"action": "accept", "date": "2021-09-01", "late_reason": "moved in"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["rule_version"], "ifr-2021");
    let page = o.app.send(o.app.sign_in(&o.sup).await.get(&format!("/cases/{id}"))).await.text();
    assert!(page.contains("moved in from the office"), "the timeline says the case was moved in");
}

#[tokio::test]
async fn a_determination_signed_outside_the_system_is_recorded_and_confirmed_by_a_second_supervisor() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    let reached = o.app.state.now().date();
    // The agencies' 21 days pass before the initial determination can be served.
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    let today = o.app.state.now().date();
    let body = content(&o.app, &o.ta, &id, "initial", "prohibition").await;
    let r = draft(&o.app, &o.ta, &id, "initial", "prohibition", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The signed copy, attached to the case.
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let r = o
        .app
        .send(crate::determinations::upload(
            &id,
            &o.ta,
            &[("title", "Initial determination, signed copy"), ("marking", "cui")],
            Some(("signed.pdf", &pdf)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let copy = r.json();
    let record = |token: &str, body: Value| {
        api("POST", &format!("/api/v1/determinations/{did}/outside-signature"), token, Some(body))
    };
    let outside = |name: &str, on: String| {
        json!({"signer_name": name, "signer_title": "Under Secretary for Industry and Security",
               "authority": "Under the authority delegated by the Secretary of Commerce",
               "signed_on": on, "signed_copy": copy["id"]})
    };
    // Analysts do not record signatures; the recorder is never the signer.
    assert_eq!(o.app.send(record(&o.ta, outside("A. Signer", today.to_string()))).await.status, StatusCode::FORBIDDEN);
    let r = o.app.send(record(&o.ts, outside(&o.sup.name.to_uppercase(), today.to_string()))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "signer_name").contains("never its signer"));
    // Not before the act it follows (the day the case reached the initial determination).
    let before = (reached - Duration::days(1)).to_string();
    let r = o.app.send(record(&o.ts, outside("A. Signer", before.clone()))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let m = error_of(&r, "signed_on");
    assert!(m.contains(&before) && m.contains(&reached.to_string()), "{m}");
    let r = o.app.send(record(&o.ts, outside("A. Signer", today.to_string()))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["status"], "recorded");
    assert_eq!(d["signed_by_name"], "A. Signer");
    assert_eq!(d["signed_copy_sha256"], copy["sha256"]);
    assert!(d["content_sha256"].is_null(), "not part of the record until confirmed");
    // The case cannot be served on an unconfirmed signature.
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("signed"), "{}", r.text());
    // The queue says it awaits confirmation.
    let queue = o.app.send(o.app.sign_in(&o.sup2).await.get("/determinations")).await.text();
    assert!(queue.contains("signed outside the system: awaiting confirmation"), "{queue}");

    // The recorder never confirms their own recording; the second supervisor re-authenticates.
    let confirm = |token: &str| api("POST", &format!("/api/v1/determinations/{did}/confirm"), token, None);
    reauth(&o.app, &o.ts, &o.sup).await;
    let r = o.app.send(confirm(&o.ts)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("they recorded"));
    let r = o.app.send(confirm(&o.ts2)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a fresh re-authentication is needed: {}", r.text());
    reauth(&o.app, &o.ts2, &o.sup2).await;
    let r = o.app.send(confirm(&o.ts2)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["status"], "signed");
    assert_eq!(d["outside_signer"], "A. Signer");
    assert!(d["signed_by"].is_null());
    assert_eq!(d["confirmed_by"], json!(o.sup2.id));
    assert_eq!(d["signed_on"], today.to_string());
    assert_eq!(d["content_sha256"].as_str().unwrap().len(), 64);
    let e = o.app.events("determination.signed").await.pop().unwrap();
    assert_eq!(e["changes"]["signed_outside_the_system"], true);
    assert_eq!(e["actor_id"], json!(o.sup2.id));
    // It counts as the case's signature: the initial determination may be served.
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Marked on every page.
    let s = o.app.sign_in(&o.analyst).await;
    let page = o.app.send(s.get(&format!("/determinations/{did}"))).await.text();
    assert!(page.contains("Signed outside the system") && page.contains("Under Secretary for Industry and Security"));
    let doc = o.app.send(s.get(&format!("/determinations/{did}/document"))).await.text();
    assert!(doc.contains("Signed outside the system") && doc.contains(copy["sha256"].as_str().unwrap()));
    assert!(doc.contains("A. Signer") && doc.contains("Under the authority delegated by the Secretary of Commerce"));
    let proceedings = o.app.send(s.get(&format!("/cases/{id}/proceedings"))).await.text();
    assert!(proceedings.contains("signed outside the system"));
    // And in the dossier.
    let auditor = o.app.user("auditor").await;
    let tu = o.app.token(&auditor).await;
    reauth(&o.app, &tu, &auditor).await;
    let r = o.app.send(api("GET", &format!("/api/v1/cases/{id}/export?format=json"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let dossier: Value = serde_json::from_slice(&r.body).unwrap();
    let dets = dossier["parts"]["determinations"].as_array().unwrap();
    assert_eq!(dets[0]["signed_outside_the_system"], true);
    assert_eq!(dets[0]["outside_signer"], "A. Signer");
}

#[tokio::test]
async fn a_signature_records_title_and_delegation_and_the_queue_says_why_others_wait() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A final determination drafted while the response window is open waits for it.
    o.app.clock.advance(Duration::days(1));
    o.refresh().await;
    let body = content(&o.app, &o.ta, &id, "final", "prohibited").await;
    let r = draft(&o.app, &o.ta, &id, "final", "prohibited", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = o.app.sign_in(&o.sup2).await;
    let queue = o.app.send(s.get("/determinations")).await.text();
    assert!(
        queue.contains("Not yet: a final determination is signed once the case is at Final determination"),
        "{queue}"
    );
    let page = o.app.send(s.get(&format!("/determinations/{did}"))).await.text();
    assert!(page.contains("Not signable yet") && !page.contains("data-testid=\"sign\""), "no Sign button");

    // The product's own signature: title and delegation as stated, and the date of the act.
    let other = o.at_initial_determination(false).await;
    let body = content(&o.app, &o.ta, &other, "initial", "prohibition").await;
    let did2 =
        draft(&o.app, &o.ta, &other, "initial", "prohibition", body).await.json()["id"].as_str().unwrap().to_string();
    o.app.send(api("POST", &format!("/api/v1/determinations/{did2}/submit"), &o.ta, None)).await;
    reauth(&o.app, &o.ts2, &o.sup2).await;
    let sign = |body: Option<Value>| api("POST", &format!("/api/v1/determinations/{did2}/sign"), &o.ts2, body);
    let r = o.app.send(sign(Some(json!({"signer_title": "x".repeat(301)})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(!error_of(&r, "signer_title").is_empty());
    let r = o
        .app
        .send(sign(Some(json!({"signer_title": "Director, Office of ICTS", "authority": "Delegation Order 10-18"}))))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = r.json();
    assert_eq!(d["signer_title"], "Director, Office of ICTS");
    assert_eq!(d["signer_authority"], "Delegation Order 10-18");
    assert_eq!(d["signed_on"], o.app.state.now().date().to_string());
    let doc = o.app.send(s.get(&format!("/determinations/{did2}/document"))).await.text();
    assert!(doc.contains("Director, Office of ICTS") && doc.contains("Delegation Order 10-18"));
    let on = o.app.state.now().date();
    assert!(doc.contains(&format!("Dated {} {}, {}", on.month(), on.day(), on.year())), "the date of the act");
}

#[tokio::test]
async fn under_the_2025_rule_an_objection_below_the_named_level_is_recorded_and_does_not_block() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    o.app.clock.advance(Duration::days(31));
    o.refresh().await;
    let low = notice(&o.app, &o.ta, &id, "second", "DOD").await;
    let high = notice(&o.app, &o.ta, &id, "second", "STATE").await;
    let r = act(&o, &o.ta, &id, json!({"action": "circulate_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let today = o.app.state.now().date().to_string();
    let respond = |n: &Value, level: &str| {
        api(
            "POST",
            &format!("/api/v1/agency-notices/{}/response", n["id"].as_str().unwrap()),
            &o.ta,
            Some(
                json!({"response": "object", "responded_on": today, "objector_level": level, "version": n["version"]}),
            ),
        )
    };
    let r = o.app.send(respond(&low, "a program officer")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "objector_level").contains("deputy_secretary"));
    // An Assistant Secretary's objection is below the Deputy Secretary's level the 2025 rule
    // names (791.108(c)): recorded with its level, it does not hold the step.
    let r = o.app.send(respond(&low, "Assistant Secretary")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["objector_level"], "assistant_secretary");
    concur(&o.app, &o.ta, &high).await;
    o.app.clock.advance(Duration::days(14));
    o.refresh().await;
    let r = act(&o, &o.ta, &id, json!({"action": "begin_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "an objection below the level does not hold the step: {}", r.text());
    let page = o.app.send(o.app.sign_in(&o.analyst).await.get(&format!("/cases/{id}/proceedings"))).await.text();
    assert!(page.contains("below the level the rule names"), "recorded and shown");
    assert!(page.contains("Deputy Secretary or equivalent"), "the page names the level the rule names");

    // A Deputy Secretary's objection within the 14 days holds it.
    let other = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &other, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    act(&o, &o.ta, &other, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    o.app.clock.advance(Duration::days(31));
    o.refresh().await;
    let n = notice(&o.app, &o.ta, &other, "second", "DOD").await;
    act(&o, &o.ta, &other, json!({"action": "circulate_final_determination"})).await;
    let today = o.app.state.now().date().to_string();
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/agency-notices/{}/response", n["id"].as_str().unwrap()),
            &o.ta,
            Some(json!({"response": "object", "responded_on": today, "objector_level": "Deputy Secretary", "version": n["version"]})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    o.app.clock.advance(Duration::days(14));
    o.refresh().await;
    let r = act(&o, &o.ta, &other, json!({"action": "begin_final_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

    // A Deputy Secretary's objection submitted after the 14 days is recorded and does not.
    let late = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &late, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    act(&o, &o.ta, &late, json!({"action": "serve_initial_determination", "method": "registered_mail"})).await;
    o.app.clock.advance(Duration::days(31));
    o.refresh().await;
    let n = notice(&o.app, &o.ta, &late, "second", "DOD").await;
    act(&o, &o.ta, &late, json!({"action": "circulate_final_determination"})).await;
    o.app.clock.advance(Duration::days(15));
    o.refresh().await;
    let today = o.app.state.now().date().to_string();
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/agency-notices/{}/response", n["id"].as_str().unwrap()),
            &o.ta,
            Some(json!({"response": "object", "responded_on": today, "objector_level": "deputy_secretary", "version": n["version"]})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = act(&o, &o.ta, &late, json!({"action": "begin_final_determination"})).await;
    assert_eq!(r.status, StatusCode::OK, "an objection after the 14 days does not hold the step: {}", r.text());
    let page = o.app.send(o.app.sign_in(&o.analyst).await.get(&format!("/cases/{late}/proceedings"))).await.text();
    assert!(page.contains("submitted after the 14 days"), "recorded and shown");
}

#[tokio::test]
async fn the_rule_versions_objection_levels_agree_with_the_code() {
    use icts_review::cases::workflow::RuleVersion;
    let app = crate::harness::TestApp::new().await;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT code, objection_level FROM ref_rule_versions").fetch_all(&app.pool).await.unwrap();
    assert_eq!(rows.len(), 2);
    for (code, level) in rows {
        let rule = RuleVersion::parse(&code).unwrap();
        assert_eq!(level.as_deref(), rule.objection_level(), "{code}");
    }
}

fn due(case: &Value, name: &str) -> Option<String> {
    case["clocks"].as_array()?.iter().find(|c| c["name"] == name).map(|c| c["due"].as_str().unwrap().to_string())
}

/// A determination of `kind` drafted by the analyst and signed on paper on `on`: its signed
/// copy attached, recorded by the first supervisor, confirmed by the second. Returns its id.
async fn signed_on_paper(o: &Office, id: &str, kind: &str, outcome: &str, on: &str) -> String {
    let body = content(&o.app, &o.ta, id, kind, outcome).await;
    let r = draft(&o.app, &o.ta, id, kind, outcome, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let pdf = format!("%PDF-1.7\n% signed copy of the {kind} determination, {on}\n%%EOF\n").into_bytes();
    let r = o
        .app
        .send(crate::determinations::upload(
            id,
            &o.ta,
            &[("title", &format!("{kind} determination, signed copy")), ("marking", "cui")],
            Some(("signed.pdf", &pdf)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = json!({"signer_name": "The Signing Official", "signer_title": "Secretary of Commerce",
        "authority": "Executive Order 13873", "signed_on": on, "signed_copy": r.json()["id"], "late_reason": "moved in"});
    let r =
        o.app.send(api("POST", &format!("/api/v1/determinations/{did}/outside-signature"), &o.ts, Some(body))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    reauth(&o.app, &o.ts2, &o.sup2).await;
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/confirm"), &o.ts2, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    did
}

/// A whole review replayed through the API from referral to a published final
/// determination with past dates, under each rule, every clock checked against the rule.
#[tokio::test]
async fn a_whole_case_is_replayed_with_its_real_dates_under_both_rules() {
    let o = Office::new().await;
    let late = "Replayed from the paper docket.";
    let ok = |r: crate::harness::TestResponse| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    };
    let dated = |action: &str, on: &str| json!({"action": action, "date": on, "late_reason": late});
    let add_notice = |id: &str, step: &str, agency: &str, on: &str| {
        api(
            "POST",
            &format!("/api/v1/cases/{id}/agency-notices"),
            &o.ta,
            Some(json!({"step": step, "agency": agency, "sent_on": on, "late_reason": late})),
        )
    };
    let questions = |id: &str, version: &Value| {
        api(
            "PATCH",
            &format!("/api/v1/cases/{id}"),
            &o.ta,
            Some(json!({"version": version, "covered": "yes", "nexus": "yes", "undue_risk": "yes"})),
        )
    };

    // --- The interim rule (2021): 180 days from acceptance, consensus at the second step.
    let id = file(&o).await;
    let v = ok(act(&o, &o.ts, &id, dated("accept", "2021-09-01")).await);
    assert_eq!(v["rule_version"], "ifr-2021");
    assert_eq!(due(&v, "final_determination").as_deref(), Some("2022-02-28"));
    assert_eq!(due(&v, "agency_notice"), None, "no notice period before service under the interim rule");
    assert_eq!(o.app.send(add_notice(&id, "first", "DHS", "2021-09-14")).await.status, StatusCode::CREATED);
    let v = ok(act(&o, &o.ta, &id, dated("notify_agencies", "2021-09-14")).await);
    assert_eq!(v["dates"]["agencies_notified_on"], "2021-09-14");
    ok(o.app.send(questions(&id, &v["version"])).await);
    crate::risk::research(&o.app, &o.ta, &id, 3).await;
    ok(act(&o, &o.ta, &id, dated("begin_initial_determination", "2021-10-01")).await);
    signed_on_paper(&o, &id, "initial", "prohibition", "2021-10-15").await;
    // Service cannot precede the signature; then the response window runs 30 days.
    let r = act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "date": "2021-10-14", "method": "registered_mail", "late_reason": late})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let v = ok(act(&o, &o.ta, &id, json!({"action": "serve_initial_determination", "date": "2021-10-20", "method": "registered_mail", "late_reason": late})).await);
    assert_eq!(due(&v, "response_window").as_deref(), Some("2021-11-19"));
    assert_eq!(due(&v, "final_determination").as_deref(), Some("2022-02-28"), "still from acceptance");
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/submissions"),
            &o.ta,
            Some(json!({"kind": "written_response", "received_on": "2021-11-10", "summary": "We disagree.", "late_reason": late})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let n = o.app.send(add_notice(&id, "second", "STATE", "2021-11-18")).await.json();
    let r = act(&o, &o.ta, &id, dated("circulate_final_determination", "2021-11-18")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "inside the window: {}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("2021-11-19"));
    let v = ok(act(&o, &o.ta, &id, dated("circulate_final_determination", "2021-11-22")).await);
    assert_eq!(due(&v, "presumed_concurrence"), None, "silence is not concurrence under the interim rule");
    let r = act(&o, &o.ta, &id, dated("begin_final_determination", "2021-12-20")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no consensus yet: {}", r.text());
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/agency-notices/{}/response", n["id"].as_str().unwrap()),
            &o.ta,
            Some(json!({"response": "concur", "responded_on": "2021-11-30", "version": n["version"], "late_reason": late})),
        ))
        .await;
    ok(r);
    ok(act(&o, &o.ta, &id, dated("begin_final_determination", "2021-12-01")).await);
    let fd = signed_on_paper(&o, &id, "final", "prohibited", "2022-01-10").await;
    let v = ok(act(&o, &o.ta, &id, dated("issue_final_determination", "2022-01-10")).await);
    assert_eq!(v["stage"], "decided");
    assert_eq!(v["dates"]["decided_on"], "2022-01-10");
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/determinations/{fd}/publication"),
            &o.ta,
            Some(json!({"published_on": "2022-01-14", "citation": "87 FR 2101", "document_number": "2022-00612", "late_reason": late})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Every date on the printed determination is the record's.
    let s = o.app.sign_in(&o.analyst).await;
    let doc = o.app.send(s.get(&format!("/determinations/{fd}/document"))).await.text();
    let lines = [
        "2021-08-16",
        "2021-09-01",
        "2021-09-14",
        "2021-10-15",
        "2021-10-20",
        "2021-11-10",
        "2021-11-22",
        "2022-01-10",
        "2022-01-14",
    ];
    let mut at = 0;
    for d in lines {
        let found = doc[at..].find(d).unwrap_or_else(|| panic!("{d} is in the procedural history, in order: {doc}"));
        at += found;
    }
    assert!(doc.contains("Dated January 10, 2022") && doc.contains("15 CFR part 7,"), "part 7 before 2024-07-18");
    assert!(doc.contains("87 FR 2101"));
    // Its Federal Register form carries the register's front matter.
    let fr = o.app.send(s.get(&format!("/determinations/{fd}/document?form=federal-register"))).await.text();
    for part in ["DEPARTMENT OF COMMERCE", "AGENCY:", "ACTION:", "SUMMARY:", "DATES:", "SUPPLEMENTARY INFORMATION:"] {
        assert!(fr.contains(part), "{part} in the front matter");
    }
    assert!(fr.contains("15 CFR Part 7<") && fr.contains("[Docket No. "));
    assert!(fr.contains("This final determination is effective January 10, 2022."), "{fr}");
    assert!(fr.contains("New agreements: prohibited from January 1, 2026."), "each prohibition's date");
    assert!(fr.contains(icts_review::config::DEFAULT_FR_CONTACT), "the configured contact");
    assert!(!fr.contains("composite"), "no internal score");
    assert!(!doc.contains("SUPPLEMENTARY INFORMATION:"), "the internal form has no front matter");

    // --- The final rule (2025): 21 days' notice, 180 days from service, 14 days of silence.
    let body = json!({
        "title": "Cellular modules in utility meters", "summary": "Modules updated over the air from abroad.",
        "origin": "own_initiative", "referral_date": "2025-02-20",
        "category": "critical_infrastructure", "adversaries": ["CN"]
    });
    let r = o.app.send(api("POST", "/api/v1/cases", &o.ta, Some(body))).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let v = ok(act(&o, &o.ts, &id, dated("accept", "2025-03-03")).await);
    assert_eq!(v["rule_version"], "final-2025");
    assert_eq!(due(&v, "final_determination"), None, "the final clock starts at service under the final rule");
    assert_eq!(o.app.send(add_notice(&id, "first", "DOD", "2025-03-10")).await.status, StatusCode::CREATED);
    let v = ok(act(&o, &o.ta, &id, dated("notify_agencies", "2025-03-10")).await);
    assert_eq!(due(&v, "agency_notice").as_deref(), Some("2025-03-31"), "21 days' notice before service");
    ok(o.app.send(questions(&id, &v["version"])).await);
    crate::risk::research(&o.app, &o.ta, &id, 3).await;
    ok(act(&o, &o.ta, &id, dated("begin_initial_determination", "2025-03-12")).await);
    signed_on_paper(&o, &id, "initial", "prohibition", "2025-03-20").await;
    let serve = |on: &str| json!({"action": "serve_initial_determination", "date": on, "method": "electronic_transmission", "late_reason": late});
    let r = act(&o, &o.ta, &id, serve("2025-03-28")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "inside the agencies' 21 days: {}", r.text());
    let v = ok(act(&o, &o.ta, &id, serve("2025-04-01")).await);
    assert_eq!(due(&v, "final_determination").as_deref(), Some("2025-09-28"), "180 days from service");
    assert_eq!(due(&v, "response_window").as_deref(), Some("2025-05-01"));
    let r = act(&o, &o.ta, &id, dated("proceed_without_response", "2025-04-30")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the window is open: {}", r.text());
    ok(act(&o, &o.ta, &id, dated("proceed_without_response", "2025-05-02")).await);
    let v = o.app.send(api("GET", &format!("/api/v1/cases/{id}"), &o.ta, None)).await.json();
    assert_eq!(v["stage"], "final_determination", "{v}");
    let fd = signed_on_paper(&o, &id, "final", "prohibited", "2025-05-20").await;
    let v = ok(act(&o, &o.ta, &id, dated("issue_final_determination", "2025-05-20")).await);
    assert_eq!(v["dates"]["decided_on"], "2025-05-20");
    let doc = o.app.send(s.get(&format!("/determinations/{fd}/document"))).await.text();
    assert!(doc.contains("Dated May 20, 2025") && doc.contains("15 CFR part 791"), "part 791 from 2024-07-18");
    for d in ["2025-03-03", "2025-03-10", "2025-03-20", "2025-04-01", "2025-05-20"] {
        assert!(doc.contains(d), "{d} is in the procedural history");
    }
}

/// Extensions, requests for information and their answers, measure status changes and
/// compliance checks carry the dates they took effect, checked as every act's date is.
#[tokio::test]
async fn the_other_acts_carry_their_dates_too() {
    let o = Office::new().await;
    let id = file(&o).await;
    ok_status(act(&o, &o.ts, &id, json!({"action": "accept", "date": "2021-09-01", "late_reason": "moved in"})).await);
    let sup = o.app.sign_in(&o.sup).await;
    let ext = |fields: &[(&str, &str)]| {
        let mut all = vec![("clock", "final_determination"), ("days", "30"), ("justification", "More time.")];
        all.extend_from_slice(fields);
        sup.post(&format!("/cases/{id}/extensions"), &all)
    };
    let page = o.app.send(ext(&[("granted_on", "2021-08-30"), ("late_reason", "x")])).await.text();
    assert!(page.contains("2021-08-30 is before the acceptance on 2021-09-01"), "{page}");
    let page = o.app.send(ext(&[("granted_on", "2021-10-01")])).await.text();
    assert!(page.contains("give a written reason for recording it late"), "a late act needs its reason");
    let r = o.app.submit(ext(&[("granted_on", "2021-10-01"), ("late_reason", "moved in")])).await;
    assert!(r.text().contains("Clock extended."), "{}", r.text());
    let e = o.app.events("case.clock_extended").await.pop().unwrap();
    assert_eq!(e["changes"]["on"], "2021-10-01");
    let v = o.app.send(api("GET", &format!("/api/v1/cases/{id}"), &o.ta, None)).await.json();
    assert_eq!(due(&v, "final_determination").as_deref(), Some("2022-03-30"), "180 + 30 days from acceptance");

    let analyst = o.app.sign_in(&o.analyst).await;
    let r = o
        .app
        .submit(analyst.post(
            &format!("/cases/{id}/rfis"),
            &[
                ("asked_of", "Counsel"),
                ("question", "Ownership chart?"),
                ("asked_on", "2021-09-10"),
                ("late_reason", "moved in"),
            ],
        ))
        .await;
    assert!(r.text().contains("Request for information recorded."), "{}", r.text());
    let e = o.app.events("case.rfi_sent").await.pop().unwrap();
    assert_eq!(e["changes"]["on"], "2021-09-10");
    let rfi = e["changes"]["rfi"].as_str().unwrap().to_string();
    let answer = |on: &str| {
        analyst.post(
            &format!("/cases/{id}/rfis/{rfi}/answer"),
            &[("answer", "Chart received."), ("answered_on", on), ("late_reason", "moved in")],
        )
    };
    assert!(o.app.send(answer("2021-09-09")).await.text().contains("2021-09-09 is before the request on 2021-09-10"));
    assert!(o.app.submit(answer("2021-09-20")).await.text().contains("Answer recorded"));
    assert_eq!(o.app.events("case.rfi_answered").await.pop().unwrap()["changes"]["on"], "2021-09-20");

    // The three questions' answers and the nexus finding.
    let v = o.app.send(api("GET", &format!("/api/v1/cases/{id}"), &o.ta, None)).await.json();
    let answers = |extra: Value| {
        let mut body = json!({"version": v["version"], "covered": "yes", "nexus": "yes", "undue_risk": "yes"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        api("PATCH", &format!("/api/v1/cases/{id}"), &o.ta, Some(body))
    };
    let r = o.app.send(answers(json!({"answered_on": "2021-10-05"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(!error_of(&r, "late_reason").is_empty());
    let r = o.app.send(answers(json!({"answered_on": "2021-10-05", "late_reason": "moved in"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(o.app.events("case.updated").await.pop().unwrap()["changes"]["on"], "2021-10-05");
    let criteria: serde_json::Map<String, Value> =
        ["ownership", "facilities", "personnel_ties", "adversary_law", "operation_control"]
            .iter()
            .map(|c| (c.to_string(), json!({"finding": "Found.", "evidence": "Filings"})))
            .collect();
    let nexus = |on: &str| {
        api(
            "POST",
            &format!("/api/v1/cases/{id}/nexus"),
            &o.ta,
            Some(
                json!({"criteria": criteria, "conclusion": "yes", "summary": "Nexus.", "found_on": on, "late_reason": "moved in"}),
            ),
        )
    };
    let r = o.app.send(nexus("2021-08-20")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "found_on").contains("before the acceptance on 2021-09-01"));
    assert_eq!(o.app.send(nexus("2021-10-06")).await.status, StatusCode::CREATED);
    assert_eq!(o.app.events("case.nexus_recorded").await.pop().unwrap()["changes"]["on"], "2021-10-06");

    // A measure's status change (on a case brought to the initial determination today).
    let id = o.at_initial_determination(false).await;
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/measures"),
            &o.ta,
            Some(json!({"kind": "third_party_monitor", "description": "A monitor.", "owner": "Counterparty"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = r.json();
    let status =
        |body: Value| api("POST", &format!("/api/v1/measures/{}/status", m["id"].as_str().unwrap()), &o.ts, Some(body));
    let today = o.app.state.now().date();
    let tomorrow = (today + Duration::days(1)).to_string();
    let r = o.app.send(status(json!({"status": "agreed", "version": m["version"], "changed_on": tomorrow}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "changed_on").contains(&tomorrow));
    let yesterday = (today - Duration::days(1)).to_string();
    let r = o.app.send(status(json!({"status": "agreed", "version": m["version"], "changed_on": yesterday}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(error_of(&r, "changed_on").contains(&format!("{yesterday} is before the acceptance on {today}")));
    let r =
        o.app.send(status(json!({"status": "agreed", "version": m["version"], "changed_on": today.to_string()}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(o.app.events("measure.status").await.pop().unwrap()["changes"]["on"], today.to_string());

    // Drafting a determination: not before the case reached its stage.
    let body = content(&o.app, &o.ta, &id, "initial", "prohibition").await;
    let start = |on: &str| {
        api(
            "POST",
            &format!("/api/v1/cases/{id}/determinations"),
            &o.ta,
            Some(
                json!({"kind": "initial", "outcome": "prohibition", "content": body, "unclassified_confirmed": true, "drafted_on": on}),
            ),
        )
    };
    let r = o.app.send(start(&yesterday)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        error_of(&r, "drafted_on").contains(&format!("{yesterday} is before the case reached Initial determination"))
    );
    assert_eq!(o.app.send(start(&today.to_string())).await.status, StatusCode::CREATED);
    assert_eq!(o.app.events("determination.drafted").await.pop().unwrap()["changes"]["on"], today.to_string());
}

fn ok_status(r: crate::harness::TestResponse) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
