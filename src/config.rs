//! Configuration, read once at boot from command-line flags and the environment.
//!
//! Every setting has a flag and an environment variable (clap reads both; the flag wins).
//! Values arrive as strings and are validated here, so that a bad value stops the boot
//! with exactly one line that names the setting and says what is allowed.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use url::Url;

use crate::db::redact_url;

/// The default marking shown in the banner at the top and bottom of every page.
pub const DEFAULT_MARKING: &str = "CONTROLLED UNCLASSIFIED INFORMATION";

/// Who the Federal Register form of a determination names for further information.
pub const DEFAULT_FR_CONTACT: &str = "Office of Information and Communications Technology and Services, Bureau of Industry and Security, U.S. Department of Commerce";

/// Raw settings as clap reads them from flags and environment variables.
#[derive(Debug, Clone, Args)]
pub struct RawConfig {
    /// PostgreSQL server to use instead of the built-in database.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder for the built-in database and other local state.
    #[arg(long, env = "ICTS_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: String,

    /// Folder holding the PostgreSQL server binaries (initdb, pg_ctl, postgres).
    #[arg(long, env = "ICTS_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<String>,

    /// Address and port the HTTP server listens on.
    #[arg(long, env = "ICTS_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: String,

    /// The URL users reach the service at; `https://` turns on HSTS and secure cookies.
    #[arg(long, env = "ICTS_PUBLIC_URL", default_value = "http://localhost:8080", global = true)]
    pub public_url: String,

    /// Folder with the vendored front-end assets.
    #[arg(long, env = "ICTS_STATIC_DIR", default_value = "./static", global = true)]
    pub static_dir: String,

    /// Marking banner shown at the top and bottom of every page.
    #[arg(long, env = "ICTS_MARKING", default_value = DEFAULT_MARKING, global = true)]
    pub marking: String,

    /// The contact printed under "For further information contact" in the Federal Register
    /// form of a determination (office, telephone, e-mail).
    #[arg(long, env = "ICTS_FR_CONTACT", default_value = DEFAULT_FR_CONTACT, global = true)]
    pub fr_contact: String,

    /// The office's time zone (IANA name), where pages show times to users who have not
    /// chosen their own; exports and the audit log stay UTC.
    #[arg(long, env = "ICTS_TIME_ZONE", default_value = crate::zone::OFFICE_DEFAULT, global = true)]
    pub time_zone: String,

    /// Log format: `text` or `json`.
    #[arg(long, env = "ICTS_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,

