//! How every sign-in ends. A success, whichever way in it took (a password, a one-time
//! code, a security key, the OpenID provider, a card), opens its session through
//! [`finish_sign_in`]; a wrong password or code counts toward the account's lockout
//! through [`count_failure_in`]. Below the ways in, so that each of them (`service`,
//! `second_factor`, `sso`, `piv`) ends the same way without importing the others.

use serde_json::json;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};

use super::db;
use super::session::{self, Created, Kind};
use crate::access::actor::RequestMeta;
use crate::accounts::db as accounts;
use crate::accounts::model::UserRecord;
use crate::audit::{self, AuditContext, EventType, NewEvent, Outcome};
use crate::ids::UserId;

/// Failed sign-ins within this window count towards a lockout.
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// Failures within the window that lock the account.
pub const MAX_FAILURES: i32 = 3;
/// How long a lockout lasts unless an admin unlocks the account first.
pub const LOCKOUT: Duration = Duration::hours(3);
/// Who signs in, besides their credentials: a browser or an API client, the session the
/// browser had (replaced by the new one), and where it was going (kept by a challenge).
#[derive(Debug, Clone, Copy)]
pub struct SignInClient<'a> {
    pub kind: Kind,
    pub previous_secret: Option<&'a str>,
    pub next: Option<&'a str>,
}

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedInSession {
    /// The new session.
    pub session: Created,
    /// The account.
    pub user: UserRecord,
}

/// The end of every successful sign-in, in the caller's transaction: remembers the
/// address (the account may sign in from it while locked for others), gives the address
/// its attempt back, replaces the client's old session with a new one (a new id at every
/// sign-in) and records `auth.sign_in` with `detail` (how the user proved who they are).
pub(super) async fn finish_sign_in(
    tx: &mut PgConnection,
    user: UserId,
    now: OffsetDateTime,
    meta: &RequestMeta,
    client: SignInClient<'_>,
    how: session::SignInMethod<'_>,
    detail: serde_json::Value,
) -> Result<SignedInSession, sqlx::Error> {
    let SignInClient { kind, previous_secret, .. } = client;
    let addr = meta.client_addr.as_deref();
    if let Some(addr) = addr {
        db::remember_address(&mut *tx, user, addr, now).await?;
        db::refund_address(&mut *tx, addr).await?;
    }
    if let Some(old) = previous_secret {
        session::delete_by_secret(&mut *tx, old).await?;
    }
    let created = session::create(&mut *tx, user, kind, now, addr, meta.user_agent.as_deref(), how).await?;
    let record = accounts::get_user(&mut *tx, user).await?.ok_or(sqlx::Error::RowNotFound)?;
    let mut changes = json!({"session": created.id, "kind": if kind == Kind::Api { "api" } else { "browser" }});
    if let (Some(c), serde_json::Value::Object(d)) = (changes.as_object_mut(), detail) {
        c.extend(d);
    }
    let event = NewEvent::new(EventType::AuthSignIn).object("user", user).changes(changes);
    audit::record(&mut *tx, now, &meta.audit(Some((user, record.role))), event).await?;
    Ok(SignedInSession { session: created, user: record })
}

/// Counts a failure of account `id` in the caller's transaction ([`MAX_FAILURES`] within
/// [`FAILURE_WINDOW`] lock it for [`LOCKOUT`] and end its sessions), recording it as a
/// `what` event with `reason`. Returns whether this failure locked the account.
pub(super) async fn count_failure_in(
    tx: &mut PgConnection,
    id: UserId,
    ctx: &AuditContext,
    now: OffsetDateTime,
    what: EventType,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let (count, first) = db::locked_failures(&mut *tx, id).await?;
    let fresh = first.is_none_or(|t| now - t > FAILURE_WINDOW);
    let (count, first) = if fresh { (1, now) } else { (count + 1, first.unwrap_or(now)) };
    let lock = count >= MAX_FAILURES;
    let failure = db::Failure { count, first, lock, until: now + LOCKOUT, now, from: ctx.client_addr.as_deref() };
    db::set_failures(&mut *tx, id, &failure).await?;
    audit::record(
        &mut *tx,
        now,
        ctx,
        NewEvent::new(what).object("user", id).outcome(Outcome::Failure).changes(json!({"reason": reason})),
    )
    .await?;
    if lock {
        accounts::end_sessions(&mut *tx, id, None).await?;
        audit::record(
            &mut *tx,
            now,
            ctx,
            NewEvent::new(EventType::AuthLockout).object("user", id).changes(json!({"failures": count})),
        )
        .await?;
    }
    Ok(lock)
}
