//! Card (PIV/CAC) sign-in behind the agency's reverse proxy. The proxy verifies the
//! client certificate (chain, expiry, revocation) and forwards its subject — a
//! distinguished name or a UPN — in a configured header; the service believes that header
//! only on connections from the configured proxy addresses. The subject maps to an account
//! like a provider's identity ([`super::identities`]): linked by an administrator, or, when
//! the subject is the account's e-mail address (a UPN), linked at the first sign-in.
//!
//! A card is phishing-resistant multi-factor authentication: its sessions carry the `amr`
//! values `sc`, `hwk`, `pin` and `mfa` (RFC 8176), which a role's sign-in policy may
//! require. A password lock does not stop it.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::finish::{SignInClient, SignedInSession, finish_sign_in};
use super::session::{Kind, SignInMethod};
use crate::access::actor::RequestMeta;
use crate::access::policy::Role;
use crate::accounts::identities::{self, PIV_ISSUER};
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::config::PivSettings;
use crate::ids::UserId;

/// The authentication methods of a card sign-in (RFC 8176).
pub const CARD_AMR: [&str; 4] = ["sc", "hwk", "pin", "mfa"];

/// Why a card sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The request did not come from the configured proxy.
    #[error("the request did not come through the card proxy")]
    UntrustedProxy,
    /// The proxy forwarded no verified certificate.
    #[error("no card was presented")]
    NoCard,
    /// The forwarded subject cannot be used.
    #[error("the certificate subject cannot be read")]
    BadSubject,
    /// The card's issuer is not one whose cards sign in.
    #[error("the card's issuer is not accepted")]
    UntrustedIssuer { subject: String, issuer: String },
    /// No account belongs to the card.
    #[error("no account for this card")]
    UnknownCard { subject: String },
    /// The account is deactivated.
    #[error("the account is deactivated")]
    Deactivated { user: UserId, role: Role },
    /// The role's policy does not accept a card sign-in.
    #[error("the role requires another method")]
    Assurance { user: UserId, role: Role, required: Vec<String> },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Refusal {
    /// The reason its audit event records.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::UntrustedProxy => "piv_untrusted_proxy",
            Refusal::NoCard => "piv_no_card",
            Refusal::BadSubject => "piv_bad_subject",
            Refusal::UntrustedIssuer { .. } => "piv_untrusted_issuer",
            Refusal::UnknownCard { .. } => "unknown_identity",
            Refusal::Deactivated { .. } => "deactivated",
            Refusal::Assurance { .. } => "insufficient_assurance",
            Refusal::Db(_) => "database",
        }
    }
}

/// The card subject of a request, if it came from the proxy (with, when issuers are
/// configured, the certificate's issuer from `issuer_header`, one of them): `Err` says why
/// not. Each header's values as the request has them: a header given twice (a client's
/// own beside the proxy's, behind a proxy that appends) is refused.
pub fn subject_of(
    settings: &PivSettings,
    peer: Option<&str>,
    header: &[&[u8]],
    issuer_header: &[&[u8]],
) -> Result<String, Refusal> {
    let trusted = peer
        .and_then(|p| p.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| settings.proxies.iter().any(|net| net.contains(&ip)));
    if !trusted {
        return Err(Refusal::UntrustedProxy);
    }
    if header.len() > 1 || issuer_header.len() > 1 {
        return Err(Refusal::BadSubject);
    }
    let Some(value) = header.first().copied() else { return Err(Refusal::NoCard) };
    let text = std::str::from_utf8(value).map_err(|_| Refusal::BadSubject)?;
    // nginx forwards "(null)" or nothing when no certificate was verified.
    if text.trim().is_empty() || text.trim() == "(null)" {
        return Err(Refusal::NoCard);
    }
    let subject = identities::card_subject(text).map_err(|_| Refusal::BadSubject)?;
    if let Some((_, accepted)) = &settings.issuers {
        let issuer = issuer_header.first().and_then(|v| std::str::from_utf8(v).ok()).map(str::trim).unwrap_or("");
        if !accepted.iter().any(|a| a == issuer) {
            let issuer = if issuer.chars().any(crate::error::control_character) { "" } else { issuer };
            return Err(Refusal::UntrustedIssuer { subject, issuer: issuer.chars().take(1024).collect() });
        }
    }
    Ok(subject)
}

