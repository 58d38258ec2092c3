//! The SQL of the transactions a case reviews ([`crate::cases::transactions`]).

use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::cases::transactions::{Transaction, TransactionKind, TransactionStatus, ValidTransaction};
use crate::ids::{CaseId, PartyId, TransactionId, UserId};
use crate::parties::PartyRole;

/// The transactions of a case.
pub async fn of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Transaction>, sqlx::Error> {
    sqlx::query_as!(
        Transaction,
        r#"SELECT id AS "id: TransactionId", case_id AS "case_id: CaseId", item,
         kind AS "kind: TransactionKind", status AS "status: TransactionStatus", initiated_on, completed_on,
         ongoing_activity, value_usd::float8 AS value_usd, us_persons_affected, data_categories
         FROM transactions WHERE case_id = $1 ORDER BY created_at, id"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// Inserts transaction `id` of `case_id` (not its parties).
pub async fn insert(
    conn: &mut PgConnection,
    (id, case_id): (TransactionId, CaseId),
    t: &ValidTransaction,
    user: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO transactions (id, case_id, item, kind, status, initiated_on, completed_on, ongoing_activity, value_usd, \
         us_persons_affected, data_categories, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::float8,$10,$11,$12,$13)",
        id.0,
        case_id.0,
        &t.item,
        t.kind.as_str(),
        t.status.as_str(),
        t.initiated_on,
        t.completed_on,
        &t.ongoing_activity,
        t.value_usd,
        t.us_persons_affected,
        &t.data_categories,
        user.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether `party` exists.
pub async fn party_exists(conn: &mut PgConnection, party: PartyId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM parties WHERE id = $1) AS "v!""#, party.0).fetch_one(conn).await
}

/// Names `party` in `role` on transaction `id` (left as it is when already there).
pub async fn add_party(
    conn: &mut PgConnection,
    id: TransactionId,
    party: PartyId,
    role: PartyRole,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO transaction_parties (transaction_id, party_id, role) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING",
        id.0,
        party.0,
        role as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves every transaction of `source` to `target`; returns how many moved.
pub async fn move_all(conn: &mut PgConnection, source: CaseId, target: CaseId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("UPDATE transactions SET case_id = $1 WHERE case_id = $2", target.0, source.0)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Links every party of `source` to `target` in the same roles, by `user` at `now` (the
/// links `target` has already are left as they are).
pub async fn copy_case_parties(
    conn: &mut PgConnection,
    source: CaseId,
    target: CaseId,
    user: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_parties (case_id, party_id, role, added_by, added_at) SELECT $1, party_id, role, $3, $4 FROM case_parties WHERE case_id = $2 \
         ON CONFLICT DO NOTHING",
        target.0,
        source.0,
        user.0,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that `source` was consolidated into `target`.
pub async fn set_consolidated_into(conn: &mut PgConnection, source: CaseId, target: CaseId) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE cases SET consolidated_into = $2 WHERE id = $1", source.0, target.0).execute(conn).await?;
    Ok(())
}