    /// Log filter in `tracing` syntax, e.g. `info` or `icts_review=debug,info`.
    #[arg(long, env = "ICTS_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Maximum number of database connections in the pool.
    #[arg(long, env = "ICTS_DB_POOL_SIZE", default_value = "10", global = true)]
    pub db_pool_size: String,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "ICTS_DB_ACQUIRE_TIMEOUT", default_value = "5", global = true)]
    pub db_acquire_timeout: String,

    /// Seconds allowed to drain in-flight requests after SIGTERM or SIGINT.
    #[arg(long, env = "ICTS_SHUTDOWN_GRACE", default_value = "30", global = true)]
    pub shutdown_grace: String,

    /// Seconds a client may leave a response unread before its connection is cut (and an
    /// export download is recorded as incomplete): every 64 KiB part of a download must be
    /// taken within this time.
    #[arg(long, env = "ICTS_CLIENT_STALL_TIMEOUT", default_value = "30", global = true)]
    pub client_stall_timeout: String,

    /// Similarity (0.5–1) from which a screening-list match is shown as a hit.
    #[arg(long, env = "ICTS_SCREENING_THRESHOLD", default_value = "0.90", global = true)]
    pub screening_threshold: String,

    /// SMTP relay for notification mail: `smtp://host:port` (plain, for a relay on the
    /// host), `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`, with
    /// optional `user:password@`. Unset: notifications stay in the application only.
    #[arg(long, env = "ICTS_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// Sender address of notification mail.
    #[arg(long, env = "ICTS_MAIL_FROM", default_value = "icts-review@localhost", global = true)]
    pub mail_from: String,

    /// Ed25519 key file that signs audit checkpoints and exports (make one with
    /// `icts-review audit keygen --out PREFIX`). Unset: checkpoints are unsigned.
    #[arg(long, env = "ICTS_AUDIT_SIGNING_KEY", global = true)]
    pub audit_signing_key: Option<String>,

    /// File that receives a copy of every checkpoint (one JSON line each); keep it on other
    /// storage. Default with the built-in database: `<data-dir>/audit-checkpoints.jsonl`.
    #[arg(long, env = "ICTS_AUDIT_CHECKPOINT_FILE", global = true)]
    pub audit_checkpoint_file: Option<String>,

    /// Seconds between checkpoints of the audit chain head (taken only when it has grown).
    #[arg(long, env = "ICTS_AUDIT_CHECKPOINT_INTERVAL", default_value = "300", global = true)]
    pub audit_checkpoint_interval: String,

    /// The agency's audit collector, which receives every audit event and checkpoint as
    /// RFC 5424 syslog: `tls://HOST:PORT` (RFC 5425; 6514 is its port) or `tcp://HOST:PORT`.
    /// Unset: no forwarding.
    #[arg(long, env = "ICTS_AUDIT_SYSLOG", global = true)]
    pub audit_syslog: Option<String>,

    /// CA certificates (PEM) the collector's certificate must chain to. Unset: the public
    /// web PKI's roots.
    #[arg(long, env = "ICTS_AUDIT_SYSLOG_CA", global = true)]
    pub audit_syslog_ca: Option<String>,

    /// This service's client certificate chain (PEM), for a collector that asks for one.
    #[arg(long, env = "ICTS_AUDIT_SYSLOG_CERT", global = true)]
    pub audit_syslog_cert: Option<String>,

    /// The client certificate's private key (PEM).
    #[arg(long, env = "ICTS_AUDIT_SYSLOG_KEY", global = true)]
    pub audit_syslog_key: Option<String>,

    /// Events that may wait for the collector before `/readyz` reports an overflow.
    #[arg(long, env = "ICTS_AUDIT_SYSLOG_BACKLOG", default_value = "10000", global = true)]
    pub audit_syslog_backlog: String,

    /// Issuer URL of the agency's OpenID provider (single sign-on), e.g.
    /// `https://login.agency.gov`; its discovery document is read from
    /// `ISSUER/.well-known/openid-configuration`. Unset: no single sign-on.
    #[arg(long, env = "ICTS_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,

    /// The client id this service is registered under at the OpenID provider.
    #[arg(long, env = "ICTS_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,

    /// The client secret that goes with the client id.
    #[arg(long, env = "ICTS_OIDC_CLIENT_SECRET", global = true, hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// The provider's name on the sign-in page ("Sign in with NAME").
    #[arg(long, env = "ICTS_OIDC_NAME", default_value = "the agency's sign-on", global = true)]
    pub oidc_name: String,

    /// Header in which the agency's reverse proxy forwards the subject (or UPN) of the
    /// PIV/CAC certificate it verified, e.g. `X-Client-Subject`. Unset: no card sign-in.
    #[arg(long, env = "ICTS_PIV_HEADER", global = true)]
    pub piv_header: Option<String>,

    /// Addresses (or CIDR ranges) of that proxy, comma-separated: the header is believed
    /// only on connections from them.
    #[arg(long, env = "ICTS_PIV_PROXIES", global = true)]
    pub piv_proxies: Option<String>,

    /// Header in which the proxy forwards the verified certificate's issuer (its
    /// distinguished name, e.g. nginx's `$ssl_client_i_dn`). Needed with `--piv-issuers`.
    #[arg(long, env = "ICTS_PIV_ISSUER_HEADER", global = true)]
    pub piv_issuer_header: Option<String>,

    /// The issuers whose cards sign in, as distinguished names separated by `|` (exactly as
    /// the proxy forwards them): a card from any other issuer the proxy trusts is refused.
    #[arg(long, env = "ICTS_PIV_ISSUERS", global = true)]
    pub piv_issuers: Option<String>,
}

/// Card (PIV/CAC) sign-in through the agency's reverse proxy, as configured.
#[derive(Debug, Clone)]
pub struct PivSettings {
    /// The header with the verified certificate's subject (its name in lower case).
    pub header: String,
    /// The proxy's addresses.
    pub proxies: Vec<ipnet::IpNet>,
    /// The header with the certificate's issuer, and the issuers accepted (both or neither).
    pub issuers: Option<(String, Vec<String>)>,
}

