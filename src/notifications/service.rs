//! Writing notifications inside the causing transaction (with their mail, when a relay is
//! configured), withdrawing those a restricted case's outsiders hold, and the reminders of
//! clocks due.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::db;
use super::model::{Kind, Note};
use crate::ids::{CaseId, NotificationId, UserId};

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
    let written = db::insert(&mut *conn, id, user, note, &message, at).await?;
    if written.is_some() && mail {
        let subject: String = format!("[icts-review] {}", message.chars().take(200).collect::<String>());
        let body = format!("{message}\n\nOpen it in icts-review: {}\n", note.link);
        db::queue_mail(&mut *conn, id, user, &subject, &body, at).await?;
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
    for id in db::active_supervisors(&mut *conn, except).await? {
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
    let unseen: Vec<UserId> = db::holders(&mut *conn, case)
        .await?
        .into_iter()
        .filter(|(u, role)| !crate::access::policy::may_see_case(*role, *u, restricted, assignee))
        .map(|(u, _)| u)
        .collect();
    if unseen.is_empty() {
        return Ok(0);
    }
    db::delete_of(&mut *conn, case, &unseen).await
}

/// Reminds the assignee (or, for an unassigned case, the supervisors) of every clock of an
/// open case that falls due within 7 days. Each (case, clock, due date) is notified once.
/// Returns the number of notifications written.
pub async fn remind_due_clocks(pool: &PgPool, now: OffsetDateTime, mail: bool) -> Result<u64, sqlx::Error> {
    let today = crate::dates::today(now);
    let horizon = today + time::Duration::days(7);
    let due = db::due_clocks(pool, today, horizon).await?;
    let mut written = 0;
    let mut tx = pool.begin().await?;
    for db::DueClock { case_id, docket_number: docket, assignee, clock, due: on } in due {
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
