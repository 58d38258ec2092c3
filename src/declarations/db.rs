//! Declaration SQL, checked against the schema at compile time: filer roles, declarations
//! and their history, the list's pages.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use super::model::{
    Checked, Declaration, DeclarationKind, DeclarationStatus, DueDate, FilerRole, FilerRoleRow, HistoryEntry, Missing,
    Question, Work,
};
use crate::ids::{DeclarationId, PartyId, UserId};

/// A declaration's columns, with its filer's name.
macro_rules! select_declarations {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Declaration,
            r#"SELECT d.id AS "id: DeclarationId", d.number, d.filer_id AS "filer_id: PartyId",
                 p.legal_name AS filer_name, d.kind AS "kind: DeclarationKind", d.model_year, d.calendar_year,
                 d.covers, d.certifications, d.general_authorization, d.filed_on, d.received_at, d.via,
                 d.status AS "status: DeclarationStatus", d.status_reason, d.amends AS "amends: DeclarationId",
                 d.amendment_reason, d.superseded_by AS "superseded_by: DeclarationId", d.version,
                 (d.amends IS NULL AND d.filed_on > coalesce(dd.due_on, 'infinity'::date)) AS "late!"
               FROM declarations d JOIN parties p ON p.id = d.filer_id
                 LEFT JOIN declaration_due_dates dd ON dd.year = coalesce(d.model_year, d.calendar_year) "# + $rest
            $(, $arg)*
        )
    };
}

/// A party's filer roles.
pub async fn filer_roles(conn: &mut PgConnection, party: PartyId) -> Result<Vec<FilerRoleRow>, sqlx::Error> {
    sqlx::query_as!(
        FilerRoleRow,
        r#"SELECT role AS "role: FilerRole", since FROM filer_roles WHERE party_id = $1 ORDER BY role"#,
        party.0
    )
    .fetch_all(conn)
    .await
}

/// The parties that hold a filer role, by name; at most `limit`.
pub async fn filers(conn: &mut PgConnection, limit: i64) -> Result<Vec<(PartyId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT p.id AS "id: PartyId", p.legal_name FROM parties p
           WHERE EXISTS (SELECT 1 FROM filer_roles r WHERE r.party_id = p.id) ORDER BY p.legal_name, p.id LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.legal_name))
    .collect())
}

/// How many filer roles the office has recorded, counted up to `cap`.
pub async fn filer_roles_to(conn: &mut PgConnection, cap: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM filer_roles LIMIT $1) x"#, cap)
        .fetch_one(conn)
        .await
}

/// The filers whose name or alias holds `q` (any case), by name; at most `limit`.
pub async fn filers_like(conn: &mut PgConnection, q: &str, limit: i64) -> Result<Vec<(PartyId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT p.id AS "id: PartyId", p.legal_name FROM parties p
           WHERE party_search_text(p.legal_name, p.aliases) ILIKE $1
             AND EXISTS (SELECT 1 FROM filer_roles r WHERE r.party_id = p.id)
           ORDER BY p.legal_name, p.id LIMIT $2"#,
        crate::db::contains_pattern(q),
        limit
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.legal_name))
    .collect())
}

