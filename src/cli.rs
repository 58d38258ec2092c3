//! The command line: `icts-review [serve]` runs the service, `icts-review migrate` only
//! applies the migrations. Every setting is a flag with an environment variable (README).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::audit::EventType;
use crate::config::{Config, RawConfig};

/// Case management for reviews of ICTS transactions (15 CFR Part 791).
#[derive(Debug, Parser)]
#[command(name = "icts-review", version, about, long_about = None)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: RawConfig,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Load data in bulk.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Screening lists.
    #[command(subcommand)]
    Screening(ScreeningCommand),
    /// Check an exported case dossier with no database and no network: every part against
    /// the manifest, the manifest's signature, the checkpoint, the audit events' chain
    /// hashes, the determinations' content hashes and included documents. Exit 0 only when
    /// everything holds; otherwise each problem is named and the exit code is 1.
    VerifyExport {
        /// The dossier (JSON), or a dossier zip.
        file: std::path::PathBuf,
        /// The office's published public key file (`PREFIX.pub`); without it the key in the
        /// file is used, and the output says so.
        #[arg(long)]
        public_key: Option<std::path::PathBuf>,
    },
    /// Write one file holding a consistent dump of the database (pg_dump, from one snapshot,
    /// while the service goes on), the checkpoint file and a manifest (chain head, counts,
    /// sha256 of each part).
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Restore a backup into an empty data folder (built-in database) or an empty database
    /// (DATABASE_URL): creates the service's role, restores, writes the checkpoint file,
    /// then verifies the audit chain against the restored checkpoints and says what it
    /// restored. Exit 0 only when it verifies.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Fill an empty database with a demonstration office (--demo) or a large synthetic
    /// one for measuring (--synthetic --cases N --events M).
    Seed {
        /// One account per role (one-time passwords printed once) and about fifty cases in
        /// every stage and category, including the Kaspersky review ICTS-2021-002.
        #[arg(long, required_unless_present = "synthetic", conflicts_with = "synthetic")]
        demo: bool,
        /// Cases in every stage with parties, ownership chains, notes, assessments, signed
        /// determinations and a valid audit chain, loaded with COPY in one transaction.
        #[arg(long)]
        synthetic: bool,
        /// Number of synthetic cases.
        #[arg(long, default_value_t = 100_000, requires = "synthetic")]
        cases: u64,
        /// Number of synthetic audit events (at least one per case).
        #[arg(long, default_value_t = 2_000_000, requires = "synthetic")]
        events: u64,
        /// Number of synthetic Declarations of Conformity (the second docket), each with its
        /// filer, history and audit event.
        #[arg(long, default_value_t = 0, requires = "synthetic")]
        declarations: u64,
    },
}

/// `icts-review screening ...`
#[derive(Debug, Subcommand)]
pub enum ScreeningCommand {
    /// Load a Consolidated Screening List file (CSV) as a new dated version and re-screen
    /// every party; a malformed file is refused whole, with its line and reason.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
}

/// `icts-review import ...`
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load transactions from a CSV file (columns documented in docs/IMPORT.md): every
    /// row is checked first and all problems are listed by row and column; only a
    /// clean file loads, all or nothing.
    Transactions {
        /// The CSV file.
        file: std::path::PathBuf,
        /// Email of the user on whose behalf the rows are filed (recorded as creator).
        #[arg(long = "as")]
        as_user: Option<String>,
    },
}

/// `icts-review user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is asked for on the terminal unless
    /// --password-stdin or --generate-password is given; it is never logged.
    Add {
        /// Email address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// analyst, supervisor, auditor or admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "generate_password")]
        password_stdin: bool,
        /// Generate a password and print it once; the user must change it at first sign-in.
        #[arg(long)]
        generate_password: bool,
    },
}

