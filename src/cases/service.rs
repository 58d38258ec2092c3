//! Case use cases: each checks permission and need-to-know, applies the pure rules, writes
//! with a version guard, and appends its audit event, all in one transaction.

use crate::ids::{CaseId, NoteId, PartyId, RfiId, UserId};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use time::{Date, OffsetDateTime};

use super::clocks::{self, ClockName, ClockState};
use super::db::{self, CaseFilter};
use super::model::{ActDates, CaseRow, CaseView, NewCase, Questions, UserRef, ValidEdit};
use super::workflow::{self, Action, Change, Facts, Input, Refusal, RuleVersion, Stage};
use crate::access::Actor;
use crate::access::{Role, policy};
use crate::audit::{self, EventType, NewEvent};
use crate::dates::{When, today};
use crate::error::{DomainError, FieldError};
use crate::parties::PartyRole;

// Kept here for the determinations, which record their events through the cases.
pub use super::db::determination_event;

/// Loads a case the user may see, or 404 (the same answer as for a case that does not
/// exist, so restricted cases stay invisible).
pub async fn visible(conn: &mut PgConnection, user: &Actor, id: CaseId, lock: bool) -> Result<CaseRow, DomainError> {
    let row = db::get(conn, id, lock).await?.ok_or(DomainError::NotFound)?;
    if !row.visible_to(user.id, user.role) {
        return Err(DomainError::NotFound);
    }
    Ok(row)
}

