//! The party registry's types and pure rules: kinds, roles and nexus criteria, a party and
//! its validated input, the list's orders and filter, ownership chains, evidence and links
//! to cases.

use crate::choice::Choice;
use crate::error::FieldError;
use crate::ids::{CaseId, EvidenceId, PartyId};
use crate::text;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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
    pub(super) legal_name: String,
    pub(super) aliases: Vec<String>,
    pub(super) kind: PartyKind,
    pub(super) country: String,
    pub(super) parent_id: Option<PartyId>,
    pub(super) ownership_pct: Option<f64>,
    pub(super) notes: String,
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
    pub(super) fn order(self, backwards: bool) -> &'static str {
        match (self, backwards) {
            (PartySort::Name, false) | (PartySort::NameDesc, true) => "legal_name ASC, id ASC",
            (PartySort::Name, true) | (PartySort::NameDesc, false) => "legal_name DESC, id DESC",
            (PartySort::Country, false) => "country ASC, legal_name ASC, id ASC",
            (PartySort::Country, true) => "country DESC, legal_name DESC, id DESC",
        }
    }

    /// The cursor key of a party in this order: the legal name, or `country|legal name`.
    pub(super) fn key(self, p: &Party) -> String {
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

/// A party on a case.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseParty {
    pub party_id: PartyId,
    pub legal_name: String,
    pub country: String,
    pub role: PartyRole,
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
