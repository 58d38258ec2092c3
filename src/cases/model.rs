//! Case types and the validation of intake and edits (parse, don't validate: raw input
//! becomes a [`NewCase`] or [`CaseEdit`] once, with every bad field named).

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::clocks::ClockState;
use super::reference::Reference;
use super::workflow::{Action, Answer, Decision, RuleVersion, Stage};
use crate::auth::Role;
use crate::error::FieldError;

/// How a case came to the office (791.103(a)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "case_origin", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written request of an agency head.
    AgencyReferral,
    /// The office's own initiative.
    OwnInitiative,
    /// Information submitted by others.
    SubmittedInformation,
}

impl Origin {
    /// Every origin.
    pub const ALL: [Origin; 3] = [Origin::AgencyReferral, Origin::OwnInitiative, Origin::SubmittedInformation];

    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::AgencyReferral => "agency_referral",
            Origin::OwnInitiative => "own_initiative",
            Origin::SubmittedInformation => "submitted_information",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Origin> {
        Origin::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Label for people.
    pub fn label(self) -> &'static str {
        match self {
            Origin::AgencyReferral => "Referral by an agency head",
            Origin::OwnInitiative => "Office's own initiative",
            Origin::SubmittedInformation => "Information submitted by others",
        }
    }
}

/// A case row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    /// Id.
    pub id: Uuid,
    /// `ICTS-YYYY-NNN`.
    pub docket_number: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Origin.
    pub origin: Origin,
    /// Referring agency code.
    pub referring_agency: Option<String>,
    /// Referral date.
    pub referral_date: Option<Date>,
    /// Category code.
    pub category: String,
    /// Adversary codes.
    pub adversaries: Vec<String>,
    /// Governing rule.
    pub rule_version: Option<String>,
    /// Need-to-know.
    pub restricted: bool,
    /// Assignee.
    pub assignee: Option<Uuid>,
    /// Assignee's name.
    pub assignee_name: Option<String>,
    /// Stage.
    pub stage: Stage,
    /// Covered?
    pub covered: Option<Answer>,
    /// Why.
    pub covered_note: String,
    /// Nexus?
    pub nexus: Option<Answer>,
    /// Why.
    pub nexus_note: String,
    /// Undue risk?
    pub undue_risk: Option<Answer>,
    /// Why.
    pub undue_risk_note: String,
    /// Accepted.
    pub accepted_on: Option<Date>,
    /// Agencies notified.
    pub agencies_notified_on: Option<Date>,
    /// Initial determination signer.
    pub initial_signed_by: Option<Uuid>,
    /// Served.
    pub served_on: Option<Date>,
    /// Response received.
    pub response_received_on: Option<Date>,
    /// Circulated.
    pub circulated_on: Option<Date>,
    /// All concurred.
    pub all_concurred: bool,
    /// Final decision (signed).
    pub final_decision: Option<Decision>,
    /// Final signer.
    pub final_signed_by: Option<Uuid>,
    /// Decided.
    pub decided_on: Option<Date>,
    /// Final determination due (denormalised from the clocks).
    pub final_due: Option<Date>,
    /// Preliminary triage score of a bulk-intake case (not an assessment).
    pub preliminary_score: Option<i32>,
    /// Filed by.
    pub created_by: Option<Uuid>,
    /// Filed at.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// A nexus finding is recorded.
    pub has_nexus_finding: bool,
    /// A risk assessment is recorded.
    pub has_assessment: bool,
    /// Agency notices of the first interagency step.
    pub first_step_notices: i64,
    /// Agency notices of the second interagency step.
    pub second_step_notices: i64,
    /// A second-step objection without a recorded resolution.
    pub unresolved_objection: bool,
}

impl CaseRow {
    /// The governing rule, once accepted.
    pub fn rule(&self) -> Option<RuleVersion> {
        self.rule_version.as_deref().and_then(RuleVersion::parse)
    }

    /// Whether `user` (id, role) may see this case: restricted cases only by their
    /// assignee, supervisors and auditors; administrators see no case content.
    pub fn visible_to(&self, user: Uuid, role: Role) -> bool {
        crate::auth::policy::may_see_case(role, user, self.restricted, self.assignee)
    }
}

/// A user as shown on a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
}

