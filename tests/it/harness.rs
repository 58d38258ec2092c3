//! The test harness: one PostgreSQL server for the whole test binary (a throwaway cluster
//! in a temp folder, or the server of `DATABASE_URL`), one freshly migrated database per
//! test cloned from a template, the very same router driven in-process, the real binary
//! on a free port, and a headless Chromium.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use icts_review::app::AppState;
use icts_review::clock::ManualClock;
use icts_review::config::{Config, RawConfig};
use icts_review::db::local::{Durability, LocalCluster, PgBinaries};
use icts_review::router::router;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgPool};
use tower::ServiceExt;

/// The crate's root folder.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The database server all tests of this process share.
pub struct TestServerDb {
    /// Connection options to the maintenance database (where we CREATE DATABASE).
    admin: PgConnectOptions,
    /// Builds a URL for a database of this server.
    url_base: UrlBase,
    /// The migrated template every test database is cloned from.
    template: String,
    /// The throwaway cluster, when we run one.
    pub cluster: Option<LocalCluster>,
}

enum UrlBase {
    Local(LocalCluster),
    External(url::Url),
}

impl UrlBase {
    fn url(&self, db: &str) -> String {
        match self {
            UrlBase::Local(c) => c.url(db),
            UrlBase::External(u) => {
                let mut u = u.clone();
                u.set_path(&format!("/{db}"));
                u.to_string()
            }
        }
    }
}

static SERVER: OnceLock<TestServerDb> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The shared server, started (and the template migrated) on first use.
pub fn server_db() -> &'static TestServerDb {
    SERVER.get_or_init(|| {
        // Set-up is async (sqlx); run it on a thread of its own so that it does not depend
        // on the runtime of whichever test happens to come first.
        std::thread::spawn(init_server).join().expect("test database set-up panicked")
    })
}

fn init_server() -> TestServerDb {
    let pid = std::process::id();
    let template = format!("icts_tpl_{pid}");
    let (admin, url_base, cluster) = match std::env::var("DATABASE_URL").ok().filter(|s| !s.trim().is_empty()) {
        Some(url) => {
            let parsed = url::Url::parse(&url).expect("DATABASE_URL is a URL");
            let admin = PgConnectOptions::from_str(&url).expect("DATABASE_URL is a PostgreSQL URL");
            (admin, UrlBase::External(parsed), None)
        }
        None => {
            let dir = tempfile::Builder::new().prefix("icts-test-pg-").tempdir().expect("temp folder").keep();
            // The postgres system user (when we are root) must be able to enter the folder.
            std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            let bins = PgBinaries::discover(std::env::var_os("ICTS_PG_BIN_DIR").map(PathBuf::from).as_deref())
                .expect("PostgreSQL server binaries are installed");
            let cluster = LocalCluster::prepare(bins, &dir, Durability::Throwaway).expect("test cluster prepared");
            cluster.start().expect("test cluster started");
            spawn_reaper(&cluster);
            (cluster.connect_options("postgres"), UrlBase::Local(cluster.clone()), Some(cluster))
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = admin.connect().await.expect("connect to the test database server");
        if matches!(url_base, UrlBase::External(_)) {
            drop_stale_databases(&mut conn).await;
        }
        conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {template}"))).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {template} TEMPLATE template0 ENCODING 'UTF8'")))
            .await
            .unwrap();
        conn.close().await.unwrap();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url_base.url(&template))
            .await
            .expect("connect to the template database");
        icts_review::db::MIGRATOR.run(&pool).await.expect("migrations apply to a fresh database");
        pool.close().await;
    });
    TestServerDb { admin, url_base, template, cluster }
}

/// Test databases of earlier runs whose process is gone are dropped (external server only;
/// the throwaway cluster disappears with its process).
async fn drop_stale_databases(conn: &mut sqlx::PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'icts\\_t\\_%' OR datname LIKE 'icts\\_tpl\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.trim_start_matches("icts_tpl_").trim_start_matches("icts_t_").split('_').next().unwrap_or("");
        let alive = pid.parse::<u32>().map(|p| Path::new(&format!("/proc/{p}")).exists()).unwrap_or(false);
        if !alive {
            let _ = conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
        }
    }
}

