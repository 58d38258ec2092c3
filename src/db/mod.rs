//! The database: connection pool, migrations, and the built-in local PostgreSQL. It takes
//! its settings ([`Settings`], [`PoolSettings`]) from whoever opens it and reads no
//! configuration, so the modules below the domains that use its pages and totals do not
//! reach the configuration (which names the audit log's and the mail's settings) through it.

pub mod health;
pub mod keyset;
pub mod local;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use local::{Durability, LocalCluster, LocalDbError, PgBinaries};

/// Name of the application database inside the built-in cluster.
pub const LOCAL_DATABASE: &str = "icts_review";

/// The embedded migrations (folder `migrations/`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How many rows a list holds: exact up to [`Total::CAP`], "more than" beyond, so a total
/// costs at most that many index entries however large the table grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "count")]
pub enum Total {
    /// Exactly this many.
    Exact(i64),
    /// More than this many (the cap).
    MoreThan(i64),
}

impl Total {
    /// Rows counted exactly.
    pub const CAP: i64 = 10_000;

    /// Rows the home page's short lists count exactly (their full lists count to [`CAP`]).
    pub const HOME_CAP: i64 = 1_000;

    /// The total from a count that stopped at `CAP + 1`.
    pub fn counted(n: i64) -> Total {
        Total::counted_to(n, Total::CAP)
    }

    /// The total from a count that stopped at `cap + 1`.
    pub fn counted_to(n: i64, cap: i64) -> Total {
        if n > cap { Total::MoreThan(cap) } else { Total::Exact(n) }
    }

    /// Whether nothing matched.
    pub fn is_zero(self) -> bool {
        self == Total::Exact(0)
    }

    /// In words: `1 case`, `37 cases`, `more than 10,000 cases`.
    pub fn describe(self, one: &str, many: &str) -> String {
        match self {
            Total::Exact(1) => format!("1 {one}"),
            Total::Exact(n) => format!("{} {many}", thousands(n)),
            Total::MoreThan(n) => format!("more than {} {many}", thousands(n)),
        }
    }
}

/// One page of a list read by keyset, with the cursors of the pages on either side (none
/// where the list ends). A cursor names a row: its sort key and id, `key~id`.
#[derive(Debug)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub rows: Vec<T>,
    /// Pass as the cursor of the next page.
    pub next: Option<String>,
    /// Pass as `before` for the page before.
    pub prev: Option<String>,
}

impl<T> Page<T> {
    /// The page from `limit + 1` rows read from a cursor (`from_cursor`), forwards in the
    /// list's order, or backwards (nearest the cursor first) when `backwards`.
    pub fn from_read(
        mut rows: Vec<T>,
        limit: i64,
        from_cursor: bool,
        backwards: bool,
        cursor: impl Fn(&T) -> String,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        if backwards {
            rows.reverse();
            let prev = if more { rows.first().map(&cursor) } else { None };
            let next = rows.last().map(&cursor);
            Page { rows, next, prev }
        } else {
            let next = if more { rows.last().map(&cursor) } else { None };
            let prev = if from_cursor { rows.first().map(&cursor) } else { None };
            Page { rows, next, prev }
        }
    }
}

/// The page size a list's query asks for: 1 to 200, 50 when not given; a bad one is named.
pub fn page_size(value: Option<&str>, errors: &mut Vec<crate::error::FieldError>) -> i64 {
    match value {
        None => 50,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                errors.push(crate::error::FieldError::new("limit", "must be a whole number from 1 to 200"));
                50
            }
        },
    }
}

/// Where a list's page starts: after `cursor`, or before `before` (the page before it),
/// each a cursor that `valid` reads; a bad one, or both at once, is named. Returns the
/// cursor's key and id and whether to read backwards.
pub fn keyset_args(
    cursor: Option<&str>,
    before: Option<&str>,
    valid: impl Fn(&str) -> Option<(String, uuid::Uuid)>,
    errors: &mut Vec<crate::error::FieldError>,
) -> (Option<(String, uuid::Uuid)>, bool) {
    use crate::error::FieldError;
    match (cursor, before) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new("before", "cannot be given with cursor: give one of them"));
            (None, false)
        }
        (Some(c), None) => match valid(c) {
            Some(after) => (Some(after), false),
            None => {
                errors.push(FieldError::new("cursor", "must be the next page's link from a previous page"));
                (None, false)
            }
        },
        (None, Some(c)) => match valid(c) {
            Some(before) => (Some(before), true),
            None => {
                errors.push(FieldError::new("before", "must be the previous page's link from a later page"));
                (None, false)
            }
        },
        (None, None) => (None, false),
    }
}

