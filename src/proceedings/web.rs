//! The proceedings page of a case (determinations, agency notices, service, submissions,
//! mitigation, documents) and its notice and submission forms.

use crate::ids::MeasureId;
use crate::ids::PartyId;
use crate::ids::{CaseId, NoticeId, SubmissionId};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::model::{AgencyNotice, MeetingOutcome, NewNotice, NewSubmission, NoticeResponse, Submission};
use super::{db, service as proceedings};
use crate::app::AppState;
use crate::cases::model::CaseRow;
use crate::cases::service::visible;
use crate::cases::workflow::ServiceMethod;
use crate::choice::Choice;
use crate::determinations::Kind;
use crate::determinations::web::{DeterminationRow, row};
use crate::documents::{self, Document, Marking};
use crate::mitigation::{self, Check, Measure, MeasureKind};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppFormKept, AppPath};
use crate::web::flash::Flash;
use crate::web::layout::{Layout, Panel, answer_form, render};

#[derive(Template)]
#[template(path = "proceedings/page.html")]
struct ProceedingsPage {
    layout: Layout,
    /// The panel whose form came back refused, if any.
    panel: Panel,
    c: CaseRow,
    stage: &'static str,
    csrf_token: String,
    message: String,
    message_is_error: bool,
    can_work: bool,
    determinations: Vec<DeterminationRow>,
    draft_kinds: Vec<(&'static str, &'static str, &'static [crate::determinations::Outcome])>,
    notices: Vec<AgencyNotice>,
    agencies: Vec<(String, String)>,
    services: Vec<(String, String, String)>,
    submissions: Vec<Submission>,
    submission_kinds: [super::model::SubmissionKind; 4],
    measures: Vec<Measure>,
    measure_kinds: Vec<MeasureKind>,
    checks: Vec<Check>,
    documents: Vec<Document>,
    markings: [(&'static str, &'static str); 4],
    today: String,
    is_supervisor: bool,
    /// The parties served with the initial determination and their written responses.
    served: Vec<super::db::ServedParty>,
    /// Every party of the case, for naming a submission's party.
    parties: Vec<(PartyId, String)>,
    deviations: Vec<(time::Date, String, String)>,
    response_due: Option<time::Date>,
    response_open: bool,
}

impl ProceedingsPage {
    fn agency_name(&self, code: &str) -> String {
        self.agencies.iter().find(|a| a.0 == code).map(|a| a.1.clone()).unwrap_or_else(|| code.to_string())
    }
    fn kind_name(&self, code: &str) -> String {
        self.measure_kinds.iter().find(|k| k.code == code).map(|k| k.name.clone()).unwrap_or_else(|| code.to_string())
    }
    fn submission_kind(&self, kind: &super::model::SubmissionKind) -> &'static str {
        kind.label()
    }
    fn checks_of(&self, measure: &MeasureId) -> Vec<&Check> {
        self.checks.iter().filter(|k| k.measure_id == *measure).collect()
    }
    fn date(&self, d: &Option<time::Date>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }
    fn opt<'a>(&self, s: &'a Option<String>) -> &'a str {
        s.as_deref().unwrap_or("")
    }
    fn after_window(&self, received: &time::Date) -> bool {
        self.response_due.is_some_and(|due| *received > due)
    }
    /// An objection's level in words, and whether it holds the second step under the
    /// case's rule (below the level the final rule names, or after its 14 days, it is
    /// recorded and does not).
    fn objection(&self, level: &Option<String>, responded_on: &Option<time::Date>) -> String {
        let Some(level) = level else { return String::new() };
        let name = crate::cases::workflow::level_name(level);
        match self.c.rule() {
            Some(rule) if !rule.objection_holds(Some(level)) => format!(
                "objector: {name} — below the level the rule names ({}), recorded; it does not hold the step",
                crate::cases::workflow::level_name(rule.objection_level().unwrap_or_default())
            ),
            Some(rule) if !rule.objection_in_time(*responded_on, self.c.circulated_on) => format!(
                "objector: {name} — submitted after the {} days the rule allows, recorded; it does not hold the step",
                crate::cases::clocks::PRESUMED_CONCURRENCE_DAYS
            ),
            _ => format!("objector: {name}"),
        }
    }
    fn levels(&self) -> &'static [(&'static str, &'static str, i64)] {
        &crate::cases::workflow::OFFICIAL_LEVELS
    }
    /// The submitting party's name, or "not recorded" when the submission names none.
    fn party_name(&self, p: &Option<PartyId>) -> &str {
        p.and_then(|p| self.parties.iter().find(|x| x.0 == p)).map(|x| x.1.as_str()).unwrap_or("not recorded")
    }

    /// How many written responses were recorded without the party that submitted them.
    fn responses_without_party(&self) -> usize {
        self.submissions
            .iter()
            .filter(|s| s.kind == super::model::SubmissionKind::WrittenResponse && s.party_id.is_none())
            .count()
    }
}