/// A helper process that waits for this test process to end (its stdin pipe closes when
/// we exit, even on a panic or a kill) and then stops the throwaway cluster and removes
/// its folder.
fn spawn_reaper(cluster: &LocalCluster) {
    let root = cluster.root().display().to_string();
    let pidfile = cluster.pgdata().join("postmaster.pid").display().to_string();
    let script = r#"cat >/dev/null
pid=$(head -1 "$1" 2>/dev/null)
if [ -n "$pid" ]; then kill -QUIT "$pid" 2>/dev/null; for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; fi
rm -rf "$2""#;
    #[allow(clippy::zombie_processes)] // it outlives us by design: it cleans up after we exit
    let child = std::os::unix::process::CommandExt::process_group(
        Command::new("sh")
            .args(["-c", script, "reaper", &pidfile, &root])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        0,
    )
    .spawn()
    .expect("reaper starts");
    // Keep the write end open for the life of the process.
    std::mem::forget(child.stdin);
}

impl TestServerDb {
    /// Creates a fresh, migrated database for one test and returns its name and URL.
    pub async fn create_database(&self) -> (String, String) {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("icts_t_{}_{}", std::process::id(), n);
        let mut conn = self.admin.connect().await.expect("connect to the test database server");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} TEMPLATE {}", self.template)))
            .await
            .expect("create test database");
        conn.close().await.ok();
        let url = self.url_base.url(&name);
        (name, url)
    }
}

/// Configuration as the binary would read it with no flags, pointed at `database_url`.
pub fn test_config(database_url: &str) -> Config {
    use clap::Parser;
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        raw: RawConfig,
    }
    let static_dir = manifest_dir().join("static");
    let args =
        Args::parse_from(["icts-review", "--database-url", database_url, "--static-dir", static_dir.to_str().unwrap()]);
    Config::from_raw(&args.raw).expect("test configuration is valid")
}

/// One test's application: its own database and the production router over it.
pub struct TestApp {
    /// Pool on the test's database.
    pub pool: PgPool,
    /// The router under test.
    pub router: Router,
    /// URL of the test's database.
    pub db_url: String,
    /// The configuration the router was built from.
    pub config: Config,
    /// The clock the app reads; tests move it.
    pub clock: ManualClock,
    /// The application state (same as the router's).
    pub state: AppState,
}

/// A response, read completely.
pub struct TestResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for TestResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}\n{}", self.status, self.headers, String::from_utf8_lossy(&self.body))
    }
}

impl TestResponse {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("body is UTF-8")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }
}

impl TestApp {
    /// A fresh app over a fresh database.
    pub async fn new() -> TestApp {
        let (_, db_url) = server_db().create_database().await;
        let config = test_config(&db_url);
        Self::with_config(config).await
    }

