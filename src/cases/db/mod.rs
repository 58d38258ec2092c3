//! The SQL of cases. Functions take a connection (usually a transaction), never the state.
//! The intake's bulk statements, the reference data and the transactions have their own
//! files below.

pub mod import;
pub mod reference;
pub mod transactions;

use crate::ids::{CaseId, NoteId, PartyId, RfiId, UserId};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::clocks::{ClockInputs, ClockName, Extension, Toll};
use super::model::{CaseRow, NewCase, Questions, docket_number};
use super::workflow::{Decision, Stage};
use crate::access::Role;
use crate::access::policy::{CaseScope, case_scope};
use crate::parties::PartyRole;

/// The columns of [`CaseRow`] over a case `c` and its assignee `u`.
macro_rules! case_columns {
    () => {
        "c.id, c.docket_number, c.title, c.summary, c.origin, c.referring_agency, c.referral_date, \
    c.category, c.adversaries, c.rule_version, c.restricted, c.assignee, u.name AS assignee_name, c.stage, c.covered, \
    c.covered_note, c.nexus, c.nexus_note, c.undue_risk, c.undue_risk_note, c.accepted_on, c.agencies_notified_on, \
    c.initial_signed_by, c.served_on, c.response_received_on, c.circulated_on, c.final_decision, \
    c.final_signed_by, c.decided_on, c.final_due, c.preliminary_score, c.created_by, c.created_at, c.updated_at, c.version, \
    c.stage_since, c.rule_reason, c.response_complete_on, \
    EXISTS (SELECT 1 FROM case_deviations dv WHERE dv.case_id = c.id) AS emergency_deviation, \
    (SELECT max(coalesce(d.signed_on, d.signed_at::date)) FROM determinations d WHERE d.case_id = c.id \
        AND d.kind = 'initial' AND d.signed_at IS NOT NULL) AS initial_signed_on, \
    (SELECT max(coalesce(d.signed_on, d.signed_at::date)) FROM determinations d WHERE d.case_id = c.id \
        AND d.kind = 'final' AND d.signed_at IS NOT NULL) AS final_signed_on, \
    EXISTS (SELECT 1 FROM nexus_findings n WHERE n.case_id = c.id) AS has_nexus_finding, \
    EXISTS (SELECT 1 FROM assessments a WHERE a.case_id = c.id) AS has_assessment, \
    (SELECT count(*) FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'first') AS first_step_notices, \
    (SELECT count(*) FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'second') AS second_step_notices, \
    EXISTS (SELECT 1 FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'second' AND an.response = 'object' \
        AND an.dispute_resolved_on IS NULL AND NOT EXISTS (SELECT 1 FROM ref_rule_versions rv \
        JOIN ref_official_levels needed ON needed.code = rv.objection_level \
        JOIN ref_official_levels raised ON raised.code = an.objector_level \
        WHERE rv.code = c.rule_version AND raised.rank < needed.rank) \
        AND NOT EXISTS (SELECT 1 FROM ref_rule_versions rv WHERE rv.code = c.rule_version \
        AND rv.presumed_concurrence_days IS NOT NULL \
        AND an.responded_on > c.circulated_on + rv.presumed_concurrence_days)) AS unresolved_objection, \
    (EXISTS (SELECT 1 FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'second') \
        AND NOT EXISTS (SELECT 1 FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'second' \
        AND (an.response IS DISTINCT FROM 'concur') AND NOT (an.response = 'object' AND an.dispute_resolved_on IS NOT NULL))) \
        AS all_concurred "
    };
}

/// The columns of [`CaseRow`], with the assignee's name.
pub const CASE_SELECT: &str =
    concat!("SELECT ", case_columns!(), "FROM cases c LEFT JOIN users u ON u.id = c.assignee");

/// Takes the next docket number of `year`. Gap-free: the counter row stays locked until
/// How many cases the office holds.
pub async fn count_all(pool: &sqlx::PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "v!" FROM cases"#).fetch_one(pool).await
}

/// the calling transaction ends, and a rollback gives the number back.
pub async fn next_docket(conn: &mut PgConnection, year: i32) -> Result<String, sqlx::Error> {
    let n: i32 = sqlx::query_scalar!(
        "INSERT INTO docket_counters (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = docket_counters.last + 1 RETURNING last",
        year,
    )
    .fetch_one(conn)
    .await?;
    Ok(docket_number(year, n))
}

