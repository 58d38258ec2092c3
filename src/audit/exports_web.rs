//! Auditors' exports and chain status: the case dossier (JSON, CSV zip, printable page),
//! the streaming log export, chain verification and checkpoints.

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::checkpoint::{self, Checkpoint, CheckpointReport};
use super::dossier::{self, Dossier};
use super::export::Format;
use super::web::EventQuery;
use super::{NewEvent, StoredEvent, Verdict};
use crate::app::AppState;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppPath, AppQuery};
use crate::web::layout::{Layout, render};

/// `?format=json|csv&content=true`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `json` (default) or `csv` (a zip of CSV files with the JSON dossier inside).
    pub format: Option<String>,
    /// Include the documents' content (base64) as well as their hashes.
    pub content: Option<String>,
}

/// Builds a case's dossier: gathers the parts, records the export in the audit log, takes
/// a checkpoint covering that event, and seals the manifest.
pub async fn build(
    state: &AppState,
    user: &SignedIn,
    id: Uuid,
    include_content: bool,
    form: &str,
) -> Result<Dossier, AppError> {
    let now = state.now();
    let mut conn = state.db.acquire().await?;
    let c = crate::cases::service::visible(&mut conn, user, id, false).await?;
    user.require_recent_reauth(now)?;
    let parts = dossier::gather(&mut conn, id, include_content).await?;
    drop(conn);
    let parts_sha256 = dossier::part_hash(&serde_json::to_value(&parts).expect("parts serialise"));
    let event = NewEvent::new("case.exported").object("case", id).changes(json!({
        "form": form, "document_contents_included": include_content, "parts_sha256": parts_sha256,
        "marking": state.web.marking.to_string(),
    }));
    super::record_alone(&state.db, now, &user.audit(), event).await?;
    let cp = checkpoint::create(&state.db, &state.checkpointer, now, "export", false).await?.expect("always written");
    let header = dossier::header(
        id,
        &c.docket_number,
        (user.id, &user.name, user.role.as_str()),
        now,
        &state.web.marking,
        include_content,
    );
    Ok(dossier::seal(parts, header, cp, &state.checkpointer))
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
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let include = truthy(&q.content)?;
    let csv = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(AppError::invalid("format", "must be json or csv")),
    };
    let d = build(&state, &user, id, include, if csv { "csv" } else { "json" }).await?;
    let docket = d.parts["header"]["docket_number"].as_str().unwrap_or("case").to_string();
    let (body, media, name) = if csv {
        (
            dossier::zip(&d).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?,
            "application/zip",
            format!("{docket}-dossier.zip"),
        )
    } else {
        (d.json, "application/json", format!("{docket}-dossier.json"))
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("docket numbers are header-safe"),
    );
    h.insert("x-dossier-manifest-sha256", HeaderValue::from_str(&d.manifest_sha256).expect("hex"));
    Ok(r)
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
    case_id: Uuid,
    generated: String,
    manifest_sha256: String,
    checkpoint: Checkpoint,
    sections: Vec<Section>,
}