/// The key and id of a cursor `key~id` (the key may itself hold `~`).
pub fn parse_cursor(cursor: &str) -> Option<(String, uuid::Uuid)> {
    let (key, id) = cursor.rsplit_once('~')?;
    Some((key.to_string(), uuid::Uuid::parse_str(id).ok()?))
}

/// The `ILIKE` pattern that finds `q` anywhere in a text, its wildcards taken literally.
pub fn contains_pattern(q: &str) -> String {
    format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// `12345` as `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The built-in database could not be set up.
    #[error(transparent)]
    Local(#[from] LocalDbError),
    /// Connecting or querying failed.
    #[error("database {target}: {source}")]
    Sql {
        /// The database, with any password removed.
        target: String,
        /// The underlying error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// An open database: the pool, and the built-in cluster when we run one.
pub struct Database {
    /// The connection pool shared by the whole service.
    pub pool: PgPool,
    /// The built-in cluster.
    pub local: Option<LocalCluster>,
    /// Whether [`Database::shutdown`] stops the built-in cluster: true when this process
    /// started it, or claimed it with [`Database::own_local`] (the service does). A
    /// command such as `user add` run beside a running service leaves it running.
    pub stop_local: bool,
    /// How to connect to the application database (for the health watcher's own
    /// connection).
    pub options: PgConnectOptions,
}

/// The pool's size and how long a request waits for a connection.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub size: u32,
    pub acquire_timeout: Duration,
}

/// Where the database is (a URL, or the built-in cluster's folders) and the pool's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// External database; `None` runs the built-in one.
    pub url: Option<url::Url>,
    /// Where the PostgreSQL server binaries are (the built-in database).
    pub pg_bin_dir: Option<std::path::PathBuf>,
    /// The built-in database's folder.
    pub data_dir: std::path::PathBuf,
    pub pool: PoolSettings,
}

/// Renders a database URL with its password replaced, for logs and error messages.
pub fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// Builds the pool with the configured size and acquire timeout. Connections are tested
/// before use, so the pool recovers by itself after the database comes back.
///
/// Every connection switches to the `icts_app` role (created by the first migration), so
/// the service's queries run with only that role's privileges: in particular it can only
/// INSERT and SELECT audit events.
pub fn pool_options(settings: impl Into<PoolSettings>) -> PgPoolOptions {
    let settings = settings.into();
    PgPoolOptions::new()
        .max_connections(settings.size)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Duration::from_secs(300))
        .test_before_acquire(true)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::query!("SET ROLE icts_app").execute(&mut *conn).await?;
                Ok(())
            })
        })
}

/// Applies the migrations over one connection as the connecting (owner) role.
pub async fn migrate(options: &PgConnectOptions) -> Result<(), DbError> {
    let mut conn = options.connect().await.map_err(|source| DbError::Sql { target: "migrations".into(), source })?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await.ok();
    Ok(())
}

impl Database {
    /// Opens the configured database (starting the built-in one when no URL is set) and
    /// runs the migrations.
    pub async fn open(settings: impl Into<Settings>) -> Result<Self, DbError> {
        let settings = settings.into();
        let (options, local, target) = match &settings.url {
            Some(url) => {
                let target = redact_url(url);
                let opts = PgConnectOptions::from_str(url.as_str())
                    .map_err(|source| DbError::Sql { target: target.clone(), source })?;
                (opts, None, target)
            }
            None => {
                let pg_bin_dir = settings.pg_bin_dir.clone();
                let data_dir = settings.data_dir.clone();
                let (cluster, started) =
                    tokio::task::spawn_blocking(move || -> Result<(LocalCluster, bool), LocalDbError> {
                        let bins = PgBinaries::discover(pg_bin_dir.as_deref())?;
                        let cluster = LocalCluster::prepare(bins, &data_dir, Durability::Full)?;
                        let started = cluster.start()?;
                        Ok((cluster, started))
                    })
                    .await
                    .expect("the database set-up task does not panic")?;
                let target = format!("built-in database in {}", cluster.pgdata().display());
                tracing::info!(socket = %cluster.socket_dir().display(), "built-in database is running");
                ensure_database(&cluster, LOCAL_DATABASE)
                    .await
                    .map_err(|source| DbError::Sql { target: target.clone(), source })?;
                (cluster.connect_options(LOCAL_DATABASE), Some((cluster, started)), target)
            }
        };
        let options = options.log_statements(tracing::log::LevelFilter::Debug);
        migrate(&options).await?;
        let pool = pool_options(settings.pool)
            .connect_with(options.clone())
            .await
            .map_err(|source| DbError::Sql { target: target.clone(), source })?;
        tracing::info!(database = %target, "database ready, migrations applied");
        let (local, stop_local) = match local {
            Some((c, started)) => (Some(c), started),
            None => (None, false),
        };
        Ok(Database { pool, local, stop_local, options })
    }