/// Records a party's filer role; `false` when it holds it already.
pub async fn insert_filer_role(
    conn: &mut PgConnection,
    party: PartyId,
    role: FilerRole,
    since: Date,
    (by, at): (UserId, OffsetDateTime),
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO filer_roles (party_id, role, since, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (party_id, role) DO NOTHING",
        party.0,
        role as FilerRole,
        since,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The next number of the office's declarations in `year`: `CVD-2026-000042`.
pub async fn next_number(conn: &mut PgConnection, year: i32) -> Result<String, sqlx::Error> {
    let n: i64 = sqlx::query_scalar!(r#"SELECT nextval('declaration_numbers') AS "n!""#).fetch_one(conn).await?;
    Ok(format!("CVD-{year}-{n:06}"))
}

/// The next `n` numbers of the office's declarations in `year`, in order.
pub async fn next_numbers(conn: &mut PgConnection, year: i32, n: i64) -> Result<Vec<String>, sqlx::Error> {
    let ns: Vec<i64> = sqlx::query_scalar!(
        r#"SELECT nextval('declaration_numbers') AS "n!" FROM generate_series(1, $1::bigint) ORDER BY 1"#,
        n
    )
    .fetch_all(conn)
    .await?;
    Ok(ns.into_iter().map(|n| format!("CVD-{year}-{n:06}")).collect())
}

/// Inserts declarations received together (a file) by `by`, each with its "received"
/// history, a few thousand rows a statement; how many went in (fewer when one was in force
/// already for the same filer, kind and year).
pub async fn insert_many(
    conn: &mut PgConnection,
    rows: &[NewRow<'_>],
    (by, at): (UserId, OffsetDateTime),
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    for chunk in rows.chunks(5_000) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id.0, "number": r.number, "filer_id": r.d.filer_id.0, "kind": r.d.kind.as_str(),
                    "model_year": r.d.model_year, "calendar_year": r.d.calendar_year, "covers": r.d.covers,
                    "certifications": r.d.certifications, "general_authorization": r.d.general_authorization,
                    "filed_on": r.d.filed_on.to_string(), "via": r.via,
                })
            })
            .collect();
        let done = sqlx::query!(
            r#"INSERT INTO declarations (id, number, filer_id, kind, model_year, calendar_year, covers, certifications,
                 general_authorization, filed_on, received_at, received_by, via, updated_at)
               SELECT x.id, x.number, x.filer_id, x.kind, x.model_year, x.calendar_year, x.covers, x.certifications,
                 x.general_authorization, x.filed_on, $2, $3, x.via, $2
               FROM jsonb_to_recordset($1) AS x(id uuid, number text, filer_id uuid, kind text, model_year bigint,
                 calendar_year bigint, covers text[], certifications text[], general_authorization text, filed_on date,
                 via text)
               ON CONFLICT DO NOTHING"#,
            serde_json::Value::Array(json),
            at,
            by.0
        )
        .execute(&mut *conn)
        .await?;
        inserted += done.rows_affected();
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|r| r.id.0).collect();
        sqlx::query!(
            "INSERT INTO declaration_history (declaration_id, at, by_user, status_before, status_after, reason) \
             SELECT d.id, $2, $3, NULL, 'received', '' FROM declarations d WHERE d.id = ANY($1) ORDER BY d.number",
            &ids,
            at,
            by.0
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(inserted)
}

/// A declaration to insert.
pub struct NewRow<'a> {
    pub id: DeclarationId,
    pub number: &'a str,
    pub d: &'a Checked,
    pub via: &'a str,
    pub amends: Option<(DeclarationId, &'a str)>,
}

/// Inserts a declaration, received now by `by`; `false` when another is in force for the
/// same filer, kind and year (the unique index says so).
pub async fn insert(
    conn: &mut PgConnection,
    r: &NewRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> Result<bool, sqlx::Error> {
    let (amends, reason) = r.amends.map_or((None, ""), |(id, why)| (Some(id.0), why));
    let done = sqlx::query!(
        "INSERT INTO declarations (id, number, filer_id, kind, model_year, calendar_year, covers, certifications, \
           general_authorization, filed_on, received_at, received_by, via, amends, amendment_reason, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $11) \
         ON CONFLICT DO NOTHING",
        r.id.0,
        r.number,
        r.d.filer_id.0,
        r.d.kind as DeclarationKind,
        r.d.model_year,
        r.d.calendar_year,
        &r.d.covers,
        &r.d.certifications,
        r.d.general_authorization,
        r.d.filed_on,
        at,
        by.0,
        r.via,
        amends,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The declaration in force for a filer, kind and year.
pub async fn in_force(conn: &mut PgConnection, d: &Checked) -> Result<Option<(DeclarationId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT id AS "id: DeclarationId", number FROM declarations
           WHERE filer_id = $1 AND kind = $2 AND model_year IS NOT DISTINCT FROM $3
             AND calendar_year IS NOT DISTINCT FROM $4 AND superseded_by IS NULL"#,
        d.filer_id.0,
        d.kind as DeclarationKind,
        d.model_year,
        d.calendar_year,
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.id, r.number)))
}

/// A declaration.
pub async fn get(conn: &mut PgConnection, id: DeclarationId) -> Result<Option<Declaration>, sqlx::Error> {
    select_declarations!("WHERE d.id = $1", id.0).fetch_optional(conn).await
}

/// A declaration's number.
pub async fn number(conn: &mut PgConnection, id: DeclarationId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT number FROM declarations WHERE id = $1", id.0).fetch_optional(conn).await
}

/// A declaration, locked for a change.
pub async fn lock(conn: &mut PgConnection, id: DeclarationId) -> Result<Option<Declaration>, sqlx::Error> {
    select_declarations!("WHERE d.id = $1 FOR UPDATE OF d", id.0).fetch_optional(conn).await
}

