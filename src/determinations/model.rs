//! What a determination is, with no I/O: kinds, content and its checks, statuses and the
//! four-eyes moves between them, the content hash, the list's orders and filters.

use crate::ids::{AssessmentId, CaseId, DeterminationId, DocumentId, MeasureId, SubmissionId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::choice::Choice;
use crate::error::FieldError;

/// What a determination is, stored, sent and hashed by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Initial determination (proposes prohibition or mitigation).
    Initial,
    /// Final determination.
    Final,
    /// Amends a signed final determination (a new decision).
    Amendment,
    /// Revokes a signed final determination.
    Revocation,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 4] = [Kind::Initial, Kind::Final, Kind::Amendment, Kind::Revocation];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Initial => "initial",
            Kind::Final => "final",
            Kind::Amendment => "amendment",
            Kind::Revocation => "revocation",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// Title for people.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Initial => "Initial determination",
            Kind::Final => "Final determination",
            Kind::Amendment => "Amended final determination",
            Kind::Revocation => "Revocation of final determination",
        }
    }

    /// The outcomes this kind may state.
    pub fn outcomes(self) -> &'static [Outcome] {
        match self {
            Kind::Initial => &[Outcome::Prohibition, Outcome::Mitigation],
            Kind::Final | Kind::Amendment => {
                &[Outcome::Prohibited, Outcome::NotProhibited, Outcome::PermittedWithMitigation]
            }
            Kind::Revocation => &[Outcome::Revoked],
        }
    }
}

/// What a determination decides, stored, sent and hashed by its lower-case name; each
/// [`Kind`] states some of them ([`Kind::outcomes`]). Its schema is `DeterminationOutcome`,
/// apart from an audit event's `Outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[schema(as = DeterminationOutcome)]
pub enum Outcome {
    /// An initial determination proposes prohibiting the transaction.
    Prohibition,
    /// An initial determination proposes mitigation.
    Mitigation,
    /// The transaction is prohibited.
    Prohibited,
    /// The transaction is not prohibited.
    NotProhibited,
    /// The transaction is permitted with mitigation measures.
    PermittedWithMitigation,
    /// A final determination is revoked.
    Revoked,
}

impl Outcome {
    /// Every outcome, the kinds' in their order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Prohibition,
        Outcome::Mitigation,
        Outcome::Prohibited,
        Outcome::NotProhibited,
        Outcome::PermittedWithMitigation,
        Outcome::Revoked,
    ];

    /// The name stored, sent and hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Prohibition => "prohibition",
            Outcome::Mitigation => "mitigation",
            Outcome::Prohibited => "prohibited",
            Outcome::NotProhibited => "not_prohibited",
            Outcome::PermittedWithMitigation => "permitted_with_mitigation",
            Outcome::Revoked => "revoked",
        }
    }

    /// The outcome named `s`, if any.
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// How it reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Prohibition => "Proposes prohibition",
            Outcome::Mitigation => "Proposes mitigation",
            Outcome::Prohibited => "Prohibited",
            Outcome::NotProhibited => "Not prohibited",
            Outcome::PermittedWithMitigation => "Permitted with mitigation",
            Outcome::Revoked => "Revoked",
        }
    }

    /// Whether it rests on mitigation measures.
    pub fn needs_measures(self) -> bool {
        matches!(self, Outcome::Mitigation | Outcome::PermittedWithMitigation)
    }

    /// Whether it prohibits the transaction.
    pub fn prohibits(self) -> bool {
        matches!(self, Outcome::Prohibition | Outcome::Prohibited)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Label of an outcome named by its stored name (an event's, a revision's).
pub fn outcome_label(outcome: &str) -> &'static str {
    Outcome::parse(outcome).map(Outcome::label).unwrap_or("Unknown")
}

/// Whether an outcome named by its name rests on mitigation measures.
pub fn outcome_needs_measures(outcome: &str) -> bool {
    Outcome::parse(outcome).is_some_and(Outcome::needs_measures)
}

