//! Checks the log against the collector's copy ([`super::forward`]): `audit verify
//! --witness FILE`. Every event the collector holds must still be in the log with the same
//! hash, and every checkpoint it holds must still be in the database as it was sent, with
//! the chain having its hash at its position. What a database superuser deletes locally
//! (checkpoints, the newest events and the head with them) the collector still holds, so
//! the check fails naming it.
//!
//! The file is the collector's log in whatever line format it writes: a forwarded message
//! is found by its JSON's opening [`super::forward::MARKER`], and other lines are skipped.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use sqlx::PgPool;

use super::checkpoint::Checkpoint;
use super::db;
use super::forward::MARKER;

/// Problems named one by one; past this, the rest are counted.
const NAMED: usize = 50;

/// Events looked up per query.
const LOOKUP: usize = 5_000;

/// The outcome of checking the log against the witness.
#[derive(Debug, Default)]
pub struct WitnessReport {
    /// Events the witness holds (repeats counted once).
    pub events: usize,
    /// Checkpoints the witness holds.
    pub checkpoints: usize,
    /// The newest event the witness holds.
    pub newest: i64,
    /// What does not hold, one line each (at most [`NAMED`], then a count).
    pub problems: Vec<String>,
    more: usize,
}

impl WitnessReport {
    fn problem(&mut self, p: String) {
        if self.problems.len() < NAMED {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }

    /// Whether the log agrees with the witness.
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems past those named.
    pub fn unnamed(&self) -> usize {
        self.more
    }
}

/// One forwarded message as read back.
#[derive(Deserialize)]
struct Message {
    icts_audit: String,
    seq: Option<i64>,
    hash: Option<String>,
    checkpoint: Option<Checkpoint>,
}

/// What a line holds.
enum Witnessed {
    Event { seq: i64, hash: String },
    Checkpoint(Checkpoint),
}

/// Reads a forwarded message from a line of the collector's log, if it holds one. A
/// message the collector cut short still gives its event's position and hash, which come
/// first.
fn read_line(line: &str) -> Option<Result<Witnessed, String>> {
    let start = line.find(MARKER)?;
    let json = line[start..].trim_end();
    match serde_json::from_str::<Message>(json) {
        Ok(m) if m.icts_audit == "event" => match (m.seq, m.hash) {
            (Some(seq), Some(hash)) => Some(Ok(Witnessed::Event { seq, hash })),
            _ => Some(Err("an event message without its position and hash".into())),
        },
        Ok(m) if m.icts_audit == "checkpoint" => {
            Some(m.checkpoint.map(Witnessed::Checkpoint).ok_or_else(|| "a checkpoint message without it".into()))
        }
        Ok(m) => Some(Err(format!("an unknown message kind {:?}", m.icts_audit))),
        Err(e) => {
            // Cut short: `{"icts_audit":"event","seq":N,"hash":"…"` comes first.
            let cut = || {
                let rest = json.strip_prefix("{\"icts_audit\":\"event\",\"seq\":")?;
                let (seq, rest) = rest.split_once(',')?;
                let hash = rest.strip_prefix("\"hash\":\"")?.get(..64)?;
                let seq = seq.parse::<i64>().ok()?;
                hash.chars().all(|c| c.is_ascii_hexdigit()).then(|| Witnessed::Event { seq, hash: hash.to_string() })
            };
            Some(cut().ok_or_else(|| format!("not a message: {e}")))
        }
    }
}

/// Checks the log in `pool` against the collector's file at `path`; with `key`, each
/// witnessed checkpoint's signature too.
pub async fn check(pool: &PgPool, path: &Path, key: Option<&VerifyingKey>) -> Result<WitnessReport, anyhow::Error> {
    let file =
        std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read the witness {}: {e}", path.display()))?;
    let mut report = WitnessReport::default();
    let mut pending: HashMap<i64, String> = HashMap::new();
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| anyhow::anyhow!("cannot read the witness {}: {e}", path.display()))?;
        match read_line(&line) {
            None => {}
            Some(Err(e)) => report.problem(format!("{} line {}: {e}", path.display(), n + 1)),
            Some(Ok(Witnessed::Event { seq, hash })) => {
                if let Some(before) = pending.insert(seq, hash.clone())
                    && before != hash
                {
                    report.problem(format!("the witness holds two different events at {seq}"));
                }
                if pending.len() >= LOOKUP {
                    compare_events(pool, &mut pending, &mut report).await?;
                }
            }
            Some(Ok(Witnessed::Checkpoint(cp))) if !checkpoints.contains(&cp) => checkpoints.push(cp),
            Some(Ok(Witnessed::Checkpoint(_))) => {}
        }
    }
    compare_events(pool, &mut pending, &mut report).await?;
    report.checkpoints = checkpoints.len();
    let stored = super::checkpoint::all(pool).await?;
    for cp in &checkpoints {
        if !stored.contains(cp) {
            let why = if stored.iter().any(|s| s.seq == cp.seq && s.at == cp.at) {
                "differs from"
            } else {
                "is missing from"
            };
            report.problem(format!(
                "the witnessed checkpoint at event {} of {} ({}) {why} the database: checkpoints were removed or altered",
                cp.seq, cp.at, cp.reason
            ));
        }
        if let Some(k) = key
            && let Err(e) = cp.signature_valid(Some(k))
        {
            report.problem(format!("the witnessed checkpoint at event {} of {}: {e}", cp.seq, cp.at));
        }
        let hash: Option<Vec<u8>> = db::hash_at(pool, cp.seq).await?;
        match hash {
            None if cp.seq > 0 => report.problem(format!(
                "the witnessed checkpoint at event {} of {}: that event is gone from the log",
                cp.seq, cp.at
            )),
            Some(h) if hex::encode(&h) != cp.hash => report.problem(format!(
                "the witnessed checkpoint at event {} of {}: the log has a different hash there — it was rewritten",
                cp.seq, cp.at
            )),
            _ => {}
        }
    }
    Ok(report)
}

