//! Enforcement's use cases: the basis of a penalty; matters opened and their acts recorded
//! in the rule's order, each change one transaction with its audit event.

use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db;
use super::model::{
    Act, ActKind, ActRow, Basis, EnforcementWork, Factor, Matter, Maximum, NewAct, NewMatter, Provision,
};
use crate::access::{Action, Actor};
use crate::audit::{self, EventType, NewEvent};
use crate::choice::Choice;
use crate::error::{DomainError, FieldError};
use crate::ids::{MatterId, PartyId};

/// The most a transaction's value may be, in cents (a trillion dollars).
pub const MAX_VALUE_CENTS: i64 = 100_000_000_000_000;

/// What a penalty's basis is asked for, as given.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub violation_on: String,
    /// In dollars, e.g. `1250000` or `1,250,000.50`.
    pub transaction_value: String,
    pub factors: Vec<Choice<Factor>>,
}

/// The basis of a penalty, for a reader of filings or cases: every bad field named.
pub async fn basis(conn: &mut PgConnection, user: &Actor, asked: &Asked) -> Result<Basis, DomainError> {
    if !(user.may(Action::ViewFilings) || user.may(Action::ViewCases)) {
        return Err(DomainError::Forbidden);
    }
    let mut errors = Vec::new();
    let on = crate::dates::parse_date(&asked.violation_on);
    if on.is_none() {
        errors.push(FieldError::new("violation_on", "give the violation's date as YYYY-MM-DD"));
    }
    let value = cents(&asked.transaction_value);
    if value.is_none() {
        errors.push(FieldError::new("transaction_value", "give the transaction's value in dollars, e.g. 1,250,000"));
    }
    let mut factors = Vec::new();
    for f in &asked.factors {
        if let Some(f) = f.or_error("factors", "must be among the factors listed", &mut errors)
            && !factors.contains(&f)
        {
            factors.push(f);
        }
    }
    let (Some(on), Some(value), true) = (on, value, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let Some(statutory) = db::maximum_on(conn, on).await? else {
        return Err(DomainError::invalid("violation_on", format!("no adjusted maximum is recorded in force on {on}")));
    };
    Ok(super::model::basis(on, statutory, value, factors))
}

/// Every adjusted maximum recorded, latest first.
pub async fn maximums(conn: &mut PgConnection) -> Result<Vec<Maximum>, DomainError> {
    Ok(db::maximums(conn).await?)
}

/// Dollars as typed (`$1,250,000.50`) in cents; `None` when it is no amount within bounds.
fn cents(typed: &str) -> Option<i64> {
    let t: String = typed.trim().trim_start_matches('$').chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().ok()? };
    let c = whole.checked_mul(100)?.checked_add(fraction)?;
    (c <= MAX_VALUE_CENTS).then_some(c)
}

