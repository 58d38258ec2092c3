//! The audit API: the log for auditors and administrators, its verification and
//! checkpoints, the whole-log export and case dossiers.

use super::EventType;
use crate::ids::CaseId;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::checkpoint::{self, Checkpoint};
use super::export::{Cut, Format, LogExport, Outlet, Refused};
use super::service::{self, ChainStatus};
use super::web::EventQuery;
use super::{AuditContext, NewEvent, StoredEvent, list};
use crate::access::policy::sees_case_content;
use crate::app::AppState;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// A page of audit events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// The events.
    pub items: Vec<StoredEvent>,
    /// Pass as `cursor` to get the next page (older, or newer with `sort=oldest`); null on
    /// the last page.
    pub next_cursor: Option<String>,
    /// Pass as `before` to get the page before; null on the first page.
    pub prev_cursor: Option<String>,
}

/// Lists audit events with filters and keyset paging. Administrators read events that may
/// hold case content without it (their fields' names only).
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 401), (status = 403), (status = 400)),
    security(("bearer" = [])))]
pub async fn list_events(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<EventQuery>,
) -> Result<ApiJson<EventPage>, AppError> {
    let filter = q.to_filter().map_err(AppError::Invalid)?;
    let page = list(&state.db, &filter).await?;
    let items = page.rows.into_iter().map(|e| super::view_for(sees_case_content(user.role), e)).collect();
    Ok(ApiJson(EventPage { items, next_cursor: page.next, prev_cursor: page.prev }))
}

/// `?format=json|csv&content=true`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default) or `csv` (a zip of CSV files with the JSON dossier inside).
    #[param(value_type = Option<DossierFormat>, inline)]
    pub format: Option<String>,
    /// Include the documents' content (base64) as well as their hashes.
    pub content: Option<String>,
}

/// How a case's dossier is exported, named in its query by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DossierFormat {
    /// The JSON dossier.
    Json,
    /// A zip of CSV files with the JSON dossier inside.
    Csv,
}

impl DossierFormat {
    /// The format named `s` (trimmed; none is JSON).
    pub fn parse(s: &str) -> Option<DossierFormat> {
        match s.trim() {
            "" | "json" => Some(DossierFormat::Json),
            "csv" => Some(DossierFormat::Csv),
            _ => None,
        }
    }

    /// Its name, as the dossier's manifest records it.
    pub fn as_str(self) -> &'static str {
        match self {
            DossierFormat::Json => "json",
            DossierFormat::Csv => "csv",
        }
    }
}

fn truthy(v: &Option<String>) -> Result<bool, AppError> {
    match v.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(AppError::invalid("content", "must be true or false")),
    }
}

/// Exports a case's complete history (auditors and supervisors; needs a re-authentication
/// within 5 minutes): JSON dossier or a zip of CSV files.
#[utoipa::path(get, path = "/api/v1/cases/{id}/export", tag = "audit", params(("id" = Uuid, Path), ExportQuery),
    responses((status = 200, description = "the dossier, as an attachment"), (status = 403, description = "role, or no fresh re-authentication"), (status = 404)),
    security(("bearer" = [])))]
pub async fn export_case(
    user: Authorized<perm::ExportCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let include = truthy(&q.content)?;
    let format = DossierFormat::parse(q.format.as_deref().unwrap_or(""))
        .ok_or_else(|| AppError::invalid("format", "must be json or csv"))?;
    let (form, csv) = (format.as_str(), format == DossierFormat::Csv);
    let turn = state.exports.dossier_turn(include).await.map_err(refused)?;
    let gathered = crate::dossier::service::gather_dossier(&state.db, &user, state.now(), id, include).await?;
    drop(turn);
    let d = crate::dossier::service::seal_dossier(
        &state.db,
        &state.checkpointer,
        &user,
        state.now(),
        &state.web.marking,
        gathered,
        form,
    )
    .await?;
    let docket = d.parts["header"]["docket_number"].as_str().unwrap_or("case").to_string();
    let (body, media, name) = if csv {
        (
            crate::dossier::zip(&d).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?,
            "application/zip",
            format!("{docket}-dossier.zip"),
        )
    } else {
        (d.json, "application/json", format!("{docket}-dossier.json"))
    };
    let what = json!({"export": "dossier", "form": form, "bytes": body.len()});
    let body = bytes::Bytes::from(body);
    let mut r = deliver(&state, user.audit(), Some(id), what, move |mut out| async move {
        let r = out.put_all(body).await;
        (out, r)
    })
    .into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("docket numbers are header-safe"),
    );
    h.insert("x-dossier-manifest-sha256", HeaderValue::from_str(&d.manifest_sha256).expect("hex"));
    Ok(r)
}

