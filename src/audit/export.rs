//! Streaming export of the audit log for a period, as NDJSON (one event per line, the
//! stored fields with hex hashes) or CSV (spreadsheet-safe: cells that begin with `=`, `+`,
//! `-`, `@`, tab or carriage return are prefixed with `'`). Rows are read in chunks keyed by
//! sequence number, a connection held only while a chunk is read and under the exports' own
//! limit, and go to the client through a channel of two parts, so memory stays flat
//! whatever the size of the log and a slow reader holds no connection.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::StoredEvent;
use super::db;

/// Output format of the log's export, named in its query by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// Parses `ndjson` or `csv`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim() {
            "ndjson" | "" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// A cell made safe for spreadsheets: one that begins with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'` so it is never read as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The CSV columns.
pub const COLUMNS: [&str; 14] = [
    "seq",
    "id",
    "at",
    "actor_id",
    "actor_role",
    "client_addr",
    "request_id",
    "event_type",
    "object_type",
    "object_id",
    "changes",
    "outcome",
    "prev_hash",
    "hash",
];

fn csv_row(e: &StoredEvent) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        e.seq.to_string(),
        e.id.to_string(),
        e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
        opt(&e.actor_role),
        opt(&e.client_addr),
        opt(&e.request_id),
        e.event_type.clone(),
        opt(&e.object_type),
        opt(&e.object_id),
        e.changes.to_string(),
        e.outcome.clone(),
        hex::encode(&e.prev_hash),
        hex::encode(&e.hash),
    ]
}

/// Writes one CSV record of neutralised cells.
pub fn write_csv_record<W: std::io::Write>(w: &mut csv::Writer<W>, cells: &[String]) -> csv::Result<()> {
    w.write_record(cells.iter().map(|c| neutralise(c).into_owned()))
}

/// Size of the parts a download is handed to the client in.
pub const PART: usize = 64 * 1024;
/// Events read per database round trip of a log export.
pub const CHUNK_ROWS: i64 = 1000;
/// Longest wait for a turn to read before an export is refused as busy.
pub const TURN_WAIT: Duration = Duration::from_secs(10);

/// The limits every export runs under. Exports read the database in chunks, each under a
/// permit of `reads` (fewer than the pool's connections, so downloads can never take every
/// connection), and hand their output to the client in parts of [`PART`] bytes, each of
/// which must be taken within `stall`.
#[derive(Clone, Debug)]
pub struct Exports {
    /// Turns to read the database: a quarter of the pool, at least one.
    pub reads: Arc<Semaphore>,
    /// How long a part may wait for a client that does not read.
    pub stall: Duration,
}

/// Why an export could not start.
#[derive(Debug)]
pub enum Refused {
    /// Every read turn stayed taken for [`TURN_WAIT`].
    Busy,
    /// The database failed.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Refused::Database(e)
    }
}

impl Exports {
    /// Limits for a pool of `pool_size` connections.
    pub fn new(pool_size: u32, stall: Duration) -> Self {
        Exports { reads: Arc::new(Semaphore::new((pool_size / 4).max(1) as usize)), stall }
    }

    /// A turn to read, waiting at most [`TURN_WAIT`].
    pub async fn turn(&self) -> Result<OwnedSemaphorePermit, Refused> {
        match tokio::time::timeout(TURN_WAIT, self.reads.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(Refused::Busy),
        }
    }

    /// The turn a case dossier's gathering takes: one of the export turns when it carries
    /// the documents' contents (a read as large as the files), none without them (a read
    /// the size of the case's page, bounded by the one case, like every page's).
    pub async fn dossier_turn(&self, with_contents: bool) -> Result<Option<OwnedSemaphorePermit>, Refused> {
        if with_contents { self.turn().await.map(Some) } else { Ok(None) }
    }
}

/// How far a download got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Events (or parts of a file) handed over.
    pub rows: u64,
    /// Bytes handed over.
    pub bytes: u64,
    /// Sequence number of the last event handed over.
    pub last_seq: Option<i64>,
}

/// Why a download ended before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// The client did not take a part within the stall timeout.
    Stalled,
    /// The client closed the connection (or the service is stopping).
    ClientGone,
    /// The database failed mid-export.
    Database(String),
}

