//! The administrators' account pages: the list of accounts with the form that creates
//! one, an account's page with its changes and the requests waiting for a second
//! administrator, and (`web/sign_in_policy.rs`) the roles' sign-in policies.

pub mod sign_in_policy;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;

use super::model::{
    AdminChange, AdminOutcome, Approval, DecidedOn, Decision, NewAccount, NewUser, UserRecord, needs_approval,
};
use super::{approvals, db, password, service};
use crate::access::policy::Role;
use crate::app::AppState;
use crate::web::auth::{Authorized, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::flash::Flash;
use crate::web::layout::{FormErrors, Layout, render, show_time};

// ----- administrators -----

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRecord>,
    now: OffsetDateTime,
    errors: FormErrors,
    form_email: String,
    form_name: String,
    form_role: String,
    created: Option<(String, String)>,
    csrf_token: String,
    roles: [Role; 4],
    /// Requests waiting for a second administrator.
    approvals: Vec<Approval>,
    /// What the last action did, in words.
    notice: String,
}

async fn users_page_with(
    state: &AppState,
    user: &SignedIn,
    errors: FormErrors,
    form: Option<&CreateUserForm>,
    created: Option<(String, String)>,
    notice: String,
) -> Result<Response, AppError> {
    let users = db::list_users(&state.db).await?;
    let approvals = approvals::open(&mut *state.conn().await?, user, state.now(), None).await?;
    render(&UsersPage {
        approvals,
        notice,
        layout: Layout::for_user(&state.web, "/admin/users", Some(user)),
        users,
        now: state.now(),
        errors,
        form_email: form.map(|f| f.email.clone()).unwrap_or_default(),
        form_name: form.map(|f| f.name.clone()).unwrap_or_default(),
        form_role: form.map(|f| f.role.clone()).unwrap_or_else(|| "analyst".into()),
        created,
        csrf_token: user.csrf_token.clone(),
        roles: Role::ALL,
    })
}

/// `GET /admin/users`.
pub async fn users_page(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    flash: Flash,
) -> Result<Response, AppError> {
    users_page_with(&state, &user, FormErrors::default(), None, None, flash.message).await
}

/// The create-account form. The initial password is generated and shown once; the user
/// must change it at the first sign-in.
#[derive(Debug, Deserialize)]
pub struct CreateUserForm {
    email: String,
    name: String,
    role: String,
}

