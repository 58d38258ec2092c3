//! Specific authorizations' types and rules, with no I/O: the application's (c)(1)–(8)
//! content and what of it is missing, its statuses and the moves between them, the
//! decision's factors and content hash, a grant's conditions, and the office's clock.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::choice::Choice;
use crate::ids::{ApplicationId, DecisionId, PartyId, UserId};
use crate::mitigation::model::MeasureStatus;

crate::rule_items! {
    /// One item of an application's content, as 791.307(c) lists them.
    item Item as AuthorizationItem;
    /// An application's (c)(1)–(8) content: each item's text, empty until given.
    contents Contents as ApplicationContents;
    /// (c)(1) The parties to the transaction and their ultimate owners.
    PartiesAndOwners => parties_and_owners: "The parties to the transaction and their ultimate owners";
    /// (c)(2) The PRC- or Russia-linked hardware or software, and who designs, makes or
    /// assembles it.
    ForeignItems => foreign_items:
        "The PRC- or Russia-linked hardware or software, and who designs, makes or assembles it";
    /// (c)(3) The makes, models and trims (or part numbers) concerned.
    Vehicles => vehicles: "The makes, models and trims (or part numbers) concerned";
    /// (c)(4) What the hardware or software does in the vehicle.
    VcsFunction => vcs_function: "What the hardware or software does in the vehicle";
    /// (c)(5) Supporting analyses, e.g. an ISO/SAE 21434 threat analysis and risk
    /// assessment.
    Analyses => analyses: "Supporting analyses (e.g. an ISO/SAE 21434 threat analysis and risk assessment)";
    /// (c)(6) The applicant's ability to cut off PRC or Russia access.
    AccessCutoff => access_cutoff: "The applicant's ability to cut off PRC or Russia access";
    /// (c)(7) The security standards applied.
    SecurityStandards => security_standards: "The security standards applied";
    /// (c)(8) The mitigation proposed.
    ProposedMitigation => proposed_mitigation: "The mitigation proposed";
}

impl Contents {
    /// The items not given, in the rule's order: what a completeness check returns.
    pub fn missing(&self) -> Vec<Item> {
        Item::ALL.into_iter().filter(|i| self.get(*i).trim().is_empty()).collect()
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Filed, not yet checked for completeness.
    Received,
    /// Returned: the check found items missing (the applicant may add them).
    Incomplete,
    /// Complete, under review: the clock runs.
    UnderReview,
    /// Questions to the applicant are open: the clock is paused.
    QuestionsAsked,
    /// Granted (with its conditions), signed.
    Granted,
    /// Denied with reasons, signed.
    Denied,
    /// A condition of the grant was breached: under review again.
    Reopened,
    /// Withdrawn by the applicant.
    Withdrawn,
}

impl ApplicationStatus {
    /// Every status, in the order an application goes through them.
    pub const ALL: [ApplicationStatus; 8] = [
        ApplicationStatus::Received,
        ApplicationStatus::Incomplete,
        ApplicationStatus::UnderReview,
        ApplicationStatus::QuestionsAsked,
        ApplicationStatus::Granted,
        ApplicationStatus::Denied,
        ApplicationStatus::Reopened,
        ApplicationStatus::Withdrawn,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Received => "received",
            ApplicationStatus::Incomplete => "incomplete",
            ApplicationStatus::UnderReview => "under_review",
            ApplicationStatus::QuestionsAsked => "questions_asked",
            ApplicationStatus::Granted => "granted",
            ApplicationStatus::Denied => "denied",
            ApplicationStatus::Reopened => "reopened",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    /// As the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            ApplicationStatus::Received => "Received",
            ApplicationStatus::Incomplete => "Returned incomplete",
            ApplicationStatus::UnderReview => "Under review",
            ApplicationStatus::QuestionsAsked => "Questions asked",
            ApplicationStatus::Granted => "Granted",
            ApplicationStatus::Denied => "Denied",
            ApplicationStatus::Reopened => "Reopened (condition breached)",
            ApplicationStatus::Withdrawn => "Withdrawn",
        }
    }

