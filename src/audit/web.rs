//! The audit pages: the log for auditors and administrators (filters, keyset paging), the
//! chain's status and verification, a case's export page and printable dossier. The
//! names a page shows of the log's actors and objects are [`names`]'s.

pub mod names;

use super::EventType;
use crate::ids::CaseId;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;

use self::names::Object;
use super::api::{ExportQuery, export_case};
use super::checkpoint::{self, Checkpoint};
use super::service;
use super::{EventFilter, StoredEvent, list};
use crate::access::policy::sees_case_content;
use crate::app::AppState;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppPath, AppQuery, CsrfForm};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, Pager, render};
use crate::web::list::ListQuery;

/// Filter parameters of the page and of `GET /api/v1/audit/events`.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events by this user id.
    #[param(value_type = Option<uuid::Uuid>)]
    pub actor: Option<String>,
    /// Event type; a value ending in `.` matches every type with that prefix.
    #[serde(rename = "type")]
    #[param(rename = "type", pattern = r"^\s*[A-Za-z0-9._]{0,100}\s*$")]
    pub event_type: Option<String>,
    /// Only events on this object id.
    #[param(max_length = 100)]
    pub object: Option<String>,
    /// Events at or after this time (RFC 3339 or YYYY-MM-DD).
    pub from: Option<String>,
    /// Events before this time (RFC 3339 or YYYY-MM-DD).
    pub to: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub cursor: Option<String>,
    /// The `prev_cursor` of a page: lists the page before it.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub before: Option<String>,
    /// `newest` (default) or `oldest` first.
    #[param(pattern = r"^\s*(newest|oldest)?\s*$")]
    pub sort: Option<String>,
}

fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, FieldError> {
    let v = value.trim();
    if let Ok(t) = OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v, &f)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| FieldError::new(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time"))
}

impl EventQuery {
    /// Validates the filters, naming every bad one.
    pub fn to_filter(&self) -> Result<EventFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let some = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let actor = match some(&self.actor) {
            Some(a) => a.parse::<crate::ids::UserId>().map(Some).unwrap_or_else(|_| {
                errors.push(FieldError::new("actor", "must be a user id (UUID)"));
                None
            }),
            None => None,
        };
        let event_type = some(&self.event_type);
        if event_type
            .as_ref()
            .is_some_and(|t| t.len() > 100 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        {
            errors
                .push(FieldError::new("type", "must be an event type such as user.created or a prefix such as auth."));
        }
        let object = some(&self.object);
        if object.as_ref().is_some_and(|o| o.len() > 100) {
            errors.push(FieldError::new("object", "must be at most 100 characters"));
        }
        let from = some(&self.from).and_then(|v| parse_time("from", &v).map_err(|e| errors.push(e)).ok());
        let to = some(&self.to).and_then(|v| parse_time("to", &v).map_err(|e| errors.push(e)).ok());
        let limit = match some(&self.limit) {
            Some(l) => match l.parse::<i64>() {
                Ok(n) if (1..=500).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new("limit", "must be a whole number from 1 to 500"));
                    50
                }
            },
            None => 50,
        };
        let position = |field: &str, v: &str, what: &str, errors: &mut Vec<FieldError>| match v.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.push(FieldError::new(field, format!("must be a {what} value from another page")));
                None
            }
        };
        let (cursor, backwards) = match (some(&self.cursor), some(&self.before)) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("before", "cannot be given with cursor: give one of them"));
                (None, false)
            }
            (Some(c), None) => (position("cursor", &c, "next_cursor", &mut errors), false),
            (None, Some(b)) => {
                let p = position("before", &b, "prev_cursor", &mut errors);
                (p, p.is_some())
            }
            (None, None) => (None, false),
        };
        let oldest_first = match some(&self.sort).as_deref() {
            None | Some("newest") => false,
            Some("oldest") => true,
            Some(_) => {
                errors.push(FieldError::new("sort", "must be newest or oldest"));
                false
            }
        };
        if errors.is_empty() {
            Ok(EventFilter { actor, event_type, object, from, to, cursor, backwards, oldest_first, limit })
        } else {
            Err(errors)
        }
    }
}

/// A row of the page.
pub struct Row {
    e: StoredEvent,
    at: String,
    /// The actor's name (none for the system or an account that no longer exists).
    actor: Option<String>,
    /// The object as the reader may know it.
    object: Option<Object>,
    /// The changes as lines to read.
    changes: Vec<ChangeLine>,
    /// The changes as stored (as the reader may read them), indented.
    raw: String,
}

/// One line of an event's changes: `key: value`, indented under the key it belongs to.
#[derive(Debug, PartialEq, Eq)]
pub struct ChangeLine {
    /// 0 for a top-level key, 1 and 2 for the keys and items nested under it.
    pub depth: usize,
    pub key: String,
    pub value: String,
}