/// Whether an outcome named by its name prohibits the transaction.
pub fn outcome_prohibits(outcome: &str) -> bool {
    Outcome::parse(outcome).is_some_and(Outcome::prohibits)
}

/// A section a drafter may mark as containing confidential business information; the
/// Federal Register form of the document leaves them out. Kept in the signed content by
/// its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CbiSection {
    /// Background.
    Background,
    /// Risk analysis.
    RiskAnalysis,
    /// Answers to the parties' submissions.
    SubmissionAnswers,
    /// Timing and manner of cessation.
    Cessation,
    /// Mitigation measures.
    Measures,
}

impl CbiSection {
    /// Every section that can be marked, in the document's order.
    pub const ALL: [CbiSection; 5] = [
        CbiSection::Background,
        CbiSection::RiskAnalysis,
        CbiSection::SubmissionAnswers,
        CbiSection::Cessation,
        CbiSection::Measures,
    ];

    /// The name kept in the content.
    pub fn as_str(self) -> &'static str {
        match self {
            CbiSection::Background => "background",
            CbiSection::RiskAnalysis => "risk_analysis",
            CbiSection::SubmissionAnswers => "submission_answers",
            CbiSection::Cessation => "cessation",
            CbiSection::Measures => "measures",
        }
    }

    /// The section's heading.
    pub fn label(self) -> &'static str {
        match self {
            CbiSection::Background => "Background",
            CbiSection::RiskAnalysis => "Risk analysis",
            CbiSection::SubmissionAnswers => "Answers to the parties' submissions",
            CbiSection::Cessation => "Timing and manner of cessation",
            CbiSection::Measures => "Mitigation measures",
        }
    }
}

/// The penalties statement a draft starts with (IEEPA, 50 U.S.C. 1705).
pub const PENALTIES: &str = "Any person who violates, attempts to violate, conspires to violate, or causes a violation of this determination may be subject to civil penalties of up to the greater of the amount set by 50 U.S.C. 1705(b) as adjusted for inflation (currently about $300,000) or twice the value of the transaction per violation, and, for wilful violations, criminal fines of up to $1,000,000 and imprisonment of up to 20 years (50 U.S.C. 1705(c)).";

/// The answer to one party submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionAnswer {
    /// The submission answered.
    pub submission_id: SubmissionId,
    /// The office's answer.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub answer: String,
}

/// A prohibited transaction and the date from which it is prohibited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prohibition {
    /// What is prohibited.
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub description: String,
    /// From when.
    pub effective_on: Date,
}

/// The content of a determination: what is signed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Content {
    /// Title (e.g. "Final Determination: Case No. ICTS-2021-002, Kaspersky Lab, Inc.").
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub title: String,
    /// The party the determination names.
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub party: String,
    /// Finding on question 1: a covered ICTS transaction.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub covered_finding: String,
    /// Finding on question 2: the foreign-adversary nexus.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub nexus_finding: String,
    /// Risk analysis (question 3), resting on the linked assessment.
    #[schema(value_type = crate::text::Text<{ crate::text::LONG }>, inline)]
    pub risk_analysis: String,
    /// Background beyond the procedural history drawn from the case.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::LONG }>, inline)]
    pub background: String,
    /// Answers to each party submission.
    #[serde(default)]
    pub submission_answers: Vec<SubmissionAnswer>,
    /// Timing and manner of cessation.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub cessation: String,
    /// Prohibited transactions with their dates.
    #[serde(default)]
    #[schema(value_type = crate::text::List<Prohibition, { MAX_PROHIBITIONS }>, inline)]
    pub prohibitions: Vec<Prohibition>,
    /// Penalties statement.
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::PASSAGE }>, inline)]
    pub penalties: String,
    /// Mitigation measures of the case this determination rests on.
    #[serde(default)]
    pub measures: Vec<MeasureId>,
    /// Sections containing confidential business information.
    #[serde(default)]
    #[schema(value_type = Vec<CbiSection>)]
    pub cbi_sections: Vec<Choice<CbiSection>>,
    /// A *not prohibited* determination's statement that the transaction may be reviewed
    /// again in the future (7.109(d) / 791.109). Left out of the signed content when empty,
    /// so earlier determinations keep their hashes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(value_type = crate::text::Text<{ crate::text::PASSAGE }>, inline)]
    pub future_review: String,
    /// The summary printed in the Federal Register front matter (drawn from the finding when
    /// empty). Left out of the signed content when empty, so earlier determinations keep
    /// their hashes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schema(value_type = crate::text::Text<{ crate::text::PASSAGE }>, inline)]
    pub summary: String,
}

