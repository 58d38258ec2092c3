//! Single sign-on through the agency's OpenID provider (OpenID Connect, authorization code
//! flow with PKCE, `state` and `nonce`), on the `openidconnect` crate.
//!
//! - The provider's discovery document and keys are read from its issuer URL when first
//!   needed, kept for an hour, and its keys read again when a token names a key (`kid`)
//!   the kept set does not hold.
//! - Each sign-in through the provider starts with a row in `sso_logins` (state, nonce,
//!   PKCE verifier, where the user was going), bound to the browser by a random cookie
//!   whose sha256 is the row's key. The provider's answer takes that row once.
//! - The ID token is checked for its issuer, audience (this client), expiry (against the
//!   service's clock), nonce and signature, with an allow-list of signature algorithms.
//! - The identity maps to an account an administrator created: by the provider's subject
//!   once linked, else by the account's e-mail when the provider says it is verified (the
//!   subject is then linked at this first sign-in). There is no self-registration, and the
//!   roles are only ever the product's.
//! - The provider's `acr` and `amr` are kept on the session and in the `auth.sign_in`
//!   event; a role's sign-in policy can require some of them (see [`super::sign_in_policy`]).
//! - A password lock does not stop a sign-in through the provider: the lock guards the
//!   password, and the provider proves who the user is by its own means.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    SignatureVerificationError, SubjectIdentifier, TokenResponse,
};
use serde_json::json;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use tokio::sync::RwLock;

use super::db;
use super::finish::{self, SignedInSession};
use super::session::{self, Kind};
use crate::access::actor::RequestMeta;
use crate::access::policy::Role;
use crate::audit::{self, EventType, NewEvent, Outcome};
use crate::config::OidcSettings;
use crate::ids::{SessionId, UserId};

/// How long a sign-in may stay at the provider before its answer is no longer taken.
pub const LOGIN_LIFETIME: Duration = Duration::minutes(10);
/// How long the provider's discovery document and keys are kept before they are read again.
const METADATA_KEPT: StdDuration = StdDuration::from_secs(3600);
/// Sign-ins started and not finished that one client address may hold at once (high
/// enough for an office behind one proxy address: each lapses in 10 minutes).
const PENDING_PER_ADDRESS: i64 = 300;
/// Sign-ins started and not finished that the service holds at once, from anywhere.
const PENDING_IN_ALL: i64 = 20_000;
/// Signature algorithms an ID token may use.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The configured provider, with its discovery document and keys once read.
pub struct Sso {
    settings: OidcSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    http: openidconnect::reqwest::Client,
    kept: RwLock<Option<Kept>>,
}

/// The provider's document as last read, and how many times it (or its keys) were read.
struct Kept {
    metadata: Arc<ProviderMetadataWithLogout>,
    at: Instant,
    generation: u64,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.settings.client_id)
            .finish()
    }
}

/// Why a sign-in through the provider was not accepted. Each has the reason its audit
/// event records ([`Refusal::reason`]) and what the user is told.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The provider answered with an error (the user cancelled, or it refused them).
    #[error("the provider answered {error}")]
    Provider { error: String, description: Option<String> },
    /// No sign-in this browser started is waiting (none, lapsed, or already answered).
    #[error("no sign-in of this browser is waiting for this answer")]
    NotStarted,
    /// The answer's `state` is not the one this browser's sign-in sent.
    #[error("the answer's state is not this sign-in's")]
    StateMismatch,
    /// The answer names another issuer (RFC 9207).
    #[error("the answer comes from another issuer")]
    IssuerMismatch,
    /// The provider did not exchange the code for tokens (used, lapsed, or not ours).
    #[error("the provider refused the code: {0}")]
    CodeRefused(String),
    /// The ID token did not pass its checks.
    #[error("the ID token was refused ({reason}): {detail}")]
    Token { reason: &'static str, detail: String },
    /// No account of this service belongs to the identity.
    #[error("no account for this identity")]
    UnknownIdentity { subject: String, email: Option<String> },
    /// The account is deactivated.
    #[error("the account is deactivated")]
    Deactivated { user: UserId, role: Role },
    /// The provider's sign-in does not meet what the account's role requires.
    #[error("the sign-in does not meet the role's requirement")]
    Assurance { user: UserId, role: Role, required: Vec<String> },
    /// A step-up answered by another identity than the session's user, or by a sign-in at
    /// the provider that was not fresh.
    #[error("the re-authentication is not the session user's, or not fresh")]
    NotTheSessionUser,
    /// Too many sign-ins started from this address and not finished.
    #[error("too many sign-ins started from this address")]
    Throttled,
    /// The provider could not be reached or answered what cannot be read.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Refusal {
    /// The reason an audit event records.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Provider { .. } => "provider_error",
            Refusal::NotStarted => "no_sign_in_waiting",
            Refusal::StateMismatch => "state_mismatch",
            Refusal::IssuerMismatch => "issuer_mismatch",
            Refusal::CodeRefused(_) => "code_refused",
            Refusal::Token { reason, .. } => reason,
            Refusal::UnknownIdentity { .. } => "unknown_identity",
            Refusal::Deactivated { .. } => "deactivated",
            Refusal::Assurance { .. } => "insufficient_assurance",
            Refusal::NotTheSessionUser => "reauth_mismatch",
            Refusal::Throttled => "address_throttled",
            Refusal::Unavailable(_) => "provider_unavailable",
            Refusal::Db(_) => "database",
        }
    }
}

