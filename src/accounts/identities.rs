//! Identities proved elsewhere and linked to accounts: a subject at the OpenID provider, or
//! the subject of a PIV/CAC certificate verified by the agency's proxy. An identity maps to
//! the account an administrator created for it: by its (issuer, subject) once linked, else
//! by the account's e-mail when the identity's e-mail is verified (the subject is then
//! linked at that first sign-in), or as an administrator linked it. There is no
//! self-registration.

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::db;
use crate::access::actor::Actor;
use crate::access::policy::Action;
use crate::audit::{self, AuditContext, EventType, NewEvent};
use crate::error::DomainError;
use crate::ids::UserId;

/// The issuer recorded for card identities (the subject is the certificate's, as the
/// proxy forwards it).
pub const PIV_ISSUER: &str = "urn:icts-review:piv";

/// An identity linked to an account.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    pub issuer: String,
    pub subject: String,
    /// The e-mail it was linked by, if any.
    pub email: Option<String>,
    pub linked_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

impl LinkedIdentity {
    /// Whether it is a card's.
    pub fn is_card(&self) -> bool {
        self.issuer == PIV_ISSUER
    }
}

/// The account of (`issuer`, `subject`): linked, or found by `verified_email` when no
/// identity of this issuer is linked to that account yet; `true` when it is to be linked
/// now ([`record_use`] links it). The rows are locked for the caller's transaction.
pub async fn account_of(
    tx: &mut PgConnection,
    issuer: &str,
    subject: &str,
    verified_email: Option<&str>,
) -> Result<Option<(UserId, bool)>, sqlx::Error> {
    let linked = db::locked_identity_owner(&mut *tx, issuer, subject).await?;
    if let Some(id) = linked {
        return Ok(Some((UserId(id), false)));
    }
    let Some(email) = verified_email else { return Ok(None) };
    let found = db::locked_unlinked_account(tx, email.trim(), issuer).await?;
    Ok(found.map(|id| (UserId(id), true)))
}

/// At a sign-in: links a newly matched identity (with its `user.identity_linked` event), or
/// notes the use of a linked one.
#[allow(clippy::too_many_arguments)]
pub async fn record_use(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    ctx: &AuditContext,
    user: UserId,
    issuer: &str,
    subject: &str,
    email: Option<&str>,
    newly_linked: bool,
) -> Result<(), sqlx::Error> {
    if newly_linked {
        db::link_identity(&mut *tx, issuer, subject, user, email, now).await?;
        let event = NewEvent::new(EventType::UserIdentityLinked)
            .object("user", user)
            .changes(json!({"issuer": issuer, "subject": subject, "email": email, "by": "sign_in"}));
        audit::record(&mut *tx, now, ctx, event).await?;
    } else {
        db::note_identity_use(tx, issuer, subject, now).await?;
    }
    Ok(())
}

/// Checks a subject as entered or forwarded: 1 to 1,024 characters (a certificate's
/// distinguished name can be long), no control characters.
pub fn check_subject(subject: &str) -> Result<String, &'static str> {
    let s = subject.trim();
    if s.is_empty() || s.chars().count() > 1024 || s.chars().any(char::is_control) {
        Err("must be 1 to 1,024 characters without control characters")
    } else {
        Ok(s.to_string())
    }
}

/// A card subject as stored: checked, and a UPN (an e-mail-like name, no `=`) in lower
/// case, as e-mail addresses are compared.
pub fn card_subject(subject: &str) -> Result<String, &'static str> {
    let s = check_subject(subject)?;
    Ok(if s.contains('@') && !s.contains('=') { s.to_lowercase() } else { s })
}

/// Refuses a card subject that is linked to an account already (a card belongs to one
/// account). Linking a card is an administrator's change (`AdminChange::LinkCard`): for a
/// supervisor, an auditor or an administrator it waits for a second administrator, as a
/// password reset does, since a linked card signs its holder in to the account.
pub async fn card_unlinked(tx: &mut PgConnection, subject: &str) -> Result<(), DomainError> {
    let taken = db::identity_linked(tx, PIV_ISSUER, subject).await?;
    if taken {
        return Err(DomainError::invalid("subject", "is linked to an account already; remove it there first"));
    }
    Ok(())
}

/// An administrator removes an identity from an account (a card replaced, a subject
/// linked by mistake); the account's sessions signed in the same way (with a card, or
/// through the provider) end with it.
pub async fn unlink(
    pool: &PgPool,
    now: OffsetDateTime,
    actor: &Actor,
    user: UserId,
    issuer: &str,
    subject: &str,
) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    actor.authorize(&mut tx, now, Action::ManageUsers).await?;
    let removed = db::delete_identity(&mut tx, user, issuer, subject).await?;
    if removed == 0 {
        return Err(DomainError::NotFound);
    }
    // The sessions it may have opened end with it (sessions keep how, not which identity).
    let method = if issuer == PIV_ISSUER { "piv" } else { "sso" };
    let ended = db::end_sessions_signed_in_by(&mut tx, user, method).await?;
    let event = NewEvent::new(EventType::UserIdentityUnlinked)
        .object("user", user)
        .changes(json!({"issuer": issuer, "subject": subject, "sessions_ended": ended}));
    audit::record(&mut tx, now, &actor.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}
