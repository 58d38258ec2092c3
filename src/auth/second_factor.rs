//! Second factors: one-time codes from an authenticator app (TOTP, RFC 6238: six digits,
//! 30-second steps, the step before and after accepted for clock drift) and ten
//! single-use recovery codes; and the challenge that stands between a correct password and
//! a session when the account has a confirmed authenticator.
//!
//! An authenticator counts only once a first code confirms it. A code is accepted once:
//! the newest step accepted is kept, and a code of that step or an older one is refused.
//! Wrong codes count towards the account's lockout like wrong passwords, and a challenge
//! dies after [`CHALLENGE_TRIES`] wrong codes or [`CHALLENGE_LIFETIME`], so the code is
//! never guessed faster than the password. Recovery codes and challenge secrets are stored
//! as sha256 only (each holds 80 random bits or more).

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::db;
use super::finish::{SignInClient, SignedInSession, count_failure_in, finish_sign_in};
use super::session::{self, Kind};
use crate::access::actor::{Actor, RequestMeta};
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::error::DomainError;
use crate::ids::UserId;

/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "ICTS Review";
/// How long a challenge waits for its code.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(5);
/// Wrong codes a challenge takes before it is gone and the password is asked again.
pub const CHALLENGE_TRIES: i32 = 3;
/// Recovery codes given at a time.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the system random source works");
    bytes
}

/// `s` in groups of four characters joined by `sep` (`ABCD EFGH …`, `ABCD-EFGH-…`).
fn grouped(s: &str, sep: &str) -> String {
    s.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(sep)
}

/// Where the sign-in of the challenge `secret` was going, while its row is kept (a lapsed
/// challenge until it is answered or swept).
pub async fn next_of(pool: &sqlx::PgPool, secret: &str) -> Result<Option<String>, sqlx::Error> {
    let next = db::challenge_next(pool, &session::secret_hash(secret)).await?;
    Ok(next.flatten())
}

fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

fn totp(secret: &[u8], account: &str) -> Result<totp_rs::Totp, DomainError> {
    totp_rs::Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("TOTP parameters refused: {e:?}")))
}

fn unix(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

/// The code an authenticator holding `secret` shows at `t`.
pub fn code_at(secret: &[u8], t: OffsetDateTime) -> String {
    totp(secret, "").map(|t2| t2.generate(unix(t)).to_string()).unwrap_or_default()
}

/// The time step `code` belongs to at `now` (now's, or the one before or after), if any.
fn matching_step(secret: &[u8], code: &str, now: OffsetDateTime) -> Option<u64> {
    totp(secret, "").ok()?.check(code, unix(now))
}

/// A code as typed: spaces and hyphens dropped, letters upper case.
fn normalize(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

/// What a typed code looks like.
#[derive(Debug, PartialEq)]
enum Given {
    /// Six digits: a one-time code.
    Totp(String),
    /// Sixteen letters and digits: a recovery code.
    Recovery(String),
    /// Neither.
    Malformed,
}

fn classify(code: &str) -> Given {
    let c = normalize(code);
    if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
        Given::Totp(c)
    } else if c.len() == 16 && c.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)) {
        Given::Recovery(c)
    } else {
        Given::Malformed
    }
}

/// A new recovery code: 80 random bits in base32, shown in four groups (`ABCD-EFGH-…`).
fn new_recovery_code() -> String {
    grouped(&totp_rs::Secret::from(random::<10>().to_vec()).to_base32(), "-")
}

/// What answers a challenge: a one-time or recovery code, or a security key's assertion
/// (the browser's answer, JSON) checked by the relying party.
#[derive(Clone, Copy)]
pub enum Proof<'a> {
    Code(&'a str),
    Key { rp: &'a webauthn_rs::prelude::Webauthn, credential: &'a str },
}

/// What the second step of a sign-in offers: one-time codes (not for a passkey alone, nor
/// for a role that requires a key), and a key with its options for the browser (kept on
/// the challenge until answered).
#[derive(Debug, Default)]
pub struct Offered {
    pub codes: bool,
    pub key: Option<webauthn_rs::prelude::RequestChallengeResponse>,
}

