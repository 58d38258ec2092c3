//! The review workflow of 15 CFR 791 Subpart B as a pure state machine: stages, the
//! actions that move a case between them, who may take each, and what must be true first.
//! No I/O: the caller gathers the facts ([`Facts`]) and applies the result.
//!
//! Other features add their preconditions through [`Facts`]: a nexus finding and a current
//! risk assessment before the initial determination, agency notices for the interagency
//! steps, and signed determination documents (`crate::determinations`) before service and
//! issue. Signing, amending and revoking are not actions here: they are determinations a
//! supervisor signs.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::access::Role;
use crate::access::policy;

/// Where a case is in the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "case_stage", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Filed, awaiting a supervisor's disposition.
    Intake,
    /// The supervisor asked the referrer for more information before deciding.
    AwaitingInformation,
    /// Not accepted for review (resting).
    Rejected,
    /// Accepted: covered? nexus? undue risk?
    InitialReview,
    /// Closed without action; can be reopened.
    ClosedNoAction,
    /// Appropriate agencies notified; their comments recorded.
    FirstInteragency,
    /// Initial determination drafted and signed.
    InitialDetermination,
    /// Served; the parties have 30 days to respond and propose mitigation.
    ResponsePeriod,
    /// Proposed final determination circulated for concurrence.
    SecondInteragency,
    /// Final determination drafted and signed.
    FinalDetermination,
    /// Final determination issued: prohibited or not prohibited.
    Decided,
    /// Permitted with mitigation: compliance is monitored.
    Monitoring,
    /// A mitigation measure was breached: the determination is under review again.
    ComplianceReview,
    /// Done.
    Closed,
}

impl Stage {
    /// Every stage, in workflow order.
    pub const ALL: [Stage; 14] = [
        Stage::Intake,
        Stage::AwaitingInformation,
        Stage::Rejected,
        Stage::InitialReview,
        Stage::ClosedNoAction,
        Stage::FirstInteragency,
        Stage::InitialDetermination,
        Stage::ResponsePeriod,
        Stage::SecondInteragency,
        Stage::FinalDetermination,
        Stage::Decided,
        Stage::Monitoring,
        Stage::ComplianceReview,
        Stage::Closed,
    ];

    /// Stored / API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::AwaitingInformation => "awaiting_information",
            Stage::Rejected => "rejected",
            Stage::InitialReview => "initial_review",
            Stage::ClosedNoAction => "closed_no_action",
            Stage::FirstInteragency => "first_interagency",
            Stage::InitialDetermination => "initial_determination",
            Stage::ResponsePeriod => "response_period",
            Stage::SecondInteragency => "second_interagency",
            Stage::FinalDetermination => "final_determination",
            Stage::Decided => "decided",
            Stage::Monitoring => "monitoring",
            Stage::ComplianceReview => "compliance_review",
            Stage::Closed => "closed",
        }
    }

    /// Parses a stored / API name.
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Label for people.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Intake => "Intake",
            Stage::AwaitingInformation => "Awaiting information",
            Stage::Rejected => "Rejected",
            Stage::InitialReview => "Initial review",
            Stage::ClosedNoAction => "Closed without action",
            Stage::FirstInteragency => "First interagency step",
            Stage::InitialDetermination => "Initial determination",
            Stage::ResponsePeriod => "Response period",
            Stage::SecondInteragency => "Second interagency step",
            Stage::FinalDetermination => "Final determination",
            Stage::Decided => "Decided",
            Stage::Monitoring => "Monitoring mitigation",
            Stage::ComplianceReview => "Compliance review (breach)",
            Stage::Closed => "Closed",
        }
    }

    /// Whether the review is still running (its clocks matter).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            Stage::Rejected
                | Stage::ClosedNoAction
                | Stage::Decided
                | Stage::Monitoring
                | Stage::ComplianceReview
                | Stage::Closed
        )
    }

    /// Whether a final determination was issued (amendments and revocations apply).
    pub fn is_decided(self) -> bool {
        matches!(self, Stage::Decided | Stage::Monitoring | Stage::ComplianceReview | Stage::Closed)
    }
}

/// The three outcomes of a final determination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "case_decision", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The transaction is prohibited.
    Prohibited,
    /// The transaction is not prohibited.
    NotProhibited,
    /// Permitted with negotiated mitigation.
    PermittedWithMitigation,
}

impl Decision {
    /// Stored / API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Prohibited => "prohibited",
            Decision::NotProhibited => "not_prohibited",
            Decision::PermittedWithMitigation => "permitted_with_mitigation",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Prohibited, Decision::NotProhibited, Decision::PermittedWithMitigation]
            .into_iter()
            .find(|d| d.as_str() == s)
    }

    /// Label for people.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Prohibited => "Prohibited",
            Decision::NotProhibited => "Not prohibited",
            Decision::PermittedWithMitigation => "Permitted with mitigation",
        }
    }
}

