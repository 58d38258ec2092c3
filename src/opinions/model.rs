//! Advisory opinions' types and rules, with no I/O: the request's 791.310(c)(1)–(7) content
//! and what a complete one holds, its statuses, the opinion's conclusion and content hash,
//! and its public version with the confidential business information redacted.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::choice::Choice;
use crate::ids::{OpinionId, PartyId, UserId};

crate::rule_items! {
    /// One item of a request, as 791.310(c) lists them.
    item Item as OpinionItem;
    /// A request's (c)(1)–(7) content, each item's text empty until given.
    contents Contents as OpinionRequestContents;
    /// (c)(1) The submitter's name, title, telephone and e-mail.
    Submitter => submitter: "The submitter's name, title, telephone and e-mail";
    /// (c)(2) The submitter's complete address.
    SubmitterAddress => submitter_address: "The submitter's complete address";
    /// (c)(3) What identifies the parties to the prospective transaction.
    Parties => parties: "What identifies the parties to the prospective transaction";
    /// (c)(4) The VCS hardware or covered software, with the technical detail to verify
    /// whether the transaction would be prohibited.
    Technology => technology:
        "The VCS hardware or covered software, with the technical detail to verify whether the transaction would be prohibited";
    /// (c)(5) A manufacturer's completed vehicle: make, model and trim.
    Vehicle => vehicle: "A manufacturer's completed vehicle: make, model and trim";
    /// (c)(6) An importer's system, and the vehicles it is meant for if known.
    System => system: "An importer's system, and the vehicles it is meant for if known";
    /// (c)(7) Anything else the submitter believes material.
    Other => other: "Anything else the submitter believes material";
}

impl Contents {
    /// What a complete request still lacks: (c)(1) to (c)(4), and the vehicle (c)(5) or the
    /// system (c)(6) concerned (either, as the requester manufactures or imports); (c)(7) is
    /// the submitter's to add or not.
    pub fn missing(&self) -> Vec<Item> {
        let given = |i: Item| !self.get(i).trim().is_empty();
        let mut out: Vec<Item> = [Item::Submitter, Item::SubmitterAddress, Item::Parties, Item::Technology]
            .into_iter()
            .filter(|i| !given(*i))
            .collect();
        if !given(Item::Vehicle) && !given(Item::System) {
            out.extend([Item::Vehicle, Item::System]);
        }
        out
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[schema(as = OpinionRequestStatus)]
pub enum Status {
    Received,
    Incomplete,
    UnderReview,
    QuestionsAsked,
    Issued,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Received,
        Status::Incomplete,
        Status::UnderReview,
        Status::QuestionsAsked,
        Status::Issued,
        Status::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Incomplete => "incomplete",
            Status::UnderReview => "under_review",
            Status::QuestionsAsked => "questions_asked",
            Status::Issued => "issued",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Received => "Received",
            Status::Incomplete => "Returned incomplete",
            Status::UnderReview => "Under review",
            Status::QuestionsAsked => "Questions asked",
            Status::Issued => "Opinion issued",
            Status::Withdrawn => "Withdrawn",
        }
    }

    pub fn awaits_check(self) -> bool {
        matches!(self, Status::Received | Status::Incomplete)
    }

    pub fn in_review(self) -> bool {
        matches!(self, Status::UnderReview | Status::QuestionsAsked)
    }

    /// Whether material (the requester's or a third party's) is still taken.
    pub fn takes_material(self) -> bool {
        !matches!(self, Status::Issued | Status::Withdrawn)
    }
}

/// An act of a request's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[schema(as = OpinionActKind)]
pub enum ActKind {
    Filed,
    ReturnedIncomplete,
    FoundComplete,
    MaterialAdded,
    ThirdPartyMaterial,
    QuestionAsked,
    QuestionAnswered,
    OpinionDrafted,
    OpinionIssued,
    Withdrawn,
}

impl ActKind {
    pub fn label(self) -> &'static str {
        match self {
            ActKind::Filed => "Filed",
            ActKind::ReturnedIncomplete => "Returned incomplete",
            ActKind::FoundComplete => "Found complete",
            ActKind::MaterialAdded => "The requester's material added",
            ActKind::ThirdPartyMaterial => "Third-party material considered",
            ActKind::QuestionAsked => "Question asked",
            ActKind::QuestionAnswered => "Question answered",
            ActKind::OpinionDrafted => "Opinion drafted",
            ActKind::OpinionIssued => "Opinion signed and issued",
            ActKind::Withdrawn => "Withdrawn",
        }
    }
}

