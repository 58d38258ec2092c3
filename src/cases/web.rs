//! Case pages: dashboard, list with filters and search, intake and edit forms, the case
//! page with its actions, notes, requests for information, clocks and timeline.

use crate::ids::{AssessmentId, CaseId, PartyId, RfiId, UserId};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::CaseQuery;
use super::clocks::{ClockName, ClockState};
use super::db;
use super::model::{CaseEdit, CaseInput, CaseRow, CaseView, Origin};
use super::reference::Reference;
use super::service;
use super::workflow::{Action, Stage};
use crate::access::policy;
use crate::app::AppState;
use crate::audit::StoredEvent;
use crate::choice::Choice;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppMultipart, AppPath, AppQuery, FormBody};
use crate::web::flash::Flash;
use crate::web::layout::show_time;
use crate::web::layout::{FormErrors, Layout, Pager, Panel, answer_form, render, render_as, show_refusal};
use crate::web::list::ListQuery;

/// A row of a case table.
pub struct Row {
    /// The case.
    pub c: CaseRow,
    /// Category name.
    pub category: String,
}

fn rows(reference: &Reference, cases: Vec<CaseRow>) -> Vec<Row> {
    cases.into_iter().map(|c| Row { category: reference.category_name(&c.category), c }).collect()
}

/// One bar of the stage chart.
pub struct Bar {
    /// Stage label.
    pub label: &'static str,
    /// Stage name (for the link).
    pub stage: &'static str,
    pub count: i64,
    /// Bar width in the SVG.
    pub width: i64,
    /// Vertical position.
    pub y: i64,
}

/// The bars of the cases-by-stage chart for `counts`, and the chart's height.
pub fn stage_bars(counts: &[(Stage, i64)]) -> (Vec<Bar>, i64) {
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = Stage::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let count = counts.iter().find(|c| c.0 == *s).map(|c| c.1).unwrap_or(0);
            Bar { label: s.label(), stage: s.as_str(), count, width: count * 400 / max, y: i as i64 * 28 }
        })
        .collect();
    let height = bars.len() as i64 * 28;
    (bars, height)
}

/// `GET /dashboard`: the home page took its place.
pub async fn dashboard(_user: Authorized<perm::ViewCases>) -> Redirect {
    Redirect::to("/")
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    layout: Layout,
    q: CaseQuery,
    rows: Vec<Row>,
    /// How many cases match, in words.
    total: String,
    /// First, previous and next pages.
    pager: Pager,
    errors: FormErrors,
    reference: Reference,
    stages: [Stage; 14],
    assignees: Vec<(UserId, String)>,
    is_supervisor: bool,
    csrf_token: String,
    message: String,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// The stage the list leaves out, by its name, when it leaves one out.
    fn except_stage_label(&self) -> Option<&'static str> {
        self.q.except_stage.as_deref().and_then(|s| Stage::parse(s.trim())).map(Stage::label)
    }
}

async fn assignable(state: &AppState) -> Result<Vec<(UserId, String)>, AppError> {
    Ok(crate::accounts::db::assignable(&mut *state.conn().await?).await?)
}

async fn list_page(state: &AppState, user: &SignedIn, q: CaseQuery, message: String) -> Result<Response, AppError> {
    let reference = Reference::load(&state.db).await?;
    let (found, next, prev, total, errors) = match q.to_filter(user.id) {
        Ok(f) => {
            let mut conn = state.conn().await?;
            let page = service::list(&mut conn, user, state.now(), &f).await?;
            // The total only costs a count when there is more than this page (a search's,
            // once while nothing is written).
            let total = if page.next.is_none() && page.prev.is_none() && f.after.is_none() {
                crate::db::Total::Exact(page.rows.len() as i64)
            } else {
                state.search_totals.count(&mut conn, &f, user.id, user.role, crate::dates::today(state.now())).await?
            };
            (page.rows, page.next, page.prev, Some(total), FormErrors::default())
        }
        Err(e) => (Vec::new(), None, None, None, FormErrors(e)),
    };
    let pager = q.pager(next, prev);
    let is_supervisor = user.may(policy::Action::AssignCases);
    render(&ListPage {
        layout: Layout::for_user(&state.web, "/cases", Some(user)),
        rows: rows(&reference, found),
        total: total.map(|t| t.describe("case", "cases")).unwrap_or_default(),
        pager,
        q,
        errors,
        reference,
        stages: Stage::ALL,
        assignees: if is_supervisor { assignable(state).await? } else { Vec::new() },
        is_supervisor,
        csrf_token: user.csrf_token.clone(),
        message,
    })
}

crate::list_query! {
    CaseQuery => "/cases";
    sorts ["newest", "oldest", "docket", "due", "triage"] descending ["newest", "triage"];
    params q, stage, except_stage, category, adversary, assignee, overdue, due_within, open, sort, limit, cursor, before
}

/// `GET /cases`.
pub async fn list(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<CaseQuery>,
    flash: Flash,
) -> Result<Response, AppError> {
    list_page(&state, &user, q, flash.message).await
}

#[derive(Template)]
#[template(path = "cases/form.html")]
struct CaseFormPage {
    layout: Layout,
    heading: String,
    action: String,
    input: CaseInput,
    errors: FormErrors,
    reference: Reference,
    origins: [Origin; 3],
    version: Option<i32>,
    message: String,
    is_supervisor: bool,
    csrf_token: String,
}

impl CaseFormPage {
    fn has_adversary(&self, code: &str) -> bool {
        self.input.adversaries.iter().any(|a| a == code)
    }
    fn opt<'a>(&self, s: &'a Option<String>) -> &'a str {
        s.as_deref().unwrap_or("")
    }
}

