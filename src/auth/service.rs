//! Account use cases. Each is one transaction that checks permission, changes rows and
//! appends its audit event; pages, the API and the command line all call these.

use crate::ids::{SessionId, UserId};
use serde::Serialize;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::session::{self, Created, Kind};
use crate::access::actor::{Actor, RequestMeta};
use crate::access::policy::{Action, Role};
use crate::accounts::password;
use crate::audit::{self, AuditContext, EventType, NewEvent, Outcome};
use crate::error::{DomainError, FieldError};

/// Failed sign-ins within this window count towards a lockout.
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
/// Failures within the window that lock the account.
pub const MAX_FAILURES: i32 = 3;
/// How long a lockout lasts unless an admin unlocks the account first.
pub const LOCKOUT: Duration = Duration::hours(3);
/// Sign-in attempts allowed per client address per window.
pub const ADDRESS_ATTEMPTS: i32 = 30;

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

/// Creates an account (the operator's `icts-review user add`, the demonstration office and
/// an administrator's analysts; an administrator's other accounts go through
/// [`admin_create_user`]).
pub async fn create_user(
    pool: &PgPool,
    now: OffsetDateTime,
    ctx: &AuditContext,
    input: NewUser,
    must_change: bool,
) -> Result<UserRecord, DomainError> {
    let hash = password::hash_async(input.password.clone()).await;
    let mut tx = pool.begin().await?;
    let user = insert_user(&mut tx, now, ctx, &input, &hash, must_change, true).await?;
    tx.commit().await?;
    Ok(user)
}

/// Inserts an account and records `user.created`, in the caller's transaction.
async fn insert_user(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    ctx: &AuditContext,
    input: &NewUser,
    hash: &str,
    must_change: bool,
    active: bool,
) -> Result<UserRecord, DomainError> {
    let id = Uuid::now_v7();
    let inserted = sqlx::query_as!(
        UserRecord,
        r#"INSERT INTO users (id, email, name, role, password_hash, must_change_password, created_at, updated_at, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version"#,
        id,
        &input.email,
        &input.name,
        input.role as Role,
        hash,
        must_change,
        now,
        active,
    )
    .fetch_one(&mut *tx)
    .await;
    let user = match inserted {
        Ok(u) => u,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(DomainError::invalid("email", "an account with this email already exists"));
        }
        Err(e) => return Err(e.into()),
    };
    let mut changes = json!({
        "email": {"after": user.email}, "name": {"after": user.name}, "role": {"after": user.role},
        "must_change_password": {"after": must_change}
    });
    if !active {
        changes["active"] = json!({"after": false});
    }
    audit::record(&mut *tx, now, ctx, NewEvent::new(EventType::UserCreated).object("user", user.id).changes(changes))
        .await?;
    Ok(user)
}

/// What became of an administrator's new account.
#[derive(Debug)]
pub enum NewAccount {
    /// Made, and active: its holder signs in with the temporary password given.
    Done(UserRecord),
    /// Made inactive, waiting for a second administrator to activate it.
    Requested(UserRecord, Box<crate::accounts::approvals::Approval>),
}

/// An administrator creates an account. One of an analyst is made at once. One of a role in
/// [`GUARDED_ROLES`] is made inactive, with a password nobody knows, and waits for a second
/// administrator to activate it, who then sets and hands over its temporary password: else
/// one administrator could create a second administrator and approve their own requests
/// with it. With no other active administrator it is refused and nothing is made.
pub async fn admin_create_user(
    pool: &PgPool,
    now: OffsetDateTime,
    admin: &Actor,
    input: NewUser,
) -> Result<NewAccount, DomainError> {
    admin.authorize(&mut *pool.acquire().await?, now, Action::ManageUsers).await?;
    if !GUARDED_ROLES.contains(&input.role) {
        return create_user(pool, now, &admin.audit(), input, true).await.map(NewAccount::Done);
    }
    let hash = password::hash_async(password::generate()).await;
    let mut tx = pool.begin().await?;
    let user = insert_user(&mut tx, now, &admin.audit(), &input, &hash, true, false).await?;
    match crate::accounts::approvals::request(&mut tx, admin, now, &user, &AdminChange::Active(true)).await {
        Ok(a) => {
            tx.commit().await?;
            Ok(NewAccount::Requested(user, Box::new(a)))
        }
        Err(crate::accounts::approvals::Refused::Alone(message)) => Err(DomainError::Conflict(message)),
        Err(crate::accounts::approvals::Refused::Other(e)) => Err(e),
    }
}

