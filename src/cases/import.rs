//! Bulk intake of transactions from CSV: one transaction per row with its parties, each
//! opening a case at intake or joining an existing case named by docket number.
//!
//! Every row is validated first and every error is reported by row and column; only a
//! file without errors is loaded, in one database transaction, with bulk inserts and one
//! audit event per case opened or joined (appended in bulk to the hash chain).
//!
//! Columns (header row required, names as below, order free; unknown columns refused):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `docket_number` | no | join this existing case; empty opens a new case |
//! | `title`, `summary` | for a new case | |
//! | `origin` | for a new case | `agency_referral`, `own_initiative`, `submitted_information` |
//! | `referring_agency` | for agency referrals | agency code |
//! | `referral_date` | no | YYYY-MM-DD |
//! | `category` | for a new case | covered-category code |
//! | `adversaries` | for a new case | codes separated by `;` |
//! | `restricted` | no | `true` / `false` |
//! | `item`, `kind`, `status` | yes | the transaction |
//! | `initiated_on`, `completed_on` | no | YYYY-MM-DD |
//! | `ongoing_activity`, `value_usd`, `us_persons_affected` | no | |
//! | `data_categories` | no | codes separated by `;` |
//! | `supplier_name`, `supplier_country` | no | the supplier (found by name and country, or registered) |
//! | `counterparty_name`, `counterparty_country` | no | the US counterparty |

use crate::ids::{CaseId, PartyId, TransactionId, UserId};
use std::collections::HashMap;
use std::io::Read;

use serde_json::json;
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use super::db::import as db;
use super::model::{CaseInput, NewCase};
use super::reference::Reference;
use super::transactions::{TransactionInput, ValidTransaction};
use crate::audit::{self, AuditContext, EventType, NewEvent};
use crate::choice::Choice;
use crate::parties::PartyRole;

/// Every accepted column.
pub const COLUMNS: [&str; 22] = [
    "docket_number",
    "title",
    "summary",
    "origin",
    "referring_agency",
    "referral_date",
    "category",
    "adversaries",
    "restricted",
    "item",
    "kind",
    "status",
    "initiated_on",
    "completed_on",
    "ongoing_activity",
    "value_usd",
    "us_persons_affected",
    "data_categories",
    "supplier_name",
    "supplier_country",
    "counterparty_name",
    "counterparty_country",
];

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// Line of the file (the header is line 1).
    pub row: usize,
    /// Column name.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}, column {}: {}", self.row, self.column, self.message)
    }
}

/// A party named in a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartyKey {
    /// Legal name.
    pub name: String,
    /// Country code.
    pub country: String,
}

/// A validated row.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// File line.
    pub line: usize,
    /// Existing case to join.
    pub docket: Option<String>,
    /// New case to open.
    pub new_case: Option<NewCase>,
    /// The transaction.
    pub transaction: ValidTransaction,
    /// Parties by name.
    pub parties: Vec<(PartyKey, PartyRole)>,
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    /// Rows loaded.
    pub rows: usize,
    pub cases_opened: usize,
    /// Existing cases joined.
    pub cases_joined: usize,
    /// Parties registered.
    pub parties_created: usize,
}

