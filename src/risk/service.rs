//! Risk use cases: rubric versions, assessments, band overrides (four-eyes) and nexus
//! findings. Each is one transaction with its audit event.

use crate::ids::{AssessmentId, CaseId, FindingId, OverrideId, UserId};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

pub use super::model::Override;
use super::model::{Band, Contribution, Rubric, RubricDefinition, score};
use crate::access::Actor;
use crate::access::policy::{Action, CaseWork, case_work};
use crate::audit::{self, EventType, NewEvent};
use crate::cases::service::visible;
use crate::cases::workflow::Answer;
use crate::error::{DomainError, FieldError};
use crate::parties::NexusCriterion;
use crate::text;

/// Loads a rubric version.
pub async fn rubric(conn: &mut PgConnection, version: i32) -> Result<Option<Rubric>, DomainError> {
    match super::db::rubric(conn, version).await? {
        Some(r) => {
            let (version, name) = (r.version, r.name);
            let definition: RubricDefinition = serde_json::from_value(r.definition)
                .map_err(|e| DomainError::Internal(anyhow::anyhow!("rubric {version} does not parse: {e}")))?;
            Ok(Some(Rubric { version, name, definition }))
        }
        None => Ok(None),
    }
}

/// The newest rubric version.
pub async fn current_rubric(conn: &mut PgConnection) -> Result<Rubric, DomainError> {
    let v = super::db::newest_rubric_version(conn).await?;
    rubric(conn, v).await?.ok_or(DomainError::NotFound)
}

