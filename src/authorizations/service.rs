//! Specific authorizations' use cases (791.307): an application filed, checked for
//! completeness, questioned, supplemented and briefed; a decision drafted and signed by a
//! second supervisor after a fresh re-authentication; a grant's conditions checked, a
//! breach reopening the application. Each change is one transaction, guarded by the
//! application's version, with its audit event.

use serde::Deserialize;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db::{self, ConditionRow, DraftRow, NewActRow, NewRow, Standing};
use super::model::{
    ActKind, ActRow, Application, ApplicationStatus, AuthorizationWork, Clock, ConditionCheck, Contents, Decision,
    Factor, Item, Listed, NewDecision, Outcome, target_on,
};
use crate::access::{Action, Actor};
use crate::audit::{self, EventType, NewEvent};
use crate::choice::Choice;
use crate::error::{DomainError, FieldError};
use crate::ids::{ApplicationId, PartyId};
use crate::mitigation::model::MeasureStatus;

/// The most applications a party's page lists (the list pages through them all).
pub const PARTY_LIMIT: i64 = 500;

/// An application as filed (through the API the office's portal calls, or the form).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The applicant, a party of the registry.
    pub applicant_id: Option<PartyId>,
    /// The transaction for which authorization is sought.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub summary: String,
    /// The (c)(1)–(8) content; what is left empty is named by the completeness check.
    #[serde(default)]
    pub contents: Contents,
    /// The filing's date (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<time::Date>)]
    pub filed_on: Option<String>,
}

/// The act a user records on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApplicationActRequested)]
pub enum Requested {
    /// The completeness check.
    Check,
    /// A question to the applicant.
    QuestionAsked,
    /// The applicant's answer to an open question.
    QuestionAnswered,
    /// A briefing held.
    BriefingHeld,
    /// The application withdrawn by the applicant.
    Withdrawn,
}

/// A dated act on an application: the completeness check, a question, its answer, a
/// briefing, the application withdrawn.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = NewApplicationAct)]
#[serde(deny_unknown_fields)]
pub struct NewAct {
    #[schema(value_type = Requested)]
    pub kind: Choice<Requested>,
    /// When it took effect (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<time::Date>)]
    pub effective_on: Option<String>,
    /// The question, the answer, what the briefing covered, why it was withdrawn.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub note: String,
    /// An answer: the `seq` of the question it answers.
    #[serde(default)]
    pub answers: Option<i64>,
    /// The application's version; a stale one gets 409.
    pub version: i64,
}

/// Material the applicant adds until the decision: text added to any (c) item, and a note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = ApplicationMaterial)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Text added to each item it names (items left empty are not touched).
    #[serde(default)]
    pub contents: Contents,
    /// What the material is (a report, a letter) and where the office holds it.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub note: String,
    /// The application's version; a stale one gets 409.
    pub version: i64,
}

/// A signature on the draft decision.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = AuthorizationSignature)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The content hash (hex) of the draft as the signer read it; the signature is refused
    /// when the draft changed since.
    #[schema(value_type = crate::determinations::Sha256Hex, inline)]
    pub content_sha256: String,
}

/// An application with its history, its decisions (latest first) and its clock.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationView)]
pub struct View {
    pub application: Application,
    /// The (c) items still empty, in the rule's order.
    pub missing: Vec<Item>,
    pub acts: Vec<ActRow>,
    pub decisions: Vec<Decision>,
    /// The office's clock while the application is in review.
    pub clock: Option<Clock>,
    /// The content hash (hex) of the unsigned draft decision, if any: what a signature on
    /// it must name.
    pub draft_sha256: Option<String>,
}

