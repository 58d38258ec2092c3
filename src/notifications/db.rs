//! Notification SQL, checked against the schema at compile time, the mail outbox's with
//! it (its worker is [`super::outbox`]).

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Kind, Note, Notification};
use crate::access::Role;
use crate::ids::{CaseId, NotificationId, UserId};

/// Writes notification `id` of `note`, with `message`, for `user` if the account is active;
/// a repeated dedupe key writes nothing. The id, when written.
pub async fn insert(
    conn: &mut PgConnection,
    id: NotificationId,
    user: UserId,
    note: &Note<'_>,
    message: &str,
    at: OffsetDateTime,
) -> Result<Option<NotificationId>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO notifications (id, user_id, kind, case_id, message, link, dedupe_key, created_at) \
         SELECT $1, u.id, $3, $4, $5, $6, $7, $8 FROM users u WHERE u.id = $2 AND u.active \
         ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id AS \"id: NotificationId\"",
        id.0,
        user.0,
        note.kind.as_str(),
        note.case_id as _,
        message,
        note.link,
        note.dedupe_key,
        at,
    )
    .fetch_optional(conn)
    .await
}

/// Queues the mail of notification `id` to `user`'s address.
pub async fn queue_mail(
    conn: &mut PgConnection,
    id: NotificationId,
    user: UserId,
    subject: &str,
    body: &str,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO mail_outbox (id, notification_id, to_address, subject, body, created_at, next_attempt_at) \
         SELECT $1, $2, u.email, $3, $4, $5, $5 FROM users u WHERE u.id = $6",
        Uuid::now_v7(),
        id.0,
        subject,
        body,
        at,
        user.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every active supervisor but `except`.
pub async fn active_supervisors(conn: &mut PgConnection, except: Option<UserId>) -> Result<Vec<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE role = 'supervisor' AND active AND id IS DISTINCT FROM $1"#,
        except as _
    )
    .fetch_all(conn)
    .await
}

/// The accounts holding a notification about case `case`, with their roles.
pub async fn holders(conn: &mut PgConnection, case: CaseId) -> Result<Vec<(UserId, Role)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT DISTINCT u.id AS "id: UserId", u.role AS "role: Role"
           FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.case_id = $1"#,
        case.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.role))
    .collect())
}

/// Deletes the notifications about case `case` held by `users`; how many.
pub async fn delete_of(conn: &mut PgConnection, case: CaseId, users: &[UserId]) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM notifications WHERE case_id = $1 AND user_id = ANY($2)", case.0, users as _)
        .execute(conn)
        .await?
        .rows_affected())
}

/// The latest notifications of `user` and the number unread.
pub async fn of_user(pool: &PgPool, user: UserId, limit: i64) -> Result<(Vec<Notification>, i64), sqlx::Error> {
    let items = sqlx::query_as!(
        Notification,
        "SELECT id, kind, case_id AS \"case_id: CaseId\", message, link, created_at, read_at FROM notifications \
         WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        user.0,
        limit,
    )
    .fetch_all(pool)
    .await?;
    let unread: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM notifications WHERE user_id = $1 AND read_at IS NULL"#,
        user.0
    )
    .fetch_one(pool)
    .await?;
    Ok((items, unread))
}

