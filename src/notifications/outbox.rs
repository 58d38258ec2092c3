//! The mail outbox: notifications queue rows in `mail_outbox` in the transaction that
//! creates them; workers (one per instance) claim pending rows with `FOR UPDATE SKIP
//! LOCKED`, send them over SMTP while holding the claim, and mark them sent in the same
//! transaction, so two instances never send the same message. A failed send is retried
//! with a growing delay.

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

/// Sends every pending message due now, in batches; returns how many were sent.
pub async fn send_pending(
    pool: &PgPool,
    mailer: &Mailer,
    worker: &str,
    now: OffsetDateTime,
) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    loop {
        let mut tx = pool.begin().await?;
        let batch = sqlx::query!(
            "SELECT id, to_address, subject, body, attempts FROM mail_outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT 20 \
             FOR UPDATE SKIP LOCKED",
            now
        )
        .fetch_all(&mut *tx)
        .await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for m in batch {
            let (id, to, subject, body, attempts) = (m.id, m.to_address, m.subject, m.body, m.attempts);
            match mailer.send(id, &to, &subject, &body).await {
                Ok(()) => {
                    sqlx::query!(
                        "UPDATE mail_outbox SET sent_at = $2, sent_by = $3, attempts = attempts + 1 WHERE id = $1",
                        id,
                        now,
                        worker
                    )
                    .execute(&mut *tx)
                    .await?;
                    sent += 1;
                }
                Err(e) => {
                    // 1, 2, 4 ... minutes, at most a day.
                    let delay = time::Duration::minutes(1i64 << attempts.clamp(0, 10)).min(time::Duration::days(1));
                    tracing::warn!(message_id = %id, error = %e, "mail not sent; will retry");
                    sqlx::query!(
                        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
                        id,
                        e.chars().take(1000).collect::<String>(),
                        now + delay
                    )
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
    }
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
