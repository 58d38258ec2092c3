//! `icts-review backup` and `icts-review restore`: one file holding a consistent `pg_dump`
//! of the database, the checkpoint file, and a manifest (chain head, counts, sha256 of each
//! part), and the way back into an empty data folder or an empty database.
//!
//! Consistency: the dump and the manifest's figures come from one snapshot. A transaction
//! exports its snapshot (`pg_export_snapshot()`), reads the head and the counts in it, and
//! `pg_dump --snapshot` dumps exactly that state while writers go on. A checkpoint is taken
//! just before, so the restored office verifies against its own checkpoints.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use crate::config::Config;
use crate::db::local::{Durability, LocalCluster, PgBinaries};
use crate::db::{Database, LOCAL_DATABASE};

/// Format of the manifest.
const FORMAT: &str = "icts-review backup v1";
const MANIFEST: &str = "manifest.json";
const DUMP: &str = "database.dump";
const CHECKPOINTS: &str = "audit-checkpoints.jsonl";

/// What a backup holds, written as `manifest.json` inside it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// When the snapshot was taken (UTC, RFC 3339).
    pub taken_at: String,
    /// The last migration applied to the database.
    pub migration: i64,
    /// The audit chain head in the snapshot: position and hash (hex).
    pub head_seq: i64,
    /// The head's hash.
    pub head_hash: String,
    /// Rows in the snapshot: cases, parties, determinations, audit events, checkpoints.
    pub counts: Counts,
    /// The parts, each with its sha256 and size.
    pub parts: Vec<Part>,
}

/// Row counts of a snapshot.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Cases.
    pub cases: i64,
    /// Parties.
    pub parties: i64,
    /// Determinations.
    pub determinations: i64,
    /// Audit events.
    pub audit_events: i64,
    /// Audit checkpoints.
    pub audit_checkpoints: i64,
}

/// One file of the backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct Part {
    /// Its name in the backup.
    pub name: String,
    /// sha256 of its bytes (hex).
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Finds a PostgreSQL client program (`pg_dump`, `pg_restore`): in `--pg-bin-dir` when
/// given, else on `PATH`, else in the newest `/usr/lib/postgresql/*/bin`.
fn client_program(config: &Config, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &config.pg_bin_dir {
        let p = dir.join(name);
        anyhow::ensure!(p.is_file(), "--pg-bin-dir / ICTS_PG_BIN_DIR: {} has no {name}", dir.display());
        return Ok(p);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_string_lossy().parse::<u32>().ok()?, e.path().join("bin").join(name))))
        .filter(|(_, p)| p.is_file())
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    on_path.or(versions.into_iter().next().map(|(_, p)| p)).ok_or_else(|| {
        anyhow::anyhow!(
            "{name} not found on PATH or under /usr/lib/postgresql/*/bin; install the PostgreSQL client programs \
             (at least the server's version) or pass --pg-bin-dir / ICTS_PG_BIN_DIR"
        )
    })
}

/// The URL a client program connects with: the configured one, or the built-in cluster's.
fn database_url(config: &Config, db: &Database) -> String {
    match (&config.database_url, &db.local) {
        (Some(url), _) => url.to_string(),
        (None, Some(cluster)) => cluster.url(LOCAL_DATABASE),
        (None, None) => unreachable!("a database is either configured or built in"),
    }
}

async fn counts(conn: &mut PgConnection) -> Result<Counts, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM cases) AS "cases!", (SELECT count(*) FROM parties) AS "parties!",
                  (SELECT count(*) FROM determinations) AS "determinations!",
                  (SELECT count(*) FROM audit_events) AS "audit_events!",
                  (SELECT count(*) FROM audit_checkpoints) AS "audit_checkpoints!""#
    )
    .fetch_one(conn)
    .await?;
    Ok(Counts {
        cases: r.cases,
        parties: r.parties,
        determinations: r.determinations,
        audit_events: r.audit_events,
        audit_checkpoints: r.audit_checkpoints,
    })
}

