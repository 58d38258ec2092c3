//! The page layout every HTML page extends (`templates/base.html`), and rendering helpers.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::WebState;
use super::auth::SignedIn;
use super::flash::Flash;
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
    /// Where the page shows times: the reader's zone, or the office's.
    pub zone: crate::zone::Zone,
}

/// Formats a time for pages in the reader's zone, naming it: `2026-11-28 12:40 EST`.
pub fn show_time(t: time::OffsetDateTime, zone: &crate::zone::Zone) -> String {
    zone.wall_clock(t)
}

impl Layout {
    /// The layout for a page at `path` seen by nobody signed in.
    pub fn new(web: &WebState, path: &str) -> Self {
        Layout {
            marking: web.marking.to_string(),
            marking_class: marking_class(&web.marking),
            path: path.to_string(),
            user: None,
            zone: web.zone.clone(),
        }
    }

    /// The layout for a page at `path` seen by `user`.
    pub fn for_user(web: &WebState, path: &str, user: Option<&crate::web::auth::SignedIn>) -> Self {
        use crate::access::policy::{Action, allows};
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
        if let Some(u) = user {
            layout.zone = u.zone.clone();
        }
        layout
    }

    /// The calendar day of an instant in the reader's zone (when a list shows only the
    /// day something was filed or recorded).
    pub fn day(&self, t: &time::OffsetDateTime) -> time::Date {
        self.zone.date_at(*t)
    }

    /// An amount of US dollars as people read it: `$1,250,000`, `$1,250.50`.
    pub fn money(&self, dollars: &f64) -> String {
        money(*dollars)
    }

    /// Whether the navigation item for `prefix` is the current one.
    pub fn is_current(&self, prefix: &str) -> bool {
        if prefix == "/" { self.path == "/" } else { self.path.starts_with(prefix) }
    }
}

