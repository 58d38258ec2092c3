//! Declarations as data and their pure rules: the kinds and the filer role each needs, the
//! statuses and the moves between them, and the checks of a declaration filed.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::choice::Choice;
use crate::error::FieldError;
use crate::ids::{DeclarationId, PartyId, UserId};
use crate::text;

/// What a party files as (791.305): a connected-vehicle manufacturer declares its
/// completed vehicles and their software, a VCS hardware importer its hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FilerRole {
    /// A connected-vehicle manufacturer.
    VehicleManufacturer,
    /// A VCS hardware importer.
    HardwareImporter,
}

impl FilerRole {
    /// Every role.
    pub const ALL: [FilerRole; 2] = [FilerRole::VehicleManufacturer, FilerRole::HardwareImporter];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            FilerRole::VehicleManufacturer => "vehicle_manufacturer",
            FilerRole::HardwareImporter => "hardware_importer",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            FilerRole::VehicleManufacturer => "Connected-vehicle manufacturer",
            FilerRole::HardwareImporter => "VCS hardware importer",
        }
    }
}

/// What a declaration covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeclarationKind {
    /// VCS hardware imported (791.302), by part number.
    Hardware,
    /// Covered software in completed vehicles (791.303), by make, model and trim.
    Software,
    /// Completed connected vehicles sold (791.304), by make, model and trim.
    CompletedVehicle,
}

impl DeclarationKind {
    /// Every kind.
    pub const ALL: [DeclarationKind; 3] =
        [DeclarationKind::Hardware, DeclarationKind::Software, DeclarationKind::CompletedVehicle];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclarationKind::Hardware => "hardware",
            DeclarationKind::Software => "software",
            DeclarationKind::CompletedVehicle => "completed_vehicle",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            DeclarationKind::Hardware => "VCS hardware",
            DeclarationKind::Software => "Covered software",
            DeclarationKind::CompletedVehicle => "Completed vehicles",
        }
    }

    /// The filer role that files it.
    pub fn filer_role(self) -> FilerRole {
        match self {
            DeclarationKind::Hardware => FilerRole::HardwareImporter,
            DeclarationKind::Software | DeclarationKind::CompletedVehicle => FilerRole::VehicleManufacturer,
        }
    }
}

/// Where a declaration stands. The moves are [`DeclarationStatus::may_move_to`]; it is
/// superseded only by its amendment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeclarationStatus {
    /// Filed, not yet looked at.
    Received,
    /// An analyst reviews it.
    UnderReview,
    /// The office asked the filer questions (791.305: whether a general authorization is
    /// relied on, records); the review waits for the answers.
    QuestionsAsked,
    /// Found to meet the rule.
    Accepted,
    /// Found not to (with the reasons): the filer is to amend it.
    Deficient,
    /// Replaced by its amendment; kept with its history.
    Superseded,
}

impl DeclarationStatus {
    /// Every status.
    pub const ALL: [DeclarationStatus; 6] = [
        DeclarationStatus::Received,
        DeclarationStatus::UnderReview,
        DeclarationStatus::QuestionsAsked,
        DeclarationStatus::Accepted,
        DeclarationStatus::Deficient,
        DeclarationStatus::Superseded,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclarationStatus::Received => "received",
            DeclarationStatus::UnderReview => "under_review",
            DeclarationStatus::QuestionsAsked => "questions_asked",
            DeclarationStatus::Accepted => "accepted",
            DeclarationStatus::Deficient => "deficient",
            DeclarationStatus::Superseded => "superseded",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            DeclarationStatus::Received => "Received",
            DeclarationStatus::UnderReview => "Under review",
            DeclarationStatus::QuestionsAsked => "Questions asked",
            DeclarationStatus::Accepted => "Accepted",
            DeclarationStatus::Deficient => "Deficient",
            DeclarationStatus::Superseded => "Superseded",
        }
    }

    /// Whether a reviewer may move a declaration from this status to `to`. A decided one
    /// (accepted, deficient) may be taken back under review; nothing leaves superseded.
    pub fn may_move_to(self, to: DeclarationStatus) -> bool {
        use DeclarationStatus::*;
        matches!(
            (self, to),
            (Received, UnderReview)
                | (UnderReview, QuestionsAsked | Accepted | Deficient)
                | (QuestionsAsked, UnderReview | Accepted | Deficient)
                | (Accepted | Deficient, UnderReview)
        )
    }

    /// The statuses a reviewer may move it to.
    pub fn next(self) -> Vec<DeclarationStatus> {
        DeclarationStatus::ALL.into_iter().filter(|to| self.may_move_to(*to)).collect()
    }

    /// Whether moving to it needs a written reason (the questions asked, the deficiencies,
    /// or why a decided declaration is looked at again).
    pub fn needs_reason(self, from: DeclarationStatus) -> bool {
        matches!(self, DeclarationStatus::QuestionsAsked | DeclarationStatus::Deficient)
            || matches!(from, DeclarationStatus::Accepted | DeclarationStatus::Deficient)
    }
}

