//! Risk assessments, band overrides, nexus findings and rubric immutability.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, api};

/// Records a nexus finding and an assessment with every applicable criterion at `level`.
pub async fn research(app: &TestApp, token: &str, case: &str, level: u8) -> Value {
    let criteria: serde_json::Map<String, Value> =
        ["ownership", "facilities", "personnel_ties", "adversary_law", "operation_control"]
            .iter()
            .map(|c| (c.to_string(), json!({"finding": format!("{c}: found"), "evidence": "party record"})))
            .collect();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{case}/nexus"),
            token,
            Some(json!({"criteria": criteria, "conclusion": "yes", "summary": "Nexus established"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assess(app, token, case, level, &[]).await
}

/// Scores every applicable criterion of the case at `level` (with exceptions).
pub async fn assess(app: &TestApp, token: &str, case: &str, level: u8, except: &[(&str, u8)]) -> Value {
    let rubric = app.send(api("GET", "/api/v1/rubrics/current", token, None)).await.json();
    let c = app.send(api("GET", &format!("/api/v1/cases/{case}"), token, None)).await.json();
    let reference = app.send(api("GET", "/api/v1/reference", token, None)).await.json();
    let cs = reference["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == c["category"] && x["connected_software"] == true);
    let scores: serde_json::Map<String, Value> = rubric["definition"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|cr| cs || cr["connected_software_only"] != true)
        .map(|cr| {
            let code = cr["code"].as_str().unwrap();
            let s = except.iter().find(|e| e.0 == code).map(|e| e.1).unwrap_or(level);
            (code.to_string(), json!({"score": s, "rationale": format!("level {s}")}))
        })
        .collect();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{case}/assessments"),
            token,
            Some(json!({"scores": scores, "narrative": "n"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

async fn case(app: &TestApp, token: &str, category: &str) -> String {
    let body = json!({"title": "t", "summary": "s", "origin": "own_initiative", "category": category, "adversaries": ["CN"], "restricted": false});
    app.send(api("POST", "/api/v1/cases", token, Some(body))).await.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_assessment_is_computed_explained_and_appended() {
    let app = TestApp::new().await;
    let a = app.user("analyst").await;
    let t = app.token(&a).await;
    let id = case(&app, &t, "connected_software").await;
    let first = assess(
        &app,
        &t,
        &id,
        3,
        &[("c02_adversary_control", 4), ("c08_mitigation", 4), ("c09_severity", 4), ("s05_third_party_audit", 1)],
    )
    .await;
    assert_eq!(first["composite"], 78.29, "the pinned worked example");
    assert_eq!(first["band"], "critical");
    assert_eq!(first["rubric_version"], 1);
    assert_eq!(first["contributions"].as_array().unwrap().len(), 18, "connected-software criteria apply");
    let sum: f64 = first["contributions"].as_array().unwrap().iter().map(|c| c["points"].as_f64().unwrap()).sum();
    assert!((sum - 78.29).abs() < 0.1);
    // Data-hosting cases use the ten criteria only.
    let other = case(&app, &t, "data_hosting").await;
    let b = assess(&app, &t, &other, 1, &[]).await;
    assert_eq!(b["contributions"].as_array().unwrap().len(), 10);
    assert_eq!((b["composite"].as_f64().unwrap(), b["band"].as_str().unwrap()), (25.0, "moderate"));
    // Missing rationale and bad scores are named.
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{other}/assessments"),
            &t,
            Some(json!({"scores": {"c01_nature": {"score": 7, "rationale": ""}}})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert!(
        fields.contains(&"scores.c01_nature.rationale".to_string())
            && fields.contains(&"scores.c01_nature".to_string())
            && fields.contains(&"scores.c10_likelihood".to_string()),
        "{fields:?}"
    );
    // History keeps both; newest first.
    assess(&app, &t, &id, 2, &[]).await;
    let list = app.send(api("GET", &format!("/api/v1/cases/{id}/assessments"), &t, None)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["composite"], 50.0);
    assert_eq!(list[1]["composite"], 78.29);
    // The page shows the chart with a text alternative and what changed.
    let s = app.sign_in(&a).await;
    let html = app.send(s.get(&format!("/cases/{id}"))).await.text();
    assert!(html.contains("data-testid=\"risk-chart\"") && html.contains("<title id=\"risk-chart-title\">"));
    assert!(
        html.contains("c02_adversary_control") && html.contains("4 → 2"),
        "the change between the last two assessments"
    );
    // Any two can be compared, in either direction.
    let (newest, oldest) = (list[0]["id"].as_str().unwrap(), list[1]["id"].as_str().unwrap());
    let html = app.send(s.get(&format!("/cases/{id}?from={newest}&to={oldest}"))).await.text();
    assert!(html.contains("c02_adversary_control: 2 → 4"), "reverse comparison");
    assert_eq!(
        app.send(s.get(&format!("/cases/{id}?from=garbage&to={oldest}"))).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Assessments are append-only, even for the owner.
    let su = app.superuser_pool().await;
    let err = sqlx::query("UPDATE assessments SET composite = 1").execute(&su).await.unwrap_err();
    assert!(err.to_string().contains("immutable"));
    assert_eq!(app.events("case.assessed").await.len(), 3);
}

#[tokio::test]
async fn a_band_override_needs_a_second_supervisor() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let sup2 = app.user("supervisor").await;
    let (ts, ts2) = (app.token(&sup).await, app.token(&sup2).await);
    let id = case(&app, &ts, "data_hosting").await;
    let a = assess(&app, &ts, &id, 1, &[]).await;
    let aid = a["id"].as_str().unwrap();
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/assessments/{aid}/override"),
            &ts,
            Some(json!({"band": "high", "justification": ""})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/assessments/{aid}/override"),
            &ts,
            Some(json!({"band": "high", "justification": "Classified threat reporting"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let oid = r.json()["id"].as_str().unwrap().to_string();
    let list = app.send(api("GET", &format!("/api/v1/cases/{id}/assessments"), &ts, None)).await.json();
    assert_eq!(list[0]["effective_band"], "moderate", "not in effect until approved");
    assert_eq!(list[0]["pending_override"]["proposed_band"], "high");
    let r =
        app.send(api("POST", &format!("/api/v1/overrides/{oid}/decision"), &ts, Some(json!({"approve": true})))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "self-approval refused");
    // The database refuses it too.
    let su = app.superuser_pool().await;
    let err = sqlx::query("UPDATE band_overrides SET decided_by = proposed_by, approved = true, decided_at = now()")
        .execute(&su)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check"), "{err}");
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/overrides/{oid}/decision"),
            &ts2,
            Some(json!({"approve": true, "comment": "Agreed"})),
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let list = app.send(api("GET", &format!("/api/v1/cases/{id}/assessments"), &ts, None)).await.json();
    assert_eq!(list[0]["effective_band"], "high");
    assert_eq!(list[0]["band"], "moderate", "the computed band stays on record");
    assert_eq!(app.events("case.band_override_proposed").await.len(), 1);
    assert_eq!(app.events("case.band_override_approved").await.len(), 1);
}

#[tokio::test]
async fn nexus_findings_answer_every_criterion_and_rubrics_are_immutable() {
    let app = TestApp::new().await;
    let a = app.user("analyst").await;
    let admin = app.user("admin").await;
    let (t, tadm) = (app.token(&a).await, app.token(&admin).await);
    let id = case(&app, &t, "data_hosting").await;
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/nexus"),
            &t,
            Some(
                json!({"criteria": {"ownership": {"finding": "Parent in PRC"}}, "conclusion": "maybe", "summary": ""}),
            ),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .send(api(
            "POST",
            &format!("/api/v1/cases/{id}/nexus"),
            &t,
            Some(json!({"criteria": {"ownership": {"finding": "Parent in PRC"}}, "conclusion": "yes", "summary": ""})),
        ))
        .await;
    let fields: Vec<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        fields,
        [
            "criteria.facilities",
            "criteria.personnel_ties",
            "criteria.adversary_law",
            "criteria.operation_control",
            "summary"
        ]
    );
    // The form draws on the parties' ownership chains.
    let parent = app
        .send(api(
            "POST",
            "/api/v1/parties",
            &t,
            Some(json!({"legal_name": "Parent Holding", "kind": "company", "country": "CN"})),
        ))
        .await
        .json();
    let child = app
        .send(api("POST", "/api/v1/parties", &t, Some(json!({"legal_name": "US Hosting Sub", "kind": "company", "country": "US", "parent_id": parent["id"], "ownership_pct": 60.0}))))
        .await
        .json();
    app.send(api(
        "POST",
        &format!("/api/v1/cases/{id}/parties"),
        &t,
        Some(json!({"party_id": child["id"], "role": "supplier"})),
    ))
    .await;
    let s = app.sign_in(&a).await;
    let form = app.send(s.get(&format!("/cases/{id}/nexus"))).await.text();
    assert!(
        form.contains("US Hosting Sub (US), 60% owned by → Parent Holding (CN) [foreign-adversary country]"),
        "{form}"
    );
    research(&app, &t, &id, 2).await;
    let n = app.send(api("GET", &format!("/api/v1/cases/{id}/nexus"), &t, None)).await.json();
    assert_eq!(n["conclusion"], "yes");
    // A new rubric version; version 1 stays as it was.
    let mut def = app.send(api("GET", "/api/v1/rubrics/1", &t, None)).await.json()["definition"].clone();
    def["thresholds"]["critical"] = json!(80.0);
    let r = app.send(api("POST", "/api/v1/rubrics", &tadm, Some(json!({"name": "v2", "definition": def})))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["version"], 2);
    let v1 = app.send(api("GET", "/api/v1/rubrics/1", &t, None)).await.json();
    assert_eq!(v1["definition"]["thresholds"]["critical"], 75.0);
    assert_eq!(app.send(api("GET", "/api/v1/rubrics/current", &t, None)).await.json()["version"], 2);
    let su = app.superuser_pool().await;
    assert!(
        sqlx::query("UPDATE rubric_versions SET name = 'x' WHERE version = 1")
            .execute(&su)
            .await
            .unwrap_err()
            .to_string()
            .contains("immutable")
    );
    assert!(sqlx::query("DELETE FROM rubric_versions WHERE version = 1").execute(&su).await.is_err());
    // The migration's version 1 equals the rubric in the code.
    let stored: Value = sqlx::query_scalar("SELECT definition FROM rubric_versions WHERE version = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, serde_json::to_value(icts_review::risk::model::version_one()).unwrap());
    let r = app.send(api("POST", "/api/v1/rubrics", &t, Some(json!({"name": "x", "definition": def})))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// The case page's override form comes back open after a refusal, with the problem at the
/// justification and the chosen band kept.
#[tokio::test]
async fn a_refused_override_comes_back_open_with_its_error_at_the_field() {
    let app = TestApp::new().await;
    let sup = app.user("supervisor").await;
    let ts = app.token(&sup).await;
    let id = case(&app, &ts, "data_hosting").await;
    let a = assess(&app, &ts, &id, 1, &[]).await;
    let aid = a["id"].as_str().unwrap();
    let s = app.sign_in(&sup).await;
    let r = app
        .send(s.post(
            &format!("/assessments/{aid}/override"),
            &[("case_id", &id), ("band", "high"), ("justification", "")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let start = html.find("<details id=\"panel-override\" open>").expect("the panel comes back open");
    let panel = &html[start..start + html[start..].find("</details>").unwrap()];
    assert!(panel.contains("href=\"#ov-justification\"") && panel.contains("id=\"ov-justification-error\""), "{panel}");
    assert!(panel.contains("<option value=\"high\" selected>"), "{panel}");
}
