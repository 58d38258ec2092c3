//! Enforcement as data and its pure rules: the penalty's basis and the factors weighed; a
//! matter's provisions, stages and acts, and the order the rule imposes on the acts.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::choice::Choice;
use crate::ids::{CaseId, DeclarationId, MatterId, PartyId, UserId};

/// The adjusted statutory maximum in force from a date.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Maximum {
    pub effective_from: Date,
    /// In cents.
    pub amount_cents: i64,
    pub citation: String,
}

/// Which amount sets the maximum penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// The adjusted statutory maximum.
    Statutory,
    /// Twice the transaction's value.
    TwiceTheValue,
}

/// A factor the office weighs in setting a penalty below the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// The violator disclosed it before the office learned of it.
    VoluntarySelfDisclosure,
    /// It was wilful or reckless.
    Wilful,
    /// It harmed national security or the integrity of the ICTS supply chain.
    Harm,
    /// The violator cooperated with the investigation.
    Cooperation,
    /// It kept a compliance program when it happened.
    ComplianceProgram,
    /// A first violation.
    FirstViolation,
}

impl Factor {
    /// Every factor.
    pub const ALL: [Factor; 6] = [
        Factor::VoluntarySelfDisclosure,
        Factor::Wilful,
        Factor::Harm,
        Factor::Cooperation,
        Factor::ComplianceProgram,
        Factor::FirstViolation,
    ];

    /// The name sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::VoluntarySelfDisclosure => "voluntary_self_disclosure",
            Factor::Wilful => "wilful",
            Factor::Harm => "harm",
            Factor::Cooperation => "cooperation",
            Factor::ComplianceProgram => "compliance_program",
            Factor::FirstViolation => "first_violation",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Factor::VoluntarySelfDisclosure => "Voluntary self-disclosure",
            Factor::Wilful => "Wilful or reckless",
            Factor::Harm => "Harm to national security or the supply chain",
            Factor::Cooperation => "Cooperation with the investigation",
            Factor::ComplianceProgram => "A compliance program in place",
            Factor::FirstViolation => "A first violation",
        }
    }

    /// Whether it weighs toward a lower penalty.
    pub fn mitigates(self) -> bool {
        !matches!(self, Factor::Wilful | Factor::Harm)
    }
}

/// The maximum civil penalty for one violation and how it was reached.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Basis {
    pub violation_on: Date,
    /// The adjusted statutory maximum in force that day.
    pub statutory: Maximum,
    /// The transaction's value, in cents.
    pub transaction_value_cents: i64,
    /// Twice it.
    pub twice_the_value_cents: i64,
    /// The greater of the two: the most the penalty may be.
    pub maximum_cents: i64,
    pub ground: Ground,
    /// The factors weighed, as given.
    pub factors: Vec<Factor>,
}

/// The basis of a penalty for a violation on `violation_on` of a transaction worth
/// `value_cents`, with the statutory maximum in force then.
pub fn basis(violation_on: Date, statutory: Maximum, value_cents: i64, factors: Vec<Factor>) -> Basis {
    let twice = value_cents.saturating_mul(2);
    let (maximum_cents, ground) = if twice > statutory.amount_cents {
        (twice, Ground::TwiceTheValue)
    } else {
        (statutory.amount_cents, Ground::Statutory)
    };
    Basis {
        violation_on,
        statutory,
        transaction_value_cents: value_cents,
        twice_the_value_cents: twice,
        maximum_cents,
        ground,
        factors,
    }
}

/// Which docket a matter is of: a breach of a final determination (Subpart B) or of the
/// connected-vehicle rule (Subpart D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Docket {
    SubpartB,
    SubpartD,
}

impl Docket {
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Docket::SubpartB => "Subpart B (reviews)",
            Docket::SubpartD => "Subpart D (connected vehicles)",
        }
    }
}

