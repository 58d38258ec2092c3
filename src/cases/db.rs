//! The SQL of cases. Functions take a connection (usually a transaction), never the state.

use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::clocks::{ClockInputs, ClockName, Extension, Toll};
use super::model::{CaseRow, NewCase, docket_number};
use super::workflow::Stage;
use crate::auth::Role;

/// The columns of [`CaseRow`] over a case `c` and its assignee `u`.
macro_rules! case_columns {
    () => {
        "c.id, c.docket_number, c.title, c.summary, c.origin, c.referring_agency, c.referral_date, \
    c.category, c.adversaries, c.rule_version, c.restricted, c.assignee, u.name AS assignee_name, c.stage, c.covered, \
    c.covered_note, c.nexus, c.nexus_note, c.undue_risk, c.undue_risk_note, c.accepted_on, c.agencies_notified_on, \
    c.initial_signed_by, c.served_on, c.response_received_on, c.circulated_on, c.final_decision, \
    c.final_signed_by, c.decided_on, c.final_due, c.preliminary_score, c.created_by, c.created_at, c.updated_at, c.version, \
    EXISTS (SELECT 1 FROM nexus_findings n WHERE n.case_id = c.id) AS has_nexus_finding, \
    EXISTS (SELECT 1 FROM assessments a WHERE a.case_id = c.id) AS has_assessment, \
    (SELECT count(*) FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'first') AS first_step_notices, \
    (SELECT count(*) FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'second') AS second_step_notices, \
    EXISTS (SELECT 1 FROM agency_notices an WHERE an.case_id = c.id AND an.step = 'second' AND an.response = 'object' \
        AND an.dispute_resolved_on IS NULL) AS unresolved_objection, \
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
/// the calling transaction ends, and a rollback gives the number back.
pub async fn next_docket(conn: &mut PgConnection, year: i32) -> Result<String, sqlx::Error> {
    let n: i32 = sqlx::query_scalar(
        "INSERT INTO docket_counters (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = docket_counters.last + 1 RETURNING last",
    )
    .bind(year)
    .fetch_one(conn)
    .await?;
    Ok(docket_number(year, n))
}

/// Inserts a new case at intake.
pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    docket: &str,
    c: &NewCase,
    assignee: Option<Uuid>,
    created_by: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cases (id, docket_number, title, summary, origin, referring_agency, referral_date, category, adversaries, \
         restricted, assignee, created_by, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)",
    )
    .bind(id)
    .bind(docket)
    .bind(&c.title)
    .bind(&c.summary)
    .bind(c.origin)
    .bind(&c.referring_agency)
    .bind(c.referral_date)
    .bind(&c.category)
    .bind(&c.adversaries)
    .bind(c.restricted)
    .bind(assignee)
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// One case, optionally locked for update.
pub async fn get(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<CaseRow>, sqlx::Error> {
    let sql = if lock {
        format!("{CASE_SELECT} WHERE c.id = $1 FOR UPDATE OF c")
    } else {
        format!("{CASE_SELECT} WHERE c.id = $1")
    };
    sqlx::query_as(&sql).bind(id).fetch_optional(conn).await
}

/// The SQL condition for "visible to this user" (need-to-know), over alias `c`.
fn push_visibility(qb: &mut QueryBuilder<'_, Postgres>, user: Uuid, role: Role) {
    match role {
        Role::Supervisor | Role::Auditor => qb.push(" AND true"),
        Role::Admin => qb.push(" AND false"),
        Role::Analyst => qb.push(" AND (NOT c.restricted OR c.assignee = ").push_bind(user).push(")"),
    };
}

/// Which assignee a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Cases assigned to this user.
    User(Uuid),
    /// Cases with no assignee.
    Unassigned,
}

/// List orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
            Sort::Newest | Sort::Oldest => {
                OffsetDateTime::parse(key, &time::format_description::well_known::Rfc3339).is_ok()
            }
            Sort::Docket => {
                let parts: Vec<&str> = key.split('-').collect();
                parts.len() == 3
                    && parts[0] == "ICTS"
                    && parts[1].parse::<u16>().is_ok()
                    && parts[2].parse::<u32>().is_ok()
            }
            Sort::Due => super::model::parse_date(key).is_some(),
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
    /// Stage.
    pub stage: Option<Stage>,
    /// Category code.
    pub category: Option<String>,
    /// Adversary code.
    pub adversary: Option<String>,
    /// Assignee.
    pub assignee: Option<AssigneeFilter>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Only cases with a due date within this many days (and not overdue).
    pub due_within: Option<i64>,
    /// Full-text query.
    pub q: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Keyset cursor: the sort key and id of the last row of the previous page.
    pub after: Option<(String, Uuid)>,
    /// Page size.
    pub limit: i64,
}

