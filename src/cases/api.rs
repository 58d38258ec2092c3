//! The cases API: intake (idempotent), list and search, detail, edit, workflow actions,
//! notes, the case's audit timeline, assignment and reference data.

use crate::ids::CaseId;
use crate::ids::UserId;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;
use uuid::Uuid;

use super::db::{AssigneeFilter, CaseFilter, Sort};
use super::model::{CaseEdit, CaseInput, CaseRow, CaseView, Origin};
use super::reference::Reference;
use super::service;
use super::workflow::{Action, Input, RuleVersion, ServiceMethod, Stage};
use crate::app::AppState;
use crate::audit::StoredEvent;
use crate::choice::Choice;
use crate::dates::parse_date;
use crate::text;
use crate::web::auth::{Authorized, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{ApiJson, AppPath, AppQuery};

/// All reference data.
#[utoipa::path(get, path = "/api/v1/reference", tag = "reference", responses((status = 200, body = Reference), (status = 401)), security(("bearer" = [])))]
pub async fn reference(
    State(state): State<AppState>,
    _user: crate::web::auth::CurrentUser,
) -> Result<ApiJson<Reference>, AppError> {
    Ok(ApiJson(Reference::load(&state.db).await?))
}

/// A case in a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: CaseId,
    pub docket_number: String,
    pub title: String,
    pub stage: Stage,
    /// Category code.
    pub category: String,
    /// Adversary codes.
    pub adversaries: Vec<String>,
    pub origin: Origin,
    /// Governing rule.
    pub rule_version: Option<String>,
    /// Need-to-know.
    pub restricted: bool,
    pub assignee: Option<super::model::UserRef>,
    /// Preliminary triage score 0–100 of a bulk-intake case: a queue ordering, not an assessment.
    pub preliminary_score: Option<i32>,
    pub version: i32,
}

impl From<CaseRow> for CaseSummary {
    fn from(row: CaseRow) -> Self {
        let c = row.case;
        CaseSummary {
            id: c.id,
            docket_number: c.docket_number,
            title: c.title,
            stage: c.stage,
            category: c.category,
            adversaries: c.adversaries,
            origin: c.origin,
            rule_version: c.rule_version,
            restricted: c.restricted,
            assignee: row.assignee.map(|id| super::model::UserRef { id, name: row.assignee_name.unwrap_or_default() }),
            preliminary_score: row.preliminary_score,
            version: c.version,
        }
    }
}

/// A page of cases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CasePage {
    /// The cases.
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    /// Pass as `before` for the page before; null on the first.
    pub prev_cursor: Option<String>,
}

/// Query parameters of the case list (page and API).
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Stage name.
    #[param(value_type = Option<Stage>)]
    pub stage: Option<String>,
    /// Leave out the cases at this stage.
    #[param(value_type = Option<Stage>)]
    pub except_stage: Option<String>,
    /// Category code (a longer value matches nothing).
    pub category: Option<String>,
    /// Adversary code (two letters).
    #[param(pattern = r"^\s*[A-Za-z]{2}\s*$")]
    pub adversary: Option<String>,
    /// `me`, `unassigned` or a user id.
    pub assignee: Option<String>,
    /// `true` for overdue cases only.
    #[param(value_type = Option<bool>)]
    pub overdue: Option<String>,
    /// Cases due within this many days.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 3650)]
    pub due_within: Option<String>,
    /// `true` for open cases only (a stage where the review goes on).
    #[param(value_type = Option<bool>)]
    pub open: Option<String>,
    /// Full-text search (docket number, title, summary, notes).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// The order (`newest` by default; `triage` is by preliminary score).
    #[param(value_type = Option<Sort>, inline)]
    pub sort: Option<String>,
    /// Page size 1 to 200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// The `prev_cursor` of a page: lists the page before it.
    pub before: Option<String>,
}

