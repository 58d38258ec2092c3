//! General authorizations' use cases (791.306): the published versions; a firm's reliance
//! recorded (refused to a PRC- or Russia-controlled firm), its reports, changes of
//! circumstance, reassessments and end; GA 3's supplier applications, decided by a
//! supervisor, and the list as of any date. Each change is one transaction with its audit
//! event.

use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::{Date, OffsetDateTime};

use super::db::{self, NewRelianceRow, RelianceRow};
use super::model::{
    ActKind, ActRow, GaNumber, GeneralAuthorization, NewAct, NewReliance, NewSupplier, Reliance, RelianceStatus,
    RelianceWork, Supplier, SupplierDecision, SupplierStatus,
};
use crate::access::{Action, Actor};
use crate::audit::{self, EventType, NewEvent};
use crate::error::{DomainError, FieldError};
use crate::ids::{PartyId, RelianceId, SupplierId};

/// The most reliances or suppliers a list shows.
pub const LIST_LIMIT: i64 = 500;

fn require(user: &Actor, action: Action) -> Result<(), DomainError> {
    if user.may(action) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Every version of every general authorization.
pub async fn versions(conn: &mut PgConnection, user: &Actor) -> Result<Vec<GeneralAuthorization>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::versions(conn).await?)
}

/// Reliances `rows` with their standing on `today`.
async fn with_standing(
    conn: &mut PgConnection,
    rows: Vec<RelianceRow>,
    today: Date,
) -> Result<Vec<Reliance>, DomainError> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id.0).collect();
    let acts = db::acts_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let own: Vec<(ActKind, Date)> = acts.iter().filter(|a| a.0 == r.id).map(|a| (a.1, a.2)).collect();
            let standing = super::model::standing(r.relied_from, r.report_every_days, &own, today);
            Reliance {
                id: r.id,
                party_id: r.party_id,
                party_name: r.party_name,
                ga_number: r.ga_number,
                ga_version: r.ga_version,
                ga_title: r.ga_title,
                declaration_id: r.declaration_id,
                summary: r.summary,
                relied_from: r.relied_from,
                version: r.version,
                standing,
            }
        })
        .collect())
}

/// The reliances of `party` (or all), newest first, each with its standing today.
pub async fn reliances(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    party: Option<PartyId>,
) -> Result<Vec<Reliance>, DomainError> {
    require(user, Action::ViewFilings)?;
    let rows = db::reliances(&mut *conn, party, LIST_LIMIT).await?;
    with_standing(conn, rows, crate::dates::today(now)).await
}

/// The reliances' work for a home page on the day of `now`: none for a role that does not
/// work filings.
pub async fn work(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
) -> Result<Option<RelianceWork>, DomainError> {
    if !user.may(Action::WorkFilings) {
        return Ok(None);
    }
    let today = crate::dates::today(now);
    let rows = db::unended(&mut *conn).await?;
    let standings = with_standing(conn, rows, today).await?.into_iter().map(|r| r.standing);
    Ok(Some(RelianceWork::of(standings, today)))
}

/// A reliance with its standing today and its acts.
pub async fn reliance(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: RelianceId,
) -> Result<(Reliance, Vec<ActRow>), DomainError> {
    require(user, Action::ViewFilings)?;
    let row = db::reliance(&mut *conn, id).await?.ok_or(DomainError::NotFound)?;
    let r = with_standing(&mut *conn, vec![row], crate::dates::today(now)).await?.remove(0);
    let acts = db::acts(conn, id).await?;
    Ok((r, acts))
}

