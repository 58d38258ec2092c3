//! The audit log's witness outside the database and its host: every event and every
//! checkpoint is sent, in chain order, to the agency's own collector as an RFC 5424 syslog
//! message over TCP (octet-counted, RFC 6587), with TLS (RFC 5425) when configured
//! (NIST SP 800-53 AU-4(1), AU-9(2)).
//!
//! The queue is the log itself: one instance at a time (holding an advisory lock on a
//! connection of its own) reads the events after the position the collector was last sent
//! (`audit_forwarding.seq`), sends them and the checkpoints they reach, and moves the
//! position on once they are written to the socket. Memory holds one batch; an outage or a
//! restart loses nothing (the next connection takes up where the last one stopped, so the
//! collector may receive a batch twice, never a gap). The backlog (the events the collector
//! has not been sent) is bounded by a setting: past it, and during an outage, `/readyz`
//! and the auditors' chain page say so. `audit verify --witness` reads the collector's copy
//! back ([`super::witness`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::StoredEvent;
use super::checkpoint::Checkpoint;
use super::db;

/// The marker that opens every forwarded message's JSON, by which the witness finds it in
/// whatever line format the collector writes.
pub const MARKER: &str = "{\"icts_audit\":";

/// Events sent per batch.
const BATCH: i64 = 500;
/// The advisory lock whose holder forwards (any instance may; one does).
const LOCK_KEY: i64 = 0x1C75_F0D0;
/// How long a write to the collector may take before the connection counts as failed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle forwarder looks for new events.
const IDLE: Duration = Duration::from_millis(250);
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where the collector is and how to reach it (`--audit-syslog` and its TLS files).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The collector's host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// TLS (RFC 5425) with these files, or plain TCP.
    pub tls: Option<TlsFiles>,
    /// Events that may wait for the collector before `/readyz` reports an overflow.
    pub backlog_limit: i64,
}

/// The TLS files of the connection to the collector.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// CA certificates (PEM) the collector's certificate must chain to; unset: the public
    /// web PKI's roots.
    pub ca: Option<PathBuf>,
    /// This service's client certificate chain (PEM), when the collector asks for one.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
}

impl Settings {
    /// Reads `tcp://HOST:PORT` or `tls://HOST:PORT`.
    pub fn parse(target: &str, tls: TlsFiles, backlog_limit: i64) -> Result<Settings, String> {
        let url = url::Url::parse(target.trim())
            .map_err(|_| format!("{target:?} is not tcp://HOST:PORT or tls://HOST:PORT"))?;
        let secure = match url.scheme() {
            "tls" => true,
            "tcp" => false,
            s => return Err(format!("the scheme {s:?} is not allowed; use tcp://HOST:PORT or tls://HOST:PORT")),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("{target:?} names no host"))?;
        let port = url.port().ok_or_else(|| format!("{target:?} names no port (6514 is syslog over TLS)"))?;
        if !url.path().is_empty() && url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
            return Err(format!("{target:?}: only a scheme, a host and a port are allowed"));
        }
        if !secure && (tls.ca.is_some() || tls.cert.is_some() || tls.key.is_some()) {
            return Err("TLS files are given for a tcp:// collector; use tls://HOST:PORT".into());
        }
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        Ok(Settings { host, port, tls: secure.then_some(tls), backlog_limit })
    }

    /// The collector as the settings name it, for pages and logs.
    pub fn target(&self) -> String {
        format!("{}://{}:{}", if self.tls.is_some() { "tls" } else { "tcp" }, self.host, self.port)
    }
}

