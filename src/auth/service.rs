//! Sign-in use cases: signing in with a password or a passkey (with lockout and throttle),
//! signing out, the step-up, changing one's own password, ending one's own session. How
//! every sign-in ends, in success or failure, is [`super::finish`]. The account itself (its row, its password's
//! rules and hashing, its role's sign-in policy) is `crate::accounts`.

use crate::ids::{SessionId, UserId};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use time::OffsetDateTime;

use super::db;
use super::finish::{
    FAILURE_WINDOW, LOCKOUT, MAX_FAILURES, SignInClient, SignedInSession, count_failure_in, finish_sign_in,
};
use super::session::{self, Created, Kind};
use crate::access::actor::{Actor, RequestMeta};
use crate::accounts::model::KNOWN_ADDRESS;
use crate::accounts::{db as accounts, password, sign_in_policy};
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::error::{DomainError, FieldError};

/// Sign-in attempts allowed per client address per window.
pub const ADDRESS_ATTEMPTS: i32 = 30;

/// Why a sign-in failed. Every cause looks the same to the client.
#[derive(Debug)]
pub enum SignInError {
    /// Unknown account, wrong password, locked or deactivated: one answer for all.
    Rejected,
    /// Too many attempts from this client address.
    Throttled,
    /// The account's role does not sign in with a password (only through the OpenID
    /// provider or with a card); refused before the password is checked.
    PasswordOff,
    /// The database failed.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::Db(e)
    }
}

/// Where a correct password leads.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done(SignedInSession),
    /// The account signs in with a one-time code too: the challenge that waits for it.
    Code(super::second_factor::Challenge),
}

/// Whose guesses an attempt counts against.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Counter {
    /// The account's own count: attempts from addresses it has not signed in from lately.
    Account,
    /// The count of an address the account signed in from lately (it may sign in from
    /// there while locked for other addresses).
    KnownAddress,
}