/// What can be done to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Supervisor accepts the referral for review (starts the `ifr-2021` clock).
    Accept,
    /// Supervisor asks for more information before deciding.
    RequestInformation,
    /// The requested information arrived; back to disposition.
    InformationReceived,
    /// Supervisor rejects the referral (reason required).
    Reject,
    /// Supervisor closes the review without action (reason required).
    CloseWithoutAction,
    /// Supervisor reopens a review closed without action (reason required).
    Reopen,
    /// The appropriate agencies were notified (first interagency step).
    NotifyAgencies,
    /// Start drafting the initial determination (needs the three questions answered).
    BeginInitialDetermination,
    /// The signed initial determination was served on the parties (starts the 30-day
    /// response window, and the final clock under `final-2025`).
    ServeInitialDetermination,
    /// Circulate the proposed final determination (second interagency step).
    CirculateFinalDetermination,
    /// No response by the deadline: go straight to the final determination.
    ProceedWithoutResponse,
    /// Start the final determination (after concurrence or its presumption).
    BeginFinalDetermination,
    /// Issue the signed final determination.
    IssueFinalDetermination,
    /// Supervisor ends a compliance review without changing the determination (the
    /// breach was cured): monitoring resumes.
    ResumeMonitoring,
    /// Supervisor closes a decided or monitored case.
    Close,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 15] = [
        Action::Accept,
        Action::RequestInformation,
        Action::InformationReceived,
        Action::Reject,
        Action::CloseWithoutAction,
        Action::Reopen,
        Action::NotifyAgencies,
        Action::BeginInitialDetermination,
        Action::ServeInitialDetermination,
        Action::CirculateFinalDetermination,
        Action::ProceedWithoutResponse,
        Action::BeginFinalDetermination,
        Action::IssueFinalDetermination,
        Action::ResumeMonitoring,
        Action::Close,
    ];

    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::RequestInformation => "request_information",
            Action::InformationReceived => "information_received",
            Action::Reject => "reject",
            Action::CloseWithoutAction => "close_without_action",
            Action::Reopen => "reopen",
            Action::NotifyAgencies => "notify_agencies",
            Action::BeginInitialDetermination => "begin_initial_determination",
            Action::ServeInitialDetermination => "serve_initial_determination",
            Action::CirculateFinalDetermination => "circulate_final_determination",
            Action::ProceedWithoutResponse => "proceed_without_response",
            Action::BeginFinalDetermination => "begin_final_determination",
            Action::IssueFinalDetermination => "issue_final_determination",
            Action::ResumeMonitoring => "resume_monitoring",
            Action::Close => "close",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Label for buttons.
    pub fn label(self) -> &'static str {
        match self {
            Action::Accept => "Accept for review",
            Action::RequestInformation => "Request more information",
            Action::InformationReceived => "Information received",
            Action::Reject => "Reject",
            Action::CloseWithoutAction => "Close without action",
            Action::Reopen => "Reopen",
            Action::NotifyAgencies => "Agencies notified",
            Action::BeginInitialDetermination => "Begin initial determination",
            Action::ServeInitialDetermination => "Record service of initial determination",
            Action::CirculateFinalDetermination => "Circulate proposed final determination",
            Action::ProceedWithoutResponse => "Proceed without response",
            Action::BeginFinalDetermination => "Begin final determination",
            Action::IssueFinalDetermination => "Issue final determination",
            Action::ResumeMonitoring => "Resume monitoring (breach cured)",
            Action::Close => "Close case",
        }
    }

    /// Whether a written comment (reason, question, justification) is required.
    pub fn needs_comment(self) -> bool {
        matches!(
            self,
            Action::RequestInformation
                | Action::Reject
                | Action::CloseWithoutAction
                | Action::Reopen
                | Action::ResumeMonitoring
        )
    }

    /// What taking the action sets in motion, for the step that asks to confirm it; `None`
    /// for the actions that are taken without one (each can be followed by the next act).
    pub fn consequence(self) -> Option<&'static str> {
        match self {
            Action::Accept => Some(
                "The referral is accepted for review: the case moves to initial review and the review's clocks start from the date of the act. This cannot be undone.",
            ),
            Action::Reject => Some(
                "The referral is rejected: the case ends here and the referring agency's request is answered with your reason. This cannot be undone.",
            ),
            Action::CloseWithoutAction => Some(
                "The review is closed without action: its clocks stop. Only a supervisor can reopen it, with a written reason.",
            ),
            Action::ServeInitialDetermination => Some(
                "The signed initial determination is recorded as served on the parties: their 30-day response window runs from the date of service. This cannot be undone.",
            ),
            Action::IssueFinalDetermination => Some(
                "The signed final determination is issued: the case is decided. This cannot be undone: a change after this is an amendment or a revocation.",
            ),
            Action::Close => Some("The case is closed: no further act is recorded on it. This cannot be undone."),
            _ => None,
        }
    }

    /// Whether the action asks how it was done (service of the initial determination).
    pub fn needs_method(self) -> bool {
        matches!(self, Action::ServeInitialDetermination)
    }

    /// The roles that may take the action (the assignee rule is in [`check`]).
    pub fn roles(self) -> &'static [Role] {
        use Action::*;
        match self {
            Accept | RequestInformation | Reject | CloseWithoutAction | Reopen | ResumeMonitoring | Close => {
                &[Role::Supervisor]
            }
            InformationReceived
            | NotifyAgencies
            | BeginInitialDetermination
            | ServeInitialDetermination
            | CirculateFinalDetermination
            | ProceedWithoutResponse
            | BeginFinalDetermination
            | IssueFinalDetermination => &[Role::Analyst, Role::Supervisor],
        }
    }

    /// The stages it may be taken from and the stage it leads to.
    pub fn edge(self) -> (&'static [Stage], Option<Stage>) {
        use Action::*;
        use Stage::*;
        match self {
            Accept => (&[Intake], Some(InitialReview)),
            RequestInformation => (&[Intake], Some(AwaitingInformation)),
            InformationReceived => (&[AwaitingInformation], Some(Intake)),
            Reject => (&[Intake, AwaitingInformation], Some(Rejected)),
            CloseWithoutAction => (&[InitialReview, FirstInteragency], Some(ClosedNoAction)),
            Reopen => (&[ClosedNoAction], Some(InitialReview)),
            NotifyAgencies => (&[InitialReview], Some(FirstInteragency)),
            BeginInitialDetermination => (&[FirstInteragency], Some(InitialDetermination)),
            ServeInitialDetermination => (&[InitialDetermination], Some(ResponsePeriod)),
            CirculateFinalDetermination => (&[ResponsePeriod], Some(SecondInteragency)),
            ProceedWithoutResponse => (&[ResponsePeriod], Some(FinalDetermination)),
            BeginFinalDetermination => (&[SecondInteragency], Some(FinalDetermination)),
            // The decision picks the stage (Decided or Monitoring): see `check`.
            IssueFinalDetermination => (&[FinalDetermination], None),
            ResumeMonitoring => (&[ComplianceReview], Some(Monitoring)),
            Close => (&[Decided, Monitoring, ComplianceReview], Some(Closed)),
        }
    }
}

/// An answer to one of the three questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "question_answer", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
}

/// Which rule's clocks govern a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum RuleVersion {
    /// Interim final rule, 2021: 180 days from acceptance.
    #[serde(rename = "ifr-2021")]
    Ifr2021,
    /// Final rule, effective 4 Feb 2025: 21-day agency notice, 14-day presumed
    /// concurrence, 180 days from service of the initial determination.
    #[serde(rename = "final-2025")]
    Final2025,
}

impl RuleVersion {
    /// Stored / API code.
    pub fn code(self) -> &'static str {
        match self {
            RuleVersion::Ifr2021 => "ifr-2021",
            RuleVersion::Final2025 => "final-2025",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<RuleVersion> {
        match s {
            "ifr-2021" => Some(RuleVersion::Ifr2021),
            "final-2025" => Some(RuleVersion::Final2025),
            _ => None,
        }
    }

    /// The lowest level of official whose objection holds the second interagency step, or
    /// `None` when every objection does (the interim rule seeks consensus, 7.108; the final
    /// rule counts an objection only when the agency's Deputy Secretary or equivalent or
    /// higher submits it, 791.108(c), 89 FR 96896). Migration 0041 keeps
    /// `ref_rule_versions.objection_level` the same (a test checks that they agree).
    pub fn objection_level(self) -> Option<&'static str> {
        match self {
            RuleVersion::Ifr2021 => None,
            RuleVersion::Final2025 => Some("deputy_secretary"),
        }
    }