/// A sign-in sent to the provider: where the browser goes, and the cookie value that binds
/// the answer to this browser.
#[derive(Debug)]
pub struct Started {
    /// The provider's authorization URL with this sign-in's parameters.
    pub url: url::Url,
    /// The binding cookie's value (only its sha256 is stored).
    pub binding: String,
}

/// The provider's answer, as it comes back on the redirect URI.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Answer {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What a sign-in at the provider is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Purpose {
    /// Signing in; `fresh` asks the provider to authenticate the user again even if it has
    /// a session of its own.
    SignIn { fresh: bool },
    /// Re-authenticating this session's user (the step-up before signing or an export):
    /// the provider always authenticates again.
    Reauth(SessionId),
}

/// An answered sign-in at the provider, and where the user was going.
#[derive(Debug)]
pub enum Finished {
    /// A new session.
    SignedIn { signed: SignedInSession, next: String },
    /// The session re-authenticated.
    Reauthenticated { next: String },
}

/// What a checked ID token says about who signed in and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// When the provider authenticated the user (Unix seconds), if it says.
    pub auth_time: Option<i64>,
}

/// The chrono time of `t`, for the token verifier.
fn chrono_time(t: OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

fn unavailable(e: impl std::fmt::Display) -> Refusal {
    Refusal::Unavailable(e.to_string())
}

impl Sso {
    /// The provider of `settings`, answering to `public_url`'s `/sign-in/sso/callback`.
    pub fn new(settings: OidcSettings, public_url: &url::Url) -> Self {
        let base = public_url.as_str().trim_end_matches('/');
        let http = openidconnect::reqwest::ClientBuilder::new()
            // The provider's endpoints are taken as discovered: no redirects (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(10))
            .build()
            .expect("the HTTP client builds");
        // The issuer is compared as the provider writes it: without a trailing slash unless
        // it has a path that ends in one.
        let issuer_text = settings.issuer.as_str();
        let issuer_text = if settings.issuer.path() == "/" { issuer_text.trim_end_matches('/') } else { issuer_text };
        Sso {
            issuer: IssuerUrl::new(issuer_text.to_string()).expect("the issuer URL was checked"),
            redirect: RedirectUrl::new(format!("{base}/sign-in/sso/callback")).expect("the public URL was checked"),
            post_logout: PostLogoutRedirectUrl::new(format!("{base}/sign-in")).expect("the public URL was checked"),
            settings,
            http,
            kept: RwLock::new(None),
        }
    }

    /// The provider's name on the sign-in page.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The discovery document with its keys and their generation: the kept one while
    /// fresh, else read again; a kept one outlives a provider that cannot be reached.
    async fn metadata(&self) -> Result<(Arc<ProviderMetadataWithLogout>, u64), Refusal> {
        if let Some(k) = self.kept.read().await.as_ref()
            && k.at.elapsed() < METADATA_KEPT
        {
            return Ok((k.metadata.clone(), k.generation));
        }
        let mut kept = self.kept.write().await;
        if let Some(k) = kept.as_ref()
            && k.at.elapsed() < METADATA_KEPT
        {
            // Another request read it while this one waited.
            return Ok((k.metadata.clone(), k.generation));
        }
        match ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http).await {
            Ok(m) => {
                let generation = kept.as_ref().map_or(0, |k| k.generation + 1);
                let m = Arc::new(m);
                *kept = Some(Kept { metadata: m.clone(), at: Instant::now(), generation });
                Ok((m, generation))
            }
            Err(e) => match kept.as_ref() {
                Some(k) => {
                    tracing::warn!(error = %e, "the OpenID provider could not be read again; its kept document is used");
                    Ok((k.metadata.clone(), k.generation))
                }
                None => Err(unavailable(e)),
            },
        }
    }

    /// Reads the provider's keys again, after a token named a key that generation `seen`
    /// did not hold (unless another request has read them since).
    async fn refresh_keys(&self, seen: u64) -> Result<(Arc<ProviderMetadataWithLogout>, u64), Refusal> {
        let mut kept = self.kept.write().await;
        let Some(k) = kept.as_ref() else { return Err(Refusal::Unavailable("no provider document".into())) };
        if k.generation != seen {
            return Ok((k.metadata.clone(), k.generation));
        }
        let keys = CoreJsonWebKeySet::fetch_async(k.metadata.jwks_uri(), &self.http).await.map_err(unavailable)?;
        let m = Arc::new((*k.metadata).clone().set_jwks(keys));
        let generation = k.generation + 1;
        *kept = Some(Kept { metadata: m.clone(), at: k.at, generation });
        Ok((m, generation))
    }

    fn client(&self, m: &ProviderMetadataWithLogout) -> Client {
        CoreClient::from_provider_metadata(
            m.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Starts a sign-in (or a step-up): records its state, nonce and PKCE verifier against
    /// a new binding cookie, and gives the provider's URL to send the browser to.
    pub async fn start(
        &self,
        pool: &PgPool,
        now: OffsetDateTime,
        meta: &RequestMeta,
        next: &str,
        purpose: Purpose,
    ) -> Result<Started, Refusal> {
        let (fresh, session) = match purpose {
            Purpose::SignIn { fresh } => (fresh, None),
            Purpose::Reauth(s) => (true, Some(s.0)),
        };
        let mut tx = pool.begin().await?;
        db::delete_lapsed_sso_logins(&mut tx, now).await?;
        let (all, here) = db::pending_sso_logins(&mut tx, meta.client_addr.as_deref()).await?;
        if here >= PENDING_PER_ADDRESS || all >= PENDING_IN_ALL {
            tx.commit().await?;
            audit::record_anonymous_refusal(pool, now, &meta.audit(None), "sso_sign_ins_throttled").await?;
            return Err(Refusal::Throttled);
        }
        let (m, _) = self.metadata().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client(&m);
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        if fresh {
            request = request.add_prompt(CoreAuthPrompt::Login).set_max_age(std::time::Duration::ZERO);
        }
        let (url, state, nonce) = request.url();
        let binding = session::new_secret();
        let login = db::NewSsoLogin {
            binding_hash: &session::secret_hash(&binding),
            state: state.secret(),
            nonce: nonce.secret(),
            pkce_verifier: verifier.secret(),
            next,
            created_at: now,
            expires_at: now + LOGIN_LIFETIME,
            client_addr: meta.client_addr.as_deref(),
            session_id: session,
        };
        db::insert_sso_login(&mut tx, &login).await?;
        tx.commit().await?;
        Ok(Started { url, binding })
    }

    /// Checks an ID token: signature (reading the provider's keys again once when the
    /// token names a key they did not hold), algorithm, issuer, audience, expiry at `now`
    /// and nonce.
    pub async fn check_id_token(&self, raw: &str, nonce: &str, now: OffsetDateTime) -> Result<Identity, Refusal> {
        let token: CoreIdToken = raw
            .parse()
            .map_err(|e: serde_json::Error| Refusal::Token { reason: "id_token_unreadable", detail: e.to_string() })?;
        let nonce = Nonce::new(nonce.to_string());
        let (mut m, mut generation) = self.metadata().await?;
        let mut refreshed = false;
        loop {
            let client = self.client(&m);
            let verifier =
                client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS).set_time_fn(move || chrono_time(now));
            match token.claims(&verifier, &nonce) {
                Ok(c) => {
                    return Ok(Identity {
                        subject: c.subject().as_str().to_string(),
                        email: c.email().map(|e| e.as_str().to_string()),
                        email_verified: c.email_verified() == Some(true),
                        acr: c.auth_context_ref().map(|a| a.as_str().to_string()),
                        amr: c
                            .auth_method_refs()
                            .map(|v| v.iter().map(|a| a.as_str().to_string()).collect())
                            .unwrap_or_default(),
                        auth_time: c.auth_time().map(|t| t.timestamp()),
                    });
                }
                Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
                    if !refreshed =>
                {
                    (m, generation) = self.refresh_keys(generation).await?;
                    refreshed = true;
                }
                Err(e) => {
                    let reason = match &e {
                        ClaimsVerificationError::Expired(_) => "id_token_expired",
                        ClaimsVerificationError::InvalidAudience(_) => "id_token_wrong_audience",
                        ClaimsVerificationError::InvalidIssuer(_) => "id_token_wrong_issuer",
                        ClaimsVerificationError::InvalidNonce(_) => "id_token_wrong_nonce",
                        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::DisallowedAlg(
                            _,
                        )) => "id_token_algorithm_not_allowed",
                        ClaimsVerificationError::SignatureVerification(_) => "id_token_bad_signature",
                        _ => "id_token_invalid",
                    };
                    return Err(Refusal::Token { reason, detail: e.to_string() });
                }
            }
        }
    }

    /// The provider's answer: takes this browser's waiting sign-in once, checks its state,
    /// exchanges the code (with the PKCE verifier), checks the ID token, finds the account
    /// and signs it in. Every refusal is recorded as a failed `auth.sign_in`.
    pub async fn finish(
        &self,
        pool: &PgPool,
        now: OffsetDateTime,
        meta: &RequestMeta,
        binding: Option<&str>,
        answer: &Answer,
        previous_secret: Option<&str>,
    ) -> Result<Finished, Refusal> {
        let mut seen = Seen::default();
        let result = self.finish_inner(pool, now, meta, binding, answer, previous_secret, &mut seen).await;
        if let Err(refusal) = &result
            && !matches!(refusal, Refusal::Db(_))
        {
            let actor = match refusal {
                Refusal::Deactivated { user, role } | Refusal::Assurance { user, role, .. } => Some((*user, *role)),
                _ => None,
            };
            let mut changes = json!({
                "method": "sso", "issuer": self.issuer.as_str(), "reason": refusal.reason(),
                "subject": seen.identity.as_ref().map(|i| &i.subject),
                "email": seen.identity.as_ref().and_then(|i| i.email.as_ref()),
                "acr": seen.identity.as_ref().and_then(|i| i.acr.as_ref()),
                "amr": seen.identity.as_ref().map(|i| &i.amr),
            });
            match refusal {
                Refusal::Provider { error, .. } => changes["provider_error"] = json!(error),
                Refusal::Token { detail, .. } | Refusal::CodeRefused(detail) | Refusal::Unavailable(detail) => {
                    changes["detail"] = json!(detail.chars().take(300).collect::<String>())
                }
                Refusal::Assurance { required, .. } => changes["required"] = json!(required),
                _ => {}
            }
            let mut event = NewEvent::new(EventType::AuthSignIn).outcome(Outcome::Failure).changes(changes);
            if let Some((user, _)) = actor {
                event = event.object("user", user);
            }
            audit::record_alone(pool, now, &meta.audit(actor), event).await?;
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_inner(
        &self,
        pool: &PgPool,
        now: OffsetDateTime,
        meta: &RequestMeta,
        binding: Option<&str>,
        answer: &Answer,
        previous_secret: Option<&str>,
        seen: &mut Seen,
    ) -> Result<Finished, Refusal> {
        // The waiting sign-in is taken whatever the answer: it can be answered once.
        let waiting = match binding {
            Some(b) => db::take_sso_login(pool, &session::secret_hash(b)).await?,
            None => None,
        };
        let Some(waiting) = waiting.filter(|w| w.expires_at > now) else {
            return Err(Refusal::NotStarted);
        };
        let state_ok = answer.state.as_deref().is_some_and(|s| {
            use subtle::ConstantTimeEq;
            s.len() == waiting.state.len() && bool::from(s.as_bytes().ct_eq(waiting.state.as_bytes()))
        });
        if !state_ok {
            return Err(Refusal::StateMismatch);
        }
        if let Some(iss) = answer.iss.as_deref()
            && iss != self.issuer.as_str()
        {
            return Err(Refusal::IssuerMismatch);
        }
        if let Some(error) = &answer.error {
            return Err(Refusal::Provider {
                error: error.chars().take(100).collect(),
                description: answer.error_description.as_ref().map(|d| d.chars().take(300).collect()),
            });
        }
        let Some(code) = answer.code.clone().filter(|c| !c.is_empty() && c.len() <= 2048) else {
            return Err(Refusal::CodeRefused("the answer carries no code".into()));
        };
        let (m, _) = self.metadata().await?;
        let client = self.client(&m);
        let tokens: CoreTokenResponse = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(unavailable)?
            .set_pkce_verifier(PkceCodeVerifier::new(waiting.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => Refusal::CodeRefused(r.to_string()),
                other => unavailable(other),
            })?;
        let Some(id_token) = tokens.id_token() else {
            return Err(Refusal::Token {
                reason: "id_token_missing",
                detail: "the token response has no ID token".into(),
            });
        };
        let raw_id_token = id_token.to_string();
        let mut identity = self.check_id_token(&raw_id_token, &waiting.nonce, now).await?;
        seen.identity = Some(identity.clone());
        if identity.email.is_none() {
            // Providers such as Login.gov give the e-mail at the user-info endpoint only.
            if let Some(info) = self.user_info(&client, tokens.access_token().clone(), &identity.subject).await? {
                identity.email = info.email().map(|e| e.as_str().to_string());
                identity.email_verified = info.email_verified() == Some(true);
                seen.identity = Some(identity.clone());
            }
        }
        match waiting.session_id {
            Some(session) => {
                self.reauthenticate(pool, now, meta, &identity, SessionId(session), waiting.created_at).await?;
                Ok(Finished::Reauthenticated { next: waiting.next })
            }
            None => self.sign_in(pool, now, meta, &identity, &raw_id_token, previous_secret, waiting.next).await,
        }
    }

    /// The account `identity` maps to (see [`crate::accounts::identities::account_of`]).
    async fn account_of(&self, tx: &mut sqlx::PgConnection, identity: &Identity) -> Result<(UserId, bool), Refusal> {
        let email = identity.email.as_deref().filter(|_| identity.email_verified);
        match crate::accounts::identities::account_of(tx, self.issuer.as_str(), &identity.subject, email).await? {
            Some(found) => Ok(found),
            None => Err(Refusal::UnknownIdentity { subject: identity.subject.clone(), email: identity.email.clone() }),
        }
    }

    /// A step-up through the provider: the identity must be the session's user, its
    /// authentication at the provider made after the step-up began, and of the role's
    /// required strength; then the session counts as re-authenticated.
    async fn reauthenticate(
        &self,
        pool: &PgPool,
        now: OffsetDateTime,
        meta: &RequestMeta,
        identity: &Identity,
        session: SessionId,
        begun: OffsetDateTime,
    ) -> Result<(), Refusal> {
        let mut tx = pool.begin().await?;
        let owner = db::locked_session_owner(&mut tx, session).await?;
        let (user, newly_linked) = self.account_of(&mut tx, identity).await?;
        // The provider's authentication must be this one (a minute's leeway for clocks).
        let fresh = identity.auth_time.is_some_and(|t| t >= begun.unix_timestamp() - 60);
        if owner != Some(user.0) || !fresh {
            return Err(Refusal::NotTheSessionUser);
        }
        let account = crate::accounts::db::get_user(&mut tx, user).await?.ok_or(sqlx::Error::RowNotFound)?;
        let policy = crate::accounts::sign_in_policy::of_role(&mut tx, account.role).await?;
        if !policy.accepts(identity.acr.as_deref(), &identity.amr) {
            return Err(Refusal::Assurance { user, role: account.role, required: policy.sso_assurance });
        }
        let ctx = meta.audit(Some((user, account.role)));
        self.record_use(&mut tx, now, &ctx, user, identity, newly_linked).await?;
        db::set_reauth(&mut tx, session, now).await?;
        let event = NewEvent::new(EventType::AuthReauthenticate).object("session", session).changes(json!({
            "method": "sso", "issuer": self.issuer.as_str(), "acr": identity.acr, "amr": identity.amr,
        }));
        audit::record(&mut tx, now, &ctx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links a newly matched identity, or notes its use.
    async fn record_use(
        &self,
        tx: &mut sqlx::PgConnection,
        now: OffsetDateTime,
        ctx: &crate::audit::AuditContext,
        user: UserId,
        identity: &Identity,
        newly_linked: bool,
    ) -> Result<(), sqlx::Error> {
        let email = identity.email.as_deref();
        crate::accounts::identities::record_use(
            tx,
            now,
            ctx,
            user,
            self.issuer.as_str(),
            &identity.subject,
            email,
            newly_linked,
        )
        .await
    }

    async fn user_info(
        &self,
        client: &Client,
        token: AccessToken,
        subject: &str,
    ) -> Result<Option<CoreUserInfoClaims>, Refusal> {
        let Ok(request) = client.user_info(token, Some(SubjectIdentifier::new(subject.to_string()))) else {
            return Ok(None);
        };
        request.request_async(&self.http).await.map(Some).map_err(unavailable)
    }

    /// Finds the account of `identity` (linking its subject at the first sign-in by a
    /// verified e-mail), checks the role's requirement and signs the account in.
    #[allow(clippy::too_many_arguments)]
    async fn sign_in(
        &self,
        pool: &PgPool,
        now: OffsetDateTime,
        meta: &RequestMeta,
        identity: &Identity,
        raw_id_token: &str,
        previous_secret: Option<&str>,
        next: String,
    ) -> Result<Finished, Refusal> {
        let issuer = self.issuer.as_str();
        let mut tx = pool.begin().await?;
        let (user, newly_linked) = self.account_of(&mut tx, identity).await?;
        let account = crate::accounts::db::get_user(&mut tx, user).await?.ok_or(sqlx::Error::RowNotFound)?;
        if !account.active {
            return Err(Refusal::Deactivated { user, role: account.role });
        }
        let policy = crate::accounts::sign_in_policy::of_role(&mut tx, account.role).await?;
        if !policy.accepts(identity.acr.as_deref(), &identity.amr) {
            return Err(Refusal::Assurance { user, role: account.role, required: policy.sso_assurance });
        }
        let ctx = meta.audit(Some((user, account.role)));
        self.record_use(&mut tx, now, &ctx, user, identity, newly_linked).await?;
        let how = session::SignInMethod {
            name: "sso",
            acr: identity.acr.as_deref(),
            amr: &identity.amr,
            id_token: Some(raw_id_token),
        };
        let signed = finish::finish_sign_in(
            &mut tx,
            user,
            now,
            meta,
            finish::SignInClient { kind: Kind::Browser, previous_secret, next: None },
            how,
            json!({"method": "sso", "issuer": issuer, "subject": identity.subject, "acr": identity.acr, "amr": identity.amr}),
        )
        .await?;
        tx.commit().await?;
        Ok(Finished::SignedIn { signed, next })
    }

    /// The provider's sign-out URL (RP-initiated logout), when it offers one: with the ID
    /// token of the session as the hint, and this service's sign-in page to come back to.
    pub async fn logout_url(&self, id_token: Option<&str>) -> Option<url::Url> {
        let (m, _) = self.metadata().await.ok()?;
        let end = m.additional_metadata().end_session_endpoint.clone()?;
        let mut request = LogoutRequest::from(end)
            .set_client_id(ClientId::new(self.settings.client_id.clone()))
            .set_post_logout_redirect_uri(self.post_logout.clone());
        if let Some(token) = id_token.and_then(|t| t.parse::<CoreIdToken>().ok()) {
            request = request.set_id_token_hint(&token);
        }
        Some(request.http_get_url())
    }
}

/// What a refused sign-in got as far as, for its audit event.
#[derive(Debug, Default)]
struct Seen {
    identity: Option<Identity>,
}
