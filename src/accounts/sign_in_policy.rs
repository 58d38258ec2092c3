//! How each role may sign in, set by administrators: whether with a password at all, and
//! which `acr` or `amr` values a sign-in through the OpenID provider must carry (for
//! example phishing-resistant methods for supervisors and administrators). One row per
//! role in `role_sign_in_policies`; every change is one transaction with its audit event.
//! A change that loosens a role's policy ([`super::model::loosens`]) is not made at once: like a
//! supervisor's password reset, it waits for a second administrator's approval
//! ([`super::approvals`]); one that only tightens it is made at once.

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::approvals::{self, Refused};
use super::model::{PolicyChange, RolePolicy, Saved, loosens, parse_values};
use crate::access::actor::Actor;
use crate::access::policy::{Action, Role};
use crate::audit::{self, EventType, NewEvent};
use crate::error::{DomainError, FieldError};

/// The policy of `role`.
pub async fn of_role(conn: &mut PgConnection, role: Role) -> Result<RolePolicy, sqlx::Error> {
    Ok(super::db::sign_in_policy(conn, role).await?.unwrap_or(RolePolicy {
        role,
        password_allowed: true,
        sso_assurance: Vec::new(),
        require_security_key: false,
        version: 0,
    }))
}

/// Every role's policy, in the order of [`Role::ALL`].
pub async fn all(conn: &mut PgConnection) -> Result<Vec<RolePolicy>, sqlx::Error> {
    let mut out = Vec::new();
    for role in Role::ALL {
        out.push(of_role(conn, role).await?);
    }
    Ok(out)
}

/// Sets the roles' policies (administrators only, within 5 minutes of a step-up), in one
/// transaction with one audit event for each role that changes. A change that [`loosens`]
/// a role's policy is recorded as a request for a second administrator instead (refused,
/// naming the field, when the office has no other active administrator). Password
/// sign-in cannot be turned off for a role while no OpenID provider is configured (nobody
/// of that role could sign in). Errors name the role's field: `password_allowed_ROLE`,
/// `sso_assurance_ROLE`, `require_security_key_ROLE`.
pub async fn set(
    pool: &PgPool,
    now: OffsetDateTime,
    actor: &Actor,
    changes: Vec<PolicyChange>,
    provider_configured: bool,
) -> Result<Saved, DomainError> {
    let mut tx = pool.begin().await?;
    actor.authorize(&mut tx, now, Action::ManageUsers).await?;
    // How everyone signs in is changed only by an administrator who just proved who they are.
    actor.require_recent_reauth(now)?;
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for change in changes {
        match parse_values(&change.sso_assurance) {
            Ok(values) => parsed.push((change, values)),
            Err(e) => errors.push(FieldError::new(format!("sso_assurance_{}", change.role), e.message)),
        }
    }
    for (change, _) in &parsed {
        if !change.password_allowed && !provider_configured {
            errors.push(FieldError::new(
                format!("password_allowed_{}", change.role),
                "cannot be turned off while no single sign-on provider is configured: nobody of this role could sign in",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut policies = Vec::new();
    let mut waiting = Vec::new();
    for (change, values) in parsed {
        let before = locked(&mut tx, change.role).await?;
        let after = RolePolicy {
            role: change.role,
            password_allowed: change.password_allowed,
            sso_assurance: values,
            require_security_key: change.require_security_key,
            version: change.version,
        };
        if before.password_allowed == after.password_allowed
            && before.sso_assurance == after.sso_assurance
            && before.require_security_key == after.require_security_key
        {
            policies.push(before);
            continue;
        }
        if before.version != change.version {
            return Err(changed_meanwhile(change.role));
        }
        if loosens(&before, &after) {
            match approvals::request_policy(&mut tx, actor, now, &before, &after).await {
                Ok(a) => waiting.push(a),
                Err(Refused::Alone(message)) => errors.push(FieldError::new(loosened_field(&before, &after), message)),
                Err(Refused::Other(e)) => return Err(e),
            }
            policies.push(before);
            continue;
        }
        policies.push(apply(&mut tx, actor, now, &before, &after, None).await?);
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    tx.commit().await?;
    Ok(Saved { policies, waiting })
}

/// The field of the first loosening in the change from `before` to `after`.
fn loosened_field(before: &RolePolicy, after: &RolePolicy) -> String {
    let name = if after.password_allowed && !before.password_allowed {
        "password_allowed"
    } else if before.require_security_key && !after.require_security_key {
        "require_security_key"
    } else {
        "sso_assurance"
    };
    format!("{name}_{}", after.role)
}

fn changed_meanwhile(role: Role) -> DomainError {
    DomainError::Conflict(format!(
        "the {} policy was changed by someone else meanwhile; reload the page and make the change again",
        role.label().to_lowercase()
    ))
}

/// The policy of `role`, its row locked for a change (every role has its row, from
/// migration 0035).
pub(super) async fn locked(conn: &mut PgConnection, role: Role) -> Result<RolePolicy, sqlx::Error> {
    super::db::locked_sign_in_policy(conn, role).await
}

/// Makes the change from `before` (locked) to `after` (whose version is the one it was
/// asked against) and records `sign_in_policy.changed`, with the approval it rests on when
/// a second administrator approved it.
pub(super) async fn apply(
    tx: &mut PgConnection,
    actor: &Actor,
    now: OffsetDateTime,
    before: &RolePolicy,
    after: &RolePolicy,
    approved: Option<serde_json::Value>,
) -> Result<RolePolicy, DomainError> {
    let updated = super::db::update_sign_in_policy(&mut *tx, after, actor.id, now).await?;
    let Some(version) = updated else {
        return Err(changed_meanwhile(after.role));
    };
    let mut changes = json!({
        "role": after.role,
        "password_allowed": {"before": before.password_allowed, "after": after.password_allowed},
        "sso_assurance": {"before": before.sso_assurance, "after": after.sso_assurance},
        "require_security_key": {"before": before.require_security_key, "after": after.require_security_key},
    });
    if let Some(by) = approved {
        changes["approval"] = by;
    }
    audit::record(&mut *tx, now, &actor.audit(), NewEvent::new(EventType::SignInPolicyChanged).changes(changes))
        .await?;
    Ok(RolePolicy { version, ..after.clone() })
}