/// The most prohibitions a determination may list.
pub const MAX_PROHIBITIONS: usize = 20;

fn text(errors: &mut Vec<FieldError>, field: &str, value: &str, required: bool, max: usize) {
    let n = value.trim().chars().count();
    if required && n == 0 {
        errors
            .push(FieldError::new(field, format!("is required: write up to {} characters", crate::text::grouped(max))));
    } else if n > max {
        errors.push(FieldError::new(field, crate::text::at_most(max)));
    }
}

/// Checks a draft's own fields. `complete` adds what a submitted draft must have.
pub fn validate(
    kind: Kind,
    outcome: &str,
    c: &Content,
    unclassified_confirmed: bool,
    complete: bool,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !kind.outcomes().iter().any(|o| o.as_str() == outcome) {
        let names: Vec<&str> = kind.outcomes().iter().map(|o| o.as_str()).collect();
        e.push(FieldError::new("outcome", format!("must be one of {}", names.join(", "))));
    }
    if !unclassified_confirmed {
        e.push(FieldError::new(
            "unclassified_confirmed",
            "confirm that the determination is unclassified: classified information must never appear in it",
        ));
    }
    text(&mut e, "title", &c.title, true, crate::text::NAME);
    text(&mut e, "party", &c.party, true, crate::text::NAME);
    let findings = kind != Kind::Revocation;
    text(&mut e, "covered_finding", &c.covered_finding, findings && complete, crate::text::TEXT);
    text(&mut e, "nexus_finding", &c.nexus_finding, findings && complete, crate::text::TEXT);
    text(&mut e, "risk_analysis", &c.risk_analysis, findings && complete, crate::text::LONG);
    text(&mut e, "background", &c.background, kind == Kind::Revocation && complete, crate::text::LONG);
    text(&mut e, "cessation", &c.cessation, complete && outcome_prohibits(outcome), crate::text::TEXT);
    text(&mut e, "penalties", &c.penalties, complete && outcome_prohibits(outcome), crate::text::PASSAGE);
    text(&mut e, "summary", &c.summary, false, crate::text::PASSAGE);
    for (i, a) in c.submission_answers.iter().enumerate() {
        text(&mut e, &format!("submission_answers[{i}].answer"), &a.answer, true, crate::text::TEXT);
    }
    if c.prohibitions.len() > MAX_PROHIBITIONS {
        e.push(FieldError::new("prohibitions", format!("at most {MAX_PROHIBITIONS}")));
    }
    for (i, p) in c.prohibitions.iter().enumerate() {
        text(&mut e, &format!("prohibitions[{i}].description"), &p.description, true, crate::text::LINE);
    }
    if complete && outcome == "prohibited" && c.prohibitions.is_empty() {
        e.push(FieldError::new(
            "prohibitions",
            "name the prohibited transactions and the dates from which they are prohibited",
        ));
    }
    if complete && outcome == "not_prohibited" && c.future_review.trim().is_empty() {
        e.push(FieldError::new(
            "future_review",
            "a not-prohibited determination must state that the transaction may be reviewed again in the future (7.109(d) / 791.109)",
        ));
    } else {
        text(&mut e, "future_review", &c.future_review, false, crate::text::PASSAGE);
    }
    if complete && outcome_needs_measures(outcome) && c.measures.is_empty() {
        e.push(FieldError::new("measures", "choose the mitigation measures this determination rests on"));
    }
    for s in &c.cbi_sections {
        if let Choice::Unknown(s) = s {
            e.push(FieldError::new("cbi_sections", format!("{s:?} is not a section that can be marked")));
        }
    }
    e
}

