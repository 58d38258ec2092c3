//! The party registry's use cases: registering and editing a party (screened against the
//! current list as it is saved), its ownership chain and ties to the PRC or Russia, and
//! recording nexus evidence.

use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db;
use super::model::{ChainLink, EvidenceInput, Party, ValidParty};
use super::screening_service;
use crate::access::Actor;
use crate::audit::{self, EventType, NewEvent};
use crate::error::{DomainError, FieldError};
use crate::ids::{EvidenceId, PartyId};
use crate::text;

fn require_work(user: &Actor) -> Result<(), DomainError> {
    if user.may(crate::access::Action::WorkCases) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Refuses a parent that would make the ownership chain a loop.
async fn check_parent(
    conn: &mut PgConnection,
    id: Option<PartyId>,
    parent: Option<PartyId>,
) -> Result<(), DomainError> {
    let Some(parent) = parent else { return Ok(()) };
    let exists: bool = db::exists(&mut *conn, parent).await?;
    if !exists {
        return Err(DomainError::invalid("parent_id", "no such party"));
    }
    if let Some(id) = id {
        let chain = ownership_chain(conn, parent).await?;
        if chain.iter().any(|l| l.party.id == id) {
            return Err(DomainError::invalid("parent_id", "would make the ownership chain a loop"));
        }
    }
    Ok(())
}

/// Creates a party.
pub async fn create(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    screening: &screening_service::Screening,
    p: ValidParty,
) -> Result<Party, DomainError> {
    require_work(user)?;
    let mut tx = conn.begin().await?;
    check_parent(&mut tx, None, p.parent_id).await?;
    let id = PartyId::new();
    db::insert(&mut tx, id, &p, user.id, now).await?;
    let event = NewEvent::new(EventType::PartyCreated).object("party", id).changes(json!({
        "legal_name": {"after": p.legal_name}, "kind": {"after": p.kind}, "country": {"after": p.country},
        "parent_id": {"after": p.parent_id}, "ownership_pct": {"after": p.ownership_pct},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    screening_service::screen_one(&mut tx, &screening.index, screening.threshold, id, now).await?;
    let party = db::get(&mut tx, id).await?.expect("just inserted");
    tx.commit().await?;
    Ok(party)
}

/// Edits a party (the whole record, with the version it started from).
pub async fn update(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    screening: &screening_service::Screening,
    id: PartyId,
    version: i32,
    p: ValidParty,
) -> Result<Party, DomainError> {
    require_work(user)?;
    let mut tx = conn.begin().await?;
    let before = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    if before.version != version {
        return Err(DomainError::Conflict(format!(
            "{} was changed by someone else (version {} now, yours {version}); nothing was saved",
            before.legal_name, before.version
        )));
    }
    check_parent(&mut tx, Some(id), p.parent_id).await?;
    db::update(&mut tx, id, &p, now).await?;
    let mut changes = serde_json::Map::new();
    let mut diff = |f: &str, b: serde_json::Value, a: serde_json::Value| {
        if b != a {
            changes.insert(f.into(), json!({"before": b, "after": a}));
        }
    };
    diff("legal_name", json!(before.legal_name), json!(p.legal_name));
    diff("aliases", json!(before.aliases), json!(p.aliases));
    diff("kind", json!(before.kind), json!(p.kind));
    diff("country", json!(before.country), json!(p.country));
    diff("parent_id", json!(before.parent_id), json!(p.parent_id));
    diff("ownership_pct", json!(before.ownership_pct), json!(p.ownership_pct));
    diff("notes", json!(before.notes), json!(p.notes));
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::PartyUpdated).object("party", id).changes(serde_json::Value::Object(changes)),
    )
    .await?;
    screening_service::screen_one(&mut tx, &screening.index, screening.threshold, id, now).await?;
    let party = db::get(&mut tx, id).await?.expect("exists");
    tx.commit().await?;
    Ok(party)
}

/// The ownership chain from `id` up to its ultimate parent (at most 20 levels).
pub async fn ownership_chain(conn: &mut PgConnection, id: PartyId) -> Result<Vec<ChainLink>, sqlx::Error> {
    let rows = db::chain(&mut *conn, id).await?;
    let adversaries: Vec<String> = db::adversaries(&mut *conn).await?;
    let mut out = Vec::new();
    for (id, depth) in rows {
        if let Some(party) = db::get(conn, id).await? {
            // Hong Kong counts with China (791.4).
            let country = if party.country == "HK" { "CN".to_string() } else { party.country.clone() };
            out.push(ChainLink { in_adversary_country: adversaries.contains(&country), party, depth });
        }
    }
    Ok(out)
}

/// Why party `id` counts as owned, controlled or directed by the PRC or Russia (what 791.315
/// bars in a third-party assessor, and 791.304 in a manufacturer): a link of its ownership
/// chain in China, Hong Kong or Russia, or evidence of ownership or control by either
/// recorded on it or on a parent. `None` when nothing the registry holds shows it.
pub async fn prc_or_russia_tie(conn: &mut PgConnection, id: PartyId) -> Result<Option<String>, sqlx::Error> {
    let chain = ownership_chain(&mut *conn, id).await?;
    for link in &chain {
        let country = match link.party.country.as_str() {
            "CN" | "HK" => "the People's Republic of China",
            "RU" => "Russia",
            _ => continue,
        };
        return Ok(Some(if link.depth == 0 {
            format!("{} is in {country}", link.party.legal_name)
        } else {
            format!("its owner {} is in {country}", link.party.legal_name)
        }));
    }
    let ids: Vec<uuid::Uuid> = chain.iter().map(|l| l.party.id.0).collect();
    let found = db::prc_or_russia_control(conn, &ids).await?;
    Ok(found.map(|(legal_name, adversary)| {
        let by = if adversary == "CN" { "the People's Republic of China" } else { "Russia" };
        format!("evidence recorded on {legal_name} shows ownership or control by {by}")
    }))
}

/// Records nexus evidence for a party.
pub async fn add_evidence(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    party: PartyId,
    e: &EvidenceInput,
) -> Result<EvidenceId, DomainError> {
    require_work(user)?;
    let mut errors = Vec::new();
    let criterion = e.criterion.or_error(
        "criterion",
        "must be ownership, facilities, personnel_ties, adversary_law or operation_control",
        &mut errors,
    );
    let adversary = e.adversary.trim().to_uppercase();
    if e.finding.trim().is_empty() || text::too_long(&e.finding, text::TEXT) {
        errors.push(FieldError::new("finding", "describe what was found (1 to 20,000 characters)"));
    }
    if text::too_long(&e.source, text::LINE) {
        errors.push(FieldError::new("source", "must be at most 2,000 characters"));
    }
    let mut tx = conn.begin().await?;
    let known: bool = db::is_adversary(&mut tx, &adversary).await?;
    if !known {
        errors.push(FieldError::new("adversary", "must be a foreign adversary code"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    db::get(&mut tx, party).await?.ok_or(DomainError::NotFound)?;
    let id = EvidenceId::new();
    let criterion = criterion.expect("checked");
    db::insert_evidence(&mut tx, id, party, criterion, &adversary, e.finding.trim(), e.source.trim(), user.id, now)
        .await?;
    let event = NewEvent::new(EventType::PartyEvidenceAdded)
        .object("party", party)
        .changes(json!({"evidence": id, "criterion": criterion, "adversary": adversary}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(id)
}