/// The three questions with their answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Questions {
    /// Covered transaction?
    pub covered: Option<Answer>,
    /// Reasoning.
    pub covered_note: String,
    /// Foreign-adversary nexus?
    pub nexus: Option<Answer>,
    /// Reasoning.
    pub nexus_note: String,
    /// Undue or unacceptable risk?
    pub undue_risk: Option<Answer>,
    /// Reasoning.
    pub undue_risk_note: String,
}

/// A case as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// Id.
    pub id: Uuid,
    /// Docket number.
    pub docket_number: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Origin.
    pub origin: Origin,
    /// Referring agency code (agency referrals).
    pub referring_agency: Option<String>,
    /// Referral date.
    pub referral_date: Option<Date>,
    /// Category code.
    pub category: String,
    /// Adversary codes.
    pub adversaries: Vec<String>,
    /// Governing rule version code.
    pub rule_version: Option<String>,
    /// Need-to-know.
    pub restricted: bool,
    /// Assignee.
    pub assignee: Option<UserRef>,
    /// Stage.
    pub stage: Stage,
    /// The three questions.
    pub questions: Questions,
    /// Final decision, once signed.
    pub decision: Option<Decision>,
    /// Clocks.
    pub clocks: Vec<ClockState>,
    /// What the requesting user may do now.
    pub allowed_actions: Vec<Action>,
    /// Filed at.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Version: send it back with edits.
    pub version: i32,
}

/// Intake input, as the form and the API send it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// Title.
    pub title: String,
    /// Summary of the transaction(s) and concerns.
    pub summary: String,
    /// `agency_referral`, `own_initiative` or `submitted_information`.
    pub origin: String,
    /// Agency code, required for an agency referral.
    #[serde(default)]
    pub referring_agency: Option<String>,
    /// Referral date (YYYY-MM-DD).
    #[serde(default)]
    pub referral_date: Option<String>,
    /// Covered category code.
    pub category: String,
    /// Adversary codes.
    pub adversaries: Vec<String>,
    /// Need-to-know.
    #[serde(default)]
    pub restricted: bool,
}

/// Validated intake.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Origin.
    pub origin: Origin,
    /// Referring agency.
    pub referring_agency: Option<String>,
    /// Referral date.
    pub referral_date: Option<Date>,
    /// Category.
    pub category: String,
    /// Adversaries (sorted, unique).
    pub adversaries: Vec<String>,
    /// Need-to-know.
    pub restricted: bool,
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn clean_text(field: &'static str, value: &str, max: usize, required: bool, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim().to_string();
    if required && v.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.push(FieldError::new(field, "must not contain control characters"));
    }
    v
}

impl CaseInput {
    /// Validates against the reference data in force on `today`.
    pub fn parse(&self, reference: &Reference, today: Date) -> Result<NewCase, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = clean_text("title", &self.title, 300, true, &mut errors);
        let summary = clean_text("summary", &self.summary, 20000, true, &mut errors);
        let origin = Origin::parse(self.origin.trim());
        if origin.is_none() {
            errors.push(FieldError::new("origin", "must be agency_referral, own_initiative or submitted_information"));
        }
        let agency = self.referring_agency.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        match (origin, &agency) {
            (Some(Origin::AgencyReferral), None) => {
                errors.push(FieldError::new("referring_agency", "is required for an agency referral"))
            }
            (Some(Origin::AgencyReferral), Some(a)) if !reference.agencies.iter().any(|r| &r.code == a) => {
                errors.push(FieldError::new("referring_agency", "is not a known agency code"))
            }
            (Some(o), Some(_)) if o != Origin::AgencyReferral => {
                errors.push(FieldError::new("referring_agency", "applies only to agency referrals"))
            }
            _ => {}
        }
        let referral_date = match self.referral_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => match parse_date(s) {
                Some(d) if d > today => {
                    errors.push(FieldError::new("referral_date", "cannot be in the future"));
                    None
                }
                Some(d) if d < time::macros::date!(2021 - 01 - 19) => {
                    errors.push(FieldError::new("referral_date", "the rule reaches transactions from 19 January 2021"));
                    None
                }
                Some(d) => Some(d),
                None => {
                    errors.push(FieldError::new("referral_date", "must be a date YYYY-MM-DD"));
                    None
                }
            },
            None => None,
        };
        let category = self.category.trim().to_string();
        if !reference.categories.iter().any(|c| c.code == category && c.in_force(today)) {
            errors.push(FieldError::new(
                "category",
                "must be a covered category code in force (see GET /api/v1/reference)",
            ));
        }
        let mut adversaries: Vec<String> =
            self.adversaries.iter().map(|a| a.trim().to_uppercase()).filter(|a| !a.is_empty()).collect();
        adversaries.sort();
        adversaries.dedup();
        if adversaries.is_empty() {
            errors.push(FieldError::new("adversaries", "name at least one foreign adversary"));
        } else if let Some(bad) =
            adversaries.iter().find(|a| !reference.adversaries.iter().any(|r| &r.code == *a && r.in_force(today)))
        {
            errors.push(FieldError::new("adversaries", format!("{bad} is not a foreign adversary listed in 791.4")));
        }
        if errors.is_empty() {
            Ok(NewCase {
                title,
                summary,
                origin: origin.expect("checked"),
                referring_agency: agency,
                referral_date,
                category,
                adversaries,
                restricted: self.restricted,
            })
        } else {
            Err(errors)
        }
    }
}

