//! Security keys and passkeys (WebAuthn, on `webauthn-rs`): phishing-resistant, bound to
//! this site's origin. Users register one or more on their account page (named, listed
//! with their last use, removable); a key then signs them in as the second factor after
//! their password, or alone as a passkey (with the authenticator's own user
//! verification), and confirms a step-up (signing a determination, an export) instead of
//! the password. A role's sign-in policy may require one: such a user is sent to register
//! one after their next sign-in, before anything else.
//!
//! A ceremony's state is kept beside what it belongs to: a registration or a step-up on the
//! session (`sessions.webauthn_state`), a sign-in on its challenge. It is taken once.
//!
//! A passkey sign-in for an address without a passkey is not told apart from one with: it
//! is offered a decoy key ([`decoy_options`]), the same for the same address every time,
//! that no authenticator holds.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Webauthn, WebauthnBuilder,
};

use super::db;
use crate::access::REAUTH_VALID;
use crate::access::actor::Actor;
use crate::accounts::model::KeyRow;
use crate::audit::{self, EventType, NewEvent};
use crate::error::{DomainError, FieldError};
use crate::ids::{SessionId, UserId};

/// How long a ceremony waits for the authenticator's answer.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// Most keys one account may register.
pub const MAX_KEYS: i64 = 10;

/// The relying party: this service at its public URL. `None` when the URL's host cannot
/// be a WebAuthn relying party (an IP address): keys are then not offered.
pub fn relying_party(public_url: &url::Url) -> Option<Arc<Webauthn>> {
    let host = public_url.host_str()?;
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return None;
    }
    let origin = url::Url::parse(&public_url.origin().ascii_serialization()).ok()?;
    WebauthnBuilder::new(host, &origin).ok()?.rp_name("ICTS Review").build().ok().map(Arc::new)
}

/// The secret a decoy key is derived from for `email`: HMAC-SHA-256 of the address under
/// this installation's secret. Kept on the decoy challenge.
pub fn decoy_mac(installation_secret: &[u8], email: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(installation_secret).expect("HMAC takes a key of any length");
    mac.update(email.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The options of a decoy challenge: a fresh challenge, this relying party's own timeout,
/// id and user verification (as `start_passkey_authentication` gives them), and one key
/// whose id is derived from `mac` (16, 20, 32 or 64 bytes, as authenticators' ids come),
/// the same for the same address every time. Like a real key's, it names no transports:
/// webauthn-rs keeps none from a passkey's registration (its attestation is `none`).
pub fn decoy_options(rp: &Webauthn, mac: &[u8]) -> Result<RequestChallengeResponse, DomainError> {
    use sha2::Digest;
    let internal = |e: String| DomainError::Internal(anyhow::anyhow!("decoy key options: {e}"));
    let (options, _) = rp.start_passkey_authentication(&[]).map_err(|e| internal(format!("{e:?}")))?;
    let bytes = sha2::Sha512::digest(mac);
    let len = [16, 20, 32, 64][usize::from(mac.first().copied().unwrap_or(0) % 4)];
    let mut value = serde_json::to_value(&options).map_err(|e| internal(e.to_string()))?;
    value["publicKey"]["allowCredentials"] = json!([{
        "type": "public-key",
        "id": base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &bytes[..len]),
    }]);
    serde_json::from_value(value).map_err(|e| internal(e.to_string()))
}

/// The stored credentials of `user`, with their row ids.
async fn credentials(conn: &mut PgConnection, user: UserId) -> Result<Vec<(Uuid, Passkey)>, DomainError> {
    let rows = db::security_key_credentials(conn, user).await?;
    rows.into_iter()
        .map(|(id, credential)| {
            serde_json::from_value::<Passkey>(credential)
                .map(|p| (id, p))
                .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored security key {id}: {e}")))
        })
        .collect()
}

/// A ceremony kept on a session.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum SessionCeremony {
    Register {
        name: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        state: PasskeyRegistration,
    },
    Reauth {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        state: PasskeyAuthentication,
    },
}

async fn keep_on_session(conn: &mut PgConnection, session: SessionId, c: &SessionCeremony) -> Result<(), DomainError> {
    let value = serde_json::to_value(c).map_err(|e| DomainError::Internal(e.into()))?;
    db::set_session_ceremony(conn, session, value).await?;
    Ok(())
}

/// Takes (and clears) the ceremony kept on `session`.
async fn take_from_session(
    conn: &mut PgConnection,
    session: SessionId,
) -> Result<Option<SessionCeremony>, sqlx::Error> {
    let old = db::take_session_ceremony(conn, session).await?;
    Ok(old.and_then(|v| serde_json::from_value(v).ok()))
}