/// The provision a matter alleges was violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text")]
pub enum Provision {
    /// A final determination of a review (Subpart B), its prohibition or its mitigation.
    #[serde(rename = "final_determination")]
    #[sqlx(rename = "final_determination")]
    FinalDetermination,
    /// VCS hardware imported (791.302).
    #[serde(rename = "791.302")]
    #[sqlx(rename = "791.302")]
    HardwareImport,
    /// Covered software in completed vehicles (791.303).
    #[serde(rename = "791.303")]
    #[sqlx(rename = "791.303")]
    CoveredSoftware,
    /// Connected vehicles sold by a PRC- or Russia-controlled manufacturer (791.304).
    #[serde(rename = "791.304")]
    #[sqlx(rename = "791.304")]
    ControlledManufacturer,
    /// A Declaration of Conformity not filed, false or not amended (791.305).
    #[serde(rename = "791.305")]
    #[sqlx(rename = "791.305")]
    Declaration,
    /// A general authorization relied on without meeting it (791.306).
    #[serde(rename = "791.306")]
    #[sqlx(rename = "791.306")]
    GeneralAuthorization,
    /// A specific authorization's conditions breached (791.307).
    #[serde(rename = "791.307")]
    #[sqlx(rename = "791.307")]
    SpecificAuthorization,
}

impl Provision {
    /// Every provision.
    pub const ALL: [Provision; 7] = [
        Provision::FinalDetermination,
        Provision::HardwareImport,
        Provision::CoveredSoftware,
        Provision::ControlledManufacturer,
        Provision::Declaration,
        Provision::GeneralAuthorization,
        Provision::SpecificAuthorization,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Provision::FinalDetermination => "final_determination",
            Provision::HardwareImport => "791.302",
            Provision::CoveredSoftware => "791.303",
            Provision::ControlledManufacturer => "791.304",
            Provision::Declaration => "791.305",
            Provision::GeneralAuthorization => "791.306",
            Provision::SpecificAuthorization => "791.307",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Provision::FinalDetermination => "A final determination (Subpart B)",
            Provision::HardwareImport => "VCS hardware imported (791.302)",
            Provision::CoveredSoftware => "Covered software in completed vehicles (791.303)",
            Provision::ControlledManufacturer => "Sale by a PRC- or Russia-controlled manufacturer (791.304)",
            Provision::Declaration => "Declaration of Conformity (791.305)",
            Provision::GeneralAuthorization => "General authorization (791.306)",
            Provision::SpecificAuthorization => "Specific authorization's conditions (791.307)",
        }
    }

    /// The docket it belongs to.
    pub fn docket(self) -> Docket {
        if self == Provision::FinalDetermination { Docket::SubpartB } else { Docket::SubpartD }
    }
}

/// Where a matter's proceeding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MatterStage {
    /// Opened: the office looks into it.
    Open,
    /// An initial finding of violation was delivered; the answer is due in 30 days.
    FindingIssued,
    /// The finding is final agency action.
    FindingFinal,
    /// A pre-penalty notice was delivered; the answer is due on the 30th day after.
    PrePenaltyNotice,
    /// Settled (ends it).
    Settled,
    /// A penalty notice was issued: final agency action (ends it).
    PenaltyImposed,
    /// Closed without a penalty: no violation found, or withdrawn (ends it).
    Closed,
}

