//! Case types and the validation of intake and edits (parse, don't validate: raw input
//! becomes a [`NewCase`] or [`CaseEdit`] once, with every bad field named).

use crate::ids::{CaseId, RfiId, UserId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::clocks::ClockState;
use super::reference::Reference;
use super::workflow::{Action, Answer, Decision, RuleVersion, Stage};
use crate::access::Role;
use crate::choice::Choice;
use crate::dates::parse_date;
use crate::error::FieldError;
use crate::text;

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

/// What a case is, carried alike by the register's rows ([`CaseRow`]) and the API's view
/// ([`CaseView`]), so that the one field list is written once.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseRecord {
    /// The case's id (its docket number is what people use).
    pub id: CaseId,
    /// `ICTS-YYYY-NNN`: unique, gap-free within a year.
    pub docket_number: String,
    /// A short name of the transaction under review.
    pub title: String,
    /// The transaction(s) and the concerns, as filed.
    pub summary: String,
    /// How the review started: a referral, the office's own initiative, information sent in.
    pub origin: Origin,
    /// The referring agency's code (agency referrals).
    pub referring_agency: Option<String>,
    /// When the referral was made.
    pub referral_date: Option<Date>,
    /// The covered category's code (the first of the three questions rests on it).
    pub category: String,
    /// The foreign adversaries the transaction is tied to (codes).
    pub adversaries: Vec<String>,
    /// The rule the case is reviewed under (`ifr-2021` or `final-2025`), once accepted.
    pub rule_version: Option<String>,
    /// Need-to-know: only the assignee, supervisors and auditors see a restricted case.
    pub restricted: bool,
    /// Where the review stands.
    pub stage: Stage,
    /// When it was filed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Optimistic concurrency: send it back with edits; a stale one is refused.
    pub version: i32,
}

/// A case as the register holds it: the record and what the workflow, the clocks and the
/// pages need besides. Dereferences to its [`CaseRecord`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    /// What the case is.
    #[sqlx(flatten)]
    pub case: CaseRecord,
    /// The analyst or supervisor working it.
    pub assignee: Option<UserId>,
    /// The assignee's name, as shown.
    pub assignee_name: Option<String>,
    /// Whether the transaction is a covered ICTS transaction (question 1).
    pub covered: Option<Answer>,
    /// The reasoning of question 1.
    pub covered_note: String,
    /// Whether a foreign adversary owns, controls or directs a party (question 2).
    pub nexus: Option<Answer>,
    /// The reasoning of question 2.
    pub nexus_note: String,
    /// Whether the transaction poses undue or unacceptable risk (question 3).
    pub undue_risk: Option<Answer>,
    /// The reasoning of question 3.
    pub undue_risk_note: String,
    /// When the referral was accepted (starts the interim rule's clock).
    pub accepted_on: Option<Date>,
    /// When the appropriate agencies were notified (the 21 days before service run from it).
    pub agencies_notified_on: Option<Date>,
    /// Who signed the initial determination (service waits for it).
    pub initial_signed_by: Option<UserId>,
    /// When the initial determination was served (starts the response window).
    pub served_on: Option<Date>,
    /// When the parties' response arrived.
    pub response_received_on: Option<Date>,
    /// When the proposed final determination went to the agencies.
    pub circulated_on: Option<Date>,
    /// Whether every agency concurred (else silence counts after 14 days).
    pub all_concurred: bool,
    /// The decision of the signed final determination.
    pub final_decision: Option<Decision>,
    /// Who signed the final determination.
    pub final_signed_by: Option<UserId>,
    /// When the final determination was issued.
    pub decided_on: Option<Date>,
    /// Final determination due (denormalised from the clocks for list filters).
    pub final_due: Option<Date>,
    /// Preliminary triage score of a bulk-intake case (not an assessment).
    pub preliminary_score: Option<i32>,
    /// Who filed it (none for bulk intake without an account).
    pub created_by: Option<UserId>,
    /// A nexus finding is recorded (the workflow asks for one).
    pub has_nexus_finding: bool,
    /// A risk assessment is recorded (the workflow asks for one).
    pub has_assessment: bool,
    /// Agency notices of the first interagency step.
    pub first_step_notices: i64,
    /// Agency notices of the second interagency step.
    pub second_step_notices: i64,
    /// A second-step objection without a recorded resolution.
    pub unresolved_objection: bool,
    /// The date of the act that brought the case to its stage.
    pub stage_since: Option<Date>,
    /// A supervisor's reason for keeping the case under the rule other than the one in
    /// force on its acceptance date.
    pub rule_reason: Option<String>,
    /// When the analyst recorded that every served party filed its written response.
    pub response_complete_on: Option<Date>,
    /// An emergency deviation from the procedure is recorded.
    pub emergency_deviation: bool,
    /// When the initial determination was signed.
    pub initial_signed_on: Option<Date>,
    /// When the final determination was signed.
    pub final_signed_on: Option<Date>,
}