/// Moves the gap-free counter of `year` past `n`, the office's own number of a case that
/// began outside the system, so that new cases continue after it.
pub async fn reserve_docket(conn: &mut PgConnection, year: i32, n: i32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO docket_counters (year, last) VALUES ($1, $2) \
         ON CONFLICT (year) DO UPDATE SET last = greatest(docket_counters.last, $2)",
        year,
        n,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a new case at intake.
pub async fn insert(
    conn: &mut PgConnection,
    id: CaseId,
    docket: &str,
    c: &NewCase,
    assignee: Option<UserId>,
    created_by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cases (id, docket_number, title, summary, origin, referring_agency, referral_date, category, adversaries, \
         restricted, assignee, created_by, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)",
        id.0,
        docket,
        &c.title,
        &c.summary,
        c.origin as _,
        &c.referring_agency as _,
        c.referral_date,
        &c.category,
        &c.adversaries,
        c.restricted,
        assignee as _,
        created_by.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a case to `stage` by an act dated `on` if it is still at `version` (the one place
/// a stage is written; callers go through `service::apply`). Returns whether it was.
pub async fn set_stage(
    conn: &mut PgConnection,
    id: CaseId,
    version: i32,
    (stage, on): (Stage, Date),
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query!(
        "UPDATE cases SET stage = $2, stage_since = $5, updated_at = $3, version = version + 1 \
         WHERE id = $1 AND version = $4",
        id.0,
        stage as _,
        now,
        version,
        on
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Records that a case changed without a change of stage (a new version for readers
/// that hold the old one).
pub async fn touch(conn: &mut PgConnection, id: CaseId, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET updated_at = $2, version = version + 1 WHERE id = $1", id.0, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// One case, optionally locked for update. (`CASE_SELECT` is also the head of the list
/// statements built with `QueryBuilder` below: one column list for `CaseRow` beats two
/// kept in step.)
#[expect(clippy::disallowed_methods, reason = "CASE_SELECT also heads the list statements: one column list")]
pub async fn get(conn: &mut PgConnection, id: CaseId, lock: bool) -> Result<Option<CaseRow>, sqlx::Error> {
    let sql = if lock {
        format!("{CASE_SELECT} WHERE c.id = $1 FOR UPDATE OF c")
    } else {
        format!("{CASE_SELECT} WHERE c.id = $1")
    };
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await
}

/// The SQL condition for "visible to this user" (need-to-know), over alias `c`.
fn push_visibility(qb: &mut QueryBuilder<Postgres>, user: UserId, role: Role) {
    match case_scope(role) {
        CaseScope::All => qb.push(" AND true"),
        CaseScope::Nothing => qb.push(" AND false"),
        CaseScope::UnrestrictedOrAssigned => {
            qb.push(" AND (NOT c.restricted OR c.assignee = ").push_bind(user).push(")")
        }
    };
}

/// Which assignee a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Cases assigned to this user.
    User(UserId),
    /// Cases with no assignee.
    Unassigned,
}

/// List orders, named in the list's query by their lower-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest filed first.
    Newest,
    /// Oldest filed first.
    Oldest,
    /// Docket number.
    Docket,
    /// Earliest final-determination due date first (cases without one last).
    Due,
    /// Highest preliminary triage score first (cases without one last).
    Triage,
}

impl Sort {
    /// Every order.
    pub const ALL: [Sort; 5] = [Sort::Newest, Sort::Oldest, Sort::Docket, Sort::Due, Sort::Triage];

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "newest" => Some(Sort::Newest),
            "oldest" => Some(Sort::Oldest),
            "docket" => Some(Sort::Docket),
            "due" => Some(Sort::Due),
            "triage" => Some(Sort::Triage),
            _ => None,
        }
    }

    /// Name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Docket => "docket",
            Sort::Due => "due",
            Sort::Triage => "triage",
        }
    }

    /// The ORDER BY of this order (each matches an index).
    fn order_by(self) -> &'static str {
        match self {
            Sort::Newest => "c.created_at DESC, c.id DESC",
            Sort::Oldest => "c.created_at ASC, c.id ASC",
            Sort::Docket => "c.docket_year, c.docket_seq, c.id",
            Sort::Due => "coalesce(c.final_due, DATE '9999-12-31'), c.id",
            Sort::Triage => "coalesce(c.preliminary_score, -1) DESC, c.id DESC",
        }
    }

    /// The ORDER BY of this order read backwards (for the page before a cursor).
    fn order_by_backwards(self) -> &'static str {
        match self {
            Sort::Newest => "c.created_at ASC, c.id ASC",
            Sort::Oldest => "c.created_at DESC, c.id DESC",
            Sort::Docket => "c.docket_year DESC, c.docket_seq DESC, c.id DESC",
            Sort::Due => "coalesce(c.final_due, DATE '9999-12-31') DESC, c.id DESC",
            Sort::Triage => "coalesce(c.preliminary_score, -1) ASC, c.id ASC",
        }
    }

    /// The cursor key of a row in this order.
    pub fn cursor_key(self, row: &CaseRow) -> String {
        match self {
            Sort::Newest | Sort::Oldest => {
                row.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
            }
            Sort::Docket => row.docket_number.clone(),
            Sort::Due => row.final_due.map(|d| d.to_string()).unwrap_or_else(|| "9999-12-31".into()),
            Sort::Triage => row.preliminary_score.unwrap_or(-1).to_string(),
        }
    }

    /// Whether `key` can be a cursor key of this order.
    pub fn valid_key(self, key: &str) -> bool {
        match self {
            // Only values the database's columns hold: years 1–9999, docket numbers that
            // fit its integer columns.
            // A time exactly as a cursor writes it (RFC 3339 in UTC): an offset the parser
            // takes but PostgreSQL does not (past ±15:59) never reaches a CAST.
            Sort::Newest | Sort::Oldest => OffsetDateTime::parse(key, &time::format_description::well_known::Rfc3339)
                .is_ok_and(|t| {
                    t.offset() == time::UtcOffset::UTC
                        && (1..=9999).contains(&t.year())
                        && t.format(&time::format_description::well_known::Rfc3339).is_ok_and(|f| f == key)
                }),
            Sort::Docket => {
                let parts: Vec<&str> = key.split('-').collect();
                let digits = |p: &str| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit());
                parts.len() == 3
                    && parts[0] == "ICTS"
                    && digits(parts[1])
                    && digits(parts[2])
                    && parts[1].parse::<i32>().is_ok_and(|y| (1..=9999).contains(&y))
                    && parts[2].parse::<i32>().is_ok()
            }
            // A date exactly as a cursor writes it (no sign, four-digit year).
            Sort::Due => {
                crate::dates::parse_date(key).is_some_and(|d| (1..=9999).contains(&d.year()) && d.to_string() == key)
            }
            Sort::Triage => key.parse::<i32>().is_ok_and(|n| (-1..=100).contains(&n)),
        }
    }

    fn descending(self) -> bool {
        self == Sort::Newest
    }
}

/// Filters of the case list.
#[derive(Debug, Clone)]
pub struct CaseFilter {
    pub stage: Option<Stage>,
    /// Leave out the cases at this stage (the supervisor's unassigned queue leaves out the
    /// referrals still to decide, which have their own list).
    pub except_stage: Option<Stage>,
    /// Category code.
    pub category: Option<String>,
    /// Adversary code.
    pub adversary: Option<String>,
    pub assignee: Option<AssigneeFilter>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Only cases with a due date within this many days (and not overdue).
    pub due_within: Option<i64>,
    /// Only open cases (a stage where the review goes on: [`Stage::is_open`]).
    pub open: bool,
    /// Full-text query.
    pub q: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Keyset cursor: the sort key and id of the last row of the previous page (or, when
    /// `backwards`, of the first row of the next page).
    pub after: Option<(String, Uuid)>,
    /// Read the page that ends just before `after` instead of the one after it.
    pub backwards: bool,
    /// Page size.
    pub limit: i64,
}

impl Default for CaseFilter {
    fn default() -> Self {
        CaseFilter {
            stage: None,
            except_stage: None,
            category: None,
            adversary: None,
            assignee: None,
            overdue: false,
            due_within: None,
            open: false,
            q: None,
            sort: Sort::Newest,
            after: None,
            backwards: false,
            limit: 50,
        }
    }
}

/// One of the two disjoint parts of a due-date filter (overdue, due within N days): the
/// cases its final-determination date puts there, and the others that the response
/// period's due date puts there. Each part is one range of a partial index of open,
/// unpaused cases (migrations 0032 and 0033), so a list or a count of a part reads index
/// entries instead of testing every open case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Both parts together (the filter as one condition).
    Whole,
    /// The cases whose final-determination date is overdue or due soon.
    Final,
    /// The others, in the response period, whose response is overdue or due soon.
    Response,
}

/// Whether `f`'s due-date filter is read as its two parts: exactly one of overdue and due
/// within N days, and no text search (which has its own plan).
fn split_due(f: &CaseFilter) -> bool {
    f.q.is_none() && (f.overdue != f.due_within.is_some())
}

fn push_filters_of(qb: &mut QueryBuilder<Postgres>, f: &CaseFilter, user: UserId, role: Role, today: Date, part: Part) {
    push_attribute_filters_of(qb, f, user, role, today, part);
    if let Some(q) = &f.q {
        qb.push(" AND ");
        push_text_match(qb, q, None);
    }
}

