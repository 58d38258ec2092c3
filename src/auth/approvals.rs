//! Separation of duties among administrators. Resetting the password of a supervisor, an
//! auditor or an administrator, or raising an account to one of those roles, would let one
//! administrator sign in as someone who signs determinations or reads the whole record. So
//! one administrator asks for it and a second one carries it out. So does loosening how a
//! role signs in ([`super::sign_in_policy::loosens`]), which would let one administrator
//! open a way in for every supervisor. The request is a row of
//! `admin_approvals` (the database refuses a decision by the one who asked), audited when
//! asked, approved, refused, withdrawn or found expired; an office with a single active
//! administrator is refused the change outright.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::actor::Actor;
use super::db;
use super::password;
use super::policy::{Action, Role};
use super::service::{APPROVAL_WINDOW, AdminChange, UserRecord, apply, locked_user};
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::error::DomainError;
use crate::ids::UserId;

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
    #[schema(value_type = Option<super::sign_in_policy::RolePolicy>)]
    pub policy: Option<sqlx::types::Json<super::sign_in_policy::RolePolicy>>,
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
    before: &super::sign_in_policy::RolePolicy,
    after: &super::sign_in_policy::RolePolicy,
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
async fn expire(tx: &mut PgConnection, now: OffsetDateTime, target: Option<UserId>) -> Result<(), DomainError> {
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

/// The sweep that marks lapsed requests expired, once a minute; it also deletes sign-in
/// challenges long lapsed ([`super::second_factor::sweep_lapsed`]).
pub fn spawn_expiry(pool: sqlx::PgPool, clock: crate::clock::SharedClock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = expire_lapsed(&pool, clock.now()).await {
                tracing::warn!(error = %e, "marking lapsed administrator requests expired failed; will retry");
            }
            if let Err(e) = super::second_factor::sweep_lapsed(&pool, clock.now()).await {
                tracing::warn!(error = %e, "deleting lapsed sign-in challenges failed; will retry");
            }
        }
    })
}

/// How many requests wait for a second administrator now (lapsed ones not counted; the
/// sweep marks them expired).
pub async fn count_open(conn: &mut PgConnection, now: OffsetDateTime) -> Result<i64, sqlx::Error> {
    db::count_open_approvals(conn, now).await
}

/// What a decision did: the request, and the account after an approval.
pub struct Decided {
    pub approval: Approval,
    pub user: Option<UserRecord>,
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
        expire(&mut tx, now, approval.target_id).await?;
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
        let before = super::sign_in_policy::locked(&mut tx, policy.role).await?;
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
            super::sign_in_policy::apply(&mut tx, admin, now, &before, policy, Some(by)).await?;
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
