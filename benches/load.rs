//! The service under load, where users feel it, against a synthetic office.
//!
//! `cargo bench --bench load -- [--cases N] [--events M] [--data DIR] [--concurrency C]
//! [--requests R] [--import-rows K] [--declarations D]` (defaults: 100,000 cases, 2,000,000
//! events, a temporary folder, 4 in flight, 2,000 requests per measure, 10,000 import rows,
//! 100,000 declarations). With `--data DIR`
//! the built-in database there is seeded once (`seed --synthetic`) and reused by later runs.
//!
//! It starts the real service (release build) as a child process, signs in as a
//! supervisor, an auditor and an API client, and drives each endpoint at fixed concurrency
//! (p50, p99, requests per second, the server's peak resident memory). For every HTTP
//! figure it also runs, in the same run and at the same concurrency, the bare SQL the
//! endpoint runs (the same statements through sqlx from this process: no HTTP, no handler
//! logic, no template) and reports the ratio of the p50s. Then: the full audit log streamed
//! (peak memory against a tenth of it), CSV bulk intake against a plain COPY of the rows it
//! wrote, 8 concurrent audit writers against 8 plain inserters, and sign-in against the
//! bare argon2 verification.

#![allow(
    clippy::disallowed_methods,
    reason = "a bench's bare-SQL references and fixtures; src/ is held to checked SQL"
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures_util::TryStreamExt;
use icts_review::access::Role;
use icts_review::audit::EventType;
use icts_review::cases::db::{self as cases_db, CaseFilter};
use icts_review::cases::reference::Reference;
use icts_review::declarations::db as decl_db;
use icts_review::ids::UserId;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// One line of the results table.
struct Line {
    what: String,
    http: Stats,
    bare: Option<Stats>,
    peak_mib: f64,
}

fn print_table(lines: &[Line]) {
    println!();
    println!(
        "| Measure | In flight | Requests | p50 ms | p99 ms | req/s | bare SQL p50 ms | bare SQL p99 ms | p50 ÷ bare | server peak RSS MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for l in lines {
        let (bp50, bp99, ratio) = match &l.bare {
            Some(b) => {
                (format!("{:.2}", b.p50_ms), format!("{:.2}", b.p99_ms), format!("{:.2}", l.http.p50_ms / b.p50_ms))
            }
            None => ("–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.0} | {} | {} | {} | {:.1} |",
            l.what,
            l.http.concurrency,
            l.http.requests,
            l.http.p50_ms,
            l.http.p99_ms,
            l.http.per_second,
            bp50,
            bp99,
            ratio,
            l.peak_mib
        );
    }
    println!();
}

fn check(what: &str, s: &Stats) {
    if s.errors > 0 {
        panic!(
            "{what}: {} of {} requests failed; first: {}",
            s.errors,
            s.requests,
            s.first_error.clone().unwrap_or_default()
        );
    }
}

/// The session lookup every signed-in request makes.
async fn session_sql(conn: &mut sqlx::PgConnection, secret: &str) -> Result<(), String> {
    icts_review::auth::session::resolve(conn, secret, OffsetDateTime::now_utc())
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the session is gone")?;
    Ok(())
}

async fn assignable_sql(conn: &mut sqlx::PgConnection) -> Result<(), String> {
    let _: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM users WHERE active AND role IN ('analyst', 'supervisor') ORDER BY name")
            .fetch_all(conn)
            .await
            .map_err(|e| e.to_string())?;
    Ok(())
}

fn today() -> time::Date {
    icts_review::dates::today(OffsetDateTime::now_utc())
}

/// What `GET /cases?…` runs: the page, and its total when there is more than the page.
async fn list_page_sql(pool: &PgPool, secret: &str, user: UserId, f: &CaseFilter) -> Result<(), String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    session_sql(&mut conn, secret).await?;
    Reference::load(pool).await.map_err(|e| e.to_string())?;
    let page = cases_db::list(&mut conn, f, user, Role::Supervisor, today()).await.map_err(|e| e.to_string())?;
    if page.next.is_some() || page.prev.is_some() || f.after.is_some() {
        // As the page does: a search's total counted once while nothing is written.
        TOTALS.count(&mut conn, f, user, Role::Supervisor, today()).await.map_err(|e| e.to_string())?;
    }
    assignable_sql(&mut conn).await
}

/// The bare list's own kept totals (as the service keeps its own).
static TOTALS: std::sync::LazyLock<icts_review::cases::totals::SearchTotals> =
    std::sync::LazyLock::new(Default::default);