/// Every filter but the full-text query.
fn push_attribute_filters(qb: &mut QueryBuilder<Postgres>, f: &CaseFilter, user: UserId, role: Role, today: Date) {
    push_attribute_filters_of(qb, f, user, role, today, Part::Whole);
}

/// Every filter but the full-text query, with only `part` of the due-date filter.
fn push_attribute_filters_of(
    qb: &mut QueryBuilder<Postgres>,
    f: &CaseFilter,
    user: UserId,
    role: Role,
    today: Date,
    part: Part,
) {
    push_visibility(qb, user, role);
    if let Some(s) = f.stage {
        qb.push(" AND c.stage = ").push_bind(s);
    }
    if let Some(s) = f.except_stage {
        qb.push(" AND c.stage <> ").push_bind(s);
    }
    if let Some(c) = &f.category {
        qb.push(" AND c.category = ").push_bind(c);
    }
    if let Some(a) = &f.adversary {
        qb.push(" AND c.adversaries @> ARRAY[").push_bind(a).push("]::text[]");
    }
    match &f.assignee {
        Some(AssigneeFilter::User(u)) => {
            qb.push(" AND c.assignee = ").push_bind(*u);
        }
        Some(AssigneeFilter::Unassigned) => {
            qb.push(" AND c.assignee IS NULL");
        }
        None => {}
    }
    if f.open {
        let open: Vec<Stage> = Stage::ALL.into_iter().filter(|s| s.is_open()).collect();
        qb.push(" AND c.stage = ANY(").push_bind(open).push(")");
    }
    // The predicates of the partial indexes `cases_open_final_due_idx` and
    // `cases_open_response_due_idx`, written as they are, so that the planner sees that
    // the indexes hold every row that can match.
    const OPEN: &str = " AND c.stage NOT IN ('rejected','closed_no_action','decided','monitoring','compliance_review','closed') AND NOT c.clocks_paused";
    const OPEN_NO_ALIAS: &str = "stage NOT IN ('rejected','closed_no_action','decided','monitoring','compliance_review','closed') AND NOT clocks_paused";
    if f.overdue {
        qb.push(OPEN);
        match part {
            Part::Whole => {
                qb.push(" AND (c.final_due < ")
                    .push_bind(today)
                    .push(" OR (c.stage = 'response_period' AND c.response_due < ")
                    .push_bind(today)
                    .push("))");
            }
            Part::Final => {
                qb.push(" AND c.final_due < ").push_bind(today);
            }
            Part::Response => {
                qb.push(" AND c.stage = 'response_period' AND c.response_due < ")
                    .push_bind(today)
                    .push(" AND (c.final_due IS NULL OR c.final_due >= ")
                    .push_bind(today)
                    .push(")");
            }
        }
    }
    if let Some(days) = f.due_within {
        let until = today + time::Duration::days(days);
        qb.push(OPEN);
        match part {
            Part::Whole => {
                // Two indexed lookups instead of one OR, which made the planner walk the
                // due order through every overdue case (590 ms → 2.7 ms at 300,000 cases).
                qb.push(format!(" AND c.id IN (SELECT id FROM cases WHERE {OPEN_NO_ALIAS} AND final_due >= "))
                    .push_bind(today)
                    .push(" AND final_due <= ")
                    .push_bind(until)
                    .push(
                        " UNION ALL SELECT id FROM cases WHERE stage = 'response_period' AND NOT clocks_paused AND response_due >= ",
                    )
                    .push_bind(today)
                    .push(" AND response_due <= ")
                    .push_bind(until)
                    .push(")");
            }
            Part::Final => {
                qb.push(" AND c.final_due >= ").push_bind(today).push(" AND c.final_due <= ").push_bind(until);
            }
            Part::Response => {
                qb.push(" AND c.stage = 'response_period' AND c.response_due >= ")
                    .push_bind(today)
                    .push(" AND c.response_due <= ")
                    .push_bind(until)
                    .push(" AND (c.final_due IS NULL OR c.final_due < ")
                    .push_bind(today)
                    .push(" OR c.final_due > ")
                    .push_bind(until)
                    .push(")");
            }
        }
    }
}

/// The full-text test of a case `c`, as one boolean expression. Titles, summaries and
/// notes are stemmed (english); docket numbers and party names are not (simple): match
/// either, in one test of the document per case. A query that reads as a docket number,
/// or the start of one, is matched as such ([`docket_match`]).
///
/// With a `bucket` (level, key) the test is limited to that time bucket, so one scan of
/// `cases_search_bucket_idx` answers it (migration 0016).
fn push_text_match(qb: &mut QueryBuilder<Postgres>, q: &str, bucket: Option<(u32, i32)>) {
    qb.push("(");
    match docket_match(q) {
        Some(DocketMatch::Exact(docket)) => {
            qb.push("c.docket_number = ").push_bind(docket);
        }
        Some(DocketMatch::Only(words)) => {
            qb.push("c.search_doc @@ to_tsquery('simple', ").push_bind(words).push(")");
        }
        other => {
            qb.push("c.search_doc @@ (websearch_to_tsquery('english', ")
                .push_bind(q)
                .push(") || websearch_to_tsquery('simple', ")
                .push_bind(q)
                .push(")");
            if let Some(DocketMatch::Also(words)) = other {
                qb.push(" || to_tsquery('simple', ").push_bind(words).push(")");
            }
            qb.push(")");
        }
    }
    if let Some((level, key)) = bucket {
        qb.push(format!(" AND case_search_bucket(c.created_at, {level}) = ")).push_bind(key);
    }
    qb.push(")");
}

/// How a query that reads as a docket number is matched.
#[derive(Debug, PartialEq, Eq)]
pub enum DocketMatch {
    /// A whole docket number (`ICTS-2026-014`, any case): that case, by its unique number.
    Exact(String),
    /// The start of one with its `ICTS` (`ICTS-2026-01`, `ICTS-2026`): the dockets it
    /// begins, as a query of the document's words (simple configuration), instead of the
    /// text query, whose `icts` is a word of every case (130 ms at a million cases).
    Only(String),
    /// The start of one without it (`2026-014`, `014`, `-014`): the dockets it begins, as
    /// well as the text query.
    Also(String),
}

/// Reads a query as a docket number or its start. A docket `ICTS-2026-014` is the words
/// `icts`, `-2026`, `-014` of the document, so the start of one is `'-2026' & '-01':*`: no
/// phrase, so the index answers it without reading each candidate's document. Only digits
/// reach the query text.
pub fn docket_match(q: &str) -> Option<DocketMatch> {
    let s = q.trim();
    let (prefixed, s) = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("icts") => (true, &s[4..]),
        _ => (false, s),
    };
    let s = s.strip_prefix('-').unwrap_or(s);
    let digits = |t: &str| !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit());
    let (year, number) = match s.split_once('-') {
        Some((year, number)) if year.len() == 4 && digits(year) && (number.is_empty() || digits(number)) => {
            (Some(year), Some(number).filter(|n| !n.is_empty()))
        }
        None if prefixed && s.len() == 4 && digits(s) => (Some(s), None),
        None if !prefixed && digits(s) => (None, Some(s)),
        _ => return None,
    };
    match (prefixed, year, number) {
        (true, Some(y), Some(n)) if n.len() >= 3 => {
            Some(DocketMatch::Exact(super::model::docket_number(y.parse().ok()?, n.parse().ok()?)))
        }
        (true, Some(y), Some(n)) => Some(DocketMatch::Only(format!("'-{y}' & '-{n}':*"))),
        (true, Some(y), None) => Some(DocketMatch::Only(format!("'-{y}'"))),
        (false, Some(y), Some(n)) => Some(DocketMatch::Also(format!("'-{y}' & '-{n}':*"))),
        (false, None, Some(n)) => Some(DocketMatch::Also(format!("'-{n}':*"))),
        _ => None,
    }
}