    /// Makes this process responsible for stopping the built-in database at shutdown,
    /// even if it found the server already running (say, after a crash).
    pub fn own_local(&mut self) {
        self.stop_local = self.local.is_some();
    }

    /// Starts watching the database (see [`health`]): the built-in cluster is restarted
    /// when its server dies, if this process owns it.
    pub fn watch(&self, health: std::sync::Arc<health::DbHealth>) -> tokio::task::JoinHandle<()> {
        let cluster = self.local.clone().filter(|_| self.stop_local);
        health::spawn_watch(health, self.options.clone(), cluster)
    }

    /// Closes the pool and stops the built-in database, if we run one.
    pub async fn shutdown(self) {
        self.shutdown_within(Duration::from_secs(3600)).await;
    }

    /// Closes the pool, waiting at most `pool_limit` for connections still in use (a cut
    /// download's), then stops the built-in database with a fast shutdown, which ends the
    /// sessions left and writes a shutdown checkpoint, so the next start needs no recovery.
    pub async fn shutdown_within(self, pool_limit: Duration) {
        if tokio::time::timeout(pool_limit, self.pool.close()).await.is_err() {
            tracing::warn!(
                in_use = self.pool.size(),
                "connections still in use after {} ms; the database ends them",
                pool_limit.as_millis()
            );
        }
        if let Some(cluster) = self.local.filter(|_| self.stop_local) {
            match tokio::task::spawn_blocking(move || cluster.stop()).await {
                Ok(Ok(())) => tracing::info!("built-in database stopped"),
                Ok(Err(e)) => tracing::error!(error = %e, "stopping the built-in database failed"),
                Err(e) => tracing::error!(error = %e, "stopping the built-in database failed"),
            }
        }
    }
}

/// Creates `database` in the cluster when it does not exist yet.
pub async fn ensure_database(cluster: &LocalCluster, database: &str) -> Result<(), sqlx::Error> {
    let mut conn = cluster.connect_options("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "v!""#, database,)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // The name is ours (a constant or a generated test name), never user input.
        #[expect(clippy::disallowed_methods, reason = "a database's name cannot be a parameter")]
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{database}\" TEMPLATE template0 ENCODING 'UTF8'")))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// Whether the database answers a trivial query within `within`.
pub async fn ping(pool: &PgPool, within: Duration) -> bool {
    matches!(tokio::time::timeout(within, sqlx::query!("SELECT 1 AS one").fetch_one(pool)).await, Ok(Ok(_)))
}

#[cfg(test)]
mod total_tests {
    use super::{Total, thousands};

    #[test]
    fn a_total_is_exact_up_to_the_cap_and_says_more_beyond() {
        assert_eq!(Total::counted(0), Total::Exact(0));
        assert_eq!(Total::counted(10_000), Total::Exact(10_000));
        assert_eq!(Total::counted(10_001), Total::MoreThan(10_000));
        assert_eq!(Total::Exact(1).describe("case", "cases"), "1 case");
        assert_eq!(Total::Exact(1234).describe("case", "cases"), "1,234 cases");
        assert_eq!(Total::MoreThan(10_000).describe("case", "cases"), "more than 10,000 cases");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_page_read_either_way_has_the_cursors_of_its_neighbours() {
        use super::{Page, parse_cursor};
        let c = |n: &i32| format!("k{n}~00000000-0000-0000-0000-00000000000{n}");
        // Forwards from the start: 3 of 4 read, more after, nothing before.
        let p = Page::from_read(vec![1, 2, 3, 4], 3, false, false, c);
        assert_eq!((p.rows, p.next.as_deref(), p.prev), (vec![1, 2, 3], Some(c(&3).as_str()), None));
        // Forwards from a cursor, the last page: a page before, none after.
        let p = Page::from_read(vec![4, 5], 3, true, false, c);
        assert_eq!((p.rows, p.next, p.prev.as_deref()), (vec![4, 5], None, Some(c(&4).as_str())));
        // Backwards from a cursor, read nearest first: turned round; more before.
        let p = Page::from_read(vec![6, 5, 4, 3], 3, true, true, c);
        assert_eq!(
            (p.rows, p.next.as_deref(), p.prev.as_deref()),
            (vec![4, 5, 6], Some(c(&6).as_str()), Some(c(&4).as_str()))
        );
        // Backwards to the start.
        let p = Page::from_read(vec![2, 1], 3, true, true, c);
        assert_eq!((p.rows, p.prev), (vec![1, 2], None));
        assert_eq!(parse_cursor("a~b~00000000-0000-0000-0000-000000000001").unwrap().0, "a~b");
        assert!(parse_cursor("no id").is_none() && parse_cursor("k~not-a-uuid").is_none());
    }
}
