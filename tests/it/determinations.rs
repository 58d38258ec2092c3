//! Determinations and what surrounds them: drafts and revisions, four-eyes sign-off in the
//! application and in the database, interagency notices, service and the response clock,
//! submissions, mitigation and breaches, documents, notifications and the mail outbox.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use time::Duration;

use crate::harness::{TestApp, TestUser, api};

/// Records a notice to `agency` for an interagency `step`, sent today.
pub async fn notice(app: &TestApp, token: &str, case: &str, step: &str, agency: &str) -> Value {
    let today = app.state.now().date().to_string();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{case}/agency-notices"),
            token,
            Some(json!({"step": step, "agency": agency, "sent_on": today})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// Records that the agency of `notice` concurred today.
pub async fn concur(app: &TestApp, token: &str, notice: &Value) {
    let today = app.state.now().date().to_string();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/agency-notices/{}/response", notice["id"].as_str().unwrap()),
            token,
            Some(json!({"response": "concur", "responded_on": today, "version": notice["version"]})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Content that is complete for `kind` and `outcome` on `case`: answers every written
/// submission and rests on the case's (agreed, for a final determination) measures.
pub async fn content(app: &TestApp, token: &str, case: &str, kind: &str, outcome: &str) -> Value {
    let subs = app.send(api("GET", &format!("/api/v1/cases/{case}/submissions"), token, None)).await.json();
    let answers: Vec<Value> = subs
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] != "meeting_request")
        .map(|s| json!({"submission_id": s["id"], "answer": "Considered; it does not address the risk."}))
        .collect();
    let measures = app.send(api("GET", &format!("/api/v1/cases/{case}/measures"), token, None)).await.json();
    let chosen: Vec<Value> = if outcome == "mitigation" || outcome == "permitted_with_mitigation" {
        measures
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                kind == "initial" || ["agreed", "implemented", "verified"].contains(&m["status"].as_str().unwrap())
            })
            .map(|m| m["id"].clone())
            .collect()
    } else {
        Vec::new()
    };
    let prohibits = outcome == "prohibition" || outcome == "prohibited";
    json!({
        "title": format!("{kind} determination"),
        "party": "Example Supplier Ltd.",
        "covered_finding": "Covered: ICTS used by US persons after 19 January 2021.",
        "nexus_finding": "The supplier is subject to a foreign adversary's jurisdiction.",
        "risk_analysis": "Undue risk: privileged access to US systems.",
        "background": if kind == "revocation" { "Revoked after review." } else { "" },
        "submission_answers": answers,
        "cessation": if prohibits { "Cease within 30 days." } else { "" },
        "prohibitions": if outcome == "prohibited" { json!([{"description": "New agreements", "effective_on": "2026-01-01"}]) } else { json!([]) },
        "penalties": if prohibits { "IEEPA penalties apply." } else { "" },
        "measures": chosen
    })
}

/// Starts a draft; returns the response.
pub async fn draft(
    app: &TestApp,
    token: &str,
    case: &str,
    kind: &str,
    outcome: &str,
    content: Value,
) -> crate::harness::TestResponse {
    app.send(api(
        "POST",
        &format!("/api/v1/cases/{case}/determinations"),
        token,
        Some(json!({"kind": kind, "outcome": outcome, "content": content, "unclassified_confirmed": true})),
    ))
    .await
}

