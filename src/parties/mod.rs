//! The party registry shared across cases: legal names and aliases, ownership chains to a
//! foreign adversary, adversary-nexus evidence per criterion, and links to cases.

pub mod api;
pub mod screening;
pub mod screening_service;

pub mod web;

use crate::ids::{CaseId, EvidenceId, PartyId};
use crate::text;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;

use crate::access::Actor;
use crate::audit::{self, EventType, NewEvent};
use crate::choice::Choice;
use crate::error::{DomainError, FieldError};

/// What kind of person a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "party_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// A company or other organisation.
    Company,
    /// A natural person.
    Person,
    /// A government body.
    GovernmentBody,
}

impl PartyKind {
    /// Every kind.
    pub const ALL: [PartyKind; 3] = [PartyKind::Company, PartyKind::Person, PartyKind::GovernmentBody];
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Company => "company",
            PartyKind::Person => "person",
            PartyKind::GovernmentBody => "government_body",
        }
    }
    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PartyKind::Company => "Company",
            PartyKind::Person => "Person",
            PartyKind::GovernmentBody => "Government body",
        }
    }
}

/// The part a party plays in a case or transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "party_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// Designs, develops, makes or supplies the ICTS.
    Supplier,
    /// The US person acquiring or using it.
    UsCounterparty,
    /// Owner or parent of another party.
    Owner,
    /// Intermediary (reseller, integrator).
    Intermediary,
}

impl PartyRole {
    /// Every role.
    pub const ALL: [PartyRole; 4] =
        [PartyRole::Supplier, PartyRole::UsCounterparty, PartyRole::Owner, PartyRole::Intermediary];
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyRole::Supplier => "supplier",
            PartyRole::UsCounterparty => "us_counterparty",
            PartyRole::Owner => "owner",
            PartyRole::Intermediary => "intermediary",
        }
    }
    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            PartyRole::Supplier => "Supplier / provider",
            PartyRole::UsCounterparty => "US counterparty",
            PartyRole::Owner => "Owner / parent",
            PartyRole::Intermediary => "Intermediary",
        }
    }
}

/// The nexus criteria of 791.103(b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "nexus_criterion", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NexusCriterion {
    /// Owned or controlled by a foreign adversary or a person in one.
    Ownership,
    /// Headquarters, R&D, manufacturing, testing or service facilities in an adversary country.
    Facilities,
    /// Ties of officers, staff or contractors to an adversary.
    PersonnelTies,
    /// Subject to the adversary's laws where the person operates.
    AdversaryLaw,
    /// Who operates, maintains, updates or services the ICTS.
    OperationControl,
}

impl NexusCriterion {
    /// Every criterion.
    pub const ALL: [NexusCriterion; 5] = [
        NexusCriterion::Ownership,
        NexusCriterion::Facilities,
        NexusCriterion::PersonnelTies,
        NexusCriterion::AdversaryLaw,
        NexusCriterion::OperationControl,
    ];
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            NexusCriterion::Ownership => "ownership",
            NexusCriterion::Facilities => "facilities",
            NexusCriterion::PersonnelTies => "personnel_ties",
            NexusCriterion::AdversaryLaw => "adversary_law",
            NexusCriterion::OperationControl => "operation_control",
        }
    }
    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            NexusCriterion::Ownership => "Ownership or control",
            NexusCriterion::Facilities => "Facilities in an adversary country",
            NexusCriterion::PersonnelTies => "Ties of officers, staff or contractors",
            NexusCriterion::AdversaryLaw => "Subject to the adversary's laws",
            NexusCriterion::OperationControl => "Who operates, updates or services the ICTS",
        }
    }
}

/// A party.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Party {
    pub id: PartyId,
    pub legal_name: String,
    /// Other names.
    pub aliases: Vec<String>,
    pub kind: PartyKind,
    /// Country (ISO 3166 alpha-2).
    pub country: String,
    /// Parent party.
    pub parent_id: Option<PartyId>,
    /// Share the parent owns, percent.
    #[schema(value_type = Option<f64>)]
    pub ownership_pct: Option<f64>,
    pub notes: String,
    /// Version for optimistic concurrency.
    pub version: i32,
}

/// `query_as!` over the columns of [`Party`]: the rest of the statement after
/// `FROM parties`, then its parameters.
macro_rules! select_parties {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Party,
            r#"SELECT id AS "id: PartyId", legal_name, aliases, kind AS "kind: PartyKind", country,
               parent_id AS "parent_id: PartyId", ownership_pct::float8 AS ownership_pct, notes, version
               FROM parties "# + $rest
            $(, $arg)*
        )
    };
}

