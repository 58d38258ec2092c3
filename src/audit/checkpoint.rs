//! Signed checkpoints of the audit chain head. Every few minutes (when the chain has
//! grown) and at every export, the head — position, hash, time — is signed with an Ed25519
//! key held outside the database, stored in `audit_checkpoints`, and appended as one JSON
//! line to a file that can live on other storage. [`verify_all`] checks the stored chain
//! against every checkpoint, in the database and in the file, so a superuser who rewrites
//! and rehashes the whole chain (or deletes checkpoint rows) is caught.
//!
//! Key files: the private key is the 32-byte seed in hex on one line (mode 0600); the public
//! key file (`PREFIX.pub`) is the 32-byte key in hex.

use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::db;

/// A checkpoint as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    /// Chain position of the head.
    pub seq: i64,
    /// The head's hash (hex).
    pub hash: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Public key (hex), when signed.
    pub public_key: Option<String>,
    /// Ed25519 signature of [`message`] (hex), when signed.
    pub signature: Option<String>,
    /// `periodic`, `export` or `manual`.
    pub reason: String,
}

/// The bytes a checkpoint signs.
pub fn message(seq: i64, hash_hex: &str, at: &str) -> Vec<u8> {
    format!("icts-review audit checkpoint v1\n{seq}\n{hash_hex}\n{at}\n").into_bytes()
}

impl Checkpoint {
    /// Whether the signature is valid for `key` (or the embedded key when `None`).
    pub fn signature_valid(&self, key: Option<&VerifyingKey>) -> Result<(), String> {
        let (Some(pk), Some(sig)) = (&self.public_key, &self.signature) else {
            return Err("the checkpoint is not signed".into());
        };
        let embedded = parse_public(pk)?;
        if let Some(k) = key
            && k.as_bytes() != embedded.as_bytes()
        {
            return Err(format!("signed with key {pk}, not with the expected key {}", hex::encode(k.as_bytes())));
        }
        if !sig.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
            return Err("the signature is not lowercase hex".into());
        }
        let sig = hex::decode(sig).map_err(|_| "the signature is not hex".to_string())?;
        let sig = Signature::from_slice(&sig).map_err(|_| "the signature is not 64 bytes".to_string())?;
        embedded
            .verify(&message(self.seq, &self.hash, &self.at), &sig)
            .map_err(|_| "the signature does not match the checkpoint".to_string())
    }
}

/// Parses a public key: SPKI PEM (`-----BEGIN PUBLIC KEY-----`, as `openssl pkey -pubout`
/// writes it) or 64 lowercase hex digits (the earlier format).
pub fn parse_public(text: &str) -> Result<VerifyingKey, String> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text)
            .map_err(|e| format!("not an Ed25519 public key in PEM (SubjectPublicKeyInfo): {e}"));
    }
    if !text.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        return Err("a public key is a PEM public key or 64 lowercase hex digits".into());
    }
    let bytes: [u8; 32] = hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "a public key is a PEM public key or 64 hex digits".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_string())
}

/// Reads a private key file: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, which `openssl`
/// reads and writes) or the 64 hex digits of the seed (the earlier format).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, String> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = text.trim();
    let none = || {
        format!(
            "{} does not hold a key (an Ed25519 PKCS#8 PEM key or 64 hex digits); make one with `icts-review audit keygen`",
            path.display()
        )
    };
    if text.starts_with("-----BEGIN") {
        return SigningKey::from_pkcs8_pem(text).map_err(|e| format!("{}: {e}", none()));
    }
    let seed: [u8; 32] = hex::decode(text).ok().and_then(|b| b.try_into().ok()).ok_or_else(none)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads a public key file.
