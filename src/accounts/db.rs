//! Account SQL, checked against the schema at compile time: the accounts themselves
//! (`users`), the account reads other domains need, administrators' requests for a second
//! administrator's approval ([`super::approvals`]), the roles' sign-in policies
//! ([`super::sign_in_policy`]), and what an administrator's change removes of the
//! credentials an account holds: its sessions, second factors and linked identities; and
//! the identities linked to accounts ([`super::identities`]: found, linked, used, removed).
//! Sign-in uses the same statements for the same ends (a lockout or a new password ends
//! the account's sessions).

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::identities::{LinkedIdentity, PIV_ISSUER};
use super::model::{
    Approval, ApprovalKind, KNOWN_ADDRESS, KeyRow, LockDetails, Methods, NewUser, RolePolicy, UserRecord,
};
use crate::access::policy::Role;
use crate::ids::{SessionId, UserId};

/// The names of these accounts, for showing who did what.
pub async fn names(conn: &mut PgConnection, ids: &[UserId]) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT id AS "id: UserId", name FROM users WHERE id = ANY($1)"#, ids as _)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

/// The active account whose e-mail is `email` (any case, spaces trimmed): its id and role.
pub async fn active_by_email(pool: &PgPool, email: &str) -> Result<Option<(UserId, Role)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT id AS "id: crate::ids::UserId", role AS "role: crate::access::Role" FROM users WHERE email = $1 AND active"#,
        email.trim().to_lowercase()
    )
    .fetch_optional(pool)
    .await?
    .map(|r| (r.id, r.role)))
}

/// The active accounts a case can be assigned to (analysts and supervisors), by name.
pub async fn assignable(conn: &mut PgConnection) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT id AS "id: UserId", name FROM users WHERE active AND role IN ('analyst', 'supervisor') ORDER BY name"#
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect())
}

/// How many active administrators there are other than the accounts `besides`.
pub async fn other_active_admins(conn: &mut PgConnection, besides: &[UserId]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users WHERE role = 'admin' AND active AND id <> ALL($1)"#,
        besides as _
    )
    .fetch_one(conn)
    .await
}

/// The requests of an administrator, with the outcome when decided: [`Approval`]'s columns,
/// from the request and the two accounts it names, then the statement's rest (`$rest`, a
/// string literal) and its parameters. One column list, every statement checked.
macro_rules! select_approvals {
    ($rest:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            r#"SELECT a.id, a.target_id AS "target_id: UserId", t.email AS "target_email?", a.kind AS "kind: ApprovalKind",
                 a.role AS "role: Role", a.subject, a.policy AS "policy: Json<RolePolicy>",
                 a.requested_by AS "requested_by: UserId", r.name AS requested_by_name, a.requested_at,
                 a.expires_at, a.outcome
               FROM admin_approvals a LEFT JOIN users t ON t.id = a.target_id
               JOIN users r ON r.id = a.requested_by "# + $rest
            $(, $arg)*
        )
        .map(|r| {
            let approval = Approval {
                id: r.id,
                target_id: r.target_id,
                target_email: r.target_email,
                kind: r.kind,
                role: r.role,
                subject: r.subject,
                policy: r.policy,
                requested_by: r.requested_by,
                requested_by_name: r.requested_by_name,
                requested_at: r.requested_at,
                expires_at: r.expires_at,
            };
            (approval, r.outcome)
        })
    };
}

/// The request `id`.
pub async fn approval(conn: &mut PgConnection, id: Uuid) -> Result<Option<Approval>, sqlx::Error> {
    Ok(select_approvals!("WHERE a.id = $1", id).fetch_optional(conn).await?.map(|(a, _)| a))
}