/// Marks one (or, with `None`, every) unread notification of `user` read. Returns how
/// many changed; another user's notification is not found.
pub async fn mark_read(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    user: UserId,
    id: Option<NotificationId>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND read_at IS NULL AND ($2::uuid IS NULL OR id = $2)",
        user.0,
        id as _,
        at,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Marks every unread notification with `link` and `kind` read (for everyone): what they
/// asked for has been done, e.g. a determination awaiting signature was signed or returned.
pub async fn resolve(conn: &mut PgConnection, at: OffsetDateTime, kind: Kind, link: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE notifications SET read_at = $3 WHERE kind = $1 AND link = $2 AND read_at IS NULL",
        kind.as_str(),
        link,
        at,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// A clock of an open case falling due between two dates.
pub struct DueClock {
    pub case_id: CaseId,
    pub docket_number: String,
    pub assignee: Option<UserId>,
    /// Which clock, in words.
    pub clock: String,
    pub due: time::Date,
}

/// Every clock of an open case due from `from` to `to`, both included.
pub async fn due_clocks(pool: &PgPool, from: time::Date, to: time::Date) -> Result<Vec<DueClock>, sqlx::Error> {
    sqlx::query_as!(
        DueClock,
        r#"SELECT id AS "case_id!: CaseId", docket_number AS "docket_number!", assignee AS "assignee: UserId", 'final determination' AS "clock!",
             final_due AS "due!" FROM cases
           WHERE final_due BETWEEN $1 AND $2 AND NOT clocks_paused
           AND stage NOT IN ('rejected', 'closed_no_action', 'decided', 'monitoring', 'compliance_review', 'closed')
         UNION ALL
         SELECT id, docket_number, assignee, 'response window', response_due FROM cases
           WHERE response_due BETWEEN $1 AND $2 AND stage = 'response_period'"#,
        from,
        to,
    )
    .fetch_all(pool)
    .await
}

/// Whether notification `id` is `user`'s.
pub async fn is_own(conn: &mut PgConnection, id: NotificationId, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM notifications WHERE id = $1 AND user_id = $2) AS "exists!""#,
        id.0,
        user.0
    )
    .fetch_one(conn)
    .await
}

/// Where `user`'s notification `id` points.
pub async fn link_of(pool: &PgPool, id: NotificationId, user: UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT link FROM notifications WHERE id = $1 AND user_id = $2", id.0, user.0)
        .fetch_optional(pool)
        .await
}

/// A message claimed for sending, as its row holds it.
#[derive(Debug)]
pub struct ClaimedRow {
    pub id: Uuid,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub attempts: i32,
}

fn pg_interval(d: time::Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval { months: 0, days: 0, microseconds: d.whole_microseconds() as i64 }
}

/// Claims up to `batch` due messages for `worker` for `lease` (committed with the pool's
/// own statement): messages not yet sent, due by `now`, claimed fewer than two times
/// without an outcome, and not under another worker's live claim.
pub async fn claim_mail(
    pool: &PgPool,
    worker: &str,
    now: OffsetDateTime,
    lease: time::Duration,
    batch: i64,
) -> Result<Vec<ClaimedRow>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedRow,
        "UPDATE mail_outbox SET claimed_at = $1, claimed_by = $2, unconfirmed = unconfirmed + 1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM mail_outbox \
                      WHERE sent_at IS NULL AND next_attempt_at <= $1 AND unconfirmed < 2 \
                        AND (claimed_at IS NULL OR claimed_at < $1 - $3::interval) \
                      ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING id, to_address, subject, body, attempts",
        now,
        worker,
        pg_interval(lease),
        batch,
    )
    .fetch_all(pool)
    .await
}

/// Records a message as sent by `worker` at `now`, its claim released.
pub async fn mail_sent(pool: &PgPool, id: Uuid, now: OffsetDateTime, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mail_outbox SET sent_at = $2, sent_by = $3, claimed_at = NULL, unconfirmed = 0, last_error = NULL \
                         WHERE id = $1",
        id,
        now,
        worker
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a message known not sent: its claim released, the error kept, tried again at
/// `next`.
pub async fn mail_not_sent(pool: &PgPool, id: Uuid, error: &str, next: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE mail_outbox SET claimed_at = NULL, unconfirmed = unconfirmed - 1, last_error = $2, \
                         next_attempt_at = $3 WHERE id = $1",
        id,
        error,
        next
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks with `held` (once) the messages claimed twice without an outcome whose last claim
/// is older than `lease`; returns them.
pub async fn hold_mail(
    pool: &PgPool,
    now: OffsetDateTime,
    lease: time::Duration,
    held: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE mail_outbox SET last_error = $3 \
         WHERE sent_at IS NULL AND unconfirmed >= 2 AND claimed_at < $1::timestamptz - $2::interval \
           AND last_error IS DISTINCT FROM $3 \
         RETURNING id",
        now,
        pg_interval(lease),
        held,
    )
    .fetch_all(pool)
    .await
}

/// Marks every notification but those of `kind` read an hour after it was written: the
/// demo office's history, read along the way.
pub async fn read_all_but(pool: &PgPool, kind: Kind) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE notifications SET read_at = created_at + interval '1 hour' WHERE kind <> $1",
        kind.as_str()
    )
    .execute(pool)
    .await?
    .rows_affected())
}