fn require(user: &Actor, action: Action) -> Result<(), DomainError> {
    if user.may(action) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Whether `user` may see matter `m`: a first-docket matter as its case (need-to-know).
fn sees(user: &Actor, m: &Matter) -> bool {
    m.case_id.is_none() || crate::access::policy::may_see_case(user.role, user.id, m.case_restricted, m.case_assignee)
}

/// The most a penalty may be for matter `m`'s violation: the greater of the adjusted
/// maximum in force on its date and twice the transaction's value (the maximum alone when
/// the value is not known).
async fn maximum_for(conn: &mut PgConnection, m: &Matter) -> Result<i64, DomainError> {
    Ok(basis_of(conn, m).await?.maximum_cents)
}

/// Opens a matter with its "opened" act and audit event, in one transaction. A
/// first-docket matter names a case the user can see; a declaration named is the party's.
pub async fn open(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    n: &NewMatter,
) -> Result<Matter, DomainError> {
    require(user, Action::WorkEnforcement)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    if n.party_id.is_none() {
        errors.push(FieldError::new("party_id", "choose the party alleged to have violated"));
    }
    let provision = match &n.provision {
        Some(p) => p.or_error(
            "provision",
            "must be final_determination or a section of Subpart D (791.302 to 791.307)",
            &mut errors,
        ),
        None => {
            errors.push(FieldError::new("provision", "choose the provision violated"));
            None
        }
    };
    match provision {
        Some(Provision::FinalDetermination) if n.case_id.is_none() => {
            errors.push(FieldError::new("case_id", "a breach of a final determination names its case"));
        }
        Some(Provision::FinalDetermination) if n.declaration_id.is_some() => {
            errors.push(FieldError::new("declaration_id", "a first-docket matter names no declaration"));
        }
        Some(p) if p != Provision::FinalDetermination && n.case_id.is_some() => {
            errors.push(FieldError::new("case_id", "only a breach of a final determination names a case"));
        }
        _ => {}
    }
    let summary = n.summary.trim();
    if summary.is_empty() || crate::text::too_long(summary, crate::text::TEXT) {
        errors.push(FieldError::new("summary", "state the alleged violation (1 to 20,000 characters)"));
    }
    let violation_on = if n.violation_on.trim().is_empty() {
        errors.push(FieldError::new("violation_on", "give the violation's date as YYYY-MM-DD"));
        None
    } else {
        crate::dates::past_date("violation_on", Some(&n.violation_on), today, &mut errors)
    };
    let value = match n.transaction_value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => {
            let c = cents(t);
            if c.is_none() {
                errors.push(FieldError::new(
                    "transaction_value",
                    "give the transaction's value in dollars, e.g. 1,250,000",
                ));
            }
            c
        }
    };
    let opened_on = crate::dates::past_date("opened_on", n.opened_on.as_deref(), today, &mut errors);
    if let (Some(v), Some(o)) = (violation_on, opened_on)
        && o < v
    {
        errors.push(FieldError::new("opened_on", format!("cannot be before the violation, {v}")));
    }
    let (Some(party), Some(provision), Some(violation_on), Some(opened_on), true) =
        (n.party_id, provision, violation_on, opened_on, errors.is_empty())
    else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    let p =
        crate::parties::get(&mut tx, party).await?.ok_or_else(|| DomainError::invalid("party_id", "no such party"))?;
    if let Some(case) = n.case_id {
        crate::cases::service::visible(&mut tx, user, case, false)
            .await
            .map_err(|_| DomainError::invalid("case_id", "no such case"))?;
    }
    if let Some(d) = n.declaration_id {
        let filer = crate::declarations::service::filer_of(&mut tx, d)
            .await?
            .ok_or_else(|| DomainError::invalid("declaration_id", "no such declaration"))?;
        if filer != party {
            return Err(DomainError::invalid("declaration_id", format!("is not a declaration of {}", p.legal_name)));
        }
    }
    if db::maximum_on(&mut tx, violation_on).await?.is_none() {
        return Err(DomainError::invalid(
            "violation_on",
            format!("no adjusted maximum is recorded in force on {violation_on}"),
        ));
    }
    let (id, number) = (MatterId::new(), db::next_number(&mut tx, now.year()).await?);
    let row = db::NewMatterRow {
        id,
        number: &number,
        party,
        provision,
        case: n.case_id,
        declaration: n.declaration_id,
        summary,
        violation_on,
        value_cents: value,
        self_disclosed: n.self_disclosed,
        opened_on,
    };
    db::insert(&mut tx, &row, (user.id, now)).await?;
    let opened = Act {
        kind: ActKind::Opened,
        effective_on: opened_on,
        amount_cents: None,
        due_on: None,
        note: summary.to_string(),
    };
    db::insert_act(&mut tx, id, &opened, (user.id, now)).await?;
    let event = NewEvent::new(EventType::EnforcementMatterOpened).object("enforcement_matter", id).changes(json!({
        "number": number, "party": party, "provision": provision, "case": n.case_id, "declaration": n.declaration_id,
        "summary": summary, "violation_on": violation_on, "transaction_value_cents": value,
        "self_disclosed": n.self_disclosed, "opened_on": opened_on,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let m = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(m)
}

/// Records an act in matter `id` from the version the user saw, in the rule's order, with
/// its audit event: the office's acts by a supervisor, answers by an analyst too.
pub async fn record_act(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: MatterId,
    a: &NewAct,
) -> Result<Matter, DomainError> {
    require(user, Action::WorkEnforcement)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let kind = a.kind.or_error("kind", "must be one of the acts listed", &mut errors).filter(|k| {
        let ok = *k != ActKind::Opened;
        if !ok {
            errors.push(FieldError::new("kind", "a matter is opened once, with its own form"));
        }
        ok
    });
    let on = crate::dates::past_date("effective_on", a.effective_on.as_deref(), today, &mut errors);
    let amount = match a.amount.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => {
            let c = cents(t);
            if c.is_none() {
                errors.push(FieldError::new("amount", "give the amount in dollars, e.g. 250,000"));
            }
            c
        }
    };
    let due_on = match a.due_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => {
            let d = crate::dates::parse_date(t);
            if d.is_none() {
                errors.push(FieldError::new("due_on", "give a date as YYYY-MM-DD"));
            }
            d
        }
    };
    if crate::text::too_long(&a.note, crate::text::TEXT) {
        errors.push(FieldError::new("note", crate::text::at_most(crate::text::TEXT)));
    }
    let (Some(kind), Some(on), true) = (kind, on, errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    if kind.decides() {
        require(user, Action::DecideEnforcement)?;
    }
    let mut tx = conn.begin().await?;
    let m = db::lock(&mut tx, id).await?.filter(|m| sees(user, m)).ok_or(DomainError::NotFound)?;
    if m.version != a.version {
        return Err(DomainError::changed_since(&m.number, Some(m.stage.label())));
    }
    let maximum = maximum_for(&mut tx, &m).await?;
    let asked = Act { kind, effective_on: on, amount_cents: amount, due_on, note: a.note.clone() };
    let (next, act) = super::model::apply(m.standing(), &asked, today, maximum)
        .map_err(|r| DomainError::invalid(r.field, r.message))?;
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    if !db::set_standing(&mut tx, id, m.version, &next, now).await? {
        return Err(DomainError::changed_meanwhile(&m.number));
    }
    let event = NewEvent::new(EventType::EnforcementActRecorded).object("enforcement_matter", id).changes(json!({
        "number": m.number, "act": act.kind, "effective_on": act.effective_on, "amount_cents": act.amount_cents,
        "due_on": act.due_on, "note": act.note,
        "stage": {"before": m.stage, "after": next.stage},
        "answer_due_on": {"before": m.answer_due_on, "after": next.answer_due_on},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let m = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(m)
}

/// A matter and its acts, for a reader of enforcement who may see it.
pub async fn get(conn: &mut PgConnection, user: &Actor, id: MatterId) -> Result<(Matter, Vec<ActRow>), DomainError> {
    require(user, Action::ViewEnforcement)?;
    let m = db::get(&mut *conn, id).await?.filter(|m| sees(user, m)).ok_or(DomainError::NotFound)?;
    let acts = db::acts(conn, id).await?;
    Ok((m, acts))
}

/// How `user` reads the matter list, for need-to-know.
fn reader(user: &Actor) -> db::Reader {
    use crate::access::policy::{CaseScope, case_scope};
    let scope = case_scope(user.role);
    db::Reader { all_cases: scope == CaseScope::All, open_cases: scope != CaseScope::Nothing, user: user.id }
}

/// A page of the matter list as `f` asks, those the user may see.
pub async fn page(
    conn: &mut PgConnection,
    user: &Actor,
    f: &db::Filter,
) -> Result<crate::db::Page<Matter>, DomainError> {
    require(user, Action::ViewEnforcement)?;
    let rows = db::page(conn, f, reader(user)).await?;
    Ok(match f.page {
        db::MatterPage::Due(k) => k.page(rows, |m: &Matter| (m.due_key(), m.id.0)),
        db::MatterPage::Opened(k) => k.page(rows, |m: &Matter| (m.opened_at, m.id.0)),
    })
}

/// How many matters the user may see match `f`.
pub async fn count(conn: &mut PgConnection, user: &Actor, f: &db::Filter) -> Result<crate::db::Total, DomainError> {
    require(user, Action::ViewEnforcement)?;
    Ok(db::count(conn, f, reader(user)).await?)
}

/// The matters whose number, party or alleged violation holds `q`, newest first: at most
/// `limit`, those the user may see.
pub async fn search(conn: &mut PgConnection, user: &Actor, q: &str, limit: i64) -> Result<Vec<Matter>, DomainError> {
    require(user, Action::ViewEnforcement)?;
    Ok(db::search(conn, q, limit).await?.into_iter().filter(|m| sees(user, m)).collect())
}

/// The most matters a party's page lists (the list pages through them all).
pub const PARTY_LIMIT: i64 = 500;

/// Enforcement's work for a home page: none for a role that does not work matters.
pub async fn work(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
) -> Result<Option<EnforcementWork>, DomainError> {
    if !user.may(Action::WorkEnforcement) {
        return Ok(None);
    }
    Ok(Some(db::work(conn, crate::dates::today(now)).await?))
}

/// The basis of matter `m`'s penalty (the factors weighed: a voluntary self-disclosure).
pub async fn basis_of(conn: &mut PgConnection, m: &Matter) -> Result<Basis, DomainError> {
    let statutory = db::maximum_on(conn, m.violation_on).await?.ok_or_else(|| {
        DomainError::Conflict(format!("no adjusted maximum is recorded in force on {}", m.violation_on))
    })?;
    let factors = if m.self_disclosed { vec![Factor::VoluntarySelfDisclosure] } else { Vec::new() };
    Ok(super::model::basis(m.violation_on, statutory, m.transaction_value_cents.unwrap_or(0), factors))
}

/// The acts `user` may record next in matter `m`: those its stage allows, the office's
/// decisions only for who may take them.
pub fn next_acts(user: &Actor, m: &Matter) -> Vec<ActKind> {
    if !user.may(Action::WorkEnforcement) {
        return Vec::new();
    }
    super::model::next_acts(m.stage)
        .into_iter()
        .filter(|k| !k.decides() || user.may(Action::DecideEnforcement))
        .collect()
}

/// A party's matters, newest first: what a party's page shows of enforcement (nothing for
/// a reader who sees no matters).
pub async fn of_party(conn: &mut PgConnection, user: &Actor, party: PartyId) -> Result<Vec<Matter>, DomainError> {
    if !user.may(Action::ViewEnforcement) {
        return Ok(Vec::new());
    }
    Ok(db::of_party(conn, party, PARTY_LIMIT).await?.into_iter().filter(|m| sees(user, m)).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_read_as_typed() {
        assert_eq!(super::cents("$1,250,000"), Some(125_000_000));
        assert_eq!(super::cents("1250000.5"), Some(125_000_050));
        assert_eq!(super::cents("0.05"), Some(5));
        for bad in ["", "-5", "1.234", "ten", "1e9", "99999999999999999999"] {
            assert_eq!(super::cents(bad), None, "{bad}");
        }
    }
}
