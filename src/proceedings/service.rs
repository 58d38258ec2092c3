//! The proceedings' use cases: record notices and responses, submissions and meetings.

use crate::ids::{CaseId, NoticeId, SubmissionId};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::model::{
    AgencyAnswer, AgencyNotice, MeetingOutcome, NewNotice, NewSubmission, NoticeResponse, NoticeStep, Submission, date,
};
use crate::access::Actor;
use crate::access::policy::{CaseWork, case_work};
use crate::audit::{self, EventType, NewEvent};
use crate::cases::clocks::{AGENCY_NOTICE_DAYS, PRESUMED_CONCURRENCE_DAYS};
use crate::cases::model::CaseRow;
use crate::cases::service::visible;
use crate::cases::workflow::{RuleVersion, Stage};
use crate::dates::{check_dated, late_reason_of};
use crate::error::{DomainError, FieldError};

/// Only the assigned analyst or a supervisor records the case's proceedings.
pub fn may_work(user: &Actor, c: &CaseRow) -> Result<(), DomainError> {
    match case_work(user.role, user.id, c.assignee) {
        CaseWork::Allowed => Ok(()),
        CaseWork::NotAssignee => {
            Err(DomainError::Conflict("only the assigned analyst or a supervisor records this".into()))
        }
        CaseWork::Forbidden => Err(DomainError::Forbidden),
    }
}