impl MatterStage {
    /// Every stage.
    pub const ALL: [MatterStage; 7] = [
        MatterStage::Open,
        MatterStage::FindingIssued,
        MatterStage::FindingFinal,
        MatterStage::PrePenaltyNotice,
        MatterStage::Settled,
        MatterStage::PenaltyImposed,
        MatterStage::Closed,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            MatterStage::Open => "open",
            MatterStage::FindingIssued => "finding_issued",
            MatterStage::FindingFinal => "finding_final",
            MatterStage::PrePenaltyNotice => "pre_penalty_notice",
            MatterStage::Settled => "settled",
            MatterStage::PenaltyImposed => "penalty_imposed",
            MatterStage::Closed => "closed",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            MatterStage::Open => "Open",
            MatterStage::FindingIssued => "Initial finding delivered",
            MatterStage::FindingFinal => "Finding final",
            MatterStage::PrePenaltyNotice => "Pre-penalty notice delivered",
            MatterStage::Settled => "Settled",
            MatterStage::PenaltyImposed => "Penalty imposed",
            MatterStage::Closed => "Closed",
        }
    }

    /// Whether the proceeding has ended.
    pub fn ended(self) -> bool {
        matches!(self, MatterStage::Settled | MatterStage::PenaltyImposed | MatterStage::Closed)
    }
}

/// An act of a matter's proceeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ActKind {
    /// The matter opened (recorded with it).
    Opened,
    /// An initial finding of violation delivered (its date: delivery).
    FindingIssued,
    /// The respondent's answer to the finding received.
    FindingAnswered,
    /// The finding made final agency action (after the answer, or once its date passed).
    FindingFinal,
    /// A pre-penalty notice delivered, with the penalty proposed.
    PrePenaltyNotice,
    /// More time to answer, granted on the respondent's request (its date: the request's).
    Extension,
    /// The respondent's answer to the pre-penalty notice received.
    Answer,
    /// A settlement, with its amount.
    Settlement,
    /// A penalty notice issued, with the penalty.
    PenaltyNotice,
    /// Closed without a penalty, with why.
    Closed,
}

impl ActKind {
    /// The acts recorded on a matter after it opened, in the order a proceeding takes them.
    pub const RECORDED: [ActKind; 9] = [
        ActKind::FindingIssued,
        ActKind::FindingAnswered,
        ActKind::FindingFinal,
        ActKind::PrePenaltyNotice,
        ActKind::Extension,
        ActKind::Answer,
        ActKind::Settlement,
        ActKind::PenaltyNotice,
        ActKind::Closed,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ActKind::Opened => "opened",
            ActKind::FindingIssued => "finding_issued",
            ActKind::FindingAnswered => "finding_answered",
            ActKind::FindingFinal => "finding_final",
            ActKind::PrePenaltyNotice => "pre_penalty_notice",
            ActKind::Extension => "extension",
            ActKind::Answer => "answer",
            ActKind::Settlement => "settlement",
            ActKind::PenaltyNotice => "penalty_notice",
            ActKind::Closed => "closed",
        }
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            ActKind::Opened => "Matter opened",
            ActKind::FindingIssued => "Initial finding of violation delivered",
            ActKind::FindingAnswered => "Answer to the finding received",
            ActKind::FindingFinal => "Finding made final",
            ActKind::PrePenaltyNotice => "Pre-penalty notice delivered",
            ActKind::Extension => "Extension granted on request",
            ActKind::Answer => "Answer to the pre-penalty notice received",
            ActKind::Settlement => "Settlement",
            ActKind::PenaltyNotice => "Penalty notice issued",
            ActKind::Closed => "Closed without a penalty",
        }
    }

    /// Whether it is the office's decision (a supervisor's): everything but receiving an
    /// answer.
    pub fn decides(self) -> bool {
        !matches!(self, ActKind::FindingAnswered | ActKind::Answer | ActKind::Opened)
    }

    /// Whether it carries an amount (a penalty proposed, settled or imposed).
    pub fn has_amount(self) -> bool {
        matches!(self, ActKind::PrePenaltyNotice | ActKind::Settlement | ActKind::PenaltyNotice)
    }
}

/// The days a respondent has to answer a finding or a pre-penalty notice (791.316–791.317).
pub const ANSWER_DAYS: i64 = 30;

/// Where a matter stands, as its next act sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub stage: MatterStage,
    pub answer_due_on: Option<Date>,
    pub answered_on: Option<Date>,
    /// The latest act's date.
    pub last_act_on: Date,
}