/// Compares the witnessed events in `pending` with the log's, and empties it.
async fn compare_events(
    pool: &PgPool,
    pending: &mut HashMap<i64, String>,
    report: &mut WitnessReport,
) -> Result<(), sqlx::Error> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut seqs: Vec<i64> = pending.keys().copied().collect();
    seqs.sort_unstable();
    let rows = db::hashes_at(pool, &seqs).await?;
    let found: HashMap<i64, String> = rows.into_iter().map(|(seq, hash)| (seq, hex::encode(hash))).collect();
    report.events += seqs.len();
    report.newest = report.newest.max(*seqs.last().expect("not empty"));
    for seq in seqs {
        let witnessed = &pending[&seq];
        match found.get(&seq) {
            None => report.problem(format!("the witnessed event {seq} is missing from the log (removed)")),
            Some(h) if h != witnessed => {
                report.problem(format!("the witnessed event {seq} differs in the log: it was rewritten"))
            }
            Some(_) => {}
        }
    }
    pending.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_any_format_give_their_message_and_a_cut_one_its_position() {
        let hash = "ab".repeat(32);
        let line = format!(
            "Dec  7 10:00:00 host icts-review - audit-event - {{\"icts_audit\":\"event\",\"seq\":7,\"hash\":\"{hash}\",\"event\":{{}}}}"
        );
        assert!(matches!(read_line(&line), Some(Ok(Witnessed::Event { seq: 7, .. }))));
        let cut = format!("{{\"icts_audit\":\"event\",\"seq\":8,\"hash\":\"{hash}\",\"event\":{{\"changes\":\"xx");
        assert!(matches!(read_line(&cut), Some(Ok(Witnessed::Event { seq: 8, .. }))));
        assert!(read_line("an unrelated line").is_none());
        assert!(matches!(read_line("{\"icts_audit\":\"event\",\"seq\":x"), Some(Err(_))));
        let cp = r#"{"icts_audit":"checkpoint","checkpoint":{"seq":3,"hash":"00","at":"2026-12-07T10:00:00Z","public_key":null,"signature":null,"reason":"manual"}}"#;
        assert!(matches!(read_line(cp), Some(Ok(Witnessed::Checkpoint(c))) if c.seq == 3));
    }
}
