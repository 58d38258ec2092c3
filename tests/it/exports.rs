//! Auditor exports: case dossiers verified offline, signed checkpoints that catch a
//! rewritten chain, the streaming log export, and reads that leave a trace.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use icts_review::audit::EventType;
use serde_json::{Value, json};

use crate::determinations::{Office, reauth};
use crate::harness::{TestApp, api};

/// A key pair in a temporary folder; returns (folder, private key path, public key path).
fn keypair() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit-key");
    icts_review::audit::checkpoint::keygen(&key).unwrap();
    let public = dir.path().join("audit-key.pub");
    (dir, key, public)
}

async fn signed_app(key: &Path, file: Option<&Path>) -> TestApp {
    TestApp::with(|c| {
        c.audit_signing_key = Some(std::sync::Arc::new(icts_review::audit::checkpoint::load_signing_key(key).unwrap()));
        c.audit_checkpoint_file = file.map(Path::to_path_buf);
    })
    .await
}

/// What the service's own verification expects: the key, the file, the interval, now.
fn want<'a>(
    key: &'a ed25519_dalek::VerifyingKey,
    file: &'a Path,
    app: &TestApp,
) -> icts_review::audit::checkpoint::Expectations<'a> {
    icts_review::audit::checkpoint::Expectations {
        key: Some(key),
        file: Some(file),
        interval: Some(app.config.audit_checkpoint_interval),
        now: app.state.now(),
    }
}