/// The TLS client configuration for `files`: the CA's roots (or the web PKI's) and the
/// client certificate when one is given. Read at boot, so a bad file stops it.
pub fn client_config(files: &TlsFiles) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    match &files.ca {
        Some(ca) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("cannot read {}: {e}", ca.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: not PEM certificates: {e}", ca.display()))?;
            if certs.is_empty() {
                return Err(format!("{} holds no certificate", ca.display()));
            }
            for c in certs {
                roots.add(c).map_err(|e| format!("{}: {e}", ca.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .map_err(|e| format!("cannot read {}: {e}", cert.display()))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{}: not PEM certificates: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!("{} holds no certificate", cert.display()));
            }
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: no private key: {e}", key.display()))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| format!("the client certificate and key: {e}"))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("a client certificate needs its key, and a key its certificate".into()),
    };
    Ok(Arc::new(config))
}

/// A forwarded event's JSON: the marker, its position and hash first (what the witness
/// needs, kept even if a collector cuts a long message), then the whole event.
#[derive(Serialize)]
struct EventMessage<'a> {
    icts_audit: &'static str,
    seq: i64,
    #[serde(serialize_with = "hex_bytes")]
    hash: &'a [u8],
    event: &'a StoredEvent,
}

/// A forwarded checkpoint's JSON.
#[derive(Serialize)]
struct CheckpointMessage<'a> {
    icts_audit: &'static str,
    checkpoint: &'a Checkpoint,
}

fn hex_bytes<S: serde::Serializer>(b: &&[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}

/// JSON in ASCII: every other character as `\uXXXX` (collectors may escape bytes above
/// 127 in their files; the witness reads the JSON back exactly).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Syslog facility "log audit" (13), severity informational (6).
const PRI: u8 = 13 * 8 + 6;

/// One RFC 5424 message, octet-counted for TCP (RFC 6587 3.4.1, as RFC 5425 frames it).
fn frame(out: &mut Vec<u8>, at: OffsetDateTime, host: &str, msgid: &str, json: &str) {
    let at = at.format(&Rfc3339).unwrap_or_else(|_| "-".into());
    let msg = format!("<{PRI}>1 {at} {host} icts-review - {msgid} - {}", ascii_json(json));
    out.extend_from_slice(format!("{} ", msg.len()).as_bytes());
    out.extend_from_slice(msg.as_bytes());
}

/// Appends the framed message of an event to `out`.
pub fn frame_event(out: &mut Vec<u8>, host: &str, e: &StoredEvent) {
    let json = serde_json::to_string(&EventMessage { icts_audit: "event", seq: e.seq, hash: &e.hash, event: e })
        .expect("events serialise");
    frame(out, e.at, host, "audit-event", &json);
}

/// Appends the framed message of a checkpoint to `out`.
pub fn frame_checkpoint(out: &mut Vec<u8>, host: &str, cp: &Checkpoint) {
    let json = serde_json::to_string(&CheckpointMessage { icts_audit: "checkpoint", checkpoint: cp })
        .expect("checkpoints serialise");
    let at = OffsetDateTime::parse(&cp.at, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    frame(out, at, host, "audit-checkpoint", &json);
}

/// The host name messages carry (RFC 5424 HOSTNAME: printable ASCII, at most 255).
pub fn host_name() -> String {
    let name = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default();
    let name: String = name.chars().filter(|c| c.is_ascii_graphic()).take(255).collect();
    if name.is_empty() { "-".into() } else { name }
}

/// How forwarding stands, as every instance reads it from the database.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// The collector (`tls://host:port`).
    pub collector: String,
    /// The newest event the collector was sent.
    pub forwarded_seq: i64,
    /// The log's head.
    pub head_seq: i64,
    /// Events not yet sent.
    pub backlog: i64,
    /// The backlog from which forwarding counts as overflowing.
    pub backlog_limit: i64,
    /// When a batch last reached the collector (RFC 3339).
    pub last_forwarded: Option<String>,
    /// Since when sending has failed (RFC 3339), while it fails.
    pub failing_since: Option<String>,
    /// What the last failure was.
    pub last_error: Option<String>,
    /// Whether forwarding holds: no failure, and the backlog within its limit.
    pub ok: bool,
}

/// Reads how forwarding stands.
pub async fn status(pool: &PgPool, settings: &Settings) -> Result<Status, sqlx::Error> {
    let r = db::forwarding(pool).await?;
    let time = |t: Option<OffsetDateTime>| t.and_then(|t| t.format(&Rfc3339).ok());
    let backlog = (r.head - r.seq).max(0);
    Ok(Status {
        collector: settings.target(),
        forwarded_seq: r.seq,
        head_seq: r.head,
        backlog,
        backlog_limit: settings.backlog_limit,
        last_forwarded: time(r.forwarded_at),
        failing_since: time(r.failing_since),
        last_error: r.last_error,
        ok: r.failing_since.is_none() && backlog <= settings.backlog_limit,
    })
}

async fn note_failure(pool: &PgPool, error: &str) {
    tracing::error!(error, "audit events not forwarded to the collector");
    let noted = db::note_forwarding_failure(pool, error).await;
    if let Err(e) = noted {
        tracing::warn!(error = %e, "cannot record the forwarding failure");
    }
}

/// A connection to the collector.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(settings: &Settings, tls: Option<&Arc<rustls::ClientConfig>>) -> Result<Box<dyn Stream>, String> {
    let addr = (settings.host.as_str(), settings.port);
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| format!("cannot reach {} within {} s", settings.target(), CONNECT_TIMEOUT.as_secs()))?
        .map_err(|e| format!("cannot connect to {}: {e}", settings.target()))?;
    let _ = tcp.set_nodelay(true);
    let Some(config) = tls else { return Ok(Box::new(tcp)) };
    let name = rustls::pki_types::ServerName::try_from(settings.host.clone())
        .map_err(|e| format!("{} is not a server name: {e}", settings.host))?;
    let stream =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp))
            .await
            .map_err(|_| format!("no TLS handshake with {} within {} s", settings.target(), CONNECT_TIMEOUT.as_secs()))?
            .map_err(|e| format!("TLS with {}: {e}", settings.target()))?;
    Ok(Box::new(stream))
}