/// How deep a change's values are laid out as lines; deeper ones are summarised.
const DEPTH: usize = 2;
/// How long a summarised value may be.
const SUMMARY: usize = 120;

/// A value on one line: a string as it is, `none` for null, a list of plain values joined;
/// anything else as compact JSON cut at [`SUMMARY`] characters.
fn one_line(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
            a.iter().map(one_line).collect::<Vec<_>>().join(", ")
        }
        Value::Object(o) if o.len() == 2 && o.contains_key("before") && o.contains_key("after") => {
            format!("{} → {}", one_line(&o["before"]), one_line(&o["after"]))
        }
        other => {
            let s = other.to_string();
            if s.chars().count() > SUMMARY { format!("{}…", s.chars().take(SUMMARY).collect::<String>()) } else { s }
        }
    }
}

/// Whether `v` is laid out on one line (else its keys or items go on lines of their own).
fn fits_one_line(v: &serde_json::Value, depth: usize) -> bool {
    use serde_json::Value;
    match v {
        Value::Object(o) => {
            depth >= DEPTH || o.is_empty() || (o.len() == 2 && o.contains_key("before") && o.contains_key("after"))
        }
        Value::Array(a) => depth >= DEPTH || a.iter().all(|x| !x.is_array() && !x.is_object()),
        _ => true,
    }
}

fn lines_of(key: String, v: &serde_json::Value, depth: usize, out: &mut Vec<ChangeLine>) {
    use serde_json::Value;
    if fits_one_line(v, depth) {
        out.push(ChangeLine { depth, key, value: one_line(v) });
        return;
    }
    match v {
        Value::Object(o) => {
            out.push(ChangeLine { depth, key, value: String::new() });
            for (k, x) in o {
                lines_of(k.replace('_', " "), x, depth + 1, out);
            }
        }
        Value::Array(a) => {
            let n = a.len();
            out.push(ChangeLine { depth, key, value: if n == 1 { "1 item".into() } else { format!("{n} items") } });
            for (i, x) in a.iter().enumerate() {
                lines_of(format!("{}", i + 1), x, depth + 1, out);
            }
        }
        _ => unreachable!("plain values fit one line"),
    }
}

/// An event's changes as lines to read: each key with its value (`before → after` for a
/// change), nested objects and lists indented under their key to two levels, deeper values
/// summarised.
pub fn readable(changes: &serde_json::Value) -> Vec<ChangeLine> {
    let mut out = Vec::new();
    match changes {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                lines_of(k.replace('_', " "), v, 0, &mut out);
            }
        }
        other => out.push(ChangeLine { depth: 0, key: "value".into(), value: one_line(other) }),
    }
    out
}

#[derive(Template)]
#[template(path = "audit/events.html")]
struct EventsPage {
    layout: Layout,
    q: EventQuery,
    rows: Vec<Row>,
    /// How many events match, in words.
    total: String,
    pager: Pager,
    errors: FormErrors,
    /// The export form's period: the last whole month (UTC).
    export_from: String,
    export_to: String,
    /// Whether the reader's role sees case content in the log.
    sees_content: bool,
    /// Whether the reader manages accounts (their names link to the account's page).
    manages_users: bool,
}

/// The last whole calendar month before `today`: its first day and the first of the next.
fn last_month(today: time::Date) -> (time::Date, time::Date) {
    let this = today.replace_day(1).expect("day 1 exists");
    let previous = this.previous_day().expect("in range").replace_day(1).expect("day 1 exists");
    (previous, this)
}

impl EventsPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// Whether the page lists the oldest events first.
    fn oldest_first(&self) -> bool {
        self.q.sort() == "oldest"
    }

    /// The log in the other order, filters and page size kept, from its first page.
    fn other_order(&self) -> String {
        self.q.sorted_by(if self.oldest_first() { "newest" } else { "oldest" })
    }
}

crate::list_query! {
    EventQuery => "/audit";
    sorts ["newest", "oldest"] descending ["newest"];
    params actor, event_type as "type", object, from, to, limit, sort, cursor, before
}