    /// Whether the office is reviewing it (complete, not decided): questions may be asked,
    /// briefings held and a decision drafted.
    pub fn in_review(self) -> bool {
        matches!(self, ApplicationStatus::UnderReview | ApplicationStatus::QuestionsAsked | ApplicationStatus::Reopened)
    }

    /// Whether a decision may be drafted and signed now: complete, in review, with no
    /// question open.
    pub fn decidable(self) -> bool {
        matches!(self, ApplicationStatus::UnderReview | ApplicationStatus::Reopened)
    }

    /// Whether the applicant may still add material (until the decision).
    pub fn takes_material(self) -> bool {
        !matches!(self, ApplicationStatus::Granted | ApplicationStatus::Denied | ApplicationStatus::Withdrawn)
    }

    /// Whether the completeness check is the next step.
    pub fn awaits_check(self) -> bool {
        matches!(self, ApplicationStatus::Received | ApplicationStatus::Incomplete)
    }
}

/// An act of an application, as its history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[schema(as = ApplicationActKind)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ActKind {
    Filed,
    ReturnedIncomplete,
    FoundComplete,
    MaterialAdded,
    QuestionAsked,
    QuestionAnswered,
    BriefingHeld,
    DecisionDrafted,
    DecisionSigned,
    ConditionImplemented,
    ConditionVerified,
    ConditionBreached,
    Withdrawn,
}

impl ActKind {
    /// As the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            ActKind::Filed => "Filed",
            ActKind::ReturnedIncomplete => "Returned incomplete",
            ActKind::FoundComplete => "Found complete",
            ActKind::MaterialAdded => "Material added",
            ActKind::QuestionAsked => "Question asked",
            ActKind::QuestionAnswered => "Question answered",
            ActKind::BriefingHeld => "Briefing held",
            ActKind::DecisionDrafted => "Decision drafted",
            ActKind::DecisionSigned => "Decision signed",
            ActKind::ConditionImplemented => "Condition implemented",
            ActKind::ConditionVerified => "Condition verified",
            ActKind::ConditionBreached => "Condition breached",
            ActKind::Withdrawn => "Withdrawn",
        }
    }
}

/// An application, with its applicant's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Application {
    pub id: ApplicationId,
    /// `SA-2026-0001`.
    pub number: String,
    pub applicant_id: PartyId,
    pub applicant_name: String,
    /// The transaction for which authorization is sought.
    pub summary: String,
    /// The (c)(1)–(8) content.
    pub contents: Contents,
    pub filed_on: Date,
    pub status: ApplicationStatus,
    /// The date it was found complete: the clock's start.
    pub complete_on: Option<Date>,
    /// Days the clock was paused by questions since answered.
    pub paused_days: i64,
    /// While questions are open: the day the clock paused.
    pub paused_since: Option<Date>,
    pub last_act_on: Date,
    /// For a guarded change; a stale one gets 409.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// An act of an application's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationAct)]
pub struct ActRow {
    pub seq: i64,
    pub kind: ActKind,
    pub effective_on: Date,
    /// The (c) items concerned: missing (a return) or supplemented (material added).
    pub items: Vec<String>,
    pub note: String,
    /// An answer: the question's `seq`.
    pub answers: Option<i64>,
    /// A condition's act: the condition's `seq`.
    pub condition_seq: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub recorded_by: String,
}

/// A question to the applicant, with its answer when given.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationQuestion)]
pub struct Question {
    pub seq: i64,
    pub asked_on: Date,
    pub question: String,
    pub answered_on: Option<Date>,
    pub answer: Option<String>,
}

/// The questions of an application's history, each with its answer.
pub fn questions(acts: &[ActRow]) -> Vec<Question> {
    acts.iter()
        .filter(|a| a.kind == ActKind::QuestionAsked)
        .map(|q| {
            let a = acts.iter().find(|a| a.answers == Some(q.seq));
            Question {
                seq: q.seq,
                asked_on: q.effective_on,
                question: q.note.clone(),
                answered_on: a.map(|a| a.effective_on),
                answer: a.map(|a| a.note.clone()),
            }
        })
        .collect()
}

