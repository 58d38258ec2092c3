//! Running the service: open the database, bind, serve until SIGTERM or SIGINT, drain the
//! in-flight requests for up to the grace period, then stop the built-in database.

use std::future::IntoFuture;
use std::net::SocketAddr;

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
    let checkpoints = crate::audit::checkpoint::spawn(
        state.db.clone(),
        state.checkpointer.clone(),
        state.clock.clone(),
        config.audit_checkpoint_interval,
    );
    if !crate::auth::service::any_user(&db.pool).await? {
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

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested; draining in-flight requests");
        let _ = stop_tx.send(true);
    };
    let mut server = axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(signal)
        .into_future();
    let grace = config.shutdown_grace;
    let drained = async move {
        tokio::select! {
            r = &mut server => return r.map(|_| true),
            _ = stop_rx.wait_for(|stopping| *stopping) => {}
        }
        match tokio::time::timeout(grace, server).await {
            Ok(r) => r.map(|_| true),
            Err(_) => Ok(false),
        }
    };
    match drained.await {
        Ok(true) => tracing::info!("all requests drained"),
        Ok(false) => tracing::warn!(grace_secs = grace.as_secs(), "grace period over; cutting remaining requests"),
        Err(e) => tracing::error!(error = %e, "server error"),
    }
    worker.abort();
    checkpoints.abort();
    db.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves at the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
