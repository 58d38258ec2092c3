//! Declarations' use cases: a party's filer role recorded, a declaration filed, amended
//! and moved through its review. Each change is one transaction with its audit event.

use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db;
use super::model::{
    Checked, Declaration, DeclarationAmendment, DeclarationStatus, DeclarationStatusChange, DueDate, FilerRoleRow,
    HistoryEntry, Missing, NewAnswer, NewDeclaration, NewDueDate, NewFilerRole, NewQuestion, Question, Work,
};
use crate::access::{Action, Actor};
use crate::audit::{self, EventType, NewEvent};
use crate::error::{DomainError, FieldError};
use crate::ids::{DeclarationId, PartyId};

/// How a declaration reached the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The API (the office's public portal calls it).
    Api,
    /// An analyst's form.
    Form,
    /// A CSV file ([`super::bulk`]).
    Bulk,
}

impl Via {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Form => "form",
            Via::Bulk => "bulk",
        }
    }
}

fn require(user: &Actor, action: Action) -> Result<(), DomainError> {
    if user.may(action) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Records that a party files as `role` from a date: the registry's parties become filers.
pub async fn record_filer_role(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    party: PartyId,
    r: &NewFilerRole,
) -> Result<Vec<FilerRoleRow>, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let role = r.role.or_error("role", "must be vehicle_manufacturer or hardware_importer", &mut errors);
    let since = crate::dates::past_date("since", r.since.as_deref(), today, &mut errors);
    let (Some(role), Some(since)) = (role, since) else { return Err(DomainError::Invalid(errors)) };
    let mut tx = conn.begin().await?;
    let p = crate::parties::get(&mut tx, party).await?.ok_or(DomainError::NotFound)?;
    if !db::insert_filer_role(&mut tx, party, role, since, (user.id, now)).await? {
        return Err(DomainError::Conflict(format!("{} is already recorded as a {}", p.legal_name, role.label())));
    }
    let event = NewEvent::new(EventType::PartyFilerRoleRecorded)
        .object("party", party)
        .changes(json!({"role": role, "since": since}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let roles = db::filer_roles(&mut tx, party).await?;
    tx.commit().await?;
    Ok(roles)
}

/// Refuses a filer that is no party, or does not hold the role the declaration's kind
/// needs.
async fn check_filer(conn: &mut PgConnection, d: &Checked) -> Result<(), DomainError> {
    let party = crate::parties::get(&mut *conn, d.filer_id)
        .await?
        .ok_or_else(|| DomainError::invalid("filer_id", "no such party"))?;
    let needed = d.kind.filer_role();
    if !db::filer_roles(conn, d.filer_id).await?.iter().any(|r| r.role == needed) {
        return Err(DomainError::invalid(
            "filer_id",
            format!(
                "{} is not recorded as a {}: record its filer role on its page first",
                party.legal_name,
                needed.label().to_lowercase()
            ),
        ));
    }
    Ok(())
}

/// The changes an event of a filed declaration carries.
pub(super) fn filed(number: &str, d: &Checked, via: Via) -> serde_json::Value {
    json!({
        "number": number, "filer": d.filer_id, "kind": d.kind, "model_year": d.model_year,
        "calendar_year": d.calendar_year, "covers": d.covers, "certifications": d.certifications,
        "general_authorization": d.general_authorization, "filed_on": d.filed_on, "via": via.as_str(),
    })
}

/// Receives a declaration: numbered, recorded as received with its history and audit event.
/// Refused (409) when one is in force for the same filer, kind and year: a change to it is
/// filed as its amendment.
pub async fn file(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    n: &NewDeclaration,
    via: Via,
) -> Result<Declaration, DomainError> {
    require(user, Action::WorkFilings)?;
    let d = n.check(crate::dates::today(now)).map_err(DomainError::Invalid)?;
    let mut tx = conn.begin().await?;
    check_filer(&mut tx, &d).await?;
    let (id, number) = (DeclarationId::new(), db::next_number(&mut tx, now.year()).await?);
    if !db::insert(&mut tx, &db::NewRow { id, number: &number, d: &d, via: via.as_str(), amends: None }, (user.id, now))
        .await?
    {
        let (_, existing) = db::in_force(&mut tx, &d).await?.unwrap_or_default();
        return Err(DomainError::Conflict(format!(
            "{existing} is already in force for this filer, kind and year: file the change as its amendment"
        )));
    }
    db::record_history(&mut tx, id, (None, DeclarationStatus::Received), "", (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeclarationFiled).object("declaration", id).changes(filed(&number, &d, via));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Files an amendment of declaration `id` after a material change: the amendment is
/// received as a new declaration of the same filer, kind and year, and the one it amends
/// is superseded, its history kept. Refused (409) when that one is superseded already.
pub async fn amend(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeclarationId,
    a: &DeclarationAmendment,
    via: Via,
) -> Result<Declaration, DomainError> {
    require(user, Action::WorkFilings)?;
    let mut errors = Vec::new();
    let d = a.declaration.check(crate::dates::today(now)).map_err(|e| errors.extend(e)).ok();
    let reason = a.reason.trim();
    if reason.is_empty() || crate::text::too_long(reason, crate::text::TEXT) {
        errors.push(FieldError::new("reason", "say what changed (1 to 20,000 characters)"));
    }
    let Some(d) = d.filter(|_| errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let mut tx = conn.begin().await?;
    let old = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    if let Some(by) = old.superseded_by {
        let by = db::number(&mut tx, by).await?.unwrap_or_default();
        return Err(DomainError::Conflict(format!("{} is already superseded by {by}: amend that one", old.number)));
    }
    if (old.filer_id, old.kind, old.model_year, old.calendar_year)
        != (d.filer_id, d.kind, d.model_year, d.calendar_year)
    {
        return Err(DomainError::invalid(
            "declaration",
            format!(
                "an amendment keeps the filer, kind and year of {} ({}, {})",
                old.number,
                old.kind.label(),
                old.year()
            ),
        ));
    }
    check_filer(&mut tx, &d).await?;
    let (new, number) = (DeclarationId::new(), db::next_number(&mut tx, now.year()).await?);
    db::supersede(&mut tx, id, new, now).await?;
    db::record_history(&mut tx, id, (Some(old.status), DeclarationStatus::Superseded), reason, (user.id, now)).await?;
    let row = db::NewRow { id: new, number: &number, d: &d, via: via.as_str(), amends: Some((id, reason)) };
    if !db::insert(&mut tx, &row, (user.id, now)).await? {
        return Err(DomainError::changed_meanwhile(&old.number));
    }
    db::record_history(&mut tx, new, (None, DeclarationStatus::Received), reason, (user.id, now)).await?;
    let superseded = NewEvent::new(EventType::DeclarationSuperseded).object("declaration", id).changes(json!({
        "number": old.number, "status": {"before": old.status, "after": DeclarationStatus::Superseded},
        "superseded_by": new, "reason": reason,
    }));
    audit::record(&mut tx, now, &user.audit(), superseded).await?;
    let mut changes = filed(&number, &d, via);
    changes["amends"] = json!(id);
    changes["amendment_reason"] = json!(reason);
    let event = NewEvent::new(EventType::DeclarationFiled).object("declaration", new).changes(changes);
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row = db::get(&mut tx, new).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Moves a declaration through its review, from the version the reviewer saw.
pub async fn set_status(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeclarationId,
    c: &DeclarationStatusChange,
) -> Result<Declaration, DomainError> {
    require(user, Action::WorkFilings)?;
    let to = c
        .status
        .or_invalid("status", "must be under_review, questions_asked, accepted or deficient")
        .map_err(|e| DomainError::Invalid(vec![e]))?;
    let reason = c.reason.trim();
    if crate::text::too_long(reason, crate::text::TEXT) {
        return Err(DomainError::invalid("reason", crate::text::at_most(crate::text::TEXT)));
    }
    let mut tx = conn.begin().await?;
    let d = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    if d.version != c.version {
        return Err(DomainError::changed_since(&d.number, Some(d.status.label())));
    }
    if !d.status.may_move_to(to) {
        return Err(DomainError::Conflict(format!(
            "{} is {}: it cannot move to {}",
            d.number,
            d.status.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    if to.needs_reason(d.status) && reason.is_empty() {
        return Err(DomainError::invalid(
            "reason",
            match to {
                DeclarationStatus::QuestionsAsked => "give the questions asked",
                DeclarationStatus::Deficient => "give the deficiencies found",
                _ => "say why a decided declaration is reviewed again",
            },
        ));
    }
    move_to(&mut tx, user, now, &d, to, reason).await?;
    if to == DeclarationStatus::QuestionsAsked {
        record_question(&mut tx, user, now, &d, reason, crate::dates::today(now)).await?;
    }
    let row = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Moves declaration `d` to `to` with its history and audit event.
async fn move_to(
    tx: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    d: &Declaration,
    to: DeclarationStatus,
    reason: &str,
) -> Result<(), DomainError> {
    db::set_status(&mut *tx, d.id, to, reason, now).await?;
    db::record_history(&mut *tx, d.id, (Some(d.status), to), reason, (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeclarationStatusChanged).object("declaration", d.id).changes(json!({
        "number": d.number, "status": {"before": d.status, "after": to}, "reason": reason,
    }));
    audit::record(tx, now, &user.audit(), event).await?;
    Ok(())
}

/// Records a question asked of declaration `d`'s filer on `asked_on`, with its audit event.
async fn record_question(
    tx: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    d: &Declaration,
    question: &str,
    asked_on: time::Date,
) -> Result<i64, DomainError> {
    let seq = db::insert_question(&mut *tx, d.id, question, asked_on, (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeclarationQuestionAsked).object("declaration", d.id).changes(json!({
        "number": d.number, "question": seq, "text": question, "asked_on": asked_on,
    }));
    audit::record(tx, now, &user.audit(), event).await?;
    Ok(seq)
}

/// Asks the filer a question about declaration `id`, from the version the reviewer saw: a
/// declaration under review moves to questions asked; one waiting for answers gets one
/// more. Refused (409) for a declaration not under review.
pub async fn ask(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeclarationId,
    q: &NewQuestion,
) -> Result<Declaration, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let question = q.question.trim();
    if question.is_empty() || crate::text::too_long(question, crate::text::TEXT) {
        errors.push(FieldError::new("question", "give the question (1 to 20,000 characters)"));
    }
    let asked_on = crate::dates::past_date("asked_on", q.asked_on.as_deref(), today, &mut errors);
    let (Some(asked_on), true) = (asked_on, errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let mut tx = conn.begin().await?;
    let d = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    if d.version != q.version {
        return Err(DomainError::changed_since(&d.number, None));
    }
    match d.status {
        DeclarationStatus::UnderReview => {
            move_to(&mut tx, user, now, &d, DeclarationStatus::QuestionsAsked, question).await?
        }
        DeclarationStatus::QuestionsAsked => {}
        s => {
            return Err(DomainError::Conflict(format!(
                "{} is {}: questions are asked of a declaration under review",
                d.number,
                s.label().to_lowercase()
            )));
        }
    }
    record_question(&mut tx, user, now, &d, question, asked_on).await?;
    let row = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// Records the filer's answer to question `seq` of declaration `id`. Once every question is
/// answered, a declaration waiting for answers goes back under review.
pub async fn answer(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: DeclarationId,
    seq: i64,
    a: &NewAnswer,
) -> Result<Declaration, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let answer = a.answer.trim();
    if answer.is_empty() || crate::text::too_long(answer, crate::text::TEXT) {
        errors.push(FieldError::new("answer", "give the filer's answer (1 to 20,000 characters)"));
    }
    let answered_on = crate::dates::past_date("answered_on", a.answered_on.as_deref(), today, &mut errors);
    let (Some(answered_on), true) = (answered_on, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    let d = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    let (asked_on, answered) = db::lock_question(&mut tx, id, seq).await?.ok_or(DomainError::NotFound)?;
    if answered {
        return Err(DomainError::Conflict(format!("question {seq} of {} is answered already", d.number)));
    }
    if answered_on < asked_on {
        return Err(DomainError::invalid(
            "answered_on",
            format!("cannot be before the question was asked, {asked_on}"),
        ));
    }
    db::set_answer(&mut tx, id, seq, (answer, answered_on), (user.id, now)).await?;
    let event = NewEvent::new(EventType::DeclarationQuestionAnswered).object("declaration", id).changes(json!({
        "number": d.number, "question": seq, "answer": answer, "answered_on": answered_on,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    if d.status == DeclarationStatus::QuestionsAsked && db::open_questions(&mut tx, id).await? == 0 {
        let why = "The filer answered every question.";
        move_to(&mut tx, user, now, &d, DeclarationStatus::UnderReview, why).await?;
    }
    let row = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(row)
}

/// A declaration's questions, in the order asked, for a reader of filings.
pub async fn questions(conn: &mut PgConnection, user: &Actor, id: DeclarationId) -> Result<Vec<Question>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::questions(conn, id).await?)
}

/// A party's filer roles, for a reader of filings.
pub async fn filer_roles(
    conn: &mut PgConnection,
    user: &Actor,
    party: PartyId,
) -> Result<Vec<FilerRoleRow>, DomainError> {
    require(user, Action::ViewFilings)?;
    crate::parties::get(&mut *conn, party).await?.ok_or(DomainError::NotFound)?;
    Ok(db::filer_roles(conn, party).await?)
}

/// A party's filer roles and declarations, newest first: what a filer's page shows of the
/// second docket (nothing for a reader who sees no filings).
pub async fn of_filer(
    conn: &mut PgConnection,
    user: &Actor,
    party: PartyId,
) -> Result<(Vec<FilerRoleRow>, Vec<Declaration>), DomainError> {
    if !user.may(Action::ViewFilings) {
        return Ok((Vec::new(), Vec::new()));
    }
    Ok((db::filer_roles(&mut *conn, party).await?, db::of_filer(conn, party).await?))
}

/// The number of a declaration, for a reader of filings (a link to it).
pub async fn number_of(conn: &mut PgConnection, user: &Actor, id: DeclarationId) -> Result<String, DomainError> {
    require(user, Action::ViewFilings)?;
    db::number(conn, id).await?.ok_or(DomainError::NotFound)
}

/// A declaration and its history, for a reader of filings.
pub async fn get(
    conn: &mut PgConnection,
    user: &Actor,
    id: DeclarationId,
) -> Result<(Declaration, Vec<HistoryEntry>), DomainError> {
    require(user, Action::ViewFilings)?;
    let d = db::get(&mut *conn, id).await?.ok_or(DomainError::NotFound)?;
    let h = db::history(conn, id).await?;
    Ok((d, h))
}

/// A page of the declaration list, for a reader of filings.
pub async fn page(
    conn: &mut PgConnection,
    user: &Actor,
    f: &db::Filter,
) -> Result<crate::db::Page<Declaration>, DomainError> {
    require(user, Action::ViewFilings)?;
    let rows = db::page(conn, f).await?;
    Ok(crate::db::Page::from_read(rows, f.limit, f.after.is_some(), f.backwards, cursor_of))
}

/// How many declarations match `f`, for a reader of filings.
pub async fn count(conn: &mut PgConnection, user: &Actor, f: &db::Filter) -> Result<crate::db::Total, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::count(conn, f).await?)
}

/// How many filers a form lists to choose from; with more, it takes a filer's name.
pub const FILERS_LISTED: i64 = 100;

/// The filers a form offers, by name: all of them when the office has at most
/// [`FILERS_LISTED`]; none when it has more (the form then takes a filer's name or id,
/// found by [`filer_named`] when posted).
pub async fn filers(conn: &mut PgConnection, user: &Actor) -> Result<Option<Vec<(PartyId, String)>>, DomainError> {
    require(user, Action::ViewFilings)?;
    // Counted first (at most one more than are listed): listing sorts the filers by name.
    if db::filer_roles_to(&mut *conn, FILERS_LISTED + 1).await? > FILERS_LISTED {
        return Ok(None);
    }
    Ok(Some(db::filers(conn, FILERS_LISTED).await?))
}

/// What a form's filer field offers: the filers listed (see [`filers`]), with the one
/// `chosen` (an id picked or given before) first when the list leaves it out, and whether
/// the field takes a name or id instead of a choice.
pub async fn filer_choices(
    conn: &mut PgConnection,
    user: &Actor,
    chosen: &str,
) -> Result<(Vec<(PartyId, String)>, bool), DomainError> {
    let Some(mut listed) = filers(&mut *conn, user).await? else { return Ok((Vec::new(), true)) };
    if let Ok(p) = chosen.trim().parse::<PartyId>()
        && !listed.iter().any(|(id, _)| *id == p)
        && let Some(party) = crate::parties::get(&mut *conn, p).await?
    {
        listed.insert(0, (party.id, party.legal_name));
    }
    Ok((listed, false))
}

/// The filer a form's `field` names: its id, or its legal name in any case; `None` when
/// nothing is typed. Otherwise the problem, naming up to five filers whose names hold what
/// was typed.
pub async fn filer_named(
    conn: &mut PgConnection,
    typed: &str,
    field: &str,
) -> Result<Result<Option<PartyId>, FieldError>, DomainError> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(Ok(None));
    }
    if let Ok(id) = t.parse::<PartyId>() {
        return Ok(Ok(Some(id)));
    }
    let found = db::filers_named(&mut *conn, &[t.to_string()]).await?;
    if let Some((id, _, roles)) = found.get(&t.to_lowercase())
        && !roles.is_empty()
    {
        return Ok(Ok(Some(*id)));
    }
    let like = db::filers_like(conn, &t.chars().take(200).collect::<String>(), 5).await?;
    let message = if like.is_empty() {
        format!("no filer is named {t:?}: record the party's filer role on its page first")
    } else {
        let names: Vec<&str> = like.iter().map(|(_, n)| n.as_str()).collect();
        format!("no filer is named exactly {t:?}; filers whose names hold it: {}", names.join("; "))
    };
    Ok(Err(FieldError::new(field, message)))
}

/// The list's cursor of a row: its receipt (in nanoseconds) and id.
pub fn cursor_of(d: &Declaration) -> String {
    format!("{}~{}", d.received_at.unix_timestamp_nanos(), d.id)
}

/// The (received at, id) a cursor names.
pub fn parse_cursor(c: &str) -> Option<(OffsetDateTime, DeclarationId)> {
    let (key, id) = crate::db::parse_cursor(c)?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(key.parse().ok()?).ok()?;
    Some((at, DeclarationId(id)))
}

/// The dates by which the office expects each year's declarations, for a reader of filings
/// or an administrator.
pub async fn due_dates(conn: &mut PgConnection, user: &Actor) -> Result<Vec<DueDate>, DomainError> {
    if !(user.may(Action::ViewFilings) || user.may(Action::ManageReference)) {
        return Err(DomainError::Forbidden);
    }
    Ok(db::due_dates(conn).await?)
}

/// Sets the date by which `year`'s declarations are expected (administrators: the office's
/// reference data), with its audit event.
pub async fn set_due_date(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    year: i64,
    n: &NewDueDate,
) -> Result<DueDate, DomainError> {
    require(user, Action::ManageReference)?;
    let mut errors = Vec::new();
    if !super::model::YEARS.contains(&year) {
        errors.push(FieldError::new("year", "must be a year from 2024 to 2100"));
    }
    let due_on = crate::dates::parse_date(&n.due_on);
    if due_on.is_none() {
        errors.push(FieldError::new("due_on", "give a date as YYYY-MM-DD"));
    }
    let note = n.note.trim().to_string();
    if crate::text::too_long(&note, crate::text::LINE) {
        errors.push(FieldError::new("note", crate::text::at_most(crate::text::LINE)));
    }
    let (Some(due_on), true) = (due_on, errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let d = DueDate { year, due_on, note };
    let mut tx = conn.begin().await?;
    let before = db::set_due_date(&mut tx, &d, (user.id, now)).await?;
    let event = NewEvent::new(EventType::ReferenceUpdated).object("declaration_due_date", year).changes(json!({
        "year": year, "due_on": {"before": before, "after": due_on}, "note": d.note,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(d)
}

/// The filers expected but missing today, for a reader of filings.
pub async fn missing(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<Vec<Missing>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::missing(conn, crate::dates::today(now)).await?)
}

/// The second docket's work for a home page: none for a role that does not review filings.
pub async fn work(conn: &mut PgConnection, user: &Actor, now: OffsetDateTime) -> Result<Option<Work>, DomainError> {
    if !user.may(Action::WorkFilings) {
        return Ok(None);
    }
    let mut w = db::work(&mut *conn).await?;
    w.missing = db::missing(conn, crate::dates::today(now)).await?.len() as i64;
    Ok(Some(w))
}

/// The filer of declaration `id` (another domain's check that a declaration it names is
/// the party's).
pub async fn filer_of(conn: &mut PgConnection, id: DeclarationId) -> Result<Option<PartyId>, DomainError> {
    Ok(db::filer_of(conn, id).await?)
}
