//! Streaming audit-log export at scale: does the server's memory stay flat?
//!
//! `cargo bench --bench audit_export [-- EVENTS]` (default 1,000,000). Starts the real
//! service on its built-in database in a temporary folder, appends EVENTS audit events in
//! bulk, then streams `GET /api/v1/audit/export` (NDJSON and CSV) while sampling the
//! server's resident memory. The reference, measured in the same run, is the same export of
//! a tenth of the events: flat memory means the peak of the full export is about the peak
//! of the small one. Throughput is also compared with the bare SQL the endpoint runs
//! (`SELECT * FROM audit_events ORDER BY seq`, read row by row in this process).

#![allow(
    clippy::disallowed_methods,
    reason = "a bench's bare-SQL references and fixtures; src/ is held to checked SQL"
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::TryStreamExt;

/// Streams one export, sampling the server's memory; returns (bytes, lines, seconds, peak KiB).
async fn export(client: &reqwest::Client, base: &str, token: &str, query: &str, pid: u32) -> (u64, u64, f64, u64) {
    let started = Instant::now();
    reauth(client, base, token).await;
    let mut r = client.get(format!("{base}/api/v1/audit/export?{query}")).bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (mut bytes, mut lines, mut peak) = (0u64, 0u64, rss_kib(pid));
    let mut last_sample = Instant::now();
    while let Some(chunk) = r.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if last_sample.elapsed() > Duration::from_millis(20) {
            peak = peak.max(rss_kib(pid));
            last_sample = Instant::now();
        }
    }
    peak = peak.max(rss_kib(pid));
    (bytes, lines, started.elapsed().as_secs_f64(), peak)
}

async fn append(pool: &sqlx::PgPool, n: i64) {
    // Bulk rows shaped like real events after the current head (the hashes are not a valid
    // chain: this measures the export, not the verifier).
    let mut tx = pool.begin().await.unwrap();
    let from: i64 = sqlx::query_scalar("SELECT seq FROM audit_head FOR UPDATE").fetch_one(&mut *tx).await.unwrap();
    sqlx::query(
        "INSERT INTO audit_events (seq, id, at, actor_id, actor_role, client_addr, request_id, event_type, object_type, object_id, \
         changes, outcome, prev_hash, hash) \
         SELECT s, gen_random_uuid(), now() - make_interval(secs => ($1 + $2 - s)), gen_random_uuid(), 'analyst', '10.0.0.' || (s % 250), \
         'req-' || s, 'case.transition', 'case', gen_random_uuid()::text, \
         jsonb_build_object('action', 'notify_agencies', 'stage', jsonb_build_object('before', 'initial_review', 'after', 'first_interagency'), 'comment', repeat('x', 40)), \
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

#[tokio::main]
async fn main() {
    let events: i64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let data = DataDir::new(None);
    // The auditor (this also creates and migrates the built-in database).
    let auditor = add_user(&data, "auditor", "export");
    let server = Server::start(&data, None, &[]).await;
    let (base, pid) = (server.base.clone(), server.pid);
    let client = reqwest::Client::new();
    let pool = owner_pool(&data, 2).await;
    let small = events / 10;
    let started = Instant::now();
    append(&pool, small).await;
    let loaded_small = started.elapsed().as_secs_f64();
    let token = token(&client, &base, &auditor).await;
    let idle = rss_kib(pid);
    let (sb, sl, ss, speak) = export(&client, &base, &token, "format=ndjson", pid).await;
    let started = Instant::now();
    append(&pool, events - small).await;
    let loaded = loaded_small + started.elapsed().as_secs_f64();
    let (nb, nl, ns, npeak) = export(&client, &base, &token, "format=ndjson", pid).await;
    let (cb, cl, cs, cpeak) = export(&client, &base, &token, "format=csv", pid).await;
    // The bare query, read row by row here.
    let started = Instant::now();
    let mut rows = sqlx::query("SELECT * FROM audit_events ORDER BY seq").fetch(&pool);
    let mut bare = 0u64;
    while rows.try_next().await.unwrap().is_some() {
        bare += 1;
    }
    let bare_s = started.elapsed().as_secs_f64();
    pool.close().await;
    server.stop();
    let mib = |k: u64| k as f64 / 1024.0;
    println!("audit export benchmark ({events} events appended in {loaded:.1} s)");
    println!("  server RSS idle:                      {:>8.1} MiB", mib(idle));
    println!(
        "  reference: export of {:>9} events  {:>8.1} MiB peak, {:>6.2} s, {:>9.0} events/s, {:.0} MiB",
        sl,
        mib(speak),
        ss,
        sl as f64 / ss,
        sb as f64 / 1048576.0
    );
    println!(
        "  NDJSON export of {:>9} events      {:>8.1} MiB peak, {:>6.2} s, {:>9.0} events/s, {:.0} MiB",
        nl,
        mib(npeak),
        ns,
        nl as f64 / ns,
        nb as f64 / 1048576.0
    );
    println!(
        "  CSV export of    {:>9} events      {:>8.1} MiB peak, {:>6.2} s, {:>9.0} events/s, {:.0} MiB",
        cl.saturating_sub(1),
        mib(cpeak),
        cs,
        cl as f64 / cs,
        cb as f64 / 1048576.0
    );
    println!("  bare SQL read of {:>9} rows        {:>6.2} s, {:>9.0} rows/s", bare, bare_s, bare as f64 / bare_s);
    println!(
        "  ratios: peak memory full/tenth = {:.2} (NDJSON), {:.2} (CSV); NDJSON time / bare SQL time = {:.2}",
        npeak as f64 / speak as f64,
        cpeak as f64 / speak as f64,
        ns / bare_s
    );
}