/// A party's filer role, from the date it took it up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FilerRoleRow {
    pub role: FilerRole,
    pub since: Date,
}

/// A declaration as the office holds it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Declaration {
    pub id: DeclarationId,
    /// The office's number, e.g. `CVD-2026-000042`.
    pub number: String,
    pub filer_id: PartyId,
    /// The filer's legal name.
    pub filer_name: String,
    pub kind: DeclarationKind,
    /// The model year covered (none for hardware declared by calendar year).
    pub model_year: Option<i64>,
    /// The calendar year covered (hardware without a model year).
    pub calendar_year: Option<i64>,
    /// Makes, models and trims, or part numbers.
    pub covers: Vec<String>,
    /// The certifications it makes.
    pub certifications: Vec<String>,
    /// The general authorization relied on, if any.
    pub general_authorization: Option<String>,
    /// The date the filer filed it.
    pub filed_on: Date,
    /// When the office received it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// How: `api`, `form` or `bulk`.
    pub via: String,
    pub status: DeclarationStatus,
    /// The questions asked, the deficiencies found, or why it is reviewed again.
    pub status_reason: String,
    /// The declaration it amends.
    pub amends: Option<DeclarationId>,
    /// What changed, for an amendment.
    pub amendment_reason: String,
    /// Its amendment, once superseded.
    pub superseded_by: Option<DeclarationId>,
    /// Its version: a status change names the one it was made from.
    pub version: i64,
    /// Filed after the date the office expected its year's declarations by (an amendment
    /// is never late).
    pub late: bool,
}

impl Declaration {
    /// The year it covers, as shown: `MY2027` or `2029`.
    pub fn year(&self) -> String {
        match (self.model_year, self.calendar_year) {
            (Some(y), _) => format!("MY{y}"),
            (None, Some(y)) => format!("{y} (calendar year)"),
            _ => String::new(),
        }
    }
}

/// The date by which the office expects a year's declarations: its setting.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueDate {
    /// The model year (or the calendar year of hardware declared without one).
    pub year: i64,
    pub due_on: Date,
    /// Why this date (e.g. the lead time before the season's first sales).
    pub note: String,
}

/// The date by which a year's declarations are expected, as set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDueDate {
    /// `YYYY-MM-DD`.
    #[schema(value_type = Date)]
    pub due_on: String,
    /// Why this date.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub note: String,
}

/// A filer in its role by a year's due date that filed no declaration for the year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Missing {
    pub filer_id: PartyId,
    pub filer_name: String,
    pub role: FilerRole,
    pub year: i64,
    /// When it was due.
    pub due_on: Date,
}

/// The second docket's work in numbers, for a home page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Work {
    /// Received, not yet looked at.
    pub received: i64,
    pub under_review: i64,
    /// Waiting for the filer's answers.
    pub questions_asked: i64,
    /// Filed after their year's due date (those in force).
    pub late: i64,
    /// Filers expected but missing.
    pub missing: i64,
}

/// A status a declaration went through.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: UserId,
    /// Their name.
    pub by_name: String,
    pub status_before: Option<DeclarationStatus>,
    pub status_after: DeclarationStatus,
    pub reason: String,
}

/// The most items a declaration covers.
pub const MAX_COVERS: usize = 500;
/// The most certifications it makes.
pub const MAX_CERTIFICATIONS: usize = 20;
/// The years a declaration may cover.
pub const YEARS: std::ops::RangeInclusive<i64> = 2024..=2100;

