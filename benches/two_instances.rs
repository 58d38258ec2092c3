//! Two instances of the service on one database, under load: do sessions, lockout,
//! signatures, the audit chain and the mail outbox stay consistent?
//!
//! `cargo bench --bench two_instances -- [--cases N] [--events M] [--data DIR]
//! [--concurrency C]` (defaults: 100,000 cases, 2,000,000 events in a temporary folder, 4
//! in flight per instance). Instance A runs the built-in database, instance B connects to
//! it by URL; both send mail to an SMTP sink in this process. While both serve case lists
//! and case pages to the load driver, it checks:
//! - a session made on one instance works on the other, and ends on both at sign-out;
//! - concurrent wrong passwords spread over both lock the account once, and then neither
//!   instance lets the right password in;
//! - each submitted determination, signed at the same moment through both instances, is
//!   signed exactly once (one 200, one refusal) and moves its case once;
//! - every outbox message is delivered exactly once (Message-ID is the outbox row id);
//! - `audit verify` passes afterwards.

#![allow(
    clippy::disallowed_methods,
    reason = "a bench's bare-SQL references and fixtures; src/ is held to checked SQL"
)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

/// A minimal SMTP receiver: accepts every message and records its Message-ID.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let r = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let r = r.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut in_data = false;
                let mut message_id = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            r.lock().unwrap().push(message_id.take().unwrap_or_default());
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else if line.to_ascii_lowercase().starts_with("message-id:") {
                            message_id = Some(line[11..].trim().to_string());
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 end with .\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, received)
}

fn csrf_of(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    Some(page[at..].split('"').next()?.to_string())
}

async fn status_of(client: &reqwest::Client, url: &str, session: &str) -> u16 {
    client.get(url).header("cookie", format!("icts_session={session}")).send().await.unwrap().status().as_u16()
}

