//! Mitigation's use cases: proposing a measure, moving its status, recording compliance
//! checks; a breach reopens a monitored case (through `cases::service::apply`).

use crate::ids::MeasureId;
use crate::ids::{CaseId, CheckId};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db::{self, get};
use super::model::{Check, CheckResult, Measure, MeasureStatus, NewCheck, NewMeasure, StatusChange, opt_date};
use crate::access::Actor;
use crate::audit::{self, EventType, NewEvent};
use crate::cases::service::visible;

use crate::cases::workflow::{Change, Facts, Input, Stage};
use crate::error::{DomainError, FieldError};
use crate::notifications::{self, Note};
use crate::proceedings::service::may_work;

/// Records a proposed measure.
pub async fn add(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    m: NewMeasure,
) -> Result<Measure, DomainError> {
    let mut errors = Vec::new();
    let d = m.description.trim().chars().count();
    if d == 0 || d > crate::text::TEXT {
        errors.push(FieldError::new("description", "must be 1 to 20,000 characters"));
    }
    let o = m.owner.trim().chars().count();
    if o == 0 || o > crate::text::NAME {
        errors.push(FieldError::new("owner", "must be 1 to 300 characters"));
    }
    let due = opt_date(&mut errors, "due_on", m.due_on.as_deref());
    let mut tx = conn.begin().await?;
    if !db::kinds(&mut tx).await?.iter().any(|k| k.code == m.kind.trim()) {
        errors.push(FieldError::new("kind", "is not a measure kind of the catalogue"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, &c)?;
    if !matches!(
        c.stage,
        Stage::InitialDetermination
            | Stage::ResponsePeriod
            | Stage::SecondInteragency
            | Stage::FinalDetermination
            | Stage::Monitoring
            | Stage::ComplianceReview
    ) {
        return Err(DomainError::Conflict(format!(
            "measures are negotiated from the initial determination on (the case is at {})",
            c.stage.label()
        )));
    }
    if let Some(s) = m.submission_id
        && !crate::proceedings::db::is_submission_of(&mut tx, s, case_id).await?
    {
        return Err(DomainError::invalid("submission_id", "is not a submission of this case"));
    }
    let id = MeasureId::new();
    let row = db::MeasureRow {
        id,
        case_id,
        kind: m.kind.trim(),
        description: m.description.trim(),
        owner: m.owner.trim(),
        due_on: due,
        submission_id: m.submission_id,
    };
    db::insert_measure(&mut tx, &row, user.id, now).await?;
    db::record_status(&mut tx, id, (None, MeasureStatus::Proposed), "", user.id, (now, crate::dates::today(now)))
        .await?;
    let event = NewEvent::new(EventType::MeasureProposed).object("case", case_id).changes(json!({
        "measure": id, "kind": m.kind.trim(), "owner": m.owner.trim(), "due_on": due, "status": {"after": "proposed"},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row = get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Reopens a monitored case for review after a breach, inside the caller's transaction,
/// and notifies the assignee and the supervisors.
async fn breach(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    what: &str,
    mail: bool,
) -> Result<(), DomainError> {
    let c = crate::cases::db::get(conn, case_id, true).await?.ok_or(DomainError::NotFound)?;
    if c.stage == Stage::Monitoring {
        let change = Change::Breach;
        let to =
            crate::cases::service::apply(conn, user, now, &c, change, &Facts::default(), &Input::default()).await?;
        let event = NewEvent::new(EventType::CaseTransition).object("case", case_id).changes(json!({
            "action": change.as_str(), "stage": {"before": c.stage, "after": to},
            "comment": format!("Reopened for review: {what}"),
        }));
        audit::record(conn, now, &user.audit(), event).await?;
    }
    let message = format!("{}: mitigation breach — {what}", c.docket_number);
    let link = format!("/cases/{case_id}/proceedings");
    let note = Note::on_case(notifications::Kind::Breach, case_id, &message, &link);
    if let Some(a) = c.assignee {
        notifications::notify(conn, now, mail, a, &note).await?;
    }
    notifications::notify_supervisors(conn, now, mail, c.assignee, &note).await?;
    Ok(())
}

/// Moves a measure (locked by the caller) to `to`: the row, its history, the audit event
/// (with `extra` facts) and, for a breach, the reopening of the case (`what` says why).
#[allow(clippy::too_many_arguments)]
async fn move_status(
    conn: &mut PgConnection,
    user: &Actor,
    (now, on): (OffsetDateTime, time::Date),
    m: &Measure,
    to: MeasureStatus,
    comment: &str,
    extra: Value,
    what: &str,
    mail: bool,
) -> Result<(), DomainError> {
    db::set_status(conn, m.id, to, now).await?;
    db::record_status(conn, m.id, (Some(m.status), to), comment, user.id, (now, on)).await?;
    let mut changes =
        json!({"measure": m.id, "status": {"before": m.status, "after": to}, "comment": comment, "on": on});
    if let (Some(c), Value::Object(x)) = (changes.as_object_mut(), extra) {
        c.extend(x);
    }
    audit::record(
        &mut *conn,
        now,
        &user.audit(),
        NewEvent::new(EventType::MeasureStatus).object("case", m.case_id).changes(changes),
    )
    .await?;
    if to == MeasureStatus::Breached {
        breach(conn, user, now, m.case_id, what, mail).await?;
    }
    Ok(())
}

/// Moves a measure to a new status. Agreeing and verifying are for supervisors or the
/// assigned analyst; a breach reopens the case.
pub async fn set_status(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: MeasureId,
    s: StatusChange,
    mail: bool,
) -> Result<Measure, DomainError> {
    let Some(to) = s.status.known() else {
        let names: Vec<&str> = MeasureStatus::ALL.iter().map(|m| m.as_str()).collect();
        return Err(DomainError::invalid("status", format!("must be one of {}", names.join(", "))));
    };
    if matches!(to, MeasureStatus::Rejected | MeasureStatus::Breached) && s.comment.trim().is_empty() {
        return Err(DomainError::invalid("comment", "say why"));
    }
    if crate::text::too_long(&s.comment, crate::text::TEXT) {
        return Err(DomainError::invalid("comment", "must be at most 20,000 characters"));
    }
    let mut tx = conn.begin().await?;
    let m = db::lock(&mut tx, id).await?;
    let c = visible(&mut tx, user, m.case_id, false).await?;
    may_work(user, &c)?;
    if m.version != s.version {
        return Err(DomainError::Conflict("the measure changed since you opened it; nothing was saved".into()));
    }
    if !m.status.may_move_to(to) {
        return Err(DomainError::Conflict(format!("a measure does not go from {} to {to}", m.status)));
    }
    let when = crate::dates::When { on: s.changed_on.clone(), late_reason: s.late_reason.clone() };
    let on = when.date("changed_on", now, &[("the acceptance", c.accepted_on)])?;
    let what = format!("{} ({})", m.description.chars().take(120).collect::<String>(), s.comment.trim());
    let extra = json!({"late_reason": when.late_reason()});
    move_status(&mut tx, user, (now, on), &m, to, s.comment.trim(), extra, &what, mail).await?;
    let row = get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Records a compliance check; a `breach` result marks the measure breached and reopens
/// the case.
pub async fn add_check(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    measure_id: MeasureId,
    k: NewCheck,
    mail: bool,
) -> Result<Check, DomainError> {
    let mut errors = Vec::new();
    let result = k.result.or_error("result", "must be compliant, deficient or breach", &mut errors);
    let on = opt_date(&mut errors, "checked_on", Some(&k.checked_on));
    if on.is_none() && !errors.iter().any(|e| e.field == "checked_on") {
        errors.push(FieldError::new("checked_on", "is required: give the date of the check as YYYY-MM-DD"));
    }
    if on.is_some_and(|d| d > crate::dates::today(now)) {
        errors.push(FieldError::new("checked_on", "cannot be in the future"));
    }
    let n = k.finding.trim().chars().count();
    if n == 0 || n > crate::text::TEXT {
        errors.push(FieldError::new("finding", "must be 1 to 20,000 characters"));
    }
    let (true, Some(result)) = (errors.is_empty(), result) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    let m = db::lock(&mut tx, measure_id).await?;
    let c = visible(&mut tx, user, m.case_id, false).await?;
    may_work(user, &c)?;
    if !m.status.takes_checks() {
        return Err(DomainError::Conflict("compliance is checked on agreed measures".into()));
    }
    crate::dates::check_dated(
        "checked_on",
        on.expect("checked above"),
        now,
        &[("the acceptance", c.accepted_on)],
        k.late_reason.as_deref(),
    )?;
    if let Some(doc) = k.document_id
        && !crate::documents::db::is_document_of(&mut tx, doc, m.case_id).await?
    {
        return Err(DomainError::invalid("document_id", "is not a document of this case"));
    }
    let id = CheckId::new();
    let check = db::CheckRow {
        id,
        measure_id,
        checked_on: on.expect("checked above"),
        result,
        finding: k.finding.trim(),
        document_id: k.document_id,
    };
    db::insert_check(&mut tx, &check, user.id, now).await?;
    let event = NewEvent::new(EventType::MeasureChecked).object("case", m.case_id).changes(json!({
        "measure": measure_id, "check": id, "result": result, "checked_on": on, "document": k.document_id,
        "late_reason": crate::dates::late_reason_of(k.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    if result == CheckResult::Breach && m.status != MeasureStatus::Breached {
        let what = format!(
            "compliance check on {}: {}",
            on.map(|d| d.to_string()).unwrap_or_default(),
            k.finding.trim().chars().take(160).collect::<String>()
        );
        move_status(
            &mut tx,
            user,
            (now, on.expect("checked above")),
            &m,
            MeasureStatus::Breached,
            k.finding.trim(),
            json!({"check": id}),
            &what,
            mail,
        )
        .await?;
    }
    let row = db::check(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}
