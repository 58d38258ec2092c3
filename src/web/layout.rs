//! The page layout every HTML page extends (`templates/base.html`), and rendering helpers.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::WebState;
use crate::web::error::{AppError, Problem};

/// The signed-in user as the header shows them.
#[derive(Debug, Clone)]
pub struct UserBadge {
    /// Display name.
    pub name: String,
    /// Role label.
    pub role: &'static str,
    /// CSRF token for the sign-out form.
    pub csrf_token: String,
    /// Whether the user sees the account administration.
    pub can_manage_users: bool,
    /// Whether the user sees the audit log.
    pub can_read_audit: bool,
    /// Whether the user sees cases.
    pub can_view_cases: bool,
    /// Unread notifications.
    pub unread: i64,
}

/// What `base.html` shows around every page: the marking banners and the header.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Marking banner text.
    pub marking: String,
    /// CSS class choosing the banner colour for the marking.
    pub marking_class: &'static str,
    /// Path of the current page, to highlight the navigation item.
    pub path: String,
    /// The signed-in user, if any.
    pub user: Option<UserBadge>,
}

impl Layout {
    /// The layout for a page at `path` seen by nobody signed in.
    pub fn new(web: &WebState, path: &str) -> Self {
        Layout {
            marking: web.marking.to_string(),
            marking_class: marking_class(&web.marking),
            path: path.to_string(),
            user: None,
        }
    }

    /// The layout for a page at `path` seen by `user`.
    pub fn for_user(web: &WebState, path: &str, user: Option<&crate::web::auth::SignedIn>) -> Self {
        use crate::auth::policy::{Action, allows};
        let mut layout = Self::new(web, path);
        layout.user = user.map(|u| UserBadge {
            name: u.name.clone(),
            role: u.role.label(),
            csrf_token: u.csrf_token.clone(),
            can_manage_users: allows(u.role, Action::ManageUsers),
            can_read_audit: allows(u.role, Action::ReadAuditLog),
            can_view_cases: allows(u.role, Action::ViewCases),
            unread: u.unread_notifications,
        });
        layout
    }

    /// Whether the navigation item for `prefix` is the current one.
    pub fn is_current(&self, prefix: &str) -> bool {
        if prefix == "/" { self.path == "/" } else { self.path.starts_with(prefix) }
    }
}

/// What a form posted from a page did, shown when the page is rendered again: the message,
/// whether it is an error, the status and the fields at fault.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Shown in the page's banner.
    pub message: String,
    /// Whether the banner is an error.
    pub is_error: bool,
    /// The status the page answers with.
    pub status: axum::http::StatusCode,
    /// Invalid fields, for the form's own messages.
    pub errors: Vec<crate::error::FieldError>,
}

/// How a form's result is reported on its page: conflicts, refusals with a reason and
/// invalid input become messages; any other error passes through.
pub fn form_outcome<E: Into<AppError>>(result: Result<(), E>, ok: &str) -> Result<Outcome, AppError> {
    use axum::http::StatusCode;
    let (message, is_error, status, errors) = match result.map_err(Into::into) {
        Ok(()) => (ok.to_string(), false, StatusCode::OK, Vec::new()),
        Err(AppError::Conflict(m)) => (m, true, StatusCode::CONFLICT, Vec::new()),
        Err(AppError::ForbiddenBecause(m)) => (m, true, StatusCode::FORBIDDEN, Vec::new()),
        Err(AppError::Invalid(errors)) => {
            (crate::error::FieldError::join(&errors), true, StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        Err(e) => return Err(e),
    };
    Ok(Outcome { message, is_error, status, errors })
}

/// The one way a page answers a form posted from it: `page` renders it again with the
/// outcome of `result` (`ok` is the message when it succeeded).
pub async fn render_again<E, F, Fut>(result: Result<(), E>, ok: &str, page: F) -> Result<Response, AppError>
where
    E: Into<AppError>,
    F: FnOnce(Outcome) -> Fut,
    Fut: std::future::Future<Output = Result<Response, AppError>>,
{
    page(form_outcome(result, ok)?).await
}

/// Field errors of a form, looked up by field name from templates.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<crate::error::FieldError>);

impl FormErrors {
    /// The message for `field`, or an empty string.
    pub fn get(&self, field: &str) -> &str {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str()).unwrap_or("")
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Banner colours follow the usual marking conventions: green for UNCLASSIFIED, purple
/// for CUI, and so on; anything unknown gets the CUI colour.
pub fn marking_class(marking: &str) -> &'static str {
    let m = marking.to_ascii_uppercase();
    if m.starts_with("TOP SECRET") {
        "icts-marking--ts"
    } else if m.starts_with("SECRET") {
        "icts-marking--secret"
    } else if m.starts_with("CONFIDENTIAL") {
        "icts-marking--confidential"
    } else if m.starts_with("UNCLASSIFIED") && !m.contains("CUI") && !m.contains("CONTROLLED") {
        "icts-marking--unclassified"
    } else {
        "icts-marking--cui"
    }
}

/// Renders a template into an HTML response; a render failure becomes our 500.
pub fn render<T: Template>(template: &T) -> Result<Response, AppError> {
    let body = template.render().map_err(|e| AppError::Internal(anyhow::anyhow!("template rendering failed: {e}")))?;
    Ok(Html(body).into_response())
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    problem: &'a Problem,
}

/// The HTML page for an error. If even that fails to render, a bare page says so.
pub fn render_error_page(web: &WebState, problem: &Problem) -> Response {
    let page = ErrorPage { layout: Layout::new(web, ""), problem };
    let body = page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering the error page failed");
        "<!doctype html><html lang=\"en\"><title>Error</title><h1>Something went wrong</h1></html>".to_string()
    });
    let mut response = (problem.status_code(), body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marking_colours() {
        assert_eq!(marking_class("CONTROLLED UNCLASSIFIED INFORMATION"), "icts-marking--cui");
        assert_eq!(marking_class("UNCLASSIFIED"), "icts-marking--unclassified");
        assert_eq!(marking_class("UNCLASSIFIED//FOUO"), "icts-marking--unclassified");
        assert_eq!(marking_class("SECRET//NOFORN"), "icts-marking--secret");
        assert_eq!(marking_class("something else"), "icts-marking--cui");
    }
}