/// What `GET /cases/{id}` runs.
async fn case_page_sql(pool: &PgPool, secret: &str, id: icts_review::ids::CaseId) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let a = |e: icts_review::error::DomainError| e.to_string();
    let mut conn = pool.acquire().await.map_err(e)?;
    session_sql(&mut conn, secret).await?;
    Reference::load(pool).await.map_err(e)?;
    let row = cases_db::get(&mut conn, id, false).await.map_err(e)?.ok_or("no such case")?;
    cases_db::clock_inputs(&mut conn, &row, today()).await.map_err(e)?;
    let _: Vec<(OffsetDateTime, String, String)> = sqlx::query_as(
        "SELECT n.created_at, u.name, n.body FROM case_notes n JOIN users u ON u.id = n.author WHERE n.case_id = $1 ORDER BY n.created_at, n.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(e)?;
    sqlx::query("SELECT id, asked_of, question, asked_on, tolls, answered_on, answer FROM case_rfis WHERE case_id = $1 ORDER BY asked_on, id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(e)?;
    let events: Vec<icts_review::audit::StoredEvent> =
        sqlx::query_as("SELECT * FROM audit_events WHERE object_type = 'case' AND object_id = $1 ORDER BY seq")
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(e)?;
    let actors: Vec<UserId> = events.iter().filter_map(|e| e.actor_id).collect();
    let _: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, name FROM users WHERE id = ANY($1)")
        .bind(&actors)
        .fetch_all(&mut *conn)
        .await
        .map_err(e)?;
    icts_review::parties::parties_of_case(&mut conn, id).await.map_err(e)?;
    icts_review::cases::transactions::of_case(&mut conn, id).await.map_err(e)?;
    sqlx::query("SELECT t.id, t.docket_number FROM cases s JOIN cases t ON t.id = s.consolidated_into WHERE s.id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(e)?;
    let assessments = icts_review::risk::service::assessments(&mut conn, id).await.map_err(a)?;
    icts_review::risk::service::current_nexus(&mut conn, id).await.map_err(a)?;
    icts_review::parties::screening_service::hits_of_case(&mut conn, id).await.map_err(e)?;
    if let Some(current) = assessments.first() {
        icts_review::risk::service::rubric(&mut conn, current.rubric_version).await.map_err(a)?;
    }
    assignable_sql(&mut conn).await
}

/// What a supervisor's home page (`GET /`) reads: the session, then `home::of` (its short
/// lists with their totals, the counts by stage), as the page's handler calls it.
async fn home_sql(pool: &PgPool, secret: &str, user: UserId) -> Result<(), String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    session_sql(&mut conn, secret).await?;
    drop(conn);
    let actor = icts_review::access::Actor {
        id: user,
        email: String::new(),
        name: String::new(),
        role: Role::Supervisor,
        session_id: icts_review::ids::SessionId(Uuid::nil()),
        reauth_at: None,
        meta: Default::default(),
    };
    icts_review::home::of(pool, &actor, OffsetDateTime::now_utc()).await.map_err(|e| format!("{e:?}"))?;
    Ok(())
}

/// What `GET /api/v1/cases` runs.
async fn api_list_sql(pool: &PgPool, secret: &str, user: UserId, f: &CaseFilter) -> Result<(), String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    session_sql(&mut conn, secret).await?;
    cases_db::list(&mut conn, f, user, Role::Supervisor, today()).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// A supervisor, as the second docket's services take one.
fn supervisor_actor(user: UserId) -> icts_review::access::Actor {
    icts_review::access::Actor {
        id: user,
        email: String::new(),
        name: String::new(),
        role: Role::Supervisor,
        session_id: icts_review::ids::SessionId(Uuid::nil()),
        reauth_at: None,
        meta: Default::default(),
    }
}

/// What `GET /declarations` runs for a supervisor: the session, the page, its total when
/// the page is not the whole list, the filers of the intake form and the filers missing.
async fn declaration_list_sql(pool: &PgPool, secret: &str, f: &decl_db::Filter) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut conn = pool.acquire().await.map_err(e)?;
    session_sql(&mut conn, secret).await?;
    let rows = decl_db::page(&mut conn, f).await.map_err(e)?;
    if rows.len() as i64 > f.limit || f.after.is_some() {
        decl_db::count(&mut conn, f).await.map_err(e)?;
    }
    let listed = icts_review::declarations::service::FILERS_LISTED;
    if decl_db::filer_roles_to(&mut conn, listed + 1).await.map_err(e)? <= listed {
        decl_db::filers(&mut conn, listed).await.map_err(e)?;
    }
    decl_db::missing(&mut conn, today()).await.map_err(e)?;
    Ok(())
}

/// What `GET /parties/{id}` runs for a filer, for a supervisor: the party, its owners,
/// evidence, cases, the parties of the owner form, screening hits, and both dockets' filings.
async fn filer_page_sql(
    pool: &PgPool,
    secret: &str,
    user: UserId,
    id: icts_review::ids::PartyId,
) -> Result<(), String> {
    use icts_review::parties;
    let e = |e: sqlx::Error| e.to_string();
    let mut conn = pool.acquire().await.map_err(e)?;
    session_sql(&mut conn, secret).await?;
    let actor = supervisor_actor(user);
    parties::get(&mut conn, id).await.map_err(e)?.ok_or("no such party")?;
    parties::ownership_chain(&mut conn, id).await.map_err(e)?;
    parties::evidence(&mut conn, id).await.map_err(e)?;
    parties::cases_of(&mut conn, id, &actor).await.map_err(e)?;
    parties::list(&mut conn, None, 500).await.map_err(e)?;
    parties::screening_service::hits_of_party(&mut conn, id).await.map_err(e)?;
    decl_db::filer_roles(&mut conn, id).await.map_err(e)?;
    decl_db::of_filer(&mut conn, id).await.map_err(e)?;
    icts_review::enforcement::db::of_party(&mut conn, id, 500).await.map_err(e)?;
    icts_review::authorizations::db::of_applicant(&mut conn, id, 500).await.map_err(e)?;
    let rel = icts_review::general_authorizations::db::reliances(&mut conn, Some(id), 500).await.map_err(e)?;
    let ids: Vec<Uuid> = rel.iter().map(|r| r.id.0).collect();
    icts_review::general_authorizations::db::acts_of(&mut conn, &ids).await.map_err(e)?;
    icts_review::opinions::db::of_requester(&mut conn, id, 500).await.map_err(e)?;
    drop(conn);
    Reference::load(pool).await.map_err(e)?;
    Ok(())
}