/// Party input (create, or the full state for an edit).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub legal_name: String,
    /// Other names.
    #[serde(default)]
    #[schema(value_type = crate::text::Texts<{ crate::text::NAME }, { crate::parties::MAX_ALIASES }>, inline)]
    pub aliases: Vec<String>,
    /// What kind of person the party is.
    #[schema(value_type = PartyKind)]
    pub kind: Choice<PartyKind>,
    /// Country code (two letters).
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub country: String,
    /// Parent party id.
    #[serde(default)]
    pub parent_id: Option<PartyId>,
    /// Share the parent owns, percent (required with a parent).
    #[serde(default)]
    pub ownership_pct: Option<f64>,
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub notes: String,
    /// Version (edits only).
    #[serde(default)]
    pub version: Option<i32>,
}

/// Validated party input.
#[derive(Debug, Clone)]
pub struct ValidParty {
    legal_name: String,
    aliases: Vec<String>,
    kind: PartyKind,
    country: String,
    parent_id: Option<PartyId>,
    ownership_pct: Option<f64>,
    notes: String,
}

/// The most aliases a party may have.
pub const MAX_ALIASES: usize = 50;

impl PartyInput {
    /// Validates, naming every bad field.
    pub fn parse(&self) -> Result<ValidParty, Vec<FieldError>> {
        let mut errors = Vec::new();
        let legal_name = self.legal_name.trim().to_string();
        if legal_name.is_empty() || legal_name.chars().count() > text::NAME {
            errors.push(FieldError::new("legal_name", "must be 1 to 300 characters"));
        }
        let mut aliases: Vec<String> =
            self.aliases.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
        aliases.dedup();
        if aliases.len() > MAX_ALIASES || aliases.iter().any(|a| a.chars().count() > text::NAME) {
            errors.push(FieldError::new("aliases", "at most 50 aliases of up to 300 characters"));
        }
        let kind = self.kind.or_error("kind", "must be company, person or government_body", &mut errors);
        let country = self.country.trim().to_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            errors.push(FieldError::new("country", "must be a two-letter country code such as US, CN or RU"));
        }
        match (self.parent_id, self.ownership_pct) {
            (Some(_), Some(p)) if !(p > 0.0 && p <= 100.0) => {
                errors.push(FieldError::new("ownership_pct", "must be more than 0 and at most 100"))
            }
            (Some(_), None) => errors.push(FieldError::new("ownership_pct", "give the share the parent owns")),
            (None, Some(_)) => errors.push(FieldError::new("parent_id", "name the parent that owns this share")),
            _ => {}
        }
        if text::too_long(&self.notes, text::TEXT) {
            errors.push(FieldError::new("notes", "must be at most 20,000 characters"));
        }
        if errors.is_empty() {
            Ok(ValidParty {
                legal_name,
                aliases,
                kind: kind.expect("checked"),
                country,
                parent_id: self.parent_id,
                ownership_pct: self.ownership_pct,
                notes: self.notes.trim().to_string(),
            })
        } else {
            Err(errors)
        }
    }
}

fn require_work(user: &Actor) -> Result<(), DomainError> {
    if user.may(crate::access::Action::WorkCases) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// Loads a party.
pub async fn get(conn: &mut PgConnection, id: PartyId) -> Result<Option<Party>, sqlx::Error> {
    select_parties!("WHERE id = $1", id.0).fetch_optional(conn).await
}

/// Lists parties, optionally matching a name.
pub async fn list(conn: &mut PgConnection, q: Option<&str>, limit: i64) -> Result<Vec<Party>, sqlx::Error> {
    match q {
        Some(q) => {
            select_parties!(
                "WHERE party_search_text(legal_name, aliases) ILIKE $1 ORDER BY legal_name LIMIT $2",
                crate::db::contains_pattern(q),
                limit
            )
            .fetch_all(conn)
            .await
        }
        None => select_parties!("ORDER BY legal_name LIMIT $1", limit).fetch_all(conn).await,
    }
}

/// The orders of the party registry's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartySort {
    /// Legal name A to Z (the default).
    Name,
    /// Legal name Z to A.
    NameDesc,
    /// Country, then legal name.
    Country,
}