/// An edit of a case's descriptive fields and answers (PATCH body / edit form).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseEdit {
    /// The version the edit started from.
    pub version: i32,
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// New category code.
    #[serde(default)]
    pub category: Option<String>,
    /// New adversary codes.
    #[serde(default)]
    pub adversaries: Option<Vec<String>>,
    /// Need-to-know (supervisors only).
    #[serde(default)]
    pub restricted: Option<bool>,
    /// Covered? `yes`, `no` or empty to clear.
    #[serde(default)]
    pub covered: Option<String>,
    /// Reasoning.
    #[serde(default)]
    pub covered_note: Option<String>,
    /// Nexus? `yes`, `no` or empty.
    #[serde(default)]
    pub nexus: Option<String>,
    /// Reasoning.
    #[serde(default)]
    pub nexus_note: Option<String>,
    /// Undue risk? `yes`, `no` or empty.
    #[serde(default)]
    pub undue_risk: Option<String>,
    /// Reasoning.
    #[serde(default)]
    pub undue_risk_note: Option<String>,
}

/// Parses an answer field: `yes`, `no`, or empty for "not answered".
pub fn parse_answer(field: &'static str, v: &str, errors: &mut Vec<FieldError>) -> Option<Option<Answer>> {
    match v.trim() {
        "" => Some(None),
        "yes" => Some(Some(Answer::Yes)),
        "no" => Some(Some(Answer::No)),
        _ => {
            errors.push(FieldError::new(field, "must be yes, no or empty"));
            None
        }
    }
}

/// A validated edit: each field `Some` when it changes.
#[derive(Debug, Clone, Default)]
pub struct ValidEdit {
    /// Title.
    pub title: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Adversaries.
    pub adversaries: Option<Vec<String>>,
    /// Restricted.
    pub restricted: Option<bool>,
    /// Covered.
    pub covered: Option<Option<Answer>>,
    /// Note.
    pub covered_note: Option<String>,
    /// Nexus.
    pub nexus: Option<Option<Answer>>,
    /// Note.
    pub nexus_note: Option<String>,
    /// Undue risk.
    pub undue_risk: Option<Option<Answer>>,
    /// Note.
    pub undue_risk_note: Option<String>,
}