/// The fields a signature covers.
#[derive(Clone, Copy)]
pub struct Signed<'a> {
    /// Determination id.
    pub id: DeterminationId,
    pub case_id: CaseId,
    pub kind: &'a str,
    pub outcome: &'a str,
    /// Revision signed.
    pub revision: i32,
    pub content: &'a serde_json::Value,
    pub cited_documents: &'a [DocumentId],
    /// Linked assessment.
    pub assessment_id: Option<AssessmentId>,
    /// Superseded determination.
    pub supersedes: Option<DeterminationId>,
    /// Drafter.
    pub drafted_by: UserId,
}

/// sha256 of the canonical JSON of what is signed (keys sorted, no whitespace): an
/// exported determination can be checked against the stored hash without the database.
pub fn content_hash(s: &Signed<'_>) -> [u8; 32] {
    let v = json!({
        "v": 1,
        "id": s.id,
        "case_id": s.case_id,
        "kind": s.kind,
        "outcome": s.outcome,
        "revision": s.revision,
        "content": s.content,
        "cited_documents": s.cited_documents,
        "assessment_id": s.assessment_id,
        "supersedes": s.supersedes,
        "drafted_by": s.drafted_by,
    });
    Sha256::digest(canonical_json(&v).as_bytes()).into()
}

pub use crate::canonical::json as canonical_json;

