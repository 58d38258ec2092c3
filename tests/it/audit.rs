//! The audit chain: one linear chain under concurrent writers, tampering caught by the
//! verifier (library and command line), and the append-only rules of the database.

use std::process::Command;

use icts_review::audit::{self, AuditContext, EventType, NewEvent, Verdict};
use sqlx::PgPool;

use crate::harness::TestApp;

async fn write_events(pool: PgPool, writer: usize, n: usize, app_now: time::OffsetDateTime) {
    for i in 0..n {
        let ctx = AuditContext { request_id: Some(format!("writer-{writer}-{i}")), ..Default::default() };
        let mut tx = pool.begin().await.unwrap();
        audit::record(
            &mut tx,
            app_now,
            &ctx,
            NewEvent::new(EventType::Test).changes(serde_json::json!({"writer": writer, "i": i})),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn eight_concurrent_writers_through_two_pools_make_one_chain() {
    let app = TestApp::new().await;
    // Two pools, as two app instances would have.
    let pool_a = icts_review::db::pool_options(&app.config).max_connections(4).connect(&app.db_url).await.unwrap();
    let pool_b = icts_review::db::pool_options(&app.config).max_connections(4).connect(&app.db_url).await.unwrap();
    let now = app.state.now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let pool = if w % 2 == 0 { pool_a.clone() } else { pool_b.clone() };
        tasks.push(tokio::spawn(write_events(pool, w, 40, now)));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let verdict = audit::verify(&app.pool).await.unwrap();
    match verdict {
        Verdict::Ok { count, .. } => assert_eq!(count, 320),
        other => panic!("chain broken: {other}"),
    }
    // No fork: positions are 1..=320 and every prev_hash is the hash before it.
    let forks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events e JOIN audit_events p ON p.seq = e.seq - 1 WHERE e.prev_hash <> p.hash",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(forks, 0);
    let (min, max): (i64, i64) =
        sqlx::query_as("SELECT min(seq), max(seq) FROM audit_events").fetch_one(&app.pool).await.unwrap();
    assert_eq!((min, max), (1, 320));
}

#[tokio::test]
async fn an_event_timed_to_the_nanosecond_in_another_offset_still_verifies() {
    let app = TestApp::new().await;
    // PostgreSQL keeps microseconds in UTC; the hash must cover the time as stored.
    let at = time::macros::datetime!(2026-03-04 05:06:07.123456789 +02:00);
    let mut tx = app.pool.begin().await.unwrap();
    audit::record(&mut tx, at, &AuditContext::default(), NewEvent::new(EventType::Test)).await.unwrap();
    audit::record_many(&mut tx, at, &AuditContext::default(), vec![NewEvent::new(EventType::Test)]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), Verdict::Ok { count: 2, .. }));
    let stored: time::OffsetDateTime =
        sqlx::query_scalar("SELECT at FROM audit_events WHERE seq = 1").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, time::macros::datetime!(2026-03-04 03:06:07.123456 UTC));
}

async fn chain_of(app: &TestApp, n: usize) {
    let now = app.state.now();
    for i in 0..n {
        audit::record_alone(
            &app.pool,
            now,
            &AuditContext::default(),
            NewEvent::new(EventType::Test).changes(serde_json::json!({"i": i})),
        )
        .await
        .unwrap();
    }
}

fn broken_at(v: Verdict) -> i64 {
    match v {
        Verdict::Broken { seq, .. } => seq,
        Verdict::Ok { .. } => panic!("tampering was not detected"),
    }
}

#[tokio::test]
async fn a_superuser_changing_a_row_is_named_by_verify() {
    let app = TestApp::new().await;
    chain_of(&app, 10).await;
    let su = app.superuser_pool().await;
    let mut tx = su.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE audit_events SET changes = '{\"i\": 999}' WHERE seq = 4").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let v = audit::verify(&app.pool).await.unwrap();
    assert!(v.to_string().contains("altered"), "{v}");
    assert_eq!(broken_at(v), 4);
}

#[tokio::test]
async fn a_superuser_deleting_a_middle_row_is_named_by_verify() {
    let app = TestApp::new().await;
    chain_of(&app, 10).await;
    let su = app.superuser_pool().await;
    let mut tx = su.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq = 6").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let v = audit::verify(&app.pool).await.unwrap();
    assert!(v.to_string().contains("missing"), "{v}");
    assert_eq!(broken_at(v), 6);
}

#[tokio::test]
async fn a_superuser_swapping_two_rows_is_named_by_verify() {
    let app = TestApp::new().await;
    chain_of(&app, 10).await;
    let su = app.superuser_pool().await;
    let mut tx = su.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE audit_events SET seq = 1000003 WHERE seq = 3").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE audit_events SET seq = 3 WHERE seq = 7").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE audit_events SET seq = 7 WHERE seq = 1000003").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(broken_at(audit::verify(&app.pool).await.unwrap()), 3);
}

