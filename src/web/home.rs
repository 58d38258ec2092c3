//! The home page and the operational endpoints (`/healthz`, `/readyz`).

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::PgPool;

use super::WebState;
use super::layout::{Layout, render};
use crate::web::auth::MaybeUser;
use crate::web::error::AppError;

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomePage {
    layout: Layout,
}

/// `GET /`: what the system is, and the way in (or on, for a signed-in user).
pub async fn home(State(web): State<WebState>, MaybeUser(user): MaybeUser) -> Result<Response, AppError> {
    if user.as_ref().is_some_and(|u| u.must_change_password) {
        return Err(AppError::PasswordChangeRequired);
    }
    render(&HomePage { layout: Layout::for_user(&web, "/", user.as_ref()) })
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `GET /healthz`: 200 while the process runs; touches nothing else.
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the database answers within two seconds, 503 when it does not.
pub async fn readyz(State(pool): State<PgPool>) -> Response {
    if crate::db::ping(&pool, Duration::from_secs(2)).await {
        json_response(StatusCode::OK, json!({"status": "ready", "database": "up"}))
    } else {
        json_response(StatusCode::SERVICE_UNAVAILABLE, json!({"status": "unavailable", "database": "down"}))
    }
}