impl std::ops::Deref for CaseRow {
    type Target = CaseRecord;
    fn deref(&self) -> &CaseRecord {
        &self.case
    }
}

impl std::ops::DerefMut for CaseRow {
    fn deref_mut(&mut self) -> &mut CaseRecord {
        &mut self.case
    }
}

impl CaseRow {
    /// The governing rule, once accepted.
    pub fn rule(&self) -> Option<RuleVersion> {
        self.rule_version.as_deref().and_then(RuleVersion::parse)
    }

    /// Whether `user` (id, role) may see this case: restricted cases only by their
    /// assignee, supervisors and auditors; administrators see no case content.
    pub fn visible_to(&self, user: UserId, role: Role) -> bool {
        crate::access::policy::may_see_case(role, user, self.restricted, self.assignee)
    }
}

/// A request for information as stored: to whom, what, when, which clocks it stops, and
/// the answer once it came.
#[derive(Debug, Clone)]
pub struct Rfi {
    /// Its id (answers refer to it).
    pub id: RfiId,
    /// Who was asked.
    pub asked_of: String,
    /// What was asked.
    pub question: String,
    /// When it was sent.
    pub asked_on: Date,
    /// The clocks it stops until it is answered.
    pub tolls: Vec<super::clocks::ClockName>,
    /// When it was answered.
    pub answered_on: Option<Date>,
    /// The answer.
    pub answer: Option<String>,
}

/// A user as shown on a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: UserId,

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

/// A case as the API returns it: the record, with the assignee, the three questions, the
/// decision, the clocks and what the requesting user may do now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// What the case is (its fields appear at the top level).
    #[serde(flatten)]
    pub case: CaseRecord,
    /// Who works it.
    pub assignee: Option<UserRef>,
    /// The three questions.
    pub questions: Questions,
    /// Final decision, once signed.
    pub decision: Option<Decision>,
    /// The clocks that run on the case.
    pub clocks: Vec<ClockState>,
    /// What the requesting user may do now.
    pub allowed_actions: Vec<Action>,
    /// The dates of the case's acts (each the date it took effect).
    pub dates: ActDates,
    /// A supervisor's reason for keeping the case under the rule other than the one in
    /// force on its acceptance date.
    pub rule_reason: Option<String>,
    /// An emergency deviation from the procedure is recorded (7.100(e) / 791.100(e)).
    pub emergency_deviation: bool,
}

/// The dates of a case's acts, as they took effect (not when they were recorded).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ActDates {
    /// Referral accepted (fixes the rule version).
    pub accepted_on: Option<Date>,
    /// First notice to the appropriate agencies.
    pub agencies_notified_on: Option<Date>,
    /// Initial determination signed.
    pub initial_signed_on: Option<Date>,
    /// Initial determination served.
    pub served_on: Option<Date>,
    /// First written response or mitigation proposal received.
    pub response_received_on: Option<Date>,
    /// Every served party's written response recorded as complete.
    pub response_complete_on: Option<Date>,
    /// Proposed final determination circulated.
    pub circulated_on: Option<Date>,
    /// Final determination signed.
    pub final_signed_on: Option<Date>,
    /// Final determination issued.
    pub decided_on: Option<Date>,
    /// The act that brought the case to its current stage.
    pub stage_since: Option<Date>,
}

impl std::ops::Deref for CaseView {
    type Target = CaseRecord;
    fn deref(&self) -> &CaseRecord {
        &self.case
    }
}