pub fn load_public_key(path: &Path) -> Result<VerifyingKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_public(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes a new key pair as PEM: the private key (PKCS#8) to `prefix` (mode 0600, never
/// overwritten) and the public key (SubjectPublicKeyInfo) to `prefix.pub`. Returns the
/// public key in hex, as logs and dossiers show it.
pub fn keygen(prefix: &Path) -> Result<String, String> {
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let public = hex::encode(key.verifying_key().as_bytes());
    // PKCS#8 v1 (the seed alone): the form every openssl reads.
    let private_pem = ed25519_dalek::pkcs8::KeypairBytes { secret_key: seed, public_key: None }
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the key: {e}"))?;
    let public_pem =
        key.verifying_key().to_public_key_pem(LineEnding::LF).map_err(|e| format!("cannot encode the key: {e}"))?;
    let pub_path = prefix.with_file_name(format!(
        "{}.pub",
        prefix.file_name().and_then(|n| n.to_str()).ok_or("--out needs a file name")?
    ));
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(prefix)
        .map_err(|e| format!("cannot create {}: {e} (an existing key is never overwritten)", prefix.display()))?;
    f.write_all(private_pem.as_bytes()).map_err(|e| e.to_string())?;
    std::fs::write(&pub_path, public_pem).map_err(|e| format!("cannot write {}: {e}", pub_path.display()))?;
    Ok(public)
}

/// Where checkpoints go.
#[derive(Clone, Default)]
pub struct Checkpointer {
    /// The signing key, if configured.
    pub key: Option<std::sync::Arc<SigningKey>>,
    /// The file that receives a copy of every checkpoint.
    pub file: Option<std::path::PathBuf>,
    /// How the last writes went (shown on `/readyz` and the chain page).
    pub status: std::sync::Arc<WriterStatus>,
    /// How often the service takes a checkpoint (what verification holds it to).
    pub interval: Option<std::time::Duration>,
}

/// How checkpoint writing goes: the last success and the failures since.
#[derive(Debug, Default)]
pub struct WriterStatus {
    inner: std::sync::Mutex<WriterState>,
}

/// A snapshot of [`WriterStatus`].
#[derive(Debug, Default, Clone, Serialize)]
pub struct WriterState {
    /// When a checkpoint was last written everywhere it goes.
    pub last_written: Option<String>,
    /// Failed writes since then.
    pub failures: u64,
    /// When the first of those failed.
    pub failing_since: Option<String>,
    /// What the last failure was.
    pub last_error: Option<String>,
}

impl WriterStatus {
    fn written(&self, at: OffsetDateTime) {
        let mut s = self.inner.lock().expect("checkpoint status lock");
        *s = WriterState { last_written: at.format(&Rfc3339).ok(), ..WriterState::default() };
    }

    /// Records a failed write (and logs it: every failure, not only the first).
    pub fn failed(&self, at: OffsetDateTime, error: &str) {
        let mut s = self.inner.lock().expect("checkpoint status lock");
        s.failures += 1;
        if s.failing_since.is_none() {
            s.failing_since = at.format(&Rfc3339).ok();
        }
        s.last_error = Some(error.to_string());
        tracing::error!(failures = s.failures, error, "audit checkpoint not written");
    }

    /// Whether the last write failed.
    pub fn is_failing(&self) -> bool {
        self.inner.lock().expect("checkpoint status lock").failures > 0
    }

    /// A snapshot.
    pub fn state(&self) -> WriterState {
        self.inner.lock().expect("checkpoint status lock").clone()
    }
}

/// Why a checkpoint was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// This installation signs its checkpoints (a key is recorded in `audit_signing_keys`)
    /// and no signing key is configured: an unsigned checkpoint would make every later
    /// `audit verify --public-key` fail, so none is taken.
    #[error(
        "this installation signs its audit checkpoints (with key {public_key}, first used {first_used}) and no signing key is configured: set --audit-signing-key or ICTS_AUDIT_SIGNING_KEY to the key file"
    )]
    KeyMissing {
        /// The newest recorded public key (hex).
        public_key: String,
        /// When it first signed (RFC 3339).
        first_used: String,
    },
}

/// The installation's signing key as recorded when it first signed (the newest, when keys
/// were changed), or `None` when no checkpoint of this installation was ever signed.
pub async fn recorded_key(pool: &PgPool) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = db::recorded_key(pool).await?;
    Ok(row.map(|(public_key, first_used)| (hex::encode(public_key), first_used.format(&Rfc3339).unwrap_or_default())))
}

/// Refuses when this installation signs its checkpoints and `signer` has no key: what a
/// service or a command checks before it writes anything.
pub async fn require_key(pool: &PgPool, signer: &Checkpointer) -> Result<(), CheckpointError> {
    if signer.key.is_some() {
        return Ok(());
    }
    match recorded_key(pool).await? {
        Some((public_key, first_used)) => Err(CheckpointError::KeyMissing { public_key, first_used }),
        None => Ok(()),
    }
}