impl Default for CaseFilter {
    fn default() -> Self {
        CaseFilter {
            stage: None,
            category: None,
            adversary: None,
            assignee: None,
            overdue: false,
            due_within: None,
            q: None,
            sort: Sort::Newest,
            after: None,
            limit: 50,
        }
    }
}

fn push_filters<'a>(qb: &mut QueryBuilder<'a, Postgres>, f: &'a CaseFilter, user: Uuid, role: Role, today: Date) {
    push_visibility(qb, user, role);
    if let Some(s) = f.stage {
        qb.push(" AND c.stage = ").push_bind(s);
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
    const OPEN: &str = " AND c.stage NOT IN ('rejected','closed_no_action','decided','monitoring','compliance_review','closed') AND NOT c.clocks_paused";
    if f.overdue {
        qb.push(OPEN)
            .push(" AND (c.final_due < ")
            .push_bind(today)
            .push(" OR (c.stage = 'response_period' AND c.response_due < ")
            .push_bind(today)
            .push("))");
    }
    if let Some(days) = f.due_within {
        let until = today + time::Duration::days(days);
        // Two indexed lookups instead of one OR, which made the planner walk the due order
        // through every overdue case (590 ms → 2.7 ms at 300,000 cases).
        qb.push(OPEN)
            .push(" AND c.id IN (SELECT id FROM cases WHERE final_due >= ")
            .push_bind(today)
            .push(" AND final_due <= ")
            .push_bind(until)
            .push(" UNION ALL SELECT id FROM cases WHERE stage = 'response_period' AND response_due >= ")
            .push_bind(today)
            .push(" AND response_due <= ")
            .push_bind(until)
            .push(")");
    }
    if let Some(q) = &f.q {
        // Titles, summaries and notes are stemmed (english); docket numbers and party names
        // are not (simple): match either, in one test of the document per case. A query
        // with a digit may also be part of a docket number.
        qb.push(" AND (c.search_doc @@ (websearch_to_tsquery('english', ")
            .push_bind(q)
            .push(") || websearch_to_tsquery('simple', ")
            .push_bind(q)
            .push("))");
        if q.chars().any(|c| c.is_ascii_digit()) {
            qb.push(" OR c.docket_number ILIKE ").push_bind(format!("%{}%", q.replace('%', "").replace('_', "\\_")));
        }
        qb.push(")");
    }
}

