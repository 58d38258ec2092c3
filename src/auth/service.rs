//! Account use cases. Each is one transaction that checks permission, changes rows and
//! appends its audit event; pages, the API and the command line all call these.

use crate::ids::{SessionId, UserId};
use serde::Serialize;
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::actor::{Actor, RequestMeta};
use super::password;
use super::policy::{Action, Role};
use super::session::{self, Created, Kind};
use crate::audit::{self, AuditContext, NewEvent, Outcome};
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
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
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
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.matches('@').count() == 1;
    if valid { Ok(()) } else { Err("must be an email address such as name@agency.gov") }
}

/// Creates an account (used by the admin pages, the API and `icts-review user add`).
pub async fn create_user(
    pool: &PgPool,
    now: OffsetDateTime,
    ctx: &AuditContext,
    input: NewUser,
    must_change: bool,
) -> Result<UserRecord, DomainError> {
    let hash = password::hash_async(input.password.clone()).await;
    let mut tx = pool.begin().await?;
    let id = Uuid::now_v7();
    let inserted = sqlx::query_as!(
        UserRecord,
        r#"INSERT INTO users (id, email, name, role, password_hash, must_change_password, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version"#,
        id,
        &input.email,
        &input.name,
        input.role as Role,
        &hash,
        must_change,
        now,
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
    let event = NewEvent::new("user.created").object("user", user.id).changes(json!({
        "email": {"after": user.email}, "name": {"after": user.name}, "role": {"after": user.role},
        "must_change_password": {"after": must_change}
    }));
    audit::record(&mut tx, now, ctx, event).await?;
    tx.commit().await?;
    Ok(user)
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
    /// The database failed.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::Db(e)
    }
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
    failed_logins: i32,
    first_failed_login_at: Option<OffsetDateTime>,
}

/// Counts an attempt from `addr`; true when the address is over its allowance.
/// Whether `addr` has used up its failed attempts for the current window. Only failures
/// count, so an office behind one address is not throttled by its own sign-ins.
async fn address_blocked(pool: &PgPool, addr: &str, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    let failures: Option<i32> = sqlx::query_scalar!(
        "SELECT attempts FROM login_throttle WHERE client_addr = $1 AND window_start > $2",
        addr,
        now - FAILURE_WINDOW,
    )
    .fetch_optional(pool)
    .await?;
    Ok(failures.unwrap_or(0) >= ADDRESS_ATTEMPTS)
}

