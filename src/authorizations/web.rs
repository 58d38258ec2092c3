//! Specific authorization pages: the applications' list, the form that files one, an
//! application's page (its (c) content and what is missing, the clock, its history, the
//! forms of its acts, its material, its decision and conditions) and the page that signs a
//! decision after a fresh re-authentication. Every successful post answers 303 to the page
//! that shows it; a refused one shows the page again with the form as typed.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::api::ApplicationQuery;
use super::model::{
    ActRow, Application, ApplicationStatus, Clock, ConditionCheck, Contents, Decision, Factor, Item, NewCondition,
    NewDecision, Question,
};
use super::service::{self, Material, NewAct, NewApplication, SignRequest};
use crate::app::AppState;
use crate::choice::Choice;
use crate::ids::{ApplicationId, PartyId};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, Pager, render, render_as, show_time};
use crate::web::list::ListQuery;

/// How many condition rows the decision form offers.
const CONDITION_ROWS: usize = 4;

#[derive(Template)]
#[template(path = "authorizations/list.html")]
struct ListPage {
    layout: Layout,
    q: ApplicationQuery,
    rows: Vec<(Application, String)>,
    total: String,
    pager: Pager,
    statuses: [ApplicationStatus; 8],
    errors: FormErrors,
    can_file: bool,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

crate::list_query! {
    ApplicationQuery => "/authorizations";
    sorts ["newest", "oldest"] descending ["newest"];
    params q, status, applicant, sort, limit, cursor, before
}

/// `GET /authorizations`: the applications, filtered and paged, newest first unless asked
/// otherwise, each with its clock.
pub async fn list(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<ApplicationQuery>,
) -> Result<Response, AppError> {
    let mut conn = state.conn().await?;
    let (rows, next, prev, total, errors) = match q.to_filter() {
        Ok(f) => {
            let page = service::page(&mut conn, &user, &f, state.now()).await?;
            let total = page.total(f.page.after.is_some(), service::count(&mut conn, &user, &f)).await?;
            let rows = page
                .rows
                .into_iter()
                .map(|l| (l.application, l.clock.map(|c| clock_words(&c)).unwrap_or_default()))
                .collect();
            (rows, page.next, page.prev, total.describe("application", "applications"), Vec::new())
        }
        Err(e) => (Vec::new(), None, None, String::new(), e),
    };
    let pager = q.pager(next, prev);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &ListPage {
            layout: Layout::for_user(&state.web, "/authorizations", Some(&user)),
            q,
            rows,
            total,
            pager,
            statuses: ApplicationStatus::ALL,
            errors: FormErrors(errors),
            can_file: user.may(crate::access::Action::WorkFilings),
        },
    )
}

/// A clock in words: `due 2026-04-10 (68 days left)`, `paused`, `13 days past the target`.
fn clock_words(c: &Clock) -> String {
    let paused = if c.paused { ", paused while questions are open" } else { "" };
    match c.days_left {
        d if d < 0 => format!("target {} passed {} days ago{paused}", c.due_on, -d),
        0 => format!("target {} is today{paused}", c.due_on),
        1 => format!("target {}, 1 day left{paused}", c.due_on),
        d => format!("target {}, {d} days left{paused}", c.due_on),
    }
}

/// The fields of every form of these pages, as typed (each form posts some of them).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    applicant_id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    filed_on: String,
    #[serde(default)]
    parties_and_owners: String,
    #[serde(default)]
    foreign_items: String,
    #[serde(default)]
    vehicles: String,
    #[serde(default)]
    vcs_function: String,
    #[serde(default)]
    analyses: String,
    #[serde(default)]
    access_cutoff: String,
    #[serde(default)]
    security_standards: String,
    #[serde(default)]
    proposed_mitigation: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    answers: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    threat: String,
    #[serde(default)]
    vulnerability: String,
    #[serde(default)]
    consequence: String,
    #[serde(default)]
    mitigation: String,
    #[serde(default)]
    c1_description: String,
    #[serde(default)]
    c1_owner: String,
    #[serde(default)]
    c1_due_on: String,
    #[serde(default)]
    c1_assessor: String,
    #[serde(default)]
    c2_description: String,
    #[serde(default)]
    c2_owner: String,
    #[serde(default)]
    c2_due_on: String,
    #[serde(default)]
    c2_assessor: String,
    #[serde(default)]
    c3_description: String,
    #[serde(default)]
    c3_owner: String,
    #[serde(default)]
    c3_due_on: String,
    #[serde(default)]
    c3_assessor: String,
    #[serde(default)]
    c4_description: String,
    #[serde(default)]
    c4_owner: String,
    #[serde(default)]
    c4_due_on: String,
    #[serde(default)]
    c4_assessor: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    content_sha256: String,
    #[serde(default)]
    version: i64,
}

