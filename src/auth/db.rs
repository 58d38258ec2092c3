//! Sign-in SQL, checked against the schema at compile time: the address's and the
//! account's allowances of attempts and the account's lockout, sessions (their rows, their
//! re-authentication, the WebAuthn ceremony kept on them), the challenges between a correct
//! password and a session, one-time codes and recovery codes, security keys, and the
//! sign-ins waiting at the OpenID provider. Secrets arrive here as their sha256 only. The
//! account's own rows (`users` as an administrator changes it, the roles' sign-in
//! policies, linked identities) are `crate::accounts::db`.

use sqlx::{PgConnection, PgExecutor};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::session::{Listed, Live, SignInMethod};
use crate::access::policy::Role;
use crate::ids::{SessionId, UserId};

// ---------------------------------------------------------------------------------------
// Attempts, lockout and the account's password

/// Takes one attempt from `addr`'s allowance for the current window of length `window`,
/// atomically, before any password is checked; returns the attempts taken in the window,
/// this one included. However many attempts arrive at once, at most
/// [`ADDRESS_ATTEMPTS`](super::service::ADDRESS_ATTEMPTS) get a number within the
/// allowance. A successful sign-in gives its attempt back ([`refund_address`]), so only
/// failures use the allowance up and an office behind one address is not throttled by its
/// own sign-ins.
pub async fn take_address_attempt(
    exec: impl PgExecutor<'_>,
    addr: &str,
    now: OffsetDateTime,
    window: Duration,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO login_throttle (client_addr, window_start, attempts) VALUES ($1, $2, 1) \
         ON CONFLICT (client_addr) DO UPDATE SET \
           attempts = CASE WHEN login_throttle.window_start <= $2 - $3::interval THEN 1 ELSE login_throttle.attempts + 1 END, \
           window_start = CASE WHEN login_throttle.window_start <= $2 - $3::interval THEN $2 ELSE login_throttle.window_start END \
         RETURNING attempts",
        addr,
        now,
        format!("{} minutes", window.whole_minutes()) as _,
    )
    .fetch_one(exec)
    .await
}

/// Gives a successful sign-in's attempt back to its address.
pub async fn refund_address(conn: &mut PgConnection, addr: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE client_addr = $1", addr)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes one attempt from the count of `addr`, atomically, when `user` signed in from there
/// within `known_for` and the address has failures left (fewer than `max_failures` in the
/// current window of length `window`); the failures it holds in the window, this one
/// included, or `None` when it is not such an address or has none left.
pub async fn take_known_address_attempt(
    exec: impl PgExecutor<'_>,
    user: UserId,
    addr: &str,
    now: OffsetDateTime,
    window: Duration,
    known_for: Duration,
    max_failures: i32,
) -> Result<Option<i64>, sqlx::Error> {
    let window = format!("{} minutes", window.whole_minutes());
    sqlx::query_scalar!(
        "UPDATE user_sign_in_addresses SET \
           failures = CASE WHEN first_failure_at IS NULL OR first_failure_at <= $3::timestamptz - $4::interval THEN 1 ELSE failures + 1 END, \
           first_failure_at = CASE WHEN first_failure_at IS NULL OR first_failure_at <= $3::timestamptz - $4::interval THEN $3 ELSE first_failure_at END \
         WHERE user_id = $1 AND client_addr = $2 AND last_success_at > $3::timestamptz - $5::interval \
           AND (failures < $6 OR first_failure_at <= $3::timestamptz - $4::interval) \
         RETURNING failures",
        user.0,
        addr,
        now,
        &window as _,
        format!("{} days", known_for.whole_days()) as _,
        i64::from(max_failures),
    )
    .fetch_optional(exec)
    .await
}

/// Takes one attempt from the account's own count, atomically, unless the account is
/// locked at `now`; the failures it holds in the current window of length `window`, this
/// one included, or `None` while locked (no attempt is taken).
pub async fn take_account_attempt(
    exec: impl PgExecutor<'_>,
    user: UserId,
    now: OffsetDateTime,
    window: Duration,
) -> Result<Option<i32>, sqlx::Error> {
    let window = format!("{} minutes", window.whole_minutes());
    sqlx::query_scalar!(
        "UPDATE users SET \
           failed_logins = CASE WHEN first_failed_login_at IS NULL OR first_failed_login_at <= $2 - $3::interval THEN 1 ELSE failed_logins + 1 END, \
           first_failed_login_at = CASE WHEN first_failed_login_at IS NULL OR first_failed_login_at <= $2 - $3::interval THEN $2 ELSE first_failed_login_at END \
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING failed_logins",
        user.0,
        now,
        &window as _,
    )
    .fetch_optional(exec)
    .await
}

/// What a password sign-in reads of an account.
#[derive(Debug, sqlx::FromRow)]
pub struct Credentials {
    pub id: UserId,
    pub role: Role,
    pub password_hash: String,
    pub active: bool,
    pub locked_until: Option<OffsetDateTime>,
}

/// The [`Credentials`] of the account with the e-mail `email` (lower case), if any.
pub async fn credentials_by_email(exec: impl PgExecutor<'_>, email: &str) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"SELECT id, role AS "role: Role", password_hash, active, locked_until
           FROM users WHERE email = $1"#,
        email,
    )
    .fetch_optional(exec)
    .await
}