/// What a dossier export gathers.
async fn dossier_sql(pool: &PgPool, secret: &str, id: icts_review::ids::CaseId) -> Result<(), String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    session_sql(&mut conn, secret).await?;
    icts_review::dossier::gather(&mut conn, id, false).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Streams one audit-log export (the step-up it needs taken first); returns (events,
/// seconds).
async fn stream_export(client: &reqwest::Client, base: &str, token: &str, query: &str) -> (u64, f64) {
    let started = Instant::now();
    let mut r = client.get(format!("{base}/api/v1/audit/export?{query}")).bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mut lines = 0u64;
    while let Some(chunk) = r.chunk().await.unwrap() {
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    (lines, started.elapsed().as_secs_f64())
}

/// The figures of a single timed run of `n` items.
fn single(n: usize, seconds: f64) -> Stats {
    Stats {
        requests: n,
        concurrency: 1,
        p50_ms: seconds * 1000.0,
        p99_ms: seconds * 1000.0,
        per_second: n as f64 / seconds,
        ..Default::default()
    }
}

/// A line for a single timed run, with its reference run (items, seconds) if any.
fn one_shot(what: String, n: usize, seconds: f64, peak_mib: f64, bare: Option<(usize, f64)>) -> Line {
    Line { what, http: single(n, seconds), bare: bare.map(|(n, s)| single(n, s)), peak_mib }
}

#[tokio::main]
async fn main() {
    let o = Options::parse();
    let data = DataDir::new(o.data.as_deref());
    let run = format!("{:x}", OffsetDateTime::now_utc().unix_timestamp());
    let seeded = data.path.join("postgres").exists() && {
        // Seeded by an earlier run when it holds cases.
        let server = Server::start(&data, None, &[]).await;
        let pool = owner_pool(&data, 1).await;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cases").fetch_one(&pool).await.unwrap();
        pool.close().await;
        server.stop();
        n > 0
    };
    if !seeded {
        let started = Instant::now();
        println!("seeding {} cases, {} audit events and {} declarations …", o.cases, o.events, o.declarations);
        let (cases, events, declarations) = (o.cases.to_string(), o.events.to_string(), o.declarations.to_string());
        let seed = ["seed", "--synthetic", "--cases", &cases, "--events", &events, "--declarations", &declarations];
        cli(&data, &seed, None);
        println!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    }
    let supervisor = add_user(&data, "supervisor", &run);
    let auditor = add_user(&data, "auditor", &run);
    let server = Server::start(&data, None, &[]).await;
    let base = server.base.clone();
    let memory = MemorySampler::start(server.pid);
    let client = client();
    let pool = app_pool(&data, o.concurrency as u32 * 3).await;
    let owner = owner_pool(&data, 2).await;
    let (cases, events): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM cases), (SELECT seq FROM audit_head)")
            .fetch_one(&owner)
            .await
            .unwrap();
    println!(
        "{cases} cases, {events} audit events; {} in flight, {} requests per measure; service pid {}",
        o.concurrency, o.requests, server.pid
    );
    // Write out what migrations and earlier runs left dirty now, not during the measures,
    // and let the instance's start-up work pass (its worker's first pass of clock
    // reminders reads every clock due within a week).
    sqlx::query("CHECKPOINT").execute(&owner).await.unwrap();
    tokio::time::sleep(Duration::from_secs(15)).await;
    let sup_id: UserId =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(&supervisor).fetch_one(&owner).await.unwrap();
    let sup_secret = sign_in(&client, &base, &supervisor).await.unwrap();
    let api_token = token(&client, &base, &supervisor).await;

    // Inputs: open cases that are not restricted (opening a restricted case is an audit
    // event, a write), categories, cursors deep in the list, search terms.
    let ids: Vec<icts_review::ids::CaseId> =
        sqlx::query_scalar("SELECT id FROM cases TABLESAMPLE SYSTEM (1) WHERE NOT restricted LIMIT 2000")
            .fetch_all(&owner)
            .await
            .unwrap();
    let ids = Arc::new(ids);
    let categories: Arc<Vec<String>> =
        Arc::new(sqlx::query_scalar("SELECT code FROM ref_categories ORDER BY code").fetch_all(&owner).await.unwrap());
    let mut cursors = Vec::new();
    for part in [4, 2] {
        let (at, id): (OffsetDateTime, Uuid) =
            sqlx::query_as("SELECT created_at, id FROM cases ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1")
                .bind(cases * (part - 1) / part)
                .fetch_one(&owner)
                .await
                .unwrap();
        cursors.push((at.format(&time::format_description::well_known::Rfc3339).unwrap(), id));
    }
    let cursors = Arc::new(cursors);
    // Common words (thousands of matches) and rare ones: a docket number and a supplier's
    // name, each matching a handful of cases.
    let mut terms: Vec<String> = ["genomic", "inverters", "surveillance cameras", "Taedong"].map(String::from).to_vec();
    let rare: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.docket_number, p.legal_name FROM cases c JOIN case_parties cp ON cp.case_id = c.id \
         JOIN parties p ON p.id = cp.party_id WHERE c.id = ANY($1) LIMIT 2",
    )
    .bind(&ids[..ids.len().min(50)])
    .fetch_all(&owner)
    .await
    .unwrap();
    for (docket, party) in rare {
        terms.push(docket);
        terms.push(party);
    }
    println!("search terms: {terms:?}");
    let terms = Arc::new(terms);
    let mut lines = Vec::new();
    let c = o.concurrency;
    let n = o.requests;
    let url = |s: &str| format!("{base}{s}");

    macro_rules! measure {
        ($what:expr, $http:expr, $bare:expr) => {{
            if o.runs($what) {
                memory.take_peak();
                let http = $http.await;
                let peak_mib = memory.take_peak();
                check($what, &http);
                let bare = $bare.await;
                check(concat!($what, " (bare SQL)"), &bare);
                println!(
                    "{:<28} p50 {:>7.2} ms  p99 {:>7.2} ms  {:>6.0}/s  bare p50 {:>7.2} ms  ratio {:.2}",
                    $what,
                    http.p50_ms,
                    http.p99_ms,
                    http.per_second,
                    bare.p50_ms,
                    http.p50_ms / bare.p50_ms
                );
                lines.push(Line { what: $what.to_string(), http, bare: Some(bare), peak_mib });
            }
        }};
    }

    // Case list, filtered by stage and category.
    {
        let (cl, b, s, cats) = (client.clone(), base.clone(), sup_secret.clone(), categories.clone());
        let (p, s2, cats2) = (pool.clone(), sup_secret.clone(), categories.clone());
        measure!(
            "case list, filtered",
            drive(c, n, move |i| {
                let (cl, s) = (cl.clone(), s.clone());
                let u = format!("{b}/cases?stage=initial_review&category={}", cats[i % cats.len()]);
                async move { get_page(&cl, &u, &s).await }
            }),
            drive(c, n, move |i| {
                let (p, s, cat) = (p.clone(), s2.clone(), cats2[i % cats2.len()].clone());
                async move {
                    let f = CaseFilter {
                        stage: Some(icts_review::cases::workflow::Stage::InitialReview),
                        category: Some(cat),
                        ..Default::default()
                    };
                    list_page_sql(&p, &s, sup_id, &f).await
                }
            })
        );
    }
    // Case list, searched.
    {
        let (cl, b, s, t) = (client.clone(), base.clone(), sup_secret.clone(), terms.clone());
        let (p, s2, t2) = (pool.clone(), sup_secret.clone(), terms.clone());
        measure!(
            "case list, searched",
            drive(c, n, move |i| {
                let (cl, s) = (cl.clone(), s.clone());
                let u = format!("{b}/cases?q={}", t[i % t.len()].replace(' ', "+"));
                async move { get_page(&cl, &u, &s).await }
            }),
            drive(c, n, move |i| {
                let (p, s, q) = (p.clone(), s2.clone(), t2[i % t2.len()].clone());
                async move { list_page_sql(&p, &s, sup_id, &CaseFilter { q: Some(q), ..Default::default() }).await }
            })
        );
    }
    // What the first page of a search not counted since the last write pays for its total.
    if o.runs("searched total") {
        let (p, t) = (pool.clone(), terms.clone());
        let http = drive(c, n, move |i| {
            let (p, q) = (p.clone(), t[i % t.len()].clone());
            async move {
                let mut conn = p.acquire().await.map_err(|e| e.to_string())?;
                let f = CaseFilter { q: Some(q), ..Default::default() };
                cases_db::count(&mut conn, &f, sup_id, Role::Supervisor, today()).await.map_err(|e| e.to_string())?;
                Ok(())
            }
        })
        .await;
        check("searched total", &http);
        println!("{:<28} p50 {:>7.2} ms  p99 {:>7.2} ms", "searched total, counted", http.p50_ms, http.p99_ms);
        lines.push(Line { what: "searched total, counted (bare SQL alone)".into(), http, bare: None, peak_mib: 0.0 });
    }
    // Case list, keyset pages half-way and three quarters down a million rows.
    {
        let (cl, b, s, k) = (client.clone(), base.clone(), sup_secret.clone(), cursors.clone());
        let (p, s2, k2) = (pool.clone(), sup_secret.clone(), cursors.clone());
        measure!(
            "case list, deep keyset page",
            drive(c, n, move |i| {
                let (cl, s) = (cl.clone(), s.clone());
                let (key, id) = &k[i % k.len()];
                let u = format!("{b}/cases?cursor={}", url_encode(&format!("{key}~{id}")));
                async move { get_page(&cl, &u, &s).await }
            }),
            drive(c, n, move |i| {
                let (p, s) = (p.clone(), s2.clone());
                let after = Some(k2[i % k2.len()].clone());
                async move { list_page_sql(&p, &s, sup_id, &CaseFilter { after, ..Default::default() }).await }
            })
        );
    }
    // The second docket: the declaration list (filtered, searched, a deep keyset page) and
    // a filer's page.
    let (decl_total, filers): (i64, Vec<icts_review::ids::PartyId>) = (
        sqlx::query_scalar("SELECT count(*) FROM declarations").fetch_one(&owner).await.unwrap(),
        sqlx::query_scalar("SELECT party_id FROM filer_roles TABLESAMPLE SYSTEM (10) LIMIT 500")
            .fetch_all(&owner)
            .await
            .unwrap(),
    );
    println!("{decl_total} declarations, {} filers sampled", filers.len());
    if decl_total > 0 && !filers.is_empty() {
        let filers = Arc::new(filers);
        let mut decl_cursors = Vec::new();
        for part in [4, 2] {
            let (at, id): (OffsetDateTime, Uuid) = sqlx::query_as(
                "SELECT received_at, id FROM declarations ORDER BY received_at DESC, id DESC OFFSET $1 LIMIT 1",
            )
            .bind(decl_total * (part - 1) / part)
            .fetch_one(&owner)
            .await
            .unwrap();
            decl_cursors.push((at, id));
        }
        let decl_cursors = Arc::new(decl_cursors);
        // A make (thousands of matches), a part number and a filer's name (a handful).
        let mut decl_terms = vec!["Kestrel".to_string()];
        let (part, name): (String, String) = sqlx::query_as(
            "SELECT d.covers[1], p.legal_name FROM declarations d JOIN parties p ON p.id = d.filer_id \
             WHERE d.kind = 'hardware' LIMIT 1",
        )
        .fetch_one(&owner)
        .await
        .unwrap();
        decl_terms.extend([part, name]);
        println!("declaration search terms: {decl_terms:?}");
        let decl_terms = Arc::new(decl_terms);
        let filter = |f: decl_db::Filter| decl_db::Filter { limit: 50, ..f };
        {
            let (cl, b, s) = (client.clone(), base.clone(), sup_secret.clone());
            let (p, s2) = (pool.clone(), sup_secret.clone());
            measure!(
                "declaration list, filtered",
                drive(c, n, move |i| {
                    let (cl, s) = (cl.clone(), s.clone());
                    let u = format!("{b}/declarations?status=accepted&year={}", 2026 + i % 4);
                    async move { get_page(&cl, &u, &s).await }
                }),
                drive(c, n, move |i| {
                    let (p, s) = (p.clone(), s2.clone());
                    let f = filter(decl_db::Filter {
                        status: Some(icts_review::declarations::model::DeclarationStatus::Accepted),
                        year: Some(2026 + (i % 4) as i64),
                        ..Default::default()
                    });
                    async move { declaration_list_sql(&p, &s, &f).await }
                })
            );
        }
        {
            let (cl, b, s, t) = (client.clone(), base.clone(), sup_secret.clone(), decl_terms.clone());
            let (p, s2, t2) = (pool.clone(), sup_secret.clone(), decl_terms.clone());
            measure!(
                "declaration list, searched",
                drive(c, n, move |i| {
                    let (cl, s) = (cl.clone(), s.clone());
                    let u = format!("{b}/declarations?q={}", url_encode(&t[i % t.len()]));
                    async move { get_page(&cl, &u, &s).await }
                }),
                drive(c, n, move |i| {
                    let (p, s) = (p.clone(), s2.clone());
                    let f = filter(decl_db::Filter { q: Some(t2[i % t2.len()].clone()), ..Default::default() });
                    async move { declaration_list_sql(&p, &s, &f).await }
                })
            );
        }
        {
            let (cl, b, s, k) = (client.clone(), base.clone(), sup_secret.clone(), decl_cursors.clone());
            let (p, s2, k2) = (pool.clone(), sup_secret.clone(), decl_cursors.clone());
            measure!(
                "declaration list, deep keyset page",
                drive(c, n, move |i| {
                    let (cl, s) = (cl.clone(), s.clone());
                    let (at, id) = k[i % k.len()];
                    let u = format!(
                        "{b}/declarations?cursor={}",
                        url_encode(&format!("{}~{id}", at.unix_timestamp_nanos()))
                    );
                    async move { get_page(&cl, &u, &s).await }
                }),
                drive(c, n, move |i| {
                    let (p, s) = (p.clone(), s2.clone());
                    let (at, id) = k2[i % k2.len()];
                    let f = filter(decl_db::Filter {
                        after: Some((at, icts_review::ids::DeclarationId(id))),
                        ..Default::default()
                    });
                    async move { declaration_list_sql(&p, &s, &f).await }
                })
            );
        }
        {
            let (cl, b, s, f1) = (client.clone(), base.clone(), sup_secret.clone(), filers.clone());
            let (p, s2, f2) = (pool.clone(), sup_secret.clone(), filers.clone());
            measure!(
                "filer page, with its declarations",
                drive(c, n, move |i| {
                    let (cl, s) = (cl.clone(), s.clone());
                    let u = format!("{b}/parties/{}", f1[i % f1.len()]);
                    async move { get_page(&cl, &u, &s).await }
                }),
                drive(c, n, move |i| {
                    let (p, s, id) = (p.clone(), s2.clone(), f2[i % f2.len()]);
                    async move { filer_page_sql(&p, &s, sup_id, id).await }
                })
            );
        }
    }
    // Case page.
    {
        let (cl, b, s, ids1) = (client.clone(), base.clone(), sup_secret.clone(), ids.clone());
        let (p, s2, ids2) = (pool.clone(), sup_secret.clone(), ids.clone());
        measure!(
            "case page",
            drive(c, n, move |i| {
                let (cl, s) = (cl.clone(), s.clone());
                let u = format!("{b}/cases/{}", ids1[i % ids1.len()]);
                async move { get_page(&cl, &u, &s).await }
            }),
            drive(c, n, move |i| {
                let (p, s, id) = (p.clone(), s2.clone(), ids2[i % ids2.len()]);
                async move { case_page_sql(&p, &s, id).await }
            })
        );
    }
    // The home page (a supervisor's: the most lists).
    {
        let (cl, u, s) = (client.clone(), url("/"), sup_secret.clone());
        let (p, s2) = (pool.clone(), sup_secret.clone());
        measure!(
            "home page (supervisor)",
            drive(c, n / 4, move |_| {
                let (cl, u, s) = (cl.clone(), u.clone(), s.clone());
                async move { get_page(&cl, &u, &s).await }
            }),
            drive(c, n / 4, move |_| {
                let (p, s) = (p.clone(), s2.clone());
                async move { home_sql(&p, &s, sup_id).await }
            })
        );
    }
    // API list.
    {
        let (cl, u, t) = (client.clone(), url("/api/v1/cases?limit=50"), api_token.clone());
        let (p, t2) = (pool.clone(), api_token.clone());
        measure!(
            "API case list",
            drive(c, n, move |_| {
                let (cl, u, t) = (cl.clone(), u.clone(), t.clone());
                async move { get_api(&cl, &u, &t).await }
            }),
            drive(c, n, move |_| {
                let (p, t) = (p.clone(), t2.clone());
                async move { api_list_sql(&p, &t, sup_id, &CaseFilter { limit: 50, ..Default::default() }).await }
            })
        );
    }
    // Case dossier export (auditor, after re-authentication; each export also records an
    // audit event and takes a checkpoint).
    let audit_token = token(&client, &base, &auditor).await;
    let r = client
        .post(url("/api/v1/auth/reauth"))
        .bearer_auth(&audit_token)
        .json(&serde_json::json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "reauth: {}", r.status());
    {
        let (cl, b, t, ids1) = (client.clone(), base.clone(), audit_token.clone(), ids.clone());
        let (p, t2, ids2) = (pool.clone(), audit_token.clone(), ids.clone());
        let k = (n / 10).max(20);
        measure!(
            "case dossier export (JSON)",
            drive(c, k, move |i| {
                let (cl, t) = (cl.clone(), t.clone());
                let u = format!("{b}/api/v1/cases/{}/export?format=json", ids1[i % ids1.len()]);
                async move { get_api(&cl, &u, &t).await }
            }),
            drive(c, k, move |i| {
                let (p, t, id) = (p.clone(), t2.clone(), ids2[i % ids2.len()]);
                async move { dossier_sql(&p, &t, id).await }
            })
        );
    }

    if o.runs("audit log export") {
        // The full audit log, streamed, against a tenth of it.
        let head: i64 = sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(&owner).await.unwrap();
        let tenth_at: OffsetDateTime =
            sqlx::query_scalar("SELECT at FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT 1")
                .bind(head / 10)
                .fetch_one(&owner)
                .await
                .unwrap();
        let to = tenth_at.format(&time::format_description::well_known::Rfc3339).unwrap();
        // The step-up before each export is taken outside its time and its memory: its
        // argon2 hash is not the export's.
        reauth(&client, &base, &audit_token).await;
        memory.take_peak();
        let (small, small_s) =
            stream_export(&client, &base, &audit_token, &format!("format=ndjson&to={}", url_encode(&to))).await;
        let small_peak = memory.take_peak();
        reauth(&client, &base, &audit_token).await;
        memory.take_peak();
        let (full, full_s) = stream_export(&client, &base, &audit_token, "format=ndjson").await;
        let full_peak = memory.take_peak();
        let started = Instant::now();
        let mut rows = sqlx::query_as::<_, icts_review::audit::StoredEvent>("SELECT * FROM audit_events ORDER BY seq")
            .fetch(&pool);
        let mut bare_rows = 0u64;
        while rows.try_next().await.unwrap().is_some() {
            bare_rows += 1;
        }
        drop(rows);
        let bare_s = started.elapsed().as_secs_f64();
        println!(
            "audit log export: {small} events in {small_s:.1} s (peak {small_peak:.1} MiB); {full} events in {full_s:.1} s (peak {full_peak:.1} MiB); bare read {bare_rows} rows in {bare_s:.1} s"
        );
        lines.push(one_shot(
            format!("audit log export, {small} events (NDJSON)"),
            small as usize,
            small_s,
            small_peak,
            None,
        ));
        lines.push(one_shot(
            format!("audit log export, all {full} events (NDJSON)"),
            full as usize,
            full_s,
            full_peak,
            Some((bare_rows as usize, bare_s)),
        ));
    }
    // CSV bulk intake against a plain COPY of the rows it wrote.
    if o.runs("CSV bulk intake") {
        lines.extend(bulk_intake(&data, &owner, &supervisor, o.import_rows, &memory).await);
    }

    // The declarations' CSV intake against a plain COPY of the rows it wrote.
    if o.runs("declaration bulk intake") && o.declarations > 0 {
        lines.push(declaration_bulk_intake(&pool, &owner, sup_id, o.declaration_rows).await);
    }

    // 8 concurrent audit writers against 8 plain inserters.
    if o.runs("audit appends") {
        // The intake and the exports before it leave thousands of dirty pages: write them
        // out first, so that both writers measure appends, not the checkpointer.
        sqlx::query("CHECKPOINT").execute(&owner).await.unwrap();
        lines.push(audit_appends(&pool, &owner).await);
    }

    // Sign-in (argon2id by design) against the bare verification of the same hash.
    if o.runs("sign-in") {
        let (cl, b, e) = (client.clone(), base.clone(), supervisor.clone());
        memory.take_peak();
        let http = drive(2, 40, move |_| {
            let (cl, b, e) = (cl.clone(), b.clone(), e.clone());
            async move { sign_in(&cl, &b, &e).await.map(|_| ()) }
        })
        .await;
        let peak_mib = memory.take_peak();
        check("sign-in", &http);
        let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
            .bind(&supervisor)
            .fetch_one(&owner)
            .await
            .unwrap();
        let stored = Arc::new(stored);
        let bare = drive(2, 40, move |_| {
            let stored = stored.clone();
            async move {
                let ok =
                    tokio::task::spawn_blocking(move || icts_review::accounts::password::verify(PASSWORD, &stored))
                        .await
                        .unwrap();
                if ok { Ok(()) } else { Err("the password did not verify".into()) }
            }
        })
        .await;
        println!("sign-in p50 {:.1} ms (argon2 alone {:.1} ms)", http.p50_ms, bare.p50_ms);
        lines.push(Line {
            what: "sign-in (page; bare = argon2id verify alone)".into(),
            http,
            bare: Some(bare),
            peak_mib,
        });
    }

    drop(memory);
    pool.close().await;
    owner.close().await;
    server.stop();
    // The chain still verifies after everything this run appended.
    let verdict = cli(&data, &["audit", "verify"], None);
    println!("audit verify: {}", verdict.trim());
    assert!(verdict.starts_with("OK"), "{verdict}");
    print_table(&lines);
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Imports `rows` transactions from a CSV file through the command line (each opening a
/// case, with a supplier and a counterparty), then COPYs the very rows it wrote into
/// tables like the real ones (same columns and indexes) as the reference.
async fn bulk_intake(
    data: &DataDir,
    owner: &PgPool,
    supervisor: &str,
    rows: usize,
    memory: &MemorySampler,
) -> Vec<Line> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("intake.csv");
    let mut w = csv::Writer::from_path(&file).unwrap();
    w.write_record([
        "title",
        "summary",
        "origin",
        "referring_agency",
        "category",
        "adversaries",
        "item",
        "kind",
        "status",
        "value_usd",
        "supplier_name",
        "supplier_country",
        "counterparty_name",
        "counterparty_country",
    ])
    .unwrap();
    let run = OffsetDateTime::now_utc().unix_timestamp();
    for i in 0..rows {
        w.write_record([
            format!("Bulk intake {run}-{i}: routers with remote management"),
            "Referred in bulk for review.".to_string(),
            "agency_referral".into(),
            "DHS".into(),
            "network_infrastructure".into(),
            "CN".into(),
            format!("Router model R{i}"),
            "acquisition".into(),
            "pending".into(),
            (1000 + i).to_string(),
            format!("Bulk Supplier {run}-{} Ltd.", i % 500),
            "CN".into(),
            format!("Regional Carrier {run}-{} LLC", i % 200),
            "US".into(),
        ])
        .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let before: i64 = sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(owner).await.unwrap();
    let since = OffsetDateTime::now_utc();
    memory.take_peak();
    let started = Instant::now();
    cli(data, &["import", "transactions", file.to_str().unwrap(), "--as", supervisor], None);
    let import_s = started.elapsed().as_secs_f64();
    let import_peak = memory.take_peak();
    // The rows the import wrote, by table (stored columns only).
    let mut selections = Vec::new();
    for (table, rows_of_run) in [
        ("cases", format!("created_at >= '{since}'")),
        ("parties", format!("created_at >= '{since}'")),
        ("transactions", format!("case_id IN (SELECT id FROM cases WHERE created_at >= '{since}')")),
        (
            "transaction_parties",
            format!(
                "transaction_id IN (SELECT t.id FROM transactions t JOIN cases c ON c.id = t.case_id WHERE c.created_at >= '{since}')"
            ),
        ),
        ("case_parties", format!("case_id IN (SELECT id FROM cases WHERE created_at >= '{since}')")),
        ("audit_events", format!("seq > {before}")),
    ] {
        let columns: String = sqlx::query_scalar(
            "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER'",
        )
        .bind(table)
        .fetch_one(owner)
        .await
        .unwrap();
        selections.push((table, columns.clone(), format!("SELECT {columns} FROM {table} WHERE {rows_of_run}")));
    }
    // The same rows under new keys (ids, docket numbers, chain positions), so that they can
    // be written again into the same tables.
    let keys: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM cases WHERE created_at >= '{since}' UNION ALL SELECT id FROM parties WHERE created_at >= '{since}' \
         UNION ALL SELECT t.id FROM transactions t JOIN cases c ON c.id = t.case_id WHERE c.created_at >= '{since}' \
         UNION ALL SELECT id FROM audit_events WHERE seq > {before}"
    )))
    .fetch_all(owner)
    .await
    .unwrap();
    let renamed: std::collections::HashMap<String, String> =
        keys.into_iter().map(|k| (k.to_string(), Uuid::new_v4().to_string())).collect();
    let mut conn = owner.acquire().await.unwrap();
    let mut dumps = Vec::new();
    let mut written = 0u64;
    for (table, columns, select) in &selections {
        let mut out = conn.copy_out_raw(&format!("COPY ({select}) TO STDOUT")).await.unwrap();
        let mut bytes = Vec::new();
        while let Some(chunk) = out.try_next().await.unwrap() {
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(bytes).unwrap();
        let mut again = String::with_capacity(text.len());
        for line in text.lines() {
            written += 1;
            let fields: Vec<String> = line
                .split('\t')
                .enumerate()
                .map(|(i, f)| {
                    if let Some(new) = renamed.get(f) {
                        new.clone()
                    } else if *table == "audit_events" && i == 0 {
                        (f.parse::<i64>().unwrap() + 1_000_000_000_000).to_string()
                    } else if *table == "cases" && f.starts_with("ICTS-") && f.len() > 10 {
                        format!("ICTS-2099-{}", &f[10..])
                    } else {
                        f.to_string()
                    }
                })
                .collect();
            again.push_str(&fields.join("\t"));
            again.push('\n');
        }
        dumps.push((table.to_string(), columns.clone(), again));
    }
    drop(conn);
    // A plain COPY of those rows into the same tables (indexes, constraints, triggers; the
    // import's search-document shortcut too), in one transaction, rolled back.
    let mut tx = owner.begin().await.unwrap();
    let started = Instant::now();
    sqlx::query("SELECT set_config('icts.bulk_load', 'on', true)").execute(&mut *tx).await.unwrap();
    for (table, columns, text) in &dumps {
        let mut copy = tx.copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN")).await.unwrap();
        copy.send(text.as_bytes()).await.unwrap();
        copy.finish().await.unwrap();
    }
    let copy_s = started.elapsed().as_secs_f64();
    tx.rollback().await.unwrap();
    // The rolled-back rows are dead but still in every index (newest first, top of the
    // triage queue) until a vacuum, which autovacuum leaves for 20% of a million cases:
    // remove them, so that the reference does not slow the next run's lists.
    for (table, _, _) in &dumps {
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {table}"))).execute(owner).await.unwrap();
    }
    println!(
        "bulk intake: {rows} rows in {import_s:.2} s ({written} rows written); COPY of those rows {copy_s:.2} s; ratio {:.2}",
        import_s / copy_s
    );
    vec![one_shot(
        format!("CSV bulk intake, {rows} rows → {written} table rows (command line; bare = COPY of the same rows)"),
        rows,
        import_s,
        import_peak,
        Some((rows, copy_s)),
    )]
}

