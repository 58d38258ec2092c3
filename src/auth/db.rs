//! Account reads other domains need, checked against the schema at compile time.

use crate::ids::UserId;
use sqlx::PgConnection;

/// The names of these accounts, for showing who did what.
pub async fn names(conn: &mut PgConnection, ids: &[UserId]) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT id AS "id: UserId", name FROM users WHERE id = ANY($1)"#, ids as _)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

/// The active accounts a case can be assigned to (analysts and supervisors), by name.
pub async fn assignable(conn: &mut PgConnection) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT id AS "id: UserId", name FROM users WHERE active AND role IN ('analyst', 'supervisor') ORDER BY name"#
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect())
}
