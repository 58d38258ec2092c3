//! Enforcement SQL, checked at compile time: the adjusted statutory maximums.

use sqlx::PgConnection;
use time::Date;

use super::model::Maximum;

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