impl PartySort {
    /// Every order.
    pub const ALL: [PartySort; 3] = [PartySort::Name, PartySort::NameDesc, PartySort::Country];

    /// Parses a name.
    pub fn parse(s: &str) -> Option<PartySort> {
        PartySort::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Name.
    pub fn as_str(self) -> &'static str {
        match self {
            PartySort::Name => "name",
            PartySort::NameDesc => "name_desc",
            PartySort::Country => "country",
        }
    }

    /// The columns of the order and whether it ascends.
    fn order(self, backwards: bool) -> &'static str {
        match (self, backwards) {
            (PartySort::Name, false) | (PartySort::NameDesc, true) => "legal_name ASC, id ASC",
            (PartySort::Name, true) | (PartySort::NameDesc, false) => "legal_name DESC, id DESC",
            (PartySort::Country, false) => "country ASC, legal_name ASC, id ASC",
            (PartySort::Country, true) => "country DESC, legal_name DESC, id DESC",
        }
    }

    /// The cursor key of a party in this order: the legal name, or `country|legal name`.
    fn key(self, p: &Party) -> String {
        match self {
            PartySort::Name | PartySort::NameDesc => p.legal_name.clone(),
            PartySort::Country => format!("{}|{}", p.country, p.legal_name),
        }
    }
}

/// What the party list shows: a search, an order, a page.
#[derive(Debug, Clone)]
pub struct PartyFilter {
    /// Part of a legal name or alias.
    pub q: Option<String>,
    pub sort: PartySort,
    /// The cursor's key and id: the page after it, or before it when `backwards`.
    pub after: Option<(String, uuid::Uuid)>,
    pub backwards: bool,
    /// Rows per page.
    pub limit: i64,
}

fn push_party_search(qb: &mut sqlx::QueryBuilder<sqlx::Postgres>, q: &Option<String>) {
    if let Some(q) = q {
        qb.push(" AND party_search_text(legal_name, aliases) ILIKE ").push_bind(crate::db::contains_pattern(q));
    }
}

/// One page of the registry in `f`'s order, by keyset (the same index walked either way).
pub async fn page(conn: &mut PgConnection, f: &PartyFilter) -> Result<crate::db::Page<Party>, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the search, order and cursor come from the request")]
    let mut qb = sqlx::QueryBuilder::new(
        "SELECT id, legal_name, aliases, kind, country, parent_id, ownership_pct::float8 AS ownership_pct, notes, version \
         FROM parties WHERE true",
    );
    push_party_search(&mut qb, &f.q);
    if let Some((key, id)) = &f.after {
        let ascending = matches!(f.sort, PartySort::Name | PartySort::Country);
        let op = if ascending != f.backwards { ">" } else { "<" };
        match f.sort {
            PartySort::Name | PartySort::NameDesc => {
                qb.push(format!(" AND (legal_name, id) {op} ("))
                    .push_bind(key.clone())
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
            PartySort::Country => {
                let (country, name) = key.split_once('|').unwrap_or((key.as_str(), ""));
                qb.push(format!(" AND (country, legal_name, id) {op} ("))
                    .push_bind(country.to_string())
                    .push(", ")
                    .push_bind(name.to_string())
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
        }
    }
    qb.push(format!(" ORDER BY {} LIMIT ", f.sort.order(f.backwards))).push_bind(f.limit + 1);
    let rows: Vec<Party> = qb.build_query_as().fetch_all(conn).await?;
    let sort = f.sort;
    Ok(crate::db::Page::from_read(rows, f.limit, f.after.is_some(), f.backwards, |p| {
        format!("{}~{}", sort.key(p), p.id)
    }))
}

/// How many parties match `f`'s search, counted up to [`crate::db::Total::CAP`].
pub async fn count(conn: &mut PgConnection, f: &PartyFilter) -> Result<crate::db::Total, sqlx::Error> {
    #[expect(clippy::disallowed_methods, reason = "the search comes from the request")]
    let mut qb = sqlx::QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM parties WHERE true");
    push_party_search(&mut qb, &f.q);
    qb.push(" LIMIT ").push_bind(crate::db::Total::CAP + 1).push(") x");
    let n: i64 = qb.build_query_scalar().fetch_one(conn).await?;
    Ok(crate::db::Total::counted(n))
}

/// Refuses a parent that would make the ownership chain a loop.
async fn check_parent(
    conn: &mut PgConnection,
    id: Option<PartyId>,
    parent: Option<PartyId>,
) -> Result<(), DomainError> {
    let Some(parent) = parent else { return Ok(()) };
    let exists: bool = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM parties WHERE id = $1) AS "v!""#, parent.0)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Err(DomainError::invalid("parent_id", "no such party"));
    }
    if let Some(id) = id {
        let chain = ownership_chain(conn, parent).await?;
        if chain.iter().any(|l| l.party.id == id) {
            return Err(DomainError::invalid("parent_id", "would make the ownership chain a loop"));
        }
    }
    Ok(())
}