/// Where a determination stands in its four-eyes life: drafted, submitted for signature,
/// returned to the drafter, signed (and then never changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written by its drafter.
    Draft,
    /// Awaiting a supervisor's signature; nobody changes it.
    Submitted,
    /// Sent back by a supervisor with what must change; the drafter revises it.
    Returned,
    /// Signed outside the system and recorded by a supervisor; a second supervisor
    /// confirms it (or returns it) before it becomes part of the record.
    Recorded,
    /// Signed: the record of the decision, never changed.
    Signed,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 5] = [Status::Draft, Status::Submitted, Status::Returned, Status::Recorded, Status::Signed];

    /// The name stored, sent and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Recorded => "recorded",
            Status::Signed => "signed",
        }
    }

    /// Whether a determination may go from this status to `to`: a draft (or a returned one)
    /// is submitted; a submitted one is returned, signed, or has an outside signature
    /// recorded; a recorded one is confirmed (signed) or returned.
    pub fn may_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Draft | Returned, Submitted) | (Submitted, Returned | Signed | Recorded) | (Recorded, Signed | Returned)
        )
    }

    /// How the status reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::Submitted => "Submitted for signature",
            Status::Returned => "Returned to the drafter",
            Status::Recorded => "Signed outside the system, awaiting confirmation",
            Status::Signed => "Signed",
        }
    }

    /// Whether its drafter may still revise it.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A determination as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Determination {
    pub id: DeterminationId,
    /// Case.
    pub case_id: CaseId,
    /// What it is.
    pub kind: Kind,
    /// The determination amended or revoked.
    pub supersedes: Option<DeterminationId>,
    /// What it decides: one of its kind's outcomes.
    pub outcome: Outcome,
    /// Where it stands.
    pub status: Status,
    /// Revision number (send it back when revising).
    pub revision: i32,
    #[schema(value_type = Content)]
    pub content: serde_json::Value,
    /// The assessment the risk analysis rests on (current when last saved).
    pub assessment_id: Option<AssessmentId>,
    /// Documents cited.
    pub cited_documents: Vec<DocumentId>,
    /// The drafter confirmed the determination is unclassified.
    pub unclassified_confirmed: bool,
    /// Drafter.
    pub drafted_by: UserId,
    /// Drafter's name.
    pub drafted_by_name: String,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last saved.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Submitted for signature.
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// Signer.
    pub signed_by: Option<UserId>,
    /// Signer's name.
    pub signed_by_name: Option<String>,
    /// Signed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub signed_at: Option<OffsetDateTime>,
    /// The signer's re-authentication before signing.
    #[serde(with = "time::serde::rfc3339::option")]
    pub reauth_at: Option<OffsetDateTime>,
    /// sha256 of the signed content (hex in JSON).
    #[serde(serialize_with = "crate::audit::hex_opt")]
    #[schema(value_type = Option<String>)]
    pub content_sha256: Option<Vec<u8>>,
    /// The date of the act of signing (for a signature outside the system, the date on the
    /// signed copy; before these dates were kept, the day of `signed_at`).
    pub signed_on: Option<Date>,
    /// The signer's title, as printed in the signature block.
    pub signer_title: Option<String>,
    /// The delegation of the Secretary's authority under which the signer signed.
    pub signer_authority: Option<String>,
    /// Signed outside the system (on paper, or in the office's earlier system) by this
    /// person; `signed_by` is then empty.
    pub outside_signer: Option<String>,
    /// The signed copy of a determination signed outside the system (a case document).
    pub signed_copy_id: Option<DocumentId>,
    /// sha256 of the signed copy (hex in JSON).
    #[serde(serialize_with = "crate::audit::hex_opt")]
    #[schema(value_type = Option<String>)]
    pub signed_copy_sha256: Option<Vec<u8>>,
    /// The supervisor who recorded the outside signature.
    pub recorded_by: Option<UserId>,
    pub recorded_by_name: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub recorded_at: Option<OffsetDateTime>,
    /// The second supervisor who confirmed the recorded outside signature.
    pub confirmed_by: Option<UserId>,
    pub confirmed_by_name: Option<String>,
}

impl Determination {
    /// The content, typed.
    pub fn typed(&self) -> Content {
        serde_json::from_value(self.content.clone()).unwrap_or_default()
    }

    /// What it is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The hash of the content as stored (to compare with `content_sha256`).
    pub fn computed_hash(&self) -> [u8; 32] {
        content_hash(&Signed {
            id: self.id,
            case_id: self.case_id,
            kind: self.kind.as_str(),
            outcome: self.outcome.as_str(),
            revision: self.revision,
            content: &self.content,
            cited_documents: &self.cited_documents,
            assessment_id: self.assessment_id,
            supersedes: self.supersedes,
            drafted_by: self.drafted_by,
        })
    }

    /// Whether it was signed outside the system.
    pub fn signed_outside(&self) -> bool {
        self.outside_signer.is_some()
    }

    /// The date of the act of signing, once signed.
    pub fn signature_date(&self) -> Option<Date> {
        if self.status != Status::Signed {
            return None;
        }
        self.signed_on.or(self.signed_at.map(crate::dates::today))
    }

    /// Whether a CBI section is marked.
    pub fn is_cbi(&self, section: &str) -> bool {
        self.typed().cbi_sections.iter().any(|s| s.as_text() == section)
    }
}

/// A determination listed with its case's docket number and title.
pub struct Listed {
    /// The determination.
    pub d: Determination,
    /// Its case's docket number.
    pub docket_number: String,
    /// Its case's title.
    pub title: String,
}

/// Which determinations to list.
pub enum Listing {
    /// Submitted, awaiting a signature (or a recorded outside signature awaiting its
    /// confirmation), oldest first.
    AwaitingSignature,
    /// As `AwaitingSignature`, without what four-eyes keeps from the user's signature:
    /// drafts they wrote, outside signatures they recorded, drafts on cases they filed.
    AwaitingMySignature,
    /// The user's own unsigned drafts, latest first.
    UnsignedByMe,
    /// Drafts the user returned to their drafters that have not come back, latest first.
    ReturnedBy,
}