    /// A fresh app with a configuration adjusted by `adjust`.
    pub async fn with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (_, db_url) = server_db().create_database().await;
        let mut config = test_config(&db_url);
        adjust(&mut config);
        Self::with_config(config).await
    }

    async fn with_config(config: Config) -> TestApp {
        let db_url = config.database_url.as_ref().unwrap().to_string();
        let pool = icts_review::db::pool_options(&config)
            .max_connections(4)
            .connect(&db_url)
            .await
            .expect("connect to the test database");
        // Noon UTC of the real day: the office's calendar date (America/New_York, the
        // default zone) is then the UTC date, so a test may take `now.date()` for the
        // office's "today" at whatever hour it runs.
        let noon = time::OffsetDateTime::now_utc().replace_time(time::Time::MIDNIGHT) + time::Duration::hours(12);
        let clock = ManualClock::at(noon);
        let mut state = AppState::new(pool.clone(), &config);
        state.clock = std::sync::Arc::new(clock.clone());
        TestApp { pool, router: router(state.clone()), db_url, config, clock, state }
    }

    /// A pool on this test's database as the database superuser (no `SET ROLE`): for
    /// tampering tests only.
    pub async fn superuser_pool(&self) -> PgPool {
        PgPoolOptions::new().max_connections(2).connect(&self.db_url).await.unwrap()
    }

    /// Creates an account directly (no forced password change) and returns it.
    pub async fn user(&self, role: &str) -> TestUser {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let email = format!("{role}{n}@agency.gov");
        let password = format!("a long {role} passphrase {n}");
        let name = format!("Test {role} {n}");
        let input = icts_review::accounts::model::NewUser::parse(&email, &name, role, &password).unwrap();
        let ctx = icts_review::audit::AuditContext::default();
        let u = icts_review::accounts::service::create_user(&self.pool, self.state.now(), &ctx, input, false)
            .await
            .unwrap();
        TestUser { id: u.id, email, password, name }
    }

    /// Signs in through the page and returns the browser session (cookie and CSRF token).
    pub async fn sign_in(&self, user: &TestUser) -> BrowserSession {
        self.try_sign_in(&user.email, &user.password, None).await.expect("sign-in succeeds")
    }

    /// Signs in through the page, presenting `previous` cookie if given.
    pub async fn try_sign_in(
        &self,
        email: &str,
        password: &str,
        previous: Option<&BrowserSession>,
    ) -> Result<BrowserSession, TestResponse> {
        let body = form(&[("email", email), ("password", password)]);
        let mut req = Request::post("/sign-in").header("content-type", "application/x-www-form-urlencoded");
        if let Some(p) = previous {
            req = req.header("cookie", p.cookie_header());
        }
        let r = self.send(req.body(Body::from(body)).unwrap()).await;
        if r.status != StatusCode::SEE_OTHER {
            return Err(r);
        }
        let set = r.header("set-cookie").expect("sign-in sets the session cookie");
        let cookie = set.split(';').next().unwrap().to_string();
        let mut session = BrowserSession { cookie, csrf: String::new(), set_cookie: set };
        let page = self.send(session.get("/account/password")).await;
        session.csrf = extract_csrf(&page.text()).expect("pages carry the CSRF token");
        Ok(session)
    }

    /// Re-authenticates a browser session with `password` (the step-up).
    pub async fn reauth(&self, session: &BrowserSession, password: &str) {
        let r = self.send(session.post("/account/reauth", &[("password", password), ("next", "/")])).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "the step-up succeeds: {}", r.text());
    }

    /// Gets an API token.
    pub async fn token(&self, user: &TestUser) -> String {
        let body = serde_json::json!({"email": user.email, "password": user.password}).to_string();
        let req = Request::post("/api/v1/auth/token").header("content-type", "application/json").body(Body::from(body));
        let r = self.send(req.unwrap()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["token"].as_str().unwrap().to_string()
    }

    /// Number of rows of a table.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Events of `event_type` in the audit log, oldest first.
    pub async fn events(&self, event_type: &str) -> Vec<serde_json::Value> {
        let rows: Vec<(serde_json::Value,)> = sqlx::query_as(
            "SELECT jsonb_build_object('actor_id', actor_id, 'actor_role', actor_role, 'object_id', object_id, \
             'outcome', outcome, 'changes', changes, 'request_id', request_id) FROM audit_events \
             WHERE event_type = $1 ORDER BY seq",
        )
        .bind(event_type)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        rows.into_iter().map(|r| r.0).collect()
    }

    /// Sends a request through the router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.expect("the router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body reads").to_bytes().to_vec();
        TestResponse { status, headers, body }
    }

    /// Sends a form's `request` as a browser does: an answer `303 See Other` (a form that
    /// succeeded) is followed to its `Location` with the request's cookies and those the
    /// answer set (its one-time message), and the page found there is returned; any other
    /// answer is returned as it is.
    pub async fn submit(&self, request: Request<Body>) -> TestResponse {
        let mut cookies: Vec<String> = request
            .headers()
            .get("cookie")
            .map(|c| c.to_str().unwrap().split("; ").map(str::to_string).collect())
            .unwrap_or_default();
        let r = self.send(request).await;
        if r.status != StatusCode::SEE_OTHER {
            return r;
        }
        for set in r.headers.get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            let name = pair.split('=').next().unwrap().to_string();
            cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            if !pair.ends_with('=') {
                cookies.push(pair);
            }
        }
        let location = r.header("location").expect("a redirect names where it goes");
        let path = location.split('#').next().unwrap();
        self.send(Request::get(path).header("cookie", cookies.join("; ")).body(Body::empty()).unwrap()).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The real `icts-review` binary, serving on a free port.
