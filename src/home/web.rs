//! The home page a signed-in user lands on: their own day, by what their role does.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use time::Date;

use super::{CaseList, DeterminationList, Home, ROWS};
use crate::audit::StoredEvent;
use crate::cases::web::{Bar, stage_bars};
use crate::web::auth::{MaybeUser, SignedIn};
use crate::web::error::AppError;
use crate::web::extract::AppQuery;
use crate::web::layout::show_time;
use crate::web::layout::{Layout, render};

/// A case as a home-page row.
pub struct CaseLine {
    pub id: String,
    pub docket: String,
    pub title: String,
    pub stage: &'static str,
    /// The final determination's due date in words, with how far off it is.
    pub due: String,
    pub overdue: bool,
    pub assignee: String,
    pub restricted: bool,
    pub score: Option<i32>,
}

/// One short list of cases, its total in words and the link to all of them.
pub struct CaseSection {
    pub id: &'static str,
    pub heading: &'static str,
    pub empty: &'static str,
    pub rows: Vec<CaseLine>,
    pub total: String,
    pub more: Option<String>,
}

/// A determination as a home-page row.
pub struct DeterminationLine {
    pub id: String,
    pub case_id: String,
    pub docket: String,
    pub title: String,
    pub kind: &'static str,
    pub outcome: &'static str,
    pub status: &'static str,
    pub returned: bool,
    pub when: String,
    /// Why it cannot be signed yet (in the list of what awaits the reader's signature).
    pub waits: String,
}

/// One short list of determinations.
pub struct DeterminationSection {
    pub id: &'static str,
    pub heading: &'static str,
    pub empty: &'static str,
    pub rows: Vec<DeterminationLine>,
    pub total: String,
    pub more: Option<String>,
}

/// An event as a home-page row.
pub struct EventLine {
    pub seq: i64,
    pub at: String,
    pub event_type: String,
    pub actor: String,
    pub object: String,
    pub outcome: String,
}

/// An unanswered request for information.
pub struct RfiLine {
    pub case_id: String,
    pub docket: String,
    pub asked_of: String,
    pub asked_on: String,
    pub waiting: String,
    pub tolls: bool,
}

/// An account locked for password sign-in.
pub struct LockedLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub until: String,
}

#[derive(Template)]
#[template(path = "home/signed_in.html")]
struct SignedInHome {
    layout: Layout,
    /// `analyst`, `supervisor`, `auditor` or `admin`.
    role: &'static str,
    name: String,
    intro: &'static str,
    done: String,
    can_file: bool,
    cases: Vec<CaseSection>,
    determinations: Vec<DeterminationSection>,
    rfis: Vec<RfiLine>,
    rfis_total: String,
    events_heading: &'static str,
    events: Vec<EventLine>,
    events_more: String,
    head: Option<(i64, String)>,
    last_check: Option<(String, String, bool)>,
    locked: Vec<LockedLine>,
    approvals_open: i64,
    bars: Vec<Bar>,
    chart_height: i64,
    /// The second docket's work (analysts and supervisors).
    filings: Option<crate::declarations::model::Work>,
    /// Enforcement's work (analysts and supervisors).
    enforcement: Option<crate::enforcement::model::EnforcementWork>,
    /// Specific authorization applications' work (analysts and supervisors).
    authorizations: Option<crate::authorizations::model::AuthorizationWork>,
    /// Advisory opinion requests to work, for those who work filings.
    opinions: Option<crate::opinions::model::OpinionWork>,
    /// Reliances on general authorizations that need the office, for those who work filings.
    reliances: Option<crate::general_authorizations::model::RelianceWork>,
}

fn days(n: i64) -> String {
    if n == 1 { "1 day".into() } else { format!("{n} days") }
}

/// `2026-12-10, in 7 days` / `2026-11-30, 3 days overdue` / `today`.
fn due_words(due: Option<Date>, today: Date) -> (String, bool) {
    match due {
        None => (String::new(), false),
        Some(d) => {
            let n = (d - today).whole_days();
            let when = match n {
                0 => "today".to_string(),
                n if n > 0 => format!("in {}", days(n)),
                n => format!("{} overdue", days(-n)),
            };
            (format!("{d}, {when}"), n < 0)
        }
    }
}