/// The [`Credentials`] of `id`, its row locked for the caller's transaction.
pub async fn locked_credentials(conn: &mut PgConnection, id: UserId) -> Result<Credentials, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"SELECT id, role AS "role: Role", password_hash, active, locked_until
           FROM users WHERE id = $1 FOR UPDATE"#,
        id.0,
    )
    .fetch_one(conn)
    .await
}

/// Locks the account `id` until `until` for password sign-in from addresses it has not
/// signed in from lately, noting the address `from` that locked it.
pub async fn lock_account(
    conn: &mut PgConnection,
    id: UserId,
    until: OffsetDateTime,
    from: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET locked_until = $2, locked_from = $3 WHERE id = $1", id.0, until, from)
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives a right password's attempt back to the account's own count, and stores
/// `new_hash` (a stronger hash of the same password) when given.
pub async fn refund_account_attempt(
    conn: &mut PgConnection,
    id: UserId,
    new_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET failed_logins = greatest(failed_logins - 1, 0), \
         password_hash = COALESCE($2, password_hash) WHERE id = $1",
        id.0,
        new_hash as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives a right password's attempt back to the count of the address `addr` of `id`.
pub async fn refund_known_address_attempt(
    conn: &mut PgConnection,
    id: UserId,
    addr: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE user_sign_in_addresses SET failures = greatest(failures - 1, 0) WHERE user_id = $1 AND client_addr = $2",
        id.0,
        addr
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores `new_hash` (a stronger hash of the same password) as `id`'s, when given.
pub async fn rehash_password(conn: &mut PgConnection, id: UserId, new_hash: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET password_hash = COALESCE($2, password_hash) WHERE id = $1", id.0, new_hash as _)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends the account's failure count and any lock after a right password, and stores
/// `new_hash` (a stronger hash of the same password) when given.
pub async fn clear_failures_and_rehash(
    conn: &mut PgConnection,
    id: UserId,
    new_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL, \
         password_hash = COALESCE($2, password_hash) WHERE id = $1",
        id.0,
        new_hash as _
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The failures `id` holds and when the first of them was, its row locked for the
/// caller's transaction.
pub async fn locked_failures(
    conn: &mut PgConnection,
    id: UserId,
) -> Result<(i32, Option<OffsetDateTime>), sqlx::Error> {
    let row = sqlx::query!("SELECT failed_logins, first_failed_login_at FROM users WHERE id = $1 FOR UPDATE", id.0)
        .fetch_one(conn)
        .await?;
    Ok((row.failed_logins, row.first_failed_login_at))
}

/// A failure counted against an account: the count and the start of its window, and
/// whether it locks the account (until `until`, from the address `from`) unless a lock
/// holds at `now` already.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    pub count: i32,
    pub first: OffsetDateTime,
    pub lock: bool,
    pub until: OffsetDateTime,
    pub now: OffsetDateTime,
    pub from: Option<&'a str>,
}

/// Stores the [`Failure`] counted against `id` (and its lock, if it locks).
pub async fn set_failures(conn: &mut PgConnection, id: UserId, f: &Failure<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET failed_logins = $2, first_failed_login_at = $3, \
         locked_from = CASE WHEN $4 AND (locked_until IS NULL OR locked_until <= $6) THEN $7 ELSE locked_from END, \
         locked_until = CASE WHEN $4 AND (locked_until IS NULL OR locked_until <= $6) THEN $5 ELSE locked_until END WHERE id = $1",
        id.0,
        f.count,
        f.first,
        f.lock,
        f.until,
        f.now,
        f.from,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes a successful sign-in of `user` from `addr`: the account may sign in from there
/// while locked for other addresses, and the address's failures end.
pub async fn remember_address(
    conn: &mut PgConnection,
    user: UserId,
    addr: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_sign_in_addresses (user_id, client_addr, last_success_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, client_addr) DO UPDATE SET last_success_at = $3, failures = 0, first_failure_at = NULL",
        user.0,
        addr,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The password hash of `id`.
pub async fn password_hash(conn: &mut PgConnection, id: UserId) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", id.0).fetch_one(conn).await
}

/// Whether `id` must change its password, its row locked for the caller's transaction.
pub async fn locked_must_change_password(conn: &mut PgConnection, id: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!("SELECT must_change_password FROM users WHERE id = $1 FOR UPDATE", id.0).fetch_one(conn).await
}

/// Gives `id` the password `hash` it chose (no change required any more) and moves its
/// version.
pub async fn set_own_password(
    conn: &mut PgConnection,
    id: UserId,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, must_change_password = false, updated_at = $3, version = version + 1 WHERE id = $1",
        id.0,
        hash,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the account's row for the caller's transaction (sign-ins, resets and new
/// recovery codes of one account take it in turn).
pub async fn lock_user_row(conn: &mut PgConnection, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT id FROM users WHERE id = $1 FOR UPDATE", id.0).fetch_one(conn).await?;
    Ok(())
}

/// The account of the e-mail `email` as a passkey sign-in sees it, its row locked for the
/// caller's transaction.
#[derive(Debug)]
pub struct PasskeyCandidate {
    pub id: Uuid,
    pub role: Role,
    pub active: bool,
    pub has_key: bool,
}

/// The [`PasskeyCandidate`] of `email` (lower case), if any.
pub async fn locked_passkey_candidate(
    conn: &mut PgConnection,
    email: &str,
) -> Result<Option<PasskeyCandidate>, sqlx::Error> {
    sqlx::query_as!(
        PasskeyCandidate,
        r#"SELECT id, role AS "role: Role", active,
             EXISTS (SELECT 1 FROM user_security_keys k WHERE k.user_id = users.id) AS "has_key!"
           FROM users WHERE email = $1 FOR UPDATE"#,
        email
    )
    .fetch_optional(conn)
    .await
}

/// This installation's secret that decoy keys are derived from.
pub async fn passkey_decoy_secret(conn: &mut PgConnection) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar!("SELECT secret FROM instance_secrets WHERE name = 'passkey_decoys'").fetch_one(conn).await
}

// ---------------------------------------------------------------------------------------
// Sessions

/// A session to be stored ([`insert_session`]).
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    pub id: SessionId,
    pub secret_hash: &'a [u8],
    pub user: UserId,
    /// `browser` or `api`.
    pub kind: &'a str,
    pub csrf_token: &'a str,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub client_addr: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub how: SignInMethod<'a>,
}

/// Stores a new session.
pub async fn insert_session(conn: &mut PgConnection, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sessions (id, secret_hash, user_id, kind, csrf_token, created_at, last_seen_at, expires_at, client_addr, user_agent, \
         sign_in_method, acr, amr, id_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13)",
        s.id.0,
        s.secret_hash,
        s.user.0,
        s.kind,
        s.csrf_token,
        s.now,
        s.expires_at,
        s.client_addr,
        s.user_agent,
        s.how.name,
        s.how.acr,
        s.how.amr,
        s.how.id_token,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The session whose secret hashes to `hash`, with its user, as [`Live`] (timeouts not
/// applied).
pub async fn live_session(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<Live>, sqlx::Error> {
    sqlx::query_as!(
        Live,
        r#"SELECT s.id AS session_id, s.kind, s.csrf_token, s.last_seen_at, s.expires_at, s.reauth_at,
         u.id AS user_id, u.email, u.name, u.role AS "role: Role",
         (u.must_change_password AND s.sign_in_method IS DISTINCT FROM 'sso' AND s.sign_in_method IS DISTINCT FROM 'piv')
           AS "must_change_password!",
         (s.sign_in_method IS DISTINCT FROM 'piv'
          AND EXISTS (SELECT 1 FROM role_sign_in_policies p WHERE p.role = u.role AND p.require_security_key
                      AND NOT (s.sign_in_method = 'sso' AND cardinality(p.sso_assurance) > 0))
          AND NOT EXISTS (SELECT 1 FROM user_security_keys k WHERE k.user_id = u.id)) AS "must_register_key!",
         u.active,
         (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) AS "unread_notifications!",
         u.time_zone
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.secret_hash = $1"#,
        hash,
    )
    .fetch_optional(conn)
    .await
}

/// Records activity on session `id` at `now`.
pub async fn touch_session(conn: &mut PgConnection, id: SessionId, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", id.0, now).execute(conn).await?;
    Ok(())
}

/// Ends one session by its id; how many ended (0 or 1).
pub async fn delete_session(conn: &mut PgConnection, id: SessionId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE id = $1", id.0).execute(conn).await?.rows_affected())
}

/// Ends one session by the hash of its secret; how many ended (0 or 1).
pub async fn delete_session_by_hash(conn: &mut PgConnection, hash: &[u8]) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE secret_hash = $1", hash).execute(conn).await?.rows_affected())
}

/// Ends the session `id` if it is `user`'s; how many ended (0 or 1).
pub async fn delete_own_session(conn: &mut PgConnection, id: SessionId, user: UserId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE id = $1 AND user_id = $2", id.0, user.0)
        .execute(conn)
        .await?
        .rows_affected())
}

/// The sign-in method and ID token of a session (for the provider's sign-out).
pub async fn sign_in_method(
    conn: &mut PgConnection,
    id: SessionId,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    let row =
        sqlx::query!("SELECT sign_in_method, id_token FROM sessions WHERE id = $1", id.0).fetch_optional(conn).await?;
    Ok(row.and_then(|r| r.sign_in_method.map(|m| (m, r.id_token))))
}

/// The user's sessions, newest first.
pub async fn sessions_of(conn: &mut PgConnection, user_id: UserId) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as!(
        Listed,
        "SELECT id, kind, created_at, last_seen_at, expires_at, client_addr, user_agent FROM sessions WHERE user_id = $1 ORDER BY created_at DESC",
        user_id.0,
    )
    .fetch_all(conn)
    .await
}

/// When session `id` was created (signed in to), if it exists.
pub async fn session_created_at(conn: &mut PgConnection, id: SessionId) -> Result<Option<OffsetDateTime>, sqlx::Error> {
    sqlx::query_scalar!("SELECT created_at FROM sessions WHERE id = $1", id.0).fetch_optional(conn).await
}

/// The user of session `id`, its row locked for the caller's transaction.
pub async fn locked_session_owner(conn: &mut PgConnection, id: SessionId) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT user_id FROM sessions WHERE id = $1 FOR UPDATE", id.0).fetch_optional(conn).await
}

/// Marks session `id` re-authenticated at `now` (the step-up).
pub async fn set_reauth(conn: &mut PgConnection, id: SessionId, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE sessions SET reauth_at = $2 WHERE id = $1", id.0, now).execute(conn).await?;
    Ok(())
}

/// Keeps the WebAuthn ceremony `state` on session `id`.
pub async fn set_session_ceremony(
    conn: &mut PgConnection,
    id: SessionId,
    state: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE sessions SET webauthn_state = $2 WHERE id = $1", id.0, state).execute(conn).await?;
    Ok(())
}

/// Takes (and clears) the WebAuthn ceremony kept on session `id`, if any.
pub async fn take_session_ceremony(
    conn: &mut PgConnection,
    id: SessionId,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "UPDATE sessions s SET webauthn_state = NULL FROM (SELECT id, webauthn_state FROM sessions WHERE id = $1 FOR UPDATE) o \
         WHERE s.id = o.id RETURNING o.webauthn_state",
        id.0
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}

// ---------------------------------------------------------------------------------------
// Challenges (the step between a correct password, or a passkey sign-in's start, and a
// session)

/// A challenge to be stored: its id, the hash of its secret, its times and its client.
#[derive(Debug, Clone, Copy)]
pub struct NewChallenge<'a> {
    pub id: Uuid,
    pub secret_hash: &'a [u8],
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub client_addr: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// Where the sign-in was going.
    pub next: Option<&'a str>,
}

/// Stores a challenge of `user`'s after a correct password, for a client of `kind`
/// (`browser` or `api`).
pub async fn insert_challenge(
    conn: &mut PgConnection,
    c: &NewChallenge<'_>,
    user: UserId,
    kind: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sign_in_challenges (id, secret_hash, user_id, kind, created_at, expires_at, client_addr, user_agent, next) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        c.id,
        c.secret_hash,
        user.0,
        kind,
        c.created_at,
        c.expires_at,
        c.client_addr,
        c.user_agent,
        c.next
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the passwordless challenges of `user` (or of the decoy secret `decoy`) but the
/// newest four that have not lapsed at `now`.
pub async fn trim_passwordless_challenges(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    decoy: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM sign_in_challenges WHERE (user_id = $1 OR decoy = $2) AND passwordless AND id NOT IN \
         (SELECT id FROM sign_in_challenges WHERE (user_id = $1 OR decoy = $2) AND passwordless AND expires_at > $3 \
          ORDER BY created_at DESC LIMIT 4)",
        user,
        decoy,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a passwordless challenge (a passkey alone, in a browser) of `user`, or a decoy's
/// of the decoy secret `decoy`.
pub async fn insert_passwordless_challenge(
    conn: &mut PgConnection,
    c: &NewChallenge<'_>,
    user: Option<Uuid>,
    decoy: Option<&[u8]>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sign_in_challenges \
           (id, secret_hash, user_id, decoy, kind, created_at, expires_at, client_addr, user_agent, next, passwordless) \
         VALUES ($1, $2, $3, $4, 'browser', $5, $6, $7, $8, $9, true)",
        c.id,
        c.secret_hash,
        user,
        decoy,
        c.created_at,
        c.expires_at,
        c.client_addr,
        c.user_agent,
        c.next,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Where the sign-in of the challenge whose secret hashes to `hash` was going: `None`
/// when there is no such challenge, `Some(None)` when it was going nowhere in particular.
pub async fn challenge_next(exec: impl PgExecutor<'_>, hash: &[u8]) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT next FROM sign_in_challenges WHERE secret_hash = $1", hash).fetch_optional(exec).await
}

/// The account of the challenge whose secret hashes to `hash`: `None` when there is no
/// such challenge, `Some(None)` for a decoy.
pub async fn challenge_owner(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT user_id FROM sign_in_challenges WHERE secret_hash = $1", hash)
        .fetch_optional(conn)
        .await
}

/// A decoy challenge as its page reads it.
#[derive(Debug)]
pub struct DecoyOffer {
    /// The decoy secret its key derives from.
    pub decoy: Vec<u8>,
    pub expires_at: OffsetDateTime,
}

/// The decoy challenge whose secret hashes to `hash`, if that is a decoy's.
pub async fn decoy_offer(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<DecoyOffer>, sqlx::Error> {
    sqlx::query_as!(
        DecoyOffer,
        r#"SELECT decoy AS "decoy!", expires_at FROM sign_in_challenges WHERE secret_hash = $1 AND decoy IS NOT NULL"#,
        hash
    )
    .fetch_optional(conn)
    .await
}

/// An account's challenge as its page reads it: what it was opened for, and whether the
/// account has a confirmed authenticator.
#[derive(Debug)]
pub struct Offer {
    pub id: Uuid,
    pub user_id: Uuid,
    pub passwordless: bool,
    pub expires_at: OffsetDateTime,
    pub role: Role,
    pub totp: bool,
}

/// The [`Offer`] of the account's challenge whose secret hashes to `hash`, the challenge
/// locked for the caller's transaction.
pub async fn locked_offer(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<Offer>, sqlx::Error> {
    sqlx::query_as!(
        Offer,
        r#"SELECT c.id, c.user_id AS "user_id!", c.passwordless, c.expires_at, u.role AS "role: Role",
             EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = c.user_id AND t.confirmed_at IS NOT NULL) AS "totp!"
           FROM sign_in_challenges c JOIN users u ON u.id = c.user_id WHERE c.secret_hash = $1 FOR UPDATE OF c"#,
        hash
    )
    .fetch_optional(conn)
    .await
}

/// Keeps the state of a key's assertion on challenge `id`.
pub async fn set_challenge_ceremony(
    conn: &mut PgConnection,
    id: Uuid,
    state: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE sign_in_challenges SET webauthn_state = $2 WHERE id = $1", id, state).execute(conn).await?;
    Ok(())
}

/// A decoy challenge as its answer reads it.
#[derive(Debug)]
pub struct DecoyChallenge {
    pub id: Uuid,
    /// `browser` or `api`.
    pub kind: String,
    pub expires_at: OffsetDateTime,
    pub failures: i64,
    pub next: Option<String>,
}

/// The challenge whose secret hashes to `hash`, read as a decoy's, locked for the
/// caller's transaction.
pub async fn locked_decoy_challenge(
    conn: &mut PgConnection,
    hash: &[u8],
) -> Result<Option<DecoyChallenge>, sqlx::Error> {
    sqlx::query_as!(
        DecoyChallenge,
        "SELECT id, kind, expires_at, failures, next FROM sign_in_challenges WHERE secret_hash = $1 FOR UPDATE",
        hash
    )
    .fetch_optional(conn)
    .await
}

/// An account's challenge as its answer reads it, with the account's state.
#[derive(Debug)]
pub struct AnsweredChallenge {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `browser` or `api`.
    pub kind: String,
    pub expires_at: OffsetDateTime,
    pub failures: i64,
    pub next: Option<String>,
    pub passwordless: bool,
    /// A key's assertion begun on it.
    pub webauthn_state: Option<serde_json::Value>,
    pub active: bool,
    pub role: Role,
}

/// The [`AnsweredChallenge`] whose secret hashes to `hash`, the challenge locked for the
/// caller's transaction.
pub async fn locked_challenge(conn: &mut PgConnection, hash: &[u8]) -> Result<Option<AnsweredChallenge>, sqlx::Error> {
    sqlx::query_as!(
        AnsweredChallenge,
        r#"SELECT c.id, c.user_id AS "user_id!", c.kind, c.expires_at, c.failures, c.next, c.passwordless, c.webauthn_state,
             u.active, u.role AS "role: Role"
           FROM sign_in_challenges c JOIN users u ON u.id = c.user_id
           WHERE c.secret_hash = $1 FOR UPDATE OF c"#,
        hash
    )
    .fetch_optional(conn)
    .await
}

/// Sets the wrong answers challenge `id` has taken.
pub async fn set_challenge_failures(conn: &mut PgConnection, id: Uuid, failures: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE sign_in_challenges SET failures = $2 WHERE id = $1", id, failures).execute(conn).await?;
    Ok(())
}

/// Ends challenge `id`.
pub async fn delete_challenge(exec: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sign_in_challenges WHERE id = $1", id).execute(exec).await?;
    Ok(())
}

/// Ends challenge `id` of an account; the account and its role, if it was one.
pub async fn delete_challenge_returning_user(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(UserId, Role)>, sqlx::Error> {
    let user = sqlx::query!(
        r#"DELETE FROM sign_in_challenges c USING users u WHERE c.id = $1 AND u.id = c.user_id
           RETURNING u.id AS "id: UserId", u.role AS "role: Role""#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(user.map(|u| (u.id, u.role)))
}

/// Deletes the challenges, real and decoy alike, that lapsed at or before `cutoff`; how
/// many.
pub async fn delete_challenges_lapsed_by(
    exec: impl PgExecutor<'_>,
    cutoff: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sign_in_challenges WHERE expires_at <= $1", cutoff)
        .execute(exec)
        .await?
        .rows_affected())
}

// ---------------------------------------------------------------------------------------
// One-time codes and recovery codes

/// Whether `user` signs in with a second factor after the password: a confirmed
/// authenticator or a security key.
pub async fn has_second_factor(conn: &mut PgConnection, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)
               OR EXISTS (SELECT 1 FROM user_security_keys WHERE user_id = $1) AS "v!""#,
        user.0
    )
    .fetch_one(conn)
    .await
}

/// The second factors a sign-in of `user` waits for, as the audit log names them
/// (`totp`, `security_key`, joined by ` or `).
pub async fn second_factors_awaited(conn: &mut PgConnection, user: UserId) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT concat_ws(' or ',
                 CASE WHEN EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL) THEN 'totp' END,
                 CASE WHEN EXISTS (SELECT 1 FROM user_security_keys WHERE user_id = $1) THEN 'security_key' END) AS "v!""#,
        user.0
    )
    .fetch_one(conn)
    .await
}

/// When `user`'s authenticator was confirmed: `None` when it has none, `Some(None)` while
/// one is being set up. The row is locked for the caller's transaction.
pub async fn locked_totp_confirmed_at(
    conn: &mut PgConnection,
    user: UserId,
) -> Result<Option<Option<OffsetDateTime>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT confirmed_at FROM user_totp WHERE user_id = $1 FOR UPDATE", user.0)
        .fetch_optional(conn)
        .await
}

/// Stores `secret` as the authenticator `user` is setting up (not yet counted), in place
/// of any other.
pub async fn start_totp(
    conn: &mut PgConnection,
    user: UserId,
    secret: &[u8],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_totp (user_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret = $2, created_at = $3, last_step = NULL, last_used_at = NULL",
        user.0,
        secret,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The secret of the authenticator `user` is setting up and has not confirmed, if any;
/// locked for the caller's transaction when `lock`.
pub async fn unconfirmed_totp_secret(
    conn: &mut PgConnection,
    user: UserId,
    lock: bool,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    if lock {
        sqlx::query_scalar!(
            "SELECT secret FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL FOR UPDATE",
            user.0
        )
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_scalar!("SELECT secret FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL", user.0)
            .fetch_optional(conn)
            .await
    }
}

/// Confirms `user`'s authenticator at `now`, with the step of its first code as the
/// newest accepted.
pub async fn confirm_totp(
    conn: &mut PgConnection,
    user: UserId,
    now: OffsetDateTime,
    step: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE user_totp SET confirmed_at = $2, last_step = $3 WHERE user_id = $1", user.0, now, step)
        .execute(conn)
        .await?;
    Ok(())
}

/// The secret of `user`'s confirmed authenticator, if any.
pub async fn confirmed_totp_secret(conn: &mut PgConnection, user: UserId) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT secret FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", user.0)
        .fetch_optional(conn)
        .await
}

/// Takes time step `step` of `user`'s confirmed authenticator at `now`, if it is newer
/// than the last one taken; whether it was.
pub async fn take_totp_step(
    conn: &mut PgConnection,
    user: UserId,
    step: i64,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE user_totp SET last_step = $2, last_used_at = $3 \
         WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)",
        user.0,
        step,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Deletes `user`'s recovery codes, used or not.
pub async fn delete_recovery_codes(conn: &mut PgConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM user_recovery_codes WHERE user_id = $1", user.0).execute(conn).await?;
    Ok(())
}

/// Stores recovery codes of `user` by their hashes.
pub async fn insert_recovery_codes(
    conn: &mut PgConnection,
    user: UserId,
    hashes: &[Vec<u8>],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_recovery_codes (user_id, code_hash, created_at) SELECT $1, h, $3 FROM unnest($2::bytea[]) h",
        user.0,
        hashes,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The hashes of `user`'s recovery codes, used or not, in order.
pub async fn recovery_code_hashes(conn: &mut PgConnection, user: UserId) -> Result<Vec<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!("SELECT code_hash FROM user_recovery_codes WHERE user_id = $1 ORDER BY code_hash", user.0)
        .fetch_all(conn)
        .await
}

/// Uses `user`'s unused recovery code of hash `hash` at `now`; whether there was one.
pub async fn use_recovery_code(
    conn: &mut PgConnection,
    user: UserId,
    hash: &[u8],
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE user_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        user.0,
        hash,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// How many of `user`'s recovery codes are left unused.
pub async fn recovery_codes_left(conn: &mut PgConnection, user: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL"#,
        user.0
    )
    .fetch_one(conn)
    .await
}

// ---------------------------------------------------------------------------------------
// Security keys

/// Whether `user` has a security key.
pub async fn has_security_key(conn: &mut PgConnection, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM user_security_keys WHERE user_id = $1) AS "v!""#, user.0)
        .fetch_one(conn)
        .await
}

/// The stored credentials (webauthn-rs `Passkey`s as JSON) of `user`'s keys, with their
/// row ids.
pub async fn security_key_credentials(
    conn: &mut PgConnection,
    user: UserId,
) -> Result<Vec<(Uuid, serde_json::Value)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT id, credential FROM user_security_keys WHERE user_id = $1", user.0)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.credential))
        .collect())
}