/// Checks a key's name: 1 to 100 characters, no control characters.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        Err(FieldError::new("name", "must be 1 to 100 characters, such as \"YubiKey on my keyring\""))
    } else {
        Ok(n.to_string())
    }
}

/// Whether the session may add or remove keys without confirming the password again:
/// re-authenticated, or signed in, within [`REAUTH_VALID`].
async fn fresh(conn: &mut PgConnection, actor: &Actor, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    if actor.reauth_at.is_some_and(|t| now - t < REAUTH_VALID) {
        return Ok(true);
    }
    let created = db::session_created_at(conn, actor.session_id).await?;
    Ok(created.is_some_and(|t| now - t < REAUTH_VALID))
}

/// Starts registering a key named `name` for the actor: the options for the browser.
pub async fn begin_registration(
    pool: &PgPool,
    now: OffsetDateTime,
    actor: &Actor,
    rp: &Webauthn,
    name: &str,
) -> Result<CreationChallengeResponse, DomainError> {
    let name = check_name(name).map_err(|e| DomainError::Invalid(vec![e]))?;
    let mut conn = pool.acquire().await?;
    if !fresh(&mut conn, actor, now).await? {
        return Err(DomainError::ReauthRequired);
    }
    let existing = credentials(&mut conn, actor.id).await?;
    if existing.len() as i64 >= MAX_KEYS {
        return Err(DomainError::invalid("name", format!("cannot be added: an account holds at most {MAX_KEYS} keys")));
    }
    let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect::<Vec<_>>();
    let (options, state) = rp
        .start_passkey_registration(actor.id.0, &actor.email, &actor.name, Some(exclude))
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("starting a key registration: {e:?}")))?;
    keep_on_session(&mut conn, actor.session_id, &SessionCeremony::Register { name, at: now, state }).await?;
    Ok(options)
}

/// Finishes a registration with the browser's answer `credential` (JSON): the key is
/// added, with its `user.security_key_added` event.
pub async fn finish_registration(
    pool: &PgPool,
    now: OffsetDateTime,
    actor: &Actor,
    rp: &Webauthn,
    credential: &str,
) -> Result<KeyRow, DomainError> {
    // The ceremony is taken (and the taking committed) first: whatever the answer, it is
    // answered once.
    let taken = take_from_session(&mut *pool.acquire().await?, actor.session_id).await?;
    let (name, state) = match taken {
        Some(SessionCeremony::Register { name, at, state }) if now - at < CEREMONY_LIFETIME => (name, state),
        _ => {
            return Err(DomainError::invalid("credential", "came after the registration lapsed: add the key again"));
        }
    };
    let mut tx = pool.begin().await?;
    let answer: RegisterPublicKeyCredential = serde_json::from_str(credential)
        .map_err(|_| DomainError::invalid("credential", "is not an answer from a security key"))?;
    let passkey = match rp.finish_passkey_registration(&answer, &state) {
        Ok(p) => p,
        Err(e) => return Err(DomainError::invalid("credential", format!("was refused ({e}): add the key again"))),
    };
    let id = Uuid::now_v7();
    let stored = serde_json::to_value(&passkey).map_err(|e| DomainError::Internal(e.into()))?;
    let cred_id: &[u8] = passkey.cred_id().as_ref();
    let key =
        db::NewKey { id, user: actor.id, name: &name, credential_id: cred_id, credential: &stored, created_at: now };
    if !db::insert_security_key(&mut tx, &key).await? {
        return Err(DomainError::invalid("credential", "is a key registered already"));
    }
    let event = NewEvent::new(EventType::UserSecurityKeyAdded)
        .object("user", actor.id)
        .changes(json!({"key": id, "name": name}));
    audit::record(&mut tx, now, &actor.audit(), event).await?;
    tx.commit().await?;
    Ok(KeyRow { id, name, created_at: now, last_used_at: None })
}

