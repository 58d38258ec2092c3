//! Separation of duties among administrators. Resetting the password of a supervisor, an
//! auditor or an administrator, or raising an account to one of those roles, would let one
//! administrator sign in as someone who signs determinations or reads the whole record. So
//! one administrator asks for it and a second one carries it out. So does loosening how a
//! role signs in ([`super::model::loosens`]), which would let one administrator
//! open a way in for every supervisor. The request is a row of
//! `admin_approvals` (the database refuses a decision by the one who asked), audited when
//! asked, approved, refused, withdrawn or found expired; an office with a single active
//! administrator is refused the change outright. This file records, lists and expires the
//! requests; a decision carries the change out through the account's or the policy's own
//! use case, so it is [`super::service::decide`].

use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::db;
use super::model::{APPROVAL_WINDOW, AdminChange, Approval, ApprovalKind, RolePolicy, UserRecord};
use crate::access::actor::Actor;
use crate::access::policy::Action;
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::error::DomainError;
use crate::ids::UserId;

/// Why a request was not recorded.
pub enum Refused {
    /// No second administrator exists (a request about an existing account records the
    /// refusal; a new account's activation and a sign-in policy change are refused with
    /// nothing written).
    Alone(String),
    /// Any other error.
    Other(DomainError),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Other(e.into())
    }
}

/// Records `admin`'s request to make `change` to the locked account `before`, inside the
/// caller's transaction.
pub(super) async fn request(
    tx: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    before: &UserRecord,
    change: &AdminChange,
) -> Result<Approval, Refused> {
    let (kind, role, subject) = match change {
        AdminChange::Role(r) => (ApprovalKind::RoleChange, Some(*r), None),
        AdminChange::ResetSecondFactors => (ApprovalKind::SecondFactorReset, None, None),
        AdminChange::LinkCard(s) => (ApprovalKind::CardLink, None, Some(s.clone())),
        AdminChange::Active(true) | AdminChange::Activate(_) => (ApprovalKind::Activation, None, None),
        _ => (ApprovalKind::PasswordReset, None, None),
    };
    let others = db::other_active_admins(&mut *tx, &[admin.id, before.id]).await?;
    let what = json!({"kind": kind, "role": role, "subject": subject, "target_role": before.role});
    if others == 0 {
        let mut changes = what;
        changes["reason"] = json!("no second active administrator to approve it");
        audit::record(
            &mut *tx,
            now,
            &admin.audit(),
            NewEvent::new(EventType::UserChangeRefused)
                .object("user", before.id)
                .outcome(Outcome::Denied)
                .changes(changes),
        )
        .await
        .map_err(|e| Refused::Other(e.into()))?;
        return Err(Refused::Alone(format!(
            "this needs a second administrator's approval (the account is a {}'s or becomes one), and this office has no other active administrator: create a second administrator account first",
            before.role.label().to_lowercase()
        )));
    }
    expire(&mut *tx, now, Some(before.id)).await.map_err(Refused::Other)?;
    if let Some(by) = db::open_request_by(&mut *tx, before.id, kind).await? {
        return Err(Refused::Other(DomainError::Conflict(format!(
            "a request of this kind on this account is already waiting for approval (asked by {by}); approve, refuse or withdraw it first"
        ))));
    }
    let id = Uuid::now_v7();
    let expires = now + APPROVAL_WINDOW;
    let request = db::NewAccountRequest {
        id,
        target: before.id,
        kind,
        role,
        subject: subject.as_deref(),
        requested_by: admin.id,
        requested_at: now,
        expires_at: expires,
    };
    db::insert_account_request(&mut *tx, &request).await?;
    let mut changes = what;
    changes["approval"] = json!(id);
    changes["expires_at"] = json!(expires.format(&time::format_description::well_known::Rfc3339).ok());
    audit::record(
        &mut *tx,
        now,
        &admin.audit(),
        NewEvent::new(EventType::UserChangeRequested).object("user", before.id).changes(changes),
    )
    .await
    .map_err(|e| Refused::Other(e.into()))?;
    get(&mut *tx, id).await.map_err(Refused::Other)
}

