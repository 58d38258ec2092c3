//! Enforcement pages: the penalty calculator (a GET form, it writes nothing); the matters'
//! list, the form that opens one, and a matter's page with its acts, its answer date
//! reckoned and the form that records its next act. Every successful post answers 303 to
//! the page that shows it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::api::MatterQuery;
use super::model::{
    ActKind, ActRow, Basis, Factor, Ground, Matter, MatterStage, Maximum, NewAct, NewMatter, Provision,
};
use super::service::{self, Asked};
use crate::app::AppState;
use crate::calendar::Due;
use crate::calendar::web::long_date;
use crate::choice::Choice;
use crate::ids::{CaseId, DeclarationId, MatterId, PartyId};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, Pager, money, render_as, show_time};
use crate::web::list::ListQuery;

#[derive(Template)]
#[template(path = "enforcement/penalty.html")]
struct PenaltyPage {
    layout: Layout,
    q: PenaltyQuery,
    basis: Option<Basis>,
    errors: FormErrors,
    factors: [Factor; 6],
    maximums: Vec<Maximum>,
}

impl PenaltyPage {
    fn dollars(&self, cents: &i64) -> String {
        money(*cents as f64 / 100.0)
    }

    fn checked(&self, f: &Factor) -> bool {
        self.q.factor.iter().any(|x| x == f.as_str())
    }

    fn by_statute(&self, g: &Ground) -> bool {
        *g == Ground::Statutory
    }
}

/// The calculator's query: the violation's date, the value, and each factor weighed
/// (`factor=…`, repeated).
#[derive(Debug, Clone, Default)]
pub struct PenaltyQuery {
    violation_on: String,
    transaction_value: String,
    factor: Vec<String>,
}

impl PenaltyQuery {
    fn of(pairs: Vec<(String, String)>) -> PenaltyQuery {
        let mut q = PenaltyQuery::default();
        for (k, v) in pairs {
            match k.as_str() {
                "violation_on" => q.violation_on = v,
                "transaction_value" => q.transaction_value = v,
                "factor" => q.factor.push(v),
                _ => {}
            }
        }
        q
    }
}

crate::list_query! {
    MatterQuery => "/enforcement";
    sorts ["due", "newest", "oldest"] descending ["newest"];
    params q, stage, party, sort, limit, cursor, before
}

/// `GET /enforcement/penalty`.
pub async fn page(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(pairs): AppQuery<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let q = PenaltyQuery::of(pairs);
    let mut conn = state.conn().await?;
    let asked_for = !q.violation_on.trim().is_empty() || !q.transaction_value.trim().is_empty();
    let (basis, errors) = if asked_for {
        let asked = Asked {
            violation_on: q.violation_on.clone(),
            transaction_value: q.transaction_value.clone(),
            factors: q.factor.iter().map(|f| Choice::<Factor>::named(f)).collect(),
        };
        match service::basis(&mut conn, &user, &asked).await.map_err(AppError::from) {
            Ok(b) => (Some(b), Vec::new()),
            Err(AppError::Invalid(e)) => (None, e),
            Err(e) => return Err(e),
        }
    } else {
        (None, Vec::<FieldError>::new())
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &PenaltyPage {
            layout: Layout::for_user(&state.web, "/enforcement", Some(&user)),
            q,
            basis,
            errors: FormErrors(errors),
            factors: Factor::ALL,
            maximums: service::maximums(&mut conn).await?,
        },
    )
}

/// Cents as the pages write amounts.
fn cents(c: i64) -> String {
    money(c as f64 / 100.0)
}

#[derive(Template)]
#[template(path = "enforcement/list.html")]
struct ListPage {
    layout: Layout,
    q: MatterQuery,
    /// Each with whether its answer date passed unanswered.
    rows: Vec<(Matter, bool)>,
    total: String,
    pager: Pager,
    stages: [MatterStage; 7],
    errors: FormErrors,
}

impl ListPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

/// `GET /enforcement`: the matters, filtered and paged, those awaiting an answer first
/// unless asked otherwise.
pub async fn list(
    user: Authorized<perm::ViewEnforcement>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<MatterQuery>,
) -> Result<Response, AppError> {
    let today = crate::dates::today(state.now());
    let mut conn = state.conn().await?;
    let (rows, next, prev, total, errors) = match q.to_filter() {
        Ok(f) => {
            let page = service::page(&mut conn, &user, &f).await?;
            let total = page.total(f.page.from_cursor(), service::count(&mut conn, &user, &f)).await?;
            let rows = page
                .rows
                .into_iter()
                .map(|m| {
                    let passed = m.answer_passed(today);
                    (m, passed)
                })
                .collect();
            (rows, page.next, page.prev, total.describe("matter", "matters"), Vec::new())
        }
        Err(e) => (Vec::new(), None, None, String::new(), e),
    };
    let pager = q.pager(next, prev);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &ListPage {
            layout: Layout::for_user(&state.web, "/enforcement", Some(&user)),
            q,
            rows,
            total,
            pager,
            stages: MatterStage::ALL,
            errors: FormErrors(errors),
        },
    )
}