/// Creates the next rubric version (administrators). Existing versions never change.
pub async fn create_rubric(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    name: &str,
    definition: RubricDefinition,
) -> Result<i32, DomainError> {
    if !user.may(Action::ManageRubrics) {
        return Err(DomainError::Forbidden);
    }
    if name.trim().is_empty() || text::too_long(name, RUBRIC_NAME_MAX) {
        return Err(DomainError::invalid("name", "must be 1 to 200 characters"));
    }
    definition.validate().map_err(|m| DomainError::invalid("definition", m))?;
    let mut tx = conn.begin().await?;
    super::db::lock_rubric_numbering(&mut tx).await?;
    let version = super::db::next_rubric_version(&mut tx).await?;
    let json = serde_json::to_value(&definition).expect("definitions serialise");
    super::db::insert_rubric(&mut tx, version, name.trim(), json, (user.id, now)).await?;
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::RubricCreated)
            .object("rubric", version)
            .changes(json!({"name": name.trim(), "criteria": definition.criteria.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// One criterion's score as submitted.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionScore {
    /// 0 to 4.
    pub score: u8,
    /// Why (required).
    #[schema(value_type = crate::text::Text<{ crate::text::PASSAGE }>, inline)]
    pub rationale: String,
    /// Evidence: party facts, documents, screening hits (optional).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::PASSAGE }>>, inline)]
    pub evidence: Option<String>,
}

/// A stored assessment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub id: AssessmentId,
    /// Case.
    pub case_id: CaseId,
    /// Rubric version used.
    pub rubric_version: i32,
    /// Whether the connected-software criteria applied.
    pub connected_software: bool,
    /// Scores with rationale.
    pub scores: BTreeMap<String, CriterionScore>,
    /// Each criterion's contribution.
    pub contributions: Vec<Contribution>,
    /// Composite 0–100.
    pub composite: f64,
    /// Computed band.
    pub band: Band,
    /// Band in effect: an approved override, else the computed band.
    pub effective_band: Band,
    /// Override awaiting a second person, if any.
    pub pending_override: Option<Override>,
    pub narrative: String,
    pub author: UserId,
    /// Author's name.
    pub author_name: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The assessments of a case, newest first.
pub async fn assessments(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Assessment>, DomainError> {
    let rows = super::db::assessments(conn, case_id).await?;
    let overrides = super::db::overrides_of_case(conn, case_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<&Override> = overrides.iter().filter(|o| o.assessment_id == r.id).collect();
            let effective_band =
                mine.iter().rev().find(|o| o.approved == Some(true)).map(|o| o.proposed_band).unwrap_or(r.band);
            Assessment {
                id: r.id,
                case_id: r.case_id,
                rubric_version: r.rubric_version,
                connected_software: r.connected_software,
                scores: serde_json::from_value(r.scores).unwrap_or_default(),
                contributions: serde_json::from_value(r.contributions).unwrap_or_default(),
                composite: r.composite,
                band: r.band,
                effective_band,
                pending_override: mine.iter().find(|o| o.decided_by.is_none()).map(|o| (*o).clone()),
                narrative: r.narrative,
                author: r.author,
                author_name: r.author_name,
                created_at: r.created_at,
            }
        })
        .collect())
}

fn may_work(user: &Actor, assignee: Option<UserId>) -> Result<(), DomainError> {
    match case_work(user.role, user.id, assignee) {
        CaseWork::Allowed => Ok(()),
        CaseWork::NotAssignee => {
            Err(DomainError::Conflict("only the assigned analyst or a supervisor may do this".into()))
        }
        CaseWork::Forbidden => Err(DomainError::Forbidden),
    }
}

/// Records an assessment under the current rubric version. Every applicable criterion
/// needs a score and a rationale; the composite and band are computed, never supplied.
pub async fn assess(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    scores: BTreeMap<String, CriterionScore>,
    narrative: &str,
    when: &crate::dates::When,
) -> Result<Assessment, DomainError> {
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, c.assignee)?;
    let on = when.date("assessed_on", now, &[("the acceptance", c.accepted_on)])?;
    if !c.stage.is_open() {
        return Err(DomainError::Conflict(format!("{} is no longer under review", c.docket_number)));
    }
    let rubric = current_rubric(&mut tx).await?;
    let cs = super::db::connected_software(&mut tx, &c.category).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    for (code, s) in &scores {
        if s.rationale.trim().is_empty() {
            errors.push(FieldError::new(format!("scores.{code}.rationale"), "a rationale is required for every score"));
        } else if text::too_long(&s.rationale, text::PASSAGE)
            || s.evidence.as_ref().is_some_and(|e| text::too_long(e, text::PASSAGE))
        {
            errors.push(FieldError::new(
                format!("scores.{code}"),
                "rationale and evidence must be at most 5,000 characters",
            ));
        }
    }
    if text::too_long(narrative, text::TEXT) {
        errors.push(FieldError::new("narrative", "must be at most 20,000 characters"));
    }
    let plain: BTreeMap<String, u8> = scores.iter().map(|(k, v)| (k.clone(), v.score)).collect();
    let result = match score(&rubric.definition, cs, &plain) {
        Ok(s) => Some(s),
        Err(es) => {
            errors.extend(es.into_iter().map(|e| FieldError::new(format!("scores.{}", e.criterion), e.message)));
            None
        }
    };
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let result = result.expect("no errors");
    let id = AssessmentId::new();
    // Which screening-list version the assessment saw.
    let list_version = super::db::screening_list_version(&mut tx).await?;
    let row = super::db::NewAssessment {
        id,
        case_id,
        rubric_version: rubric.version,
        connected_software: cs,
        scores: serde_json::to_value(&scores).expect("serialise"),
        contributions: serde_json::to_value(&result.contributions).expect("serialise"),
        composite: result.composite,
        band: result.band,
        narrative: narrative.trim(),
        screening_list_version: list_version,
        assessed_on: on,
    };
    super::db::insert_assessment(&mut tx, row, (user.id, now)).await?;
    let event = NewEvent::new(EventType::CaseAssessed).object("case", case_id).changes(json!({
        "assessment": id, "rubric_version": rubric.version, "composite": result.composite, "band": result.band, "scores": plain,
        "on": on, "late_reason": when.late_reason(),
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    let out = assessments(&mut tx, case_id).await?.into_iter().find(|a| a.id == id).expect("just inserted");
    tx.commit().await?;
    Ok(out)
}

/// Proposes a band other than the computed one, with a justification.
pub async fn propose_override(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    assessment_id: AssessmentId,
    band: Band,
    justification: &str,
) -> Result<OverrideId, DomainError> {
    if justification.trim().is_empty() {
        return Err(DomainError::invalid("justification", "explain why the computed band is wrong"));
    }
    if let Some(e) = text::check("justification", justification, text::TEXT) {
        return Err(DomainError::Invalid(vec![e]));
    }
    let mut tx = conn.begin().await?;
    let case_id = super::db::case_of_assessment(&mut tx, assessment_id).await?.ok_or(DomainError::NotFound)?;
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, c.assignee)?;
    let id = OverrideId::new();
    let inserted =
        super::db::insert_override(&mut tx, id, assessment_id, band, justification.trim(), (user.id, now)).await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(DomainError::Conflict("an override of this assessment is already awaiting approval".into()));
        }
        Err(e) => return Err(e.into()),
    }
    let event = NewEvent::new(EventType::CaseBandOverrideProposed).object("case", case_id).changes(
        json!({"assessment": assessment_id, "override": id, "band": band, "justification": justification.trim()}),
    );
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(id)
}