/// Re-authenticates a token (step-up).
pub async fn reauth(app: &TestApp, token: &str, user: &TestUser) {
    let r = app.send(api("POST", "/api/v1/auth/reauth", token, Some(json!({"password": user.password})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// Drafts (as `drafter`), submits, and signs (as `signer` after a step-up) a complete
/// determination; returns the signed determination.
pub async fn signed(
    app: &TestApp,
    drafter: &str,
    signer: (&TestUser, &str),
    case: &str,
    kind: &str,
    outcome: &str,
) -> Value {
    let body = content(app, drafter, case, kind, outcome).await;
    let r = draft(app, drafter, case, kind, outcome, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = app.send(api("POST", &format!("/api/v1/determinations/{id}/submit"), drafter, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    reauth(app, signer.1, signer.0).await;
    let r = app.send(api("POST", &format!("/api/v1/determinations/{id}/sign"), signer.1, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> crate::harness::TestResponse {
    app.send(api("POST", &format!("/api/v1/cases/{id}/transitions"), token, Some(body))).await
}

async fn ok(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let r = act(app, token, id, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// An office with an analyst (who files and works the case) and two supervisors.
pub struct Office {
    pub app: TestApp,
    pub analyst: TestUser,
    pub sup: TestUser,
    pub sup2: TestUser,
    pub ta: String,
    pub ts: String,
    pub ts2: String,
}

impl Office {
    pub async fn new() -> Office {
        Self::over(TestApp::new().await).await
    }

    /// An office over an app built by the caller (another configuration).
    pub async fn over(app: TestApp) -> Office {
        let analyst = app.user("analyst").await;
        let sup = app.user("supervisor").await;
        let sup2 = app.user("supervisor").await;
        let (ta, ts, ts2) = (app.token(&analyst).await, app.token(&sup).await, app.token(&sup2).await);
        Office { app, analyst, sup, sup2, ta, ts, ts2 }
    }

    /// New tokens (sessions lapse when the clock jumps).
    pub async fn refresh(&mut self) {
        self.ta = self.app.token(&self.analyst).await;
        self.ts = self.app.token(&self.sup).await;
        self.ts2 = self.app.token(&self.sup2).await;
    }

    /// A case filed by the analyst and brought to the initial determination.
    pub async fn at_initial_determination(&self, restricted: bool) -> String {
        let app = &self.app;
        let body = json!({
            "title": "Router firmware with remote management",
            "summary": "Routers whose firmware is updated from servers under a foreign adversary's jurisdiction.",
            "origin": "own_initiative", "category": "connected_devices", "adversaries": ["CN"], "restricted": restricted
        });
        let r = app.send(api("POST", "/api/v1/cases", &self.ta, Some(body))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        ok(app, &self.ts, &id, json!({"action": "accept"})).await;
        notice(app, &self.ta, &id, "first", "DHS").await;
        notice(app, &self.ta, &id, "first", "DOD").await;
        ok(app, &self.ta, &id, json!({"action": "notify_agencies"})).await;
        let v = app.send(api("GET", &format!("/api/v1/cases/{id}"), &self.ta, None)).await.json()["version"].clone();
        let r = app
            .send(api(
                "PATCH",
                &format!("/api/v1/cases/{id}"),
                &self.ta,
                Some(json!({"version": v, "covered": "yes", "nexus": "yes", "undue_risk": "yes"})),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        crate::risk::research(app, &self.ta, &id, 3).await;
        ok(app, &self.ta, &id, json!({"action": "begin_initial_determination"})).await;
        id
    }

    /// A case permitted with mitigation and monitored: two agreed measures.
    pub async fn monitored(&mut self) -> (String, Vec<String>) {
        let id = self.at_initial_determination(false).await;
        let mut measures = Vec::new();
        for kind in ["third_party_monitor", "data_localisation"] {
            let r = self
                .app
                .send(api(
                    "POST",
                    &format!("/api/v1/cases/{id}/measures"),
                    &self.ta,
                    Some(json!({"kind": kind, "description": format!("{kind} measure"), "owner": "US counterparty"})),
                ))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            measures.push(r.json()["id"].as_str().unwrap().to_string());
        }
        signed(&self.app, &self.ta, (&self.sup, &self.ts), &id, "initial", "mitigation").await;
        self.app.clock.advance(Duration::days(21));
        self.refresh().await;
        let today = self.app.state.now().date().to_string();
        ok(
            &self.app,
            &self.ta,
            &id,
            json!({"action": "serve_initial_determination", "date": today, "method": "electronic_transmission"}),
        )
        .await;
        let r = self
            .app
            .send(api(
                "POST",
                &format!("/api/v1/cases/{id}/submissions"),
                &self.ta,
                Some(json!({"kind": "mitigation_proposal", "received_on": today, "summary": "Accepts a monitor and localisation."})),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        for m in &measures {
            let v = self.app.send(api("GET", &format!("/api/v1/cases/{id}/measures"), &self.ta, None)).await.json();
            let version = v.as_array().unwrap().iter().find(|x| x["id"] == json!(m)).unwrap()["version"].clone();
            let r = self
                .app
                .send(api(
                    "POST",
                    &format!("/api/v1/measures/{m}/status"),
                    &self.ts,
                    Some(json!({"status": "agreed", "version": version})),
                ))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        // The proposed final determination waits for the parties' 30 days (7.107 / 791.107).
        self.app.clock.advance(Duration::days(31));
        self.refresh().await;
        let n = notice(&self.app, &self.ta, &id, "second", "DOJ").await;
        ok(&self.app, &self.ta, &id, json!({"action": "circulate_final_determination"})).await;
        concur(&self.app, &self.ta, &n).await;
        ok(&self.app, &self.ta, &id, json!({"action": "begin_final_determination"})).await;
        signed(&self.app, &self.ta, (&self.sup2, &self.ts2), &id, "final", "permitted_with_mitigation").await;
        let v = ok(&self.app, &self.ta, &id, json!({"action": "issue_final_determination"})).await;
        assert_eq!(v["stage"], "monitoring");
        (id, measures)
    }
}

#[tokio::test]
async fn four_eyes_sign_off_holds_over_http() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    // Drafting: the form of an unclassified determination and versions.
    let body = content(app, &o.ta, &id, "initial", "prohibition").await;
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/determinations"),
            &o.ta,
            Some(
                json!({"kind": "initial", "outcome": "prohibition", "content": body, "unclassified_confirmed": false}),
            ),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "unclassified_confirmed");
    let r = draft(app, &o.ta, &id, "initial", "prohibited", body.clone()).await;
    assert_eq!(r.json()["errors"][0]["field"], "outcome", "an initial determination proposes, it does not decide");
    let r = draft(app, &o.ta, &id, "final", "prohibited", body.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no final determination before service");
    let mut thin = body.clone();
    thin["cessation"] = json!("");
    let r = draft(app, &o.ta, &id, "initial", "prohibition", thin).await;
    assert_eq!(r.status, StatusCode::CREATED, "a draft may be incomplete: {}", r.text());
    let d = r.json();
    let did = d["id"].as_str().unwrap().to_string();
    assert_eq!((d["status"].as_str(), d["revision"].as_i64()), (Some("draft"), Some(1)));
    assert!(d["assessment_id"].is_string(), "linked to the current assessment");
    assert_eq!(
        draft(app, &o.ta, &id, "initial", "prohibition", body.clone()).await.status,
        StatusCode::CONFLICT,
        "one open draft"
    );
    // An incomplete draft is not submitted.
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "cessation");
    let patch = |rev: i64, body: &Value| {
        api(
            "PATCH",
            &format!("/api/v1/determinations/{did}"),
            &o.ta,
            Some(json!({"revision": rev, "outcome": "prohibition", "content": body, "unclassified_confirmed": true})),
        )
    };
    let r = app.send(patch(1, &body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["revision"], 2);
    assert_eq!(app.send(patch(1, &body)).await.status, StatusCode::CONFLICT, "a stale revision is refused");
    let other = app.user("analyst").await;
    let to = app.token(&other).await;
    assert_eq!(app.send(api("GET", &format!("/api/v1/determinations/{did}"), &to, None)).await.status, StatusCode::OK);
    let r = app
        .send(api(
            "PATCH",
            &format!("/api/v1/determinations/{did}"),
            &to,
            Some(json!({"revision": 2, "outcome": "prohibition", "content": body, "unclassified_confirmed": true})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "only the drafter revises");
    assert_eq!(app.count("determination_revisions").await, 2);
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.send(patch(2, &body)).await.status, StatusCode::CONFLICT, "no edits while awaiting signature");
    // Both supervisors are told.
    for t in [&o.ts, &o.ts2] {
        let n = app.send(api("GET", "/api/v1/notifications", t, None)).await.json();
        assert!(n["items"].as_array().unwrap().iter().any(|x| x["kind"] == "awaiting_signature"), "{n}");
        assert!(n["unread"].as_i64().unwrap() >= 1);
    }
    // Return needs a comment; the drafter is told and revises.
    let ret =
        |t: &str, c: &str| api("POST", &format!("/api/v1/determinations/{did}/return"), t, Some(json!({"comment": c})));
    assert_eq!(app.send(ret(&o.ts, "  ")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.send(ret(&o.ta, "x")).await.status, StatusCode::FORBIDDEN, "analysts do not return drafts");
    let r = app.send(ret(&o.ts, "Cite the DHS vulnerability assessment.")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "returned");
    let n = app.send(api("GET", "/api/v1/notifications", &o.ta, None)).await.json();
    assert!(n["items"][0]["message"].as_str().unwrap().contains("Cite the DHS"), "{n}");
    assert_eq!(app.send(patch(2, &body)).await.status, StatusCode::OK);
    assert_eq!(
        app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await.status,
        StatusCode::OK
    );

    let sign = |t: &str| api("POST", &format!("/api/v1/determinations/{did}/sign"), t, None);
    // Signing by an analyst.
    assert_eq!(app.send(sign(&o.ta)).await.status, StatusCode::FORBIDDEN);
    // Signing without a fresh step-up.
    let r = app.send(sign(&o.ts)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["type"], "urn:icts-review:problem:reauth-required");
    reauth(app, &o.ts, &o.sup).await;
    // A step-up older than 5 minutes no longer counts.
    app.clock.advance(Duration::minutes(6));
    let ts = app.token(&o.sup).await;
    assert_eq!(app.send(sign(&ts)).await.json()["type"], "urn:icts-review:problem:reauth-required");
    let r = app.send(api("POST", "/api/v1/auth/reauth", &ts, Some(json!({"password": "wrong password"})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    reauth(app, &ts, &o.sup).await;
    // Signing what the signer reviewed: a hash that is not the content's is refused.
    let reviewed =
        |h: &str| api("POST", &format!("/api/v1/determinations/{did}/sign"), &ts, Some(json!({"content_sha256": h})));
    let r = app.send(reviewed(&"0".repeat(64))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("changed after you reviewed it"), "{}", r.text());
    let r = app.send(sign(&ts)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = r.json();
    assert_eq!(s["status"], "signed");
    assert_eq!(s["signed_by"], json!(o.sup.id));
    assert_eq!(s["content_sha256"].as_str().unwrap().len(), 64);
    assert!(s["reauth_at"].is_string());
    // The stored hash is the hash of the content.
    let pool = &app.pool;
    let d: icts_review::determinations::Determination = sqlx::query_as(
        "SELECT d.*, u.name AS drafted_by_name, s.name AS signed_by_name, NULL::text AS recorded_by_name, NULL::text AS confirmed_by_name FROM determinations d JOIN users u ON u.id = d.drafted_by \
         LEFT JOIN users s ON s.id = d.signed_by WHERE d.id = $1::uuid",
    )
    .bind(&did)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(d.content_sha256.as_deref(), Some(&d.computed_hash()[..]));
    // Signing twice, and editing after signing.
    reauth(app, &o.ts2, &o.sup2).await;
    assert_eq!(app.send(sign(&o.ts2)).await.status, StatusCode::CONFLICT);
    let r = app.send(patch(4, &body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("signed"));
    assert_eq!(app.send(ret(&o.ts2, "late")).await.status, StatusCode::CONFLICT);
    assert_eq!(app.events("determination.signed").await.len(), 1);
    // Nobody is still asked to sign it.
    let waiting = app.count("notifications WHERE kind = 'awaiting_signature' AND read_at IS NULL").await;
    assert_eq!(waiting, 0);
    // The case moved on: what still stands between it and service is the agencies' 21 days.
    let today = app.state.now().date().to_string();
    let r = act(
        app,
        &o.ta,
        &id,
        json!({"action": "serve_initial_determination", "date": today, "method": "registered_mail"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("21 days"), "{}", r.text());

    // Self-signing: a supervisor drafts, and cannot sign their own draft.
    let id2 = o.at_initial_determination(false).await;
    let body2 = content(app, &o.ts2, &id2, "initial", "prohibition").await;
    let r = draft(app, &o.ts2, &id2, "initial", "prohibition", body2).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let own = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.send(api("POST", &format!("/api/v1/determinations/{own}/submit"), &o.ts2, None)).await.status,
        StatusCode::OK
    );
    reauth(app, &o.ts2, &o.sup2).await;
    let r = app.send(api("POST", &format!("/api/v1/determinations/{own}/sign"), &o.ts2, None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.json()["detail"].as_str().unwrap().contains("drafted"), "{}", r.text());
    let r = app
        .send(api("POST", &format!("/api/v1/determinations/{own}/return"), &o.ts2, Some(json!({"comment": "x"}))))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "nor return it");
}

/// Tries a raw statement as the application's database role; returns the error text.
async fn refused(pool: &sqlx::PgPool, sql: &str, id: &str, user: icts_review::ids::UserId) -> String {
    match sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).bind(id).bind(user).execute(pool).await {
        Ok(r) => panic!("the database accepted {sql:?} ({} rows)", r.rows_affected()),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn the_database_refuses_what_the_application_refuses() {
    let o = Office::new().await;
    let app = &o.app;
    let role: String = sqlx::query_scalar("SELECT current_user").fetch_one(&app.pool).await.unwrap();
    assert_eq!(role, "icts_app", "these statements run as the application's role");
    let id = o.at_initial_determination(false).await;
    let body = content(app, &o.ta, &id, "initial", "prohibition").await;
    let did = draft(app, &o.ta, &id, "initial", "prohibition", body).await.json()["id"].as_str().unwrap().to_string();
    app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    let sign = "UPDATE determinations SET status = 'signed', signed_by = $2, signed_at = now(), reauth_at = now(), \
                content_sha256 = sha256('x') WHERE id = $1::uuid";
    // Signing by an analyst (the drafter, or any other).
    let e = refused(&app.pool, sign, &did, o.analyst.id).await;
    assert!(e.contains("supervisor role"), "{e}");
    let other = app.user("analyst").await;
    let e = refused(&app.pool, sign, &did, other.id).await;
    assert!(e.contains("supervisor role"), "{e}");
    // Self-signing: a supervisor's own draft, signed by that supervisor.
    let id2 = o.at_initial_determination(false).await;
    let body2 = content(app, &o.ts2, &id2, "initial", "prohibition").await;
    let own =
        draft(app, &o.ts2, &id2, "initial", "prohibition", body2).await.json()["id"].as_str().unwrap().to_string();
    app.send(api("POST", &format!("/api/v1/determinations/{own}/submit"), &o.ts2, None)).await;
    let e = refused(&app.pool, sign, &own, o.sup2.id).await;
    assert!(e.contains("determinations_four_eyes"), "{e}");
    // Signing without a fresh step-up: none, or an old one.
    let e = refused(&app.pool, "UPDATE determinations SET status = 'signed', signed_by = $2, signed_at = now(), content_sha256 = sha256('x') WHERE id = $1::uuid", &did, o.sup.id).await;
    assert!(e.contains("determinations_signature_whole"), "{e}");
    let e = refused(&app.pool, "UPDATE determinations SET status = 'signed', signed_by = $2, signed_at = now(), reauth_at = now() - interval '6 minutes', content_sha256 = sha256('x') WHERE id = $1::uuid", &did, o.sup.id).await;
    assert!(e.contains("determinations_fresh_reauth"), "{e}");
    // A draft cannot be created signed.
    let e = refused(
        &app.pool,
        "INSERT INTO determinations (id, case_id, kind, outcome, status, content, unclassified_confirmed, drafted_by, created_at, updated_at, signed_by, signed_at, reauth_at, content_sha256) \
         SELECT gen_random_uuid(), case_id, kind, outcome, 'signed', content, true, drafted_by, now(), now(), $2, now(), now(), sha256('x') FROM determinations WHERE id = $1::uuid",
        &did,
        o.sup.id,
    )
    .await;
    assert!(e.contains("starts as a draft"), "{e}");
    // A proper signature through the application, then: signing twice, editing, deleting.
    reauth(app, &o.ts, &o.sup).await;
    assert_eq!(
        app.send(api("POST", &format!("/api/v1/determinations/{did}/sign"), &o.ts, None)).await.status,
        StatusCode::OK
    );
    let e = refused(
        &app.pool,
        "UPDATE determinations SET signed_by = $2, signed_at = now(), reauth_at = now() WHERE id = $1::uuid",
        &did,
        o.sup2.id,
    )
    .await;
    assert!(e.contains("never changes"), "{e}");
    let e = refused(
        &app.pool,
        "UPDATE determinations SET content = '{}'::jsonb WHERE id = $1::uuid AND $2::uuid IS NOT NULL",
        &did,
        o.sup.id,
    )
    .await;
    assert!(e.contains("never changes"), "{e}");
    let e = refused(
        &app.pool,
        "UPDATE determinations SET status = 'draft' WHERE id = $1::uuid AND $2::uuid IS NOT NULL",
        &did,
        o.sup.id,
    )
    .await;
    assert!(e.contains("never changes"), "{e}");
    let e =
        refused(&app.pool, "DELETE FROM determinations WHERE id = $1::uuid AND $2::uuid IS NOT NULL", &did, o.sup.id)
            .await;
    assert!(e.contains("permission denied") || e.contains("never deleted"), "{e}");
    // Even the owner cannot change a signed row.
    let su = app.superuser_pool().await;
    let e = refused(
        &su,
        "UPDATE determinations SET outcome = 'mitigation' WHERE id = $1::uuid AND $2::uuid IS NOT NULL",
        &did,
        o.sup.id,
    )
    .await;
    assert!(e.contains("never changes"), "{e}");
    let e =
        refused(&su, "DELETE FROM determinations WHERE id = $1::uuid AND $2::uuid IS NOT NULL", &did, o.sup.id).await;
    assert!(e.contains("never deleted"), "{e}");
    let stored: (String, icts_review::ids::UserId) =
        sqlx::query_as("SELECT status, signed_by FROM determinations WHERE id = $1::uuid")
            .bind(&did)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("signed".to_string(), o.sup.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_signatures_give_exactly_one() {
    let o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    let body = content(&o.app, &o.ta, &id, "initial", "prohibition").await;
    let did =
        draft(&o.app, &o.ta, &id, "initial", "prohibition", body).await.json()["id"].as_str().unwrap().to_string();
    o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    // Five supervisors, four sessions each, all re-authenticated.
    let mut tokens = Vec::new();
    for _ in 0..5 {
        let s = o.app.user("supervisor").await;
        for _ in 0..4 {
            let t = o.app.token(&s).await;
            reauth(&o.app, &t, &s).await;
            tokens.push(t);
        }
    }
    let app = Arc::new(o.app);
    let mut tasks = tokio::task::JoinSet::new();
    let barrier = Arc::new(tokio::sync::Barrier::new(tokens.len()));
    for t in tokens {
        let (app, did, barrier) = (app.clone(), did.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            app.send(api("POST", &format!("/api/v1/determinations/{did}/sign"), &t, None)).await.status
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tasks.join_next().await {
        statuses.push(s.unwrap());
    }
    assert_eq!(statuses.len(), 20);
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
    assert_eq!(app.events("determination.signed").await.len(), 1);
    assert_eq!(app.count("determinations WHERE status = 'signed'").await, 1);
}

#[tokio::test]
async fn the_response_clock_starts_at_service_and_submissions_are_recorded() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    let c = o.app.send(api("GET", &format!("/api/v1/cases/{id}"), &o.ta, None)).await.json();
    assert!(
        c["clocks"].as_array().unwrap().iter().all(|x| x["name"] != "response_window"),
        "no response clock before service"
    );
    let r = o.app.send(api("POST", &format!("/api/v1/cases/{id}/submissions"), &o.ta, Some(json!({"kind": "written_response", "received_on": o.app.state.now().date().to_string(), "summary": "Early"})))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "submissions answer a served determination");
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(25));
    o.refresh().await;
    let served = o.app.state.now().date() - Duration::days(2);
    let v = ok(
        &o.app,
        &o.ta,
        &id,
        json!({"action": "serve_initial_determination", "date": served.to_string(), "method": "federal_register"}),
    )
    .await;
    let window = v["clocks"].as_array().unwrap().iter().find(|x| x["name"] == "response_window").unwrap().clone();
    assert_eq!(window["due"], (served + Duration::days(30)).to_string(), "30 days from service, not from recording");
    let fin = v["clocks"].as_array().unwrap().iter().find(|x| x["name"] == "final_determination").unwrap().clone();
    assert_eq!(fin["due"], (served + Duration::days(180)).to_string(), "the 2025 rule's final clock starts at service");
    // The due-soon filter finds it by either clock.
    let due = |days: i64| api("GET", &format!("/api/v1/cases?due_within={days}"), &o.ts, None);
    let ids = |v: Value| {
        v["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(ids(o.app.send(due(30)).await.json()).contains(&id), "the response window closes in 28 days");
    assert!(!ids(o.app.send(due(10)).await.json()).contains(&id));
    // Due by both clocks within 200 days: listed (and counted) once.
    let both = ids(o.app.send(due(200)).await.json());
    assert_eq!(both.iter().filter(|x| **x == id).count(), 1, "{both:?}");
    let s = o.app.sign_in(&o.sup).await;
    let page = o.app.send(s.get("/cases?due_within=200")).await.text();
    assert!(page.contains("data-testid=\"total\" aria-live=\"polite\"><strong>1 case</strong>"), "{page}");
    let method: String = sqlx::query_scalar("SELECT method FROM case_services WHERE case_id = $1::uuid")
        .bind(&id)
        .fetch_one(&o.app.pool)
        .await
        .unwrap();
    assert_eq!(method, "federal_register");
    // A meeting request does not count as a response; a written response does.
    let today = o.app.state.now().date().to_string();
    let sub = |kind: &str| {
        api(
            "POST",
            &format!("/api/v1/cases/{id}/submissions"),
            &o.ta,
            Some(json!({"kind": kind, "received_on": today, "summary": format!("{kind} from the party")})),
        )
    };
    let r = o.app.send(sub("meeting_request")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let meeting = r.json()["id"].as_str().unwrap().to_string();
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/submissions/{meeting}/meeting"),
            &o.ta,
            Some(json!({"held_on": today, "outcome": "Heard the party's position."})),
        ))
        .await;
    assert_eq!(r.json()["meeting_outcome"], "Heard the party's position.");
    let r = o.app.send(sub("telegram")).await;
    assert_eq!(r.json()["errors"][0]["field"], "kind");
    o.app.clock.advance(Duration::days(29));
    o.refresh().await;
    let r = act(&o.app, &o.ta, &id, json!({"action": "proceed_without_response"})).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "no written response by the deadline: straight to the final determination: {}",
        r.text()
    );
    assert_eq!(r.json()["stage"], "final_determination");

    // Another case: a written response within the window sends it to the second step.
    let id = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    let today = o.app.state.now().date().to_string();
    ok(
        &o.app,
        &o.ta,
        &id,
        json!({"action": "serve_initial_determination", "date": today, "method": "registered_mail"}),
    )
    .await;
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/submissions"),
            &o.ta,
            Some(json!({"kind": "written_response", "received_on": today, "summary": "We disagree."})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    o.app.clock.advance(Duration::days(31));
    o.refresh().await;
    assert_eq!(
        act(&o.app, &o.ta, &id, json!({"action": "proceed_without_response"})).await.status,
        StatusCode::CONFLICT
    );
    // The second step: an objection blocks until resolved or decided by the President.
    assert_eq!(
        act(&o.app, &o.ta, &id, json!({"action": "circulate_final_determination"})).await.status,
        StatusCode::CONFLICT
    );
    let n = notice(&o.app, &o.ta, &id, "second", "STATE").await;
    assert_eq!(n["due_on"], (o.app.state.now().date() + Duration::days(14)).to_string(), "14 days under the 2025 rule");
    ok(&o.app, &o.ta, &id, json!({"action": "circulate_final_determination"})).await;
    let today = o.app.state.now().date().to_string();
    let nid = n["id"].as_str().unwrap();
    let respond = |body: Value| api("POST", &format!("/api/v1/agency-notices/{nid}/response"), &o.ta, Some(body));
    let r = o.app.send(respond(json!({"response": "object", "responded_on": today, "version": 1}))).await;
    assert_eq!(r.json()["errors"][0]["field"], "objector_level");
    let r = o.app.send(respond(json!({"response": "object", "responded_on": today, "objector_level": "Deputy Secretary", "referred_to_president": today, "version": 1}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    o.app.clock.advance(Duration::days(15));
    o.refresh().await;
    let r = act(&o.app, &o.ta, &id, json!({"action": "begin_final_determination"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.json()["detail"].as_str().unwrap().contains("objected"));
    let today = o.app.state.now().date().to_string();
    let r = o.app.send(api("POST", &format!("/api/v1/agency-notices/{nid}/response"), &o.ta, Some(json!({"response": "object", "responded_on": today, "objector_level": "Deputy Secretary", "referred_to_president": today, "dispute_resolved_on": today, "dispute_resolution": "The President concurred with the proposed determination.", "version": 2})))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    ok(&o.app, &o.ta, &id, json!({"action": "begin_final_determination"})).await;
    // The final determination answers each submission.
    let mut body = content(&o.app, &o.ta, &id, "final", "prohibited").await;
    body["submission_answers"] = json!([]);
    let did = draft(&o.app, &o.ta, &id, "final", "prohibited", body).await.json()["id"].as_str().unwrap().to_string();
    let r = o.app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "submission_answers");
}

#[tokio::test]
async fn a_breach_reopens_the_case_and_notifies() {
    let mut o = Office::new().await;
    let (id, measures) = o.monitored().await;
    let app = &o.app;
    let today = app.state.now().date().to_string();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/measures/{}/checks", measures[0]),
            &o.ta,
            Some(json!({"checked_on": today, "result": "compliant", "finding": "Monitor in place."})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let before = app.count("notifications WHERE kind = 'breach'").await;
    assert_eq!(before, 0);
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/measures/{}/checks", measures[1]),
            &o.ta,
            Some(
                json!({"checked_on": today, "result": "breach", "finding": "Data found replicated to servers abroad."}),
            ),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = app.send(api("GET", &format!("/api/v1/cases/{id}"), &o.ta, None)).await.json();
    assert_eq!(c["stage"], "compliance_review", "the breach reopens the case for review");
    let m = app.send(api("GET", &format!("/api/v1/cases/{id}/measures"), &o.ta, None)).await.json();
    assert_eq!(m[1]["status"], "breached");
    for t in [&o.ta, &o.ts, &o.ts2] {
        let n = app.send(api("GET", "/api/v1/notifications", t, None)).await.json();
        assert!(
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["kind"] == "breach" && x["message"].as_str().unwrap().contains("abroad")),
            "{n}"
        );
    }
    let transitions = app.events("case.transition").await;
    assert_eq!(transitions.last().unwrap()["changes"]["stage"]["after"], "compliance_review");
    // The office amends the determination to a prohibition: a new signed determination.
    signed(app, &o.ta, (&o.sup, &o.ts), &id, "amendment", "prohibited").await;
    let c = app.send(api("GET", &format!("/api/v1/cases/{id}"), &o.ta, None)).await.json();
    assert_eq!((c["stage"].as_str(), c["decision"].as_str()), (Some("decided"), Some("prohibited")));
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM case_determination_events WHERE case_id = $1::uuid ORDER BY at")
            .bind(&id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["issued", "amended"]);
    let ds = app.send(api("GET", &format!("/api/v1/cases/{id}/determinations"), &o.ta, None)).await.json();
    let kinds: Vec<&str> = ds.as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["initial", "final", "amendment"]);
    assert_eq!(ds[2]["supersedes"], ds[1]["id"]);
    // A measure status change to breached on a monitored case also reopens it (cured breaches resume).
    let (id2, m2) = o.monitored().await;
    let v = o.app.send(api("GET", &format!("/api/v1/cases/{id2}/measures"), &o.ta, None)).await.json()[0]["version"]
        .clone();
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/measures/{}/status", m2[0]),
            &o.ta,
            Some(json!({"status": "breached", "version": v})),
        ))
        .await;
    assert_eq!(r.json()["errors"][0]["field"], "comment");
    let r = o
        .app
        .send(api(
            "POST",
            &format!("/api/v1/measures/{}/status", m2[0]),
            &o.ta,
            Some(json!({"status": "breached", "comment": "Monitor not appointed", "version": v})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        o.app.send(api("GET", &format!("/api/v1/cases/{id2}"), &o.ta, None)).await.json()["stage"],
        "compliance_review"
    );
    let r =
        act(&o.app, &o.ts, &id2, json!({"action": "resume_monitoring", "comment": "Monitor appointed on 1 March."}))
            .await;
    assert_eq!(r.json()["stage"], "monitoring", "{}", r.text());
}

pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "icts-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn upload(case: &str, token: &str, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Request<Body> {
    let (ct, body) = multipart(fields, file);
    Request::post(format!("/api/v1/cases/{case}/documents"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", ct)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_size_and_downloads_are_audited() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(true).await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let r = app
        .send(upload(
            &id,
            &o.ta,
            &[("title", "DHS vulnerability assessment"), ("marking", "cui")],
            Some(("../../assessment.pdf", &pdf)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let doc = r.json();
    assert_eq!(doc["media_type"], "application/pdf");
    assert_eq!(doc["filename"], "assessment.pdf", "only the last path component is kept, for display");
    use sha2::Digest;
    assert_eq!(doc["sha256"], hex::encode(sha2::Sha256::digest(&pdf)));
    // A program named .pdf is refused by its content.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00 not a document".to_vec();
    let r =
        app.send(upload(&id, &o.ta, &[("title", "Report"), ("marking", "public")], Some(("report.pdf", &exe)))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "file");
    // Over 20 MiB.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let r = app.send(upload(&id, &o.ta, &[("title", "Huge"), ("marking", "public")], Some(("huge.pdf", &big)))).await;
    assert!(r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::PAYLOAD_TOO_LARGE, "{}", r.status);
    if r.status == StatusCode::UNPROCESSABLE_ENTITY {
        assert_eq!(r.json()["errors"][0]["field"], "file");
    }
    // Plain text and an image pass; a bad marking is named.
    let r = app
        .send(upload(
            &id,
            &o.ta,
            &[("title", "Notes"), ("marking", "cbi")],
            Some(("notes.txt", "Meeting notes: the party's pricing.\n".as_bytes())),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["media_type"], "text/plain; charset=utf-8");
    let r = app.send(upload(&id, &o.ta, &[("title", "Notes"), ("marking", "secret")], Some(("notes.txt", b"x")))).await;
    assert_eq!(r.json()["errors"][0]["field"], "marking");
    // Classified material: a pointer only, never content.
    let r = app
        .send(upload(
            &id,
            &o.ta,
            &[("title", "IC assessment"), ("marking", "classified_reference")],
            Some(("ic.pdf", &pdf)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "file");
    let r = app
        .send(upload(
            &id,
            &o.ta,
            &[
                ("title", "IC assessment"),
                ("marking", "classified_reference"),
                ("pointer", "JWICS: ODNI product 2024-117, SCIF room 3"),
            ],
            None,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let classified = r.json();
    assert!(classified["sha256"].is_null());
    let contents: i64 = sqlx::query_scalar("SELECT count(*) FROM document_contents WHERE document_id = $1::uuid")
        .bind(classified["id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(contents, 0);
    let r = app
        .send(api("GET", &format!("/api/v1/documents/{}/content", classified["id"].as_str().unwrap()), &o.ta, None))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // A classified-reference document cannot be cited in a determination.
    let mut body = content(app, &o.ta, &id, "initial", "prohibition").await;
    body["title"] = json!("Initial determination");
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/determinations"),
            &o.ta,
            Some(json!({"kind": "initial", "outcome": "prohibition", "content": body, "cited_documents": [classified["id"]], "unclassified_confirmed": true})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["field"], "cited_documents");
    // Download: an attachment with nosniff, audited; invisible to an analyst without access.
    let path = format!("/api/v1/documents/{}/content", doc["id"].as_str().unwrap());
    let r = app.send(api("GET", &path, &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, pdf);
    assert!(r.header("content-disposition").unwrap().starts_with("attachment; filename=\"assessment.pdf\""));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/pdf"));
    let downloads = app.events("document.downloaded").await;
    assert_eq!(downloads.len(), 1);
    assert_eq!(downloads[0]["changes"]["document"], doc["id"]);
    let outsider = app.user("analyst").await;
    let t = app.token(&outsider).await;
    assert_eq!(
        app.send(api("GET", &path, &t, None)).await.status,
        StatusCode::NOT_FOUND,
        "restricted case: as if absent"
    );
    let auditor = app.user("auditor").await;
    let t = app.token(&auditor).await;
    assert_eq!(app.send(api("GET", &path, &t, None)).await.status, StatusCode::OK);
    assert_eq!(
        app.send(upload(&id, &t, &[("title", "x"), ("marking", "public")], Some(("a.txt", b"a")))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.events("document.downloaded").await.len(), 2);
    assert_eq!(app.events("document.uploaded").await.len(), 3);
}

/// The subjects and Message-IDs an SMTP sink received.
type Received = Arc<std::sync::Mutex<Vec<String>>>;

/// A minimal SMTP server that accepts every message and records its subject and its
/// Message-ID.
async fn smtp_sink() -> (u16, Received, Received) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let ids = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (sink, id_sink) = (got.clone(), ids.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let got = sink.clone();
            let ids = id_sink.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut subject = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            got.lock().unwrap().push(std::mem::take(&mut subject));
                            w.write_all(b"250 OK queued\r\n").await.unwrap();
                        } else if let Some(s) = line.strip_prefix("Subject: ") {
                            subject = s.to_string();
                        } else if let Some(s) = line.strip_prefix("Message-ID: ") {
                            ids.lock().unwrap().push(s.to_string());
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_outbox_sends_each_message_once_with_two_workers() {
    let app = TestApp::new().await;
    let user = app.user("analyst").await;
    let now = app.state.now();
    let mut tx = app.pool.begin().await.unwrap();
    for i in 0..40 {
        let message = format!("Case ICTS-2026-{i:03} assigned to you");
        let note = icts_review::notifications::Note {
            kind: icts_review::notifications::Kind::Assigned,
            case_id: None,
            message: &message,
            link: "/cases",
            dedupe_key: None,
        };
        assert!(icts_review::notifications::notify(&mut tx, now, true, user.id, &note).await.unwrap());
    }
    tx.commit().await.unwrap();
    assert_eq!(app.count("mail_outbox WHERE sent_at IS NULL").await, 40);
    let (port, got, _) = smtp_sink().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let a = icts_review::notifications::outbox::Mailer::new(&url, "icts-review@agency.gov").unwrap();
    let b = icts_review::notifications::outbox::Mailer::new(&url, "icts-review@agency.gov").unwrap();
    let (pa, pb) = (app.pool.clone(), app.pool.clone());
    let wa = tokio::spawn(async move {
        icts_review::notifications::outbox::send_pending(&pa, &a, "worker-a", now).await.unwrap()
    });
    let wb = tokio::spawn(async move {
        icts_review::notifications::outbox::send_pending(&pb, &b, "worker-b", now).await.unwrap()
    });
    let (na, nb) = (wa.await.unwrap(), wb.await.unwrap());
    assert_eq!(na + nb, 40, "worker a sent {na}, worker b {nb}");
    let subjects = got.lock().unwrap().clone();
    assert_eq!(subjects.len(), 40, "the relay received each message once");
    let unique: std::collections::BTreeSet<&String> = subjects.iter().collect();
    assert_eq!(unique.len(), 40, "no message twice");
    assert_eq!(app.count("mail_outbox WHERE sent_at IS NULL").await, 0);
    // A second pass finds nothing to send.
    let m = icts_review::notifications::outbox::Mailer::new(&url, "icts-review@agency.gov").unwrap();
    assert_eq!(icts_review::notifications::outbox::send_pending(&app.pool, &m, "worker-a", now).await.unwrap(), 0);
    // Without a relay nothing is queued; the in-app notification still is.
    let mut tx = app.pool.begin().await.unwrap();
    let note = icts_review::notifications::Note {
        kind: icts_review::notifications::Kind::Breach,
        case_id: None,
        message: "m",
        link: "/",
        dedupe_key: None,
    };
    icts_review::notifications::notify(&mut tx, now, false, user.id, &note).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.count("mail_outbox").await, 40);
    assert_eq!(app.count("notifications").await, 41);
    // An unreachable relay: the message stays queued with the error and a later retry.
    let mut tx = app.pool.begin().await.unwrap();
    icts_review::notifications::notify(&mut tx, now, true, user.id, &note).await.unwrap();
    tx.commit().await.unwrap();
    let dead = icts_review::notifications::outbox::Mailer::new(
        &format!("smtp://127.0.0.1:{}", crate::harness::free_port()),
        "x@agency.gov",
    )
    .unwrap();
    assert_eq!(icts_review::notifications::outbox::send_pending(&app.pool, &dead, "worker-a", now).await.unwrap(), 0);
    let (attempts, err): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, last_error FROM mail_outbox WHERE sent_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, 1);
    assert!(err.is_some());
}

#[tokio::test]
async fn a_crash_while_mailing_sends_a_message_at_most_once_more_with_the_same_message_id() {
    use icts_review::notifications::outbox;
    let app = TestApp::new().await;
    let user = app.user("analyst").await;
    let queue = |message: &'static str| {
        let app = &app;
        let user = user.id;
        async move {
            let mut tx = app.pool.begin().await.unwrap();
            let note = icts_review::notifications::Note {
                kind: icts_review::notifications::Kind::Assigned,
                case_id: None,
                message,
                link: "/cases",
                dedupe_key: None,
            };
            icts_review::notifications::notify(&mut tx, app.state.now(), true, user, &note).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    queue("First message").await;
    let (port, subjects, ids) = smtp_sink().await;
    let mailer = outbox::Mailer::new(&format!("smtp://127.0.0.1:{port}"), "icts-review@agency.gov").unwrap();
    let t0 = app.state.now();

    // A worker claims the message and dies: sent or not, nobody knows.
    let claimed = outbox::claim(&app.pool, "worker-a", t0).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id;
    // Another worker leaves it alone while the claim's lease runs ...
    assert_eq!(outbox::send_pending(&app.pool, &mailer, "worker-b", t0 + time::Duration::minutes(1)).await.unwrap(), 0);
    assert!(subjects.lock().unwrap().is_empty());
    // ... and sends it once after it, with the message's own Message-ID.
    let later = t0 + outbox::LEASE + time::Duration::minutes(1);
    assert_eq!(outbox::send_pending(&app.pool, &mailer, "worker-b", later).await.unwrap(), 1);
    assert_eq!(outbox::send_pending(&app.pool, &mailer, "worker-b", later).await.unwrap(), 0, "recorded as sent");
    assert_eq!(ids.lock().unwrap().clone(), vec![format!("<{id}@icts-review>")]);

    // Two crashes in a row: the message is held, never sent a third time, and says why.
    queue("Second message").await;
    let t1 = later;
    assert_eq!(outbox::claim(&app.pool, "worker-a", t1).await.unwrap().len(), 1);
    let t2 = t1 + outbox::LEASE + time::Duration::minutes(1);
    assert_eq!(outbox::claim(&app.pool, "worker-b", t2).await.unwrap().len(), 1, "one retry after the first crash");
    let t3 = t2 + outbox::LEASE + time::Duration::minutes(1);
    assert_eq!(outbox::send_pending(&app.pool, &mailer, "worker-c", t3).await.unwrap(), 0);
    let (sent, error): (Option<time::OffsetDateTime>, Option<String>) =
        sqlx::query_as("SELECT sent_at, last_error FROM mail_outbox WHERE subject LIKE '%Second message%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(sent.is_none());
    assert_eq!(error.as_deref(), Some(outbox::HELD));
    assert_eq!(subjects.lock().unwrap().len(), 1, "only the first message reached the relay");
}

#[tokio::test]
async fn clocks_due_within_a_week_notify_the_assignee_once() {
    let mut o = Office::new().await;
    let id = o.at_initial_determination(false).await;
    signed(&o.app, &o.ta, (&o.sup, &o.ts), &id, "initial", "prohibition").await;
    o.app.clock.advance(Duration::days(21));
    o.refresh().await;
    let today = o.app.state.now().date().to_string();
    ok(
        &o.app,
        &o.ta,
        &id,
        json!({"action": "serve_initial_determination", "date": today, "method": "registered_mail"}),
    )
    .await;
    let pool = &o.app.pool;
    assert_eq!(icts_review::notifications::remind_due_clocks(pool, o.app.state.now(), false).await.unwrap(), 0);
    o.app.clock.advance(Duration::days(24));
    let n = icts_review::notifications::remind_due_clocks(pool, o.app.state.now(), false).await.unwrap();
    assert_eq!(n, 1, "the response window is due in 6 days");
    assert_eq!(icts_review::notifications::remind_due_clocks(pool, o.app.state.now(), false).await.unwrap(), 0, "once");
    o.refresh().await;
    let list = o.app.send(api("GET", "/api/v1/notifications", &o.ta, None)).await.json();
    let item = list["items"].as_array().unwrap().iter().find(|x| x["kind"] == "clock_due").unwrap().clone();
    assert!(item["message"].as_str().unwrap().contains("response window"));
    let unread = list["unread"].as_i64().unwrap();
    let r = o
        .app
        .send(api("POST", &format!("/api/v1/notifications/{}/read", item["id"].as_str().unwrap()), &o.ta, None))
        .await;
    assert_eq!(r.json()["marked"], 1);
    assert_eq!(
        o.app.send(api("GET", "/api/v1/notifications", &o.ta, None)).await.json()["unread"].as_i64().unwrap(),
        unread - 1
    );
    // Someone else's notification is not found.
    let r = o
        .app
        .send(api("POST", &format!("/api/v1/notifications/{}/read", item["id"].as_str().unwrap()), &o.ts, None))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// "Awaiting my signature" on a supervisor's home page holds only what they may sign:
/// not their own draft, nor a draft on a case they filed; another supervisor sees both.
#[tokio::test]
async fn a_supervisors_home_lists_only_the_drafts_they_may_sign() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let body = content(app, &o.ts, &id, "initial", "prohibition").await;
    let r = draft(app, &o.ts, &id, "initial", "prohibition", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ts, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let to_sign = |html: String| {
        let start = html.find("data-testid=\"to-sign\"").expect("the list is on the page");
        let rest = &html[start..];
        rest[..rest.find("</section>").unwrap_or(rest.len())].to_string()
    };
    let drafter = app.sign_in(&o.sup).await;
    let mine = to_sign(app.send(drafter.get("/")).await.text());
    assert!(mine.contains("(0 determinations)") && !mine.contains(&did), "{mine}");
    let other = app.sign_in(&o.sup2).await;
    let theirs = to_sign(app.send(other.get("/")).await.text());
    assert!(theirs.contains("(1 determination)") && theirs.contains(&did), "{theirs}");
}

/// The list of every determination: its total, pages both ways keeping the filters, and
/// headers that sort by case and by last change; a bad filter is named.
#[tokio::test]
async fn every_determination_is_listed_with_its_total_pages_both_ways_and_sorted() {
    use crate::days::link;
    let o = Office::new().await;
    let app = &o.app;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let case = o.at_initial_determination(false).await;
        let body = content(app, &o.ta, &case, "initial", "prohibition").await;
        let r = draft(app, &o.ta, &case, "initial", "prohibition", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_str().unwrap().to_string());
        // Each draft changes a minute after the one before.
        app.clock.advance(time::Duration::minutes(1));
    }
    let listed = |html: &str| -> Vec<String> {
        let table = &html[html.find("data-testid=\"all-determinations\"").unwrap()..];
        table
            .match_indices("href=\"/determinations/")
            .map(|(i, m)| table[i + m.len()..i + m.len() + 36].to_string())
            .collect()
    };
    let s = app.sign_in(&o.sup).await;
    let p1 = app.send(s.get("/determinations?status=draft&limit=2")).await;
    assert_eq!(p1.status, StatusCode::OK);
    let p1 = p1.text();
    assert!(p1.contains("<strong>3 determinations</strong>"), "{p1}");
    // Newest change first: the last drafted leads.
    assert_eq!(listed(&p1), vec![ids[2].clone(), ids[1].clone()]);
    let next = link(&p1, "next-page").unwrap();
    assert!(next.contains("status=draft") && next.contains("limit=2"), "{next}");
    let p2 = app.send(s.get(&next)).await.text();
    assert_eq!(listed(&p2), vec![ids[0].clone()]);
    let back = app.send(s.get(&link(&p2, "prev-page").unwrap())).await.text();
    assert_eq!(listed(&back), listed(&p1));
    assert!(link(&back, "prev-page").is_none());
    // By case docket, and oldest change first, from the headers.
    let by_docket = app.send(s.get(&link(&p1, "sort-docket").unwrap())).await.text();
    assert_eq!(listed(&by_docket), vec![ids[0].clone(), ids[1].clone()]);
    let oldest = app.send(s.get(&link(&p1, "sort-changed").unwrap())).await.text();
    assert_eq!(listed(&oldest), vec![ids[0].clone(), ids[1].clone()]);
    // Another status holds none; a bad one is named.
    assert!(
        app.send(s.get("/determinations?status=signed")).await.text().contains("<strong>0 determinations</strong>")
    );
    let bad = app.send(s.get("/determinations?kind=verdict")).await.text();
    assert!(bad.contains("data-testid=\"error-summary\"") && bad.contains("Kind"), "{bad}");
}

/// The outside-signature form comes back open after a refusal, each problem at its field
/// and what was typed kept.
#[tokio::test]
async fn a_refused_outside_signature_comes_back_open_with_its_errors_at_the_fields() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.at_initial_determination(false).await;
    let body = content(app, &o.ta, &id, "initial", "prohibition").await;
    let r = draft(app, &o.ta, &id, "initial", "prohibition", body).await;
    let did = r.json()["id"].as_str().unwrap().to_string();
    let r = app.send(api("POST", &format!("/api/v1/determinations/{did}/submit"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let s = app.sign_in(&o.sup).await;
    let r = app
        .send(s.post(
            &format!("/determinations/{did}/outside-signature"),
            &[
                ("signer_name", ""),
                ("signer_title", "Secretary of Commerce"),
                ("authority", ""),
                ("signed_on", ""),
                ("signed_copy", ""),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let start = html.find("id=\"panel-outside\"").expect("the panel");
    let panel = &html[start..start + html[start..].find("</details>").unwrap()];
    assert!(panel.contains(" open>") && panel.contains("data-testid=\"error-summary\""), "{panel}");
    assert!(
        panel.contains("href=\"#outside-signed_copy\"") || panel.contains("href=\"#outside-signer_name\""),
        "{panel}"
    );
    assert!(panel.contains("value=\"Secretary of Commerce\""), "what was typed is kept: {panel}");
    // A return without its comment: the message stands at the comment.
    let r = app.send(s.post(&format!("/determinations/{did}/return"), &[("comment", "  ")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("href=\"#return-comment\"") && html.contains("id=\"return-comment-error\""), "{html}");
}