/// Why a connection's forwarding stopped.
enum Stop {
    /// The collector's side failed (reconnect).
    Collector(String),
    /// The database failed (leadership may be gone: start over).
    Database(sqlx::Error),
}

/// Sends what the collector has not been sent until something fails. A collector sends
/// nothing back: `closed` is set when its side ends the connection, so that no batch is
/// written into a connection already gone (TCP would take it and lose it).
async fn pump(
    conn: &mut sqlx::PgConnection,
    stream: &mut (dyn AsyncWrite + Unpin + Send),
    closed: &std::sync::atomic::AtomicBool,
    host: &str,
    pool: &PgPool,
) -> Stop {
    let mut healthy = false;
    loop {
        if closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Stop::Collector("the collector closed the connection".into());
        }
        let cursor = match db::forwarded_seq(&mut *conn).await {
            Ok(c) => c,
            Err(e) => return Stop::Database(e),
        };
        let events = match db::events_to_forward(&mut *conn, cursor, BATCH).await {
            Ok(e) => e,
            Err(e) => return Stop::Database(e),
        };
        let upto = events.last().map(|e| e.seq).unwrap_or(cursor);
        let checkpoints = match db::checkpoints_to_forward(&mut *conn, upto).await {
            Ok(c) => c,
            Err(e) => return Stop::Database(e),
        };
        if events.is_empty() && checkpoints.is_empty() {
            if !healthy {
                // Connected and caught up: whatever failed before holds again.
                if let Err(e) = db::clear_forwarding_failure(pool).await {
                    return Stop::Database(e);
                }
                healthy = true;
            }
            tokio::time::sleep(IDLE).await;
            continue;
        }
        // What was read may have been committed without waiting for the disk (see
        // `durable`): the collector gets only what a crash cannot undo.
        if let Err(e) = super::durable::flush(&mut *conn).await {
            return Stop::Database(e);
        }
        let mut out = Vec::with_capacity(events.len() * 512);
        for e in &events {
            frame_event(&mut out, host, e);
        }
        for c in &checkpoints {
            let cp = Checkpoint {
                seq: c.seq,
                hash: hex::encode(&c.hash),
                at: c.at.format(&Rfc3339).unwrap_or_default(),
                public_key: c.public_key.as_ref().map(hex::encode),
                signature: c.signature.as_ref().map(hex::encode),
                reason: c.reason.clone(),
            };
            frame_checkpoint(&mut out, host, &cp);
        }
        let sent = tokio::time::timeout(WRITE_TIMEOUT, async {
            stream.write_all(&out).await?;
            stream.flush().await
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Stop::Collector(format!("cannot send to the collector: {e}")),
            Err(_) => {
                return Stop::Collector(format!("the collector took no data for {} s", WRITE_TIMEOUT.as_secs()));
            }
        }
        let ids: Vec<uuid::Uuid> = checkpoints.iter().map(|c| c.id).collect();
        let moved = async {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            db::forwarded_through(&mut tx, upto).await?;
            db::checkpoints_forwarded(&mut tx, &ids).await?;
            tx.commit().await
        };
        if let Err(e) = moved.await {
            return Stop::Database(e);
        }
        healthy = true;
    }
}