impl CaseQuery {
    /// Validates the filters for `user`, naming every bad one.
    pub fn to_filter(&self, user: UserId) -> Result<CaseFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let some = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut f = CaseFilter::default();
        if let Some(s) = some(&self.stage) {
            f.stage = Stage::parse(&s);
            if f.stage.is_none() {
                errors.push(FieldError::new("stage", "is not a stage name"));
            }
        }
        if let Some(s) = some(&self.except_stage) {
            f.except_stage = Stage::parse(&s);
            if f.except_stage.is_none() {
                errors.push(FieldError::new("except_stage", "is not a stage name"));
            }
        }
        f.category = some(&self.category).filter(|c| c.len() <= 40);
        f.adversary = some(&self.adversary)
            .map(|a| a.to_uppercase())
            .filter(|a| a.len() == 2 && a.chars().all(|c| c.is_ascii_uppercase()));
        if some(&self.adversary).is_some() && f.adversary.is_none() {
            errors.push(FieldError::new("adversary", "must be a two-letter code"));
        }
        f.assignee = match some(&self.assignee).as_deref() {
            None => None,
            Some("me") => Some(AssigneeFilter::User(user)),
            Some("unassigned") => Some(AssigneeFilter::Unassigned),
            Some(id) => match id.parse::<UserId>() {
                Ok(u) => Some(AssigneeFilter::User(u)),

                Err(_) => {
                    errors.push(FieldError::new("assignee", "must be me, unassigned or a user id"));
                    None
                }
            },
        };
        // A checkbox or `true`/`false`.
        let mut flag = |field: &str, v: &Option<String>| match some(v).as_deref() {
            None | Some("false") => false,
            Some("true") | Some("on") | Some("1") => true,
            Some(_) => {
                errors.push(FieldError::new(field, "must be true or false"));
                false
            }
        };
        f.overdue = flag("overdue", &self.overdue);
        f.open = flag("open", &self.open);
        if let Some(d) = some(&self.due_within) {
            match d.parse::<i64>() {
                Ok(n) if (0..=3650).contains(&n) => f.due_within = Some(n),
                _ => errors.push(FieldError::new("due_within", "must be a number of days from 0 to 3650")),
            }
        }
        f.q = some(&self.q);
        if f.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            errors.push(FieldError::new("q", "must be at most 200 characters"));
        }
        if let Some(s) = some(&self.sort) {
            match Sort::parse(&s) {
                Some(s) => f.sort = s,
                None => errors.push(FieldError::new("sort", "must be newest, oldest, docket, due or triage")),
            }
        }
        if let Some(l) = some(&self.limit) {
            match l.parse::<i64>() {
                Ok(n) if (1..=200).contains(&n) => f.limit = n,
                _ => errors.push(FieldError::new("limit", "must be a whole number from 1 to 200")),
            }
        }
        let parse_cursor = |c: &str| {
            c.rsplit_once('~')
                .and_then(|(k, id)| Uuid::parse_str(id).ok().map(|u| (k.to_string(), u)))
                .filter(|(k, _)| k.len() <= 40 && f.sort.valid_key(k))
        };
        match (some(&self.cursor), some(&self.before)) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("before", "cannot be given with cursor: give one of them"))
            }
            (Some(c), None) => match parse_cursor(&c) {
                Some(after) => f.after = Some(after),
                None => errors.push(FieldError::new("cursor", "must be a next_cursor value from a previous page")),
            },
            (None, Some(c)) => match parse_cursor(&c) {
                Some(before) => (f.after, f.backwards) = (Some(before), true),
                None => errors.push(FieldError::new("before", "must be a prev_cursor value from a later page")),
            },
            (None, None) => {}
        }
        if errors.is_empty() { Ok(f) } else { Err(errors) }
    }
}

/// Lists the cases the user may see.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = CasePage), (status = 400), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn list(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<CaseQuery>,
) -> Result<ApiJson<CasePage>, AppError> {
    let filter = q.to_filter(user.id).map_err(AppError::Invalid)?;
    let page = service::list(&mut *state.conn().await?, &user, state.now(), &filter).await?;
    Ok(ApiJson(CasePage {
        items: page.rows.into_iter().map(CaseSummary::from).collect(),
        next_cursor: page.next,
        prev_cursor: page.prev,
    }))
}

async fn view_of(state: &AppState, user: &crate::web::auth::SignedIn, row: CaseRow) -> Result<CaseView, AppError> {
    let mut conn = state.db.acquire().await?;
    service::view(&mut conn, row, user, state.now()).await.map_err(AppError::from)
}

