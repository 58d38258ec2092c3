//! In-application notifications (assigned to you, a returned draft, awaiting your
//! signature, a clock due within 7 days, a breach), written in the transaction of the
//! change that causes them. When an SMTP relay is configured each one also queues a mail
//! in the outbox, which [`outbox`] workers send.

pub mod outbox;
pub mod web;

use crate::ids::{CaseId, NotificationId, UserId};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// Why someone is notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A case was assigned to you.
    Assigned,
    /// Your draft determination was returned.
    Returned,
    /// A determination awaits a supervisor's signature.
    AwaitingSignature,
    /// A clock of your case is due within 7 days.
    ClockDue,
    /// A mitigation measure was breached.
    Breach,
    /// Your draft determination was signed.
    Signed,
}

impl Kind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Assigned => "assigned",
            Kind::Returned => "returned",
            Kind::AwaitingSignature => "awaiting_signature",
            Kind::ClockDue => "clock_due",
            Kind::Breach => "breach",
            Kind::Signed => "signed",
        }
    }
}

/// A notification as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    /// `assigned`, `returned`, `awaiting_signature`, `clock_due`, `breach` or `signed`.
    pub kind: String,
    /// The case concerned.
    pub case_id: Option<CaseId>,
    /// What happened.
    pub message: String,
    /// Where to look (a path of the service).
    pub link: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When read (unread: null).
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

/// One notification to write.
pub struct Note<'a> {
    /// Why.
    pub kind: Kind,
    /// The case concerned.
    pub case_id: Option<CaseId>,
    /// What happened.
    pub message: &'a str,
    /// Where to look.
    pub link: &'a str,
    /// Written at most once per user and key (clock reminders).
    pub dedupe_key: Option<&'a str>,
}

impl<'a> Note<'a> {
    /// A notification about a case (no dedupe key).
    pub fn on_case(kind: Kind, case_id: CaseId, message: &'a str, link: &'a str) -> Note<'a> {
        Note { kind, case_id: Some(case_id), message, link, dedupe_key: None }
    }
}

/// Notifies `user` inside the caller's transaction; queues a mail when `mail` is on.
/// Returns whether a notification was written (a repeated dedupe key writes none).
pub async fn notify(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    mail: bool,
    user: UserId,
    note: &Note<'_>,
) -> Result<bool, sqlx::Error> {
    let id = NotificationId::new();
    let message: String = note.message.chars().take(2000).collect();
    let written: Option<NotificationId> = sqlx::query_scalar!(
        "INSERT INTO notifications (id, user_id, kind, case_id, message, link, dedupe_key, created_at) \
         SELECT $1, u.id, $3, $4, $5, $6, $7, $8 FROM users u WHERE u.id = $2 AND u.active \
         ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id AS \"id: NotificationId\"",
        id.0,
        user.0,
        note.kind.as_str(),
        note.case_id as _,
        &message,
        note.link,
        note.dedupe_key,
        at,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if written.is_some() && mail {
        let subject: String = format!("[icts-review] {}", message.chars().take(200).collect::<String>());
        sqlx::query!(
            "INSERT INTO mail_outbox (id, notification_id, to_address, subject, body, created_at, next_attempt_at) \
             SELECT $1, $2, u.email, $3, $4, $5, $5 FROM users u WHERE u.id = $6",
            Uuid::now_v7(),
            id.0,
            subject,
            format!("{message}\n\nOpen it in icts-review: {}\n", note.link),
            at,
            user.0,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(written.is_some())
}

/// Notifies every active supervisor except `except`.
pub async fn notify_supervisors(
    conn: &mut PgConnection,
    at: OffsetDateTime,
    mail: bool,
    except: Option<UserId>,
    note: &Note<'_>,
) -> Result<(), sqlx::Error> {
    let ids: Vec<UserId> = sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE role = 'supervisor' AND active AND id IS DISTINCT FROM $1"#,
        except as _
    )
    .fetch_all(&mut *conn)
    .await?;
    for id in ids {
        notify(conn, at, mail, id, note).await?;
    }
    Ok(())
}

/// Removes the notifications about case `case` held by users who may no longer see it
/// (after it became restricted, or a restricted case changed hands), so that a restricted
/// case does not go on showing in the inbox of someone outside its need-to-know. Returns
/// how many were removed.
pub async fn withdraw_unseen(
    conn: &mut PgConnection,
    case: CaseId,
    restricted: bool,
    assignee: Option<UserId>,
) -> Result<u64, sqlx::Error> {
    if !restricted {
        return Ok(0);
    }
    let holders: Vec<(Uuid, crate::auth::policy::Role)> = sqlx::query_as(
        "SELECT DISTINCT u.id, u.role FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.case_id = $1",
    )
    .bind(case.0)
    .fetch_all(&mut *conn)
    .await?;
    let unseen: Vec<Uuid> = holders
        .into_iter()
        .filter(|(u, role)| !crate::auth::policy::may_see_case(*role, UserId(*u), restricted, assignee))
        .map(|(u, _)| u)
        .collect();
    if unseen.is_empty() {
        return Ok(0);
    }
    let n = sqlx::query("DELETE FROM notifications WHERE case_id = $1 AND user_id = ANY($2)")
        .bind(case.0)
        .bind(&unseen)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(n)
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

/// Reminds the assignee (or, for an unassigned case, the supervisors) of every clock of an
/// open case that falls due within 7 days. Each (case, clock, due date) is notified once.
/// Returns the number of notifications written.
pub async fn remind_due_clocks(pool: &PgPool, now: OffsetDateTime, mail: bool) -> Result<u64, sqlx::Error> {
    let today = crate::cases::service::today(now);
    let horizon = today + time::Duration::days(7);
    let due: Vec<(CaseId, String, Option<UserId>, String, time::Date)> = sqlx::query!(
        r#"SELECT id AS "id!: CaseId", docket_number AS "docket_number!", assignee AS "assignee: UserId", 'final determination' AS "clock!",
             final_due AS "due!" FROM cases
           WHERE final_due BETWEEN $1 AND $2 AND NOT clocks_paused
           AND stage NOT IN ('rejected', 'closed_no_action', 'decided', 'monitoring', 'compliance_review', 'closed')
         UNION ALL
         SELECT id, docket_number, assignee, 'response window', response_due FROM cases
           WHERE response_due BETWEEN $1 AND $2 AND stage = 'response_period'"#,
        today,
        horizon,
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.id, r.docket_number, r.assignee, r.clock, r.due))
    .collect();
    let mut written = 0;
    let mut tx = pool.begin().await?;
    for (case_id, docket, assignee, clock, on) in due {
        let message = format!("{docket}: the {clock} is due on {on}");
        let link = format!("/cases/{case_id}");
        let key = format!("clock:{case_id}:{clock}:{on}");
        let note = Note { dedupe_key: Some(&key), ..Note::on_case(Kind::ClockDue, case_id, &message, &link) };
        match assignee {
            Some(a) => written += u64::from(notify(&mut tx, now, mail, a, &note).await?),
            None => notify_supervisors(&mut tx, now, mail, None, &note).await?,
        }
    }
    tx.commit().await?;
    Ok(written)
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