/// `POST /admin/users`.
pub async fn create_user(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppForm(form): AppForm<CreateUserForm>,
) -> Result<Response, AppError> {
    let initial = password::generate();
    let result = match NewUser::parse(&form.email, &form.name, &form.role, &initial) {
        Ok(input) => service::admin_create_user(&state.db, state.now(), &user, input).await.map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match result {
        // The initial password is shown once, in this answer: it is put in no cookie and
        // kept nowhere (a re-post finds the account made and is refused).
        Ok(NewAccount::Done(created)) => {
            users_page_with(&state, &user, FormErrors::default(), None, Some((created.email, initial)), String::new())
                .await
        }
        Ok(NewAccount::Requested(created, _)) => {
            let notice = format!(
                "The account of {} is created but cannot sign in yet: a {}'s account is activated by a second administrator, who also sets its temporary password and gives it to its holder.",
                created.email,
                created.role.label().to_lowercase()
            );
            Ok(Flash::done(notice).see_other(&state.web, &user, "/admin/users"))
        }
        Err(AppError::Invalid(errors)) => {
            let mut r = users_page_with(&state, &user, FormErrors(errors), Some(&form), None, String::new()).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(AppError::Conflict(message)) => {
            let errors = FormErrors(vec![FieldError::new("role", message)]);
            let mut r = users_page_with(&state, &user, errors, Some(&form), None, String::new()).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    layout: Layout,
    target: UserRecord,
    locked: bool,
    /// Until when and from where, when locked.
    locked_until: String,
    locked_from: String,
    /// Addresses the account signed in from lately, with the time.
    known_addresses: Vec<(String, String)>,
    is_self: bool,
    csrf_token: String,
    roles: [Role; 4],
    message: String,
    temporary_password: String,
    /// Requests on this account waiting for a second administrator, with what the viewer
    /// may do with each (`true`: they asked, so they may withdraw it).
    approvals: Vec<(Approval, bool)>,
    /// Whether the account's password reset needs a second administrator.
    reset_needs_approval: bool,
    /// Its second factors: when one-time codes were set up and last used (empty: never),
    /// a set-up begun, recovery codes left.
    totp_since: String,
    totp_last_used: String,
    totp_pending: bool,
    recovery_left: i64,
    has_second_factor: bool,
    /// Linked identities (at the OpenID provider, or cards).
    identities: Vec<IdentityRow>,
    /// Security keys: name, last used (empty: never).
    keys: Vec<(String, String)>,
    /// Whether card sign-in is configured (the page offers to link a card).
    piv: bool,
    /// The link-a-card form's errors and value.
    card_errors: FormErrors,
    card_subject: String,
}

/// A linked identity as the admin's page shows it.
struct IdentityRow {
    issuer: String,
    subject: String,
    /// "a card", or "single sign-on at ISSUER".
    what: String,
    email: String,
    linked: String,
    used: String,
}

async fn user_page_with(
    state: &AppState,
    user: &SignedIn,
    id: crate::ids::UserId,
    message: String,
    temporary_password: String,
) -> Result<Response, AppError> {
    user_page_full(state, user, id, message, temporary_password, FormErrors::default(), String::new()).await
}

/// The admin's page of an account, with the link-a-card form's errors and value.
pub(crate) async fn user_page_full(
    state: &AppState,
    user: &SignedIn,
    id: crate::ids::UserId,
    message: String,
    temporary_password: String,
    card_errors: FormErrors,
    card_subject: String,
) -> Result<Response, AppError> {
    let mut conn = state.db.acquire().await?;
    let target = db::get_user(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    let details = db::lock_details(&mut conn, id, state.now()).await?;
    let approvals = approvals::open(&mut conn, user, state.now(), Some(id))
        .await?
        .into_iter()
        .map(|a| {
            let mine = a.requested_by == user.id;
            (a, mine)
        })
        .collect();
    let reset_needs_approval = needs_approval(target.role, &AdminChange::ResetPassword(String::new()));
    let methods = db::second_factors(&mut conn, id).await?;
    let keys: Vec<(String, String)> = db::security_keys(&mut conn, id)
        .await?
        .into_iter()
        .map(|k| {
            let used = k.last_used_at.map(|t| show_time(t, &user.zone)).unwrap_or_default();
            (k.name, used)
        })
        .collect();
    let when = |t: Option<OffsetDateTime>| t.map(|t| show_time(t, &user.zone)).unwrap_or_default();
    let identities = db::identities(&mut conn, id)
        .await?
        .into_iter()
        .map(|i| IdentityRow {
            what: if i.is_card() { "Card (PIV/CAC)".into() } else { format!("Single sign-on at {}", i.issuer) },
            email: i.email.clone().unwrap_or_default(),
            linked: show_time(i.linked_at, &user.zone),
            used: when(i.last_used_at),
            issuer: i.issuer,
            subject: i.subject,
        })
        .collect();
    render(&UserPage {
        identities,
        piv: state.piv.is_some(),
        card_errors,
        card_subject,
        totp_since: when(methods.totp_since),
        totp_last_used: when(methods.totp_last_used),
        totp_pending: methods.totp_pending,
        recovery_left: methods.recovery_left,
        has_second_factor: methods.totp_since.is_some()
            || methods.totp_pending
            || methods.recovery_left > 0
            || !keys.is_empty(),
        keys,
        approvals,
        reset_needs_approval,
        layout: Layout::for_user(&state.web, "/admin/users", Some(user)),
        locked: target.locked_at(state.now()),
        locked_until: target.locked_until.map(|t| show_time(t, &user.zone)).unwrap_or_default(),
        locked_from: details.locked_from.unwrap_or_default(),
        known_addresses: details.known.into_iter().map(|(a, t)| (a, show_time(t, &user.zone))).collect(),
        is_self: target.id == user.id,
        target,
        csrf_token: user.csrf_token.clone(),
        roles: Role::ALL,
        message,
        temporary_password,
    })
}

/// `?done=` on the account's page after a card's link or an identity's removal.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /admin/users/{id}`.
pub async fn user_page(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<crate::ids::UserId>,
    AppQuery(q): AppQuery<DoneQuery>,
    flash: Flash,
) -> Result<Response, AppError> {
    if !flash.message.is_empty() {
        return user_page_with(&state, &user, id, flash.message, String::new()).await;
    }
    let message = match q.done.as_deref() {
        Some("card-linked") => "The card is linked: its holder signs in with it from now on.",
        Some("card-requested") => {
            "Linking the card waits for a second administrator's approval (the account is a supervisor's, an auditor's or an administrator's)."
        }
        Some("identity-removed") => "The identity is removed: it no longer signs in to this account.",
        _ => "",
    };
    user_page_with(&state, &user, id, message.into(), String::new()).await
}

/// An administrator's action form: which change, and the version it was made from.
#[derive(Debug, Deserialize)]
pub struct AdminActionForm {
    action: String,
    version: i32,
    role: Option<String>,
    /// The request decided (`approve`, `refuse`, `withdraw`).
    approval: Option<uuid::Uuid>,
}

/// `POST /admin/users/{id}/confirm`: the step before deactivating an account, which says
/// whose account it is and what follows; it writes nothing.
pub async fn confirm_user_action(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<crate::ids::UserId>,
    AppForm(form): AppForm<AdminActionForm>,
) -> Result<Response, AppError> {
    if form.action != "deactivate" {
        return Err(AppError::invalid("action", "only deactivating an account asks to confirm it"));
    }
    let mut conn = state.db.acquire().await?;
    let target = db::get_user(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    if target.version != form.version || !target.active {
        let message = "The account changed since you opened it: look at it again before you act.".to_string();
        let mut r = user_page_with(&state, &user, id, message, String::new()).await?;
        *r.status_mut() = StatusCode::CONFLICT;
        return Ok(r);
    }
    crate::web::confirm::Confirm {
        layout: Layout::for_user(&state.web, "/admin/users", Some(&user)),
        heading: format!("Deactivate the account of {}?", target.name),
        facts: vec![
            ("Account".into(), format!("{} <{}>", target.name, target.email)),
            ("Role".into(), target.role.label().to_string()),
        ],
        consequence: "The account can no longer sign in and every session of it ends now. Its cases stay assigned until a supervisor moves them; its history stays in the audit log. An administrator can reactivate it later.".into(),
        action: format!("/admin/users/{id}"),
        hidden: vec![
            ("csrf_token".into(), user.csrf_token.clone()),
            ("version".into(), form.version.to_string()),
            ("action".into(), "deactivate".into()),
        ],
        button: "Yes: deactivate the account".into(),
        destructive: true,
        cancel: format!("/admin/users/{id}"),
    }
    .page()
}

/// `POST /admin/users/{id}`.
pub async fn user_action(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<crate::ids::UserId>,

    AppForm(form): AppForm<AdminActionForm>,
) -> Result<Response, AppError> {
    let mut temporary = String::new();
    if let Some(decision) = match form.action.as_str() {
        "approve" => Some(Decision::Approve(None)),
        "refuse" => Some(Decision::Refuse),
        "withdraw" => Some(Decision::Withdraw),
        _ => None,
    } {
        return decide_approval(&state, &user, id, form.approval, decision).await;
    }
    let change = match form.action.as_str() {
        "role" => AdminChange::Role(
            form.role
                .as_deref()
                .and_then(Role::parse)
                .ok_or_else(|| AppError::invalid("role", "must be one of analyst, supervisor, auditor, admin"))?,
        ),
        "deactivate" => AdminChange::Active(false),
        "reactivate" => AdminChange::Active(true),
        "reset_password" => {
            temporary = password::generate();
            AdminChange::ResetPassword(temporary.clone())
        }
        "unlock" => AdminChange::Unlock,
        "end_sessions" => AdminChange::EndSessions,
        "reset_second_factors" => AdminChange::ResetSecondFactors,
        _ => {
            return Err(AppError::invalid(
                "action",
                "must be one of role, deactivate, reactivate, reset_password, reset_second_factors, unlock, end_sessions, approve, refuse, withdraw",
            ));
        }
    };
    match service::admin_change(&mut *state.conn().await?, &user, state.now(), id, change, Some(form.version))
        .await
        .map_err(AppError::from)
    {
        Ok(AdminOutcome::Requested(a)) => {
            let message = format!(
                "Asked for a second administrator's approval to {}: nothing changes until another administrator approves it (by {}).",
                a.describe(),
                show_time(a.expires_at, &user.zone)
            );
            Ok(Flash::done(message).see_other(&state.web, &user, &format!("/admin/users/{id}")))
        }
        Ok(AdminOutcome::Done(after)) => {
            let message = match form.action.as_str() {
                "role" => format!("Role changed to {}. The user's sessions were ended.", after.role.label()),
                "deactivate" => "Account deactivated. The user's sessions were ended.".into(),
                "reactivate" => "Account reactivated.".into(),
                "reset_password" => "Password reset. Give the user the temporary password below; they must change it at the next sign-in.".into(),
                "unlock" => "Account unlocked.".into(),
                "reset_second_factors" => "Second factor reset: the one-time codes and recovery codes are gone and the user's sessions were ended. They sign in with the password alone until they set up a new authenticator.".into(),
                _ => "All of the user's sessions were ended.".into(),
            };
            if temporary.is_empty() {
                Ok(Flash::done(message).see_other(&state.web, &user, &format!("/admin/users/{id}")))
            } else {
                // The temporary password is shown once, in this answer: it is put in no
                // cookie and kept nowhere (a re-post is refused: the account's version moved).
                user_page_with(&state, &user, id, message, temporary).await
            }
        }
        Err(AppError::Conflict(message)) => {
            let mut r = user_page_with(&state, &user, id, message, String::new()).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// A second administrator's decision on a request (or its withdrawal by the one who asked).
async fn decide_approval(
    state: &AppState,
    user: &SignedIn,
    id: crate::ids::UserId,
    approval: Option<uuid::Uuid>,
    decision: Decision,
) -> Result<Response, AppError> {
    let approval = approval.ok_or_else(|| AppError::invalid("approval", "name the request to decide"))?;
    // A password reset takes its temporary password now, from the approver.
    let temporary = password::generate();
    let decision = match decision {
        Decision::Approve(_) => Decision::Approve(Some(temporary.clone())),
        d => d,
    };
    let approving = matches!(decision, Decision::Approve(_));
    match service::decide(
        &mut *state.conn().await?,
        user,
        state.now(),
        approval,
        decision,
        state.sso.is_some(),
        Some(DecidedOn::Account(id)),
    )
    .await
    .map_err(AppError::from)
    {
        Ok(done) => {
            let reset = done.approval.kind.sets_a_password() && approving;
            let message = if approving {
                format!(
                    "Approved: {}.{}",
                    done.approval.describe(),
                    if reset {
                        " Give the user the temporary password below; they must change it at the next sign-in."
                    } else {
                        " The user's sessions were ended."
                    }
                )
            } else {
                format!("The request to {} is closed; nothing changed.", done.approval.describe())
            };
            if reset {
                // The temporary password is shown once, in this answer: it is put in no
                // cookie and kept nowhere (a re-post is refused: the request is decided).
                user_page_with(state, user, id, message, temporary).await
            } else {
                Ok(Flash::done(message).see_other(&state.web, user, &format!("/admin/users/{id}")))
            }
        }
        Err(AppError::Conflict(message)) | Err(AppError::ForbiddenBecause(message)) => {
            let mut r = user_page_with(state, user, id, message, String::new()).await?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(e) => Err(e),
    }
}
