//! The operational endpoints: `/healthz` (the process runs) and `/readyz` (it can serve,
//! check by check).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `GET /healthz`: 200 while the process runs; touches nothing else.
pub async fn healthz() -> Response {
    json_response(StatusCode::OK, json!({"status": "ok"}))
}

/// Free bytes under which a disk counts as full.
const LOW_DISK_BYTES: u64 = 64 * 1024 * 1024;

/// `GET /readyz`: whether this instance can serve, check by check (`database`, `pool`,
/// `checkpoints`, `log`, `data_disk`, and `forwarding` to the audit collector when it is
/// configured: failing, or more events waiting than its backlog limit). 503 when the database is unreachable; 200 with
/// `"status": "degraded"` when it serves but a check fails (a saturated pool, a failing
/// checkpoint writer, a log or data disk nearly full).
pub async fn readyz(State(state): State<crate::app::AppState>) -> Response {
    let pool = &state.db;
    let max = pool.options().get_max_connections();
    let (size, idle) = (pool.size(), pool.num_idle() as u32);
    let saturated = size >= max && idle == 0;
    let mut db = state.health.status();
    // A live ping, unless the pool has no connection to spare: then the watcher's own
    // connection (pinged every second) speaks for the database.
    if db.reachable && !saturated {
        let started = std::time::Instant::now();
        if crate::db::ping(pool, Duration::from_secs(2)).await {
            db.ping_ms = Some((started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0);
        } else {
            db.reachable = false;
            db.error = Some("no answer within 2 s".into());
        }
    }
    let cp = state.checkpointer.status.state();
    let log = crate::telemetry::log_target();
    let log_ok = !log.failing && log.free_bytes.is_none_or(|b| b >= LOW_DISK_BYTES);
    let data_free = state.data_dir.as_deref().and_then(crate::telemetry::free_bytes);
    let data_ok = data_free.is_none_or(|b| b >= LOW_DISK_BYTES);
    // Forwarding to the audit collector, as every instance reads it from the database.
    let forwarding = match &state.forwarding {
        Some(settings) if db.reachable && !saturated => {
            Some(crate::audit::forward::status(pool, settings).await.unwrap_or_else(|e| {
                crate::audit::forward::Status {
                    collector: settings.target(),
                    last_error: Some(format!("cannot read the forwarding state: {e}")),
                    ..Default::default()
                }
            }))
        }
        _ => None,
    };
    let forwarding_ok = forwarding.as_ref().is_none_or(|f| f.ok);
    let mut checks = json!({
        "database": {"ok": db.reachable, "detail": db},
        "pool": {"ok": !saturated, "size": size, "idle": idle, "max": max},
        "checkpoints": {"ok": cp.failures == 0, "file": state.checkpointer.file, "detail": cp},
        "log": {"ok": log_ok, "detail": log},
        "data_disk": {"ok": data_ok, "free_bytes": data_free},
    });
    if let Some(f) = &forwarding {
        checks["forwarding"] = json!({"ok": f.ok, "detail": f});
    }
    let (status, word) = if !db.reachable {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if saturated || cp.failures > 0 || !log_ok || !data_ok || !forwarding_ok {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ready")
    };
    let database = if db.reachable { "up" } else { "down" };
    let mut r = json_response(status, json!({"status": word, "database": database, "checks": checks}));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    r
}
