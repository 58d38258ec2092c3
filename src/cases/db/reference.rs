//! The SQL of the reference data ([`crate::cases::reference`]): small tables, read whole.

use sqlx::PgConnection;
use time::Date;

use crate::cases::reference::{Adversary, Agency, Category, DataCategory, KINDS, RuleVersionRow};

/// The foreign adversaries, by code.
pub async fn adversaries(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<Adversary>, sqlx::Error> {
    sqlx::query_as!(
        Adversary,
        "SELECT code, name, note, effective_from, effective_to FROM ref_adversaries ORDER BY code"
    )
    .fetch_all(db)
    .await
}

/// The covered categories, by name.
pub async fn categories(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<Category>, sqlx::Error> {
    sqlx::query_as!(
        Category,
        "SELECT code, name, description, connected_software, effective_from, effective_to FROM ref_categories ORDER BY name",
    )
    .fetch_all(db)
    .await
}

/// The agencies, by name.
pub async fn agencies(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<Agency>, sqlx::Error> {
    sqlx::query_as!(Agency, "SELECT code, name FROM ref_agencies ORDER BY name",).fetch_all(db).await
}

/// The sensitive-personal-data categories, by name.
pub async fn data_categories(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<DataCategory>, sqlx::Error> {
    sqlx::query_as!(DataCategory, "SELECT code, name FROM ref_data_categories ORDER BY name").fetch_all(db).await
}

/// The rule versions, oldest first.
pub async fn rule_versions(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<RuleVersionRow>, sqlx::Error> {
    sqlx::query_as!(
        RuleVersionRow,
        "SELECT code, name, citation, effective_from, final_clock_days, final_clock_starts, response_days, \
         agency_notice_days, presumed_concurrence_days FROM ref_rule_versions ORDER BY effective_from",
    )
    .fetch_all(db)
    .await
}

/// The codes of the sensitive-personal-data categories (for checking transactions).
pub async fn data_category_codes(db: impl sqlx::PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT code FROM ref_data_categories").fetch_all(db).await
}

/// Whether a category covers connected software (its rubric criteria apply).
pub async fn connected_software(conn: &mut PgConnection, category: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!("SELECT connected_software FROM ref_categories WHERE code = $1", category).fetch_one(conn).await
}

/// Reference entry `code` of table `ref_{kind}` as JSON, if there is one. `kind` must be
/// one of [`crate::cases::reference::KINDS`].
pub async fn entry(conn: &mut PgConnection, kind: &str, code: &str) -> Result<Option<serde_json::Value>, sqlx::Error> {
    // The table is chosen by `kind`, one of the fixed reference tables, and a table name
    // cannot be a parameter.
    assert!(KINDS.contains(&kind), "not a reference table: {kind}");
    #[expect(clippy::disallowed_methods, reason = "the table is named by `kind` (one of the fixed KINDS)")]
    let v: Option<serde_json::Value> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT to_jsonb(r) FROM ref_{kind} r WHERE code = $1")))
            .bind(code)
            .fetch_optional(conn)
            .await?;
    Ok(v)
}

/// Adds foreign adversary `code`, or changes it.
pub async fn upsert_adversary(
    conn: &mut PgConnection,
    (code, name, note): (&str, &str, &str),
    from: Option<Date>,
    to: Option<Date>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO ref_adversaries (code, name, note, effective_from, effective_to) VALUES ($1,$2,$3,$4,$5) \
         ON CONFLICT (code) DO UPDATE SET name = $2, note = $3, effective_from = $4, effective_to = $5",
        code,
        name,
        note,
        from,
        to
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds covered category `code`, or changes it.
pub async fn upsert_category(
    conn: &mut PgConnection,
    (code, name, description): (&str, &str, &str),
    connected_software: bool,
    from: Option<Date>,
    to: Option<Date>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO ref_categories (code, name, description, connected_software, effective_from, effective_to) VALUES ($1,$2,$3,$4,$5,$6) \
         ON CONFLICT (code) DO UPDATE SET name = $2, description = $3, connected_software = $4, effective_from = $5, effective_to = $6",
        code,
        name,
        description,
        connected_software,
        from,
        to,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds entry `code` of a table of codes and names (`ref_{kind}`, `kind` one of the
/// agencies and the sensitive-data categories), or renames it.
pub async fn upsert_named(conn: &mut PgConnection, kind: &str, code: &str, name: &str) -> Result<(), sqlx::Error> {
    assert!(KINDS.contains(&kind), "not a reference table: {kind}");
    #[expect(clippy::disallowed_methods, reason = "the table is named by `kind` (one of the fixed KINDS)")]
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO ref_{kind} (code, name) VALUES ($1,$2) ON CONFLICT (code) DO UPDATE SET name = $2"
    )))
    .bind(code)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}