/// Intake input, as the form and the API send it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub title: String,
    /// Summary of the transaction(s) and concerns.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub summary: String,
    /// How the review started.
    #[schema(value_type = Origin)]
    pub origin: Choice<Origin>,
    /// Agency code, required for an agency referral.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub referring_agency: Option<String>,
    /// Referral date (YYYY-MM-DD).
    #[serde(default)]
    pub referral_date: Option<String>,
    /// Covered category code.
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub category: String,
    /// Adversary codes.
    #[schema(value_type = crate::text::Texts<{ crate::text::CODE }, { crate::text::CODES }>, inline)]
    pub adversaries: Vec<String>,
    /// Need-to-know.
    #[serde(default)]
    pub restricted: bool,
    /// The office's own docket number of a case that began outside the system
    /// (`ICTS-YYYY-NNN`; supervisors moving their open reviews in). New cases get the next
    /// number of the gap-free counter.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub docket_number: Option<String>,
}

/// Validated intake.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub title: String,
    pub summary: String,
    pub origin: Origin,
    pub referring_agency: Option<String>,
    pub referral_date: Option<Date>,
    pub category: String,
    /// Adversaries (sorted, unique).
    pub adversaries: Vec<String>,
    /// Need-to-know.
    pub restricted: bool,
    /// The office's existing docket number (year, sequence), for a case moved in.
    pub docket_number: Option<(i32, i32)>,
}

/// Parses an office docket number `ICTS-YYYY-NNN` into (year, sequence).
pub fn parse_docket(s: &str) -> Option<(i32, i32)> {
    let rest = s.trim().to_ascii_uppercase();
    let rest = rest.strip_prefix("ICTS-")?;
    let (y, n) = rest.split_once('-')?;
    if y.len() != 4 || n.len() < 3 || n.len() > 6 || !y.chars().chain(n.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (y, n): (i32, i32) = (y.parse().ok()?, n.parse().ok()?);
    (n >= 1).then_some((y, n))
}

fn clean_text(field: &'static str, value: &str, max: usize, required: bool, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim().to_string();
    if required && v.is_empty() {
        errors
            .push(FieldError::new(field, format!("is required: write up to {} characters", crate::text::grouped(max))));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(field, crate::text::at_most(max)));
    } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.push(FieldError::new(field, "must not contain control characters"));
    }
    v
}

impl CaseInput {
    /// Validates against the reference data in force on `today`.
    pub fn parse(&self, reference: &Reference, today: Date) -> Result<NewCase, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = clean_text("title", &self.title, text::NAME, true, &mut errors);
        let summary = clean_text("summary", &self.summary, text::TEXT, true, &mut errors);
        let origin = self.origin.or_error(
            "origin",
            "must be agency_referral, own_initiative or submitted_information",
            &mut errors,
        );
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
                "must be one of the covered categories in force (791.2(a)): choose one from the list",
            ));
        }
        let mut adversaries: Vec<String> =
            self.adversaries.iter().map(|a| a.trim().to_uppercase()).filter(|a| !a.is_empty()).collect();
        adversaries.sort();
        adversaries.dedup();
        if self.adversaries.len() > text::CODES {
            errors.push(FieldError::new("adversaries", format!("list at most {}", text::CODES)));
        } else if adversaries.is_empty() {
            errors.push(FieldError::new("adversaries", "name at least one foreign adversary"));
        } else if let Some(bad) =
            adversaries.iter().find(|a| !reference.adversaries.iter().any(|r| &r.code == *a && r.in_force(today)))
        {
            errors.push(FieldError::new("adversaries", format!("{bad} is not a foreign adversary listed in 791.4")));
        }
        let docket_number = match self.docket_number.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(d) => match parse_docket(d) {
                Some((y, n)) if (2019..=today.year()).contains(&y) => Some((y, n)),
                Some(_) => {
                    errors.push(FieldError::new("docket_number", "its year must be from 2019 to this year"));
                    None
                }
                None => {
                    errors.push(FieldError::new(
                        "docket_number",
                        "must be an office docket number such as ICTS-2021-002",
                    ));
                    None
                }
            },
        };
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
                docket_number,
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
    #[schema(value_type = Option<crate::text::Text<{ crate::text::NAME }>>, inline)]
    pub title: Option<String>,
    /// New summary.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub summary: Option<String>,
    /// New category code.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub category: Option<String>,
    /// New adversary codes.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Texts<{ crate::text::CODE }, { crate::text::CODES }>>, inline)]
    pub adversaries: Option<Vec<String>>,
    /// Need-to-know (supervisors only).
    #[serde(default)]
    pub restricted: Option<bool>,
    /// Covered? `yes`, `no` or empty to clear.
    #[serde(default)]
    #[schema(value_type = Option<AnswerEdit>)]
    pub covered: Option<Choice<AnswerEdit>>,
    /// Reasoning.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub covered_note: Option<String>,
    /// Nexus? `yes`, `no` or empty.
    #[serde(default)]
    #[schema(value_type = Option<AnswerEdit>)]
    pub nexus: Option<Choice<AnswerEdit>>,
    /// Reasoning.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub nexus_note: Option<String>,
    /// Undue risk? `yes`, `no` or empty.
    #[serde(default)]
    #[schema(value_type = Option<AnswerEdit>)]
    pub undue_risk: Option<Choice<AnswerEdit>>,
    /// Reasoning.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub undue_risk_note: Option<String>,
    /// The date the three questions were answered as changed here, YYYY-MM-DD (today when
    /// absent).
    #[serde(default)]
    pub answered_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// An answer to one of the three questions as an edit gives it: `yes`, `no`, or empty
