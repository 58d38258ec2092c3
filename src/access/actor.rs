//! Who acts: the [`Actor`] every use case takes. The web layer builds it from the session
//! (`web::auth`); the demo seed and the command line build their own. It carries what the
//! domain needs to decide and to audit — identity, role, the last step-up, where the
//! request came from — and nothing of HTTP.

use time::{Duration, OffsetDateTime};

use super::policy::{self, Action, Role};
use crate::audit::{self, AuditContext, EventType, NewEvent, Outcome};
use crate::error::DomainError;

/// How long a re-authentication (step-up) counts.
pub const REAUTH_VALID: Duration = Duration::minutes(5);

/// Where a request comes from, for audit events and throttling.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Client address (the TCP peer).
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// An audit context for an anonymous actor (or a named one, for failed sign-ins).
    pub fn audit(&self, actor: Option<(crate::ids::UserId, Role)>) -> AuditContext {
        AuditContext {
            actor_id: actor.map(|a| a.0),
            actor_role: actor.map(|a| a.1.as_str().to_string()),
            client_addr: self.client_addr.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

/// A signed-in user acting through one session.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The account.
    pub id: crate::ids::UserId,
    /// The account's e-mail address (sign-in name).
    pub email: String,
    /// Shown in notifications and on documents the actor signs.
    pub name: String,
    /// Decides what the policy allows.
    pub role: Role,
    /// The session acted through (nil for the seed and the command line).
    pub session_id: crate::ids::SessionId,
    /// When the password was last re-entered in this session: the step-up of signatures
    /// and exports.
    pub reauth_at: Option<OffsetDateTime>,
    /// Where the request came from, for the audit trail.
    pub meta: RequestMeta,
}

impl Actor {
    /// The audit context of this actor.
    pub fn audit(&self) -> AuditContext {
        self.meta.audit(Some((self.id, self.role)))
    }

    /// Whether the policy lets this actor's role take `action`.
    pub fn may(&self, action: Action) -> bool {
        policy::allows(self.role, action)
    }

    /// Asks the policy; a refusal is recorded as an audit event (in its own transaction, so
    /// that it stays when the caller's work is rolled back) and answered `Forbidden`.
    pub async fn authorize(
        &self,
        conn: &mut sqlx::PgConnection,
        now: OffsetDateTime,
        action: Action,
    ) -> Result<(), DomainError> {
        if self.may(action) {
            return Ok(());
        }
        let event = NewEvent::new(EventType::AccessRefused)
            .outcome(Outcome::Denied)
            .changes(serde_json::json!({"action": format!("{action:?}")}));
        audit::record_alone(conn, now, &self.audit(), event).await?;
        Err(DomainError::Forbidden)
    }

    /// Step-up: succeeds only if the password was re-entered within the last 5 minutes.
    pub fn require_recent_reauth(&self, now: OffsetDateTime) -> Result<(), DomainError> {
        match self.reauth_at {
            Some(at) if now - at <= REAUTH_VALID => Ok(()),
            _ => Err(DomainError::ReauthRequired),
        }
    }
}
