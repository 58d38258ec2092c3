//! Enforcement SQL, checked at compile time: the adjusted statutory maximums, the matters
//! and their acts.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use super::model::{Act, ActKind, ActRow, Docket, EnforcementWork, Matter, MatterStage, Maximum, Provision, Standing};
use crate::db::keyset::Keyset;
use crate::ids::{CaseId, DeclarationId, MatterId, PartyId, UserId};

/// The maximum in force on `day`: the latest that took effect by then.
pub async fn maximum_on(conn: &mut PgConnection, day: Date) -> Result<Option<Maximum>, sqlx::Error> {
    sqlx::query_as!(
        Maximum,
        "SELECT effective_from, amount_cents, citation FROM penalty_maximums WHERE effective_from <= $1 \
         ORDER BY effective_from DESC LIMIT 1",
        day
    )
    .fetch_optional(conn)
    .await
}

/// Every maximum, latest first.
pub async fn maximums(conn: &mut PgConnection) -> Result<Vec<Maximum>, sqlx::Error> {
    sqlx::query_as!(
        Maximum,
        "SELECT effective_from, amount_cents, citation FROM penalty_maximums ORDER BY effective_from DESC"
    )
    .fetch_all(conn)
    .await
}

/// A matter's columns, with the names it links to.
macro_rules! select_matters {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Matter,
            r#"SELECT m.id AS "id: MatterId", m.number, m.docket AS "docket: Docket", m.party_id AS "party_id: PartyId",
                 p.legal_name AS party_name, m.case_id AS "case_id: CaseId", c.docket_number AS "case_docket?",
                 coalesce(c.restricted, false) AS "case_restricted!", c.assignee AS "case_assignee?: UserId",
                 m.declaration_id AS "declaration_id: DeclarationId", d.number AS "declaration_number?",
                 m.provision AS "provision: Provision", m.summary, m.violation_on, m.transaction_value_cents,
                 m.self_disclosed, m.stage AS "stage: MatterStage", m.answer_due_on, m.answered_on, m.last_act_on,
                 m.version, m.opened_on, m.opened_at
               FROM enforcement_matters m JOIN parties p ON p.id = m.party_id
                 LEFT JOIN cases c ON c.id = m.case_id
                 LEFT JOIN declarations d ON d.id = m.declaration_id "# + $rest
            $(, $arg)*
        )
    };
}

/// The next matter number in `year`: `ENF-2026-0042`.
pub async fn next_number(conn: &mut PgConnection, year: i32) -> Result<String, sqlx::Error> {
    let n: i64 = sqlx::query_scalar!(r#"SELECT nextval('enforcement_matter_numbers') AS "n!""#).fetch_one(conn).await?;
    Ok(format!("ENF-{year}-{n:04}"))
}

/// A matter to insert, checked.
pub struct NewMatterRow<'a> {
    pub id: MatterId,
    pub number: &'a str,
    pub party: PartyId,
    pub provision: Provision,
    pub case: Option<CaseId>,
    pub declaration: Option<DeclarationId>,
    pub summary: &'a str,
    pub violation_on: Date,
    pub value_cents: Option<i64>,
    pub self_disclosed: bool,
    pub opened_on: Date,
}