/// for "not answered" (the form's first choice), which clears an earlier answer. Its
/// schema is written out below: utoipa takes an empty rename for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerEdit {
    /// Not answered (again).
    #[serde(rename = "")]
    Clear,
    /// Yes.
    #[serde(rename = "yes")]
    Yes,
    /// No.
    #[serde(rename = "no")]
    No,
}

impl AnswerEdit {
    /// Every choice, as the form lists them.
    pub const ALL: [AnswerEdit; 3] = [AnswerEdit::Clear, AnswerEdit::Yes, AnswerEdit::No];

    /// The value sent.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerEdit::Clear => "",
            AnswerEdit::Yes => "yes",
            AnswerEdit::No => "no",
        }
    }

    /// The answer it leaves: none when cleared.
    pub fn answer(self) -> Option<Answer> {
        match self {
            AnswerEdit::Clear => None,
            AnswerEdit::Yes => Some(Answer::Yes),
            AnswerEdit::No => Some(Answer::No),
        }
    }
}

impl utoipa::PartialSchema for AnswerEdit {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(AnswerEdit::ALL.map(AnswerEdit::as_str)))
            .description(Some("`yes`, `no`, or empty for \"not answered\", which clears an earlier answer."))
            .into()
    }
}

impl utoipa::ToSchema for AnswerEdit {}

/// A validated edit: each field `Some` when it changes.
#[derive(Debug, Clone, Default)]
pub struct ValidEdit {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub category: Option<String>,
    pub adversaries: Option<Vec<String>>,
    pub restricted: Option<bool>,
    pub covered: Option<Option<Answer>>,
    /// Note.
    pub covered_note: Option<String>,
    pub nexus: Option<Option<Answer>>,
    /// Note.
    pub nexus_note: Option<String>,
    pub undue_risk: Option<Option<Answer>>,
    /// Note.
    pub undue_risk_note: Option<String>,
    /// When the questions' answers took effect.
    pub answered: crate::dates::When,
}

