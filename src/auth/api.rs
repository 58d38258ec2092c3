//! The identity API: tokens, `me`, the step-up. Account administration is
//! `accounts::api`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::service::{self, SignInError};
use super::session::Kind;
use crate::access::policy::Role;
use crate::app::AppState;
use crate::web::auth::{CurrentUser, RequestMeta, SignedIn};
use crate::web::error::AppError;
use crate::web::extract::ApiJson;

/// Credentials for a token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Account email.
    #[schema(value_type = crate::text::Text<{ crate::text::EMAIL }>, inline)]
    pub email: String,
    #[schema(value_type = crate::text::Text<{ crate::text::PASSWORD }>, inline)]
    pub password: String,
    /// For an account with one-time codes: the six digits its authenticator shows now,
    /// or one of its recovery codes.
    #[schema(max_length = 40)]
    pub code: Option<String>,
}

/// The user as the API shows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiUser {
    pub id: crate::ids::UserId,

    pub email: String,
    pub name: String,
    pub role: Role,
}

/// A new token. Send it as `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The bearer token (shown once).
    pub token: String,
    /// Absolute expiry; the token also lapses after 15 idle minutes (10 for admins).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The user.
    pub user: ApiUser,
}

/// Issues a bearer token. Every failure is the same 401, but one: an account with
/// one-time codes whose password was right and whose `code` is missing gets a 401 of type
/// `…:second-factor-required` (send the code with the password).
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, description = "Sign-in failed (any cause), or the account's one-time code is required"), (status = 429)))]
pub async fn create_token(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, AppError> {
    use super::second_factor::{self, CodeError};
    let now = state.now();
    let signed = match service::sign_in(
        &state.db,
        now,
        &meta,
        &req.email,
        &req.password,
        super::finish::SignInClient { kind: Kind::Api, previous_secret: None, next: None },
    )
    .await
    {
        Ok(service::SignInStep::Done(s)) => s,
        Ok(service::SignInStep::Code(challenge)) => {
            let Some(code) = req.code.as_deref() else {
                second_factor::code_missing(&state.db, now, &meta, &challenge).await?;
                return Err(AppError::SecondFactorRequired);
            };
            match second_factor::answer(
                &state.db,
                now,
                &meta,
                &challenge.secret,
                second_factor::Proof::Code(code),
                Kind::Api,
                None,
            )
            .await
            {
                Ok(done) => done.signed,
                Err(CodeError::Db(e)) => return Err(e.into()),
                Err(_) => {
                    // One try per request: the challenge is not kept for another.
                    second_factor::discard(&state.db, &challenge).await?;
                    return Err(AppError::Unauthenticated);
                }
            }
        }
        Err(SignInError::Rejected | SignInError::PasswordOff) => return Err(AppError::Unauthenticated),
        Err(SignInError::Throttled) => return Err(AppError::TooManyRequests),
        Err(SignInError::Db(e)) => return Err(e.into()),
    };
    let body = TokenResponse {
        token: signed.session.secret,
        expires_at: signed.session.expires_at,
        user: ApiUser { id: signed.user.id, email: signed.user.email, name: signed.user.name, role: signed.user.role },
    };
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

/// Revokes the token in use.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", responses((status = 204), (status = 401)), security(("bearer" = [])))]
pub async fn delete_token(State(state): State<AppState>, user: SignedIn) -> Result<StatusCode, AppError> {
    service::sign_out(&mut *state.conn().await?, &user, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: crate::ids::UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Whether the password must be changed before anything else.
    pub must_change_password: bool,
    /// The IANA time zone pages show this user times in (their own, or the office's).
    pub time_zone: String,
    /// Whether the user chose `time_zone` (otherwise it is the office's default).
    pub time_zone_chosen: bool,
}

/// Where pages show the user times.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneRequest {
    /// An IANA time zone name (`America/Chicago`, `UTC`), or null for the office's default.
    #[schema(max_length = 64, example = "America/Chicago")]
    pub time_zone: Option<String>,
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401)), security(("bearer" = [])))]
pub async fn me(user: SignedIn) -> ApiJson<Me> {
    ApiJson(me_of(&user, &user.zone, user.own_zone))
}