/// The agency's OpenID provider, as configured.
#[derive(Clone)]
pub struct OidcSettings {
    /// Issuer URL (https, or http on a loopback address for tests and development).
    pub issuer: Url,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Shown as "Sign in with NAME".
    pub name: String,
}

/// Output format of the structured logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Validated configuration.
#[derive(Clone)]
pub struct Config {
    /// External database; `None` runs the built-in one.
    pub database_url: Option<Url>,
    /// Folder for local state.
    pub data_dir: PathBuf,
    /// Explicit folder of the PostgreSQL server binaries.
    pub pg_bin_dir: Option<PathBuf>,
    /// Listening address.
    pub listen: SocketAddr,
    /// Public URL of the service.
    pub public_url: Url,
    /// Folder with the front-end assets.
    pub static_dir: PathBuf,
    /// Marking banner text.
    pub marking: String,
    /// Federal Register contact (see [`DEFAULT_FR_CONTACT`]).
    pub fr_contact: String,
    /// The office's time zone (the default of users who chose none).
    pub time_zone: crate::zone::Zone,
    pub log_format: LogFormat,
    /// Log filter.
    pub log: String,
    /// Pool size.
    pub db_pool_size: u32,
    /// Pool acquire timeout.
    pub db_acquire_timeout: Duration,
    /// Drain time at shutdown.
    pub shutdown_grace: Duration,
    /// How long a response may stay unread before the connection is cut.
    pub client_stall_timeout: Duration,
    /// Screening hit threshold.
    pub screening_threshold: f64,
    /// SMTP relay URL for notification mail (validated).
    pub smtp_url: Option<String>,
    /// Sender of notification mail.
    pub mail_from: String,
    /// The audit checkpoint signing key.
    pub audit_signing_key: Option<std::sync::Arc<ed25519_dalek::SigningKey>>,
    /// The checkpoint file.
    pub audit_checkpoint_file: Option<PathBuf>,
    /// Interval between checkpoints.
    pub audit_checkpoint_interval: Duration,
    /// Forwarding of the audit log to the agency's collector, when configured.
    pub audit_syslog: Option<crate::audit::forward::Settings>,
    /// Single sign-on through an OpenID provider, when configured.
    pub oidc: Option<OidcSettings>,
    /// Card sign-in through the agency's proxy, when configured.
    pub piv: Option<PivSettings>,
}

/// A configuration value that cannot be used: names the setting and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {message}")]
pub struct ConfigError {
    /// Flag and environment variable, e.g. `--listen / ICTS_LISTEN`.
    pub setting: &'static str,
    /// What was wrong and what is allowed.
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { setting, message: message.into() }
}

fn parse_int(setting: &'static str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(setting, format!("{value:?} is not allowed; use a whole number from {min} to {max}"))),
    }
}

