//! Server-side sessions in PostgreSQL, for browsers (cookie) and API clients (bearer
//! token). The secret has 256 random bits and only its sha256 is stored. Timeouts: idle 15
//! minutes (10 for admins), absolute 8 hours, both checked against the injectable clock.

use crate::ids::{SessionId, UserId};
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};

use crate::access::Role;

/// Absolute lifetime of a session.
pub const ABSOLUTE: Duration = Duration::hours(8);
/// `last_seen_at` is written at most this often, to keep reads cheap.
const TOUCH_EVERY: Duration = Duration::seconds(30);

/// Cookie name over HTTPS (`__Host-` binds it to this host, path `/`, secure).
pub const COOKIE_SECURE: &str = "__Host-icts_session";
/// Cookie name in plain-HTTP development mode.
pub const COOKIE_DEV: &str = "icts_session";
/// The cookie of a sign-in waiting for its one-time code, over HTTPS.
pub const CHALLENGE_COOKIE_SECURE: &str = "__Host-icts_challenge";
/// The same in plain-HTTP development mode.
pub const CHALLENGE_COOKIE_DEV: &str = "icts_challenge";

/// Kind of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A browser session (cookie, CSRF token).
    Browser,
    /// An API token.
    Api,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Browser => "browser",
            Kind::Api => "api",
        }
    }
}

/// A new random secret (base64url, 43 characters).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a secret.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A created session: the secret goes to the client once and is never stored.
#[derive(Debug, Clone)]
pub struct Created {
    /// Public handle.
    pub id: SessionId,
    /// The secret (cookie value or bearer token).
    pub secret: String,
    /// The CSRF token of a browser session.
    pub csrf_token: String,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
}

/// How a session was signed in to: `password`, `password+totp`, `sso`; through the
/// OpenID provider also its `acr`, `amr` and ID token (the hint of its sign-out).
#[derive(Debug, Clone, Copy)]
pub struct SignInMethod<'a> {
    pub name: &'static str,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub id_token: Option<&'a str>,
}

impl SignInMethod<'static> {
    /// A sign-in by password, with a one-time code or not.
    pub fn password(second_factor: bool) -> Self {
        SignInMethod {
            name: if second_factor { "password+totp" } else { "password" },
            acr: None,
            amr: &[],
            id_token: None,
        }
    }
}

/// Creates a session for `user_id`.
pub async fn create(
    conn: &mut PgConnection,
    user_id: UserId,
    kind: Kind,
    now: OffsetDateTime,
    client_addr: Option<&str>,
    user_agent: Option<&str>,
    how: SignInMethod<'_>,
) -> Result<Created, sqlx::Error> {
    let secret = new_secret();
    let csrf_token = new_secret();
    let id = SessionId::new();
    let expires_at = now + ABSOLUTE;
    let user_agent = user_agent.map(|u| u.chars().take(300).collect::<String>());
    sqlx::query!(
        "INSERT INTO sessions (id, secret_hash, user_id, kind, csrf_token, created_at, last_seen_at, expires_at, client_addr, user_agent, \
         sign_in_method, acr, amr, id_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13)",
        id.0,
        &secret_hash(&secret)[..],
        user_id.0,
        kind.as_str(),
        &csrf_token,
        now,
        expires_at,
        client_addr,
        user_agent.as_deref(),
        how.name,
        how.acr,
        how.amr,
        how.id_token,
    )
    .execute(conn)
    .await?;
    Ok(Created { id, secret, csrf_token, expires_at })
}

/// A live session with its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Live {
    /// Session handle.
    pub session_id: SessionId,
    /// `browser` or `api`.
    pub kind: String,
    pub csrf_token: String,
    /// Last activity.
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Last re-authentication.
    pub reauth_at: Option<OffsetDateTime>,
    /// The user.
    pub user_id: UserId,
    pub email: String,
    /// Display name.
    pub name: String,
    pub role: Role,
    /// Whether the user must change the password first (not in a session signed in to
    /// through the OpenID provider or with a card, which used no password).
    pub must_change_password: bool,
    /// Whether the user must register a security key first: the role requires one, the
    /// user has none, and the session was not signed in to with a card, nor through the
    /// provider with one of the methods the role requires of it (a provider's sign-in
    /// by any method does not stand in for a key).
    pub must_register_key: bool,
    /// Whether the account is active.
    pub active: bool,
    /// Unread notifications (for the header).
    pub unread_notifications: i64,
    /// The user's time zone (IANA name), if they chose one.
    pub time_zone: Option<String>,
}

/// Looks up the session of `secret`, ends it if it has timed out, and records activity.
pub async fn resolve(conn: &mut PgConnection, secret: &str, now: OffsetDateTime) -> Result<Option<Live>, sqlx::Error> {
    let live = sqlx::query_as!(
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
        &secret_hash(secret)[..],
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(live) = live else { return Ok(None) };
    let idle = Duration::minutes(live.role.idle_minutes());
    if !live.active || now >= live.expires_at || now - live.last_seen_at > idle {
        sqlx::query!("DELETE FROM sessions WHERE id = $1", live.session_id.0).execute(&mut *conn).await?;
        return Ok(None);
    }
    if now - live.last_seen_at >= TOUCH_EVERY {
        sqlx::query!("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", live.session_id.0, now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(Some(live))
}

/// The sign-in method and ID token of a session (for the provider's sign-out).
pub async fn method_of(
    conn: &mut PgConnection,
    id: SessionId,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    let row =
        sqlx::query!("SELECT sign_in_method, id_token FROM sessions WHERE id = $1", id.0).fetch_optional(conn).await?;
    Ok(row.and_then(|r| r.sign_in_method.map(|m| (m, r.id_token))))
}

/// Ends one session by its id.
pub async fn delete(conn: &mut PgConnection, id: SessionId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE id = $1", id.0).execute(conn).await?.rows_affected())
}

/// Ends one session by its secret.
pub async fn delete_by_secret(conn: &mut PgConnection, secret: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("DELETE FROM sessions WHERE secret_hash = $1", &secret_hash(secret)[..])
        .execute(conn)
        .await?
        .rows_affected())
}

/// A session as listed to its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    /// Handle.
    pub id: SessionId,
    pub kind: String,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last activity.
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry.
    pub expires_at: OffsetDateTime,
    /// Client address at sign-in.
    pub client_addr: Option<String>,
    /// Browser at sign-in.
    pub user_agent: Option<String>,
}

/// The user's sessions, newest first.
pub async fn list_for_user(conn: &mut PgConnection, user_id: UserId) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as!(
        Listed,
        "SELECT id, kind, created_at, last_seen_at, expires_at, client_addr, user_agent FROM sessions WHERE user_id = $1 ORDER BY created_at DESC",
        user_id.0,
    )
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = new_secret();
        assert_eq!(a.len(), 43, "256 bits in base64url");
        assert_ne!(a, new_secret());
        assert_eq!(secret_hash(&a).len(), 32);
        assert_ne!(secret_hash(&a), a.as_bytes());
    }
}