/// The request `id` and its outcome (none while open), its row locked for a decision.
pub async fn locked_approval(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(Approval, Option<String>)>, sqlx::Error> {
    select_approvals!("WHERE a.id = $1 FOR UPDATE OF a", id).fetch_optional(conn).await
}

/// The open requests (of one account, or all) not lapsed at `now`, oldest first.
pub async fn open_approvals(
    conn: &mut PgConnection,
    target: Option<UserId>,
    now: OffsetDateTime,
) -> Result<Vec<Approval>, sqlx::Error> {
    Ok(select_approvals!(
        "WHERE a.outcome IS NULL AND a.expires_at > $2 AND ($1::uuid IS NULL OR a.target_id = $1) ORDER BY a.requested_at",
        target as _,
        now
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|(a, _)| a)
    .collect())
}

/// How many requests are open and not lapsed at `now`.
pub async fn count_open_approvals(conn: &mut PgConnection, now: OffsetDateTime) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM admin_approvals WHERE outcome IS NULL AND expires_at > $1"#,
        now
    )
    .fetch_one(conn)
    .await
}

/// The name of the administrator whose request of `kind` on account `target` is open.
pub async fn open_request_by(
    conn: &mut PgConnection,
    target: UserId,
    kind: ApprovalKind,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT r.name FROM admin_approvals a JOIN users r ON r.id = a.requested_by \
         WHERE a.target_id = $1 AND a.kind = $2 AND a.outcome IS NULL",
        target.0,
        kind.as_str()
    )
    .fetch_optional(conn)
    .await
}

/// The name of the administrator whose request to change the sign-in policy of `role` is
/// open.
pub async fn open_policy_request_by(conn: &mut PgConnection, role: Role) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT r.name FROM admin_approvals a JOIN users r ON r.id = a.requested_by \
         WHERE a.kind = 'sign_in_policy' AND a.policy ->> 'role' = $1 AND a.outcome IS NULL",
        role.to_string()
    )
    .fetch_optional(conn)
    .await
}

/// A request about an account, to insert.
pub struct NewAccountRequest<'a> {
    pub id: Uuid,
    pub target: UserId,
    pub kind: ApprovalKind,
    pub role: Option<Role>,
    pub subject: Option<&'a str>,
    pub requested_by: UserId,
    pub requested_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Inserts a request about an account.
pub async fn insert_account_request(conn: &mut PgConnection, r: &NewAccountRequest<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO admin_approvals (id, target_id, kind, role, requested_by, requested_at, expires_at, subject) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        r.id,
        r.target.0,
        r.kind.as_str(),
        r.role as _,
        r.requested_by.0,
        r.requested_at,
        r.expires_at,
        r.subject,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a request to change a role's sign-in policy to `policy`.
pub async fn insert_policy_request(
    conn: &mut PgConnection,
    id: Uuid,
    requested_by: UserId,
    requested_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    policy: &RolePolicy,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO admin_approvals (id, kind, requested_by, requested_at, expires_at, policy) \
         VALUES ($1, 'sign_in_policy', $2, $3, $4, $5)",
        id,
        requested_by.0,
        requested_at,
        expires_at,
        Json(policy) as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An open request found lapsed and marked expired.
pub struct Lapsed {
    pub id: Uuid,
    /// The account it is about (none for a sign-in policy).
    pub target_id: Option<Uuid>,
    pub kind: String,
    /// The role of a sign-in policy request.
    pub role: Option<String>,
}

/// Marks the open requests (of account `target`, or all) lapsed at `now` expired.
pub async fn expire_approvals(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    target: Option<UserId>,
) -> Result<Vec<Lapsed>, sqlx::Error> {
    sqlx::query_as!(
        Lapsed,
        r#"UPDATE admin_approvals SET outcome = 'expired', decided_at = $1
           WHERE outcome IS NULL AND expires_at <= $1 AND ($2::uuid IS NULL OR target_id = $2)
           RETURNING id, target_id, kind, policy ->> 'role' AS "role?""#,
        now,
        target as _,
    )
    .fetch_all(conn)
    .await
}

/// Records the decision `outcome` (`approved`, `refused` or `withdrawn`) of request `id`.
pub async fn decide_approval(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: &str,
    decided_by: UserId,
    decided_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE admin_approvals SET outcome = $2, decided_by = $3, decided_at = $4 WHERE id = $1",
        id,
        outcome,
        decided_by.0,
        decided_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored sign-in policy of `role`, if it has a row.
pub async fn sign_in_policy(conn: &mut PgConnection, role: Role) -> Result<Option<RolePolicy>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT password_allowed, sso_assurance, require_security_key, version FROM role_sign_in_policies WHERE role = $1",
        role as Role
    )
    .fetch_optional(conn)
    .await?
    .map(|r| RolePolicy {
        role,
        password_allowed: r.password_allowed,
        sso_assurance: r.sso_assurance,
        require_security_key: r.require_security_key,
        version: r.version,
    }))
}

