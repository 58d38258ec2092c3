//! Appends that do not wait for the disk while they hold the chain's head.
//!
//! Every append locks the single `audit_head` row while its transaction commits (the
//! commit links the event into the chain, migration 0046). With the commit flushed to
//! disk while that lock is held, writers queue behind one flush each:
//! 8 writers appended about 0.45× as fast as 8 plain inserters, whose flushes are shared
//! (group commit). Inside [`durably`], an appending transaction commits without waiting
//! for the flush (`synchronous_commit = off` for that transaction only), which releases
//! the head at once; before `durably` returns, a [`Flusher`] makes every commit made so
//! far durable. Flushes are shared: a request whose commit came before a flush that
//! started later waits for that flush instead of running one of its own, as the database
//! shares one write of its log among the commits that wait for it.
//!
//! A flush covers only commits of the same life of the database: a crash (of the server,
//! or of one backend, after which PostgreSQL resets its shared memory) loses commits not
//! yet written, and a flush after it would cover nothing of them. So each deferred append
//! reads the **epoch** in the unlogged table `audit_commit_epoch`, which crash recovery
//! empties, and its flush must read the same epoch: otherwise `durably` fails as a lost
//! connection would (the outcome is unknown). An append that finds no epoch commits
//! synchronously, and `durably` makes a new epoch.
//!
//! What it keeps: nothing is answered, sent or acknowledged before it is on disk. Every
//! HTTP request runs inside `durably` (a layer of the router), so its response waits for
//! the flush; a background task that sends what it read (the audit forwarder) flushes
//! first; a dossier's checkpoint goes to its file only after [`flush_now`]. Outside `durably` (the commands, background jobs) appends commit
//! synchronously as before. What it gives up: for the moment between a request's commit
//! and its flush, another request may read a change that a crash in that moment would
//! undo. No one was told it happened, and nothing built on it survives the crash either
//! (the log is written in order).

use sqlx::{PgConnection, PgPool};
use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;
use uuid::Uuid;

pub use super::db::flush;

/// What the appends made inside one [`durably`] left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Nothing committed without waiting for the disk.
    Nothing,
    /// Appends committed without waiting, in the database's life `epoch`.
    Flush(Uuid),
    /// An append found no epoch (the database recovered from a crash) and committed
    /// synchronously; an epoch is to be made.
    NewEpoch,
    /// Appends of two lives of the database: what the first committed may be gone.
    Lost,
}

impl Pending {
    /// After an append that committed without waiting in `epoch` (or, with `None`,
    /// synchronously for want of an epoch).
    fn and(self, epoch: Option<Uuid>) -> Pending {
        match (self, epoch) {
            (Pending::Lost, _) => Pending::Lost,
            (Pending::Nothing | Pending::NewEpoch, Some(e)) => Pending::Flush(e),
            (Pending::Nothing | Pending::NewEpoch, None) => Pending::NewEpoch,
            (Pending::Flush(a), Some(b)) if a == b => Pending::Flush(a),
            (Pending::Flush(_), _) => Pending::Lost,
        }
    }
}

/// What [`durably`] keeps for the work it runs.
struct Scope {
    pending: Cell<Pending>,
    flusher: Flusher,
}

tokio::task_local! {
    /// Set inside [`durably`].
    static SCOPE: Scope;
}

/// Flushes the database's log for every request of one pool, one flush at a time, each
/// flush serving every commit made before it started.
#[derive(Clone)]
pub struct Flusher {
    pool: PgPool,
    /// The number of flushes started and the last one finished (with the epoch it saw),
    /// held by the flush under way.
    turns: Arc<tokio::sync::Mutex<Turns>>,
    /// A copy of `Turns::started` readable without waiting for the flush under way.
    started: Arc<std::sync::atomic::AtomicU64>,
}

#[derive(Default)]
struct Turns {
    finished: u64,
    epoch: Option<Uuid>,
}

impl Flusher {
    /// A flusher for the database behind `pool`.
    pub fn new(pool: PgPool) -> Flusher {
        Flusher { pool, turns: Default::default(), started: Default::default() }
    }