impl Cut {
    /// The reason as recorded in the audit event.
    pub fn reason(&self) -> &'static str {
        match self {
            Cut::Stalled => "client_stalled",
            Cut::ClientGone => "client_went_away",
            Cut::Database(_) => "database_error",
        }
    }
}

type Item = Result<Bytes, std::io::Error>;

/// The producing end of a download: parts go to the client through a channel of two, and a
/// part the client does not take within the stall timeout cuts the download.
pub struct Outlet {
    tx: mpsc::Sender<Item>,
    stall: Duration,
    complete: Arc<AtomicBool>,
    /// How far it got.
    pub progress: Progress,
}

/// The consuming end: the parts, then the end, or an error when the producer stopped
/// before finishing (so an HTTP body breaks off instead of ending as if complete).
pub struct Download {
    rx: mpsc::Receiver<Item>,
    complete: Arc<AtomicBool>,
}

/// A new download whose parts may wait `stall` for the client.
pub fn download(stall: Duration) -> (Outlet, Download) {
    let (tx, rx) = mpsc::channel(2);
    let complete = Arc::new(AtomicBool::new(false));
    (Outlet { tx, stall, complete: complete.clone(), progress: Progress::default() }, Download { rx, complete })
}

impl Outlet {
    /// Hands one part over.
    pub async fn put(&mut self, part: Bytes) -> Result<(), Cut> {
        let len = part.len() as u64;
        let began = std::time::Instant::now();
        match tokio::time::timeout(self.stall, self.tx.send(Ok(part))).await {
            Err(_) => Err(Cut::Stalled),
            // The connection's own stall guard (`web::conn`) may cut a client that reads
            // nothing before this part's timer runs out: that is a stall too.
            Ok(Err(_)) if began.elapsed() >= self.stall / 2 => Err(Cut::Stalled),
            Ok(Err(_)) => Err(Cut::ClientGone),
            Ok(Ok(())) => {
                self.progress.bytes += len;
                Ok(())
            }
        }
    }

    /// Hands a whole file over in parts.
    pub async fn put_all(&mut self, body: Bytes) -> Result<(), Cut> {
        let mut at = 0;
        while at < body.len() {
            let end = (at + PART).min(body.len());
            self.put(body.slice(at..end)).await?;
            self.progress.rows += 1;
            at = end;
        }
        Ok(())
    }

    /// Marks the download complete.
    pub fn finish(self) -> Progress {
        self.complete.store(true, Ordering::SeqCst);
        self.progress
    }

    /// Ends the download with an error the client sees, if it is still reading.
    pub fn fail(self, message: &str) -> Progress {
        let _ = self.tx.try_send(Err(std::io::Error::other(message.to_string())));
        self.progress
    }
}

impl Download {
    /// The next part; `None` at the end of a complete download.
    pub async fn next(&mut self) -> Option<Item> {
        match self.rx.recv().await {
            Some(item) => Some(item),
            None if self.complete.load(Ordering::SeqCst) => None,
            None => Some(Err(std::io::Error::other("the export was cut short"))),
        }
    }
}

/// A log export that has read its first chunk: the events with `from <= at < to` (either
/// bound optional) up to the chain head as it was when the export began, in chain order.
pub struct LogExport {
    pool: PgPool,
    exports: Exports,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    format: Format,
    /// The chain head when the export began: later events are not part of it.
    pub through: i64,
    next: Vec<StoredEvent>,
    /// Events that may hold case content are written redacted ([`super::redact`]).
    redact: bool,
}

async fn chunk(
    pool: &PgPool,
    exports: &Exports,
    after: i64,
    through: i64,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> Result<Vec<StoredEvent>, Refused> {
    let _turn = exports.turn().await?;
    Ok(db::export_chunk(pool, (after, through), from, to, CHUNK_ROWS).await?)
}

/// A chunk of the export as the client receives it: its bytes, where each of its events
/// ends in them (for the progress of a download cut mid-chunk), and whether it was full.
#[derive(Default)]
struct Written {
    bytes: Vec<u8>,
    ends: Vec<(usize, i64)>,
    full: bool,
}

impl Written {
    fn push(&mut self, e: &mut StoredEvent, format: Format, redact: bool) {
        if redact && !super::content_free(&e.event_type) {
            super::redact(e);
        }
        match format {
            Format::Ndjson => {
                serde_json::to_writer(&mut self.bytes, e).expect("events serialise");
                self.bytes.push(b'\n');
            }
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut self.bytes);
                let _ = write_csv_record(&mut w, &csv_row(e));
                let _ = w.flush();
            }
        }
        self.ends.push((self.bytes.len(), e.seq));
    }
}

