//! The account administration API: accounts and the requests waiting for a second
//! administrator.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::model::{AdminChange, AdminOutcome, Approval, NewAccount, NewUser, UserRecord};
use super::{approvals, db, password, service};
use crate::access::policy::Role;
use crate::app::AppState;
use crate::choice::Choice;
use crate::web::auth::{Authorized, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{ApiJson, AppPath};

/// Lists accounts (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = [UserRecord]), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn list_users(
    _user: Authorized<perm::ManageUsers>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<UserRecord>>, AppError> {
    Ok(ApiJson(db::list_users(&state.db).await?))
}

/// A new account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(value_type = crate::text::Text<{ crate::text::EMAIL }>, inline)]
    pub email: String,
    #[schema(value_type = crate::text::Text<{ crate::text::PERSON }>, inline)]
    pub name: String,
    /// The account's role.
    #[schema(value_type = Role)]
    pub role: Choice<Role>,
    /// Initial password; the user must change it at the first sign-in.
    #[schema(value_type = crate::text::Text<{ crate::text::PASSWORD }>, inline)]
    pub password: String,
}

/// Creates an account (administrators). An analyst's is active at once; a supervisor's,
/// an auditor's or an administrator's is created inactive and waits for a second
/// administrator to activate it (202, the request; that administrator sets its temporary
/// password, so the one given here is not kept), or is refused when there is none (409).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserRecord), (status = 202, body = Approval, description = "The account waits for a second administrator to activate it"), (status = 409), (status = 422), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<Response, AppError> {
    let input = NewUser::parse(&req.email, &req.name, &req.role.as_text(), &req.password).map_err(AppError::Invalid)?;
    let (mut r, created) = match service::admin_create_user(&state.db, state.now(), &user, input).await? {
        NewAccount::Done(u) => ((StatusCode::CREATED, ApiJson(&u)).into_response(), u),
        NewAccount::Requested(u, a) => ((StatusCode::ACCEPTED, ApiJson(&a)).into_response(), u),
    };
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/v1/users/{}", created.id)).expect("header-safe"),
    );
    Ok(r)
}

/// Changes to an account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUser {
    /// New role.
    #[schema(value_type = Option<Role>)]
    pub role: Option<Choice<Role>>,
    /// Activate (true) or deactivate (false).
    pub active: Option<bool>,
    /// The version the change was made from; a stale one gets 409.
    pub version: Option<i32>,
}

/// Changes an account's role or its active flag (administrators). Both end the user's
/// sessions. Raising an account to supervisor, auditor or administrator is not made at
/// once: it is asked for (202, the request) and made when a second administrator approves
/// it (`POST /api/v1/approvals/{id}`); refused (409) when there is no other active
/// administrator.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = PatchUser, params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserRecord), (status = 202, body = Approval, description = "The role change or the activation waits for a second administrator"), (status = 404), (status = 409), (status = 422), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn patch_user(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<crate::ids::UserId>,

    ApiJson(req): ApiJson<PatchUser>,
) -> Result<Response, AppError> {
    let role = match &req.role {
        Some(r) => Some(r.or_invalid("role", "must be one of analyst, supervisor, auditor, admin")?),
        None => None,
    };
    if role.is_none() && req.active.is_none() {
        return Err(AppError::Invalid(vec![FieldError::new("body", "give role or active")]));
    }
    // Either may wait for a second administrator while the other is made: one at a time.
    if role.is_some() && req.active.is_some() {
        return Err(AppError::Invalid(vec![FieldError::new(
            "body",
            "give role or active, not both: change them in two requests",
        )]));
    }
    let mut version = req.version;
    let mut result = None;
    if let Some(active) = req.active {
        let after = match service::admin_change(
            &mut *state.conn().await?,
            &user,
            state.now(),
            id,
            AdminChange::Active(active),
            version,
        )
        .await?
        {
            AdminOutcome::Done(after) => after,
            // A guarded account's activation waits for a second administrator (and its
            // role, if asked for too, is not changed meanwhile).
            AdminOutcome::Requested(a) => return Ok((StatusCode::ACCEPTED, ApiJson(a)).into_response()),
        };
        version = version.map(|_| after.version);
        result = Some(after);
    }
    if let Some(role) = role {
        match service::admin_change(&mut *state.conn().await?, &user, state.now(), id, AdminChange::Role(role), version)
            .await?
        {
            AdminOutcome::Done(after) => result = Some(after),
            AdminOutcome::Requested(a) => return Ok((StatusCode::ACCEPTED, ApiJson(a)).into_response()),
        }
    }
    Ok(ApiJson(result.expect("one change was made")).into_response())
}