impl PageForm {
    fn contents(&self) -> Contents {
        Contents {
            parties_and_owners: self.parties_and_owners.clone(),
            foreign_items: self.foreign_items.clone(),
            vehicles: self.vehicles.clone(),
            vcs_function: self.vcs_function.clone(),
            analyses: self.analyses.clone(),
            access_cutoff: self.access_cutoff.clone(),
            security_standards: self.security_standards.clone(),
            proposed_mitigation: self.proposed_mitigation.clone(),
        }
    }

    /// The text typed for item `i`.
    fn item(&self, i: &Item) -> String {
        self.contents().get(*i).to_string()
    }

    /// The finding typed for factor `f`.
    fn factor(&self, f: &Factor) -> &str {
        match f {
            Factor::Threat => &self.threat,
            Factor::Vulnerability => &self.vulnerability,
            Factor::Consequence => &self.consequence,
            Factor::Mitigation => &self.mitigation,
        }
    }

    /// Condition row `n` (1-based) as typed: description, owner, due, assessor.
    fn condition(&self, n: &usize) -> [&str; 4] {
        match n {
            1 => [&self.c1_description, &self.c1_owner, &self.c1_due_on, &self.c1_assessor],
            2 => [&self.c2_description, &self.c2_owner, &self.c2_due_on, &self.c2_assessor],
            3 => [&self.c3_description, &self.c3_owner, &self.c3_due_on, &self.c3_assessor],
            _ => [&self.c4_description, &self.c4_owner, &self.c4_due_on, &self.c4_assessor],
        }
    }
}

#[derive(Template)]
#[template(path = "authorizations/new.html")]
struct NewPage {
    layout: Layout,
    /// The filers to choose from; none when the form takes a filer's name (`by_name`).
    filers: Vec<(PartyId, String)>,
    by_name: bool,
    items: [Item; 8],
    form: PageForm,
    errors: FormErrors,
    csrf_token: String,
}

/// The applicant a new application's form is for: `?applicant=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    #[serde(default)]
    applicant: String,
}