/// An act as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OpinionAct)]
pub struct ActRow {
    pub seq: i64,
    pub kind: ActKind,
    pub effective_on: Date,
    pub items: Vec<String>,
    pub note: String,
    /// Third-party material: whose.
    pub source: String,
    /// An answer: the question's `seq`.
    pub answers: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub recorded_by: String,
}

/// The opinion's conclusion on the prospective transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// The transaction, on the facts given, would be prohibited by Subpart D.
    Prohibited,
    /// It would not be prohibited.
    NotProhibited,
}

impl Conclusion {
    pub fn label(self) -> &'static str {
        match self {
            Conclusion::Prohibited => "Prohibited on the facts given",
            Conclusion::NotProhibited => "Not prohibited on the facts given",
        }
    }
}

/// A request with its opinion (drafted or issued).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = OpinionRequest)]
pub struct Request {
    pub id: OpinionId,
    /// `AO-2026-0001`.
    pub number: String,
    pub requester_id: PartyId,
    pub requester_name: String,
    /// The question(s) presented.
    pub question: String,
    /// The requester's direct financial interest in it (791.310(a)).
    pub interest: String,
    pub contents: Contents,
    pub filed_on: Date,
    pub status: Status,
    pub complete_on: Option<Date>,
    pub last_act_on: Date,
    pub version: i64,
    pub conclusion: Option<Conclusion>,
    /// The opinion as drafted, `[CBI]…[/CBI]` marking confidential business information.
    pub opinion: String,
    pub revision: i64,
    pub drafted_by: Option<UserId>,
    pub drafted_by_name: Option<String>,
    pub signed_by_name: Option<String>,
    pub signed_on: Option<Date>,
    /// The hash the signature covers (hex), once issued.
    pub content_sha256: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

/// What a signature on `r`'s opinion covers, in canonical JSON's sha256.
pub fn content_hash(r: &Request) -> [u8; 32] {
    use sha2::Digest;
    let v = serde_json::json!({
        "request": r.id, "number": r.number, "requester": r.requester_id, "question": r.question,
        "conclusion": r.conclusion, "opinion": r.opinion, "revision": r.revision, "drafted_by": r.drafted_by,
    });
    sha2::Sha256::digest(crate::canonical::json(&v).as_bytes()).into()
}

/// What the opinion binds, as its public version states it.
pub const BINDS: &str = "This opinion binds the Bureau only on the facts stated in the request; it does not bind it on any other facts or on any other party's transaction.";

/// The public version of an issued opinion: its text with each confidential span replaced
/// by `[CBI redacted]`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicOpinion {
    pub number: String,
    pub requester_name: String,
    pub question: String,
    pub conclusion: Conclusion,
    pub text: String,
    pub issued_on: Date,
    pub binds: &'static str,
}

/// An opinion drafted (or redrafted).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOpinion {
    #[schema(value_type = Conclusion)]
    pub conclusion: Choice<Conclusion>,
    /// The opinion; mark confidential business information `[CBI]…[/CBI]`: the public
    /// version prints `[CBI redacted]` in its place.
    #[schema(value_type = crate::text::Text<{ crate::text::LONG }>, inline)]
    pub opinion: String,
    /// The request's version; a stale one gets 409.
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_request_names_a_vehicle_or_a_system() {
        let c =
            Contents { submitter: "A. Li, counsel".into(), parties: "Voltra; Quanta".into(), ..Contents::default() };
        let missing: Vec<String> = c.missing().into_iter().map(Item::cite).collect();
        assert_eq!(missing, ["(c)(2)", "(c)(4)", "(c)(5)", "(c)(6)"]);
        let c = Contents {
            submitter: "a".into(),
            submitter_address: "b".into(),
            parties: "c".into(),
            technology: "d".into(),
            system: "TCU-2203".into(),
            ..Contents::default()
        };
        assert!(c.missing().is_empty(), "an importer names its system, not a vehicle; (c)(7) is optional");
        assert_eq!(Item::Parties.named(), "(c)(3) what identifies the parties to the prospective transaction");
    }
}

/// The questions of a request's history not yet answered: each one's act number and text.
pub fn open_questions(acts: &[ActRow]) -> Vec<(i64, String)> {
    acts.iter()
        .filter(|q| q.kind == ActKind::QuestionAsked && !acts.iter().any(|a| a.answers == Some(q.seq)))
        .map(|q| (q.seq, q.note.clone()))
        .collect()
}

/// The work of advisory opinion requests for a home page.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OpinionWork {
    /// Received and not yet checked for completeness.
    pub to_check: i64,
    /// Complete and being reviewed (questions open included).
    pub in_review: i64,
    /// Waiting for the requester's answers.
    pub questions_asked: i64,
    /// Opinions drafted and awaiting a second supervisor's signature.
    pub to_sign: i64,
}