/// One page of visible cases, and the cursor of the next page.
pub async fn list(
    conn: &mut PgConnection,
    f: &CaseFilter,
    user: Uuid,
    role: Role,
    today: Date,
) -> Result<(Vec<CaseRow>, Option<String>), sqlx::Error> {
    // The page is chosen from `cases` alone (filters, order, limit: one index walk), and
    // only its rows get the assignee and the per-case subqueries. With them in the same
    // query level, a plan that sorts (stale statistics after a bulk intake, a filter
    // matching thousands) ran every subquery for every matching row: 175 ms for the
    // unassigned queue after 30,000 cases were imported.
    let mut qb = QueryBuilder::new(concat!("SELECT ", case_columns!(), "FROM (SELECT c.* FROM cases c WHERE true"));
    push_filters(&mut qb, f, user, role, today);
    if let Some((k, id)) = &f.after {
        match f.sort {
            Sort::Newest | Sort::Oldest => {
                let op = if f.sort.descending() { "<" } else { ">" };
                qb.push(format!(" AND (c.created_at, c.id) {op} (CAST("))
                    .push_bind(k)
                    .push(" AS timestamptz), ")
                    .push_bind(*id)
                    .push(")");
            }
            Sort::Docket => {
                qb.push(" AND (c.docket_year, c.docket_seq, c.id) > (split_part(")
                    .push_bind(k)
                    .push(", '-', 2)::integer, split_part(")
                    .push_bind(k)
                    .push(", '-', 3)::integer, ")
                    .push_bind(*id)
                    .push(")");
            }
            Sort::Triage => {
                qb.push(" AND (coalesce(c.preliminary_score, -1), c.id) < (CAST(")
                    .push_bind(k)
                    .push(" AS integer), ")
                    .push_bind(*id)
                    .push(")");
            }
            Sort::Due => {
                qb.push(" AND (coalesce(c.final_due, DATE '9999-12-31'), c.id) > (CAST(")
                    .push_bind(k)
                    .push(" AS date), ")
                    .push_bind(*id)
                    .push(")");
            }
        }
    }
    qb.push(format!(" ORDER BY {} LIMIT ", f.sort.order_by())).push_bind(f.limit + 1);
    qb.push(format!(") c LEFT JOIN users u ON u.id = c.assignee ORDER BY {}", f.sort.order_by()));
    let mut rows: Vec<CaseRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let next = if rows.len() as i64 > f.limit {
        rows.truncate(f.limit as usize);
        let last = rows.last().expect("a full page");
        Some(format!("{}~{}", f.sort.cursor_key(last), last.id))
    } else {
        None
    };
    Ok((rows, next))
}

/// Counts of visible cases per stage (for the dashboard chart).
/// Read from `case_stage_counts` (kept by triggers in every transaction that changes a
/// case); an analyst's counts add their own restricted cases, which only they see.
pub async fn count_by_stage(conn: &mut PgConnection, user: Uuid, role: Role) -> Result<Vec<(Stage, i64)>, sqlx::Error> {
    match role {
        Role::Admin => Ok(Vec::new()),
        Role::Supervisor | Role::Auditor => {
            sqlx::query_as("SELECT stage, sum(n)::bigint FROM case_stage_counts GROUP BY stage HAVING sum(n) > 0")
                .fetch_all(conn)
                .await
        }
        Role::Analyst => {
            sqlx::query_as(
                "SELECT stage, sum(n)::bigint FROM (SELECT stage, n FROM case_stage_counts WHERE NOT restricted \
                 UNION ALL SELECT stage, count(*) FROM cases WHERE restricted AND assignee = $1 GROUP BY stage) x \
                 GROUP BY stage HAVING sum(n) > 0",
            )
            .bind(user)
            .fetch_all(conn)
            .await
        }
    }
}

/// The facts the clocks need, loaded for one case.
pub async fn clock_inputs(conn: &mut PgConnection, c: &CaseRow, today: Date) -> Result<ClockInputs, sqlx::Error> {
    let extensions: Vec<(ClockName, i32)> =
        sqlx::query_as("SELECT clock, days FROM case_extensions WHERE case_id = $1")
            .bind(c.id)
            .fetch_all(&mut *conn)
            .await?;
    let tolls: Vec<(Vec<ClockName>, Date, Option<Date>)> = sqlx::query_as(
        "SELECT tolls, asked_on, answered_on FROM case_rfis WHERE case_id = $1 AND cardinality(tolls) > 0",
    )
    .bind(c.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ClockInputs {
        rule: c.rule(),
        stage: c.stage,
        accepted_on: c.accepted_on,
        agencies_notified_on: c.agencies_notified_on,
        served_on: c.served_on,
        circulated_on: c.circulated_on,
        extensions: extensions.into_iter().map(|(clock, days)| Extension { clock, days: days.into() }).collect(),
        tolls: tolls.into_iter().map(|(clocks, from, until)| Toll { clocks, from, until }).collect(),
        today,
    })
}

/// Stores the due dates the list filters use.
pub async fn store_dues(
    conn: &mut PgConnection,
    id: Uuid,
    final_due: Option<Date>,
    response_due: Option<Date>,
    paused: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE cases SET final_due = $2, response_due = $3, clocks_paused = $4 WHERE id = $1")
        .bind(id)
        .bind(final_due)
        .bind(response_due)
        .bind(paused)
        .execute(conn)
        .await?;
    Ok(())
}