/// A supervisor who did not propose it approves or refuses an override.
pub async fn decide_override(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    override_id: OverrideId,
    approve: bool,
    comment: &str,
) -> Result<(), DomainError> {
    if !user.may(Action::DecideOverrides) {
        return Err(DomainError::Forbidden);
    }
    if let Some(e) = text::check("comment", comment, text::TEXT) {
        return Err(DomainError::Invalid(vec![e]));
    }
    let mut tx = conn.begin().await?;
    let row = super::db::lock_override(&mut tx, override_id).await?.ok_or(DomainError::NotFound)?;
    let (case_id, proposer, decided, band) = (row.case_id, row.proposed_by, row.decided_by, row.proposed_band);
    visible(&mut tx, user, case_id, false).await?;
    if decided.is_some() {
        return Err(DomainError::Conflict("this override was already decided".into()));
    }
    if crate::access::policy::four_eyes(user.role, user.id, proposer, Action::DecideOverrides)
        == Err(crate::access::policy::FourEyes::OwnWork)
    {
        return Err(DomainError::Conflict(
            "an override takes effect only when a supervisor other than its proposer approves it".into(),
        ));
    }
    super::db::decide_override(&mut tx, override_id, approve, comment.trim(), (user.id, now)).await?;
    let event =
        NewEvent::new(if approve { EventType::CaseBandOverrideApproved } else { EventType::CaseBandOverrideRefused })
            .object("case", case_id)
            .changes(json!({"override": override_id, "band": band, "comment": comment.trim()}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// One criterion of a nexus finding.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NexusItem {
    /// What was found for this criterion (may be "none").
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub finding: String,
    /// Evidence relied on (party facts, documents).
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub evidence: String,
}

/// The longest name of a rubric, in characters.
pub const RUBRIC_NAME_MAX: usize = 200;

/// A recorded nexus finding.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NexusFinding {
    pub id: FindingId,
    /// Per criterion.
    pub criteria: BTreeMap<String, NexusItem>,
    /// Conclusion: is there a foreign-adversary nexus?
    pub conclusion: Answer,
    pub summary: String,
    pub author: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The latest nexus finding of a case.
pub async fn current_nexus(conn: &mut PgConnection, case_id: CaseId) -> Result<Option<NexusFinding>, DomainError> {
    let row = super::db::latest_nexus(conn, case_id).await?;
    Ok(row.map(|r| NexusFinding {
        id: r.id,
        criteria: serde_json::from_value(r.criteria).unwrap_or_default(),
        conclusion: r.conclusion,
        summary: r.summary,
        author: r.author,
        created_at: r.created_at,
    }))
}

/// Records the nexus finding: every criterion of 791.103(b) answered, and a conclusion.
#[allow(clippy::too_many_arguments)]
pub async fn record_nexus(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    case_id: CaseId,
    criteria: BTreeMap<String, NexusItem>,
    conclusion: Answer,
    summary: &str,
    when: &crate::dates::When,
) -> Result<NexusFinding, DomainError> {
    let mut errors = Vec::new();
    for (code, item) in &criteria {
        errors.extend(text::check(&format!("criteria.{code}.finding"), &item.finding, text::TEXT));
        errors.extend(text::check(&format!("criteria.{code}.evidence"), &item.evidence, text::TEXT));
    }
    for c in NexusCriterion::ALL {
        match criteria.get(c.as_str()) {
            Some(item) if !item.finding.trim().is_empty() => {}
            _ => errors
                .push(FieldError::new(format!("criteria.{}", c.as_str()), "record what was found (or \"none found\")")),
        }
    }
    if let Some(bad) = criteria.keys().find(|k| NexusCriterion::parse(k).is_none()) {
        errors.push(FieldError::new(format!("criteria.{bad}"), "is not a nexus criterion"));
    }
    if summary.trim().is_empty() {
        errors.push(FieldError::new("summary", "state the conclusion in words"));
    }
    errors.extend(text::check("summary", summary, text::TEXT));
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, c.assignee)?;
    let on = when.date("found_on", now, &[("the acceptance", c.accepted_on)])?;
    let id = FindingId::new();
    let row = super::db::NewNexus {
        id,
        case_id,
        criteria: serde_json::to_value(&criteria).expect("serialise"),
        conclusion,
        summary: summary.trim(),
        found_on: on,
    };
    super::db::insert_nexus(&mut tx, row, (user.id, now)).await?;
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::CaseNexusRecorded)
            .object("case", case_id)
            .changes(json!({"finding": id, "conclusion": conclusion, "on": on, "late_reason": when.late_reason()})),
    )
    .await?;
    let out = current_nexus(&mut tx, case_id).await?.expect("just inserted");
    tx.commit().await?;
    Ok(out)
}
