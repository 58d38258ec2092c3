//! Pages: a case's proceedings (determinations, agency notices, service, submissions,
//! mitigation, documents), a determination (edit, submit, sign, return), the supervisors'
//! signature queue, and the forms that post to them.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::service::{self, Draft};
use super::{CBI_SECTIONS, Content, Determination, Kind, PENALTIES, Prohibition, SubmissionAnswer, outcome_label};
use crate::app::AppState;
use crate::auth::policy::Action;
use crate::auth::web::show_time;
use crate::cases::model::CaseRow;
use crate::cases::proceedings::{self, AgencyNotice, NewNotice, NewSubmission, NoticeResponse, Submission};
use crate::cases::service::visible;
use crate::cases::workflow::Stage;
use crate::documents::{self, Document, MARKINGS};
use crate::mitigation::{self, Check, Measure, MeasureKind, NewCheck, NewMeasure, StatusChange};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath};
use crate::web::layout::{FormErrors, Layout, form_outcome, render};

/// A determination row as listed.
pub struct DeterminationRow {
    d: Determination,
    label: &'static str,
    outcome: &'static str,
    signed_at: String,
}

fn row(d: Determination) -> DeterminationRow {
    DeterminationRow {
        label: d.kind().label(),
        outcome: outcome_label(&d.outcome),
        signed_at: d.signed_at.map(show_time).unwrap_or_default(),
        d,
    }
}

#[derive(Template)]
#[template(path = "determinations/proceedings.html")]
struct ProceedingsPage {
    layout: Layout,
    c: CaseRow,
    stage: &'static str,
    csrf_token: String,
    message: String,
    message_is_error: bool,
    can_work: bool,
    determinations: Vec<DeterminationRow>,
    draft_kinds: Vec<(&'static str, &'static str, &'static [&'static str])>,
    notices: Vec<AgencyNotice>,
    agencies: Vec<(String, String)>,
    services: Vec<(String, String, String)>,
    submissions: Vec<Submission>,
    submission_kinds: [(&'static str, &'static str); 4],
    measures: Vec<Measure>,
    measure_kinds: Vec<MeasureKind>,
    checks: Vec<Check>,
    documents: Vec<Document>,
    markings: [(&'static str, &'static str); 4],
    today: String,
}

impl ProceedingsPage {
    fn agency_name(&self, code: &str) -> String {
        self.agencies.iter().find(|a| a.0 == code).map(|a| a.1.clone()).unwrap_or_else(|| code.to_string())
    }
    fn kind_name(&self, code: &str) -> String {
        self.measure_kinds.iter().find(|k| k.code == code).map(|k| k.name.clone()).unwrap_or_else(|| code.to_string())
    }
    fn submission_kind(&self, code: &str) -> &'static str {
        self.submission_kinds.iter().find(|k| k.0 == code).map(|k| k.1).unwrap_or("Other")
    }
    fn next_statuses(&self, from: &mitigation::MeasureStatus) -> Vec<mitigation::MeasureStatus> {
        from.next()
    }
    fn checks_of(&self, measure: &Uuid) -> Vec<&Check> {
        self.checks.iter().filter(|k| k.measure_id == *measure).collect()
    }
    fn date(&self, d: &Option<time::Date>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }
    fn opt<'a>(&self, s: &'a Option<String>) -> &'a str {
        s.as_deref().unwrap_or("")
    }
}

/// Whether `user` records the proceedings of `c` (the assigned analyst or a supervisor).
fn works(user: &SignedIn, c: &CaseRow) -> bool {
    proceedings::may_work(user, c).is_ok()
}

