//! The demonstration office.

use crate::harness::TestApp;

#[tokio::test]
async fn the_demo_office_has_every_stage_category_and_the_kaspersky_review() {
    let app = TestApp::new().await;
    let accounts = icts_review::seed::demo(app.pool.clone(), &app.config).await.unwrap();
    let roles: Vec<&str> = accounts.iter().map(|a| a.role.as_str()).collect();
    for r in ["analyst", "supervisor", "auditor", "admin"] {
        assert!(roles.contains(&r), "an account for {r}");
    }
    assert!(accounts.iter().all(|a| a.password.len() == 20));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cases").fetch_one(&app.pool).await.unwrap();
    assert!((45..=60).contains(&n), "about fifty cases, got {n}");
    let stages: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT stage::text FROM cases").fetch_all(&app.pool).await.unwrap();
    for s in icts_review::cases::workflow::Stage::ALL {
        if s == icts_review::cases::workflow::Stage::Closed {
            continue;
        }
        assert!(stages.contains(&s.as_str().to_string()), "a case at {}", s.as_str());
    }
    let categories: i64 =
        sqlx::query_scalar("SELECT count(DISTINCT category) FROM cases").fetch_one(&app.pool).await.unwrap();
    assert!(categories >= 6);
    let rules: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT rule_version FROM cases WHERE rule_version IS NOT NULL ORDER BY 1")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rules, ["final-2025", "ifr-2021"], "cases under both rules");
    let (stage, decision, rule, agency): (String, Option<String>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT stage::text, final_decision::text, rule_version, referring_agency FROM cases WHERE docket_number = 'ICTS-2021-002'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (stage.as_str(), decision.as_deref(), rule.as_deref(), agency.as_deref()),
        ("decided", Some("prohibited"), Some("ifr-2021"), Some("DOJ"))
    );
    let decided_on: time::Date =
        sqlx::query_scalar("SELECT decided_on FROM cases WHERE docket_number = 'ICTS-2021-002'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(decided_on, time::macros::date!(2024 - 06 - 20));
    // Its ownership chain leads to Russia.
    let chain: i64 =
        sqlx::query_scalar("SELECT count(*) FROM parties WHERE parent_id IS NOT NULL AND legal_name LIKE 'Kaspersky%'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(chain, 2);
    // Its initial and final determinations are signed by a supervisor who did not draft them,
    // and the stored hashes match the content.
    let ds: Vec<icts_review::determinations::Determination> = sqlx::query_as(
        "SELECT d.*, u.name AS drafted_by_name, s.name AS signed_by_name, NULL::text AS recorded_by_name, NULL::text AS confirmed_by_name FROM determinations d \
         JOIN users u ON u.id = d.drafted_by LEFT JOIN users s ON s.id = d.signed_by \
         JOIN cases c ON c.id = d.case_id WHERE c.docket_number = 'ICTS-2021-002' ORDER BY d.created_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let kinds: Vec<(&str, &str, &str)> =
        ds.iter().map(|d| (d.kind.as_str(), d.outcome.as_str(), d.status.as_str())).collect();
    assert_eq!(kinds, [("initial", "prohibition", "signed"), ("final", "prohibited", "signed")]);
    for d in &ds {
        assert_ne!(d.signed_by, Some(d.drafted_by));
        assert_eq!(d.content_sha256.as_deref(), Some(&d.computed_hash()[..]));
    }
    // Moved in from the paper docket: signed outside the system on the public record's dates,
    // recorded by one supervisor and confirmed by another.
    assert_eq!(ds[1].signature_date(), Some(time::macros::date!(2024 - 06 - 20)));
    assert_eq!(ds[0].signature_date(), Some(time::macros::date!(2023 - 09 - 15)));
    for d in &ds {
        assert_eq!(d.outside_signer.as_deref(), Some("Gina M. Raimondo"));
        assert!(d.confirmed_by.is_some() && d.confirmed_by != d.recorded_by);
    }
    let (published_on, citation): (time::Date, String) =
        sqlx::query_as("SELECT published_on, citation FROM determination_publications WHERE determination_id = $1")
            .bind(ds[1].id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((published_on, citation.as_str()), (time::macros::date!(2024 - 06 - 24), "89 FR 52434"));
    let (accepted, served): (time::Date, time::Date) =
        sqlx::query_as("SELECT accepted_on, served_on FROM cases WHERE docket_number = 'ICTS-2021-002'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((accepted, served), (time::macros::date!(2021 - 09 - 01), time::macros::date!(2023 - 10 - 02)));
    assert_eq!(ds[1].typed().prohibitions.len(), 2);
    let notices: i64 = sqlx::query_scalar("SELECT count(*) FROM agency_notices").fetch_one(&app.pool).await.unwrap();
    assert!(notices >= 12, "{notices}");
    assert!(matches!(icts_review::audit::verify(&app.pool).await.unwrap(), icts_review::audit::Verdict::Ok { .. }));
    counts_match(&app).await;
    // A second run refuses to fill a non-empty office.
    assert!(icts_review::seed::demo(app.pool.clone(), &app.config).await.is_err());
}

#[tokio::test]
async fn a_synthetic_office_loads_with_a_valid_chain_and_signed_determinations() {
    let app = TestApp::new().await;
    let s = icts_review::synthetic::load(&app.pool, 2_000, 30_000, 3_000, false).await.unwrap();
    assert_eq!(s.cases, 2_000);
    // The cases' events, then one `declaration.filed` per declaration.
    assert_eq!((s.events, s.declarations), (33_000, 3_000));
    assert_eq!(app.count("declarations").await, 3_000);
    assert_eq!(app.count("declaration_history").await, 3_000);
    assert_eq!(app.count("filer_roles").await, s.filers as i64);
    let (superseded, amendments): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'superseded'), count(*) FILTER (WHERE amends IS NOT NULL) FROM declarations",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(superseded > 0 && superseded == amendments, "{superseded} superseded, {amendments} amendments");
    assert_eq!(app.count("cases").await, 2_000);
    assert_eq!(app.count("case_parties").await, 2_000);
    let parties_with_owner: i64 = sqlx::query_scalar("SELECT count(*) FROM parties WHERE parent_id IS NOT NULL")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(parties_with_owner >= 500);
    let stages: i64 = sqlx::query_scalar("SELECT count(DISTINCT stage) FROM cases").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stages, 14, "every stage");
    let signed: Vec<icts_review::determinations::Determination> = sqlx::query_as(
        "SELECT d.*, u.name AS drafted_by_name, s.name AS signed_by_name, NULL::text AS recorded_by_name, NULL::text AS confirmed_by_name FROM determinations d JOIN users u ON u.id = d.drafted_by \
         LEFT JOIN users s ON s.id = d.signed_by WHERE d.status = 'signed' LIMIT 50",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!signed.is_empty());
    for d in &signed {
        assert_eq!(d.content_sha256.as_deref(), Some(&d.computed_hash()[..]));
        assert_ne!(d.signed_by, Some(d.drafted_by));
    }
    assert!(s.assessments > 500 && s.notes >= 100, "{s:?}");
    match icts_review::audit::verify(&app.pool).await.unwrap() {
        icts_review::audit::Verdict::Ok { count, .. } => {
            assert_eq!(count, 33_000 + s.users as i64, "plus the accounts' creation")
        }
        v => panic!("{v}"),
    }
    // The office works on top of it: a case from the list opens through the API.
    let sup = app.user("supervisor").await;
    let t = app.token(&sup).await;
    let list = app.send(crate::harness::api("GET", "/api/v1/cases?limit=5", &t, None)).await.json();
    let id = list["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.send(crate::harness::api("GET", &format!("/api/v1/cases/{id}"), &t, None)).await.status,
        axum::http::StatusCode::OK
    );
    // And a declaration from the list, through the API, with its filer's page.
    let list =
        app.send(crate::harness::api("GET", "/api/v1/declarations?limit=5&status=accepted", &t, None)).await.json();
    assert_eq!(list["declarations"].as_array().unwrap().len(), 5, "{list}");
    let d = &list["declarations"][0];
    assert_eq!(
        app.send(crate::harness::api("GET", &format!("/api/v1/declarations/{}", d["id"].as_str().unwrap()), &t, None))
            .await
            .status,
        axum::http::StatusCode::OK
    );
    assert!(icts_review::synthetic::load(&app.pool, 10, 10, 0, false).await.is_err(), "only an empty office");
    counts_match(&app).await;
}

/// The trigger-kept per-stage counts equal a fresh count, for everyone and for an analyst.
async fn counts_match(app: &TestApp) {
    let kept: Vec<(String, bool, i64)> =
        sqlx::query_as("SELECT stage::text, restricted, n FROM case_stage_counts WHERE n <> 0 ORDER BY 1, 2")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let counted: Vec<(String, bool, i64)> =
        sqlx::query_as("SELECT stage::text, restricted, count(*) FROM cases GROUP BY 1, 2 ORDER BY 1, 2")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(kept, counted);
    let analyst: icts_review::ids::UserId =
        sqlx::query_scalar("SELECT id FROM users WHERE role = 'analyst' ORDER BY email LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let mut via_table =
        icts_review::cases::db::count_by_stage(&mut conn, analyst, icts_review::access::Role::Analyst).await.unwrap();
    via_table.sort_by_key(|c| c.0.as_str());
    let mut direct: Vec<(icts_review::cases::workflow::Stage, i64)> =
        sqlx::query_as("SELECT stage, count(*) FROM cases WHERE NOT restricted OR assignee = $1 GROUP BY stage")
            .bind(analyst)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    direct.sort_by_key(|c| c.0.as_str());
    assert_eq!(via_table, direct);
}

#[tokio::test]
async fn every_event_the_demo_office_writes_is_an_event_type_of_this_release() {
    let app = TestApp::new().await;
    icts_review::seed::demo(app.pool.clone(), &app.config).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT DISTINCT event_type FROM audit_events ORDER BY 1")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(stored.len() >= 10, "the demo office records many kinds of act: {stored:?}");
    for code in &stored {
        let t = icts_review::audit::EventType::parse(code).unwrap_or_else(|| panic!("{code} is no event type"));
        assert_eq!(t.as_str(), code, "stored as its code, byte for byte");
        assert!(!t.harness_only(), "{code} is the harness's, not the product's");
    }
}
