//! A case's dossier for its reader: gathered under need-to-know after the step-up an export
//! needs, then sealed (the export recorded in the audit log, with the checkpoint covering
//! it, in one transaction).

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::Dossier;
use crate::access::Actor;
use crate::audit::checkpoint::{self, Checkpointer};
use crate::audit::{self, EventType, NewEvent};
use crate::error::DomainError;
use crate::ids::{CaseId, MatterId, PartyId};

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
    let parts = super::gather(&mut conn, id, include_content).await?;
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
    let header =
        super::header(id, &docket_number, (user.id, &user.name, user.role.as_str()), now, marking, include_content);
    let event = |parts_sha256: &str| {
        NewEvent::new(EventType::CaseExported).object("case", id).changes(json!({
            "form": form, "document_contents_included": include_content, "parts_sha256": parts_sha256,
            "marking": marking,
        }))
    };
    seal(pool, checkpointer, (user, now), parts, header, event).await
}

/// Seals `parts` under `header`: records the export's event (made from the hash of the
/// parts) and takes the checkpoint covering it in one transaction, copies the checkpoint
/// to its file once the commit is on disk, and signs the manifest.
async fn seal(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    (user, now): (&Actor, OffsetDateTime),
    parts: std::collections::BTreeMap<String, serde_json::Value>,
    header: serde_json::Value,
    event: impl FnOnce(&str) -> NewEvent,
) -> Result<Dossier, DomainError> {
    // Each part is put in canonical form once: its hash for the manifest, and all of them
    // for the event's `parts_sha256`.
    let (hashes, parts_sha256) = super::hash_parts(&parts);
    let event = event(&parts_sha256);
    let unavailable = |e: checkpoint::CheckpointError| match e {
        checkpoint::CheckpointError::Database(e) => DomainError::from(e),
        e => DomainError::Internal(e.into()),
    };
    checkpoint::require_key(pool, checkpointer).await.map_err(unavailable)?;
    let mut tx = pool.begin().await?;
    let head = audit::record_linked(&mut tx, now, &user.audit(), event).await?;
    let cp = checkpoint::take_covering(&mut tx, checkpointer, now, "export", head).await?;
    tx.commit().await?;
    // The commit may not be on disk yet (see `durable`): the checkpoint's copy goes to its
    // file once it is. Both run while the dossier is sealed.
    let flushed = audit::durable::flush_now();
    let filed = {
        let (signer, cp) = (checkpointer.clone(), cp.clone());
        tokio::spawn(async move {
            flushed.await?;
            checkpoint::to_file(&signer, &cp, now).await;
            Ok::<(), sqlx::Error>(())
        })
    };
    let sealed = super::seal_hashed(parts, hashes, header, cp, checkpointer);
    filed.await.map_err(|e| DomainError::Internal(anyhow::anyhow!("the checkpoint file's append stopped: {e}")))??;
    Ok(sealed)
}

/// A party's dossier as a filer, across both dockets (supervisors and auditors, after the
/// step-up an export needs): gathered, recorded as `party.exported` and sealed like a
/// case's.
pub async fn party_dossier(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    (user, now): (&Actor, OffsetDateTime),
    marking: &str,
    party: PartyId,
) -> Result<Dossier, DomainError> {
    if !user.may(crate::access::Action::ExportCases) {
        return Err(DomainError::Forbidden);
    }
    user.require_recent_reauth(now)?;
    let mut conn = pool.acquire().await?;
    let p = crate::parties::get(&mut conn, party).await?.ok_or(DomainError::NotFound)?;
    let parts = super::gather_party(&mut conn, party).await?;
    drop(conn);
    let header = super::party_header(party, &p.legal_name, (user.id, &user.name, user.role.as_str()), now, marking);
    let event = |parts_sha256: &str| {
        NewEvent::new(EventType::PartyExported).object("party", party).changes(json!({
            "form": "json", "parts_sha256": parts_sha256, "marking": marking,
        }))
    };
    seal(pool, checkpointer, (user, now), parts, header, event).await
}

/// An enforcement matter's dossier (supervisors and auditors who may see the matter, after
/// the step-up an export needs): gathered, recorded as `enforcement.matter_exported` and
/// sealed like a case's.
pub async fn matter_dossier(
    pool: &PgPool,
    checkpointer: &Checkpointer,
    (user, now): (&Actor, OffsetDateTime),
    marking: &str,
    matter: MatterId,
) -> Result<Dossier, DomainError> {
    if !user.may(crate::access::Action::ExportCases) {
        return Err(DomainError::Forbidden);
    }
    let mut conn = pool.acquire().await?;
    let (m, _) = crate::enforcement::service::get(&mut conn, user, matter).await?;
    user.require_recent_reauth(now)?;
    let parts = super::gather_matter(&mut conn, matter).await?;
    drop(conn);
    let header = super::matter_header(matter, &m.number, (user.id, &user.name, user.role.as_str()), now, marking);
    let event = |parts_sha256: &str| {
        NewEvent::new(EventType::EnforcementMatterExported).object("enforcement_matter", matter).changes(json!({
            "form": "json", "parts_sha256": parts_sha256, "marking": marking,
        }))
    };
    seal(pool, checkpointer, (user, now), parts, header, event).await
}
