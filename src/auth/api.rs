//! The identity API: tokens, `me`, and account administration.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::password;
use super::policy::Role;
use super::service::{self, AdminChange, NewUser, SignInError, UserRecord};
use super::session::Kind;
use crate::app::AppState;
use crate::choice::Choice;
use crate::web::auth::{Authorized, CurrentUser, RequestMeta, SignedIn, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::{ApiJson, AppPath};

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
        service::SignInClient { kind: Kind::Api, previous_secret: None, next: None },
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
    let m = super::second_factor::methods(&mut conn, user.id).await?;
    let keys = super::security_keys::list(&mut conn, user.id).await?;
    let identities = super::identities::of_user(&mut conn, user.id).await?;
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
    service::set_own_time_zone(&mut *state.conn().await?, &user, state.now(), zone.as_ref()).await?;
    let chosen = zone.is_some();
    Ok(ApiJson(me_of(&user, &zone.unwrap_or_else(|| state.web.zone.clone()), chosen)))
}

/// Lists accounts (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = [UserRecord]), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn list_users(
    _user: Authorized<perm::ManageUsers>,
    State(state): State<AppState>,
) -> Result<ApiJson<Vec<UserRecord>>, AppError> {
    Ok(ApiJson(service::list_users(&state.db).await?))
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
    responses((status = 201, body = UserRecord), (status = 202, body = super::approvals::Approval, description = "The account waits for a second administrator to activate it"), (status = 409), (status = 422), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
    ApiJson(req): ApiJson<CreateUser>,
) -> Result<Response, AppError> {
    let input = NewUser::parse(&req.email, &req.name, &req.role.as_text(), &req.password).map_err(AppError::Invalid)?;
    let (mut r, created) = match service::admin_create_user(&state.db, state.now(), &user, input).await? {
        service::NewAccount::Done(u) => ((StatusCode::CREATED, ApiJson(&u)).into_response(), u),
        service::NewAccount::Requested(u, a) => ((StatusCode::ACCEPTED, ApiJson(&a)).into_response(), u),
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
    responses((status = 200, body = UserRecord), (status = 202, body = super::approvals::Approval, description = "The role change or the activation waits for a second administrator"), (status = 404), (status = 409), (status = 422), (status = 401), (status = 403)), security(("bearer" = [])))]
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
            service::AdminOutcome::Done(after) => after,
            // A guarded account's activation waits for a second administrator (and its
            // role, if asked for too, is not changed meanwhile).
            service::AdminOutcome::Requested(a) => return Ok((StatusCode::ACCEPTED, ApiJson(a)).into_response()),
        };
        version = version.map(|_| after.version);
        result = Some(after);
    }
    if let Some(role) = role {
        match service::admin_change(&mut *state.conn().await?, &user, state.now(), id, AdminChange::Role(role), version)
            .await?
        {
            service::AdminOutcome::Done(after) => result = Some(after),
            service::AdminOutcome::Requested(a) => return Ok((StatusCode::ACCEPTED, ApiJson(a)).into_response()),
        }
    }
    Ok(ApiJson(result.expect("one change was made")).into_response())
}

/// Requests waiting for a second administrator, oldest first (administrators).
#[utoipa::path(get, path = "/api/v1/approvals", tag = "users",
    responses((status = 200, body = [super::approvals::Approval])), security(("bearer" = [])))]
pub async fn list_approvals(
    State(state): State<AppState>,
    user: Authorized<perm::ManageUsers>,
) -> Result<ApiJson<Vec<super::approvals::Approval>>, AppError> {
    Ok(ApiJson(super::approvals::open(&mut *state.conn().await?, &user, state.now(), None).await?))
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
    pub approval: super::approvals::Approval,
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
    use super::approvals::Decision;
    let temporary = password::generate();
    let (decision, outcome) = match req.decision.or_invalid("decision", "must be approve, refuse or withdraw")? {
        ApprovalVerdict::Approve => (Decision::Approve(Some(temporary.clone())), "approved"),
        ApprovalVerdict::Refuse => (Decision::Refuse, "refused"),
        ApprovalVerdict::Withdraw => (Decision::Withdraw, "withdrawn"),
    };
    let done = super::approvals::decide(
        &mut *state.conn().await?,
        &user,
        state.now(),
        id,
        decision,
        state.sso.is_some(),
        None,
    )
    .await?;
    let reset = outcome == "approved" && done.approval.kind.sets_a_password();
    Ok(ApiJson(ApprovalResult {
        approval: done.approval,
        outcome: outcome.into(),
        user: done.user,
        temporary_password: reset.then_some(temporary),
    }))
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
    let until = state.now() + super::session::REAUTH_VALID;
    Ok(ApiJson(
        serde_json::json!({"reauthenticated": true, "valid_until": until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()}),
    ))
}