/// `GET /cases/new`.
pub async fn new_form(user: Authorized<perm::WorkCases>, State(state): State<AppState>) -> Result<Response, AppError> {
    let reference = Reference::load(&state.db).await?;
    render(&CaseFormPage {
        layout: Layout::for_user(&state.web, "/cases/new", Some(&user)),
        heading: "File a case".into(),
        action: "/cases".into(),
        input: CaseInput { origin: Origin::AgencyReferral.into(), ..CaseInput::default() },
        errors: FormErrors::default(),
        reference,
        origins: Origin::ALL,
        version: None,
        message: String::new(),
        is_supervisor: user.may(policy::Action::AssignCases),
        csrf_token: user.csrf_token.clone(),
    })
}

/// The intake / edit form as the browser sends it (adversaries repeat).
#[derive(Debug, Deserialize)]
pub struct CaseForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    referring_agency: String,
    #[serde(default)]
    referral_date: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    restricted: Option<String>,
    #[serde(default)]
    docket_number: String,
    #[serde(default)]
    version: Option<i32>,
}

fn adversaries_of(raw: &str) -> Vec<String> {
    url::form_urlencoded::parse(raw.as_bytes())
        .filter(|(k, _)| k == "adversaries")
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// `POST /cases`: the body is read raw because `adversaries` repeats.
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let form: CaseForm = serde_urlencoded_parse(&body)?;
    let input = CaseInput {
        title: form.title,
        summary: form.summary,
        origin: Choice::named(form.origin.trim()),
        referring_agency: Some(form.referring_agency),
        referral_date: Some(form.referral_date),
        category: form.category,
        adversaries: adversaries_of(&body),
        restricted: form.restricted.is_some(),
        docket_number: Some(form.docket_number),
    };
    let reference = Reference::load(&state.db).await?;
    match input.parse(&reference, crate::dates::today(state.now())) {
        Ok(new) => {
            let row = service::create(&mut *state.conn().await?, &user, state.now(), new).await?;
            Ok(Redirect::to(&format!("/cases/{}", row.id)).into_response())
        }
        Err(errors) => {
            let mut r = render(&CaseFormPage {
                layout: Layout::for_user(&state.web, "/cases/new", Some(&user)),
                heading: "File a case".into(),
                action: "/cases".into(),
                input,
                errors: FormErrors(errors),
                reference,
                origins: Origin::ALL,
                version: None,
                message: String::new(),
                is_supervisor: user.may(policy::Action::AssignCases),
                csrf_token: user.csrf_token.clone(),
            })?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

fn serde_urlencoded_parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, AppError> {
    // Repeated keys (adversaries) are collected separately; keep the last value of others.
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .filter(|(k, _)| k != "adversaries")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .into_iter()
        .map(|(k, v)| {
            let value = if k == "version" {
                v.parse::<i64>().map(serde_json::Value::from).unwrap_or(serde_json::Value::String(v))
            } else {
                serde_json::Value::String(v)
            };
            (k, value)
        })
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| AppError::invalid("form", e.to_string()))
}

/// A timeline entry.
pub struct TimelineEntry {
    at: String,
    what: String,
    who: String,
    detail: String,
    /// The date the act took effect (empty for events that are not acts of the review).
    on: String,
    /// Recorded more than 7 days after its date: shown as "recorded on … by …".
    late: bool,
    /// Why it was recorded late.
    late_reason: String,
}

/// A note as shown.
pub struct NoteView {
    at: String,
    author: String,
    body: String,
}

/// A request for information as shown.
pub struct RfiView {
    id: RfiId,
    asked_of: String,
    question: String,
    asked_on: String,
    tolls: String,
    answered_on: String,
    answer: String,
}

#[derive(Template)]
#[template(path = "cases/show.html")]
struct CasePage {
    layout: Layout,
    c: CaseView,
    /// Federal Register publications of the case's determinations.
    publications: Vec<crate::determinations::Publication>,
    category: String,
    agency: String,
    origin: &'static str,
    clocks: Vec<ClockState>,
    actions: Vec<Action>,
    notes: Vec<NoteView>,
    rfis: Vec<RfiView>,
    timeline: Vec<TimelineEntry>,
    can_work: bool,
    can_edit: bool,
    can_export: bool,
    is_supervisor: bool,
    assignees: Vec<(UserId, String)>,
    csrf_token: String,
    message: String,
    message_is_error: bool,
    today: String,
    service_methods: [(&'static str, &'static str); 6],
    clock_names: [ClockName; 4],
    parties: Vec<crate::parties::CaseParty>,
    transactions: Vec<super::transactions::Transaction>,
    /// The party search of the pickers.
    party_q: String,
    /// Parties found by that search (the link form's choices).
    found_parties: Vec<crate::parties::Party>,
    /// The transaction form's choices: the case's parties, then those found.
    party_options: Vec<(PartyId, String, String)>,
    party_roles: [crate::parties::PartyRole; 4],
    data_categories: Vec<super::reference::DataCategory>,
    kinds: [super::transactions::TransactionKind; 6],
    statuses: [super::transactions::TransactionStatus; 3],
    consolidated_into: Option<(CaseId, String)>,
    assessments: Vec<crate::risk::service::Assessment>,
    risk_bars: Vec<RiskBar>,
    risk_changes: Vec<(String, u8, u8)>,
    nexus: Option<crate::risk::service::NexusFinding>,
    bands: [crate::risk::model::Band; 4],
    user_id: UserId,
    hits: Vec<crate::parties::screening_service::Hit>,
    preliminary_score: Option<i32>,
    compared: Option<(AssessmentId, AssessmentId)>,
    /// The panel whose form came back refused, if any.
    panel: Panel,
    /// The next steps the reader cannot take now, with who can or what they wait for.
    waiting: Vec<String>,
}

impl CasePage {
    /// The screening hits on the case's parties that stand at `status` (`open`: not yet
    /// confirmed or dismissed; `confirmed`: the party is the listed one).
    fn hits_with(&self, status: &str) -> Vec<&crate::parties::screening_service::Hit> {
        self.hits.iter().filter(|h| h.status.as_str() == status).collect()
    }

    fn is_compared_from(&self, id: &AssessmentId) -> bool {
        self.compared.is_some_and(|c| c.0 == *id)
    }
    fn is_compared_to(&self, id: &AssessmentId) -> bool {
        self.compared.is_some_and(|c| c.1 == *id)
    }
}

/// One bar of the risk explanation chart.
pub struct RiskBar {
    code: String,
    name: String,
    score: u8,
    points: f64,
    max_points: f64,
    width: i64,
    max_width: i64,
    y: i64,
}

impl CasePage {
    fn stage_label(&self) -> &'static str {
        self.c.stage.label()
    }

    /// The three questions as (field, label, answer, reasoning).
    fn question_rows(&self) -> Vec<(&'static str, &'static str, Option<super::workflow::Answer>, &str)> {
        let q = &self.c.questions;
        vec![
            ("covered", "1. Is it a covered ICTS transaction?", q.covered, q.covered_note.as_str()),
            ("nexus", "2. Does it involve a foreign-adversary nexus?", q.nexus, q.nexus_note.as_str()),
            ("undue_risk", "3. Does it pose undue or unacceptable risk?", q.undue_risk, q.undue_risk_note.as_str()),
        ]
    }

    /// Whether the radio button `value` ("", "yes", "no") matches `answer`.
    fn answer_is(&self, answer: &Option<super::workflow::Answer>, value: &str) -> bool {
        use super::workflow::Answer;
        matches!((answer, value), (None, "") | (Some(Answer::Yes), "yes") | (Some(Answer::No), "no"))
    }
}

/// What the reader chose to see on the case page.
#[derive(Default)]
struct Choices<'a> {
    /// The two assessments to compare.
    compare: Option<(AssessmentId, AssessmentId)>,
    /// The party search of the pickers.
    party_q: Option<&'a str>,
    /// The panel whose form came back refused.
    panel: Panel,
}

