//! The mail outbox: notifications queue rows in `mail_outbox` in the transaction that
//! creates them; workers (one per instance) send them over SMTP.
//!
//! At most once more after a crash: a worker first **claims** a few due messages in a
//! committed statement (`claimed_at`, `claimed_by`, `unconfirmed + 1`), then sends them one
//! at a time and records each send (or its failure) in its own statement right after. A
//! claim blocks other workers for the lease ([`LEASE`]); a claim whose worker died is taken
//! again after it, and a message with two claims of unknown outcome is not sent again
//! (it is logged as held). So a crash at any point sends a message at most once more, and
//! always with the same Message-ID (`<row id@icts-review>`), which relays and mail clients
//! use to drop the duplicate. A failed send (the relay said no, or could not be reached) is
//! known not to have gone out: it is retried with a growing delay.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// Sends mail through the configured SMTP relay.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for an `smtp://` or `smtps://` URL and a sender address.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("not a usable SMTP URL ({e}); use smtp://host:port, smtp://host:587?tls=required or smtps://host:465"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = from.parse::<Mailbox>().map_err(|_| format!("{from:?} is not a mail address"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one message. Its Message-ID is the outbox row's id, so a receiving system can
    /// recognise a message it has seen (a retry after a lost reply sends the same id).
    async fn send(&self, id: Uuid, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to = to.parse::<Mailbox>().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(format!("<{id}@icts-review>")))
            .subject(subject)
            .body(body.to_string())
            .map_err(|e| e.to_string())?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// How long a claim keeps other workers off a message.
pub const LEASE: time::Duration = time::Duration::minutes(15);
/// Messages claimed at once (sent one after another, each within the SMTP timeout, well
/// inside the lease).
const CLAIM_BATCH: i64 = 10;

/// A message claimed for sending.
#[derive(Debug)]
pub struct Claimed {
    /// The outbox row (and the Message-ID).
    pub id: Uuid,
    to: String,
    subject: String,
    body: String,
    attempts: i32,
}

/// Claims up to ten due messages for `worker` and commits the claim: from here until the
/// send is recorded, a crash leaves the message claimed (sent or not, nobody knows).
pub async fn claim(pool: &PgPool, worker: &str, now: OffsetDateTime) -> Result<Vec<Claimed>, sqlx::Error> {
    Ok(super::db::claim_mail(pool, worker, now, LEASE, CLAIM_BATCH)
        .await?
        .into_iter()
        .map(|r| Claimed { id: r.id, to: r.to_address, subject: r.subject, body: r.body, attempts: r.attempts })
        .collect())
}

/// Sends every pending message due now, claiming a few at a time; returns how many were
/// sent.
pub async fn send_pending(
    pool: &PgPool,
    mailer: &Mailer,
    worker: &str,
    now: OffsetDateTime,
) -> Result<usize, sqlx::Error> {
    report_held(pool, now).await?;
    let mut sent = 0;
    loop {
        let batch = claim(pool, worker, now).await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for m in batch {
            match mailer.send(m.id, &m.to, &m.subject, &m.body).await {
                Ok(()) => {
                    super::db::mail_sent(pool, m.id, now, worker).await?;
                    sent += 1;
                }
                Err(e) => {
                    // Known not sent: the claim is released. 1, 2, 4 ... minutes, at most a day.
                    let delay =
                        time::Duration::minutes(1i64 << (m.attempts - 1).clamp(0, 10)).min(time::Duration::days(1));
                    tracing::warn!(message_id = %m.id, error = %e, "mail not sent; will retry");
                    let error = e.chars().take(1000).collect::<String>();
                    super::db::mail_not_sent(pool, m.id, &error, now + delay).await?;
                }
            }
        }
    }
}

/// What a message held after two interrupted sends says.
pub const HELD: &str =
    "held: sending was interrupted twice, so it may have gone out; not sent again to avoid a duplicate";

/// Marks (once) and logs messages held after two claims of unknown outcome.
async fn report_held(pool: &PgPool, now: OffsetDateTime) -> Result<(), sqlx::Error> {
    let held = super::db::hold_mail(pool, now, LEASE, HELD).await?;
    for id in held {
        tracing::error!(message_id = %id, "{HELD}");
    }
    Ok(())
}

/// The background work of an instance: every 15 seconds send pending mail (when a relay is
/// configured); every 5 minutes write clock reminders. Runs until the task is dropped.
pub fn spawn(
    pool: PgPool,
    clock: crate::clock::SharedClock,
    mail: bool,
    mailer: Option<Mailer>,
) -> tokio::task::JoinHandle<()> {
    let worker = format!("{}:{}", hostname(), std::process::id());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            if n.is_multiple_of(20)
                && let Err(e) = super::remind_due_clocks(&pool, clock.now(), mail).await
            {
                tracing::warn!(error = %e, "clock reminders failed; will retry");
            }
            n += 1;
            if let Some(m) = &mailer
                && let Err(e) = send_pending(&pool, m, &worker, clock.now()).await
            {
                tracing::warn!(error = %e, "mail outbox failed; will retry");
            }
        }
    })
}

fn hostname() -> String {
    nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "localhost".into())
}
