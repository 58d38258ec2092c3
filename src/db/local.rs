//! The built-in database: a private PostgreSQL cluster in the data folder.
//!
//! When no `DATABASE_URL` is configured the service runs its own cluster: created with
//! `initdb` on first start, kept between runs, started and stopped with the service. It
//! listens only on a unix socket in a folder only its owner can enter, so it needs no
//! password. When this process runs as root the server binaries run as the `postgres`
//! system user, because PostgreSQL refuses to run as root.
//!
//! The same code gives the test harness its throwaway cluster (fsync off, temp folder).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::postgres::PgConnectOptions;

/// The TCP port number PostgreSQL uses to name its socket file (`.s.PGSQL.5432`).
const SOCKET_PORT: u16 = 5432;
/// Longest socket path the kernel accepts, less room for the file name.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// Why the built-in database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LocalDbError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "no DATABASE_URL is set and no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found on PATH, \
         through `pg_config --bindir` or under /usr/lib/postgresql/*/bin; install the PostgreSQL server \
         (Debian/Ubuntu: apt-get install postgresql), pass --pg-bin-dir / ICTS_PG_BIN_DIR, or set DATABASE_URL"
    )]
    BinariesNotFound,
    /// The configured binary folder lacks a needed program.
    #[error("--pg-bin-dir / ICTS_PG_BIN_DIR: {0} does not contain initdb, pg_ctl and postgres")]
    BadBinDir(PathBuf),
    /// Running as root but there is no `postgres` user to run the server as.
    #[error(
        "running as root, but there is no `postgres` system user to run the database server as; create one or run as another user"
    )]
    NoPostgresUser,
    /// The socket path would be too long for the kernel.
    #[error("the data folder path {0} is too long for a unix socket; use a shorter --data-dir / ICTS_DATA_DIR")]
    PathTooLong(PathBuf),
    /// A file-system step failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A server program failed.
    #[error("{program} failed: {detail}")]
    Command {
        /// The program that failed.
        program: String,
        /// Its exit status and output.
        detail: String,
    },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> LocalDbError + 'a {
    move |source| LocalDbError::Io { what, path: path.to_path_buf(), source }
}

/// Where the PostgreSQL server programs live.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    dir: PathBuf,
}

impl PgBinaries {
    /// Finds the server binaries: the explicit folder if given, else `PATH`, else
    /// `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
    pub fn discover(explicit: Option<&Path>) -> Result<Self, LocalDbError> {
        if let Some(dir) = explicit {
            return if Self::complete(dir) {
                Ok(Self { dir: dir.to_path_buf() })
            } else {
                Err(LocalDbError::BadBinDir(dir.to_path_buf()))
            };
        }
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let initdb = dir.join("initdb");
                if initdb.is_file() {
                    // Debian links the programs into /usr/local/bin or /usr/bin; follow the
                    // link to the folder that holds all of them.
                    if let Some(parent) = fs::canonicalize(&initdb).ok().as_deref().and_then(Path::parent) {
                        candidates.push(parent.to_path_buf());
                    }
                    candidates.push(dir);
                }
            }
        }
        let pg_config = Command::new("pg_config").arg("--bindir").stderr(Stdio::null()).output();
        if let Some(out) = pg_config.ok().filter(|o| o.status.success()) {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !dir.is_empty() {
                candidates.push(PathBuf::from(dir));
            }
        }
        if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
            let mut versions: Vec<(u32, PathBuf)> = entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((v, e.path().join("bin")))
                })
                .collect();
            versions.sort_by_key(|v| std::cmp::Reverse(v.0));
            candidates.extend(versions.into_iter().map(|(_, p)| p));
        }
        candidates.into_iter().find(|d| Self::complete(d)).map(|dir| Self { dir }).ok_or(LocalDbError::BinariesNotFound)
    }

    fn complete(dir: &Path) -> bool {
        ["initdb", "pg_ctl", "postgres"].iter().all(|p| dir.join(p).is_file())
    }

    /// The folder holding the programs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Durability settings of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync, synchronous commit and full-page writes on: what the service runs with.
    Full,
    /// All three off: for throwaway test clusters only.
    Throwaway,
}

/// The system user the server programs run as when this process is root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: nix::unistd::Uid,
    gid: nix::unistd::Gid,
}

/// A private PostgreSQL cluster under a folder of ours.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    bins: PgBinaries,
    root: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<RunAs>,
    durability: Durability,
}

impl LocalCluster {
    /// Lays out the cluster under `root` (creating `root/postgres` with `initdb` when it is
    /// new) and writes its settings. Does not start it.
    pub fn prepare(bins: PgBinaries, root: &Path, durability: Durability) -> Result<Self, LocalDbError> {
        fs::create_dir_all(root).map_err(io_err("cannot create folder", root))?;
        let root = fs::canonicalize(root).map_err(io_err("cannot resolve folder", root))?;
        let pgdata = root.join("postgres");
        let socket_dir = root.join("run");
        if socket_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            return Err(LocalDbError::PathTooLong(root));
        }
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres").ok().flatten().ok_or(LocalDbError::NoPostgresUser)?;
            Some(RunAs { uid: user.uid, gid: user.gid })
        } else {
            None
        };
        let cluster = LocalCluster { bins, root, pgdata, socket_dir, run_as, durability };
        cluster.make_private_dir(&cluster.socket_dir)?;
        if !cluster.pgdata.join("PG_VERSION").is_file() {
            cluster.initdb()?;
        }
        cluster.write_settings()?;
        Ok(cluster)
    }

    /// The cluster's data directory (`PGDATA`).
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// The folder holding the cluster (the service's data folder, or a temp folder).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder holding the server's socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server log file.
    pub fn log_file(&self) -> PathBuf {
        self.pgdata.join("server.log")
    }

    fn make_private_dir(&self, dir: &Path) -> Result<(), LocalDbError> {
        fs::create_dir_all(dir).map_err(io_err("cannot create folder", dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("cannot set permissions of", dir))?;
        if let Some(run_as) = self.run_as {
            nix::unistd::chown(dir, Some(run_as.uid), Some(run_as.gid)).map_err(|e| LocalDbError::Io {
                what: "cannot give the postgres user the folder",
                path: dir.to_path_buf(),
                source: e.into(),
            })?;
        }
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bins.program(program));
        // Run from inside the cluster so that a current folder the postgres user cannot
        // enter does not matter; keep the server out of our terminal's process group.
        cmd.current_dir(&self.root).stdin(Stdio::null()).env_remove("PGDATA").env("LC_ALL", "C");
        if let Some(run_as) = self.run_as {
            cmd.uid(run_as.uid.as_raw()).gid(run_as.gid.as_raw());
        }
        cmd
    }

    fn run(&self, program: &str, mut cmd: Command) -> Result<Output, LocalDbError> {
        let out = cmd.output().map_err(|e| LocalDbError::Command { program: program.into(), detail: e.to_string() })?;
        if out.status.success() {
            Ok(out)
        } else {
            let mut detail = format!("{}", out.status);
            let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
            let text = text.trim();
            if !text.is_empty() {
                detail.push_str(": ");
                detail.push_str(
                    &text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | "),
                );
            }
            Err(LocalDbError::Command { program: program.into(), detail })
        }
    }

    fn initdb(&self) -> Result<(), LocalDbError> {
        tracing::info!(pgdata = %self.pgdata.display(), "creating the built-in database cluster");
        // initdb wants to create the folder itself, or find it empty.
        if self.pgdata.exists() {
            let empty = fs::read_dir(&self.pgdata).map_err(io_err("cannot read", &self.pgdata))?.next().is_none();
            if !empty {
                return Err(LocalDbError::Command {
                    program: "initdb".into(),
                    detail: format!(
                        "{} exists, is not empty and holds no cluster; move it away",
                        self.pgdata.display()
                    ),
                });
            }
        }
        self.make_private_dir(&self.pgdata)?;
        let mut cmd = self.command("initdb");
        cmd.arg("--pgdata").arg(&self.pgdata).args([
            "--username=postgres",
            "--encoding=UTF8",
            "--no-locale",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]);
        if self.durability == Durability::Throwaway {
            cmd.arg("--no-sync");
        }
        self.run("initdb", cmd)?;
        let conf = self.pgdata.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(io_err("cannot read", &conf))?;
        text.push_str("\n# Settings of the icts-review built-in database, rewritten at every start.\ninclude_if_exists = 'icts-review.conf'\n");
        fs::write(&conf, text).map_err(io_err("cannot write", &conf))?;
        Ok(())
    }

    fn write_settings(&self) -> Result<(), LocalDbError> {
        let quoted = self.socket_dir.to_string_lossy().replace('\'', "''");
        let on_off = |b: bool| if b { "on" } else { "off" };
        let full = self.durability == Durability::Full;
        let text = format!(
            "# Written by icts-review at every start; edits are overwritten.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{quoted}'\n\
             unix_socket_permissions = 0700\n\
             port = {SOCKET_PORT}\n\
             max_connections = 200\n\
             fsync = {f}\n\
             synchronous_commit = {f}\n\
             full_page_writes = {f}\n\
             logging_collector = off\n\
             log_min_messages = warning\n\
             timezone = 'UTC'\n",
            f = on_off(full)
        );
        let path = self.pgdata.join("icts-review.conf");
        fs::write(&path, text).map_err(io_err("cannot write", &path))?;
        if let Some(run_as) = self.run_as {
            let _ = nix::unistd::chown(&path, Some(run_as.uid), Some(run_as.gid));
        }
        Ok(())
    }

    /// Whether a server is running on this cluster (started by us or left by an earlier run).
    pub fn is_running(&self) -> bool {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("status").arg("--pgdata").arg(&self.pgdata).stdout(Stdio::null()).stderr(Stdio::null());
        cmd.status().map(|s| s.success()).unwrap_or(false)
    }

    /// Starts the server and waits until it accepts connections. A server already running
    /// on this cluster (say, after this process was killed) is kept.
    /// Returns whether this call started it.
    pub fn start(&self) -> Result<bool, LocalDbError> {
        if self.is_running() {
            tracing::info!(pgdata = %self.pgdata.display(), "the built-in database is already running; using it");
            return Ok(false);
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("start").arg("--pgdata").arg(&self.pgdata).arg("--log").arg(self.log_file()).args([
            "--wait",
            "--timeout=120",
            "--silent",
        ]);
        // pg_ctl puts the server in a session of its own, so a Ctrl-C at our terminal
        // reaches only us; we then stop the server cleanly after draining requests.
        self.run("pg_ctl start", cmd).map_err(|e| match e {
            LocalDbError::Command { program, detail } => LocalDbError::Command {
                program,
                detail: format!("{detail} (server log: {})", self.log_file().display()),
            },
            other => other,
        })?;
        Ok(true)
    }

    /// Stops the server cleanly (fast shutdown: sessions end, everything is flushed).
    pub fn stop(&self) -> Result<(), LocalDbError> {
        if !self.is_running() {
            return Ok(());
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop").arg("--pgdata").arg(&self.pgdata).args(["--mode=fast", "--wait", "--timeout=60", "--silent"]);
        self.run("pg_ctl stop", cmd).map(|_| ())
    }

    /// Connection options for a database of this cluster, as the `postgres` superuser.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.socket_dir).port(SOCKET_PORT).username("postgres").database(database)
    }

    /// A `postgres://` URL for a database of this cluster (socket given as `host`).
    pub fn url(&self, database: &str) -> String {
        let host: String = url::form_urlencoded::byte_serialize(self.socket_dir.to_string_lossy().as_bytes()).collect();
        format!("postgres://postgres@localhost:{SOCKET_PORT}/{database}?host={host}")
    }

    /// The process id of the running server, if any.
    pub fn server_pid(&self) -> Option<i32> {
        let text = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }
}