/// An act as recorded, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    pub kind: ActKind,
    pub effective_on: Date,
    pub amount_cents: Option<i64>,
    /// The answer date it sets (a finding, a pre-penalty notice, an extension).
    pub due_on: Option<Date>,
    pub note: String,
}

/// Why an act cannot be recorded now: the field it concerns and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { field, message: message.into() }
}

/// The stages an act may be recorded in.
fn allowed_in(kind: ActKind) -> &'static [MatterStage] {
    match kind {
        ActKind::Opened => &[],
        ActKind::FindingIssued => &[MatterStage::Open],
        ActKind::FindingAnswered | ActKind::FindingFinal => &[MatterStage::FindingIssued],
        ActKind::PrePenaltyNotice => &[MatterStage::Open, MatterStage::FindingFinal],
        ActKind::Extension => &[MatterStage::FindingIssued, MatterStage::PrePenaltyNotice],
        ActKind::Answer | ActKind::PenaltyNotice => &[MatterStage::PrePenaltyNotice],
        ActKind::Settlement => &[MatterStage::Open, MatterStage::FindingFinal, MatterStage::PrePenaltyNotice],
        ActKind::Closed => {
            &[MatterStage::Open, MatterStage::FindingIssued, MatterStage::FindingFinal, MatterStage::PrePenaltyNotice]
        }
    }
}

/// The acts a matter at `stage` may record next, in a proceeding's order.
pub fn next_acts(stage: MatterStage) -> Vec<ActKind> {
    ActKind::RECORDED.into_iter().filter(|k| allowed_in(*k).contains(&stage)).collect()
}