/// Moves a declaration to `to` with its reason, and its version on.
pub async fn set_status(
    conn: &mut PgConnection,
    id: DeclarationId,
    to: DeclarationStatus,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE declarations SET status = $2, status_reason = $3, version = version + 1, updated_at = $4 WHERE id = $1",
        id.0,
        to as DeclarationStatus,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a declaration superseded by its amendment (inserted after, in the same
/// transaction: the reference is checked at commit).
pub async fn supersede(
    conn: &mut PgConnection,
    id: DeclarationId,
    by: DeclarationId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE declarations SET status = 'superseded', superseded_by = $2, version = version + 1, updated_at = $3 \
         WHERE id = $1",
        id.0,
        by.0,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a status a declaration went through.
pub async fn record_history(
    conn: &mut PgConnection,
    id: DeclarationId,
    (before, after): (Option<DeclarationStatus>, DeclarationStatus),
    reason: &str,
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO declaration_history (declaration_id, at, by_user, status_before, status_after, reason) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        id.0,
        at,
        by.0,
        before as Option<DeclarationStatus>,
        after as DeclarationStatus,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A declaration's history, oldest first.
pub async fn history(conn: &mut PgConnection, id: DeclarationId) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    sqlx::query_as!(
        HistoryEntry,
        r#"SELECT h.at, h.by_user AS "by: UserId", u.name AS by_name,
             h.status_before AS "status_before: DeclarationStatus", h.status_after AS "status_after: DeclarationStatus",
             h.reason
           FROM declaration_history h JOIN users u ON u.id = h.by_user
           WHERE h.declaration_id = $1 ORDER BY h.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// A filer's declarations, newest first.
pub async fn of_filer(conn: &mut PgConnection, filer: PartyId) -> Result<Vec<Declaration>, sqlx::Error> {
    select_declarations!("WHERE d.filer_id = $1 ORDER BY d.received_at DESC, d.id DESC", filer.0).fetch_all(conn).await
}

/// What the declaration list shows: its filters, and where the page starts.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Number, filer name or an item covered (a part of it).
    pub q: Option<String>,
    pub status: Option<DeclarationStatus>,
    pub kind: Option<DeclarationKind>,
    /// Model year, or calendar year for hardware.
    pub year: Option<i64>,
    pub filer: Option<PartyId>,
    /// The (received at, id) the page continues after, newest first; or before, going back.
    pub after: Option<(OffsetDateTime, DeclarationId)>,
    pub backwards: bool,
    pub limit: i64,
    /// The search's matches as the trigram indexes read them ([`search_ids`]), read once
    /// for the filter: the page and its total share them.
    pub matches: tokio::sync::OnceCell<Option<Vec<uuid::Uuid>>>,
}

use crate::db::contains_pattern as pattern;

/// The most matches of a search the list reads through the trigram indexes (the
/// declarations' text, 0056, and the parties' names, 0014) and then sorts; a search with
/// more (a common word: its matches are dense in the list's order) walks the list in its
/// order instead, testing each declaration, which stops as soon as a page is found.
pub const SEARCH_PROBE: usize = 2_000;

/// The declarations whose number, items covered or filer's name or alias hold `q`, read
/// through the trigram indexes: `None` when there are more than [`SEARCH_PROBE`].
async fn search_ids(conn: &mut PgConnection, q: &str) -> Result<Option<Vec<uuid::Uuid>>, sqlx::Error> {
    let mut ids: Vec<uuid::Uuid> = sqlx::query_scalar!(
        r#"SELECT x.id AS "id!" FROM (
             SELECT d.id FROM declarations d WHERE declaration_search_text(d.number, d.covers) ILIKE $1
             UNION ALL
             SELECT d.id FROM declarations d
               WHERE d.filer_id IN (SELECT s.id FROM parties s WHERE party_search_text(s.legal_name, s.aliases) ILIKE $1)
           ) x LIMIT $2"#,
        pattern(q),
        (2 * SEARCH_PROBE + 1) as i64
    )
    .fetch_all(conn)
    .await?;
    ids.sort_unstable();
    ids.dedup();
    Ok((ids.len() <= SEARCH_PROBE).then_some(ids))
}

/// The matches of `f`'s search read through the indexes, once per filter: `None` without
/// a search, or when it has more than [`SEARCH_PROBE`].
async fn matches<'f>(conn: &mut PgConnection, f: &'f Filter) -> Result<Option<&'f [uuid::Uuid]>, sqlx::Error> {
    let Some(q) = f.q.as_deref() else { return Ok(None) };
    Ok(f.matches.get_or_try_init(|| search_ids(conn, q)).await?.as_deref())
}

/// A page of the declarations among `ids` that `f`'s other filters keep, in the list's
/// order (see [`page`]).
async fn page_among(conn: &mut PgConnection, f: &Filter, ids: &[uuid::Uuid]) -> Result<Vec<Declaration>, sqlx::Error> {
    let (at, id) = f.after.map_or((None, None), |(at, id)| (Some(at), Some(id.0)));
    select_declarations!(
        r#"WHERE d.id = ANY($1)
             AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.kind = $3)
             AND ($4::bigint IS NULL OR coalesce(d.model_year, d.calendar_year) = $4)
             AND ($5::uuid IS NULL OR d.filer_id = $5)
             AND ($6::timestamptz IS NULL
                  OR CASE WHEN $8::boolean THEN (d.received_at, d.id) > ($6, $7::uuid)
                          ELSE (d.received_at, d.id) < ($6, $7::uuid) END)
           ORDER BY CASE WHEN $8 THEN d.received_at END, CASE WHEN $8 THEN d.id END,
                    d.received_at DESC, d.id DESC
           LIMIT $9"#,
        ids,
        f.status as Option<DeclarationStatus>,
        f.kind as Option<DeclarationKind>,
        f.year,
        f.filer.map(|p| p.0),
        at,
        id,
        f.backwards,
        f.limit + 1
    )
    .fetch_all(conn)
    .await
}