/// Files a case. With an `Idempotency-Key` header a replay returns the first answer; the
/// same key with a different body is refused (422).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = CaseInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = CaseView), (status = 422), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn create(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<Response, AppError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| AppError::invalid("Idempotency-Key", "must be visible ASCII"))?
                .trim()
                .to_string();
            if k.is_empty() || k.len() > 200 {
                return Err(AppError::invalid("Idempotency-Key", "must be 1 to 200 characters"));
            }
            Some(k)
        }
        None => None,
    };
    let now = state.now();
    let reference = Reference::load(&state.db).await?;
    let new = input.parse(&reference, crate::dates::today(now)).map_err(AppError::Invalid)?;
    let body_hash = Sha256::digest(serde_json::to_vec(&input).expect("input serialises")).to_vec();
    let mut tx = state.db.begin().await?;
    if let Some(k) = &key {
        // Serialise requests with the same key, then look for a first answer.
        super::db::lock_idempotency_key(&mut tx, user.id, k).await?;
        let prior = super::db::idempotent_answer(&mut tx, user.id, k).await?;
        if let Some((hash, status, location, body)) = prior {
            if hash != body_hash {
                return Err(AppError::invalid("Idempotency-Key", "was already used with a different request body"));
            }
            let mut r =
                (StatusCode::from_u16(status as u16).unwrap_or(StatusCode::CREATED), ApiJson(body)).into_response();
            if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                r.headers_mut().insert(header::LOCATION, l);
            }
            r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(r);
        }
    }
    let row = service::create_in(&mut tx, now, &user, new).await?;
    let view = service::view(&mut tx, row, &user, now).await?;
    let location = format!("/api/v1/cases/{}", view.id);
    let body = serde_json::to_value(&view).expect("views serialise");
    if let Some(k) = &key {
        super::db::keep_idempotent_answer(&mut tx, (user.id, k), &body_hash, &location, &body, now).await?;
    }
    tx.commit().await?;
    let mut r = (StatusCode::CREATED, ApiJson(body)).into_response();
    r.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("header-safe"));
    Ok(r)
}

/// One case.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = CaseView), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<CaseView>, AppError> {
    let mut conn = state.db.acquire().await?;
    let row = service::visible(&mut conn, &user, id, false).await?;
    service::audit_read(&mut *state.conn().await?, &user, state.now(), &row, "api case").await?;
    Ok(ApiJson(service::view(&mut conn, row, &user, state.now()).await?))
}

/// Edits a case; the body carries the `version` it started from (409 when stale).
#[utoipa::path(patch, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)), request_body = CaseEdit,
    responses((status = 200, body = CaseView), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn patch(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(edit): ApiJson<CaseEdit>,
) -> Result<ApiJson<CaseView>, AppError> {
    let reference = Reference::load(&state.db).await?;
    let valid = edit.parse(&reference, crate::dates::today(state.now())).map_err(AppError::Invalid)?;
    let row = service::edit(&mut *state.conn().await?, &user, state.now(), id, edit.version, valid).await?;
    Ok(ApiJson(view_of(&state, &user, row).await?))
}

/// A workflow action.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The action (see `allowed_actions`).
    #[schema(value_type = Action)]
    pub action: Choice<Action>,
    /// Reason, question or justification (required for some actions).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub comment: Option<String>,
    /// The date the act took effect, YYYY-MM-DD (today when absent). Not in the future,
    /// not before the act it follows.
    #[serde(default)]
    pub date: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
    /// How the initial determination was served (only that act names it).
    #[serde(default)]
    #[schema(value_type = Option<ServiceMethod>)]
    pub method: Option<Choice<ServiceMethod>>,
    /// The version the action was chosen from (optional; 409 when stale).
    #[serde(default)]
    pub version: Option<i32>,
}

/// Parses a transition request.
pub fn parse_transition(t: &TransitionRequest) -> Result<(Action, Input), AppError> {
    let mut errors = Vec::new();
    let action = t.action.or_error("action", "is not a workflow action", &mut errors);
    let date: Option<Date> = match t.date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => parse_date(d).or_else(|| {
            errors.push(FieldError::new("date", "must be a date YYYY-MM-DD"));
            None
        }),
        None => None,
    };
    if let Some(a) = action
        && !a.needs_method()
        && t.method.is_some()
    {
        errors.push(FieldError::new(
            "method",
            format!("is not taken by {}: only serving the initial determination names how it was served", a.as_str()),
        ));
    }
    // A method that is none of the rule's is a method not given: the workflow asks for one.
    let method = t.method.as_ref().and_then(Choice::known);
    errors.extend(t.comment.as_deref().and_then(|c| text::check("comment", c, text::TEXT)));
    errors.extend(t.late_reason.as_deref().and_then(|c| text::check("late_reason", c, text::LINE)));
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((
        action.expect("checked"),
        Input { comment: t.comment.clone(), date, method, late_reason: t.late_reason.clone() },
    ))
}