/// Renders the page after a form posted from one of its panels: refused input reopens the
/// panel with its errors at their fields and the values kept; anything else is a banner.
pub(crate) async fn case_page_after(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    o: crate::web::layout::Outcome,
    form: impl Into<String>,
    prefix: impl Into<String>,
    body: &str,
) -> Result<Response, AppError> {
    if o.errors.is_empty() {
        return case_page(state, user, id, o.message, o.is_error, o.status).await;
    }
    let panel = Panel::refused(form, prefix, o.errors, body);
    let message = "Nothing was recorded: the form below says what to correct.".to_string();
    case_page_with(state, user, id, message, true, o.status, Choices { panel, ..Choices::default() }).await
}

/// Renders the page with a message: a form's refusal, or the flash of one that succeeded
/// (none for a plain read).
pub(crate) async fn case_page(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    case_page_with(state, user, id, message, is_error, status, Choices::default()).await
}

async fn case_page_with(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    message: String,
    is_error: bool,
    status: StatusCode,
    choices: Choices<'_>,
) -> Result<Response, AppError> {
    let Choices { compare, party_q, panel } = choices;
    let reference = Reference::load(&state.db).await?;
    let mut conn = state.db.acquire().await?;
    let row = service::visible(&mut conn, user, id, false).await?;
    if status == StatusCode::OK && message.is_empty() {
        service::audit_read(&mut *state.conn().await?, user, state.now(), &row, "case page").await?;
    }
    let category = reference.category_name(&row.category);
    let agency = row.referring_agency.as_deref().map(|a| reference.agency_name(a)).unwrap_or_default();
    let origin = row.origin.label();
    let view = service::view(&mut conn, row.clone(), user, state.now()).await?;
    let notes = db::notes_of(&mut conn, id).await?;
    let rfis = db::rfis_of(&mut conn, id).await?;
    let events: Vec<StoredEvent> = crate::audit::of_case(&mut conn, id).await?;
    let actors: Vec<UserId> = events.iter().filter_map(|e| e.actor_id).collect();
    let names = crate::accounts::db::names(&mut conn, &actors).await?;
    let name_of = |id: Option<UserId>| {
        id.and_then(|i| names.iter().find(|n| n.0 == i).map(|n| n.1.clone())).unwrap_or_else(|| "system".into())
    };
    // The legal record reads in the order the acts took effect (recording order within a day).
    let mut events: Vec<(Option<time::Date>, StoredEvent)> =
        events.into_iter().map(|e| (super::model::act_date_of(&e.changes), e)).collect();
    // An act without its own date took effect on the office's day it was recorded.
    events.sort_by_key(|(on, e)| on.unwrap_or_else(|| crate::dates::today(e.at)));
    let timeline = events
        .into_iter()
        .map(|(on, e)| {
            let what = match e.changes.get("action").and_then(|a| a.as_str()).and_then(Action::parse) {
                Some(a) => a.label().to_string(),
                None => e.event_type.replace("case.", "").replace(['_', '.'], " "),
            };
            let detail =
                e.changes.get("comment").and_then(|c| c.as_str()).map(str::to_string).unwrap_or_else(|| {
                    match e.changes.get("stage") {
                        Some(s) => format!(
                            "{} → {}",
                            s["before"].as_str().and_then(Stage::parse).map(|x| x.label()).unwrap_or(""),
                            s["after"].as_str().and_then(Stage::parse).map(|x| x.label()).unwrap_or("")
                        ),
                        None => String::new(),
                    }
                });
            let detail = if e.kind() == Some(crate::audit::EventType::CaseCreated)
                && e.changes["moved_in"] == serde_json::json!(true)
            {
                "moved in from the office's records, keeping its docket number".to_string()
            } else {
                detail
            };
            let late = on.is_some_and(|d| crate::dates::recorded_late(d, e.at));
            let late_reason = e.changes.get("late_reason").and_then(|r| r.as_str()).unwrap_or("").to_string();
            TimelineEntry {
                at: show_time(e.at, &user.zone),
                what,
                who: name_of(e.actor_id),
                detail,
                on: on.map(|d| d.to_string()).unwrap_or_default(),
                late,
                late_reason,
            }
        })
        .collect();
    let parties = crate::parties::parties_of_case(&mut conn, id).await?;
    let transactions = super::transactions::of_case(&mut conn, id).await?;
    // The party pickers offer the parties found by name (never the whole registry: it
    // holds hundreds of thousands at scale); the transaction form also offers the case's own.
    let found_parties = match party_q {
        Some(q) => crate::parties::list(&mut conn, Some(q), PARTY_MATCHES).await?,
        None => Vec::new(),
    };
    let consolidated_into = db::consolidated_into(&mut conn, id).await?;
    let publications = crate::determinations::db::publications_of_case(&mut conn, id).await?;
    let assessments = crate::risk::service::assessments(&mut conn, id).await?;
    let nexus = crate::risk::service::current_nexus(&mut conn, id).await?;
    let hits = crate::parties::screening_service::hits_of_case(&mut conn, id).await?;
    let mut risk_bars = Vec::new();
    let mut risk_changes = Vec::new();
    let mut compared: Option<(AssessmentId, AssessmentId)> = None;
    if let Some(current) = assessments.first() {
        let rubric = crate::risk::service::rubric(&mut conn, current.rubric_version).await?;
        let name_of = |code: &str| {
            rubric
                .as_ref()
                .and_then(|r| r.definition.criteria.iter().find(|c| c.code == code))
                .map(|c| c.name.clone())
                .unwrap_or_else(|| code.to_string())
        };
        // The widest possible bar gets 360 pixels.
        let widest = current.contributions.iter().map(|c| c.max_points).fold(0.0_f64, f64::max).max(1.0);
        let scale = 360.0 / widest;
        for (i, c) in current.contributions.iter().enumerate() {
            risk_bars.push(RiskBar {
                code: c.code.clone(),
                name: name_of(&c.code),
                score: c.score,
                points: c.points,
                max_points: c.max_points,
                width: (c.points * scale).round() as i64,
                max_width: (c.max_points * scale).round() as i64,
                y: i as i64 * 26,
            });
        }
        // What changed between two assessments: the two chosen, or the latest two.
        let find = |aid: AssessmentId| assessments.iter().find(|a| a.id == aid);
        let pair = match compare {
            Some((from, to)) => find(from).zip(find(to)),
            None => assessments.get(1).zip(assessments.first()),
        };
        if let Some((older, newer)) = pair {
            compared = Some((older.id, newer.id));
            for (code, s) in &newer.scores {
                let before = older.scores.get(code).map(|p| p.score);
                if let Some(b) = before
                    && b != s.score
                {
                    risk_changes.push((code.clone(), b, s.score));
                }
            }
        }
    }
    let can_work = user.may(policy::Action::WorkCases);
    let can_edit =
        row.stage.is_open() && policy::case_work(user.role, user.id, row.assignee) == policy::CaseWork::Allowed;
    let is_supervisor = user.may(policy::Action::AssignCases);
    let party_options = party_options(&parties, &found_parties);
    let waiting =
        super::workflow::waiting(row.stage, user.role, &service::facts(&row, user, crate::dates::today(state.now())));
    let mut r = render(&CasePage {
        publications,
        layout: Layout::for_user(&state.web, "/cases", Some(user)),
        category,
        agency,
        origin,
        clocks: view.clocks.clone(),
        actions: view.allowed_actions.clone(),
        c: view,
        notes: notes
            .into_iter()
            .map(|(at, author, body)| NoteView { at: show_time(at, &user.zone), author, body })
            .collect(),
        rfis: rfis
            .into_iter()
            .map(|r| RfiView {
                id: r.id,
                asked_of: r.asked_of,
                question: r.question,
                asked_on: r.asked_on.to_string(),
                tolls: r.tolls.iter().map(|t| t.label()).collect::<Vec<_>>().join(", "),
                answered_on: r.answered_on.map(|d| d.to_string()).unwrap_or_default(),
                answer: r.answer.unwrap_or_default(),
            })
            .collect(),
        timeline,
        can_work,
        can_edit,
        can_export: crate::access::policy::allows(user.role, crate::access::policy::Action::ExportCases),
        is_supervisor,
        assignees: if is_supervisor { assignable(state).await? } else { Vec::new() },
        csrf_token: user.csrf_token.clone(),
        message,
        message_is_error: is_error,
        today: crate::dates::today(state.now()).to_string(),
        service_methods: super::workflow::ServiceMethod::ALL.map(|m| (m.as_str(), m.label())),
        clock_names: ClockName::ALL,
        parties,
        transactions,
        party_q: party_q.unwrap_or_default().to_string(),
        party_options,
        found_parties,
        party_roles: crate::parties::PartyRole::ALL,
        data_categories: reference.data_categories.clone(),
        kinds: super::transactions::TransactionKind::ALL,
        statuses: super::transactions::TransactionStatus::ALL,
        consolidated_into,
        assessments,
        risk_bars,
        risk_changes,
        nexus,
        bands: crate::risk::model::Band::ALL,
        user_id: user.id,
        hits,
        preliminary_score: row.preliminary_score,
        compared,
        panel,
        waiting,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

/// The choices of the transaction form's party pickers: the case's own parties first,
/// then the parties a search found, each once.
fn party_options(
    of_case: &[crate::parties::CaseParty],
    found: &[crate::parties::Party],
) -> Vec<(PartyId, String, String)> {
    let mut options: Vec<(PartyId, String, String)> = Vec::new();
    let own = of_case.iter().map(|p| (p.party_id, &p.legal_name, &p.country));
    for (id, name, country) in own.chain(found.iter().map(|p| (p.id, &p.legal_name, &p.country))) {
        if !options.iter().any(|o| o.0 == id) {
            options.push((id, name.clone(), country.clone()));
        }
    }
    options
}

/// `GET /cases/{id}`.
pub async fn show(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppQuery(q): AppQuery<CompareQuery>,
    flash: Flash,
) -> Result<Response, AppError> {
    let compare = match (q.from.as_deref().filter(|s| !s.is_empty()), q.to.as_deref().filter(|s| !s.is_empty())) {
        (Some(f), Some(t)) => Some((
            f.parse::<AssessmentId>().map_err(|_| AppError::invalid("from", "choose an assessment"))?,
            t.parse::<AssessmentId>().map_err(|_| AppError::invalid("to", "choose an assessment"))?,
        )),
        _ => None,
    };
    let party_q = q.party_q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    case_page_with(
        &state,
        &user,
        id,
        flash.message,
        flash.is_error,
        StatusCode::OK,
        Choices { compare, party_q, ..Choices::default() },
    )
    .await
}

/// `?from=&to=`: the two assessments to compare on the case page.
#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    from: Option<String>,
    to: Option<String>,
    /// Finds parties by name for the link and transaction forms.
    party_q: Option<String>,
}

/// How many parties a name search on the case page offers.
const PARTY_MATCHES: i64 = 25;

/// A workflow action from the case page.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    action: Choice<super::workflow::Action>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    method: Option<Choice<super::workflow::ServiceMethod>>,
    #[serde(default)]
    late_reason: Option<String>,
    version: i32,
}

/// `POST /cases/{id}/transitions/confirm`: the step before an act that cannot be undone
/// (accepting or rejecting a referral, closing, serving or issuing a determination). It
/// writes nothing; it says what is about to happen and posts the same form on confirmation.
pub async fn confirm_transition(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<ActionForm>,
) -> Result<Response, AppError> {
    let req = super::api::TransitionRequest {
        action: f.action.clone(),
        comment: f.comment.clone(),
        date: f.date.clone(),
        method: f.method.clone(),
        late_reason: f.late_reason.clone(),
        version: Some(f.version),
    };
    let mut conn = state.db.acquire().await?;
    let row = service::visible(&mut conn, &user, id, false).await?;
    let checked = super::api::parse_transition(&req).and_then(|(action, input)| {
        if action.needs_comment() && input.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(AppError::invalid("comment", "is required: write the reason for the record"));
        }
        Ok((action, input))
    });
    let (action, input) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            drop(conn);
            return show_refusal(e, |o| case_page(&state, &user, id, o.message, o.is_error, o.status)).await;
        }
    };
    let view = service::view(&mut conn, row.clone(), &user, state.now()).await?;
    if !view.allowed_actions.contains(&action) || row.version != f.version {
        drop(conn);
        let why = if row.version != f.version {
            "The case changed since you opened it: look at it again before you act."
        } else {
            "That action is not possible at this stage of the case."
        };
        return case_page(&state, &user, id, why.into(), true, StatusCode::CONFLICT).await;
    }
    let after = match action.edge().1 {
        Some(stage) => stage.label().to_string(),
        None => "Decided, or monitoring mitigation, as the signed determination decides".into(),
    };
    let on = input.date.unwrap_or_else(|| crate::dates::today(state.now()));
    let mut facts = vec![
        ("Case".to_string(), format!("{}: {}", row.docket_number, row.title)),
        ("Act".to_string(), action.label().to_string()),
        ("Stage now".to_string(), row.stage.label().to_string()),
        ("Stage after".to_string(), after),
        ("Date of the act".to_string(), on.to_string()),
    ];
    if let Some(c) = input.comment.as_deref().filter(|c| !c.trim().is_empty()) {
        facts.push(("Reason".into(), c.to_string()));
    }
    if let Some(m) = input.method {
        facts.push(("How it was served".into(), m.label().to_string()));
    }
    if let Some(r) = input.late_reason.as_deref().filter(|r| !r.trim().is_empty()) {
        facts.push(("Why it is recorded late".into(), r.to_string()));
    }
    let field = |name: &str, v: &Option<String>| v.as_ref().map(|v| (name.to_string(), v.clone()));
    let hidden = [
        Some(("csrf_token".to_string(), user.csrf_token.clone())),
        Some(("version".to_string(), f.version.to_string())),
        Some(("action".to_string(), f.action.as_text())),
        field("comment", &f.comment),
        field("date", &f.date),
        f.method.as_ref().map(|m| ("method".to_string(), m.as_text())),
        field("late_reason", &f.late_reason),
    ]
    .into_iter()
    .flatten()
    .collect();
    crate::web::confirm::Confirm {
        layout: Layout::for_user(&state.web, "/cases", Some(&user)),
        heading: format!("{} — {}?", action.label(), row.docket_number),
        facts,
        consequence: action.consequence().unwrap_or("The act is recorded on the case.").to_string(),
        action: format!("/cases/{id}/transitions"),
        hidden,
        button: format!("Yes: {}", action.label().to_lowercase()),
        destructive: matches!(
            action,
            super::workflow::Action::Reject
                | super::workflow::Action::CloseWithoutAction
                | super::workflow::Action::Close
        ),
        cancel: format!("/cases/{id}"),
    }
    .page()
}