impl CaseEdit {
    /// Validates the changed fields.
    pub fn parse(&self, reference: &Reference, today: Date) -> Result<ValidEdit, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut out = ValidEdit {
            title: self.title.as_deref().map(|t| clean_text("title", t, text::NAME, true, &mut errors)),
            summary: self.summary.as_deref().map(|t| clean_text("summary", t, text::TEXT, true, &mut errors)),
            restricted: self.restricted,
            covered_note: self
                .covered_note
                .as_deref()
                .map(|t| clean_text("covered_note", t, text::TEXT, false, &mut errors)),
            nexus_note: self.nexus_note.as_deref().map(|t| clean_text("nexus_note", t, text::TEXT, false, &mut errors)),
            undue_risk_note: self
                .undue_risk_note
                .as_deref()
                .map(|t| clean_text("undue_risk_note", t, text::TEXT, false, &mut errors)),
            answered: crate::dates::When { on: self.answered_on.clone(), late_reason: self.late_reason.clone() },
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
            if list.len() > text::CODES {
                errors.push(FieldError::new("adversaries", format!("list at most {}", text::CODES)));
            } else if a.is_empty() {
                errors.push(FieldError::new("adversaries", "name at least one foreign adversary"));
            } else if let Some(bad) = a.iter().find(|x| !reference.adversaries.iter().any(|r| &r.code == *x)) {
                errors
                    .push(FieldError::new("adversaries", format!("{bad} is not a foreign adversary listed in 791.4")));
            }
            out.adversaries = Some(a);
        }
        let mut answer = |field: &str, v: &Option<Choice<AnswerEdit>>| {
            v.as_ref().and_then(|v| v.or_error(field, "must be yes, no or empty", &mut errors)).map(AnswerEdit::answer)
        };
        out.covered = answer("covered", &self.covered);
        out.nexus = answer("nexus", &self.nexus);
        out.undue_risk = answer("undue_risk", &self.undue_risk);
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

/// Formats a docket number.
pub fn docket_number(year: i32, n: i32) -> String {
    format!("ICTS-{year}-{n:03}")
}

/// The date an audited act took effect, read from its event's changes (`on` for workflow
/// actions and deviations; the notice, response, submission, service, meeting or check
/// date of the others), if it has one.
pub fn act_date_of(changes: &serde_json::Value) -> Option<Date> {
    ["on", "sent_on", "responded_on", "received_on", "served_on", "held_on", "checked_on", "published_on", "signed_on"]
        .iter()
        .find_map(|k| changes.get(*k).and_then(|v| v.as_str()).and_then(parse_date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_edit_answers_by_the_values_its_schema_lists() {
        for a in AnswerEdit::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
            assert_eq!(serde_json::from_value::<AnswerEdit>(a.as_str().into()).unwrap(), a);
        }
        let schema = serde_json::to_value(<AnswerEdit as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["", "yes", "no"]));
        assert_eq!(AnswerEdit::Clear.answer(), None);
    }

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
            origin: Origin::AgencyReferral.into(),
            referring_agency: None,
            referral_date: Some("2030-01-01".into()),
            category: "gardening".into(),
            adversaries: vec!["FR".into()],
            restricted: false,
            docket_number: None,
        };
        let errs = input.parse(&r, date!(2026 - 11 - 28)).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "referring_agency", "referral_date", "category", "adversaries"]);
        let ok = CaseInput {
            title: "Anti-virus software".into(),
            summary: "Kernel-level access".into(),
            origin: Origin::AgencyReferral.into(),
            referring_agency: Some("DOJ".into()),
            referral_date: Some("2021-08-10".into()),
            category: "connected_software".into(),
            adversaries: vec!["ru".into(), "RU".into()],
            restricted: true,
            docket_number: None,
        }
        .parse(&r, date!(2026 - 11 - 28))
        .unwrap();
        assert_eq!(ok.adversaries, ["RU"]);
    }

    #[test]
    fn office_docket_numbers_parse() {
        assert_eq!(parse_docket("ICTS-2021-002"), Some((2021, 2)));
        assert_eq!(parse_docket(" icts-2024-1234 "), Some((2024, 1234)));
        for bad in ["ICTS-21-002", "ICTS-2021-02", "ICTS-2021-000", "CASE-2021-002", "ICTS-2021-00x", ""] {
            assert_eq!(parse_docket(bad), None, "{bad}");
        }
    }

    #[test]
    fn visibility() {
        let me = UserId::new();
        let mut row = CaseRow {
            case: CaseRecord {
                id: CaseId(uuid::Uuid::nil()),
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
                stage: Stage::Intake,
                created_at: OffsetDateTime::UNIX_EPOCH,
                updated_at: OffsetDateTime::UNIX_EPOCH,
                version: 1,
            },
            assignee: None,
            assignee_name: None,
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
            has_nexus_finding: false,
            has_assessment: false,
            first_step_notices: 0,
            second_step_notices: 0,
            unresolved_objection: false,
            stage_since: None,
            rule_reason: None,
            response_complete_on: None,
            emergency_deviation: false,
            initial_signed_on: None,
            final_signed_on: None,
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