/// The declarations' CSV intake of `rows` declarations of the synthetic importers (for
/// calendar years none has declared), run in this process as the intake page runs it,
/// against a plain COPY of the very rows it wrote (declarations, their history, their audit
/// events) into the same tables, in one transaction rolled back after the intake's own rows
/// are taken out of it.
async fn declaration_bulk_intake(pool: &PgPool, owner: &PgPool, user: UserId, rows: usize) -> Line {
    let importers: Vec<Uuid> =
        sqlx::query_scalar("SELECT party_id FROM filer_roles WHERE role = 'hardware_importer' ORDER BY party_id")
            .fetch_all(owner)
            .await
            .unwrap();
    let next_year: i64 = sqlx::query_scalar("SELECT coalesce(max(calendar_year), 2025) + 1 FROM declarations")
        .fetch_one(owner)
        .await
        .unwrap();
    let mut csv = icts_review::declarations::bulk::template_csv().lines().next().unwrap().to_string();
    csv.push('\n');
    for i in 0..rows {
        let year = next_year + (i / importers.len()) as i64;
        assert!(year <= 2100, "too few importers for {rows} rows");
        csv.push_str(&format!(
            "{},hardware,,{year},TCU-{i:06};GW-{i:06},No VCS hardware of a PRC- or Russia-linked supplier,,\n",
            importers[i % importers.len()]
        ));
    }
    let before: i64 = sqlx::query_scalar("SELECT seq FROM audit_head").fetch_one(owner).await.unwrap();
    let actor = supervisor_actor(user);
    let mut conn = pool.acquire().await.unwrap();
    let started = Instant::now();
    let received = icts_review::declarations::bulk::receive(&mut conn, &actor, OffsetDateTime::now_utc(), &csv)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{:?}", &e[..e.len().min(3)]));
    let intake_s = started.elapsed().as_secs_f64();
    drop(conn);
    assert_eq!(received.numbers.len(), rows);
    // The rows it wrote, as COPY writes them (identity columns left to the table).
    let written = format!("SELECT id FROM declarations WHERE number = ANY('{{{}}}')", received.numbers.join(","));
    let mut dumps = Vec::new();
    let mut conn = owner.acquire().await.unwrap();
    for (table, of_run) in [
        ("declarations", format!("id IN ({written})")),
        ("declaration_history", format!("declaration_id IN ({written})")),
        ("audit_events", format!("seq > {before}")),
    ] {
        let columns: String = sqlx::query_scalar(
            "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER' AND is_identity = 'NO'",
        )
        .bind(table)
        .fetch_one(owner)
        .await
        .unwrap();
        let mut out =
            conn.copy_out_raw(&format!("COPY (SELECT {columns} FROM {table} WHERE {of_run}) TO STDOUT")).await.unwrap();
        let mut bytes = Vec::new();
        while let Some(chunk) = out.try_next().await.unwrap() {
            bytes.extend_from_slice(&chunk);
        }
        let mut text = String::from_utf8(bytes).unwrap();
        if table == "audit_events" {
            // New chain positions and ids: the log's rows cannot be taken out.
            text = text
                .lines()
                .map(|l| {
                    let mut f: Vec<String> = l.split('\t').map(str::to_string).collect();
                    f[0] = (f[0].parse::<i64>().unwrap() + 1_000_000_000_000).to_string();
                    f[1] = Uuid::new_v4().to_string();
                    f.join("\t") + "\n"
                })
                .collect();
        }
        dumps.push((table, columns, text));
    }
    drop(conn);
    let table_rows: usize = dumps.iter().map(|(_, _, t)| t.lines().count()).sum();
    let mut tx = owner.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM declaration_history WHERE declaration_id IN ({written})")))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM declarations WHERE id IN ({written})")))
        .execute(&mut *tx)
        .await
        .unwrap();
    let started = Instant::now();
    for (table, columns, text) in &dumps {
        let mut copy = tx.copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN")).await.unwrap();
        copy.send(text.as_bytes()).await.unwrap();
        copy.finish().await.unwrap();
    }
    let copy_s = started.elapsed().as_secs_f64();
    tx.rollback().await.unwrap();
    for (table, _, _) in &dumps {
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {table}"))).execute(owner).await.unwrap();
    }
    println!(
        "declaration bulk intake: {rows} rows in {intake_s:.2} s ({table_rows} table rows); COPY of those rows {copy_s:.2} s; ratio {:.2}",
        intake_s / copy_s
    );
    one_shot(
        format!(
            "declaration bulk intake, {rows} rows → {table_rows} table rows (in process; bare = COPY of the same rows)"
        ),
        rows,
        intake_s,
        0.0,
        Some((rows, copy_s)),
    )
}

