//! The administrators' page of the roles' sign-in policy (`/admin/sign-in-policy`).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;

use crate::app::AppState;
use crate::auth::policy::Role;
use crate::auth::sign_in_policy::{self, PolicyChange, RolePolicy};
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppForm, AppQuery};
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
    done: bool,
}

/// `?done=1` after a change.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    user: &SignedIn,
    rows: Option<Vec<Row>>,
    errors: FormErrors,
    done: bool,
) -> Result<Response, AppError> {
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
        done,
    })
}

/// `GET /admin/sign-in-policy`.
pub async fn show(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppQuery(q): AppQuery<DoneQuery>,
) -> Result<Response, AppError> {
    page(&state, &user, None, FormErrors::default(), q.done.is_some()).await
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
        Ok(_) => Ok(Redirect::to("/admin/sign-in-policy?done=1").into_response()),
        Err(crate::error::DomainError::ReauthRequired) => {
            Ok(Redirect::to("/account/reauth?next=%2Fadmin%2Fsign-in-policy").into_response())
        }
        Err(crate::error::DomainError::Invalid(errors)) => {
            let mut r = page(&state, &user, Some(rows), FormErrors(errors), false).await?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
