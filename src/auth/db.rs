//! Account SQL, checked against the schema at compile time: the account reads other
//! domains need, administrators' requests for a second administrator's approval
//! ([`super::approvals`]) and the roles' sign-in policies ([`super::sign_in_policy`]).

use sqlx::PgConnection;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::approvals::{Approval, ApprovalKind};
use super::policy::Role;
use super::sign_in_policy::RolePolicy;
use crate::ids::UserId;

/// The names of these accounts, for showing who did what.
pub async fn names(conn: &mut PgConnection, ids: &[UserId]) -> Result<Vec<(UserId, String)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT id AS "id: UserId", name FROM users WHERE id = ANY($1)"#, ids as _)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
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