/// `GET /cases/{id}/dossier`: the printable dossier (with a step-up).
pub async fn dossier_page(
    user: Authorized<perm::ExportCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, AppError> {
    let d = build(&state, &user, id, false, "printable").await?;
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
            let (cols, rows) = dossier::table(v);
            Section { name: n.replace('_', " "), hash: dossier::part_hash(v), cols, rows }
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
pub async fn export_case_page(
    user: Authorized<perm::ExportCases>,
    state: State<AppState>,
    path: AppPath<Uuid>,
    query: AppQuery<ExportQuery>,
) -> Result<Response, AppError> {
    export_case(user, state, path, query).await
}

/// The chain's state and the checkpoints' check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainStatus {
    /// Whether the chain recomputes.
    pub ok: bool,
    /// `OK <count> <head>` or where it breaks.
    pub verdict: String,
    /// The checkpoints' check.
    pub checkpoints: CheckpointReport,
    /// Whether a signing key is configured.
    pub signing: bool,
    /// Its public key (hex).
    pub public_key: Option<String>,
}

/// Verifies the chain and every checkpoint now, and records that it did.
pub async fn verify_now(state: &AppState, user: &SignedIn) -> Result<ChainStatus, AppError> {
    let verdict = super::verify(&state.db).await?;
    let expected = state.checkpointer.key.as_ref().map(|k| k.verifying_key());
    let report = checkpoint::verify_all(&state.db, expected.as_ref(), state.checkpointer.file.as_deref()).await?;
    let ok = matches!(verdict, Verdict::Ok { .. }) && report.problems.is_empty();
    let event = NewEvent::new("audit.verified").changes(json!({
        "verdict": verdict.to_string(), "checkpoints_checked": report.checked, "checkpoint_problems": report.problems,
        "ok": ok,
    }));
    super::record_alone(&state.db, state.now(), &user.audit(), event).await?;
    Ok(ChainStatus {
        ok,
        verdict: verdict.to_string(),
        checkpoints: report,
        signing: state.checkpointer.key.is_some(),
        public_key: expected.map(|k| hex::encode(k.as_bytes())),
    })
}

/// Recomputes the whole chain and checks it against every checkpoint (recorded as an
/// audit event).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = ChainStatus)), security(("bearer" = [])))]
pub async fn verify_api(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
) -> Result<ApiJson<ChainStatus>, AppError> {
    Ok(ApiJson(verify_now(&state, &user).await?))
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
pub struct LogExportQuery {
    /// From (RFC 3339 or YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// To (RFC 3339 or YYYY-MM-DD), exclusive.
    pub to: Option<String>,
    /// `ndjson` (default) or `csv`.
    pub format: Option<String>,
}

/// Streams the audit log of a period in constant memory (NDJSON or CSV with
/// formula-looking cells neutralised). The export itself is an audit event.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(LogExportQuery),
    responses((status = 200, description = "the events, streamed"), (status = 422)), security(("bearer" = [])))]
pub async fn export_log(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<LogExportQuery>,
) -> Result<Response, AppError> {
    let format = Format::parse(q.format.as_deref().unwrap_or(""))
        .ok_or_else(|| AppError::invalid("format", "must be ndjson or csv"))?;
    let filter = EventQuery { from: q.from.clone(), to: q.to.clone(), ..Default::default() }
        .to_filter()
        .map_err(AppError::Invalid)?;
    let event = NewEvent::new("audit.exported")
        .changes(json!({"from": filter.from, "to": filter.to, "format": format.extension()}));
    super::record_alone(&state.db, state.now(), &user.audit(), event).await?;
    let rx = super::export::stream(state.db.clone(), filter.from, filter.to, format);
    let body =
        Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) }));
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"audit-log.{}\"", format.extension())).expect("ascii"),
    );
    Ok(r)
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
    result: Option<ChainStatus>,
    csrf_token: String,
}

async fn chain_page(state: &AppState, user: &SignedIn, result: Option<ChainStatus>) -> Result<Response, AppError> {
    let (head_seq, head_hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE singleton").fetch_one(&state.db).await?;
    let all = checkpoint::all(&state.db).await?;
    let last: Option<StoredEvent> =
        sqlx::query_as("SELECT * FROM audit_events WHERE event_type = 'audit.verified' ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&state.db)
            .await?;
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
                crate::auth::web::show_time(e.at),
                e.changes["verdict"].as_str().unwrap_or("").to_string(),
                e.changes["ok"].as_bool().unwrap_or(false),
            )
        }),
        result,
        csrf_token: user.csrf_token.clone(),
    })
}

/// `GET /audit/chain`.
pub async fn chain(user: Authorized<perm::ReadAuditLog>, State(state): State<AppState>) -> Result<Response, AppError> {
    chain_page(&state, &user, None).await
}

/// `POST /audit/chain/verify`.
pub async fn chain_verify(
    user: Authorized<perm::ReadAuditLog>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let result = verify_now(&state, &user).await?;
    chain_page(&state, &user, Some(result)).await
}
