//! Mitigation's types: measure kinds, measures and their status machine, compliance checks.

use crate::ids::MeasureId;
use crate::ids::{CaseId, SubmissionId};
use crate::ids::{CheckId, DocumentId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::choice::Choice;
use crate::error::FieldError;

/// A kind of measure from the catalogue.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MeasureKind {
    pub code: String,
    pub name: String,
}

/// Where a measure stands. The moves between statuses are [`MeasureStatus::may_move_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "measure_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    /// Offered by the parties or the office, not yet agreed.
    Proposed,
    /// Agreed as a condition of the determination.
    Agreed,
    /// The parties say it is in place.
    Implemented,
    /// A compliance check found it in place.
    Verified,
    /// Not accepted (with a reason).
    Rejected,
    /// Found not kept: the case is reopened for review.
    Breached,
}

impl MeasureStatus {
    /// Every status, in the order a measure goes through them.
    pub const ALL: [MeasureStatus; 6] = [
        MeasureStatus::Proposed,
        MeasureStatus::Agreed,
        MeasureStatus::Implemented,
        MeasureStatus::Verified,
        MeasureStatus::Rejected,
        MeasureStatus::Breached,
    ];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureStatus::Proposed => "proposed",
            MeasureStatus::Agreed => "agreed",
            MeasureStatus::Implemented => "implemented",
            MeasureStatus::Verified => "verified",
            MeasureStatus::Rejected => "rejected",
            MeasureStatus::Breached => "breached",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<MeasureStatus> {
        MeasureStatus::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    /// Whether a measure may go from this status to `to`.
    pub fn may_move_to(self, to: MeasureStatus) -> bool {
        use MeasureStatus::*;
        matches!(
            (self, to),
            (Proposed, Agreed)
                | (Proposed, Rejected)
                | (Agreed, Implemented)
                | (Implemented, Verified)
                | (Agreed | Implemented | Verified, Breached)
                // A cured breach is implemented again and must be verified anew.
                | (Breached, Implemented)
        )
    }

    /// The statuses this one may move to.
    pub fn next(self) -> Vec<MeasureStatus> {
        MeasureStatus::ALL.into_iter().filter(|to| self.may_move_to(*to)).collect()
    }

    /// Whether the measure was agreed (and so is kept, checked and can be breached).
    pub fn is_in_force(self) -> bool {
        matches!(self, MeasureStatus::Agreed | MeasureStatus::Implemented | MeasureStatus::Verified)
    }

    /// Whether compliance checks are recorded against it.
    pub fn takes_checks(self) -> bool {
        self.is_in_force() || self == MeasureStatus::Breached
    }
}

impl std::fmt::Display for MeasureStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measure.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Measure {
    pub id: MeasureId,
    /// Case.
    pub case_id: CaseId,
    /// Kind code.
    pub kind: String,
    /// What the measure requires.
    pub description: String,
    /// Who is responsible (a party or person).
    pub owner: String,
    /// Due.
    pub due_on: Option<Date>,
    /// Where it stands.
    pub status: MeasureStatus,
    /// The submission that proposed it.
    pub submission_id: Option<SubmissionId>,
    /// Version (send it back when changing the status).
    pub version: i32,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new measure.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeasure {
    /// Kind code (see `GET /api/v1/mitigation/kinds`).
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub kind: String,
    /// What it requires.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub description: String,
    /// Who is responsible.
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub owner: String,
    /// Due, YYYY-MM-DD.
    #[serde(default)]
    pub due_on: Option<String>,
    /// The submission that proposed it.
    #[serde(default)]
    pub submission_id: Option<SubmissionId>,
}

pub(super) fn opt_date(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>) -> Option<Date> {
    v.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| {
        crate::dates::parse_date(s).or_else(|| {
            errors.push(FieldError::new(field, "must be a date YYYY-MM-DD"));
            None
        })
    })
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// New status.
    #[schema(value_type = MeasureStatus)]
    pub status: Choice<MeasureStatus>,
    /// Why (required for rejected and breached).
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub comment: String,
    /// The measure's version.
    pub version: i32,
    /// The date the status changed, YYYY-MM-DD (today when absent).
    #[serde(default)]
    pub changed_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// What a compliance check found, stored, sent and shown by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    /// The measure is kept.
    Compliant,
    /// The measure is kept short of what it requires.
    Deficient,
    /// The measure is breached: the case reopens.
    Breach,
}

impl CheckResult {
    /// Every result.
    pub const ALL: [CheckResult; 3] = [CheckResult::Compliant, CheckResult::Deficient, CheckResult::Breach];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Compliant => "compliant",
            CheckResult::Deficient => "deficient",
            CheckResult::Breach => "breach",
        }
    }

    /// The result named `s`, if any.
    pub fn parse(s: &str) -> Option<CheckResult> {
        CheckResult::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the form offers it.
    pub fn label(self) -> &'static str {
        match self {
            CheckResult::Compliant => "Compliant",
            CheckResult::Deficient => "Deficient",
            CheckResult::Breach => "Breach (reopens the case)",
        }
    }
}

/// A compliance check.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Check {
    pub id: CheckId,
    /// Measure.
    pub measure_id: MeasureId,
    pub checked_on: Date,
    /// `compliant`, `deficient` or `breach`.
    pub result: CheckResult,
    pub finding: String,
    /// Evidence.
    pub document_id: Option<DocumentId>,
    /// Recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A new compliance check.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    /// YYYY-MM-DD.
    pub checked_on: String,
    /// What the check found.
    #[schema(value_type = CheckResult)]
    pub result: Choice<CheckResult>,
    /// What was found.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub finding: String,
    /// A document of the case as evidence.
    #[serde(default)]
    pub document_id: Option<DocumentId>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::MeasureStatus::{self, *};

    #[test]
    fn measure_statuses_move_forward_and_breaches_come_from_agreed_states() {
        assert!(Proposed.may_move_to(Agreed));
        assert!(Agreed.may_move_to(Implemented));
        assert!(Implemented.may_move_to(Verified));
        assert!(Verified.may_move_to(Breached));
        assert!(Proposed.may_move_to(Rejected));
        assert!(!Proposed.may_move_to(Verified));
        assert!(!Proposed.may_move_to(Breached));
        assert!(!Rejected.may_move_to(Agreed));
        assert!(!Verified.may_move_to(Proposed));
    }

    /// Every pair of statuses: exactly these seven moves exist.
    #[test]
    fn the_whole_table_of_moves() {
        let allowed = [
            (Proposed, Agreed),
            (Proposed, Rejected),
            (Agreed, Implemented),
            (Implemented, Verified),
            (Agreed, Breached),
            (Implemented, Breached),
            (Verified, Breached),
            (Breached, Implemented),
        ];
        for from in MeasureStatus::ALL {
            for to in MeasureStatus::ALL {
                assert_eq!(from.may_move_to(to), allowed.contains(&(from, to)), "{from} -> {to}");
            }
            assert_eq!(MeasureStatus::parse(from.as_str()), Some(from));
        }
        assert_eq!(MeasureStatus::parse("cancelled"), None);
    }
}