impl Config {
    /// Validates the raw settings.
    pub fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let database_url = match raw.database_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let url = Url::parse(s).map_err(|_| {
                    bad(
                        "--database-url / DATABASE_URL",
                        "is not a URL; use postgres://USER:PASSWORD@HOST:PORT/DATABASE",
                    )
                })?;
                if !matches!(url.scheme(), "postgres" | "postgresql") {
                    return Err(bad(
                        "--database-url / DATABASE_URL",
                        format!("scheme {:?} is not allowed; use postgres:// or postgresql://", url.scheme()),
                    ));
                }
                Some(url)
            }
        };
        if raw.data_dir.trim().is_empty() {
            return Err(bad("--data-dir / ICTS_DATA_DIR", "must not be empty; give a folder path"));
        }
        let listen: SocketAddr = raw.listen.trim().parse().map_err(|_| {
            bad(
                "--listen / ICTS_LISTEN",
                format!("{:?} is not an address; use IP:PORT such as 127.0.0.1:8080", raw.listen),
            )
        })?;
        let public_url = Url::parse(raw.public_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                bad(
                    "--public-url / ICTS_PUBLIC_URL",
                    format!(
                        "{:?} is not allowed; use an http:// or https:// URL such as https://icts.example.gov",
                        raw.public_url
                    ),
                )
            })?;
        let marking = raw.marking.trim().to_string();
        if marking.is_empty() || marking.chars().count() > 120 || marking.chars().any(char::is_control) {
            return Err(bad("--marking / ICTS_MARKING", "must be 1 to 120 printable characters"));
        }
        let fr_contact = raw.fr_contact.trim().to_string();
        if fr_contact.is_empty() || fr_contact.chars().count() > 500 || fr_contact.chars().any(char::is_control) {
            return Err(bad("--fr-contact / ICTS_FR_CONTACT", "must be 1 to 500 printable characters"));
        }
        let log_format = match raw.log_format.trim() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(bad(
                    "--log-format / ICTS_LOG_FORMAT",
                    format!("{other:?} is not allowed; use text or json"),
                ));
            }
        };
        if tracing_subscriber::EnvFilter::try_new(raw.log.trim()).is_err() {
            return Err(bad(
                "--log / ICTS_LOG",
                format!("{:?} is not a log filter; use e.g. info or icts_review=debug,info", raw.log),
            ));
        }
        let db_pool_size = parse_int("--db-pool-size / ICTS_DB_POOL_SIZE", &raw.db_pool_size, 1, 500)? as u32;
        let db_acquire_timeout = Duration::from_secs(parse_int(
            "--db-acquire-timeout / ICTS_DB_ACQUIRE_TIMEOUT",
            &raw.db_acquire_timeout,
            1,
            120,
        )?);
        let shutdown_grace =
            Duration::from_secs(parse_int("--shutdown-grace / ICTS_SHUTDOWN_GRACE", &raw.shutdown_grace, 0, 600)?);
        let client_stall_timeout = Duration::from_secs(parse_int(
            "--client-stall-timeout / ICTS_CLIENT_STALL_TIMEOUT",
            &raw.client_stall_timeout,
            1,
            3600,
        )?);
        let screening_threshold = match raw.screening_threshold.trim().parse::<f64>() {
            Ok(t) if (0.5..=1.0).contains(&t) => t,
            _ => {
                return Err(bad(
                    "--screening-threshold / ICTS_SCREENING_THRESHOLD",
                    format!("{:?} is not allowed; use a number from 0.5 to 1", raw.screening_threshold),
                ));
            }
        };
        let time_zone =
            crate::zone::Zone::parse(&raw.time_zone).map_err(|e| bad("--time-zone / ICTS_TIME_ZONE", e.0))?;
        let smtp_url = raw.smtp_url.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(u) = &smtp_url
            && let Err(e) = crate::notifications::outbox::Mailer::new(u, raw.mail_from.trim())
        {
            return Err(bad("--smtp-url / ICTS_SMTP_URL", e));
        }
        if raw.mail_from.trim().parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad("--mail-from / ICTS_MAIL_FROM", format!("{:?} is not a mail address", raw.mail_from)));
        }
        let audit_signing_key = match raw.audit_signing_key.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(path) => Some(std::sync::Arc::new(
                crate::audit::checkpoint::load_signing_key(std::path::Path::new(path))
                    .map_err(|e| bad("--audit-signing-key / ICTS_AUDIT_SIGNING_KEY", e))?,
            )),
            None => None,
        };
        let audit_checkpoint_file = match raw.audit_checkpoint_file.as_deref().map(str::trim).filter(|s| !s.is_empty())
        {
            Some(p) => Some(PathBuf::from(p)),
            None if database_url.is_none() => Some(PathBuf::from(raw.data_dir.trim()).join("audit-checkpoints.jsonl")),
            None => None,
        };
        let audit_checkpoint_interval = Duration::from_secs(parse_int(
            "--audit-checkpoint-interval / ICTS_AUDIT_CHECKPOINT_INTERVAL",
            &raw.audit_checkpoint_interval,
            10,
            86400,
        )?);
        let audit_syslog = syslog_settings(raw)?;
        let oidc = oidc_settings(raw)?;
        let piv = piv_settings(raw)?;
        Ok(Config {
            audit_syslog,
            oidc,
            piv,
            audit_signing_key,
            audit_checkpoint_file,
            audit_checkpoint_interval,
            smtp_url,
            mail_from: raw.mail_from.trim().to_string(),
            screening_threshold,
            database_url,
            data_dir: PathBuf::from(raw.data_dir.trim()),
            pg_bin_dir: raw.pg_bin_dir.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(PathBuf::from),
            listen,
            public_url,
            static_dir: PathBuf::from(raw.static_dir.trim()),
            marking,
            fr_contact,
            time_zone,
            log_format,
            log: raw.log.trim().to_string(),
            db_pool_size,
            db_acquire_timeout,
            shutdown_grace,
            client_stall_timeout,
        })
    }

    /// Whether the service is reached over TLS (HSTS, `Secure` and `__Host-` cookies).
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}

