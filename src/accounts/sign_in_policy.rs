//! How each role may sign in, set by administrators: whether with a password at all, and
//! which `acr` or `amr` values a sign-in through the OpenID provider must carry (for
//! example phishing-resistant methods for supervisors and administrators). One row per
//! role in `role_sign_in_policies`; every change is one transaction with its audit event.
//! A change that loosens a role's policy ([`loosens`]) is not made at once: like a
//! supervisor's password reset, it waits for a second administrator's approval
//! ([`super::approvals`]); one that only tightens it is made at once.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::access::actor::Actor;
use crate::access::policy::{Action, Role};
use crate::audit::{self, EventType, NewEvent};
use crate::error::{DomainError, FieldError};

/// Most values a role may list as acceptable `acr`/`amr`.
const MAX_VALUES: usize = 20;

/// One role's sign-in policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RolePolicy {
    pub role: Role,
    /// Whether the role may sign in with a password (pages and API tokens).
    pub password_allowed: bool,
    /// `acr` or `amr` values of which a provider's sign-in must carry at least one; empty:
    /// any sign-in the provider accepts.
    pub sso_assurance: Vec<String>,
    /// Whether the role's users must have a security key: one is the second factor of
    /// their password sign-in (codes are not), and a user without one registers one after
    /// signing in, before anything else.
    pub require_security_key: bool,
    /// Version for optimistic concurrency (in a request waiting for approval: the version
    /// it was asked against).
    pub version: i64,
}

/// Whether going from `before` to `after` lets someone sign in in a way `before` refused:
/// password sign-in turned back on, a security key no longer required, or a provider's
/// sign-in accepted with a method the old list did not name (or with any method).
pub fn loosens(before: &RolePolicy, after: &RolePolicy) -> bool {
    (after.password_allowed && !before.password_allowed)
        || (before.require_security_key && !after.require_security_key)
        || (!before.sso_assurance.is_empty()
            && (after.sso_assurance.is_empty()
                || after.sso_assurance.iter().any(|v| !before.sso_assurance.contains(v))))
}

impl RolePolicy {
    /// The policy in words, as a request for it is shown.
    pub fn describe(&self) -> String {
        format!(
            "{}; {}; single sign-on {}",
            if self.password_allowed { "password sign-in allowed" } else { "no password sign-in" },
            if self.require_security_key { "a security key required" } else { "no security key required" },
            if self.sso_assurance.is_empty() {
                "with any method".to_string()
            } else {
                format!("with one of {}", self.sso_assurance.join(", "))
            }
        )
    }

    /// Whether a provider's sign-in with `acr` and `amr` meets this policy.
    pub fn accepts(&self, acr: Option<&str>, amr: &[String]) -> bool {
        self.sso_assurance.is_empty()
            || self.sso_assurance.iter().any(|v| acr == Some(v.as_str()) || amr.iter().any(|a| a == v))
    }
}

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

/// A change to one role's policy, as entered.
#[derive(Debug, Clone)]
pub struct PolicyChange {
    pub role: Role,
    pub password_allowed: bool,
    /// Acceptable `acr`/`amr` values, separated by spaces, commas or new lines.
    pub sso_assurance: String,
    pub require_security_key: bool,
    /// The version the change was made against.
    pub version: i64,
}

/// Parses the list of acceptable values: each 1 to 200 printable characters without
/// spaces, at most [`MAX_VALUES`], duplicates dropped.
pub fn parse_values(text: &str) -> Result<Vec<String>, FieldError> {
    let mut values: Vec<String> = Vec::new();
    for v in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|v| !v.is_empty()) {
        if v.chars().count() > 200 || v.chars().any(char::is_control) {
            return Err(FieldError::new("sso_assurance", "each value must be 1 to 200 printable characters"));
        }
        if !values.iter().any(|x| x == v) {
            values.push(v.to_string());
        }
    }
    if values.len() > MAX_VALUES {
        return Err(FieldError::new("sso_assurance", format!("list at most {MAX_VALUES} values")));
    }
    Ok(values)
}

/// What a save did: every role's policy as it now stands, and the loosening changes that
/// wait for a second administrator instead.
#[derive(Debug)]
pub struct Saved {
    pub policies: Vec<RolePolicy>,
    pub waiting: Vec<super::approvals::Approval>,
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
            match super::approvals::request_policy(&mut tx, actor, now, &before, &after).await {
                Ok(a) => waiting.push(a),
                Err(super::approvals::Refused::Alone(message)) => {
                    errors.push(FieldError::new(loosened_field(&before, &after), message))
                }
                Err(super::approvals::Refused::Other(e)) => return Err(e),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_accepts_any_listed_acr_or_amr() {
        let p = RolePolicy {
            role: Role::Supervisor,
            password_allowed: false,
            sso_assurance: vec!["phr".into(), "http://idmanagement.gov/ns/assurance/aal/3".into()],
            require_security_key: false,
            version: 1,
        };
        assert!(p.accepts(None, &["pwd".into(), "phr".into()]));
        assert!(p.accepts(Some("http://idmanagement.gov/ns/assurance/aal/3"), &[]));
        assert!(!p.accepts(Some("http://idmanagement.gov/ns/assurance/aal/2"), &["pwd".into(), "otp".into()]));
        let open = RolePolicy { sso_assurance: vec![], ..p };
        assert!(open.accepts(None, &[]));
    }

    #[test]
    fn loosening_is_any_way_in_the_old_policy_refused() {
        let strict = RolePolicy {
            role: Role::Supervisor,
            password_allowed: false,
            sso_assurance: vec!["phr".into(), "hwk".into()],
            require_security_key: true,
            version: 3,
        };
        let with = |f: &dyn Fn(&mut RolePolicy)| {
            let mut p = strict.clone();
            f(&mut p);
            p
        };
        assert!(!loosens(&strict, &strict));
        assert!(loosens(&strict, &with(&|p| p.password_allowed = true)));
        assert!(loosens(&strict, &with(&|p| p.require_security_key = false)));
        assert!(loosens(&strict, &with(&|p| p.sso_assurance.clear())), "any method");
        assert!(loosens(&strict, &with(&|p| p.sso_assurance.push("pwd".into()))), "one more method");
        assert!(loosens(&strict, &with(&|p| p.sso_assurance = vec!["otp".into()])), "another method");
        assert!(!loosens(&strict, &with(&|p| p.sso_assurance = vec!["hwk".into()])), "fewer methods");
        let open =
            RolePolicy { password_allowed: true, sso_assurance: vec![], require_security_key: false, ..strict.clone() };
        assert!(!loosens(&open, &strict), "tightening every part");
        assert!(!loosens(&open, &with(&|p| p.password_allowed = true)), "password kept, the rest tightened");
    }

    #[test]
    fn values_are_split_checked_and_deduplicated() {
        assert_eq!(parse_values(" phr, hwk\nphr ").unwrap(), vec!["phr".to_string(), "hwk".to_string()]);
        assert!(parse_values("").unwrap().is_empty());
        assert_eq!(parse_values(&"x ".repeat(0)).unwrap().len(), 0);
        let many = (0..21).map(|i| format!("v{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(parse_values(&many).unwrap_err().field, "sso_assurance");
        assert!(parse_values("a\u{7}b").is_err());
    }
}