/// Forwards the log to the collector until aborted: takes the forwarding lock (another
/// instance may hold it: then waits), connects, sends, and on a failure records it and
/// tries again with backoff (1, 2, 4 … 30 s).
pub fn spawn(pool: PgPool, settings: Settings) -> Result<tokio::task::JoinHandle<()>, String> {
    let tls = settings.tls.as_ref().map(client_config).transpose()?;
    let host = host_name();
    Ok(tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            // A connection of its own holds the lock for as long as it lives.
            let mut leader = match pool.acquire().await {
                Ok(c) => c.detach(),
                Err(_) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            match db::try_advisory_lock(&mut leader, LOCK_KEY).await {
                Ok(true) => {}
                _ => {
                    drop(leader);
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            }
            loop {
                let stream = match connect(&settings, tls.as_ref()).await {
                    Ok(s) => s,
                    Err(e) => {
                        note_failure(&pool, &e).await;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        // Still the forwarder? (The lock goes with its connection.)
                        if db::ping(&mut leader).await.is_err() {
                            break;
                        }
                        continue;
                    }
                };
                backoff = Duration::from_secs(1);
                tracing::info!(collector = %settings.target(), "forwarding the audit log");
                let (mut read, mut write) = tokio::io::split(stream);
                let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let watch = {
                    let closed = closed.clone();
                    tokio::spawn(async move {
                        let mut buf = [0u8; 512];
                        while let Ok(n) = read.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                        }
                        closed.store(true, std::sync::atomic::Ordering::SeqCst);
                    })
                };
                let stopped = pump(&mut leader, &mut write, &closed, &host, &pool).await;
                watch.abort();
                match stopped {
                    Stop::Collector(e) => {
                        note_failure(&pool, &format!("{e} ({})", settings.target())).await;
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    Stop::Database(e) => {
                        tracing::warn!(error = %e, "audit forwarding stopped by a database error; starting over");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_rfc_5424_octet_counted_and_ascii() {
        let mut out = Vec::new();
        let at = time::macros::datetime!(2026-12-07 10:00:00.123456 UTC);
        frame(&mut out, at, "host-1", "audit-event", r#"{"icts_audit":"event","t":"Café ✓ 𝄞"}"#);
        let text = String::from_utf8(out).unwrap();
        let (len, msg) = text.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), msg.len());
        assert!(msg.starts_with("<110>1 2026-12-07T10:00:00.123456Z host-1 icts-review - audit-event - {"), "{msg}");
        assert!(msg.is_ascii());
        let json = &msg[msg.find(MARKER).unwrap()..];
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["t"], "Café ✓ 𝄞", "the JSON reads back exactly");
    }

    #[test]
    fn the_collector_is_named_by_scheme_host_and_port() {
        let s = Settings::parse("tls://logs.agency.gov:6514", TlsFiles::default(), 10).unwrap();
        assert_eq!((s.host.as_str(), s.port, s.tls.is_some()), ("logs.agency.gov", 6514, true));
        assert_eq!(s.target(), "tls://logs.agency.gov:6514");
        let s = Settings::parse("tcp://127.0.0.1:514", TlsFiles::default(), 10).unwrap();
        assert!(s.tls.is_none());
        for bad in ["udp://h:514", "tls://h", "h:514", "tls://h:6514/x", "tls://u@h:6514"] {
            assert!(Settings::parse(bad, TlsFiles::default(), 10).is_err(), "{bad}");
        }
        let files = TlsFiles { ca: Some("ca.pem".into()), ..Default::default() };
        assert!(Settings::parse("tcp://h:514", files, 10).is_err(), "TLS files for a plain collector");
    }
}
