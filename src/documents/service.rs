//! Storing documents: checks, content, the audit event.

use crate::ids::DocumentId;
use crate::ids::{CaseId, SubmissionId};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db;
use super::model::{Document, MAX_BYTES, Marking, Upload, clean_filename, sniff};
use crate::audit::{self, EventType, NewEvent};
use crate::cases::service::visible;
use crate::error::{DomainError, FieldError};
use crate::proceedings::service::may_work;

/// The longest pointer to where classified material is held, in characters.
pub const POINTER_MAX: usize = 1000;

/// Stores an upload on a case (one transaction with its audit event).
pub async fn store(
    conn: &mut PgConnection,
    user: &crate::access::Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    mut u: Upload,
) -> Result<Document, DomainError> {
    let mut errors = std::mem::take(&mut u.refused);
    let title = u.title.trim();
    if (title.is_empty() || title.chars().count() > crate::text::NAME) && !errors.iter().any(|e| e.field == "title") {
        errors.push(FieldError::new("title", "must be 1 to 300 characters"));
    }
    let marking = u.marking.trim();
    if Marking::parse(marking).is_none() {
        errors.push(FieldError::new("marking", "must be public, cui, cbi or classified_reference"));
    }
    let submission = match u.submission_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match s.parse::<SubmissionId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("submission_id", "is not a submission id"));
                None
            }
        },
        None => None,
    };
    let classified = Marking::parse(marking) == Some(Marking::ClassifiedReference);
    let pointer = u.pointer.trim();
    let mut content: Option<(String, Vec<u8>, &'static str)> = None;
    if classified {
        if u.file.as_ref().is_some_and(|f| !f.1.is_empty()) {
            errors.push(FieldError::new(
                "file",
                "classified material is never uploaded: give a pointer to where it is held instead",
            ));
        }
        if (pointer.is_empty() || pointer.chars().count() > POINTER_MAX) && !errors.iter().any(|e| e.field == "pointer")
        {
            errors
                .push(FieldError::new("pointer", "say where the classified material is held (1 to 1,000 characters)"));
        }
    } else {
        if !pointer.is_empty() {
            errors.push(FieldError::new("pointer", "only a classified-reference document is a pointer"));
        }
        match u.file {
            None => errors.push(FieldError::new("file", "choose a file")),
            Some((_, ref b)) if b.is_empty() => errors.push(FieldError::new("file", "the file is empty")),
            Some((_, ref b)) if b.len() > MAX_BYTES => errors.push(FieldError::new("file", "is larger than 20 MiB")),
            Some((name, bytes)) => match sniff(&bytes) {
                None => errors.push(FieldError::new(
                    "file",
                    "is not a PDF, an image (PNG, JPEG, GIF, WebP, TIFF), plain UTF-8 text or an office document (judged by its content)",
                )),
                Some(t) => content = Some((clean_filename(&name).unwrap_or_else(|| "document".into()), bytes, t)),
            },
        }
    }
    if !errors.is_empty() {
        // One problem a field: the first found (a control character before the rest).
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.field.clone()));
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, false).await?;
    may_work(user, &c)?;
    if let Some(s) = submission
        && !crate::proceedings::db::is_submission_of(&mut tx, s, case_id).await?
    {
        return Err(DomainError::invalid("submission_id", "is not a submission of this case"));
    }
    let id = DocumentId::new();
    let hash = content.as_ref().map(|(_, b, _)| Sha256::digest(b).to_vec());
    let row = db::NewRow {
        id,
        case_id,
        title,
        marking,
        filename: content.as_ref().map(|c| c.0.clone()),
        media_type: content.as_ref().map(|c| c.2),
        size_bytes: content.as_ref().map(|c| c.1.len() as i64),
        sha256: hash.clone(),
        pointer: classified.then_some(pointer),
    };
    db::insert(&mut tx, &row, content.as_ref().map(|c| &c.1[..]), submission, user.id, now).await?;
    let event = NewEvent::new(EventType::DocumentUploaded).object("case", case_id).changes(json!({
        "document": id, "title": title, "marking": marking, "media_type": content.as_ref().map(|c| c.2),
        "size_bytes": content.as_ref().map(|c| c.1.len()), "sha256": hash.as_deref().map(hex::encode), "submission": submission,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let doc = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(doc)
}