/// Creates a party.
pub async fn create(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    screening: &screening_service::Screening,
    p: ValidParty,
) -> Result<Party, DomainError> {
    require_work(user)?;
    let mut tx = conn.begin().await?;
    check_parent(&mut tx, None, p.parent_id).await?;
    let id = PartyId::new();
    sqlx::query!(
        "INSERT INTO parties (id, legal_name, aliases, kind, country, parent_id, ownership_pct, notes, created_by, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7::float8,$8,$9,$10,$10)",
        id.0,
        &p.legal_name,
        &p.aliases,
        p.kind as _,
        &p.country,
        p.parent_id as _,
        p.ownership_pct,
        &p.notes,
        user.id.0,
        now,
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::PartyCreated).object("party", id).changes(json!({
        "legal_name": {"after": p.legal_name}, "kind": {"after": p.kind}, "country": {"after": p.country},
        "parent_id": {"after": p.parent_id}, "ownership_pct": {"after": p.ownership_pct},
    }));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    screening_service::screen_one(&mut tx, &screening.index, screening.threshold, id, now).await?;
    let party = get(&mut tx, id).await?.expect("just inserted");
    tx.commit().await?;
    Ok(party)
}

/// Edits a party (the whole record, with the version it started from).
pub async fn update(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    screening: &screening_service::Screening,
    id: PartyId,
    version: i32,
    p: ValidParty,
) -> Result<Party, DomainError> {
    require_work(user)?;
    let mut tx = conn.begin().await?;
    let before = select_parties!("WHERE id = $1 FOR UPDATE", id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    if before.version != version {
        return Err(DomainError::Conflict(format!(
            "{} was changed by someone else (version {} now, yours {version}); nothing was saved",
            before.legal_name, before.version
        )));
    }
    check_parent(&mut tx, Some(id), p.parent_id).await?;
    sqlx::query!(
        "UPDATE parties SET legal_name=$2, aliases=$3, kind=$4, country=$5, parent_id=$6, ownership_pct=$7::float8, notes=$8, \
         updated_at=$9, version = version + 1 WHERE id = $1",
        id.0,
        &p.legal_name,
        &p.aliases,
        p.kind as _,
        &p.country,
        p.parent_id as _,
        p.ownership_pct,
        &p.notes,
        now,
    )
    .execute(&mut *tx)
    .await?;
    let mut changes = serde_json::Map::new();
    let mut diff = |f: &str, b: serde_json::Value, a: serde_json::Value| {
        if b != a {
            changes.insert(f.into(), json!({"before": b, "after": a}));
        }
    };
    diff("legal_name", json!(before.legal_name), json!(p.legal_name));
    diff("aliases", json!(before.aliases), json!(p.aliases));
    diff("kind", json!(before.kind), json!(p.kind));
    diff("country", json!(before.country), json!(p.country));
    diff("parent_id", json!(before.parent_id), json!(p.parent_id));
    diff("ownership_pct", json!(before.ownership_pct), json!(p.ownership_pct));
    diff("notes", json!(before.notes), json!(p.notes));
    audit::record(
        &mut tx,
        now,
        &user.audit(),
        NewEvent::new(EventType::PartyUpdated).object("party", id).changes(serde_json::Value::Object(changes)),
    )
    .await?;
    screening_service::screen_one(&mut tx, &screening.index, screening.threshold, id, now).await?;
    let party = get(&mut tx, id).await?.expect("exists");
    tx.commit().await?;
    Ok(party)
}

/// A link of an ownership chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainLink {
    /// The party.
    pub party: Party,
    /// Depth: 0 for the party itself, 1 for its parent, ...
    pub depth: i32,
    /// Whether the party sits in a foreign-adversary country.
    pub in_adversary_country: bool,
}

