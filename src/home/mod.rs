//! What waits for each user: the short lists of their home page, each with its total and
//! the filter of the full list it starts. Only open cases appear where the user has to
//! act; every list is need-to-know filtered by the query that reads it.

pub mod db;
pub mod web;

use sqlx::{PgConnection, PgPool};
use time::{Date, OffsetDateTime};

use crate::access::{Action, Actor};
use crate::audit::{EventType, StoredEvent};
use crate::cases::db::{self as cases_db, AssigneeFilter, CaseFilter, Sort};
use crate::cases::model::CaseRow;
use crate::cases::workflow::Stage;
use crate::db::Total;
use crate::determinations::service::{self as determinations, Listed, Listing};
use crate::error::DomainError;
use crate::ids::{CaseId, RfiId, UserId};

/// Rows a home-page list shows; its total and a link lead to the rest.
pub const ROWS: i64 = 10;

/// A few cases, their total, and the case-list query that shows them all.
pub struct CaseList {
    /// The first [`ROWS`] in the list's order.
    pub rows: Vec<CaseRow>,
    /// How many there are.
    pub total: Total,
    /// The query string of the full list (`/cases?…`).
    pub query: &'static str,
}

/// Reads a case list of the home page: [`ROWS`] rows, and the count only when there are more.
async fn cases(
    conn: &mut PgConnection,
    user: &Actor,
    today: Date,
    f: CaseFilter,
    query: &'static str,
) -> Result<CaseList, sqlx::Error> {
    let f = CaseFilter { limit: ROWS, ..f };
    let cases_db::CasePageRows { rows, next, .. } = cases_db::list(conn, &f, user.id, user.role, today).await?;
    let total = match next {
        None => Total::Exact(rows.len() as i64),
        // Exact to a thousand here (the full list, a click away, counts to ten thousand):
        // counting the office's overdue cases to ten thousand cost 25 ms at a million cases.
        Some(_) => cases_db::count_to(conn, &f, user.id, user.role, today, Total::HOME_CAP).await?,
    };
    Ok(CaseList { rows, total, query })
}

/// A determination of a home-page list.
pub struct DeterminationItem {
    pub l: Listed,
    /// In the list of what awaits the user's signature: why it cannot be signed yet
    /// ([`determinations::why_it_waits`]), or `None` when it can be signed now.
    pub waits: Option<String>,
}

/// A few determinations and how many there are.
pub struct DeterminationList {
    /// The first [`ROWS`].
    pub rows: Vec<DeterminationItem>,
    /// How many there are (the listing reads at most 500).
    pub total: Total,
}

async fn determinations(
    conn: &mut PgConnection,
    user: &Actor,
    which: Listing,
) -> Result<DeterminationList, DomainError> {
    let mut rows = determinations::list(conn, user, which).await?;
    let total = Total::Exact(rows.len() as i64);
    rows.truncate(ROWS as usize);
    Ok(DeterminationList { rows: rows.into_iter().map(|l| DeterminationItem { l, waits: None }).collect(), total })
}

/// The determinations awaiting `user`'s signature, each with why it cannot be signed yet.
async fn to_sign(conn: &mut PgConnection, user: &Actor, today: Date) -> Result<DeterminationList, DomainError> {
    let mut list = determinations(conn, user, Listing::AwaitingMySignature).await?;
    for item in &mut list.rows {
        item.waits = determinations::why_it_waits(conn, user, &item.l.d, today).await?;
    }
    Ok(list)
}

/// An unanswered request for information on one of the user's cases.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenRfi {
    pub id: RfiId,
    pub case_id: CaseId,
    pub docket_number: String,
    /// Who was asked.
    pub asked_of: String,
    /// When it was sent.
    pub asked_on: Date,
    /// Whether it pauses a clock.
    pub tolls: bool,
}

/// The unanswered requests for information on open cases assigned to `user`, oldest first.
async fn open_rfis(conn: &mut PgConnection, user: UserId) -> Result<(Vec<OpenRfi>, Total), sqlx::Error> {
    let open: Vec<String> = Stage::ALL.into_iter().filter(|s| s.is_open()).map(|s| s.as_str().to_string()).collect();
    let rows = db::open_rfis(conn, user, &open).await?;
    let total = if rows.len() > 500 { Total::MoreThan(500) } else { Total::Exact(rows.len() as i64) };
    Ok((rows.into_iter().take(ROWS as usize).collect(), total))
}

/// An account locked for password sign-in.
#[derive(Debug, Clone)]
pub struct Locked {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub until: OffsetDateTime,
}

/// Events that are an administrator's acts on accounts, reference data and lists.
pub const ADMIN_EVENTS: [EventType; 26] = [
    EventType::UserCreated,
    EventType::UserRoleChanged,
    EventType::UserDeactivated,
    EventType::UserReactivated,
    EventType::UserActivated,
    EventType::UserPasswordReset,
    EventType::UserUnlocked,
    EventType::UserSessionsEnded,
    EventType::UserSecondFactorsReset,
    EventType::UserChangeRequested,
    EventType::UserChangeApproved,
    EventType::UserChangeRefused,
    EventType::UserChangeWithdrawn,
    EventType::UserChangeExpired,
    EventType::SignInPolicyChanged,
    EventType::SignInPolicyChangeRequested,
    EventType::SignInPolicyChangeApproved,
    EventType::SignInPolicyChangeRefused,
    EventType::SignInPolicyChangeWithdrawn,
    EventType::SignInPolicyChangeExpired,
    EventType::ReferenceAdded,
    EventType::ReferenceUpdated,
    EventType::RubricCreated,
    EventType::ScreeningListImported,
    EventType::AuditVerified,
    EventType::AuditExported,
];

