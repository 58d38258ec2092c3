//! Accounts as data and their pure rules: an account as administrators see it and the
//! checks of a new one; the changes an administrator makes and which of them wait for a
//! second administrator ([`needs_approval`]); a request waiting for one ([`Approval`]);
//! each role's sign-in policy ([`RolePolicy`]) and whether a change [`loosens`] it; and
//! the second factors an account holds, as listed. No I/O: `db.rs` reads and writes them,
//! the use cases are `service.rs`, `approvals.rs` and `sign_in_policy.rs`.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::password;
use crate::access::policy::Role;
use crate::error::FieldError;
use crate::ids::UserId;

/// An account as shown to administrators and in the API.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UserRecord {
    pub id: UserId,
    /// Email (lower case).
    pub email: String,
    /// Display name.
    pub name: String,
    pub role: Role,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the user must change the password at the next sign-in.
    pub must_change_password: bool,
    /// Locked until (after repeated failed sign-ins).
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Version for optimistic concurrency.
    pub version: i32,
}

impl UserRecord {
    /// Whether the account is locked at `now`.
    pub fn locked_at(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

/// Validated input for a new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Initial password.
    pub password: String,
}

impl NewUser {
    /// Checks raw input, naming every bad field.
    pub fn parse(email: &str, name: &str, role: &str, password: &str) -> Result<NewUser, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = email.trim().to_lowercase();
        if let Err(e) = check_email(&email) {
            errors.push(FieldError::new("email", e));
        }
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > crate::text::PERSON || name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "must be 1 to 200 characters"));
        }
        let role_parsed = Role::parse(role);
        if role_parsed.is_none() {
            errors.push(FieldError::new("role", "must be one of analyst, supervisor, auditor, admin"));
        }
        if let Err(e) = password::check_new(password) {
            errors.push(FieldError::new("password", format!("password {e}")));
        }
        if errors.is_empty() {
            Ok(NewUser { email, name, role: role_parsed.expect("checked"), password: password.to_string() })
        } else {
            Err(errors)
        }
    }
}

fn check_email(email: &str) -> Result<(), &'static str> {
    let valid = email.chars().count() <= crate::text::EMAIL
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.matches('@').count() == 1;
    if valid { Ok(()) } else { Err("must be an email address such as name@agency.gov") }
}

/// What became of an administrator's new account.
#[derive(Debug)]
pub enum NewAccount {
    /// Made, and active: its holder signs in with the temporary password given.
    Done(UserRecord),
    /// Made inactive, waiting for a second administrator to activate it.
    Requested(UserRecord, Box<Approval>),
}

/// An administrator's change to an account.
#[derive(Debug, Clone)]
pub enum AdminChange {
    /// New role (ends the user's sessions: a privilege change).
    Role(Role),
    /// Activate or deactivate (deactivation ends sessions).
    Active(bool),
    /// Set a new temporary password that must be changed at the next sign-in.
    ResetPassword(String),
    /// Lift a lockout.
    Unlock,
    /// End every session of the user.
    EndSessions,
    /// Remove the user's one-time codes and recovery codes (a lost authenticator); their
    /// sessions end, and they sign in with the password alone until they set up a new one.
    ResetSecondFactors,
    /// Link a card (PIV/CAC) by its certificate's subject: its holder then signs in with it.
    LinkCard(String),
    /// Activate an account of a guarded role, with a new temporary password (what a second
    /// administrator's approval of `Active(true)` makes).
    Activate(String),
}

/// Roles whose accounts a single administrator may not take over: resetting such an
/// account's password, or raising an account to such a role, needs a second
/// administrator's approval.
pub const GUARDED_ROLES: [Role; 3] = [Role::Supervisor, Role::Auditor, Role::Admin];

/// How long a request waits for a second administrator.
pub const APPROVAL_WINDOW: Duration = Duration::hours(24);

/// What became of an administrator's change.
#[derive(Debug, Clone)]
pub enum AdminOutcome {
    /// Made.
    Done(UserRecord),
    /// Waiting for a second administrator's approval.
    Requested(Approval),
}

/// Whether `change` to an account holding `role` needs a second administrator.
pub fn needs_approval(role: Role, change: &AdminChange) -> bool {
    match change {
        AdminChange::ResetPassword(_)
        | AdminChange::ResetSecondFactors
        | AdminChange::LinkCard(_)
        | AdminChange::Active(true)
        | AdminChange::Activate(_) => GUARDED_ROLES.contains(&role),
        AdminChange::Role(to) => *to != role && GUARDED_ROLES.contains(to),
        _ => false,
    }
}

/// What a request asks a second administrator for, stored, sent and audited by its
/// lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// Reset the password of a supervisor, an auditor or an administrator.
    PasswordReset,
    /// Raise an account to supervisor, auditor or administrator.
    RoleChange,
    /// Reset an account's second factors.
    SecondFactorReset,
    /// Link a card's certificate to an account.
    CardLink,
    /// Activate such an account.
    Activation,
    /// Loosen how a role signs in.
    SignInPolicy,
}

impl ApprovalKind {
    /// Every kind.
    pub const ALL: [ApprovalKind; 6] = [
        ApprovalKind::PasswordReset,
        ApprovalKind::RoleChange,
        ApprovalKind::SecondFactorReset,
        ApprovalKind::CardLink,
        ApprovalKind::Activation,
        ApprovalKind::SignInPolicy,
    ];