/// Whether `user` records the proceedings of `c` (the assigned analyst or a supervisor).
fn works(user: &SignedIn, c: &CaseRow) -> bool {
    proceedings::may_work(user, c).is_ok()
}

/// Renders the page with a message: a form's refusal, or the flash of one that succeeded
/// (none for a plain read).
pub(crate) async fn proceedings_page(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    proceedings_page_with(state, user, id, message, is_error, status, Panel::default()).await
}

/// Renders the page after a form posted from one of its panels: refused input reopens the
/// panel with its errors at their fields and what was typed kept; anything else is a banner.
pub(crate) async fn proceedings_after(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    o: crate::web::layout::Outcome,
    form: impl Into<String>,
    prefix: impl Into<String>,
    body: &str,
) -> Result<Response, AppError> {
    proceedings_after_values(state, user, id, o, form, prefix, Panel::posted(body)).await
}

/// As [`proceedings_after`] for a form whose values were not url-encoded (the multipart
/// document upload): `values` are its fields as posted.
pub(crate) async fn proceedings_after_values(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    o: crate::web::layout::Outcome,
    form: impl Into<String>,
    prefix: impl Into<String>,
    values: Vec<(String, String)>,
) -> Result<Response, AppError> {
    if o.errors.is_empty() {
        return proceedings_page(state, user, id, o.message, o.is_error, o.status).await;
    }
    let panel = Panel::refused_values(form, prefix, o.errors, values);
    proceedings_page_with(state, user, id, String::new(), true, o.status, panel).await
}

async fn proceedings_page_with(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    message: String,
    is_error: bool,
    status: StatusCode,
    panel: Panel,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let c = visible(&mut conn, user, id, false).await?;
    if message.is_empty() {
        crate::cases::service::audit_read(&mut *state.conn().await?, user, state.now(), &c, "proceedings page").await?;
    }
    let agencies: Vec<(String, String)> = crate::cases::reference::agencies(&mut conn).await?;
    let services = db::services(&mut conn, id).await?;
    let today = crate::dates::today(state.now());
    let response_due = c.served_on.map(|d| d + time::Duration::days(crate::cases::clocks::RESPONSE_DAYS));
    let parties = crate::parties::parties_of_case(&mut conn, id).await?;
    let page = ProceedingsPage {
        layout: Layout::for_user(&state.web, "/cases", Some(user)),
        panel,
        stage: c.stage.label(),
        csrf_token: user.csrf_token.clone(),
        message,
        message_is_error: is_error,
        can_work: works(user, &c),
        determinations: crate::determinations::db::of_case(&mut conn, id).await?.into_iter().map(row).collect(),
        draft_kinds: Kind::ALL.into_iter().map(|k| (k.as_str(), k.label(), k.outcomes())).collect(),
        notices: db::notices(&mut conn, id).await?,
        agencies,
        services: services
            .into_iter()
            .map(|(m, on, who)| (ServiceMethod::label_of(&m).to_string(), on.to_string(), who))
            .collect(),
        submissions: db::submissions(&mut conn, id).await?,
        submission_kinds: super::model::SubmissionKind::ALL,
        measures: mitigation::db::measures(&mut conn, id).await?,
        measure_kinds: mitigation::db::kinds(&mut conn).await?,
        checks: mitigation::db::checks(&mut conn, id).await?,
        documents: documents::of_case(&mut conn, id).await?,
        markings: Marking::ALL.map(|m| (m.as_str(), m.label())),
        today: today.to_string(),
        is_supervisor: user.may(crate::access::Action::RecordDeviations),
        served: db::served_parties(&mut conn, id).await?,
        parties: parties.into_iter().map(|p| (p.party_id, p.legal_name)).collect(),
        deviations: db::deviations(&mut conn, id).await?,
        response_open: response_due.is_some_and(|d| today <= d),
        response_due,
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
    AppPath(id): AppPath<CaseId>,
    flash: Flash,
) -> Result<Response, AppError> {
    proceedings_page(&state, &user, id, flash.message, flash.is_error, StatusCode::OK).await
}

/// `POST /cases/{id}/agency-notices`.
pub async fn add_notice(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppFormKept(n, body): AppFormKept<NoticeForm>,
) -> Result<Response, AppError> {
    let n = NewNotice {
        step: Choice::named(n.step.trim()),
        agency: n.agency,
        sent_on: n.sent_on,
        due_on: n.due_on,
        late_reason: n.late_reason,
    };
    let result = proceedings::add_notice(&mut *state.conn().await?, &user, state.now(), id, n).await.map(|_| ());
    answer_form(&state.web, &user, result, "Notice recorded.", &format!("/cases/{id}/proceedings"), |o| {
        proceedings_after(&state, &user, id, o, "notice", "notice-", &body)
    })
    .await
}

/// The notice form.
#[derive(Debug, Deserialize)]
pub struct NoticeForm {
    step: String,
    agency: String,
    sent_on: String,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
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
    case_id: CaseId,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /agency-notices/{id}/response`.
pub async fn respond(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<NoticeId>,
    AppFormKept(f, body): AppFormKept<ResponseForm>,
) -> Result<Response, AppError> {
    let r = NoticeResponse {
        response: Choice::named(f.response.trim()),
        responded_on: f.responded_on,
        comment: f.comment,
        objector_level: f.objector_level,
        referred_to_president: f.referred_to_president,
        dispute_resolved_on: f.dispute_resolved_on,
        dispute_resolution: f.dispute_resolution,
        version: f.version,
        late_reason: f.late_reason,
    };
    let result = proceedings::respond(&mut *state.conn().await?, &user, state.now(), id, r).await;
    let case_id = match &result {
        Ok(n) => n.case_id,
        Err(_) => f.case_id,
    };
    answer_form(
        &state.web,
        &user,
        result.map(|_| ()),
        "Response recorded.",
        &format!("/cases/{case_id}/proceedings"),
        |o| proceedings_after(&state, &user, case_id, o, format!("response-{id}"), format!("resp-{id}-"), &body),
    )
    .await
}

/// The submission form.
#[derive(Debug, Deserialize)]
pub struct SubmissionForm {
    kind: String,
    received_on: String,
    summary: String,
    #[serde(default)]
    party_id: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /cases/{id}/submissions`.
pub async fn add_submission(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppFormKept(f, body): AppFormKept<SubmissionForm>,
) -> Result<Response, AppError> {
    let party_id = match f.party_id.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse::<PartyId>().map_err(|_| AppError::invalid("party_id", "choose a party of the case"))?),
        None => None,
    };
    let s = NewSubmission {
        kind: Choice::named(f.kind.trim()),
        received_on: f.received_on,
        summary: f.summary,
        party_id,
        late_reason: f.late_reason,
    };
    let result = proceedings::add_submission(&mut *state.conn().await?, &user, state.now(), id, s).await.map(|_| ());
    answer_form(&state.web, &user, result, "Submission recorded.", &format!("/cases/{id}/proceedings"), |o| {
        proceedings_after(&state, &user, id, o, "submission", "sub-", &body)
    })
    .await
}

