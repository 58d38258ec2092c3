//! The audit log's use cases beyond appending: verifying the chain and its checkpoints
//! now. (Sealing a case's dossier, which gathers from every domain, is the dossier
//! module's, above the domains.)

use super::EventType;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::checkpoint::{self, CheckpointReport, Checkpointer};
use super::{AuditContext, NewEvent, Verdict};
use crate::error::DomainError;

/// The chain's state and the checkpoints' check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainStatus {
    /// Whether the chain recomputes.
    pub ok: bool,
    /// `OK <count> <head>` or where it breaks.
    pub verdict: String,
    /// The checkpoints' check.
    pub checkpoints: CheckpointReport,
    /// Whether a signing key is configured.
    pub signing: bool,
    /// Its public key (hex).
    pub public_key: Option<String>,
}

/// Verifies the chain and every checkpoint now, and records that it did (as `ctx`).
pub async fn verify_now(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    ctx: &AuditContext,
    now: OffsetDateTime,
) -> Result<ChainStatus, DomainError> {
    let verdict = super::verify(pool).await?;
    let expected = checkpointer.key.as_ref().map(|k| k.verifying_key());
    let report = checkpoint::verify_all(
        pool,
        checkpoint::Expectations {
            key: expected.as_ref(),
            file: checkpointer.file.as_deref(),
            interval: checkpointer.interval,
            now,
        },
    )
    .await?;
    let ok = matches!(verdict, Verdict::Ok { .. }) && report.problems.is_empty();
    let event = NewEvent::new(EventType::AuditVerified).changes(json!({
        "verdict": verdict.to_string(), "checkpoints_checked": report.checked, "checkpoint_problems": report.problems,
        "ok": ok,
    }));
    super::record_alone(pool, now, ctx, event).await?;
    Ok(ChainStatus {
        ok,
        verdict: verdict.to_string(),
        checkpoints: report,
        signing: checkpointer.key.is_some(),
        public_key: expected.map(|k| hex::encode(k.as_bytes())),
    })
}
