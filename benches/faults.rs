//! The service under faults: does it lose nothing acknowledged, come back by itself, stop
//! on time, and keep serving beside slow clients?
//!
//! `cargo bench --bench faults -- [--cases N] [--events M] [--data DIR] [--rounds R]
//! [--requests K] [--only NAME]` (defaults: 20,000 cases and 300,000 events in a temporary
//! folder, 10 rounds of the service kill, 2,000 requests per latency run). Each measure
//! sits beside a reference measured in the same run:
//! - **kill -9 of the service** under 8 writers, R times: every acknowledged case is there
//!   with its audit event after the restart; the restart's time against a clean restart's;
//! - **kill -9 of the postmaster** under readers and writers, R/2 times: how long until
//!   requests are served again (the service restarts its database), how many answers were
//!   500 (none may be), how fast the refusals came meanwhile; against a clean restart;
//! - **SIGTERM with 20 stalled exports** (grace 3 s): time to exit, against SIGTERM of an
//!   idle service; whether the database was shut down cleanly (no crash recovery next);
//! - **20 stalled exports beside normal traffic**: p50/p99 of case lists and case pages
//!   with them in progress, against the same traffic without;
//! - **backup and restore** while writers run: `backup` against a bare `pg_dump -Fc` of the
//!   same database, `restore` (which also migrates and verifies) against a bare
//!   `pg_restore` of that dump.

#![allow(
    clippy::disallowed_methods,
    reason = "a bench's bare-SQL references and fixtures; src/ is held to checked SQL"
)]

mod common;

use std::path::PathBuf;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// A PostgreSQL client program from the newest installed major version.
fn pg_program(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter().rev().map(|d| d.join(name)).find(|p| p.exists()).unwrap_or_else(|| PathBuf::from(name))
}

/// The postmaster's pid from its lock file.
fn postmaster_pid(data: &DataDir) -> i32 {
    let text = std::fs::read_to_string(data.path.join("postgres/postmaster.pid")).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// "shut down", "in production", … as `pg_controldata` reports the cluster.
fn cluster_state(data: &DataDir) -> String {
    let mut cmd = Command::new(pg_program("pg_controldata"));
    cmd.arg(data.path.join("postgres"));
    if nix::unistd::geteuid().is_root() {
        use std::os::unix::process::CommandExt;
        let pg = nix::unistd::User::from_name("postgres").unwrap().unwrap();
        cmd.uid(pg.uid.as_raw()).gid(pg.gid.as_raw());
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("Database cluster state:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| format!("unknown: {}", String::from_utf8_lossy(&out.stderr)))
}

fn new_case(i: usize) -> Value {
    json!({"title": format!("Fault bench case {i}"), "summary": "Filed while the benchmark breaks things.",
        "origin": "own_initiative", "category": "critical_infrastructure", "adversaries": ["CN"], "restricted": false})
}

/// Writers filing cases until told to stop; each acknowledged id is kept.
struct Writers {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Uuid>>>,
    tasks: Vec<tokio::task::JoinHandle<usize>>,
}

impl Writers {
    fn start(n: usize, base: &str, token: &str) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let tasks = (0..n)
            .map(|w| {
                let (stop, ack, client) = (stop.clone(), acknowledged.clone(), client.clone());
                let (url, token) = (format!("{base}/api/v1/cases"), token.to_string());
                tokio::spawn(async move {
                    let mut refused = 0;
                    let mut i = w * 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        match client.post(&url).bearer_auth(&token).json(&new_case(i)).send().await {
                            Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                                // Acknowledged only once the whole answer has arrived.
                                if let Ok(v) = r.json::<Value>().await
                                    && let Some(id) = v["id"].as_str().and_then(|s| s.parse().ok())
                                {
                                    ack.lock().unwrap().push(id);
                                }
                            }
                            _ => {
                                refused += 1;
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                    refused
                })
            })
            .collect();
        Writers { stop, acknowledged, tasks }
    }

    async fn finish(self) -> (Vec<Uuid>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        let mut refused = 0;
        for t in self.tasks {
            refused += t.await.unwrap();
        }
        let ids = self.acknowledged.lock().unwrap().clone();
        (ids, refused)
    }
}

/// How many of `ids` are stored with their `case.created` event.
async fn stored(data: &DataDir, ids: &[Uuid]) -> (i64, i64) {
    let owner = owner_pool(data, 1).await;
    let cases: i64 =
        sqlx::query_scalar("SELECT count(*) FROM cases WHERE id = ANY($1)").bind(ids).fetch_one(&owner).await.unwrap();
    let texts: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let events: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT object_id) FROM audit_events WHERE event_type = 'case.created' AND object_id = ANY($1)",
    )
    .bind(&texts)
    .fetch_one(&owner)
    .await
    .unwrap();
    owner.close().await;
    (cases, events)
}

fn sigkill(pid: u32) {
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
}

/// Opens a download that reads its response head and then nothing more, through a small
/// receive buffer.
async fn stalled_download(base: &str, path: &str, token: &str) -> tokio::net::TcpStream {
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "the response head arrives");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s
}