/// A page of the declaration list with one row more than the page when there is more: newest
/// first, or oldest first going back (see [`crate::db::Page::from_read`]).
pub async fn page(conn: &mut PgConnection, f: &Filter) -> Result<Vec<Declaration>, sqlx::Error> {
    if let Some(ids) = matches(&mut *conn, f).await? {
        return page_among(conn, f, ids).await;
    }
    let q = f.q.as_deref().map(pattern);
    let (at, id) = f.after.map_or((None, None), |(at, id)| (Some(at), Some(id.0)));
    let (status, kind, filer) = (f.status, f.kind, f.filer.map(|p| p.0));
    if f.backwards {
        return select_declarations!(
            r#"WHERE ($1::text IS NULL OR declaration_search_text(d.number, d.covers) ILIKE $1
                   OR d.filer_id IN (SELECT s.id FROM parties s WHERE party_search_text(s.legal_name, s.aliases) ILIKE $1))
                 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.kind = $3)
                 AND ($4::bigint IS NULL OR coalesce(d.model_year, d.calendar_year) = $4)
                 AND ($5::uuid IS NULL OR d.filer_id = $5)
                 AND (d.received_at, d.id) > ($6, $7)
               ORDER BY d.received_at, d.id LIMIT $8"#,
            q,
            status as Option<DeclarationStatus>,
            kind as Option<DeclarationKind>,
            f.year,
            filer,
            at,
            id,
            f.limit + 1
        )
        .fetch_all(conn)
        .await;
    }
    select_declarations!(
        r#"WHERE ($1::text IS NULL OR declaration_search_text(d.number, d.covers) ILIKE $1
                   OR d.filer_id IN (SELECT s.id FROM parties s WHERE party_search_text(s.legal_name, s.aliases) ILIKE $1))
             AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.kind = $3)
             AND ($4::bigint IS NULL OR coalesce(d.model_year, d.calendar_year) = $4)
             AND ($5::uuid IS NULL OR d.filer_id = $5)
             AND ($6::timestamptz IS NULL OR (d.received_at, d.id) < ($6, $7))
           ORDER BY d.received_at DESC, d.id DESC LIMIT $8"#,
        q,
        status as Option<DeclarationStatus>,
        kind as Option<DeclarationKind>,
        f.year,
        filer,
        at,
        id,
        f.limit + 1
    )
    .fetch_all(conn)
    .await
}