/// Applies `act` to a matter standing at `s` on `today`: the standing after it, and the
/// act with the answer date it sets; or why the rule's order refuses it. `maximum_cents` is
/// the most a penalty may be for the matter's violation (its basis).
pub fn apply(s: Standing, act: &Act, today: Date, maximum_cents: i64) -> Result<(Standing, Act), Refusal> {
    let on = act.effective_on;
    if on > today {
        return Err(refuse("effective_on", format!("cannot be in the future (today is {today})")));
    }
    if on < s.last_act_on {
        return Err(refuse(
            "effective_on",
            format!("acts follow one another: the last act took effect on {}", s.last_act_on),
        ));
    }
    if !allowed_in(act.kind).contains(&s.stage) {
        return Err(refuse(
            "kind",
            format!(
                "{} cannot be recorded while the matter is {}",
                act.kind.label().to_lowercase(),
                s.stage.label().to_lowercase()
            ),
        ));
    }
    let amount = if act.kind.has_amount() {
        match act.amount_cents {
            None => return Err(refuse("amount", "give the amount in dollars")),
            Some(a) if a > maximum_cents => {
                return Err(refuse(
                    "amount",
                    format!("cannot exceed the maximum penalty of {}", crate::text::cents(maximum_cents)),
                ));
            }
            a => a,
        }
    } else {
        None
    };
    let needs_note =
        matches!(act.kind, ActKind::Extension | ActKind::Closed | ActKind::FindingIssued | ActKind::PrePenaltyNotice);
    if needs_note && act.note.trim().is_empty() {
        return Err(refuse(
            "note",
            match act.kind {
                ActKind::Extension => "give the respondent's request and the reason it is granted",
                ActKind::Closed => "say why the matter closes without a penalty",
                _ => "state the alleged violation as the notice does",
            },
        ));
    }
    let answered_in_time = |s: &Standing| -> Result<(), Refusal> {
        if s.answered_on.is_some() {
            return Err(refuse("kind", "the answer was received already"));
        }
        match s.answer_due_on {
            Some(due) if on > due => Err(refuse(
                "effective_on",
                format!("the answer was due by {due}: an answer not made by then is waived"),
            )),
            _ => Ok(()),
        }
    };
    let mut next = Standing { last_act_on: on, ..s };
    let mut due_on = None;
    match act.kind {
        ActKind::Opened => unreachable!("no stage allows it"),
        ActKind::FindingIssued | ActKind::PrePenaltyNotice => {
            let due = crate::calendar::due_after(on, ANSWER_DAYS);
            next.stage = if act.kind == ActKind::FindingIssued {
                MatterStage::FindingIssued
            } else {
                MatterStage::PrePenaltyNotice
            };
            next.answer_due_on = Some(due);
            next.answered_on = None;
            due_on = Some(due);
        }
        ActKind::FindingAnswered | ActKind::Answer => {
            answered_in_time(&s)?;
            next.answered_on = Some(on);
        }
        ActKind::FindingFinal | ActKind::PenaltyNotice => {
            if let (None, Some(due)) = (s.answered_on, s.answer_due_on)
                && on <= due
            {
                return Err(refuse(
                    "effective_on",
                    format!(
                        "the respondent may answer until {due}: it becomes final after that, or once the answer is received"
                    ),
                ));
            }
            next.stage =
                if act.kind == ActKind::FindingFinal { MatterStage::FindingFinal } else { MatterStage::PenaltyImposed };
            next.answer_due_on = None;
        }
        ActKind::Extension => {
            if s.answered_on.is_some() {
                return Err(refuse("kind", "the answer was received: there is nothing to extend"));
            }
            let current = s.answer_due_on.expect("a stage awaiting an answer has its date");
            if on > current {
                return Err(refuse(
                    "effective_on",
                    format!("the request must come by the answer date, {current}: after it the answer is waived"),
                ));
            }
            let Some(new) = act.due_on else { return Err(refuse("due_on", "give the new answer date")) };
            if new <= current {
                return Err(refuse("due_on", format!("must be after the present answer date, {current}")));
            }
            if let Some(closed) = crate::calendar::closed_on(new) {
                return Err(refuse("due_on", format!("{new} is {}: give a business day", closed.describe())));
            }
            next.answer_due_on = Some(new);
            due_on = Some(new);
        }
        ActKind::Settlement | ActKind::Closed => {
            next.stage = if act.kind == ActKind::Settlement { MatterStage::Settled } else { MatterStage::Closed };
            next.answer_due_on = None;
        }
    }
    Ok((next, Act { amount_cents: amount, due_on, note: act.note.trim().to_string(), ..act.clone() }))
}

/// A matter as stored, with the names it links to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Matter {
    pub id: MatterId,
    /// The office's number: `ENF-2026-0001`.
    pub number: String,
    pub docket: Docket,
    /// The party alleged to have violated.
    pub party_id: PartyId,
    pub party_name: String,
    /// The case whose final determination was breached (the first docket).
    pub case_id: Option<CaseId>,
    pub case_docket: Option<String>,
    #[serde(skip)]
    pub case_restricted: bool,
    #[serde(skip)]
    pub case_assignee: Option<UserId>,
    /// The declaration concerned (the second docket).
    pub declaration_id: Option<DeclarationId>,
    pub declaration_number: Option<String>,
    pub provision: Provision,
    /// The alleged violation, as the notices state it.
    pub summary: String,
    pub violation_on: Date,
    /// The transaction's value, in cents, when known.
    pub transaction_value_cents: Option<i64>,
    /// Disclosed by the respondent before the office learned of it (weighed).
    pub self_disclosed: bool,
    pub stage: MatterStage,
    /// When the respondent's answer is due (a finding, a pre-penalty notice).
    pub answer_due_on: Option<Date>,
    pub answered_on: Option<Date>,
    /// The latest act's date.
    pub last_act_on: Date,
    /// Sent back with an act; a stale one gets 409.
    pub version: i64,
    /// The date it was opened.
    pub opened_on: Date,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: OffsetDateTime,
}