pub struct RunningServer {
    /// The child process.
    pub child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// File receiving the server's stderr.
    pub log: PathBuf,
}

impl RunningServer {
    /// Starts the binary with `args` (plus `--listen` on a free port) and waits until
    /// `/healthz` answers.
    pub async fn start(args: &[&str], envs: &[(&str, &str)]) -> RunningServer {
        let log = std::env::temp_dir().join(format!("icts-server-{}-{}.log", std::process::id(), free_port()));
        RunningServer::start_logging_to(args, envs, log).await
    }

    /// As [`RunningServer::start`], with the server's stderr in the file `log`.
    pub async fn start_logging_to(args: &[&str], envs: &[(&str, &str)], log: PathBuf) -> RunningServer {
        RunningServer::start_on(free_port(), args, envs, log).await
    }

    /// As [`RunningServer::start_logging_to`], on `port` (for a URL known before it starts).
    pub async fn start_on(port: u16, args: &[&str], envs: &[(&str, &str)], log: PathBuf) -> RunningServer {
        let listen = format!("127.0.0.1:{port}");
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_icts-review"));
        cmd.args(args)
            .args(["--listen", &listen])
            .current_dir(manifest_dir())
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(log_file);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("the icts-review binary starts");
        let mut server = RunningServer { child, base: format!("http://{listen}"), log };
        server.wait_healthy(Duration::from_secs(90)).await;
        server
    }