/// One page of a list of cases, with the cursors of the pages on either side.
pub type CasePageRows = crate::db::Page<CaseRow>;

/// The cursor naming `row` in order `sort`.
fn cursor_of(sort: Sort, row: &CaseRow) -> String {
    format!("{}~{}", sort.cursor_key(row), row.id)
}

/// One page of visible cases: the one after `f.after` (or the first), or the one before it
/// when `f.backwards`. Both directions walk the same index, one of them backwards.
pub async fn list(
    conn: &mut PgConnection,
    f: &CaseFilter,
    user: UserId,
    role: Role,
    today: Date,
) -> Result<CasePageRows, sqlx::Error> {
    if !f.backwards || f.after.is_none() {
        let (rows, next) = list_one_way(conn, f, user, role, today).await?;
        let prev = f.after.as_ref().and(rows.first()).map(|r| cursor_of(f.sort, r));
        return Ok(CasePageRows { rows, next, prev });
    }
    // Backwards: the rows nearest the cursor, read in the opposite order, then turned round.
    // A searched list in filing order reads the opposite filing order forwards.
    let flipped = match (&f.q, f.sort) {
        (Some(_), Sort::Newest) => Some(Sort::Oldest),
        (Some(_), Sort::Oldest) => Some(Sort::Newest),
        _ => None,
    };
    let (mut rows, more) = match flipped {
        Some(sort) => {
            let g = CaseFilter { sort, backwards: false, ..f.clone() };
            list_one_way(conn, &g, user, role, today).await?
        }
        None => list_one_way(conn, f, user, role, today).await?,
    };
    rows.reverse();
    let prev = more.and(rows.first()).map(|r| cursor_of(f.sort, r));
    let next = rows.last().map(|r| cursor_of(f.sort, r));
    Ok(CasePageRows { rows, next, prev })
}

/// A page in the list's order (or, when `f.backwards`, in the opposite order from the
/// cursor), and the cursor past its last row when there is more that way.
async fn list_one_way(
    conn: &mut PgConnection,
    f: &CaseFilter,
    user: UserId,
    role: Role,
    today: Date,
) -> Result<(Vec<CaseRow>, Option<String>), sqlx::Error> {
    // The page is chosen from `cases` alone (filters, order, limit: one index walk), and
    // only its rows get the assignee and the per-case subqueries. With them in the same
    // query level, a plan that sorts (stale statistics after a bulk intake, a filter
    // matching thousands) ran every subquery for every matching row: 175 ms for the
    // unassigned queue after 30,000 cases were imported.
    if let (Some(q), Sort::Newest | Sort::Oldest) = (&f.q, f.sort) {
        return list_searched_by_time(conn, f, q, user, role, today).await;
    }
    let order = if f.backwards { f.sort.order_by_backwards() } else { f.sort.order_by() };
    // Two statements: the page's ids (a statement the planner plans quickly), then their
    // rows (one fixed statement per order, whose plan the connection keeps). As one
    // statement, the columns' per-case subqueries made planning it cost more than running
    // it: about 1 ms a list, four lists on a supervisor's home page.
    #[expect(clippy::disallowed_methods, reason = "the page's filters, order and cursor come from the request")]
    let mut qb = QueryBuilder::new("SELECT c.id FROM (");
    if split_due(f) && f.due_within.is_some() && f.sort == Sort::Due {
        // The page of each part, then the page of both (the parts are disjoint): the
        // final-determination part walks its index in due order and stops at the page's
        // end, instead of reading every case due soon to sort them. (The overdue list is
        // read whole: the due order's index reaches its first overdue cases at once, while
        // its response part would test every response period that ever lapsed.)
        qb.push("SELECT * FROM ((");
        push_page_of(&mut qb, f, user, role, today, Part::Final);
        qb.push(") UNION ALL (");
        push_page_of(&mut qb, f, user, role, today, Part::Response);
        qb.push(format!(")) c ORDER BY {order} LIMIT ")).push_bind(f.limit + 1);
    } else {
        push_page_of(&mut qb, f, user, role, today, Part::Whole);
    }
    qb.push(format!(") c ORDER BY {order}"));
    let ids: Vec<Uuid> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
    let rows = rows_in_order(&mut *conn, &ids, order).await?;
    Ok(page_and_cursor(rows, f))
}

/// The rows of the cases `ids` (those that exist), in no particular order. Need-to-know is
/// the caller's: test each with [`CaseRow::visible_to`].
pub async fn rows_of(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<CaseRow>, sqlx::Error> {
    rows_in_order(conn, ids, "c.id").await
}

/// The rows of the cases `ids`, in `order` (an `ORDER BY` over alias `c`).
#[expect(clippy::disallowed_methods, reason = "the ORDER BY is one of the fixed orders of `Sort`")]
async fn rows_in_order(conn: &mut PgConnection, ids: &[Uuid], order: &str) -> Result<Vec<CaseRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        concat!(
            "SELECT ",
            case_columns!(),
            "FROM (SELECT c.* FROM cases c WHERE c.id = ANY($1)) c \
         LEFT JOIN users u ON u.id = c.assignee ORDER BY {}"
        ),
        order
    )))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// `SELECT c.* …` of the cases of one page of `f` (its rows beyond the cursor, in order,