/// A decision's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[schema(as = DecisionOutcome)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Granted, with its conditions.
    Granted,
    /// Denied, with reasons.
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Granted => "granted",
            Outcome::Denied => "denied",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Granted => "Granted with conditions",
            Outcome::Denied => "Denied",
        }
    }

    /// The application's status once a decision with this outcome is signed.
    pub fn status(self) -> ApplicationStatus {
        match self {
            Outcome::Granted => ApplicationStatus::Granted,
            Outcome::Denied => ApplicationStatus::Denied,
        }
    }
}

/// A factor the assessment weighs, each answered from the application's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AuthorizationFactor)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// Who in the PRC or Russia designs, supplies or can reach the hardware or software.
    Threat,
    /// What it can reach in the vehicle and its data, and how.
    Vulnerability,
    /// What its misuse would do: to safety, to data, to the fleet.
    Consequence,
    /// Whether the applicant can cut off the PRC or Russia's access, and the standards and
    /// mitigation that would hold the risk.
    Mitigation,
}

impl Factor {
    pub const ALL: [Factor; 4] = [Factor::Threat, Factor::Vulnerability, Factor::Consequence, Factor::Mitigation];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Threat => "threat",
            Factor::Vulnerability => "vulnerability",
            Factor::Consequence => "consequence",
            Factor::Mitigation => "mitigation",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Factor::Threat => "Threat: who in the PRC or Russia designs, supplies or can reach it ((c)(1), (c)(2))",
            Factor::Vulnerability => "Vulnerability: what it can reach in the vehicle and its data ((c)(3)–(c)(5))",
            Factor::Consequence => "Consequence: what its misuse would do to safety, data and the fleet",
            Factor::Mitigation => {
                "Mitigation: cutting off access, the standards applied and the mitigation proposed ((c)(6)–(c)(8))"
            }
        }
    }
}

/// The assessment, factor by factor (each factor's name to its finding).
pub type Assessment = std::collections::BTreeMap<String, String>;

/// A condition drafted with a grant.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = NewAuthorizationCondition)]
#[serde(deny_unknown_fields)]
pub struct NewCondition {
    /// What the applicant must do or keep.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub description: String,
    /// Who keeps it (a party or person).
    #[schema(value_type = crate::text::Text<{ crate::text::PERSON }>, inline)]
    pub owner: String,
    /// By when (`YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub due_on: Option<String>,
    /// The third-party assessor it names (791.315), a party of the registry that is not
    /// owned, controlled or directed by the PRC or Russia.
    #[serde(default)]
    pub assessor_id: Option<PartyId>,
}

/// A decision drafted (or redrafted) for signature.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = NewAuthorizationDecision)]
#[serde(deny_unknown_fields)]
pub struct NewDecision {
    #[schema(value_type = Outcome)]
    pub outcome: Choice<Outcome>,
    /// Why: a grant's basis, a denial's reasons.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub reasons: String,
    /// The assessment: one finding per factor (`threat`, `vulnerability`, `consequence`,
    /// `mitigation`), each required.
    #[schema(value_type = std::collections::BTreeMap<String, crate::text::Text<{ crate::text::TEXT }>>)]
    pub assessment: Assessment,
    /// A grant's conditions (at least one); none for a denial.
    #[serde(default)]
    pub conditions: Vec<NewCondition>,
    /// The application's version the draft was made from; a stale one gets 409.
    pub version: i64,
}

/// A grant's condition, as kept.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AuthorizationCondition)]
pub struct Condition {
    pub seq: i64,
    pub description: String,
    pub owner: String,
    pub due_on: Option<Date>,
    pub assessor_id: Option<PartyId>,
    pub assessor_name: Option<String>,
    pub status: MeasureStatus,
    /// The evidence of the last check.
    pub evidence: String,
    pub checked_on: Option<Date>,
}

