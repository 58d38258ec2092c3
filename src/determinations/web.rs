//! Pages: a case's proceedings (determinations, agency notices, service, submissions,
//! mitigation, documents), a determination (edit, submit, sign, return), the supervisors'
//! signature queue, and the forms that post to them.

use crate::ids::{CaseId, DeterminationId, DocumentId, MeasureId, SubmissionId, UserId};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::document::{HistoryLine, authority, finding, history};
use super::service::{self, Draft};
use super::{
    CbiSection, Content, Determination, Kind, Outcome, PENALTIES, Prohibition, Status, SubmissionAnswer, outcome_label,
};
use crate::access::policy::Action;
use crate::app::AppState;
use crate::audit::StoredEvent;
use crate::cases::model::CaseRow;
use crate::cases::service::visible;
use crate::cases::workflow::Stage;
use crate::choice::Choice;
use crate::documents::{self, Document};
use crate::mitigation::{self, Measure};
use crate::proceedings::model::Submission;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppFormKept, AppPath, AppQuery, CsrfForm};
use crate::web::flash::Flash;
use crate::web::layout::show_time;
use crate::web::layout::{FormErrors, Layout, Pager, Panel, answer_form, form_outcome, render, show_refusal};
use crate::web::list::ListQuery;

// ---------------------------------------------------------------------------------------
// Determinations.

