//! Streaming export of the audit log for a period, as NDJSON (one event per line, the
//! stored fields with hex hashes) or CSV (spreadsheet-safe: cells that begin with `=`, `+`,
//! `-`, `@`, tab or carriage return are prefixed with `'`). Rows stream from the database
//! through a small bounded channel, so memory stays flat whatever the size of the log.

use std::borrow::Cow;

use bytes::Bytes;
use futures_util::TryStreamExt;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::StoredEvent;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Streams the events with `from <= at < to` (either bound optional) in chain order into
/// chunks of about 64 KiB on a bounded channel. The receiver ends when the export is done;
/// an error ends it early with the error.
pub fn stream(
    pool: PgPool,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    format: Format,
) -> mpsc::Receiver<Result<Bytes, std::io::Error>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::with_capacity(80 * 1024);
        if format == Format::Csv {
            let mut w = csv::Writer::from_writer(&mut buf);
            let _ = w.write_record(COLUMNS);
            let _ = w.flush();
        }
        let mut rows = sqlx::query_as!(
            StoredEvent,
            "SELECT seq, id, at, actor_id AS \"actor_id: crate::ids::UserId\", actor_role, client_addr, request_id, event_type, object_type, object_id, \
             changes, outcome, prev_hash, hash FROM audit_events \
             WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2) ORDER BY seq",
            from,
            to,
        )
        .fetch(&pool);
        loop {
            match rows.try_next().await {
                Ok(Some(e)) => {
                    match format {
                        Format::Ndjson => {
                            serde_json::to_writer(&mut buf, &e).expect("events serialise");
                            buf.push(b'\n');
                        }
                        Format::Csv => {
                            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut buf);
                            let _ = write_csv_record(&mut w, &csv_row(&e));
                            let _ = w.flush();
                        }
                    }
                    if buf.len() >= 64 * 1024 {
                        let chunk = Bytes::from(std::mem::replace(&mut buf, Vec::with_capacity(80 * 1024)));
                        if tx.send(Ok(chunk)).await.is_err() {
                            return; // the client went away
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed mid-stream");
                    let _ = tx.send(Err(std::io::Error::other("the export stopped: database error"))).await;
                    return;
                }
            }
        }
        if !buf.is_empty() {
            let _ = tx.send(Ok(Bytes::from(buf))).await;
        }
    });
    rx
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
}