/// The query string of the parameters that are set, in their order.
pub fn query_string(pairs: &[(&str, &Option<String>)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// `path?query` of the parameters that are set (just `path` without any), then `fragment`.
pub fn address(path: &str, pairs: &[(&str, &Option<String>)], fragment: &str) -> String {
    let query = query_string(pairs);
    if query.is_empty() { format!("{path}{fragment}") } else { format!("{path}?{query}{fragment}") }
}

/// The page links of a list read by keyset: first, previous and next, each keeping the
/// list's search, filters, order and page size (the `link` the list builds from a cursor
/// for the next page or a `before` for the previous one).
#[derive(Debug, Clone, Default)]
pub struct Pager {
    /// The first page, when this is not it.
    pub first: Option<String>,
    /// The page before, when this is not the first.
    pub prev: Option<String>,
    /// The page after, when this is not the last.
    pub next: Option<String>,
}

impl Pager {
    /// The links around a page whose neighbours are `next` and `prev` (cursors);
    /// `link(cursor, before)` is the list's address with one of them.
    /// `later` says the page was read forward from a cursor (so it is not the first, even
    /// when a page after the last one came back empty).
    pub fn new(
        next: Option<String>,
        prev: Option<String>,
        later: bool,
        link: impl Fn(Option<&str>, Option<&str>) -> String,
    ) -> Pager {
        Pager {
            first: (prev.is_some() || later).then(|| link(None, None)),
            prev: prev.as_deref().map(|c| link(None, Some(c))),
            next: next.as_deref().map(|c| link(Some(c), None)),
        }
    }

    /// Whether a list's query reads forward from a cursor (so it is not the first page; a
    /// page read backwards is the first when nothing lies before it).
    pub fn after_cursor(cursor: &Option<String>) -> bool {
        cursor.as_deref().is_some_and(|c| !c.trim().is_empty())
    }

    /// Whether this is a later page than the first.
    pub fn later(&self) -> bool {
        self.first.is_some()
    }

    /// Whether there is any other page.
    pub fn any(&self) -> bool {
        self.first.is_some() || self.next.is_some()
    }
}

/// Why a form posted from a page was refused, shown when the page is rendered again: the
/// message, that it is an error, the status and the fields at fault.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Shown in the page's banner.
    pub message: String,
    /// Whether the banner is an error (always, for a refusal).
    pub is_error: bool,
    /// The status the page answers with.
    pub status: axum::http::StatusCode,
    /// Invalid fields, for the form's own messages.
    pub errors: Vec<crate::error::FieldError>,
}

/// How a form's refusal is reported on its page: conflicts, refusals with a reason and
/// invalid input become messages; any other error passes through.
pub fn form_outcome(refusal: impl Into<AppError>) -> Result<Outcome, AppError> {
    use axum::http::StatusCode;
    let (message, status, errors) = match refusal.into() {
        AppError::Conflict(m) => (m, StatusCode::CONFLICT, Vec::new()),
        AppError::ForbiddenBecause(m) => (m, StatusCode::FORBIDDEN, Vec::new()),
        AppError::Invalid(errors) => {
            let message = errors.iter().map(|e| sentence(&e.field, &e.message)).collect::<Vec<_>>().join(" ");
            (message, StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        e => return Err(e),
    };
    Ok(Outcome { message, is_error: true, status, errors })
}

/// The one way a page answers a form posted from it. Done: `303 See Other` to `to`, the
/// page that shows the result, with `ok` as its one-time message (a [`Flash`]), so that a
/// refresh or the back button repeats nothing. Refused: `page` renders the form's page
/// again with the refusal (its status and message, the fields at fault and what was
/// entered).
pub async fn answer_form<E, F, Fut>(
    web: &WebState,
    user: &SignedIn,
    result: Result<(), E>,
    ok: impl Into<String>,
    to: &str,
    page: F,
) -> Result<Response, AppError>
where
    E: Into<AppError>,
    F: FnOnce(Outcome) -> Fut,
    Fut: std::future::Future<Output = Result<Response, AppError>>,
{
    match result {
        Ok(()) => Ok(Flash::done(ok).see_other(web, user, to)),
        Err(e) => show_refusal(e, page).await,
    }
}

/// A form's page again with its refusal `e` (as [`answer_form`] shows one), for input
/// refused before the act was tried.
pub async fn show_refusal<E, F, Fut>(e: E, page: F) -> Result<Response, AppError>
where
    E: Into<AppError>,
    F: FnOnce(Outcome) -> Fut,
    Fut: std::future::Future<Output = Result<Response, AppError>>,
{
    page(form_outcome(e)?).await
}

/// Field errors of a form, looked up by field name from templates.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<crate::error::FieldError>);

/// One line of a form's error summary: the id of the control it links to and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryItem {
    /// The id of the control (or group) the link moves to.
    pub anchor: String,
    /// The message, naming the field in words.
    pub text: String,
}

impl FormErrors {
    /// The message for `field` as a sentence that names it, or an empty string.
    pub fn get(&self, field: &str) -> String {
        self.0.iter().find(|e| e.field == field).map(|e| sentence(&e.field, &e.message)).unwrap_or_default()
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every problem, in the form's order, each linking to its control.
    pub fn summary(&self) -> Vec<SummaryItem> {
        self.0.iter().map(|e| SummaryItem { anchor: anchor(&e.field), text: sentence(&e.field, &e.message) }).collect()
    }
}

/// A form inside a collapsible panel of a longer page (the case, proceedings and
/// determination pages), as it comes back when what was posted from it was refused: the
/// panel opens, its errors stand at their fields and what the user entered is kept.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// Which form of the page was posted (empty: none); a form of one row of a table
    /// carries the row's id (`response-{id}`).
    pub form: String,
    /// The prefix of its controls' ids (`tx-` for `tx-item`).
    pub prefix: String,
    /// Its errors.
    pub errors: FormErrors,
    /// The values posted, by field name (repeated for checkboxes).
    pub values: Vec<(String, String)>,
}

impl Panel {
    /// The panel of `form` after `errors`, keeping the url-encoded `body` it was posted with.
    pub fn refused(
        form: impl Into<String>,
        prefix: impl Into<String>,
        errors: Vec<crate::error::FieldError>,
        body: &str,
    ) -> Self {
        Self::refused_values(form, prefix, errors, Self::posted(body))
    }

    /// The fields of a url-encoded `body` (its CSRF token left out).
    pub fn posted(body: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(body.as_bytes())
            .filter(|(k, _)| k != "csrf_token")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The panel of `form` after `errors`, keeping `values` (field name, value as posted).
    pub fn refused_values(
        form: impl Into<String>,
        prefix: impl Into<String>,
        errors: Vec<crate::error::FieldError>,
        values: Vec<(String, String)>,
    ) -> Self {
        Self { form: form.into(), prefix: prefix.into(), errors: FormErrors(errors), values }
    }

    /// Whether `form`'s panel is the one that comes back open.
    pub fn is_open(&self, form: &str) -> bool {
        !self.form.is_empty() && self.form == form
    }

    /// `form`'s error summary (empty for any other form), linking to the panel's controls.
    pub fn summary(&self, form: &str) -> Vec<SummaryItem> {
        if !self.is_open(form) {
            return Vec::new();
        }
        self.errors
            .summary()
            .into_iter()
            .map(|i| SummaryItem { anchor: format!("{}{}", self.prefix, i.anchor), text: i.text })
            .collect()
    }

    /// The message at `field` of `form`, or an empty string.
    pub fn error(&self, form: &str, field: &str) -> String {
        if self.is_open(form) { self.errors.get(field) } else { String::new() }
    }

    /// The value posted for `field` of `form`, or an empty string.
    pub fn value(&self, form: &str, field: &str) -> &str {
        if !self.is_open(form) {
            return "";
        }
        self.values.iter().find(|(k, _)| k == field).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The value posted for `field` of `form` when it came back, else `default` (the value
    /// the form starts with, such as today's date).
    pub fn value_or<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        if self.is_open(form) { self.value(form, field) } else { default }
    }

    /// Whether `value` was posted for `field` of `form` (a checked box, a chosen option).
    pub fn chose(&self, form: &str, field: &str, value: &str) -> bool {
        self.is_open(form) && self.values.iter().any(|(k, v)| k == field && v == value)
    }
}

/// A field's name in words, as its form labels it.
pub fn field_label(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("scores.") {
        return match rest.strip_suffix(".rationale") {
            Some(code) => format!("Rationale for {code}"),
            None => format!("Score for {rest}"),
        };
    }
    if let Some(c) = field.strip_prefix("criteria.") {
        return format!("Finding on {}", c.replace('_', " "));
    }
    if let Some(role) = field.strip_prefix("password_allowed_") {
        return format!("Password sign-in of the {role} role");
    }
    if let Some(role) = field.strip_prefix("sso_assurance_") {
        return format!("Methods the {role} role must sign on with");
    }
    let words = match field {
        "q" => "Search",
        "code" => "The code",
        "adversaries" => "Foreign adversaries",
        "adversary" => "Foreign adversary",
        "category" => "Covered category",
        "referring_agency" => "Referring agency",
        "value_usd" => "Value (US dollars)",
        "us_persons_affected" => "US persons affected",
        "data_categories" => "Sensitive-data categories",
        "ownership_pct" => "Ownership share (percent)",
        "parent_id" => "Parent",
        "legal_name" => "Legal name",
        "item" => "ICTS item or service",
        "asked_of" => "Asked of",
        "late_reason" => "Reason for recording late",
        "cbi_sections" => "Sections marked as business information",
        "cited_documents" => "Cited documents",
        "signer_title" => "Signer's title",
        "email" => "E-mail address",
        "subject" => "Certificate subject",
        "current_password" => "Current password",
        "new_password" => "New password",
        "confirm_password" => "New password again",
        "docket_number" => "Docket number",
        "due_within" => "Due within (days)",
        "limit" => "Page size",
        "cursor" => "Page",
        "tolls" => "Clocks tolled",
        "type" => "Event type",
        "object" => "Object",
        "actor" => "Actor",
        other => return humanize(other),
    };
    words.to_string()
}

fn humanize(field: &str) -> String {
    let words = field.replace(['_', '.'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A field's message as a sentence that names the field: "Title is required …",
/// "Foreign adversaries: name at least one …".
pub fn sentence(field: &str, message: &str) -> String {
    let label = field_label(field);
    let first = message.split_whitespace().next().unwrap_or("");
    let text = if matches!(first, "is" | "must" | "cannot" | "does" | "applies" | "names") {
        format!("{label} {message}")
    } else {
        format!("{label}: {message}")
    };
    if text.ends_with(['.', '?', '!']) { text } else { format!("{text}.") }
}

/// The id of the control an error of `field` links to. Most controls carry their field's
/// name as their id; the risk and nexus forms number theirs by criterion.
pub fn anchor(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("scores.") {
        return match rest.strip_suffix(".rationale") {
            Some(code) => format!("r-{code}"),
            None => format!("s-{rest}-0"),
        };
    }
    if let Some(c) = field.strip_prefix("criteria.") {
        return format!("f-{c}");
    }
    field.replace('.', "-")
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

/// Renders a page with `status`: a form's page again with its errors (422), a refusal
/// (409), or as it is (200).
pub fn render_as<T: Template>(status: axum::http::StatusCode, template: &T) -> Result<Response, AppError> {
    let mut r = render(template)?;
    *r.status_mut() = status;
    Ok(r)
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

pub use crate::text::money;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_thousands_separators_and_cents_only_when_present() {
        assert_eq!(money(1_250_000.0), "$1,250,000");
        assert_eq!(money(1250.5), "$1,250.50");
        assert_eq!(money(999.0), "$999");
        assert_eq!(money(1000.0), "$1,000");
        assert_eq!(money(0.05), "$0.05");
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(123_456_789.994), "$123,456,789.99");
        assert_eq!(money(1e15), "$1,000,000,000,000,000");
    }

    #[test]
    fn marking_colours() {
        assert_eq!(marking_class("CONTROLLED UNCLASSIFIED INFORMATION"), "icts-marking--cui");
        assert_eq!(marking_class("UNCLASSIFIED"), "icts-marking--unclassified");
        assert_eq!(marking_class("UNCLASSIFIED//FOUO"), "icts-marking--unclassified");
        assert_eq!(marking_class("SECRET//NOFORN"), "icts-marking--secret");
        assert_eq!(marking_class("something else"), "icts-marking--cui");
    }

    #[test]
    fn form_errors_name_their_field_in_words_and_link_to_it() {
        use crate::error::FieldError;
        let errors = FormErrors(vec![
            FieldError::new("title", "is required (up to 300 characters)"),
            FieldError::new("adversaries", "name at least one foreign adversary"),
            FieldError::new("scores.OC.rationale", "a rationale is required for every score"),
        ]);
        assert_eq!(errors.get("title"), "Title is required (up to 300 characters).");
        assert_eq!(errors.get("adversaries"), "Foreign adversaries: name at least one foreign adversary.");
        assert_eq!(errors.get("summary"), "");
        let summary = errors.summary();
        assert_eq!(summary.len(), 3);
        assert_eq!(summary[0].anchor, "title");
        assert_eq!(summary[2].anchor, "r-OC");
        assert_eq!(summary[2].text, "Rationale for OC: a rationale is required for every score.");
        assert_eq!(field_label("referral_date"), "Referral date");
    }
}