/// A decision, drafted or signed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AuthorizationDecision)]
pub struct Decision {
    pub id: DecisionId,
    pub outcome: Outcome,
    pub reasons: String,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub assessment: Assessment,
    pub revision: i64,
    pub drafted_by: UserId,
    pub drafted_by_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub drafted_at: OffsetDateTime,
    pub signed_by_name: Option<String>,
    pub signed_on: Option<Date>,
    /// The hash the signature covers (hex), once signed.
    pub content_sha256: Option<String>,
    pub conditions: Vec<Condition>,
}

impl Decision {
    /// The assessment's findings in the factors' order, each with its factor's label.
    pub fn findings(&self) -> Vec<(&'static str, String)> {
        Factor::ALL
            .into_iter()
            .filter_map(|f| self.assessment.get(f.as_str()).map(|t| (f.label(), t.clone())))
            .collect()
    }

    /// Whether it is signed.
    pub fn is_signed(&self) -> bool {
        self.content_sha256.is_some()
    }
}

/// The content a signature covers: the application, the outcome, the reasons, the
/// assessment and the conditions as drafted, in canonical JSON.
pub fn content_hash(a: &Application, d: &Decision) -> [u8; 32] {
    use sha2::Digest;
    let conditions: Vec<serde_json::Value> = d
        .conditions
        .iter()
        .map(|c| {
            serde_json::json!({"seq": c.seq, "description": c.description, "owner": c.owner,
                "due_on": c.due_on, "assessor": c.assessor_id})
        })
        .collect();
    let v = serde_json::json!({
        "application": a.id, "number": a.number, "applicant": a.applicant_id, "decision": d.id,
        "outcome": d.outcome, "reasons": d.reasons, "assessment": d.assessment, "revision": d.revision,
        "conditions": conditions, "drafted_by": d.drafted_by,
    });
    sha2::Sha256::digest(crate::canonical::json(&v).as_bytes()).into()
}

/// A condition's check: the status it moves to and the evidence.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = AuthorizationConditionCheck)]
#[serde(deny_unknown_fields)]
pub struct ConditionCheck {
    /// `implemented`, `verified` or `breached` (a breach reopens the application).
    #[schema(value_type = MeasureStatus)]
    pub status: Choice<MeasureStatus>,
    /// What shows it: the report, the inspection, the assessor's finding.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub evidence: String,
    /// When it was found (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub checked_on: Option<String>,
    /// The application's version; a stale one gets 409.
    pub version: i64,
}

/// The office's clock on a complete application: its target in days from the date found
/// complete, paused while questions are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationClock)]
pub struct Clock {
    pub started_on: Date,
    pub target_days: i64,
    /// Days paused by questions, the open ones counted to today.
    pub paused_days: i64,
    pub paused: bool,
    /// The target date, moved by the days paused.
    pub due_on: Date,
    /// Days left to the target date (negative once past).
    pub days_left: i64,
}

/// The clock of application `a` on `today`, given the office's target in days; `None`
/// before it is found complete, and once it is decided or withdrawn.
pub fn clock(a: &Application, target_days: i64, today: Date) -> Option<Clock> {
    let started_on = a.complete_on?;
    if !a.status.in_review() {
        return None;
    }
    let open = a.paused_since.map(|since| (today - since).whole_days().max(0)).unwrap_or(0);
    let paused_days = a.paused_days + open;
    let due_on = started_on + time::Duration::days(target_days + paused_days);
    Some(Clock {
        started_on,
        target_days,
        paused_days,
        paused: a.paused_since.is_some(),
        due_on,
        days_left: (due_on - today).whole_days(),
    })
}

/// The office's target in days in force on `day`, from its targets (each with the day it
/// took effect, earliest first); 90 days before the first.
pub fn target_on(targets: &[(Date, i64)], day: Date) -> i64 {
    targets.iter().rev().find(|(from, _)| *from <= day).map_or(90, |(_, days)| *days)
}