fn verify_export(file: &Path, public: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["verify-export", file.to_str().unwrap(), "--public-key", public.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

/// Replaces the first occurrence of `from` after `anchor` in the file's bytes.
fn tamper(bytes: &[u8], anchor: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let start = text.find(anchor).unwrap_or_else(|| panic!("{anchor} is in the dossier"));
    let at = start + text[start..].find(from).unwrap_or_else(|| panic!("{from} follows {anchor}"));
    let mut out = text.clone();
    out.replace_range(at..at + from.len(), to);
    assert_eq!(out.len(), text.len(), "a same-length change");
    out.into_bytes()
}

#[tokio::test]
async fn a_dossier_exports_verifies_offline_and_names_any_change() {
    let (dir, key, public) = keypair();
    let mut o = Office::over(signed_app(&key, None).await).await;
    let (id, _) = o.monitored().await;
    let app = &o.app;
    // Who may export, and only after a step-up.
    let r = app.send(api("GET", &format!("/api/v1/cases/{id}/export"), &o.ta, None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "analysts do not export");
    let auditor = app.user("auditor").await;
    let tu = app.token(&auditor).await;
    let r = app.send(api("GET", &format!("/api/v1/cases/{id}/export"), &tu, None)).await;
    assert_eq!(r.json()["type"], "urn:icts-review:problem:reauth-required");
    reauth(app, &tu, &auditor).await;
    let r = app.send(api("GET", &format!("/api/v1/cases/{id}/export?format=json"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("content-disposition").unwrap().contains("-dossier.json"));
    let d: Value = serde_json::from_slice(&r.body).unwrap();
    let parts = &d["parts"];
    assert_eq!(parts["case"]["id"], json!(id));
    let kinds: Vec<&str> =
        parts["determinations"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["initial", "final"]);
    assert!(parts["determinations"][1]["content_sha256"].as_str().unwrap().starts_with("\\x"));
    assert_eq!(parts["agency_notices"].as_array().unwrap().len(), 3);
    assert_eq!(parts["mitigation_measures"].as_array().unwrap().len(), 2);
    assert!(parts["audit_events"].as_array().unwrap().len() > 10);
    assert!(parts["checkpoint"]["signature"].is_string());
    let exported = app.events("case.exported").await;
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0]["actor_id"], json!(auditor.id));
    let file = dir.path().join("dossier.json");
    std::fs::write(&file, &r.body).unwrap();
    let (ok, out) = verify_export(&file, &public);
    assert!(ok, "{out}");
    assert!(out.contains("VERIFIED") && out.contains("matches its signed content hash"), "{out}");
    // Single changes: a value, a hash, an event, the manifest, the checkpoint signature.
    let body = r.body.clone();
    let event_hash = parts["audit_events"][3]["hash"].as_str().unwrap().to_string();
    let changed_hash = format!("{}{}", if event_hash.starts_with('0') { "1" } else { "0" }, &event_hash[1..]);
    let sig = parts["checkpoint"]["signature"].as_str().unwrap().to_string();
    let changed_sig = format!("{}{}", if sig.starts_with('0') { "1" } else { "0" }, &sig[1..]);
    let manifest_case = d["manifest"]["case"].as_str().unwrap().to_string();
    let changed_manifest = format!("{}{}", if manifest_case.starts_with('0') { "1" } else { "0" }, &manifest_case[1..]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a value", tamper(&body, "\"case\":{", "Router", "Rooter"), "part case"),
        ("a hash", tamper(&body, &event_hash, &event_hash, &changed_hash), "audit_events"),
        (
            "an event",
            tamper(&body, "\"event_type\":\"determination.signed\"", "determination.signed", "determination.signeD"),
            "audit_events",
        ),
        ("the manifest", tamper(&body, "\"manifest\"", &manifest_case, &changed_manifest), "part case"),
        ("the checkpoint signature", tamper(&body, &sig, &sig, &changed_sig), "checkpoint"),
        (
            "a determination's content",
            tamper(&body, "\"determinations\":[{", "Undue risk", "Undue rusk"),
            "determinations",
        ),
    ];
    for (what, bad, named) in cases {
        let f = dir.path().join("tampered.json");
        std::fs::write(&f, &bad).unwrap();
        let (ok, out) = verify_export(&f, &public);
        assert!(!ok, "changing {what} went unnoticed: {out}");
        assert!(out.contains(named), "changing {what}: the output names {named}: {out}");
    }
    // Another key is not the office's key.
    let (_d2, _k2, other_public) = keypair();
    let (ok, out) = verify_export(&file, &other_public);
    assert!(!ok && out.contains("expected key"), "{out}");
    // The CSV form: a zip of neutralised CSV files with the signed JSON inside.
    let r = app.send(api("GET", &format!("/api/v1/cases/{id}/export?format=csv"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type").as_deref(), Some("application/zip"));
    let zip_path = dir.path().join("dossier.zip");
    std::fs::write(&zip_path, &r.body).unwrap();
    let (ok, out) = verify_export(&zip_path, &public);
    assert!(ok, "{out}");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(r.body.clone())).unwrap();
    let mut events_csv = String::new();
    use std::io::Read;
    archive.by_name("audit_events.csv").unwrap().read_to_string(&mut events_csv).unwrap();
    assert!(events_csv.lines().count() > 10);
    let mut manifest_csv = String::new();
    archive.by_name("manifest.csv").unwrap().read_to_string(&mut manifest_csv).unwrap();
    let names: Vec<String> = archive.file_names().map(|n| n.unwrap().to_string()).collect();
    for name in names.iter().filter(|n| n.ends_with(".csv") && *n != "manifest.csv") {
        assert!(manifest_csv.lines().any(|l| l.starts_with(&format!("{name},"))), "{name} in the manifest");
    }
    // One byte changed in a CSV member fails, naming the file.
    let mut case_csv = Vec::new();
    archive.by_name("case.csv").unwrap().read_to_end(&mut case_csv).unwrap();
    let at = case_csv.iter().rposition(|b| b.is_ascii_alphabetic()).unwrap();
    case_csv[at] = if case_csv[at] == b'x' { b'y' } else { b'x' };
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            z.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
            use std::io::Write;
            z.write_all(if name == "case.csv" { &case_csv } else { &bytes }).unwrap();
        }
        z.finish().unwrap();
    }
    let bad = dir.path().join("altered.zip");
    std::fs::write(&bad, out.into_inner()).unwrap();
    let (ok, out) = verify_export(&bad, &public);
    assert!(!ok && out.contains("case.csv") && out.contains("altered"), "{out}");
    assert_eq!(app.events("case.exported").await.len(), 2);
    // Supervisors export too; administrators never see case content.
    reauth(app, &o.ts, &o.sup).await;
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{id}/export"), &o.ts, None)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn csv_exports_neutralise_formulas() {
    let (_dir, key, _public) = keypair();
    let o = Office::over(signed_app(&key, None).await).await;
    let app = &o.app;
    let body = json!({"title": "=HYPERLINK(\"http://evil.example\",\"open\")", "summary": "+1 555 0100 @ the port",
        "origin": "own_initiative", "category": "connected_devices", "adversaries": ["CN"], "restricted": false});
    let r = app.send(api("POST", "/api/v1/cases", &o.ta, Some(body))).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    reauth(app, &o.ts, &o.sup).await;
    let r = app.send(api("GET", &format!("/api/v1/cases/{id}/export?format=csv"), &o.ts, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(r.body)).unwrap();
    let mut case_csv = String::new();
    use std::io::Read;
    archive.by_name("case.csv").unwrap().read_to_string(&mut case_csv).unwrap();
    assert!(case_csv.contains("\"'=HYPERLINK("), "{case_csv}");
    assert!(case_csv.contains("'+1 555 0100"), "{case_csv}");
    assert!(!case_csv.lines().any(|l| l.split(',').any(|c| c.starts_with('=') || c.starts_with("\"="))), "{case_csv}");
}

#[tokio::test]
async fn a_superuser_rewrite_of_the_whole_chain_is_caught_by_the_checkpoints() {
    let (dir, key, public) = keypair();
    let file = dir.path().join("checkpoints.jsonl");
    let o = Office::over(signed_app(&key, Some(&file)).await).await;
    let app = &o.app;
    o.at_initial_determination(false).await;
    let signer = app.state.checkpointer.clone();
    let cp = icts_review::audit::checkpoint::create(&app.pool, &signer, app.state.now(), "manual", false)
        .await
        .unwrap()
        .unwrap();
    assert!(cp.signature.is_some());
    let expected = icts_review::audit::checkpoint::load_public_key(&public).unwrap();
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.checked, 2, "the database row and the file line");
    // A superuser rewrites an early event and rehashes the whole chain after it.
    let su = app.superuser_pool().await;
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&su).await.unwrap();
    let mut events: Vec<icts_review::audit::StoredEvent> =
        sqlx::query_as("SELECT * FROM audit_events ORDER BY seq").fetch_all(&su).await.unwrap();
    events[2].changes = json!({"rewritten": true});
    let mut prev = vec![0u8; 32];
    for e in events.iter_mut() {
        e.prev_hash = prev.clone();
        e.hash = icts_review::audit::recompute_hash(e).to_vec();
        prev = e.hash.clone();
        sqlx::query("UPDATE audit_events SET changes = $2, prev_hash = $3, hash = $4 WHERE seq = $1")
            .bind(e.seq)
            .bind(&e.changes)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .execute(&su)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE audit_head SET hash = $1").bind(&prev).execute(&su).await.unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER USER").execute(&su).await.unwrap();
    // The chain alone looks fine; the checkpoints do not.
    assert!(matches!(icts_review::audit::verify(&app.pool).await.unwrap(), icts_review::audit::Verdict::Ok { .. }));
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(report.problems.iter().any(|p| p.contains("rewritten")), "{:?}", report.problems);
    // The auditors' endpoint says so, and records that it checked.
    let auditor = app.user("auditor").await;
    let tu = app.token(&auditor).await;
    let r = app.send(api("GET", "/api/v1/audit/verify", &tu, None)).await.json();
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["checkpoints"]["problems"][0].as_str().unwrap().contains("rewritten"), "{r}");
    assert_eq!(app.events("audit.verified").await.len(), 1);
    // Removing the checkpoint rows does not help: the file still has them.
    sqlx::query("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER").execute(&su).await.unwrap();
    sqlx::query("DELETE FROM audit_checkpoints").execute(&su).await.unwrap();
    sqlx::query("ALTER TABLE audit_checkpoints ENABLE TRIGGER USER").execute(&su).await.unwrap();
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(report.problems.iter().any(|p| p.contains("missing from the database")), "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| p.contains("rewritten")), "{:?}", report.problems);
    // The command line too, with the published public key.
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args([
            "audit",
            "verify",
            "--public-key",
            public.to_str().unwrap(),
            "--audit-checkpoint-file",
            file.to_str().unwrap(),
        ])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("rewritten"), "{text}");
    // The application's role cannot touch checkpoints at all.
    let e = sqlx::query("DELETE FROM audit_checkpoints").execute(&app.pool).await.unwrap_err().to_string();
    assert!(e.contains("permission denied") || e.contains("append-only"), "{e}");
}

