//! What the load benchmarks share: the service as a child process on a built-in database,
//! accounts, a fixed-concurrency driver with latency percentiles, and a sampler of the
//! server's resident memory.

#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_icts-review");
pub const PASSWORD: &str = "a long benchmark passphrase";

/// Command-line options shared by the benchmarks (`cargo bench --bench NAME -- OPTIONS`).
#[derive(Debug, Clone)]
pub struct Options {
    pub cases: u64,
    pub events: u64,
    pub data: Option<PathBuf>,
    pub concurrency: usize,
    pub requests: usize,
    pub import_rows: usize,
    /// Declarations of Conformity seeded beside the cases (the second docket).
    pub declarations: u64,
    /// Rows of the declarations' CSV intake measured against COPY.
    pub declaration_rows: usize,
    /// Only the measures whose name contains this.
    pub only: Option<String>,
}

impl Options {
    pub fn parse() -> Options {
        let mut o = Options {
            cases: 100_000,
            events: 2_000_000,
            data: None,
            concurrency: 4,
            requests: 2_000,
            import_rows: 10_000,
            declarations: 100_000,
            declaration_rows: 100_000,
            only: None,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut i = 0;
        while i < args.len() {
            let value = || args.get(i + 1).cloned().unwrap_or_default();
            let number = |name: &str| -> u64 {
                value().replace('_', "").parse().unwrap_or_else(|_| panic!("{name} takes a whole number"))
            };
            match args[i].as_str() {
                "--cases" => o.cases = number("--cases"),
                "--events" => o.events = number("--events"),
                "--data" => o.data = Some(PathBuf::from(value())),
                "--concurrency" => o.concurrency = number("--concurrency") as usize,
                "--requests" => o.requests = number("--requests") as usize,
                "--import-rows" => o.import_rows = number("--import-rows") as usize,
                "--declarations" => o.declarations = number("--declarations"),
                "--declaration-rows" => o.declaration_rows = number("--declaration-rows") as usize,
                "--only" => o.only = Some(value()),
                // cargo passes --bench to every benchmark binary.
                _ => {
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        o
    }

    /// Whether the measure `name` runs.
    pub fn runs(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|o| name.contains(o))
    }
}

/// A folder the built-in database (run as `postgres` when we are root) can use.
pub struct DataDir {
    pub path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl DataDir {
    pub fn new(given: Option<&Path>) -> DataDir {
        match given {
            Some(p) => {
                std::fs::create_dir_all(p).unwrap();
                DataDir { path: p.to_path_buf(), _temp: None }
            }
            None => {
                let dir = tempfile::Builder::new().prefix("icts-bench-").tempdir_in("/tmp").unwrap();
                std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
                DataDir { path: dir.path().join("data"), _temp: Some(dir) }
            }
        }
    }

    pub fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// The owner's connection URL of the built-in database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@localhost:5432/icts_review?host={}", self.path.join("run").display())
    }
}

/// Runs the command line; panics with its output when it fails. Returns standard output.
pub fn cli(data: &DataDir, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(BIN)
        .args(["--data-dir", data.arg(), "--log", "warn"])
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icts-review {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Adds an account with the benchmark password (a fresh address per run).
pub fn add_user(data: &DataDir, role: &str, run: &str) -> String {
    let email = format!("bench.{role}.{run}@agency.gov");
    cli(
        data,
        &[
            "user",
            "add",
            "--email",
            &email,
            "--name",
            &format!("Bench {role} {run}"),
            "--role",
            role,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    email
}

/// A running instance of the service.
pub struct Server {
    pub child: Child,
    pub pid: u32,
    pub base: String,
}

impl Server {
    /// Starts an instance on a free port: on the built-in database of `data`, or on
    /// `database_url` when given. `extra` are more options.
    pub async fn start(data: &DataDir, database_url: Option<&str>, extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(BIN);
        cmd.args(["--data-dir", data.arg(), "--log", "warn", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--static-dir", concat!(env!("CARGO_MANIFEST_DIR"), "/static")])
            .args(extra)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null());
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child = cmd.spawn().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..1200 {
            if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
                let pid = child.id();
                return Server { child, pid, base };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the service did not become ready");
    }

    /// SIGTERM: the service drains (and stops the built-in database it started).
    /// SIGTERM, then waits for the process; its exit code (`None` when a signal ended it).
    pub fn stop(mut self) -> Option<i32> {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid as i32), nix::sys::signal::Signal::SIGTERM);
        self.child.wait().ok().and_then(|s| s.code())
    }
}

/// Resident memory of a process, KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Samples a process's resident memory every 10 ms; `take_peak` returns the peak since
/// the last call.
pub struct MemorySampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    pid: u32,
}

impl MemorySampler {
    pub fn start(pid: u32) -> MemorySampler {
        let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        MemorySampler { peak, stop, pid }
    }

    /// Peak resident memory (MiB) since the last call.
    pub fn take_peak(&self) -> f64 {
        let now = rss_kib(self.pid);
        let peak = self.peak.swap(now, Ordering::Relaxed).max(now);
        peak as f64 / 1024.0
    }
}

impl Drop for MemorySampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Latency figures of one measured run.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: usize,
    pub concurrency: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub per_second: f64,
    pub errors: usize,
    pub first_error: Option<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs `requests` calls of `f(i)` with `concurrency` in flight at all times (after a
/// warm-up of a tenth, not counted) and returns the latency percentiles and throughput.
pub async fn drive<F, Fut>(concurrency: usize, requests: usize, f: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let f = Arc::new(f);
    let warmup = (requests / 10).max(concurrency);
    run(concurrency, warmup, f.clone(), 1_000_000).await;
    run(concurrency, requests, f, 0).await
}

async fn run<F, Fut>(concurrency: usize, requests: usize, f: Arc<F>, offset: usize) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let t = Instant::now();
                if let Err(e) = f(i + offset).await {
                    errors.push(e);
                }
                latencies.push(t.elapsed());
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = Vec::new();
    for t in tasks {
        let (l, e) = t.await.unwrap();
        latencies.extend(l);
        errors.extend(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Stats {
        requests,
        concurrency,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        per_second: requests as f64 / elapsed,
        errors: errors.len(),
        first_error: errors.into_iter().next(),
    }
}

/// A pool on the built-in database as the service's role (`icts_app`), for the bare SQL.
pub async fn app_pool(data: &DataDir, size: u32) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(size)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(&mut *conn, "SET ROLE icts_app").await?;
                Ok(())
            })
        })
        .connect(&data.url())
        .await
        .unwrap()
}

/// A pool as the database owner.
pub async fn owner_pool(data: &DataDir, size: u32) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new().max_connections(size).connect(&data.url()).await.unwrap()
}

/// An HTTP client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs in through the page; returns the session secret (the cookie's value).
pub async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> Result<String, String> {
    let r = client
        .post(format!("{base}/sign-in"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("sign-in answered {}", r.status()));
    }
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("icts_session="))
        .ok_or("no session cookie")?;
    let pair = cookie.split(';').next().unwrap();
    Ok(pair.split_once('=').unwrap().1.to_string())
}

/// An API token.
pub async fn token(client: &reqwest::Client, base: &str, email: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

/// Re-authenticates an API token (the step-up that exports need; it holds 5 minutes).
pub async fn reauth(client: &reqwest::Client, base: &str, token: &str) {
    let r = client
        .post(format!("{base}/api/v1/auth/reauth"))
        .bearer_auth(token)
        .json(&serde_json::json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "reauth: {}", r.status());
}

/// GET with the session cookie; Ok when the answer is 200 (the body is read whole).
pub async fn get_page(client: &reqwest::Client, url: &str, session: &str) -> Result<(), String> {
    let r =
        client.get(url).header("cookie", format!("icts_session={session}")).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("{url}: {status} {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
    }
    Ok(())
}

/// GET with a bearer token; Ok when the answer is 200 (the body is read whole).
pub async fn get_api(client: &reqwest::Client, url: &str, token: &str) -> Result<(), String> {
    let r = client.get(url).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("{url}: {status} {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
    }
    Ok(())
}