/// Signs and stores a checkpoint of the current head (and appends it to the file). With
/// `only_if_grown`, nothing is written when the head has not moved since the last one.
/// On an installation that signs its checkpoints, a signer without the key takes none
/// ([`CheckpointError::KeyMissing`]); a signing key is recorded the first time it signs.
pub async fn create(
    pool: &PgPool,
    signer: &Checkpointer,
    now: OffsetDateTime,
    reason: &str,
    only_if_grown: bool,
) -> Result<Option<Checkpoint>, CheckpointError> {
    let (seq, hash) = db::head(pool).await?;
    if only_if_grown {
        let last: Option<i64> = db::last_checkpoint_seq(pool).await?;
        if last == Some(seq) {
            return Ok(None);
        }
    }
    require_key(pool, signer).await?;
    let mut tx = pool.begin().await?;
    let cp = take_covering(&mut tx, signer, now, reason, (seq, hash)).await?;
    tx.commit().await?;
    to_file(signer, &cp, now).await;
    Ok(Some(cp))
}

/// Signs and stores a checkpoint at `seq` with `hash` inside the caller's transaction:
/// the head as the caller's own append left it ([`super::record_linked`], whose lock on
/// the head the transaction holds, so that an export's event and the checkpoint covering
/// it commit together), or the head as read (the periodic checkpoint). The caller checks
/// [`require_key`] first, and copies the checkpoint to the file with [`to_file`] after its
/// commit.
pub async fn take_covering(
    conn: &mut sqlx::PgConnection,
    signer: &Checkpointer,
    now: OffsetDateTime,
    reason: &str,
    (seq, hash): (i64, Vec<u8>),
) -> Result<Checkpoint, sqlx::Error> {
    let at = now.replace_nanosecond(now.microsecond() * 1000).unwrap_or(now);
    let at_text = at.format(&Rfc3339).expect("UTC times format");
    let hash_hex = hex::encode(&hash);
    let (public_key, signature) = match &signer.key {
        Some(k) => {
            let sig = k.sign(&message(seq, &hash_hex, &at_text));
            (Some(k.verifying_key().as_bytes().to_vec()), Some(sig.to_bytes().to_vec()))
        }
        None => (None, None),
    };
    // One statement: the key is recorded the first time it signs, with the checkpoint.
    db::insert_checkpoint(
        &mut *conn,
        db::NewCheckpoint {
            seq,
            hash: &hash,
            at,
            public_key: public_key.as_deref(),
            signature: signature.as_deref(),
            reason,
            for_file: signer.file.is_some(),
        },
    )
    .await?;
    Ok(Checkpoint {
        seq,
        hash: hash_hex,
        at: at_text,
        public_key: public_key.map(hex::encode),
        signature: signature.map(hex::encode),
        reason: reason.into(),
    })
}

/// Appends a committed checkpoint to the checkpoint file (when one is configured) and
/// notes how the write went.
pub async fn to_file(signer: &Checkpointer, cp: &Checkpoint, now: OffsetDateTime) {
    if let Some(path) = &signer.file {
        let line = serde_json::to_string(cp).expect("checkpoints serialise");
        let file = path.clone();
        let written = tokio::task::spawn_blocking(move || append_line(&file, &line))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match written {
            Ok(()) => signer.status.written(now),
            Err(e) => {
                signer.status.failed(now, &format!("cannot append to the checkpoint file {}: {e}", path.display()))
            }
        }
    } else {
        signer.status.written(now);
    }
}

/// Appends `line` and a newline to `path` in one write, so that lines appended at the same
/// moment (two exports, two instances on one file) never interleave, then syncs it.
fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{line}\n").as_bytes())?;
    f.sync_data()
}

/// Every checkpoint in the database, oldest first.
pub async fn all(pool: &PgPool) -> Result<Vec<Checkpoint>, sqlx::Error> {
    Ok(stored(pool).await?.into_iter().map(|(cp, _)| cp).collect())
}

/// Every checkpoint in the database, oldest first, each with whether it was meant for the
/// checkpoint file.
async fn stored(pool: &PgPool) -> Result<Vec<(Checkpoint, bool)>, sqlx::Error> {
    let rows = db::checkpoints(pool).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let cp = Checkpoint {
                seq: r.seq,
                hash: hex::encode(r.hash),
                at: r.at.format(&Rfc3339).expect("UTC times format"),
                public_key: r.public_key.map(hex::encode),
                signature: r.signature.map(hex::encode),
                reason: r.reason,
            };
            (cp, r.for_file)
        })
        .collect())
}