#[tokio::test]
async fn the_audit_log_streams_as_ndjson_and_csv_with_formulas_neutralised() {
    let app = TestApp::new().await;
    let auditor = app.user("auditor").await;
    let analyst = app.user("analyst").await;
    let ctx = icts_review::audit::AuditContext {
        request_id: Some("=cmd|' /C calc'!A0".into()),
        client_addr: Some("+1-trick".into()),
        ..Default::default()
    };
    for i in 0..250 {
        let e = icts_review::audit::NewEvent::new(EventType::Test).changes(json!({"i": i}));
        icts_review::audit::record_alone(&app.pool, app.state.now(), &ctx, e).await.unwrap();
    }
    let tu = app.token(&auditor).await;
    let r = app.send(api("GET", "/api/v1/audit/export?format=ndjson", &tu, None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the whole log needs the step-up, like a dossier");
    assert_eq!(app.events("audit.exported").await.len(), 0, "a refused export is not an export");
    crate::determinations::reauth(&app, &tu, &auditor).await;
    let r = app.send(api("GET", "/api/v1/audit/export?format=ndjson", &tu, None)).await;
    let total = app.count("audit_events").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type").as_deref(), Some("application/x-ndjson"));
    let lines: Vec<Value> = r.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as i64, total, "every event up to the export's own");
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "chain order");
    for l in &lines {
        let e = icts_review::audit::event_from_json(l).unwrap();
        assert_eq!(icts_review::audit::recompute_hash(&e).to_vec(), e.hash, "exported events keep their hashes");
    }
    let r = app.send(api("GET", "/api/v1/audit/export?format=csv", &tu, None)).await;
    let text = r.text();
    assert!(text.starts_with("seq,id,at,actor_id"), "{}", &text[..80]);
    assert!(text.contains("'=cmd|' /C calc'!A0"), "formula neutralised");
    assert!(text.contains("'+1-trick"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    for rec in reader.records() {
        for cell in rec.unwrap().iter() {
            assert!(!matches!(cell.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')), "{cell:?}");
        }
    }
    // A period, and bad input named.
    let tomorrow = (app.state.now() + time::Duration::days(1)).date();
    let r = app.send(api("GET", &format!("/api/v1/audit/export?from={tomorrow}"), &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "");
    let r = app.send(api("GET", "/api/v1/audit/export?format=xml", &tu, None)).await;
    assert_eq!(r.json()["errors"][0]["field"], "format");
    let r = app.send(api("GET", "/api/v1/audit/export?from=yesterday", &tu, None)).await;
    assert_eq!(r.json()["errors"][0]["field"], "from");
    let ta = app.token(&analyst).await;
    assert_eq!(app.send(api("GET", "/api/v1/audit/export", &ta, None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.events("audit.exported").await.len(), 3);
}

#[tokio::test]
async fn reading_a_restricted_case_leaves_a_trace() {
    let mut o = Office::new().await;
    let restricted = o.at_initial_determination(true).await;
    let open = o.at_initial_determination(false).await;
    o.refresh().await;
    let app = &o.app;
    let before = app.events("case.viewed").await.len();
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{open}"), &o.ts, None)).await.status, StatusCode::OK);
    assert_eq!(app.events("case.viewed").await.len(), before, "unrestricted reads are not recorded");
    assert_eq!(app.send(api("GET", &format!("/api/v1/cases/{restricted}"), &o.ts, None)).await.status, StatusCode::OK);
    let s = app.sign_in(&o.sup).await;
    assert_eq!(app.send(s.get(&format!("/cases/{restricted}"))).await.status, StatusCode::OK);
    assert_eq!(app.send(s.get(&format!("/cases/{restricted}/proceedings"))).await.status, StatusCode::OK);
    let viewed = app.events("case.viewed").await;
    assert_eq!(viewed.len(), before + 3);
    assert_eq!(viewed.last().unwrap()["object_id"], json!(restricted));
    assert_eq!(viewed.last().unwrap()["actor_id"], json!(o.sup.id));
}

#[tokio::test]
async fn checkpoints_cannot_vanish_quietly() {
    let (dir, key, public) = keypair();
    let file = dir.path().join("checkpoints.jsonl");
    let o = Office::over(signed_app(&key, Some(&file)).await).await;
    let app = &o.app;
    o.at_initial_determination(false).await;
    let signer = app.state.checkpointer.clone();
    let expected = icts_review::audit::checkpoint::load_public_key(&public).unwrap();
    for _ in 0..2 {
        app.clock.advance(time::Duration::seconds(1));
        icts_review::audit::checkpoint::create(&app.pool, &signer, app.state.now(), "manual", false).await.unwrap();
    }
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // A line removed from the file: the database checkpoint it held is named.
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().next().unwrap().to_string();
    std::fs::write(&file, text.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].contains("is not in the checkpoint file"), "{:?}", report.problems);

    // The file gone: verification fails naming it, on the command line too.
    std::fs::remove_file(&file).unwrap();
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("is missing") && p.contains(file.to_str().unwrap())),
        "{:?}",
        report.problems
    );
    let out = Command::new(env!("CARGO_BIN_EXE_icts-review"))
        .args(["audit", "verify", "--public-key", public.to_str().unwrap()])
        .args(["--audit-checkpoint-file", file.to_str().unwrap()])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("is missing") && stdout.contains(file.to_str().unwrap()), "{stdout}");
    // Unreadable (a folder where the file should be): named too.
    std::fs::create_dir(&file).unwrap();
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(report.problems.iter().any(|p| p.contains("cannot read the checkpoint file")), "{:?}", report.problems);
    std::fs::remove_dir(&file).unwrap();
    std::fs::write(&file, format!("{first}\n")).unwrap();

    // Writing fails (the file's folder is gone): the writer says so on /readyz and the
    // auditors' chain page, and the checkpoint that did not reach the file is reported.
    let gone = dir.path().join("gone").join("checkpoints.jsonl");
    let mut broken = signer.clone();
    broken.file = Some(gone.clone());
    icts_review::audit::checkpoint::create(&app.pool, &broken, app.state.now(), "manual", false).await.unwrap();
    let state = broken.status.state();
    assert_eq!(state.failures, 1, "{state:?}");
    assert!(state.last_error.as_deref().unwrap().contains(gone.to_str().unwrap()), "{state:?}");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "the service still serves");
    let body = ready.json();
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["checkpoints"]["ok"], false, "{body}");
    assert_eq!(body["checks"]["database"]["ok"], true, "{body}");
    let auditor = app.user("auditor").await;
    let session = app.sign_in(&auditor).await;
    let page = app.send(session.get("/audit/chain")).await.text();
    assert!(page.contains("data-testid=\"checkpoint-failing\"") && page.contains("not being written"), "{page}");
    // It writes again: the failure clears.
    icts_review::audit::checkpoint::create(&app.pool, &signer, app.state.now(), "manual", false).await.unwrap();
    assert_eq!(signer.status.state().failures, 0);
    assert_eq!(app.get("/readyz").await.json()["status"], "ready");

    // With a key: events waiting longer than the interval for a signed checkpoint fail
    // verification (the writer stopped, or its checkpoints were removed).
    std::fs::remove_file(&file).unwrap();
    icts_review::audit::checkpoint::create(&app.pool, &signer, app.state.now(), "manual", false).await.unwrap();
    app.sign_in(&auditor).await;
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(
        report.problems.iter().all(|p| !p.contains("interval")),
        "a new event within the interval owes nothing yet: {:?}",
        report.problems
    );
    app.clock.advance(time::Duration::seconds(app.config.audit_checkpoint_interval.as_secs() as i64 + 120));
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("no signed checkpoint for longer than the checkpoint interval")),
        "{:?}",
        report.problems
    );
    icts_review::audit::checkpoint::create(&app.pool, &signer, app.state.now(), "manual", false).await.unwrap();
    let report = icts_review::audit::checkpoint::verify_all(&app.pool, want(&expected, &file, app)).await.unwrap();
    assert!(report.problems.iter().all(|p| !p.contains("interval")), "{:?}", report.problems);
}