fn split_codes(s: &str) -> Vec<String> {
    s.split(';').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

/// What each column takes, as the import page and the template show it:
/// (column, when it is required, what it takes).
pub const COLUMN_HELP: [(&str, &str, &str); 22] = [
    ("docket_number", "no", "ICTS-YYYY-NNN of an existing case to join; empty opens a new case"),
    ("title", "for a new case", "1 to 300 characters"),
    ("summary", "for a new case", "up to 20,000 characters"),
    ("origin", "for a new case", "agency_referral, own_initiative or submitted_information"),
    (
        "referring_agency",
        "for an agency referral",
        "the agency's code, e.g. DOJ or DHS (Administration → Reference data lists them)",
    ),
    ("referral_date", "no", "YYYY-MM-DD, not before 2021-01-19 and not in the future"),
    ("category", "for a new case", "a covered-category code, e.g. network_infrastructure"),
    ("adversaries", "for a new case", "foreign-adversary codes separated by ;, e.g. CN;RU"),
    ("restricted", "no", "true or false (need-to-know)"),
    ("item", "yes", "the ICTS item or service, 1 to 500 characters"),
    ("kind", "yes", "acquisition, importation, transfer, installation, dealing or use"),
    ("status", "yes", "pending, completed or ongoing"),
    ("initiated_on", "no", "YYYY-MM-DD"),
    ("completed_on", "no", "YYYY-MM-DD, not before initiated_on"),
    ("ongoing_activity", "no", "e.g. firmware updates pushed monthly"),
    ("value_usd", "no", "a number of US dollars, e.g. 1250000"),
    ("us_persons_affected", "no", "a whole number"),
    ("data_categories", "no", "sensitive-data codes separated by ;, e.g. geolocation;biometric"),
    (
        "supplier_name",
        "with supplier_country",
        "the supplier's legal name: found by exact name and country, or registered",
    ),
    ("supplier_country", "with supplier_name", "a two-letter country code, e.g. CN"),
    ("counterparty_name", "with counterparty_country", "the US counterparty's legal name, the same way"),
    ("counterparty_country", "with counterparty_name", "a two-letter country code, e.g. US"),
];

/// A CSV file with every column and one example row that opens a new case: the start of
/// a file to import.
pub fn template_csv() -> String {
    let example: HashMap<&str, &str> = [
        ("title", "Cellular modules in county utility meters"),
        ("summary", "Smart meters with cellular modules from a PRC-based manufacturer, bought by a county utility."),
        ("origin", "own_initiative"),
        ("category", "connected_software"),
        ("adversaries", "CN"),
        ("restricted", "false"),
        ("item", "LTE-M modules in 40,000 electricity meters"),
        ("kind", "acquisition"),
        ("status", "completed"),
        ("initiated_on", "2025-03-01"),
        ("completed_on", "2025-09-30"),
        ("ongoing_activity", "firmware updates pushed monthly"),
        ("value_usd", "1250000"),
        ("us_persons_affected", "40000"),
        ("data_categories", "geolocation"),
        ("supplier_name", "Example Module Co., Ltd."),
        ("supplier_country", "CN"),
        ("counterparty_name", "Example County Utility"),
        ("counterparty_country", "US"),
    ]
    .into_iter()
    .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writes to memory");
    w.write_record(COLUMNS.iter().map(|c| example.get(c).copied().unwrap_or(""))).expect("writes to memory");
    String::from_utf8(w.into_inner().expect("writes to memory")).expect("UTF-8 in, UTF-8 out")
}

/// A file as read: its valid rows, every problem found, and the docket numbers its rows
/// name (valid or not), to be checked against the cases there are.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The rows without a problem.
    pub rows: Vec<ImportRow>,
    /// Every problem, in the order of the file.
    pub errors: Vec<RowError>,
    /// (line, docket number) of every row that names a case to join.
    dockets: Vec<(usize, String)>,
}

/// Adds to `parsed` the rows that name a docket number no case has, in the order of the
/// file: with [`parse_all`], every problem of a file at once.
pub async fn check_dockets(conn: &mut PgConnection, parsed: &mut Parsed) -> Result<(), sqlx::Error> {
    let mut dockets: Vec<String> = parsed.dockets.iter().map(|(_, d)| d.clone()).collect();
    dockets.sort();
    dockets.dedup();
    if dockets.is_empty() {
        return Ok(());
    }
    let found = db::existing_dockets(conn, &dockets).await?;
    parsed.errors.extend(parsed.dockets.iter().filter(|(_, d)| !found.contains(d)).map(|(line, d)| RowError {
        row: *line,
        column: "docket_number".into(),
        message: format!("no case {d} exists"),
    }));
    parsed.errors.sort_by_key(|e| e.row);
    Ok(())
}