async fn try_sign_in(client: &reqwest::Client, base: &str, email: &str, password: &str) -> u16 {
    client
        .post(format!("{base}/sign-in"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn verdict(ok: bool, what: &str, failures: &mut Vec<String>) {
    println!("  [{}] {what}", if ok { "ok" } else { "FAILED" });
    if !ok {
        failures.push(what.to_string());
    }
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let data = DataDir::new(o.data.as_deref());
    let run = format!("{:x}", OffsetDateTime::now_utc().unix_timestamp());
    let (sink_port, received) = smtp_sink().await;
    let smtp = format!("smtp://127.0.0.1:{sink_port}");
    if !data.path.join("postgres").exists() {
        println!("seeding {} cases and {} audit events …", o.cases, o.events);
        cli(&data, &["seed", "--synthetic", "--cases", &o.cases.to_string(), "--events", &o.events.to_string()], None);
    }
    let drafter = add_user(&data, "supervisor", &format!("{run}d"));
    let signer = add_user(&data, "supervisor", &format!("{run}s"));
    let target = add_user(&data, "analyst", &format!("{run}t"));
    // Every message of this run is created after this moment (the instances' workers write
    // clock reminders as soon as they start).
    let since: OffsetDateTime = {
        let a = Server::start(&data, None, &[]).await;
        let owner = owner_pool(&data, 1).await;
        let now = sqlx::query_scalar("SELECT now()").fetch_one(&owner).await.unwrap();
        owner.close().await;
        a.stop();
        now
    };
    let a = Server::start(&data, None, &["--smtp-url", &smtp]).await;
    let b = Server::start(&data, Some(&data.url()), &["--smtp-url", &smtp]).await;
    println!("instance A {} (pid {}), instance B {} (pid {})", a.base, a.pid, b.base, b.pid);
    let owner = owner_pool(&data, 2).await;
    let client = client();
    let mut failures = Vec::new();

    // The load: case lists and case pages on both instances until the checks are done.
    let ids: Arc<Vec<Uuid>> = Arc::new(
        sqlx::query_scalar("SELECT id FROM cases TABLESAMPLE SYSTEM (1) WHERE NOT restricted LIMIT 500")
            .fetch_all(&owner)
            .await
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for base in [a.base.clone(), b.base.clone()] {
        let session = sign_in(&client, &base, &signer).await.unwrap();
        for w in 0..o.concurrency {
            let (cl, base, session, ids, stop) =
                (client.clone(), base.clone(), session.clone(), ids.clone(), stop.clone());
            load.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let url = if i % 2 == 0 {
                        format!("{base}/cases/{}", ids[i % ids.len()])
                    } else {
                        format!("{base}/cases?stage=initial_review")
                    };
                    let t = Instant::now();
                    if get_page(&cl, &url, &session).await.is_err() {
                        errors += 1;
                    }
                    latencies.push(t.elapsed());
                    i += o.concurrency;
                }
                (latencies, errors)
            }));
        }
    }
    let load_started = Instant::now();

    println!("sessions");
    let s = sign_in(&client, &a.base, &drafter).await.unwrap();
    verdict(
        status_of(&client, &format!("{}/dashboard", b.base), &s).await == 200,
        "a session made on A serves on B",
        &mut failures,
    );
    let page = client
        .get(format!("{}/account/password", b.base))
        .header("cookie", format!("icts_session={s}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page).expect("pages carry the CSRF token");
    let r = client
        .post(format!("{}/sign-out", b.base))
        .header("cookie", format!("icts_session={s}"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    verdict(r.status().as_u16() == 303, "sign-out through B", &mut failures);
    verdict(
        status_of(&client, &format!("{}/dashboard", a.base), &s).await != 200,
        "the session no longer serves on A",
        &mut failures,
    );
    let before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1")
            .bind(&drafter)
            .fetch_one(&owner)
            .await
            .unwrap();
    let mut signs = Vec::new();
    for i in 0..20 {
        let (cl, base, e) = (client.clone(), if i % 2 == 0 { a.base.clone() } else { b.base.clone() }, drafter.clone());
        signs.push(tokio::spawn(async move { sign_in(&cl, &base, &e).await }));
    }
    let mut secrets = Vec::new();
    for s in signs {
        secrets.push(s.await.unwrap().unwrap());
    }
    let after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1")
            .bind(&drafter)
            .fetch_one(&owner)
            .await
            .unwrap();
    let distinct = secrets.iter().collect::<std::collections::HashSet<_>>().len();
    verdict(
        after - before == 20 && distinct == 20,
        "20 concurrent sign-ins over both instances: 20 distinct sessions",
        &mut failures,
    );

    println!("lockout");
    let mut tries = Vec::new();
    for i in 0..6 {
        let (cl, base, e) = (client.clone(), if i % 2 == 0 { a.base.clone() } else { b.base.clone() }, target.clone());
        tries.push(tokio::spawn(async move { try_sign_in(&cl, &base, &e, "not the password at all").await }));
    }
    let mut refused = 0;
    for t in tries {
        if t.await.unwrap() == 401 {
            refused += 1;
        }
    }
    verdict(refused == 6, "6 concurrent wrong passwords over both instances are refused", &mut failures);
    let locked: bool =
        sqlx::query_scalar("SELECT locked_until IS NOT NULL AND locked_until > now() FROM users WHERE email = $1")
            .bind(&target)
            .fetch_one(&owner)
            .await
            .unwrap();
    verdict(locked, "the account is locked", &mut failures);
    let lockouts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE event_type = 'auth.lockout' AND object_id = (SELECT id::text FROM users WHERE email = $1)",
    )
    .bind(&target)
    .fetch_one(&owner)
    .await
    .unwrap();
    verdict(lockouts == 1, &format!("one lockout event (found {lockouts})"), &mut failures);
    let on_a = try_sign_in(&client, &a.base, &target, PASSWORD).await;
    let on_b = try_sign_in(&client, &b.base, &target, PASSWORD).await;
    verdict(on_a == 401 && on_b == 401, "the right password is refused by both while locked", &mut failures);

    println!("signatures");
    let drafter_token = token(&client, &a.base, &drafter).await;
    let signer_token = token(&client, &b.base, &signer).await;
    let candidates: Vec<Uuid> = sqlx::query_scalar(
        "SELECT c.id FROM cases c WHERE c.stage = 'initial_determination' AND NOT c.restricted \
         AND NOT EXISTS (SELECT 1 FROM determinations d WHERE d.case_id = c.id AND d.status <> 'signed') LIMIT 40",
    )
    .fetch_all(&owner)
    .await
    .unwrap();
    let mut drafts = Vec::new();
    for (i, case) in candidates.iter().enumerate() {
        if drafts.len() == 12 {
            break;
        }
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let content = json!({
            "title": "Initial determination", "party": "Supplier", "covered_finding": "Covered: ICTS used by US persons after 19 January 2021.",
            "nexus_finding": "The supplier is subject to a foreign adversary's jurisdiction.",
            "risk_analysis": "Undue risk: privileged access to US systems.", "background": "", "submission_answers": [],
            "cessation": "Cease within 30 days.", "prohibitions": [], "penalties": "IEEPA penalties apply.", "measures": []
        });
        let r = client
            .post(format!("{base}/api/v1/cases/{case}/determinations"))
            .bearer_auth(&drafter_token)
            .json(&json!({"kind": "initial", "outcome": "prohibition", "content": content, "unclassified_confirmed": true}))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() != 201 {
            println!("  (case {case} cannot take a draft: {} {})", r.status(), r.text().await.unwrap_or_default());
            continue;
        }
        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        let r = client
            .post(format!("{base}/api/v1/determinations/{id}/submit"))
            .bearer_auth(&drafter_token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "submit: {}", r.status());
        drafts.push((id, *case));
    }
    verdict(!drafts.is_empty(), &format!("{} drafts submitted", drafts.len()), &mut failures);
    let r = client
        .post(format!("{}/api/v1/auth/reauth", a.base))
        .bearer_auth(&signer_token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "reauth: {}", r.status());
    let mut outcomes: HashMap<String, Vec<u16>> = HashMap::new();
    for (id, _) in &drafts {
        let mut both = Vec::new();
        for base in [&a.base, &b.base] {
            let (cl, url, t) =
                (client.clone(), format!("{base}/api/v1/determinations/{id}/sign"), signer_token.clone());
            both.push(tokio::spawn(async move { cl.post(url).bearer_auth(t).send().await.unwrap().status().as_u16() }));
        }
        for h in both {
            let status = h.await.unwrap();
            outcomes.entry(id.clone()).or_default().push(status);
        }
    }
    let once = outcomes
        .values()
        .all(|s| s.iter().filter(|x| **x == 200).count() == 1 && s.iter().all(|x| *x == 200 || *x == 409));
    verdict(once, "each determination signed through both at once: exactly one 200 and one 409", &mut failures);
    let mut consistent = true;
    for (id, case) in &drafts {
        let (signed, events): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM determinations WHERE id = $1::uuid AND status = 'signed'), \
             (SELECT count(*) FROM audit_events WHERE event_type = 'determination.signed' AND object_type = 'case' \
              AND object_id = $2 AND changes->>'determination' = $1)",
        )
        .bind(id)
        .bind(case.to_string())
        .fetch_one(&owner)
        .await
        .unwrap();
        let signer_recorded: bool = sqlx::query_scalar("SELECT initial_signed_by IS NOT NULL FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(&owner)
            .await
            .unwrap();
        if signed != 1 || events != 1 || !signer_recorded {
            println!("  determination {id}: signed {signed}, events {events}, signer on the case {signer_recorded}");
            consistent = false;
        }
    }
    verdict(consistent, "each is signed once, with one audit event, and the case records its signer", &mut failures);

    println!("outbox");
    // More mail: assign cases to the analyst through both instances.
    let analyst_id: Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(&target).fetch_one(&owner).await.unwrap();
    let to_assign: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM cases WHERE stage = 'initial_review' AND NOT restricted LIMIT 40")
            .fetch_all(&owner)
            .await
            .unwrap();
    let sup_token_b = token(&client, &b.base, &signer).await;
    for (i, chunk) in to_assign.chunks(4).enumerate() {
        let (base, t) = if i % 2 == 0 { (&a.base, &signer_token) } else { (&b.base, &sup_token_b) };
        let r = client
            .post(format!("{base}/api/v1/cases/assign"))
            .bearer_auth(t)
            .json(&json!({"cases": chunk, "assignee": analyst_id}))
            .send()
            .await
            .unwrap();
        if !r.status().is_success() {
            println!("  assign: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
    }
    // Both workers claim batches every 15 seconds; wait until the outbox is empty.
    let started = Instant::now();
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL")
            .fetch_one(&owner)
            .await
            .unwrap();
        if pending == 0 || started.elapsed() > Duration::from_secs(180) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut load_errors = 0;
    for h in load {
        let (l, e) = h.await.unwrap();
        latencies.extend(l);
        load_errors += e;
    }
    let load_s = load_started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1].as_secs_f64() * 1000.0
    };
    let rows: Vec<(Uuid, Option<String>)> =
        sqlx::query_as("SELECT id, sent_by FROM mail_outbox WHERE created_at >= $1")
            .bind(since)
            .fetch_all(&owner)
            .await
            .unwrap();
    let got = received.lock().unwrap().clone();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &got {
        *seen.entry(m.clone()).or_default() += 1;
    }
    let sent_by_a_or_b: std::collections::HashSet<String> = rows.iter().filter_map(|r| r.1.clone()).collect();
    let all_once = rows.iter().all(|(id, _)| seen.get(&format!("<{id}@icts-review>")) == Some(&1));
    let dupes = seen.values().filter(|n| **n > 1).count();
    verdict(
        all_once && dupes == 0 && got.len() == rows.len(),
        &format!(
            "{} outbox messages, {} received, each exactly once ({} duplicates; sent by {} worker(s))",
            rows.len(),
            got.len(),
            dupes,
            sent_by_a_or_b.len()
        ),
        &mut failures,
    );
    verdict(
        load_errors == 0,
        &format!("load on both instances: {} requests, {load_errors} errors", latencies.len()),
        &mut failures,
    );
    println!(
        "  load: {} requests in {load_s:.1} s ({:.0}/s over both), p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / load_s,
        pct(0.5),
        pct(0.99)
    );
    owner.close().await;
    b.stop();
    a.stop();
    let v = cli(&data, &["audit", "verify"], None);
    verdict(v.starts_with("OK"), &format!("audit verify: {}", v.trim()), &mut failures);
    if !failures.is_empty() {
        panic!("{} check(s) failed: {failures:?}", failures.len());
    }
    println!("two instances: every check held");
}