/// Appends `n` events shaped like real ones after the head (bulk rows: their hashes do not
/// form a chain; this is about delivering them).
async fn append_bulk(pool: &sqlx::PgPool, n: i64) {
    let mut tx = pool.begin().await.unwrap();
    let from: i64 = sqlx::query_scalar("SELECT seq FROM audit_head FOR UPDATE").fetch_one(&mut *tx).await.unwrap();
    sqlx::query(
        "INSERT INTO audit_events (seq, id, at, actor_id, actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash) \
         SELECT s, gen_random_uuid(), now() - make_interval(secs => ($1 + $2 - s)), gen_random_uuid(), 'analyst', '10.0.0.' || (s % 250), \
         'req-' || s, 'case.transition', 'case', gen_random_uuid()::text, \
         jsonb_build_object('action', 'notify_agencies', 'comment', repeat('x', 200)), \
         'success', sha256(int8send(s - 1)), sha256(int8send(s)) FROM generate_series($1 + 1, $1 + $2) s",
    )
    .bind(from)
    .bind(n)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = sha256(int8send($1))")
        .bind(from + n)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Opens a download that reads its response head and then nothing more, through a small
/// receive buffer.
async fn stalled_download(base: &str, path: &str, token: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_exports_hold_no_connection_and_are_cut_and_recorded() {
    use tokio::io::AsyncReadExt;
    let app = TestApp::new().await;
    let auditor = app.user("auditor").await;
    let analyst = app.user("analyst").await;
    append_bulk(&app.superuser_pool().await, 20_000).await;
    let data = tempfile::tempdir().unwrap();
    // A pool of two connections: twenty downloads that each held one would starve it.
    let server = crate::harness::RunningServer::start(
        &["--data-dir", data.path().to_str().unwrap()],
        &[("DATABASE_URL", &app.db_url), ("ICTS_DB_POOL_SIZE", "2"), ("ICTS_CLIENT_STALL_TIMEOUT", "2")],
    )
    .await;
    let client = reqwest::Client::new();
    let token = |u: &crate::harness::TestUser| {
        let (client, base) = (client.clone(), server.base.clone());
        let body = json!({"email": u.email, "password": u.password});
        async move {
            let r = client.post(format!("{base}/api/v1/auth/token")).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
        }
    };
    let (ta, tn) = (token(&auditor).await, token(&analyst).await);
    let r = client
        .post(format!("{}/api/v1/auth/reauth", server.base))
        .bearer_auth(&ta)
        .json(&json!({"password": auditor.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut stalled = Vec::new();
    for i in 0..20 {
        let path = if i % 2 == 0 { "/api/v1/audit/export?format=ndjson" } else { "/api/v1/audit/export?format=csv" };
        stalled.push(stalled_download(&server.base, path, &ta).await);
    }
    // Meanwhile everyone else is served, and a download read at full speed is complete.
    let full = {
        let (client, base, ta) = (client.clone(), server.base.clone(), ta.clone());
        tokio::spawn(async move {
            let r = client.get(format!("{base}/api/v1/audit/export")).bearer_auth(&ta).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap().lines().count()
        })
    };
    for _ in 0..40 {
        for path in ["/api/v1/cases", "/api/v1/parties"] {
            let r = client.get(format!("{}{path}", server.base)).bearer_auth(&tn).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path} while twenty exports stall");
        }
    }
    let lines = full.await.unwrap();
    assert!(lines > 20_000, "the full-speed export is whole ({lines} lines)");
    // With the twenty still stalled (and the full-speed reader, which holds a connection
    // while it reads, done), the pool is free: the instance reports itself ready.
    let ready: Value = client.get(format!("{}/readyz", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");

    // The stalled ones are cut after the stall timeout, broken off (no final chunk), and
    // each is recorded with how far it got.
    let mut incomplete = Vec::new();
    for _ in 0..150 {
        incomplete = app.events("audit.export_incomplete").await;
        if incomplete.len() >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(incomplete.len(), 20, "{incomplete:?}\n{}", server.log_text());
    for e in &incomplete {
        assert_eq!(e["changes"]["reason"], "client_stalled", "{e}");
        assert_eq!(e["changes"]["export"], "audit_log", "{e}");
        let rows = e["changes"]["delivered"]["rows"].as_u64().unwrap();
        assert!(rows < lines as u64, "{e}");
        assert_eq!(e["actor_id"], json!(auditor.id.to_string()), "{e}");
    }
    for mut s in stalled {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(20), s.read_to_end(&mut rest)).await;
        assert!(!rest.ends_with(b"\r\n0\r\n\r\n"), "a cut download does not end like a complete one");
    }
    assert!(server.log_text().contains("export incomplete"), "{}", server.log_text());
}

/// On an installation whose checkpoints are signed, a command run without the signing key
/// takes no unsigned checkpoint that would fail every later verification: `user add` goes
/// on and says so, `audit checkpoint` and the service refuse naming the setting. An
/// installation that never signed goes on as before.
#[tokio::test]
async fn a_command_without_the_key_cannot_poison_verification() {
    let (_dir, key, public) = keypair();
    let app = signed_app(&key, None).await;
    let bin = env!("CARGO_BIN_EXE_icts-review");
    let run = |args: &[&str], with_key: bool| {
        let mut cmd = Command::new(bin);
        cmd.args(args).env("DATABASE_URL", &app.db_url).env_remove("ICTS_AUDIT_SIGNING_KEY");
        if with_key {
            cmd.env("ICTS_AUDIT_SIGNING_KEY", &key);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let verify = |app: &TestApp| {
        let out = Command::new(bin)
            .args(["audit", "verify", "--public-key", public.to_str().unwrap()])
            .env("DATABASE_URL", &app.db_url)
            .env_remove("ICTS_AUDIT_SIGNING_KEY")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    // The service signs a first checkpoint: the installation knows its key from now on.
    let signer = app.state.checkpointer.clone();
    icts_review::audit::checkpoint::create(&app.pool, &signer, app.state.now(), "manual", false).await.unwrap();
    let checkpoints = app.count("audit_checkpoints").await;

    let add = ["user", "add", "--email", "a@agency.gov", "--name", "A", "--role", "analyst", "--generate-password"];
    let (code, out) = run(&add, false);
    assert_eq!(code, Some(0), "the command does its work: {out}");
    assert!(
        out.contains("--audit-signing-key") && out.contains("ICTS_AUDIT_SIGNING_KEY"),
        "says what is missing: {out}"
    );
    assert_eq!(app.count("audit_checkpoints").await, checkpoints, "no unsigned checkpoint");
    let (code, out) = verify(&app);
    assert_eq!(code, Some(0), "verification still passes: {out}");
    assert!(out.starts_with("OK "), "{out}");

    let (code, out) = run(&["audit", "checkpoint"], false);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("--audit-signing-key") && out.contains("ICTS_AUDIT_SIGNING_KEY"), "{out}");
    assert_eq!(app.count("audit_checkpoints").await, checkpoints);
    let (code, out) = run(&["serve", "--listen", "127.0.0.1:0"], false);
    assert_ne!(code, Some(0), "the service does not start without the key: {out}");
    assert!(out.contains("--audit-signing-key"), "{out}");

    // With the key the command takes its signed checkpoint, and verification passes.
    let add = ["user", "add", "--email", "b@agency.gov", "--name", "B", "--role", "analyst", "--generate-password"];
    let (code, out) = run(&add, true);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("no audit checkpoint"), "{out}");
    assert_eq!(app.count("audit_checkpoints").await, checkpoints + 1);
    let (code, out) = verify(&app);
    assert_eq!(code, Some(0), "{out}");

    // An installation that never signed: commands without a key checkpoint as before.
    let plain = TestApp::new().await;
    let out = Command::new(bin)
        .args(add)
        .env("DATABASE_URL", &plain.db_url)
        .env_remove("ICTS_AUDIT_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(plain.count("audit_checkpoints").await, 1, "an unsigned checkpoint, as configured");
    let out = Command::new(bin).args(["audit", "verify"]).env("DATABASE_URL", &plain.db_url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn a_filers_dossier_holds_both_dockets_and_verifies_offline() {
    let (dir, key, public) = keypair();
    let app = signed_app(&key, None).await;
    let (analyst, supervisor) = (app.user("analyst").await, app.user("supervisor").await);
    let (ta, ts) = (app.token(&analyst).await, app.token(&supervisor).await);
    let body = json!({"legal_name": "Harbin Connected Modules", "kind": "company", "country": "CN"});
    let party =
        app.send(api("POST", "/api/v1/parties", &ta, Some(body))).await.json()["id"].as_str().unwrap().to_string();
    let role = json!({"role": "hardware_importer", "since": "2025-03-17"});
    app.send(api("POST", &format!("/api/v1/parties/{party}/filer-roles"), &ta, Some(role))).await;
    let d = json!({"filer_id": party, "kind": "hardware", "calendar_year": 2027, "covers": ["TCU-2203"],
                   "certifications": ["No VCS hardware of a PRC- or Russia-linked supplier"]});
    let r = app.send(api("POST", "/api/v1/declarations", &ta, Some(d))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = json!({"party_id": party, "provision": "791.302", "summary": "Gateways of a PRC-controlled supplier",
                   "violation_on": "2026-03-01", "transaction_value": "310,000", "opened_on": "2026-04-01"});
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(m))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let matter = r.json()["id"].as_str().unwrap().to_string();
    let notice = json!({"kind": "pre_penalty_notice", "effective_on": "2026-04-10", "amount": "200,000",
                        "note": "Imports of VCS hardware (791.302)", "version": 1});
    let r = app.send(api("POST", &format!("/api/v1/enforcement/matters/{matter}/acts"), &ts, Some(notice))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let a = json!({"applicant_id": party, "summary": "Gateways whose modem is assembled in the PRC",
                   "contents": {"vehicles": "GW-4100"}});
    let r = app.send(api("POST", "/api/v1/authorizations/applications", &ta, Some(a))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let application = r.json()["id"].as_str().unwrap().to_string();
    let check = json!({"kind": "check", "version": 1});
    let r = app
        .send(api("POST", &format!("/api/v1/authorizations/applications/{application}/acts"), &ta, Some(check)))
        .await;
    assert_eq!(r.json()["status"], "incomplete", "{}", r.text());

    let o = json!({"requester_id": party, "question": "Is importing the modem prohibited for MY2028?",
                   "interest": "Our imports"});
    assert_eq!(app.send(api("POST", "/api/v1/opinions", &ta, Some(o))).await.status, StatusCode::CREATED);
    let b = json!({"party_id": party, "ga_number": "GA 2", "summary": "Prototype gateways imported for testing"});
    let r = app.send(api("POST", "/api/v1/general-authorizations/reliances", &ta, Some(b))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a PRC firm may not rely: {}", r.text());

    // Analysts do not export; an auditor does, after a step-up.
    let path = format!("/api/v1/parties/{party}/export");
    assert_eq!(app.send(api("GET", &path, &ta, None)).await.status, StatusCode::FORBIDDEN);
    let auditor = app.user("auditor").await;
    let tu = app.token(&auditor).await;
    let r = app.send(api("GET", &path, &tu, None)).await;
    assert_eq!(r.json()["type"], "urn:icts-review:problem:reauth-required");
    reauth(&app, &tu, &auditor).await;
    let r = app.send(api("GET", &path, &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    let parts = &doc["parts"];
    assert_eq!(parts["header"]["party_id"], json!(party));
    assert_eq!(parts["party"][0]["legal_name"], "Harbin Connected Modules");
    for (part, n) in [
        ("filer_roles", 1),
        ("declarations", 1),
        ("declaration_history", 1),
        ("enforcement_matters", 1),
        ("enforcement_acts", 2),
        ("authorization_applications", 1),
        ("authorization_acts", 2),
        ("opinion_requests", 1),
        ("opinion_acts", 1),
    ] {
        assert_eq!(parts[part].as_array().unwrap().len(), n, "{part}: {}", parts[part]);
    }
    let types: Vec<&str> =
        parts["audit_events"].as_array().unwrap().iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    for t in [
        "party.created",
        "party.filer_role_recorded",
        "declaration.filed",
        "enforcement.matter_opened",
        "enforcement.act_recorded",
        "authorization.application_filed",
        "authorization.act_recorded",
        "opinion.requested",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    assert_eq!(app.events("party.exported").await.len(), 1);
    let file = dir.path().join("party.json");
    std::fs::write(&file, &r.body).unwrap();
    let (ok, out) = verify_export(&file, &public);
    assert!(ok && out.contains("VERIFIED"), "{out}");
    // A changed item covered is named.
    std::fs::write(&file, tamper(&r.body, "\"declarations\":[", "TCU-2203", "TCU-2204")).unwrap();
    let (ok, out) = verify_export(&file, &public);
    assert!(!ok && out.contains("part declarations"), "{out}");
}

#[tokio::test]
async fn a_matters_dossier_holds_its_acts_party_and_declaration_and_verifies_offline() {
    let (dir, key, public) = keypair();
    let app = signed_app(&key, None).await;
    let (analyst, supervisor) = (app.user("analyst").await, app.user("supervisor").await);
    let (ta, ts) = (app.token(&analyst).await, app.token(&supervisor).await);
    let body = json!({"legal_name": "Qingdao Telematics Export Co.", "kind": "company", "country": "CN"});
    let party =
        app.send(api("POST", "/api/v1/parties", &ta, Some(body))).await.json()["id"].as_str().unwrap().to_string();
    let role = json!({"role": "hardware_importer", "since": "2025-03-17"});
    app.send(api("POST", &format!("/api/v1/parties/{party}/filer-roles"), &ta, Some(role))).await;
    let d = json!({"filer_id": party, "kind": "hardware", "calendar_year": 2027, "covers": ["QT-880"],
                   "certifications": ["No VCS hardware of a PRC- or Russia-linked supplier"]});
    let r = app.send(api("POST", "/api/v1/declarations", &ta, Some(d))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let declaration = r.json()["id"].as_str().unwrap().to_string();
    let m = json!({"party_id": party, "provision": "791.305", "declaration_id": declaration,
                   "summary": "A declaration certifying what the imports contradict",
                   "violation_on": "2026-03-01", "transaction_value": "410,000", "opened_on": "2026-04-01"});
    let r = app.send(api("POST", "/api/v1/enforcement/matters", &ta, Some(m))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let (matter, number) =
        (r.json()["id"].as_str().unwrap().to_string(), r.json()["number"].as_str().unwrap().to_string());
    let notice = json!({"kind": "pre_penalty_notice", "effective_on": "2026-04-10", "amount": "300,000",
                        "note": "False certification (791.305)", "version": 1});
    let r = app.send(api("POST", &format!("/api/v1/enforcement/matters/{matter}/acts"), &ts, Some(notice))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Analysts do not export; an auditor does, after a step-up; an unknown matter is 404.
    let path = format!("/api/v1/enforcement/matters/{matter}/export");
    assert_eq!(app.send(api("GET", &path, &ta, None)).await.status, StatusCode::FORBIDDEN);
    let auditor = app.user("auditor").await;
    let tu = app.token(&auditor).await;
    let r = app.send(api("GET", &path, &tu, None)).await;
    assert_eq!(r.json()["type"], "urn:icts-review:problem:reauth-required");
    reauth(&app, &tu, &auditor).await;
    let unknown = format!("/api/v1/enforcement/matters/{}/export", uuid::Uuid::now_v7());
    assert_eq!(app.send(api("GET", &unknown, &tu, None)).await.status, StatusCode::NOT_FOUND);
    let r = app.send(api("GET", &path, &tu, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-disposition").unwrap(), format!("attachment; filename=\"{number}-dossier.json\""));
    let doc: Value = serde_json::from_slice(&r.body).unwrap();
    let parts = &doc["parts"];
    assert_eq!(
        (parts["header"]["matter_id"].as_str(), parts["header"]["matter_number"].as_str()),
        (Some(matter.as_str()), Some(number.as_str()))
    );
    assert_eq!(parts["enforcement_matter"][0]["id"], json!(matter));
    assert_eq!(parts["party"][0]["legal_name"], "Qingdao Telematics Export Co.");
    assert_eq!(parts["declaration"][0]["id"], json!(declaration));
    assert_eq!(parts["case_reference"], json!([]));
    let kinds: Vec<&str> =
        parts["enforcement_acts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "pre_penalty_notice"]);
    let names: Vec<&str> = parts["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&analyst.name.as_str()) && names.contains(&supervisor.name.as_str()), "{names:?}");
    // Its events are the matter's, and only the matter's.
    let events = parts["audit_events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e["object_id"] == json!(matter)), "{events:?}");
    assert_eq!(app.events("enforcement.matter_exported").await.len(), 1);

    let file = dir.path().join("matter.json");
    std::fs::write(&file, &r.body).unwrap();
    let (ok, out) = verify_export(&file, &public);
    assert!(ok && out.contains("VERIFIED"), "{out}");
    // A changed amount is named by its part.
    std::fs::write(&file, tamper(&r.body, "\"enforcement_acts\":[", "30000000", "30000001")).unwrap();
    let (ok, out) = verify_export(&file, &public);
    assert!(!ok && out.contains("part enforcement_acts"), "{out}");
    // The matter's page offers the export to who may make it.
    let s = app.sign_in(&auditor).await;
    let html = app.send(s.get(&format!("/enforcement/{matter}"))).await.text();
    assert!(html.contains(&format!("href=\"/enforcement/{matter}/export\"")), "{html}");
    let s = app.sign_in(&analyst).await;
    let html = app.send(s.get(&format!("/enforcement/{matter}"))).await.text();
    assert!(!html.contains("export-matter"), "{html}");
}