/// The form that opens a matter, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MatterForm {
    #[serde(default)]
    party_id: String,
    #[serde(default)]
    provision: String,
    #[serde(default)]
    case_id: String,
    #[serde(default)]
    declaration_id: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    violation_on: String,
    #[serde(default)]
    transaction_value: String,
    #[serde(default)]
    self_disclosed: Option<String>,
    #[serde(default)]
    opened_on: String,
}

impl MatterForm {
    /// The matter the form names, or what in it is no id.
    fn to_input(&self) -> Result<NewMatter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut id = |field: &str, v: &str, what: &str| -> Option<uuid::Uuid> {
            match v.trim() {
                "" => None,
                t => t.parse().map_err(|_| errors.push(FieldError::new(field, format!("choose {what}")))).ok(),
            }
        };
        let party = id("party_id", &self.party_id, "the party").map(PartyId);
        let case = id("case_id", &self.case_id, "one of the party's cases").map(CaseId);
        let declaration =
            id("declaration_id", &self.declaration_id, "one of the party's declarations").map(DeclarationId);
        let provision = match self.provision.trim() {
            "" => None,
            t => Some(Choice::named(t)),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewMatter {
            party_id: party,
            provision,
            case_id: case,
            declaration_id: declaration,
            summary: self.summary.clone(),
            violation_on: self.violation_on.clone(),
            transaction_value: Some(self.transaction_value.clone()),
            self_disclosed: self.self_disclosed.is_some(),
            opened_on: Some(self.opened_on.clone()),
        })
    }
}

#[derive(Template)]
#[template(path = "enforcement/new.html")]
struct NewPage {
    layout: Layout,
    party: crate::parties::Party,
    cases: Vec<crate::parties::CaseLink>,
    declarations: Vec<crate::declarations::Declaration>,
    provisions: [Provision; 7],
    form: MatterForm,
    errors: FormErrors,
    csrf_token: String,
}

/// The party a new matter's form is for, from its `?party=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewQuery {
    #[serde(default)]
    party: String,
}