async fn new_page(
    state: &AppState,
    user: &SignedIn,
    form: PageForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.conn().await?;
    let (filers, by_name) = crate::declarations::service::filer_choices(&mut conn, user, &form.applicant_id).await?;
    render_as(
        status,
        &NewPage {
            layout: Layout::for_user(&state.web, "/authorizations", Some(user)),
            filers,
            by_name,
            items: Item::ALL,
            form,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /authorizations/new?applicant=…`: the form that files an application.
pub async fn new(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<NewQuery>,
) -> Result<Response, AppError> {
    let form = PageForm { applicant_id: q.applicant, ..PageForm::default() };
    new_page(&state, &user, form, Vec::new(), StatusCode::OK).await
}

/// `POST /authorizations`: files the application.
pub async fn file(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let applicant =
        match crate::declarations::service::filer_named(&mut *state.conn().await?, &f.applicant_id, "applicant_id")
            .await?
        {
            Ok(p) => p,
            Err(e) => return new_page(&state, &user, f, vec![e], StatusCode::UNPROCESSABLE_ENTITY).await,
        };
    let n = NewApplication {
        applicant_id: applicant,
        summary: f.summary.clone(),
        contents: f.contents(),
        filed_on: Some(f.filed_on.clone()),
    };
    match service::file(&mut *state.conn().await?, &user, state.now(), &n, "form").await.map_err(AppError::from) {
        Ok(a) => {
            let message = format!("{} is filed. Check it for completeness next.", a.number);
            Ok(Flash::done(message).see_other(&state.web, &user, &format!("/authorizations/{}", a.id)))
        }
        Err(AppError::Invalid(errors)) => new_page(&state, &user, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "authorizations/show.html")]
struct ShowPage {
    layout: Layout,
    a: Application,
    items: Vec<(Item, String)>,
    missing: Vec<String>,
    clock: Option<String>,
    clock_passed: bool,
    acts: Vec<(ActRow, String, String)>,
    questions: Vec<Question>,
    draft: Option<(Decision, String)>,
    signed: Vec<Decision>,
    factors: [Factor; 4],
    rows: Vec<usize>,
    can_work: bool,
    can_sign: bool,
    /// Why the user may not sign the draft, when they may sign decisions at all.
    sign_refusal: Option<String>,
    /// The form that failed (`act`, `material`, `decision`, `condition`) and its fields.
    failed: String,
    form: PageForm,
    errors: FormErrors,
    message: String,
    message_is_error: bool,
    csrf_token: String,
}

impl ShowPage {
    fn typed(&self, form: &str) -> bool {
        self.failed == form
    }
}

async fn show_page(
    state: &AppState,
    user: &SignedIn,
    id: ApplicationId,
    (failed, form, errors): (&str, PageForm, Vec<FieldError>),
    (message, is_error): (String, bool),
    status: StatusCode,
) -> Result<Response, AppError> {
    let v = service::get(&mut *state.conn().await?, user, state.now(), id).await?;
    let a = v.application;
    let questions = super::model::questions(&v.acts);
    let draft = service::draft_of(&a, &v.decisions);
    let can_sign = user.may(crate::access::Action::SignAuthorizations);
    let sign_refusal = draft.as_ref().and_then(|(d, _)| service::why_not_signable(user, &a, d));
    let acts = v
        .acts
        .into_iter()
        .map(|x| {
            let items: Vec<String> = x.items.iter().filter_map(|i| Item::parse(i)).map(Item::cite).collect();
            let at = show_time(x.recorded_at, &user.zone);
            (x, items.join(", "), at)
        })
        .collect();
    render_as(
        status,
        &ShowPage {
            layout: Layout::for_user(&state.web, "/authorizations", Some(user)),
            items: Item::ALL.into_iter().map(|i| (i, a.contents.get(i).to_string())).collect(),
            missing: v.missing.iter().map(|i| i.named()).collect(),
            clock: v.clock.as_ref().map(clock_words),
            clock_passed: v.clock.is_some_and(|c| c.days_left < 0),
            a,
            acts,
            questions,
            draft,
            signed: v.decisions.into_iter().filter(|d| d.is_signed()).collect(),
            factors: Factor::ALL,
            rows: (1..=CONDITION_ROWS).collect(),
            can_work: user.may(crate::access::Action::WorkFilings),
            can_sign,
            sign_refusal,
            failed: failed.to_string(),
            form,
            errors: FormErrors(errors),
            message,
            message_is_error: is_error,
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /authorizations/{id}`.
pub async fn show(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    flash: Flash,
) -> Result<Response, AppError> {
    show_page(&state, &user, id, ("", PageForm::default(), Vec::new()), (flash.message, flash.is_error), StatusCode::OK)
        .await
}

/// Answers a post of an application's page: 303 back with `message` once done; else the
/// page again with the form as typed and its errors (422), or the refusal (409).
async fn answered(
    (state, user, id): (&AppState, &SignedIn, ApplicationId),
    done: Result<String, AppError>,
    (failed, form): (&str, PageForm),
) -> Result<Response, AppError> {
    Flash::answered(&state.web, user, &format!("/authorizations/{id}"), done, |errors, message, status| {
        show_page(state, user, id, (failed, form, errors), message, status)
    })
    .await
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `POST /authorizations/{id}/acts`: the completeness check, a question, an answer, a
/// briefing, the application withdrawn.
pub async fn record_act(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let answers = match f.answers.trim() {
        "" => Ok(None),
        t => t.parse::<i64>().map(Some).map_err(|_| AppError::invalid("answers", "choose the question answered")),
    };
    let done = match answers {
        Ok(answers) => {
            let n = NewAct {
                kind: Choice::named(f.kind.trim()),
                effective_on: some(&f.effective_on),
                note: f.note.clone(),
                answers,
                version: f.version,
            };
            service::record_act(&mut *state.conn().await?, &user, state.now(), id, &n)
                .await
                .map(|a| match a.status {
                    ApplicationStatus::Incomplete => {
                        format!("{} is returned incomplete: the missing items are listed.", a.number)
                    }
                    s => format!("Recorded. {} is {} now.", a.number, s.label().to_lowercase()),
                })
                .map_err(AppError::from)
        }
        Err(e) => Err(e),
    };
    answered((&state, &user, id), done, ("act", f)).await
}

/// `POST /authorizations/{id}/material`: the applicant's added material.
pub async fn add_material(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let m = Material { contents: f.contents(), note: f.note.clone(), version: f.version };
    let done = service::add_material(&mut *state.conn().await?, &user, state.now(), id, &m)
        .await
        .map(|a| format!("Material added to {}.", a.number))
        .map_err(AppError::from);
    answered((&state, &user, id), done, ("material", f)).await
}

/// `POST /authorizations/{id}/decision`: drafts (or redrafts) the decision.
pub async fn draft_decision(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let mut conditions = Vec::new();
    let mut conn = state.conn().await?;
    for n in 1..=CONDITION_ROWS {
        let [description, owner, due_on, assessor] = f.condition(&n);
        if [description, owner, due_on, assessor].iter().all(|s| s.trim().is_empty()) {
            continue;
        }
        let assessor_id = match assessor.trim() {
            "" => None,
            name => {
                let found = crate::parties::list(&mut conn, Some(name), 20).await?;
                let exact = found.into_iter().find(|p| p.legal_name.eq_ignore_ascii_case(name));
                if exact.is_none() {
                    errors.push(FieldError::new(
                        format!("conditions[{}].assessor_id", conditions.len()),
                        format!("no party named {name} is in the registry"),
                    ));
                }
                exact.map(|p| p.id)
            }
        };
        conditions.push(NewCondition {
            description: description.to_string(),
            owner: owner.to_string(),
            due_on: some(due_on),
            assessor_id,
        });
    }
    let assessment = Factor::ALL
        .into_iter()
        .filter(|x| !f.factor(x).trim().is_empty())
        .map(|x| (x.as_str().to_string(), f.factor(&x).to_string()))
        .collect();
    let d = NewDecision {
        outcome: Choice::named(f.outcome.trim()),
        reasons: f.reasons.clone(),
        assessment,
        conditions,
        version: f.version,
    };
    let done = if errors.is_empty() {
        service::draft_decision(&mut conn, &user, state.now(), id, &d, state.mail)
            .await
            .map(|a| format!("Decision drafted on {}: a second supervisor signs it.", a.number))
            .map_err(AppError::from)
    } else {
        Err(AppError::Invalid(errors))
    };
    drop(conn);
    answered((&state, &user, id), done, ("decision", f)).await
}

/// `POST /authorizations/{id}/conditions/{seq}`: a condition's check.
pub async fn check_condition(
    user: Authorized<perm::WorkFilings>,
    State(state): State<AppState>,
    AppPath((id, seq)): AppPath<(ApplicationId, i64)>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let c = ConditionCheck {
        status: Choice::named(f.status.trim()),
        evidence: f.evidence.clone(),
        checked_on: some(&f.effective_on),
        version: f.version,
    };
    let done = service::check_condition(&mut *state.conn().await?, &user, state.now(), id, seq, &c, state.mail)
        .await
        .map(|a| match a.status {
            ApplicationStatus::Reopened => format!("Breach recorded: {} is reopened for review.", a.number),
            _ => format!("Condition {seq} of {} checked.", a.number),
        })
        .map_err(AppError::from);
    answered((&state, &user, id), done, ("condition", f)).await
}

#[derive(Template)]
#[template(path = "authorizations/sign.html")]
struct SignPage {
    layout: Layout,
    a: Application,
    d: Decision,
    hash: String,
    csrf_token: String,
}

fn reauth(id: ApplicationId) -> Response {
    Redirect::to(&format!("/account/reauth?next=%2Fauthorizations%2F{id}%2Fsign")).into_response()
}

/// `GET /authorizations/{id}/sign`: the draft to be signed with its content hash, after a
/// fresh re-authentication.
pub async fn sign_form(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
) -> Result<Response, AppError> {
    if user.require_recent_reauth(state.now()).is_err() {
        return Ok(reauth(id));
    }
    let v = service::get(&mut *state.conn().await?, &user, state.now(), id).await?;
    let refusal = match service::draft_of(&v.application, &v.decisions) {
        None => Some(format!("{} has no draft decision to sign", v.application.number)),
        Some((d, hash)) => match service::why_not_signable(&user, &v.application, &d) {
            Some(why) => Some(why),
            None => {
                return render(&SignPage {
                    layout: Layout::for_user(&state.web, &format!("/authorizations/{id}"), Some(&user)),
                    a: v.application,
                    d,
                    hash,
                    csrf_token: user.csrf_token.clone(),
                });
            }
        },
    };
    let message = format!("Not signable: {}.", refusal.unwrap_or_default());
    show_page(&state, &user, id, ("", PageForm::default(), Vec::new()), (message, true), StatusCode::CONFLICT).await
}

/// `POST /authorizations/{id}/sign`: signs the draft whose hash the signer read.
pub async fn sign(
    user: Authorized<perm::SignAuthorizations>,
    State(state): State<AppState>,
    AppPath(id): AppPath<ApplicationId>,
    AppForm(f): AppForm<PageForm>,
) -> Result<Response, AppError> {
    let req = SignRequest { content_sha256: f.content_sha256.clone() };
    match service::sign(&mut *state.conn().await?, &user, state.now(), id, &req, state.mail)
        .await
        .map_err(AppError::from)
    {
        Err(AppError::ReauthRequired) => Ok(reauth(id)),
        done => {
            let done = done.map(|a| format!("Signed: {} is {}.", a.number, a.status.label().to_lowercase()));
            answered((&state, &user, id), done, ("sign", f)).await
        }
    }
}
