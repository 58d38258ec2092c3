//! The proceedings' types: agency notices and responses, submissions and meetings.

use crate::ids::PartyId;
use crate::ids::{CaseId, NoticeId, SubmissionId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::choice::Choice;
use crate::error::FieldError;

/// The two steps of agency notice, stored, sent and shown by their lower-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NoticeStep {
    /// Before service of the initial determination.
    First,
    /// On the proposed final determination.
    Second,
}

impl NoticeStep {
    /// Both steps, in order.
    pub const ALL: [NoticeStep; 2] = [NoticeStep::First, NoticeStep::Second];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStep::First => "first",
            NoticeStep::Second => "second",
        }
    }

    /// The step named `s`, if any.
    pub fn parse(s: &str) -> Option<NoticeStep> {
        NoticeStep::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the form offers it.
    pub fn label(self) -> &'static str {
        match self {
            NoticeStep::First => "First: before service of the initial determination",
            NoticeStep::Second => "Second: proposed final determination",
        }
    }
}

/// An agency's answer to a notice, stored, sent and shown by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AgencyAnswer {
    /// The agency concurs.
    Concur,
    /// The agency objects.
    Object,
    /// The agency did not respond.
    None,
}

impl AgencyAnswer {
    /// Every answer.
    pub const ALL: [AgencyAnswer; 3] = [AgencyAnswer::Concur, AgencyAnswer::Object, AgencyAnswer::None];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AgencyAnswer::Concur => "concur",
            AgencyAnswer::Object => "object",
            AgencyAnswer::None => "none",
        }
    }

    /// The answer named `s`, if any.
    pub fn parse(s: &str) -> Option<AgencyAnswer> {
        AgencyAnswer::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the form offers it.
    pub fn label(self) -> &'static str {
        match self {
            AgencyAnswer::Concur => "Concur",
            AgencyAnswer::Object => "Object",
            AgencyAnswer::None => "No response",
        }
    }
}

/// A notice to an agency.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AgencyNotice {
    pub id: NoticeId,
    /// Case.
    pub case_id: CaseId,
    /// `first` (before service) or `second` (proposed final determination).
    pub step: NoticeStep,
    /// Agency code.
    pub agency: String,
    /// Sent.
    pub sent_on: Date,
    /// Response due (21 days for the first step under `final-2025`, 14 for the second).
    pub due_on: Date,
    /// `concur`, `object` or `none`; null while awaited.
    pub response: Option<AgencyAnswer>,
    /// When the response came.
    pub responded_on: Option<Date>,
    pub comment: String,
    /// The level at which an objection was raised.
    pub objector_level: Option<String>,
    /// When an objection was referred to the President.
    pub referred_to_president: Option<Date>,
    /// When the dispute was resolved.
    pub dispute_resolved_on: Option<Date>,
    /// How.
    pub dispute_resolution: Option<String>,
    /// Version (send it back when recording a response).
    pub version: i32,
}

/// A new agency notice.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// Which of the rule's notices it is.
    #[schema(value_type = NoticeStep)]
    pub step: Choice<NoticeStep>,
    /// Agency code (see `/api/v1/reference`).
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub agency: String,
    /// Sent, YYYY-MM-DD.
    pub sent_on: String,
    /// Due, YYYY-MM-DD (defaults to the rule's period: 21 / 14 days under `final-2025`, 30 otherwise).
    #[serde(default)]
    pub due_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// An agency's response, an objection's referral or its resolution.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeResponse {
    /// What the agency answered.
    #[schema(value_type = AgencyAnswer)]
    pub response: Choice<AgencyAnswer>,
    /// YYYY-MM-DD.
    pub responded_on: String,
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub comment: String,
    /// Level of the official who submitted the objection (an objection): `agency_head`,
    /// `deputy_secretary`, `under_secretary`, `assistant_secretary` or
    /// `below_assistant_secretary`. Under the 2025 rule an objection holds the second
    /// interagency step only when the agency's Deputy Secretary or equivalent or higher
    /// submits it within the 14 days after circulation (15 CFR 791.108(c)); one below that
    /// level, or later, is recorded with its level and does not hold the step.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::CODE }>>, inline)]
    pub objector_level: Option<String>,
    /// Referred to the President on, YYYY-MM-DD (an objection).
    #[serde(default)]
    pub referred_to_president: Option<String>,
    /// Dispute resolved on, YYYY-MM-DD (an objection).
    #[serde(default)]
    pub dispute_resolved_on: Option<String>,
    /// How the dispute was resolved.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::TEXT }>>, inline)]
    pub dispute_resolution: Option<String>,
    /// The notice's version.
    pub version: i32,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// A party submission.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Submission {
    pub id: SubmissionId,
    /// Case.
    pub case_id: CaseId,
    /// The party that submitted it.
    pub party_id: Option<PartyId>,
    /// Received.
    pub received_on: Date,
    /// What the party sent.
    pub kind: SubmissionKind,
    pub summary: String,
    /// A meeting request's meeting date.
    pub meeting_held_on: Option<Date>,
    /// A meeting request's outcome.
    pub meeting_outcome: Option<String>,
    /// Recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a party submits, stored and sent by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// A written response to the initial determination.
    WrittenResponse,
    /// A proposal of mitigation measures.
    MitigationProposal,
    /// A request for a meeting with the office.
    MeetingRequest,
    /// Anything else.
    Other,
}

impl SubmissionKind {
    /// Every kind, as the form lists them.
    pub const ALL: [SubmissionKind; 4] = [
        SubmissionKind::WrittenResponse,
        SubmissionKind::MitigationProposal,
        SubmissionKind::MeetingRequest,
        SubmissionKind::Other,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::WrittenResponse => "written_response",
            SubmissionKind::MitigationProposal => "mitigation_proposal",
            SubmissionKind::MeetingRequest => "meeting_request",
            SubmissionKind::Other => "other",
        }
    }

    /// How it reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            SubmissionKind::WrittenResponse => "Written response",
            SubmissionKind::MitigationProposal => "Mitigation proposal",
            SubmissionKind::MeetingRequest => "Meeting request",
            SubmissionKind::Other => "Other",
        }
    }

    /// Whether it is the parties' response to the initial determination (the first one
    /// dates the response).
    pub fn is_response(self) -> bool {
        matches!(self, SubmissionKind::WrittenResponse | SubmissionKind::MitigationProposal)
    }
}

/// A new submission.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubmission {
    /// What the party sent.
    #[schema(value_type = SubmissionKind)]
    pub kind: Choice<SubmissionKind>,
    /// Received, YYYY-MM-DD.
    pub received_on: String,
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub summary: String,
    /// The party.
    #[serde(default)]
    pub party_id: Option<PartyId>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// The outcome of a requested meeting.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingOutcome {
    /// Held on, YYYY-MM-DD.
    pub held_on: String,
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub outcome: String,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// Parses an optional `YYYY-MM-DD` field, naming it in `errors` when malformed (or missing
/// and `required`).
pub fn date(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>, required: bool) -> Option<Date> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => crate::dates::parse_date(s).or_else(|| {
            errors.push(FieldError::new(field, "must be a date YYYY-MM-DD"));
            None
        }),
        None => {
            if required {
                errors.push(FieldError::new(field, "is required: give a date as YYYY-MM-DD"));
            }
            None
        }
    }
}