/// Removes one of the actor's keys (needs a fresh confirmation, like adding one).
pub async fn remove(pool: &PgPool, now: OffsetDateTime, actor: &Actor, key: Uuid) -> Result<(), DomainError> {
    let mut tx = pool.begin().await?;
    if !fresh(&mut tx, actor, now).await? {
        return Err(DomainError::ReauthRequired);
    }
    let name = db::delete_security_key(&mut tx, key, actor.id).await?.ok_or(DomainError::NotFound)?;
    let event = NewEvent::new(EventType::UserSecurityKeyRemoved)
        .object("user", actor.id)
        .changes(json!({"key": key, "name": name}));
    audit::record(&mut tx, now, &actor.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts an assertion of one of `user`'s keys: the options for the browser and the state
/// to keep. `None` when the user has no key.
pub async fn begin_assertion(
    conn: &mut PgConnection,
    rp: &Webauthn,
    user: UserId,
) -> Result<Option<(RequestChallengeResponse, PasskeyAuthentication)>, DomainError> {
    let keys = credentials(conn, user).await?;
    if keys.is_empty() {
        return Ok(None);
    }
    let passkeys: Vec<Passkey> = keys.into_iter().map(|(_, p)| p).collect();
    rp.start_passkey_authentication(&passkeys)
        .map(Some)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("starting a key assertion: {e:?}")))
}

/// Checks the browser's assertion `credential` (JSON) against `state` and `user`'s keys;
/// on success notes the key's use (and its counter) and returns the key's id and name.
/// `Err` carries the reason a failure is recorded with.
pub async fn check_assertion(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    rp: &Webauthn,
    user: UserId,
    state: &PasskeyAuthentication,
    credential: &str,
) -> Result<Result<(Uuid, String), &'static str>, DomainError> {
    let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        return Ok(Err("malformed_assertion"));
    };
    let Ok(result) = rp.finish_passkey_authentication(&answer, state) else {
        return Ok(Err("wrong_key"));
    };
    let used: &[u8] = result.cred_id().as_ref();
    let row = db::locked_security_key(&mut *tx, user, used).await?;
    let Some(row) = row else { return Ok(Err("wrong_key")) };
    let mut passkey: Passkey = serde_json::from_value(row.credential)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored key: {e}")))?;
    let updated = passkey.update_credential(&result);
    let stored = serde_json::to_value(&passkey).map_err(|e| DomainError::Internal(e.into()))?;
    db::note_key_use(&mut *tx, row.id, now, updated == Some(true), stored).await?;
    Ok(Ok((row.id, row.name)))
}

/// Starts a step-up with a key for the actor's session: the options for the browser, or
/// `None` when the actor has no key.
pub async fn begin_reauth(
    pool: &PgPool,
    now: OffsetDateTime,
    actor: &Actor,
    rp: &Webauthn,
) -> Result<Option<RequestChallengeResponse>, DomainError> {
    let mut conn = pool.acquire().await?;
    let Some((options, state)) = begin_assertion(&mut conn, rp, actor.id).await? else { return Ok(None) };
    keep_on_session(&mut conn, actor.session_id, &SessionCeremony::Reauth { at: now, state }).await?;
    Ok(Some(options))
}

/// A step-up with a key: a right assertion re-authenticates the session for
/// [`REAUTH_VALID`] (`auth.reauthenticate` with `method: "security_key"`); a wrong one is
/// recorded.
pub async fn reauth(
    pool: &PgPool,
    now: OffsetDateTime,
    actor: &Actor,
    rp: &Webauthn,
    credential: &str,
) -> Result<(), DomainError> {
    let taken = take_from_session(&mut *pool.acquire().await?, actor.session_id).await?;
    let state = match taken {
        Some(SessionCeremony::Reauth { at, state }) if now - at < CEREMONY_LIFETIME => state,
        _ => return Err(DomainError::invalid("credential", "came after the confirmation lapsed: confirm again")),
    };
    let mut tx = pool.begin().await?;
    match check_assertion(&mut tx, now, rp, actor.id, &state, credential).await? {
        Ok((key, name)) => {
            db::set_reauth(&mut tx, actor.session_id, now).await?;
            let event = NewEvent::new(EventType::AuthReauthenticate)
                .object("session", actor.session_id)
                .changes(json!({"method": "security_key", "key": key, "name": name}));
            audit::record(&mut tx, now, &actor.audit(), event).await?;
            tx.commit().await?;
            Ok(())
        }
        Err(reason) => {
            // A key's answer cannot be guessed, so a wrong one is recorded but not counted
            // towards the lockout (which would let anyone end the user's sessions).
            let event = NewEvent::new(EventType::AuthReauthenticate)
                .object("session", actor.session_id)
                .outcome(crate::audit::Outcome::Failure)
                .changes(json!({"method": "security_key", "reason": reason}));
            audit::record(&mut tx, now, &actor.audit(), event).await?;
            tx.commit().await?;
            Err(DomainError::invalid("credential", "was not from a key of this account: confirm again"))
        }
    }
}