/// Signs in the account of the card `subject` (from [`subject_of`]); every refusal is a
/// failed `auth.sign_in` event with its reason.
pub async fn sign_in(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    subject: Result<String, Refusal>,
    previous_secret: Option<&str>,
) -> Result<SignedInSession, Refusal> {
    let shown = subject.as_ref().ok().cloned();
    let result = match subject {
        Ok(subject) => sign_in_subject(pool, now, meta, &subject, previous_secret).await,
        Err(e) => Err(e),
    };
    if let Err(refusal) = &result
        && !matches!(refusal, Refusal::Db(_))
    {
        let actor = match refusal {
            Refusal::Deactivated { user, role } | Refusal::Assurance { user, role, .. } => Some((*user, *role)),
            _ => None,
        };
        let mut changes = json!({"method": "piv", "reason": refusal.reason(), "subject": shown});
        if let Refusal::UntrustedIssuer { subject, issuer } = refusal {
            changes["subject"] = json!(subject);
            changes["issuer"] = json!(issuer);
        }
        if let Refusal::Assurance { required, .. } = refusal {
            changes["required"] = json!(required);
        }
        let mut event = NewEvent::new(EventType::AuthSignIn).outcome(Outcome::Failure).changes(changes);
        if let Some((user, _)) = actor {
            event = event.object("user", user);
        }
        match refusal {
            // Requests that never came through the proxy, or brought no card, are anyone's:
            // counted per address and minute like other anonymous refusals.
            Refusal::UntrustedProxy | Refusal::NoCard | Refusal::BadSubject => {
                audit::record_anonymous_refusal(pool, now, &meta.audit(None), refusal.reason()).await?;
            }
            _ => {
                audit::record_alone(pool, now, &meta.audit(actor), event).await?;
            }
        }
    }
    result
}

async fn sign_in_subject(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    subject: &str,
    previous_secret: Option<&str>,
) -> Result<SignedInSession, Refusal> {
    let mut tx = pool.begin().await?;
    // A UPN that is an account's e-mail address links that account at its first card sign-in.
    let email = subject.contains('@').then_some(subject);
    let Some((user, newly_linked)) = identities::account_of(&mut tx, PIV_ISSUER, subject, email).await? else {
        return Err(Refusal::UnknownCard { subject: subject.to_string() });
    };
    let account = crate::accounts::db::get_user(&mut tx, user).await?.ok_or(sqlx::Error::RowNotFound)?;
    if !account.active {
        return Err(Refusal::Deactivated { user, role: account.role });
    }
    let amr: Vec<String> = CARD_AMR.iter().map(|s| s.to_string()).collect();
    let policy = crate::accounts::sign_in_policy::of_role(&mut tx, account.role).await?;
    if !policy.accepts(None, &amr) {
        return Err(Refusal::Assurance { user, role: account.role, required: policy.sso_assurance });
    }
    let ctx = meta.audit(Some((user, account.role)));
    identities::record_use(&mut tx, now, &ctx, user, PIV_ISSUER, subject, email, newly_linked).await?;
    let signed = finish_sign_in(
        &mut tx,
        user,
        now,
        meta,
        SignInClient { kind: Kind::Browser, previous_secret, next: None },
        SignInMethod { name: "piv", acr: None, amr: &amr, id_token: None },
        json!({"method": "piv", "subject": subject, "amr": amr}),
    )
    .await?;
    tx.commit().await?;
    Ok(signed)
}