/// The sign-in policy of `role`, its row locked for a change (every role has its row, from
/// migration 0035).
pub async fn locked_sign_in_policy(conn: &mut PgConnection, role: Role) -> Result<RolePolicy, sqlx::Error> {
    let r = sqlx::query!(
        "SELECT password_allowed, sso_assurance, require_security_key, version FROM role_sign_in_policies \
         WHERE role = $1 FOR UPDATE",
        role as Role
    )
    .fetch_one(conn)
    .await?;
    Ok(RolePolicy {
        role,
        password_allowed: r.password_allowed,
        sso_assurance: r.sso_assurance,
        require_security_key: r.require_security_key,
        version: r.version,
    })
}

/// Stores `after` as the sign-in policy of its role, by `by` at `at`, if the row is still
/// at `after.version`; the new version, or none when someone changed it meanwhile.
pub async fn update_sign_in_policy(
    conn: &mut PgConnection,
    after: &RolePolicy,
    by: UserId,
    at: OffsetDateTime,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE role_sign_in_policies SET password_allowed = $2, sso_assurance = $3, updated_at = $4, updated_by = $5, \
         require_security_key = $7, version = version + 1 WHERE role = $1 AND version = $6 RETURNING version",
        after.role as Role,
        after.password_allowed,
        &after.sso_assurance,
        at,
        by.0,
        after.version,
        after.require_security_key
    )
    .fetch_optional(conn)
    .await
}