fn sha256_file(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// `icts-review backup --out FILE`.
pub async fn backup(config: Config, out: PathBuf) -> anyhow::Result<()> {
    anyhow::ensure!(!out.exists(), "--out: {} exists; choose a new file", out.display());
    let pg_dump = client_program(&config, "pg_dump")?;
    let db = Database::open(&config).await?;
    let url = database_url(&config, &db);
    let signer = config.checkpointer();
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    match crate::audit::checkpoint::create(&db.pool, &signer, now, "backup", true).await {
        Ok(_) => {}
        Err(e @ crate::audit::checkpoint::CheckpointError::KeyMissing { .. }) => {
            eprintln!("note: no audit checkpoint was taken before the backup ({e})")
        }
        Err(e) => return Err(e.into()),
    }

    let work = tempfile::Builder::new()
        .prefix(".icts-backup-")
        .tempdir_in(out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))?;
    let dump = work.path().join(DUMP);
    // One snapshot for the figures and the dump.
    let mut conn = PgConnection::connect(&url).await?;
    let mut tx = conn.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let snapshot: String = sqlx::query_scalar!(r#"SELECT pg_export_snapshot() AS "s!""#).fetch_one(&mut *tx).await?;
    let head = sqlx::query!("SELECT seq, hash FROM audit_head WHERE singleton").fetch_one(&mut *tx).await?;
    let migration: i64 =
        sqlx::query_scalar!(r#"SELECT coalesce(max(version), 0) AS "v!" FROM _sqlx_migrations WHERE success"#)
            .fetch_one(&mut *tx)
            .await?;
    let counts = counts(&mut tx).await?;
    let status = tokio::process::Command::new(&pg_dump)
        .args(["--format=custom", "--no-owner", "--snapshot", &snapshot, "--file"])
        .arg(&dump)
        .arg("--dbname")
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .context("cannot run pg_dump")?;
    tx.commit().await?;
    conn.close().await.ok();
    if !status.status.success() {
        bail!("pg_dump failed ({}): {}", status.status, String::from_utf8_lossy(&status.stderr).trim());
    }
    db.shutdown().await;

    let mut parts = Vec::new();
    let (sha, bytes) = sha256_file(&dump)?;
    parts.push(Part { name: DUMP.into(), sha256: sha, bytes });
    let checkpoints = match &config.audit_checkpoint_file {
        Some(f) if f.exists() => {
            let (sha, bytes) = sha256_file(f)?;
            parts.push(Part { name: CHECKPOINTS.into(), sha256: sha, bytes });
            Some(f.clone())
        }
        _ => None,
    };
    let manifest = Manifest {
        format: FORMAT.into(),
        taken_at: now.format(&time::format_description::well_known::Rfc3339)?,
        migration,
        head_seq: head.seq,
        head_hash: hex::encode(&head.hash),
        counts,
        parts,
    };
    let partial = work.path().join("backup.zip");
    {
        let file = std::fs::File::create(&partial)?;
        let mut zip = zip::ZipWriter::new(file);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        zip.start_file(MANIFEST, stored)?;
        zip.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
        zip.start_file(DUMP, stored)?;
        std::io::copy(&mut std::fs::File::open(&dump)?, &mut zip)?;
        if let Some(f) = &checkpoints {
            zip.start_file(CHECKPOINTS, stored)?;
            std::io::copy(&mut std::fs::File::open(f)?, &mut zip)?;
        }
        zip.finish()?.sync_all()?;
    }
    std::fs::rename(&partial, &out).with_context(|| format!("cannot write {}", out.display()))?;
    println!("backup written to {}", out.display());
    println!(
        "snapshot {}: {} cases, {} parties, {} determinations, {} audit events (head at event {}), {} checkpoints{}",
        manifest.taken_at,
        manifest.counts.cases,
        manifest.counts.parties,
        manifest.counts.determinations,
        manifest.counts.audit_events,
        manifest.head_seq,
        manifest.counts.audit_checkpoints,
        if checkpoints.is_some() { ", with the checkpoint file" } else { ", no checkpoint file configured" }
    );
    Ok(())
}

/// Reads a backup's manifest and checks every part against it; returns the manifest and the
/// folder the parts were unpacked into.
fn unpack(file: &Path, into: &Path) -> anyhow::Result<Manifest> {
    let f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut zip =
        zip::ZipArchive::new(f).with_context(|| format!("{} is not an icts-review backup", file.display()))?;
    let manifest: Manifest = {
        let mut m = zip.by_name(MANIFEST).with_context(|| format!("{} has no {MANIFEST}", file.display()))?;
        let mut text = String::new();
        m.read_to_string(&mut text)?;
        serde_json::from_str(&text).with_context(|| format!("{MANIFEST} of {} is not readable", file.display()))?
    };
    anyhow::ensure!(manifest.format == FORMAT, "{}: format {:?}, expected {FORMAT:?}", file.display(), manifest.format);
    for part in &manifest.parts {
        let target = into.join(&part.name);
        let mut entry = zip.by_name(&part.name).with_context(|| format!("{} lacks {}", file.display(), part.name))?;
        std::io::copy(&mut entry, &mut std::fs::File::create(&target)?)?;
        let (sha, bytes) = sha256_file(&target)?;
        anyhow::ensure!(
            sha == part.sha256 && bytes == part.bytes,
            "{} in {} does not match its manifest (sha256 {sha}, expected {}): the backup is damaged",
            part.name,
            file.display(),
            part.sha256
        );
    }
    Ok(manifest)
}

/// `icts-review restore FILE`.
pub async fn restore(config: Config, file: PathBuf) -> anyhow::Result<()> {
    let pg_restore = client_program(&config, "pg_restore")?;
    let work = tempfile::Builder::new().prefix(".icts-restore-").tempdir()?;
    // The postgres system user may need to read the parts when we run as root.
    std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let manifest = unpack(&file, work.path())?;

    // An empty target: a data folder with no cluster, or a database with no tables.
    let url = match &config.database_url {
        Some(url) => {
            let mut conn = PgConnection::connect(url.as_str()).await?;
            let tables: i64 = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"#
            )
            .fetch_one(&mut conn)
            .await?;
            anyhow::ensure!(
                tables == 0,
                "DATABASE_URL: the database holds {tables} table(s); restore needs an empty one"
            );
            conn.close().await.ok();
            url.to_string()
        }
        None => {
            let pgdata = config.data_dir.join("postgres");
            anyhow::ensure!(
                !pgdata.join("PG_VERSION").exists(),
                "--data-dir / ICTS_DATA_DIR: {} already holds a database; restore into an empty data folder",
                config.data_dir.display()
            );
            let (pg_bin_dir, data_dir) = (config.pg_bin_dir.clone(), config.data_dir.clone());
            let cluster = tokio::task::spawn_blocking(move || -> anyhow::Result<LocalCluster> {
                let bins = PgBinaries::discover(pg_bin_dir.as_deref())?;
                let cluster = LocalCluster::prepare(bins, &data_dir, Durability::Full)?;
                cluster.start()?;
                Ok(cluster)
            })
            .await??;
            crate::db::ensure_database(&cluster, LOCAL_DATABASE).await?;
            cluster.url(LOCAL_DATABASE)
        }
    };
    let mut conn = PgConnection::connect(&url).await?;
    // What the dump does not carry: the service's role (created by the first migration on
    // a new database), granted to whoever restores and runs the service.
    sqlx::query!("DO $$ BEGIN CREATE ROLE icts_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        .execute(&mut conn)
        .await?;
    sqlx::query!("DO $$ BEGIN EXECUTE format('GRANT icts_app TO %I', current_user); END $$").execute(&mut conn).await?;
    conn.close().await.ok();
    let out = Command::new(&pg_restore)
        .args(["--no-owner", "--exit-on-error", "--single-transaction", "--dbname"])
        .arg(&url)
        .arg(work.path().join(DUMP))
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot run pg_restore")?;
    if !out.status.success() {
        bail!("pg_restore failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    if manifest.parts.iter().any(|p| p.name == CHECKPOINTS) {
        match &config.audit_checkpoint_file {
            Some(target) if !target.exists() => {
                std::fs::copy(work.path().join(CHECKPOINTS), target)
                    .with_context(|| format!("cannot write the checkpoint file {}", target.display()))?;
            }
            Some(target) => println!(
                "the checkpoint file {} exists and was kept; the backup's copy was not written",
                target.display()
            ),
            None => println!(
                "the backup holds a checkpoint file, but none is configured (--audit-checkpoint-file); it was not written"
            ),
        }
    }

    // The restored office: migrated to this version, then checked as `audit verify` would.
    let mut db = Database::open(&config).await?;
    // The built-in database this command started is stopped when it ends.
    db.own_local();
    let mut conn = db.pool.acquire().await?;
    let got = counts(&mut conn).await?;
    drop(conn);
    let verdict = crate::audit::verify(&db.pool).await?;
    let expected = config.audit_signing_key.as_ref().map(|k| k.verifying_key());
    let report = crate::audit::checkpoint::verify_all(
        &db.pool,
        crate::audit::checkpoint::Expectations {
            key: expected.as_ref(),
            file: config.audit_checkpoint_file.as_deref(),
            // A snapshot of the past: events after its last checkpoint owe nothing yet.
            interval: None,
            now: crate::clock::Clock::now(&crate::clock::SystemClock),
        },
    )
    .await?;
    db.shutdown().await;
    println!(
        "restored {} (snapshot {}): {} cases, {} parties, {} determinations, {} audit events, {} checkpoints",
        file.display(),
        manifest.taken_at,
        got.cases,
        got.parties,
        got.determinations,
        got.audit_events,
        got.audit_checkpoints
    );
    let mut ok = matches!(verdict, crate::audit::Verdict::Ok { .. }) && report.problems.is_empty();
    if got != manifest.counts {
        println!("the restored rows differ from the manifest's: {:?}", manifest.counts);
        ok = false;
    }
    println!("audit verify: {verdict}; {} checkpoint(s) checked, {} validly signed", report.checked, report.signed);
    for p in &report.problems {
        println!("  {p}");
    }
    anyhow::ensure!(ok, "the restored office does not verify");
    Ok(())
}