/// An emergency deviation, or the response marked complete.
#[derive(Debug, Deserialize)]
pub struct DatedActForm {
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

impl DatedActForm {
    fn act(self) -> super::api::DatedAct {
        super::api::DatedAct { date: self.date, justification: self.justification, late_reason: self.late_reason }
    }
}

/// `POST /cases/{id}/deviations` (supervisors).
pub async fn record_deviation(
    user: Authorized<perm::RecordDeviations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppFormKept(f, body): AppFormKept<DatedActForm>,
) -> Result<Response, AppError> {
    let a = f.act();
    let result = match a.date() {
        Ok(on) => {
            let why = a.justification.as_deref().unwrap_or("");
            proceedings::record_deviation(
                &mut *state.conn().await?,
                &user,
                state.now(),
                id,
                on,
                why,
                a.late_reason.as_deref(),
            )
            .await
            .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    answer_form(&state.web, &user, result, "Emergency deviation recorded.", &format!("/cases/{id}/proceedings"), |o| {
        proceedings_after(&state, &user, id, o, "deviation", "deviation-", &body)
    })
    .await
}

/// `POST /cases/{id}/response-complete`.
pub async fn mark_response_complete(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppFormKept(f, body): AppFormKept<DatedActForm>,
) -> Result<Response, AppError> {
    let a = f.act();
    let result = match a.date() {
        Ok(on) => proceedings::mark_response_complete(
            &mut *state.conn().await?,
            &user,
            state.now(),
            id,
            on,
            a.late_reason.as_deref(),
        )
        .await
        .map_err(AppError::from),
        Err(e) => Err(e),
    };
    answer_form(&state.web, &user, result, "Response marked complete.", &format!("/cases/{id}/proceedings"), |o| {
        proceedings_after(&state, &user, id, o, "complete", "complete-", &body)
    })
    .await
}

/// The meeting form.
#[derive(Debug, Deserialize)]
pub struct MeetingForm {
    held_on: String,
    outcome: String,
    case_id: CaseId,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /submissions/{id}/meeting`.
pub async fn meeting(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<SubmissionId>,
    AppFormKept(f, body): AppFormKept<MeetingForm>,
) -> Result<Response, AppError> {
    let m = MeetingOutcome { held_on: f.held_on, outcome: f.outcome, late_reason: f.late_reason };
    let result = proceedings::record_meeting(&mut *state.conn().await?, &user, state.now(), id, m).await.map(|_| ());
    answer_form(
        &state.web,
        &user,
        result,
        "Meeting outcome recorded.",
        &format!("/cases/{}/proceedings", f.case_id),
        |o| proceedings_after(&state, &user, f.case_id, o, format!("meeting-{id}"), format!("meet-{id}-"), &body),
    )
    .await
}
