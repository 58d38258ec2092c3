//! The route x role matrix: every route of the router, for anonymous users and each role,
//! against `tests/route_matrix.txt`.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use icts_review::auth::session::{self, Kind};
use icts_review::router::routes;

use crate::harness::{TestApp, manifest_dir};

struct Row {
    method: String,
    path: String,
    cells: Vec<String>,
}

fn matrix() -> Vec<Row> {
    let text = std::fs::read_to_string(manifest_dir().join("tests/route_matrix.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(parts.len(), 7, "malformed matrix line: {l}");
            Row {
                method: parts[0].into(),
                path: parts[1].into(),
                cells: parts[2..].iter().map(|s| s.to_string()).collect(),
            }
        })
        .collect()
}

#[test]
fn every_route_is_in_the_matrix_and_every_matrix_row_is_a_route() {
    let routes: BTreeSet<(String, String)> = routes().into_iter().map(|(m, p)| (m.to_string(), p)).collect();
    let rows: Vec<(String, String)> = matrix().into_iter().map(|r| (r.method, r.path)).collect();
    let listed: BTreeSet<(String, String)> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), listed.len(), "a route is listed twice in the matrix");
    let missing: Vec<_> = routes.difference(&listed).collect();
    assert!(missing.is_empty(), "routes missing from tests/route_matrix.txt: {missing:?}");
    let extra: Vec<_> = listed.difference(&routes).collect();
    assert!(extra.is_empty(), "matrix rows that are not routes: {extra:?}");
}

