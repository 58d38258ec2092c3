//! General authorizations' SQL, checked at compile time: the published versions, the
//! reliances and their acts, and GA 3's suppliers.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use super::model::{ActKind, ActRow, GeneralAuthorization, Supplier, SupplierStatus};
use crate::ids::{DeclarationId, PartyId, RelianceId, SupplierId, UserId};

/// Every version of every general authorization, by number then version.
pub async fn versions(conn: &mut PgConnection) -> sqlx::Result<Vec<GeneralAuthorization>> {
    sqlx::query_as!(
        GeneralAuthorization,
        "SELECT number, version, title, effective_from, effective_to, conditions, report_every_days, reports, \
           supplier_list FROM general_authorizations ORDER BY length(number), number, version"
    )
    .fetch_all(conn)
    .await
}

/// A reliance's row, without its standing.
pub struct RelianceRow {
    pub id: RelianceId,
    pub party_id: PartyId,
    pub party_name: String,
    pub ga_number: String,
    pub ga_version: i64,
    pub ga_title: String,
    pub report_every_days: Option<i64>,
    pub declaration_id: Option<DeclarationId>,
    pub summary: String,
    pub relied_from: Date,
    pub version: i64,
}

macro_rules! select_reliances {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            RelianceRow,
            r#"SELECT r.id AS "id: RelianceId", r.party_id AS "party_id: PartyId", p.legal_name AS party_name,
                 r.ga_number, r.ga_version, g.title AS ga_title, g.report_every_days,
                 r.declaration_id AS "declaration_id: DeclarationId", r.summary, r.relied_from, r.version
               FROM ga_reliances r JOIN parties p ON p.id = r.party_id
                 JOIN general_authorizations g ON g.number = r.ga_number AND g.version = r.ga_version "# + $rest
            $(, $arg)*
        )
    };
}

/// A reliance.
pub async fn reliance(conn: &mut PgConnection, id: RelianceId) -> sqlx::Result<Option<RelianceRow>> {
    select_reliances!("WHERE r.id = $1", id.0).fetch_optional(conn).await
}

/// A reliance, locked for an act.
pub async fn lock(conn: &mut PgConnection, id: RelianceId) -> sqlx::Result<Option<RelianceRow>> {
    select_reliances!("WHERE r.id = $1 FOR UPDATE OF r", id.0).fetch_optional(conn).await
}

/// The reliances of `party` (all when `None`), newest first; at most `limit`.
pub async fn reliances(conn: &mut PgConnection, party: Option<PartyId>, limit: i64) -> sqlx::Result<Vec<RelianceRow>> {
    select_reliances!(
        "WHERE ($1::uuid IS NULL OR r.party_id = $1) ORDER BY r.relied_from DESC, r.id DESC LIMIT $2",
        party.map(|p| p.0),
        limit
    )
    .fetch_all(conn)
    .await
}

/// The reliances not ended, for the home page's counts.
pub async fn unended(conn: &mut PgConnection) -> sqlx::Result<Vec<RelianceRow>> {
    select_reliances!("WHERE r.ended_on IS NULL").fetch_all(conn).await
}

/// A reliance to insert.
pub struct NewRelianceRow<'a> {
    pub id: RelianceId,
    pub party: PartyId,
    pub ga: (&'a str, i64),
    pub declaration: Option<DeclarationId>,
    pub summary: &'a str,
    pub relied_from: Date,
}