/// `icts-review audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and check it against every signed checkpoint (database and
    /// checkpoint file). Prints `OK <count> <head hash>` and exits 0, or names what is
    /// wrong and exits 1. With `--witness`, also against the audit collector's copy.
    Verify {
        /// Public key file the checkpoints must be signed with (default: the configured
        /// signing key's).
        #[arg(long)]
        public_key: Option<std::path::PathBuf>,
        /// The audit collector's log of the forwarded events and checkpoints
        /// (`--audit-syslog`): every event and checkpoint it holds must still be in the
        /// database as it was sent.
        #[arg(long)]
        witness: Option<std::path::PathBuf>,
    },
    /// Write a new Ed25519 key pair for signing checkpoints: the private key to PREFIX
    /// (mode 0600) and the public key to PREFIX.pub.
    Keygen {
        /// Path of the private key file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Take a checkpoint of the chain head now.
    Checkpoint,
    /// Stream the audit log of a period (constant memory) as NDJSON or CSV.
    Export {
        /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Until this time (RFC 3339 or YYYY-MM-DD), exclusive.
        #[arg(long)]
        to: Option<String>,
        /// ndjson or csv.
        #[arg(long, default_value = "ndjson")]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_raw(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    crate::zone::set_office(config.time_zone.clone());
    // Commands other than `serve` print their result; keep routine log lines out of it
    // unless a log filter was asked for.
    let quiet_default = !matches!(cli.command, None | Some(Command::Serve)) && cli.config.log == "info";
    let filter = if quiet_default { "warn" } else { config.log.as_str() };
    let mut log_guard = crate::telemetry::init(config.log_format, &format!("{filter},sqlx::postgres::notice=warn"));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::server::serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Backup { out } => crate::backup::backup(config, out).await,
            Command::Restore { file } => crate::backup::restore(config, file).await,
            Command::User(UserCommand::Add { email, name, role, password_stdin, generate_password }) => {
                user_add(config, email, name, role, password_stdin, generate_password).await
            }
            Command::Audit(AuditCommand::Verify { public_key, witness }) => {
                audit_verify(config, public_key, witness).await
            }
            Command::Audit(AuditCommand::Keygen { out }) => {
                let public = crate::audit::checkpoint::keygen(&out).map_err(anyhow::Error::msg)?;
                println!("private key: {} (keep it off the database server's disks and backups)", out.display());
                println!("public key:  {}.pub  {public}", out.display());
                println!("use it with --audit-signing-key {} (ICTS_AUDIT_SIGNING_KEY)", out.display());
                Ok(())
            }
            Command::Audit(AuditCommand::Checkpoint) => audit_checkpoint(config).await,
            Command::Audit(AuditCommand::Export { from, to, format, out }) => {
                audit_export(config, from, to, format, out).await
            }
            Command::VerifyExport { file, public_key } => verify_export(file, public_key),
            Command::Import(ImportCommand::Transactions { file, as_user }) => {
                import_transactions(config, file, as_user).await
            }
            Command::Seed { synthetic: true, cases, events, declarations, .. } => {
                seed_synthetic(config, cases, events, declarations).await
            }
            Command::Seed { .. } => seed_demo(config).await,
            Command::Screening(ScreeningCommand::Import { file }) => screening_import(config, file).await,
        }
    });
    // Tasks still running (a cut download, a blocking job) do not hold the process.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Quiet>().is_some() => ExitCode::FAILURE,
        Err(e) => {
            tracing::error!("{e:#}");
            drop(log_guard.take());
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    drop(log_guard);
    code
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = crate::db::Database::open(&config).await?;
    println!("migrations applied");
    db.shutdown().await;
    Ok(())
}

/// Ends a command that wrote audit events: takes a checkpoint of the head (when the chain
/// grew), so that verification does not find events waiting for one, then closes the
/// database.
async fn finish(db: crate::db::Database, config: &Config) {
    let signer = config.checkpointer();
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    match crate::audit::checkpoint::create(&db.pool, &signer, now, "command", true).await {
        Ok(_) => {}
        // Nothing is written that a later verification must fail on: the service's next
        // signed checkpoint covers the command's events.
        Err(e @ crate::audit::checkpoint::CheckpointError::KeyMissing { .. }) => eprintln!(
            "note: no audit checkpoint was taken after the command ({e}); the service's next signed checkpoint covers its events"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "no audit checkpoint after the command; the service takes one at its next interval")
        }
    }
    db.shutdown().await;
}