    /// Whether an objection dated `responded_on` was submitted in time to hold the step
    /// under this rule: under the final rule within the 14 days after the proposed final
    /// determination was circulated on `circulated_on` (791.108(c)); under the interim rule
    /// whenever it came. An objection with either date unknown counts.
    pub fn objection_in_time(self, responded_on: Option<Date>, circulated_on: Option<Date>) -> bool {
        match (self, responded_on, circulated_on) {
            (RuleVersion::Final2025, Some(r), Some(c)) => {
                r <= c + time::Duration::days(crate::cases::clocks::PRESUMED_CONCURRENCE_DAYS)
            }
            _ => true,
        }
    }

    /// Whether an objection raised at `level` (a code of [`OFFICIAL_LEVELS`]) holds the
    /// second interagency step under this rule. A level that is not one of the codes
    /// (entered as free text before the levels were fixed) holds it.
    pub fn objection_holds(self, level: Option<&str>) -> bool {
        match (self.objection_level(), level.and_then(level_rank)) {
            (Some(needed), Some(rank)) => rank >= level_rank(needed).expect("a known level"),
            _ => true,
        }
    }

    /// The rule in force on `date` (the final rule took effect on 4 February 2025).
    pub fn in_force_on(date: Date) -> RuleVersion {
        if date >= time::macros::date!(2025 - 02 - 04) { RuleVersion::Final2025 } else { RuleVersion::Ifr2021 }
    }
}

/// The levels of the officials who answer an agency notice, highest first: code, name,
/// rank (the rows of `ref_official_levels`; a test checks that they agree).
pub const OFFICIAL_LEVELS: [(&str, &str, i64); 5] = [
    ("agency_head", "Head of the agency", 50),
    ("deputy_secretary", "Deputy Secretary or equivalent", 40),
    ("under_secretary", "Under Secretary or equivalent", 30),
    ("assistant_secretary", "Assistant Secretary or equivalent", 20),
    ("below_assistant_secretary", "Below Assistant Secretary", 10),
];

fn level_rank(code: &str) -> Option<i64> {
    OFFICIAL_LEVELS.iter().find(|l| l.0 == code).map(|l| l.2)
}

/// The level code an input names: the code itself, or the level's name ("Deputy
/// Secretary", "deputy secretary or equivalent").
pub fn parse_level(s: &str) -> Option<&'static str> {
    let norm = |v: &str| v.trim().to_lowercase().replace(" or equivalent", "").replace([' ', '-'], "_");
    let want = norm(s);
    OFFICIAL_LEVELS.iter().find(|l| l.0 == want || norm(l.1) == want).map(|l| l.0)
}

/// The name of a level code (the text itself when it is not one).
pub fn level_name(code: &str) -> &str {
    OFFICIAL_LEVELS.iter().find(|l| l.0 == code).map(|l| l.1).unwrap_or(code)
}

/// What the machine needs to know about a case beyond its stage.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Is the actor the case's assignee?
    pub actor_is_assignee: bool,
    /// The three questions: covered, nexus, undue risk.
    pub covered: Option<Answer>,
    /// Foreign-adversary nexus.
    pub nexus: Option<Answer>,
    /// Undue or unacceptable risk.
    pub undue_risk: Option<Answer>,
    /// Governing rule (set at acceptance).
    pub rule: Option<RuleVersion>,
    /// When the appropriate agencies were notified.
    pub agencies_notified_on: Option<Date>,
    /// Agency notices recorded for the first interagency step.
    pub first_step_notices: usize,
    /// Agency notices recorded for the second interagency step.
    pub second_step_notices: usize,
    /// An agency objected and the dispute is not yet resolved.
    pub unresolved_objection: bool,
    /// A signed initial determination exists.
    pub initial_signed: bool,
    /// A signed final determination exists, with its decision.
    pub final_decision: Option<Decision>,
    /// End of the parties' response window.
    pub response_due: Option<Date>,
    /// A written response was received.
    pub response_received: bool,
    /// When the proposed final determination was circulated.
    pub circulated_on: Option<Date>,
    /// Every notified agency concurred (or the dispute was resolved).
    pub all_concurred: bool,
    pub today: Option<Date>,
    /// The date of the act that brought the case to its current stage: the next act may not
    /// be dated before it (unknown for cases recorded before dates of acts were kept).
    pub stage_since: Option<Date>,
    /// When the initial determination was signed.
    pub initial_signed_on: Option<Date>,
    /// When the final determination was signed.
    pub final_signed_on: Option<Date>,
    /// The analyst recorded that every served party filed its written response.
    pub response_complete: bool,
    /// A supervisor recorded an emergency deviation from the procedure (7.100(e) /
    /// 791.100(e)).
    pub emergency_deviation: bool,
    /// Seam for the risk issue: a nexus finding with its evidence is recorded.
    pub nexus_finding_recorded: Option<bool>,
    /// Seam for the risk issue: a current risk assessment exists.
    pub assessment_recorded: Option<bool>,
}

/// Inputs an action may carry.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Reason, question or justification.
    pub comment: Option<String>,
    /// The date the act took effect (today when absent).
    pub date: Option<Date>,
    /// How the initial determination was served.
    pub method: Option<ServiceMethod>,
    /// Why an act is recorded more than [`LATE_AFTER_DAYS`](crate::dates::LATE_AFTER_DAYS) days
    /// after its date.
    pub late_reason: Option<String>,
}

/// Why the parties' response window still holds the proposed final determination back on
/// `on` (7.107 / 791.107), or `None`: the window has closed, every served party answered
/// and the analyst marked the response complete, or an emergency deviation was recorded.
pub fn response_window_holds(facts: &Facts, on: Date) -> Option<String> {
    if facts.response_complete || facts.emergency_deviation {
        return None;
    }
    match facts.response_due {
        Some(due) if on <= due => Some(format!(
            "the parties' 30-day response window is open until {due} (7.107 / 791.107): this can be dated from {}, once every served party has answered and the response is marked complete, or after a supervisor records an emergency deviation",
            due + time::Duration::days(1)
        )),
        _ => None,
    }
}

