//! Server-side sessions in PostgreSQL, for browsers (cookie) and API clients (bearer
//! token). The secret has 256 random bits and only its sha256 is stored. Timeouts: idle 15
//! minutes (10 for admins), absolute 8 hours, both checked against the injectable clock.

use crate::ids::{SessionId, UserId};
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};

use super::db;
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
    let new = db::NewSession {
        id,
        secret_hash: &secret_hash(&secret),
        user: user_id,
        kind: kind.as_str(),
        csrf_token: &csrf_token,
        now,
        expires_at,
        client_addr,
        user_agent: user_agent.as_deref(),
        how,
    };
    db::insert_session(conn, &new).await?;
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
    let live = db::live_session(&mut *conn, &secret_hash(secret)).await?;
    let Some(live) = live else { return Ok(None) };
    let idle = Duration::minutes(live.role.idle_minutes());
    if !live.active || now >= live.expires_at || now - live.last_seen_at > idle {
        db::delete_session(&mut *conn, live.session_id).await?;
        return Ok(None);
    }
    if now - live.last_seen_at >= TOUCH_EVERY {
        db::touch_session(conn, live.session_id, now).await?;
    }
    Ok(Some(live))
}

/// Ends one session by its secret.
pub async fn delete_by_secret(conn: &mut PgConnection, secret: &str) -> Result<u64, sqlx::Error> {
    db::delete_session_by_hash(conn, &secret_hash(secret)).await
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