/// `POST /cases/{id}/transitions`.
pub async fn transition(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<ActionForm>,
) -> Result<Response, AppError> {
    let req = super::api::TransitionRequest {
        action: f.action,
        comment: f.comment,
        date: f.date,
        method: f.method,
        late_reason: f.late_reason,
        version: Some(f.version),
    };
    let result = match super::api::parse_transition(&req) {
        Ok((action, input)) => {
            service::transition(&mut *state.conn().await?, &user, state.now(), id, action, input, req.version)
                .await
                .map_err(AppError::from)
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    answer_form(&state.web, &user, result, "Done.", &format!("/cases/{id}"), |o| {
        case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// A note from the case page.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    body: String,
}

/// `POST /cases/{id}/notes`.
pub async fn add_note(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<NoteForm>,
) -> Result<Response, AppError> {
    let result = service::add_note(&mut *state.conn().await?, &user, state.now(), id, &f.body).await.map(|_| ());
    answer_form(&state.web, &user, result, "Note added.", &format!("/cases/{id}"), |o| {
        case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// `POST /cases/{id}/rfis`: the body is read raw because `tolls` repeats.
pub async fn add_rfi(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let mut asked_of = String::new();
    let mut question = String::new();
    let mut tolls = Vec::new();
    let mut when = crate::dates::When::default();
    let mut bad = None;
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "asked_of" => asked_of = v.into_owned(),
            "question" => question = v.into_owned(),
            "asked_on" => when.on = Some(v.into_owned()),
            "late_reason" => when.late_reason = Some(v.into_owned()),
            "tolls" => match ClockName::parse(&v) {
                Some(c) => tolls.push(c),
                None => bad = Some(FieldError::new("tolls", "is not a clock name")),
            },
            _ => {}
        }
    }
    let result = match bad {
        Some(e) => Err(AppError::Invalid(vec![e])),
        None => service::add_rfi(&mut *state.conn().await?, &user, state.now(), id, &asked_of, &question, tolls, &when)
            .await
            .map_err(AppError::from)
            .map(|_| ()),
    };
    answer_form(&state.web, &user, result, "Request for information recorded.", &format!("/cases/{id}"), |o| {
        case_page_after(&state, &user, id, o, "rfi", "", &body)
    })
    .await
}

/// The answer to a request for information.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    answer: String,
    #[serde(default)]
    answered_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /cases/{id}/rfis/{rfi}/answer`.
pub async fn answer_rfi(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath((id, rfi)): AppPath<(CaseId, RfiId)>,
    AppForm(f): AppForm<AnswerForm>,
) -> Result<Response, AppError> {
    let when = crate::dates::When { on: f.answered_on, late_reason: f.late_reason };
    let result = service::answer_rfi(&mut *state.conn().await?, &user, state.now(), id, rfi, &f.answer, &when).await;
    answer_form(&state.web, &user, result, "Answer recorded; its clocks run again.", &format!("/cases/{id}"), |o| {
        case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// A clock extension.
#[derive(Debug, Deserialize)]
pub struct ExtensionForm {
    clock: String,
    days: String,
    justification: String,
    #[serde(default)]
    granted_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /cases/{id}/extensions` (supervisors).
pub async fn extend(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<ExtensionForm>,
) -> Result<Response, AppError> {
    let result = match (ClockName::parse(&f.clock), f.days.trim().parse::<i64>()) {
        (Some(clock), Ok(days)) => {
            let when = crate::dates::When { on: f.granted_on, late_reason: f.late_reason };
            service::extend(&mut *state.conn().await?, &user, state.now(), id, clock, days, &f.justification, &when)
                .await
                .map_err(AppError::from)
        }
        (None, _) => Err(AppError::invalid("clock", "choose a clock")),
        (_, Err(_)) => Err(AppError::invalid("days", "must be a whole number of days")),
    };
    answer_form(&state.web, &user, result, "Clock extended.", &format!("/cases/{id}"), |o| {
        case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// The rule form.
#[derive(Debug, Deserialize)]
pub struct RuleForm {
    rule_version: String,
    reason: String,
}

/// `POST /cases/{id}/rule` (supervisors): keep the case under the other rule version.
pub async fn set_rule(
    user: Authorized<perm::SetCaseRule>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<RuleForm>,
) -> Result<Response, AppError> {
    let result = match super::workflow::RuleVersion::parse(f.rule_version.trim()) {
        Some(rule) => service::set_rule(&mut *state.conn().await?, &user, state.now(), id, rule, &f.reason)
            .await
            .map(|_| ())
            .map_err(AppError::from),
        None => Err(AppError::invalid("rule_version", "choose ifr-2021 or final-2025")),
    };
    answer_form(&state.web, &user, result, "Rule version set.", &format!("/cases/{id}"), |o| {
        case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

/// `POST /cases/assign` (supervisors): one or many cases from the list or the case page.
pub async fn assign(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let mut ids = Vec::new();
    let mut assignee: Option<Option<UserId>> = None;
    let mut back: Option<String> = None;
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "cases" => ids.push(v.parse::<CaseId>().map_err(|_| AppError::invalid("cases", "is not a case id"))?),
            "assignee" if v.is_empty() => assignee = Some(None),
            "assignee" => {
                assignee =
                    Some(Some(v.parse::<UserId>().map_err(|_| AppError::invalid("assignee", "is not a user id"))?))
            }
            "back" => back = Some(v.into_owned()),
            _ => {}
        }
    }
    let assignee = assignee.ok_or_else(|| AppError::invalid("assignee", "choose an assignee"))?;
    let result = service::assign(&mut *state.conn().await?, &user, state.now(), &ids, assignee, state.mail)
        .await
        .map_err(AppError::from);
    match (result, back.as_deref()) {
        (Ok(_), Some("case")) if ids.len() == 1 => {
            Ok(Flash::done("Assignment saved.").see_other(&state.web, &user, &format!("/cases/{}", ids[0])))
        }
        (Ok(n), _) => Ok(Flash::done(format!("{n} case(s) assigned.")).see_other(&state.web, &user, "/cases")),
        (Err(AppError::Invalid(e)), _) => {
            let mut r = list_page(&state, &user, CaseQuery::default(), FieldError::join(&e)).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        (Err(e), _) => Err(e),
    }
}

async fn edit_page(
    state: &AppState,
    user: &SignedIn,
    row: &CaseRow,
    input: CaseInput,
    errors: Vec<FieldError>,
    message: String,
) -> Result<Response, AppError> {
    let reference = Reference::load(&state.db).await?;
    render(&CaseFormPage {
        layout: Layout::for_user(&state.web, "/cases", Some(user)),
        heading: format!("Edit {}", row.docket_number),
        action: format!("/cases/{}/edit", row.id),
        input,
        errors: FormErrors(errors),
        reference,
        origins: Origin::ALL,
        version: Some(row.version),
        message,
        is_supervisor: user.may(policy::Action::AssignCases),
        csrf_token: user.csrf_token.clone(),
    })
}

fn input_of(row: &CaseRow) -> CaseInput {
    CaseInput {
        title: row.title.clone(),
        summary: row.summary.clone(),
        origin: row.origin.into(),
        referring_agency: row.referring_agency.clone(),
        referral_date: row.referral_date.map(|d| d.to_string()),
        category: row.category.clone(),
        adversaries: row.adversaries.clone(),
        restricted: row.restricted,
        docket_number: None,
    }
}

/// `GET /cases/{id}/edit`.
pub async fn edit_form(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let row = service::visible(&mut conn, &user, id, false).await?;
    drop(conn);
    edit_page(&state, &user, &row, input_of(&row), Vec::new(), String::new()).await
}

/// `POST /cases/{id}/edit`. A stale version shows the current values and says what happened.
pub async fn edit_submit(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let form: CaseForm = serde_urlencoded_parse(&body)?;
    let adversaries = adversaries_of(&body);
    let version = form.version.ok_or_else(|| AppError::invalid("version", "is missing; reload the form"))?;
    let edit = CaseEdit {
        version,
        title: Some(form.title.clone()),
        summary: Some(form.summary.clone()),
        category: Some(form.category.clone()),
        adversaries: Some(adversaries.clone()),
        restricted: if user.may(policy::Action::RestrictCases) { Some(form.restricted.is_some()) } else { None },
        ..CaseEdit::default()
    };
    let reference = Reference::load(&state.db).await?;
    let typed = CaseInput {
        title: form.title,
        summary: form.summary,
        origin: Choice::named(form.origin.trim()),
        referring_agency: Some(form.referring_agency),
        referral_date: Some(form.referral_date),
        category: form.category,
        adversaries,
        restricted: form.restricted.is_some(),
        docket_number: None,
    };
    let mut conn = state.db.acquire().await?;
    let current = service::visible(&mut conn, &user, id, false).await?;
    drop(conn);
    let result = match edit.parse(&reference, crate::dates::today(state.now())) {
        Ok(valid) => service::edit(&mut *state.conn().await?, &user, state.now(), id, version, valid)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match result {
        Ok(row) => Ok(Redirect::to(&format!("/cases/{}", row.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            // Keep what the user typed, with the version they started from.
            let mut stale = current.clone();
            stale.version = version;
            let mut r = edit_page(&state, &user, &stale, typed, errors, String::new()).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(AppError::Conflict(m)) => {
            // Show the current values (and the current version) so the user can redo the edit.
            let mut r = edit_page(&state, &user, &current, input_of(&current), Vec::new(), m).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// The three questions from the case page.
#[derive(Debug, Deserialize)]
pub struct QuestionsForm {
    version: i32,
    covered: Choice<super::model::AnswerEdit>,
    covered_note: String,
    nexus: Choice<super::model::AnswerEdit>,
    nexus_note: String,
    undue_risk: Choice<super::model::AnswerEdit>,
    undue_risk_note: String,
    #[serde(default)]
    answered_on: Option<String>,
    #[serde(default)]
    late_reason: Option<String>,
}

/// `POST /cases/{id}/questions`.
pub async fn questions(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    AppForm(f): AppForm<QuestionsForm>,
) -> Result<Response, AppError> {
    let edit = CaseEdit {
        version: f.version,
        covered: Some(f.covered),
        covered_note: Some(f.covered_note),
        nexus: Some(f.nexus),
        nexus_note: Some(f.nexus_note),
        undue_risk: Some(f.undue_risk),
        undue_risk_note: Some(f.undue_risk_note),
        answered_on: f.answered_on,
        late_reason: f.late_reason,
        ..CaseEdit::default()
    };
    let reference = Reference::load(&state.db).await?;
    let result = match edit.parse(&reference, crate::dates::today(state.now())) {
        Ok(valid) => service::edit(&mut *state.conn().await?, &user, state.now(), id, f.version, valid)
            .await
            .map_err(AppError::from)
            .map(|_| ()),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    answer_form(&state.web, &user, result, "Answers saved.", &format!("/cases/{id}"), |o| {
        case_page(&state, &user, id, o.message, o.is_error, o.status)
    })
    .await
}

#[derive(Template)]
#[template(path = "cases/import.html")]
struct ImportPage {
    layout: Layout,
    csrf_token: String,
    errors: Vec<super::import::RowError>,
    report: Option<super::import::ImportReport>,
    columns: [(&'static str, &'static str, &'static str); 22],
    /// The reader's latest imports: where each stands, when it began, the job.
    jobs: Vec<(super::import::JobState, String, super::import::Job)>,
}

/// `GET /cases/import` (supervisors).
pub async fn import_form(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let now = state.now();
    let jobs = super::db::import::jobs_of(&mut *state.conn().await?, user.id, 10)
        .await?
        .into_iter()
        .map(|j| (j.state(now), show_time(j.created_at, &user.zone), j))
        .collect();
    render(&ImportPage {
        layout: Layout::for_user(&state.web, "/cases/import", Some(&user)),
        csrf_token: user.csrf_token.clone(),
        errors: Vec::new(),
        report: None,
        columns: super::import::COLUMN_HELP,
        jobs,
    })
}

/// `GET /cases/import/template.csv` (supervisors): every column and one example row.
pub async fn import_template(_user: Authorized<perm::AssignCases>) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"icts-import-template.csv\""),
        ],
        super::import::template_csv(),
    )
        .into_response()
}

/// `POST /cases/import` (supervisors): a multipart upload of one CSV file.
pub async fn import_upload(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppMultipart(mut multipart): AppMultipart,
) -> Result<Response, AppError> {
    let mut data: Option<Vec<u8>> = None;
    let mut file_name = String::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload is not a valid form: {e}")))?
    {
        if field.name() == Some("file") {
            file_name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            data = Some(bytes.to_vec());
        }
    }
    let now = state.now();
    let page = |errors: Vec<super::import::RowError>, report: Option<super::import::ImportReport>| ImportPage {
        layout: Layout::for_user(&state.web, "/cases/import", Some(&user)),
        csrf_token: user.csrf_token.clone(),
        errors,
        report,
        columns: super::import::COLUMN_HELP,
        jobs: Vec::new(),
    };
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        let mut r = render(&page(
            vec![super::import::RowError { row: 0, column: "file".into(), message: "choose a CSV file".into() }],
            None,
        ))?;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    };
    // Content, not name: it must be UTF-8 text that parses as CSV.
    if std::str::from_utf8(&data).is_err() {
        let mut r = render(&page(
            vec![super::import::RowError {
                row: 0,
                column: "file".into(),
                message: "is not a UTF-8 text (CSV) file".into(),
            }],
            None,
        ))?;
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    }
    let reference = Reference::load(&state.db).await?;
    // Every problem of the file at once: the header's, each row's, unknown docket numbers.
    let mut parsed = super::import::parse_all(data.as_slice(), &reference, crate::dates::today(now));
    super::import::check_dockets(&mut *state.conn().await?, &mut parsed).await?;
    let (rows, errors) = (parsed.rows, parsed.errors);
    let rows = match errors.is_empty() {
        true => rows,
        false => {
            let mut r = render(&page(errors, None))?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(r);
        }
    };
    // Checked: loaded in the background, in one transaction; the job's page shows how far
    // it has got and what it did.
    let id = super::import::start_job(&mut *state.conn().await?, now, user.id, &file_name, rows.len()).await?;
    tokio::spawn(super::import::run_job(
        state.db.clone(),
        state.clock.clone(),
        user.audit(),
        user.id,
        id,
        rows,
        state.screening.threshold,
    ));
    Ok(Redirect::to(&format!("/cases/import/jobs/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "cases/import_job.html")]
struct ImportJobPage {
    layout: Layout,
    job: super::import::Job,
    state: super::import::JobState,
    report: Option<super::import::ImportReport>,
    started: String,
    finished: String,
}

/// `GET /cases/import/jobs/{id}` (supervisors): how far an import has got, and then what it
/// did. While it runs a script updates its progress every second (`static/import-progress.js`);
/// it can be left and come back to.
pub async fn import_job(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<uuid::Uuid>,
) -> Result<Response, AppError> {
    let job = super::db::import::job(&mut *state.conn().await?, id).await?.ok_or(AppError::NotFound)?;
    let now = state.now();
    render(&ImportJobPage {
        layout: Layout::for_user(&state.web, "/cases/import", Some(&user)),
        state: job.state(now),
        report: job.report(),
        started: show_time(job.created_at, &user.zone),
        finished: job.finished_at.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
        job,
    })
}

#[derive(Template)]
#[template(path = "admin/reference.html")]
struct ReferencePage {
    layout: Layout,
    reference: Reference,
    csrf_token: String,
    message: String,
    message_is_error: bool,
    kinds: [&'static str; 4],
}

async fn reference_page(
    state: &AppState,
    user: &SignedIn,
    message: String,
    is_error: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    render_as(
        status,
        &ReferencePage {
            layout: Layout::for_user(&state.web, "/admin/reference", Some(user)),
            reference: Reference::load(&state.db).await?,
            csrf_token: user.csrf_token.clone(),
            message,
            message_is_error: is_error,
            kinds: super::reference::KINDS,
        },
    )
}

/// `GET /admin/reference` (administrators).
pub async fn reference_admin(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    flash: Flash,
) -> Result<Response, AppError> {
    reference_page(&state, &user, flash.message, flash.is_error, StatusCode::OK).await
}

/// The reference-entry form.
#[derive(Debug, Deserialize)]
pub struct ReferenceForm {
    kind: String,
    code: String,
    name: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    connected_software: Option<String>,
    #[serde(default)]
    effective_from: Option<String>,
    #[serde(default)]
    effective_to: Option<String>,
}

/// `POST /admin/reference` (administrators): add or change one entry.
pub async fn reference_save(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    AppForm(f): AppForm<ReferenceForm>,
) -> Result<Response, AppError> {
    let entry = super::reference::ReferenceEntry {
        name: f.name,
        note: f.note,
        description: f.description,
        connected_software: Some(f.connected_software.is_some()),
        effective_from: f.effective_from,
        effective_to: f.effective_to,
    };
    let code = if f.kind == "adversaries" || f.kind == "agencies" {
        f.code.trim().to_uppercase()
    } else {
        f.code.trim().to_lowercase()
    };
    let result = match super::reference::upsert(&mut *state.conn().await?, &user, state.now(), &f.kind, &code, &entry)
        .await
        .map_err(AppError::from)
    {
        Err(AppError::NotFound) => Err(AppError::invalid("kind", "choose a kind of reference data")),
        other => other,
    };
    answer_form(&state.web, &user, result, format!("Saved {code}."), "/admin/reference", |o| {
        reference_page(&state, &user, o.message, o.is_error, o.status)
    })
    .await
}