/// The ways a determination is served on the parties (7.105(b) / 791.105(b)), sent and
/// stored by their lower-case names. Not read from the database as the type: a service
/// recorded before the rule's methods were kept names one of
/// [`EARLIER_SERVICE_METHODS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMethod {
    /// Registered mail.
    RegisteredMail,
    /// Facsimile.
    Facsimile,
    /// Electronic transmission.
    ElectronicTransmission,
    /// A third-party commercial carrier.
    CommercialCarrier,
    /// Personal delivery.
    PersonalDelivery,
    /// Publication in the Federal Register.
    FederalRegister,
}

impl ServiceMethod {
    /// Every method, in the rule's order.
    pub const ALL: [ServiceMethod; 6] = [
        ServiceMethod::RegisteredMail,
        ServiceMethod::Facsimile,
        ServiceMethod::ElectronicTransmission,
        ServiceMethod::CommercialCarrier,
        ServiceMethod::PersonalDelivery,
        ServiceMethod::FederalRegister,
    ];

    /// The name sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMethod::RegisteredMail => "registered_mail",
            ServiceMethod::Facsimile => "facsimile",
            ServiceMethod::ElectronicTransmission => "electronic_transmission",
            ServiceMethod::CommercialCarrier => "commercial_carrier",
            ServiceMethod::PersonalDelivery => "personal_delivery",
            ServiceMethod::FederalRegister => "federal_register",
        }
    }

    /// How it reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            ServiceMethod::RegisteredMail => "Registered mail",
            ServiceMethod::Facsimile => "Facsimile",
            ServiceMethod::ElectronicTransmission => "Electronic transmission",
            ServiceMethod::CommercialCarrier => "Third-party commercial carrier",
            ServiceMethod::PersonalDelivery => "Personal delivery",
            ServiceMethod::FederalRegister => "Publication in the Federal Register",
        }
    }

    /// The method named `s`, if any.
    pub fn parse(s: &str) -> Option<ServiceMethod> {
        ServiceMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// How a stored service's method reads: the rule's methods and the earlier ones.
    pub fn label_of(stored: &str) -> &'static str {
        ServiceMethod::parse(stored)
            .map(ServiceMethod::label)
            .or_else(|| EARLIER_SERVICE_METHODS.iter().find(|(code, _)| *code == stored).map(|(_, l)| *l))
            .unwrap_or("")
    }
}

/// The labels of service methods recorded before the rule's methods were kept.
pub const EARLIER_SERVICE_METHODS: [(&str, &str); 3] = [("mail", "Mail"), ("email", "Email"), ("courier", "Courier")];

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The actor's role may never take it (403).
    Role,
    /// Not possible in the case's current stage or state (409), with the reason.
    NotNow(String),
    /// An input is missing or invalid (422): field and message.
    Input(&'static str, String),
}

impl From<crate::dates::BadDate> for Refusal {
    fn from(b: crate::dates::BadDate) -> Self {
        Refusal::Input(b.field, b.why)
    }
}

/// Checks whether `role` may take `action` on a case in `stage` with `facts` and `input`,
/// and returns the stage it leads to.
pub fn check(stage: Stage, action: Action, role: Role, facts: &Facts, input: &Input) -> Result<Stage, Refusal> {
    if !action.roles().contains(&role) {
        return Err(Refusal::Role);
    }
    let (from, to) = action.edge();
    if !from.contains(&stage) {
        return Err(Refusal::NotNow(format!(
            "{} is not possible while the case is at {}",
            action.label(),
            stage.label()
        )));
    }
    // Analysts act on the cases assigned to them; supervisors on any.
    if policy::work_on(role, facts.actor_is_assignee) != policy::CaseWork::Allowed {
        return Err(Refusal::NotNow("only the assigned analyst or a supervisor may do this".into()));
    }
    if action.needs_comment() && input.comment.as_deref().map(str::trim).is_none_or(str::is_empty) {
        return Err(Refusal::Input("comment", "a written reason is required".into()));
    }
    let today = facts.today;
    let on = input.date.or(today);
    if let (Some(on), Some(t)) = (on, today) {
        let since = format!("the act that brought the case to {}", stage.label());
        crate::dates::check_act_date(
            "date",
            on,
            t,
            &[(since.as_str(), facts.stage_since)],
            input.late_reason.as_deref(),
        )?;
    }
    if let Some(on) = on
        && matches!(
            action,
            Action::CirculateFinalDetermination | Action::BeginFinalDetermination | Action::IssueFinalDetermination
        )
        && let Some(why) = response_window_holds(facts, on)
    {
        return Err(Refusal::NotNow(why));
    }
    match action {
        Action::NotifyAgencies if facts.first_step_notices == 0 => {
            return Err(Refusal::NotNow("record the notice sent to each appropriate agency first".into()));
        }
        Action::CirculateFinalDetermination if facts.second_step_notices == 0 => {
            return Err(Refusal::NotNow(
                "record the agencies the proposed final determination was circulated to first".into(),
            ));
        }
        Action::BeginInitialDetermination => {
            let answered = [facts.covered, facts.nexus, facts.undue_risk];
            if answered.iter().any(Option::is_none) {
                return Err(Refusal::NotNow(
                    "record an answer to all three questions (covered, nexus, undue risk) first".into(),
                ));
            }
            if answered.contains(&Some(Answer::No)) {
                return Err(Refusal::NotNow(
                    "a question was answered no: the criteria are not met, so close the review without action instead"
                        .into(),
                ));
            }
            if facts.nexus_finding_recorded == Some(false) {
                return Err(Refusal::NotNow("record the foreign-adversary nexus finding first".into()));
            }
            if facts.assessment_recorded == Some(false) {
                return Err(Refusal::NotNow("record a risk assessment first".into()));
            }
        }
        Action::ServeInitialDetermination => {
            if !facts.initial_signed {
                return Err(Refusal::NotNow(
                    "the initial determination must be signed by a supervisor before it is served".into(),
                ));
            }
            let Some(served) = on else {
                return Err(Refusal::Input("date", "give the date of service".into()));
            };
            if let Some(signed) = facts.initial_signed_on
                && served < signed
            {
                return Err(Refusal::Input(
                    "date",
                    format!(
                        "service on {served} cannot precede the signature of the initial determination on {signed}"
                    ),
                ));
            }
            if input.method.is_none() {
                return Err(Refusal::Input(
                    "method",
                    "choose registered_mail, facsimile, electronic_transmission, commercial_carrier, personal_delivery or federal_register".into(),
                ));
            }
            if today.is_some_and(|t| served > t) {
                return Err(Refusal::Input("date", "the date of service cannot be in the future".into()));
            }
            if facts.rule == Some(RuleVersion::Final2025) {
                let earliest = facts
                    .agencies_notified_on
                    .map(|d| d + time::Duration::days(crate::cases::clocks::AGENCY_NOTICE_DAYS));
                match earliest {
                    Some(e) if served >= e => {}
                    Some(e) => {
                        return Err(Refusal::NotNow(format!(
                            "under the 2025 rule the agencies get {} days' notice before service: serve on or after {e}",
                            crate::cases::clocks::AGENCY_NOTICE_DAYS
                        )));
                    }
                    None => return Err(Refusal::NotNow("record when the agencies were notified first".into())),
                }
            }
        }
        Action::ProceedWithoutResponse => {
            if facts.response_received {
                return Err(Refusal::NotNow(
                    "the parties responded: circulate the proposed final determination instead".into(),
                ));
            }
            match (facts.response_due, on) {
                (Some(due), Some(t)) if t > due => {}
                _ => return Err(Refusal::NotNow("the parties' 30-day response window has not ended".into())),
            }
        }
        Action::BeginFinalDetermination if facts.unresolved_objection => {
            return Err(Refusal::NotNow(
                "an agency objected: record the resolution of the dispute (or the President's decision) first".into(),
            ));
        }
        Action::BeginFinalDetermination if facts.rule == Some(RuleVersion::Ifr2021) && !facts.all_concurred => {
            return Err(Refusal::NotNow(
                "under the 2021 rule the second interagency step needs consensus: every notified agency must concur (silence is not concurrence), or the dispute must be resolved or decided by the President (7.108)".into(),
            ));
        }
        Action::BeginFinalDetermination if facts.rule == Some(RuleVersion::Final2025) && !facts.all_concurred => {
            let presumed =
                facts.circulated_on.map(|d| d + time::Duration::days(crate::cases::clocks::PRESUMED_CONCURRENCE_DAYS));
            if !matches!((presumed, on), (Some(p), Some(t)) if t >= p) {
                return Err(Refusal::NotNow(
                    "agencies have not all concurred and the 14 days after which silence counts as concurrence have not passed".into(),
                ));
            }
        }
        Action::IssueFinalDetermination => {
            if let (Some(on), Some(signed)) = (on, facts.final_signed_on)
                && on < signed
            {
                return Err(Refusal::Input(
                    "date",
                    format!("the final determination cannot be issued on {on}, before it was signed on {signed}"),
                ));
            }
            return match facts.final_decision {
                Some(Decision::PermittedWithMitigation) => Ok(Stage::Monitoring),
                Some(_) => Ok(Stage::Decided),
                None => Err(Refusal::NotNow(
                    "the final determination must be signed by a supervisor before it is issued".into(),
                )),
            };
        }
        _ => {}
    }
    Ok(to.unwrap_or(stage))
}