impl CaseEdit {
    /// Validates the changed fields.
    pub fn parse(&self, reference: &Reference, today: Date) -> Result<ValidEdit, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = ValidEdit {
            title: self.title.as_deref().map(|t| clean_text("title", t, 300, true, &mut errors)),
            summary: self.summary.as_deref().map(|t| clean_text("summary", t, 20000, true, &mut errors)),
            restricted: self.restricted,
            covered_note: self
                .covered_note
                .as_deref()
                .map(|t| clean_text("covered_note", t, 20000, false, &mut errors)),
            nexus_note: self.nexus_note.as_deref().map(|t| clean_text("nexus_note", t, 20000, false, &mut errors)),
            undue_risk_note: self
                .undue_risk_note
                .as_deref()
                .map(|t| clean_text("undue_risk_note", t, 20000, false, &mut errors)),
            ..ValidEdit::default()
        };
        if let Some(c) = &self.category {
            let c = c.trim().to_string();
            if !reference.categories.iter().any(|r| r.code == c && r.in_force(today)) {
                errors.push(FieldError::new("category", "must be a covered category code in force"));
            }
            out.category = Some(c);
        }
        if let Some(list) = &self.adversaries {
            let mut a: Vec<String> = list.iter().map(|x| x.trim().to_uppercase()).filter(|x| !x.is_empty()).collect();
            a.sort();
            a.dedup();
            if a.is_empty() {
                errors.push(FieldError::new("adversaries", "name at least one foreign adversary"));
            } else if let Some(bad) = a.iter().find(|x| !reference.adversaries.iter().any(|r| &r.code == *x)) {
                errors
                    .push(FieldError::new("adversaries", format!("{bad} is not a foreign adversary listed in 791.4")));
            }
            out.adversaries = Some(a);
        }
        out.covered = self.covered.as_deref().and_then(|v| parse_answer("covered", v, &mut errors));
        out.nexus = self.nexus.as_deref().and_then(|v| parse_answer("nexus", v, &mut errors));
        out.undue_risk = self.undue_risk.as_deref().and_then(|v| parse_answer("undue_risk", v, &mut errors));
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

/// Formats a docket number.
pub fn docket_number(year: i32, n: i32) -> String {
    format!("ICTS-{year}-{n:03}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn docket_numbers() {
        assert_eq!(docket_number(2021, 2), "ICTS-2021-002");
        assert_eq!(docket_number(2026, 1234), "ICTS-2026-1234");
    }

    #[test]
    fn intake_names_every_bad_field() {
        let r = Reference::builtin_for_tests();
        let input = CaseInput {
            title: " ".into(),
            summary: "s".into(),
            origin: "agency_referral".into(),
            referring_agency: None,
            referral_date: Some("2030-01-01".into()),
            category: "gardening".into(),
            adversaries: vec!["FR".into()],
            restricted: false,
        };
        let errs = input.parse(&r, date!(2026 - 11 - 28)).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "referring_agency", "referral_date", "category", "adversaries"]);
        let ok = CaseInput {
            title: "Anti-virus software".into(),
            summary: "Kernel-level access".into(),
            origin: "agency_referral".into(),
            referring_agency: Some("DOJ".into()),
            referral_date: Some("2021-08-10".into()),
            category: "connected_software".into(),
            adversaries: vec!["ru".into(), "RU".into()],
            restricted: true,
        }
        .parse(&r, date!(2026 - 11 - 28))
        .unwrap();
        assert_eq!(ok.adversaries, ["RU"]);
    }

    #[test]
    fn visibility() {
        let me = Uuid::now_v7();
        let mut row = CaseRow {
            id: Uuid::nil(),
            docket_number: "ICTS-2026-001".into(),
            title: String::new(),
            summary: String::new(),
            origin: Origin::OwnInitiative,
            referring_agency: None,
            referral_date: None,
            category: "data_hosting".into(),
            adversaries: vec!["CN".into()],
            rule_version: None,
            restricted: true,
            assignee: None,
            assignee_name: None,
            stage: Stage::Intake,
            covered: None,
            covered_note: String::new(),
            nexus: None,
            nexus_note: String::new(),
            undue_risk: None,
            undue_risk_note: String::new(),
            accepted_on: None,
            agencies_notified_on: None,
            initial_signed_by: None,
            served_on: None,
            response_received_on: None,
            circulated_on: None,
            all_concurred: false,
            final_decision: None,
            final_signed_by: None,
            decided_on: None,
            final_due: None,
            preliminary_score: None,
            created_by: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 1,
            has_nexus_finding: false,
            has_assessment: false,
            first_step_notices: 0,
            second_step_notices: 0,
            unresolved_objection: false,
        };
        assert!(!row.visible_to(me, Role::Analyst));
        assert!(row.visible_to(me, Role::Supervisor));
        assert!(row.visible_to(me, Role::Auditor));
        assert!(!row.visible_to(me, Role::Admin));
        row.assignee = Some(me);
        assert!(row.visible_to(me, Role::Analyst));
        row.restricted = false;
        row.assignee = None;
        assert!(row.visible_to(me, Role::Analyst));
        assert!(!row.visible_to(me, Role::Admin), "administrators see no case content");
    }
}