/// The orders of the list of every determination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeterminationSort {
    /// Last changed, newest first (the default).
    Newest,
    /// Last changed, oldest first.
    Oldest,
    /// By the case's docket number.
    Docket,
}

impl DeterminationSort {
    /// Every order.
    pub const ALL: [DeterminationSort; 3] =
        [DeterminationSort::Newest, DeterminationSort::Oldest, DeterminationSort::Docket];

    /// Parses a name.
    pub fn parse(s: &str) -> Option<DeterminationSort> {
        DeterminationSort::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeterminationSort::Newest => "newest",
            DeterminationSort::Oldest => "oldest",
            DeterminationSort::Docket => "docket",
        }
    }
}

/// What the list of every determination shows.
#[derive(Debug, Clone)]
pub struct DeterminationFilter {
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    pub sort: DeterminationSort,
    /// The cursor's key and id: the page after it, or before it when `backwards`.
    pub after: Option<(String, uuid::Uuid)>,
    pub backwards: bool,
    pub limit: i64,
}

impl DeterminationFilter {
    /// Whether `key` can be a cursor key of the filter's order (values the columns hold,
    /// written as a cursor writes them: the case list's rules).
    pub fn valid_key(&self, key: &str) -> bool {
        use crate::cases::db::Sort;
        match self.sort {
            DeterminationSort::Newest | DeterminationSort::Oldest => Sort::Newest.valid_key(key),
            DeterminationSort::Docket => Sort::Docket.valid_key(key),
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every pair of statuses: a draft or a returned one is submitted, a submitted one is
    /// returned or signed, a signed one never moves.
    #[test]
    fn determination_statuses_move_as_four_eyes_needs() {
        use super::Status::{self, *};
        let allowed = [
            (Draft, Submitted),
            (Returned, Submitted),
            (Submitted, Returned),
            (Submitted, Signed),
            (Submitted, Recorded),
            (Recorded, Signed),
            (Recorded, Returned),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(from.may_move_to(to), allowed.contains(&(from, to)), "{from} -> {to}");
            }
        }
        assert!(Draft.is_editable() && Returned.is_editable());
        assert!(!Submitted.is_editable() && !Signed.is_editable() && !Recorded.is_editable());
    }

    use super::*;

    fn content() -> Content {
        Content {
            title: "Final Determination: Case No. ICTS-2021-002".into(),
            party: "Kaspersky Lab, Inc.".into(),
            covered_finding: "Covered.".into(),
            nexus_finding: "Nexus.".into(),
            risk_analysis: "Undue risk.".into(),
            cessation: "Cease by 29 September 2024.".into(),
            penalties: PENALTIES.into(),
            prohibitions: vec![Prohibition {
                description: "New agreements".into(),
                effective_on: time::macros::date!(2024 - 07 - 20),
            }],
            ..Content::default()
        }
    }

    #[test]
    fn a_complete_final_prohibition_validates_and_gaps_are_named() {
        assert!(validate(Kind::Final, "prohibited", &content(), true, true).is_empty());
        let e = validate(Kind::Final, "prohibited", &content(), false, true);
        assert_eq!(e[0].field, "unclassified_confirmed");
        let mut c = content();
        c.prohibitions.clear();
        c.cessation.clear();
        let fields: Vec<String> =
            validate(Kind::Final, "prohibited", &c, true, true).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["cessation", "prohibitions"]);
        assert!(validate(Kind::Final, "prohibited", &c, true, false).is_empty(), "a draft may be incomplete");
        let e = validate(Kind::Initial, "prohibited", &content(), true, false);
        assert_eq!(e[0].field, "outcome");
        let e = validate(Kind::Final, "permitted_with_mitigation", &content(), true, true);
        assert_eq!(e[0].field, "measures");
    }