/// The latest checkpoint.
pub async fn latest(pool: &PgPool) -> Result<Option<Checkpoint>, sqlx::Error> {
    Ok(all(pool).await?.pop())
}

/// The outcome of checking the chain against the checkpoints.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct CheckpointReport {
    /// Checkpoints checked (database and file).
    pub checked: usize,
    /// Of them, signed with a valid signature.
    pub signed: usize,
    /// What does not hold, one line each.
    pub problems: Vec<String>,
}

/// What [`verify_all`] checks against.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The public key checkpoints must be signed with (else each one's embedded key).
    pub key: Option<&'a VerifyingKey>,
    /// The configured checkpoint file.
    pub file: Option<&'a Path>,
    /// With a key: the chain may not grow for longer than this without a signed checkpoint.
    pub interval: Option<std::time::Duration>,
    /// The time of the check.
    pub now: OffsetDateTime,
}

/// Leeway over the checkpoint interval before uncovered events count as a problem (the
/// writer runs once per interval and may be late by a tick).
const INTERVAL_LEEWAY: time::Duration = time::Duration::minutes(1);

/// Checks every checkpoint (in the database and, if configured, the file): its signature
/// (against the expected key when given, else the embedded key) and that the stored chain
/// still has that hash at that position; that the file is there and readable, that every
/// file checkpoint is in the database and every database checkpoint meant for the file is
/// in the file; and, with a key, that no event has waited longer than the interval for a
/// signed checkpoint.
pub async fn verify_all(pool: &PgPool, want: Expectations<'_>) -> Result<CheckpointReport, sqlx::Error> {
    let mut report = CheckpointReport::default();
    let stored = stored(pool).await?;
    let mut from_file = Vec::new();
    if let Some(path) = want.file {
        let expected_in_file = stored.iter().filter(|(_, f)| *f).count();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                    match serde_json::from_str::<Checkpoint>(line) {
                        Ok(cp) => from_file.push(cp),
                        Err(e) => {
                            report.problems.push(format!("{} line {}: not a checkpoint ({e})", path.display(), n + 1))
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && expected_in_file == 0 => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.problems.push(format!(
                "the checkpoint file {} is missing, but {expected_in_file} checkpoint(s) were written to it",
                path.display()
            )),
            Err(e) => report.problems.push(format!("cannot read the checkpoint file {}: {e}", path.display())),
        }
        if report.problems.is_empty() || !from_file.is_empty() {
            for (cp, _) in stored.iter().filter(|(_, for_file)| *for_file) {
                if !from_file.contains(cp) {
                    report.problems.push(format!(
                        "the database checkpoint at event {} of {} is not in the checkpoint file {} (its write failed, or the line was removed)",
                        cp.seq,
                        cp.at,
                        path.display()
                    ));
                }
            }
        }
    }
    for cp in &from_file {
        if !stored.iter().any(|(s, _)| s == cp) {
            report.problems.push(format!(
                "the checkpoint at event {} of {} in the file is missing from the database (removed or altered)",
                cp.seq, cp.at
            ));
        }
    }
    let mut checks: Vec<(&str, &Checkpoint)> = stored.iter().map(|(c, _)| ("database", c)).collect();
    checks.extend(from_file.iter().map(|c| ("file", c)));
    for (origin, cp) in checks {
        report.checked += 1;
        if cp.signature.is_some() {
            match cp.signature_valid(want.key) {
                Ok(()) => report.signed += 1,
                Err(e) => report.problems.push(format!("{origin} checkpoint at event {} ({}): {e}", cp.seq, cp.at)),
            }
        } else if want.key.is_some() {
            report.problems.push(format!("{origin} checkpoint at event {} ({}) is not signed", cp.seq, cp.at));
        }
        if cp.seq == 0 {
            continue;
        }
        let hash: Option<Vec<u8>> = db::hash_at(pool, cp.seq).await?;
        match hash {
            None => report.problems.push(format!("{origin} checkpoint at event {}: that event is gone", cp.seq)),
            Some(h) if hex::encode(&h) != cp.hash => report.problems.push(format!(
                "{origin} checkpoint at event {} ({}): the chain has a different hash there — the log was rewritten",
                cp.seq, cp.at
            )),
            Some(_) => {}
        }
    }
    if let (Some(key), Some(interval)) = (want.key, want.interval) {
        let covered = stored
            .iter()
            .map(|(c, _)| c)
            .chain(from_file.iter())
            .filter(|c| c.signature.is_some() && c.signature_valid(Some(key)).is_ok())
            .map(|c| c.seq)
            .max()
            .unwrap_or(0);
        let first_uncovered = db::first_after(pool, covered).await?;
        let allowed = time::Duration::try_from(interval).unwrap_or(time::Duration::DAY) + INTERVAL_LEEWAY;
        if let Some((seq, at)) = first_uncovered
            && want.now - at > allowed
        {
            report.problems.push(format!(
                "events from {} on (the first at {}) have had no signed checkpoint for longer than the checkpoint interval ({} s): the checkpoint writer is not running, failing, or its checkpoints were removed",
                seq,
                at.format(&Rfc3339).unwrap_or_default(),
                interval.as_secs()
            ));
        }
    }
    Ok(report)
}

/// Takes a checkpoint every `interval` (when the chain has grown). Runs until aborted.
pub fn spawn(
    pool: PgPool,
    checkpointer: Checkpointer,
    clock: crate::clock::SharedClock,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = clock.now();
            match create(&pool, &checkpointer, now, "periodic", true).await {
                Ok(_) => {}
                Err(CheckpointError::Database(e)) => {
                    checkpointer.status.failed(now, &format!("cannot store the checkpoint in the database: {e}"))
                }
                Err(e) => checkpointer.status.failed(now, &format!("no checkpoint taken: {e}")),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_position_hash_and_time() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let at = "2026-11-28T10:00:00Z";
        let hash = hex::encode([1u8; 32]);
        let sig = key.sign(&message(42, &hash, at));
        let cp = Checkpoint {
            seq: 42,
            hash: hash.clone(),
            at: at.into(),
            public_key: Some(hex::encode(key.verifying_key().as_bytes())),
            signature: Some(hex::encode(sig.to_bytes())),
            reason: "periodic".into(),
        };
        assert!(cp.signature_valid(None).is_ok());
        assert!(cp.signature_valid(Some(&key.verifying_key())).is_ok());
        let other = SigningKey::from_bytes(&[8; 32]);
        assert!(cp.signature_valid(Some(&other.verifying_key())).unwrap_err().contains("expected key"));
        for tampered in [
            Checkpoint { seq: 43, ..cp.clone() },
            Checkpoint { hash: hex::encode([2u8; 32]), ..cp.clone() },
            Checkpoint { at: "2026-11-28T10:00:01Z".into(), ..cp.clone() },
        ] {
            assert!(tampered.signature_valid(None).is_err());
        }
    }

    #[test]
    fn lines_appended_at_the_same_moment_stay_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints.jsonl");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        let line = serde_json::json!({"writer": t, "i": i, "pad": "x".repeat(150)}).to_string();
                        append_line(&path, &line).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 800);
        for l in lines {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        }
    }

    #[test]
    fn keygen_writes_a_private_and_a_public_key_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("audit-key");
        let public = keygen(&prefix).unwrap();
        let key = load_signing_key(&prefix).unwrap();
        assert_eq!(hex::encode(key.verifying_key().as_bytes()), public);
        assert_eq!(hex::encode(load_public_key(&dir.path().join("audit-key.pub")).unwrap().as_bytes()), public);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&prefix).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(keygen(&prefix).is_err());
        std::fs::write(dir.path().join("bad"), "not a key").unwrap();
        assert!(load_signing_key(&dir.path().join("bad")).unwrap_err().contains("keygen"));
    }

    /// The key files are the PEM that `openssl` reads: it derives the same public key.
    #[test]
    fn openssl_reads_the_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("k");
        keygen(&prefix).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkey", "-in"])
            .arg(&prefix)
            .arg("-pubout")
            .output()
            .expect("openssl is installed");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout).unwrap(), std::fs::read_to_string(dir.path().join("k.pub")).unwrap());
        assert!(std::fs::read_to_string(&prefix).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    /// Keys written in the earlier hex format still load.
    #[test]
    fn hex_key_files_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[9; 32]);
        std::fs::write(dir.path().join("old"), format!("{}\n", hex::encode([9u8; 32]))).unwrap();
        std::fs::write(dir.path().join("old.pub"), hex::encode(key.verifying_key().as_bytes())).unwrap();
        assert_eq!(load_signing_key(&dir.path().join("old")).unwrap().to_bytes(), key.to_bytes());
        assert_eq!(load_public_key(&dir.path().join("old.pub")).unwrap(), key.verifying_key());
    }
}