/// The new-draft form.
#[derive(Debug, Deserialize)]
pub struct NewDraftForm {
    kind: String,
    outcome: String,
    #[serde(default)]
    drafted_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /cases/{id}/determinations`: starts a draft from the case record and opens it.
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppFormKept(f, body): AppFormKept<NewDraftForm>,
) -> Result<Response, AppError> {
    let Some(kind) = Kind::parse(&f.kind) else {
        return show_refusal(AppError::invalid("kind", "choose a kind of determination"), |o| {
            crate::proceedings::web::proceedings_after(&state, &user, id, o, "draft", "draft-", &body)
        })
        .await;
    };
    let mut conn = state.db.acquire().await?;
    let c = visible(&mut conn, &user, id, false).await?;
    let party = super::db::first_party_name(&mut conn, id).await?;
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
    let drafted = crate::dates::When { on: f.drafted_on, late_reason: f.late_reason };
    match service::create(&mut *state.conn().await?, &user, state.now(), id, kind, draft, &drafted).await {
        Ok(d) => Ok(Redirect::to(&format!("/determinations/{}", d.id)).into_response()),
        Err(e) => {
            show_refusal(e, |o| {
                crate::proceedings::web::proceedings_after(&state, &user, id, o, "draft", "draft-", &body)
            })
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "determinations/show.html")]
struct DeterminationPage {
    layout: Layout,
    /// The panel whose form came back refused (a sending, the publication), if any.
    panel: Panel,
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
    sendings: Vec<super::Sending>,
    publication: Option<super::Publication>,
    /// The sending and publication forms are offered (a signed final determination, to
    /// its assigned analyst or a supervisor).
    can_notify: bool,
    sending_methods: [(&'static str, &'static str); 5],
    today: String,
    /// Why a submitted (or recorded) determination cannot be signed yet; empty when it can.
    not_signable: String,
    /// A supervisor may record a signature made outside the system on this submitted draft.
    can_record: bool,
    /// A second supervisor may confirm (or return) the recorded outside signature.
    can_confirm: bool,
    /// The signed copy of a signature made outside the system.
    signed_copy: Option<Document>,
    /// When the outside signature was recorded, as shown.
    recorded_at: String,
}

impl DeterminationPage {
    fn signed_copy_hex(&self) -> String {
        self.d.signed_copy_sha256.as_deref().map(hex::encode).unwrap_or_default()
    }
    fn signature_date(&self) -> String {
        self.d.signature_date().or(self.d.signed_on).map(|d| d.to_string()).unwrap_or_default()
    }
    fn answer_of(&self, s: &SubmissionId) -> &str {
        self.content.submission_answers.iter().find(|a| a.submission_id == *s).map(|a| a.answer.as_str()).unwrap_or("")
    }
    fn measure_chosen(&self, m: &MeasureId) -> bool {
        self.content.measures.contains(m)
    }
    fn doc_cited(&self, id: &DocumentId) -> bool {
        self.d.cited_documents.contains(id)
    }
    fn cbi(&self, s: &str) -> bool {
        self.content.cbi_sections.iter().any(|x| x.as_text() == s)
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
            (
                "summary",
                "Summary for the Federal Register (drawn from the finding when left empty)",
                c.summary.as_str(),
            ),
            (
                "future_review",
                "Future review (a not-prohibited determination states that the transaction may be reviewed again)",
                c.future_review.as_str(),
            ),
        ]
    }
    fn answerable(&self) -> Vec<&Submission> {
        self.submissions
            .iter()
            .filter(|s| s.kind != crate::proceedings::model::SubmissionKind::MeetingRequest)
            .collect()
    }
}

#[allow(clippy::too_many_arguments)]
/// Renders the page with a message: a form's refusal, or the flash of one that succeeded
/// (none for a plain read).
pub(crate) async fn determination_page(
    state: &AppState,
    user: &SignedIn,
    id: DeterminationId,
    message: String,
    is_error: bool,
    errors: Vec<FieldError>,
    status: StatusCode,
    unsaved: Option<(String, Content, Vec<DocumentId>)>,
) -> Result<Response, AppError> {
    determination_page_with(state, user, id, message, is_error, errors, status, unsaved, Panel::default()).await
}

/// Renders the page after a form posted from one of its panels (a sending, the
/// publication): refused input reopens the panel with its errors at their fields and what
/// was typed kept; anything else is a banner.
async fn determination_after(
    state: &AppState,
    user: &SignedIn,
    id: DeterminationId,
    o: crate::web::layout::Outcome,
    form: impl Into<String>,
    prefix: impl Into<String>,
    body: &str,
) -> Result<Response, AppError> {
    if o.errors.is_empty() {
        return determination_page(state, user, id, o.message, o.is_error, Vec::new(), o.status, None).await;
    }
    let panel = Panel::refused(form, prefix, o.errors, body);
    determination_page_with(state, user, id, String::new(), true, Vec::new(), o.status, None, panel).await
}

#[allow(clippy::too_many_arguments)]
async fn determination_page_with(
    state: &AppState,
    user: &SignedIn,
    id: DeterminationId,
    message: String,
    is_error: bool,
    errors: Vec<FieldError>,
    status: StatusCode,
    unsaved: Option<(String, Content, Vec<DocumentId>)>,
    panel: Panel,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let (mut d, c) = service::get(&mut conn, user, id, false).await?;
    if message.is_empty() {
        crate::cases::service::audit_read(&mut *state.conn().await?, user, state.now(), &c, "determination page")
            .await?;
    }
    let now = state.now();
    let returns = super::db::returns(&mut conn, id)
        .await?
        .into_iter()
        .map(|(rev, comment, who, at)| (rev, comment, who, show_time(at, &user.zone)))
        .collect();
    let revisions = super::db::revisions(&mut conn, id)
        .await?
        .into_iter()
        .map(|(rev, outcome, who, at)| (rev, outcome_label(&outcome), who, show_time(at, &user.zone)))
        .collect();
    let submissions = crate::proceedings::db::submissions(&mut conn, c.id).await?;
    let measures = mitigation::db::measures(&mut conn, c.id).await?;
    let documents = documents::of_case(&mut conn, c.id).await?;
    let sendings = super::db::sendings(&mut conn, id).await?;
    let publication = super::db::publication(&mut conn, id).await?;
    let d_status = d.status;
    let is_supervisor = user.may(Action::SignDeterminations);
    let not_signable = if matches!(d_status, super::Status::Submitted | super::Status::Recorded) {
        let on = d.signed_on.unwrap_or_else(|| crate::dates::today(now));
        (if user.may(Action::SignDeterminations) { service::filed_it(&c, user) } else { None })
            .or_else(|| service::why_not_signable(d.kind(), &c, user, on))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let can_review = d_status == super::Status::Submitted
        && crate::access::policy::four_eyes(user.role, user.id, d.drafted_by, Action::SignDeterminations).is_ok();
    let signed_copy = match d.signed_copy_id {
        Some(copy) => documents::db::get(&mut conn, copy).await?,
        None => None,
    };
    let can_notify = d.status == crate::determinations::Status::Signed
        && d.kind() != Kind::Initial
        && crate::proceedings::service::may_work(user, &c).is_ok();
    let assessment: Option<(f64, String, OffsetDateTime)> = match d.assessment_id {
        Some(a) => super::db::assessment_summary(&mut conn, a).await?.map(|(score, band, at, _)| (score, band, at)),
        None => None,
    };
    drop(conn);
    let hash_ok = d.content_sha256.as_deref().is_none_or(|h| h == d.computed_hash());
    let mut content = d.typed();
    if let Some((outcome, unsaved, cited)) = unsaved {
        d.outcome = Outcome::parse(&outcome).unwrap_or(d.outcome);
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
        panel,
        layout: Layout::for_user(&state.web, "/determinations", Some(user)),
        csrf_token: user.csrf_token.clone(),
        message,
        message_is_error: is_error,
        errors: FormErrors(errors),
        editable,
        can_submit: editable,
        can_review,
        can_record: d_status == super::Status::Submitted && is_supervisor,
        can_confirm: d_status == super::Status::Recorded
            && d.recorded_by != Some(user.id)
            && crate::access::policy::four_eyes(user.role, user.id, d.drafted_by, Action::SignDeterminations).is_ok(),
        not_signable,
        signed_copy,
        recorded_at: d.recorded_at.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
        reauth_fresh: user.require_recent_reauth(now).is_ok(),
        returns,
        revisions,
        submissions,
        measures,
        documents,
        prohibition_rows,
        cbi_sections: CbiSection::ALL.map(|s| (s.as_str(), s.label())),
        outcomes: d.kind().outcomes().iter().map(|o| (o.as_str(), o.label())).collect(),
        hash_ok,
        signed_at: d.signed_at.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
        sendings,
        publication,
        can_notify,
        sending_methods: super::SendingMethod::ALL.map(|m| (m.as_str(), m.label())),
        today: crate::dates::today(now).to_string(),
        reauth_at: d.reauth_at.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
        submitted_at: d.submitted_at.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
        assessment: assessment
            .map(|(score, band, at)| format!("composite {score:.2} ({band}), recorded {}", show_time(at, &user.zone)))
            .unwrap_or_else(|| "none recorded".into()),
        content,
        d,
        c,
    };
    let mut r = render(&page)?;
    *r.status_mut() = status;
    Ok(r)
}

crate::list_query! {
    DeterminationQuery => "/determinations", fragment "#all";
    sorts ["newest", "oldest", "docket"] descending ["newest"];
    params status, kind, sort, limit, cursor, before
}

/// `GET /determinations/{id}`.
pub async fn show(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    flash: Flash,
) -> Result<Response, AppError> {
    determination_page(&state, &user, id, flash.message, flash.is_error, Vec::new(), StatusCode::OK, None).await
}

/// Reads the draft form: plain fields, `prohibition_date_N` / `prohibition_text_N`,
/// `answer_<submission id>`, repeated `measures`, `cited_documents` and `cbi_sections`.
fn parse_draft_form(pairs: &[(String, String)]) -> Result<(i32, String, Content, Vec<DocumentId>, bool), AppError> {
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
    let measures = uuids("measures", &mut errors).into_iter().map(MeasureId).collect();
    let cited = uuids("cited_documents", &mut errors).into_iter().map(DocumentId).collect();
    let mut prohibitions = Vec::new();
    for i in 0..20 {
        let date = get(&format!("prohibition_date_{i}"));
        let text = get(&format!("prohibition_text_{i}"));
        if date.trim().is_empty() && text.trim().is_empty() {
            continue;
        }
        match crate::dates::parse_date(date.trim()) {
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
            match id.parse::<SubmissionId>() {
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
        cbi_sections: all("cbi_sections").iter().map(|s| Choice::named(s)).collect(),
        future_review: get("future_review").trim().to_string(),
        summary: get("summary").trim().to_string(),
    };
    Ok((revision, get("outcome").trim().to_string(), content, cited, get("unclassified_confirmed") == "yes"))
}

/// `POST /determinations/{id}`: saves a revision.
pub async fn save(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
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
            let saved = Flash::done(format!("Saved revision {}.", d.revision));
            Ok(saved.see_other(&state.web, &user, &format!("/determinations/{id}")))
        }
        Err(AppError::Invalid(errors)) => {
            let message = FieldError::join(&errors);
            let unsaved = Some((outcome, content, cited));
            determination_page(&state, &user, id, message, true, errors, StatusCode::UNPROCESSABLE_ENTITY, unsaved)
                .await
        }
        Err(e) => {
            let o = form_outcome(e)?;
            determination_page(
                &state,
                &user,
                id,
                o.message,
                o.is_error,
                Vec::new(),
                o.status,
                Some((outcome, content, cited)),
            )
            .await
        }
    }
}

/// `POST /determinations/{id}/submit`.
pub async fn submit(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let result = service::submit(&mut *state.conn().await?, &user, state.now(), id, state.mail).await.map(|_| ());
    answer_form(
        &state.web,
        &user,
        result,
        "Submitted for signature. The supervisors have been notified.",
        &format!("/determinations/{id}"),
        |o| determination_page(&state, &user, id, o.message, o.is_error, o.errors, o.status, None),
    )
    .await
}

/// The signature form: the signer's title and authority, as printed in the signature block.
#[derive(Debug, Deserialize)]
pub struct SignForm {
    #[serde(default)]
    signer_title: Option<String>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    content_sha256: Option<String>,
}

/// The confirmation step of a signature: what is about to be signed.
#[derive(Template)]
#[template(path = "determinations/sign.html")]
struct SignPage {
    layout: Layout,
    id: DeterminationId,
    heading: String,
    facts: Vec<(&'static str, String)>,
    content_sha256: String,
    sign_title: String,
    sign_authority: String,
    csrf_token: String,
}

/// `GET /determinations/{id}/sign`: the kind, outcome, case and content hash of what is
/// about to be signed, with the signature's statement; after a fresh re-authentication.
pub async fn sign_form(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
) -> Result<Response, AppError> {
    let back = format!("/determinations/{id}");
    if user.require_recent_reauth(state.now()).is_err() {
        return Ok(Redirect::to(&format!("/account/reauth?next=%2Fdeterminations%2F{id}%2Fsign")).into_response());
    }
    let mut conn = state.db.acquire().await?;
    let (d, c) = service::get(&mut conn, &user, id, false).await?;
    let on = crate::dates::today(state.now());
    let refusal = if d.status != super::Status::Submitted {
        Some(format!("only a submitted draft can be signed (this one is {})", d.status))
    } else {
        crate::access::policy::four_eyes(user.role, user.id, d.drafted_by, Action::SignDeterminations)
            .err()
            .map(|refused| refused.refusal("a determination"))
            .or_else(|| service::filed_it(&c, &user))
            .or_else(|| service::why_not_signable(d.kind(), &c, &user, on))
    };
    if let Some(why) = refusal {
        drop(conn);
        return determination_page(
            &state,
            &user,
            id,
            format!("Not signable: {why}."),
            true,
            Vec::new(),
            StatusCode::CONFLICT,
            None,
        )
        .await;
    }
    let (sign_title, sign_authority) = service::usual_statement(&mut conn, user.id).await?;
    let hash = hex::encode(d.computed_hash());
    let kind = d.kind();
    let content = d.typed();
    let mut facts = vec![
        ("Determination", format!("{} (revision {})", kind.label(), d.revision)),
        ("Outcome", d.outcome.label().to_string()),
        ("Case", format!("{}: {}", c.docket_number, c.title)),
        ("Title", content.title.clone()),
        ("Drafted by", d.drafted_by_name.clone()),
        ("Date of the signature", on.to_string()),
    ];
    if !content.prohibitions.is_empty() {
        facts.push(("Prohibited transactions", content.prohibitions.len().to_string()));
    }
    render(&SignPage {
        layout: Layout::for_user(&state.web, &back, Some(&user)),
        id,
        heading: format!("Sign the {} of {}", kind.label().to_lowercase(), c.docket_number),
        facts,
        content_sha256: hash,
        sign_title,
        sign_authority,
        csrf_token: user.csrf_token.clone(),
    })
}

/// `POST /determinations/{id}/sign`: a fresh re-authentication is asked for first.
pub async fn sign(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    AppForm(f): AppForm<SignForm>,
) -> Result<Response, AppError> {
    let req =
        super::SignRequest { signer_title: f.signer_title, authority: f.authority, content_sha256: f.content_sha256 };
    let result = service::sign(&mut *state.conn().await?, &user, state.now(), id, req, state.mail).await;
    match result.map_err(AppError::from) {
        Err(AppError::ReauthRequired) => {
            Ok(Redirect::to(&format!("/account/reauth?next=%2Fdeterminations%2F{id}%2Fsign")).into_response())
        }
        result => {
            answer_form(
                &state.web,
                &user,
                result.map(|_| ()),
                "Signed. The signed content can no longer change.",
                &format!("/determinations/{id}"),
                |o| determination_page(&state, &user, id, o.message, o.is_error, o.errors, o.status, None),
            )
            .await
        }
    }
}

/// The form recording a signature made outside the system.
#[derive(Debug, Deserialize)]
pub struct OutsideForm {
    signer_name: String,
    signer_title: String,
    authority: String,
    signed_on: String,
    signed_copy: String,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /determinations/{id}/outside-signature`.
pub async fn record_outside(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    AppFormKept(f, body): AppFormKept<OutsideForm>,
) -> Result<Response, AppError> {
    let result = match f.signed_copy.trim().parse::<DocumentId>() {
        Err(_) => Err(AppError::invalid("signed_copy", "choose the signed copy among the case's documents")),
        Ok(copy) => {
            let s = super::OutsideSignature {
                signer_name: f.signer_name,
                signer_title: f.signer_title,
                authority: f.authority,
                signed_on: f.signed_on,
                signed_copy: copy,
                late_reason: f.late_reason,
            };
            service::record_outside(&mut *state.conn().await?, &user, state.now(), id, s, state.mail)
                .await
                .map(|_| ())
                .map_err(AppError::from)
        }
    };
    answer_form(
        &state.web,
        &user,
        result,
        "Outside signature recorded. A second supervisor confirms it against the signed copy.",
        &format!("/determinations/{id}"),
        |o| determination_after(&state, &user, id, o, "outside", "outside-", &body),
    )
    .await
}

/// `POST /determinations/{id}/confirm`: a fresh re-authentication is asked for first.
pub async fn confirm_outside(
    user: Authorized<perm::SignDeterminations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    _: CsrfForm,
) -> Result<Response, AppError> {
    let result = service::confirm_outside(&mut *state.conn().await?, &user, state.now(), id, state.mail).await;
    match result.map_err(AppError::from) {
        Err(AppError::ReauthRequired) => {
            Ok(Redirect::to(&format!("/account/reauth?next=%2Fdeterminations%2F{id}")).into_response())
        }
        result => {
            answer_form(
                &state.web,
                &user,
                result.map(|_| ()),
                "Confirmed. The signature made outside the system is now part of the record.",
                &format!("/determinations/{id}"),
                |o| determination_page(&state, &user, id, o.message, o.is_error, o.errors, o.status, None),
            )
            .await
        }
    }
}

/// The sending form.
#[derive(Debug, Deserialize)]
pub struct SendingForm {
    recipient: String,
    recipient_kind: String,
    method: String,
    #[serde(default)]
    sent_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /determinations/{id}/sendings`.
pub async fn record_sending(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    AppFormKept(f, body): AppFormKept<SendingForm>,
) -> Result<Response, AppError> {
    let s = super::NewSending {
        recipient: f.recipient,
        recipient_kind: Choice::named(f.recipient_kind.trim()),
        method: Choice::named(f.method.trim()),
        sent_on: f.sent_on,
        late_reason: f.late_reason,
    };
    let result = service::record_sending(&mut *state.conn().await?, &user, state.now(), id, s).await.map(|_| ());
    answer_form(
        &state.web,
        &user,
        result.map_err(AppError::from),
        "Sending recorded.",
        &format!("/determinations/{id}"),
        |o| determination_after(&state, &user, id, o, "sending", "send-", &body),
    )
    .await
}

/// The publication form.
#[derive(Debug, Deserialize)]
pub struct PublicationForm {
    published_on: String,
    citation: String,
    document_number: String,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /determinations/{id}/publication`.
pub async fn record_publication(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    AppFormKept(f, body): AppFormKept<PublicationForm>,
) -> Result<Response, AppError> {
    let p = super::NewPublication {
        published_on: f.published_on,
        citation: f.citation,
        document_number: f.document_number,
        late_reason: f.late_reason,
    };
    let result = service::record_publication(&mut *state.conn().await?, &user, state.now(), id, p).await.map(|_| ());
    answer_form(
        &state.web,
        &user,
        result.map_err(AppError::from),
        "Publication recorded.",
        &format!("/determinations/{id}"),
        |o| determination_after(&state, &user, id, o, "publication", "pub-", &body),
    )
    .await
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
    AppPath(id): AppPath<DeterminationId>,
    AppFormKept(f, body): AppFormKept<ReturnForm>,
) -> Result<Response, AppError> {
    let result = service::return_draft(&mut *state.conn().await?, &user, state.now(), id, &f.comment, state.mail)
        .await
        .map(|_| ());
    answer_form(&state.web, &user, result, "Returned to the drafter.", &format!("/determinations/{id}"), |o| {
        determination_after(&state, &user, id, o, "return", "return-", &body)
    })
    .await
}

#[derive(Template)]
#[template(path = "determinations/queue.html")]
struct QueuePage {
    layout: Layout,
    /// Row, docket, case title, submitted, why it cannot be signed yet (empty: it can).
    awaiting: Vec<(DeterminationRow, String, String, String, String)>,
    mine: Vec<(DeterminationRow, String)>,
    is_supervisor: bool,
    user_id: UserId,
    /// Every determination the reader may see: the list's query, a page of it, its total.
    q: DeterminationQuery,
    all: Vec<(DeterminationRow, String, String)>,
    total: String,
    pager: Pager,
    errors: FormErrors,
    statuses: [Status; 5],
    kinds: [Kind; 4],
}

impl QueuePage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

/// The list of every determination: `?status=&kind=&sort=&limit=&cursor=&before=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeterminationQuery {
    status: Option<String>,
    kind: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    before: Option<String>,
}

impl DeterminationQuery {
    /// The filter, naming every bad parameter.
    fn to_filter(&self) -> Result<service::DeterminationFilter, Vec<FieldError>> {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut errors = Vec::new();
        let status = some(&self.status).and_then(|v| {
            let found = Status::ALL.into_iter().find(|st| st.as_str() == v);
            if found.is_none() {
                errors.push(FieldError::new("status", "must be one of draft, submitted, returned, recorded, signed"));
            }
            found
        });
        let kind = some(&self.kind).and_then(|v| {
            let found = Kind::parse(&v);
            if found.is_none() {
                errors.push(FieldError::new("kind", "must be one of initial, final, amendment, revocation"));
            }
            found
        });
        let sort = match some(&self.sort) {
            None => service::DeterminationSort::Newest,
            Some(v) => service::DeterminationSort::parse(&v).unwrap_or_else(|| {
                errors.push(FieldError::new("sort", "must be one of newest, oldest, docket"));
                service::DeterminationSort::Newest
            }),
        };
        let limit = crate::db::page_size(some(&self.limit).as_deref(), &mut errors);
        let mut f = service::DeterminationFilter { status, kind, sort, after: None, backwards: false, limit };
        let valid = |c: &str| crate::db::parse_cursor(c).filter(|(k, _)| k.len() <= 40 && f.valid_key(k));
        (f.after, f.backwards) =
            crate::db::keyset_args(some(&self.cursor).as_deref(), some(&self.before).as_deref(), valid, &mut errors);
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }
}

/// `GET /determinations`: drafts awaiting signature, one's own unsigned drafts, and every
/// determination the reader may see, filtered, sorted and paged.
pub async fn queue(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<DeterminationQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let today = crate::dates::today(state.now());
    let mut awaiting = Vec::new();
    for l in service::list(&mut conn, &user, service::Listing::AwaitingSignature).await? {
        let at = l.d.submitted_at.map(|t| show_time(t, &user.zone)).unwrap_or_default();
        // Why it waits, as signing would say (the case as it stands, on the signature's date).
        let waits = service::why_it_waits(&mut conn, &user, &l.d, today).await?.unwrap_or_default();
        awaiting.push((row(l.d), l.docket_number, l.title, at, waits));
    }
    let mine = service::list(&mut conn, &user, service::Listing::UnsignedByMe).await?;
    let (all, next, prev, total, errors) = match q.to_filter() {
        Ok(f) => {
            let (page, total) = service::page(&mut conn, &user, &f).await?;
            let all = page
                .rows
                .into_iter()
                .map(|l| {
                    let changed = show_time(l.d.updated_at, &user.zone);
                    (row(l.d), l.docket_number, changed)
                })
                .collect();
            (all, page.next, page.prev, total.describe("determination", "determinations"), FormErrors::default())
        }
        Err(e) => (Vec::new(), None, None, String::new(), FormErrors(e)),
    };
    let pager = q.pager(next, prev);
    render(&QueuePage {
        layout: Layout::for_user(&state.web, "/determinations", Some(&user)),
        awaiting,
        mine: mine.into_iter().map(|l| (row(l.d), l.docket_number)).collect(),
        is_supervisor: user.may(Action::SignDeterminations),
        user_id: user.id,
        q,
        all,
        total,
        pager,
        errors,
        statuses: Status::ALL,
        kinds: Kind::ALL,
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

/// A determination row as listed.
pub struct DeterminationRow {
    /// The determination.
    pub d: Determination,
    /// Its kind, in words.
    pub label: &'static str,
    /// Its outcome, in words.
    pub outcome: &'static str,
    /// The date of the act of signing, as shown (empty until signed).
    pub signed_at: String,
}

/// A determination as a listed row.
pub fn row(d: Determination) -> DeterminationRow {
    DeterminationRow {
        label: d.kind().label(),
        outcome: d.outcome.label(),
        signed_at: d.signature_date().map(|on| on.to_string()).unwrap_or_default(),
        d,
    }
}

/// `?form=federal-register` for the publication form.
#[derive(Debug, Deserialize)]
pub struct FormQuery {
    form: Option<String>,
}

#[derive(Template)]
#[template(path = "determinations/document.html")]
struct DocumentPage {
    d: Determination,
    content: Content,
    c: CaseRow,
    publication: bool,
    marking: String,
    draft: bool,
    finding: String,
    history: Vec<HistoryLine>,
    assessment: String,
    answers: Vec<(String, String, String)>,
    measures: Vec<(String, String, String, String)>,
    documents: Vec<(String, String, String)>,
    /// The signature block: name, title, authority, the date of the act.
    signature: Vec<String>,
    hash: String,
    authority: String,
    kind_label: &'static str,
    /// Measures proposed and rejected: kind, what, why (never printed as adopted).
    considered: Vec<(String, String, String)>,
    /// The answer to the third question (undue or unacceptable risk) recorded on the case.
    undue_answer: String,
    sendings: Vec<super::Sending>,
    published: Option<super::Publication>,
    /// The Federal Register front matter (the publication form only).
    front: Option<super::document::FrontMatter>,
}

impl DocumentPage {
    fn shown(&self, section: &str) -> bool {
        !(self.publication && self.content.cbi_sections.iter().any(|s| s.as_text() == section))
    }
    /// A section's text with its CBI spans kept (internal) or redacted (publication).
    fn text(&self, t: &str) -> String {
        super::document::redact(t, self.publication)
    }
}

/// `GET /determinations/{id}/document`.
pub async fn document(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<DeterminationId>,
    AppQuery(q): AppQuery<FormQuery>,
) -> Result<Response, AppError> {
    let publication = match q.form.as_deref() {
        None | Some("") | Some("internal") => false,
        Some("federal-register") => true,
        Some(_) => return Err(AppError::invalid("form", "must be internal or federal-register")),
    };
    let mut conn = state.db.acquire().await?;
    let (d, c) = service::get(&mut conn, &user, id, false).await?;
    crate::cases::service::audit_read(&mut *state.conn().await?, &user, state.now(), &c, "determination document")
        .await?;
    let content = d.typed();
    let events: Vec<StoredEvent> = crate::audit::of_case(&mut conn, c.id).await?;
    let agencies = crate::cases::reference::agencies(&mut conn).await?;
    let agency_name =
        |code: &str| agencies.iter().find(|a| a.0 == code).map(|a| a.1.clone()).unwrap_or_else(|| code.into());
    let history = history(&c, &events, &agency_name);
    let assessment: Option<(f64, String, i32)> = match d.assessment_id {
        Some(a) => {
            super::db::assessment_summary(&mut conn, a).await?.map(|(score, band, _, rubric)| (score, band, rubric))
        }
        None => None,
    };
    let submissions = crate::proceedings::db::submissions(&mut conn, c.id).await?;
    let answers = content
        .submission_answers
        .iter()
        .filter_map(|a| {
            submissions
                .iter()
                .find(|s| s.id == a.submission_id)
                .map(|s| (s.received_on.to_string(), s.kind.as_str().replace('_', " "), a.answer.clone()))
        })
        .collect();
    let all_measures = crate::mitigation::db::measures(&mut conn, c.id).await?;
    let kinds = crate::mitigation::db::kinds(&mut conn).await?;
    let measures = all_measures
        .iter()
        .filter(|m| content.measures.contains(&m.id))
        .map(|m| {
            (
                kinds.iter().find(|k| k.code == m.kind).map(|k| k.name.clone()).unwrap_or_default(),
                m.description.clone(),
                m.owner.clone(),
                m.due_on.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let kind_name = |code: &str| kinds.iter().find(|k| k.code == code).map(|k| k.name.clone()).unwrap_or_default();
    let considered = crate::mitigation::db::rejected(&mut conn, c.id)
        .await?
        .into_iter()
        .map(|(m, why)| (kind_name(&m.kind), m.description, why))
        .collect();
    let undue_answer = match c.undue_risk {
        Some(a) => {
            let a = if a == crate::cases::workflow::Answer::Yes { "Yes." } else { "No." };
            if c.undue_risk_note.trim().is_empty() {
                format!("{a} See the risk analysis below.")
            } else {
                format!("{a} {}", c.undue_risk_note.trim())
            }
        }
        None => "See the risk analysis below.".to_string(),
    };
    let docs = crate::documents::of_case(&mut conn, c.id).await?;
    let sendings = super::db::sendings(&mut conn, id).await?;
    let published = super::db::publication(&mut conn, id).await?;
    let cited: Vec<&crate::documents::Document> = docs.iter().filter(|x| d.cited_documents.contains(&x.id)).collect();
    let has_cbi_doc = cited.iter().any(|x| x.marking == crate::documents::Marking::Cbi);
    let has_cui_doc = cited.iter().any(|x| x.marking == crate::documents::Marking::Cui);
    let documents = cited
        .iter()
        .filter(|x| {
            !(publication && matches!(x.marking, crate::documents::Marking::Cbi | crate::documents::Marking::Cui))
        })
        .map(|x| (x.title.clone(), x.marking_label().to_string(), x.sha256_hex()))
        .collect();
    drop(conn);
    let marking = if publication {
        "UNCLASSIFIED — FOR PUBLICATION (CONFIDENTIAL BUSINESS INFORMATION REMOVED)".to_string()
    } else if !content.cbi_sections.is_empty() || has_cbi_doc {
        "CONTROLLED UNCLASSIFIED INFORMATION — CONTAINS CONFIDENTIAL BUSINESS INFORMATION".to_string()
    } else if has_cui_doc {
        "CONTROLLED UNCLASSIFIED INFORMATION".to_string()
    } else {
        "UNCLASSIFIED".to_string()
    };
    let signature = match (&d.signed_by_name, d.signature_date()) {
        (Some(n), Some(on)) => {
            let mut lines = vec![n.clone()];
            lines.extend(d.signer_title.clone());
            lines.extend(d.signer_authority.clone());
            lines.push(format!("Dated {}", super::document::long_date(on)));
            lines
        }
        _ => vec!["Not signed".to_string()],
    };
    let front = publication.then(|| {
        super::document::front_matter(
            d.kind(),
            &c.docket_number,
            &content,
            &finding(d.kind(), d.outcome.as_str(), &content.party),
            d.signature_date(),
            &state.web.fr_contact,
        )
    });
    render(&DocumentPage {
        front,
        publication,
        marking,
        draft: d.status != crate::determinations::Status::Signed,
        finding: finding(d.kind(), d.outcome.as_str(), &content.party),
        history,
        // The office's internal score is never published.
        assessment: assessment
            .filter(|_| !publication)
            .map(|(score, band, v)| format!("The office's risk assessment (rubric version {v}) found a composite risk of {score:.2} out of 100 ({band})."))
            .unwrap_or_default(),
        answers,
        measures,
        documents,
        signature,
        hash: d.content_sha256.as_deref().map(hex::encode).unwrap_or_default(),
        authority: authority(d.signature_date().unwrap_or_else(|| crate::dates::today(state.now()))),
        considered,
        undue_answer,
        sendings,
        published,
        kind_label: d.kind().label(),
        content,
        d,
        c,
    })
}