/// A security key to be stored ([`insert_security_key`]).
#[derive(Debug, Clone, Copy)]
pub struct NewKey<'a> {
    pub id: Uuid,
    pub user: UserId,
    pub name: &'a str,
    pub credential_id: &'a [u8],
    /// The webauthn-rs `Passkey`, as JSON.
    pub credential: &'a serde_json::Value,
    pub created_at: OffsetDateTime,
}

/// Stores a new key, unless a key of the same credential id is stored already; whether
/// it was stored.
pub async fn insert_security_key(conn: &mut PgConnection, k: &NewKey<'_>) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO user_security_keys (id, user_id, name, credential_id, credential, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
        k.id,
        k.user.0,
        k.name,
        k.credential_id,
        k.credential,
        k.created_at
    )
    .execute(conn)
    .await?
    .rows_affected()
        != 0)
}

/// Deletes `user`'s key `key`; its name, if it was there.
pub async fn delete_security_key(
    conn: &mut PgConnection,
    key: Uuid,
    user: UserId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("DELETE FROM user_security_keys WHERE id = $1 AND user_id = $2 RETURNING name", key, user.0)
        .fetch_optional(conn)
        .await
}

/// A stored key as an assertion reads it.
#[derive(Debug)]
pub struct StoredKey {
    pub id: Uuid,
    pub name: String,
    /// The webauthn-rs `Passkey`, as JSON.
    pub credential: serde_json::Value,
}