/// Records a firm's reliance on the version of a general authorization in force on its
/// first day, with its audit event: refused to a PRC- or Russia-controlled firm (791.306).
pub async fn rely(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    n: &NewReliance,
) -> Result<Reliance, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    if n.party_id.is_none() {
        errors.push(FieldError::new("party_id", "choose the firm relying"));
    }
    let summary = n.summary.trim();
    if summary.is_empty() || crate::text::too_long(summary, crate::text::TEXT) {
        errors.push(FieldError::new("summary", "say what is done under it (1 to 20,000 characters)"));
    }
    let from = crate::dates::past_date("relied_from", n.relied_from.as_deref(), today, &mut errors);
    let mut tx = conn.begin().await?;
    let versions = db::versions(&mut tx).await?;
    let number = GaNumber::parse(&n.ga_number).map(|g| g.to_string()).unwrap_or_default();
    let ga = from.and_then(|day| versions.iter().find(|g| g.number == number && g.in_force_on(day)));
    match (versions.iter().any(|g| g.number == number), ga, from) {
        (false, _, _) => {
            errors.push(FieldError::new("ga_number", "must be a general authorization the office published, e.g. GA 1"))
        }
        (true, None, Some(day)) => {
            errors.push(FieldError::new("relied_from", format!("{number} is not in force on {day}")))
        }
        _ => {}
    }
    let (Some(party), Some(from), Some(ga), true) = (n.party_id, from, ga, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let p =
        crate::parties::get(&mut tx, party).await?.ok_or_else(|| DomainError::invalid("party_id", "no such party"))?;
    if let Some(why) = crate::parties::prc_or_russia_tie(&mut tx, party).await? {
        return Err(DomainError::invalid(
            "party_id",
            format!(
                "a general authorization is not available to a firm owned, controlled or directed by the PRC or Russia: {why}"
            ),
        ));
    }
    if let Some(d) = n.declaration_id {
        let filer = crate::declarations::service::filer_of(&mut tx, d)
            .await?
            .ok_or_else(|| DomainError::invalid("declaration_id", "no such declaration"))?;
        if filer != party {
            return Err(DomainError::invalid("declaration_id", format!("is not a declaration of {}", p.legal_name)));
        }
    }
    let id = RelianceId::new();
    let row = NewRelianceRow {
        id,
        party,
        ga: (&ga.number, ga.version),
        declaration: n.declaration_id,
        summary,
        relied_from: from,
    };
    db::insert_reliance(&mut tx, &row, (user.id, now)).await?;
    db::insert_act(&mut tx, id, (ActKind::Relied, from, summary), (user.id, now)).await?;
    let event = NewEvent::new(EventType::GeneralAuthorizationRelied).object("ga_reliance", id).changes(json!({
        "party": party, "general_authorization": ga.number, "version": ga.version, "declaration": n.declaration_id,
        "summary": summary, "relied_from": from,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row = db::reliance(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    let r = with_standing(&mut tx, vec![row], today).await?.remove(0);
    tx.commit().await?;
    Ok(r)
}

/// Records an act of a reliance from the version the user saw: a report filed, a change of
/// circumstance (its reassessment due within 30 days), the reassessment, or the end.
pub async fn record(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: RelianceId,
    a: &NewAct,
) -> Result<Reliance, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let kind = a.kind.or_error("kind", "must be report_filed, circumstance_changed, reassessed or ended", &mut errors);
    if kind == Some(ActKind::Relied) {
        errors.push(FieldError::new("kind", "a reliance begins once, with its own form"));
    }
    let on = crate::dates::past_date("effective_on", a.effective_on.as_deref(), today, &mut errors);
    let note = a.note.trim();
    if note.is_empty() || crate::text::too_long(note, crate::text::TEXT) {
        errors
            .push(FieldError::new("note", "say what the report states, what changed, or why (1 to 20,000 characters)"));
    }
    let (Some(kind), Some(on), true) = (kind, on, errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let mut tx = conn.begin().await?;
    let row = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    if row.version != a.version {
        return Err(DomainError::changed_since("this reliance", None));
    }
    let before = with_standing(&mut tx, vec![row], today).await?.remove(0);
    if on < before.relied_from {
        return Err(DomainError::invalid(
            "effective_on",
            format!("cannot be before the reliance began, {}", before.relied_from),
        ));
    }
    match (kind, before.standing.status) {
        (_, RelianceStatus::Ended) => {
            return Err(DomainError::Conflict("this reliance has ended: nothing more is recorded on it".into()));
        }
        (ActKind::ReportFiled, _)
            if before.standing.next_report_due.is_none() && before.standing.void_from.is_none() =>
        {
            return Err(DomainError::Conflict(format!("{} asks for no report", before.ga_number)));
        }
        (ActKind::Reassessed, _) if before.standing.reassess_due.is_none() => {
            return Err(DomainError::Conflict("no change of circumstance awaits its reassessment".into()));
        }
        _ => {}
    }
    db::insert_act(&mut tx, id, (kind, on, note), (user.id, now)).await?;
    let ended = (kind == ActKind::Ended).then_some(on);
    if !db::touch(&mut tx, id, a.version, ended, now).await? {
        return Err(DomainError::changed_meanwhile("this reliance"));
    }
    let row = db::reliance(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    let after = with_standing(&mut tx, vec![row], today).await?.remove(0);
    let event = NewEvent::new(EventType::GeneralAuthorizationRelianceAct).object("ga_reliance", id).changes(json!({
        "general_authorization": before.ga_number, "party": before.party_id, "act": kind, "effective_on": on,
        "note": note, "status": {"before": before.standing.status, "after": after.standing.status},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(after)
}

/// Every supplier application, newest first.
pub async fn suppliers(conn: &mut PgConnection, user: &Actor) -> Result<Vec<Supplier>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::suppliers(conn, LIST_LIMIT).await?)
}

/// GA 3's approved-supplier list as it stood on `day`.
pub async fn listed_on(conn: &mut PgConnection, user: &Actor, day: Date) -> Result<Vec<Supplier>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::listed_on(conn, day).await?)
}

/// Records a supplier's application for GA 3's list, with its audit event: refused to a
/// PRC- or Russia-controlled supplier, and to one already listed or applying.
pub async fn apply_supplier(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    n: &NewSupplier,
) -> Result<Supplier, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    if n.party_id.is_none() {
        errors.push(FieldError::new("party_id", "choose the supplier"));
    }
    let on = crate::dates::past_date("applied_on", n.applied_on.as_deref(), today, &mut errors);
    let (Some(party), Some(on), true) = (n.party_id, on, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    crate::parties::get(&mut tx, party).await?.ok_or_else(|| DomainError::invalid("party_id", "no such party"))?;
    if let Some(why) = crate::parties::prc_or_russia_tie(&mut tx, party).await? {
        return Err(DomainError::invalid(
            "party_id",
            format!("a supplier owned, controlled or directed by the PRC or Russia is not listed: {why}"),
        ));
    }
    let id = SupplierId::new();
    if !db::insert_supplier(&mut tx, id, (party, on), (user.id, now)).await? {
        return Err(DomainError::Conflict("this supplier is already listed or has an application open".into()));
    }
    let event = NewEvent::new(EventType::GeneralAuthorizationSupplierApplied)
        .object("ga_supplier", id)
        .changes(json!({"party": party, "applied_on": on}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let s = db::supplier(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(s)
}

/// The office's decision on a supplier's application (approved, denied) or its removal
/// from the list: a supervisor's, dated, with its audit event.
pub async fn decide_supplier(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: SupplierId,
    d: &SupplierDecision,
) -> Result<Supplier, DomainError> {
    require(user, Action::SignAuthorizations)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let status = d.status.or_error("status", "must be approved, denied or removed", &mut errors);
    let on = crate::dates::past_date("on", d.on.as_deref(), today, &mut errors);
    let reason = d.reason.trim();
    if crate::text::too_long(reason, crate::text::TEXT) {
        errors.push(FieldError::new("reason", crate::text::at_most(crate::text::TEXT)));
    }
    if matches!(status, Some(SupplierStatus::Denied | SupplierStatus::Removed)) && reason.is_empty() {
        errors.push(FieldError::new("reason", "say why"));
    }
    let (Some(status), Some(on), true) = (status, on, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    let s = db::lock_supplier(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    if s.version != d.version {
        return Err(DomainError::changed_since("this application", None));
    }
    let allowed = matches!(
        (s.status, status),
        (SupplierStatus::Applied, SupplierStatus::Approved | SupplierStatus::Denied)
            | (SupplierStatus::Approved, SupplierStatus::Removed)
    );
    if !allowed {
        return Err(DomainError::Conflict(format!(
            "the application is {}: it cannot be {} now",
            s.status.label().to_lowercase(),
            status.label().to_lowercase()
        )));
    }
    let since = if status == SupplierStatus::Removed { s.decided_on.unwrap_or(s.applied_on) } else { s.applied_on };
    if on < since {
        return Err(DomainError::invalid("on", format!("cannot be before {since}")));
    }
    if status == SupplierStatus::Approved
        && let Some(why) = crate::parties::prc_or_russia_tie(&mut tx, s.party_id).await?
    {
        return Err(DomainError::Conflict(format!("the supplier cannot be listed: {why}")));
    }
    if !db::decide_supplier(&mut tx, id, d.version, (status, on, reason), now).await? {
        return Err(DomainError::changed_meanwhile("this application"));
    }
    let event =
        NewEvent::new(EventType::GeneralAuthorizationSupplierDecided).object("ga_supplier", id).changes(json!({
            "party": s.party_id, "status": {"before": s.status, "after": status}, "on": on, "reason": reason,
        }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let s = db::supplier(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(s)
}