/// Exports a party's dossier as a filer, across both dockets (auditors and supervisors;
/// needs a re-authentication within 5 minutes): the party, its owners, nexus evidence and
/// screening hits, the cases it is linked to, its filer roles, declarations (with their
/// history and questions) and enforcement matters (with their acts), and their audit
/// events, sealed and signed like a case's dossier (`icts-review verify-export`).
#[utoipa::path(get, path = "/api/v1/parties/{id}/export", tag = "audit", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the dossier, as an attachment"), (status = 403, description = "role, or no fresh re-authentication"), (status = 404)),
    security(("bearer" = [])))]
pub async fn export_party(
    user: Authorized<perm::ExportCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<crate::ids::PartyId>,
) -> Result<Response, AppError> {
    let turn = state.exports.dossier_turn(false).await.map_err(refused)?;
    let d = crate::dossier::service::party_dossier(
        &state.db,
        &state.checkpointer,
        (&user, state.now()),
        &state.web.marking,
        id,
    )
    .await?;
    drop(turn);
    Ok(json_dossier(&state, &user, d, "party_dossier", &format!("party-{id}-dossier.json")))
}

/// Exports an enforcement matter's dossier (auditors and supervisors who may see it; needs a
/// re-authentication within 5 minutes): the matter and its acts, the party, the declaration
/// and the case it names, who acted and its audit events, sealed and signed like a case's
/// dossier (`icts-review verify-export`).
#[utoipa::path(get, path = "/api/v1/enforcement/matters/{id}/export", tag = "audit", params(("id" = Uuid, Path)),
    responses((status = 200, description = "the dossier, as an attachment"), (status = 403, description = "role, or no fresh re-authentication"), (status = 404)),
    security(("bearer" = [])))]
pub async fn export_matter(
    user: Authorized<perm::ExportCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<crate::ids::MatterId>,
) -> Result<Response, AppError> {
    let turn = state.exports.dossier_turn(false).await.map_err(refused)?;
    let d = crate::dossier::service::matter_dossier(
        &state.db,
        &state.checkpointer,
        (&user, state.now()),
        &state.web.marking,
        id,
    )
    .await?;
    drop(turn);
    let name = format!("{}-dossier.json", d.parts["header"]["matter_number"].as_str().unwrap_or("matter"));
    Ok(json_dossier(&state, &user, d, "matter_dossier", &name))
}

/// A sealed JSON dossier as an attachment named `name`, its delivery recorded as `export`.
fn json_dossier(
    state: &AppState,
    user: &Authorized<perm::ExportCases>,
    d: crate::dossier::Dossier,
    export: &str,
    name: &str,
) -> Response {
    let what = json!({"export": export, "form": "json", "bytes": d.json.len()});
    let (manifest, body) = (d.manifest_sha256.clone(), bytes::Bytes::from(d.json));
    let mut r = deliver(state, user.audit(), None, what, move |mut out| async move {
        let r = out.put_all(body).await;
        (out, r)
    })
    .into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("numbers and ids are header-safe"),
    );
    h.insert("x-dossier-manifest-sha256", HeaderValue::from_str(&manifest).expect("hex"));
    r
}

/// Recomputes the whole chain and checks it against every checkpoint (recorded as an
/// audit event).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = ChainStatus)), security(("bearer" = [])))]
pub async fn verify_api(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
) -> Result<ApiJson<ChainStatus>, AppError> {
    Ok(ApiJson(service::verify_now(&state.db, &state.checkpointer, &user.audit(), state.now()).await?))
}

/// Every checkpoint, oldest first.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit", responses((status = 200, body = [Checkpoint])), security(("bearer" = [])))]
pub async fn checkpoints_api(
    _user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<Checkpoint>>, AppError> {
    Ok(ApiJson(checkpoint::all(&state.db).await?))
}

/// `?from&to&format`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogExportQuery {
    /// From (RFC 3339 or YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// To (RFC 3339 or YYYY-MM-DD), exclusive.
    pub to: Option<String>,
    /// `ndjson` (default) or `csv`.
    #[param(value_type = Option<Format>, inline)]
    pub format: Option<String>,
}