fn case_section(
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    list: CaseList,
    today: Date,
) -> CaseSection {
    let more = (list.total != crate::db::Total::Exact(list.rows.len() as i64) || list.rows.len() as i64 >= ROWS)
        .then(|| format!("/cases?{}", list.query));
    CaseSection {
        id,
        heading,
        empty,
        total: list.total.describe("case", "cases"),
        more,
        rows: list
            .rows
            .into_iter()
            .map(|c| {
                let (due, overdue) = due_words(c.final_due, today);
                CaseLine {
                    id: c.id.to_string(),
                    docket: c.docket_number.clone(),
                    title: c.title.clone(),
                    stage: c.stage.label(),
                    due,
                    overdue,
                    assignee: c.assignee_name.clone().unwrap_or_else(|| "unassigned".into()),
                    restricted: c.restricted,
                    score: c.preliminary_score,
                }
            })
            .collect(),
    }
}

fn determination_section(
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    list: DeterminationList,
    zone: &crate::zone::Zone,
) -> DeterminationSection {
    let more = (list.total != crate::db::Total::Exact(0)).then(|| "/determinations".to_string());
    DeterminationSection {
        id,
        heading,
        empty,
        total: list.total.describe("determination", "determinations"),
        more,
        rows: list
            .rows
            .into_iter()
            .map(|super::DeterminationItem { l, waits }| {
                let when = l.d.submitted_at.unwrap_or(l.d.updated_at);
                DeterminationLine {
                    id: l.d.id.to_string(),
                    case_id: l.d.case_id.to_string(),
                    docket: l.docket_number,
                    title: l.title,
                    kind: l.d.kind().label(),
                    outcome: l.d.outcome.label(),
                    status: l.d.status.label(),
                    returned: l.d.status == crate::determinations::Status::Returned,
                    when: show_time(when, zone),
                    waits: waits.unwrap_or_default(),
                }
            })
            .collect(),
    }
}

async fn event_lines(
    state: &crate::app::AppState,
    events: Vec<StoredEvent>,
    zone: &crate::zone::Zone,
) -> Result<Vec<EventLine>, AppError> {
    let ids: Vec<_> = events.iter().filter_map(|e| e.actor_id).collect();
    let names = crate::accounts::db::names(&mut *state.conn().await?, &ids).await?;
    Ok(events
        .into_iter()
        .map(|e| EventLine {
            seq: e.seq,
            at: show_time(e.at, zone),
            actor: e
                .actor_id
                .and_then(|a| names.iter().find(|(id, _)| *id == a).map(|(_, n)| n.clone()))
                .unwrap_or_else(|| "the system".into()),
            object: match (&e.object_type, &e.object_id) {
                (Some(t), Some(id)) => format!("{t} {id}"),
                _ => String::new(),
            },
            event_type: e.event_type,
            outcome: e.outcome,
        })
        .collect())
}