/// [`Offered`] on the challenge `secret` (none when it is gone); starts the key's
/// assertion when the account has a key.
pub async fn offered(
    pool: &PgPool,
    now: OffsetDateTime,
    rp: Option<&webauthn_rs::prelude::Webauthn>,
    secret: &str,
) -> Result<Option<Offered>, DomainError> {
    let mut tx = pool.begin().await?;
    // A decoy (a passkey sign-in for an address without one) offers its decoy key.
    let decoy = db::decoy_offer(&mut tx, &session::secret_hash(secret)).await?;
    if let Some(d) = decoy {
        if d.expires_at <= now {
            return Ok(None);
        }
        let key = rp.map(|rp| super::security_keys::decoy_options(rp, &d.decoy)).transpose()?;
        return Ok(Some(Offered { codes: false, key }));
    }
    let ch = db::locked_offer(&mut tx, &session::secret_hash(secret)).await?;
    let Some(ch) = ch.filter(|c| c.expires_at > now) else { return Ok(None) };
    // A role that requires a key takes no codes from a user who has one (a user without
    // one yet signs in with codes, then registers a key before anything else).
    let key_required = crate::accounts::sign_in_policy::of_role(&mut tx, ch.role).await?.require_security_key
        && db::has_security_key(&mut tx, UserId(ch.user_id)).await?;
    let mut offered = Offered { codes: ch.totp && !ch.passwordless && !key_required, key: None };
    if let Some(rp) = rp
        && let Some((options, state)) = super::security_keys::begin_assertion(&mut tx, rp, UserId(ch.user_id)).await?
    {
        let state = serde_json::to_value(&state).map_err(|e| DomainError::Internal(e.into()))?;
        db::set_challenge_ceremony(&mut tx, ch.id, state).await?;
        offered.key = Some(options);
    }
    tx.commit().await?;
    Ok(Some(offered))
}

/// An authenticator being set up: its key as text and as a QR code of its `otpauth://` URI.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, in groups of four (to type into an app).
    pub key: String,
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as a QR code, an SVG drawn here (no script, no image fetched).
    pub qr_svg: String,
}

fn enrolment(secret: &[u8], email: &str) -> Result<Enrolment, DomainError> {
    let t = totp(secret, email)?;
    let uri = t.to_url().map_err(|e| DomainError::Internal(anyhow::anyhow!("otpauth URI: {e:?}")))?;
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // The markup from `<svg`, without the XML declaration, to sit inside the page.
    let qr_svg = qr.find("<svg").map(|i| qr[i..].to_string()).unwrap_or_default();
    let key = grouped(&t.secret().to_base32(), " ");
    Ok(Enrolment { key, uri, qr_svg })
}

/// Begins setting up an authenticator for `user` (a new secret, not yet counted), after a
/// fresh re-authentication. Refused while one is confirmed: it is removed first.
pub async fn begin(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<Enrolment, DomainError> {
    // Whoever holds a session must not bind their own authenticator to the account (and
    // lock its owner out): setting one up needs the password again, like removing it.
    user.require_recent_reauth(now)?;
    let mut tx = conn.begin().await?;
    let confirmed = db::locked_totp_confirmed_at(&mut tx, user.id).await?.flatten();
    if confirmed.is_some() {
        return Err(DomainError::Conflict(
            "one-time codes are already set up for this account: remove them first to move to another authenticator"
                .into(),
        ));
    }
    let secret = random::<SECRET_BYTES>();
    db::start_totp(&mut tx, user.id, &secret, now).await?;
    audit::record(&mut tx, now, &user.audit(), NewEvent::new(EventType::UserTotpStarted).object("user", user.id))
        .await?;
    let e = enrolment(&secret, &user.email)?;
    tx.commit().await?;
    Ok(e)
}

/// The set-up `user` began and has not confirmed, if any.
pub async fn pending(conn: &mut PgConnection, user: &Actor) -> Result<Option<Enrolment>, DomainError> {
    let secret = db::unconfirmed_totp_secret(conn, user.id, false).await?;
    secret.map(|s| enrolment(&s, &user.email)).transpose()
}

/// Replaces `user`'s recovery codes with [`RECOVERY_CODES`] new ones, returned to be shown
/// once (only their hashes are kept).
async fn replace_recovery_codes(
    tx: &mut PgConnection,
    user: UserId,
    now: OffsetDateTime,
) -> Result<Vec<String>, sqlx::Error> {
    db::delete_recovery_codes(&mut *tx, user).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| sha256(&normalize(c))).collect();
    db::insert_recovery_codes(&mut *tx, user, &hashes, now).await?;
    Ok(codes)
}

