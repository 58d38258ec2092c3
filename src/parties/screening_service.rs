//! Screening lists in the database: importing a Consolidated Screening List file as a new
//! dated version (re-screening every party), screening a party when it is registered or
//! renamed, and the analyst's confirm / dismiss of each hit.

use crate::ids::{HitId, PartyId, UserId};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db::{self, HitColumns, PartyNames};
use super::screening::ScreeningIndex;
use crate::access::Actor;
use crate::audit::{self, AuditContext, EventType, NewEvent};
use crate::error::DomainError;

pub use super::db::{hits_of_case, hits_of_party, lists};

/// Columns every list file must have (the Consolidated Screening List's names).
pub const REQUIRED: [&str; 12] = [
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "alt_names",
    "source_list_url",
];

/// One entry of a list file.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ListEntry {
    /// The list it comes from (Entity List, SDN, ...).
    pub source: String,
    pub entity_number: String,
    /// Entity or individual.
    pub r#type: String,
    pub programs: String,
    pub name: String,
    pub title: String,
    pub addresses: String,
    pub federal_register_notice: String,
    pub start_date: String,
    pub end_date: String,
    /// Other names, separated by `;`.
    pub alt_names: String,
    /// Where the source list is published.
    pub source_list_url: String,
}

impl ListEntry {
    /// The entry's names: primary first, then aliases.
    pub fn names(&self) -> Vec<String> {
        let mut v = vec![self.name.clone()];
        v.extend(self.alt_names.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
        v
    }
}

/// Why a list file was refused (as a whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ListError {
    /// Line of the file.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parses a list file; any malformed line refuses the whole file.
pub fn parse_list(input: impl std::io::Read) -> Result<Vec<ListEntry>, ListError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers =
        reader.headers().map_err(|e| ListError { line: 1, reason: format!("cannot read the header: {e}") })?.clone();
    let idx = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let mut pos = Vec::new();
    for r in REQUIRED {
        match idx(r) {
            Some(i) => pos.push(i),
            None => return Err(ListError { line: 1, reason: format!("column {r} is missing") }),
        }
    }
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| ListError { line, reason: format!("not a valid CSV row: {e}") })?;
        let get = |k: usize| record.get(pos[k]).unwrap_or("").trim().to_string();
        let entry = ListEntry {
            source: get(0),
            entity_number: get(1),
            r#type: get(2),
            programs: get(3),
            name: get(4),
            title: get(5),
            addresses: get(6),
            federal_register_notice: get(7),
            start_date: get(8),
            end_date: get(9),
            alt_names: get(10),
            source_list_url: get(11),
        };
        if entry.name.is_empty() {
            return Err(ListError { line, reason: "the name is empty".into() });
        }
        if entry.source.is_empty() {
            return Err(ListError { line, reason: "the source list is empty".into() });
        }
        out.push(entry);
    }
    if out.is_empty() {
        return Err(ListError { line: 2, reason: "the file has no entries".into() });
    }
    Ok(out)
}

/// What screening needs besides the database: the current list's cached index and the
/// similarity from which a match is a hit (0–1).
#[derive(Debug, Clone, Default)]
pub struct Screening {
    /// The current list version's index.
    pub index: IndexCache,
    /// Similarity from which a match is a hit.
    pub threshold: f64,
}

/// The index of the current list version, cached per version (versions never change).
#[derive(Debug, Clone, Default)]
pub struct IndexCache(Arc<Mutex<CachedIndex>>);

/// A list version and its index.
type CachedIndex = Option<(i32, Arc<ScreeningIndex>)>;

/// The current list version and its index, if a list was imported.
pub async fn current_index(
    conn: &mut PgConnection,
    cache: &IndexCache,
) -> Result<Option<(i32, Arc<ScreeningIndex>)>, sqlx::Error> {
    let version: Option<i32> = db::current_list_version(&mut *conn).await?;
    let Some(version) = version else { return Ok(None) };
    if let Some((v, idx)) = cache.0.lock().expect("cache lock").clone()
        && v == version
    {
        return Ok(Some((v, idx)));
    }
    let rows = db::entry_names(&mut *conn, version).await?;
    let entries: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(name, alt_names)| ListEntry { name, alt_names, ..ListEntry::default() }.names())
        .collect();
    let idx = Arc::new(ScreeningIndex::build(&entries));
    *cache.0.lock().expect("cache lock") = Some((version, idx.clone()));
    Ok(Some((version, idx)))
}

/// Screens parties against a list version; records new hits. Returns the parties with new
/// hits.
async fn screen_parties(
    conn: &mut PgConnection,
    version: i32,
    index: &ScreeningIndex,
    threshold: f64,
    only: Option<PartyId>,
    now: OffsetDateTime,
) -> Result<Vec<PartyId>, sqlx::Error> {
    let parties = db::names_of(conn, only.as_ref().map(std::slice::from_ref)).await?;
    screen_rows(conn, version, index, threshold, parties, now).await
}