/// Writes a chunk of events as the client receives them.
fn written(rows: Vec<StoredEvent>, format: Format, redact: bool) -> Written {
    let mut w = Written { bytes: Vec::with_capacity(512 * 1024), ..Default::default() };
    w.full = rows.len() as i64 == CHUNK_ROWS;
    for mut e in rows {
        w.push(&mut e, format, redact);
    }
    w
}

/// Reads the chunks after `after` one by one (each under a read turn that ends with the
/// read) into `into`, which holds one, each as soon as the one before is taken: the reading
/// runs a chunk ahead of the writing, and stops at the last chunk, at a failure (sent on),
/// or when the writer is gone.
async fn read_ahead(
    (pool, exports): (PgPool, Exports),
    mut after: i64,
    through: i64,
    (from, to): (Option<OffsetDateTime>, Option<OffsetDateTime>),
    into: tokio::sync::mpsc::Sender<Result<Vec<StoredEvent>, Refused>>,
) {
    loop {
        // The place in `into` first: a chunk is read only once the one before it is taken.
        let Ok(place) = into.reserve().await else { return };
        let rows = chunk(&pool, &exports, after, through, from, to).await;
        let more = match &rows {
            Ok(rows) => {
                after = rows.last().map_or(after, |e| e.seq);
                rows.len() as i64 == CHUNK_ROWS
            }
            Err(_) => false,
        };
        place.send(rows);
        if !more {
            return;
        }
    }
}

/// The positions a period's events lie between: after the first event at or after `from`
/// (less one) and through the last before `to`, at most `head`. Times follow the chain
/// only roughly, so the chunks still filter by time; the bounds keep the reads from
/// scanning the log beyond the period (a period early in a long log ended in a scan of
/// all the rest). Each bound is read through the index on `at`.
async fn window(
    pool: &PgPool,
    head: i64,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
) -> Result<(i64, i64), sqlx::Error> {
    let through = match to {
        None => head,
        Some(to) => db::last_before(pool, to).await?.map_or(0, |s| s.min(head)),
    };
    let after = match from {
        None => 0,
        Some(from) => db::first_from(pool, from, through).await?.map_or(through, |s| s - 1),
    };
    Ok((after, through))
}

impl LogExport {
    /// Begins an export: reads the chain head and the first chunk, so a database that
    /// cannot serve it is known before anything is answered.
    pub async fn open(
        pool: PgPool,
        exports: Exports,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
        format: Format,
    ) -> Result<LogExport, Refused> {
        let head = db::head_seq(&pool).await?;
        let (after, through) = window(&pool, head, from, to).await?;
        let next = chunk(&pool, &exports, after, through, from, to).await?;
        Ok(LogExport { pool, exports, from, to, format, through, next, redact: false })
    }

    /// The export as its reader may read it ([`super::view_for`]): redacted for one who
    /// sees no case content.
    pub fn for_reader(mut self, sees_case_content: bool) -> Self {
        self.redact = !sees_case_content;
        self
    }

    /// Writes the export to `out`, a chunk of events at a time (a connection is held only
    /// while a chunk is read), in parts of about [`PART`] bytes; gives the outlet back with
    /// how it ended.
    pub async fn run(self, mut out: Outlet) -> (Outlet, Result<(), Cut>) {
        let r = self.write(&mut out).await;
        (out, r)
    }

    /// Hands each chunk to the client in parts while the next one is written and the one
    /// after it read, each in a task of its own: reading, writing and sending overlap, and
    /// at most three chunks are held (one read, one written, one sent), whatever the log's
    /// size.
    async fn write(mut self, out: &mut Outlet) -> Result<(), Cut> {
        let first = std::mem::take(&mut self.next);
        let mut current = Written::default();
        if self.format == Format::Csv {
            let mut w = csv::Writer::from_writer(&mut current.bytes);
            let _ = w.write_record(COLUMNS);
            let _ = w.flush();
        }
        let after = first.last().map(|e| e.seq);
        let first = written(first, self.format, self.redact);
        current.bytes.extend_from_slice(&first.bytes);
        let header = current.bytes.len() - first.bytes.len();
        current.ends = first.ends.into_iter().map(|(end, seq)| (end + header, seq)).collect();
        current.full = first.full;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let reader = match after {
            Some(after) if current.full => Some(tokio::spawn(read_ahead(
                (self.pool.clone(), self.exports.clone()),
                after,
                self.through,
                (self.from, self.to),
                tx,
            ))),
            _ => None,
        };
        let r = self.send_all(out, current, rx).await;
        if let Some(reader) = reader {
            reader.abort();
        }
        r
    }