/// Reads the audit collector's settings; the TLS files are loaded now, so a bad one stops
/// the boot naming its setting.
fn syslog_settings(raw: &RawConfig) -> Result<Option<crate::audit::forward::Settings>, ConfigError> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(PathBuf::from);
    let files = crate::audit::forward::TlsFiles {
        ca: given(&raw.audit_syslog_ca),
        cert: given(&raw.audit_syslog_cert),
        key: given(&raw.audit_syslog_key),
    };
    let Some(target) = raw.audit_syslog.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        if files.ca.is_some() || files.cert.is_some() || files.key.is_some() {
            return Err(bad(
                "--audit-syslog / ICTS_AUDIT_SYSLOG",
                "the collector's TLS files are set but not the collector: set tls://HOST:PORT",
            ));
        }
        return Ok(None);
    };
    let limit =
        parse_int("--audit-syslog-backlog / ICTS_AUDIT_SYSLOG_BACKLOG", &raw.audit_syslog_backlog, 1, 100_000_000)?;
    let settings = crate::audit::forward::Settings::parse(target, files, limit as i64)
        .map_err(|e| bad("--audit-syslog / ICTS_AUDIT_SYSLOG", e))?;
    if let Some(files) = &settings.tls {
        let setting = match (&files.ca, &files.cert) {
            (Some(_), None) => "--audit-syslog-ca / ICTS_AUDIT_SYSLOG_CA",
            _ => "--audit-syslog-cert, --audit-syslog-key / ICTS_AUDIT_SYSLOG_CERT, ICTS_AUDIT_SYSLOG_KEY",
        };
        crate::audit::forward::client_config(files).map_err(|e| bad(setting, e))?;
    }
    Ok(Some(settings))
}

/// Reads the single sign-on settings: none, or issuer, client id and secret together.
fn oidc_settings(raw: &RawConfig) -> Result<Option<OidcSettings>, ConfigError> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (issuer, client_id, client_secret) =
        (given(&raw.oidc_issuer), given(&raw.oidc_client_id), given(&raw.oidc_client_secret));
    let Some(issuer) = issuer else {
        if client_id.is_some() || client_secret.is_some() {
            return Err(bad(
                "--oidc-issuer / ICTS_OIDC_ISSUER",
                "is needed with a client id or secret; give the provider's issuer URL",
            ));
        }
        return Ok(None);
    };
    const ISSUER: &str = "--oidc-issuer / ICTS_OIDC_ISSUER";
    let url =
        Url::parse(&issuer).map_err(|_| bad(ISSUER, format!("{issuer:?} is not a URL; use https://HOST[/PATH]")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback))
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad(
            ISSUER,
            format!(
                "{issuer:?} is not allowed; use an https:// URL without query or fragment (http:// only on a loopback address)"
            ),
        ));
    }
    let Some(client_id) = client_id else {
        return Err(bad(
            "--oidc-client-id / ICTS_OIDC_CLIENT_ID",
            "is needed with an issuer; give the id this service is registered under",
        ));
    };
    let Some(client_secret) = client_secret else {
        return Err(bad(
            "--oidc-client-secret / ICTS_OIDC_CLIENT_SECRET",
            "is needed with an issuer; give the client's secret",
        ));
    };
    let name = raw.oidc_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(bad("--oidc-name / ICTS_OIDC_NAME", "must be 1 to 80 printable characters"));
    }
    // The issuer identifies the provider exactly as its tokens name it: kept as given.
    Ok(Some(OidcSettings { issuer: url, client_id, client_secret, name }))
}