/// The home page of a signed-in user.
pub async fn page(state: &crate::app::AppState, user: &SignedIn, done: &str) -> Result<Response, AppError> {
    let now = state.now();
    let today = crate::dates::today(now);
    let home = super::of(&state.db, user, now).await?;
    // The second docket's counts, on one connection.
    let mut conn = state.conn().await?;
    let filings = crate::declarations::service::work(&mut conn, user, now).await?;
    let enforcement = crate::enforcement::service::work(&mut conn, user, now).await?;
    let authorizations = crate::authorizations::service::work(&mut conn, user, now).await?;
    let opinions = crate::opinions::service::work(&mut conn, user).await?;
    let reliances = crate::general_authorizations::service::work(&mut conn, user, now).await?;
    drop(conn);
    let done = match done {
        "password" => "Your password was changed.".to_string(),
        _ => String::new(),
    };
    let mut page = SignedInHome {
        layout: Layout::for_user(&state.web, "/", Some(user)),
        role: "",
        name: user.name.clone(),
        intro: "",
        done,
        can_file: user.may(crate::access::Action::WorkCases),
        cases: Vec::new(),
        determinations: Vec::new(),
        rfis: Vec::new(),
        rfis_total: String::new(),
        events_heading: "",
        events: Vec::new(),
        events_more: String::new(),
        head: None,
        last_check: None,
        locked: Vec::new(),
        approvals_open: 0,
        bars: Vec::new(),
        chart_height: 0,
        filings,
        enforcement,
        authorizations,
        opinions,
        reliances,
    };
    match home {
        Home::Analyst(a) => {
            page.role = "analyst";
            page.intro = "Your open cases by the date the final determination is due, your drafts, and the requests for information still unanswered.";
            page.cases.push(case_section(
                "my-cases",
                "My open cases, by due date",
                "No open case is assigned to you.",
                a.mine,
                today,
            ));
            page.determinations.push(determination_section(
                "my-drafts",
                "My drafts (returned ones first)",
                "You have no unsigned draft.",
                a.drafts,
                &user.zone,
            ));
            page.rfis_total = a.rfis_total.describe("request", "requests");
            page.rfis = a
                .rfis
                .into_iter()
                .map(|r| RfiLine {
                    case_id: r.case_id.to_string(),
                    docket: r.docket_number,
                    asked_of: r.asked_of,
                    asked_on: r.asked_on.to_string(),
                    waiting: days((today - r.asked_on).whole_days().max(0)),
                    tolls: r.tolls,
                })
                .collect();
        }
        Home::Supervisor(s) => {
            page.role = "supervisor";
            page.intro = "What waits for your signature, the referrals to decide, the unassigned queue by triage score, and what is overdue or due soon across the office.";
            page.determinations.push(determination_section(
                "to-sign",
                "Awaiting my signature",
                "Nothing awaits your signature.",
                s.to_sign,
                &user.zone,
            ));
            page.cases.push(case_section(
                "referrals",
                "Referrals to decide, oldest first",
                "No referral waits for a decision.",
                s.referrals,
                today,
            ));
            page.cases.push(case_section(
                "unassigned",
                "Unassigned, by triage score",
                "Every open case has an assignee.",
                s.unassigned,
                today,
            ));
            page.cases.push(case_section(
                "overdue",
                "Overdue across the office",
                "No case is overdue.",
                s.overdue,
                today,
            ));
            page.cases.push(case_section(
                "due-soon",
                "Due within 14 days",
                "Nothing is due in the next 14 days.",
                s.due_soon,
                today,
            ));
            page.determinations.push(determination_section(
                "returned",
                "Drafts I returned, not yet resubmitted",
                "No draft you returned is waiting for its drafter.",
                s.returned,
                &user.zone,
            ));
            (page.bars, page.chart_height) = stage_bars(&s.stages);
        }
        Home::Auditor(a) => {
            page.role = "auditor";
            page.intro = "Recent exports and openings of restricted cases, and the state of the audit chain.";
            page.events_heading = "Recent exports and restricted-case views";
            page.events_more = "/audit".into();
            page.events = event_lines(state, a.recent, &user.zone).await?;
            page.head = Some(a.head);
            page.last_check = a.last_check.map(|(at, v, ok)| (show_time(at, &user.zone), v, ok));
            (page.bars, page.chart_height) = stage_bars(&a.stages);
        }
        Home::Admin(a) => {
            page.role = "admin";
            page.intro =
                "Accounts locked now, changes waiting for a second administrator, and the latest administrative acts.";
            page.events_heading = "Recent administrative acts";
            page.events_more = "/audit?type=user.".into();
            page.events = event_lines(state, a.recent, &user.zone).await?;
            page.approvals_open = a.approvals_open;
            page.locked = a
                .locked
                .into_iter()
                .map(|l| LockedLine {
                    id: l.id.to_string(),
                    name: l.name,
                    email: l.email,
                    until: show_time(l.until, &user.zone),
                })
                .collect();
        }
    }
    render(&page)
}

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomePage {
    layout: Layout,
}

/// `?done=` after an act that lands on the home page.
#[derive(Debug, serde::Deserialize)]
pub struct HomeQuery {
    done: Option<String>,
}

/// `GET /`: for a signed-in user their own day ([`crate::home::web::page`]); for anyone
/// else what the system is, and the way in.
pub async fn home(
    State(state): State<crate::app::AppState>,
    MaybeUser(user): MaybeUser,
    AppQuery(q): AppQuery<HomeQuery>,
) -> Result<Response, AppError> {
    match user {
        Some(u) if u.must_change_password => Err(AppError::PasswordChangeRequired),
        Some(u) if u.must_register_key => Err(AppError::SecurityKeyRequired),
        Some(u) => page(&state, &u, q.done.as_deref().unwrap_or_default()).await,
        None => render(&HomePage { layout: Layout::for_user(&state.web, "/", None) }),
    }
}