/// An error already reported to the user; exit non-zero without another message.
#[derive(Debug, thiserror::Error)]
#[error("reported")]
struct Quiet;

async fn user_add(
    config: Config,
    email: String,
    name: String,
    role: String,
    password_stdin: bool,
    generate: bool,
) -> anyhow::Result<()> {
    use crate::accounts::password;
    let (secret, must_change) = if generate {
        (password::generate(), true)
    } else if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ; nothing was created");
        (first, false)
    };
    let input = match crate::accounts::model::NewUser::parse(&email, &name, &role, &secret) {
        Ok(i) => i,
        Err(errors) => {
            for e in errors {
                eprintln!("{}: {}", e.field, e.message);
            }
            return Err(Quiet.into());
        }
    };
    let db = crate::db::Database::open(&config).await?;
    let ctx = crate::audit::AuditContext {
        actor_role: Some("system".into()),
        request_id: Some("cli:user-add".into()),
        ..Default::default()
    };
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let result = crate::accounts::service::create_user(&db.pool, now, &ctx, input, must_change).await;
    finish(db, &config).await;
    match result {
        Ok(user) => {
            println!("created {} ({}, {}) id {}", user.email, user.name, user.role, user.id);
            if generate {
                println!("temporary password (shown once; must be changed at first sign-in): {secret}");
            }
            Ok(())
        }
        Err(crate::error::DomainError::Invalid(errors)) => {
            for e in errors {
                eprintln!("{}: {}", e.field, e.message);
            }
            Err(Quiet.into())
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

async fn audit_verify(
    config: Config,
    public_key: Option<std::path::PathBuf>,
    witness: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let expected = match &public_key {
        Some(p) => Some(crate::audit::checkpoint::load_public_key(p).map_err(anyhow::Error::msg)?),
        None => config.audit_signing_key.as_ref().map(|k| k.verifying_key()),
    };
    let db = crate::db::Database::open(&config).await?;
    let verdict = crate::audit::verify(&db.pool).await;
    let want = crate::audit::checkpoint::Expectations {
        key: expected.as_ref(),
        file: config.audit_checkpoint_file.as_deref(),
        interval: Some(config.audit_checkpoint_interval),
        now: crate::clock::Clock::now(&crate::clock::SystemClock),
    };
    let report = crate::audit::checkpoint::verify_all(&db.pool, want).await;
    let witnessed = match &witness {
        Some(path) => Some(crate::audit::witness::check(&db.pool, path, expected.as_ref()).await),
        None => None,
    };
    db.shutdown().await;
    let (verdict, report) = (verdict?, report?);
    let witnessed = witnessed.transpose()?;
    println!("{verdict}");
    println!(
        "checkpoints: {} checked, {} with a valid signature{}",
        report.checked,
        report.signed,
        if expected.is_none() { " (no public key given: signatures checked against the keys they carry)" } else { "" }
    );
    for p in &report.problems {
        println!("CHECKPOINT PROBLEM: {p}");
    }
    if let Some(w) = &witnessed {
        println!(
            "witness: {} event(s) up to {} and {} checkpoint(s) held by the collector",
            w.events, w.newest, w.checkpoints
        );
        for p in &w.problems {
            println!("WITNESS PROBLEM: {p}");
        }
        if w.unnamed() > 0 {
            println!("WITNESS PROBLEM: … and {} more", w.unnamed());
        }
    }
    match verdict {
        crate::audit::Verdict::Ok { .. }
            if report.problems.is_empty() && witnessed.as_ref().is_none_or(|w| w.holds()) =>
        {
            Ok(())
        }
        _ => Err(Quiet.into()),
    }
}

async fn seed_synthetic(config: Config, cases: u64, events: u64, declarations: u64) -> anyhow::Result<()> {
    let db = crate::db::Database::open(&config).await?;
    let started = std::time::Instant::now();
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let result = crate::synthetic::load(&db.pool, cases, events, declarations, progress).await;
    finish(db, &config).await;
    let s = result?;
    println!(
        "synthetic office loaded in {:.1} s: {} cases, {} parties, {} notes, {} assessments, {} signed determinations, {} filers with {} declarations, {} audit events, {} accounts",
        started.elapsed().as_secs_f64(),
        s.cases,
        s.parties,
        s.notes,
        s.assessments,
        s.determinations,
        s.filers,
        s.declarations,
        s.events,
        s.users
    );
    Ok(())
}

async fn audit_checkpoint(config: Config) -> anyhow::Result<()> {
    let db = crate::db::Database::open(&config).await?;
    let signer = config.checkpointer();
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let cp = crate::audit::checkpoint::create(&db.pool, &signer, now, "manual", false).await;
    db.shutdown().await;
    let cp = cp?.expect("always written");
    if let Some(e) = signer.status.state().last_error {
        anyhow::bail!("the checkpoint at event {} is in the database, but {e}", cp.seq);
    }
    println!(
        "checkpoint at event {} {} {}",
        cp.seq,
        cp.hash,
        if cp.signature.is_some() { "signed" } else { "UNSIGNED (no --audit-signing-key)" }
    );
    Ok(())
}

async fn audit_export(
    config: Config,
    from: Option<String>,
    to: Option<String>,
    format: String,
    out: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let query = crate::audit::web::EventQuery { from, to, ..Default::default() };
    let filter = query.to_filter().map_err(|e| anyhow::anyhow!("{}", crate::error::FieldError::join(&e)))?;
    let format =
        crate::audit::export::Format::parse(&format).ok_or_else(|| anyhow::anyhow!("--format: use ndjson or csv"))?;
    let db = crate::db::Database::open(&config).await?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let ctx = crate::audit::AuditContext {
        actor_role: Some("system".into()),
        request_id: Some("cli:audit-export".into()),
        ..Default::default()
    };
    let event = crate::audit::NewEvent::new(EventType::AuditExported).changes(serde_json::json!({
        "from": filter.from, "to": filter.to, "format": format.extension(), "via": "command line",
    }));
    crate::audit::record_alone(&db.pool, now, &ctx, event).await?;
    let mut sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // A file takes what it is given: no stall limit worth the name, one read turn.
    let exports = crate::audit::export::Exports::new(4, std::time::Duration::from_secs(24 * 3600));
    let export =
        crate::audit::export::LogExport::open(db.pool.clone(), exports.clone(), filter.from, filter.to, format)
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the export: {e:?}"))?;
    let (out, mut download) = crate::audit::export::download(exports.stall);
    let producer = tokio::spawn(async move {
        let (out, r) = export.run(out).await;
        match r {
            Ok(()) => Ok(out.finish()),
            Err(cut) => {
                out.fail("the export stopped");
                Err(cut)
            }
        }
    });
    let mut result = Ok(());
    while let Some(chunk) = download.next().await {
        match chunk {
            Ok(bytes) => sink.write_all(&bytes)?,
            Err(e) => {
                result = Err(anyhow::anyhow!("{e}"));
                break;
            }
        }
    }
    if let Ok(Err(cut)) = producer.await {
        result = Err(anyhow::anyhow!("the export stopped: {cut:?}"));
    }
    sink.flush()?;
    drop(sink);
    db.shutdown().await;
    result
}

fn verify_export(file: std::path::PathBuf, public_key: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let expected = match &public_key {
        Some(p) => Some(crate::audit::checkpoint::load_public_key(p).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    // A dossier zip: its dossier.json, and every other file against the signed parts.
    let report = if bytes.starts_with(b"PK") {
        crate::dossier::verify_zip(&bytes, expected.as_ref())
    } else {
        crate::dossier::verify(&bytes, expected.as_ref())
    };
    for line in &report.ok {
        println!("ok: {line}");
    }
    for line in &report.problems {
        println!("PROBLEM: {line}");
    }
    if report.holds() {
        println!("VERIFIED {}", file.display());
        Ok(())
    } else {
        println!("NOT VERIFIED {}: {} problem(s)", file.display(), report.problems.len());
        Err(Quiet.into())
    }
}

async fn import_transactions(config: Config, file: std::path::PathBuf, as_user: Option<String>) -> anyhow::Result<()> {
    use crate::cases::{import, reference::Reference};
    let started = std::time::Instant::now();
    let reader = std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let db = crate::db::Database::open(&config).await?;
    let result = async {
        let now = crate::clock::Clock::now(&crate::clock::SystemClock);
        let reference = Reference::load(&db.pool).await?;
        let user: Option<(crate::ids::UserId, crate::access::Role)> = match &as_user {
            Some(email) => Some(
                crate::accounts::db::active_by_email(&db.pool, email)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("--as: no active account {email}"))?,
            ),
            None => None,
        };
        let spinner = indicatif::ProgressBar::new_spinner().with_message(format!("checking {}", file.display()));
        let mut parsed = import::parse_all(std::io::BufReader::new(reader), &reference, crate::dates::today(now));
        import::check_dockets(&mut *db.pool.acquire().await?, &mut parsed).await?;
        let rows = match if parsed.errors.is_empty() { Ok(parsed.rows) } else { Err(parsed.errors) } {
            Ok(rows) => rows,
            Err(errors) => {
                spinner.finish_and_clear();
                for e in errors.iter().take(1000) {
                    eprintln!("{e}");
                }
                if errors.len() > 1000 {
                    eprintln!("... and {} more", errors.len() - 1000);
                }
                eprintln!("{} problem(s); nothing was loaded", errors.len());
                return Err(Quiet.into());
            }
        };
        spinner.finish_and_clear();
        let bar = indicatif::ProgressBar::new(rows.len() as u64).with_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed_precise}")
                .expect("valid progress template"),
        );
        let ctx = crate::audit::AuditContext {
            actor_id: user.map(|u| u.0),
            actor_role: Some(user.map(|u| u.1.as_str()).unwrap_or("system").to_string()),
            request_id: Some(format!("cli:import:{}", file.display())),
            ..Default::default()
        };
        let mut tx = db.pool.begin().await?;
        let progress = {
            let bar = bar.clone();
            move |n: usize| bar.set_position(n as u64)
        };
        match import::load(&mut tx, now, &ctx, user.map(|u| u.0), rows, config.screening_threshold, &progress).await {
            Ok(report) => {
                tx.commit().await?;
                bar.finish_and_clear();
                println!(
                    "loaded {} rows: {} cases opened, {} cases joined, {} parties registered ({:.1} s)",
                    report.rows,
                    report.cases_opened,
                    report.cases_joined,
                    report.parties_created,
                    started.elapsed().as_secs_f64()
                );
                Ok(())
            }
            Err(import::ImportError::Rows(errors)) => {
                bar.finish_and_clear();
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} problem(s); nothing was loaded", errors.len());
                Err(Quiet.into())
            }
            Err(import::ImportError::Db(e)) => Err(e.into()),
        }
    }
    .await;
    finish(db, &config).await;
    result
}