pub async fn insert_reliance(
    conn: &mut PgConnection,
    r: &NewRelianceRow<'_>,
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO ga_reliances (id, party_id, ga_number, ga_version, declaration_id, summary, relied_from, \
           recorded_at, recorded_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)",
        r.id.0,
        r.party.0,
        r.ga.0,
        r.ga.1,
        r.declaration.map(|d| d.0),
        r.summary,
        r.relied_from,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an act of reliance `id`.
pub async fn insert_act(
    conn: &mut PgConnection,
    id: RelianceId,
    (kind, on, note): (ActKind, Date, &str),
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO ga_reliance_acts (reliance_id, kind, effective_on, note, recorded_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        id.0,
        kind as ActKind,
        on,
        note,
        at,
        by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks reliance `id` changed from `version` (ended on `ended`, if so); `false` when it
/// changed meanwhile.
pub async fn touch(
    conn: &mut PgConnection,
    id: RelianceId,
    version: i64,
    ended: Option<Date>,
    at: OffsetDateTime,
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "UPDATE ga_reliances SET version = version + 1, ended_on = coalesce($3, ended_on), updated_at = $4 \
         WHERE id = $1 AND version = $2",
        id.0,
        version,
        ended,
        at
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A reliance's acts, in the order recorded.
pub async fn acts(conn: &mut PgConnection, id: RelianceId) -> sqlx::Result<Vec<ActRow>> {
    sqlx::query_as!(
        ActRow,
        r#"SELECT a.seq, a.kind AS "kind: ActKind", a.effective_on, a.note, a.recorded_at, u.name AS recorded_by
           FROM ga_reliance_acts a JOIN users u ON u.id = a.recorded_by WHERE a.reliance_id = $1 ORDER BY a.seq"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// The acts of reliances `ids`, each with its reliance, in the order recorded.
pub async fn acts_of(conn: &mut PgConnection, ids: &[uuid::Uuid]) -> sqlx::Result<Vec<(RelianceId, ActKind, Date)>> {
    let rows = sqlx::query!(
        r#"SELECT reliance_id AS "id: RelianceId", kind AS "kind: ActKind", effective_on FROM ga_reliance_acts
           WHERE reliance_id = ANY($1) ORDER BY seq"#,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.kind, r.effective_on)).collect())
}

macro_rules! select_suppliers {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Supplier,
            r#"SELECT s.id AS "id: SupplierId", s.party_id AS "party_id: PartyId", p.legal_name AS party_name,
                 s.applied_on, s.status AS "status: SupplierStatus", s.decided_on, s.removed_on, s.reason, s.version
               FROM ga_suppliers s JOIN parties p ON p.id = s.party_id "# + $rest
            $(, $arg)*
        )
    };
}

/// Every supplier application, newest first; at most `limit`.
pub async fn suppliers(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Supplier>> {
    select_suppliers!("ORDER BY s.applied_on DESC, s.id DESC LIMIT $1", limit).fetch_all(conn).await
}

/// The suppliers on the list on `day`, by name.
pub async fn listed_on(conn: &mut PgConnection, day: Date) -> sqlx::Result<Vec<Supplier>> {
    select_suppliers!(
        "WHERE s.status IN ('approved', 'removed') AND s.decided_on <= $1 AND (s.removed_on IS NULL OR s.removed_on > $1) \
         ORDER BY p.legal_name, s.id",
        day
    )
    .fetch_all(conn)
    .await
}

/// A supplier application, locked.
pub async fn lock_supplier(conn: &mut PgConnection, id: SupplierId) -> sqlx::Result<Option<Supplier>> {
    select_suppliers!("WHERE s.id = $1 FOR UPDATE OF s", id.0).fetch_optional(conn).await
}

/// A supplier application.
pub async fn supplier(conn: &mut PgConnection, id: SupplierId) -> sqlx::Result<Option<Supplier>> {
    select_suppliers!("WHERE s.id = $1", id.0).fetch_optional(conn).await
}

/// Inserts a supplier's application; `false` when the supplier has one open or is listed.
pub async fn insert_supplier(
    conn: &mut PgConnection,
    id: SupplierId,
    (party, applied_on): (PartyId, Date),
    (by, at): (UserId, OffsetDateTime),
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "INSERT INTO ga_suppliers (id, party_id, applied_on, recorded_at, recorded_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $4) ON CONFLICT (party_id) WHERE status IN ('applied', 'approved') DO NOTHING",
        id.0,
        party.0,
        applied_on,
        at,
        by.0,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Records the office's decision or a removal, from `version`; `false` when it changed.
pub async fn decide_supplier(
    conn: &mut PgConnection,
    id: SupplierId,
    version: i64,
    (status, on, reason): (SupplierStatus, Date, &str),
    at: OffsetDateTime,
) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "UPDATE ga_suppliers SET status = $3, \
           decided_on = CASE WHEN $3 = 'removed' THEN decided_on ELSE $4 END, \
           removed_on = CASE WHEN $3 = 'removed' THEN $4 ELSE NULL END, \
           reason = $5, version = version + 1, updated_at = $6 WHERE id = $1 AND version = $2",
        id.0,
        version,
        status as SupplierStatus,
        on,
        reason,
        at,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}
