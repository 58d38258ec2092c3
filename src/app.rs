//! The state shared by every handler. The route table is in `router.rs`, which this module
//! does not know: handlers take the part of the state they need through `FromRef`.

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::clock::SharedClock;
use crate::web::WebState;
use crate::web::openapi::ApiDocument;

/// Largest request body accepted anywhere (uploads are up to 20 MiB).
pub const MAX_BODY_BYTES: usize = 21 * 1024 * 1024;

/// Shared state of the service. Handlers take the part they need through `FromRef`.
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub db: PgPool,
    /// Deployment settings for pages and headers.
    pub web: WebState,
    /// Folder of the vendored front-end assets.
    pub static_dir: std::path::PathBuf,
    /// The clock (a manual one in tests).
    pub clock: SharedClock,
    /// Screening: the current list's index (built once per list version) and the
    /// similarity from which a match is a hit.
    pub screening: crate::parties::screening_service::Screening,
    /// Whether notifications are also mailed (an SMTP relay is configured): then each
    /// notification queues a message in the outbox.
    pub mail: bool,
    /// Signs and files audit checkpoints.
    pub checkpointer: crate::audit::checkpoint::Checkpointer,
    /// The OpenAPI document, filled in by the router from its route list.
    pub api: ApiDocument,
    /// Whether the database answers (kept by the watcher in `db::health`; always "up"
    /// where nothing watches, as in the in-process tests).
    pub health: std::sync::Arc<crate::db::health::DbHealth>,
    /// The data folder of the built-in database (none with an external one), whose disk
    /// `/readyz` watches.
    pub data_dir: Option<std::path::PathBuf>,
    /// The limits exports run under (their own read turns, the client stall timeout).
    pub exports: crate::audit::export::Exports,
    /// The agency's OpenID provider, when single sign-on is configured.
    pub sso: Option<std::sync::Arc<crate::auth::sso::Sso>>,
    /// Card sign-in through the agency's proxy, when configured.
    pub piv: Option<crate::config::PivSettings>,
    /// The WebAuthn relying party (security keys and passkeys), when the public URL's host
    /// can be one (not an IP address).
    pub webauthn: Option<std::sync::Arc<webauthn_rs::prelude::Webauthn>>,
    /// Where the audit log is forwarded, when it is (`/readyz` and the chain page show how
    /// it goes).
    pub forwarding: Option<crate::audit::forward::Settings>,
    /// Searched case lists' totals, kept while nothing is written.
    pub search_totals: std::sync::Arc<crate::cases::totals::SearchTotals>,
    /// Flushes the requests' audit appends to disk before they are answered.
    pub flusher: crate::audit::durable::Flusher,
}

impl AppState {
    /// State over `db` with the system clock.
    pub fn new(db: PgPool, config: &crate::config::Config) -> Self {
        AppState {
            flusher: crate::audit::durable::Flusher::new(db.clone()),
            db,
            web: WebState::from_config(config),
            static_dir: config.static_dir.clone(),
            clock: std::sync::Arc::new(crate::clock::SystemClock),
            screening: crate::parties::screening_service::Screening {
                index: Default::default(),
                threshold: config.screening_threshold,
            },
            mail: config.smtp_url.is_some(),
            checkpointer: config.checkpointer(),
            api: ApiDocument::default(),
            health: crate::db::health::DbHealth::shared(),
            data_dir: config.database_url.is_none().then(|| config.data_dir.clone()),
            exports: crate::audit::export::Exports::new(config.db_pool_size, config.client_stall_timeout),
            sso: config.oidc.clone().map(|o| std::sync::Arc::new(crate::auth::sso::Sso::new(o, &config.public_url))),
            piv: config.piv.clone(),
            webauthn: crate::auth::security_keys::relying_party(&config.public_url),
            forwarding: config.audit_syslog.clone(),
            search_totals: Default::default(),
        }
    }

    /// The current time.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// A connection from the pool, for one use case (which opens its own transaction).
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, sqlx::Error> {
        self.db.acquire().await
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(s: &AppState) -> Self {
        s.db.clone()
    }
}

impl FromRef<AppState> for WebState {
    fn from_ref(s: &AppState) -> Self {
        s.web.clone()
    }
}

impl FromRef<AppState> for ApiDocument {
    fn from_ref(s: &AppState) -> Self {
        s.api.clone()
    }
}