    async fn wait_healthy(&mut self, within: Duration) {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited with {status} before becoming healthy; log:\n{}", self.log_text());
            }
            let response = client.get(format!("{}/healthz", self.base)).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server did not become healthy; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait().expect("server exits")
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.terminate();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A headless Chromium driven through chromedriver.
pub struct Browser {
    /// The WebDriver client.
    pub client: fantoccini::Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session that records console messages.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium chromium-driver)");
        let profile = tempfile::Builder::new().prefix("icts-chromium-").tempdir().unwrap().keep();
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-quic", "--no-first-run", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        });
        let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(caps).unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match fantoccini::ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) => {
                    assert!(std::time::Instant::now() < deadline, "cannot start a Chromium session: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        Browser { client, driver }
    }

    /// Signs in through the sign-in page at `base` and waits for the signed-in header.
    pub async fn sign_in(&self, base: &str, email: &str, password: &str) {
        let c = &self.client;
        c.goto(&format!("{base}/sign-in")).await.unwrap();
        c.find(fantoccini::Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
        c.find(fantoccini::Locator::Id("password")).await.unwrap().send_keys(password).await.unwrap();
        c.find(fantoccini::Locator::Css("form.usa-form button[type=submit]")).await.unwrap().click().await.unwrap();
        c.wait().for_element(fantoccini::Locator::Css("[data-testid=user-name]")).await.unwrap();
    }

    /// Console messages logged by the page since the last call (level and text).
    pub async fn console(&self) -> Vec<(String, String)> {
        let logs = self.client.issue_cmd(GetLog).await.expect("browser log reads");
        logs.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_string(),
                            e["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The critical and serious accessibility violations axe-core (vendored from npm in
    /// `tests/vendor/axe-core`) finds on the current page, each as "rule: targets (help)".
    /// The script is evaluated through WebDriver, which the page's CSP does not govern.
    pub async fn axe(&self) -> Vec<String> {
        static AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
        let c = &self.client;
        let loaded = c.execute("return typeof window.axe === 'object'", vec![]).await.unwrap();
        if loaded.as_bool() != Some(true) {
            c.execute(&format!("{AXE}\nreturn true;"), vec![]).await.expect("axe-core loads");
        }
        let found = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(
                   r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
                     .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', ') + ' (' + v.help + ')')
                 ), e => done(['axe-core failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    }

    /// Fails with the page's critical and serious accessibility violations, naming `what`.
    pub async fn assert_accessible(&self, what: &str) {
        let found = self.axe().await;
        assert!(found.is_empty(), "axe-core on {what}: {found:#?}");
    }

    /// Saves a screenshot of the current page as `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = manifest_dir().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// The WebDriver WebAuthn extension: adds a virtual authenticator (CTAP2 over USB, with
/// resident keys and user verification that always succeeds) to the browser.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/webauthn/authenticator", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({
            "protocol": "ctap2", "transport": "usb", "hasResidentKey": true, "hasUserVerification": true,
            "isUserConsenting": true, "isUserVerified": true,
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Adds a virtual authenticator (a security key that is always present and verifies
    /// its user); returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let v = self.client.issue_cmd(AddVirtualAuthenticator).await.expect("the virtual authenticator is added");
        v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
    }
}

/// A Chrome DevTools Protocol command sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(&'static str, serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(serde_json::json!({"cmd": self.0, "params": self.1}).to_string()))
    }
}

impl Browser {
    /// Empties the browser's HTTP cache (cookies stay), so that the next page loads as a
    /// first visit would.
    pub async fn clear_cache(&self) {
        self.client.issue_cmd(Cdp("Network.clearBrowserCache", serde_json::json!({}))).await.expect("the cache clears");
    }

    /// What loading `url` transferred: the page and each resource it loaded (after its
    /// fonts), as Resource Timing's `transferSize` (headers and body as sent), with the
    /// decoded body size beside it. A resource read from the cache shows a transfer of 0.
    pub async fn load_transfers(&self, url: &str) -> Vec<(String, u64, u64)> {
        let c = &self.client;
        c.goto(url).await.unwrap();
        let entries = c
            .execute(
                "return document.fonts.ready.then(() => [\
                   ...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')\
                 ].map(e => [e.name, e.transferSize, e.decodedBodySize]));",
                vec![],
            )
            .await
            .expect("resource timing reads");
        entries
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_str().unwrap().to_string(), e[1].as_u64().unwrap(), e[2].as_u64().unwrap()))
            .collect()
    }
}

/// chromedriver's log endpoint (not part of W3C WebDriver, but supported by chromedriver).
#[derive(Debug)]
struct GetLog;

impl fantoccini::wd::WebDriverCompatibleCommand for GetLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(r#"{"type":"browser"}"#.to_string()))
    }
}

/// An account made by a test.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Id.
    pub id: icts_review::ids::UserId,
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
    /// Name.
    pub name: String,
}

/// A signed-in browser: its cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    /// `name=value`.
    pub cookie: String,
    /// The CSRF token of the session.
    pub csrf: String,
    /// The whole `Set-Cookie` header the session came with.
    pub set_cookie: String,
}

impl BrowserSession {
    /// The `Cookie` header value.
    pub fn cookie_header(&self) -> String {
        self.cookie.clone()
    }

    /// A GET with the cookie.
    pub fn get(&self, path: &str) -> Request<Body> {
        Request::get(path).header("cookie", self.cookie_header()).body(Body::empty()).unwrap()
    }

    /// A form POST with the cookie and the CSRF token added.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Request<Body> {
        let mut all = fields.to_vec();
        all.push(("csrf_token", &self.csrf));
        Request::post(path)
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form(&all)))
            .unwrap()
    }
}

/// URL-encodes form fields.
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The CSRF token in a page's hidden field.
pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string()).filter(|t| !t.is_empty())
}

/// A JSON request with a bearer token.
pub fn api(method: &str, path: &str, token: &str, body: Option<serde_json::Value>) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).unwrap()
}