/// Lists every account.
pub async fn list_users(pool: &PgPool) -> Result<Vec<UserRecord>, sqlx::Error> {
    sqlx::query_as!(UserRecord, r#"SELECT id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version FROM users ORDER BY lower(name), email"#).fetch_all(pool).await
}

/// One account.
pub async fn get_user(conn: &mut PgConnection, id: UserId) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as!(UserRecord, r#"SELECT id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version FROM users WHERE id = $1"#, id.0).fetch_optional(conn).await
}

/// Whether any account exists (the first start explains how to create one).
pub async fn any_user(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "v!""#).fetch_one(pool).await
}

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

/// Who signs in, besides their credentials: a browser or an API client, the session the
/// browser had (replaced by the new one), and where it was going (kept by a challenge).
#[derive(Debug, Clone, Copy)]
pub struct SignInClient<'a> {
    pub kind: Kind,
    pub previous_secret: Option<&'a str>,
    pub next: Option<&'a str>,
}

/// Where a correct password leads.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done(SignedInSession),
    /// The account signs in with a one-time code too: the challenge that waits for it.
    Code(super::second_factor::Challenge),
}

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedInSession {
    /// The new session.
    pub session: Created,
    /// The account.
    pub user: UserRecord,
}

#[derive(sqlx::FromRow)]
struct Credentials {
    id: UserId,
    role: Role,
    password_hash: String,
    active: bool,
    locked_until: Option<OffsetDateTime>,
}

/// How long an address an account signed in from stays one it may sign in from while
/// locked for others.
pub const KNOWN_ADDRESS: Duration = Duration::days(90);

/// Takes one attempt from `addr`'s allowance for the current window, atomically, before
/// any password is checked; returns the attempts taken in the window, this one included.
/// However many attempts arrive at once, at most [`ADDRESS_ATTEMPTS`] get a number within
/// the allowance. A successful sign-in gives its attempt back ([`refund_address`]), so
/// only failures use the allowance up and an office behind one address is not throttled
/// by its own sign-ins.
async fn take_address_attempt(pool: &PgPool, addr: &str, now: OffsetDateTime) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO login_throttle (client_addr, window_start, attempts) VALUES ($1, $2, 1) \
         ON CONFLICT (client_addr) DO UPDATE SET \
           attempts = CASE WHEN login_throttle.window_start <= $2 - $3::interval THEN 1 ELSE login_throttle.attempts + 1 END, \
           window_start = CASE WHEN login_throttle.window_start <= $2 - $3::interval THEN $2 ELSE login_throttle.window_start END \
         RETURNING attempts",
        addr,
        now,
        format!("{} minutes", FAILURE_WINDOW.whole_minutes()) as _,
    )
    .fetch_one(pool)
    .await
}