/// `user`'s key of the credential id `credential_id`, locked for the caller's transaction.
pub async fn locked_security_key(
    conn: &mut PgConnection,
    user: UserId,
    credential_id: &[u8],
) -> Result<Option<StoredKey>, sqlx::Error> {
    sqlx::query_as!(
        StoredKey,
        "SELECT id, name, credential FROM user_security_keys WHERE user_id = $1 AND credential_id = $2 FOR UPDATE",
        user.0,
        credential_id
    )
    .fetch_optional(conn)
    .await
}

/// Notes the use of key `id` at `now`, storing its `credential` when it was `updated`
/// (its counter moved).
pub async fn note_key_use(
    conn: &mut PgConnection,
    id: Uuid,
    now: OffsetDateTime,
    updated: bool,
    credential: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE user_security_keys SET last_used_at = $2, credential = CASE WHEN $3 THEN $4 ELSE credential END WHERE id = $1",
        id,
        now,
        updated,
        credential
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Sign-ins waiting at the OpenID provider

/// Deletes the sign-ins at the provider that lapsed at or before `now`.
pub async fn delete_lapsed_sso_logins(conn: &mut PgConnection, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sso_logins WHERE expires_at <= $1", now).execute(conn).await?;
    Ok(())
}

/// The sign-ins waiting at the provider: from anywhere, and from `client_addr`.
pub async fn pending_sso_logins(conn: &mut PgConnection, client_addr: Option<&str>) -> Result<(i64, i64), sqlx::Error> {
    let pending = sqlx::query!(
        r#"SELECT count(*) AS "all!", count(*) FILTER (WHERE client_addr = $1) AS "here!" FROM sso_logins"#,
        client_addr
    )
    .fetch_one(conn)
    .await?;
    Ok((pending.all, pending.here))
}

/// A sign-in sent to the provider, as it is taken back ([`take_sso_login`]).
#[derive(Debug)]
pub struct SsoLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// Where the user was going.
    pub next: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// The session a step-up is for (none for a sign-in).
    pub session_id: Option<Uuid>,
}

