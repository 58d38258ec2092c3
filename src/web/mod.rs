//! The web layer shared by every domain: page layout, extractors that turn rejections into
//! our error, and the middleware every response passes through.

pub mod assets;
pub mod auth;
pub mod confirm;
pub mod conn;
pub mod error;
pub mod extract;
pub mod flash;
pub mod health;
pub mod layout;
pub mod list;
pub mod middleware;
pub mod openapi;

use std::sync::Arc;

use crate::config::Config;

/// What the page layout and the response middleware need to know about the deployment.
#[derive(Clone, Debug)]
pub struct WebState {
    /// Marking banner text shown at the top and bottom of every page.
    pub marking: Arc<str>,
    /// Whether the service is reached over TLS: adds `Strict-Transport-Security`, and
    /// session cookies become `__Host-` prefixed and `Secure`.
    pub https: bool,
    /// Origin of the public URL (`https://host[:port]`), for cross-site request checks.
    pub origin: Arc<str>,
    /// The contact the Federal Register form of a determination names.
    pub fr_contact: Arc<str>,
    /// The office's time zone: where pages show times to users who chose none.
    pub zone: crate::zone::Zone,
}

impl WebState {
    /// Derives the web settings from the configuration.
    pub fn from_config(config: &Config) -> Self {
        let origin = config.public_url.origin().ascii_serialization();
        WebState {
            marking: Arc::from(config.marking.as_str()),
            https: config.is_https(),
            origin: Arc::from(origin.as_str()),
            fr_contact: Arc::from(config.fr_contact.as_str()),
            zone: config.time_zone.clone(),
        }
    }
}
