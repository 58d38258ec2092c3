//! Risk use cases: rubric versions, assessments, band overrides (four-eyes) and nexus
//! findings. Each is one transaction with its audit event.

use crate::ids::{AssessmentId, CaseId, FindingId, OverrideId, UserId};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

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
    let row = sqlx::query!("SELECT version, name, definition FROM rubric_versions WHERE version = $1", version)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
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
    let v: i32 =
        sqlx::query_scalar!(r#"SELECT max(version) AS "v!" FROM rubric_versions"#).fetch_one(&mut *conn).await?;
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
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('rubric_versions'))").execute(&mut *tx).await?;
    let version: i32 = sqlx::query_scalar!(r#"SELECT coalesce(max(version), 0) + 1 AS "v!" FROM rubric_versions"#)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query!(
        "INSERT INTO rubric_versions (version, name, definition, created_by, created_at) VALUES ($1,$2,$3,$4,$5)",
        version,
        name.trim(),
        serde_json::to_value(&definition).expect("definitions serialise"),
        user.id.0,
        now
    )
    .execute(&mut *tx)
    .await?;
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

/// A band override.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Override {
    pub id: OverrideId,
    /// Assessment.
    pub assessment_id: AssessmentId,
    pub proposed_band: Band,
    pub justification: String,
    /// Who proposed it.
    pub proposed_by: UserId,
    /// Who decided.
    pub decided_by: Option<UserId>,
    /// Approved?
    pub approved: Option<bool>,
}

struct AssessmentRow {
    id: AssessmentId,
    case_id: CaseId,
    rubric_version: i32,
    connected_software: bool,
    scores: serde_json::Value,
    contributions: serde_json::Value,
    composite: f64,
    band: Band,
    narrative: String,
    author: UserId,
    author_name: String,
    created_at: OffsetDateTime,
}

/// The assessments of a case, newest first.
pub async fn assessments(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<Assessment>, DomainError> {
    let rows = sqlx::query_as!(
        AssessmentRow,
        r#"SELECT a.id AS "id: AssessmentId", a.case_id AS "case_id: CaseId", a.rubric_version, a.connected_software, a.scores,
         a.contributions, a.composite::float8 AS "composite!", a.band AS "band: Band", a.narrative, a.author AS "author: UserId",
         u.name AS author_name, a.created_at FROM assessments a JOIN users u ON u.id = a.author
         WHERE a.case_id = $1 ORDER BY a.created_at DESC, a.id DESC"#,
        case_id.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let overrides = sqlx::query_as!(
        Override,
        r#"SELECT o.id AS "id: OverrideId", o.assessment_id AS "assessment_id: AssessmentId", o.proposed_band AS "proposed_band: Band",
         o.justification, o.proposed_by AS "proposed_by: UserId", o.decided_by AS "decided_by: UserId", o.approved
         FROM band_overrides o JOIN assessments a ON a.id = o.assessment_id WHERE a.case_id = $1 ORDER BY o.proposed_at"#,
        case_id.0
    )
    .fetch_all(&mut *conn)
    .await?;
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

async fn connected_software(conn: &mut PgConnection, category: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT connected_software FROM ref_categories WHERE code = $1", category)
        .fetch_optional(conn)
        .await?
        .unwrap_or(false))
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
    let cs = connected_software(&mut tx, &c.category).await?;
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
    let list_version: Option<i32> =
        sqlx::query_scalar!("SELECT max(version) FROM screening_lists").fetch_one(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO assessments (id, case_id, rubric_version, connected_software, scores, contributions, composite, band, narrative, author, created_at, \
         screening_list_version, assessed_on) VALUES ($1,$2,$3,$4,$5,$6,$7::float8::numeric,$8,$9,$10,$11,$12,$13)",
        id.0,
        case_id.0,
        rubric.version,
        cs,
        serde_json::to_value(&scores).expect("serialise"),
        serde_json::to_value(&result.contributions).expect("serialise"),
        result.composite,
        result.band as _,
        narrative.trim(),
        user.id.0,
        now,
        list_version,
        on,
    )
    .execute(&mut *tx)
    .await?;
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
    let case_id =
        sqlx::query_scalar!(r#"SELECT case_id AS "case_id: CaseId" FROM assessments WHERE id = $1"#, assessment_id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DomainError::NotFound)?;
    let c = visible(&mut tx, user, case_id, true).await?;
    may_work(user, c.assignee)?;
    let id = OverrideId::new();
    let inserted = sqlx::query!(
        "INSERT INTO band_overrides (id, assessment_id, proposed_band, justification, proposed_by, proposed_at) VALUES ($1,$2,$3,$4,$5,$6)",
        id.0,
        assessment_id.0,
        band as _,
        justification.trim(),
        user.id.0,
        now,
    )
    .execute(&mut *tx)
    .await;
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
    let row = sqlx::query!(
        r#"SELECT a.case_id AS "case_id: CaseId", o.proposed_by AS "proposed_by: UserId", o.decided_by AS "decided_by: UserId",
         o.proposed_band AS "proposed_band: Band"
         FROM band_overrides o JOIN assessments a ON a.id = o.assessment_id WHERE o.id = $1 FOR UPDATE OF o"#,
        override_id.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DomainError::NotFound)?;
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
    sqlx::query!(
        "UPDATE band_overrides SET decided_by = $2, decided_at = $3, approved = $4, decision_comment = $5 WHERE id = $1",
        override_id.0,
        user.id.0,
        now,
        approve,
        comment.trim(),
    )
    .execute(&mut *tx)
    .await?;
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
    let row = sqlx::query!(
        r#"SELECT id AS "id: FindingId", criteria, conclusion AS "conclusion: Answer", summary, author AS "author: UserId", created_at
         FROM nexus_findings WHERE case_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"#,
        case_id.0
    )
    .fetch_optional(conn)
    .await?;
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
    sqlx::query!(
        "INSERT INTO nexus_findings (id, case_id, criteria, conclusion, summary, author, created_at, found_on) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        id.0,
        case_id.0,
        serde_json::to_value(&criteria).expect("serialise"),
        conclusion as _,
        summary.trim(),
        user.id.0,
        now,
        on,
    )
    .execute(&mut *tx)
    .await?;
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
