//! Typed ids: each kind of object has its own newtype over a UUID, so that a case id can
//! never be passed where a user id is expected. They bind to SQL as plain `uuid`.

use std::fmt;
use std::str::FromStr;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema)]
        #[schema(value_type = uuid::Uuid)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7), so that new rows cluster in indexes.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A case (one review, with its docket number).
    CaseId
);
typed_id!(
    /// A party in the shared registry.
    PartyId
);
typed_id!(
    /// A Declaration of Conformity.
    DeclarationId
);
typed_id!(
    /// An enforcement matter: one alleged violation and its proceeding.
    MatterId
);
typed_id!(
    /// An application for a specific authorization (connected vehicles, 791.307).
    ApplicationId
);
typed_id!(
    /// The office's decision on a specific authorization application.
    DecisionId
);
typed_id!(
    /// A request for an advisory opinion (connected vehicles, 791.310), with its opinion.
    OpinionId
);
typed_id!(
    /// A firm's reliance on a general authorization.
    RelianceId
);
typed_id!(
    /// A supplier's application for the approved-supplier list of GA 3.
    SupplierId
);

typed_id!(
    /// A determination (initial or final) of a case.
    DeterminationId
);
typed_id!(
    /// A document attached to a case.
    DocumentId
);
typed_id!(
    /// A mitigation measure of a case.
    MeasureId
);

typed_id!(
    /// A possible match of a party against a screening list entry.
    HitId
);
typed_id!(
    /// A piece of nexus evidence recorded on a party.
    EvidenceId
);
typed_id!(
    /// A notice to the other agencies (first or second step of consultation).
    NoticeId
);
typed_id!(
    /// A submission received from a party (response, mitigation proposal, other).
    SubmissionId
);
typed_id!(
    /// A compliance check of a mitigation measure.
    CheckId
);
typed_id!(
    /// A note on a case.
    NoteId
);
typed_id!(
    /// A request for information sent about a case.
    RfiId
);
typed_id!(
    /// A risk assessment of a case (one per scoring).
    AssessmentId
);
typed_id!(
    /// A recorded nexus finding of a case.
    FindingId
);
typed_id!(
    /// A supervisor's override of a case's risk band.
    OverrideId
);
typed_id!(
    /// An ICTS transaction under review in a case.
    TransactionId
);
typed_id!(
    /// A notification for one user.
    NotificationId
);
typed_id!(
    /// A message waiting in the mail outbox.
    MailId
);
typed_id!(
    /// An event of the audit log (its place in the chain is its `seq`).
    EventId
);
typed_id!(
    /// A signed-in session.
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = CaseId::new();
        assert_eq!(id.to_string().parse::<CaseId>().unwrap(), id);
        assert!("not-a-uuid".parse::<CaseId>().is_err());
        assert_ne!(UserId::new(), UserId::new());
    }
}