/// The legal names of the parties `ids` (those that exist).
pub async fn legal_names(conn: &mut PgConnection, ids: &[PartyId]) -> Result<Vec<(PartyId, String)>, sqlx::Error> {
    Ok(db::names_of(conn, Some(ids)).await?.into_iter().map(|p| (p.id, p.legal_name)).collect())
}

async fn screen_rows(
    conn: &mut PgConnection,
    version: i32,
    index: &ScreeningIndex,
    threshold: f64,
    parties: Vec<PartyNames>,
    now: OffsetDateTime,
) -> Result<Vec<PartyId>, sqlx::Error> {
    let mut hit_party = Vec::new();
    let mut rows: HitColumns = Default::default();
    for PartyNames { id, legal_name: legal, aliases } in parties {
        let mut seen = std::collections::HashSet::new();
        for name in std::iter::once(legal).chain(aliases) {
            for m in index.screen(&name, threshold) {
                if seen.insert(m.entry) {
                    rows.0.push(HitId::new());
                    rows.1.push(id);
                    rows.2.push(m.entry as i32);
                    rows.3.push(name.clone());
                    rows.4.push(m.matched_name);
                    rows.5.push(m.score as f32);
                }
            }
        }
    }
    if !rows.0.is_empty() {
        let inserted: Vec<PartyId> = db::insert_hits(&mut *conn, version, &rows, now).await?;
        hit_party = inserted;
        hit_party.sort();
        hit_party.dedup();
        // A decision on the same party and the same listed entry (same source and name) in
        // an earlier list version carries over, so a new list does not reopen every hit.
        db::carry_over_decisions(&mut *conn, version, now).await?;
    }
    Ok(hit_party)
}

/// Screens the given parties against the current list (bulk intake), in the caller's
/// transaction.
pub async fn screen_many(
    conn: &mut PgConnection,
    threshold: f64,
    parties: &[PartyId],
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let cache = IndexCache::default();
    if let Some((v, idx)) = current_index(conn, &cache).await? {
        for chunk in parties.chunks(10_000) {
            let rows = db::names_of(conn, Some(chunk)).await?;
            screen_rows(conn, v, &idx, threshold, rows, now).await?;
        }
    }
    Ok(())
}

/// Screens one party (after it is registered or renamed) against the current list, in the
/// caller's transaction.
pub async fn screen_one(
    conn: &mut PgConnection,
    cache: &IndexCache,
    threshold: f64,
    party: PartyId,
    now: OffsetDateTime,
) -> Result<usize, sqlx::Error> {
    match current_index(conn, cache).await? {
        Some((v, idx)) => Ok(screen_parties(conn, v, &idx, threshold, Some(party), now).await?.len()),
        None => Ok(0),
    }
}

/// Imports a list file as the next version, re-screens every party, and flags (with an
/// audit event) each open case whose parties got new hits.
pub async fn import_list(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    ctx: &AuditContext,
    user: Option<UserId>,
    file_name: &str,
    bytes: &[u8],
    threshold: f64,
) -> Result<(i32, usize, usize), DomainError> {
    let entries = parse_list(bytes).map_err(|e| DomainError::invalid("file", e.to_string()))?;
    let mut tx = conn.begin().await?;
    db::lock_screening_lists(&mut tx).await?;
    let version: i32 = db::next_list_version(&mut tx).await?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(bytes).to_vec();
    db::insert_list(&mut tx, version, (file_name, &digest), entries.len() as i32, user, now).await?;
    for (chunk_no, chunk) in entries.chunks(5000).enumerate() {
        let base = (chunk_no * 5000) as i32;
        db::insert_entries(&mut tx, version, base, chunk).await?;
    }
    let index = ScreeningIndex::build(&entries.iter().map(ListEntry::names).collect::<Vec<_>>());
    let parties = screen_parties(&mut tx, version, &index, threshold, None, now).await?;
    let cases = db::open_cases_of(&mut tx, &parties).await?;
    let mut events = vec![NewEvent::new(EventType::ScreeningListImported).object("screening_list", version).changes(json!({
        "file": file_name, "sha256": hex::encode(&digest), "entries": entries.len(), "parties_with_new_hits": parties.len(), "open_cases_flagged": cases.len(),
    }))];
    for (id, docket_number) in &cases {
        events.push(
            NewEvent::new(EventType::CaseScreeningHits)
                .object("case", id)
                .changes(json!({"list_version": version, "docket_number": docket_number})),
        );
    }
    audit::record_many(&mut tx, now, ctx, events).await?;
    tx.commit().await?;
    Ok((version, parties.len(), cases.len()))
}

