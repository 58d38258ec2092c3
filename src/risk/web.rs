//! Risk pages: the assessment form (every applicable criterion with its anchored levels),
//! the nexus-finding form, and the override forms on the case page.

use crate::ids::{AssessmentId, CaseId, OverrideId};
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::model::{Band, Criterion};
use super::service::{self, CriterionScore, NexusItem};
use crate::app::AppState;
use crate::cases::workflow::Answer;
use crate::parties::NexusCriterion;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppFormKept, AppPath, FormBody};
use crate::web::layout::answer_form;
use crate::web::layout::{FormErrors, Layout, render_as};

#[derive(Template)]
#[template(path = "risk/assess.html")]
struct AssessPage {
    layout: Layout,
    case_id: CaseId,
    docket: String,
    rubric_version: i32,
    criteria: Vec<Criterion>,
    values: BTreeMap<String, (String, String)>,
    evidence: BTreeMap<String, String>,
    narrative: String,
    errors: FormErrors,
    csrf_token: String,
    confirmed_hits: Vec<String>,
}

/// The criterion that confirmed screening hits inform.
const CONTROL_CRITERION: &str = "c02_adversary_control";

impl AssessPage {
    fn evidence_of(&self, code: &str) -> String {
        match self.evidence.get(code) {
            Some(e) => e.clone(),
            None if code == CONTROL_CRITERION && !self.confirmed_hits.is_empty() => self.confirmed_hits.join("; "),
            None => String::new(),
        }
    }

    fn score_of(&self, code: &str) -> &str {
        self.values.get(code).map(|v| v.0.as_str()).unwrap_or("")
    }
    fn rationale_of(&self, code: &str) -> &str {
        self.values.get(code).map(|v| v.1.as_str()).unwrap_or("")
    }
    fn error_of(&self, code: &str) -> String {
        let a = self.errors.get(&format!("scores.{code}"));
        let b = self.errors.get(&format!("scores.{code}.rationale"));
        [a, b].iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join("; ")
    }
}