/// Reads and validates the whole file; returns every error at once.
pub fn parse(input: impl Read, reference: &Reference, today: Date) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let parsed = parse_all(input, reference, today);
    if parsed.errors.is_empty() { Ok(parsed.rows) } else { Err(parsed.errors) }
}

/// Reads the whole file: the rows that are valid, and every problem of the header and the
/// rows. An unknown column is reported and its values left unread; a missing required
/// column is reported once, not on every row.
pub fn parse_all(input: impl Read, reference: &Reference, today: Date) -> Parsed {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(input);
    let mut errors = Vec::new();
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let message = format!("cannot read the header row: {e}");
            return Parsed { errors: vec![RowError { row: 1, column: "-".into(), message }], ..Parsed::default() };
        }
    };
    for h in headers.iter() {
        if !COLUMNS.contains(&h) {
            errors.push(RowError {
                row: 1,
                column: h.to_string(),
                message: format!("unknown column; allowed: {}", COLUMNS.join(", ")),
            });
        }
    }
    let mut missing = Vec::new();
    for required in ["item", "kind", "status"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(RowError {
                row: 1,
                column: required.into(),
                message: "required column is missing from the header".into(),
            });
            missing.push(required);
        }
    }
    let idx: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    let known_data: Vec<String> = reference.data_categories.iter().map(|d| d.code.clone()).collect();
    let mut rows = Vec::new();
    let mut dockets = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { row: line, column: "-".into(), message: format!("not a valid CSV row: {e}") });
                continue;
            }
        };
        if let Some((i, _)) = record.iter().enumerate().find(|(_, v)| v.chars().any(crate::error::control_character)) {
            errors.push(RowError {
                row: line,
                column: headers.get(i).unwrap_or("-").to_string(),
                message: "must not contain control characters (such as NUL); only tabs and line breaks are allowed"
                    .into(),
            });
            continue;
        }
        let get = |c: &str| idx.get(c).and_then(|i| record.get(*i)).unwrap_or("").to_string();
        let mut err =
            |column: &str, message: String| errors.push(RowError { row: line, column: column.into(), message });
        let docket = Some(get("docket_number").to_uppercase()).filter(|d| !d.is_empty());
        if let Some(d) = &docket
            && !d.starts_with("ICTS-")
        {
            err("docket_number", "must look like ICTS-YYYY-NNN".into());
        } else if let Some(d) = &docket {
            dockets.push((line, d.clone()));
        }
        let new_case = if docket.is_none() {
            let restricted = match get("restricted").to_lowercase().as_str() {
                "" | "false" | "no" | "0" => false,
                "true" | "yes" | "1" => true,
                _ => {
                    err("restricted", "must be true or false".into());
                    false
                }
            };
            let input = CaseInput {
                title: get("title"),
                summary: get("summary"),
                origin: Choice::named(get("origin").trim()),
                referring_agency: Some(get("referring_agency")),
                referral_date: Some(get("referral_date")),
                category: get("category"),
                adversaries: split_codes(&get("adversaries")),
                restricted,
                docket_number: None,
            };
            match input.parse(reference, today) {
                Ok(c) => Some(c),
                Err(es) => {
                    for e in es {
                        err(&e.field, e.message);
                    }
                    None
                }
            }
        } else {
            None
        };
        let num = |column: &str, errs: &mut Vec<RowError>| -> Option<f64> {
            let v = get(column).replace(',', "");
            if v.is_empty() {
                return None;
            }
            v.parse::<f64>().ok().or_else(|| {
                errs.push(RowError { row: line, column: column.into(), message: "must be a number".into() });
                None
            })
        };
        let value_usd = num("value_usd", &mut errors);
        let us_persons = num("us_persons_affected", &mut errors).map(|v| v as i64);
        let mut err =
            |column: &str, message: String| errors.push(RowError { row: line, column: column.into(), message });
        let tx = TransactionInput {
            item: get("item"),
            kind: Choice::named(get("kind").trim()),
            status: Choice::named(get("status").trim()),
            initiated_on: Some(get("initiated_on")),
            completed_on: Some(get("completed_on")),
            ongoing_activity: get("ongoing_activity"),
            value_usd,
            us_persons_affected: us_persons,
            data_categories: split_codes(&get("data_categories")),
            parties: Vec::new(),
        };
        let transaction = match tx.parse(&known_data) {
            Ok(t) => Some(t),
            Err(es) => {
                for e in es {
                    err(&e.field, e.message);
                }
                None
            }
        };
        let mut parties = Vec::new();
        for (prefix, role) in [("supplier", PartyRole::Supplier), ("counterparty", PartyRole::UsCounterparty)] {
            let name = get(&format!("{prefix}_name"));
            let country = get(&format!("{prefix}_country")).to_uppercase();
            match (name.is_empty(), country.is_empty()) {
                (true, true) => {}
                (false, false)
                    if country.len() == 2
                        && country.chars().all(|c| c.is_ascii_uppercase())
                        && name.chars().count() <= 300 =>
                {
                    parties.push((PartyKey { name, country }, role))
                }
                (false, false) => err(&format!("{prefix}_country"), "must be a two-letter country code".into()),
                (true, false) => err(&format!("{prefix}_name"), "is required with a country".into()),
                (false, true) => err(&format!("{prefix}_country"), "is required with a name".into()),
            }
        }
        if let Some(transaction) = transaction {
            rows.push(ImportRow { line, docket, new_case, transaction, parties });
        }
    }
    // A missing column was reported once, in the header.
    errors.retain(|e| e.row == 1 || !missing.contains(&e.column.as_str()));
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError { row: 2, column: "-".into(), message: "the file has no data rows".into() });
    }
    Parsed { rows, errors, dockets }
}

