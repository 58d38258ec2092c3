//! Reference data: foreign adversaries, covered categories, agencies, sensitive-data
//! categories and rule versions. Seeded by migration, dated where the rule dates them.

use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use time::{Date, OffsetDateTime};

use super::db::reference as db;
use crate::audit::EventType;

pub use super::db::reference::{connected_software, data_category_codes};

/// A foreign adversary (791.4).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Adversary {
    /// Two-letter code.
    pub code: String,
    pub name: String,
    /// Qualification, e.g. "including Hong Kong".
    pub note: String,
    /// Listed from.
    pub effective_from: Date,
    /// Listed until (removed by notice).
    pub effective_to: Option<Date>,
}

impl Adversary {
    /// Whether listed on `day`.
    pub fn in_force(&self, day: Date) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|t| day < t)
    }
}

/// A covered ICTS category.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Category {
    /// Short code.
    pub code: String,
    pub name: String,
    /// What it covers.
    pub description: String,
    /// Whether the eight connected-software criteria apply.
    pub connected_software: bool,
    /// Covered from.
    pub effective_from: Date,
    /// Covered until.
    pub effective_to: Option<Date>,
}

impl Category {
    /// Whether covered on `day`.
    pub fn in_force(&self, day: Date) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|t| day < t)
    }
}

/// An agency consulted in the interagency steps.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Agency {
    pub code: String,
    pub name: String,
}

/// A sensitive-personal-data category.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DataCategory {
    pub code: String,
    pub name: String,
}

/// A rule version and its clocks.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RuleVersionRow {
    /// Code (`ifr-2021`, `final-2025`).
    pub code: String,
    pub name: String,
    /// Federal Register citation.
    pub citation: String,
    /// In force from.
    pub effective_from: Date,
    /// Days to the final determination.
    pub final_clock_days: i32,
    /// What starts the final clock.
    pub final_clock_starts: String,
    /// Days the parties have to respond.
    pub response_days: i32,
    /// Days of agency notice before service.
    pub agency_notice_days: Option<i32>,
    /// Days of silence that count as concurrence.
    pub presumed_concurrence_days: Option<i32>,
}

/// All reference data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reference {
    /// Foreign adversaries.
    pub adversaries: Vec<Adversary>,
    /// Covered categories.
    pub categories: Vec<Category>,
    pub agencies: Vec<Agency>,
    /// Sensitive-personal-data categories.
    pub data_categories: Vec<DataCategory>,
    pub rule_versions: Vec<RuleVersionRow>,
}

impl Reference {
    /// Loads everything (small tables).
    pub async fn load(pool: &PgPool) -> Result<Reference, sqlx::Error> {
        Ok(Reference {
            adversaries: db::adversaries(pool).await?,
            categories: db::categories(pool).await?,
            agencies: db::agencies(pool).await?,
            data_categories: db::data_categories(pool).await?,
            rule_versions: db::rule_versions(pool).await?,
        })
    }

    /// The name of a category code.
    pub fn category_name(&self, code: &str) -> String {
        self.categories.iter().find(|c| c.code == code).map(|c| c.name.clone()).unwrap_or_else(|| code.to_string())
    }

    /// The name of an agency code.
    pub fn agency_name(&self, code: &str) -> String {
        self.agencies.iter().find(|c| c.code == code).map(|c| c.name.clone()).unwrap_or_else(|| code.to_string())
    }

    /// A small fixed set for unit tests of validation (the real data comes from the
    /// migration).
    #[cfg(test)]
    pub fn builtin_for_tests() -> Reference {
        let d = time::macros::date!(2021 - 01 - 19);
        Reference {
            adversaries: ["CN", "CU", "IR", "KP", "RU", "VE"]
                .iter()
                .map(|c| Adversary {
                    code: c.to_string(),
                    name: c.to_string(),
                    note: String::new(),
                    effective_from: d,
                    effective_to: None,
                })
                .collect(),
            categories: ["data_hosting", "connected_software"]
                .iter()
                .map(|c| Category {
                    code: c.to_string(),
                    name: c.to_string(),
                    description: String::new(),
                    connected_software: *c == "connected_software",
                    effective_from: d,
                    effective_to: None,
                })
                .collect(),
            agencies: vec![Agency { code: "DOJ".into(), name: "Department of Justice".into() }],
            data_categories: vec![],
            rule_versions: vec![],
        }
    }
}