fn me_of(user: &SignedIn, zone: &crate::zone::Zone, chosen: bool) -> Me {
    Me {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role,
        must_change_password: user.must_change_password,
        time_zone: zone.name().to_string(),
        time_zone_chosen: chosen,
    }
}

/// How the signed-in user can sign in, besides a password.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignInMethods {
    /// Whether one-time codes (TOTP) are set up.
    pub totp: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// Registered security keys and passkeys.
    pub security_keys: Vec<SecurityKeySummary>,
    /// Identities linked to the account: at the OpenID provider, or cards.
    pub identities: Vec<IdentitySummary>,
    /// Whether the role requires a security key and the user must register one first.
    pub must_register_key: bool,
}

/// A registered security key or passkey.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecurityKeySummary {
    pub id: uuid::Uuid,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<time::OffsetDateTime>,
}

/// An identity linked to the account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentitySummary {
    /// `sso` (the OpenID provider) or `card` (PIV/CAC).
    #[schema(example = "sso")]
    pub kind: String,
    pub issuer: String,
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub linked_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<time::OffsetDateTime>,
}

/// How I can sign in: one-time codes, recovery codes left, security keys with their last
/// use, and linked identities.
#[utoipa::path(get, path = "/api/v1/me/sign-in-methods", tag = "auth", responses((status = 200, body = SignInMethods), (status = 401)), security(("bearer" = [])))]
pub async fn sign_in_methods(
    State(state): State<AppState>,
    user: SignedIn,
) -> Result<ApiJson<SignInMethods>, AppError> {
    let mut conn = state.conn().await?;
    let m = crate::accounts::db::second_factors(&mut conn, user.id).await?;
    let keys = crate::accounts::db::security_keys(&mut conn, user.id).await?;
    let identities = crate::accounts::db::identities(&mut conn, user.id).await?;
    Ok(ApiJson(SignInMethods {
        totp: m.totp_since.is_some(),
        recovery_codes_left: m.recovery_left,
        security_keys: keys
            .into_iter()
            .map(|k| SecurityKeySummary {
                id: k.id,
                name: k.name,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
            })
            .collect(),
        identities: identities
            .into_iter()
            .map(|i| IdentitySummary {
                kind: if i.is_card() { "card" } else { "sso" }.into(),
                issuer: i.issuer,
                subject: i.subject,
                linked_at: i.linked_at,
                last_used_at: i.last_used_at,
            })
            .collect(),
        must_register_key: user.must_register_key,
    }))
}

/// Sets where pages show the signed-in user times: an IANA zone of their own, or null for
/// the office's. Exports and the audit log stay UTC.
#[utoipa::path(put, path = "/api/v1/me/time-zone", tag = "auth", request_body = TimeZoneRequest,
    responses((status = 200, body = Me), (status = 401), (status = 422)), security(("bearer" = [])))]
pub async fn set_time_zone(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(req): ApiJson<TimeZoneRequest>,
) -> Result<ApiJson<Me>, AppError> {
    let zone = match req.time_zone.as_deref() {
        Some(name) => Some(crate::zone::Zone::parse(name).map_err(|e| AppError::invalid("time_zone", e.0))?),
        None => None,
    };
    crate::accounts::service::set_own_time_zone(&mut *state.conn().await?, &user, state.now(), zone.as_ref()).await?;
    let chosen = zone.is_some();
    Ok(ApiJson(me_of(&user, &zone.unwrap_or_else(|| state.web.zone.clone()), chosen)))
}

/// A step-up re-authentication.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthRequest {
    /// The account's password.
    #[schema(value_type = crate::text::Text<{ crate::text::PASSWORD }>, inline)]
    pub password: String,
}

/// Step-up: re-enter the password; for the next 5 minutes this token may sign
/// determinations and export case histories.
#[utoipa::path(post, path = "/api/v1/auth/reauth", tag = "auth", request_body = ReauthRequest,
    responses((status = 200), (status = 422), (status = 401)), security(("bearer" = [])))]
pub async fn reauth(
    user: SignedIn,
    State(state): State<AppState>,
    ApiJson(r): ApiJson<ReauthRequest>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    service::reauthenticate(&mut *state.conn().await?, &user, state.now(), &r.password).await?;
    let until = state.now() + crate::access::REAUTH_VALID;
    Ok(ApiJson(
        serde_json::json!({"reauthenticated": true, "valid_until": until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()}),
    ))
}
