//! Reference data: foreign adversaries, covered categories, agencies, sensitive-data
//! categories and rule versions. Seeded by migration, dated where the rule dates them.

use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use time::{Date, OffsetDateTime};

use crate::audit::EventType;

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
            adversaries: sqlx::query_as!(
                Adversary,
                "SELECT code, name, note, effective_from, effective_to FROM ref_adversaries ORDER BY code"
            )
            .fetch_all(pool)
            .await?,
            categories: sqlx::query_as!(
                Category,
                "SELECT code, name, description, connected_software, effective_from, effective_to FROM ref_categories ORDER BY name",
            )
            .fetch_all(pool)
            .await?,
            agencies: sqlx::query_as!(
                Agency,
                "SELECT code, name FROM ref_agencies ORDER BY name",
            ).fetch_all(pool).await?,
            data_categories: sqlx::query_as!(DataCategory, "SELECT code, name FROM ref_data_categories ORDER BY name")
                .fetch_all(pool)
                .await?,
            rule_versions: sqlx::query_as!(
                RuleVersionRow,
                "SELECT code, name, citation, effective_from, final_clock_days, final_clock_starts, response_days, \
                 agency_notice_days, presumed_concurrence_days FROM ref_rule_versions ORDER BY effective_from",
            )
            .fetch_all(pool)
            .await?,
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
    // The table is chosen by `kind`, one of the fixed reference tables checked above, and a
    // table name cannot be a parameter.
    #[expect(clippy::disallowed_methods, reason = "the table is named by `kind` (checked above)")]
    let before: Option<serde_json::Value> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT to_jsonb(r) FROM ref_{kind} r WHERE code = $1")))
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?;
    match kind {
        "adversaries" => {
            sqlx::query!(
                "INSERT INTO ref_adversaries (code, name, note, effective_from, effective_to) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT (code) DO UPDATE SET name = $2, note = $3, effective_from = $4, effective_to = $5",
                code,
                name,
                e.note.as_deref().unwrap_or("").trim(),
                from,
                to
            )
            .execute(&mut *tx)
            .await?;
        }
        "categories" => {
            sqlx::query!(
                "INSERT INTO ref_categories (code, name, description, connected_software, effective_from, effective_to) VALUES ($1,$2,$3,$4,$5,$6) \
                 ON CONFLICT (code) DO UPDATE SET name = $2, description = $3, connected_software = $4, effective_from = $5, effective_to = $6",
                code,
                name,
                e.description.as_deref().unwrap_or("").trim(),
                e.connected_software.unwrap_or(false),
                from,
                to,
            )
            .execute(&mut *tx)
            .await?;
        }
        _ => {
            #[expect(clippy::disallowed_methods, reason = "the table is named by `kind` (checked above)")]
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO ref_{kind} (code, name) VALUES ($1,$2) ON CONFLICT (code) DO UPDATE SET name = $2"
            )))
            .bind(code)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
    }
    #[expect(clippy::disallowed_methods, reason = "the table is named by `kind` (checked above)")]
    let after: serde_json::Value =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT to_jsonb(r) FROM ref_{kind} r WHERE code = $1")))
            .bind(code)
            .fetch_one(&mut *tx)
            .await?;
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

/// The codes of the sensitive-personal-data categories (for checking transactions).
pub async fn data_category_codes(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT code FROM ref_data_categories").fetch_all(pool).await
}

/// The agencies as (code, name), by name.
pub async fn agencies(conn: &mut PgConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT code, name FROM ref_agencies ORDER BY name")
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect())
}

/// Whether a category covers connected software (its rubric criteria apply).
pub async fn connected_software(conn: &mut PgConnection, category: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!("SELECT connected_software FROM ref_categories WHERE code = $1", category).fetch_one(conn).await
}
