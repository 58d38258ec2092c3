//! The SQL of the home pages: the reads that are the home page's own (the case lists are
//! the cases' [`crate::cases::db`]).

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::{Locked, OpenRfi};
use crate::audit::{EventType, StoredEvent};
use crate::ids::{CaseId, RfiId, UserId};

/// The unanswered requests for information on the cases assigned to `user` at one of the
/// stages `open`, oldest first; at most 501.
pub async fn open_rfis(conn: &mut PgConnection, user: UserId, open: &[String]) -> Result<Vec<OpenRfi>, sqlx::Error> {
    sqlx::query_as!(
        OpenRfi,
        r#"SELECT r.id AS "id: RfiId", c.id AS "case_id: CaseId", c.docket_number, r.asked_of, r.asked_on,
           cardinality(r.tolls) > 0 AS "tolls!"
           FROM case_rfis r JOIN cases c ON c.id = r.case_id
           WHERE c.assignee = $1 AND r.answered_on IS NULL AND c.stage::text = ANY($2)
           ORDER BY r.asked_on, r.id LIMIT 501"#,
        user.0,
        open
    )
    .fetch_all(conn)
    .await
}

/// The newest events of `types`, newest first: one index walk per type, merged.
pub async fn recent(pool: &PgPool, types: &[EventType], limit: i64) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let types: Vec<String> = types.iter().map(|t| t.as_str().to_string()).collect();
    sqlx::query_as!(
        StoredEvent,
        r#"SELECT e.seq AS "seq!", e.id AS "id!: crate::ids::EventId", e.at AS "at!", e.actor_id AS "actor_id: UserId",
           e.actor_role, e.client_addr, e.request_id, e.event_type AS "event_type!", e.object_type, e.object_id,
           e.changes AS "changes!", e.outcome AS "outcome!", e.prev_hash AS "prev_hash!", e.hash AS "hash!"
           FROM unnest($1::text[]) t(event_type)
           CROSS JOIN LATERAL (SELECT * FROM audit_events a WHERE a.event_type = t.event_type ORDER BY a.seq DESC LIMIT $2) e
           ORDER BY e.seq DESC LIMIT $2"#,
        &types,
        limit
    )
    .fetch_all(pool)
    .await
}

/// The active accounts locked for password sign-in at `now`, the longest locked first; at
/// most 50.
pub async fn locked_accounts(conn: &mut PgConnection, now: OffsetDateTime) -> Result<Vec<Locked>, sqlx::Error> {
    sqlx::query_as!(
        Locked,
        r#"SELECT id AS "id: UserId", name, email, locked_until AS "until!" FROM users
           WHERE active AND locked_until > $1 ORDER BY locked_until DESC LIMIT 50"#,
        now
    )
    .fetch_all(conn)
    .await
}
