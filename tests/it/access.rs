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
            let s = session::create(&mut conn, users[i].id, kind, app.state.now(), None, None).await.unwrap();
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
            let denied = r.status == StatusCode::FORBIDDEN;
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