async fn proceedings_page(
    state: &AppState,
    user: &SignedIn,
    id: Uuid,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let c = visible(&mut conn, user, id, false).await?;
    if message.is_empty() {
        crate::cases::service::audit_read(&mut *state.conn().await?, user, state.now(), &c, "proceedings page").await?;
    }
    let agencies: Vec<(String, String)> =
        sqlx::query_as("SELECT code, name FROM ref_agencies ORDER BY name").fetch_all(&mut *conn).await?;
    let services: Vec<(String, time::Date, String)> = sqlx::query_as(
        "SELECT s.method, s.served_on, u.name FROM case_services s JOIN users u ON u.id = s.recorded_by WHERE s.case_id = $1 ORDER BY s.served_on",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let methods = crate::cases::workflow::SERVICE_METHODS;
    let page = ProceedingsPage {
        layout: Layout::for_user(&state.web, "/cases", Some(user)),
        stage: c.stage.label(),
        csrf_token: user.csrf_token.clone(),
        message,
        message_is_error: is_error,
        can_work: works(user, &c),
        determinations: service::of_case(&mut conn, id).await?.into_iter().map(row).collect(),
        draft_kinds: Kind::ALL.into_iter().map(|k| (k.as_str(), k.label(), k.outcomes())).collect(),
        notices: proceedings::notices(&mut conn, id).await?,
        agencies,
        services: services
            .into_iter()
            .map(|(m, on, who)| {
                (methods.iter().find(|x| x.0 == m).map(|x| x.1).unwrap_or("").to_string(), on.to_string(), who)
            })
            .collect(),
        submissions: proceedings::submissions(&mut conn, id).await?,
        submission_kinds: proceedings::SUBMISSION_KINDS,
        measures: mitigation::measures(&mut conn, id).await?,
        measure_kinds: mitigation::kinds(&mut conn).await?,
        checks: mitigation::checks(&mut conn, id).await?,
        documents: documents::of_case(&mut conn, id).await?,
        markings: MARKINGS,
        today: state.now().date().to_string(),
        c,
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r)
}

/// `GET /cases/{id}/proceedings`.
pub async fn proceedings(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, AppError> {
    proceedings_page(&state, &user, id, String::new(), false, StatusCode::OK).await
}

async fn back(
    state: &AppState,
    user: &SignedIn,
    id: Uuid,
    result: Result<(), impl Into<AppError>>,
    ok: &str,
) -> Result<Response, AppError> {
    let (message, is_error, status) = form_outcome(result, ok)?;
    proceedings_page(state, user, id, message, is_error, status).await
}

/// `POST /cases/{id}/agency-notices`.
pub async fn add_notice(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(n): AppForm<NoticeForm>,
) -> Result<Response, AppError> {
    let n = NewNotice { step: n.step, agency: n.agency, sent_on: n.sent_on, due_on: n.due_on };
    let result = proceedings::add_notice(&mut *state.conn().await?, &user, state.now(), id, n).await.map(|_| ());
    back(&state, &user, id, result, "Notice recorded.").await
}

/// The notice form.
#[derive(Debug, Deserialize)]
pub struct NoticeForm {
    step: String,
    agency: String,
    sent_on: String,
    #[serde(default)]
    due_on: Option<String>,
}

/// The response form.
#[derive(Debug, Deserialize)]
pub struct ResponseForm {
    response: String,
    responded_on: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    objector_level: Option<String>,
    #[serde(default)]
    referred_to_president: Option<String>,
    #[serde(default)]
    dispute_resolved_on: Option<String>,
    #[serde(default)]
    dispute_resolution: Option<String>,
    version: i32,
    case_id: Uuid,
}

/// `POST /agency-notices/{id}/response`.
pub async fn respond(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<ResponseForm>,
) -> Result<Response, AppError> {
    let r = NoticeResponse {
        response: f.response,
        responded_on: f.responded_on,
        comment: f.comment,
        objector_level: f.objector_level,
        referred_to_president: f.referred_to_president,
        dispute_resolved_on: f.dispute_resolved_on,
        dispute_resolution: f.dispute_resolution,
        version: f.version,
    };
    let result = proceedings::respond(&mut *state.conn().await?, &user, state.now(), id, r).await;
    let case_id = match &result {
        Ok(n) => n.case_id,
        Err(_) => f.case_id,
    };
    back(&state, &user, case_id, result.map(|_| ()), "Response recorded.").await
}

/// The submission form.
#[derive(Debug, Deserialize)]
pub struct SubmissionForm {
    kind: String,
    received_on: String,
    summary: String,
}

/// `POST /cases/{id}/submissions`.
pub async fn add_submission(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<SubmissionForm>,
) -> Result<Response, AppError> {
    let s = NewSubmission { kind: f.kind, received_on: f.received_on, summary: f.summary, party_id: None };
    let result = proceedings::add_submission(&mut *state.conn().await?, &user, state.now(), id, s).await.map(|_| ());
    back(&state, &user, id, result, "Submission recorded.").await
}

/// The meeting form.
#[derive(Debug, Deserialize)]
pub struct MeetingForm {
    held_on: String,
    outcome: String,
    case_id: Uuid,
}

/// `POST /submissions/{id}/meeting`.
pub async fn meeting(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<MeetingForm>,
) -> Result<Response, AppError> {
    let m = proceedings::MeetingOutcome { held_on: f.held_on, outcome: f.outcome };
    let result = proceedings::record_meeting(&mut *state.conn().await?, &user, state.now(), id, m).await.map(|_| ());
    back(&state, &user, f.case_id, result, "Meeting outcome recorded.").await
}

/// The measure form.
#[derive(Debug, Deserialize)]
pub struct MeasureForm {
    kind: String,
    description: String,
    owner: String,
    #[serde(default)]
    due_on: Option<String>,
}

/// `POST /cases/{id}/measures`.
pub async fn add_measure(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<MeasureForm>,
) -> Result<Response, AppError> {
    let m =
        NewMeasure { kind: f.kind, description: f.description, owner: f.owner, due_on: f.due_on, submission_id: None };
    let result = mitigation::add(&mut *state.conn().await?, &user, state.now(), id, m).await.map(|_| ());
    back(&state, &user, id, result, "Measure recorded.").await
}

/// The measure status form.
#[derive(Debug, Deserialize)]
pub struct MeasureStatusForm {
    status: String,
    #[serde(default)]
    comment: String,
    version: i32,
    case_id: Uuid,
}

/// `POST /measures/{id}/status`.
pub async fn measure_status(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<MeasureStatusForm>,
) -> Result<Response, AppError> {
    let s = StatusChange { status: f.status, comment: f.comment, version: f.version };
    let result =
        mitigation::set_status(&mut *state.conn().await?, &user, state.now(), id, s, state.mail).await.map(|_| ());
    back(&state, &user, f.case_id, result, "Measure updated.").await
}

/// The compliance check form.
#[derive(Debug, Deserialize)]
pub struct CheckForm {
    checked_on: String,
    result: String,
    finding: String,
    #[serde(default)]
    document_id: Option<String>,
    case_id: Uuid,
}

/// `POST /measures/{id}/checks`.
pub async fn add_check(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<CheckForm>,
) -> Result<Response, AppError> {
    let document_id = match f.document_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| AppError::invalid("document_id", "choose a document"))?),
        None => None,
    };
    let k = NewCheck { checked_on: f.checked_on, result: f.result, finding: f.finding, document_id };
    let result =
        mitigation::add_check(&mut *state.conn().await?, &user, state.now(), id, k, state.mail).await.map(|_| ());
    back(&state, &user, f.case_id, result, "Compliance check recorded.").await
}