/// An application as the list shows it: with its clock (none before it is found complete,
/// and once decided or withdrawn).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ListedApplication)]
pub struct Listed {
    pub application: Application,
    pub clock: Option<Clock>,
}

/// The work of applications for a home page.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AuthorizationWork {
    /// Received and not yet checked for completeness.
    pub to_check: i64,
    /// In review (their clock running or paused).
    pub in_review: i64,
    /// In review past the office's target date.
    pub past_target: i64,
    /// Drafted decisions awaiting a second supervisor's signature.
    pub to_sign: i64,
    /// Conditions in force whose date has passed without verification.
    pub conditions_due: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn app(status: ApplicationStatus) -> Application {
        Application {
            id: ApplicationId::new(),
            number: "SA-2026-0001".into(),
            applicant_id: PartyId(uuid::Uuid::nil()),
            applicant_name: "Voltra".into(),
            summary: "Telematics units".into(),
            contents: Contents::default(),
            filed_on: date!(2026 - 01 - 05),
            status,
            complete_on: Some(date!(2026 - 01 - 10)),
            paused_days: 0,
            paused_since: None,
            last_act_on: date!(2026 - 01 - 10),
            version: 1,
            received_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn what_is_missing_is_named_in_the_rules_order() {
        let c = Contents { vehicles: "Voltra LX".into(), analyses: "  ".into(), ..Contents::default() };
        let missing: Vec<String> = c.missing().into_iter().map(Item::cite).collect();
        assert_eq!(missing, ["(c)(1)", "(c)(2)", "(c)(4)", "(c)(5)", "(c)(6)", "(c)(7)", "(c)(8)"]);
        assert_eq!(Item::Vehicles.named(), "(c)(3) the makes, models and trims (or part numbers) concerned");
    }

    #[test]
    fn added_material_supplements_and_never_erases() {
        let c = Contents { vehicles: "Voltra LX".into(), ..Contents::default() };
        let added = Contents { vehicles: "Voltra Touring".into(), analyses: "TARA".into(), ..Contents::default() };
        let (out, touched) = c.supplemented(&added);
        assert_eq!(out.vehicles, "Voltra LX\n\nVoltra Touring");
        assert_eq!(out.analyses, "TARA");
        assert_eq!(touched, [Item::Vehicles, Item::Analyses]);
        assert_eq!(c.supplemented(&Contents::default()).1, []);
    }

    #[test]
    fn the_clock_pauses_while_questions_are_open() {
        let mut a = app(ApplicationStatus::UnderReview);
        let c = clock(&a, 90, date!(2026 - 02 - 01)).unwrap();
        assert_eq!((c.due_on, c.days_left, c.paused), (date!(2026 - 04 - 10), 68, false));
        // Paused ten days by a question since answered, then open again for five.
        a.paused_days = 10;
        a.status = ApplicationStatus::QuestionsAsked;
        a.paused_since = Some(date!(2026 - 03 - 01));
        let c = clock(&a, 90, date!(2026 - 03 - 06)).unwrap();
        assert_eq!((c.paused_days, c.due_on, c.paused), (15, date!(2026 - 04 - 25), true));
        // Decided: no clock.
        assert!(clock(&app(ApplicationStatus::Granted), 90, date!(2026 - 02 - 01)).is_none());
        // Not yet complete: no clock.
        let mut r = app(ApplicationStatus::Received);
        r.complete_on = None;
        assert!(clock(&r, 90, date!(2026 - 02 - 01)).is_none());
    }

    #[test]
    fn only_a_complete_application_in_review_is_decided() {
        use ApplicationStatus::*;
        let decidable: Vec<_> = ApplicationStatus::ALL.into_iter().filter(|s| s.decidable()).collect();
        assert_eq!(decidable, [UnderReview, Reopened]);
        assert!(!Granted.takes_material() && QuestionsAsked.takes_material() && Incomplete.takes_material());
    }
}
