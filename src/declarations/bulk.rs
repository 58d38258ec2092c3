//! Bulk intake: a CSV file of declarations (the office's spreadsheets, a portal's export)
//! received all at once or not at all. Every row's problems are listed together, naming the
//! line and the column; a file with none is received in one transaction, each declaration
//! numbered, with its history and its audit event.

use std::collections::{HashMap, HashSet};

use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use super::db;
use super::model::{Checked, NewDeclaration};
use super::service::Via;
use crate::access::{Action, Actor};
use crate::audit::{self, EventType, NewEvent};
use crate::cases::import::RowError;
use crate::choice::Choice;
use crate::error::DomainError;
use crate::ids::{DeclarationId, PartyId};

/// The columns of a file, in order, with what each holds.
pub const COLUMNS: [(&str, &str); 8] = [
    ("filer", "the filer's party id, or its legal name exactly as in the registry"),
    ("kind", "hardware, software or completed_vehicle"),
    ("model_year", "the model year (2024 to 2100)"),
    ("calendar_year", "instead of the model year, for VCS hardware without one"),
    ("covers", "makes, models and trims, or part numbers, separated by semicolons"),
    ("certifications", "the certifications made, separated by vertical bars (|)"),
    ("general_authorization", "the general authorization relied on, if any (e.g. GA 1)"),
    ("filed_on", "the date it was filed, YYYY-MM-DD (today when empty)"),
];

/// The most rows a file holds.
pub const MAX_ROWS: usize = 100_000;

/// A template file: the header and one example row.
pub fn template_csv() -> String {
    let header = COLUMNS.map(|(c, _)| c).join(",");
    format!(
        "{header}\nVoltra Motors LLC,completed_vehicle,2027,,Voltra Crossover LX;Voltra Crossover Touring,No covered software of a PRC- or Russia-linked supplier (791.303),,2026-03-02\n"
    )
}

/// What a file received: how many, and their numbers.
#[derive(Debug, Clone)]
pub struct Received {
    pub numbers: Vec<String>,
}

/// A row read: its line and the declaration it names, the filer still as written.
struct Row {
    line: usize,
    filer: String,
    declaration: NewDeclaration,
}

/// Reads the file's rows, naming what does not read (a missing column, a year that is no
/// number).
fn read(input: &str, errors: &mut Vec<RowError>) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(input.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            errors.push(RowError { row: 1, column: "file".into(), message: format!("does not read as CSV: {e}") });
            return Vec::new();
        }
    };
    let index: HashMap<&str, usize> = header.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    for (column, _) in COLUMNS {
        if !index.contains_key(column) {
            errors.push(RowError { row: 1, column: column.into(), message: "is missing from the header".into() });
        }
    }
    if !errors.is_empty() {
        return Vec::new();
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        if rows.len() >= MAX_ROWS {
            errors.push(RowError {
                row: line,
                column: "file".into(),
                message: format!("holds more than {MAX_ROWS} rows"),
            });
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError { row: line, column: "file".into(), message: format!("does not read: {e}") });
                continue;
            }
        };
        let cell = |c: &str| record.get(index[c]).unwrap_or("").to_string();
        let mut year = |c: &str| match cell(c).as_str() {
            "" => None,
            y => y.parse::<i64>().map(Some).unwrap_or_else(|_| {
                errors.push(RowError {
                    row: line,
                    column: c.into(),
                    message: "must be a year from 2024 to 2100".into(),
                });
                None
            }),
        };
        let (model_year, calendar_year) = (year("model_year"), year("calendar_year"));
        let split = |c: &str, by: char| cell(c).split(by).map(str::to_string).collect::<Vec<_>>();
        rows.push(Row {
            line,
            filer: cell("filer"),
            declaration: NewDeclaration {
                filer_id: PartyId(uuid::Uuid::nil()),
                kind: Choice::named(&cell("kind")),
                model_year,
                calendar_year,
                covers: split("covers", ';'),
                certifications: split("certifications", '|'),
                general_authorization: Some(cell("general_authorization")),
                filed_on: Some(cell("filed_on")),
            },
        });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError { row: 2, column: "file".into(), message: "holds no declaration".into() });
    }
    rows
}

