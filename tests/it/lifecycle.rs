//! The real binary: the built-in database's life cycle, an external database, shutdown,
//! configuration errors and logs.

use std::process::Command;
use std::time::Duration;

use sqlx::Connection;

use crate::harness::{RunningServer, server_db};

fn private_temp_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("icts-life-").tempdir().unwrap();
    // When the tests run as root, the postgres system user must be able to enter it.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

async fn ready_status(client: &reqwest::Client, base: &str) -> u16 {
    client.get(format!("{base}/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test]
async fn built_in_database_is_created_kept_stopped_and_recovered() {
    let data = private_temp_dir();
    let data_dir = data.path().join("data");
    let data_arg = data_dir.to_str().unwrap();
    let client = reqwest::Client::new();

    let mut server = RunningServer::start(&["--data-dir", data_arg], &[]).await;
    let home = client.get(format!("{}/", server.base)).send().await.unwrap();
    assert_eq!(home.status(), 200);
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
        "cross-origin-opener-policy",
        "x-request-id",
    ] {
        assert!(home.headers().contains_key(h), "missing {h}");
    }
    assert_eq!(ready_status(&client, &server.base).await, 200);

    // The cluster lives in the data folder, durable, on a private unix socket only.
    let pgdata = data_dir.join("postgres");
    assert!(pgdata.join("PG_VERSION").is_file());
    let conf = std::fs::read_to_string(pgdata.join("icts-review.conf")).unwrap();
    assert!(conf.contains("listen_addresses = ''") && conf.contains("fsync = on"), "{conf}");
    let socket_dir = std::fs::canonicalize(data_dir.join("run")).unwrap();
    let url = format!("postgres://postgres@localhost/icts_review?host={}", socket_dir.display());
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&mut conn).await.unwrap();
    assert_eq!(fsync, "on");
    sqlx::query("CREATE TABLE lifecycle_marker (note text)").execute(&mut conn).await.unwrap();
    sqlx::query("INSERT INTO lifecycle_marker VALUES ('kept between runs')").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    let status = server.terminate();
    assert!(status.success(), "SIGTERM exits 0, got {status}; log:\n{}", server.log_text());
    assert!(!pgdata.join("postmaster.pid").exists(), "the built-in database was stopped with the service");
    let log = server.log_text();
    assert!(log.contains("built-in database stopped"), "{log}");

    // Second run: same data.
    let mut server = RunningServer::start(&["--data-dir", data_arg], &[]).await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let note: String = sqlx::query_scalar("SELECT note FROM lifecycle_marker").fetch_one(&mut conn).await.unwrap();
    assert_eq!(note, "kept between runs");
    conn.close().await.unwrap();

    // The database is stopped: 503, quickly. It comes back: 200 without a restart of the service.
    let bins = icts_review::db::local::PgBinaries::discover(None).unwrap();
    let cluster =
        icts_review::db::local::LocalCluster::prepare(bins, &data_dir, icts_review::db::local::Durability::Full)
            .unwrap();
    cluster.stop().unwrap();
    let started = std::time::Instant::now();
    assert_eq!(ready_status(&client, &server.base).await, 503);
    assert!(started.elapsed() < Duration::from_secs(5));
    let home = client.get(format!("{}/", server.base)).send().await.unwrap();
    assert_eq!(home.status(), 200, "pages that need no database keep working");
    // The service supervises its database: it starts it again by itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if ready_status(&client, &server.base).await == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "service did not recover within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(server.terminate().success());
}

/// The built-in cluster of a data folder (to look at or stop it from the test).
fn cluster_of(data_dir: &std::path::Path) -> icts_review::db::local::LocalCluster {
    let bins = icts_review::db::local::PgBinaries::discover(None).unwrap();
    icts_review::db::local::LocalCluster::prepare(bins, data_dir, icts_review::db::local::Durability::Full).unwrap()
}

/// `Database cluster state` from `pg_controldata`: "shut down" after a clean stop.
fn cluster_state(data_dir: &std::path::Path) -> String {
    let bins = icts_review::db::local::PgBinaries::discover(None).unwrap();
    let out = Command::new(bins.dir().join("pg_controldata")).arg(data_dir.join("postgres")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("Database cluster state:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| format!("(no state in: {text} {})", String::from_utf8_lossy(&out.stderr)))
}

/// Opens a request whose body never comes: the request stays in flight until the server
/// cuts it.
fn stalled_request(base: &str) -> std::net::TcpStream {
    use std::io::Write;
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /sign-in HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nemail="
    )
    .unwrap();
    s
}

#[tokio::test]
async fn a_killed_built_in_database_is_restarted_and_requests_fail_fast_meanwhile() {
    let data = private_temp_dir();
    let data_dir = data.path().join("data");
    let server = RunningServer::start(&["--data-dir", data_dir.to_str().unwrap()], &[]).await;
    let client = reqwest::Client::new();
    let ready: serde_json::Value =
        client.get(format!("{}/readyz", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    for check in ["database", "pool", "checkpoints", "log", "data_disk"] {
        assert_eq!(ready["checks"][check]["ok"], true, "{check}: {ready}");
    }
    // The postmaster dies, and for a while its data folder is away, so that it cannot start.
    let pgdata = data_dir.join("postgres");
    let away = data_dir.join("postgres.away");
    let pid = cluster_of(&data_dir).server_pid().expect("the postmaster runs");
    std::fs::rename(&pgdata, &away).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();

    // Requests that need the database (the API) while it is away and once it is back.
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let count = |statuses: &mut std::collections::BTreeMap<u16, usize>, r: &reqwest::Response| {
        let status = r.status().as_u16();
        *statuses.entry(status).or_default() += 1;
        if status == 503 {
            assert_eq!(
                r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
                Some("5"),
                "503 says when to retry"
            );
        }
        status
    };
    let get = || {
        client.get(format!("{}/api/v1/cases", server.base)).bearer_auth("not-a-token").timeout(Duration::from_secs(10))
    };
    // A backend of the killed postmaster may still answer a query on a pooled connection
    // for a moment (it notices its postmaster's death on its next wait): from the first
    // 503 on, the database counts as away.
    let noticed = std::time::Instant::now();
    while get().send().await.unwrap().status() != 503 {
        assert!(noticed.elapsed() < Duration::from_secs(2), "the database's absence is noticed within 2 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let away_since = std::time::Instant::now();
    while away_since.elapsed() < Duration::from_secs(4) {
        count(&mut statuses, &get().send().await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Requests fail at once rather than each waiting the pool's 5 s acquire timeout: in 4 s,
    // many answers, all 503.
    assert!(statuses.get(&503).copied().unwrap_or(0) >= 10, "fast 503s while the database was away: {statuses:?}");
    assert_eq!(statuses.len(), 1, "nothing but 503 while the database was away: {statuses:?}");
    let problem: serde_json::Value = get().send().await.unwrap().json().await.unwrap();
    assert_eq!(problem["type"], "urn:icts-review:problem:unavailable", "{problem}");
    let ready = client.get(format!("{}/readyz", server.base)).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["database"]["ok"], false, "{ready}");

    // The database can start again: the service serves within 10 s, without a restart.
    std::fs::rename(&away, &pgdata).unwrap();
    let can_start = std::time::Instant::now();
    let back = loop {
        let status = count(&mut statuses, &get().send().await.unwrap());
        if status == 401 {
            break can_start.elapsed();
        }
        assert!(can_start.elapsed() < Duration::from_secs(20), "{statuses:?}; log:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(back < Duration::from_secs(10), "serving again {back:?} after the database could start");
    assert!(!statuses.keys().any(|s| *s >= 500 && *s != 503), "no 500 for a lost connection: {statuses:?}");
    // The watcher's pings may find the server accepting before its start returns and is
    // counted: the count and its log line follow within moments.
    let mut ready = serde_json::Value::Null;
    for _ in 0..100 {
        ready = client.get(format!("{}/readyz", server.base)).send().await.unwrap().json().await.unwrap();
        if ready["checks"]["database"]["detail"]["restarts"] == 1
            && server.log_text().contains("the built-in database was started again")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["checks"]["database"]["detail"]["restarts"], 1, "{ready}");
    let log = server.log_text();
    assert!(log.contains("the database is unreachable"), "{log}");
    assert!(
        log.contains("attempt=1") && log.contains("attempt=3") && log.contains("starting the built-in database failed"),
        "each restart attempt is logged:\n{log}"
    );
    assert!(log.contains("the built-in database was started again"), "{log}");
}

#[tokio::test]
async fn shutdown_has_a_hard_deadline_and_stops_the_database_cleanly() {
    let data = private_temp_dir();
    let data_dir = data.path().join("data");
    let mut server =
        RunningServer::start(&["--data-dir", data_dir.to_str().unwrap()], &[("ICTS_SHUTDOWN_GRACE", "3")]).await;
    let stalled: Vec<_> = (0..20).map(|_| stalled_request(&server.base)).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = std::time::Instant::now();
    let status = server.terminate();
    let took = asked.elapsed();
    let log = server.log_text();
    assert!(status.success(), "exit 0 after cutting what was left, got {status}; log:\n{log}");
    assert!(took < Duration::from_secs(8), "exited {took:?} after SIGTERM with a 3 s grace; log:\n{log}");
    assert!(took >= Duration::from_secs(3), "the stalled requests had their grace period ({took:?})");
    assert!(log.contains("grace period over; cutting remaining requests"), "{log}");
    assert!(log.contains("built-in database stopped"), "{log}");
    assert!(!data_dir.join("postgres/postmaster.pid").exists(), "the built-in database is stopped");
    assert_eq!(cluster_state(&data_dir), "shut down", "a clean shutdown: the next start needs no recovery");
    drop(stalled);

    // A second signal cuts a long drain short.
    let mut server =
        RunningServer::start(&["--data-dir", data_dir.to_str().unwrap()], &[("ICTS_SHUTDOWN_GRACE", "60")]).await;
    let stalled: Vec<_> = (0..3).map(|_| stalled_request(&server.base)).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    let asked = std::time::Instant::now();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = server.terminate();
    let took = asked.elapsed();
    let log = server.log_text();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(took < Duration::from_secs(10), "a second signal ends a 60 s drain ({took:?}); log:\n{log}");
    assert!(log.contains("second shutdown signal"), "{log}");
    assert_eq!(cluster_state(&data_dir), "shut down");
    drop(stalled);
}

#[tokio::test]
async fn external_database_url_with_json_logs_and_no_secrets_in_them() {
    let (_, url) = server_db().create_database().await;
    // Put a password into the URL (the test server does not check it) to see it is never logged.
    let mut with_password = url::Url::parse(&url).unwrap();
    with_password.set_password(Some("hunter2-secret")).unwrap();
    let data = private_temp_dir();
    let mut server = RunningServer::start(
        &["--data-dir", data.path().to_str().unwrap(), "--log-format", "json", "--log", "debug"],
        &[("DATABASE_URL", with_password.as_str())],
    )
    .await;
    let client = reqwest::Client::new();
    let r =
        client.get(format!("{}/readyz", server.base)).header("x-request-id", "trace-me-123456").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "trace-me-123456");
    assert!(server.terminate().success());
    let log = server.log_text();
    assert!(!log.contains("hunter2-secret"), "the database password was logged:\n{log}");
    assert!(!data.path().join("postgres").exists(), "no built-in database when DATABASE_URL is set");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    let tagged: Vec<_> = lines.iter().filter(|l| l["span"]["request_id"] == "trace-me-123456").collect();
    assert!(!tagged.is_empty(), "request log lines carry the request id:\n{log}");
    assert!(tagged.iter().any(|l| l["status"] == 200));
}

#[test]
fn a_bad_setting_stops_the_boot_with_one_line_naming_it() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (&["--listen", "nowhere"], &[], "--listen / ICTS_LISTEN"),
        (&[], &[("ICTS_LOG_FORMAT", "xml")], "--log-format / ICTS_LOG_FORMAT"),
        (&[], &[("ICTS_DB_POOL_SIZE", "lots")], "--db-pool-size / ICTS_DB_POOL_SIZE"),
        (&["--database-url", "mysql://db/x"], &[], "--database-url / DATABASE_URL"),
    ];
    for (args, envs, setting) in cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_icts-review"));
        cmd.args(args).env_remove("DATABASE_URL");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{setting}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(setting), "{err}");
    }
}

#[test]
fn missing_server_binaries_are_explained_in_one_message() {
    let data = private_temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["--data-dir", data.path().to_str().unwrap(), "--pg-bin-dir", "/nonexistent/bin", "migrate"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("ICTS_PG_BIN_DIR") && err.contains("/nonexistent/bin"), "{err}");
    let text = icts_review::db::local::LocalDbError::BinariesNotFound.to_string();
    assert!(text.contains("DATABASE_URL") && text.contains("apt-get install postgresql") && !text.contains('\n'));
}

/// A small file system of its own (a tmpfs, mounted as root as CI runs), unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = private_temp_dir();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m,mode=0755"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a tmpfs to fill a real disk and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Fills what is left with a file, down to the last block.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        for size in [1 << 20, 4096, 512] {
            let block = vec![0u8; size];
            while f.write_all(&block).is_ok() {}
        }
        let _ = f.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_507_while_reads_go_on_and_it_recovers_by_itself() {
    let disk = SmallDisk::mount(200);
    let data_dir = disk.path().join("data");
    let data = data_dir.to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["--data-dir", data, "user", "add", "--email", "full@agency.gov", "--name", "Full Disk"])
        .args(["--role", "analyst", "--generate-password"])
        .current_dir(crate::harness::manifest_dir())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let password = text.lines().find_map(|l| l.split("): ").nth(1)).expect("a temporary password").trim().to_string();
    // The log and the database share the small disk.
    let server = RunningServer::start_logging_to(&["--data-dir", data], &[], disk.path().join("server.log")).await;
    let client = reqwest::Client::new();
    let token = |client: reqwest::Client, base: String, password: String| async move {
        client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&serde_json::json!({"email": "full@agency.gov", "password": password}))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(token(client.clone(), server.base.clone(), password.clone()).await.status(), 201);

    let filler = disk.fill();
    // Writes fail with 507 (sign-ins write a session and an audit event); never another 5xx.
    let mut refused = None;
    for _ in 0..300 {
        let r = token(client.clone(), server.base.clone(), password.clone()).await;
        let status = r.status().as_u16();
        assert!(status == 201 || status == 507, "{status}: {}", r.text().await.unwrap());
        if status == 507 {
            refused = Some(r.json::<serde_json::Value>().await.unwrap());
            break;
        }
    }
    let refused = refused.expect("a write on the full disk is refused");
    assert_eq!(refused["type"], "urn:icts-review:problem:disk-full", "{refused}");
    // Reads go on, and /readyz says what is wrong.
    for path in ["/sign-in", "/healthz", "/static/vendor/uswds/css/uswds.min.css"] {
        assert_eq!(client.get(format!("{}{path}", server.base)).send().await.unwrap().status(), 200, "{path}");
    }
    // The log's writer runs beside the requests: it finds the disk full at its next write,
    // which may come a moment after the refusal (the reads above log lines of their own).
    let waited = std::time::Instant::now();
    let ready = loop {
        let ready: serde_json::Value =
            client.get(format!("{}/readyz", server.base)).send().await.unwrap().json().await.unwrap();
        if ready["checks"]["log"]["detail"]["failing"] == true || waited.elapsed() > Duration::from_secs(20) {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["data_disk"]["ok"], false, "{ready}");
    assert_eq!(ready["checks"]["log"]["ok"], false, "{ready}");
    assert_eq!(ready["checks"]["log"]["detail"]["failing"], true, "{ready}");
    assert!(ready["checks"]["log"]["detail"]["dropped_lines"].as_u64().unwrap() > 0, "{ready}");

    // Space returns: writes and the log work again, with no restart.
    std::fs::remove_file(filler).unwrap();
    let started = std::time::Instant::now();
    loop {
        let r = token(client.clone(), server.base.clone(), password.clone()).await;
        let ready: serde_json::Value =
            client.get(format!("{}/readyz", server.base)).send().await.unwrap().json().await.unwrap();
        if r.status() == 201 && ready["status"] == "ready" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{}: {ready}", r.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(server.log_text().contains("request finished"), "the log is written again");
}

/// The processes of the built-in cluster: its postmaster and every child of it.
fn cluster_processes(postmaster: i32) -> Vec<i32> {
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid ...`: the name may hold spaces, so read after its `)`.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok());
        if ppid == Some(postmaster) {
            pids.push(pid);
        }
    }
    pids
}

/// What is killed under the writers.
#[derive(Clone, Copy, Debug)]
enum Crash {
    /// The postmaster and every child of it: the service starts its database again.
    Everything,
    /// One backend serving the service: the postmaster resets its shared memory and
    /// recovers in place, with the same start time.
    OneBackend,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_change_survives_killing_every_database_process() {
    acknowledged_notes_survive(Crash::Everything).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_change_survives_killing_one_backend() {
    acknowledged_notes_survive(Crash::OneBackend).await;
}

/// Writers add notes as fast as they can; the database crashes, losing whatever was not
/// yet written out of its shared memory (appends commit without waiting for the disk, see
/// `audit::durable`). Every note that was answered 201 is there once the database has
/// recovered, with its audit event, and requests caught by the crash answer 503.
async fn acknowledged_notes_survive(crash: Crash) {
    let data = private_temp_dir();
    let data_dir = data.path().join("data");
    let d = data_dir.to_str().unwrap();
    let password = "a long passphrase for the crash test";
    let mut add = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["--data-dir", d, "user", "add", "--email", "kill@agency.gov", "--name", "Kill Nine"])
        .args(["--role", "analyst", "--password-stdin"])
        .current_dir(crate::harness::manifest_dir())
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut add.stdin.take().unwrap(), password.as_bytes()).unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = RunningServer::start(&["--data-dir", d], &[]).await;
    let client = reqwest::Client::new();
    let analyst = crate::browser::Api::new(&server.base, "kill@agency.gov", password).await;
    let case = analyst
        .call(
            reqwest::Method::POST,
            "/api/v1/cases",
            Some(serde_json::json!({"title": "Notes under a crash", "summary": "Durability of acknowledged notes.",
                "origin": "own_initiative", "category": "critical_infrastructure", "adversaries": ["CN"], "restricted": false})),
        )
        .await;
    let token = analyst.token().to_string();
    let notes_path =
        format!("{}/api/v1/cases/{}/notes", server.base, case["id"].as_str().unwrap_or_else(|| panic!("{case}")));

    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (client, token, path, killed) = (client.clone(), token.clone(), notes_path.clone(), killed.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0.. {
                    let body = format!("writer {w} note {n}");
                    let r = client
                        .post(&path)
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "body": body }))
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 201 => acknowledged.push(body),
                        Ok(r) => assert!(
                            killed.load(std::sync::atomic::Ordering::SeqCst) && r.status() == 503,
                            "only 503 once the database is gone, got {}",
                            r.status()
                        ),
                        Err(e) => panic!("{e}"),
                    }
                    if killed.load(std::sync::atomic::Ordering::SeqCst) {
                        return acknowledged;
                    }
                }
                unreachable!()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let postmaster = cluster_of(&data_dir).server_pid().expect("the postmaster runs");
    let every = cluster_processes(postmaster);
    assert!(every.len() >= 5, "the postmaster, its writers and the service's backends: {every:?}");
    let victims = match crash {
        Crash::Everything => every,
        Crash::OneBackend => {
            let serving = every.iter().copied().find(|pid| {
                let title = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                String::from_utf8_lossy(&title).contains("icts_review")
            });
            vec![serving.expect("a backend serves the service")]
        }
    };
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    for pid in &victims {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGKILL);
    }
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.unwrap());
    }
    assert!(acknowledged.len() >= 100, "the writers were busy: {} notes", acknowledged.len());

    // The service starts its database again (crash recovery replays what reached the disk).
    let started = std::time::Instant::now();
    while ready_status(&client, &server.base).await != 200 {
        assert!(started.elapsed() < Duration::from_secs(30), "{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let socket_dir = std::fs::canonicalize(data_dir.join("run")).unwrap();
    let url = format!("postgres://postgres@localhost/icts_review?host={}", socket_dir.display());
    // After one backend's crash the postmaster recovers in place: `/readyz` may answer
    // before it has noticed, so connections are refused for a moment.
    let mut conn = loop {
        match sqlx::PgConnection::connect(&url).await {
            Ok(conn) => break conn,
            Err(e) => assert!(started.elapsed() < Duration::from_secs(30), "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stored: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT body FROM case_notes").fetch_all(&mut conn).await.unwrap().into_iter().collect();
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE event_type = 'case.note_added'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let lost: Vec<&String> = acknowledged.iter().filter(|b| !stored.contains(*b)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged notes lost: {lost:?}", lost.len(), acknowledged.len());
    assert_eq!(events, stored.len() as i64, "each stored note has its audit event");
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["--database-url", &url, "audit", "verify"])
        .current_dir(crate::harness::manifest_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the chain verifies after the crash: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
