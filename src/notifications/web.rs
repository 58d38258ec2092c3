//! The notifications page and API.

use crate::ids::NotificationId;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::json;

use super::Notification;
use crate::app::AppState;
use crate::audit::{self, EventType, NewEvent};
use crate::web::auth::SignedIn;
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, CsrfForm};
use crate::web::layout::{Layout, render};

#[derive(Template)]
#[template(path = "notifications/list.html")]
struct NotificationsPage {
    layout: Layout,
    items: Vec<(Notification, String)>,
    unread: i64,
    csrf_token: String,
}

/// `GET /notifications`.
pub async fn page(user: SignedIn, State(state): State<AppState>) -> Result<Response, AppError> {
    let (items, unread) = super::of_user(&state.db, user.id, 200).await?;
    let mut layout = Layout::for_user(&state.web, "/notifications", Some(&user));
    if let Some(b) = layout.user.as_mut() {
        b.unread = unread;
    }
    let items = items.into_iter().map(|n| {
        let at = crate::web::layout::show_time(n.created_at, &user.zone);
        (n, at)
    });
    render(&NotificationsPage { layout, items: items.collect(), unread, csrf_token: user.csrf_token.clone() })
}

async fn mark(state: &AppState, user: &SignedIn, id: Option<NotificationId>) -> Result<u64, AppError> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let n = super::mark_read(&mut tx, now, user.id, id).await?;
    if let Some(one) = id
        && n == 0
        && !super::is_own(&mut tx, one, user.id).await?
    {
        return Err(AppError::NotFound);
    }
    if n > 0 {
        let event = NewEvent::new(EventType::NotificationRead).changes(json!({"notification": id, "count": n}));
        audit::record(&mut tx, now, &user.audit(), event).await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// `POST /notifications/{id}/read`: marks one read and follows its link.
pub async fn read(
    user: SignedIn,
    State(state): State<AppState>,
    AppPath(id): AppPath<NotificationId>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    mark(&state, &user, Some(id)).await?;
    let link = super::link_of(&state.db, id, user.id).await?;
    Ok(Redirect::to(&link.unwrap_or_else(|| "/notifications".into())).into_response())
}

/// `POST /notifications/read-all`.
pub async fn read_all(user: SignedIn, State(state): State<AppState>, _: CsrfForm) -> Result<Response, AppError> {
    mark(&state, &user, None).await?;
    Ok(Redirect::to("/notifications").into_response())
}

/// The caller's notifications.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    /// Latest first (at most 200).
    pub items: Vec<Notification>,
    /// Unread count.
    pub unread: i64,
}

/// The caller's latest notifications and the unread count.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", responses((status = 200, body = NotificationList)), security(("bearer" = [])))]
pub async fn list_api(user: SignedIn, State(state): State<AppState>) -> Result<ApiJson<NotificationList>, AppError> {
    let (items, unread) = super::of_user(&state.db, user.id, 200).await?;
    Ok(ApiJson(NotificationList { items, unread }))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(("id" = Uuid, Path)), responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn read_api(
    user: SignedIn,
    State(state): State<AppState>,
    AppPath(id): AppPath<NotificationId>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    let n = mark(&state, &user, Some(id)).await?;
    Ok(ApiJson(json!({"marked": n})))
}