/// Inserts the account `input` with the password `hash`; a taken e-mail address is the
/// database's unique violation, for the caller to name.
pub async fn insert_user(
    conn: &mut PgConnection,
    id: Uuid,
    input: &NewUser,
    hash: &str,
    must_change: bool,
    now: OffsetDateTime,
    active: bool,
) -> Result<UserRecord, sqlx::Error> {
    sqlx::query_as!(
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
    .fetch_one(conn)
    .await
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

/// The account `target`, its row locked for a change.
pub async fn locked_user(conn: &mut PgConnection, target: UserId) -> Result<Option<UserRecord>, sqlx::Error> {
    sqlx::query_as!(UserRecord, r#"SELECT id, email, name, role AS "role: Role", active, must_change_password, locked_until, created_at, version FROM users WHERE id = $1 FOR UPDATE"#, target.0)
        .fetch_optional(conn)
        .await
}

/// The time zone `id` chose (none: the office's), its row locked for a change.
pub async fn locked_time_zone(conn: &mut PgConnection, id: UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT time_zone FROM users WHERE id = $1 FOR UPDATE", id.0).fetch_one(conn).await
}

/// Sets the time zone of `id` (none: the office's) and moves its version.
pub async fn set_time_zone(
    conn: &mut PgConnection,
    id: UserId,
    zone: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET time_zone = $2, updated_at = $3, version = version + 1 WHERE id = $1",
        id.0,
        zone,
        now,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives `id` the role `role`.
pub async fn set_role(conn: &mut PgConnection, id: UserId, role: Role) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET role = $2 WHERE id = $1", id.0, role as _).execute(conn).await?;
    Ok(())
}

/// Activates or deactivates `id`.
pub async fn set_active(conn: &mut PgConnection, id: UserId, active: bool) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET active = $2 WHERE id = $1", id.0, active).execute(conn).await?;
    Ok(())
}

/// Activates `id`.
pub async fn activate(conn: &mut PgConnection, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET active = true WHERE id = $1", id.0).execute(conn).await?;
    Ok(())
}

/// Gives `id` the temporary password `hash`, to be changed at the next sign-in, and lifts
/// any lock.
pub async fn set_temporary_password(
    conn: &mut PgConnection,
    id: UserId,
    hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, must_change_password = true, failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL WHERE id = $1",
        id.0,
        hash as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Lifts the lock of `id` and ends its count of failures (an administrator's unlock, or a
/// sign-in whose second factor was right too).
pub async fn clear_lock(conn: &mut PgConnection, id: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET failed_logins = 0, first_failed_login_at = NULL, locked_until = NULL, locked_from = NULL WHERE id = $1",
        id.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Lifts the lock of `id`, and clears the failures counted at the addresses it signs in
/// from.
pub async fn unlock(conn: &mut PgConnection, id: UserId) -> Result<(), sqlx::Error> {
    clear_lock(&mut *conn, id).await?;
    sqlx::query!("UPDATE user_sign_in_addresses SET failures = 0, first_failure_at = NULL WHERE user_id = $1", id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks `id` changed at `now`: its version moves.
pub async fn touch(conn: &mut PgConnection, id: UserId, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE users SET updated_at = $2, version = version + 1 WHERE id = $1", id.0, now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user, except `keep` if given. Returns how many ended.
pub async fn end_sessions(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: Option<SessionId>,
) -> Result<u64, sqlx::Error> {
    // A sign-in waiting for its one-time code ends with the sessions: a password changed or
    // reset, a lockout or an administrator's "end all sessions" must not be finished by a
    // code afterwards.
    delete_challenges(&mut *conn, user_id).await?;
    Ok(sqlx::query!("DELETE FROM sessions WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2)", user_id.0, keep as _)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Ends every sign-in of `user` waiting for its second factor (or a passkey's answer).
pub async fn delete_challenges(conn: &mut PgConnection, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sign_in_challenges WHERE user_id = $1", user.0).execute(conn).await?;
    Ok(())
}

/// [`Methods`] of `user`.
pub async fn second_factors(conn: &mut PgConnection, user: UserId) -> Result<Methods, sqlx::Error> {
    let t = sqlx::query!("SELECT confirmed_at, last_used_at FROM user_totp WHERE user_id = $1", user.0)
        .fetch_optional(&mut *conn)
        .await?;
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE used_at IS NULL) AS "left!", max(used_at) AS last_used
           FROM user_recovery_codes WHERE user_id = $1"#,
        user.0
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Methods {
        totp_since: t.as_ref().and_then(|t| t.confirmed_at),
        totp_last_used: t.as_ref().and_then(|t| t.last_used_at),
        totp_pending: t.as_ref().is_some_and(|t| t.confirmed_at.is_none()),
        recovery_left: r.left,
        recovery_last_used: r.last_used,
    })
}

/// What [`clear_second_factors`] deleted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cleared {
    /// Authenticators (confirmed or being set up).
    pub totp: u64,
    /// Recovery codes, used or not.
    pub recovery_codes: u64,
    /// Security keys.
    pub security_keys: u64,
}

impl Cleared {
    /// Whether there was anything to delete.
    pub fn any(&self) -> bool {
        self.totp + self.recovery_codes + self.security_keys > 0
    }
}

/// Deletes every second factor of `user` (one-time codes, recovery codes, security keys)
/// and their open challenges, in the caller's transaction.
pub async fn clear_second_factors(tx: &mut PgConnection, user: UserId) -> Result<Cleared, sqlx::Error> {
    let totp =
        sqlx::query!("DELETE FROM user_totp WHERE user_id = $1", user.0).execute(&mut *tx).await?.rows_affected();
    let codes = sqlx::query!("DELETE FROM user_recovery_codes WHERE user_id = $1", user.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let keys = sqlx::query!("DELETE FROM user_security_keys WHERE user_id = $1", user.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    delete_challenges(&mut *tx, user).await?;
    Ok(Cleared { totp, recovery_codes: codes, security_keys: keys })
}

/// The identities linked to `user`, newest first.
pub async fn identities(conn: &mut PgConnection, user: UserId) -> Result<Vec<LinkedIdentity>, sqlx::Error> {
    sqlx::query_as!(
        LinkedIdentity,
        "SELECT issuer, subject, email, linked_at, last_used_at FROM user_identities WHERE user_id = $1 ORDER BY linked_at DESC",
        user.0
    )
    .fetch_all(conn)
    .await
}

/// The account (`issuer`, `subject`) is linked to, its link locked for the caller's
/// transaction.
pub async fn locked_identity_owner(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2 FOR UPDATE",
        issuer,
        subject
    )
    .fetch_optional(conn)
    .await
}

/// The account of the e-mail `email` (compared in lower case) that has no identity of
/// `issuer` linked yet, its row locked for the caller's transaction.
pub async fn locked_unlinked_account(
    conn: &mut PgConnection,
    email: &str,
    issuer: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.id FROM users u WHERE u.email = lower($1) \
         AND NOT EXISTS (SELECT 1 FROM user_identities i WHERE i.user_id = u.id AND i.issuer = $2) \
         FOR UPDATE",
        email,
        issuer
    )
    .fetch_optional(conn)
    .await
}

/// Links (`issuer`, `subject`), matched by `email`, to `user` at a sign-in at `now`
/// (used at the same time).
pub async fn link_identity(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
    user: UserId,
    email: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_identities (issuer, subject, user_id, email, linked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $5)",
        issuer,
        subject,
        user.0,
        email,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes a sign-in with the linked identity (`issuer`, `subject`) at `now`.
pub async fn note_identity_use(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE user_identities SET last_used_at = $3 WHERE issuer = $1 AND subject = $2",
        issuer,
        subject,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether (`issuer`, `subject`) is linked to an account.
pub async fn identity_linked(conn: &mut PgConnection, issuer: &str, subject: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM user_identities WHERE issuer = $1 AND subject = $2) AS "v!""#,
        issuer,
        subject
    )
    .fetch_one(conn)
    .await
}

/// Links the card `subject` to `user` at `now` (an administrator's change, checked by
/// [`card_unlinked`](super::identities::card_unlinked) first).
pub async fn link_card(
    conn: &mut PgConnection,
    subject: &str,
    user: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_identities (issuer, subject, user_id, linked_at) VALUES ($1, $2, $3, $4)",
        PIV_ISSUER,
        subject,
        user.0,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the identity (`issuer`, `subject`) from `user`; how many were removed (0 or 1).
pub async fn delete_identity(
    conn: &mut PgConnection,
    user: UserId,
    issuer: &str,
    subject: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM user_identities WHERE user_id = $1 AND issuer = $2 AND subject = $3",
        user.0,
        issuer,
        subject
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Ends the sessions of `user` signed in to by `method` (`piv`, `sso`); how many ended.
pub async fn end_sessions_signed_in_by(
    conn: &mut PgConnection,
    user: UserId,
    method: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE user_id = $1 AND sign_in_method = $2", user.0, method)
        .execute(conn)
        .await?
        .rows_affected())
}

/// Removes every identity linked to `user`; how many there were.
pub async fn clear_identities(conn: &mut PgConnection, user: UserId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM user_identities WHERE user_id = $1", user.0).execute(conn).await?.rows_affected())
}

/// [`LockDetails`] of `id` at `now`.
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

/// The keys of `user`, oldest first.
pub async fn security_keys(conn: &mut PgConnection, user: UserId) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as!(
        KeyRow,
        "SELECT id, name, created_at, last_used_at FROM user_security_keys WHERE user_id = $1 ORDER BY created_at, id",
        user.0
    )
    .fetch_all(conn)
    .await
}
