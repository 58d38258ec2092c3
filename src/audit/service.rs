//! The audit log's use cases beyond appending: sealing a case's dossier, verifying the
//! chain and its checkpoints now.

use super::EventType;
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

/// A case's dossier parts, gathered under need-to-know, before they are sealed.
pub struct Gathered {
    id: CaseId,
    docket_number: String,
    include_content: bool,
    parts: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Gathers a case's dossier (after the step-up the export needs): the reads an export's
/// read turn covers. [`seal_dossier`] records and seals it.
pub async fn gather_dossier(
    pool: &PgPool,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    include_content: bool,
) -> Result<Gathered, DomainError> {
    let mut conn = pool.acquire().await?;
    let c = crate::cases::service::visible(&mut conn, user, id, false).await?;
    user.require_recent_reauth(now)?;
    let parts = dossier::gather(&mut conn, id, include_content).await?;
    Ok(Gathered { id, docket_number: c.docket_number.clone(), include_content, parts })
}

/// Seals a gathered dossier: records the export in the audit log and takes the checkpoint
/// covering that event in the same transaction (one commit), copies the checkpoint to the
/// file, and signs the manifest.
pub async fn seal_dossier(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    user: &Actor,
    now: OffsetDateTime,
    marking: &str,
    g: Gathered,
    form: &str,
) -> Result<Dossier, DomainError> {
    let Gathered { id, docket_number, include_content, parts } = g;
    // Each part is put in canonical form once: its hash for the manifest, and all of them
    // for the event's `parts_sha256`.
    let (hashes, parts_sha256) = dossier::hash_parts(&parts);
    let event = NewEvent::new(EventType::CaseExported).object("case", id).changes(json!({
        "form": form, "document_contents_included": include_content, "parts_sha256": parts_sha256,
        "marking": marking,
    }));
    let unavailable = |e: checkpoint::CheckpointError| match e {
        checkpoint::CheckpointError::Database(e) => DomainError::from(e),
        e => DomainError::Internal(e.into()),
    };
    checkpoint::require_key(pool, checkpointer).await.map_err(unavailable)?;
    let mut tx = pool.begin().await?;
    let head = super::record_linked(&mut tx, now, &user.audit(), event).await?;
    let cp = checkpoint::take_covering(&mut tx, checkpointer, now, "export", head).await?;
    tx.commit().await?;
    // The commit may not be on disk yet (see `durable`): the checkpoint's copy goes to its
    // file once it is. Both run while the dossier is sealed.
    let flushed = super::durable::flush_now();
    let filed = {
        let (signer, cp) = (checkpointer.clone(), cp.clone());
        tokio::spawn(async move {
            flushed.await?;
            checkpoint::to_file(&signer, &cp, now).await;
            Ok::<(), sqlx::Error>(())
        })
    };
    let header =
        dossier::header(id, &docket_number, (user.id, &user.name, user.role.as_str()), now, marking, include_content);
    let sealed = dossier::seal_hashed(parts, hashes, header, cp, checkpointer);
    filed.await.map_err(|e| DomainError::Internal(anyhow::anyhow!("the checkpoint file's append stopped: {e}")))??;
    Ok(sealed)
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
    let event = NewEvent::new(EventType::AuditVerified).changes(json!({
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