/// A change of a case's stage: a reviewer's workflow action, or the effect another act has
/// on the case. Every stage change the product makes is one of these, checked by
/// [`check_change`] and applied by `cases::service::apply`, so the table test below covers
/// every way a case can move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A workflow action taken on the case page or through the API.
    Act(Action),
    /// A mitigation breach was recorded on a monitored case: it is reopened for review.
    Breach,
    /// The case was consolidated into another review: it closes without action.
    Consolidated,
    /// An amended final determination was signed: its decision picks the stage (a closed
    /// case stays closed).
    Amended(Decision),
    /// A revocation of the final determination was signed: the case closes.
    Revoked,
}

impl Change {
    /// Every change that is not a workflow action (those are [`Action::ALL`]).
    pub const EFFECTS: [Change; 6] = [
        Change::Breach,
        Change::Consolidated,
        Change::Amended(Decision::Prohibited),
        Change::Amended(Decision::NotProhibited),
        Change::Amended(Decision::PermittedWithMitigation),
        Change::Revoked,
    ];

    /// The name recorded in the audit event of the change.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Act(a) => a.as_str(),
            Change::Breach => "breach_recorded",
            Change::Consolidated => "consolidated",
            Change::Amended(_) => "amendment_signed",
            Change::Revoked => "revocation_signed",
        }
    }

    /// The roles whose acts cause the change.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Change::Act(a) => a.roles(),
            // Whoever may record a measure's status or a compliance check.
            Change::Breach => &[Role::Analyst, Role::Supervisor],
            Change::Consolidated | Change::Amended(_) | Change::Revoked => &[Role::Supervisor],
        }
    }
}

/// Checks a [`Change`] and returns the stage it leads to. Workflow actions are checked by
/// [`check`]; the effects of other acts need only the role and the stage, because the act
/// that causes them (a signature, a recorded breach) was checked by its own rules.
pub fn check_change(stage: Stage, change: Change, role: Role, facts: &Facts, input: &Input) -> Result<Stage, Refusal> {
    use Stage::*;
    let (from_ok, to) = match change {
        Change::Act(action) => return check(stage, action, role, facts, input),
        Change::Breach => (stage == Monitoring, ComplianceReview),
        Change::Consolidated => (stage.is_open(), ClosedNoAction),
        Change::Amended(_) if stage == Closed => (true, Closed),
        Change::Amended(Decision::PermittedWithMitigation) => (stage.is_decided(), Monitoring),
        Change::Amended(_) => (stage.is_decided(), Decided),
        Change::Revoked => (stage.is_decided(), Closed),
    };
    if !change.roles().contains(&role) {
        return Err(Refusal::Role);
    }
    if !from_ok {
        return Err(Refusal::NotNow(format!(
            "{} does not apply while the case is at {}",
            change.as_str(),
            stage.label()
        )));
    }
    Ok(to)
}

/// The acts that lead on from `stage` which `role` cannot take now, each in words with
/// who can take it or what it waits for ("Accept for review: a supervisor takes this step",
/// "Notify agencies: record the notice sent to each appropriate agency first").
pub fn waiting(stage: Stage, role: Role, facts: &Facts) -> Vec<String> {
    let input = Input {
        comment: Some("x".into()),
        date: facts.today,
        method: Some(ServiceMethod::RegisteredMail),
        late_reason: None,
    };
    Action::ALL
        .into_iter()
        .filter(|a| a.edge().0.contains(&stage))
        .filter_map(|a| match check(stage, a, role, facts, &input) {
            Ok(_) => None,
            Err(Refusal::Role) => {
                let who: Vec<String> = a.roles().iter().map(|r| r.label().to_lowercase()).collect();
                Some(format!("{}: {} takes this step", a.label(), article(&who.join(" or "))))
            }
            Err(Refusal::NotNow(why) | Refusal::Input(_, why)) => Some(format!("{}: {why}", a.label())),
        })
        .collect()
}