/// Counts a failed attempt from `addr`.
async fn count_address_failure(
    conn: &mut PgConnection,
    addr: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let Some(addr) = addr else { return Ok(()) };
    sqlx::query!(
        "INSERT INTO login_throttle (client_addr, window_start, attempts) VALUES ($1, $2, 1) \
         ON CONFLICT (client_addr) DO UPDATE SET \
           attempts = CASE WHEN login_throttle.window_start <= $2 - $3::interval THEN 1 ELSE login_throttle.attempts + 1 END, \
           window_start = CASE WHEN login_throttle.window_start <= $2 - $3::interval THEN $2 ELSE login_throttle.window_start END \
",
        addr,
        now,
        format!("{} minutes", FAILURE_WINDOW.whole_minutes()) as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Signs a user in: checks the password (always spending the same time, known account or
/// not), applies the lockout rules, replaces any session the client had (a new id at every
/// sign-in) and audits the outcome.
///
/// It takes the pool rather than one connection: each failure is committed on its own (it
/// must count even though sign-in fails), and no connection is held while the password
/// hash is checked.
pub async fn sign_in(
    pool: &PgPool,
    now: OffsetDateTime,
    meta: &RequestMeta,
    email: &str,
    password_given: &str,
    kind: Kind,
    previous_secret: Option<&str>,
) -> Result<SignedInSession, SignInError> {
    let email = email.trim().to_lowercase();
    if let Some(addr) = &meta.client_addr
        && address_blocked(pool, addr, now).await?
    {
        let event = NewEvent::new("auth.sign_in")
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": "address_throttled"}));
        audit::record_alone(pool, now, &meta.audit(None), event).await?;
        return Err(SignInError::Throttled);
    }
    let found = sqlx::query_as!(
        Credentials,
        r#"SELECT id, role AS "role: Role", password_hash, active, locked_until, failed_logins, first_failed_login_at
           FROM users WHERE email = $1"#,
        &email,
    )
    .fetch_optional(pool)
    .await?;
    let stored_hash = found.as_ref().map(|c| c.password_hash.clone()).unwrap_or_else(|| password::DUMMY_HASH.clone());
    let password_ok = password::verify_async(password_given.to_string(), stored_hash).await;

    let mut tx = pool.begin().await?;
    let Some(found) = found else {
        let event = NewEvent::new("auth.sign_in")
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": "unknown_account"}));
        audit::record(&mut tx, now, &meta.audit(None), event).await?;
        count_address_failure(&mut tx, meta.client_addr.as_deref(), now).await?;
        tx.commit().await?;
        return Err(SignInError::Rejected);
    };
    // Re-read under lock so that concurrent attempts on any instance count correctly.
    let current = sqlx::query_as!(
        Credentials,
        r#"SELECT id, role AS "role: Role", password_hash, active, locked_until, failed_logins, first_failed_login_at
           FROM users WHERE id = $1 FOR UPDATE"#,
        found.id.0,
    )
    .fetch_one(&mut *tx)
    .await?;
    let ctx = meta.audit(Some((current.id, current.role)));
    let locked = current.locked_until.is_some_and(|t| t > now);
    let reason = if !current.active {
        Some("deactivated")
    } else if locked {
        Some("locked")
    } else if !password_ok {
        Some("wrong_password")
    } else {
        None
    };
    if let Some(reason) = reason {
        if reason == "wrong_password" {
            let fresh_window = current.first_failed_login_at.is_none_or(|t| now - t > FAILURE_WINDOW);
            let (count, first) = if fresh_window {
                (1, now)
            } else {
                (current.failed_logins + 1, current.first_failed_login_at.unwrap_or(now))
            };
            let lock_until = (count >= MAX_FAILURES).then_some(now + LOCKOUT);
            sqlx::query!(
                "UPDATE users SET failed_logins = $2, first_failed_login_at = $3, locked_until = COALESCE($4, locked_until) WHERE id = $1",
                current.id.0,
                count,
                first,
                lock_until,
            )
            .execute(&mut *tx)
            .await?;
            if let Some(until) = lock_until {
                let event = NewEvent::new("auth.lockout").object("user", current.id).changes(json!({
                    "locked_until": {"before": current.locked_until, "after": until}, "failures": count
                }));
                audit::record(&mut tx, now, &ctx, event).await?;
            }
        }
        let event = NewEvent::new("auth.sign_in")
            .object("user", current.id)
            .outcome(Outcome::Failure)
            .changes(json!({"email": email, "reason": reason}));
        audit::record(&mut tx, now, &ctx, event).await?;
        count_address_failure(&mut tx, meta.client_addr.as_deref(), now).await?;
        tx.commit().await?;
        return Err(SignInError::Rejected);
    }
    // Success: clear the counters, upgrade a weak hash, replace the client's old session.
    let new_hash = if password::needs_rehash(&current.password_hash) {
        Some(password::hash_async(password_given.to_string()).await)
    } else {
        None
    };
    sqlx::query!(
        "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, \
         password_hash = COALESCE($2, password_hash) WHERE id = $1",
        current.id.0,
        &new_hash as _
    )
    .execute(&mut *tx)
    .await?;
    if let Some(old) = previous_secret {
        session::delete_by_secret(&mut tx, old).await?;
    }
    let created =
        session::create(&mut tx, current.id, kind, now, meta.client_addr.as_deref(), meta.user_agent.as_deref())
            .await?;
    let event = NewEvent::new("auth.sign_in").object("user", current.id).changes(json!({
        "session": created.id, "kind": if kind == Kind::Api { "api" } else { "browser" }, "password_rehashed": new_hash.is_some()
    }));
    audit::record(&mut tx, now, &ctx, event).await?;
    let user = get_user(&mut tx, current.id).await?.expect("the user row is locked");
    tx.commit().await?;
    Ok(SignedInSession { session: created, user })
}

/// Ends the user's current session.
pub async fn sign_out(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    session::delete(&mut tx, user.session_id).await?;
    audit::record(&mut tx, now, &user.audit(), NewEvent::new("auth.sign_out").object("session", user.session_id))
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
    what: &str,
) -> Result<(), DomainError> {
    let mut tx = conn.begin().await?;
    let row =
        sqlx::query!("SELECT failed_logins, first_failed_login_at FROM users WHERE id = $1 FOR UPDATE", user.id.0)
            .fetch_one(&mut *tx)
            .await?;
    let (count, first) = (row.failed_logins, row.first_failed_login_at);
    let fresh = first.is_none_or(|t| now - t > FAILURE_WINDOW);
    let (count, first) = if fresh { (1, now) } else { (count + 1, first.unwrap_or(now)) };
    let lock = count >= MAX_FAILURES;
    sqlx::query!(
        "UPDATE users SET failed_logins = $2, first_failed_login_at = $3, locked_until = CASE WHEN $4 THEN $5 ELSE locked_until END WHERE id = $1",
        user.id.0,
        count,
        first,
        lock,
        now + LOCKOUT,
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(what)
            .object("user", user.id)
            .outcome(Outcome::Failure)
            .changes(json!({"reason": "wrong_password"})),
    )
    .await?;
    if lock {
        session::delete_for_user(&mut tx, user.id, None).await?;
        audit::record(
            &mut tx,
            now,
            &user.audit(),
            NewEvent::new("auth.lockout").object("user", user.id).changes(json!({"failures": count})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
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
    let stored = current_hash(&mut *conn, user.id).await?;
    if !password::verify_async(password_given.to_string(), stored).await {
        count_failure(conn, user, now, "auth.reauthenticate").await?;
        return Err(DomainError::invalid("password", "the password is not correct"));
    }
    let mut tx = conn.begin().await?;
    sqlx::query!("UPDATE sessions SET reauth_at = $2 WHERE id = $1", user.session_id.0, now).execute(&mut *tx).await?;
    audit::record(&mut tx, now, &user.audit(), NewEvent::new("auth.reauthenticate").object("session", user.session_id))
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
        count_failure(conn, user, now, "user.password_changed").await?;
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
    )
    .await?;
    let event = NewEvent::new("user.password_changed").object("user", user.id).changes(json!({
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
    let n = sqlx::query!("DELETE FROM sessions WHERE id = $1 AND user_id = $2", session_id.0, user.id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound);
    }
    audit::record(&mut tx, now, &user.audit(), NewEvent::new("session.ended").object("session", session_id)).await?;
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
}

/// Applies an administrator's change. `expected_version`, when given, must match (409
/// otherwise). Admins cannot change their own role or deactivate themselves.
pub async fn admin_change(
    conn: &mut PgConnection,
    admin: &Actor,
    now: OffsetDateTime,
    target: UserId,
    change: AdminChange,
    expected_version: Option<i32>,
) -> Result<UserRecord, DomainError> {
    admin.authorize(conn, now, Action::ManageUsers).await?;
    if target == admin.id && matches!(change, AdminChange::Role(_) | AdminChange::Active(false)) {
        return Err(DomainError::Conflict(
            "you cannot change your own role or deactivate your own account; ask another administrator".into(),
        ));
    }
    let new_hash = match &change {
        AdminChange::ResetPassword(p) => {
            password::check_new(p).map_err(|e| DomainError::invalid("password", format!("password {e}")))?;
            Some(password::hash_async(p.clone()).await)
        }
        _ => None,
    };
    let mut tx = conn.begin().await?;
    let before = sqlx::query_as!(UserRecord, r#"SELECT id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version FROM users WHERE id = $1 FOR UPDATE"#, target.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    if let Some(v) = expected_version
        && v != before.version
    {
        return Err(DomainError::Conflict(format!(
            "the account changed since you loaded it (version {} now, {v} in your request); reload and try again",
            before.version
        )));
    }
    let (event_type, changes, end_sessions) = match &change {
        AdminChange::Role(role) => {
            sqlx::query!("UPDATE users SET role = $2 WHERE id = $1", target.0, role as _).execute(&mut *tx).await?;
            ("user.role_changed", json!({"role": {"before": before.role, "after": role}}), true)
        }
        AdminChange::Active(active) => {
            sqlx::query!("UPDATE users SET active = $2 WHERE id = $1", target.0, active).execute(&mut *tx).await?;
            (
                if *active { "user.reactivated" } else { "user.deactivated" },
                json!({"active": {"before": before.active, "after": active}}),
                !active,
            )
        }
        AdminChange::ResetPassword(_) => {
            sqlx::query!(
                "UPDATE users SET password_hash = $2, must_change_password = true, failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL WHERE id = $1",
                target.0,
                &new_hash as _,
            )
            .execute(&mut *tx)
            .await?;
            (
                "user.password_reset",
                json!({"must_change_password": {"before": before.must_change_password, "after": true}}),
                true,
            )
        }
        AdminChange::Unlock => {
            sqlx::query!(
                "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL WHERE id = $1",
                target.0
            )
            .execute(&mut *tx)
            .await?;
            ("user.unlocked", json!({"locked_until": {"before": before.locked_until, "after": null}}), false)
        }
        AdminChange::EndSessions => ("user.sessions_ended", json!({}), true),
    };
    sqlx::query!("UPDATE users SET updated_at = $2, version = version + 1 WHERE id = $1", target.0, now)
        .execute(&mut *tx)
        .await?;
    let mut changes = changes;
    if end_sessions {
        let ended = session::delete_for_user(&mut tx, target, None).await?;
        changes["sessions_ended"] = json!(ended);
    }
    audit::record(&mut tx, now, &admin.audit(), NewEvent::new(event_type).object("user", target).changes(changes))
        .await?;
    let after = get_user(&mut tx, target).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(after)
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
