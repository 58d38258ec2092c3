//! Card sign-in (`/sign-in/piv`) and the administrators' linking of card subjects to
//! accounts. The use cases are [`crate::auth::piv`]'s and [`crate::accounts::identities`]'s.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{NextQuery, redirect_with_cookie, safe_next, session_cookie};
use crate::accounts::identities;
use crate::app::AppState;
use crate::auth::piv::{self, Refusal};
use crate::web::auth::{Authorized, MaybeUser, RequestMeta, cookie_name, cookie_value, perm};
use crate::web::error::AppError;
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::layout::{FormErrors, Layout, render};

/// `GET /sign-in/piv`: signs in with the card the proxy verified.
pub async fn sign_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    AppQuery(q): AppQuery<NextQuery>,
) -> Result<Response, AppError> {
    let Some(settings) = state.piv.clone() else { return Err(AppError::NotFound) };
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let values = |name: &str| -> Vec<&[u8]> { headers.get_all(name).iter().map(|v| v.as_bytes()).collect() };
    let forwarded = values(settings.header.as_str());
    let issuer = settings.issuers.as_ref().map(|(h, _)| values(h.as_str())).unwrap_or_default();
    let subject = piv::subject_of(&settings, meta.client_addr.as_deref(), &forwarded, &issuer);
    let previous = cookie_value(&headers, cookie_name(&state));
    match piv::sign_in(&state.db, state.now(), &meta, subject, previous.as_deref()).await {
        Ok(signed) => Ok(redirect_with_cookie(&next, session_cookie(&state, &signed.session))),
        Err(Refusal::Db(e)) => Err(e.into()),
        Err(refusal) => {
            let (status, heading, message) = match &refusal {
                Refusal::UntrustedProxy => (
                    StatusCode::FORBIDDEN,
                    "Card sign-in is not available here",
                    "This request did not come through the agency's card proxy. Open ICTS Review at the address your agency gave you for card sign-in.".to_string(),
                ),
                Refusal::NoCard | Refusal::BadSubject => (
                    StatusCode::UNAUTHORIZED,
                    "No card was read",
                    "No verified PIV or CAC certificate came with the request. Insert your card, choose its certificate when the browser asks, and try again.".to_string(),
                ),
                Refusal::UntrustedIssuer { .. } => (
                    StatusCode::FORBIDDEN,
                    "This card does not sign in here",
                    "The card was read, but it was issued by an authority whose cards do not sign in to ICTS Review. Use the card your agency issued, or ask an administrator.".to_string(),
                ),
                Refusal::UnknownCard { subject } => (
                    StatusCode::FORBIDDEN,
                    "No account for this card",
                    format!("No account of ICTS Review belongs to the card of {subject}. Ask an administrator to link your card to your account."),
                ),
                Refusal::Deactivated { .. } => (
                    StatusCode::FORBIDDEN,
                    "This account cannot sign in",
                    "The account is deactivated. If you need it, ask an administrator.".to_string(),
                ),
                Refusal::Assurance { required, .. } => (
                    StatusCode::FORBIDDEN,
                    "Your role signs in another way",
                    format!("Your role's sign-in policy does not accept a card sign-in; it asks for one of: {}.", required.join(", ")),
                ),
                Refusal::Db(_) => unreachable!("answered above"),
            };
            let mut r = render(&super::sso::RefusedPage {
                layout: Layout::new(&state.web, "/sign-in"),
                provider: String::new(),
                heading: heading.into(),
                message,
                again: String::new(),
            })?;
            *r.status_mut() = status;
            Ok(r)
        }
    }
}

/// The form linking a card to an account.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    subject: String,
}

/// `POST /admin/users/{id}/cards`: links a card's certificate subject to the account.
pub async fn link(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<crate::ids::UserId>,
    AppForm(form): AppForm<LinkForm>,
) -> Result<Response, AppError> {
    let change = crate::accounts::model::AdminChange::LinkCard(form.subject.clone());
    match crate::accounts::service::admin_change(&mut *state.conn().await?, &user, state.now(), id, change, None).await
    {
        Ok(crate::accounts::model::AdminOutcome::Done(_)) => {
            Ok(Redirect::to(&format!("/admin/users/{}?done=card-linked", id.0)).into_response())
        }
        Ok(crate::accounts::model::AdminOutcome::Requested(_)) => {
            Ok(Redirect::to(&format!("/admin/users/{}?done=card-requested", id.0)).into_response())
        }
        Err(crate::error::DomainError::Invalid(errors)) => {
            let mut r = crate::accounts::web::user_page_full(
                &state,
                &user,
                id,
                String::new(),
                String::new(),
                FormErrors(errors),
                form.subject,
            )
            .await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// The form removing an identity from an account.
#[derive(Debug, Deserialize)]
pub struct UnlinkForm {
    issuer: String,
    subject: String,
}

/// `POST /admin/users/{id}/identities/remove`: removes a linked identity (a card or a
/// provider's subject) from the account.
pub async fn unlink(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    AppPath(id): AppPath<crate::ids::UserId>,
    AppForm(form): AppForm<UnlinkForm>,
) -> Result<Response, AppError> {
    identities::unlink(&state.db, state.now(), &user, id, &form.issuer, &form.subject).await?;
    Ok(Redirect::to(&format!("/admin/users/{}?done=identity-removed", id.0)).into_response())
}