/// Receives every declaration of a CSV file, or none: the problems of every row are
/// returned together (a file that names no filer, a filer without the role the kind needs,
/// two rows for the same filer, kind and year, a declaration already in force).
pub async fn receive(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    input: &str,
) -> Result<Result<Received, Vec<RowError>>, DomainError> {
    if !user.may(Action::WorkFilings) {
        return Err(DomainError::Forbidden);
    }
    let today = crate::dates::today(now);
    let mut errors = Vec::new();
    let rows = read(input, &mut errors);
    let mut tx = conn.begin().await?;
    // The filers, by id or by legal name, in one read.
    let named: Vec<String> = rows.iter().map(|r| r.filer.clone()).collect::<HashSet<_>>().into_iter().collect();
    let filers = db::filers_named(&mut tx, &named).await?;
    let mut checked: Vec<(usize, Checked)> = Vec::new();
    let mut seen = HashSet::new();
    for mut row in rows {
        let found = match filers.get(&row.filer.to_lowercase()) {
            Some(found) => found,
            None => {
                let message = if row.filer.is_empty() {
                    "name the filer (its party id or legal name)".to_string()
                } else {
                    format!("{:?} is no party of the registry (give its id or exact legal name)", row.filer)
                };
                errors.push(RowError { row: row.line, column: "filer".into(), message });
                continue;
            }
        };
        let (filer_id, name, roles) = found;
        row.declaration.filer_id = *filer_id;
        let d = match row.declaration.check(today) {
            Ok(d) => d,
            Err(e) => {
                errors.extend(e.into_iter().map(|e| RowError { row: row.line, column: e.field, message: e.message }));
                continue;
            }
        };
        let needed = d.kind.filer_role();
        if !roles.contains(&needed) {
            let message = format!("{name} is not recorded as a {}", needed.label().to_lowercase());
            errors.push(RowError { row: row.line, column: "filer".into(), message });
            continue;
        }
        if !seen.insert((d.filer_id, d.kind, d.model_year, d.calendar_year)) {
            let message = format!("{name} has another row for the same kind and year in this file");
            errors.push(RowError { row: row.line, column: "filer".into(), message });
            continue;
        }
        checked.push((row.line, d));
    }
    // Declarations in force already, in one read.
    let in_force = db::in_force_of(&mut tx, &checked.iter().map(|(_, d)| d.filer_id).collect::<Vec<_>>()).await?;
    for (line, d) in &checked {
        if let Some(number) = in_force.get(&(d.filer_id, d.kind, d.model_year, d.calendar_year)) {
            let message =
                format!("{number} is already in force for this filer, kind and year: file the change as its amendment");
            errors.push(RowError { row: *line, column: "filer".into(), message });
        }
    }
    if !errors.is_empty() {
        // A cell that did not read is named once (not again as missing by the checks).
        let mut named = HashSet::new();
        errors.retain(|e| named.insert((e.row, e.column.clone())));
        errors.sort_by_key(|e| e.row);
        return Ok(Err(errors));
    }
    // Numbered in the file's order, inserted a few thousand a statement with their history.
    let numbers = db::next_numbers(&mut tx, now.year(), checked.len() as i64).await?;
    let ids: Vec<DeclarationId> = checked.iter().map(|_| DeclarationId::new()).collect();
    let rows: Vec<db::NewRow> = checked
        .iter()
        .zip(&numbers)
        .zip(&ids)
        .map(|(((_, d), number), id)| db::NewRow { id: *id, number, d, via: Via::Bulk.as_str(), amends: None })
        .collect();
    if db::insert_many(&mut tx, &rows, (user.id, now)).await? != rows.len() as u64 {
        return Err(DomainError::Conflict(
            "a declaration in force for a filer, kind and year of the file came in meanwhile: send the file again"
                .into(),
        ));
    }
    let events: Vec<NewEvent> = rows
        .iter()
        .map(|r| {
            let changes = super::service::filed(r.number, r.d, Via::Bulk);
            NewEvent::new(EventType::DeclarationFiled).object("declaration", r.id).changes(changes)
        })
        .collect();
    audit::record_many(&mut tx, now, &user.audit(), events).await?;
    tx.commit().await?;
    Ok(Ok(Received { numbers }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_its_columns_or_with_bad_years_is_named_by_line_and_column() {
        let mut errors = Vec::new();
        assert!(read("filer,kind\nX,hardware\n", &mut errors).is_empty());
        let missing: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(
            missing,
            ["model_year", "calendar_year", "covers", "certifications", "general_authorization", "filed_on"]
        );
        let mut errors = Vec::new();
        let rows = read(&format!("{}X,hardware,MY27,,P-1,c,,\n", template_csv()), &mut errors);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].declaration.covers, ["Voltra Crossover LX", "Voltra Crossover Touring"]);
        assert_eq!((errors[0].row, errors[0].column.as_str()), (3, "model_year"));
    }
}