/// The ownership chain from `id` up to its ultimate parent (at most 20 levels).
pub async fn ownership_chain(conn: &mut PgConnection, id: PartyId) -> Result<Vec<ChainLink>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH RECURSIVE chain(id, parent_id, depth) AS (
           SELECT id, parent_id, 0 FROM parties WHERE id = $1
           UNION ALL SELECT p.id, p.parent_id, c.depth + 1 FROM parties p JOIN chain c ON p.id = c.parent_id WHERE c.depth < 20)
         SELECT id AS "id!: PartyId", depth AS "depth!" FROM chain ORDER BY depth"#,
        id.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let adversaries: Vec<String> =
        sqlx::query_scalar!("SELECT code FROM ref_adversaries WHERE effective_to IS NULL OR effective_to > now()")
            .fetch_all(&mut *conn)
            .await?;
    let mut out = Vec::new();
    for row in rows {
        let depth = row.depth;
        if let Some(party) = get(conn, row.id).await? {
            // Hong Kong counts with China (791.4).
            let country = if party.country == "HK" { "CN".to_string() } else { party.country.clone() };
            out.push(ChainLink { in_adversary_country: adversaries.contains(&country), party, depth });
        }
    }
    Ok(out)
}

/// Why party `id` counts as owned, controlled or directed by the PRC or Russia (what 791.315
/// bars in a third-party assessor, and 791.304 in a manufacturer): a link of its ownership
/// chain in China, Hong Kong or Russia, or evidence of ownership or control by either
/// recorded on it or on a parent. `None` when nothing the registry holds shows it.
pub async fn prc_or_russia_tie(conn: &mut PgConnection, id: PartyId) -> Result<Option<String>, sqlx::Error> {
    let chain = ownership_chain(&mut *conn, id).await?;
    for link in &chain {
        let country = match link.party.country.as_str() {
            "CN" | "HK" => "the People's Republic of China",
            "RU" => "Russia",
            _ => continue,
        };
        return Ok(Some(if link.depth == 0 {
            format!("{} is in {country}", link.party.legal_name)
        } else {
            format!("its owner {} is in {country}", link.party.legal_name)
        }));
    }
    let ids: Vec<uuid::Uuid> = chain.iter().map(|l| l.party.id.0).collect();
    let found = sqlx::query!(
        r#"SELECT p.legal_name, e.adversary FROM party_nexus_evidence e JOIN parties p ON p.id = e.party_id
           WHERE e.party_id = ANY($1) AND e.adversary IN ('CN', 'RU')
             AND e.criterion IN ('ownership', 'operation_control')
           ORDER BY e.recorded_at LIMIT 1"#,
        &ids
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|f| {
        let by = if f.adversary == "CN" { "the People's Republic of China" } else { "Russia" };
        format!("evidence recorded on {} shows ownership or control by {by}", f.legal_name)
    }))
}

/// A piece of nexus evidence.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Evidence {
    pub id: EvidenceId,
    pub criterion: NexusCriterion,
    /// Adversary code.
    pub adversary: String,
    /// What was found.
    pub finding: String,
    /// Where it comes from.
    pub source: String,
    /// Recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// The evidence recorded for a party.
pub async fn evidence(conn: &mut PgConnection, id: PartyId) -> Result<Vec<Evidence>, sqlx::Error> {
    sqlx::query_as!(
        Evidence,
        r#"SELECT id AS "id: EvidenceId", criterion AS "criterion: NexusCriterion", adversary, finding, source, recorded_at
         FROM party_nexus_evidence WHERE party_id = $1 ORDER BY recorded_at, id"#,
        id.0
    )
    .fetch_all(conn)
    .await
}

/// New nexus evidence.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    /// The criterion the evidence bears on.
    #[schema(value_type = NexusCriterion)]
    pub criterion: Choice<NexusCriterion>,
    /// Adversary code.
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub adversary: String,
    /// What was found.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub finding: String,
    /// Where it comes from (document, open source).
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub source: String,
}