/// one more than the page holds), with only `part` of its due-date filter.
fn push_page_of(qb: &mut QueryBuilder<Postgres>, f: &CaseFilter, user: UserId, role: Role, today: Date, part: Part) {
    qb.push("SELECT c.* FROM cases c WHERE true");
    push_filters_of(qb, f, user, role, today, part);
    let back = f.backwards;
    // Beyond the cursor in the list's order, or before it when reading backwards.
    let beyond = |ascending: bool| if ascending != back { ">" } else { "<" };
    if let Some((k, id)) = &f.after {
        match f.sort {
            Sort::Newest | Sort::Oldest => {
                let op = beyond(!f.sort.descending());
                qb.push(format!(" AND (c.created_at, c.id) {op} (CAST("))
                    .push_bind(k)
                    .push(" AS timestamptz), ")
                    .push_bind(*id)
                    .push(")");
            }
            Sort::Docket => {
                qb.push(format!(" AND (c.docket_year, c.docket_seq, c.id) {} (split_part(", beyond(true)))
                    .push_bind(k)
                    .push(", '-', 2)::integer, split_part(")
                    .push_bind(k)
                    .push(", '-', 3)::integer, ")
                    .push_bind(*id)
                    .push(")");
            }
            Sort::Triage => {
                qb.push(format!(" AND (coalesce(c.preliminary_score, -1), c.id) {} (CAST(", beyond(false)))
                    .push_bind(k)
                    .push(" AS integer), ")
                    .push_bind(*id)
                    .push(")");
            }
            Sort::Due => {
                qb.push(format!(" AND (coalesce(c.final_due, DATE '9999-12-31'), c.id) {} (CAST(", beyond(true)))
                    .push_bind(k)
                    .push(" AS date), ")
                    .push_bind(*id)
                    .push(")");
            }
        }
    }
    let order = match (part, f.sort, back) {
        // The same order where every final-determination date is known, in the terms of
        // the part's index.
        (Part::Final, Sort::Due, false) => "c.final_due, c.id",
        (Part::Final, Sort::Due, true) => "c.final_due DESC, c.id DESC",
        (_, sort, false) => sort.order_by(),
        (_, sort, true) => sort.order_by_backwards(),
    };
    qb.push(format!(" ORDER BY {order} LIMIT ")).push_bind(f.limit + 1);
}

/// How many visible cases match `f` (its cursor and page size aside), counted up to
/// [`crate::db::Total::CAP`] and no further, so a total never walks a million rows.
pub async fn count(
    conn: &mut PgConnection,
    f: &CaseFilter,
    user: UserId,
    role: Role,
    today: Date,
) -> Result<crate::db::Total, sqlx::Error> {
    count_to(conn, f, user, role, today, crate::db::Total::CAP).await
}

/// As [`count`], counting up to `cap` (the home page's short lists count less far).
pub async fn count_to(
    conn: &mut PgConnection,
    f: &CaseFilter,
    user: UserId,
    role: Role,
    today: Date,
    cap: i64,
) -> Result<crate::db::Total, sqlx::Error> {
    if !split_due(f) {
        let n = count_part(&mut *conn, f, user, role, today, Part::Whole, cap + 1).await?;
        return Ok(crate::db::Total::counted_to(n, cap));
    }
    // The final-determination part first: when it alone passes the cap (the office's
    // overdue cases), the response part is not counted at all.
    let first = count_part(&mut *conn, f, user, role, today, Part::Final, cap + 1).await?;
    let n = if first > cap {
        first
    } else {
        first + count_part(&mut *conn, f, user, role, today, Part::Response, cap + 1 - first).await?
    };
    Ok(crate::db::Total::counted_to(n, cap))
}

/// How many visible cases match `part` of `f`, counted up to `limit` and no further.
async fn count_part(
    conn: &mut PgConnection,
    f: &CaseFilter,
    user: UserId,
    role: Role,
    today: Date,
    part: Part,
    limit: i64,
) -> Result<i64, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the filters come from the request")]
    let mut qb = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM cases c WHERE true");
    push_filters_of(&mut qb, f, user, role, today, part);
    qb.push(" LIMIT ").push_bind(limit).push(") x");
    qb.build_query_scalar().fetch_one(conn).await
}

/// A page of `f.limit` rows from the `f.limit + 1` fetched, and the next page's cursor when
/// there was one more.
fn page_and_cursor(mut rows: Vec<CaseRow>, f: &CaseFilter) -> (Vec<CaseRow>, Option<String>) {
    let next = if rows.len() as i64 > f.limit {
        rows.truncate(f.limit as usize);
        rows.last().map(|last| cursor_of(f.sort, last))
    } else {
        None
    };
    (rows, next)
}

/// How many cases, in list order, a searched list tests one by one before it asks the
/// index for the matches of a time bucket.
const SEARCH_WALK: i64 = 1000;

/// How many remaining matches a searched list fetches at once and sorts itself.
const SEARCH_FEW: i64 = 1000;

/// The levels of `case_search_bucket`: buckets of 1, 4, 16 and 64 weeks (migration 0016).
const SEARCH_LEVELS: [u32; 4] = [0, 2, 4, 6];

/// Seconds in a bucket of level 0.
const SEARCH_WEEK: i64 = 7 * 24 * 3600;

/// The bucket holding `t` at `level`, as `case_search_bucket(t, level)` computes it.
fn search_bucket(t: OffsetDateTime, level: u32) -> i32 {
    (t.unix_timestamp().div_euclid(SEARCH_WEEK) >> level) as i32
}