/// How many declarations match `f`'s filters, counted up to [`crate::db::Total::CAP`].
pub async fn count(conn: &mut PgConnection, f: &Filter) -> Result<crate::db::Total, sqlx::Error> {
    let ids = matches(&mut *conn, f).await?;
    // A common word alone: more matches than the indexes' reading takes, which is all the
    // total says (counting them would walk the list).
    if f.q.is_some() && ids.is_none() && (f.status, f.kind, f.year, f.filer) == (None, None, None, None) {
        return Ok(crate::db::Total::MoreThan(SEARCH_PROBE as i64));
    }
    if let Some(ids) = ids {
        let n: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM declarations d WHERE d.id = ANY($1)
                 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.kind = $3)
                 AND ($4::bigint IS NULL OR coalesce(d.model_year, d.calendar_year) = $4)
                 AND ($5::uuid IS NULL OR d.filer_id = $5)"#,
            ids,
            f.status as Option<DeclarationStatus>,
            f.kind as Option<DeclarationKind>,
            f.year,
            f.filer.map(|p| p.0)
        )
        .fetch_one(conn)
        .await?;
        return Ok(crate::db::Total::counted(n));
    }
    let q = f.q.as_deref().map(pattern);
    let n: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM (SELECT 1 FROM declarations d
             WHERE ($1::text IS NULL OR declaration_search_text(d.number, d.covers) ILIKE $1
                   OR d.filer_id IN (SELECT s.id FROM parties s WHERE party_search_text(s.legal_name, s.aliases) ILIKE $1))
               AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.kind = $3)
               AND ($4::bigint IS NULL OR coalesce(d.model_year, d.calendar_year) = $4)
               AND ($5::uuid IS NULL OR d.filer_id = $5)
             LIMIT $6) x"#,
        q,
        f.status as Option<DeclarationStatus>,
        f.kind as Option<DeclarationKind>,
        f.year,
        f.filer.map(|p| p.0),
        crate::db::Total::CAP + 1
    )
    .fetch_one(conn)
    .await?;
    Ok(crate::db::Total::counted(n))
}

/// The dates by which the office expects each year's declarations, latest year first.
pub async fn due_dates(conn: &mut PgConnection) -> Result<Vec<DueDate>, sqlx::Error> {
    sqlx::query_as!(DueDate, "SELECT year, due_on, note FROM declaration_due_dates ORDER BY year DESC")
        .fetch_all(conn)
        .await
}

/// Sets the date by which `year`'s declarations are expected; the one it replaces, if any.
pub async fn set_due_date(
    conn: &mut PgConnection,
    d: &DueDate,
    (by, at): (UserId, OffsetDateTime),
) -> Result<Option<Date>, sqlx::Error> {
    let before = sqlx::query_scalar!("SELECT due_on FROM declaration_due_dates WHERE year = $1 FOR UPDATE", d.year)
        .fetch_optional(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO declaration_due_dates (year, due_on, note, set_at, set_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (year) DO UPDATE SET due_on = $2, note = $3, set_at = $4, set_by = $5",
        d.year,
        d.due_on,
        d.note,
        at,
        by.0
    )
    .execute(conn)
    .await?;
    Ok(before)
}

/// The filers expected but missing on `today`: in their role by a year's due date that has
/// passed, with no declaration of their role's kinds for the year (a hardware importer's
/// by model or calendar year).
pub async fn missing(conn: &mut PgConnection, today: Date) -> Result<Vec<Missing>, sqlx::Error> {
    sqlx::query_as!(
        Missing,
        r#"SELECT p.id AS "filer_id: PartyId", p.legal_name AS filer_name, r.role AS "role: FilerRole", dd.year,
             dd.due_on
           FROM declaration_due_dates dd
             JOIN filer_roles r ON r.since <= dd.due_on
             JOIN parties p ON p.id = r.party_id
           WHERE dd.due_on < $1
             AND NOT EXISTS (SELECT 1 FROM declarations d
                 WHERE d.filer_id = r.party_id AND coalesce(d.model_year, d.calendar_year) = dd.year
                   AND (d.kind = 'hardware') = (r.role = 'hardware_importer'))
           ORDER BY dd.year DESC, p.legal_name, r.role
           LIMIT 1000"#,
        today
    )
    .fetch_all(conn)
    .await
}

/// How many declarations in force wait at each step of the review, and how many are late.
pub async fn work(conn: &mut PgConnection) -> Result<Work, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE d.status = 'received') AS "received!",
             count(*) FILTER (WHERE d.status = 'under_review') AS "under_review!",
             count(*) FILTER (WHERE d.status = 'questions_asked') AS "questions_asked!",
             count(*) FILTER (WHERE d.amends IS NULL AND d.filed_on > dd.due_on) AS "late!"
           FROM declarations d
             LEFT JOIN declaration_due_dates dd ON dd.year = coalesce(d.model_year, d.calendar_year)
           WHERE d.superseded_by IS NULL"#
    )
    .fetch_one(conn)
    .await?;
    Ok(Work {
        received: r.received,
        under_review: r.under_review,
        questions_asked: r.questions_asked,
        late: r.late,
        missing: 0,
    })
}