/// Requests waiting for a second administrator, oldest first (administrators).
#[utoipa::path(get, path = "/api/v1/approvals", tag = "users",
    responses((status = 200, body = [Approval])), security(("bearer" = [])))]
pub async fn list_approvals(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
) -> Result<ApiJson<Vec<Approval>>, AppError> {
    Ok(ApiJson(approvals::open(&mut *state.conn().await?, &user, state.now(), None).await?))
}

/// A decision on a request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecision {
    /// What is decided.
    #[schema(value_type = ApprovalVerdict)]
    pub decision: Choice<ApprovalVerdict>,
}

/// What an administrator decides on a request: another administrator approves or refuses
/// it, the one who asked withdraws it (not stored as such: the request's outcome says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalVerdict {
    /// Carry the change out.
    Approve,
    /// Refuse it.
    Refuse,
    /// Take it back (the administrator who asked).
    Withdraw,
}

impl ApprovalVerdict {
    /// Every decision.
    pub const ALL: [ApprovalVerdict; 3] =
        [ApprovalVerdict::Approve, ApprovalVerdict::Refuse, ApprovalVerdict::Withdraw];

    /// The name sent (the page's buttons and the API).
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalVerdict::Approve => "approve",
            ApprovalVerdict::Refuse => "refuse",
            ApprovalVerdict::Withdraw => "withdraw",
        }
    }
}

/// What a decision did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApprovalResult {
    /// The request.
    pub approval: Approval,
    /// `approved`, `refused` or `withdrawn`.
    pub outcome: String,
    /// The account after an approved change.
    pub user: Option<UserRecord>,
    /// An approved password reset's temporary password (shown once; the user must change
    /// it at the next sign-in).
    pub temporary_password: Option<String>,
}

/// Decides a request waiting for a second administrator: approving carries the change
/// out. The administrator who asked may only withdraw it.
#[utoipa::path(post, path = "/api/v1/approvals/{id}", tag = "users", request_body = ApprovalDecision, params(("id" = Uuid, Path)),
    responses((status = 200, body = ApprovalResult), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn decide_approval(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<uuid::Uuid>,
    ApiJson(req): ApiJson<ApprovalDecision>,
) -> Result<ApiJson<ApprovalResult>, AppError> {
    use super::model::Decision;
    let temporary = password::generate();
    let (decision, outcome) = match req.decision.or_invalid("decision", "must be approve, refuse or withdraw")? {
        ApprovalVerdict::Approve => (Decision::Approve(Some(temporary.clone())), "approved"),
        ApprovalVerdict::Refuse => (Decision::Refuse, "refused"),
        ApprovalVerdict::Withdraw => (Decision::Withdraw, "withdrawn"),
    };
    let done =
        service::decide(&mut *state.conn().await?, &user, state.now(), id, decision, state.sso.is_some(), None).await?;
    let reset = outcome == "approved" && done.approval.kind.sets_a_password();
    Ok(ApiJson(ApprovalResult {
        approval: done.approval,
        outcome: outcome.into(),
        user: done.user,
        temporary_password: reset.then_some(temporary),
    }))
}
