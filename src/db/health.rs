//! Watching the database: whether it answers, and for the built-in one, keeping it running.
//!
//! One task ([`spawn_watch`]) pings the database over a connection of its own (never one of
//! the pool's, so a saturated pool is not mistaken for a dead database) and, when the
//! service runs its built-in cluster, checks every quarter of a second that the postmaster
//! is alive. When it is gone the task restarts it with backoff, logging every attempt. The
//! state it keeps ([`DbHealth`]) lets requests fail at once with 503 while the database is
//! away instead of waiting for the pool's acquire timeout, and feeds `/readyz`.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use super::local::LocalCluster;

/// How often the watcher looks while the database is up.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// How often the database is pinged while it is up (the postmaster check runs every tick).
const PING_EVERY: Duration = Duration::from_secs(1);
/// How long a ping may take before the database counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// Waits between restart attempts of the built-in database: short at first, never longer
/// than two seconds, so the service serves again soon after the database can start.
const RESTART_BACKOFF: [Duration; 5] = [
    Duration::from_millis(0),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// What the watcher knows about the database, shared with every request.
#[derive(Debug)]
pub struct DbHealth {
    up: AtomicBool,
    /// Wakes requests waiting for a connection when the database is found gone.
    went_down: tokio::sync::Notify,
    restarts: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    since: Instant,
    last_error: Option<String>,
    last_ping: Option<Duration>,
}

/// A snapshot of [`DbHealth`] for `/readyz`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DbStatus {
    /// Whether the database answered the last ping.
    pub reachable: bool,
    /// Seconds in the current state.
    pub for_secs: u64,
    /// How long the last successful ping took, in milliseconds.
    pub ping_ms: Option<f64>,
    /// Why it is unreachable, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Times the built-in database was restarted by the watcher since the service started.
    pub restarts: u64,
}

impl Default for DbHealth {
    fn default() -> Self {
        DbHealth {
            up: AtomicBool::new(true),
            went_down: tokio::sync::Notify::new(),
            restarts: AtomicU64::new(0),
            inner: Mutex::new(Inner { since: Instant::now(), last_error: None, last_ping: None }),
        }
    }
}

impl DbHealth {
    /// A shared health record, starting as "up" (the service opened the database to start).
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Whether requests may use the database.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Records a successful ping.
    pub fn mark_up(&self, ping: Duration) {
        let mut inner = self.inner.lock().expect("health lock");
        if !self.up.swap(true, Ordering::AcqRel) {
            let down_for = inner.since.elapsed();
            inner.since = Instant::now();
            tracing::info!(down_for_ms = down_for.as_millis() as u64, "the database answers again; serving");
        }
        inner.last_error = None;
        inner.last_ping = Some(ping);
    }

    /// Records that the database is unreachable, and why.
    pub fn mark_down(&self, why: impl Into<String>) {
        let why = why.into();
        let mut inner = self.inner.lock().expect("health lock");
        if self.up.swap(false, Ordering::AcqRel) {
            inner.since = Instant::now();
            tracing::error!(reason = %why, "the database is unreachable; requests that need it are answered 503 until it is back");
            self.went_down.notify_waiters();
        }
        inner.last_error = Some(why);
    }

    /// Runs `work` (which waits for the database) unless the database is found gone first:
    /// then `None`, at once, instead of waiting out the pool's acquire timeout.
    pub async fn unless_down<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let down = self.went_down.notified();
        tokio::pin!(down);
        down.as_mut().enable();
        if !self.is_up() {
            return None;
        }
        tokio::select! {
            r = work => Some(r),
            _ = down => None,
        }
    }

    /// A snapshot for `/readyz`.
    pub fn status(&self) -> DbStatus {
        let inner = self.inner.lock().expect("health lock");
        DbStatus {
            reachable: self.is_up(),
            for_secs: inner.since.elapsed().as_secs(),
            ping_ms: inner.last_ping.map(|d| (d.as_secs_f64() * 10_000.0).round() / 10.0),
            error: inner.last_error.clone(),
            restarts: self.restarts.load(Ordering::Relaxed),
        }
    }
}

/// Whether the built-in cluster's postmaster process is alive (its pid file names a live
/// process, not one that died and waits to be reaped).
fn postmaster_alive(cluster: &LocalCluster) -> bool {
    let Some(pid) = cluster.server_pid() else { return false };
    let exists = match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        // A process we may not signal still exists.
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    };
    exists && !is_zombie(pid)
}

/// Whether `pid` has exited and not been reaped yet (state `Z` or `X` in `/proc/PID/stat`).
fn is_zombie(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    // The state follows the command name, which is in parentheses and may hold spaces.
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|s| s == "Z" || s == "X")
}

/// Pings over `conn`, opening it first when needed. Returns the round trip.
async fn ping(conn: &mut Option<PgConnection>, options: &PgConnectOptions) -> Result<Duration, String> {
    let started = Instant::now();
    let attempt = async {
        if conn.is_none() {
            *conn = Some(options.connect().await?);
        }
        let c = conn.as_mut().expect("opened above");
        c.ping().await
    };
    match tokio::time::timeout(PING_TIMEOUT, attempt).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(e)) => {
            *conn = None;
            Err(e.to_string())
        }
        Err(_) => {
            *conn = None;
            Err(format!("no answer within {} s", PING_TIMEOUT.as_secs()))
        }
    }
}