/// Reads the card sign-in settings: none, or the header and the proxy's addresses together.
fn piv_settings(raw: &RawConfig) -> Result<Option<PivSettings>, ConfigError> {
    const HEADER: &str = "--piv-header / ICTS_PIV_HEADER";
    const PROXIES: &str = "--piv-proxies / ICTS_PIV_PROXIES";
    let header = raw.piv_header.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let proxies = raw.piv_proxies.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (header, proxies) = match (header, proxies) {
        (None, None) if raw.piv_issuer_header.is_some() || raw.piv_issuers.is_some() => {
            return Err(bad(HEADER, "is needed with the card issuers; give the header the proxy sets"));
        }
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(bad(HEADER, "is needed with the proxy's addresses; give the header the proxy sets"));
        }
        (Some(_), None) => {
            return Err(bad(
                PROXIES,
                "is needed with a header; give the proxy's addresses (the header is believed only from them)",
            ));
        }
        (Some(h), Some(p)) => (h, p),
    };
    // A header name is an HTTP token (RFC 9110).
    let header_name = |flag: &'static str, h: &str| {
        if h.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
            Ok(h.to_ascii_lowercase())
        } else {
            Err(bad(flag, format!("{h:?} is not a header name")))
        }
    };
    let header = header_name(HEADER, header)?;
    const ISSUER_HEADER: &str = "--piv-issuer-header / ICTS_PIV_ISSUER_HEADER";
    const ISSUERS: &str = "--piv-issuers / ICTS_PIV_ISSUERS";
    let issuer_header = raw.piv_issuer_header.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let issuers: Vec<String> = raw
        .piv_issuers
        .as_deref()
        .unwrap_or("")
        .split('|')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let issuers = match (issuer_header, issuers.is_empty()) {
        (None, true) => None,
        (Some(_), true) => {
            return Err(bad(ISSUERS, "is needed with the issuer header; list the issuers whose cards sign in"));
        }
        (None, false) => {
            return Err(bad(ISSUER_HEADER, "is needed with the issuers; give the header the proxy puts the issuer in"));
        }
        (Some(h), false) => Some((header_name(ISSUER_HEADER, h)?, issuers)),
    };
    let mut nets = Vec::new();
    for part in proxies.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let net = part
            .parse::<ipnet::IpNet>()
            .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                bad(PROXIES, format!("{part:?} is not an address or range; use e.g. 10.0.0.5 or 10.0.0.0/24"))
            })?;
        nets.push(net);
    }
    Ok(Some(PivSettings { header, proxies: nets, issuers }))
}

/// The pool's settings, as configured.
impl From<&Config> for crate::db::PoolSettings {
    fn from(config: &Config) -> Self {
        crate::db::PoolSettings { size: config.db_pool_size, acquire_timeout: config.db_acquire_timeout }
    }
}

/// Where the database is, as configured, and the pool's settings.
impl From<&Config> for crate::db::Settings {
    fn from(config: &Config) -> Self {
        crate::db::Settings {
            url: config.database_url.clone(),
            pg_bin_dir: config.pg_bin_dir.clone(),
            data_dir: config.data_dir.clone(),
            pool: config.into(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url.as_ref().map(redact_url))
            .field("data_dir", &self.data_dir)
            .field("pg_bin_dir", &self.pg_bin_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url.as_str())
            .field("static_dir", &self.static_dir)
            .field("marking", &self.marking)
            .field("fr_contact", &self.fr_contact)
            .field("time_zone", &self.time_zone.name())
            .field("log_format", &self.log_format)
            .field("db_pool_size", &self.db_pool_size)
            .field("db_acquire_timeout", &self.db_acquire_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("client_stall_timeout", &self.client_stall_timeout)
            .field("oidc_issuer", &self.oidc.as_ref().map(|o| o.issuer.as_str()))
            .field("oidc_client_id", &self.oidc.as_ref().map(|o| o.client_id.as_str()))
            .finish()
    }
}

impl Config {
    /// The audit checkpointer this configuration describes: its key, its file, its
    /// interval. (The configuration knows the audit log's parts; the audit log does not
    /// know the configuration.)
    pub fn checkpointer(&self) -> crate::audit::checkpoint::Checkpointer {
        crate::audit::checkpoint::Checkpointer {
            key: self.audit_signing_key.clone(),
            file: self.audit_checkpoint_file.clone(),
            status: Default::default(),
            interval: Some(self.audit_checkpoint_interval),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        raw: RawConfig,
    }

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["t"];
        all.extend_from_slice(args);
        Config::from_raw(&T::parse_from(all).raw)
    }

    #[test]
    fn defaults_are_valid() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.marking, DEFAULT_MARKING);
        assert!(!c.is_https());
        assert_eq!(c.db_acquire_timeout, Duration::from_secs(5));
        assert_eq!(c.shutdown_grace, Duration::from_secs(30));
    }