/// Records `admin`'s request to loosen a role's sign-in policy from `before` (its row
/// locked) to `after`, inside the caller's transaction.
pub(super) async fn request_policy(
    tx: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    before: &RolePolicy,
    after: &RolePolicy,
) -> Result<Approval, Refused> {
    let others = db::other_active_admins(&mut *tx, &[admin.id]).await?;
    if others == 0 {
        return Err(Refused::Alone(
            "loosening how a role signs in needs a second administrator's approval, and this office has no other active administrator: create a second administrator account first".into(),
        ));
    }
    expire(&mut *tx, now, None).await.map_err(Refused::Other)?;
    if let Some(by) = db::open_policy_request_by(&mut *tx, after.role).await? {
        return Err(Refused::Other(DomainError::Conflict(format!(
            "a change to the {} sign-in policy is already waiting for approval (asked by {by}); approve, refuse or withdraw it first",
            after.role.label().to_lowercase()
        ))));
    }
    let id = Uuid::now_v7();
    let expires = now + APPROVAL_WINDOW;
    db::insert_policy_request(&mut *tx, id, admin.id, now, expires, after).await?;
    let changes = json!({
        "approval": id,
        "kind": ApprovalKind::SignInPolicy,
        "role": after.role,
        "password_allowed": {"before": before.password_allowed, "after": after.password_allowed},
        "sso_assurance": {"before": before.sso_assurance, "after": after.sso_assurance},
        "require_security_key": {"before": before.require_security_key, "after": after.require_security_key},
        "expires_at": expires.format(&time::format_description::well_known::Rfc3339).ok(),
    });
    audit::record(
        &mut *tx,
        now,
        &admin.audit(),
        NewEvent::new(EventType::SignInPolicyChangeRequested).changes(changes),
    )
    .await
    .map_err(|e| Refused::Other(e.into()))?;
    get(&mut *tx, id).await.map_err(Refused::Other)
}

/// Marks open requests past their time (of one account, or all) as expired, each with an
/// audit event.
pub(super) async fn expire(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    target: Option<UserId>,
) -> Result<(), DomainError> {
    for db::Lapsed { id, target_id, kind, role } in db::expire_approvals(&mut *tx, now, target).await? {
        let event = match target_id {
            Some(target) => NewEvent::new(EventType::UserChangeExpired)
                .object("user", target)
                .changes(json!({"approval": id, "kind": kind})),
            None => NewEvent::new(EventType::SignInPolicyChangeExpired)
                .changes(json!({"approval": id, "kind": kind, "role": role})),
        };
        audit::record(&mut *tx, now, &audit::AuditContext::default(), event).await?;
    }
    Ok(())
}

async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Approval, DomainError> {
    db::approval(conn, id).await?.ok_or(DomainError::NotFound)
}

/// Open requests (of one account, or all), oldest first, lapsed ones left out. Reading
/// writes nothing: lapsed requests are marked expired, each with its event, by the sweep
/// ([`spawn_expiry`]) and before any new request or decision about the same account.
pub async fn open(
    conn: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    target: Option<UserId>,
) -> Result<Vec<Approval>, DomainError> {
    admin.authorize(conn, now, Action::ManageUsers).await?;
    Ok(db::open_approvals(conn, target, now).await?)
}

/// Marks every lapsed request expired, with its `user.change_expired` event, in one
/// transaction.
pub async fn expire_lapsed(pool: &sqlx::PgPool, now: OffsetDateTime) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    expire(&mut tx, now, None).await?;
    tx.commit().await?;
    Ok(())
}

/// The sweep that marks lapsed requests expired, once a minute.
pub fn spawn_expiry(pool: sqlx::PgPool, clock: crate::clock::SharedClock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = expire_lapsed(&pool, clock.now()).await {
                tracing::warn!(error = %e, "marking lapsed administrator requests expired failed; will retry");
            }
        }
    })
}

/// How many requests wait for a second administrator now (lapsed ones not counted; the
/// sweep marks them expired).
pub async fn count_open(conn: &mut PgConnection, now: OffsetDateTime) -> Result<i64, sqlx::Error> {
    db::count_open_approvals(conn, now).await
}