/// "a supervisor", "an analyst".
fn article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { format!("an {noun}") } else { format!("a {noun}") }
}

/// The actions `role` could take now (for showing only the buttons that will work).
pub fn allowed(stage: Stage, role: Role, facts: &Facts) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| {
            // Inputs are asked for by the form; judge only role, stage and facts.
            let input = Input {
                comment: Some("x".into()),
                date: facts.today,
                method: Some(ServiceMethod::RegisteredMail),
                late_reason: None,
            };
            check(stage, *a, role, facts, &input).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// Facts under which every precondition holds.
    fn all_met(rule: RuleVersion) -> Facts {
        Facts {
            actor_is_assignee: true,
            covered: Some(Answer::Yes),
            nexus: Some(Answer::Yes),
            undue_risk: Some(Answer::Yes),
            rule: Some(rule),
            agencies_notified_on: Some(date!(2025 - 03 - 01)),
            first_step_notices: 2,
            second_step_notices: 2,
            unresolved_objection: false,
            initial_signed: true,
            final_decision: Some(Decision::Prohibited),
            response_due: Some(date!(2025 - 04 - 30)),
            response_received: false,
            circulated_on: Some(date!(2025 - 05 - 10)),
            all_concurred: false,
            today: Some(date!(2025 - 06 - 01)),
            stage_since: None,
            initial_signed_on: Some(date!(2025 - 03 - 01)),
            final_signed_on: Some(date!(2025 - 05 - 30)),
            response_complete: false,
            emergency_deviation: false,
            nexus_finding_recorded: None,
            assessment_recorded: None,
        }
    }

    fn full_input() -> Input {
        // Dated today (the date of the act defaults to the day it is recorded).
        Input {
            comment: Some("because".into()),
            date: None,
            method: Some(ServiceMethod::CommercialCarrier),
            late_reason: None,
        }
    }

    /// The expected table: for every stage x action x role, either the stage it leads to,
    /// or the kind of refusal.
    #[test]
    fn every_stage_action_and_role() {
        let facts = all_met(RuleVersion::Final2025);
        let input = full_input();
        let mut allowed_count = 0;
        for stage in Stage::ALL {
            for action in Action::ALL {
                for role in Role::ALL {
                    let got = check(stage, action, role, &facts, &input);
                    let (from, to) = action.edge();
                    let role_ok = action.roles().contains(&role);
                    let expected = if !role_ok {
                        Err(Refusal::Role)
                    } else if !from.contains(&stage) {
                        Err(Refusal::NotNow(String::new()))
                    } else if action == Action::IssueFinalDetermination {
                        Ok(Stage::Decided)
                    } else {
                        Ok(to.unwrap_or(stage))
                    };
                    match (&got, &expected) {
                        (Ok(a), Ok(b)) => {
                            assert_eq!(a, b, "{stage:?} {action:?} {role:?}");
                            allowed_count += 1;
                        }
                        (Err(Refusal::Role), Err(Refusal::Role))
                        | (Err(Refusal::NotNow(_)), Err(Refusal::NotNow(_))) => {}
                        _ => panic!("{stage:?} {action:?} {role:?}: got {got:?}, expected {expected:?}"),
                    }
                    // Auditors and administrators never move a case.
                    if [Role::Auditor, Role::Admin].contains(&role) {
                        assert_eq!(got, Err(Refusal::Role));
                    }
                }
            }
        }
        // 11 supervisor-only (stage, action) pairs plus 8 open to analysts and supervisors
        // (counted once for each role).
        assert_eq!(allowed_count, 27);
    }

    /// Every effect of another act on every stage and role: the stage it leads to, or why not.
    #[test]
    fn every_effect_on_every_stage_and_role() {
        use Stage::*;
        let facts = all_met(RuleVersion::Final2025);
        let input = Input::default();
        for stage in Stage::ALL {
            for change in Change::EFFECTS {
                for role in Role::ALL {
                    let got = check_change(stage, change, role, &facts, &input);
                    let expected: Option<Stage> = match change {
                        Change::Breach => (stage == Monitoring).then_some(ComplianceReview),
                        Change::Consolidated => stage.is_open().then_some(ClosedNoAction),
                        Change::Amended(_) if stage == Closed => Some(Closed),
                        Change::Amended(Decision::PermittedWithMitigation) => stage.is_decided().then_some(Monitoring),
                        Change::Amended(_) => stage.is_decided().then_some(Decided),
                        Change::Revoked => stage.is_decided().then_some(Closed),
                        Change::Act(_) => unreachable!(),
                    };
                    let role_ok = match change {
                        Change::Breach => [Role::Analyst, Role::Supervisor].contains(&role),
                        _ => [Role::Supervisor].contains(&role),
                    };
                    match (role_ok, expected, &got) {
                        (false, _, Err(Refusal::Role)) => {}
                        (true, Some(to), Ok(got)) => assert_eq!(*got, to, "{stage:?} {change:?} {role:?}"),
                        (true, None, Err(Refusal::NotNow(_))) => {}
                        _ => panic!("{stage:?} {change:?} {role:?}: got {got:?}"),
                    }
                }
            }
        }
        // Actions go through the same door.
        assert_eq!(
            check_change(Intake, Change::Act(Action::Accept), Role::Supervisor, &facts, &input),
            Ok(InitialReview)
        );
        assert_eq!(
            check_change(Intake, Change::Act(Action::Accept), Role::Analyst, &facts, &input),
            Err(Refusal::Role)
        );
    }

    #[test]
    fn disposition_is_for_supervisors() {
        let f = all_met(RuleVersion::Ifr2021);
        let i = full_input();
        assert_eq!(check(Stage::Intake, Action::Accept, Role::Supervisor, &f, &i), Ok(Stage::InitialReview));
        assert_eq!(check(Stage::Intake, Action::Accept, Role::Analyst, &f, &i), Err(Refusal::Role));
        assert_eq!(check(Stage::Intake, Action::Reject, Role::Analyst, &f, &i), Err(Refusal::Role));
        assert_eq!(check(Stage::AwaitingInformation, Action::Reject, Role::Supervisor, &f, &i), Ok(Stage::Rejected));
    }

    #[test]
    fn reasons_are_required_where_the_rule_asks_for_writing() {
        let f = all_met(RuleVersion::Ifr2021);
        let none = Input::default();
        for (stage, action) in [
            (Stage::Intake, Action::Reject),
            (Stage::Intake, Action::RequestInformation),
            (Stage::InitialReview, Action::CloseWithoutAction),
            (Stage::ClosedNoAction, Action::Reopen),
            (Stage::ComplianceReview, Action::ResumeMonitoring),
        ] {
            assert!(
                matches!(check(stage, action, Role::Supervisor, &f, &none), Err(Refusal::Input("comment", _))),
                "{action:?}"
            );
            let blank = Input { comment: Some("   ".into()), ..Input::default() };
            assert!(
                matches!(check(stage, action, Role::Supervisor, &f, &blank), Err(Refusal::Input("comment", _))),
                "{action:?}"
            );
        }
    }

    #[test]
    fn the_three_questions_gate_the_initial_determination() {
        let i = full_input();
        let mut f = all_met(RuleVersion::Ifr2021);
        f.undue_risk = None;
        assert!(
            matches!(check(Stage::FirstInteragency, Action::BeginInitialDetermination, Role::Analyst, &f, &i), Err(Refusal::NotNow(m)) if m.contains("three questions"))
        );
        f.undue_risk = Some(Answer::No);
        assert!(
            matches!(check(Stage::FirstInteragency, Action::BeginInitialDetermination, Role::Analyst, &f, &i), Err(Refusal::NotNow(m)) if m.contains("close"))
        );
        f.undue_risk = Some(Answer::Yes);
        assert_eq!(
            check(Stage::FirstInteragency, Action::BeginInitialDetermination, Role::Analyst, &f, &i),
            Ok(Stage::InitialDetermination)
        );
        // The risk issue's seams.
        f.nexus_finding_recorded = Some(false);
        assert!(check(Stage::FirstInteragency, Action::BeginInitialDetermination, Role::Analyst, &f, &i).is_err());
    }

    #[test]
    fn analysts_act_only_on_their_own_cases() {
        let mut f = all_met(RuleVersion::Ifr2021);
        f.actor_is_assignee = false;
        let i = full_input();
        assert!(matches!(
            check(Stage::InitialReview, Action::NotifyAgencies, Role::Analyst, &f, &i),
            Err(Refusal::NotNow(_))
        ));
        assert_eq!(
            check(Stage::InitialReview, Action::NotifyAgencies, Role::Supervisor, &f, &i),
            Ok(Stage::FirstInteragency)
        );
    }

    #[test]
    fn service_needs_a_signature_and_under_the_final_rule_21_days_notice() {
        let mut f = all_met(RuleVersion::Final2025);
        // Service dates months before today are recorded late, with a reason.
        let mut i = Input { late_reason: Some("recorded from the file".into()), ..full_input() };
        f.initial_signed = false;
        assert!(check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i).is_err());
        f.initial_signed = true;
        i.date = Some(date!(2025 - 03 - 21)); // notified 1 March: 20 days
        assert!(
            matches!(check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i), Err(Refusal::NotNow(m)) if m.contains("21 days"))
        );
        i.date = Some(date!(2025 - 03 - 22));
        assert_eq!(
            check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i),
            Ok(Stage::ResponsePeriod)
        );
        // The interim rule has no such wait.
        f.rule = Some(RuleVersion::Ifr2021);
        i.date = Some(date!(2025 - 03 - 02));
        assert!(check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i).is_ok());
        // Without a date the act is dated the day it is recorded.
        i.date = None;
        assert_eq!(
            check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i),
            Ok(Stage::ResponsePeriod)
        );
        i.date = Some(date!(2025 - 02 - 28));
        assert!(
            matches!(check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i), Err(Refusal::Input("date", m)) if m.contains("2025-02-28") && m.contains("2025-03-01")),
            "service before the signature"
        );
        i.date = Some(date!(2025 - 06 - 02));
        assert!(
            matches!(
                check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &i),
                Err(Refusal::Input("date", _))
            ),
            "future service"
        );
    }

    #[test]
    fn no_response_by_the_deadline_goes_straight_to_the_final_determination() {
        let mut f = all_met(RuleVersion::Ifr2021);
        let i = full_input();
        f.today = Some(date!(2025 - 04 - 30));
        assert!(
            check(Stage::ResponsePeriod, Action::ProceedWithoutResponse, Role::Analyst, &f, &i).is_err(),
            "window still open"
        );
        f.today = Some(date!(2025 - 05 - 01));
        assert_eq!(
            check(Stage::ResponsePeriod, Action::ProceedWithoutResponse, Role::Analyst, &f, &i),
            Ok(Stage::FinalDetermination)
        );
        f.response_received = true;
        assert!(check(Stage::ResponsePeriod, Action::ProceedWithoutResponse, Role::Analyst, &f, &i).is_err());
        assert_eq!(
            check(Stage::ResponsePeriod, Action::CirculateFinalDetermination, Role::Analyst, &f, &i),
            Ok(Stage::SecondInteragency)
        );
    }

    #[test]
    fn fourteen_days_of_silence_count_as_concurrence_under_the_final_rule() {
        let mut f = all_met(RuleVersion::Final2025);
        let i = full_input();
        f.circulated_on = Some(date!(2025 - 05 - 20));
        f.today = Some(date!(2025 - 06 - 02));
        assert!(check(Stage::SecondInteragency, Action::BeginFinalDetermination, Role::Analyst, &f, &i).is_err());
        f.today = Some(date!(2025 - 06 - 03));
        assert!(check(Stage::SecondInteragency, Action::BeginFinalDetermination, Role::Analyst, &f, &i).is_ok());
        f.today = Some(date!(2025 - 05 - 21));
        f.all_concurred = true;
        assert!(check(Stage::SecondInteragency, Action::BeginFinalDetermination, Role::Analyst, &f, &i).is_ok());
        // Under the 2021 rule silence is not concurrence: consensus (or a resolved dispute).
        f.all_concurred = false;
        f.rule = Some(RuleVersion::Ifr2021);
        assert!(
            matches!(check(Stage::SecondInteragency, Action::BeginFinalDetermination, Role::Analyst, &f, &i), Err(Refusal::NotNow(m)) if m.contains("consensus"))
        );
        f.all_concurred = true;
        assert!(check(Stage::SecondInteragency, Action::BeginFinalDetermination, Role::Analyst, &f, &i).is_ok());
    }

    #[test]
    fn acts_are_dated_not_in_the_future_not_before_what_they_follow_and_late_ones_say_why() {
        let mut f = all_met(RuleVersion::Ifr2021);
        f.stage_since = Some(date!(2025 - 05 - 20));
        let at = |d| Input { date: Some(d), ..full_input() };
        let accept = |f: &Facts, i: &Input| check(Stage::Intake, Action::Accept, Role::Supervisor, f, i);
        assert!(
            matches!(accept(&f, &at(date!(2025 - 06 - 02))), Err(Refusal::Input("date", m)) if m.contains("2025-06-02") && m.contains("2025-06-01"))
        );
        assert!(
            matches!(accept(&f, &at(date!(2025 - 05 - 19))), Err(Refusal::Input("date", m)) if m.contains("2025-05-19") && m.contains("2025-05-20"))
        );
        assert_eq!(accept(&f, &at(date!(2025 - 05 - 25))), Ok(Stage::InitialReview), "six days late needs no reason");
        f.stage_since = None;
        assert!(matches!(accept(&f, &at(date!(2025 - 05 - 24))), Err(Refusal::Input("late_reason", _))));
        let late = Input { late_reason: Some("recorded from the paper file".into()), ..at(date!(2021 - 09 - 01)) };
        assert_eq!(accept(&f, &late), Ok(Stage::InitialReview));
    }

    #[test]
    fn the_response_window_holds_the_final_determination_back() {
        let mut f = all_met(RuleVersion::Final2025);
        f.today = Some(date!(2025 - 04 - 30));
        let i = full_input();
        for (stage, action) in [
            (Stage::ResponsePeriod, Action::CirculateFinalDetermination),
            (Stage::SecondInteragency, Action::BeginFinalDetermination),
            (Stage::FinalDetermination, Action::IssueFinalDetermination),
        ] {
            f.final_signed_on = None;
            f.all_concurred = true;
            let got = check(stage, action, Role::Analyst, &f, &i);
            assert!(matches!(&got, Err(Refusal::NotNow(m)) if m.contains("2025-04-30")), "{action:?}: {got:?}");
            f.emergency_deviation = true;
            assert!(check(stage, action, Role::Analyst, &f, &i).is_ok(), "{action:?} after a deviation");
            f.emergency_deviation = false;
            f.response_complete = true;
            assert!(check(stage, action, Role::Analyst, &f, &i).is_ok(), "{action:?} with the response complete");
            f.response_complete = false;
        }
        f.today = Some(date!(2025 - 05 - 01));
        assert!(check(Stage::ResponsePeriod, Action::CirculateFinalDetermination, Role::Analyst, &f, &i).is_ok());
        f.final_signed_on = Some(date!(2025 - 05 - 02));
        f.today = Some(date!(2025 - 05 - 03));
        let early = Input { date: Some(date!(2025 - 05 - 01)), ..full_input() };
        assert!(matches!(
            check(Stage::FinalDetermination, Action::IssueFinalDetermination, Role::Analyst, &f, &early),
            Err(Refusal::Input("date", m)) if m.contains("2025-05-02")
        ));
    }

    #[test]
    fn the_decision_picks_decided_or_monitoring() {
        let mut f = all_met(RuleVersion::Ifr2021);
        let i = full_input();
        f.final_decision = None;
        assert!(check(Stage::FinalDetermination, Action::IssueFinalDetermination, Role::Analyst, &f, &i).is_err());
        f.final_decision = Some(Decision::PermittedWithMitigation);
        assert_eq!(
            check(Stage::FinalDetermination, Action::IssueFinalDetermination, Role::Analyst, &f, &i),
            Ok(Stage::Monitoring)
        );
        f.final_decision = Some(Decision::NotProhibited);
        assert_eq!(
            check(Stage::FinalDetermination, Action::IssueFinalDetermination, Role::Analyst, &f, &i),
            Ok(Stage::Decided)
        );
    }

    #[test]
    fn an_objection_holds_the_step_at_the_level_the_rule_names() {
        use RuleVersion::*;
        assert_eq!(parse_level("Deputy Secretary"), Some("deputy_secretary"));
        assert_eq!(parse_level("assistant_secretary"), Some("assistant_secretary"));
        assert_eq!(parse_level("Below Assistant Secretary"), Some("below_assistant_secretary"));
        assert_eq!(parse_level("a clerk"), None);
        // Under the interim rule every objection holds the step (consensus).
        for (code, _, _) in OFFICIAL_LEVELS {
            assert!(Ifr2021.objection_holds(Some(code)), "{code}");
        }
        // Under the final rule only the Deputy Secretary or equivalent or higher (791.108(c)).
        assert!(Final2025.objection_holds(Some("agency_head")));
        assert!(Final2025.objection_holds(Some("deputy_secretary")));
        assert!(!Final2025.objection_holds(Some("under_secretary")));
        assert!(!Final2025.objection_holds(Some("assistant_secretary")));
        assert!(!Final2025.objection_holds(Some("below_assistant_secretary")));
        // ... and only within the 14 days after circulation.
        let c = Some(date!(2025 - 05 - 10));
        assert!(Final2025.objection_in_time(Some(date!(2025 - 05 - 24)), c));
        assert!(!Final2025.objection_in_time(Some(date!(2025 - 05 - 25)), c));
        assert!(Ifr2021.objection_in_time(Some(date!(2025 - 09 - 25)), c));
        assert!(Final2025.objection_in_time(None, c));
        // A level recorded as free text before the levels were fixed holds it.
        assert!(Final2025.objection_holds(Some("Deputy Director")));
        assert!(Final2025.objection_holds(None));
    }

    #[test]
    fn interagency_steps_need_recorded_notices_and_objections_block() {
        let mut f = all_met(RuleVersion::Final2025);
        let i = full_input();
        f.first_step_notices = 0;
        assert!(
            matches!(check(Stage::InitialReview, Action::NotifyAgencies, Role::Analyst, &f, &i), Err(Refusal::NotNow(m)) if m.contains("notice"))
        );
        f.second_step_notices = 0;
        assert!(check(Stage::ResponsePeriod, Action::CirculateFinalDetermination, Role::Analyst, &f, &i).is_err());
        f.unresolved_objection = true;
        assert!(
            matches!(check(Stage::SecondInteragency, Action::BeginFinalDetermination, Role::Analyst, &f, &i), Err(Refusal::NotNow(m)) if m.contains("objected"))
        );
        let no_method = Input { method: None, ..full_input() };
        f.unresolved_objection = false;
        assert!(matches!(
            check(Stage::InitialDetermination, Action::ServeInitialDetermination, Role::Analyst, &f, &no_method),
            Err(Refusal::Input("method", _))
        ));
    }

    #[test]
    fn rule_in_force_on_a_date() {
        assert_eq!(RuleVersion::in_force_on(date!(2025 - 02 - 03)), RuleVersion::Ifr2021);
        assert_eq!(RuleVersion::in_force_on(date!(2025 - 02 - 04)), RuleVersion::Final2025);
    }

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }
}