/// A declaration filed, or an amendment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeclaration {
    /// The filer: a party with the filer role the kind needs.
    pub filer_id: PartyId,
    /// What it covers.
    #[schema(value_type = DeclarationKind)]
    pub kind: Choice<DeclarationKind>,
    /// The model year (2024 to 2100); for hardware without one, give `calendar_year`.
    #[serde(default)]
    pub model_year: Option<i64>,
    /// The calendar year, for VCS hardware without a model year.
    #[serde(default)]
    pub calendar_year: Option<i64>,
    /// Makes, models and trims, or part numbers.
    #[schema(value_type = crate::text::Texts<{ crate::text::NAME }, { MAX_COVERS }>, inline)]
    pub covers: Vec<String>,
    /// The certifications it makes (791.305(b)), at least one.
    #[schema(value_type = crate::text::Texts<{ crate::text::LINE }, { MAX_CERTIFICATIONS }>, inline)]
    pub certifications: Vec<String>,
    /// The general authorization relied on, e.g. `GA 1`.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub general_authorization: Option<String>,
    /// The date it was filed (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub filed_on: Option<String>,
}

/// A declaration that passed its checks.
#[derive(Debug, Clone)]
pub struct Checked {
    pub filer_id: PartyId,
    pub kind: DeclarationKind,
    pub model_year: Option<i64>,
    pub calendar_year: Option<i64>,
    pub covers: Vec<String>,
    pub certifications: Vec<String>,
    pub general_authorization: Option<String>,
    pub filed_on: Date,
}

/// Trimmed, non-empty items of a list, each at most `max_chars`, at most `max_items`.
fn items(
    field: &str,
    list: &[String],
    (max_chars, max_items): (usize, usize),
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let v: Vec<String> = list.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if v.is_empty() || v.len() > max_items || v.iter().any(|s| s.chars().count() > max_chars) {
        errors.push(FieldError::new(field, format!("give 1 to {max_items} {what} of up to {max_chars} characters")));
    }
    v
}

impl NewDeclaration {
    /// Checks every field at once, `today` being the office's date.
    pub fn check(&self, today: Date) -> Result<Checked, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = self.kind.or_error("kind", "must be hardware, software or completed_vehicle", &mut errors);
        for (field, y) in [("model_year", self.model_year), ("calendar_year", self.calendar_year)] {
            if y.is_some_and(|y| !YEARS.contains(&y)) {
                errors.push(FieldError::new(field, "must be a year from 2024 to 2100"));
            }
        }
        match (kind, self.model_year, self.calendar_year) {
            (_, Some(_), Some(_)) => {
                errors.push(FieldError::new("calendar_year", "give a model year or a calendar year, not both"))
            }
            (Some(DeclarationKind::Hardware), None, None) => errors.push(FieldError::new(
                "model_year",
                "give the model year, or the calendar year for hardware without one",
            )),
            (Some(_), None, None) => errors.push(FieldError::new("model_year", "give the model year")),
            (Some(k), None, Some(_)) if k != DeclarationKind::Hardware => errors.push(FieldError::new(
                "calendar_year",
                "only VCS hardware without a model year is declared by calendar year: give the model year",
            )),
            _ => {}
        }
        let covers = items(
            "covers",
            &self.covers,
            (text::NAME, MAX_COVERS),
            "makes, models and trims or part numbers",
            &mut errors,
        );
        let certifications = items(
            "certifications",
            &self.certifications,
            (text::LINE, MAX_CERTIFICATIONS),
            "certifications",
            &mut errors,
        );
        let general_authorization =
            self.general_authorization.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if general_authorization.as_ref().is_some_and(|g| g.chars().count() > text::CODE) {
            errors.push(FieldError::new("general_authorization", text::at_most(text::CODE)));
        }
        let filed_on = crate::dates::past_date("filed_on", self.filed_on.as_deref(), today, &mut errors);
        match (kind, filed_on) {
            (Some(kind), Some(filed_on)) if errors.is_empty() => Ok(Checked {
                filer_id: self.filer_id,
                kind,
                model_year: self.model_year,
                calendar_year: self.calendar_year,
                covers,
                certifications,
                general_authorization,
                filed_on,
            }),
            _ => Err(errors),
        }
    }
}