/// A sign-in sent to the provider, to be stored ([`insert_sso_login`]).
#[derive(Debug, Clone, Copy)]
pub struct NewSsoLogin<'a> {
    /// The hash of its binding cookie's value.
    pub binding_hash: &'a [u8],
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    /// Where the user was going.
    pub next: &'a str,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub client_addr: Option<&'a str>,
    /// The session a step-up is for (none for a sign-in).
    pub session_id: Option<Uuid>,
}

/// Stores a sign-in sent to the provider.
pub async fn insert_sso_login(conn: &mut PgConnection, l: &NewSsoLogin<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sso_logins (binding_hash, state, nonce, pkce_verifier, next, created_at, expires_at, client_addr, session_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        l.binding_hash,
        l.state,
        l.nonce,
        l.pkce_verifier,
        l.next,
        l.created_at,
        l.expires_at,
        l.client_addr,
        l.session_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes (deletes and returns) the sign-in bound to the cookie whose value hashes to
/// `binding_hash`, if any, lapsed or not.
pub async fn take_sso_login(exec: impl PgExecutor<'_>, binding_hash: &[u8]) -> Result<Option<SsoLogin>, sqlx::Error> {
    sqlx::query_as!(
        SsoLogin,
        "DELETE FROM sso_logins WHERE binding_hash = $1 \
         RETURNING state, nonce, pkce_verifier, next, created_at, expires_at, session_id",
        binding_hash
    )
    .fetch_optional(exec)
    .await
}
