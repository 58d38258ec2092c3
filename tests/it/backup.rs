//! Backup and restore as commands: a backup taken while the office is being written to
//! restores into a new data folder, whose audit chain verifies against its checkpoints.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::determinations::Office;

fn folder() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("icts-backup-").tempdir().unwrap();
    // When the tests run as root, the postgres system user must be able to enter it.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    dir
}

fn run(args: &[&str], database_url: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_icts-review"));
    cmd.args(args).current_dir(crate::harness::manifest_dir()).env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_write_load_restores_into_a_new_folder_and_verifies() {
    let o = Office::new().await;
    o.at_initial_determination(false).await;
    o.at_initial_determination(true).await;
    let app = Arc::new(o.app);
    let dir = folder();
    let checkpoints = dir.path().join("checkpoints.jsonl");
    let backup = dir.path().join("office.backup");

    // Writers sign in over and over (each sign-in is a session and an audit event) while
    // the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let (app, stop, written) = (app.clone(), stop.clone(), written.clone());
            tokio::spawn(async move {
                let user = app.user("analyst").await;
                while !stop.load(Ordering::Relaxed) {
                    app.sign_in(&user).await;
                    written.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    while written.load(Ordering::Relaxed) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let args = ["backup", "--out", backup.to_str().unwrap(), "--audit-checkpoint-file", checkpoints.to_str().unwrap()];
    let url = app.db_url.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (ok, text) =
        tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>(), Some(&url)))
            .await
            .unwrap();
    let during = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(ok, "{text}");
    assert!(text.contains("backup written to"), "{text}");
    assert!(during > 5, "writes went on during the backup");
    let events_now = app.count("audit_events").await;

    // The manifest names the head, the counts and each part's hash.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&backup).unwrap()).unwrap();
    let manifest: serde_json::Value = serde_json::from_reader(zip.by_name("manifest.json").unwrap()).unwrap();
    assert_eq!(manifest["format"], "icts-review backup v1");
    let names: Vec<&str> = manifest["parts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["database.dump", "audit-checkpoints.jsonl"]);
    assert!(manifest["parts"][0]["sha256"].as_str().unwrap().len() == 64);
    assert_eq!(manifest["counts"]["cases"], 2);
    let snapshot_events = manifest["counts"]["audit_events"].as_i64().unwrap();
    assert_eq!(manifest["head_seq"].as_i64().unwrap(), snapshot_events, "the head and the counts are one snapshot");
    assert!(snapshot_events < events_now, "later writes are not in the snapshot ({snapshot_events} < {events_now})");
    drop(zip);

    // Restore into a new data folder (the built-in database), which verifies.
    let target = folder();
    let data = target.path().join("data");
    let (ok, text) = run(&["restore", backup.to_str().unwrap(), "--data-dir", data.to_str().unwrap()], None);
    assert!(ok, "{text}");
    assert!(text.contains("2 cases"), "{text}");
    assert!(text.contains(&format!("{snapshot_events} audit events")), "{text}");
    assert!(text.contains("audit verify: OK"), "{text}");
    assert!(data.join("audit-checkpoints.jsonl").is_file(), "the checkpoint file is restored beside the database");
    assert!(!data.join("postgres/postmaster.pid").exists(), "the restore stops the database it started");
    let (ok, text) = run(&["audit", "verify", "--data-dir", data.to_str().unwrap()], None);
    assert!(ok && text.starts_with("OK"), "{text}");

    // Not over an existing office.
    let (ok, text) = run(&["restore", backup.to_str().unwrap(), "--data-dir", data.to_str().unwrap()], None);
    assert!(!ok && text.contains("already holds a database"), "{text}");
    // A damaged backup is refused before anything is written.
    let mut bytes = std::fs::read(&backup).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let damaged = dir.path().join("damaged.backup");
    std::fs::write(&damaged, bytes).unwrap();
    let elsewhere = folder();
    let data2 = elsewhere.path().join("data");
    let (ok, text) = run(&["restore", damaged.to_str().unwrap(), "--data-dir", data2.to_str().unwrap()], None);
    assert!(!ok, "{text}");
    assert!(!data2.join("postgres").exists(), "nothing was created for a damaged backup: {text}");
}