/// Gives a successful sign-in's attempt back to its address.
async fn refund_address(conn: &mut PgConnection, addr: Option<&str>) -> Result<(), sqlx::Error> {
    let Some(addr) = addr else { return Ok(()) };
    sqlx::query!("UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE client_addr = $1", addr)
        .execute(conn)
        .await?;
    Ok(())
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
    let window = format!("{} minutes", FAILURE_WINDOW.whole_minutes());
    if let Some(addr) = addr {
        let known = sqlx::query_scalar!(
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
            format!("{} days", KNOWN_ADDRESS.whole_days()) as _,
            i64::from(MAX_FAILURES),
        )
        .fetch_optional(pool)
        .await?;
        if let Some(n) = known {
            return Ok(Some((Counter::KnownAddress, i32::try_from(n).unwrap_or(i32::MAX))));
        }
    }
    let n = sqlx::query_scalar!(
        "UPDATE users SET \
           failed_logins = CASE WHEN first_failed_login_at IS NULL OR first_failed_login_at <= $2 - $3::interval THEN 1 ELSE failed_logins + 1 END, \
           first_failed_login_at = CASE WHEN first_failed_login_at IS NULL OR first_failed_login_at <= $2 - $3::interval THEN $2 ELSE first_failed_login_at END \
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING failed_logins",
        user.0,
        now,
        &window as _,
    )
    .fetch_optional(pool)
    .await?;
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
/// [`KNOWN_ADDRESS`]; from such an address it still signs in, each address with its own
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
        let attempts = take_address_attempt(pool, addr, now).await?;
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
    let found = sqlx::query_as!(
        Credentials,
        r#"SELECT id, role AS "role: Role", password_hash, active, locked_until
           FROM users WHERE email = $1"#,
        &email,
    )
    .fetch_optional(pool)
    .await?;
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
    if found.active
        && !crate::accounts::sign_in_policy::of_role(&mut *pool.acquire().await?, found.role).await?.password_allowed
    {
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
    let current = sqlx::query_as!(
        Credentials,
        r#"SELECT id, role AS "role: Role", password_hash, active, locked_until
           FROM users WHERE id = $1 FOR UPDATE"#,
        found.id.0,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !password_ok {
        let locked = current.locked_until.is_some_and(|t| t > now);
        if count >= MAX_FAILURES {
            match counter {
                Counter::Account if !locked => {
                    let until = now + LOCKOUT;
                    sqlx::query!(
                        "UPDATE users SET locked_until = $2, locked_from = $3 WHERE id = $1",
                        current.id.0,
                        until,
                        addr
                    )
                    .execute(&mut *tx)
                    .await?;
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
    if super::second_factor::required(&mut tx, current.id).await? {
        // The password is right; the session waits for the account's one-time code. The
        // attempt this password took is given back, but the counts and any lock stay as
        // they are until the code is right too: wrong codes add to the same count, and a
        // right password in between must not wipe them (else password, two wrong codes,
        // password, two wrong codes … would never lock).
        match counter {
            Counter::Account => {
                sqlx::query!(
                    "UPDATE users SET failed_logins = greatest(failed_logins - 1, 0), \
                     password_hash = COALESCE($2, password_hash) WHERE id = $1",
                    current.id.0,
                    &new_hash as _
                )
                .execute(&mut *tx)
                .await?;
            }
            Counter::KnownAddress => {
                sqlx::query!(
                    "UPDATE user_sign_in_addresses SET failures = greatest(failures - 1, 0) WHERE user_id = $1 AND client_addr = $2",
                    current.id.0,
                    addr
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query!(
                    "UPDATE users SET password_hash = COALESCE($2, password_hash) WHERE id = $1",
                    current.id.0,
                    &new_hash as _
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        let challenge = super::second_factor::open_challenge(&mut tx, current.id, kind, now, meta, next).await?;
        let awaited = sqlx::query_scalar!(
            r#"SELECT concat_ws(' or ',
                 CASE WHEN EXISTS (SELECT 1 FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL) THEN 'totp' END,
                 CASE WHEN EXISTS (SELECT 1 FROM user_security_keys WHERE user_id = $1) THEN 'security_key' END) AS "v!""#,
            current.id.0
        )
        .fetch_one(&mut *tx)
        .await?;
        let event = NewEvent::new(EventType::AuthPasswordAccepted).object("user", current.id).changes(json!({
            "second_factor": awaited, "challenge": challenge.id, "password_rehashed": new_hash.is_some()
        }));
        audit::record(&mut tx, now, &ctx, event).await?;
        tx.commit().await?;
        return Ok(SignInStep::Code(challenge));
    }
    sqlx::query!(
        "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL, \
         password_hash = COALESCE($2, password_hash) WHERE id = $1",
        current.id.0,
        &new_hash as _
    )
    .execute(&mut *tx)
    .await?;
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
        && take_address_attempt(pool, addr, now).await? > ADDRESS_ATTEMPTS
    {
        return Err(SignInError::Throttled);
    }
    let mut tx = pool.begin().await?;
    let found = sqlx::query!(
        r#"SELECT id, role AS "role: Role", active,
             EXISTS (SELECT 1 FROM user_security_keys k WHERE k.user_id = users.id) AS "has_key!"
           FROM users WHERE email = $1 FOR UPDATE"#,
        &email
    )
    .fetch_optional(&mut *tx)
    .await?;
    // A role that does not sign in with a password signs in only through the provider or
    // with a card: none of the account's own credentials, a passkey included, stands in.
    let local_allowed = match &found {
        Some(f) => crate::accounts::sign_in_policy::of_role(&mut tx, f.role).await?.password_allowed,
        None => true,
    };
    let Some(found) = found.filter(|f| f.active && f.has_key && local_allowed) else {
        let secret = sqlx::query_scalar!("SELECT secret FROM instance_secrets WHERE name = 'passkey_decoys'")
            .fetch_one(&mut *tx)
            .await?;
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

/// The end of every successful sign-in, in the caller's transaction: remembers the
/// address (the account may sign in from it while locked for others), gives the address
/// its attempt back, replaces the client's old session with a new one (a new id at every
/// sign-in) and records `auth.sign_in` with `detail` (how the user proved who they are).
pub(super) async fn finish_sign_in(
    tx: &mut PgConnection,
    user: UserId,
    now: OffsetDateTime,
    meta: &RequestMeta,
    client: SignInClient<'_>,
    how: session::SignInMethod<'_>,
    detail: serde_json::Value,
) -> Result<SignedInSession, sqlx::Error> {
    let SignInClient { kind, previous_secret, .. } = client;
    let addr = meta.client_addr.as_deref();
    if let Some(addr) = addr {
        sqlx::query!(
            "INSERT INTO user_sign_in_addresses (user_id, client_addr, last_success_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, client_addr) DO UPDATE SET last_success_at = $3, failures = 0, first_failure_at = NULL",
            user.0,
            addr,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    refund_address(&mut *tx, addr).await?;
    if let Some(old) = previous_secret {
        session::delete_by_secret(&mut *tx, old).await?;
    }
    let created = session::create(&mut *tx, user, kind, now, addr, meta.user_agent.as_deref(), how).await?;
    let record = get_user(&mut *tx, user).await?.ok_or(sqlx::Error::RowNotFound)?;
    let mut changes = json!({"session": created.id, "kind": if kind == Kind::Api { "api" } else { "browser" }});
    if let (Some(c), serde_json::Value::Object(d)) = (changes.as_object_mut(), detail) {
        c.extend(d);
    }
    let event = NewEvent::new(EventType::AuthSignIn).object("user", user).changes(changes);
    audit::record(&mut *tx, now, &meta.audit(Some((user, record.role))), event).await?;
    Ok(SignedInSession { session: created, user: record })
}

/// Where an account's lock came from and the addresses it may still sign in from, for the
/// admins' page.
#[derive(Debug, Clone, Default)]
pub struct LockDetails {
    /// The address of the failure that locked it (while locked).
    pub locked_from: Option<String>,
    /// Addresses it signed in from within [`KNOWN_ADDRESS`], newest first, with the time.
    pub known: Vec<(String, OffsetDateTime)>,
}

/// [`LockDetails`] of `id`.
pub async fn lock_details(
    conn: &mut PgConnection,
    id: UserId,
    now: OffsetDateTime,
) -> Result<LockDetails, sqlx::Error> {
    let locked_from = sqlx::query_scalar!("SELECT locked_from FROM users WHERE id = $1", id.0)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    let known = sqlx::query!(
        "SELECT client_addr, last_success_at FROM user_sign_in_addresses WHERE user_id = $1 AND last_success_at > $2 \
         ORDER BY last_success_at DESC LIMIT 20",
        id.0,
        now - KNOWN_ADDRESS
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.client_addr, r.last_success_at))
    .collect();
    Ok(LockDetails { locked_from, known })
}

/// Ends the user's current session.
pub async fn sign_out(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    session::delete(&mut tx, user.session_id).await?;
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

/// Counts a failure of account `id` in the caller's transaction ([`MAX_FAILURES`] within
/// [`FAILURE_WINDOW`] lock it for [`LOCKOUT`] and end its sessions), recording it as a
/// `what` event with `reason`. Returns whether this failure locked the account.
pub(super) async fn count_failure_in(
    tx: &mut PgConnection,
    id: UserId,
    ctx: &AuditContext,
    now: OffsetDateTime,
    what: EventType,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query!("SELECT failed_logins, first_failed_login_at FROM users WHERE id = $1 FOR UPDATE", id.0)
        .fetch_one(&mut *tx)
        .await?;
    let (count, first) = (row.failed_logins, row.first_failed_login_at);
    let fresh = first.is_none_or(|t| now - t > FAILURE_WINDOW);
    let (count, first) = if fresh { (1, now) } else { (count + 1, first.unwrap_or(now)) };
    let lock = count >= MAX_FAILURES;
    sqlx::query!(
        "UPDATE users SET failed_logins = $2, first_failed_login_at = $3, \
         locked_from = CASE WHEN $4 AND (locked_until IS NULL OR locked_until <= $6) THEN $7 ELSE locked_from END, \
         locked_until = CASE WHEN $4 AND (locked_until IS NULL OR locked_until <= $6) THEN $5 ELSE locked_until END WHERE id = $1",
        id.0,
        count,
        first,
        lock,
        now + LOCKOUT,
        now,
        ctx.client_addr.as_deref(),
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        now,
        ctx,
        NewEvent::new(what).object("user", id).outcome(Outcome::Failure).changes(json!({"reason": reason})),
    )
    .await?;
    if lock {
        session::delete_for_user(&mut *tx, id, None).await?;
        audit::record(
            &mut *tx,
            now,
            ctx,
            NewEvent::new(EventType::AuthLockout).object("user", id).changes(json!({"failures": count})),
        )
        .await?;
    }
    Ok(lock)
}

async fn current_hash(conn: &mut PgConnection, id: UserId) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", id.0).fetch_one(conn).await
}

/// Step-up: re-entering the password marks the session re-authenticated for 5 minutes.
pub async fn reauthenticate(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    password_given: &str,
) -> Result<(), DomainError> {
    if !crate::accounts::sign_in_policy::of_role(&mut *conn, user.role).await?.password_allowed {
        return Err(DomainError::invalid(
            "password",
            "cannot confirm it is you: your role does not sign in with a password; confirm with single sign-on",
        ));
    }
    let stored = current_hash(&mut *conn, user.id).await?;
    if !password::verify_async(password_given.to_string(), stored).await {
        count_failure(conn, user, now, EventType::AuthReauthenticate).await?;
        return Err(DomainError::invalid("password", "the password is not correct"));
    }
    let mut tx = conn.begin().await?;
    sqlx::query!("UPDATE sessions SET reauth_at = $2 WHERE id = $1", user.session_id.0, now).execute(&mut *tx).await?;
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
    let stored = current_hash(&mut *conn, user.id).await?;
    if !password::verify_async(current.to_string(), stored).await {
        count_failure(conn, user, now, EventType::UserPasswordChanged).await?;
        errors.insert(0, FieldError::new("current_password", "the current password is not correct"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let hash = password::hash_async(new.to_string()).await;
    let mut tx = conn.begin().await?;
    let must_change_before: bool =
        sqlx::query_scalar!("SELECT must_change_password FROM users WHERE id = $1 FOR UPDATE", user.id.0)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $2, must_change_password = false, updated_at = $3, version = version + 1 WHERE id = $1",
        user.id.0,
        &hash,
        now,
    )
    .execute(&mut *tx)
    .await?;
    let ended = session::delete_for_user(&mut tx, user.id, None).await?;
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

/// Sets where pages show the user times: `Some` zone of their own, or `None` for the
/// office's. Recorded with the zone before and after; setting the zone already set
/// records nothing.
pub async fn set_own_time_zone(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    zone: Option<&crate::zone::Zone>,
) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    let before: Option<String> = sqlx::query_scalar!("SELECT time_zone FROM users WHERE id = $1 FOR UPDATE", user.id.0)
        .fetch_one(&mut *tx)
        .await?;
    let after = zone.map(|z| z.name().to_string());
    if before == after {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE users SET time_zone = $2, updated_at = $3, version = version + 1 WHERE id = $1",
        user.id.0,
        after.as_deref(),
        now,
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::UserTimeZoneSet)
        .object("user", user.id)
        .changes(json!({"time_zone": {"before": before, "after": after}}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends one of the user's own sessions.
pub async fn end_own_session(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    session_id: SessionId,
) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    let n = sqlx::query!("DELETE FROM sessions WHERE id = $1 AND user_id = $2", session_id.0, user.id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(&mut tx, now, &user.audit(), NewEvent::new(EventType::SessionEnded).object("session", session_id))
        .await?;
    tx.commit().await?;
    Ok(())
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
    Requested(crate::accounts::approvals::Approval),
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

/// Applies an administrator's change. `expected_version`, when given, must match (409
/// otherwise). Admins cannot change their own role or deactivate themselves. A change that
/// [`needs_approval`] is not made: it is recorded as a request for a second administrator
/// (refused outright when there is no other active administrator).
pub async fn admin_change(
    conn: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    target: UserId,
    change: AdminChange,
    expected_version: Option<i32>,
) -> Result<AdminOutcome, DomainError> {
    admin.authorize(conn, now, Action::ManageUsers).await?;
    if target == admin.id && matches!(change, AdminChange::Role(_) | AdminChange::Active(false)) {
        return Err(DomainError::Conflict(
            "you cannot change your own role or deactivate your own account; ask another administrator".into(),
        ));
    }
    let change = match change {
        AdminChange::LinkCard(subject) => AdminChange::LinkCard(
            crate::accounts::identities::card_subject(&subject).map_err(|m| DomainError::invalid("subject", m))?,
        ),
        other => other,
    };
    let mut tx = conn.begin().await?;
    let before = locked_user(&mut tx, target).await?;
    if let Some(v) = expected_version
        && v != before.version
    {
        return Err(stale(before.version, v));
    }
    if let AdminChange::LinkCard(subject) = &change {
        crate::accounts::identities::card_unlinked(&mut tx, subject).await?;
    }
    let already_active = matches!(change, AdminChange::Active(true)) && before.active;
    if needs_approval(before.role, &change) && !already_active {
        let request = crate::accounts::approvals::request(&mut tx, admin, now, &before, &change).await;
        return match request {
            Ok(a) => {
                tx.commit().await?;
                Ok(AdminOutcome::Requested(a))
            }
            Err(crate::accounts::approvals::Refused::Alone(message)) => {
                tx.commit().await?;
                Err(DomainError::Conflict(message))
            }
            Err(crate::accounts::approvals::Refused::Other(e)) => Err(e),
        };
    }
    // The temporary password is hashed only for a change made now (a request keeps none).
    let new_hash = match &change {
        AdminChange::ResetPassword(p) => {
            password::check_new(p).map_err(|e| DomainError::invalid("password", format!("password {e}")))?;
            Some(password::hash_async(p.clone()).await)
        }
        _ => None,
    };
    let after = apply(&mut tx, admin, now, &before, &change, new_hash, None).await?;
    tx.commit().await?;
    Ok(AdminOutcome::Done(after))
}

/// The account row, locked for the change.
pub(crate) async fn locked_user(tx: &mut PgConnection, target: UserId) -> Result<UserRecord, DomainError> {
    sqlx::query_as!(UserRecord, r#"SELECT id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version FROM users WHERE id = $1 FOR UPDATE"#, target.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)
}

fn stale(now: i32, given: i32) -> DomainError {
    DomainError::Conflict(format!(
        "the account changed since you loaded it (version {now} now, {given} in your request); reload and try again"
    ))
}

/// Starts an account's credentials afresh, in the caller's transaction: the temporary
/// password `hash` (to be changed at the next sign-in), no lock, and no one-time codes,
/// recovery codes, security keys, or linked identities and cards. What was removed, for
/// the event.
async fn fresh_credentials(
    tx: &mut PgConnection,
    target: UserId,
    hash: &str,
) -> Result<serde_json::Value, DomainError> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, must_change_password = true, failed_logins = 0, \
         first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL WHERE id = $1",
        target.0,
        hash,
    )
    .execute(&mut *tx)
    .await?;
    let keys = super::security_keys::list(&mut *tx, target).await?.len();
    let second_factors = super::second_factor::clear(&mut *tx, target).await?;
    let identities = sqlx::query!("DELETE FROM user_identities WHERE user_id = $1", target.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(json!({"password": "temporary, from the approver", "second_factors_removed": second_factors,
              "security_keys_removed": keys, "identities_removed": identities}))
}

/// Makes `change` to the locked account `before` and records it, with the approval it
/// rests on when a second administrator approved it.
pub(crate) async fn apply(
    tx: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    before: &UserRecord,
    change: &AdminChange,
    new_hash: Option<String>,
    approval: Option<serde_json::Value>,
) -> Result<UserRecord, DomainError> {
    let target = before.id;
    let (event_type, changes, end_sessions) = match change {
        AdminChange::Role(role) => {
            sqlx::query!("UPDATE users SET role = $2 WHERE id = $1", target.0, role as _).execute(&mut *tx).await?;
            let mut changes = json!({"role": {"before": before.role, "after": role}});
            // Raised to a guarded role by an approval: the account starts afresh, its
            // temporary password the approver's, so that whoever held it before (its creator,
            // or whoever reset it while it was an analyst's) does not hold a supervisor's.
            if approval.is_some() && GUARDED_ROLES.contains(role) {
                let Some(hash) = &new_hash else {
                    return Err(DomainError::invalid("password", "raising an account needs the temporary password"));
                };
                changes["credentials"] = fresh_credentials(&mut *tx, target, hash).await?;
            }
            (EventType::UserRoleChanged, changes, true)
        }
        AdminChange::Active(active) => {
            sqlx::query!("UPDATE users SET active = $2 WHERE id = $1", target.0, active).execute(&mut *tx).await?;
            (
                if *active { EventType::UserReactivated } else { EventType::UserDeactivated },
                json!({"active": {"before": before.active, "after": active}}),
                !active,
            )
        }
        AdminChange::Activate(_) => {
            let Some(hash) = &new_hash else {
                return Err(DomainError::invalid("password", "an activation needs the temporary password"));
            };
            sqlx::query!("UPDATE users SET active = true WHERE id = $1", target.0).execute(&mut *tx).await?;
            let credentials = fresh_credentials(&mut *tx, target, hash).await?;
            (
                EventType::UserActivated,
                json!({"active": {"before": before.active, "after": true}, "credentials": credentials}),
                true,
            )
        }
        AdminChange::ResetPassword(_) => {
            sqlx::query!(
                "UPDATE users SET password_hash = $2, must_change_password = true, failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL WHERE id = $1",
                target.0,
                &new_hash as _,
            )
            .execute(&mut *tx)
            .await?;
            (
                EventType::UserPasswordReset,
                json!({"must_change_password": {"before": before.must_change_password, "after": true}}),
                true,
            )
        }
        AdminChange::Unlock => {
            sqlx::query!(
                "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL WHERE id = $1",
                target.0
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE user_sign_in_addresses SET failures = 0, first_failure_at = NULL WHERE user_id = $1",
                target.0
            )
            .execute(&mut *tx)
            .await?;
            (EventType::UserUnlocked, json!({"locked_until": {"before": before.locked_until, "after": null}}), false)
        }
        AdminChange::EndSessions => (EventType::UserSessionsEnded, json!({}), true),
        AdminChange::LinkCard(subject) => {
            crate::accounts::identities::card_unlinked(&mut *tx, subject).await?;
            sqlx::query!(
                "INSERT INTO user_identities (issuer, subject, user_id, linked_at) VALUES ($1, $2, $3, $4)",
                crate::accounts::identities::PIV_ISSUER,
                subject,
                target.0,
                now
            )
            .execute(&mut *tx)
            .await?;
            (
                EventType::UserIdentityLinked,
                json!({"issuer": crate::accounts::identities::PIV_ISSUER, "subject": subject, "by": "admin"}),
                false,
            )
        }
        AdminChange::ResetSecondFactors => {
            let before = super::second_factor::methods(&mut *tx, target).await?;
            let keys_before = super::security_keys::list(&mut *tx, target).await?.len();
            if !super::second_factor::clear(&mut *tx, target).await? {
                return Err(DomainError::Conflict("this account has no second factor to reset".into()));
            }
            (
                EventType::UserSecondFactorsReset,
                json!({"totp": {"before": before.totp_since.is_some() || before.totp_pending, "after": false},
                       "recovery_codes": {"before": before.recovery_left, "after": 0},
                       "security_keys": {"before": keys_before, "after": 0}}),
                true,
            )
        }
    };
    sqlx::query!("UPDATE users SET updated_at = $2, version = version + 1 WHERE id = $1", target.0, now)
        .execute(&mut *tx)
        .await?;
    let mut changes = changes;
    if end_sessions {
        let ended = session::delete_for_user(&mut *tx, target, None).await?;
        changes["sessions_ended"] = json!(ended);
    }
    if let Some(a) = approval {
        changes["approval"] = a;
    }
    audit::record(&mut *tx, now, &admin.audit(), NewEvent::new(event_type).object("user", target).changes(changes))
        .await?;
    get_user(&mut *tx, target).await?.ok_or(DomainError::NotFound)
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
}