/// Takes one attempt from the account's allowance, atomically, before the password is
/// checked: from the count of `addr` when the account signed in from there lately (and
/// that address has failures left), else from the account's own count, which is closed
/// while the account is locked. Returns the counter used and the attempts it holds in the
/// window, this one included; `None` when the account is locked for this address (no
/// attempt is taken: failures against a locked account do not extend its lock).
async fn take_account_attempt(
    pool: &PgPool,
    user: UserId,
    addr: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<(Counter, i32)>, sqlx::Error> {
    if let Some(addr) = addr {
        let known =
            db::take_known_address_attempt(pool, user, addr, now, FAILURE_WINDOW, KNOWN_ADDRESS, MAX_FAILURES).await?;
        if let Some(n) = known {
            return Ok(Some((Counter::KnownAddress, i32::try_from(n).unwrap_or(i32::MAX))));
        }
    }
    let n = db::take_account_attempt(pool, user, now, FAILURE_WINDOW).await?;
    Ok(n.map(|n| (Counter::Account, n)))
}

/// Signs a user in: takes an attempt from the address's and the account's allowances
/// before the password is checked (so however many arrive at once, at most the allowed
/// number reach the password hash), checks the password (the same time for an unknown
/// account), applies the lockout rules, replaces any session the client had (a new id at
/// every sign-in) and audits the outcome.
///
/// Lockout: [`MAX_FAILURES`] failures within [`FAILURE_WINDOW`] lock the account for
/// [`LOCKOUT`] for password sign-in from addresses it has not signed in from within
/// [`KNOWN_ADDRESS`](crate::accounts::model::KNOWN_ADDRESS); from such an address it still signs in, each address with its own
/// count of failures. So whoever knows an e-mail address can lock out guessing from
/// elsewhere, not the account's owner at their desk. The lock is not extended by the
/// attempts made while it holds.
///
/// It takes the pool rather than one connection: each attempt is committed on its own (it
/// must count even though sign-in fails), and no connection is held while the password
/// hash is checked.
pub async fn sign_in(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    email: &str,
    password_given: &str,
    client: SignInClient<'_>,
) -> Result<SignInStep, SignInError> {
    let SignInClient { kind, next, .. } = client;
    let email = email.trim().to_lowercase();
    let addr = meta.client_addr.as_deref();
    if let Some(addr) = addr {
        let attempts = db::take_address_attempt(pool, addr, now, FAILURE_WINDOW).await?;
        if attempts > ADDRESS_ATTEMPTS {
            // One event when the address runs out, then one per hundred refused, with the
            // count: a flood does not grow the log at its own pace.
            let over = attempts - ADDRESS_ATTEMPTS;
            if over == 1 || over % 100 == 0 {
                let event = NewEvent::new(EventType::AuthSignIn)
                    .outcome(Outcome::Failure)
                    .changes(json!({"email": email, "reason": "address_throttled", "attempts_in_window": attempts}));
                audit::record_alone(pool, now, &meta.audit(None), event).await?;
            }
            return Err(SignInError::Throttled);
        }
    }
    let found = db::credentials_by_email(pool, &email).await?;
    let Some(found) = found else {
        // The same work as for a known account, and the same answer.
        let _ = password::verify_async(password_given.to_string(), password::DUMMY_HASH.clone()).await;
        let event = NewEvent::new(EventType::AuthSignIn)
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": "unknown_account"}));
        audit::record_alone(pool, now, &meta.audit(None), event).await?;
        return Err(SignInError::Rejected);
    };
    let ctx = meta.audit(Some((found.id, found.role)));
    if found.active && !sign_in_policy::of_role(&mut *pool.acquire().await?, found.role).await?.password_allowed {
        // The role does not sign in with a password: refused before the password is
        // checked (in the time a check takes), so the answer says nothing of whether it
        // was right, and no guess is counted or refunded.
        let _ = password::verify_async(password_given.to_string(), password::DUMMY_HASH.clone()).await;
        let event = NewEvent::new(EventType::AuthSignIn)
            .object("user", found.id)
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": "password_sign_in_off", "role": found.role}));
        audit::record_alone(pool, now, &ctx, event).await?;
        return Err(SignInError::PasswordOff);
    }
    let taken = if found.active { take_account_attempt(pool, found.id, addr, now).await? } else { None };
    let reason = match taken {
        _ if !found.active => Some("deactivated"),
        None => Some("locked"),
        // Attempts that arrived together beyond the allowance: refused unchecked.
        Some((_, n)) if n > MAX_FAILURES => Some("too_many_attempts"),
        Some(_) => None,
    };
    if let Some(reason) = reason {
        // Refused without checking the password, in the time a check takes.
        let _ = password::verify_async(password_given.to_string(), password::DUMMY_HASH.clone()).await;
        let event = NewEvent::new(EventType::AuthSignIn)
            .object("user", found.id)
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": reason}));
        audit::record_alone(pool, now, &ctx, event).await?;
        return Err(SignInError::Rejected);
    }
    let (counter, count) = taken.expect("an attempt was taken");
    let password_ok = password::verify_async(password_given.to_string(), found.password_hash.clone()).await;

    let mut tx = pool.begin().await?;
    // Under the account's row lock, so that concurrent attempts on any instance lock once.
    let current = db::locked_credentials(&mut tx, found.id).await?;
    if !password_ok {
        let locked = current.locked_until.is_some_and(|t| t > now);
        if count >= MAX_FAILURES {
            match counter {
                Counter::Account if !locked => {
                    let until = now + LOCKOUT;
                    db::lock_account(&mut tx, current.id, until, addr).await?;
                    let event = NewEvent::new(EventType::AuthLockout).object("user", current.id).changes(json!({
                        "locked_until": {"before": current.locked_until, "after": until}, "failures": count,
                        "scope": "new_addresses", "locked_from": addr,
                    }));
                    audit::record(&mut tx, now, &ctx, event).await?;
                }
                Counter::KnownAddress => {
                    let event = NewEvent::new(EventType::AuthLockout).object("user", current.id).changes(json!({
                        "failures": count, "scope": "known_address", "locked_from": addr,
                        "until": now + FAILURE_WINDOW,
                    }));
                    audit::record(&mut tx, now, &ctx, event).await?;
                }
                Counter::Account => {}
            }
        }
        let event = NewEvent::new(EventType::AuthSignIn)
            .object("user", current.id)
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": "wrong_password"}));
        audit::record(&mut tx, now, &ctx, event).await?;
        tx.commit().await?;
        return Err(SignInError::Rejected);
    }
    // Success: clear the counters (the account's, when signing in from an address it
    // could be locked out of, and this address's), remember the address, give the
    // address its attempt back, upgrade a weak hash, replace the client's old session.
    let new_hash = if password::needs_rehash(&current.password_hash) {
        Some(password::hash_async(password_given.to_string()).await)
    } else {
        None
    };
    if db::has_second_factor(&mut tx, current.id).await? {
        // The password is right; the session waits for the account's one-time code. The
        // attempt this password took is given back, but the counts and any lock stay as
        // they are until the code is right too: wrong codes add to the same count, and a
        // right password in between must not wipe them (else password, two wrong codes,
        // password, two wrong codes … would never lock).
        match counter {
            Counter::Account => {
                db::refund_account_attempt(&mut tx, current.id, new_hash.as_deref()).await?;
            }
            Counter::KnownAddress => {
                db::refund_known_address_attempt(&mut tx, current.id, addr).await?;
                db::rehash_password(&mut tx, current.id, new_hash.as_deref()).await?;
            }
        }
        let challenge = super::second_factor::open_challenge(&mut tx, current.id, kind, now, meta, next).await?;
        let awaited = db::second_factors_awaited(&mut tx, current.id).await?;
        let event = NewEvent::new(EventType::AuthPasswordAccepted).object("user", current.id).changes(json!({
            "second_factor": awaited, "challenge": challenge.id, "password_rehashed": new_hash.is_some()
        }));
        audit::record(&mut tx, now, &ctx, event).await?;
        tx.commit().await?;
        return Ok(SignInStep::Code(challenge));
    }
    db::clear_failures_and_rehash(&mut tx, current.id, new_hash.as_deref()).await?;
    let signed = finish_sign_in(
        &mut tx,
        current.id,
        now,
        meta,
        client,
        session::SignInMethod::password(false),
        json!({"password_rehashed": new_hash.is_some()}),
    )
    .await?;
    tx.commit().await?;
    Ok(SignInStep::Done(signed))
}

/// Starts a sign-in with a passkey alone (no password): for an active account with a
/// security key, a challenge that only a key's assertion answers (with the authenticator's
/// own user verification); the key's options are offered on the challenge's page. The
/// attempt takes its place in the address's allowance like a password's. A password lock
/// does not stop it: the key proves more than a password. For any other address (no
/// account, no key, inactive, or a role that does not sign in so) the failure is recorded
/// and a decoy challenge goes on just the same, so the answer tells nothing of the address.
pub async fn start_passkey_sign_in(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    email: &str,
    next: Option<&str>,
) -> Result<super::second_factor::Challenge, SignInError> {
    let email = email.trim().to_lowercase();
    if let Some(addr) = meta.client_addr.as_deref()
        && db::take_address_attempt(pool, addr, now, FAILURE_WINDOW).await? > ADDRESS_ATTEMPTS
    {
        return Err(SignInError::Throttled);
    }
    let mut tx = pool.begin().await?;
    let found = db::locked_passkey_candidate(&mut tx, &email).await?;
    // A role that does not sign in with a password signs in only through the provider or
    // with a card: none of the account's own credentials, a passkey included, stands in.
    let local_allowed = match &found {
        Some(f) => sign_in_policy::of_role(&mut tx, f.role).await?.password_allowed,
        None => true,
    };
    let Some(found) = found.filter(|f| f.active && f.has_key && local_allowed) else {
        let secret = db::passkey_decoy_secret(&mut tx).await?;
        let mac = super::security_keys::decoy_mac(&secret, &email);
        let challenge = super::second_factor::open_passwordless_challenge(
            &mut tx,
            super::second_factor::Passwordless::Decoy(&mac),
            now,
            meta,
            next,
        )
        .await?;
        let event = NewEvent::new(EventType::AuthSignIn).outcome(Outcome::Failure).changes(json!({
            "email": email, "method": "passkey", "challenge": challenge.id,
            "reason": if local_allowed { "no_passkey" } else { "password_sign_in_off" },
        }));
        audit::record(&mut tx, now, &meta.audit(None), event).await?;
        tx.commit().await?;
        return Ok(challenge);
    };
    let user = UserId(found.id);
    let challenge = super::second_factor::open_passwordless_challenge(
        &mut tx,
        super::second_factor::Passwordless::User(user),
        now,
        meta,
        next,
    )
    .await?;
    let event =
        NewEvent::new(EventType::AuthPasskeyStarted).object("user", user).changes(json!({"challenge": challenge.id}));
    audit::record(&mut tx, now, &meta.audit(Some((user, found.role))), event).await?;
    tx.commit().await?;
    Ok(challenge)
}

/// Ends the user's current session.
pub async fn sign_out(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    db::delete_session(&mut tx, user.session_id).await?;
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::AuthSignOut).object("session", user.session_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a wrong current password (re-authentication or password change) as a failed
/// sign-in, so that guessing through these forms locks the account too.
async fn count_failure(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    what: EventType,
) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    count_failure_in(&mut tx, user.id, &user.audit(), now, what, "wrong_password").await?;
    tx.commit().await?;
    Ok(())
}

/// Step-up: re-entering the password marks the session re-authenticated for 5 minutes.
pub async fn reauthenticate(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    password_given: &str,
) -> Result<(), DomainError> {
    if !sign_in_policy::of_role(&mut *conn, user.role).await?.password_allowed {
        return Err(DomainError::invalid(
            "password",
            "cannot confirm it is you: your role does not sign in with a password; confirm with single sign-on",
        ));
    }
    let stored = db::password_hash(&mut *conn, user.id).await?;
    if !password::verify_async(password_given.to_string(), stored).await {
        count_failure(conn, user, now, EventType::AuthReauthenticate).await?;
        return Err(DomainError::invalid("password", "the password is not correct"));
    }
    let mut tx = conn.begin().await?;
    db::set_reauth(&mut tx, user.session_id, now).await?;
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::AuthReauthenticate).object("session", user.session_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes one's own password (the current one is required). Every session of the user
/// ends; a browser gets a fresh session (new id) in return.
pub async fn change_own_password(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<Created, DomainError> {
    let mut errors = Vec::new();
    if let Err(e) = password::check_new(new) {
        errors.push(FieldError::new("new_password", format!("the new password {e}")));
    } else if new != confirm {
        errors.push(FieldError::new("confirm_password", "does not match the new password"));
    } else if new == current {
        errors.push(FieldError::new("new_password", "must differ from the current password"));
    }
    let stored = db::password_hash(&mut *conn, user.id).await?;
    if !password::verify_async(current.to_string(), stored).await {
        count_failure(conn, user, now, EventType::UserPasswordChanged).await?;
        errors.insert(0, FieldError::new("current_password", "the current password is not correct"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let hash = password::hash_async(new.to_string()).await;
    let mut tx = conn.begin().await?;
    let must_change_before = db::locked_must_change_password(&mut tx, user.id).await?;
    db::set_own_password(&mut tx, user.id, &hash, now).await?;
    let ended = accounts::end_sessions(&mut tx, user.id, None).await?;
    let created = session::create(
        &mut tx,
        user.id,
        Kind::Browser,
        now,
        user.meta.client_addr.as_deref(),
        user.meta.user_agent.as_deref(),
        session::SignInMethod::password(false),
    )
    .await?;
    let event = NewEvent::new(EventType::UserPasswordChanged).object("user", user.id).changes(json!({
        "must_change_password": {"before": must_change_before, "after": false}, "sessions_ended": ended, "new_session": created.id
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(created)
}

/// Ends one of the user's own sessions.
pub async fn end_own_session(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    session_id: SessionId,
) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    let n = db::delete_own_session(&mut tx, session_id, user.id).await?;
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(&mut tx, now, &user.audit(), NewEvent::new(EventType::SessionEnded).object("session", session_id))
        .await?;
    tx.commit().await?;
    Ok(())
}