async fn assess_page(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    values: BTreeMap<String, (String, String)>,
    evidence: BTreeMap<String, String>,
    narrative: String,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let c = crate::cases::service::visible(&mut conn, user, id, false).await?;
    let rubric = service::current_rubric(&mut conn).await?;
    let cs = crate::cases::reference::connected_software(&mut conn, &c.category).await?;
    // Confirmed screening hits are evidence for the ownership/control criterion.
    let confirmed_hits: Vec<String> = crate::parties::screening_service::hits_of_case(&mut conn, id)
        .await?
        .into_iter()
        .filter(|h| h.status == crate::parties::screening_service::HitStatus::Confirmed)
        .map(|h| {
            let notice = if h.federal_register_notice.is_empty() {
                String::new()
            } else {
                format!(", {}", h.federal_register_notice)
            };
            format!("{} is listed: {} ({}{notice})", h.party_name, h.entry_name, h.source)
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &AssessPage {
            evidence,
            confirmed_hits,
            layout: Layout::for_user(&state.web, "/cases", Some(user)),
            case_id: id,
            docket: c.docket_number.clone(),
            rubric_version: rubric.version,
            criteria: rubric.definition.applicable(cs).cloned().collect(),
            values,
            narrative,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
        },
    )
}

/// `GET /cases/{id}/assess`.
pub async fn assess_form(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<Response, AppError> {
    assess_page(&state, &user, id, BTreeMap::new(), BTreeMap::new(), String::new(), Vec::new()).await
}

/// `POST /cases/{id}/assess`: fields `score.<code>`, `rationale.<code>`, `narrative`.
pub async fn assess_submit(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let mut values: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut evidence: BTreeMap<String, String> = BTreeMap::new();
    let mut narrative = String::new();
    let mut when = crate::dates::When::default();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        if k == "assessed_on" {
            when.on = Some(v.into_owned());
        } else if k == "late_reason" {
            when.late_reason = Some(v.into_owned());
        } else if let Some(code) = k.strip_prefix("evidence.") {
            evidence.insert(code.to_string(), v.into_owned());
        } else if let Some(code) = k.strip_prefix("score.") {
            values.entry(code.to_string()).or_default().0 = v.into_owned();
        } else if let Some(code) = k.strip_prefix("rationale.") {
            values.entry(code.to_string()).or_default().1 = v.into_owned();
        } else if k == "narrative" {
            narrative = v.into_owned();
        }
    }
    let mut errors = Vec::new();
    let mut scores = BTreeMap::new();
    for (code, (s, rationale)) in &values {
        match s.parse::<u8>() {
            Ok(n) => {
                let ev = evidence.get(code).map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
                scores.insert(code.clone(), CriterionScore { score: n, rationale: rationale.clone(), evidence: ev });
            }
            Err(_) => errors.push(FieldError::new(format!("scores.{code}"), "choose a level")),
        }
    }
    let result = if errors.is_empty() {
        service::assess(&mut *state.conn().await?, &user, state.now(), id, scores, &narrative, &when)
            .await
            .map_err(AppError::from)
            .map(|_| ())
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}#risk")).into_response()),
        Err(AppError::Invalid(errors)) => assess_page(&state, &user, id, values, evidence, narrative, errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "risk/nexus.html")]
struct NexusPage {
    layout: Layout,
    case_id: CaseId,
    docket: String,
    criteria: [NexusCriterion; 5],
    values: BTreeMap<String, (String, String)>,
    conclusion: String,
    summary: String,
    errors: FormErrors,
    csrf_token: String,
    evidence: Vec<(String, String, String)>,
    chains: Vec<String>,
}

impl NexusPage {
    fn finding_of(&self, code: &str) -> &str {
        self.values.get(code).map(|v| v.0.as_str()).unwrap_or("")
    }
    fn evidence_of(&self, code: &str) -> &str {
        self.values.get(code).map(|v| v.1.as_str()).unwrap_or("")
    }
}

async fn nexus_page(
    state: &AppState,
    user: &SignedIn,
    id: CaseId,
    values: BTreeMap<String, (String, String)>,
    conclusion: String,
    summary: String,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let c = crate::cases::service::visible(&mut conn, user, id, false).await?;
    // The parties' recorded nexus facts, to draw on.
    let evidence = crate::parties::nexus_evidence_of_case(&mut conn, id).await?;
    // Each party's ownership chain, up to its ultimate parent.
    let mut chains = Vec::new();
    for p in crate::parties::parties_of_case(&mut conn, id).await? {
        let chain = crate::parties::ownership_chain(&mut conn, p.party_id).await?;
        let text = chain
            .iter()
            .map(|l| {
                let pct = l.party.ownership_pct.map(|x| format!(", {x}% owned by")).unwrap_or_default();
                let flag = if l.in_adversary_country { " [foreign-adversary country]" } else { "" };
                format!("{} ({}){flag}{pct}", l.party.legal_name, l.party.country)
            })
            .collect::<Vec<_>>()
            .join(" → ");
        chains.push(text);
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &NexusPage {
            chains,
            layout: Layout::for_user(&state.web, "/cases", Some(user)),
            case_id: id,
            docket: c.docket_number.clone(),
            criteria: NexusCriterion::ALL,
            values,
            conclusion,
            summary,
            errors: FormErrors(errors),
            csrf_token: user.csrf_token.clone(),
            evidence,
        },
    )
}

/// `GET /cases/{id}/nexus`.
pub async fn nexus_form(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<Response, AppError> {
    nexus_page(&state, &user, id, BTreeMap::new(), "yes".into(), String::new(), Vec::new()).await
}

/// `POST /cases/{id}/nexus`: fields `finding.<criterion>`, `evidence.<criterion>`,
/// `conclusion`, `summary`.
pub async fn nexus_submit(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    FormBody(body): FormBody,
) -> Result<Response, AppError> {
    let mut values: BTreeMap<String, (String, String)> = BTreeMap::new();
    let (mut conclusion, mut summary) = (String::new(), String::new());
    let mut when = crate::dates::When::default();
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        if k == "found_on" {
            when.on = Some(v.into_owned());
        } else if k == "late_reason" {
            when.late_reason = Some(v.into_owned());
        } else if let Some(code) = k.strip_prefix("finding.") {
            values.entry(code.to_string()).or_default().0 = v.into_owned();
        } else if let Some(code) = k.strip_prefix("evidence.") {
            values.entry(code.to_string()).or_default().1 = v.into_owned();
        } else if k == "conclusion" {
            conclusion = v.into_owned();
        } else if k == "summary" {
            summary = v.into_owned();
        }
    }
    let answer = match conclusion.as_str() {
        "yes" => Some(Answer::Yes),
        "no" => Some(Answer::No),
        _ => None,
    };
    let criteria: BTreeMap<String, NexusItem> =
        values.iter().map(|(k, (f, e))| (k.clone(), NexusItem { finding: f.clone(), evidence: e.clone() })).collect();
    let result = match answer {
        Some(a) => {
            service::record_nexus(&mut *state.conn().await?, &user, state.now(), id, criteria, a, &summary, &when)
                .await
                .map_err(AppError::from)
                .map(|_| ())
        }
        None => Err(AppError::invalid("conclusion", "answer yes or no")),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}#risk")).into_response()),
        Err(AppError::Invalid(errors)) => nexus_page(&state, &user, id, values, conclusion, summary, errors).await,
        Err(e) => Err(e),
    }
}

/// A proposed override from the case page.
#[derive(Debug, Deserialize)]
pub struct ProposeForm {
    case_id: CaseId,
    band: String,
    justification: String,
}

/// `POST /assessments/{id}/override`.
pub async fn propose(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<AssessmentId>,
    AppFormKept(f, body): AppFormKept<ProposeForm>,
) -> Result<Response, AppError> {
    let result = match Band::parse(f.band.trim()) {
        Some(b) => service::propose_override(&mut *state.conn().await?, &user, state.now(), id, b, &f.justification)
            .await
            .map_err(AppError::from)
            .map(|_| ()),
        None => Err(AppError::invalid("band", "choose a band")),
    };
    answer_form(
        &state.web,
        &user,
        result,
        "Override proposed; it takes effect when another supervisor approves it.",
        &format!("/cases/{}", f.case_id),
        |o| crate::cases::web::case_page_after(&state, &user, f.case_id, o, "override", "ov-", &body),
    )
    .await
}

/// A decision from the case page.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    case_id: CaseId,
    decision: String,
    #[serde(default)]
    comment: String,
}

/// `POST /overrides/{id}/decision`.
pub async fn decide(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<OverrideId>,
    AppForm(f): AppForm<DecideForm>,
) -> Result<Response, AppError> {
    let result = service::decide_override(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        f.decision == "approve",
        &f.comment,
    )
    .await;
    answer_form(&state.web, &user, result, "Override decided.", &format!("/cases/{}", f.case_id), |o| {
        crate::cases::web::case_page(&state, &user, f.case_id, o.message, o.is_error, o.status)
    })
    .await
}