/// Inserts a matter, open.
pub async fn insert(
    conn: &mut PgConnection,
    m: &NewMatterRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO enforcement_matters (id, number, docket, party_id, case_id, declaration_id, provision, summary, \
           violation_on, transaction_value_cents, self_disclosed, opened_on, last_act_on, opened_at, opened_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $13)",
        m.id.0,
        m.number,
        m.provision.docket() as Docket,
        m.party.0,
        m.case.map(|c| c.0),
        m.declaration.map(|d| d.0),
        m.provision as Provision,
        m.summary,
        m.violation_on,
        m.value_cents,
        m.self_disclosed,
        m.opened_on,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an act of matter `id`.
pub async fn insert_act(
    conn: &mut PgConnection,
    id: MatterId,
    a: &Act,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO enforcement_acts (matter_id, kind, effective_on, amount_cents, due_on, note, recorded_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id.0,
        a.kind as ActKind,
        a.effective_on,
        a.amount_cents,
        a.due_on,
        a.note,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves matter `id` to where an act left it, from `version`; `false` when it changed
/// meanwhile.
pub async fn set_standing(
    conn: &mut PgConnection,
    id: MatterId,
    version: i64,
    s: &Standing,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE enforcement_matters SET stage = $3, answer_due_on = $4, answered_on = $5, last_act_on = $6, \
           version = version + 1, updated_at = $7 WHERE id = $1 AND version = $2",
        id.0,
        version,
        s.stage as MatterStage,
        s.answer_due_on,
        s.answered_on,
        s.last_act_on,
        at,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A matter.
pub async fn get(conn: &mut PgConnection, id: MatterId) -> Result<Option<Matter>, sqlx::Error> {
    select_matters!("WHERE m.id = $1", id.0).fetch_optional(conn).await
}

/// A matter's acts, in the order recorded.
pub async fn acts(conn: &mut PgConnection, id: MatterId) -> Result<Vec<ActRow>, sqlx::Error> {
    sqlx::query_as!(
        ActRow,
        r#"SELECT a.seq, a.kind AS "kind: ActKind", a.effective_on, a.amount_cents, a.due_on, a.note, a.recorded_at,
             u.name AS recorded_by
           FROM enforcement_acts a JOIN users u ON u.id = a.recorded_by WHERE a.matter_id = $1 ORDER BY a.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// The order of the matter list and where its page starts.
#[derive(Debug, Clone, Copy)]
pub enum MatterPage {
    /// Those awaiting an answer first, by the day it is due, then the rest in the order
    /// opened: by [`Matter::due_key`] and id.
    Due(Keyset<Date>),
    /// By the moment opened, newest or oldest first.
    Opened(Keyset<OffsetDateTime>),
}

impl MatterPage {
    /// Whether the page starts at a cursor (so it is not the first).
    pub fn from_cursor(&self) -> bool {
        match self {
            MatterPage::Due(k) => k.after.is_some(),
            MatterPage::Opened(k) => k.after.is_some(),
        }
    }
}

/// What the matter list shows: its filters, and where the page starts.
#[derive(Debug, Clone)]
pub struct Filter {
    /// A part of the number, the party's name or the alleged violation.
    pub q: Option<String>,
    pub stage: Option<MatterStage>,
    pub party: Option<PartyId>,
    pub page: MatterPage,
}

/// Who reads a list, for need-to-know: first-docket matters show as their cases do.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    /// Sees every case's matters.
    pub all_cases: bool,
    /// Sees unrestricted cases' matters (and the restricted ones assigned to `user`).
    pub open_cases: bool,
    pub user: UserId,
}

/// A page of the matter list `reader` may see, one row more when more follow.
pub async fn page(conn: &mut PgConnection, f: &Filter, reader: Reader) -> Result<Vec<Matter>, sqlx::Error> {
    let q = f.q.as_deref().map(crate::db::contains_pattern);
    let (stage, party) = (f.stage.map(|s| s.as_str()), f.party.map(|p| p.0));
    match f.page {
        MatterPage::Due(k) => {
            select_matters!(
                r#"WHERE ($1::text IS NULL OR m.stage = $1) AND ($2::uuid IS NULL OR m.party_id = $2)
                     AND ($3::text IS NULL OR m.number ILIKE $3 OR p.legal_name ILIKE $3 OR m.summary ILIKE $3)
                     AND (m.case_id IS NULL OR $8::boolean OR ($9::boolean AND (NOT c.restricted OR c.assignee = $10)))
                     AND ($4::date IS NULL
                          OR CASE WHEN $6::boolean
                                  THEN (coalesce(CASE WHEN m.answered_on IS NULL THEN m.answer_due_on END, DATE '9999-12-31'), m.id) > ($4, $5::uuid)
                                  ELSE (coalesce(CASE WHEN m.answered_on IS NULL THEN m.answer_due_on END, DATE '9999-12-31'), m.id) < ($4, $5::uuid) END)
                   ORDER BY CASE WHEN $6 THEN coalesce(CASE WHEN m.answered_on IS NULL THEN m.answer_due_on END, DATE '9999-12-31') END,
                            CASE WHEN $6 THEN m.id END,
                            coalesce(CASE WHEN m.answered_on IS NULL THEN m.answer_due_on END, DATE '9999-12-31') DESC, m.id DESC
                   LIMIT $7"#,
                stage,
                party,
                q,
                k.key(),
                k.id(),
                k.reads_ascending(),
                k.read_limit(),
                reader.all_cases,
                reader.open_cases,
                reader.user.0,
            )
            .fetch_all(conn)
            .await
        }
        MatterPage::Opened(k) => {
            select_matters!(
                r#"WHERE ($1::text IS NULL OR m.stage = $1) AND ($2::uuid IS NULL OR m.party_id = $2)
                     AND ($3::text IS NULL OR m.number ILIKE $3 OR p.legal_name ILIKE $3 OR m.summary ILIKE $3)
                     AND (m.case_id IS NULL OR $8::boolean OR ($9::boolean AND (NOT c.restricted OR c.assignee = $10)))
                     AND ($4::timestamptz IS NULL
                          OR CASE WHEN $6::boolean THEN (m.opened_at, m.id) > ($4, $5::uuid)
                                  ELSE (m.opened_at, m.id) < ($4, $5::uuid) END)
                   ORDER BY CASE WHEN $6 THEN m.opened_at END, CASE WHEN $6 THEN m.id END,
                            m.opened_at DESC, m.id DESC
                   LIMIT $7"#,
                stage,
                party,
                q,
                k.key(),
                k.id(),
                k.reads_ascending(),
                k.read_limit(),
                reader.all_cases,
                reader.open_cases,
                reader.user.0,
            )
            .fetch_all(conn)
            .await
        }
    }
}

/// How many matters `reader` may see match `f`'s filters, counted up to
/// [`crate::db::Total::CAP`].
pub async fn count(conn: &mut PgConnection, f: &Filter, reader: Reader) -> Result<crate::db::Total, sqlx::Error> {
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM enforcement_matters m JOIN parties p ON p.id = m.party_id
             LEFT JOIN cases c ON c.id = m.case_id
             WHERE ($1::text IS NULL OR m.stage = $1) AND ($2::uuid IS NULL OR m.party_id = $2)
               AND ($3::text IS NULL OR m.number ILIKE $3 OR p.legal_name ILIKE $3 OR m.summary ILIKE $3)
               AND (m.case_id IS NULL OR $4::boolean OR ($5::boolean AND (NOT c.restricted OR c.assignee = $6)))
             LIMIT $7) x"#,
        f.stage.map(|s| s.as_str()),
        f.party.map(|p| p.0),
        f.q.as_deref().map(crate::db::contains_pattern),
        reader.all_cases,
        reader.open_cases,
        reader.user.0,
        crate::db::Total::CAP + 1,
    )
    .fetch_one(conn)
    .await?;
    Ok(crate::db::Total::counted(n))
}

/// The matters of `party`, newest first; at most `limit` (filtered for need-to-know by
/// the caller).
pub async fn of_party(conn: &mut PgConnection, party: PartyId, limit: i64) -> Result<Vec<Matter>, sqlx::Error> {
    select_matters!("WHERE m.party_id = $1 ORDER BY m.opened_at DESC, m.id DESC LIMIT $2", party.0, limit)
        .fetch_all(conn)
        .await
}

/// Enforcement's counts for a home page on `today`.
pub async fn work(conn: &mut PgConnection, today: Date) -> Result<EnforcementWork, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE stage NOT IN ('settled', 'penalty_imposed', 'closed')) AS "open!",
             count(*) FILTER (WHERE answer_due_on >= $1 AND answered_on IS NULL) AS "due!",
             count(*) FILTER (WHERE answer_due_on < $1 AND answered_on IS NULL) AS "overdue!"
           FROM enforcement_matters"#,
        today
    )
    .fetch_one(conn)
    .await?;
    Ok(EnforcementWork { open: r.open, answers_due: r.due, answers_overdue: r.overdue })
}

/// A matter, locked for an act.
pub async fn lock(conn: &mut PgConnection, id: MatterId) -> Result<Option<Matter>, sqlx::Error> {
    select_matters!("WHERE m.id = $1 FOR UPDATE OF m", id.0).fetch_optional(conn).await
}

/// The matters whose number, party or alleged violation holds `q`, newest first; at most
/// `limit`.
pub async fn search(conn: &mut PgConnection, q: &str, limit: i64) -> Result<Vec<Matter>, sqlx::Error> {
    select_matters!(
        "WHERE m.number ILIKE $1 OR p.legal_name ILIKE $1 OR m.summary ILIKE $1 \
         ORDER BY m.opened_at DESC, m.id DESC LIMIT $2",
        crate::db::contains_pattern(q),
        limit,
    )
    .fetch_all(conn)
    .await
}