/// Records nexus evidence for a party.
pub async fn add_evidence(
    conn: &mut PgConnection,
    user: &Actor,
    now: OffsetDateTime,
    party: PartyId,
    e: &EvidenceInput,
) -> Result<EvidenceId, DomainError> {
    require_work(user)?;
    let mut errors = Vec::new();
    let criterion = e.criterion.or_error(
        "criterion",
        "must be ownership, facilities, personnel_ties, adversary_law or operation_control",
        &mut errors,
    );
    let adversary = e.adversary.trim().to_uppercase();
    if e.finding.trim().is_empty() || text::too_long(&e.finding, text::TEXT) {
        errors.push(FieldError::new("finding", "describe what was found (1 to 20,000 characters)"));
    }
    if text::too_long(&e.source, text::LINE) {
        errors.push(FieldError::new("source", "must be at most 2,000 characters"));
    }
    let mut tx = conn.begin().await?;
    let known: bool =
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM ref_adversaries WHERE code = $1) AS "v!""#, &adversary,)
            .fetch_one(&mut *tx)
            .await?;
    if !known {
        errors.push(FieldError::new("adversary", "must be a foreign adversary code"));
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }
    get(&mut tx, party).await?.ok_or(DomainError::NotFound)?;
    let id = EvidenceId::new();
    sqlx::query!(
        "INSERT INTO party_nexus_evidence (id, party_id, criterion, adversary, finding, source, recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        id.0,
        party.0,
        criterion as _,
        &adversary,
        e.finding.trim(),
        e.source.trim(),
        user.id.0,
        now,
    )
    .execute(&mut *tx)
    .await?;
    let event = NewEvent::new(EventType::PartyEvidenceAdded)
        .object("party", party)
        .changes(json!({"evidence": id, "criterion": criterion, "adversary": adversary}));
    audit::record(&mut tx, now, &user.audit(), event).await?;
    tx.commit().await?;
    Ok(id)
}

/// A party's link to a case.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseLink {
    pub case_id: CaseId,
    pub docket_number: String,
    /// Case title.
    pub title: String,
    /// Role in the case.
    pub role: PartyRole,
}

/// The cases of a party that `user` may see.
pub async fn cases_of(conn: &mut PgConnection, party: PartyId, user: &Actor) -> Result<Vec<CaseLink>, sqlx::Error> {
    use crate::access::policy::{CaseScope, case_scope};
    let scope = case_scope(user.role);
    sqlx::query_as!(
        CaseLink,
        r#"SELECT c.id AS "case_id: CaseId", c.docket_number, c.title, cp.role AS "role: PartyRole"
         FROM case_parties cp JOIN cases c ON c.id = cp.case_id
         WHERE cp.party_id = $1 AND ($2 OR ($3 AND (NOT c.restricted OR c.assignee = $4)))
         ORDER BY c.docket_number"#,
        party.0,
        scope == CaseScope::All,
        scope == CaseScope::UnrestrictedOrAssigned,
        user.id.0
    )
    .fetch_all(conn)
    .await
}

/// A party on a case.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseParty {
    pub party_id: PartyId,
    pub legal_name: String,
    pub country: String,
    pub role: PartyRole,
}

/// The parties of a case.
pub async fn parties_of_case(conn: &mut PgConnection, case_id: CaseId) -> Result<Vec<CaseParty>, sqlx::Error> {
    sqlx::query_as!(
        CaseParty,
        r#"SELECT p.id AS "party_id: PartyId", p.legal_name, p.country, cp.role AS "role: PartyRole"
         FROM case_parties cp JOIN parties p ON p.id = cp.party_id
         WHERE cp.case_id = $1 ORDER BY cp.role, p.legal_name"#,
        case_id.0
    )
    .fetch_all(conn)
    .await
}

/// The nexus evidence recorded on a case's parties: party, criterion, finding.
pub async fn nexus_evidence_of_case(
    conn: &mut PgConnection,
    case_id: CaseId,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"SELECT p.legal_name, e.criterion::text AS "criterion!", e.finding FROM case_parties cp JOIN parties p ON p.id = cp.party_id
           JOIN party_nexus_evidence e ON e.party_id = p.id WHERE cp.case_id = $1 ORDER BY p.legal_name, e.recorded_at"#,
        case_id.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.legal_name, r.criterion, r.finding))
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_input_names_every_bad_field() {
        let p = PartyInput {
            legal_name: "".into(),
            kind: Choice::named("robot"),
            country: "Russia".into(),
            parent_id: Some(PartyId(uuid::Uuid::nil())),
            ownership_pct: Some(150.0),
            ..PartyInput::default()
        };
        let fields: Vec<String> = p.parse().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["legal_name", "kind", "country", "ownership_pct"]);
        let ok = PartyInput {
            legal_name: " AO Kaspersky Lab ".into(),
            kind: PartyKind::Company.into(),
            country: "ru".into(),
            ..PartyInput::default()
        };
        let v = ok.parse().unwrap();
        assert_eq!(v.country, "RU");
        assert_eq!(v.legal_name, "AO Kaspersky Lab");
    }
}