    #[test]
    fn the_hash_is_canonical_and_covers_every_signed_field() {
        let c = serde_json::to_value(content()).unwrap();
        let (id, case) = (DeterminationId::new(), CaseId::new());
        let base = Signed {
            id,
            case_id: case,
            kind: "final",
            outcome: "prohibited",
            revision: 3,
            content: &c,
            cited_documents: &[],
            assessment_id: None,
            supersedes: None,
            drafted_by: UserId(id.0),
        };
        let h = content_hash(&base);
        assert_eq!(h, content_hash(&Signed { ..base }), "deterministic");
        let c2 = serde_json::to_value(Content { party: "Kaspersky Lab, Inc ".into(), ..content() }).unwrap();
        let base = Signed { content: &c, ..base };
        assert_ne!(h, content_hash(&Signed { content: &c2, ..base }));
        let base = Signed { content: &c, ..base };
        assert_ne!(h, content_hash(&Signed { outcome: "not_prohibited", ..base }));
        let base = Signed { outcome: "prohibited", ..base };
        assert_ne!(h, content_hash(&Signed { revision: 4, ..base }));
        assert_eq!(
            canonical_json(&json!({"b": [1, {"d": 1, "c": 2}], "a": "x"})),
            r#"{"a":"x","b":[1,{"c":2,"d":1}]}"#
        );
    }
}

/// The delegation a signer states when they give none and have signed under none before.
pub const DEFAULT_AUTHORITY: &str =
    "Under the authority vested in the Secretary of Commerce by Executive Order 13873, as delegated to the signer";

/// What a supervisor states of themselves when signing (both printed in the signature
/// block). Left out, the title and authority of their last signature are used, else their
/// role and [`DEFAULT_AUTHORITY`].
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The signer's title, e.g. "Under Secretary for Industry and Security".
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::NAME }>>, inline)]
    pub signer_title: Option<String>,
    /// The delegation of the Secretary's authority under which they sign.
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub authority: Option<String>,
    /// The sha256 (hex) of the content the signer reviewed, as the confirmation step shows
    /// it: given, the signature is refused if the content is no longer that.
    #[serde(default)]
    #[schema(value_type = Option<Sha256Hex>, inline)]
    pub content_sha256: Option<String>,
}

/// The document's schema of a sha256 in hex: [`SHA256_HEX`] lower-case hex digits.
pub struct Sha256Hex;

/// How many hex digits a sha256 takes.
pub const SHA256_HEX: usize = 64;

impl utoipa::PartialSchema for Sha256Hex {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(SHA256_HEX))
            .pattern(Some(format!("^[0-9a-f]{{{SHA256_HEX}}}$")))
            .into()
    }
}

impl utoipa::ToSchema for Sha256Hex {}

/// A determination signed outside the system, as a supervisor records it from the signed
/// copy; a second supervisor confirms it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutsideSignature {
    /// The signer's name, as on the signed copy.
    #[schema(value_type = crate::text::Text<{ crate::text::PERSON }>, inline)]
    pub signer_name: String,
    /// The signer's title.
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub signer_title: String,
    /// The delegation of the Secretary's authority under which they signed.
    #[schema(value_type = crate::text::Text<{ crate::text::LINE }>, inline)]
    pub authority: String,
    /// The date of the signature, YYYY-MM-DD.
    pub signed_on: String,
    /// The signed copy: a document attached to the case (its sha256 is recorded).
    pub signed_copy: DocumentId,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// How a final determination is sent to the parties and agencies (7.109(e): registered mail
/// and electronic mail; the others where the office uses them), stored and sent by its
/// lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SendingMethod {
    /// Registered mail.
    RegisteredMail,
    /// Electronic mail.
    ElectronicMail,
    /// Facsimile.
    Facsimile,
    /// A third-party commercial carrier.
    CommercialCarrier,
    /// Personal delivery.
    PersonalDelivery,
}