/// When bucket `key` of `level` begins.
fn search_bucket_start(key: i32, level: u32) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp((i64::from(key) << level) * SEARCH_WEEK).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A searched list in filing order (newest or oldest first), in steps whose cost does not
/// grow with the number of cases between the page and its matches.
///
/// Walking the filing order testing each case is fast while matches are dense near the
/// page, and a walk through everything when they are not (a word common in old cases and
/// absent from the 90,000 cases a bulk intake just added: 140 ms at a million cases).
/// Fetching every match and sorting is fast for rare words and slow for common ones
/// (85,000 heap reads for "genomic": seconds cold). So:
/// 1. walk the next [`SEARCH_WALK`] cases of the order, testing each (dense matches end here);
/// 2. then ask the index for the matches of the week where the walk stopped;
/// 3. then, if at most [`SEARCH_FEW`] matches remain, fetch them all and sort them (a rare
///    word ends here);
/// 4. else ask for the matches of one time bucket at a time, each four times longer than
///    the last (4, 16, 64 weeks, then 64-week buckets to the end), until the page is full.
///    Each step reads only its bucket's matches.
async fn list_searched_by_time(
    conn: &mut PgConnection,
    f: &CaseFilter,
    q: &str,
    user: UserId,
    role: Role,
    today: Date,
) -> Result<(Vec<CaseRow>, Option<String>), sqlx::Error> {
    let want = f.limit + 1;
    let descending = f.sort.descending();
    let order = f.sort.order_by();
    let after = match &f.after {
        Some((k, id)) => match OffsetDateTime::parse(k, &time::format_description::well_known::Rfc3339) {
            Ok(t) => Some((t, *id)),
            Err(_) => return Ok((Vec::new(), None)),
        },
        None => None,
    };
    let beyond = |qb: &mut QueryBuilder<Postgres>, bound: (OffsetDateTime, Uuid)| {
        qb.push(if descending { " AND (c.created_at, c.id) < (" } else { " AND (c.created_at, c.id) > (" })
            .push_bind(bound.0)
            .push(", ")
            .push_bind(bound.1)
            .push(")");
    };

    // 1. The walk: the matches among the next SEARCH_WALK cases, the last case walked, and
    // where the filing order ends (the first or the last filing time: the buckets stop there).
    #[expect(clippy::disallowed_methods, reason = "the search's filters, order and cursor come from the request")]
    let mut qb = QueryBuilder::new(format!(
        "SELECT c.id, c.created_at, c.hit, c.n, c.walked, (SELECT {} FROM cases) AS order_end FROM (SELECT c.*, \
         count(*) FILTER (WHERE c.hit) OVER w AS hits, row_number() OVER w AS n, count(*) OVER () AS walked \
         FROM (SELECT c.id, c.created_at, ",
        if descending { "min(created_at)" } else { "max(created_at)" }
    ));
    push_text_match(&mut qb, q, None);
    qb.push(" AS hit FROM cases c WHERE true");
    push_attribute_filters(&mut qb, f, user, role, today);
    if let Some(bound) = after {
        beyond(&mut qb, bound);
    }
    qb.push(format!(" ORDER BY {order} LIMIT ")).push_bind(SEARCH_WALK);
    qb.push(format!(") c WINDOW w AS (ORDER BY {order})) c WHERE (c.hit AND c.hits <= "))
        .push_bind(want)
        .push(format!(") OR c.n = c.walked ORDER BY {order}"));
    let walked: Vec<(Uuid, OffsetDateTime, bool, i64, i64, Option<OffsetDateTime>)> =
        qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut page: Vec<Uuid> = walked.iter().filter(|r| r.2).map(|r| r.0).collect();
    let last = walked.last().filter(|r| r.4 == SEARCH_WALK).map(|r| (r.1, r.0));

    // 2. Time buckets from where the walk stopped (nothing left if it stopped early).
    if let (Some(walk_end), true, Some(end)) = (last, (page.len() as i64) < want, walked.last().and_then(|r| r.5)) {
        let still = want - page.len() as i64;
        let mut text: Vec<Uuid> = Vec::with_capacity(still as usize);
        let mut bound = walk_end;
        let mut at = bound.0;
        let mut step = 0;
        loop {
            let level = SEARCH_LEVELS[step.min(SEARCH_LEVELS.len() - 1)];
            let key = search_bucket(at, level);
            #[expect(clippy::disallowed_methods, reason = "the search, its bucket and bound come from the request")]
            let mut qb = QueryBuilder::new("SELECT c.id FROM (SELECT c.id, c.created_at FROM cases c WHERE true");
            push_attribute_filters(&mut qb, f, user, role, today);
            qb.push(" AND ");
            push_text_match(&mut qb, q, Some((level, key)));
            beyond(&mut qb, bound);
            // OFFSET 0 keeps the bucket's matches one set: the planner may not walk the
            // filing order through them (the mistake this function exists to avoid).
            qb.push(format!(" OFFSET 0) c ORDER BY {order} LIMIT ")).push_bind(still - text.len() as i64);
            let found: Vec<Uuid> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
            text.extend(found);
            if text.len() as i64 >= still {
                break;
            }
            // Everything in this bucket is done; go on from its edge.
            if descending {
                let start = search_bucket_start(key, level);
                if start <= end {
                    break;
                }
                bound = (start, Uuid::nil());
                at = start - time::Duration::microseconds(1);
            } else {
                let next = search_bucket_start(key + 1, level);
                if next > end {
                    break;
                }
                bound = (next - time::Duration::microseconds(1), Uuid::max());
                at = next;
            }
            step += 1;
            if step == 1 {
                // A word that filled no page in the walk and the first week is often rare:
                // take all its remaining matches when there are few, in one step, instead
                // of a step per bucket back to the first filing.
                #[expect(clippy::disallowed_methods, reason = "the search's filters and bound come from the request")]
                let mut qb = QueryBuilder::new("SELECT c.id, c.created_at FROM cases c WHERE true");
                push_attribute_filters(&mut qb, f, user, role, today);
                qb.push(" AND ");
                push_text_match(&mut qb, q, None);
                beyond(&mut qb, bound);
                qb.push(" LIMIT ").push_bind(SEARCH_FEW + 1);
                let mut rest: Vec<(Uuid, OffsetDateTime)> = qb.build_query_as().fetch_all(&mut *conn).await?;
                if rest.len() as i64 <= SEARCH_FEW {
                    rest.sort_by(
                        |a, b| if descending { (b.1, b.0).cmp(&(a.1, a.0)) } else { (a.1, a.0).cmp(&(b.1, b.0)) },
                    );
                    text.extend(rest.into_iter().map(|r| r.0).take((still - text.len() as i64) as usize));
                    break;
                }
            }
        }
        page.extend(text);
    }

    page.truncate(want as usize);
    let rows = rows_in_order(&mut *conn, &page, order).await?;
    Ok(page_and_cursor(rows, f))
}

/// Counts of visible cases per stage (for the dashboard chart).
/// Read from `case_stage_counts` (kept by triggers in every transaction that changes a
/// case); an analyst's counts add their own restricted cases, which only they see.
pub async fn count_by_stage(
    conn: &mut PgConnection,
    user: UserId,
    role: Role,
) -> Result<Vec<(Stage, i64)>, sqlx::Error> {
    match case_scope(role) {
        CaseScope::Nothing => Ok(Vec::new()),
        CaseScope::All => {
            Ok(sqlx::query!(
                r#"SELECT stage AS "stage!: Stage", sum(n)::bigint AS "n!" FROM case_stage_counts GROUP BY stage HAVING sum(n) > 0"#
            )
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|r| (r.stage, r.n))
            .collect())
        }
        CaseScope::UnrestrictedOrAssigned => {
            Ok(sqlx::query!(
                r#"SELECT stage AS "stage!: Stage", sum(n)::bigint AS "n!" FROM (SELECT stage, n FROM case_stage_counts WHERE NOT restricted
                 UNION ALL SELECT stage, count(*) FROM cases WHERE restricted AND assignee = $1 GROUP BY stage) x
                 GROUP BY stage HAVING sum(n) > 0"#,
                user.0
            )
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|r| (r.stage, r.n))
            .collect())
        }
    }
}