impl Matter {
    /// Where it stands, for its next act.
    pub fn standing(&self) -> Standing {
        Standing {
            stage: self.stage,
            answer_due_on: self.answer_due_on,
            answered_on: self.answered_on,
            last_act_on: self.last_act_on,
        }
    }

    /// Whether the respondent's answer is awaited.
    pub fn awaits_answer(&self) -> bool {
        self.answer_due_on.is_some() && self.answered_on.is_none()
    }

    /// Where the list by answers due puts the matter: the day its answer is due while it
    /// awaits one, after every such day otherwise (as the list's SQL computes it).
    pub fn due_key(&self) -> Date {
        self.answer_due_on.filter(|_| self.answered_on.is_none()).unwrap_or(NO_ANSWER_DUE)
    }

    /// Whether the answer's date passed on `today` with none received: the answer is
    /// waived, and the office's next act is due.
    pub fn answer_passed(&self, today: Date) -> bool {
        self.answered_on.is_none() && self.answer_due_on.is_some_and(|d| d < today)
    }
}

/// The list's key of a matter awaiting no answer: after every day one is due.
pub const NO_ANSWER_DUE: Date = time::macros::date!(9999 - 12 - 31);

/// An act of a matter as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActRow {
    pub seq: i64,
    pub kind: ActKind,
    /// The date it took effect.
    pub effective_on: Date,
    pub amount_cents: Option<i64>,
    /// The answer date it set.
    pub due_on: Option<Date>,
    pub note: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
    pub recorded_by: String,
}

/// A matter opened.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMatter {
    /// The party alleged to have violated.
    pub party_id: Option<PartyId>,
    /// The provision violated: `final_determination` (a case's, the first docket) or a
    /// section of Subpart D.
    #[schema(value_type = Provision)]
    pub provision: Option<Choice<Provision>>,
    /// The case whose final determination was breached (with `final_determination`).
    #[serde(default)]
    pub case_id: Option<CaseId>,
    /// The declaration concerned, if any (Subpart D).
    #[serde(default)]
    pub declaration_id: Option<DeclarationId>,
    /// The alleged violation.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub summary: String,
    /// The violation's date (`YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = Date)]
    pub violation_on: String,
    /// The transaction's value in dollars (`1,250,000`), when known.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub transaction_value: Option<String>,
    /// Whether the respondent disclosed it before the office learned of it.
    #[serde(default)]
    pub self_disclosed: bool,
    /// The date the matter was opened (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub opened_on: Option<String>,
}

/// An act recorded on a matter.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAct {
    #[schema(value_type = ActKind)]
    pub kind: Choice<ActKind>,
    /// The date it took effect (`YYYY-MM-DD`; a notice: its delivery; an extension: the
    /// request's); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub effective_on: Option<String>,
    /// The amount in dollars (a penalty proposed, a settlement, a penalty).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub amount: Option<String>,
    /// An extension's new answer date (`YYYY-MM-DD`, a business day).
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub due_on: Option<String>,
    /// What the notice states, the answer's gist, the request and why it is granted, or why
    /// the matter closes.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub note: String,
    /// The matter's version the act was made from; a stale one gets 409.
    pub version: i64,
}