/// An administrator's change to reference data: add an entry or change one (an end date
/// removes an adversary or category from use from that day; nothing is deleted, so old
/// cases keep their meaning).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceEntry {
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub name: String,
    /// Adversaries: qualification (e.g. "including Hong Kong").
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub note: Option<String>,
    /// Categories: what the category covers.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub description: Option<String>,
    /// Categories: whether the connected-software criteria apply.
    #[serde(default)]
    pub connected_software: Option<bool>,
    /// Adversaries and categories: in force from (YYYY-MM-DD).
    #[serde(default)]
    pub effective_from: Option<String>,
    /// Adversaries and categories: in force until (YYYY-MM-DD), if ended.
    #[serde(default)]
    pub effective_to: Option<String>,
}

/// The kinds of reference data administrators edit.
pub const KINDS: [&str; 4] = ["adversaries", "categories", "agencies", "data_categories"];

/// Adds or changes one reference entry, with its audit event.
pub async fn upsert(
    conn: &mut PgConnection,
    user: &crate::access::Actor,
    now: OffsetDateTime,
    kind: &str,
    code: &str,
    e: &ReferenceEntry,
) -> Result<(), crate::error::DomainError> {
    use crate::error::{DomainError, FieldError};
    let mut errors = Vec::new();
    let code = code.trim();
    let code_ok = match kind {
        "adversaries" => code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()),
        "agencies" => (2..=10).contains(&code.len()) && code.chars().all(|c| c.is_ascii_uppercase()),
        "categories" | "data_categories" => {
            (2..=40).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        }
        _ => return Err(DomainError::NotFound),
    };
    if !code_ok {
        errors.push(FieldError::new(
            "code",
            match kind {
                "adversaries" => "must be two capital letters",
                "agencies" => "must be 2 to 10 capital letters",
                _ => "must be 2 to 40 lower-case letters or underscores",
            },
        ));
    }
    let name = e.name.trim();
    if name.is_empty() || name.chars().count() > crate::text::NAME {
        errors.push(FieldError::new("name", "must be 1 to 300 characters"));
    }
    errors.extend(e.note.as_deref().and_then(|v| crate::text::check("note", v, crate::text::LINE)));
    errors.extend(e.description.as_deref().and_then(|v| crate::text::check("description", v, crate::text::TEXT)));
    let date = |field: &'static str, v: &Option<String>, errors: &mut Vec<FieldError>| match v
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => crate::dates::parse_date(s).or_else(|| {
            errors.push(FieldError::new(field, "must be a date YYYY-MM-DD"));
            None
        }),
        None => None,
    };
    let from = date("effective_from", &e.effective_from, &mut errors);
    let to = date("effective_to", &e.effective_to, &mut errors);
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        errors.push(FieldError::new("effective_to", "must be after the date it takes effect"));
    }
    if matches!(kind, "adversaries" | "categories") && from.is_none() {
        errors.push(FieldError::new("effective_from", "is required: give the date it takes effect as YYYY-MM-DD"));
    }
    if kind == "categories" && e.description.as_deref().map(str::trim).unwrap_or("").is_empty() {
        errors.push(FieldError::new("description", "is required: describe the category in words"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    let mut tx = conn.begin().await?;
    let before = db::entry(&mut tx, kind, code).await?;
    match kind {
        "adversaries" => {
            let note = e.note.as_deref().unwrap_or("").trim();
            db::upsert_adversary(&mut tx, (code, name, note), from, to).await?;
        }
        "categories" => {
            let description = e.description.as_deref().unwrap_or("").trim();
            let connected_software = e.connected_software.unwrap_or(false);
            db::upsert_category(&mut tx, (code, name, description), connected_software, from, to).await?;
        }
        _ => db::upsert_named(&mut tx, kind, code, name).await?,
    }
    let after = db::entry(&mut tx, kind, code).await?.ok_or(sqlx::Error::RowNotFound)?;
    let event = crate::audit::NewEvent::new(if before.is_some() {
        EventType::ReferenceUpdated
    } else {
        EventType::ReferenceAdded
    })
    .object(&format!("reference:{kind}"), code)
    .changes(serde_json::json!({"before": before, "after": after}));
    crate::audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(())
}

/// The agencies as (code, name), by name.
pub async fn agencies(conn: &mut PgConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(db::agencies(conn).await?.into_iter().map(|a| (a.code, a.name)).collect())
}
