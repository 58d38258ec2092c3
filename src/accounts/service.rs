//! Account use cases: an administrator creates an account, changes it (role, activation,
//! a temporary password, a lock lifted, sessions ended, second factors reset, a card
//! linked) or decides a second administrator's request; a user sets their own time zone.
//! Each is one transaction that checks permission, changes rows and appends its audit
//! event; pages, the API and the command line all call these. A change that
//! [`needs_approval`] is recorded as a request ([`super::approvals`]) and made by
//! [`decide`] through the same [`apply`] the direct changes use.

use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::approvals::{self, Refused};
use super::model::{
    AdminChange, AdminOutcome, ApprovalKind, Decided, DecidedOn, Decision, GUARDED_ROLES, NewAccount, NewUser,
    UserRecord, needs_approval,
};
use super::{db, identities, password, sign_in_policy};
use crate::access::actor::Actor;
use crate::access::policy::Action;
use crate::audit::{self, AuditContext, EventType, NewEvent};
use crate::error::DomainError;
use crate::ids::UserId;

/// Creates an account (the operator's `icts-review user add`, the demonstration office and
/// an administrator's analysts; an administrator's other accounts go through
/// [`admin_create_user`]).
pub async fn create_user(
    pool: &PgPool,
    now: OffsetDateTime,
    ctx: &AuditContext,
    input: NewUser,
    must_change: bool,
) -> Result<UserRecord, DomainError> {
    let hash = password::hash_async(input.password.clone()).await;
    let mut tx = pool.begin().await?;
    let user = insert_user(&mut tx, now, ctx, &input, &hash, must_change, true).await?;
    tx.commit().await?;
    Ok(user)
}

/// Inserts an account and records `user.created`, in the caller's transaction.
async fn insert_user(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    ctx: &AuditContext,
    input: &NewUser,
    hash: &str,
    must_change: bool,
    active: bool,
) -> Result<UserRecord, DomainError> {
    let inserted = db::insert_user(&mut *tx, Uuid::now_v7(), input, hash, must_change, now, active).await;
    let user = match inserted {
        Ok(u) => u,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(DomainError::invalid("email", "an account with this email already exists"));
        }
        Err(e) => return Err(e.into()),
    };
    let mut changes = json!({
        "email": {"after": user.email}, "name": {"after": user.name}, "role": {"after": user.role},
        "must_change_password": {"after": must_change}
    });
    if !active {
        changes["active"] = json!({"after": false});
    }
    audit::record(&mut *tx, now, ctx, NewEvent::new(EventType::UserCreated).object("user", user.id).changes(changes))
        .await?;
    Ok(user)
}

/// An administrator creates an account. One of an analyst is made at once. One of a role in
/// [`GUARDED_ROLES`] is made inactive, with a password nobody knows, and waits for a second
/// administrator to activate it, who then sets and hands over its temporary password: else
/// one administrator could create a second administrator and approve their own requests
/// with it. With no other active administrator it is refused and nothing is made.
pub async fn admin_create_user(
    pool: &PgPool,
    now: OffsetDateTime,
    admin: &Actor,
    input: NewUser,
) -> Result<NewAccount, DomainError> {
    admin.authorize(&mut *pool.acquire().await?, now, Action::ManageUsers).await?;
    if !GUARDED_ROLES.contains(&input.role) {
        return create_user(pool, now, &admin.audit(), input, true).await.map(NewAccount::Done);
    }
    let hash = password::hash_async(password::generate()).await;
    let mut tx = pool.begin().await?;
    let user = insert_user(&mut tx, now, &admin.audit(), &input, &hash, true, false).await?;
    match approvals::request(&mut tx, admin, now, &user, &AdminChange::Active(true)).await {
        Ok(a) => {
            tx.commit().await?;
            Ok(NewAccount::Requested(user, Box::new(a)))
        }
        Err(Refused::Alone(message)) => Err(DomainError::Conflict(message)),
        Err(Refused::Other(e)) => Err(e),
    }
}