/// A question asked of a declaration's filer, tracked as a request for information is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Question {
    /// Its number (an answer names it).
    pub seq: i64,
    pub question: String,
    pub asked_on: Date,
    /// Who asked it.
    pub asked_by: String,
    /// When the filer answered, once it has.
    pub answered_on: Option<Date>,
    pub answer: Option<String>,
}

/// A question asked of the filer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestion {
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub question: String,
    /// The date it was asked (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub asked_on: Option<String>,
    /// The declaration's version it was asked from; a stale one gets 409.
    pub version: i64,
}

/// The filer's answer to a question.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub answer: String,
    /// The date it came (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub answered_on: Option<String>,
}

/// A reviewer's move of a declaration.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationStatusChange {
    /// The status it moves to.
    #[schema(value_type = DeclarationStatus)]
    pub status: Choice<DeclarationStatus>,
    /// The questions, the deficiencies, or why a decided declaration is looked at again.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub reason: String,
    /// The version it was made from; a stale one gets 409.
    pub version: i64,
}

/// An amendment: the declaration as it now stands, and what changed.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationAmendment {
    /// The declaration as amended (the same filer, kind and year).
    pub declaration: NewDeclaration,
    /// The material change that makes it necessary.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub reason: String,
}

/// A filer role recorded for a party.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFilerRole {
    #[schema(value_type = FilerRole)]
    pub role: Choice<FilerRole>,
    /// The date it took the role up (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub since: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn declaration(kind: &str) -> NewDeclaration {
        NewDeclaration {
            filer_id: PartyId(uuid::Uuid::nil()),
            kind: Choice::named(kind),
            model_year: Some(2027),
            calendar_year: None,
            covers: vec![" Voltra EX Touring ".into()],
            certifications: vec!["No covered software of a PRC- or Russia-linked supplier".into()],
            general_authorization: None,
            filed_on: None,
        }
    }

    #[test]
    fn a_declaration_names_every_bad_field_at_once() {
        let today = date!(2026 - 12 - 07);
        let ok = declaration("completed_vehicle").check(today).unwrap();
        assert_eq!(ok.covers, ["Voltra EX Touring"]);
        assert_eq!(ok.filed_on, today);
        let bad = NewDeclaration {
            kind: Choice::named("truck"),
            model_year: Some(1999),
            covers: vec!["  ".into()],
            certifications: vec![],
            filed_on: Some("2027-01-01".into()),
            ..declaration("software")
        };
        let fields: Vec<String> = bad.check(today).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["kind", "model_year", "covers", "certifications", "filed_on"]);
        // Only hardware is declared by calendar year.
        let sw = NewDeclaration { model_year: None, calendar_year: Some(2029), ..declaration("software") };
        assert_eq!(sw.check(today).unwrap_err()[0].field, "calendar_year");
        let hw = NewDeclaration { model_year: None, calendar_year: Some(2029), ..declaration("hardware") };
        assert_eq!(hw.check(today).unwrap().calendar_year, Some(2029));
        let neither = NewDeclaration { model_year: None, ..declaration("hardware") };
        assert_eq!(neither.check(today).unwrap_err()[0].field, "model_year");
    }

    #[test]
    fn a_declaration_moves_through_its_review_and_never_out_of_superseded() {
        use DeclarationStatus::*;
        assert_eq!(Received.next(), [UnderReview]);
        assert_eq!(UnderReview.next(), [QuestionsAsked, Accepted, Deficient]);
        assert_eq!(Accepted.next(), [UnderReview]);
        assert!(Superseded.next().is_empty());
        assert!(!Received.may_move_to(Superseded));
        assert!(Deficient.needs_reason(UnderReview) && UnderReview.needs_reason(Accepted));
        assert!(!Accepted.needs_reason(UnderReview));
        assert_eq!(DeclarationKind::Hardware.filer_role(), FilerRole::HardwareImporter);
        assert_eq!(DeclarationKind::Software.filer_role(), FilerRole::VehicleManufacturer);
    }
}
