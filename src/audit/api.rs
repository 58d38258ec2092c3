//! `GET /api/v1/audit/events`: the audit log for auditors and administrators.

use axum::extract::State;
use serde::Serialize;

use super::web::EventQuery;
use super::{StoredEvent, list};
use crate::app::AppState;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppQuery};

/// A page of audit events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// The events.
    pub items: Vec<StoredEvent>,
    /// Pass as `cursor` to get the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Lists audit events with filters and keyset paging.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 401), (status = 403), (status = 400)),
    security(("bearer" = [])))]
pub async fn list_events(
    _user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<EventQuery>,
) -> Result<ApiJson<EventPage>, AppError> {
    let filter = q.to_filter().map_err(AppError::Invalid)?;
    let (items, next) = list(&state.db, &filter).await?;
    Ok(ApiJson(EventPage { items, next_cursor: next.map(|n| n.to_string()) }))
}