    #[test]
    fn bad_values_name_their_setting() {
        let e = parse(&["--listen", "nowhere"]).unwrap_err().to_string();
        assert!(e.contains("--listen / ICTS_LISTEN"), "{e}");
        let e = parse(&["--time-zone", "Eastern"]).unwrap_err().to_string();
        assert!(e.contains("--time-zone / ICTS_TIME_ZONE") && e.contains("not a time zone"), "{e}");
        let e = parse(&["--log-format", "xml"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_LOG_FORMAT") && e.contains("text or json"), "{e}");
        let e = parse(&["--db-pool-size", "0"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_DB_POOL_SIZE"), "{e}");
        let e = parse(&["--database-url", "mysql://x/y"]).unwrap_err().to_string();
        assert!(e.contains("DATABASE_URL"), "{e}");
        let e = parse(&["--public-url", "ftp://x"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_PUBLIC_URL"), "{e}");
        assert!(!e.contains('\n'));
        let e =
            parse(&["--oidc-issuer", "http://login.agency.gov", "--oidc-client-id", "a", "--oidc-client-secret", "b"])
                .unwrap_err()
                .to_string();
        assert!(e.contains("ICTS_OIDC_ISSUER") && e.contains("https://"), "{e}");
        let e = parse(&["--oidc-issuer", "https://login.agency.gov"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_OIDC_CLIENT_ID"), "{e}");
        let e = parse(&["--oidc-client-id", "a"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_OIDC_ISSUER"), "{e}");
        let c =
            parse(&["--oidc-issuer", "http://127.0.0.1:9000", "--oidc-client-id", "a", "--oidc-client-secret", "b"]);
        assert!(c.is_ok_and(|c| c.oidc.is_some()));
        let e = parse(&["--piv-header", "X-Client-Subject"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_PIV_PROXIES"), "{e}");
        let e =
            parse(&["--piv-header", "X-Client-Subject", "--piv-proxies", "10.0.0.0/8, proxy"]).unwrap_err().to_string();
        assert!(e.contains("ICTS_PIV_PROXIES") && e.contains("\"proxy\""), "{e}");
        let c = parse(&["--piv-header", "X-Client-Subject", "--piv-proxies", "10.0.0.0/8, 192.0.2.7"]).unwrap();
        assert_eq!(c.piv.unwrap().proxies.len(), 2);
        let piv = ["--piv-header", "X-Client-Subject", "--piv-proxies", "10.0.0.1"];
        let e = parse(&[&piv[..], &["--piv-issuer-header", "X-Client-Issuer"]].concat()).unwrap_err().to_string();
        assert!(e.contains("ICTS_PIV_ISSUERS"), "{e}");
        let e = parse(&[&piv[..], &["--piv-issuers", "CN=A"]].concat()).unwrap_err().to_string();
        assert!(e.contains("ICTS_PIV_ISSUER_HEADER"), "{e}");
        let c = parse(
            &[
                &piv[..],
                &["--piv-issuer-header", "X-Client-Issuer", "--piv-issuers", "CN=CA A,O=U.S. Government | CN=CA B"],
            ]
            .concat(),
        )
        .unwrap();
        let (header, issuers) = c.piv.unwrap().issuers.unwrap();
        assert_eq!(header, "x-client-issuer");
        assert_eq!(issuers, ["CN=CA A,O=U.S. Government", "CN=CA B"]);
    }

    #[test]
    fn passwords_never_appear_in_debug_output() {
        let c = parse(&[
            "--database-url",
            "postgres://app:s3cret-pw@db:5432/icts",
            "--oidc-issuer",
            "https://login.agency.gov",
            "--oidc-client-id",
            "icts",
            "--oidc-client-secret",
            "oidc-s3cret",
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret-pw") && !shown.contains("oidc-s3cret"), "{shown}");
        assert!(shown.contains("***"));
    }
}