/// Why an import did not load.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Problems in the file; nothing was written.
    #[error("{} problem(s) in the file", .0.len())]
    Rows(Vec<RowError>),
    /// The database failed; nothing was written.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Loads validated rows in one transaction. `progress` is called with rows done so far.
pub async fn load(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    ctx: &AuditContext,
    user: Option<UserId>,
    rows: Vec<ImportRow>,
    screening_threshold: f64,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport { rows: rows.len(), ..ImportReport::default() };
    // New cases get their search documents with their rows (see migration 0003).
    db::set_bulk_load(&mut *conn, true).await?;
    // Existing cases named by docket number.
    let dockets: Vec<String> = {
        let mut d: Vec<String> = rows.iter().filter_map(|r| r.docket.clone()).collect();
        d.sort();
        d.dedup();
        d
    };
    let by_docket: HashMap<String, CaseId> = db::cases_by_docket(&mut *conn, &dockets).await?.into_iter().collect();
    // Checked by `check` already; a case cannot go away, but a caller may skip the check.
    let missing: Vec<RowError> = rows
        .iter()
        .filter_map(|r| {
            r.docket.as_ref().filter(|d| !by_docket.contains_key(*d)).map(|d| RowError {
                row: r.line,
                column: "docket_number".into(),
                message: format!("no case {d} exists"),
            })
        })
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::Rows(missing));
    }
    // Parties: reuse those registered under the same name and country, register the rest.
    let mut keys: Vec<PartyKey> = rows.iter().flat_map(|r| r.parties.iter().map(|p| p.0.clone())).collect();
    keys.sort_by(|a, b| (&a.name, &a.country).cmp(&(&b.name, &b.country)));
    keys.dedup();
    let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
    let countries: Vec<String> = keys.iter().map(|k| k.country.clone()).collect();
    let existing = db::parties_named(&mut *conn, &names, &countries).await?;
    let mut party_ids: HashMap<PartyKey, PartyId> =
        existing.into_iter().map(|(name, country, id)| (PartyKey { name, country }, id)).collect();
    let new_parties: Vec<(PartyId, PartyKey)> =
        keys.into_iter().filter(|k| !party_ids.contains_key(k)).map(|k| (PartyId::new(), k)).collect();
    for chunk in new_parties.chunks(10_000) {
        let ids: Vec<PartyId> = chunk.iter().map(|p| p.0).collect();
        let names: Vec<String> = chunk.iter().map(|p| p.1.name.clone()).collect();
        let countries: Vec<String> = chunk.iter().map(|p| p.1.country.clone()).collect();
        db::insert_parties(&mut *conn, (&ids, &names, &countries), user, now).await?;
    }
    report.parties_created = new_parties.len();
    for (id, k) in new_parties {
        party_ids.insert(k, id);
    }
    // Screen the parties of the file, then give each new case its preliminary triage score
    // (written with the case: a later UPDATE would write every new case twice).
    let mut involved: Vec<PartyId> = party_ids.values().copied().collect();
    involved.sort();
    involved.dedup();
    crate::parties::screening_service::screen_many(&mut *conn, screening_threshold, &involved, now).await?;
    let with_hits: Vec<PartyId> = db::parties_with_hits(&mut *conn, &involved).await?;
    let with_hits: std::collections::HashSet<PartyId> = with_hits.into_iter().collect();
    let triage_of = |r: &ImportRow, c: &NewCase| {
        super::triage::score(&super::triage::TriageFacts {
            category: &c.category,
            adversaries: c.adversaries.len(),
            screening_hits: r.parties.iter().filter(|p| with_hits.contains(&party_ids[&p.0])).count(),
            us_persons: r.transaction.us_persons_affected,
            data_categories: r.transaction.data_categories.len(),
        })
    };
    // New cases: reserve a block of docket numbers for this year in one step.
    let new_count = rows.iter().filter(|r| r.new_case.is_some()).count() as i32;
    let year = now.year();
    let first = if new_count > 0 {
        let last: i32 = db::reserve_dockets(&mut *conn, year, new_count).await?;
        last - new_count + 1
    } else {
        0
    };
    let mut events = Vec::new();
    let mut case_of_row: Vec<CaseId> = Vec::with_capacity(rows.len());
    let mut new_cases: Vec<db::OpenedCase> = Vec::new();
    let mut n = 0;
    for r in &rows {
        match (&r.new_case, &r.docket) {
            (Some(c), _) => {
                let id = CaseId::new();
                let docket = super::model::docket_number(year, first + n);
                n += 1;
                let party_names = r.parties.iter().map(|p| p.0.name.as_str()).collect::<Vec<_>>().join(" ");
                new_cases.push(db::OpenedCase { id, docket, case: c, party_names, score: triage_of(r, c) });
                case_of_row.push(id);
            }
            (None, Some(d)) => case_of_row.push(by_docket[d]),
            (None, None) => unreachable!("a row without a docket number opens a case"),
        }
    }
    report.cases_opened = new_cases.len();
    for chunk in new_cases.chunks(5_000) {
        db::insert_cases(&mut *conn, chunk, user, now).await?;
        for db::OpenedCase { id, docket, case: c, .. } in chunk {
            events.push(NewEvent::new(EventType::CaseCreated).object("case", id).changes(json!({
                "docket_number": {"after": docket}, "title": {"after": c.title}, "origin": {"after": c.origin},
                "category": {"after": c.category}, "adversaries": {"after": c.adversaries}, "restricted": {"after": c.restricted},
                "source": "import",
            })));
        }
    }
    // Transactions and their parties.
    let tx_ids: Vec<TransactionId> = rows.iter().map(|_| TransactionId::new()).collect();
    for (chunk_no, chunk) in rows.chunks(10_000).enumerate() {
        let base = chunk_no * 10_000;
        let ids = (&tx_ids[base..base + chunk.len()], &case_of_row[base..base + chunk.len()]);
        db::insert_transactions(&mut *conn, ids, chunk, user, now).await?;
        let mut tp: (Vec<TransactionId>, Vec<PartyId>, Vec<String>, Vec<CaseId>) = Default::default();
        for (i, r) in chunk.iter().enumerate() {
            for (k, role) in &r.parties {
                tp.0.push(tx_ids[base + i]);
                tp.1.push(party_ids[k]);
                tp.2.push(role.as_str().to_string());
                tp.3.push(case_of_row[base + i]);
            }
        }
        db::insert_transaction_parties(&mut *conn, &tp.0, &tp.1, &tp.2).await?;
        db::insert_case_parties(&mut *conn, (&tp.3, &tp.1, &tp.2), user, now).await?;
        progress(rows.len().min(base + chunk.len()));
    }
    // Joined cases: one event per case, naming the transactions added.
    let mut joined: HashMap<CaseId, Vec<TransactionId>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if r.docket.is_some() {
            joined.entry(case_of_row[i]).or_default().push(tx_ids[i]);
        }
    }
    report.cases_joined = joined.len();
    // Existing cases joined: recompute their search documents with the new parties.
    db::set_bulk_load(&mut *conn, false).await?;
    let joined_ids: Vec<CaseId> = joined.keys().copied().collect();
    db::clear_search_docs(&mut *conn, &joined_ids).await?;
    for (case, txs) in joined {
        events.push(
            NewEvent::new(EventType::CaseTransactionsImported)
                .object("case", case)
                .changes(json!({"transactions": txs, "source": "import"})),
        );
    }
    events.push(NewEvent::new(EventType::ImportCompleted).changes(json!({
        "rows": report.rows, "cases_opened": report.cases_opened, "cases_joined": report.cases_joined, "parties_created": report.parties_created,
    })));
    audit::record_many(conn, now, ctx, events).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn every_bad_cell_is_reported_by_row_and_column() {
        let mut r = Reference::builtin_for_tests();
        r.data_categories.push(super::super::reference::DataCategory { code: "health".into(), name: "Health".into() });
        let csv = "title,summary,origin,category,adversaries,item,kind,status,value_usd,supplier_name,supplier_country\n\
                   Routers,s,own_initiative,data_hosting,CN,Routers,acquisition,pending,100,Maker,CN\n\
                   ,s,nowhere,gardening,FR,,theft,pending,lots,Maker,\n";
        let errors = parse(csv.as_bytes(), &r, date!(2026 - 01 - 01)).unwrap_err();
        let cells: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            cells,
            [
                (3, "title"),
                (3, "origin"),
                (3, "category"),
                (3, "adversaries"),
                (3, "value_usd"),
                (3, "item"),
                (3, "kind"),
                (3, "supplier_country")
            ]
        );
        let ok = parse(&csv.as_bytes()[..csv.find("\n,s").unwrap() + 1], &r, date!(2026 - 01 - 01)).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].parties[0].0.country, "CN");
    }

    #[test]
    fn unknown_or_missing_columns_are_refused() {
        let r = Reference::builtin_for_tests();
        let errors = parse("item,colour\nx,blue\n".as_bytes(), &r, date!(2026 - 01 - 01)).unwrap_err();
        let header: Vec<&str> = errors.iter().filter(|e| e.row == 1).map(|e| e.column.as_str()).collect();
        assert_eq!(header, ["colour", "kind", "status"]);
        // The rows are read all the same (one pass reports every problem), and a missing
        // column is not reported again on each row.
        let row: Vec<&str> = errors.iter().filter(|e| e.row == 2).map(|e| e.column.as_str()).collect();
        assert!(row.contains(&"title") && row.contains(&"category"), "{errors:?}");
        assert!(!row.contains(&"kind") && !row.contains(&"status"), "{errors:?}");
    }
}