#[tokio::test]
async fn removing_the_newest_events_is_caught_by_the_head() {
    let app = TestApp::new().await;
    chain_of(&app, 5).await;
    let su = app.superuser_pool().await;
    let mut tx = su.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq = 5").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let v = audit::verify(&app.pool).await.unwrap();
    assert!(v.to_string().contains("chain head"), "{v}");
}

#[tokio::test]
async fn the_application_role_cannot_update_delete_or_truncate_events() {
    let app = TestApp::new().await;
    chain_of(&app, 3).await;
    for sql in [
        "UPDATE audit_events SET outcome = 'failure' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
    ] {
        let err = sqlx::query(sql).execute(&app.pool).await.expect_err(sql);
        let msg = err.to_string();
        assert!(msg.contains("permission denied") || msg.contains("append-only"), "{sql}: {msg}");
    }
    // Even the owner is stopped by the triggers (short of disabling them as a superuser).
    let su = app.superuser_pool().await;
    for sql in [
        "UPDATE audit_events SET outcome = 'failure' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
        "TRUNCATE audit_events",
    ] {
        let err = sqlx::query(sql).execute(&su).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), Verdict::Ok { count: 3, .. }));
}

#[tokio::test]
async fn a_rolled_back_change_leaves_no_event() {
    let app = TestApp::new().await;
    let mut tx = app.pool.begin().await.unwrap();
    audit::record(&mut tx, app.state.now(), &AuditContext::default(), NewEvent::new(EventType::Test)).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(app.count("audit_events").await, 0);
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), Verdict::Ok { count: 0, .. }));
}

#[tokio::test]
async fn events_join_the_chain_at_commit_in_the_order_they_were_recorded() {
    let app = TestApp::new().await;
    let now = app.state.now();
    let event = |i: i32| NewEvent::new(EventType::Test).changes(serde_json::json!({"i": i}));
    let mut tx = app.pool.begin().await.unwrap();
    for i in 0..3 {
        audit::record(&mut tx, now, &AuditContext::default(), event(i)).await.unwrap();
    }
    // Recorded, not yet linked: the head is free for other writers until this commit.
    let inside: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(inside, 0);
    let other = app.pool.begin().await;
    let mut other = other.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT seq FROM audit_head WHERE singleton FOR UPDATE NOWAIT")
        .fetch_one(&mut *other)
        .await
        .expect("the head is not held by a transaction that has only recorded");
    assert_eq!(head, 0);
    other.rollback().await.unwrap();
    tx.commit().await.unwrap();
    let order: Vec<(i64, i32)> = sqlx::query_as("SELECT seq, (changes->>'i')::int FROM audit_events ORDER BY seq")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(order, vec![(1, 0), (2, 1), (3, 2)]);
    assert_eq!(app.count("audit_pending").await, 0, "the commit took the pending rows");
    // A transaction that reads its own events first links them at once, and those it
    // records afterwards as it records them; a bulk append comes after the single ones.
    let mut tx = app.pool.begin().await.unwrap();
    audit::record(&mut tx, now, &AuditContext::default(), event(3)).await.unwrap();
    audit::chain_now(&mut tx).await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(head, 4);
    audit::record(&mut tx, now, &AuditContext::default(), event(4)).await.unwrap();
    audit::record_many(&mut tx, now, &AuditContext::default(), vec![event(5), event(6)]).await.unwrap();
    audit::record(&mut tx, now, &AuditContext::default(), event(7)).await.unwrap();
    tx.commit().await.unwrap();
    let order: Vec<i32> = sqlx::query_scalar("SELECT (changes->>'i')::int FROM audit_events ORDER BY seq")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(order, (0..8).collect::<Vec<_>>());
    // An event linked at once (a dossier's, whose checkpoint covers it) comes after those
    // the transaction recorded before it, and says where it is.
    let mut tx = app.pool.begin().await.unwrap();
    audit::record(&mut tx, now, &AuditContext::default(), event(8)).await.unwrap();
    let (seq, hash) = audit::record_linked(&mut tx, now, &AuditContext::default(), event(9)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(seq, 10);
    let stored: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = 10 AND changes->>'i' = '9'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, hash);
    // A rolled-back transaction leaves nothing pending and the head where it was.
    let mut tx = app.pool.begin().await.unwrap();
    audit::record(&mut tx, now, &AuditContext::default(), event(10)).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(app.count("audit_pending").await, 0);
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), Verdict::Ok { count: 10, .. }));
}

