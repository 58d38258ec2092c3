//! Reference data: foreign adversaries, covered categories, agencies, sensitive-data
//! categories and rule versions. Seeded by migration, dated where the rule dates them.

use serde::Serialize;
use sqlx::PgPool;
use time::Date;

/// A foreign adversary (791.4).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Adversary {
    /// Two-letter code.
    pub code: String,
    /// Name.
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
    /// Name.
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
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A sensitive-personal-data category.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DataCategory {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A rule version and its clocks.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RuleVersionRow {
    /// Code (`ifr-2021`, `final-2025`).
    pub code: String,
    /// Name.
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
    /// Agencies.
    pub agencies: Vec<Agency>,
    /// Sensitive-personal-data categories.
    pub data_categories: Vec<DataCategory>,
    /// Rule versions.
    pub rule_versions: Vec<RuleVersionRow>,
}

impl Reference {
    /// Loads everything (small tables).
    pub async fn load(pool: &PgPool) -> Result<Reference, sqlx::Error> {
        Ok(Reference {
            adversaries: sqlx::query_as("SELECT code, name, note, effective_from, effective_to FROM ref_adversaries ORDER BY code")
                .fetch_all(pool)
                .await?,
            categories: sqlx::query_as(
                "SELECT code, name, description, connected_software, effective_from, effective_to FROM ref_categories ORDER BY name",
            )
            .fetch_all(pool)
            .await?,
            agencies: sqlx::query_as("SELECT code, name FROM ref_agencies ORDER BY name").fetch_all(pool).await?,
            data_categories: sqlx::query_as("SELECT code, name FROM ref_data_categories ORDER BY name").fetch_all(pool).await?,
            rule_versions: sqlx::query_as("SELECT * FROM ref_rule_versions ORDER BY effective_from").fetch_all(pool).await?,
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