/// How long a running import may go without a heartbeat before it counts as stopped (its
/// process went away; its transaction, and so everything of its file, with it).
pub const JOB_STALE: time::Duration = time::Duration::seconds(60);

/// How often a running import writes how far it has got.
const JOB_TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// An import run in the background from the import page.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: uuid::Uuid,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub file_name: String,
    /// Rows in the file, and rows loaded so far.
    pub rows: i64,
    pub done: i64,
    pub status: String,
    pub heartbeat_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Loading; `done` of `rows` so far.
    Running,
    /// Committed.
    Done,
    /// Refused or failed; nothing was written.
    Failed,
    /// Its process stopped before it committed; nothing was written.
    Stopped,
}

impl Job {
    /// Where the import stands at `now`.
    pub fn state(&self, now: OffsetDateTime) -> JobState {
        match self.status.as_str() {
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ if now - self.heartbeat_at > JOB_STALE => JobState::Stopped,
            _ => JobState::Running,
        }
    }

    /// What the import did, once done.
    pub fn report(&self) -> Option<ImportReport> {
        self.report.clone().and_then(|r| serde_json::from_value(r).ok())
    }

    /// Percent of the rows loaded.
    pub fn percent(&self) -> i64 {
        if self.rows == 0 { 100 } else { self.done * 100 / self.rows }
    }
}