/// `GET /audit`.
pub async fn events_page(
    State(state): State<AppState>,
    user: Authorized<perm::ReadAuditLog>,
    AppQuery(q): AppQuery<EventQuery>,
) -> Result<Response, AppError> {
    let (rows, next, prev, total, errors) = match q.to_filter() {
        Ok(f) => {
            let page = list(&state.db, &f).await?;
            // The total only costs a count when there is more than this page.
            let total = if page.next.is_none() && page.prev.is_none() && f.cursor.is_none() {
                crate::db::Total::Exact(page.rows.len() as i64)
            } else {
                super::count(&state.db, &f).await?
            };
            (page.rows, page.next, page.prev, total.describe("event", "events"), FormErrors::default())
        }
        Err(errors) => (Vec::new(), None, None, String::new(), FormErrors(errors)),
    };
    let pager = q.pager(next, prev);
    let rows: Vec<StoredEvent> = rows.into_iter().map(|e| super::view_for(sees_case_content(user.role), e)).collect();
    let names = names::of(&mut *state.conn().await?, user.id, user.role, &rows).await?;
    let rows = rows
        .into_iter()
        .map(|e| Row {
            at: crate::web::layout::show_time(e.at, &crate::zone::Zone::utc()),
            actor: names.actor(&e).map(str::to_string),
            object: names.object(&e),
            changes: readable(&e.changes),
            raw: if e.changes == serde_json::json!({}) {
                String::new()
            } else {
                serde_json::to_string_pretty(&e.changes).unwrap_or_default()
            },
            e,
        })
        .collect();
    let (export_from, export_to) = last_month(state.now().date());
    render(&EventsPage {
        layout: Layout::for_user(&state.web, "/audit", Some(&user)),
        q,
        rows,
        total,
        pager,
        errors,
        export_from: export_from.to_string(),
        export_to: export_to.to_string(),
        sees_content: sees_case_content(user.role),
        manages_users: user.may(crate::access::Action::ManageUsers),
    })
}

/// A part of the printable dossier.
pub struct Section {
    name: String,
    hash: String,
    cols: Vec<String>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "audit/dossier.html")]
struct DossierPage {
    layout: Layout,
    docket: String,
    title: String,
    case_id: CaseId,
    generated: String,
    manifest_sha256: String,
    checkpoint: Checkpoint,
    sections: Vec<Section>,
}