/// The facts the clocks need, loaded for one case.
pub async fn clock_inputs(conn: &mut PgConnection, c: &CaseRow, today: Date) -> Result<ClockInputs, sqlx::Error> {
    let extensions =
        sqlx::query!(r#"SELECT clock AS "clock: ClockName", days FROM case_extensions WHERE case_id = $1"#, c.id.0)
            .fetch_all(&mut *conn)
            .await?;
    let tolls = sqlx::query!(
        r#"SELECT tolls AS "tolls: Vec<ClockName>", asked_on, answered_on FROM case_rfis WHERE case_id = $1 AND cardinality(tolls) > 0"#,
        c.id.0
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(ClockInputs {
        rule: c.rule(),
        stage: c.stage,
        accepted_on: c.accepted_on,
        agencies_notified_on: c.agencies_notified_on,
        served_on: c.served_on,
        circulated_on: c.circulated_on,
        extensions: extensions.into_iter().map(|r| Extension { clock: r.clock, days: r.days.into() }).collect(),
        tolls: tolls.into_iter().map(|r| Toll { clocks: r.tolls, from: r.asked_on, until: r.answered_on }).collect(),
        today,
    })
}

/// Stores the due dates the list filters use.
pub async fn store_dues(
    conn: &mut PgConnection,
    id: CaseId,
    final_due: Option<Date>,
    response_due: Option<Date>,
    paused: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET final_due = $2, response_due = $3, clocks_paused = $4 WHERE id = $1",
        id.0,
        final_due,
        response_due,
        paused
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A case's notes, oldest first: when, by whom, what.
pub async fn notes_of(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Vec<(OffsetDateTime, String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT n.created_at, u.name, n.body FROM case_notes n JOIN users u ON u.id = n.author WHERE n.case_id = $1 ORDER BY n.created_at, n.id",
        case_id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.created_at, r.name, r.body))
    .collect())
}

/// A case's requests for information, oldest first.
pub async fn rfis_of(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<super::model::Rfi>, sqlx::Error> {
    sqlx::query_as!(
        super::model::Rfi,
        r#"SELECT id AS "id: RfiId", asked_of, question, asked_on, tolls AS "tolls: Vec<ClockName>", answered_on, answer
           FROM case_rfis WHERE case_id = $1 ORDER BY asked_on, id"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// The case a consolidated case went into: id and docket number.
pub async fn consolidated_into(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Option<(CaseId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT t.id AS "id: CaseId", t.docket_number FROM cases s JOIN cases t ON t.id = s.consolidated_into WHERE s.id = $1"#,
        case_id.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.id, r.docket_number)))
}

/// A case's id by its docket number (as typed: any case).
pub async fn id_by_docket(conn: &mut PgConnection, docket: &str) -> Result<Option<CaseId>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT id AS "id: CaseId" FROM cases WHERE docket_number = $1"#, docket.to_uppercase())
        .fetch_optional(conn)
        .await
}

/// Holds the idempotency key of `user` until the transaction ends, so that requests with
/// the same key run one after the other.
pub async fn lock_idempotency_key(conn: &mut PgConnection, user: UserId, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", user.to_string(), key)
        .execute(conn)
        .await?;
    Ok(())
}

/// The first answer given to an idempotency key: request hash, status, location, body.
pub async fn idempotent_answer(
    conn: &mut PgConnection,
    user: UserId,
    key: &str,
) -> Result<Option<(Vec<u8>, i32, Option<String>, serde_json::Value)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT request_hash, status, location, body FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user.0,
        key
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.request_hash, r.status, r.location, r.body)))
}

/// Keeps the answer (201, its location and body) to an idempotency key.
pub async fn keep_idempotent_answer(
    conn: &mut PgConnection,
    (user, key): (UserId, &str),
    request_hash: &[u8],
    location: &str,
    body: &serde_json::Value,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, location, body, created_at) VALUES ($1,$2,$3,201,$4,$5,$6)",
        user.0,
        key,
        request_hash,
        location,
        body,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Links `party` to `case_id` in `role`, by `by` at `at`; false when it has that role there
