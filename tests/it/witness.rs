//! The audit log's witness outside the database: the service forwards every event and
//! checkpoint to a real rsyslog (Debian's `rsyslog` and `rsyslog-gnutls`) over TLS with
//! client certificates; an outage is shown and caught up; and `audit verify --witness`
//! catches what a database superuser removes locally, which verification alone cannot.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::{Api, database_with_users};
use crate::harness::{RunningServer, free_port};

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, the collector's certificate for `localhost` and the service's client certificate.
fn certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Audit test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    for (name, cn, ext) in [
        ("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        ("client", "icts-review", "extendedKeyUsage=clientAuth\n"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        let (key, csr, pem, extfile) =
            (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        openssl(dir, &[&["req"][..], &ec, &["-keyout", &key, "-out", &csr, "-subj", &format!("/CN={cn}")]].concat());
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &extfile,
            ],
        );
    }
}

/// An rsyslog receiving syslog over TLS (RFC 5425) that asks for a client certificate
/// from the same CA, and writes each message on a line of `collector.log`.
struct Collector {
    dir: PathBuf,
    child: Option<Child>,
}

impl Collector {
    fn start(dir: &Path, port: u16) -> Collector {
        let d = dir.display();
        std::fs::create_dir_all(dir.join("work")).unwrap();
        let conf = format!(
            r#"global(workDirectory="{d}/work" maxMessageSize="256k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="{d}/ca.pem"
  defaultNetstreamDriverCertFile="{d}/server.pem"
  defaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imtcp" port="{port}")
template(name="witness" type="string" string="%TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %msg%\n")
action(type="omfile" file="{d}/collector.log" template="witness")
"#
        );
        std::fs::write(dir.join("rsyslog.conf"), conf).unwrap();
        let child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("rsyslogd.err")).unwrap())
            .spawn()
            .expect("rsyslogd is installed (apt-get install rsyslog rsyslog-gnutls)");
        let mut c = Collector { dir: dir.to_path_buf(), child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = c.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("rsyslogd exited with {status}: {}", std::fs::read_to_string(dir.join("rsyslogd.err")).unwrap());
            }
            assert!(Instant::now() < deadline, "rsyslogd does not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.join("collector.log")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// The positions of the events the collector holds, in the order it wrote them.
    fn seqs(&self) -> Vec<i64> {
        self.text()
            .lines()
            .filter_map(|l| l.split("{\"icts_audit\":\"event\",\"seq\":").nth(1))
            .map(|r| r.split(',').next().unwrap().parse().unwrap())
            .collect()
    }

    /// Waits until the collector holds the event at `seq`.
    async fn wait_for_event(&self, seq: i64) {
        let needle = format!("{{\"icts_audit\":\"event\",\"seq\":{seq},");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.text().contains(&needle) {
            assert!(Instant::now() < deadline, "the collector never received event {seq}:\n{}", self.text());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn head(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(pool).await.unwrap()
}

async fn readyz(base: &str) -> Value {
    reqwest::get(format!("{base}/readyz")).await.unwrap().json().await.unwrap()
}

/// Runs the binary's `audit` command on the test database; returns (exit code, stdout).
fn audit(url: &str, key: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .arg("audit")
        .args(args)
        .env("DATABASE_URL", url)
        .env("ICTS_AUDIT_SIGNING_KEY", key)
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_collector_over_tls_witnesses_what_a_superuser_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    certificates(d);
    let port = free_port();
    let mut collector = Collector::start(d, port);
    let password = "a shared long passphrase";
    let (url, pool, _) = database_with_users(&[("ann.analyst@agency.gov", "Ann Analyst", "analyst")], password).await;
    let key = d.join("audit-key");
    icts_review::audit::checkpoint::keygen(&key).unwrap();
    let public = d.join("audit-key.pub");
    let file = d.join("checkpoints.jsonl");
    let path = |name: &str| d.join(name).to_str().unwrap().to_string();
    let target = format!("tls://localhost:{port}");
    let server = RunningServer::start(
        &[
            "--audit-signing-key",
            key.to_str().unwrap(),
            "--audit-checkpoint-file",
            file.to_str().unwrap(),
            "--audit-syslog",
            &target,
            "--audit-syslog-ca",
            &path("ca.pem"),
            "--audit-syslog-cert",
            &path("client.pem"),
            "--audit-syslog-key",
            &path("client.key"),
            "--audit-syslog-backlog",
            "5",
        ],
        &[("DATABASE_URL", url.as_str())],
    )
    .await;
    let ann = Api::new(&server.base, "ann.analyst@agency.gov", password).await;
    let case = ann
        .call(
            Method::POST,
            "/api/v1/cases",
            Some(json!({"title": "Satellite ground station software «Спутник»", "summary": "Ground-station control software updated from abroad.",
                "origin": "own_initiative", "category": "network_infrastructure", "adversaries": ["RU"], "restricted": false})),
        )
        .await;
    let id = case["id"].as_str().unwrap().to_string();
    let note = |body: String| {
        let ann = &ann;
        let id = id.clone();
        async move { ann.call(Method::POST, &format!("/api/v1/cases/{id}/notes"), Some(json!({"body": body}))).await }
    };
    note("Vendor contacted.".into()).await;
    let cp_args = ["checkpoint", "--audit-checkpoint-file", file.to_str().unwrap()];
    let (code, out) = audit(&url, &key, &cp_args);
    assert_eq!(code, Some(0), "{out}");
    let first = head(&pool).await;
    note("Second contact with the vendor.".into()).await;
    let (code, out) = audit(&url, &key, &cp_args);
    assert_eq!(code, Some(0), "{out}");
    let second = head(&pool).await;
    assert!(second > first);

    // Every event reaches the collector in order, over TLS, with the checkpoints.
    collector.wait_for_event(second).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !collector.text().contains(&format!("{{\"icts_audit\":\"checkpoint\",\"checkpoint\":{{\"seq\":{second},")) {
        assert!(Instant::now() < deadline, "the second checkpoint never reached the collector:\n{}", collector.text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = collector.text();
    let seqs = collector.seqs();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "in chain order, none missing");
    assert!(text.contains("icts-review"), "RFC 5424 APP-NAME: {text}");
    assert!(text.contains("\\u0421\\u043f\\u0443\\u0442\\u043d\\u0438\\u043a"), "the case's text, in ASCII JSON");
    let ready = readyz(&server.base).await;
    assert_eq!(ready["checks"]["forwarding"]["ok"], true, "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    let (code, out) = audit(
        &url,
        &key,
        &[
            "verify",
            "--public-key",
            public.to_str().unwrap(),
            "--witness",
            collector.log().to_str().unwrap(),
            "--audit-checkpoint-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "the log agrees with its witness: {out}");
    assert!(
        out.contains(&format!("witness: {second} event(s) up to {second}")) && !out.contains("WITNESS PROBLEM"),
        "{out}"
    );

    // An outage of the collector: shown on /readyz, nothing lost, caught up in order.
    collector.stop();
    for i in 0..7 {
        note(format!("Note {i} while the collector is down.")).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = readyz(&server.base).await;
        let f = &ready["checks"]["forwarding"];
        if f["ok"] == false && f["detail"]["failing_since"].is_string() {
            assert_eq!(ready["status"], "degraded", "{ready}");
            assert!(f["detail"]["backlog"].as_i64().unwrap() > 5, "over its limit: {ready}");
            assert!(f["detail"]["last_error"].as_str().unwrap().contains(&format!("localhost:{port}")), "{ready}");
            break;
        }
        assert!(Instant::now() < deadline, "the outage never showed: {ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let collector = Collector::start(d, port);
    let now = head(&pool).await;
    collector.wait_for_event(now).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while readyz(&server.base).await["checks"]["forwarding"]["ok"] != true {
        assert!(Instant::now() < deadline, "forwarding never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut seqs = collector.seqs();
    seqs.dedup();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order across the outage: {seqs:?}");
    for s in 1..=now {
        assert!(seqs.contains(&s), "event {s} reached the collector: {seqs:?}");
    }
    drop(server);

    // A superuser removes the checkpoint file, every checkpoint in the database and the
    // events after the first checkpoint, and moves the head back. The database alone
    // cannot tell: the window the checkpoints leave open.
    let su = sqlx::PgPool::connect(&url).await.unwrap();
    let first_hash: Vec<u8> =
        sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = $1").bind(first).fetch_one(&su).await.unwrap();
    std::fs::remove_file(&file).unwrap();
    for sql in [
        "ALTER TABLE audit_checkpoints DISABLE TRIGGER USER",
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
        "DELETE FROM audit_forwarded_checkpoints",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_signing_keys",
    ] {
        sqlx::query(sql).execute(&su).await.unwrap();
    }
    sqlx::query("DELETE FROM audit_events WHERE seq > $1").bind(first).execute(&su).await.unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2").bind(first).bind(&first_hash).execute(&su).await.unwrap();
    for sql in ["ALTER TABLE audit_checkpoints ENABLE TRIGGER USER", "ALTER TABLE audit_events ENABLE TRIGGER USER"] {
        sqlx::query(sql).execute(&su).await.unwrap();
    }
    let verify =
        ["verify", "--public-key", public.to_str().unwrap(), "--audit-checkpoint-file", file.to_str().unwrap()];
    let (code, out) = audit(&url, &key, &verify);
    assert_eq!(code, Some(0), "without the witness the removal goes unseen: {out}");
    // With the collector's copy it fails, naming the checkpoints and events removed.
    let witness = collector.log();
    let with_witness = [&verify[..], &["--witness", witness.to_str().unwrap()]].concat();
    let (code, out) = audit(&url, &key, &with_witness);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("the witnessed checkpoint at event {second} of"))
            && out.contains("is missing from the database"),
        "{out}"
    );
    assert!(out.contains(&format!("the witnessed event {now} is missing from the log")), "{out}");
}

/// The chain page and `/readyz` say how forwarding stands, as every instance reads it from
/// the database: here a collector that has been sent nothing while the log grew past the
/// backlog limit.
#[tokio::test]
async fn a_backlog_past_its_limit_shows_on_the_chain_page_and_readyz() {
    let settings = icts_review::audit::forward::Settings::parse("tcp://127.0.0.1:9", Default::default(), 2).unwrap();
    let app = crate::harness::TestApp::with(|c| c.audit_syslog = Some(settings.clone())).await;
    let auditor = app.user("auditor").await;
    let s = app.sign_in(&auditor).await;
    for _ in 0..3 {
        app.sign_in(&auditor).await;
    }
    let page = app.send(s.get("/audit/chain")).await.text();
    assert!(page.contains("data-testid=\"forwarding-failing\""), "{page}");
    assert!(page.contains("The audit collector is falling behind") && page.contains("tcp://127.0.0.1:9"), "{page}");
    // `/readyz` reads the forwarding state when the pool has a connection to spare and the
    // database answered its ping: under a loaded test run, ask again until it did.
    let read_ready = async || {
        for _ in 0..50 {
            let ready = app.get("/readyz").await.json();
            if ready["checks"]["forwarding"].is_object() {
                return ready;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("/readyz never read the forwarding state");
    };
    let ready = read_ready().await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["forwarding"]["ok"], false, "{ready}");
    assert_eq!(ready["checks"]["forwarding"]["detail"]["backlog_limit"], 2, "{ready}");
    // Once the collector has been sent everything, it holds.
    sqlx::query("UPDATE audit_forwarding SET seq = (SELECT seq FROM audit_head), forwarded_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    let page = app.send(s.get("/audit/chain")).await.text();
    assert!(!page.contains("forwarding-failing"), "{page}");
    assert!(page.contains("data-testid=\"forwarding\""), "{page}");
    assert_eq!(read_ready().await["checks"]["forwarding"]["ok"], true);
}