/// Records a notice sent to an agency.
pub async fn add_notice(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    n: NewNotice,
) -> Result<AgencyNotice, DomainError> {
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let step = n.step.or_error("step", "must be first or second", &mut errors);
    let sent = date(&mut errors, "sent_on", Some(&n.sent_on), true);
    let due = date(&mut errors, "due_on", n.due_on.as_deref(), false);
    if sent.is_some_and(|s| s > today) {
        errors.push(FieldError::new("sent_on", "cannot be in the future"));
    }
    let mut tx = conn.begin().await?;
    let agency_ok = super::db::agency_exists(&mut tx, n.agency.trim()).await?;
    if !agency_ok {
        errors.push(FieldError::new("agency", "is not a known agency code"));
    }
    let (true, Some(step)) = (errors.is_empty(), step) else {
        return Err(DomainError::Invalid(errors));
    };
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, &c)?;
    let allowed: &[Stage] = if step == NoticeStep::First {
        &[Stage::InitialReview, Stage::FirstInteragency, Stage::InitialDetermination]
    } else {
        &[Stage::ResponsePeriod, Stage::SecondInteragency, Stage::FinalDetermination]
    };
    if !allowed.contains(&c.stage) {
        return Err(DomainError::Conflict(format!(
            "a {}-step notice cannot be recorded while the case is at {}",
            step.as_str(),
            c.stage.label()
        )));
    }
    let sent = sent.expect("checked");
    if step == NoticeStep::First {
        check_dated(
            "sent_on",
            sent,
            now,
            &[("the acceptance of the referral", c.accepted_on)],
            n.late_reason.as_deref(),
        )?;
    } else {
        check_dated(
            "sent_on",
            sent,
            now,
            &[("the service of the initial determination", c.served_on)],
            n.late_reason.as_deref(),
        )?;
    }
    let period = match (c.rule(), step) {
        (Some(RuleVersion::Final2025), NoticeStep::First) => AGENCY_NOTICE_DAYS,
        (Some(RuleVersion::Final2025), _) => PRESUMED_CONCURRENCE_DAYS,
        _ => 30,
    };
    let due = due.unwrap_or(sent + time::Duration::days(period));
    if due < sent {
        return Err(DomainError::invalid("due_on", "cannot be before the notice was sent"));
    }
    let id = NoticeId::new();
    let inserted =
        super::db::insert_notice(&mut tx, id, case_id, step, n.agency.trim(), (sent, due), (user.id, now)).await?;
    if !inserted {
        return Err(DomainError::invalid("agency", "this agency already has a notice for this step"));
    }
    let event = NewEvent::new(EventType::AgencyNoticeSent).object("case", case_id).changes(json!({
        "notice": id, "step": step, "agency": n.agency.trim(), "sent_on": sent, "due_on": due,
        "late_reason": late_reason_of(n.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row: AgencyNotice = super::db::notice(&mut tx, id, false).await?.expect("just inserted");
    tx.commit().await?;
    Ok(row)
}

/// Records an agency's response (and, for an objection, its level, referral to the
/// President and resolution).
pub async fn respond(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    notice_id: NoticeId,
    r: NoticeResponse,
) -> Result<AgencyNotice, DomainError> {
    let mut errors = Vec::new();
    let response = r.response.or_error("response", "must be concur, object or none", &mut errors);
    let responded = date(&mut errors, "responded_on", Some(&r.responded_on), true);
    let referred = date(&mut errors, "referred_to_president", r.referred_to_president.as_deref(), false);
    let resolved = date(&mut errors, "dispute_resolved_on", r.dispute_resolved_on.as_deref(), false);
    let level = r.objector_level.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let level = match level.map(crate::cases::workflow::parse_level) {
        Some(None) => {
            let names: Vec<&str> = crate::cases::workflow::OFFICIAL_LEVELS.iter().map(|l| l.0).collect();
            errors.push(FieldError::new(
                "objector_level",
                format!("must be the level of the official who objected: one of {}", names.join(", ")),
            ));
            None
        }
        Some(Some(code)) => Some(code.to_string()),
        None => None,
    };
    let resolution = r.dispute_resolution.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let objection = response == Some(AgencyAnswer::Object);
    if !objection && (level.is_some() || referred.is_some() || resolved.is_some()) {
        errors.push(FieldError::new("response", "objector level, referral and resolution apply only to an objection"));
    }
    if objection && level.is_none() && r.objector_level.as_deref().is_none_or(|l| l.trim().is_empty()) {
        errors.push(FieldError::new("objector_level", "say at what level the agency objected"));
    }
    if resolved.is_some() && resolution.is_none() {
        errors.push(FieldError::new("dispute_resolution", "say how the dispute was resolved"));
    }
    errors.extend(crate::text::check("comment", &r.comment, crate::text::TEXT));
    errors.extend(
        r.dispute_resolution.as_deref().and_then(|d| crate::text::check("dispute_resolution", d, crate::text::TEXT)),
    );
    if responded.is_some_and(|d| d > crate::dates::today(now)) {
        errors.push(FieldError::new("responded_on", "cannot be in the future"));
    }
    let (true, Some(response)) = (errors.is_empty(), response) else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    let before: AgencyNotice = super::db::notice(&mut tx, notice_id, true).await?.ok_or(DomainError::NotFound)?;
    let c = visible(&mut tx, user, before.case_id, false).await?;
    may_work(user, &c)?;
    if before.version != r.version {
        return Err(DomainError::Conflict("the notice changed since you opened it; nothing was saved".into()));
    }
    if let Some(d) = responded {
        check_dated("responded_on", d, now, &[("the notice", Some(before.sent_on))], r.late_reason.as_deref())?;
    }
    for (field, d) in [("referred_to_president", referred), ("dispute_resolved_on", resolved)] {
        if let Some(d) = d {
            check_dated(field, d, now, &[("the objection", responded)], None)?;
        }
    }
    let row = super::db::ResponseRow {
        response,
        responded_on: responded,
        comment: r.comment.trim(),
        objector_level: &level,
        referred_to_president: referred,
        dispute_resolved_on: resolved,
        dispute_resolution: &resolution,
    };
    super::db::set_response(&mut tx, notice_id, &row).await?;
    let event = NewEvent::new(EventType::AgencyNoticeResponse).object("case", c.id).changes(json!({
        "notice": notice_id, "agency": before.agency, "step": before.step,
        "response": {"before": before.response, "after": response},
        "objector_level": level, "referred_to_president": referred, "dispute_resolved_on": resolved,
        "responded_on": responded, "late_reason": late_reason_of(r.late_reason.as_deref()),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row: AgencyNotice = super::db::notice(&mut tx, notice_id, false).await?.expect("exists");
    tx.commit().await?;
    Ok(row)
}

/// Records a submission. A written response or mitigation proposal counts as the parties'
/// response (the review then goes to the second interagency step rather than straight to
/// the final determination).
pub async fn add_submission(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    s: NewSubmission,
) -> Result<Submission, DomainError> {
    let mut errors = Vec::new();
    let kind =
        s.kind.or_error("kind", "must be written_response, mitigation_proposal, meeting_request or other", &mut errors);
    let received = date(&mut errors, "received_on", Some(&s.received_on), true);
    if received.is_some_and(|d| d > crate::dates::today(now)) {
        errors.push(FieldError::new("received_on", "cannot be in the future"));
    }
    let n = s.summary.trim().chars().count();
    if n == 0 || n > crate::text::TEXT {
        errors.push(FieldError::new("summary", "must be 1 to 20,000 characters"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, &c)?;
    if let Some(p) = s.party_id
        && !super::db::is_party_of(&mut tx, case_id, p).await?
    {
        return Err(DomainError::invalid("party_id", "is not a party to this case"));
    }
    if c.served_on.is_none()
        || !matches!(
            c.stage,
            Stage::ResponsePeriod
                | Stage::SecondInteragency
                | Stage::FinalDetermination
                | Stage::Monitoring
                | Stage::ComplianceReview
        )
    {
        return Err(DomainError::Conflict(format!(
            "submissions are recorded once the initial determination is served (the case is at {})",
            c.stage.label()
        )));
    }
    let (received, kind) = (received.expect("checked"), kind.expect("checked"));
    check_dated(
        "received_on",
        received,
        now,
        &[("the service of the initial determination", c.served_on)],
        s.late_reason.as_deref(),
    )?;
    // A submission after the response window is recorded, and flagged as late.
    let response_due = c.served_on.map(|d| d + time::Duration::days(crate::cases::clocks::RESPONSE_DAYS));
    let after_window = response_due.is_some_and(|due| received > due);
    let id = SubmissionId::new();
    let row = super::db::NewSubmissionRow {
        id,
        case_id,
        party_id: s.party_id,
        received_on: received,
        kind,
        summary: s.summary.trim(),
    };
    super::db::insert_submission(&mut tx, &row, (user.id, now)).await?;
    let mut changes = json!({
        "submission": id, "kind": kind, "received_on": received, "party": s.party_id,
        "after_window": after_window, "late_reason": late_reason_of(s.late_reason.as_deref()),
    });
    if kind.is_response() && c.response_received_on.is_none() {
        super::db::set_response_received(&mut tx, case_id, received, now).await?;
        changes["response_received_on"] = json!(received);
    }
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::SubmissionReceived).object("case", case_id).changes(changes),
    )
    .await?;
    let row = super::db::submissions(&mut tx, case_id).await?.into_iter().find(|x| x.id == id).expect("inserted");
    tx.commit().await?;
    Ok(row)
}

/// Records the outcome of a meeting request.
pub async fn record_meeting(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    submission_id: SubmissionId,
    m: MeetingOutcome,
) -> Result<Submission, DomainError> {
    let mut errors = Vec::new();
    let held = date(&mut errors, "held_on", Some(&m.held_on), true);
    let n = m.outcome.trim().chars().count();
    if n == 0 || n > crate::text::TEXT {
        errors.push(FieldError::new("outcome", "must be 1 to 20,000 characters"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let (case_id, kind, requested) =
        super::db::lock_submission(&mut tx, submission_id).await?.ok_or(DomainError::NotFound)?;
    let c = visible(&mut tx, user, case_id, false).await?;
    may_work(user, &c)?;
    if kind != "meeting_request" {
        return Err(DomainError::Conflict("only a meeting request has a meeting outcome".into()));
    }
    let held = held.expect("checked");
    check_dated("held_on", held, now, &[("the meeting request", Some(requested))], m.late_reason.as_deref())?;
    super::db::set_meeting(&mut tx, submission_id, held, m.outcome.trim()).await?;
    let event = NewEvent::new(EventType::SubmissionMeetingHeld).object("case", case_id).changes(
        json!({"submission": submission_id, "held_on": held, "late_reason": late_reason_of(m.late_reason.as_deref())}),
    );
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let row =
        super::db::submissions(&mut tx, case_id).await?.into_iter().find(|x| x.id == submission_id).expect("exists");
    tx.commit().await?;
    Ok(row)
}

/// A supervisor records an emergency deviation from the procedure (7.100(e) /
/// 791.100(e)), dated `on`, with a written justification: the response window then no
/// longer holds the proposed final determination back. It is printed in the procedural
/// history of the case's determinations and never edited.
pub async fn record_deviation(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    on: Option<time::Date>,
    justification: &str,
    late_reason: Option<&str>,
) -> Result<(), DomainError> {
    if !user.may(crate::access::Action::RecordDeviations) {
        return Err(DomainError::Forbidden);
    }
    let justification = justification.trim();
    if justification.is_empty() || justification.chars().count() > crate::text::TEXT {
        return Err(DomainError::invalid(
            "justification",
            "an emergency deviation needs a written justification (at most 20,000 characters)",
        ));
    }
    let on = on.unwrap_or_else(|| crate::dates::today(now));
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    if !c.stage.is_open() || c.accepted_on.is_none() {
        return Err(DomainError::Conflict(format!(
            "an emergency deviation applies to an accepted review in progress (the case is at {})",
            c.stage.label()
        )));
    }
    check_dated("date", on, now, &[("the acceptance of the referral", c.accepted_on)], late_reason)?;
    let id = uuid::Uuid::now_v7();
    super::db::insert_deviation(&mut tx, id, case_id, on, justification, (user.id, now)).await?;
    crate::cases::db::touch(&mut tx, case_id, now).await?;
    let event = NewEvent::new(EventType::CaseEmergencyDeviation).object("case", case_id).changes(json!({
        "deviation": id, "on": on, "justification": justification, "late_reason": late_reason_of(late_reason),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// The analyst records that every party served with the initial determination — the
/// parties to the transaction linked to the case (supplier, US counterparty) — filed its
/// written response: the proposed final determination may then go ahead inside the
/// 30-day window (7.107 / 791.107).
pub async fn mark_response_complete(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    on: Option<time::Date>,
    late_reason: Option<&str>,
) -> Result<(), DomainError> {
    let on = on.unwrap_or_else(|| crate::dates::today(now));
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, &c)?;
    if c.stage != Stage::ResponsePeriod {
        return Err(DomainError::Conflict(format!(
            "the response is marked complete during the response period (the case is at {})",
            c.stage.label()
        )));
    }
    if let Some(d) = c.response_complete_on {
        return Err(DomainError::Conflict(format!("the response was already marked complete on {d}")));
    }
    let served = super::db::served_parties(&mut tx, case_id).await?;
    if served.is_empty() {
        return Err(DomainError::Conflict(
            "link the parties to the transaction (supplier, US counterparty) the initial determination was served on first"
                .into(),
        ));
    }
    let missing: Vec<&str> = served.iter().filter(|p| p.answered_on.is_none()).map(|p| p.name.as_str()).collect();
    if !missing.is_empty() {
        return Err(DomainError::Conflict(format!("no written response is recorded from {}", missing.join(", "))));
    }
    let last = served.iter().filter_map(|p| p.answered_on).max();
    check_dated("date", on, now, &[("the last written response", last)], late_reason)?;
    super::db::set_response_complete(&mut tx, case_id, on, now).await?;
    let parties: Vec<&str> = served.iter().map(|p| p.name.as_str()).collect();
    let event = NewEvent::new(EventType::CaseResponseComplete).object("case", case_id).changes(json!({
        "on": on, "parties": parties, "late_reason": late_reason_of(late_reason),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}