fn concrete(path: &str) -> String {
    path.replace("{id}", &uuid::Uuid::now_v7().to_string())
        .replace("{rfi}", &uuid::Uuid::now_v7().to_string())
        .replace("{kind}", "adversaries")
        .replace("{code}", "ZZ")
        .replace("{version}", "1")
        .replace("{seq}", "1")
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let app = TestApp::new().await;
    let roles = ["analyst", "supervisor", "auditor", "admin"];
    let mut users = Vec::new();
    for role in roles {
        users.push(app.user(role).await);
    }
    let mut failures = Vec::new();
    for row in matrix() {
        let is_api = row.path.starts_with("/api/");
        let method: axum::http::Method = row.method.parse().unwrap();
        // Anonymous.
        let req = Request::builder().method(method.clone()).uri(concrete(&row.path)).body(Body::empty()).unwrap();
        let r = app.send(req).await;
        let redirected_to_sign_in =
            r.status == StatusCode::SEE_OTHER && r.header("location").is_some_and(|l| l.starts_with("/sign-in?next="));
        let needs_auth = if is_api { r.status == StatusCode::UNAUTHORIZED } else { redirected_to_sign_in };
        match row.cells[0].as_str() {
            "open" if needs_auth || r.status == StatusCode::FORBIDDEN => {
                failures.push(format!("{} {} anonymous: expected open, got {}", row.method, row.path, r.status))
            }
            "auth" if !needs_auth => failures
                .push(format!("{} {} anonymous: expected sign-in required, got {}", row.method, row.path, r.status)),
            _ => {}
        }
        // Each role, with a fresh session of the right kind.
        for (i, role) in roles.iter().enumerate() {
            let mut conn = app.pool.acquire().await.unwrap();
            let kind = if is_api { Kind::Api } else { Kind::Browser };
            let s = session::create(
                &mut conn,
                users[i].id,
                kind,
                app.state.now(),
                None,
                None,
                session::SignInMethod::password(false),
            )
            .await
            .unwrap();
            drop(conn);
            let mut req = Request::builder().method(method.clone()).uri(concrete(&row.path));
            req = if is_api {
                req.header("authorization", format!("Bearer {}", s.secret))
            } else {
                req.header("cookie", format!("icts_session={}", s.secret)).header("x-csrf-token", &s.csrf_token)
            };
            let refused_before = app.events("access.refused").await.len();
            let r = app.send(req.body(Body::empty()).unwrap()).await;
            let refused_after = app.events("access.refused").await.len();
            // A step-up asked for is past access control: the role may, once it re-enters
            // its password.
            let denied = r.status == StatusCode::FORBIDDEN && !r.text().contains("problem:reauth-required");
            let unauthenticated = r.status == StatusCode::UNAUTHORIZED
                || (r.status == StatusCode::SEE_OTHER
                    && r.header("location").is_some_and(|l| l.starts_with("/sign-in?next=")));
            match row.cells[i + 1].as_str() {
                "allow" if denied || unauthenticated || r.status.is_server_error() => failures.push(format!(
                    "{} {} {role}: expected allow, got {} {}",
                    row.method,
                    row.path,
                    r.status,
                    r.text()
                )),
                "deny" if !denied => {
                    failures.push(format!("{} {} {role}: expected 403, got {}", row.method, row.path, r.status))
                }
                "deny" if refused_after != refused_before + 1 => {
                    failures.push(format!("{} {} {role}: the refusal was not audited", row.method, row.path))
                }
                "allow" | "deny" => {}
                other => failures.push(format!("{} {} {role}: unknown cell {other}", row.method, row.path)),
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// Every form a page posts checks its CSRF token as its body is read: without the token
/// the request is refused and audited before the handler runs; with it, it goes through.
#[tokio::test]
async fn every_page_form_checks_its_csrf_token_in_the_body() {
    let app = TestApp::new().await;
    let roles = ["analyst", "supervisor", "auditor", "admin"];
    let mut users = Vec::new();
    for role in roles {
        users.push(app.user(role).await);
    }
    let csrf_refusals = || async {
        app.events("access.refused")
            .await
            .iter()
            .filter(|e| e["changes"]["reason"] == icts_review::web::auth::CSRF_REFUSED)
            .count()
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in matrix() {
        if row.method != "POST"
            || row.path.starts_with("/api/")
            || row.path == "/sign-in"
            || row.path == "/sign-in/code"
            // The sign-in's other steps replace the old session too (the middleware's list).
            || row.path == "/sign-in/key"
            || row.path == "/sign-in/passkey"
        {
            continue;
        }
        let Some(i) = row.cells[1..].iter().position(|c| c == "allow") else { continue };
        let mut conn = app.pool.acquire().await.unwrap();
        let s = session::create(
            &mut conn,
            users[i].id,
            Kind::Browser,
            app.state.now(),
            None,
            None,
            session::SignInMethod::password(false),
        )
        .await
        .unwrap();
        drop(conn);
        let path = concrete(&row.path);
        let post = |body: String| {
            Request::post(&path)
                .header("cookie", format!("icts_session={}", s.secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap()
        };
        let before = csrf_refusals().await;
        let r = app.send(post("comment=x".into())).await;
        if r.status != StatusCode::FORBIDDEN || csrf_refusals().await != before + 1 {
            failures
                .push(format!("POST {} as {}: no token, got {} (not refused for CSRF)", row.path, roles[i], r.status));
        }
        // File uploads carry the token in the form's action URL; other forms in the body.
        let upload = ["/cases/import", "/admin/screening", "/cases/{id}/documents", "/declarations/import"]
            .contains(&row.path.as_str());
        let r = if upload {
            let with_token = format!("{path}?csrf_token={}", s.csrf_token);
            let req = Request::post(&with_token)
                .header("cookie", format!("icts_session={}", s.secret))
                .header("content-type", "multipart/form-data; boundary=x")
                .body(Body::from("--x--\r\n"))
                .unwrap();
            app.send(req).await
        } else {
            app.send(post(format!("csrf_token={}&comment=x", s.csrf_token))).await
        };
        if csrf_refusals().await != before + 1 {
            failures.push(format!("POST {} as {}: the right token was refused ({})", row.path, roles[i], r.status));
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} page forms were tried");
    assert!(failures.is_empty(), "{} forms:\n{}", failures.len(), failures.join("\n"));
}