async fn new_page(
    state: &AppState,
    user: &SignedIn,
    form: MatterForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let party_id: PartyId = form.party_id.trim().parse().map_err(|_| AppError::NotFound)?;
    let mut conn = state.conn().await?;
    let party = crate::parties::get(&mut conn, party_id).await?.ok_or(AppError::NotFound)?;
    let cases = crate::parties::cases_of(&mut conn, party_id, user).await?;
    let (_, declarations) = crate::declarations::service::of_filer(&mut conn, user, party_id).await?;
    render_as(
        status,
        &NewPage {
            layout: Layout::for_user(&state.web, "/enforcement", Some(user)),
            party,
            cases,
            declarations,
            provisions: Provision::ALL,
            form,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /enforcement/new?party=…`: the form that opens a matter against a party (from its
/// page), with its cases and declarations to choose from.
pub async fn new(
    user: Authorized<perm::WorkEnforcement>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<NewQuery>,
) -> Result<Response, AppError> {
    let form = MatterForm { party_id: q.party, ..MatterForm::default() };
    new_page(&state, &user, form, Vec::new(), StatusCode::OK).await
}

/// `POST /enforcement`: opens the matter.
pub async fn open(
    user: Authorized<perm::WorkEnforcement>,
    State(state): State<AppState>,
    AppForm(f): AppForm<MatterForm>,
) -> Result<Response, AppError> {
    let done = match f.to_input() {
        Ok(n) => service::open(&mut *state.conn().await?, &user, state.now(), &n).await.map_err(AppError::from),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match done {
        Ok(m) => {
            let message = format!("{} is open.", m.number);
            Ok(Flash::done(message).see_other(&state.web, &user, &format!("/enforcement/{}", m.id)))
        }
        Err(AppError::Invalid(errors)) => new_page(&state, &user, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "enforcement/show.html")]
struct ShowPage {
    layout: Layout,
    m: Matter,
    acts: Vec<(ActRow, String)>,
    basis: Basis,
    /// The answer date awaited, in words, and how it was reckoned (from the notice's
    /// delivery; `None` when an extension moved it).
    due: Option<(String, Option<String>)>,
    /// Whether the answer date passed unanswered.
    passed: bool,
    next: Vec<ActKind>,
    form: ActForm,
    errors: FormErrors,
    message: String,
    message_is_error: bool,
    csrf_token: String,
    can_export: bool,
}

impl ShowPage {
    fn cents(&self, c: &i64) -> String {
        cents(*c)
    }
}

/// The form that records an act, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    version: i64,
}

async fn show_page(
    state: &AppState,
    user: &SignedIn,
    id: MatterId,
    (form, errors): (ActForm, Vec<FieldError>),
    (message, is_error): (String, bool),
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut conn = state.conn().await?;
    let (m, acts) = service::get(&mut conn, user, id).await?;
    let basis = service::basis_of(&mut conn, &m).await?;
    drop(conn);
    let due = m.answer_due_on.filter(|_| m.awaits_answer()).map(|d| (long_date(&d), reckoning(&m, &acts)));
    let next = service::next_acts(user, &m);
    let acts = acts
        .into_iter()
        .map(|a| {
            let at = show_time(a.recorded_at, &user.zone);
            (a, at)
        })
        .collect();
    render_as(
        status,
        &ShowPage {
            layout: Layout::for_user(&state.web, "/enforcement", Some(user)),
            passed: m.answer_passed(crate::dates::today(state.now())),
            m,
            acts,
            basis,
            due,
            next,
            form,
            errors: FormErrors(errors),
            message,
            message_is_error: is_error,
            csrf_token: user.csrf_token.clone(),
            can_export: user.may(crate::access::Action::ExportCases),
        },
    )
}

/// How a matter's answer date was reckoned, in words: from the delivery of the notice that
/// set it, unless an extension moved it since.
fn reckoning(m: &Matter, acts: &[ActRow]) -> Option<String> {
    if !m.awaits_answer() {
        return None;
    }
    let last = acts.iter().rev().find(|a| a.due_on.is_some())?;
    if !matches!(last.kind, ActKind::FindingIssued | ActKind::PrePenaltyNotice) {
        return None;
    }
    let r: Due = crate::calendar::reckon(last.effective_on, super::model::ANSWER_DAYS);
    let mut words =
        format!("The {}th day after delivery on {} is {}", r.days, long_date(&r.from), long_date(&r.counted_to));
    if !r.passed_over.is_empty() {
        let over: Vec<String> = r.passed_over.iter().map(|p| format!("{} ({})", p.date, p.reason.describe())).collect();
        words.push_str(&format!("; passed over: {}", over.join(", ")));
    }
    words.push('.');
    Some(words)
}

/// `GET /enforcement/{id}`.
pub async fn show(
    user: Authorized<perm::ViewEnforcement>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MatterId>,
    flash: Flash,
) -> Result<Response, AppError> {
    show_page(&state, &user, id, (ActForm::default(), Vec::new()), (flash.message, flash.is_error), StatusCode::OK)
        .await
}

/// `POST /enforcement/{id}/acts`: records the act.
pub async fn record_act(
    user: Authorized<perm::WorkEnforcement>,
    State(state): State<AppState>,
    AppPath(id): AppPath<MatterId>,
    AppForm(f): AppForm<ActForm>,
) -> Result<Response, AppError> {
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let act = NewAct {
        kind: Choice::named(f.kind.trim()),
        effective_on: some(&f.effective_on),
        amount: some(&f.amount),
        due_on: some(&f.due_on),
        note: f.note.clone(),
        version: f.version,
    };
    let done = service::record_act(&mut *state.conn().await?, &user, state.now(), id, &act).await.map(|m| {
        match (m.stage, m.answer_due_on) {
            (_, Some(due)) if m.awaits_answer() => format!("Recorded. {}: the answer is due by {due}.", m.number),
            (s, _) => format!("Recorded. {} is {} now.", m.number, s.label().to_lowercase()),
        }
    });
    Flash::answered(
        &state.web,
        &user,
        &format!("/enforcement/{id}"),
        done.map_err(AppError::from),
        |errors, message, status| {
            // A refusal shows the page with an empty form; errors keep what was typed.
            let form = if errors.is_empty() { ActForm::default() } else { f };
            show_page(&state, &user, id, (form, errors), message, status)
        },
    )
    .await
}