/// Confirms the authenticator `user` is setting up with a first `code`; from then on the
/// account signs in with a code after the password. Returns the recovery codes, to be
/// shown once.
pub async fn confirm(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    code: &str,
) -> Result<Vec<String>, DomainError> {
    let mut tx = conn.begin().await?;
    let secret = db::unconfirmed_totp_secret(&mut tx, user.id, true).await?.ok_or_else(|| {
        DomainError::Conflict("there is no set-up of one-time codes to confirm: begin one first".into())
    })?;
    let step = match classify(code) {
        Given::Totp(c) => matching_step(&secret, &c, now),
        _ => None,
    };
    let Some(step) = step else {
        return Err(DomainError::invalid(
            "code",
            "is not what your authenticator shows now: enter the six digits it shows for this account",
        ));
    };
    db::confirm_totp(&mut tx, user.id, now, i64::try_from(step).unwrap_or(i64::MAX)).await?;
    let codes = replace_recovery_codes(&mut tx, user.id, now).await?;
    let event = NewEvent::new(EventType::UserTotpEnrolled)
        .object("user", user.id)
        .changes(json!({"recovery_codes": codes.len()}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes `user`'s one-time codes and recovery codes (after a fresh re-authentication):
/// the account signs in with its password alone again.
pub async fn remove(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<(), DomainError> {
    user.require_recent_reauth(now)?;
    let mut tx = conn.begin().await?;
    let removed = crate::accounts::db::clear_second_factors(&mut tx, user.id).await?.any();
    if !removed {
        return Err(DomainError::Conflict("this account has no one-time codes to remove".into()));
    }
    audit::record(&mut tx, now, &user.audit(), NewEvent::new(EventType::UserTotpRemoved).object("user", user.id))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Names `user`'s current set of recovery codes without revealing them: 16 hex digits of a
/// hash over the stored hashes of its codes (`none` when there are none). Each new set has
/// a new name, so a form that carries the name of the set it replaces (the account page's
/// "Make new recovery codes") can be told from the same form posted again.
pub async fn recovery_set(conn: &mut PgConnection, user: UserId) -> Result<String, sqlx::Error> {
    let hashes = db::recovery_code_hashes(conn, user).await?;
    if hashes.is_empty() {
        return Ok("none".into());
    }
    let mut digest = Sha256::new();
    digest.update(b"icts-review recovery code set\0");
    for hash in &hashes {
        digest.update(hash);
    }
    Ok(hex::encode(&digest.finalize()[..8]))
}

/// What asking for new recovery codes came to.
#[derive(Debug)]
pub enum NewRecoveryCodes {
    /// The new set, in place of the old, to be shown once.
    Made(Vec<String>),
    /// The set the request meant to replace is not the current one: it was replaced already
    /// (the same form posted again, by a refresh or the back button, or from a second tab).
    /// Nothing was written; the codes shown after the replacing request are in force.
    AlreadyReplaced,
}

/// New recovery codes for `user` in place of the set named `replacing` (see
/// [`recovery_set`]), after a fresh re-authentication; returned to be shown once. The codes
/// are secrets, shown in the answer itself and kept nowhere, so a re-post of the request
/// cannot be answered by a redirect: it is refused instead, as it names a set that is gone.
pub async fn new_recovery_codes(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    replacing: &str,
) -> Result<NewRecoveryCodes, DomainError> {
    user.require_recent_reauth(now)?;
    let mut tx = conn.begin().await?;
    // One replacement of an account's codes at a time: the second of two posts that name
    // the same set waits here, then finds that set gone.
    db::lock_user_row(&mut tx, user.id).await?;
    if !db::has_second_factor(&mut tx, user.id).await? {
        return Err(DomainError::Conflict("recovery codes come with one-time codes: set those up first".into()));
    }
    if recovery_set(&mut tx, user.id).await? != replacing {
        return Ok(NewRecoveryCodes::AlreadyReplaced);
    }
    let codes = replace_recovery_codes(&mut tx, user.id, now).await?;
    let event = NewEvent::new(EventType::UserRecoveryCodesGenerated)
        .object("user", user.id)
        .changes(json!({"recovery_codes": codes.len()}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(NewRecoveryCodes::Made(codes))
}

/// A challenge waiting for a one-time code: its secret goes to the client once (a cookie,
/// or the API's same request) and only its hash is stored.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: Uuid,
    /// The secret (base64url, 256 bits).
    pub secret: String,
    pub expires_at: OffsetDateTime,
}

/// Opens a challenge for `user` after a correct password, in the caller's transaction
/// (which holds the account's row lock). An account has one challenge at a time: a new
/// one replaces any other, so parallel challenges cannot multiply the tries.
pub(super) async fn open_challenge(
    tx: &mut PgConnection,
    user: UserId,
    kind: Kind,
    now: OffsetDateTime,
    meta: &RequestMeta,
    next: Option<&str>,
) -> Result<Challenge, sqlx::Error> {
    crate::accounts::db::delete_challenges(&mut *tx, user).await?;
    let secret = session::new_secret();
    let id = Uuid::now_v7();
    let expires_at = now + CHALLENGE_LIFETIME;
    let agent = meta.user_agent.as_deref().map(|u| u.chars().take(300).collect::<String>());
    let new = db::NewChallenge {
        id,
        secret_hash: &session::secret_hash(&secret),
        created_at: now,
        expires_at,
        client_addr: meta.client_addr.as_deref(),
        user_agent: agent.as_deref(),
        next,
    };
    db::insert_challenge(&mut *tx, &new, user, if kind == Kind::Api { "api" } else { "browser" }).await?;
    Ok(Challenge { id, secret, expires_at })
}

/// Whose a passwordless challenge (a passkey alone) is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Passwordless<'a> {
    /// An account with a key.
    User(UserId),
    /// A decoy: a passkey sign-in that cannot be (no account with a passkey that may sign in
    /// so), for the address whose decoy secret this is. It goes on like a real one, with a
    /// decoy key and the same tries, and no answer signs anyone in.
    Decoy(&'a [u8]),
}

/// Opens a passwordless challenge (a passkey alone), an account's or a decoy. It leaves any
/// other challenge of the account in place (a stranger starting passkey sign-ins for an
/// e-mail must not end its owner's sign-in in progress); beyond the newest five, the
/// account's (or the address's decoy) passwordless challenges are dropped. Lapsed ones of
/// either kind are left to the same sweep, [`sweep_lapsed`], so that a lapsed decoy is not
/// told apart by being gone sooner.
pub(super) async fn open_passwordless_challenge(
    tx: &mut PgConnection,
    owner: Passwordless<'_>,
    now: OffsetDateTime,
    meta: &RequestMeta,
    next: Option<&str>,
) -> Result<Challenge, sqlx::Error> {
    let (user, decoy) = match owner {
        Passwordless::User(u) => (Some(u.0), None),
        Passwordless::Decoy(mac) => (None, Some(mac)),
    };
    db::trim_passwordless_challenges(&mut *tx, user, decoy, now).await?;
    let secret = session::new_secret();
    let id = Uuid::now_v7();
    let expires_at = now + CHALLENGE_LIFETIME;
    let agent = meta.user_agent.as_deref().map(|u| u.chars().take(300).collect::<String>());
    let new = db::NewChallenge {
        id,
        secret_hash: &session::secret_hash(&secret),
        created_at: now,
        expires_at,
        client_addr: meta.client_addr.as_deref(),
        user_agent: agent.as_deref(),
        next,
    };
    db::insert_passwordless_challenge(&mut *tx, &new, user, decoy).await?;
    Ok(Challenge { id, secret, expires_at })
}

/// Spends one of the challenge `id`'s tries after a wrong answer (all of them when the
/// account `locked`), in the caller's transaction: the challenge ends with its last try.
/// The error to answer with.
async fn spend_try(
    tx: &mut PgConnection,
    id: Uuid,
    failures: i64,
    locked: bool,
    next: Option<String>,
) -> Result<CodeError, sqlx::Error> {
    let failures = failures + 1;
    let tries_left = if locked { 0 } else { i32::try_from(i64::from(CHALLENGE_TRIES) - failures).unwrap_or(0).max(0) };
    if tries_left == 0 {
        db::delete_challenge(&mut *tx, id).await?;
        return Ok(CodeError::Gone { next });
    }
    db::set_challenge_failures(&mut *tx, id, failures).await?;
    Ok(CodeError::Wrong { tries_left })
}

/// How long a lapsed challenge is kept (its page still says where the sign-in was going).
pub const LAPSED_KEPT: Duration = Duration::hours(1);

/// Deletes the challenges, real and decoy alike, that lapsed more than [`LAPSED_KEPT`] ago.
pub async fn sweep_lapsed(pool: &PgPool, now: OffsetDateTime) -> Result<u64, sqlx::Error> {
    db::delete_challenges_lapsed_by(pool, now - LAPSED_KEPT).await
}

/// The sweep that deletes long-lapsed challenges ([`sweep_lapsed`]), once a minute.
pub fn spawn_sweep(pool: PgPool, clock: crate::clock::SharedClock) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = sweep_lapsed(&pool, clock.now()).await {
                tracing::warn!(error = %e, "deleting lapsed sign-in challenges failed; will retry");
            }
        }
    })
}

/// A decoy challenge's answer: never accepted. It takes a try like a wrong key's answer on
/// a real passkey sign-in, with the same replies, and records the failure.
async fn answer_decoy(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    now: OffsetDateTime,
    meta: &RequestMeta,
    hash: &[u8],
    method: &str,
    kind: Kind,
) -> Result<Answered, CodeError> {
    let Some(ch) = db::locked_decoy_challenge(&mut tx, hash).await? else {
        return Err(CodeError::Gone { next: None });
    };
    if ch.expires_at <= now || ch.kind != if kind == Kind::Api { "api" } else { "browser" } {
        db::delete_challenge(&mut *tx, ch.id).await?;
        tx.commit().await?;
        return Err(CodeError::Gone { next: ch.next });
    }
    let event = NewEvent::new(EventType::AuthSecondFactor)
        .outcome(Outcome::Failure)
        .changes(json!({"reason": "no_passkey", "method": method, "challenge": ch.id}));
    audit::record(&mut tx, now, &meta.audit(None), event).await?;
    let answer = spend_try(&mut tx, ch.id, ch.failures, false, ch.next).await?;
    tx.commit().await?;
    Err(answer)
}

/// Why a code did not sign the user in.
#[derive(Debug)]
pub enum CodeError {
    /// No such challenge, or it lapsed, or it took its last wrong code (or the account
    /// locked): sign in again from the password, then on to `next` (where the lapsed or
    /// used-up challenge's sign-in was going).
    Gone { next: Option<String> },
    /// The code is wrong (or used already); this many tries are left on the challenge.
    Wrong { tries_left: i32 },
    /// The database failed.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for CodeError {
    fn from(e: sqlx::Error) -> Self {
        CodeError::Db(e)
    }
}

/// A sign-in finished with a code.
#[derive(Debug)]
pub struct Answered {
    pub signed: SignedInSession,
    /// Where the browser was going when it was asked to sign in.
    pub next: Option<String>,
    /// Recovery codes left, when one was used.
    pub recovery_left: Option<i64>,
}

/// Answers the challenge `secret` with `code` (a one-time code, or a recovery code): a
/// right code ends the challenge and signs the user in; a wrong one counts towards the
/// account's lockout and the challenge's tries.
pub async fn answer(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    secret: &str,
    proof: Proof<'_>,
    kind: Kind,
    previous_secret: Option<&str>,
) -> Result<Answered, CodeError> {
    let mut tx = pool.begin().await?;
    let hash = session::secret_hash(secret);
    // The account's row first, then the challenge: the order in which a sign-in and an
    // administrator's reset take them too.
    let Some(owner) = db::challenge_owner(&mut tx, &hash).await? else {
        return Err(CodeError::Gone { next: None });
    };
    let Some(owner) = owner else {
        let method = if matches!(proof, Proof::Key { .. }) { "security_key" } else { "none" };
        return answer_decoy(tx, now, meta, &hash, method, kind).await;
    };
    db::lock_user_row(&mut tx, UserId(owner)).await?;
    let Some(ch) = db::locked_challenge(&mut tx, &hash).await? else {
        return Err(CodeError::Gone { next: None });
    };
    let user = UserId(ch.user_id);
    let ctx = meta.audit(Some((user, ch.role)));
    let wrong_kind = ch.kind != if kind == Kind::Api { "api" } else { "browser" };
    if ch.expires_at <= now || !ch.active || wrong_kind {
        db::delete_challenge(&mut *tx, ch.id).await?;
        tx.commit().await?;
        return Err(CodeError::Gone { next: ch.next });
    }
    let key_required = crate::accounts::sign_in_policy::of_role(&mut tx, ch.role).await?.require_security_key
        && db::has_security_key(&mut tx, user).await?;
    let given = match proof {
        // A passkey alone, or a role that requires a key, takes no code.
        Proof::Code(_) if ch.passwordless || key_required => None,
        Proof::Code(code) => Some(classify(code)),
        Proof::Key { .. } => None,
    };
    let (method, accepted) = match (proof, given) {
        (Proof::Key { rp, credential }, _) => {
            let state = ch
                .webauthn_state
                .clone()
                .and_then(|v| serde_json::from_value::<webauthn_rs::prelude::PasskeyAuthentication>(v).ok());
            let checked = match &state {
                Some(state) => super::security_keys::check_assertion(&mut tx, now, rp, user, state, credential)
                    .await
                    .map_err(|e| match e {
                    DomainError::Database(e) => CodeError::Db(e),
                    other => CodeError::Db(sqlx::Error::Protocol(other.to_string())),
                })?,
                None => Err("no_key_ceremony"),
            };
            ("security_key", checked.map(|_| ()))
        }
        (Proof::Code(_), None) => ("none", Err("key_required")),
        (Proof::Code(_), Some(Given::Totp(c))) => {
            let secret = db::confirmed_totp_secret(&mut tx, user).await?;
            let step = secret.and_then(|s| matching_step(&s, &c, now));
            let taken = match step {
                // Accepted once: only a step newer than the last one accepted.
                Some(step) => db::take_totp_step(&mut tx, user, i64::try_from(step).unwrap_or(i64::MAX), now).await?,
                None => false,
            };
            (
                "totp",
                if taken {
                    Ok(())
                } else if step.is_some() {
                    Err("reused_code")
                } else {
                    Err("wrong_code")
                },
            )
        }
        (Proof::Code(_), Some(Given::Recovery(c))) => {
            let used = db::use_recovery_code(&mut tx, user, &sha256(&c), now).await?;
            ("recovery_code", if used { Ok(()) } else { Err("wrong_code") })
        }
        (Proof::Code(_), Some(Given::Malformed)) => ("none", Err("malformed_code")),
    };
    if let Err(reason) = accepted {
        // A wrong code is a guess and counts towards the lockout; a key's answer cannot be
        // guessed, so a wrong one only uses up the challenge's tries (else anyone could
        // lock the account, and end its sessions, by sending garbage to a passkey sign-in).
        let locked = if method == "security_key" || ch.passwordless {
            let event = NewEvent::new(EventType::AuthSecondFactor)
                .object("user", user)
                .outcome(Outcome::Failure)
                .changes(json!({"reason": reason, "method": method, "challenge": ch.id}));
            audit::record(&mut tx, now, &ctx, event).await?;
            false
        } else {
            count_failure_in(&mut tx, user, &ctx, now, EventType::AuthSecondFactor, reason).await?
        };
        let answer = spend_try(&mut tx, ch.id, ch.failures, locked, ch.next).await?;
        tx.commit().await?;
        return Err(answer);
    }
    db::delete_challenge(&mut *tx, ch.id).await?;
    // The password and the code were both right: the counts and any lock end, as at a
    // sign-in with a password alone.
    crate::accounts::db::clear_lock(&mut tx, user).await?;
    let recovery_left =
        if method == "recovery_code" { Some(db::recovery_codes_left(&mut tx, user).await?) } else { None };
    let mut detail = json!({"second_factor": method, "challenge": ch.id, "passwordless": ch.passwordless});
    if let Some(n) = recovery_left {
        detail["recovery_codes_left"] = json!(n);
    }
    let signed = finish_sign_in(
        &mut tx,
        user,
        now,
        meta,
        SignInClient { kind, previous_secret, next: None },
        session::SignInMethod {
            name: match (ch.passwordless, method) {
                (true, _) => "passkey",
                (false, "security_key") => "password+key",
                _ => "password+totp",
            },
            acr: None,
            amr: &[],
            id_token: None,
        },
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Answered { signed, next: ch.next, recovery_left })
}

/// Ends `challenge` without a record: the API's token request that answered it wrongly
/// (the wrong code is recorded already).
pub async fn discard(pool: &PgPool, challenge: &Challenge) -> Result<(), sqlx::Error> {
    db::delete_challenge(pool, challenge.id).await
}

/// Records that the API was asked for a token without the code the account needs, and
/// ends that challenge (the client sends the code with the password).
pub async fn code_missing(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    challenge: &Challenge,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let user = db::delete_challenge_returning_user(&mut tx, challenge.id).await?;
    if let Some((id, role)) = user {
        let event = NewEvent::new(EventType::AuthSecondFactor)
            .object("user", id)
            .outcome(Outcome::Failure)
            .changes(json!({"reason": "code_missing"}));
        audit::record(&mut tx, now, &meta.audit(Some((id, role))), event).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn codes_are_told_apart_by_their_shape() {
        assert_eq!(classify(" 123 456 "), Given::Totp("123456".into()));
        assert_eq!(classify("abcd-efgh-2345-6723"), Given::Recovery("ABCDEFGH23456723".into()));
        assert_eq!(classify("12345"), Given::Malformed);
        assert_eq!(classify("ABCD-EFGH-2345-6781"), Given::Malformed, "1 and 8 are not base32");
        assert_eq!(classify("１２３４５６"), Given::Malformed, "only ASCII digits");
        let c = new_recovery_code();
        assert_eq!(c.len(), 19);
        assert!(matches!(classify(&c), Given::Recovery(_)), "{c}");
    }

    #[test]
    fn the_rfc_6238_vector_and_the_steps_either_side() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives
        // 94287082 (eight digits); its last six are the six-digit code.
        let secret = b"12345678901234567890";
        let t = datetime!(1970-01-01 00:00:59 UTC);
        assert_eq!(code_at(secret, t), "287082");
        assert_eq!(matching_step(secret, "287082", t), Some(1));
        assert_eq!(matching_step(secret, "287082", t + Duration::seconds(30)), Some(1), "one step late");
        assert_eq!(matching_step(secret, "287082", t + Duration::seconds(61)), None, "two steps late");
        assert_eq!(matching_step(secret, "287083", t), None);
    }

    #[test]
    fn an_enrolment_shows_the_key_and_a_qr_code_of_its_uri() {
        let e = enrolment(b"12345678901234567890", "ana@agency.gov").unwrap();
        assert_eq!(e.key, "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        assert!(e.uri.starts_with("otpauth://totp/ICTS%20Review:ana%40agency.gov?"), "{}", e.uri);
        assert!(e.uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{}", e.uri);
        assert!(e.qr_svg.starts_with("<svg") && e.qr_svg.ends_with("</svg>"), "{}", &e.qr_svg[..40]);
        assert!(!e.qr_svg.contains("style="), "no inline style: the page's CSP forbids it");
    }
}