/// `POST /cases/{id}/documents` (multipart; the CSRF token rides in the query string).
pub async fn upload(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let result = match documents::read_upload(multipart).await {
        Ok(u) => documents::store(&mut *state.conn().await?, &user, state.now(), id, u).await.map(|_| ()),
        Err(e) => Err(e),
    };
    back(&state, &user, id, result, "Document stored.").await
}

// ---------------------------------------------------------------------------------------
// Determinations.

/// The new-draft form.
#[derive(Debug, Deserialize)]
pub struct NewDraftForm {
    kind: String,
    outcome: String,
}

/// `POST /cases/{id}/determinations`: starts a draft from the case record and opens it.
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<NewDraftForm>,
) -> Result<Response, AppError> {
    let Some(kind) = Kind::parse(&f.kind) else {
        return back(&state, &user, id, Err(AppError::invalid("kind", "choose a kind")), "").await;
    };
    let mut conn = state.db.acquire().await?;
    let c = visible(&mut conn, &user, id, false).await?;
    let party: Option<String> = sqlx::query_scalar(
        "SELECT p.legal_name FROM case_parties cp JOIN parties p ON p.id = cp.party_id WHERE cp.case_id = $1 ORDER BY cp.role LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    drop(conn);
    let party = party.unwrap_or_else(|| c.title.clone());
    let title_kind = match kind {
        Kind::Initial => "Initial Determination",
        Kind::Final => "Final Determination",
        Kind::Amendment => "Amended Final Determination",
        Kind::Revocation => "Revocation of Final Determination",
    };
    let content = Content {
        title: format!("{title_kind}: Case No. {}, {party}", c.docket_number),
        party,
        covered_finding: c.covered_note.clone(),
        nexus_finding: c.nexus_note.clone(),
        risk_analysis: c.undue_risk_note.clone(),
        penalties: PENALTIES.to_string(),
        ..Content::default()
    };
    let draft = Draft {
        outcome: f.outcome.trim().to_string(),
        content,
        cited_documents: Vec::new(),
        unclassified_confirmed: true,
    };
    match service::create(&mut *state.conn().await?, &user, state.now(), id, kind, draft).await {
        Ok(d) => Ok(Redirect::to(&format!("/determinations/{}", d.id)).into_response()),
        Err(e) => back(&state, &user, id, Err(e), "").await,
    }
}

#[derive(Template)]
#[template(path = "determinations/show.html")]
struct DeterminationPage {
    layout: Layout,
    d: Determination,
    content: Content,
    c: CaseRow,
    csrf_token: String,
    message: String,
    message_is_error: bool,
    errors: FormErrors,
    editable: bool,
    can_submit: bool,
    can_review: bool,
    reauth_fresh: bool,
    returns: Vec<(i32, String, String, String)>,
    revisions: Vec<(i32, &'static str, String, String)>,
    submissions: Vec<Submission>,
    measures: Vec<Measure>,
    documents: Vec<Document>,
    prohibition_rows: Vec<(usize, String, String)>,
    cbi_sections: [(&'static str, &'static str); 5],
    outcomes: Vec<(&'static str, &'static str)>,
    hash_ok: bool,
    signed_at: String,
    reauth_at: String,
    submitted_at: String,
    assessment: String,
}

impl DeterminationPage {
    fn answer_of(&self, s: &Uuid) -> &str {
        self.content.submission_answers.iter().find(|a| a.submission_id == *s).map(|a| a.answer.as_str()).unwrap_or("")
    }
    fn measure_chosen(&self, m: &Uuid) -> bool {
        self.content.measures.contains(m)
    }
    fn doc_cited(&self, id: &Uuid) -> bool {
        self.d.cited_documents.contains(id)
    }
    fn cbi(&self, s: &str) -> bool {
        self.content.cbi_sections.iter().any(|x| x == s)
    }
    fn hex(&self) -> String {
        self.d.content_sha256.as_deref().map(hex::encode).unwrap_or_default()
    }
    fn signer(&self) -> &str {
        self.d.signed_by_name.as_deref().unwrap_or("")
    }
    fn text_sections(&self) -> Vec<(&'static str, &'static str, &str)> {
        let c = &self.content;
        vec![
            ("covered_finding", "1. Covered ICTS transaction: finding", c.covered_finding.as_str()),
            ("nexus_finding", "2. Foreign-adversary nexus: finding", c.nexus_finding.as_str()),
            ("risk_analysis", "3. Undue or unacceptable risk: risk analysis", c.risk_analysis.as_str()),
            ("background", "Background (the procedural history is drawn from the case)", c.background.as_str()),
            ("cessation", "Timing and manner of cessation", c.cessation.as_str()),
            ("penalties", "Penalties", c.penalties.as_str()),
        ]
    }
    fn answerable(&self) -> Vec<&Submission> {
        self.submissions.iter().filter(|s| s.kind != "meeting_request").collect()
    }
}

#[allow(clippy::too_many_arguments)]
async fn determination_page(
    state: &AppState,
    user: &SignedIn,
    id: Uuid,
    message: String,
    is_error: bool,
    errors: Vec<FieldError>,
    status: StatusCode,
    unsaved: Option<(String, Content, Vec<Uuid>)>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let (mut d, c) = service::get(&mut conn, user, id, false).await?;
    if message.is_empty() {
        crate::cases::service::audit_read(&mut *state.conn().await?, user, state.now(), &c, "determination page")
            .await?;
    }
    let now = state.now();
    let returns = service::returns(&mut conn, id)
        .await?
        .into_iter()
        .map(|(rev, comment, who, at)| (rev, comment, who, show_time(at)))
        .collect();
    let revisions = service::revisions(&mut conn, id)
        .await?
        .into_iter()
        .map(|(rev, outcome, who, at)| (rev, outcome_label(&outcome), who, show_time(at)))
        .collect();
    let submissions = proceedings::submissions(&mut conn, c.id).await?;
    let measures = mitigation::measures(&mut conn, c.id).await?;
    let documents = documents::of_case(&mut conn, c.id).await?;
    let assessment: Option<(f64, String, OffsetDateTime)> = match d.assessment_id {
        Some(a) => {
            sqlx::query_as("SELECT composite::float8, band::text, created_at FROM assessments WHERE id = $1")
                .bind(a)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => None,
    };
    drop(conn);
    let hash_ok = d.content_sha256.as_deref().is_none_or(|h| h == d.computed_hash());
    let mut content = d.typed();
    if let Some((outcome, unsaved, cited)) = unsaved {
        d.outcome = outcome;
        d.cited_documents = cited;
        content = unsaved;
    }
    let editable = d.status.is_editable() && d.drafted_by == user.id;
    let mut prohibition_rows: Vec<(usize, String, String)> = content
        .prohibitions
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.effective_on.to_string(), p.description.clone()))
        .collect();
    while prohibition_rows.len() < 3 || (editable && prohibition_rows.len() < content.prohibitions.len() + 1) {
        let i = prohibition_rows.len();
        prohibition_rows.push((i, String::new(), String::new()));
    }
    let page = DeterminationPage {
        layout: Layout::for_user(&state.web, "/determinations", Some(user)),
        csrf_token: user.csrf_token.clone(),
        message,
        message_is_error: is_error,
        errors: FormErrors(errors),
        editable,
        can_submit: editable,
        can_review: d.status == crate::determinations::Status::Submitted
            && crate::auth::policy::four_eyes(user.role, user.id, d.drafted_by, Action::SignDeterminations).is_ok(),
        reauth_fresh: user.require_recent_reauth(now).is_ok(),
        returns,
        revisions,
        submissions,
        measures,
        documents,
        prohibition_rows,
        cbi_sections: CBI_SECTIONS,
        outcomes: d.kind().outcomes().iter().map(|o| (*o, outcome_label(o))).collect(),
        hash_ok,
        signed_at: d.signed_at.map(show_time).unwrap_or_default(),
        reauth_at: d.reauth_at.map(show_time).unwrap_or_default(),
        submitted_at: d.submitted_at.map(show_time).unwrap_or_default(),
        assessment: assessment
            .map(|(score, band, at)| format!("composite {score:.2} ({band}), recorded {}", show_time(at)))
            .unwrap_or_else(|| "none recorded".into()),
        content,
        d,
        c,
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r)
}

/// `GET /determinations/{id}`.
pub async fn show(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, AppError> {
    determination_page(&state, &user, id, String::new(), false, Vec::new(), StatusCode::OK, None).await
}

/// Reads the draft form: plain fields, `prohibition_date_N` / `prohibition_text_N`,
/// `answer_<submission id>`, repeated `measures`, `cited_documents` and `cbi_sections`.
fn parse_draft_form(pairs: &[(String, String)]) -> Result<(i32, String, Content, Vec<Uuid>, bool), AppError> {
    let get = |k: &str| pairs.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let all = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let mut errors = Vec::new();
    let revision = get("revision").parse::<i32>().map_err(|_| AppError::invalid("revision", "is missing"))?;
    let uuids = |field: &str, errors: &mut Vec<FieldError>| -> Vec<Uuid> {
        all(field)
            .into_iter()
            .filter_map(|v| {
                Uuid::parse_str(v.trim()).map_err(|_| errors.push(FieldError::new(field, "is not a valid choice"))).ok()
            })
            .collect()
    };
    let measures = uuids("measures", &mut errors);
    let cited = uuids("cited_documents", &mut errors);
    let mut prohibitions = Vec::new();
    for i in 0..20 {
        let date = get(&format!("prohibition_date_{i}"));
        let text = get(&format!("prohibition_text_{i}"));
        if date.trim().is_empty() && text.trim().is_empty() {
            continue;
        }
        match crate::cases::model::parse_date(date.trim()) {
            Some(effective_on) => prohibitions.push(Prohibition { description: text.trim().to_string(), effective_on }),
            None => errors
                .push(FieldError::new(format!("prohibition_date_{i}"), "give the date from which it is prohibited")),
        }
    }
    let mut submission_answers = Vec::new();
    for (k, v) in pairs {
        if let Some(id) = k.strip_prefix("answer_")
            && !v.trim().is_empty()
        {
            match Uuid::parse_str(id) {
                Ok(submission_id) => {
                    submission_answers.push(SubmissionAnswer { submission_id, answer: v.trim().to_string() })
                }
                Err(_) => errors.push(FieldError::new("submission_answers", "names an unknown submission")),
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let content = Content {
        title: get("title").trim().to_string(),
        party: get("party").trim().to_string(),
        covered_finding: get("covered_finding").trim().to_string(),
        nexus_finding: get("nexus_finding").trim().to_string(),
        risk_analysis: get("risk_analysis").trim().to_string(),
        background: get("background").trim().to_string(),
        submission_answers,
        cessation: get("cessation").trim().to_string(),
        prohibitions,
        penalties: get("penalties").trim().to_string(),
        measures,
        cbi_sections: all("cbi_sections"),
    };
    Ok((revision, get("outcome").trim().to_string(), content, cited, get("unclassified_confirmed") == "yes"))
}

/// `POST /determinations/{id}`: saves a revision.
pub async fn save(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(pairs): AppForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (revision, outcome, content, cited, confirmed) = match parse_draft_form(&pairs) {
        Ok(x) => x,
        Err(AppError::Invalid(errors)) => {
            let message = FieldError::join(&errors);
            return determination_page(
                &state,
                &user,
                id,
                message,
                true,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    let draft = Draft {
        outcome: outcome.clone(),
        content: content.clone(),
        cited_documents: cited.clone(),
        unclassified_confirmed: confirmed,
    };
    match service::revise(&mut *state.conn().await?, &user, state.now(), id, revision, draft)
        .await
        .map_err(AppError::from)
    {
        Ok(d) => {
            let message = format!("Saved revision {}.", d.revision);
            determination_page(&state, &user, id, message, false, Vec::new(), StatusCode::OK, None).await
        }
        Err(AppError::Invalid(errors)) => {
            let message = FieldError::join(&errors);
            let unsaved = Some((outcome, content, cited));
            determination_page(&state, &user, id, message, true, errors, StatusCode::UNPROCESSABLE_ENTITY, unsaved)
                .await
        }
        Err(e) => {
            let (message, is_error, status) = form_outcome(Err(e), "")?;
            determination_page(
                &state,
                &user,
                id,
                message,
                is_error,
                Vec::new(),
                status,
                Some((outcome, content, cited)),
            )
            .await
        }
    }
}

async fn after(
    state: &AppState,
    user: &SignedIn,
    id: Uuid,
    result: Result<(), impl Into<AppError>>,
    ok: &str,
) -> Result<Response, AppError> {
    let result = result.map_err(Into::into);
    let errors = match &result {
        Err(AppError::Invalid(e)) => e.clone(),
        _ => Vec::new(),
    };
    let (message, is_error, status) = form_outcome(result, ok)?;
    determination_page(state, user, id, message, is_error, errors, status, None).await
}

/// `POST /determinations/{id}/submit`.
pub async fn submit(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, AppError> {
    let result = service::submit(&mut *state.conn().await?, &user, state.now(), id, state.mail).await.map(|_| ());
    after(&state, &user, id, result, "Submitted for signature. The supervisors have been notified.").await
}

/// `POST /determinations/{id}/sign`: a fresh re-authentication is asked for first.
pub async fn sign(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, AppError> {
    match service::sign(&mut *state.conn().await?, &user, state.now(), id, state.mail).await.map_err(AppError::from) {
        Err(AppError::ReauthRequired) => {
            Ok(Redirect::to(&format!("/account/reauth?next=%2Fdeterminations%2F{id}")).into_response())
        }
        result => {
            after(&state, &user, id, result.map(|_| ()), "Signed. The signed content can no longer change.").await
        }
    }
}

/// The return form.
#[derive(Debug, Deserialize)]
pub struct ReturnForm {
    comment: String,
}

/// `POST /determinations/{id}/return`.
pub async fn return_draft(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppForm(f): AppForm<ReturnForm>,
) -> Result<Response, AppError> {
    let result = service::return_draft(&mut *state.conn().await?, &user, state.now(), id, &f.comment, state.mail)
        .await
        .map(|_| ());
    after(&state, &user, id, result, "Returned to the drafter.").await
}

#[derive(Template)]
#[template(path = "determinations/queue.html")]
struct QueuePage {
    layout: Layout,
    awaiting: Vec<(DeterminationRow, String, String, String)>,
    mine: Vec<(DeterminationRow, String)>,
    is_supervisor: bool,
    user_id: Uuid,
}

/// `GET /determinations`: drafts awaiting signature, and one's own unsigned drafts.
pub async fn queue(user: Authorized<perm::ViewCases>, State(state): State<AppState>) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let awaiting = service::list(&mut conn, &user, service::Listing::AwaitingSignature)
        .await?
        .into_iter()
        .map(|l| {
            let at = l.d.submitted_at.map(show_time).unwrap_or_default();
            (row(l.d), l.docket_number, l.title, at)
        })
        .collect();
    let mine = service::list(&mut conn, &user, service::Listing::UnsignedByMe).await?;
    render(&QueuePage {
        layout: Layout::for_user(&state.web, "/determinations", Some(&user)),
        awaiting,
        mine: mine.into_iter().map(|l| (row(l.d), l.docket_number)).collect(),
        is_supervisor: user.may(Action::SignDeterminations),
        user_id: user.id,
    })
}

/// Whether the case is at a stage where new drafts of `kind` make sense (for hints only;
/// the service decides).
pub fn drafting_hint(stage: Stage) -> &'static str {
    match stage {
        Stage::InitialDetermination => "initial",
        Stage::ResponsePeriod | Stage::SecondInteragency | Stage::FinalDetermination => "final",
        s if s.is_decided() => "amendment",
        _ => "",
    }
}