/// A hit as shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Hit {
    pub id: HitId,
    /// Party.
    pub party_id: PartyId,
    pub list_version: i32,
    /// The party's name that matched.
    pub party_name: String,
    /// The listed name that matched.
    pub matched_name: String,
    /// Similarity 0–1.
    pub score: f32,
    /// Where it stands.
    pub status: HitStatus,
    /// The reason of the decision.
    pub reason: Option<String>,
    /// Source list.
    pub source: String,
    /// Listed entry's primary name.
    pub entry_name: String,
    pub programs: String,
    pub federal_register_notice: String,
}

/// An analyst confirms or dismisses a hit, with a reason.
pub async fn decide_hit(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    hit: HitId,
    confirm: bool,
    reason: &str,
) -> Result<PartyId, DomainError> {
    if !user.may(crate::access::Action::WorkCases) {
        return Err(DomainError::Forbidden);
    }
    if reason.trim().is_empty() {
        return Err(DomainError::invalid("reason", "say why"));
    }
    if let Some(e) = crate::text::check("reason", reason, crate::text::TEXT) {
        return Err(DomainError::Invalid(vec![e]));
    }
    let mut tx = conn.begin().await?;
    let (party, status) = db::lock_hit(&mut tx, hit).await?.ok_or(DomainError::NotFound)?;
    let Some(new_status) = status.decide(confirm) else {
        return Err(DomainError::Conflict(format!("this hit was already {status}")));
    };
    db::decide_hit(&mut tx, hit, new_status, reason.trim(), user.id, now).await?;
    let event = NewEvent::new(if confirm {
        EventType::PartyScreeningHitConfirmed
    } else {
        EventType::PartyScreeningHitDismissed
    })
    .object("party", party)
    .changes(json!({"hit": hit, "status": {"before": status, "after": new_status}, "reason": reason.trim()}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(party)
}

/// Where a screening hit stands: open until someone confirms it (the party is the listed
/// one) or dismisses it (a different party), with a reason. A decision is final for that
/// list version; the next version carries it over to the same listed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HitStatus {
    /// Not yet looked at.
    Open,
    /// The party is the listed one.
    Confirmed,
    /// A different party of a similar name.
    Dismissed,
}

impl HitStatus {
    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            HitStatus::Open => "open",
            HitStatus::Confirmed => "confirmed",
            HitStatus::Dismissed => "dismissed",
        }
    }

    /// The status a decision leads to, or `None` when the hit was already decided.
    pub fn decide(self, confirm: bool) -> Option<HitStatus> {
        match self {
            HitStatus::Open => Some(if confirm { HitStatus::Confirmed } else { HitStatus::Dismissed }),
            HitStatus::Confirmed | HitStatus::Dismissed => None,
        }
    }
}

impl std::fmt::Display for HitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A list version.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ListVersion {
    pub version: i32,
    /// File it came from.
    pub source_file: String,
    pub entries: i32,
    /// Imported.
    #[serde(with = "time::serde::rfc3339")]
    pub imported_at: OffsetDateTime,
}

/// The small list in the Consolidated Screening List's format shipped for tests and the
/// demo (publicly known listed entities; nothing is downloaded at run time).
pub const SAMPLE_LIST: &str = include_str!("csl-sample.csv");

#[cfg(test)]
mod tests {
    /// An open hit is confirmed or dismissed once; a decided one stays as it is.
    #[test]
    fn a_hit_is_decided_once() {
        use super::HitStatus::*;
        assert_eq!(Open.decide(true), Some(Confirmed));
        assert_eq!(Open.decide(false), Some(Dismissed));
        for s in [Confirmed, Dismissed] {
            assert_eq!(s.decide(true), None);
            assert_eq!(s.decide(false), None);
        }
    }

    use super::*;

    const HEADER: &str = "source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,alt_names,source_list_url,remarks\n";

    #[test]
    fn a_good_file_parses_with_aliases() {
        let csv = format!(
            "{HEADER}Entity List (EL),1,Entity,,Huawei Technologies Co. Ltd.,,Shenzhen,84 FR 22961,2019-05-16,,Huawei; HTC,https://example.gov,x\n"
        );
        let e = parse_list(csv.as_bytes()).unwrap();
        assert_eq!(e[0].names(), ["Huawei Technologies Co. Ltd.", "Huawei", "HTC"]);
    }

    #[test]
    fn a_malformed_file_is_refused_whole_with_its_line() {
        let csv = format!("{HEADER}EL,1,Entity,,Good Name,,,,,,,,\nEL,2,Entity,,,,,,,,,,\n");
        assert_eq!(parse_list(csv.as_bytes()).unwrap_err(), ListError { line: 3, reason: "the name is empty".into() });
        let csv = format!("{HEADER}EL,1,Entity,,Good Name,,,,,,,,\nEL,2,too,few\n");
        assert_eq!(parse_list(csv.as_bytes()).unwrap_err().line, 3);
        assert_eq!(parse_list("name,source\nx,y\n".as_bytes()).unwrap_err().reason, "column entity_number is missing");
    }
}