/// already.
pub async fn link_party(
    conn: &mut PgConnection,
    case_id: CaseId,
    party: PartyId,
    role: PartyRole,
    by: UserId,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query!(
        "INSERT INTO case_parties (case_id, party_id, role, added_by, added_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
        case_id.0,
        party.0,
        role as _,
        by.0,
        at,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// A case's descriptive fields as an edit leaves them.
pub struct CaseRecord<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub category: &'a str,
    pub adversaries: &'a [String],
    pub restricted: bool,
}

/// Writes a case's descriptive fields and its answers to the three questions if it is
/// still at `version` (a new version); returns whether it was.
pub async fn update_record(
    conn: &mut PgConnection,
    (id, version): (CaseId, i32),
    r: &CaseRecord<'_>,
    q: &Questions,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query!(
        "UPDATE cases SET title=$3, summary=$4, category=$5, adversaries=$6, restricted=$7, covered=$8, covered_note=$9, nexus=$10, \
         nexus_note=$11, undue_risk=$12, undue_risk_note=$13, updated_at=$14, version = version + 1 WHERE id = $1 AND version = $2",
        id.0,
        version,
        r.title,
        r.summary,
        r.category,
        r.adversaries,
        r.restricted,
        q.covered as _,
        &q.covered_note,
        q.nexus as _,
        &q.nexus_note,
        q.undue_risk as _,
        &q.undue_risk_note,
        now,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Records a case's acceptance on `on`, under rule version `rule`.
pub async fn set_accepted(conn: &mut PgConnection, id: CaseId, on: Date, rule: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET accepted_on = $2, rule_version = $3 WHERE id = $1", id.0, on, rule)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records request for information `rfi` on `case_id`: of whom, what, on which date, and
/// the clocks it stops until it is answered.
#[allow(clippy::too_many_arguments)]
pub async fn insert_rfi(
    conn: &mut PgConnection,
    rfi: RfiId,
    case_id: CaseId,
    (asked_of, question): (&str, &str),
    on: Date,
    tolls: &[ClockName],
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_rfis (id, case_id, asked_of, question, asked_on, tolls, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        rfi.0,
        case_id.0,
        asked_of,
        question,
        on,
        tolls as _,
        by.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records as answered on `on` the case's open requests for information that stop no
/// clock (an answer already written is kept; else `answer`).
pub async fn answer_open_rfis(conn: &mut PgConnection, id: CaseId, on: Date, answer: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE case_rfis SET answered_on = $2, answer = coalesce(answer, $3) WHERE case_id = $1 AND answered_on IS NULL AND cardinality(tolls) = 0",
        id.0,
        on,
        answer,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that the agencies were notified when the case's first notice went out; returns
/// that date.
pub async fn set_agencies_notified(conn: &mut PgConnection, id: CaseId) -> Result<Date, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE cases SET agencies_notified_on = (SELECT min(sent_on) FROM agency_notices WHERE case_id = $1 AND step = 'first') WHERE id = $1 RETURNING agencies_notified_on AS "v!""#,
        id.0,
    )
    .fetch_one(conn)
    .await
}

/// Records the date the initial determination was served on the case.
pub async fn set_served(conn: &mut PgConnection, id: CaseId, served: Date) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET served_on = $2 WHERE id = $1", id.0, served).execute(conn).await?;
    Ok(())
}

/// Records how the initial determination was served on a case: method, date, by whom.
pub async fn insert_service(
    conn: &mut PgConnection,
    case_id: CaseId,
    (method, served): (&str, Date),
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_services (id, case_id, method, served_on, recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6)",
        Uuid::now_v7(),
        case_id.0,
        method,
        served,
        by.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that the final determination was circulated when the case's second notice
/// went out; returns that date.
pub async fn set_circulated(conn: &mut PgConnection, id: CaseId) -> Result<Date, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE cases SET circulated_on = (SELECT min(sent_on) FROM agency_notices WHERE case_id = $1 AND step = 'second') WHERE id = $1 RETURNING circulated_on AS "v!""#,
        id.0,
    )
    .fetch_one(conn)
    .await
}

/// Records the date of the case's final determination.
pub async fn set_decided(conn: &mut PgConnection, id: CaseId, on: Date) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET decided_on = $2 WHERE id = $1", id.0, on).execute(conn).await?;
    Ok(())
}

/// Records that a determination was issued, amended or revoked (history, never edited).
pub async fn determination_event(
    conn: &mut PgConnection,
    case_id: CaseId,
    kind: &str,
    decision: Option<Decision>,
    comment: &str,
    actor: UserId,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_determination_events (id, case_id, kind, decision, comment, actor, at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        Uuid::now_v7(),
        case_id.0,
        kind,
        decision as _,
        comment,
        actor.0,
        at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds note `note` by `author` to a case.
pub async fn insert_note(
    conn: &mut PgConnection,
    note: NoteId,
    case_id: CaseId,
    author: UserId,
    body: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_notes (id, case_id, author, body, created_at) VALUES ($1,$2,$3,$4,$5)",
        note.0,
        case_id.0,
        author.0,
        body,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The role of `user` if the account is active.
pub async fn active_role(conn: &mut PgConnection, user: UserId) -> Result<Option<Role>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT role AS "role: Role" FROM users WHERE id = $1 AND active"#, user.0,)
        .fetch_optional(conn)
        .await
}

/// Assigns a case to `assignee` (or to no one), as a new version.
pub async fn set_assignee(
    conn: &mut PgConnection,
    id: CaseId,
    assignee: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET assignee = $2, updated_at = $3, version = version + 1 WHERE id = $1",
        id.0,
        assignee as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// When request for information `rfi` of `case_id` was sent, if it is one of the case's.
pub async fn rfi_asked_on(conn: &mut PgConnection, rfi: RfiId, case_id: CaseId) -> Result<Option<Date>, sqlx::Error> {
    sqlx::query_scalar!("SELECT asked_on FROM case_rfis WHERE id = $1 AND case_id = $2", rfi.0, case_id.0)
        .fetch_optional(conn)
        .await
}

/// Records the answer to request for information `rfi` of `case_id`, received on `on`, if
/// it was still open; returns whether it was.
pub async fn answer_rfi(
    conn: &mut PgConnection,
    (rfi, case_id): (RfiId, CaseId),
    on: Date,
    answer: &str,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query!(
        "UPDATE case_rfis SET answered_on = $3, answer = $4 WHERE id = $1 AND case_id = $2 AND answered_on IS NULL",
        rfi.0,
        case_id.0,
        on,
        answer
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Puts a case under rule version `rule`, with the reason it is not the one in force on its
/// acceptance date (`None` when it is), as a new version.
pub async fn set_rule(
    conn: &mut PgConnection,
    id: CaseId,
    rule: &str,
    reason: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET rule_version = $2, rule_reason = $3, updated_at = $4, version = version + 1 WHERE id = $1",
        id.0,
        rule,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an extension of `clock` on a case by `days`, granted by `by` on `on` with a
/// written justification.
pub async fn insert_extension(
    conn: &mut PgConnection,
    case_id: CaseId,
    (clock, days): (ClockName, i32),
    justification: &str,
    by: UserId,
    (now, on): (OffsetDateTime, Date),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_extensions (id, case_id, clock, days, justification, granted_by, granted_at, granted_on) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        Uuid::now_v7(),
        case_id.0,
        clock as _,
        days,
        justification,
        by.0,
        now,
        on,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_keys_hold_only_what_the_columns_hold() {
        assert!(Sort::Docket.valid_key("ICTS-2026-014"));
        assert!(!Sort::Docket.valid_key("ICTS-2026-3000000000"), "above 2^31");
        assert!(!Sort::Docket.valid_key("ICTS-0-1"), "year 0");
        assert!(Sort::Newest.valid_key("2026-06-01T12:00:00Z"));
        assert!(!Sort::Newest.valid_key("2026-01-01T00:00:00+20:00"), "an offset PostgreSQL refuses");
        assert!(!Sort::Newest.valid_key("2026-01-01T05:00:00+05:00"), "only the UTC form a cursor writes");
        assert!(Sort::Due.valid_key("2026-01-01"));
        assert!(!Sort::Due.valid_key("+2026-01-01"), "a signed year");
        assert!(!Sort::Docket.valid_key("ICTS-+2026-001"), "a signed year");
        assert!(!Sort::Newest.valid_key("0000-06-01T12:00:00Z"), "year 0");
        assert!(!Sort::Due.valid_key("0000-01-01"));
        assert!(Sort::Due.valid_key("9999-12-31"));
    }

    #[test]
    fn a_docket_number_is_matched_exactly_and_its_start_by_the_words_it_begins() {
        use DocketMatch::*;
        let m = |q: &str| docket_match(q);
        assert_eq!(m("ICTS-2026-014"), Some(Exact("ICTS-2026-014".into())));
        assert_eq!(m(" icts-2026-1234 "), Some(Exact("ICTS-2026-1234".into())));
        assert_eq!(m("ICTS-2026-0014"), Some(Exact("ICTS-2026-014".into())), "the number, not its zeros");
        assert_eq!(m("icts-2026-01"), Some(Only("'-2026' & '-01':*".into())));
        assert_eq!(m("ICTS-2026"), Some(Only("'-2026'".into())));
        assert_eq!(m("ICTS-2026-"), Some(Only("'-2026'".into())));
        assert_eq!(m("2026-014"), Some(Also("'-2026' & '-014':*".into())));
        assert_eq!(m("2026-14"), Some(Also("'-2026' & '-14':*".into())));
        assert_eq!(m("-014"), Some(Also("'-014':*".into())));
        assert_eq!(m("014"), Some(Also("'-014':*".into())));
        assert_eq!(m("2026"), Some(Also("'-2026':*".into())));
        for not_a_docket in [
            "",
            "ICTS",
            "ICTS-",
            "ICTS-26",
            "Volga Technology 86330 Ltd.",
            "26-014",
            "2026-01a",
            "1':* | 'x",
            "0123456789",
        ] {
            assert_eq!(m(not_a_docket), None, "{not_a_docket:?}");
        }
    }

    #[test]
    fn search_buckets_are_weeks_from_the_epoch_grouped_by_four() {
        let t = OffsetDateTime::from_unix_timestamp(2969 * SEARCH_WEEK + 5).unwrap();
        assert_eq!(search_bucket(t, 0), 2969);
        assert_eq!(search_bucket(t, 2), 2969 >> 2);
        assert_eq!(search_bucket(t, 6), 2969 >> 6);
        assert_eq!(search_bucket_start(2969, 0), t - time::Duration::seconds(5));
        assert_eq!(search_bucket_start(2969 >> 2, 2).unix_timestamp(), (2968 * SEARCH_WEEK));
        let before = search_bucket_start(2969, 0) - time::Duration::microseconds(1);
        assert_eq!(search_bucket(before, 0), 2968);
    }
}