/// Events an auditor follows: exports and openings of restricted cases.
pub const AUDITOR_EVENTS: [EventType; 4] =
    [EventType::CaseExported, EventType::AuditExported, EventType::AuditExportIncomplete, EventType::CaseViewed];

/// An analyst's day: their open cases by the next date due, their drafts (returned ones
/// first), and the requests for information still unanswered on their cases.
pub struct AnalystHome {
    pub mine: CaseList,
    pub drafts: DeterminationList,
    pub rfis: Vec<OpenRfi>,
    pub rfis_total: Total,
}

/// A supervisor's day: what awaits their signature (each with why it cannot be signed yet),
/// referrals to decide, the unassigned queue by triage score (the referrals left out), what is overdue or due soon across the office, and the drafts
/// they returned that have not come back.
pub struct SupervisorHome {
    pub to_sign: DeterminationList,
    pub referrals: CaseList,
    pub unassigned: CaseList,
    pub overdue: CaseList,
    pub due_soon: CaseList,
    pub returned: DeterminationList,
    pub stages: Vec<(Stage, i64)>,
}

/// An auditor's day: recent exports and openings of restricted cases, and the chain.
pub struct AuditorHome {
    pub recent: Vec<StoredEvent>,
    /// The chain's head: position and hash (hex).
    pub head: (i64, String),
    /// The last verification: when, its verdict, whether it held.
    pub last_check: Option<(OffsetDateTime, String, bool)>,
    pub stages: Vec<(Stage, i64)>,
}

/// An administrator's day: accounts locked now, approvals waiting, recent admin acts.
pub struct AdminHome {
    pub locked: Vec<Locked>,
    pub approvals_open: i64,
    pub recent: Vec<StoredEvent>,
}

/// The home page of one user, by what their role does.
pub enum Home {
    Analyst(AnalystHome),
    Supervisor(SupervisorHome),
    Auditor(AuditorHome),
    Admin(AdminHome),
}

/// Reads the home page of `user` on `today`.
pub async fn of(pool: &PgPool, user: &Actor, now: OffsetDateTime) -> Result<Home, DomainError> {
    let today = crate::dates::today(now);
    let mut conn = pool.acquire().await?;
    if user.may(Action::SignDeterminations) {
        let open = |f: CaseFilter| CaseFilter { open: true, ..f };
        return Ok(Home::Supervisor(SupervisorHome {
            to_sign: to_sign(&mut conn, user, today).await?,
            referrals: cases(
                &mut conn,
                user,
                today,
                CaseFilter { stage: Some(Stage::Intake), sort: Sort::Oldest, ..Default::default() },
                "stage=intake&sort=oldest",
            )
            .await?,
            unassigned: cases(
                &mut conn,
                user,
                today,
                // The referrals still to decide are in their own list, not here too.
                open(CaseFilter {
                    assignee: Some(AssigneeFilter::Unassigned),
                    except_stage: Some(Stage::Intake),
                    sort: Sort::Triage,
                    ..Default::default()
                }),
                "assignee=unassigned&open=true&except_stage=intake&sort=triage",
            )
            .await?,
            overdue: cases(
                &mut conn,
                user,
                today,
                CaseFilter { overdue: true, sort: Sort::Due, ..Default::default() },
                "overdue=true&sort=due",
            )
            .await?,
            due_soon: cases(
                &mut conn,
                user,
                today,
                CaseFilter { due_within: Some(14), sort: Sort::Due, ..Default::default() },
                "due_within=14&sort=due",
            )
            .await?,
            returned: determinations(&mut conn, user, Listing::ReturnedBy).await?,
            stages: cases_db::count_by_stage(&mut conn, user.id, user.role).await?,
        }));
    }
    if user.may(Action::WorkCases) {
        let (rfis, rfis_total) = open_rfis(&mut conn, user.id).await?;
        let mut drafts = determinations(&mut conn, user, Listing::UnsignedByMe).await?;
        drafts.rows.sort_by_key(|i| i.l.d.status != crate::determinations::Status::Returned);
        return Ok(Home::Analyst(AnalystHome {
            mine: cases(
                &mut conn,
                user,
                today,
                CaseFilter {
                    assignee: Some(AssigneeFilter::User(user.id)),
                    open: true,
                    sort: Sort::Due,
                    ..Default::default()
                },
                "assignee=me&open=true&sort=due",
            )
            .await?,
            drafts,
            rfis,
            rfis_total,
        }));
    }
    if user.may(Action::ReadAuditLog) {
        let (seq, hash) = crate::audit::head(pool).await?;
        let last_check = crate::audit::latest_of_type(pool, EventType::AuditVerified).await?.map(|e| {
            let verdict = e.changes["verdict"].as_str().unwrap_or_default().to_string();
            (e.at, verdict, e.changes["ok"].as_bool().unwrap_or(false))
        });
        if user.may(Action::ViewCases) {
            return Ok(Home::Auditor(AuditorHome {
                recent: db::recent(pool, &AUDITOR_EVENTS, ROWS).await?,
                head: (seq, hex::encode(hash)),
                last_check,
                stages: cases_db::count_by_stage(&mut conn, user.id, user.role).await?,
            }));
        }
    }
    let locked = db::locked_accounts(&mut conn, now).await?;
    let approvals_open = crate::accounts::approvals::count_open(&mut conn, now).await?;
    Ok(Home::Admin(AdminHome { locked, approvals_open, recent: db::recent(pool, &ADMIN_EVENTS, ROWS).await? }))
}
