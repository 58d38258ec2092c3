//! Running the service: open the database, watch it, bind, serve until SIGTERM or SIGINT,
//! drain the in-flight requests for up to the grace period (a second signal cuts it short),
//! cut what is left, close the pool within a second and stop the built-in database. The
//! process is gone at most 4.5 s after the grace period, whatever holds on.

use std::future::IntoFuture;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::config::Config;
use crate::db::Database;
use crate::router::router;

/// Runs the service with `config` until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let css = config.static_dir.join("vendor/uswds/css/uswds.min.css");
    anyhow::ensure!(
        css.is_file(),
        "the front-end assets are missing ({} not found); run from the repository root or set --static-dir / ICTS_STATIC_DIR",
        css.display()
    );
    let mut db = Database::open(&config).await?;
    db.own_local();
    let state = AppState::new(db.pool.clone(), &config);
    let health = state.health.clone();
    let (signer, clock) = (state.checkpointer.clone(), state.clock.clone());
    let mailer = match &config.smtp_url {
        Some(url) => {
            Some(crate::notifications::outbox::Mailer::new(url, &config.mail_from).map_err(anyhow::Error::msg)?)
        }
        None => {
            tracing::info!(
                "no SMTP relay configured (--smtp-url / ICTS_SMTP_URL): notifications stay in the application"
            );
            None
        }
    };
    let worker = crate::notifications::outbox::spawn(state.db.clone(), state.clock.clone(), state.mail, mailer);
    let approvals = crate::accounts::approvals::spawn_expiry(state.db.clone(), state.clock.clone());
    let challenges = crate::auth::second_factor::spawn_sweep(state.db.clone(), state.clock.clone());
    // An installation that signs its checkpoints is never served without its key: the
    // unsigned checkpoints it would take would fail every later verification.
    crate::audit::checkpoint::require_key(&db.pool, &state.checkpointer).await?;
    match &config.audit_signing_key {
        Some(k) => tracing::info!(
            public_key = %hex::encode(k.verifying_key().as_bytes()),
            file = ?config.audit_checkpoint_file,
            "audit checkpoints are signed"
        ),
        None => tracing::warn!(
            "audit checkpoints are UNSIGNED: no --audit-signing-key / ICTS_AUDIT_SIGNING_KEY is configured, so a rewrite of \
             the whole audit chain cannot be detected; make a key with `icts-review audit keygen --out PREFIX`"
        ),
    }
    let forwarder = match &config.audit_syslog {
        Some(settings) => {
            tracing::info!(collector = %settings.target(), "audit events and checkpoints are forwarded to the collector");
            Some(crate::audit::forward::spawn(state.db.clone(), settings.clone()).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let checkpoints = crate::audit::checkpoint::spawn(
        state.db.clone(),
        state.checkpointer.clone(),
        state.clock.clone(),
        config.audit_checkpoint_interval,
    );
    if !crate::accounts::db::any_user(&db.pool).await? {
        let how = "No accounts exist yet. Create the first administrator with:\n    icts-review user add --email you@agency.gov --name \"Your Name\" --role admin\n(with the same --data-dir or DATABASE_URL as the service; add --generate-password to get a one-time password)";
        tracing::warn!("{how}");
    }
    if !config.is_https() {
        tracing::warn!(
            public_url = %config.public_url,
            "serving over plain HTTP (development mode): no HSTS, and the session cookie is `icts_session` without Secure \
             and without the __Host- prefix; set ICTS_PUBLIC_URL to an https:// URL in production"
        );
    }
    let listener =
        TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "icts-review is listening on http://{local}");

    let watch = db.watch(health);
    let grace = config.shutdown_grace;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(Stop::Running);
    let mut signals = Signals::install();
    tokio::spawn(async move {
        signals.next().await;
        tracing::info!(grace_secs = grace.as_secs(), "shutdown requested; draining in-flight requests");
        let _ = stop_tx.send(Stop::Draining);
        // Whatever happens next, the process is gone shortly after the grace period: a
        // request or a pool that does not let go cannot keep it alive.
        let deadline = grace + HARD_DEADLINE_AFTER_GRACE;
        std::thread::spawn(move || {
            std::thread::sleep(deadline);
            tracing::error!(after_secs = deadline.as_secs_f32(), "shutdown did not finish in time; exiting now");
            std::process::exit(1);
        });
        signals.next().await;
        tracing::warn!("second shutdown signal; cutting the drain short");
        let _ = stop_tx.send(Stop::Now);
    });
    let mut draining = stop_rx.clone();
    let mut server = Box::pin(
        axum::serve(
            crate::web::conn::GuardedListener::new(listener, config.client_stall_timeout),
            router(state).into_make_service_with_connect_info::<crate::web::conn::PeerAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = draining.wait_for(|s| *s != Stop::Running).await;
        })
        .into_future(),
    );
    let outcome = tokio::select! {
        r = &mut server => Some(r),
        _ = stop_rx.wait_for(|s| *s != Stop::Running) => None,
    };
    let outcome = match outcome {
        Some(r) => Drain::Done(r),
        None => tokio::select! {
            r = &mut server => Drain::Done(r),
            _ = tokio::time::sleep(grace) => Drain::GraceOver,
            _ = stop_rx.wait_for(|s| *s == Stop::Now) => Drain::Cut,
        },
    };
    match outcome {
        Drain::Done(Ok(())) => tracing::info!("all requests drained"),
        Drain::Done(Err(e)) => tracing::error!(error = %e, "server error"),
        Drain::GraceOver => {
            tracing::warn!(grace_secs = grace.as_secs(), "grace period over; cutting remaining requests")
        }
        Drain::Cut => tracing::warn!("cutting remaining requests"),
    }
    // Dropping the server future stops accepting and drops the connections it still
    // serves; the workers stop before the database does, so nothing restarts it.
    drop(server);
    watch.abort();
    worker.abort();
    approvals.abort();
    challenges.abort();
    checkpoints.abort();
    if let Some(f) = &forwarder {
        f.abort();
    }
    // A last checkpoint, so nothing written before the stop waits for the next start.
    let last = crate::audit::checkpoint::create(&db.pool, &signer, clock.now(), "shutdown", true);
    match tokio::time::timeout(POOL_CLOSE_LIMIT, last).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "no audit checkpoint at shutdown"),
        Err(_) => tracing::warn!("no audit checkpoint at shutdown: the database did not answer in time"),
    }
    db.shutdown_within(POOL_CLOSE_LIMIT).await;
    tracing::info!("stopped");
    Ok(())
}

/// How long the pool may take to close at shutdown before the database ends the sessions.
const POOL_CLOSE_LIMIT: Duration = Duration::from_secs(1);
/// After the grace period, the most the rest of the shutdown may take.
const HARD_DEADLINE_AFTER_GRACE: Duration = Duration::from_millis(4500);

/// Where shutdown stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Running,
    Draining,
    Now,
}

/// How the drain ended.
enum Drain {
    Done(std::io::Result<()>),
    GraceOver,
    Cut,
}

/// SIGTERM and SIGINT, installed once, so a second signal is seen too.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Signals {
            term: signal(SignalKind::terminate()).expect("SIGTERM handler installs"),
            int: signal(SignalKind::interrupt()).expect("SIGINT handler installs"),
        }
    }

    /// Resolves at the next SIGTERM or SIGINT.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