/// The parties a file names, by id or by legal name (lower case), each with its name and
/// filer roles.
pub async fn filers_named(
    conn: &mut PgConnection,
    names: &[String],
) -> Result<std::collections::HashMap<String, (PartyId, String, Vec<FilerRole>)>, sqlx::Error> {
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let rows = sqlx::query!(
        r#"SELECT p.id AS "id: PartyId", p.legal_name,
             coalesce(array_agg(r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS "roles!: Vec<FilerRole>"
           FROM parties p LEFT JOIN filer_roles r ON r.party_id = p.id
           WHERE p.id::text = ANY($1) OR lower(p.legal_name) = ANY($1)
           GROUP BY p.id, p.legal_name"#,
        &lower
    )
    .fetch_all(conn)
    .await?;
    let mut found = std::collections::HashMap::new();
    for r in rows {
        found.insert(r.id.to_string(), (r.id, r.legal_name.clone(), r.roles.clone()));
        found.insert(r.legal_name.to_lowercase(), (r.id, r.legal_name, r.roles));
    }
    Ok(found)
}

/// The declarations in force of these filers, by (filer, kind, model year, calendar year).
pub async fn in_force_of(
    conn: &mut PgConnection,
    filers: &[PartyId],
) -> Result<std::collections::HashMap<(PartyId, DeclarationKind, Option<i64>, Option<i64>), String>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = filers.iter().map(|f| f.0).collect();
    Ok(sqlx::query!(
        r#"SELECT filer_id AS "filer_id: PartyId", kind AS "kind: DeclarationKind", model_year, calendar_year, number
           FROM declarations WHERE filer_id = ANY($1) AND superseded_by IS NULL"#,
        &ids
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| ((r.filer_id, r.kind, r.model_year, r.calendar_year), r.number))
    .collect())
}

/// The filer of declaration `id`.
pub async fn filer_of(conn: &mut PgConnection, id: DeclarationId) -> Result<Option<PartyId>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT filer_id AS "filer_id: PartyId" FROM declarations WHERE id = $1"#, id.0)
        .fetch_optional(conn)
        .await
}

/// Records a question asked of a declaration's filer.
pub async fn insert_question(
    conn: &mut PgConnection,
    id: DeclarationId,
    question: &str,
    asked_on: Date,
    (by, at): (UserId, OffsetDateTime),
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO declaration_questions (declaration_id, question, asked_on, asked_at, asked_by) \
         VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        id.0,
        question,
        asked_on,
        at,
        by.0
    )
    .fetch_one(conn)
    .await
}

/// When question `seq` of declaration `id` was asked and whether it is answered, locked
/// for its answer; `None` when there is no such question.
pub async fn lock_question(
    conn: &mut PgConnection,
    id: DeclarationId,
    seq: i64,
) -> Result<Option<(Date, bool)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT asked_on, answered_on IS NOT NULL AS "answered!" FROM declaration_questions
           WHERE declaration_id = $1 AND seq = $2 FOR UPDATE"#,
        id.0,
        seq
    )
    .fetch_optional(conn)
    .await?
    .map(|q| (q.asked_on, q.answered)))
}

/// Records the answer to question `seq` of declaration `id`.
pub async fn set_answer(
    conn: &mut PgConnection,
    id: DeclarationId,
    seq: i64,
    (answer, answered_on): (&str, Date),
    (by, at): (UserId, OffsetDateTime),
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE declaration_questions SET answered_on = $3, answer = $4, answered_at = $5, answered_by = $6 \
         WHERE declaration_id = $1 AND seq = $2",
        id.0,
        seq,
        answered_on,
        answer,
        at,
        by.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A declaration's questions, in the order asked.
pub async fn questions(conn: &mut PgConnection, id: DeclarationId) -> Result<Vec<Question>, sqlx::Error> {
    sqlx::query_as!(
        Question,
        r#"SELECT q.seq, q.question, q.asked_on, u.name AS asked_by, q.answered_on, q.answer
           FROM declaration_questions q JOIN users u ON u.id = q.asked_by
           WHERE q.declaration_id = $1 ORDER BY q.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// How many of a declaration's questions are open.
pub async fn open_questions(conn: &mut PgConnection, id: DeclarationId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM declaration_questions WHERE declaration_id = $1 AND answered_on IS NULL"#,
        id.0
    )
    .fetch_one(conn)
    .await
}