#[tokio::test]
async fn command_line_user_add_and_audit_verify() {
    let app = TestApp::new().await;
    let bin = env!("CARGO_BIN_EXE_icts-review");
    // --password-stdin
    let mut child = Command::new(bin)
        .args([
            "user",
            "add",
            "--email",
            "First.Admin@agency.gov",
            "--name",
            "First Admin",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &app.db_url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"the first admin passphrase\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("created first.admin@agency.gov"), "{stdout}");
    assert!(
        !stdout.contains("the first admin passphrase") && !stderr.contains("the first admin passphrase"),
        "the password is never printed"
    );
    let admin = crate::harness::TestUser {
        id: icts_review::ids::UserId(uuid::Uuid::nil()),
        email: "first.admin@agency.gov".into(),
        password: "the first admin passphrase".into(),
        name: "First Admin".into(),
    };
    app.sign_in(&admin).await;

    // --generate-password shows a one-time password that works and must be changed.
    let out = Command::new(bin)
        .args([
            "user",
            "add",
            "--email",
            "sup@agency.gov",
            "--name",
            "Sup",
            "--role",
            "supervisor",
            "--generate-password",
        ])
        .env("DATABASE_URL", &app.db_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}");
    let generated = stdout.lines().find_map(|l| l.split("first sign-in): ").nth(1)).unwrap().trim().to_string();
    assert_eq!(generated.len(), 20);
    let s = app.try_sign_in("sup@agency.gov", &generated, None).await.unwrap();
    let r = app.send(s.get("/account/sessions")).await;
    assert_eq!(r.header("location").as_deref(), Some("/account/password"));

    // Bad input names the field; a common password is refused.
    let out = Command::new(bin)
        .args(["user", "add", "--email", "x@agency.gov", "--name", "X", "--role", "wizard", "--password-stdin"])
        .env("DATABASE_URL", &app.db_url)
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("role:"));

    // audit verify: OK with the count and head, then BROKEN after tampering.
    let verify = || Command::new(bin).args(["audit", "verify"]).env("DATABASE_URL", &app.db_url).output().unwrap();
    let out = verify();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let parts: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(parts[0], "OK");
    let count: i64 = parts[1].parse().unwrap();
    assert_eq!(count, app.count("audit_events").await);
    assert_eq!(parts[2].len(), 64);
    let su = app.superuser_pool().await;
    let mut tx = su.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE audit_events SET actor_role = 'auditor' WHERE seq = 2").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("BROKEN at event 2"), "{stdout}");
}

#[tokio::test]
async fn an_event_of_a_type_this_release_does_not_know_still_verifies_and_shows_its_code() {
    let app = TestApp::new().await;
    let mut tx = app.pool.begin().await.unwrap();
    let ctx = AuditContext::default();
    let changes = serde_json::json!({"note": "written by a release that had this type"});
    audit::record(&mut tx, app.state.now(), &ctx, NewEvent::new(EventType::Test).changes(changes)).await.unwrap();
    tx.commit().await.unwrap();
    // As an older release wrote it: a code since retired, the chain rehashed over it.
    let retired = "case.retired_long_ago";
    assert_eq!(EventType::parse(retired), None);
    let su = app.superuser_pool().await;
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER").execute(&su).await.unwrap();
    let mut e: audit::StoredEvent = sqlx::query_as("SELECT * FROM audit_events").fetch_one(&su).await.unwrap();
    e.event_type = retired.into();
    e.hash = audit::recompute_hash(&e).to_vec();
    sqlx::query("UPDATE audit_events SET event_type = $2, hash = $3 WHERE seq = $1")
        .bind(e.seq)
        .bind(&e.event_type)
        .bind(&e.hash)
        .execute(&su)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET hash = $1").bind(&e.hash).execute(&su).await.unwrap();
    sqlx::query("ALTER TABLE audit_events ENABLE TRIGGER USER").execute(&su).await.unwrap();
    assert!(matches!(audit::verify(&app.pool).await.unwrap(), Verdict::Ok { count: 1, .. }));
    assert_eq!(e.kind(), None);
    // Shown by its stored code; to an administrator, as possibly holding case content.
    let auditor = app.user("auditor").await;
    let admin = app.user("admin").await;
    let path = format!("/api/v1/audit/events?type={retired}");
    let as_auditor = app.send(crate::harness::api("GET", &path, &app.token(&auditor).await, None)).await.json();
    assert_eq!(as_auditor["items"][0]["event_type"], retired, "{as_auditor}");
    assert_eq!(as_auditor["items"][0]["changes"]["note"], "written by a release that had this type");
    let as_admin = app.send(crate::harness::api("GET", &path, &app.token(&admin).await, None)).await.json();
    assert_eq!(as_admin["items"][0]["event_type"], retired, "{as_admin}");
    assert!(as_admin["items"][0]["changes"]["redacted"].is_string(), "{as_admin}");
}