/// Enforcement's work for a home page.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct EnforcementWork {
    /// Matters not ended.
    pub open: i64,
    /// Answers awaited whose date has not passed.
    pub answers_due: i64,
    /// Answers awaited whose date passed: the office's next act is due.
    pub answers_overdue: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn in_2025() -> Maximum {
        Maximum { effective_from: date!(2025 - 01 - 01), amount_cents: 37_770_000, citation: String::new() }
    }

    #[test]
    fn the_penalty_may_reach_the_greater_of_the_statutory_maximum_and_twice_the_value() {
        let small = basis(date!(2025 - 06 - 01), in_2025(), 10_000_000, vec![]);
        assert_eq!((small.maximum_cents, small.ground), (37_770_000, Ground::Statutory));
        let large = basis(date!(2025 - 06 - 01), in_2025(), 25_000_000, vec![Factor::VoluntarySelfDisclosure]);
        assert_eq!((large.maximum_cents, large.ground), (50_000_000, Ground::TwiceTheValue));
        // At exactly half the maximum the two agree: the statute's amount is named.
        let even = basis(date!(2025 - 06 - 01), in_2025(), 18_885_000, vec![]);
        assert_eq!(even.ground, Ground::Statutory);
        assert!(Factor::VoluntarySelfDisclosure.mitigates() && !Factor::Wilful.mitigates());
    }

    fn act(kind: ActKind, on: Date) -> Act {
        Act { kind, effective_on: on, amount_cents: None, due_on: None, note: "stated".into() }
    }

    #[test]
    fn a_proceeding_takes_its_acts_in_the_rules_order() {
        let today = date!(2027 - 03 - 01);
        let open = Standing {
            stage: MatterStage::Open,
            answer_due_on: None,
            answered_on: None,
            last_act_on: date!(2026 - 06 - 01),
        };
        let max = 37_770_000;
        // An initial finding delivered on Friday 14 August 2026: the 30th day after is a
        // Sunday, so the answer is due on Monday 14 September.
        let (found, a) = apply(open, &act(ActKind::FindingIssued, date!(2026 - 08 - 14)), today, max).unwrap();
        assert_eq!((found.stage, a.due_on), (MatterStage::FindingIssued, Some(date!(2026 - 09 - 14))));
        // It is not final before its date unless answered.
        let early = apply(found, &act(ActKind::FindingFinal, date!(2026 - 09 - 14)), today, max).unwrap_err();
        assert_eq!(early.field, "effective_on");
        let (final_, _) = apply(found, &act(ActKind::FindingFinal, date!(2026 - 09 - 15)), today, max).unwrap();
        assert_eq!((final_.stage, final_.answer_due_on), (MatterStage::FindingFinal, None));
        // An answer after its date is waived.
        let late = apply(found, &act(ActKind::FindingAnswered, date!(2026 - 09 - 15)), today, max).unwrap_err();
        assert!(late.message.contains("waived"), "{late:?}");
        // A pre-penalty notice needs its amount, at most the maximum.
        let mut notice = act(ActKind::PrePenaltyNotice, date!(2026 - 10 - 01));
        assert_eq!(apply(final_, &notice, today, max).unwrap_err().field, "amount");
        notice.amount_cents = Some(max + 1);
        assert_eq!(apply(final_, &notice, today, max).unwrap_err().field, "amount");
        notice.amount_cents = Some(max);
        let (pending, a) = apply(final_, &notice, today, max).unwrap();
        assert_eq!(a.due_on, Some(date!(2026 - 11 - 02)), "31 October 2026 is a Saturday");
        // Acts follow one another, and none is dated in the future.
        assert_eq!(
            apply(pending, &act(ActKind::Answer, date!(2026 - 09 - 30)), today, max).unwrap_err().field,
            "effective_on"
        );
        assert_eq!(
            apply(pending, &act(ActKind::Answer, date!(2027 - 03 - 02)), today, max).unwrap_err().field,
            "effective_on"
        );
        // A settlement ends it; nothing follows.
        let mut settle = act(ActKind::Settlement, date!(2026 - 10 - 20));
        settle.amount_cents = Some(10_000_000);
        let (settled, _) = apply(pending, &settle, today, max).unwrap();
        assert!(settled.stage.ended());
        assert!(next_acts(settled.stage).is_empty());
        assert_eq!(apply(settled, &act(ActKind::Closed, date!(2026 - 10 - 21)), today, max).unwrap_err().field, "kind");
        // What a stage allows, in order.
        assert_eq!(
            next_acts(MatterStage::Open),
            [ActKind::FindingIssued, ActKind::PrePenaltyNotice, ActKind::Settlement, ActKind::Closed]
        );
    }
}