/// Streams the audit log of a period in constant memory (NDJSON or CSV with
/// formula-looking cells neutralised). It holds client addresses and what was typed into
/// failed sign-ins, so like a dossier it needs a re-authentication within 5 minutes. The
/// export itself is an audit event, with its period.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(LogExportQuery),
    responses((status = 200, description = "the events, streamed"), (status = 403, description = "role, or no fresh re-authentication"), (status = 422)),
    security(("bearer" = [])))]
pub async fn export_log(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<LogExportQuery>,
) -> Result<Response, AppError> {
    user.require_recent_reauth(state.now())?;
    let format = Format::parse(q.format.as_deref().unwrap_or(""))
        .ok_or_else(|| AppError::invalid("format", "must be ndjson or csv"))?;
    let filter = EventQuery { from: q.from.clone(), to: q.to.clone(), ..Default::default() }
        .to_filter()
        .map_err(AppError::Invalid)?;
    let what = json!({"export": "audit_log", "from": filter.from, "to": filter.to, "format": format.extension(),
        "case_content_redacted": !sees_case_content(user.role)});
    let event = NewEvent::new(EventType::AuditExported).changes(what.clone());
    super::record_alone(&state.db, state.now(), &user.audit(), event).await?;
    // The first chunk is read before anything is answered: no 200 that then breaks. The
    // export runs up to the chain head as it is now, its own event included.
    let export = LogExport::open(state.db.clone(), state.exports.clone(), filter.from, filter.to, format)
        .await
        .map_err(refused)?
        .for_reader(sees_case_content(user.role));
    let mut what = what;
    what["through_seq"] = json!(export.through);
    let mut r = deliver(&state, user.audit(), None, what, move |out| export.run(out)).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"audit-log.{}\"", format.extension())).expect("ascii"),
    );
    Ok(r)
}

/// An export that could not start.
pub(super) fn refused(e: Refused) -> AppError {
    match e {
        Refused::Busy => AppError::Busy("Too many exports are in progress. Try again in a moment."),
        Refused::Database(e) => AppError::Database(e),
    }
}

/// The body of a download produced by `produce` in a task of its own. A download that ends
/// before its end (the client stalls past the stall timeout or goes away, or the database
/// fails) breaks off, so the client cannot take it for complete, and is logged and recorded
/// as `audit.export_incomplete` with how far it got.
fn deliver<F, Fut>(
    state: &AppState,
    ctx: AuditContext,
    case: Option<CaseId>,
    what: serde_json::Value,
    produce: F,
) -> Body
where
    F: FnOnce(Outlet) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = (Outlet, Result<(), Cut>)> + Send,
{
    let (out, download) = super::export::download(state.exports.stall);
    let (pool, clock) = (state.db.clone(), state.clock.clone());
    let stall = state.exports.stall;
    tokio::spawn(async move {
        let (out, result) = produce(out).await;
        let cut = match result {
            Ok(()) => {
                out.finish();
                return;
            }
            Err(cut) => cut,
        };
        let progress = match &cut {
            Cut::Database(e) => {
                tracing::error!(error = %e, "export failed mid-stream");
                out.fail("the export stopped: database error")
            }
            _ => out.fail("the export was cut short"),
        };
        tracing::warn!(
            reason = cut.reason(),
            rows = progress.rows,
            bytes = progress.bytes,
            stall_secs = stall.as_secs(),
            "export incomplete"
        );
        let mut changes = what;
        changes["reason"] = json!(cut.reason());
        changes["delivered"] = json!(progress);
        let mut event = NewEvent::new(EventType::AuditExportIncomplete).changes(changes);
        if let Some(id) = case {
            event = event.object("case", id);
        }
        if let Err(e) = super::record_alone(&pool, clock.now(), &ctx, event).await {
            tracing::error!(error = %e, "could not record an incomplete export");
        }
    });
    Body::from_stream(futures_util::stream::unfold(download, |mut d| async move { d.next().await.map(|c| (c, d)) }))
}