    /// Sends `current`, then each chunk `rx` brings, written while the one before is sent.
    async fn send_all(
        &self,
        out: &mut Outlet,
        mut current: Written,
        rx: tokio::sync::mpsc::Receiver<Result<Vec<StoredEvent>, Refused>>,
    ) -> Result<(), Cut> {
        let mut rx = Some(rx);
        let (format, redact) = (self.format, self.redact);
        loop {
            let next = match rx.take() {
                Some(mut rx) if current.full => Some(tokio::spawn(async move {
                    let w = match rx.recv().await {
                        Some(Ok(rows)) => Ok(written(rows, format, redact)),
                        Some(Err(e)) => Err(e),
                        None => Ok(Written::default()),
                    };
                    (rx, w)
                })),
                _ => None,
            };
            let handed = hand_out(out, current).await;
            if let Err(cut) = handed {
                if let Some(task) = next {
                    task.abort();
                }
                return Err(cut);
            }
            let Some(task) = next else { return Ok(()) };
            current = match task.await {
                Ok((back, Ok(w))) => {
                    rx = Some(back);
                    w
                }
                Ok((_, Err(Refused::Busy))) => return Err(Cut::Database("no turn to read within 10 s".into())),
                Ok((_, Err(Refused::Database(e)))) => return Err(Cut::Database(e.to_string())),
                Err(e) => return Err(Cut::Database(format!("the read stopped: {e}"))),
            };
            if current.ends.is_empty() {
                return Ok(());
            }
        }
    }
}

/// Hands a chunk's bytes to the client in parts of [`PART`] bytes, counting the events
/// each part completes.
async fn hand_out(out: &mut Outlet, w: Written) -> Result<(), Cut> {
    let mut bytes = Bytes::from(w.bytes);
    let mut ends = w.ends.into_iter().peekable();
    let mut offset = 0;
    while !bytes.is_empty() {
        let part = bytes.split_to(PART.min(bytes.len()));
        offset += part.len();
        out.put(part).await?;
        while let Some(&(end, seq)) = ends.peek()
            && end <= offset
        {
            out.progress.rows += 1;
            out.progress.last_seq = Some(seq);
            ends.next();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK(\"http://x\")"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        for fine in ["analyst", "{\"a\":1}", "2026-01-01", "", " =x"] {
            assert_eq!(neutralise(fine), fine);
        }
        let mut out = Vec::new();
        {
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut out);
            write_csv_record(&mut w, &["=cmd|' /C calc'!A0".to_string(), "ok".to_string()]).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "'=cmd|' /C calc'!A0,ok\n");
    }

    #[tokio::test]
    async fn a_download_that_stops_before_its_end_breaks_off() {
        let (mut out, mut dl) = download(Duration::from_millis(50));
        out.put(Bytes::from_static(b"one")).await.unwrap();
        assert_eq!(dl.next().await.unwrap().unwrap(), Bytes::from_static(b"one"));
        drop(out);
        assert!(dl.next().await.unwrap().is_err(), "no clean end without finish");

        let (mut out, mut dl) = download(Duration::from_millis(50));
        out.put_all(Bytes::from(vec![7u8; PART + 1])).await.unwrap();
        assert_eq!(out.finish(), Progress { rows: 2, bytes: PART as u64 + 1, last_seq: None });
        assert_eq!(dl.next().await.unwrap().unwrap().len(), PART);
        assert_eq!(dl.next().await.unwrap().unwrap().len(), 1);
        assert!(dl.next().await.is_none(), "a finished download ends cleanly");

        // Nobody reads: the channel takes two parts, the third waits out the stall timeout.
        let (mut out, _dl) = download(Duration::from_millis(50));
        out.put(Bytes::from_static(b"a")).await.unwrap();
        out.put(Bytes::from_static(b"b")).await.unwrap();
        assert_eq!(out.put(Bytes::from_static(b"c")).await, Err(Cut::Stalled));
    }
}