/// Sets where pages show the user times: `Some` zone of their own, or `None` for the
/// office's. Recorded with the zone before and after; setting the zone already set
/// records nothing.
pub async fn set_own_time_zone(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    zone: Option<&crate::zone::Zone>,
) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    let before = db::locked_time_zone(&mut tx, user.id).await?;
    let after = zone.map(|z| z.name().to_string());
    if before == after {
        return Ok(());
    }
    db::set_time_zone(&mut tx, user.id, after.as_deref(), now).await?;
    let event = NewEvent::new(EventType::UserTimeZoneSet)
        .object("user", user.id)
        .changes(json!({"time_zone": {"before": before, "after": after}}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Applies an administrator's change. `expected_version`, when given, must match (409
/// otherwise). Admins cannot change their own role or deactivate themselves. A change that
/// [`needs_approval`] is not made: it is recorded as a request for a second administrator
/// (refused outright when there is no other active administrator).
pub async fn admin_change(
    conn: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    target: UserId,
    change: AdminChange,
    expected_version: Option<i32>,
) -> Result<AdminOutcome, DomainError> {
    admin.authorize(conn, now, Action::ManageUsers).await?;
    if target == admin.id && matches!(change, AdminChange::Role(_) | AdminChange::Active(false)) {
        return Err(DomainError::Conflict(
            "you cannot change your own role or deactivate your own account; ask another administrator".into(),
        ));
    }
    let change = match change {
        AdminChange::LinkCard(subject) => {
            AdminChange::LinkCard(identities::card_subject(&subject).map_err(|m| DomainError::invalid("subject", m))?)
        }
        other => other,
    };
    let mut tx = conn.begin().await?;
    let before = locked_user(&mut tx, target).await?;
    if let Some(v) = expected_version
        && v != before.version
    {
        return Err(stale(before.version, v));
    }
    if let AdminChange::LinkCard(subject) = &change {
        identities::card_unlinked(&mut tx, subject).await?;
    }
    let already_active = matches!(change, AdminChange::Active(true)) && before.active;
    if needs_approval(before.role, &change) && !already_active {
        let request = approvals::request(&mut tx, admin, now, &before, &change).await;
        return match request {
            Ok(a) => {
                tx.commit().await?;
                Ok(AdminOutcome::Requested(a))
            }
            Err(Refused::Alone(message)) => {
                tx.commit().await?;
                Err(DomainError::Conflict(message))
            }
            Err(Refused::Other(e)) => Err(e),
        };
    }
    // The temporary password is hashed only for a change made now (a request keeps none).
    let new_hash = match &change {
        AdminChange::ResetPassword(p) => {
            password::check_new(p).map_err(|e| DomainError::invalid("password", format!("password {e}")))?;
            Some(password::hash_async(p.clone()).await)
        }
        _ => None,
    };
    let after = apply(&mut tx, admin, now, &before, &change, new_hash, None).await?;
    tx.commit().await?;
    Ok(AdminOutcome::Done(after))
}

/// The account row, locked for the change.
async fn locked_user(tx: &mut PgConnection, target: UserId) -> Result<UserRecord, DomainError> {
    db::locked_user(tx, target).await?.ok_or(DomainError::NotFound)
}

fn stale(now: i32, given: i32) -> DomainError {
    DomainError::Conflict(format!(
        "the account changed since you loaded it (version {now} now, {given} in your request); reload and try again"
    ))
}

/// Starts an account's credentials afresh, in the caller's transaction: the temporary
/// password `hash` (to be changed at the next sign-in), no lock, and no one-time codes,
/// recovery codes, security keys, or linked identities and cards. What was removed, for
/// the event.
async fn fresh_credentials(
    tx: &mut PgConnection,
    target: UserId,
    hash: &str,
) -> Result<serde_json::Value, DomainError> {
    db::set_temporary_password(&mut *tx, target, Some(hash)).await?;
    let cleared = db::clear_second_factors(&mut *tx, target).await?;
    let identities = db::clear_identities(&mut *tx, target).await?;
    Ok(json!({"password": "temporary, from the approver", "second_factors_removed": cleared.any(),
              "security_keys_removed": cleared.security_keys, "identities_removed": identities}))
}

/// Makes `change` to the locked account `before` and records it, with the approval it
/// rests on when a second administrator approved it.
async fn apply(
    tx: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    before: &UserRecord,
    change: &AdminChange,
    new_hash: Option<String>,
    approval: Option<serde_json::Value>,
) -> Result<UserRecord, DomainError> {
    let target = before.id;
    let (event_type, changes, end_sessions) = match change {
        AdminChange::Role(role) => {
            db::set_role(&mut *tx, target, *role).await?;
            let mut changes = json!({"role": {"before": before.role, "after": role}});
            // Raised to a guarded role by an approval: the account starts afresh, its
            // temporary password the approver's, so that whoever held it before (its creator,
            // or whoever reset it while it was an analyst's) does not hold a supervisor's.
            if approval.is_some() && GUARDED_ROLES.contains(role) {
                let Some(hash) = &new_hash else {
                    return Err(DomainError::invalid("password", "raising an account needs the temporary password"));
                };
                changes["credentials"] = fresh_credentials(&mut *tx, target, hash).await?;
            }
            (EventType::UserRoleChanged, changes, true)
        }
        AdminChange::Active(active) => {
            db::set_active(&mut *tx, target, *active).await?;
            (
                if *active { EventType::UserReactivated } else { EventType::UserDeactivated },
                json!({"active": {"before": before.active, "after": active}}),
                !active,
            )
        }
        AdminChange::Activate(_) => {
            let Some(hash) = &new_hash else {
                return Err(DomainError::invalid("password", "an activation needs the temporary password"));
            };
            db::activate(&mut *tx, target).await?;
            let credentials = fresh_credentials(&mut *tx, target, hash).await?;
            (
                EventType::UserActivated,
                json!({"active": {"before": before.active, "after": true}, "credentials": credentials}),
                true,
            )
        }
        AdminChange::ResetPassword(_) => {
            db::set_temporary_password(&mut *tx, target, new_hash.as_deref()).await?;
            (
                EventType::UserPasswordReset,
                json!({"must_change_password": {"before": before.must_change_password, "after": true}}),
                true,
            )
        }
        AdminChange::Unlock => {
            db::unlock(&mut *tx, target).await?;
            (EventType::UserUnlocked, json!({"locked_until": {"before": before.locked_until, "after": null}}), false)
        }
        AdminChange::EndSessions => (EventType::UserSessionsEnded, json!({}), true),
        AdminChange::LinkCard(subject) => {
            identities::card_unlinked(&mut *tx, subject).await?;
            db::link_card(&mut *tx, subject, target, now).await?;
            (
                EventType::UserIdentityLinked,
                json!({"issuer": identities::PIV_ISSUER, "subject": subject, "by": "admin"}),
                false,
            )
        }
        AdminChange::ResetSecondFactors => {
            let before = db::second_factors(&mut *tx, target).await?;
            let cleared = db::clear_second_factors(&mut *tx, target).await?;
            if !cleared.any() {
                return Err(DomainError::Conflict("this account has no second factor to reset".into()));
            }
            let keys_before = cleared.security_keys;
            (
                EventType::UserSecondFactorsReset,
                json!({"totp": {"before": before.totp_since.is_some() || before.totp_pending, "after": false},
                       "recovery_codes": {"before": before.recovery_left, "after": 0},
                       "security_keys": {"before": keys_before, "after": 0}}),
                true,
            )
        }
    };
    db::touch(&mut *tx, target, now).await?;
    let mut changes = changes;
    if end_sessions {
        let ended = db::end_sessions(&mut *tx, target, None).await?;
        changes["sessions_ended"] = json!(ended);
    }
    if let Some(a) = approval {
        changes["approval"] = a;
    }
    audit::record(&mut *tx, now, &admin.audit(), NewEvent::new(event_type).object("user", target).changes(changes))
        .await?;
    db::get_user(&mut *tx, target).await?.ok_or(DomainError::NotFound)
}

/// `admin` decides the open request `id`. Approving or refusing is for another
/// administrator than the one who asked (and not the account's holder); withdrawing is
/// for the one who asked. Approving a sign-in policy change, like making one, needs a
/// step-up within 5 minutes; it cannot turn password sign-in off while no single sign-on
/// provider is configured (`provider_configured`). A request not decided `on` that page is
/// not found.
pub async fn decide(
    conn: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    id: Uuid,
    decision: Decision,
    provider_configured: bool,
    on: Option<DecidedOn>,
) -> Result<Decided, DomainError> {
    admin.authorize(conn, now, Action::ManageUsers).await?;
    let new_hash = match &decision {
        Decision::Approve(Some(p)) => {
            password::check_new(p).map_err(|e| DomainError::invalid("password", format!("password {e}")))?;
            Some(password::hash_async(p.clone()).await)
        }
        _ => None,
    };
    let mut tx = conn.begin().await?;
    // The request, locked, read once.
    let (approval, outcome) = db::locked_approval(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    let here = match on {
        None => true,
        Some(DecidedOn::Account(id)) => approval.target_id == Some(id),
        Some(DecidedOn::Policy) => approval.policy.is_some(),
    };
    if !here {
        return Err(DomainError::NotFound);
    }
    let (requested_by, expires_at) = (approval.requested_by.0, approval.expires_at);
    if let Some(o) = outcome {
        return Err(DomainError::Conflict(format!("this request was already {o}")));
    }
    if expires_at <= now {
        approvals::expire(&mut tx, now, approval.target_id).await?;
        tx.commit().await?;
        return Err(DomainError::Conflict("this request expired unanswered; ask again".into()));
    }
    let asked = requested_by == admin.id.0;
    match &decision {
        Decision::Withdraw if !asked => {
            return Err(DomainError::ForbiddenBecause(
                "only the administrator who asked can withdraw a request".into(),
            ));
        }
        Decision::Approve(_) | Decision::Refuse if asked => {
            return Err(DomainError::ForbiddenBecause(
                "you asked for this change; a second administrator must approve or refuse it".into(),
            ));
        }
        Decision::Approve(_) | Decision::Refuse if approval.target_id == Some(admin.id) => {
            return Err(DomainError::ForbiddenBecause(
                "a change to your own account is for another administrator to decide".into(),
            ));
        }
        _ => {}
    }
    if let (Decision::Approve(_), Some(policy)) = (&decision, &approval.policy) {
        admin.require_recent_reauth(now)?;
        if !policy.password_allowed && !provider_configured {
            return Err(DomainError::Conflict(
                "this change turns password sign-in off, and no single sign-on provider is configured now: refuse it"
                    .into(),
            ));
        }
    }
    let (outcome, policy_event, user_event) = match decision {
        Decision::Approve(_) => ("approved", EventType::SignInPolicyChangeApproved, EventType::UserChangeApproved),
        Decision::Refuse => ("refused", EventType::SignInPolicyChangeRefused, EventType::UserChangeRefused),
        Decision::Withdraw => ("withdrawn", EventType::SignInPolicyChangeWithdrawn, EventType::UserChangeWithdrawn),
    };
    db::decide_approval(&mut tx, id, outcome, admin.id, now).await?;
    if let Some(policy) = &approval.policy {
        // The role's row before the log's head, in the order a save takes them.
        let before = sign_in_policy::locked(&mut tx, policy.role).await?;
        if outcome == "approved" && before.version != policy.version {
            return Err(DomainError::Conflict(format!(
                "the {} sign-in policy changed after this was asked for; refuse it and ask again",
                policy.role.label().to_lowercase()
            )));
        }
        let what =
            json!({"approval": id, "kind": approval.kind, "role": policy.role, "requested_by": approval.requested_by});
        let event = NewEvent::new(policy_event).changes(what.clone());
        audit::record(&mut tx, now, &admin.audit(), event).await?;
        if outcome == "approved" {
            let mut by = what;
            by["approved_by"] = json!(admin.id);
            sign_in_policy::apply(&mut tx, admin, now, &before, policy, Some(by)).await?;
        }
        tx.commit().await?;
        return Ok(Decided { approval, user: None });
    }
    let Some(target) = approval.target_id else {
        return Err(DomainError::Internal(anyhow::anyhow!("a request about an account names none")));
    };
    let what = json!({"approval": id, "kind": approval.kind, "role": approval.role, "subject": approval.subject,
                      "requested_by": approval.requested_by});
    audit::record(&mut tx, now, &admin.audit(), NewEvent::new(user_event).object("user", target).changes(what.clone()))
        .await?;
    let user = if outcome == "approved" {
        let before = locked_user(&mut tx, target).await?;
        let change = match (approval.kind, approval.role) {
            (ApprovalKind::RoleChange, Some(r)) => AdminChange::Role(r),
            (ApprovalKind::SecondFactorReset, _) => AdminChange::ResetSecondFactors,
            (ApprovalKind::Activation, _) => AdminChange::Activate(String::new()),
            (ApprovalKind::CardLink, _) => AdminChange::LinkCard(approval.subject.clone().unwrap_or_default()),
            _ => AdminChange::ResetPassword(String::new()),
        };
        if matches!(change, AdminChange::ResetPassword(_) | AdminChange::Activate(_) | AdminChange::Role(_))
            && new_hash.is_none()
        {
            return Err(DomainError::invalid("password", "this change needs the temporary password"));
        }
        if matches!(change, AdminChange::Activate(_)) && before.active {
            return Err(DomainError::Conflict("the account is active already; refuse this request".into()));
        }
        let mut by = what;
        by["approved_by"] = json!(admin.id);
        Some(apply(&mut tx, admin, now, &before, &change, new_hash, Some(by)).await?)
    } else {
        None
    };
    tx.commit().await?;
    Ok(Decided { approval, user })
}