/// Links a party to a case the user can see and work (a case knows its parties; the
/// party domain knows nothing of cases).
pub async fn link_party(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    party: PartyId,
    role: PartyRole,
) -> Result<(), DomainError> {
    if !user.may(policy::Action::WorkCases) {
        return Err(DomainError::Forbidden);
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    if policy::case_work(user.role, user.id, c.assignee) != policy::CaseWork::Allowed {
        return Err(DomainError::Forbidden);
    }
    crate::parties::get(&mut tx, party).await?.ok_or_else(|| DomainError::invalid("party_id", "no such party"))?;
    if !db::link_party(&mut tx, case_id, party, role, user.id, now).await? {
        return Err(DomainError::Conflict("the party already has that role in this case".into()));
    }
    let event = NewEvent::new(EventType::CasePartyLinked)
        .object("case", case_id)
        .changes(json!({"party": party, "role": role}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that `user` read a restricted case (`what`: the page or resource), so reads of
/// sensitive material leave a trace. Unrestricted reads are not recorded.
pub async fn audit_read(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    c: &CaseRow,
    what: &str,
) -> Result<(), DomainError> {
    if c.restricted {
        let event = NewEvent::new(EventType::CaseViewed).object("case", c.id).changes(json!({"what": what}));
        audit::record_alone(&mut *conn, now, &user.audit(), event).await?;
    }
    Ok(())
}

/// The workflow facts of a case for `user`.
pub fn facts(c: &CaseRow, user: &Actor, today: Date) -> Facts {
    let response_due = c.served_on.map(|s| s + time::Duration::days(clocks::RESPONSE_DAYS));
    Facts {
        actor_is_assignee: c.assignee == Some(user.id),
        covered: c.covered,
        nexus: c.nexus,
        undue_risk: c.undue_risk,
        rule: c.rule(),
        agencies_notified_on: c.agencies_notified_on,
        first_step_notices: c.first_step_notices as usize,
        second_step_notices: c.second_step_notices as usize,
        unresolved_objection: c.unresolved_objection,
        initial_signed: c.initial_signed_by.is_some(),
        final_decision: c.final_decision,
        response_due,
        response_received: c.response_received_on.is_some(),
        circulated_on: c.circulated_on,
        all_concurred: c.all_concurred,
        today: Some(today),
        stage_since: c.stage_since,
        initial_signed_on: c.initial_signed_on,
        final_signed_on: c.final_signed_on,
        response_complete: c.response_complete_on.is_some(),
        emergency_deviation: c.emergency_deviation,
        nexus_finding_recorded: Some(c.has_nexus_finding),
        assessment_recorded: Some(c.has_assessment),
    }
}

/// The case as the API shows it to `user`, with clocks and allowed actions.
pub async fn view(
    conn: &mut PgConnection,
    c: CaseRow,
    user: &Actor,
    now: OffsetDateTime,
) -> Result<CaseView, DomainError> {
    let today = today(now);
    let inputs = db::clock_inputs(conn, &c, today).await?;
    let clocks = clocks::clocks(&inputs);
    let allowed_actions = workflow::allowed(c.stage, user.role, &facts(&c, user, today));
    Ok(CaseView {
        assignee: c.assignee.map(|id| UserRef { id, name: c.assignee_name.unwrap_or_default() }),
        questions: Questions {
            covered: c.covered,
            covered_note: c.covered_note,
            nexus: c.nexus,
            nexus_note: c.nexus_note,
            undue_risk: c.undue_risk,
            undue_risk_note: c.undue_risk_note,
        },
        decision: c.final_decision,
        clocks,
        allowed_actions,
        dates: ActDates {
            accepted_on: c.accepted_on,
            agencies_notified_on: c.agencies_notified_on,
            initial_signed_on: c.initial_signed_on,
            served_on: c.served_on,
            response_received_on: c.response_received_on,
            response_complete_on: c.response_complete_on,
            circulated_on: c.circulated_on,
            final_signed_on: c.final_signed_on,
            decided_on: c.decided_on,
            stage_since: c.stage_since,
        },
        rule_reason: c.rule_reason,
        emergency_deviation: c.emergency_deviation,
        case: c.case,
    })
}

fn require(user: &Actor, action: policy::Action) -> Result<(), DomainError> {
    if user.may(action) { Ok(()) } else { Err(DomainError::Forbidden) }
}

async fn refresh_dues(
    conn: &mut PgConnection,
    id: CaseId,
    now: OffsetDateTime,
) -> Result<Vec<ClockState>, DomainError> {
    let c = db::get(conn, id, false).await?.ok_or(DomainError::NotFound)?;
    let states = clocks::clocks(&db::clock_inputs(conn, &c, today(now)).await?);
    let due = |n: ClockName| states.iter().find(|s| s.name == n).map(|s| s.due);
    let paused = states.iter().any(|s| s.paused);
    db::store_dues(conn, id, due(ClockName::FinalDetermination), due(ClockName::ResponseWindow), paused).await?;
    Ok(states)
}

/// Files a case at intake. The docket number is taken in the same transaction.
pub async fn create(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    input: NewCase,
) -> Result<CaseRow, DomainError> {
    let mut tx = conn.begin().await?;
    let row = create_in(&mut tx, now, user, input).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`create`] inside the caller's transaction (for idempotent API creates).
pub async fn create_in(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    user: &Actor,
    input: NewCase,
) -> Result<CaseRow, DomainError> {
    require(user, policy::Action::WorkCases)?;
    let docket = match input.docket_number {
        // A case moved in keeps the office's docket number; new ones continue after it.
        Some((year, n)) => {
            require(user, policy::Action::EnterExistingCases)?;
            let docket = super::model::docket_number(year, n);
            if db::id_by_docket(&mut *tx, &docket).await?.is_some() {
                return Err(DomainError::Conflict(format!("{docket} is already the docket number of a case")));
            }
            db::reserve_docket(&mut *tx, year, n).await?;
            docket
        }
        None => db::next_docket(&mut *tx, now.year()).await?,
    };
    let id = CaseId::new();
    // An analyst who files a case works it until a supervisor assigns it elsewhere.
    let assignee = policy::assigned_when_filing(user.role).then_some(user.id);
    db::insert(&mut *tx, id, &docket, &input, assignee, user.id, now).await?;
    let event = NewEvent::new(EventType::CaseCreated).object("case", id).changes(json!({
        "docket_number": {"after": docket}, "title": {"after": input.title}, "origin": {"after": input.origin},
        "referring_agency": {"after": input.referring_agency}, "category": {"after": input.category},
        "adversaries": {"after": input.adversaries}, "restricted": {"after": input.restricted}, "assignee": {"after": assignee},
        "referral_date": {"after": input.referral_date}, "moved_in": input.docket_number.is_some(),
    }));
    audit::record(&mut *tx, now, &user.audit(), event).await?;
    let row = db::get(&mut *tx, id, false).await?.expect("just inserted");
    Ok(row)
}

fn changed<T: PartialEq + serde::Serialize>(
    changes: &mut serde_json::Map<String, Value>,
    field: &str,
    before: &T,
    after: &T,
) -> bool {
    if before != after {
        changes.insert(field.to_string(), json!({"before": before, "after": after}));
        true
    } else {
        false
    }
}

/// Edits a case's descriptive fields and answers. A stale `version` is a conflict and
/// changes nothing.
pub async fn edit(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    version: i32,
    e: ValidEdit,
) -> Result<CaseRow, DomainError> {
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, id, true).await?;
    let may_edit = policy::case_work(user.role, user.id, c.assignee) == policy::CaseWork::Allowed;
    if !may_edit {
        return Err(DomainError::Forbidden);
    }
    if !c.stage.is_open() {
        return Err(DomainError::Conflict(format!(
            "{} is {}: its record is no longer edited; reopen it, or amend the determination",
            c.docket_number,
            c.stage.label().to_lowercase()
        )));
    }
    if e.restricted.is_some_and(|r| r != c.restricted) && !user.may(policy::Action::RestrictCases) {
        return Err(DomainError::invalid("restricted", "only a supervisor may change the need-to-know flag"));
    }
    if c.version != version {
        return Err(DomainError::Conflict(format!(
            "{} was changed by someone else since you opened it (version {} now, yours {version}); nothing was saved. Reload to see the current values.",
            c.docket_number, c.version
        )));
    }
    let mut ch = serde_json::Map::new();
    let title = e.title.unwrap_or(c.title.clone());
    changed(&mut ch, "title", &c.title, &title);
    let summary = e.summary.unwrap_or(c.summary.clone());
    changed(&mut ch, "summary", &c.summary, &summary);
    let category = e.category.unwrap_or(c.category.clone());
    changed(&mut ch, "category", &c.category, &category);
    let adversaries = e.adversaries.unwrap_or(c.adversaries.clone());
    changed(&mut ch, "adversaries", &c.adversaries, &adversaries);
    let restricted = e.restricted.unwrap_or(c.restricted);
    changed(&mut ch, "restricted", &c.restricted, &restricted);
    let covered = e.covered.unwrap_or(c.covered);
    changed(&mut ch, "covered", &c.covered, &covered);
    let covered_note = e.covered_note.unwrap_or(c.covered_note.clone());
    changed(&mut ch, "covered_note", &c.covered_note, &covered_note);
    let nexus = e.nexus.unwrap_or(c.nexus);
    changed(&mut ch, "nexus", &c.nexus, &nexus);
    let nexus_note = e.nexus_note.unwrap_or(c.nexus_note.clone());
    changed(&mut ch, "nexus_note", &c.nexus_note, &nexus_note);
    let undue_risk = e.undue_risk.unwrap_or(c.undue_risk);
    changed(&mut ch, "undue_risk", &c.undue_risk, &undue_risk);
    let undue_risk_note = e.undue_risk_note.unwrap_or(c.undue_risk_note.clone());
    changed(&mut ch, "undue_risk_note", &c.undue_risk_note, &undue_risk_note);
    let answers = ["covered", "covered_note", "nexus", "nexus_note", "undue_risk", "undue_risk_note"];
    if answers.iter().any(|k| ch.contains_key(*k)) {
        // Answering the three questions is an act of the review, on its own date.
        let on = e.answered.date("answered_on", now, &[("the acceptance", c.accepted_on)])?;
        ch.insert("on".into(), json!(on));
        if let Some(why) = e.answered.late_reason() {
            ch.insert("late_reason".into(), json!(why));
        }
    }
    if ch.is_empty() {
        tx.rollback().await?;
        return Ok(c);
    }
    let record =
        db::CaseRecord { title: &title, summary: &summary, category: &category, adversaries: &adversaries, restricted };
    let questions = Questions { covered, covered_note, nexus, nexus_note, undue_risk, undue_risk_note };
    if !db::update_record(&mut tx, (id, version), &record, &questions, now).await? {
        return Err(DomainError::Conflict("the case changed while saving; nothing was saved".into()));
    }
    let withdrawn = crate::notifications::withdraw_unseen(&mut tx, id, restricted, c.assignee).await?;
    if withdrawn > 0 {
        ch.insert("notifications_withdrawn".into(), json!(withdrawn));
    }
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::CaseUpdated).object("case", id).changes(Value::Object(ch)),
    )
    .await?;
    let row = db::get(&mut tx, id, false).await?.expect("exists");
    tx.commit().await?;
    Ok(row)
}

/// Takes a workflow action. An action not possible now is a conflict (409); one the role
/// may never take is 403; missing inputs are 422.
pub async fn transition(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    action: Action,
    input: Input,
    version: Option<i32>,
) -> Result<CaseRow, DomainError> {
    let today = today(now);
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, id, true).await?;
    if let Some(v) = version
        && v != c.version
    {
        return Err(DomainError::Conflict(format!(
            "{} was changed by someone else since you opened it (version {} now, yours {v}); nothing was done",
            c.docket_number, c.version
        )));
    }
    let facts = facts(&c, user, today);
    let to = apply(&mut tx, user, now, &c, Change::Act(action), &facts, &input).await?;
    // The date the act took effect; the audit event keeps when and by whom it was recorded.
    let on = input.date.unwrap_or(today);
    let comment = input.comment.as_deref().map(str::trim).unwrap_or("").to_string();
    let mut extra = serde_json::Map::new();
    extra.insert("on".into(), json!(on));
    if let Some(r) = input.late_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        extra.insert("late_reason".into(), json!(r));
    }
    match action {
        Action::Accept => {
            // The rule in force on the date of acceptance, not on the day it is recorded.
            let rule = RuleVersion::in_force_on(on);
            db::set_accepted(&mut tx, id, on, rule.code()).await?;
            extra.insert("rule_version".into(), json!(rule.code()));
            extra.insert("accepted_on".into(), json!(on));
        }
        Action::RequestInformation => {
            let asked_of = c.referring_agency.clone().unwrap_or_else(|| "the referring party".into());
            db::insert_rfi(&mut tx, RfiId::new(), id, (&asked_of, &comment), on, &[], user.id, now).await?;
        }
        Action::InformationReceived => {
            db::answer_open_rfis(&mut tx, id, on, &comment).await?;
        }
        Action::NotifyAgencies => {
            // The agencies were notified when the first notice went out.
            let on: Date = db::set_agencies_notified(&mut tx, id).await?;
            extra.insert("agencies_notified_on".into(), json!(on));
        }
        Action::ServeInitialDetermination => {
            let served = on;
            let method = input.method.expect("checked by the workflow").as_str();
            db::set_served(&mut tx, id, served).await?;
            db::insert_service(&mut tx, id, (method, served), user.id, now).await?;
            extra.insert("served_on".into(), json!(served));
            extra.insert("method".into(), json!(method));
        }
        Action::CirculateFinalDetermination => {
            let on: Date = db::set_circulated(&mut tx, id).await?;
            extra.insert("circulated_on".into(), json!(on));
        }
        Action::IssueFinalDetermination => {
            db::set_decided(&mut tx, id, on).await?;
            db::determination_event(&mut tx, id, "issued", c.final_decision, &comment, user.id, now).await?;
        }
        _ => {}
    }
    refresh_dues(&mut tx, id, now).await?;
    let mut changes = json!({"action": action.as_str(), "stage": {"before": c.stage, "after": to}});
    if !comment.is_empty() {
        changes["comment"] = json!(comment);
    }
    for (k, v) in extra {
        changes[k] = v;
    }
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::CaseTransition).object("case", id).changes(changes),
    )
    .await?;
    let row = db::get(&mut tx, id, false).await?.expect("exists");
    tx.commit().await?;
    Ok(row)
}

