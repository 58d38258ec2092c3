//! Account reads other domains need, checked against the schema at compile time.

use sqlx::PgConnection;
use uuid::Uuid;

/// The names of these accounts, for showing who did what.
pub async fn names(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT id, name FROM users WHERE id = ANY($1)", ids)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

/// The active accounts a case can be assigned to (analysts and supervisors), by name.
pub async fn assignable(conn: &mut PgConnection) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT id, name FROM users WHERE active AND role IN ('analyst', 'supervisor') ORDER BY name")
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}