/// Takes a workflow action: 409 when not possible now, 403 when never for this role.
#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", tag = "cases", params(("id" = Uuid, Path)), request_body = TransitionRequest,
    responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn transition(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(t): ApiJson<TransitionRequest>,
) -> Result<ApiJson<CaseView>, AppError> {
    let (action, input) = parse_transition(&t)?;
    let row = service::transition(&mut *state.conn().await?, &user, state.now(), id, action, input, t.version).await?;
    Ok(ApiJson(view_of(&state, &user, row).await?))
}

/// A note.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// Text.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub body: String,
}

/// Adds a note.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases", params(("id" = Uuid, Path)), request_body = NoteRequest,
    responses((status = 201, description = "{\"id\": ...}"), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn add_note(
    user: Authorized<perm::WorkCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(n): ApiJson<NoteRequest>,
) -> Result<Response, AppError> {
    let note = service::add_note(&mut *state.conn().await?, &user, state.now(), id, &n.body).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"id": note}))).into_response())
}

/// The case's audit timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/cases/{id}/events", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = [StoredEvent]), (status = 404)), security(("bearer" = [])))]
pub async fn events(
    user: Authorized<perm::ViewCases>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
) -> Result<ApiJson<Vec<StoredEvent>>, AppError> {
    let mut conn = state.db.acquire().await?;
    service::visible(&mut conn, &user, id, false).await?;
    let rows: Vec<StoredEvent> = crate::audit::of_case(&mut conn, id).await?;
    Ok(ApiJson(rows))
}

/// Assignment of one or more cases.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// Case ids.
    #[schema(value_type = crate::text::List<CaseId, { ASSIGN_AT_ONCE }>, inline)]
    pub cases: Vec<CaseId>,
    /// The new assignee, or null to unassign.
    pub assignee: Option<UserId>,
}

/// How many cases one assignment may move.
pub const ASSIGN_AT_ONCE: usize = 500;

/// Assigns cases (supervisors); all or nothing.
#[utoipa::path(post, path = "/api/v1/cases/assign", tag = "cases", request_body = AssignRequest,
    responses((status = 200, description = "{\"assigned\": n}"), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn assign(
    user: Authorized<perm::AssignCases>,
    State(state): State<AppState>,
    ApiJson(a): ApiJson<AssignRequest>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    if a.cases.len() > ASSIGN_AT_ONCE {
        return Err(AppError::invalid("cases", format!("at most {ASSIGN_AT_ONCE} cases at once")));
    }
    let n = service::assign(&mut *state.conn().await?, &user, state.now(), &a.cases, a.assignee, state.mail).await?;
    Ok(ApiJson(json!({"assigned": n})))
}

/// Adds or changes a reference entry (administrators). `kind` is `adversaries`,
/// `categories`, `agencies` or `data_categories`.
#[utoipa::path(put, path = "/api/v1/reference/{kind}/{code}", tag = "reference",
    params(("kind" = String, Path), ("code" = String, Path)), request_body = super::reference::ReferenceEntry,
    responses((status = 204), (status = 404), (status = 422), (status = 403)), security(("bearer" = [])))]
pub async fn put_reference(
    user: Authorized<perm::ManageReference>,
    State(state): State<AppState>,
    AppPath((kind, code)): AppPath<(String, String)>,
    ApiJson(e): ApiJson<super::reference::ReferenceEntry>,
) -> Result<StatusCode, AppError> {
    super::reference::upsert(&mut *state.conn().await?, &user, state.now(), &kind, &code, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Keeps a case under a rule version other than the one in force on its acceptance date.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    /// The rule the case is kept under.
    #[schema(value_type = RuleVersion)]
    pub rule_version: Choice<RuleVersion>,
    /// The written reason (shown on the case).
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub reason: String,
}

/// Sets the rule version of a case (supervisors), with a written reason; audited.
#[utoipa::path(post, path = "/api/v1/cases/{id}/rule", tag = "cases", params(("id" = Uuid, Path)), request_body = RuleRequest,
    responses((status = 200, body = CaseView), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn set_rule(
    user: Authorized<perm::SetCaseRule>,
    State(state): State<AppState>,
    AppPath(id): AppPath<CaseId>,
    ApiJson(r): ApiJson<RuleRequest>,
) -> Result<ApiJson<CaseView>, AppError> {
    let rule = r.rule_version.or_invalid("rule_version", "must be ifr-2021 or final-2025")?;
    let row = service::set_rule(&mut *state.conn().await?, &user, state.now(), id, rule, &r.reason).await?;
    Ok(ApiJson(view_of(&state, &user, row).await?))
}