async fn stall_twenty(base: &str, token: &str) -> Vec<tokio::net::TcpStream> {
    reauth(&client(), base, token).await;
    let mut v = Vec::new();
    for i in 0..20 {
        let path = if i % 2 == 0 { "/api/v1/audit/export?format=ndjson" } else { "/api/v1/audit/export?format=csv" };
        v.push(stalled_download(base, path, token).await);
    }
    v
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

struct Report {
    lines: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    fn line(&mut self, s: String) {
        println!("{s}");
        self.lines.push(s);
    }
    fn check(&mut self, ok: bool, what: String) {
        self.line(format!("  [{}] {what}", if ok { "ok" } else { "FAILED" }));
        if !ok {
            self.failures.push(what);
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let given = |name: &str| args.iter().any(|a| a == name);
    let mut o = Options::parse();
    if !given("--cases") {
        o.cases = 20_000;
    }
    if !given("--events") {
        o.events = 300_000;
    }
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let data = DataDir::new(o.data.as_deref());
    let run = format!("{:x}", OffsetDateTime::now_utc().unix_timestamp());
    if !data.path.join("postgres").exists() {
        println!("seeding {} cases and {} audit events …", o.cases, o.events);
        cli(&data, &["seed", "--synthetic", "--cases", &o.cases.to_string(), "--events", &o.events.to_string()], None);
    }
    let analyst = add_user(&data, "analyst", &run);
    let supervisor = add_user(&data, "supervisor", &run);
    let auditor = add_user(&data, "auditor", &run);
    let http = client();
    let mut report = Report { lines: Vec::new(), failures: Vec::new() };

    // Reference: a clean restart (SIGTERM, wait, start until /readyz is ready), three times.
    let mut server = Server::start(&data, None, &[]).await;
    let mut clean = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        server.stop();
        server = Server::start(&data, None, &[]).await;
        clean.push(secs(t.elapsed()));
    }
    let clean_restart = median(clean);
    report.line(format!("reference: clean restart (stop + start until ready), median of 3: {clean_restart:.2} s"));
    let token_a = token(&http, &server.base, &analyst).await;

    // 1. kill -9 of the service under 8 writers.
    if o.runs("service kill") {
        report.line(format!("kill -9 of the service under 8 writers, {rounds} rounds"));
        let (mut acknowledged, mut lost, mut restarts) = (0usize, 0i64, Vec::new());
        for round in 0..rounds {
            let writers = Writers::start(8, &server.base, &token_a);
            tokio::time::sleep(Duration::from_millis(400 + 137 * (round as u64 % 8))).await;
            sigkill(server.pid);
            let _ = server.child.wait();
            let (ids, _) = writers.finish().await;
            let t = Instant::now();
            server = Server::start(&data, None, &[]).await;
            restarts.push(secs(t.elapsed()));
            let (cases, events) = stored(&data, &ids).await;
            acknowledged += ids.len();
            lost += ids.len() as i64 - cases.min(events);
        }
        let restart = median(restarts.clone());
        report.check(
            lost == 0,
            format!(
                "{acknowledged} cases acknowledged over {rounds} kills, {lost} missing or without their audit event"
            ),
        );
        report.line(format!(
            "  restart after kill -9: median {restart:.2} s, worst {:.2} s; ratio to a clean restart {:.2}",
            restarts.iter().cloned().fold(0.0, f64::max),
            restart / clean_restart
        ));
    }

    // 2. kill -9 of the postmaster under readers and writers.
    if o.runs("postmaster kill") {
        let kills = (rounds / 2).max(1);
        report.line(format!(
            "kill -9 of the built-in PostgreSQL's postmaster under 4 readers and 2 writers, {kills} rounds"
        ));
        let (mut recoveries, mut fives, mut refusals, mut slowest_refusal, mut acknowledged, mut lost) =
            (Vec::new(), 0usize, 0usize, 0.0f64, 0usize, 0i64);
        for _ in 0..kills {
            let stop = Arc::new(AtomicBool::new(false));
            let seen: Arc<Mutex<Vec<(f64, u16, f64)>>> = Arc::new(Mutex::new(Vec::new()));
            let started = Instant::now();
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    let (stop, seen, url, token) =
                        (stop.clone(), seen.clone(), format!("{}/api/v1/cases?limit=20", server.base), token_a.clone());
                    let c = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
                    tokio::spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            let t = Instant::now();
                            let status = match c.get(&url).bearer_auth(&token).send().await {
                                Ok(r) => {
                                    let s = r.status().as_u16();
                                    let _ = r.bytes().await;
                                    s
                                }
                                Err(_) => 0,
                            };
                            seen.lock().unwrap().push((secs(started.elapsed()), status, secs(t.elapsed())));
                            if status != 200 {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    })
                })
                .collect();
            let writers = Writers::start(2, &server.base, &token_a);
            tokio::time::sleep(Duration::from_secs(2)).await;
            let killed_at = secs(started.elapsed());
            kill(Pid::from_raw(postmaster_pid(&data)), Signal::SIGKILL).unwrap();
            // Until 200s have come back for two seconds, at most 60 s.
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let s = seen.lock().unwrap();
                let last_failure =
                    s.iter().filter(|x| x.0 > killed_at && x.1 != 200).map(|x| x.0).fold(killed_at, f64::max);
                let now = secs(started.elapsed());
                if (now - last_failure > 2.0 && s.iter().any(|x| x.0 > last_failure && x.1 == 200))
                    || now - killed_at > 60.0
                {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
            for r in readers {
                r.await.unwrap();
            }
            let (ids, _) = writers.finish().await;
            let s = seen.lock().unwrap().clone();
            let after: Vec<_> = s.iter().filter(|x| x.0 > killed_at).collect();
            let last_failure = after.iter().filter(|x| x.1 != 200).map(|x| x.0).fold(killed_at, f64::max);
            let back = after.iter().filter(|x| x.0 > last_failure && x.1 == 200).map(|x| x.0).fold(f64::MAX, f64::min);
            recoveries.push(back - killed_at);
            fives += after.iter().filter(|x| x.1 >= 500 && x.1 != 503).count();
            let refused: Vec<_> = after.iter().filter(|x| x.1 == 503).collect();
            refusals += refused.len();
            slowest_refusal = refused.iter().map(|x| x.2).fold(slowest_refusal, f64::max);
            let (cases, events) = stored(&data, &ids).await;
            acknowledged += ids.len();
            lost += ids.len() as i64 - cases.min(events);
        }
        let recovery = median(recoveries.clone());
        report.check(fives == 0, format!("answers other than 200 and 503 after the kills: {fives}"));
        report.check(lost == 0, format!("{acknowledged} cases acknowledged around the kills, {lost} missing"));
        let worst = recoveries.iter().cloned().fold(0.0, f64::max);
        report.check(
            worst < 10.0,
            format!("served again after the kill: median {recovery:.2} s, worst {worst:.2} s (target < 10 s)"),
        );
        report.line(format!(
            "  {refusals} refusals (503) meanwhile, the slowest in {:.0} ms; recovery / clean restart {:.2}",
            slowest_refusal * 1000.0,
            recovery / clean_restart
        ));
    }

    // 3. SIGTERM with 20 stalled exports, grace 3 s.
    if o.runs("sigterm") {
        let grace = ["--shutdown-grace", "3"];
        server.stop();
        let idle = Server::start(&data, None, &grace).await;
        let t = Instant::now();
        let idle_code = idle.stop();
        let idle_exit = secs(t.elapsed());
        let idle_state = cluster_state(&data);
        let busy = Server::start(&data, None, &grace).await;
        let token_u = token(&http, &busy.base, &auditor).await;
        let stalled = stall_twenty(&busy.base, &token_u).await;
        let t = Instant::now();
        let busy_code = busy.stop();
        let busy_exit = secs(t.elapsed());
        drop(stalled);
        let busy_state = cluster_state(&data);
        report.line("SIGTERM, grace 3 s".to_string());
        report.check(
            busy_exit < 8.0,
            format!("with 20 stalled exports: exit in {busy_exit:.2} s (limit grace + 5 = 8 s); idle: {idle_exit:.2} s; ratio {:.2}", busy_exit / idle_exit),
        );
        report.check(
            busy_code == Some(0) && idle_code == Some(0),
            format!("exit code with 20 stalled exports: {busy_code:?} (idle: {idle_code:?})"),
        );
        report.check(
            busy_state == "shut down" && idle_state == "shut down",
            format!("database cluster state after exit: \"{busy_state}\" (idle: \"{idle_state}\")"),
        );
        server = Server::start(&data, None, &[]).await;
    }

    // 4. 20 stalled exports beside normal traffic.
    if o.runs("beside") {
        server.stop();
        server = Server::start(&data, None, &["--client-stall-timeout", "600"]).await;
        let session = sign_in(&http, &server.base, &supervisor).await.unwrap();
        let token_u = token(&http, &server.base, &auditor).await;
        let owner = owner_pool(&data, 1).await;
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM cases ORDER BY created_at DESC LIMIT 200")
            .fetch_all(&owner)
            .await
            .unwrap();
        owner.close().await;
        let (ids, n) = (Arc::new(ids), o.requests);
        let traffic = |base: String, session: String, ids: Arc<Vec<Uuid>>| {
            let cl = client();
            drive(4, n, move |i| {
                let (cl, s) = (cl.clone(), session.clone());
                let u = if i % 2 == 0 {
                    format!("{base}/cases?stage=initial_review")
                } else {
                    format!("{base}/cases/{}", ids[i % ids.len()])
                };
                async move { get_page(&cl, &u, &s).await }
            })
        };
        let without = traffic(server.base.clone(), session.clone(), ids.clone()).await;
        let stalled = stall_twenty(&server.base, &token_u).await;
        let with = traffic(server.base.clone(), session.clone(), ids.clone()).await;
        let ready: Value = http.get(format!("{}/readyz", server.base)).send().await.unwrap().json().await.unwrap();
        drop(stalled);
        report.line(format!("case lists and case pages, 4 in flight, {n} requests"));
        report.line(format!(
            "  without exports: p50 {:.2} ms, p99 {:.2} ms, {:.0}/s, {} errors",
            without.p50_ms, without.p99_ms, without.per_second, without.errors
        ));
        report.check(
            with.errors == 0 && with.p99_ms < 100.0,
            format!(
                "with 20 stalled exports: p50 {:.2} ms, p99 {:.2} ms, {:.0}/s, {} errors{}; p99 ratio {:.2} (target p99 < 100 ms)",
                with.p50_ms,
                with.p99_ms,
                with.per_second,
                with.errors,
                with.first_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default(),
                with.p99_ms / without.p99_ms
            ),
        );
        report.check(ready["status"] == "ready", format!("/readyz meanwhile: {}", ready["status"]));
    }

    // 5. Backup and restore while writers run.
    if o.runs("backup") {
        let work = tempfile::Builder::new().prefix("icts-faults-").tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(work.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let token_w = token(&http, &server.base, &analyst).await;
        let writers = Writers::start(2, &server.base, &token_w);
        let dump = work.path().join("reference.dump");
        let t = Instant::now();
        let out = Command::new(pg_program("pg_dump"))
            .args(["-Fc", "-f", dump.to_str().unwrap(), "-d", &data.url()])
            .output()
            .unwrap();
        let bare_dump = secs(t.elapsed());
        assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
        let file = work.path().join("office.backup");
        let t = Instant::now();
        cli(&data, &["backup", "--out", file.to_str().unwrap()], None);
        let backup = secs(t.elapsed());
        let (ids, _) = writers.finish().await;
        let size = std::fs::metadata(&file).unwrap().len() as f64 / 1_048_576.0;

        let owner = owner_pool(&data, 1).await;
        sqlx::query("DROP DATABASE IF EXISTS icts_faults_reference").execute(&owner).await.unwrap();
        sqlx::query("CREATE DATABASE icts_faults_reference").execute(&owner).await.unwrap();
        let reference_url = data.url().replace("/icts_review?", "/icts_faults_reference?");
        let t = Instant::now();
        let out = Command::new(pg_program("pg_restore"))
            .args(["--no-owner", "--no-acl", "-d", &reference_url, dump.to_str().unwrap()])
            .output()
            .unwrap();
        let bare_restore = secs(t.elapsed());
        assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
        sqlx::query("DROP DATABASE icts_faults_reference").execute(&owner).await.unwrap();
        owner.close().await;

        let target = DataDir::new(Some(&work.path().join("restored")));
        let t = Instant::now();
        let said = cli(&target, &["restore", file.to_str().unwrap()], None);
        let restore = secs(t.elapsed());
        report.line(format!("backup and restore, 2 writers filing cases meanwhile ({} acknowledged)", ids.len()));
        report.line(format!(
            "  backup: {backup:.2} s for {size:.1} MiB; bare pg_dump -Fc {bare_dump:.2} s; ratio {:.2}",
            backup / bare_dump
        ));
        report.check(
            said.contains("restored"),
            format!(
                "restore (initdb, pg_restore, migrate, verify): {restore:.2} s; bare pg_restore {bare_restore:.2} s; ratio {:.2}: {}",
                restore / bare_restore,
                said.lines().find(|l| l.starts_with("restored")).unwrap_or(said.trim())
            ),
        );
        // The restored office's own database stops with the command; nothing to clean up
        // beyond the folder.
    }

    let verify = cli(&data, &["audit", "verify"], None);
    report.check(verify.starts_with("OK"), format!("audit verify: {}", verify.trim()));
    server.stop();
    if report.failures.is_empty() {
        println!("faults: every check held");
    } else {
        println!("faults: {} check(s) FAILED: {:?}", report.failures.len(), report.failures);
        std::process::exit(1);
    }
}
