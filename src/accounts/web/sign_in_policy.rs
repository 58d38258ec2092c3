//! The administrators' page of the roles' sign-in policy (`/admin/sign-in-policy`), with
//! the loosening changes that wait for a second administrator and their decisions
//! (`/admin/sign-in-policy/approvals/{id}`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;

use crate::access::policy::Role;
use crate::accounts::approvals;
use crate::accounts::model::{Approval, DecidedOn, Decision, PolicyChange, RolePolicy};
use crate::accounts::service;
use crate::accounts::sign_in_policy;
use crate::app::AppState;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, render};

/// One role's row as the page shows it (the entered values after a refusal).
pub struct Row {
    pub role: Role,
    pub password_allowed: bool,
    pub require_security_key: bool,
    pub sso_assurance: String,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "admin/sign_in_policy.html")]
struct PolicyPage {
    layout: Layout,
    csrf_token: String,
    rows: Vec<Row>,
    errors: FormErrors,
    provider: String,
    /// What the last action did, in words.
    message: String,
    /// Loosening changes waiting for a second administrator, each with whether the reader
    /// asked for it and the role's policy as it stands, in words.
    waiting: Vec<(Approval, bool, String)>,
}

/// `?done=1` after a change made at once; `?asked=1` when some of it waits for approval.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
    asked: Option<String>,
}

async fn page(
    state: &AppState,
    user: &SignedIn,
    rows: Option<Vec<Row>>,
    errors: FormErrors,
    message: String,
) -> Result<Response, AppError> {
    let mut conn = state.conn().await?;
    let mut waiting = Vec::new();
    for a in approvals::open(&mut conn, user, state.now(), None).await? {
        let Some(asked) = &a.policy else { continue };
        let now = sign_in_policy::of_role(&mut conn, asked.role).await?.describe();
        let mine = a.requested_by == user.id;
        waiting.push((a, mine, now));
    }
    drop(conn);
    let rows = match rows {
        Some(r) => r,
        None => sign_in_policy::all(&mut *state.conn().await?)
            .await?
            .into_iter()
            .map(|p: RolePolicy| Row {
                role: p.role,
                password_allowed: p.password_allowed,
                require_security_key: p.require_security_key,
                sso_assurance: p.sso_assurance.join(" "),
                version: p.version,
            })
            .collect(),
    };
    render(&PolicyPage {
        layout: Layout::for_user(&state.web, "/admin/users", Some(user)),
        csrf_token: user.csrf_token.clone(),
        rows,
        errors,
        provider: state.sso.as_ref().map(|s| s.name().to_string()).unwrap_or_default(),
        message,
        waiting,
    })
}

/// `GET /admin/sign-in-policy`.
pub async fn show(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppQuery(q): AppQuery<DoneQuery>,
    flash: Flash,
) -> Result<Response, AppError> {
    if !flash.message.is_empty() {
        return page(&state, &user, None, FormErrors::default(), flash.message).await;
    }
    let message = match (q.done.is_some(), q.asked.is_some()) {
        (_, true) => {
            "Saved. What tightens a role's sign-in applies from each user's next sign-in; what loosens it waits for a second administrator's approval (below)."
        }
        (true, false) => "The sign-in policy is saved. It applies from each user's next sign-in.",
        _ => "",
    };
    page(&state, &user, None, FormErrors::default(), message.into()).await
}

/// `POST /admin/sign-in-policy`: every role's row at once (`password_allowed_ROLE` is a
/// checkbox, `sso_assurance_ROLE` the list of values, `version_ROLE` the version shown).
pub async fn save(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppForm(form): AppForm<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let mut changes = Vec::new();
    for role in Role::ALL {
        let version = form.get(&format!("version_{role}")).and_then(|v| v.trim().parse::<i64>().ok());
        let Some(version) = version else { continue };
        changes.push(PolicyChange {
            role,
            password_allowed: form.contains_key(&format!("password_allowed_{role}")),
            sso_assurance: form.get(&format!("sso_assurance_{role}")).cloned().unwrap_or_default(),
            require_security_key: form.contains_key(&format!("require_security_key_{role}")),
            version,
        });
    }
    let rows: Vec<Row> = changes
        .iter()
        .map(|c| Row {
            role: c.role,
            password_allowed: c.password_allowed,
            require_security_key: c.require_security_key,
            sso_assurance: c.sso_assurance.clone(),
            version: c.version,
        })
        .collect();
    match sign_in_policy::set(&state.db, state.now(), &user, changes, state.sso.is_some()).await {
        Ok(saved) if !saved.waiting.is_empty() => Ok(Redirect::to("/admin/sign-in-policy?asked=1").into_response()),
        Ok(_) => Ok(Redirect::to("/admin/sign-in-policy?done=1").into_response()),
        Err(crate::error::DomainError::ReauthRequired) => {
            Ok(Redirect::to("/account/reauth?next=%2Fadmin%2Fsign-in-policy").into_response())
        }
        Err(crate::error::DomainError::Invalid(errors)) => {
            let mut r = page(&state, &user, Some(rows), FormErrors(errors), String::new()).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(crate::error::DomainError::Conflict(message)) => {
            let mut r = page(&state, &user, Some(rows), FormErrors::default(), message).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// A decision on a waiting change.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    /// `approve`, `refuse` or `withdraw`.
    action: String,
}

/// `POST /admin/sign-in-policy/approvals/{id}`: a second administrator approves or refuses
/// a loosening change (approving, like saving the policy, after a step-up), or the one who
/// asked withdraws it.
pub async fn decide(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<uuid::Uuid>,
    AppForm(form): AppForm<DecisionForm>,
) -> Result<Response, AppError> {
    let decision = match form.action.as_str() {
        "approve" => Decision::Approve(None),
        "refuse" => Decision::Refuse,
        "withdraw" => Decision::Withdraw,
        _ => return Err(AppError::invalid("action", "must be approve, refuse or withdraw")),
    };
    let approving = matches!(decision, Decision::Approve(_));
    let done = service::decide(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        decision,
        state.sso.is_some(),
        Some(DecidedOn::Policy),
    )
    .await;
    let message = match done {
        Ok(d) if approving => format!("Approved: {}. It applies from each user's next sign-in.", d.approval.describe()),
        Ok(d) => format!("The request to {} is closed; nothing changed.", d.approval.describe()),
        Err(crate::error::DomainError::ReauthRequired) => {
            return Ok(Redirect::to("/account/reauth?next=%2Fadmin%2Fsign-in-policy").into_response());
        }
        Err(crate::error::DomainError::Conflict(m)) | Err(crate::error::DomainError::ForbiddenBecause(m)) => {
            let mut r = page(&state, &user, None, FormErrors::default(), m).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Flash::done(message).see_other(&state.web, &user, "/admin/sign-in-policy"))
}