/// Starts the watcher. `cluster` is the built-in cluster when this service runs it (then a
/// dead postmaster is restarted); `options` connect to the application database. Runs
/// until aborted.
pub fn spawn_watch(
    health: Arc<DbHealth>,
    options: PgConnectOptions,
    cluster: Option<LocalCluster>,
) -> tokio::task::JoinHandle<()> {
    let options = options.log_statements(tracing::log::LevelFilter::Off);
    tokio::spawn(async move {
        // Two loops in one task (so aborting the task stops both): the postmaster check,
        // which is cheap and runs every tick, and the ping, which may wait for its timeout.
        let postmaster = async {
            let Some(cluster) = &cluster else { return std::future::pending::<()>().await };
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                if !postmaster_alive(cluster) {
                    health.mark_down("the built-in database server stopped");
                    restart(&health, cluster).await;
                }
            }
        };
        let pinger = async {
            let mut conn: Option<PgConnection> = None;
            loop {
                let wait = if health.is_up() { PING_EVERY } else { WATCH_EVERY };
                tokio::time::sleep(wait).await;
                match ping(&mut conn, &options).await {
                    // A backend left by a dead postmaster may still answer: only a live
                    // server counts.
                    Ok(took) if cluster.as_ref().is_none_or(postmaster_alive) => health.mark_up(took),
                    Ok(_) => conn = None,
                    Err(e) => health.mark_down(e),
                }
            }
        };
        tokio::join!(postmaster, pinger);
    })
}

/// Restarts the built-in cluster until it runs, waiting longer between attempts (at most
/// two seconds), and logging every attempt.
async fn restart(health: &DbHealth, cluster: &LocalCluster) {
    let mut attempt = 0usize;
    loop {
        let wait = RESTART_BACKOFF[attempt.min(RESTART_BACKOFF.len() - 1)];
        tokio::time::sleep(wait).await;
        attempt += 1;
        tracing::warn!(attempt, pgdata = %cluster.pgdata().display(), "the built-in database is not running; starting it");
        // A server that died and was not reaped (its parent is init, which may be slow or,
        // in some containers, never reap) still answers `kill(pid, 0)`, and PostgreSQL
        // would take its lock file as held: it is dead, so the lock file goes.
        if let Some(pid) = cluster.server_pid()
            && is_zombie(pid)
        {
            let lock = cluster.pgdata().join("postmaster.pid");
            match std::fs::remove_file(&lock) {
                Ok(()) => tracing::warn!(pid, "removed the lock file of the dead database server"),
                Err(e) => tracing::error!(pid, error = %e, "cannot remove the dead database server's lock file"),
            }
        }
        let c = cluster.clone();
        match tokio::task::spawn_blocking(move || c.start()).await {
            // The dead server's process is not reaped yet, so it still looks running (and
            // PostgreSQL would refuse its lock file): wait for it to go.
            Ok(Ok(false)) if !postmaster_alive(cluster) => {
                tracing::warn!(attempt, "the dead database server is not gone yet; waiting");
            }
            Ok(Ok(_)) => {
                health.restarts.fetch_add(1, Ordering::Relaxed);
                tracing::info!(attempt, "the built-in database was started again");
                return;
            }
            Ok(Err(e)) => {
                tracing::error!(attempt, error = %e, "starting the built-in database failed; will try again");
                health.mark_down(format!("restarting the built-in database failed: {e}"));
            }
            Err(e) => tracing::error!(attempt, error = %e, "the restart task failed; will try again"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_moves_between_up_and_down_and_says_why() {
        let h = DbHealth::default();
        assert!(h.is_up());
        h.mark_down("connection refused");
        assert!(!h.is_up());
        let s = h.status();
        assert!(!s.reachable);
        assert_eq!(s.error.as_deref(), Some("connection refused"));
        h.mark_up(Duration::from_millis(3));
        let s = h.status();
        assert!(s.reachable && s.error.is_none());
        assert_eq!(s.ping_ms, Some(3.0));
    }

    #[tokio::test]
    async fn waiting_for_the_database_ends_when_it_is_found_gone() {
        let h = std::sync::Arc::new(DbHealth::default());
        assert_eq!(h.unless_down(async { 7 }).await, Some(7));
        let waiting = {
            let h = h.clone();
            tokio::spawn(async move { h.unless_down(std::future::pending::<()>()).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        h.mark_down("gone");
        assert_eq!(waiting.await.unwrap(), None, "the waiter is released");
        assert_eq!(h.unless_down(async { 7 }).await, None, "nothing waits while it is down");
    }

    #[test]
    fn restart_backoff_stays_short() {
        let total: Duration = RESTART_BACKOFF.iter().sum();
        assert!(total < Duration::from_secs(5), "the first five attempts fit in the 10 s the service has to come back");
        assert!(RESTART_BACKOFF.windows(2).all(|w| w[0] <= w[1]), "waits only grow");
    }
}