/// 8 writers each appending events to the hash chain, one transaction per event (as a
/// change does), against 8 writers inserting the same rows into a table without a chain.
async fn audit_appends(pool: &PgPool, owner: &PgPool) -> Line {
    let per_writer = 500usize;
    let writers = 8usize;
    let ctx = icts_review::audit::AuditContext {
        actor_id: None,
        actor_role: Some("system".into()),
        client_addr: Some("127.0.0.1".into()),
        request_id: Some("bench".into()),
    };
    // As a request appends: inside `durably`, which flushes before it returns (the first
    // run); and as a command appends, each commit waiting for the disk (the second).
    let flusher = icts_review::audit::durable::Flusher::new(pool.clone());
    let append = |deferred: bool| {
        let (p, ctx, flusher) = (pool.clone(), ctx.clone(), flusher.clone());
        move |i: usize| {
            let (p, ctx, flusher) = (p.clone(), ctx.clone(), flusher.clone());
            async move {
                let work = async {
                    let mut tx = p.begin().await.map_err(|e| e.to_string())?;
                    let event = icts_review::audit::NewEvent::new(EventType::Bench)
                        .object("bench", i)
                        .changes(serde_json::json!({"note": {"after": "an event appended by the load benchmark"}}));
                    icts_review::audit::record(&mut tx, OffsetDateTime::now_utc(), &ctx, event)
                        .await
                        .map_err(|e| e.to_string())?;
                    tx.commit().await.map_err(|e| e.to_string())
                };
                if deferred {
                    icts_review::audit::durable::durably(&flusher, work).await.map_err(|e| e.to_string())?
                } else {
                    work.await
                }
            }
        }
    };
    let http = drive(writers, writers * per_writer, append(true)).await;
    check("audit appends", &http);
    let synchronous = drive(writers, writers * per_writer, append(false)).await;
    check("audit appends, each commit waiting for the disk", &synchronous);
    sqlx::query("CREATE TABLE bench_plain_events (LIKE audit_events INCLUDING DEFAULTS INCLUDING INDEXES)")
        .execute(owner)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE bench_plain_events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY")
        .execute(owner)
        .await
        .unwrap();
    let o = owner.clone();
    let bare = drive(writers, writers * per_writer, move |i| {
        let o = o.clone();
        async move {
            let mut tx = o.begin().await.map_err(|e| e.to_string())?;
            sqlx::query(
                "INSERT INTO bench_plain_events (id, at, actor_role, client_addr, request_id, event_type, object_type, object_id, changes, outcome, prev_hash, hash) \
                 VALUES ($1, now(), 'system', '127.0.0.1', 'bench', 'bench.append', 'bench', $2, $3, 'success', $4, $4)",
            )
            .bind(Uuid::now_v7())
            .bind(i.to_string())
            .bind(serde_json::json!({"note": {"after": "an event appended by the load benchmark"}}))
            .bind(vec![0u8; 32])
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())
        }
    })
    .await;
    check("plain inserts", &bare);
    sqlx::query("DROP TABLE bench_plain_events").execute(owner).await.unwrap();
    println!(
        "audit appends, 8 writers: {:.0}/s (plain inserts {:.0}/s; appends whose commits each wait for the disk {:.0}/s)",
        http.per_second, bare.per_second, synchronous.per_second
    );
    Line {
        what: "audit appends, 8 writers (bare = plain INSERT, no chain)".into(),
        http,
        bare: Some(bare),
        peak_mib: 0.0,
    }
}