/// `GET /cases/{id}/dossier`: the printable dossier (with a step-up).
pub async fn dossier_page(
    user: Authorized<perm::ExportCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<Response, AppError> {
    let turn = state.exports.dossier_turn(false).await.map_err(super::api::refused)?;
    let gathered = crate::dossier::service::gather_dossier(&state.db, &user, state.now(), id, false).await?;
    drop(turn);
    let d = crate::dossier::service::seal_dossier(
        &state.db,
        &state.checkpointer,
        &user,
        state.now(),
        &state.web.marking,
        gathered,
        "printable",
    )
    .await?;
    let order = [
        "header",
        "case",
        "parties",
        "party_owners",
        "party_nexus_evidence",
        "screening_hits",
        "screening_lists",
        "transactions",
        "assessments",
        "band_overrides",
        "nexus_findings",
        "determinations",
        "determination_revisions",
        "determination_returns",
        "determination_events",
        "agency_notices",
        "services",
        "submissions",
        "submission_documents",
        "mitigation_measures",
        "measure_status_changes",
        "compliance_checks",
        "documents",
        "notes",
        "rfis",
        "extensions",
        "people",
        "audit_events",
        "checkpoint",
    ];
    let mut names: Vec<&String> = d.parts.keys().collect();
    names.sort_by_key(|n| order.iter().position(|o| o == n).unwrap_or(usize::MAX));
    let sections = names
        .into_iter()
        .map(|n| {
            let v = &d.parts[n];
            let (cols, rows) = crate::dossier::table(v);
            Section { name: n.replace('_', " "), hash: crate::dossier::part_hash(v), cols, rows }
        })
        .collect();
    render(&DossierPage {
        layout: Layout::for_user(&state.web, "/cases", Some(&user)),
        docket: d.parts["header"]["docket_number"].as_str().unwrap_or("").to_string(),
        title: d.parts["case"]["title"].as_str().unwrap_or("").to_string(),
        case_id: id,
        generated: d.parts["header"]["generated_at"].as_str().unwrap_or("").to_string(),
        manifest_sha256: d.manifest_sha256.clone(),
        checkpoint: d.checkpoint.clone(),
        sections,
    })
}

/// `GET /cases/{id}/export?format=...` from the case page: the same as the API.
pub async fn export_log_page(
    user: Authorized<perm::ReadAuditLog>,
    state: State<AppState>,
    query: AppQuery<super::api::LogExportQuery>,
) -> Result<Response, AppError> {
    super::api::export_log(user, state, query).await
}

/// `GET /cases/{id}/export`: the dossier download of the case page, after the same
/// re-authentication as the API's (people without one are sent to the re-authentication
/// page and back here).
pub async fn export_case_page(
    user: Authorized<perm::ExportCases>,
    state: State<AppState>,
    path: AppPath<CaseId>,
    query: AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    export_case(user, state, path, query).await
}

/// `GET /parties/{id}/export`: the party's dossier download of its page, after the same
/// re-authentication as the API's.
pub async fn export_party_page(
    user: Authorized<perm::ExportCases>,
    state: State<AppState>,
    path: AppPath<crate::ids::PartyId>,
) -> Result<Response, AppError> {
    super::api::export_party(user, state, path).await
}

/// `GET /enforcement/{id}/export`: the matter's dossier download of its page, after the
/// same re-authentication as the API's.
pub async fn export_matter_page(
    user: Authorized<perm::ExportCases>,
    state: State<AppState>,
    path: AppPath<crate::ids::MatterId>,
) -> Result<Response, AppError> {
    super::api::export_matter(user, state, path).await
}

#[derive(Template)]
#[template(path = "audit/chain.html")]
struct ChainPage {
    layout: Layout,
    head_seq: i64,
    head_hash: String,
    signing: bool,
    public_key: String,
    file: String,
    latest: Option<Checkpoint>,
    checkpoints: usize,
    last_check: Option<(String, String, bool)>,
    /// The outcome of a verification just asked for: its verdict, then each problem, one
    /// a line (empty: none asked for).
    result: Flash,
    writer: checkpoint::WriterState,
    forwarding: Option<super::forward::Status>,
    csrf_token: String,
}

async fn chain_page(state: &AppState, user: &SignedIn, result: Flash) -> Result<Response, AppError> {
    let (head_seq, head_hash) = super::head(&state.db).await?;
    let all = checkpoint::all(&state.db).await?;
    let last: Option<StoredEvent> = super::latest_of_type(&state.db, EventType::AuditVerified).await?;
    render(&ChainPage {
        layout: Layout::for_user(&state.web, "/audit", Some(user)),
        head_seq,
        head_hash: hex::encode(head_hash),
        signing: state.checkpointer.key.is_some(),
        public_key: state
            .checkpointer
            .key
            .as_ref()
            .map(|k| hex::encode(k.verifying_key().as_bytes()))
            .unwrap_or_default(),
        file: state.checkpointer.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default(),
        checkpoints: all.len(),
        latest: all.last().cloned(),
        last_check: last.map(|e| {
            (
                crate::web::layout::show_time(e.at, &crate::zone::Zone::utc()),
                e.changes["verdict"].as_str().unwrap_or("").to_string(),
                e.changes["ok"].as_bool().unwrap_or(false),
            )
        }),
        result,
        writer: state.checkpointer.status.state(),
        forwarding: match &state.forwarding {
            Some(settings) => Some(super::forward::status(&state.db, settings).await?),
            None => None,
        },
        csrf_token: user.csrf_token.clone(),
    })
}

/// `GET /audit/chain`.
pub async fn chain(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
    flash: Flash,
) -> Result<Response, AppError> {
    chain_page(&state, &user, flash).await
}

/// `POST /audit/chain/verify`: verifies now (and records that it did), then shows the
/// chain page with the outcome.
pub async fn chain_verify(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let r = service::verify_now(&state.db, &state.checkpointer, &user.audit(), state.now()).await?;
    let mut lines = vec![format!(
        "{} — {} checkpoint(s) checked, {} validly signed.",
        r.verdict, r.checkpoints.checked, r.checkpoints.signed
    )];
    lines.extend(r.checkpoints.problems);
    let outcome = if r.ok { Flash::done(lines.join("\n")) } else { Flash::problem(lines.join("\n")) };
    Ok(outcome.see_other(&state.web, &user, "/audit/chain"))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    #[test]
    fn the_export_form_offers_the_last_whole_month() {
        assert_eq!(super::last_month(date!(2026 - 12 - 03)), (date!(2026 - 11 - 01), date!(2026 - 12 - 01)));
        assert_eq!(super::last_month(date!(2027 - 01 - 31)), (date!(2026 - 12 - 01), date!(2027 - 01 - 01)));
    }

    #[test]
    fn changes_read_as_key_value_lines_nested_ones_indented() {
        let changes = serde_json::json!({
            "status": {"before": "submitted", "after": "returned"},
            "comment": "Cite the 2024 rule",
            "adversaries": ["CN", "RU"],
            "restricted": false,
            "signer": {"name": "Sam", "title": null},
            "parties": [{"name": "A", "deep": {"x": [1, 2]}}],
        });
        let lines: Vec<(usize, String, String)> =
            super::readable(&changes).into_iter().map(|l| (l.depth, l.key, l.value)).collect();
        let l = |d: usize, k: &str, v: &str| (d, k.to_string(), v.to_string());
        assert_eq!(
            lines,
            [
                l(0, "adversaries", "CN, RU"),
                l(0, "comment", "Cite the 2024 rule"),
                l(0, "parties", "1 item"),
                l(1, "1", ""),
                l(2, "deep", "{\"x\":[1,2]}"),
                l(2, "name", "A"),
                l(0, "restricted", "no"),
                l(0, "signer", ""),
                l(1, "name", "Sam"),
                l(1, "title", "none"),
                l(0, "status", "submitted → returned"),
            ]
        );
        assert!(super::readable(&serde_json::json!({})).is_empty());
    }
}