/// Records the start of a background import of `rows` checked rows.
pub async fn start_job(
    conn: &mut PgConnection,
    now: OffsetDateTime,
    user: UserId,
    file_name: &str,
    rows: usize,
) -> Result<uuid::Uuid, sqlx::Error> {
    let id = uuid::Uuid::now_v7();
    let name: String = file_name.chars().filter(|c| !c.is_control()).take(300).collect();
    db::insert_job(conn, id, (user, now), &name, rows as i64).await?;
    Ok(id)
}

/// Loads checked rows for job `id` in one transaction (as [`load`]), writing how far it has
/// got every quarter second through another connection, then the outcome.
pub async fn run_job(
    pool: sqlx::PgPool,
    clock: crate::clock::SharedClock,
    ctx: AuditContext,
    user: UserId,
    id: uuid::Uuid,
    rows: Vec<ImportRow>,
    screening_threshold: f64,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let done = Arc::new(AtomicUsize::new(0));
    /// Stops the progress writer however the load ends (a panic included).
    struct Ticker(tokio::task::JoinHandle<()>);
    impl Drop for Ticker {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let ticker = {
        let (pool, clock, done) = (pool.clone(), clock.clone(), done.clone());
        Ticker(tokio::spawn(async move {
            loop {
                tokio::time::sleep(JOB_TICK).await;
                let n = done.load(Ordering::Relaxed) as i64;
                let _ = db::job_progress(&pool, id, n, clock.now()).await;
            }
        }))
    };
    let now = clock.now();
    let outcome: Result<ImportReport, String> = async {
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        let counter = done.clone();
        let report = load(&mut tx, now, &ctx, Some(user), rows, screening_threshold, &move |n| {
            counter.store(n, Ordering::Relaxed)
        })
        .await
        .map_err(|e| match e {
            ImportError::Rows(errors) => format!(
                "{} problem(s) found while loading, such as row {}: {} {}",
                errors.len(),
                errors.first().map(|e| e.row).unwrap_or_default(),
                errors.first().map(|e| e.column.as_str()).unwrap_or_default(),
                errors.first().map(|e| e.message.as_str()).unwrap_or_default()
            ),
            ImportError::Db(e) => format!("the database failed: {e}"),
        })?;
        // The job's outcome commits with the rows it loaded: a committed import is never
        // shown as stopped, and a job that says done holds its rows.
        let finished = clock.now();
        db::job_done(&mut tx, id, serde_json::to_value(&report).unwrap_or_default(), finished)
            .await
            .map_err(|e| format!("the database failed: {e}"))?;
        tx.commit().await.map_err(|e| format!("the database failed: {e}"))?;
        Ok(report)
    }
    .await;
    drop(ticker);
    let finished = clock.now();
    let written = match &outcome {
        Ok(_) => Ok(()),
        Err(why) => {
            tracing::warn!(job = %id, error = %why, "import failed; nothing of it was written");
            db::job_failed(&pool, id, why, finished).await
        }
    };
    if let Err(e) = written {
        tracing::error!(job = %id, error = %e, "the outcome of an import could not be recorded");
    }
}
