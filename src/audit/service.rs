//! The audit log's use cases beyond appending: sealing a case's dossier, verifying the
//! chain and its checkpoints now.

use crate::ids::CaseId;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::checkpoint::{self, CheckpointReport, Checkpointer};
use super::dossier::{self, Dossier};
use super::{NewEvent, Verdict};
use crate::auth::Actor;
use crate::error::DomainError;

/// Builds a case's dossier: gathers the parts, records the export in the audit log, takes
/// a checkpoint covering that event, and seals the manifest.
///
/// It takes the pool: the export's event is committed before the checkpoint that covers it
/// is taken.
#[allow(clippy::too_many_arguments)]
pub async fn build_dossier(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    user: &Actor,
    now: OffsetDateTime,
    marking: &str,
    id: CaseId,
    include_content: bool,
    form: &str,
) -> Result<Dossier, DomainError> {
    let mut conn = pool.acquire().await?;
    let c = crate::cases::service::visible(&mut conn, user, id, false).await?;
    user.require_recent_reauth(now)?;
    let parts = dossier::gather(&mut conn, id, include_content).await?;
    drop(conn);
    let parts_sha256 = dossier::part_hash(&serde_json::to_value(&parts).expect("parts serialise"));
    let event = NewEvent::new("case.exported").object("case", id).changes(json!({
        "form": form, "document_contents_included": include_content, "parts_sha256": parts_sha256,
        "marking": marking,
    }));
    super::record_alone(pool, now, &user.audit(), event).await?;
    let cp = match checkpoint::create(pool, checkpointer, now, "export", false).await {
        Ok(cp) => cp.expect("always written"),
        Err(checkpoint::CheckpointError::Database(e)) => return Err(e.into()),
        Err(e) => return Err(DomainError::Internal(e.into())),
    };
    let header =
        dossier::header(id, &c.docket_number, (user.id, &user.name, user.role.as_str()), now, marking, include_content);
    Ok(dossier::seal(parts, header, cp, checkpointer))
}

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

/// Verifies the chain and every checkpoint now, and records that it did.
pub async fn verify_now(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    user: &Actor,
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
    let event = NewEvent::new("audit.verified").changes(json!({
        "verdict": verdict.to_string(), "checkpoints_checked": report.checked, "checkpoint_problems": report.problems,
        "ok": ok,
    }));
    super::record_alone(pool, now, &user.audit(), event).await?;
    Ok(ChainStatus {
        ok,
        verdict: verdict.to_string(),
        checkpoints: report,
        signing: checkpointer.key.is_some(),
        public_key: expected.map(|k| hex::encode(k.as_bytes())),
    })
}