    /// Returns once every commit made before the call in the life `epoch` is on disk; an
    /// error if the database has had another life since.
    pub async fn flush(&self, epoch: Uuid) -> Result<(), sqlx::Error> {
        use std::sync::atomic::Ordering::SeqCst;
        // A flush numbered above `before` started after this call, so after the caller's
        // commits: once one such has finished in the same life, they are on disk.
        let before = self.started.load(SeqCst);
        let mut turns = self.turns.lock().await;
        if turns.finished <= before {
            let number = self.started.fetch_add(1, SeqCst) + 1;
            let mut conn = self.pool.acquire().await?;
            turns.epoch = Some(flush(&mut conn).await?);
            turns.finished = number;
        }
        if turns.epoch == Some(epoch) { Ok(()) } else { Err(reset()) }
    }
}

/// The error when a crash may have undone a commit before it was flushed: the outcome is
/// unknown, as when the connection is lost during a commit.
fn reset() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "the database recovered from a crash before the change was on disk",
    ))
}

/// Runs `work`; appends it commits release the chain's head without waiting for the
/// disk, and are flushed before this returns. A failed flush is the error (the work's
/// outcome is then unknown to the caller, as with a failed commit).
pub async fn durably<F: Future>(flusher: &Flusher, work: F) -> Result<F::Output, sqlx::Error> {
    let scope = Scope { pending: Cell::new(Pending::Nothing), flusher: flusher.clone() };
    let (out, pending) = SCOPE
        .scope(scope, async {
            let out = work.await;
            (out, SCOPE.with(|s| s.pending.get()))
        })
        .await;
    match pending {
        Pending::Nothing => {}
        Pending::Flush(epoch) => flusher.flush(epoch).await?,
        Pending::NewEpoch => {
            // What was appended is on disk already; the epoch lets the next ones defer.
            let mut conn = flusher.pool.acquire().await?;
            flush(&mut conn).await?;
        }
        Pending::Lost => return Err(reset()),
    }
    Ok(out)
}

/// Whether an append about to be made runs inside [`durably`] and may commit without
/// waiting for the disk (its statement sets `synchronous_commit = off` for its
/// transaction when it finds an epoch, and reports it through [`deferred`]).
pub(crate) fn may_defer() -> bool {
    SCOPE.try_with(|_| ()).is_ok()
}

/// Reports an append made inside [`durably`]: deferred in the life `epoch`, or (`None`)
/// synchronous for want of one.
pub(crate) fn deferred(epoch: Option<Uuid>) {
    let _ = SCOPE.try_with(|s| s.pending.set(s.pending.get().and(epoch)));
}

/// [`may_defer`] and [`deferred`] as a statement of their own, for appends whose
/// statement cannot say it.
pub(crate) async fn defer(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    if may_defer() {
        let epoch = super::db::defer_commit(&mut *conn).await?;
        deferred(epoch);
    }
    Ok(())
}

/// Takes over the flush the appends made so far inside [`durably`] wait for, as a future
/// that may run in another task: for what must not leave before they are on disk (a
/// checkpoint's copy in its file) and can meanwhile overlap other work. Outside `durably`
/// the appends were synchronous and it is ready at once.
pub(crate) fn flush_now() -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'static {
    let taken = SCOPE.try_with(|s| match s.pending.get() {
        Pending::Flush(epoch) => {
            s.pending.set(Pending::Nothing);
            Some(Ok((s.flusher.clone(), epoch)))
        }
        Pending::Lost => Some(Err(reset())),
        Pending::Nothing | Pending::NewEpoch => None,
    });
    async move {
        match taken.ok().flatten() {
            Some(Ok((flusher, epoch))) => flusher.flush(epoch).await,
            Some(Err(e)) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pending;
    use uuid::Uuid;

    #[test]
    fn appends_of_two_lives_of_the_database_are_lost() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(Pending::Nothing.and(Some(a)), Pending::Flush(a));
        assert_eq!(Pending::Flush(a).and(Some(a)), Pending::Flush(a));
        assert_eq!(Pending::Flush(a).and(Some(b)), Pending::Lost, "a crash came between the two appends");
        assert_eq!(Pending::Flush(a).and(None), Pending::Lost, "an append after a crash found no epoch");
        assert_eq!(Pending::Nothing.and(None), Pending::NewEpoch);
        assert_eq!(Pending::NewEpoch.and(Some(b)), Pending::Flush(b), "the synchronous one is on disk already");
        assert_eq!(Pending::Lost.and(Some(a)), Pending::Lost);
    }
}