/// Changes a case's stage: the one way any stage changes. The change is checked by the
/// workflow (`check_change`: role, stage, preconditions, inputs) and written only if the
/// case is still at the version the caller read (`case`, locked by the caller); a refusal
/// says why. Returns the new stage.
pub async fn apply(
    conn: &mut PgConnection,
    actor: &Actor,
    now: OffsetDateTime,
    case: &CaseRow,
    change: Change,
    facts: &Facts,
    input: &Input,
) -> Result<Stage, DomainError> {
    let to = workflow::check_change(case.stage, change, actor.role, facts, input).map_err(|r| match r {
        Refusal::Role => DomainError::Forbidden,
        Refusal::NotNow(why) => DomainError::Refused(why),
        Refusal::Input(field, why) => DomainError::invalid(field, why),
    })?;
    let on = input.date.unwrap_or_else(|| today(now));
    if !db::set_stage(conn, case.id, case.version, (to, on), now).await? {
        return Err(DomainError::Conflict("the case changed while saving; nothing was done".into()));
    }
    Ok(to)
}

/// Adds a note to a case the user can see (auditors change nothing, administrators see
/// no cases).
pub async fn add_note(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    body: &str,
) -> Result<NoteId, DomainError> {
    require(user, policy::Action::WorkCases)?;
    let body = body.trim();
    if body.is_empty() || body.chars().count() > crate::text::TEXT {
        return Err(DomainError::invalid("body", "a note must be 1 to 20,000 characters"));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, id, false).await?;
    let note = NoteId::new();
    db::insert_note(&mut tx, note, c.id, user.id, body, now).await?;
    let event = NewEvent::new(EventType::CaseNoteAdded)
        .object("case", c.id)
        .changes(json!({"note": note, "length": body.chars().count()}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(note)
}

/// Assigns (or unassigns) cases; supervisors only. Every case gets its own audit event;
/// all or nothing.
pub async fn assign(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    ids: &[CaseId],
    assignee: Option<UserId>,
    mail: bool,
) -> Result<usize, DomainError> {
    require(user, policy::Action::AssignCases)?;
    if ids.is_empty() {
        return Err(DomainError::invalid("cases", "choose at least one case"));
    }
    let mut tx = conn.begin().await?;
    if let Some(a) = assignee {
        let role: Option<Role> = db::active_role(&mut tx, a).await?;
        if !role.is_some_and(|r| policy::allows(r, policy::Action::BeAssigned)) {
            return Err(DomainError::invalid("assignee", "must be an active analyst or supervisor"));
        }
    }
    for id in ids {
        let c = visible(&mut tx, user, *id, true).await?;
        if c.assignee == assignee {
            continue;
        }
        db::set_assignee(&mut tx, *id, assignee, now).await?;
        let withdrawn = crate::notifications::withdraw_unseen(&mut tx, *id, c.restricted, assignee).await?;
        let mut changes = json!({"assignee": {"before": c.assignee, "after": assignee}});
        if withdrawn > 0 {
            changes["notifications_withdrawn"] = json!(withdrawn);
        }
        let event = NewEvent::new(EventType::CaseAssigned).object("case", id).changes(changes);
        audit::record(&mut tx, now, &user.audit(), event).await?;
        if let Some(a) = assignee.filter(|a| *a != user.id) {
            let message = format!("{}: {} assigned this case to you", c.docket_number, user.name);
            let link = format!("/cases/{id}");
            let note = crate::notifications::Note::on_case(crate::notifications::Kind::Assigned, *id, &message, &link);
            crate::notifications::notify(&mut tx, now, mail, a, &note).await?;
        }
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Records a request for information; if it names clocks, they stop until it is answered.
#[allow(clippy::too_many_arguments)]
pub async fn add_rfi(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    asked_of: &str,
    question: &str,
    tolls: Vec<ClockName>,
    when: &When,
) -> Result<RfiId, DomainError> {
    require(user, policy::Action::WorkCases)?;
    let mut errors = Vec::new();
    if asked_of.trim().is_empty() || asked_of.chars().count() > 300 {
        errors.push(FieldError::new("asked_of", "name who was asked (1 to 300 characters)"));
    }
    if question.trim().is_empty() || question.chars().count() > 20000 {
        errors.push(FieldError::new("question", "write what was asked"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, id, true).await?;
    if policy::case_work(user.role, user.id, c.assignee) != policy::CaseWork::Allowed {
        return Err(DomainError::Forbidden);
    }
    let on = when.date("asked_on", now, &[(&format!("the case reached {}", c.stage.label()), c.stage_since)])?;
    let rfi = RfiId::new();
    db::insert_rfi(&mut tx, rfi, id, (asked_of.trim(), question.trim()), on, &tolls, user.id, now).await?;
    refresh_dues(&mut tx, id, now).await?;
    let event = NewEvent::new(EventType::CaseRfiSent).object("case", id).changes(
        json!({"rfi": rfi, "asked_of": asked_of.trim(), "tolls": tolls, "on": on, "late_reason": when.late_reason()}),
    );
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(rfi)
}

/// Records the answer to a request for information (its clocks run again).
pub async fn answer_rfi(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    rfi: RfiId,
    answer: &str,
    when: &When,
) -> Result<(), DomainError> {
    require(user, policy::Action::WorkCases)?;
    if answer.trim().is_empty() {
        return Err(DomainError::invalid("answer", "summarise the answer received"));
    }
    let mut tx = conn.begin().await?;
    visible(&mut tx, user, id, true).await?;
    let asked: Option<Date> = db::rfi_asked_on(&mut tx, rfi, id).await?;
    let on = when.date("answered_on", now, &[("the request", asked)])?;
    if !db::answer_rfi(&mut tx, (rfi, id), on, answer.trim()).await? {
        return Err(DomainError::Conflict("that request is unknown or already answered".into()));
    }
    refresh_dues(&mut tx, id, now).await?;
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::CaseRfiAnswered)
            .object("case", id)
            .changes(json!({"rfi": rfi, "on": on, "late_reason": when.late_reason()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A supervisor keeps a case under `rule` although another was in force on its acceptance
/// date (a pending case the office keeps under the rule it started under), with a written
/// reason; choosing the rule in force on that date again drops the reason. The clocks
/// follow.
pub async fn set_rule(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    rule: RuleVersion,
    reason: &str,
) -> Result<CaseRow, DomainError> {
    require(user, policy::Action::SetCaseRule)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > crate::text::LINE {
        return Err(DomainError::invalid("reason", "give a written reason (at most 2,000 characters)"));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, id, true).await?;
    let Some(accepted) = c.accepted_on else {
        return Err(DomainError::Conflict("the rule is fixed at acceptance: accept the referral first".into()));
    };
    let by_date = RuleVersion::in_force_on(accepted);
    if c.rule() == Some(rule) {
        return Err(DomainError::Conflict(format!("{} is already under {}", c.docket_number, rule.code())));
    }
    let kept_reason = (rule != by_date).then_some(reason);
    db::set_rule(&mut tx, id, rule.code(), kept_reason, now).await?;
    refresh_dues(&mut tx, id, now).await?;
    let event = NewEvent::new(EventType::CaseRuleSet).object("case", id).changes(json!({
        "rule_version": {"before": c.rule_version, "after": rule.code()},
        "in_force_on_acceptance": by_date.code(), "accepted_on": accepted, "reason": reason,
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row = db::get(&mut tx, id, false).await?.expect("exists");
    tx.commit().await?;
    Ok(row)
}

/// A supervisor extends a clock with a written justification.
#[allow(clippy::too_many_arguments)]
pub async fn extend(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: CaseId,
    clock: ClockName,
    days: i64,
    justification: &str,
    when: &When,
) -> Result<(), DomainError> {
    require(user, policy::Action::GrantExtensions)?;
    let mut errors = Vec::new();
    if !(1..=365).contains(&days) {
        errors.push(FieldError::new("days", "must be 1 to 365"));
    }
    if justification.trim().is_empty() {
        errors.push(FieldError::new("justification", "an extension needs a written justification"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, id, true).await?;
    let on = when.date("granted_on", now, &[("the acceptance", c.accepted_on)])?;
    let running = clocks::clocks(&db::clock_inputs(&mut tx, &c, today(now)).await?);
    if !running.iter().any(|s| s.name == clock && s.running) {
        return Err(DomainError::Conflict(format!("the {} clock is not running on this case", clock.as_str())));
    }
    db::insert_extension(&mut tx, id, (clock, days as i32), justification.trim(), user.id, (now, on)).await?;
    refresh_dues(&mut tx, id, now).await?;
    let event = NewEvent::new(EventType::CaseClockExtended).object("case", id).changes(json!({
        "clock": clock, "days": days, "justification": justification.trim(),
        "on": on, "late_reason": when.late_reason(),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// Lists cases the user may see.
pub async fn list(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    filter: &CaseFilter,
) -> Result<db::CasePageRows, DomainError> {
    Ok(db::list(conn, filter, user.id, user.role, today(now)).await?)
}

/// The stage labels in workflow order.
pub fn stage_order() -> [Stage; 14] {
    Stage::ALL
}