    /// The name stored, sent and audited.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::PasswordReset => "password_reset",
            ApprovalKind::RoleChange => "role_change",
            ApprovalKind::SecondFactorReset => "second_factor_reset",
            ApprovalKind::CardLink => "card_link",
            ApprovalKind::Activation => "activation",
            ApprovalKind::SignInPolicy => "sign_in_policy",
        }
    }

    /// Whether approving it gives the approver the account's new temporary password.
    pub fn sets_a_password(self) -> bool {
        matches!(self, ApprovalKind::PasswordReset | ApprovalKind::Activation | ApprovalKind::RoleChange)
    }
}

/// A request waiting for (or decided by) a second administrator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub id: Uuid,
    /// The account it is about (none for a sign-in policy).
    pub target_id: Option<UserId>,
    /// Its e-mail.
    pub target_email: Option<String>,
    /// What it asks for.
    pub kind: ApprovalKind,
    /// The new role (a role change).
    pub role: Option<Role>,
    /// The card's certificate subject (a card link).
    pub subject: Option<String>,
    /// The role's sign-in policy asked for, with the version it was asked against (a
    /// sign-in policy change).
    #[schema(value_type = Option<RolePolicy>)]
    pub policy: Option<sqlx::types::Json<RolePolicy>>,
    /// The administrator who asked.
    pub requested_by: UserId,
    /// Their name.
    pub requested_by_name: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// When it lapses if nobody decides.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Approval {
    /// What is asked for, in words.
    pub fn describe(&self) -> String {
        let email = self.target_email.as_deref().unwrap_or_default();
        match (self.kind, self.role, &self.policy) {
            (_, _, Some(p)) => {
                format!("loosen the sign-in policy of {}s to: {}", p.role.label().to_lowercase(), p.describe())
            }
            (ApprovalKind::RoleChange, Some(r), _) => format!(
                "change the role of {email} to {} (it starts afresh: its temporary password goes to the approver)",
                r.label()
            ),
            (ApprovalKind::SecondFactorReset, _, _) => format!("reset the second factors of {email}"),
            (ApprovalKind::Activation, _, _) => {
                format!(
                    "activate the account of {email} (it starts afresh: its temporary password goes to the approver)"
                )
            }
            (ApprovalKind::CardLink, _, _) => {
                format!("link the card {} to {email}", self.subject.as_deref().unwrap_or_default())
            }
            _ => format!("reset the password of {email}"),
        }
    }

    /// The page where the request is decided: the account's, or the sign-in policy's.
    pub fn page(&self) -> String {
        match self.target_id {
            Some(t) => format!("/admin/users/{t}"),
            None => "/admin/sign-in-policy".into(),
        }
    }
}

/// Where a decision is made: an account's page decides that account's requests, the
/// sign-in policy's page the policy's (the API decides any).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DecidedOn {
    Account(UserId),
    Policy,
}

/// A second administrator's decision.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Carry the change out; a password reset takes this temporary password.
    Approve(Option<String>),
    /// Refuse it.
    Refuse,
    /// The administrator who asked takes it back.
    Withdraw,
}

/// What a decision did: the request, and the account after an approval.
pub struct Decided {
    pub approval: Approval,
    pub user: Option<UserRecord>,
}

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
    pub waiting: Vec<Approval>,
}

/// The second factors of an account, as its owner and administrators see them.
#[derive(Debug, Clone, Default)]
pub struct Methods {
    /// When an authenticator was confirmed (none: no one-time codes).
    pub totp_since: Option<OffsetDateTime>,
    /// When its code last signed the user in.
    pub totp_last_used: Option<OffsetDateTime>,
    /// Whether a set-up was begun and not confirmed.
    pub totp_pending: bool,
    /// Recovery codes not used yet.
    pub recovery_left: i64,
    /// When a recovery code was last used.
    pub recovery_last_used: Option<OffsetDateTime>,
}

/// How long an address an account signed in from stays one it may sign in from while
/// locked for others.
pub const KNOWN_ADDRESS: Duration = Duration::days(90);

/// Where an account's lock came from and the addresses it may still sign in from, for the
/// admins' page.
#[derive(Debug, Clone, Default)]
pub struct LockDetails {
    /// The address of the failure that locked it (while locked).
    pub locked_from: Option<String>,
    /// Addresses it signed in from within [`KNOWN_ADDRESS`], newest first, with the time.
    pub known: Vec<(String, OffsetDateTime)>,
}

/// A registered key as the account page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_user_input_names_every_bad_field() {
        let errs = NewUser::parse("not-an-email", "", "root", "short").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "name", "role", "password"]);
        let ok = NewUser::parse(" Ana.Lyst@Agency.GOV ", " Ana Lyst ", "analyst", "a long enough passphrase").unwrap();
        assert_eq!(ok.email, "ana.lyst@agency.gov");
        assert_eq!(ok.name, "Ana Lyst");
        assert_eq!(ok.role, Role::Analyst);
    }

    #[test]
    fn email_shapes() {
        assert!(check_email("a@b.gov").is_ok());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.gov").is_err());
        assert!(check_email("a@@c.gov").is_err());
        assert!(check_email("@c.gov").is_err());
    }

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