async fn seed_demo(config: Config) -> anyhow::Result<()> {
    let db = crate::db::Database::open(&config).await?;
    let result = crate::seed::demo(db.pool.clone(), &config).await;
    finish(db, &config).await;
    let accounts = result?;
    println!("Demo office ready. One-time passwords (each must be changed at first sign-in):");
    for a in accounts {
        println!("  {:<10} {:<36} {}", a.role.as_str(), a.email, a.password);
    }
    Ok(())
}

async fn screening_import(config: Config, file: std::path::PathBuf) -> anyhow::Result<()> {
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let db = crate::db::Database::open(&config).await?;
    let state = crate::app::AppState::new(db.pool.clone(), &config);
    let ctx = crate::audit::AuditContext {
        actor_role: Some("system".into()),
        request_id: Some(format!("cli:screening-import:{}", file.display())),
        ..Default::default()
    };
    let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let result = crate::parties::screening_service::import_list(
        &mut *state.conn().await?,
        state.now(),
        &ctx,
        None,
        &name,
        &bytes,
        state.screening.threshold,
    )
    .await;
    finish(db, &config).await;
    match result {
        Ok((version, parties, cases)) => {
            println!("list version {version} imported: {parties} parties with new hits, {cases} open cases flagged");
            Ok(())
        }
        Err(crate::error::DomainError::Invalid(errors)) => {
            for e in errors {
                eprintln!("{}: {}", e.field, e.message);
            }
            eprintln!("nothing was imported");
            Err(Quiet.into())
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}