impl SendingMethod {
    /// Every method, the rule's first.
    pub const ALL: [SendingMethod; 5] = [
        SendingMethod::RegisteredMail,
        SendingMethod::ElectronicMail,
        SendingMethod::Facsimile,
        SendingMethod::CommercialCarrier,
        SendingMethod::PersonalDelivery,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            SendingMethod::RegisteredMail => "registered_mail",
            SendingMethod::ElectronicMail => "electronic_mail",
            SendingMethod::Facsimile => "facsimile",
            SendingMethod::CommercialCarrier => "commercial_carrier",
            SendingMethod::PersonalDelivery => "personal_delivery",
        }
    }

    /// How it reads on a page.
    pub fn label(self) -> &'static str {
        match self {
            SendingMethod::RegisteredMail => "Registered mail",
            SendingMethod::ElectronicMail => "Electronic mail",
            SendingMethod::Facsimile => "Facsimile",
            SendingMethod::CommercialCarrier => "Third-party commercial carrier",
            SendingMethod::PersonalDelivery => "Personal delivery",
        }
    }
}

/// To whom a determination is sent, stored and sent by its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A party to the transaction.
    Party,
    /// An appropriate agency.
    Agency,
}

impl RecipientKind {
    /// Both.
    pub const ALL: [RecipientKind; 2] = [RecipientKind::Party, RecipientKind::Agency];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Party => "party",
            RecipientKind::Agency => "agency",
        }
    }
}

/// A signed determination sent to a party or an agency.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSending {
    /// Who it was sent to (a party's or an agency's name).
    #[schema(value_type = crate::text::Text<{ crate::text::NAME }>, inline)]
    pub recipient: String,
    /// Whether it was sent to a party or an agency.
    #[schema(value_type = RecipientKind)]
    pub recipient_kind: Choice<RecipientKind>,
    /// How.
    #[schema(value_type = SendingMethod)]
    pub method: Choice<SendingMethod>,
    /// Sent on, YYYY-MM-DD (today when absent).
    #[serde(default)]
    pub sent_on: Option<String>,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// A recorded sending.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sending {
    pub id: Uuid,
    pub recipient: String,
    pub recipient_kind: RecipientKind,
    pub method: SendingMethod,
    pub sent_on: time::Date,
}

/// The Federal Register publication of a signed determination.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublication {
    /// Published on, YYYY-MM-DD.
    pub published_on: String,
    /// Citation, e.g. `89 FR 52434`.
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub citation: String,
    /// Federal Register document number, e.g. `2024-13532`.
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub document_number: String,
    /// Why the act is recorded more than 7 days after its date (required then).
    #[serde(default)]
    #[schema(value_type = Option<crate::text::Text<{ crate::text::LINE }>>, inline)]
    pub late_reason: Option<String>,
}

/// A recorded publication.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Publication {
    pub published_on: time::Date,
    pub citation: String,
    pub document_number: String,
}

/// A Federal Register citation in its usual form (`89 FR 52434`), if `s` is one.
pub fn parse_citation(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    match parts.as_slice() {
        [vol, fr, page]
            if fr.eq_ignore_ascii_case("FR")
                && (1..=3).contains(&vol.len())
                && (1..=6).contains(&page.len())
                && vol.chars().chain(page.chars()).all(|c| c.is_ascii_digit()) =>
        {
            Some(format!("{vol} FR {page}"))
        }
        _ => None,
    }
}

/// A Federal Register document number (`2024-13532`), if `s` is one.
pub fn parse_document_number(s: &str) -> Option<String> {
    let s = s.trim();
    let (year, n) = s.split_once('-')?;
    (year.len() == 4 && (4..=6).contains(&n.len()) && year.chars().chain(n.chars()).all(|c| c.is_ascii_digit()))
        .then(|| s.to_string())
}