fn require(user: &Actor, action: Action) -> Result<(), DomainError> {
    if user.may(action) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Files an application with its "filed" act and audit event, in one transaction.
pub async fn file(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    n: &NewApplication,
    via: &'static str,
) -> Result<Application, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    if n.applicant_id.is_none() {
        errors.push(FieldError::new("applicant_id", "choose the applicant"));
    }
    let summary = n.summary.trim();
    if summary.is_empty() || crate::text::too_long(summary, crate::text::TEXT) {
        errors.push(FieldError::new(
            "summary",
            "state the transaction for which authorization is sought (1 to 20,000 characters)",
        ));
    }
    let contents = n.contents.checked().map_err(|e| errors.extend(e)).ok();
    let filed_on = crate::dates::past_date("filed_on", n.filed_on.as_deref(), today, &mut errors);
    let (Some(applicant), Some(contents), Some(filed_on), true) =
        (n.applicant_id, contents, filed_on, errors.is_empty())
    else {
        return Err(DomainError::Invalid(errors));
    };
    let mut tx = conn.begin().await?;
    crate::parties::get(&mut tx, applicant)
        .await?
        .ok_or_else(|| DomainError::invalid("applicant_id", "no such party"))?;
    let (id, number) = (ApplicationId::new(), db::next_number(&mut tx, now.year()).await?);
    let row = NewRow { id, number: &number, applicant, summary, contents: &contents, filed_on, via };
    db::insert(&mut tx, &row, (user.id, now)).await?;
    let act = NewActRow {
        kind: ActKind::Filed,
        effective_on: filed_on,
        items: &[],
        note: summary,
        answers: None,
        condition_seq: None,
    };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    let event = NewEvent::new(EventType::AuthorizationApplicationFiled)
        .object("authorization_application", id)
        .changes(json!({
            "number": number, "applicant": applicant, "summary": summary, "contents": contents,
            "filed_on": filed_on, "via": via,
        }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let a = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}

/// Application `id` locked, checked against the version the user saw.
async fn locked(tx: &mut PgConnection, id: ApplicationId, version: i64) -> Result<Application, DomainError> {
    let a = db::lock(tx, id).await?.ok_or(DomainError::NotFound)?;
    if a.version != version {
        return Err(DomainError::changed_since(&a.number, Some(a.status.label())));
    }
    Ok(a)
}

/// Writes where an act left application `a`, or a conflict when it changed meanwhile.
async fn settle(
    tx: &mut PgConnection,
    a: &Application,
    s: &Standing,
    c: &Contents,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    if db::set_standing(tx, a.id, a.version, s, c, now).await? {
        Ok(())
    } else {
        Err(DomainError::changed_meanwhile(&a.number))
    }
}

/// Records a dated act: the completeness check (which returns an incomplete application
/// naming the missing (c) items, or starts the clock of a complete one), a question (the
/// clock pauses), its answer (the clock runs again once no question is open), a briefing,
/// or the application withdrawn.
pub async fn record_act(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: ApplicationId,
    n: &NewAct,
) -> Result<Application, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let note = n.note.trim();
    if crate::text::too_long(note, crate::text::TEXT) {
        return Err(DomainError::invalid("note", crate::text::at_most(crate::text::TEXT)));
    }
    let mut tx = conn.begin().await?;
    let a = locked(&mut tx, id, n.version).await?;
    let mut errors = Vec::new();
    let on = crate::filings::act_date(n.effective_on.as_deref(), today, a.last_act_on, &mut errors);
    let mut s = Standing::of(&a);
    let (kind, items, answers): (ActKind, Vec<Item>, Option<i64>) = match n.kind.known() {
        Some(Requested::Check) => {
            if !a.status.awaits_check() {
                return Err(DomainError::Conflict(format!(
                    "{} was found complete already: it is {}",
                    a.number,
                    a.status.label().to_lowercase()
                )));
            }
            let missing = a.contents.missing();
            if missing.is_empty() {
                s.status = ApplicationStatus::UnderReview;
                s.complete_on = on;
                (ActKind::FoundComplete, missing, None)
            } else {
                s.status = ApplicationStatus::Incomplete;
                (ActKind::ReturnedIncomplete, missing, None)
            }
        }
        Some(Requested::QuestionAsked) => {
            if !a.status.in_review() {
                return Err(DomainError::Conflict(format!(
                    "questions are asked of an application under review ({} is {})",
                    a.number,
                    a.status.label().to_lowercase()
                )));
            }
            if note.is_empty() {
                errors.push(FieldError::new("note", "write the question"));
            }
            s.status = ApplicationStatus::QuestionsAsked;
            s.paused_since = s.paused_since.or(on);
            (ActKind::QuestionAsked, Vec::new(), None)
        }
        Some(Requested::QuestionAnswered) => {
            let acts = db::acts(&mut tx, id).await?;
            let open: Vec<i64> =
                super::model::questions(&acts).into_iter().filter(|q| q.answered_on.is_none()).map(|q| q.seq).collect();
            crate::filings::check_answer(&open, n.answers, "this application", note, &mut errors);
            if open.len() == 1
                && let (Some(since), Some(on)) = (a.paused_since, on)
            {
                s.status = ApplicationStatus::UnderReview;
                s.paused_days += (on - since).whole_days().max(0);
                s.paused_since = None;
            }
            (ActKind::QuestionAnswered, Vec::new(), n.answers)
        }
        Some(Requested::BriefingHeld) => {
            if !a.status.in_review() {
                return Err(DomainError::Conflict(format!(
                    "briefings are held on an application under review ({} is {})",
                    a.number,
                    a.status.label().to_lowercase()
                )));
            }
            if note.is_empty() {
                errors.push(FieldError::new("note", "say who briefed and what was covered"));
            }
            (ActKind::BriefingHeld, Vec::new(), None)
        }
        Some(Requested::Withdrawn) => {
            if !a.status.takes_material() {
                return Err(DomainError::Conflict(format!(
                    "{} is {}: it can no longer be withdrawn",
                    a.number,
                    a.status.label().to_lowercase()
                )));
            }
            s.status = ApplicationStatus::Withdrawn;
            s.paused_since = None;
            (ActKind::Withdrawn, Vec::new(), None)
        }
        None => {
            errors.push(FieldError::new(
                "kind",
                "must be check, question_asked, question_answered, briefing_held or withdrawn",
            ));
            (ActKind::Filed, Vec::new(), None)
        }
    };
    let (Some(on), true) = (on, errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    s.last_act_on = on;
    let act = NewActRow { kind, effective_on: on, items: &items, note, answers, condition_seq: None };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    settle(&mut tx, &a, &s, &a.contents, now).await?;
    let names: Vec<&str> = items.iter().map(|i| i.as_str()).collect();
    let event =
        NewEvent::new(EventType::AuthorizationActRecorded).object("authorization_application", id).changes(json!({
            "number": a.number, "act": kind, "effective_on": on, "note": note, "items": names, "answers": answers,
            "status": {"before": a.status, "after": s.status},
        }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let a = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}

/// Adds the applicant's material until the decision: text added to the (c) items it names,
/// with a note. An incomplete application stays returned until the next check.
pub async fn add_material(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: ApplicationId,
    m: &Material,
) -> Result<Application, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let added = m.contents.checked().map_err(DomainError::Invalid)?;
    let note = m.note.trim();
    if crate::text::too_long(note, crate::text::TEXT) {
        return Err(DomainError::invalid("note", crate::text::at_most(crate::text::TEXT)));
    }
    let mut tx = conn.begin().await?;
    let a = locked(&mut tx, id, m.version).await?;
    if !a.status.takes_material() {
        return Err(DomainError::Conflict(format!(
            "{} is {}: material is added until the decision",
            a.number,
            a.status.label().to_lowercase()
        )));
    }
    let (contents, touched) = a.contents.supplement(&added, note)?;
    let on = today.max(a.last_act_on);
    let mut s = Standing::of(&a);
    s.last_act_on = on;
    let act = NewActRow {
        kind: ActKind::MaterialAdded,
        effective_on: on,
        items: &touched,
        note,
        answers: None,
        condition_seq: None,
    };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    settle(&mut tx, &a, &s, &contents, now).await?;
    let names: Vec<&str> = touched.iter().map(|i| i.as_str()).collect();
    let event = NewEvent::new(EventType::AuthorizationActRecorded)
        .object("authorization_application", id)
        .changes(json!({"number": a.number, "act": ActKind::MaterialAdded, "effective_on": on, "note": note,
               "items": names, "added": added}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let a = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}

/// Drafts (or redrafts) the decision on a complete application in review with no question
/// open: the outcome, the reasons, a finding per factor, and a grant's conditions, each
/// third-party assessor checked not PRC- or Russia-controlled (791.315).
pub async fn draft_decision(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: ApplicationId,
    d: &NewDecision,
    mail: bool,
) -> Result<Application, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let outcome = d.outcome.or_error("outcome", "must be granted or denied", &mut errors);
    let reasons = d.reasons.trim();
    if reasons.is_empty() || crate::text::too_long(reasons, crate::text::TEXT) {
        errors.push(FieldError::new("reasons", "state the reasons (1 to 20,000 characters)"));
    }
    let mut assessment = super::model::Assessment::new();
    for f in Factor::ALL {
        let t = d.assessment.get(f.as_str()).map(|s| s.trim()).unwrap_or("");
        if t.is_empty() || crate::text::too_long(t, crate::text::TEXT) {
            errors.push(FieldError::new(
                format!("assessment.{}", f.as_str()),
                "assess this factor (1 to 20,000 characters)",
            ));
        } else {
            assessment.insert(f.as_str().to_string(), t.to_string());
        }
    }
    for k in d.assessment.keys() {
        if !Factor::ALL.iter().any(|f| f.as_str() == k) {
            errors.push(FieldError::new(
                format!("assessment.{k}"),
                "is no factor: threat, vulnerability, consequence or mitigation",
            ));
        }
    }
    match outcome {
        Some(Outcome::Granted) if d.conditions.is_empty() => {
            errors.push(FieldError::new("conditions", "a grant carries its conditions: give at least one"));
        }
        Some(Outcome::Denied) if !d.conditions.is_empty() => {
            errors.push(FieldError::new("conditions", "a denial carries no conditions"));
        }
        _ => {}
    }
    if d.conditions.len() > 50 {
        errors.push(FieldError::new("conditions", "at most 50 conditions"));
    }
    let mut rows = Vec::new();
    for (i, c) in d.conditions.iter().enumerate() {
        let field = |f: &str| format!("conditions[{i}].{f}");
        let description = c.description.trim();
        if description.is_empty() || crate::text::too_long(description, crate::text::TEXT) {
            errors.push(FieldError::new(
                field("description"),
                "say what the condition requires (1 to 20,000 characters)",
            ));
        }
        let owner = c.owner.trim();
        if owner.is_empty() || crate::text::too_long(owner, crate::text::PERSON) {
            errors.push(FieldError::new(field("owner"), "name who keeps it (1 to 200 characters)"));
        }
        let due_on = match c.due_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => match crate::dates::parse_date(t) {
                Some(d) if d >= today => Some(d),
                Some(_) => {
                    errors.push(FieldError::new(field("due_on"), format!("cannot be in the past (today is {today})")));
                    None
                }
                None => {
                    errors.push(FieldError::new(field("due_on"), "give a date as YYYY-MM-DD"));
                    None
                }
            },
        };
        rows.push(ConditionRow { description, owner, due_on, assessor: c.assessor_id });
    }
    let Some(outcome) = outcome.filter(|_| errors.is_empty()) else { return Err(DomainError::Invalid(errors)) };
    let mut tx = conn.begin().await?;
    let a = locked(&mut tx, id, d.version).await?;
    decidable(&a)?;
    check_assessors(&mut tx, rows.iter().map(|r| r.assessor)).await?;
    let draft = DraftRow { outcome, reasons, assessment: &assessment };
    let decision = db::write_draft(&mut tx, id, &draft, &rows, (user.id, now)).await?;
    let on = today.max(a.last_act_on);
    let mut s = Standing::of(&a);
    s.last_act_on = on;
    let act = NewActRow {
        kind: ActKind::DecisionDrafted,
        effective_on: on,
        items: &[],
        note: outcome.label(),
        answers: None,
        condition_seq: None,
    };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    settle(&mut tx, &a, &s, &a.contents, now).await?;
    let conditions: Vec<_> = rows
        .iter()
        .map(|r| json!({"description": r.description, "owner": r.owner, "due_on": r.due_on, "assessor": r.assessor}))
        .collect();
    let event = NewEvent::new(EventType::AuthorizationDecisionDrafted)
        .object("authorization_application", id)
        .changes(json!({"number": a.number, "decision": decision, "outcome": outcome, "reasons": reasons,
               "assessment": assessment, "conditions": conditions}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let message =
        format!("{}: a decision ({}) awaits a second supervisor's signature", a.number, outcome.label().to_lowercase());
    let link = format!("/authorizations/{id}");
    let note = crate::notifications::Note::about(crate::notifications::Kind::AwaitingSignature, &message, &link);
    crate::notifications::notify_supervisors(&mut tx, now, mail, Some(user.id), &note).await?;
    let a = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}

/// Refuses a decision on `a` unless it is complete, in review, with no question open.
fn decidable(a: &Application) -> Result<(), DomainError> {
    why_undecidable(a).map_or(Ok(()), |why| Err(DomainError::Conflict(why)))
}

/// Why `a` is not awaiting a decision, in words; `None` when it is.
fn why_undecidable(a: &Application) -> Option<String> {
    if a.status.decidable() {
        return None;
    }
    Some(match a.status {
        ApplicationStatus::Received | ApplicationStatus::Incomplete => {
            format!("{} has not been found complete: only a complete application is decided", a.number)
        }
        ApplicationStatus::QuestionsAsked => format!("{} has questions open: decide once they are answered", a.number),
        s => format!("{} is {}: it is not awaiting a decision", a.number, s.label().to_lowercase()),
    })
}

/// Refuses any assessor that is no party, or that is PRC- or Russia-controlled (791.315).
async fn check_assessors(
    tx: &mut PgConnection,
    assessors: impl Iterator<Item = Option<PartyId>>,
) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    for (i, p) in assessors.enumerate() {
        let Some(p) = p else { continue };
        let field = format!("conditions[{i}].assessor_id");
        if crate::parties::get(&mut *tx, p).await?.is_none() {
            errors.push(FieldError::new(field, "no such party"));
        } else if let Some(why) = crate::parties::prc_or_russia_tie(&mut *tx, p).await? {
            errors.push(FieldError::new(
                field,
                format!("an assessor may not be owned, controlled or directed by the PRC or Russia (791.315): {why}"),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(DomainError::Invalid(errors)) }
}

/// The draft decision of application `a` with the hash a signature would cover.
pub fn draft_of(a: &Application, decisions: &[Decision]) -> Option<(Decision, String)> {
    let d = decisions.iter().find(|d| !d.is_signed())?.clone();
    let hash = hex::encode(super::model::content_hash(a, &d));
    Some((d, hash))
}

/// Why `user` may not sign the draft of `a` now, in words; `None` when they may.
pub fn why_not_signable(user: &Actor, a: &Application, d: &Decision) -> Option<String> {
    match crate::access::policy::four_eyes(user.role, user.id, d.drafted_by, Action::SignAuthorizations) {
        Err(refused) => Some(refused.refusal("a decision")),
        Ok(()) => why_undecidable(a),
    }
}

/// Signs the draft decision: a supervisor who did not draft it, after a fresh
/// re-authentication, on the content whose hash they read. The application is granted
/// (its conditions agreed) or denied.
pub async fn sign(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: ApplicationId,
    req: &SignRequest,
    mail: bool,
) -> Result<Application, DomainError> {
    require(user, Action::SignAuthorizations)?;
    user.require_recent_reauth(now)?;
    let mut tx = conn.begin().await?;
    let a = db::lock(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    let decisions = db::decisions(&mut tx, id).await?;
    let Some((d, hash)) = draft_of(&a, &decisions) else {
        return Err(DomainError::Conflict(format!("{} has no draft decision to sign", a.number)));
    };
    if let Some(why) = why_not_signable(user, &a, &d) {
        return Err(if d.drafted_by == user.id { DomainError::Forbidden } else { DomainError::Conflict(why) });
    }
    if !req.content_sha256.trim().eq_ignore_ascii_case(&hash) {
        return Err(DomainError::Conflict(
            "the draft changed after you read it (its content hash differs): read it again before you sign".into(),
        ));
    }
    check_assessors(&mut tx, d.conditions.iter().map(|c| c.assessor_id)).await?;
    let raw = super::model::content_hash(&a, &d);
    let reauth_at = user.reauth_at.expect("checked above");
    if !db::sign(&mut tx, d.id, &raw, (user.id, now, reauth_at)).await? {
        return Err(DomainError::Conflict("this decision is already signed".into()));
    }
    let on = crate::dates::today(now).max(a.last_act_on);
    let mut s = Standing::of(&a);
    s.status = d.outcome.status();
    s.last_act_on = on;
    let act = NewActRow {
        kind: ActKind::DecisionSigned,
        effective_on: on,
        items: &[],
        note: d.outcome.label(),
        answers: None,
        condition_seq: None,
    };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    settle(&mut tx, &a, &s, &a.contents, now).await?;
    let event = NewEvent::new(EventType::AuthorizationDecisionSigned).object("authorization_application", id).changes(
        json!({"number": a.number, "decision": d.id, "outcome": d.outcome, "revision": d.revision,
               "content_sha256": hash, "reauth_at": reauth_at, "drafted_by": d.drafted_by, "signed_on": on,
               "status": {"before": a.status, "after": s.status}}),
    );
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let message =
        format!("{}: your decision ({}) was signed by {}", a.number, d.outcome.label().to_lowercase(), user.name);
    let link = format!("/authorizations/{id}");
    let note = crate::notifications::Note::about(crate::notifications::Kind::Signed, &message, &link);
    crate::notifications::notify(&mut tx, now, mail, d.drafted_by, &note).await?;
    let a = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}

/// Records a check of condition `seq` of the grant in force: implemented, verified, or
/// breached, which reopens the application for review (its clock starts again).
pub async fn check_condition(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: ApplicationId,
    seq: i64,
    c: &ConditionCheck,
    mail: bool,
) -> Result<Application, DomainError> {
    require(user, Action::WorkFilings)?;
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let status = c.status.or_error("status", "must be implemented, verified or breached", &mut errors).filter(|s| {
        let ok = matches!(s, MeasureStatus::Implemented | MeasureStatus::Verified | MeasureStatus::Breached);
        if !ok {
            errors.push(FieldError::new("status", "must be implemented, verified or breached"));
        }
        ok
    });
    let evidence = c.evidence.trim();
    if evidence.is_empty() || crate::text::too_long(evidence, crate::text::TEXT) {
        errors.push(FieldError::new("evidence", "say what shows it (1 to 20,000 characters)"));
    }
    let mut tx = conn.begin().await?;
    let a = locked(&mut tx, id, c.version).await?;
    let on = crate::filings::act_date(c.checked_on.as_deref(), today, a.last_act_on, &mut errors);
    let (Some(status), Some(on), true) = (status, on, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    if a.status != ApplicationStatus::Granted {
        return Err(DomainError::Conflict(format!(
            "{} is {}: conditions are checked while a grant is in force",
            a.number,
            a.status.label().to_lowercase()
        )));
    }
    let decisions = db::decisions(&mut tx, id).await?;
    let grant = decisions.iter().find(|d| d.is_signed()).ok_or(DomainError::NotFound)?;
    let Some(cond) = grant.conditions.iter().find(|x| x.seq == seq) else { return Err(DomainError::NotFound) };
    if !cond.status.may_move_to(status) {
        return Err(DomainError::Conflict(format!(
            "condition {seq} is {}: it cannot be found {} now",
            cond.status, status
        )));
    }
    db::check_condition(&mut tx, grant.id, seq, (status, evidence, on)).await?;
    let mut s = Standing::of(&a);
    s.last_act_on = on;
    let kind = match status {
        MeasureStatus::Implemented => ActKind::ConditionImplemented,
        MeasureStatus::Verified => ActKind::ConditionVerified,
        _ => {
            s.status = ApplicationStatus::Reopened;
            s.complete_on = Some(on);
            s.paused_days = 0;
            ActKind::ConditionBreached
        }
    };
    let act = NewActRow { kind, effective_on: on, items: &[], note: evidence, answers: None, condition_seq: Some(seq) };
    db::insert_act(&mut tx, id, &act, (user.id, now)).await?;
    settle(&mut tx, &a, &s, &a.contents, now).await?;
    let event =
        NewEvent::new(EventType::AuthorizationConditionChecked).object("authorization_application", id).changes(
            json!({"number": a.number, "decision": grant.id, "condition": seq, "evidence": evidence, "checked_on": on,
               "condition_status": {"before": cond.status, "after": status},
               "status": {"before": a.status, "after": s.status}}),
        );
    audit::record(&mut tx, now, &user.audit(), event).await?;
    if kind == ActKind::ConditionBreached {
        let message = format!("{}: condition {seq} of the grant was breached; the application is reopened", a.number);
        let link = format!("/authorizations/{id}");
        let note = crate::notifications::Note::about(crate::notifications::Kind::Breach, &message, &link);
        crate::notifications::notify_supervisors(&mut tx, now, mail, Some(user.id), &note).await?;
    }
    let a = db::get(&mut tx, id).await?.ok_or(DomainError::NotFound)?;
    tx.commit().await?;
    Ok(a)
}

/// An application with its history, decisions and clock, for a reader of filings.
pub async fn get(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    id: ApplicationId,
) -> Result<View, DomainError> {
    require(user, Action::ViewFilings)?;
    let application = db::get(&mut *conn, id).await?.ok_or(DomainError::NotFound)?;
    let acts = db::acts(&mut *conn, id).await?;
    let decisions = db::decisions(&mut *conn, id).await?;
    let clock = clock_of(conn, &application, now).await?;
    let draft_sha256 = draft_of(&application, &decisions).map(|(_, h)| h);
    Ok(View { missing: application.contents.missing(), application, acts, decisions, clock, draft_sha256 })
}

/// The clock of application `a` now, with the office's target in force when it was found
/// complete.
pub async fn clock_of(
    conn: &mut PgConnection,
    a: &Application,
    now: OffsetDateTime,
) -> Result<Option<Clock>, DomainError> {
    let Some(started) = a.complete_on else { return Ok(None) };
    let target = db::target_on(conn, started).await?.unwrap_or(90);
    Ok(super::model::clock(a, target, crate::dates::today(now)))
}

/// A page of the application list as `f` asks, each application with its clock now.
pub async fn page(
    conn: &mut PgConnection,
    user: &Actor,
    f: &db::Filter,
    now: OffsetDateTime,
) -> Result<crate::db::Page<Listed>, DomainError> {
    require(user, Action::ViewFilings)?;
    let rows = db::page(&mut *conn, f).await?;
    let targets = db::targets(conn).await?;
    let today = crate::dates::today(now);
    let rows = rows
        .into_iter()
        .map(|application| {
            let clock = application
                .complete_on
                .and_then(|started| super::model::clock(&application, target_on(&targets, started), today));
            Listed { application, clock }
        })
        .collect();
    Ok(f.page.page(rows, |l: &Listed| (l.application.received_at, l.application.id.0)))
}

/// How many applications match `f`.
pub async fn count(conn: &mut PgConnection, user: &Actor, f: &db::Filter) -> Result<crate::db::Total, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::count(conn, f).await?)
}

/// The applications whose number, applicant or transaction holds `q`, newest first: at
/// most `limit`.
pub async fn search(
    conn: &mut PgConnection,
    user: &Actor,
    q: &str,
    limit: i64,
) -> Result<Vec<Application>, DomainError> {
    require(user, Action::ViewFilings)?;
    Ok(db::search(conn, q, limit).await?)
}

/// A party's applications, newest first (none for a reader who sees no filings).
pub async fn of_party(conn: &mut PgConnection, user: &Actor, party: PartyId) -> Result<Vec<Application>, DomainError> {
    if !user.may(Action::ViewFilings) {
        return Ok(Vec::new());
    }
    Ok(db::of_applicant(conn, party, PARTY_LIMIT).await?)
}

/// The applications' work for a home page: none for a role that does not work filings.
pub async fn work(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
) -> Result<Option<AuthorizationWork>, DomainError> {
    if !user.may(Action::WorkFilings) {
        return Ok(None);
    }
    let today = crate::dates::today(now);
    let target = db::target_on(&mut *conn, today).await?.unwrap_or(90);
    Ok(Some(db::work(conn, today, target).await?))
}

/// The status filter as typed, or the error naming it.
pub fn status_named(typed: Option<&str>) -> Result<Option<ApplicationStatus>, FieldError> {
    match typed.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(t) => {
            Choice::<ApplicationStatus>::named(t).or_invalid("status", "must be one of the statuses listed").map(Some)
        }
    }
}
