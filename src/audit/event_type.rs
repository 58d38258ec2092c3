//! The types of the audit log's events: one variant per kind of act the product records,
//! each with its stable code (`case.transition`, `user.created`, ...).
//!
//! The code is what `audit_events.event_type` stores, what every export and the hash chain
//! carry: a code never changes once released, not by a byte. A variant the product no
//! longer writes stays, so that the events it wrote still read as that variant.
//!
//! Writers name an event by its variant ([`super::NewEvent::new`]). Readers keep the
//! stored code as a string ([`super::StoredEvent::event_type`]) and ask
//! [`super::StoredEvent::kind`] for the variant: a log may hold codes this release does not
//! know (written by a later release, or by a retired one whose variant was dropped). Such an
//! event is shown by its stored code as it is, verifies like any other (the chain hashes
//! the code, never the variant), counts as holding case content (redacted for readers who
//! see none) and as possibly changing a case list.

use std::fmt;
use std::str::FromStr;

macro_rules! event_types {
    ($( $(#[$meta:meta])* $variant:ident = $code:literal, )*) => {
        /// The type of an audit event; its [`code`](EventType::as_str) is what the log stores.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $( $(#[$meta])* $variant, )*
        }

        impl EventType {
            /// Every event type, in declaration order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),*];

            /// The stable code stored in the log, e.g. `case.transition`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( EventType::$variant => $code, )*
                }
            }

            /// The event type of a stored code; `None` for a code this release does not know.
            pub fn parse(code: &str) -> Option<EventType> {
                match code {
                    $( $code => Some(EventType::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    /// A request refused for want of permission.
    AccessRefused = "access.refused",
    /// An agency's response to a notice.
    AgencyNoticeResponse = "agency_notice.response",
    /// A notice sent to an agency.
    AgencyNoticeSent = "agency_notice.sent",
    /// An export of the log that could not be completed.
    AuditExportIncomplete = "audit.export_incomplete",
    /// An export of the log.
    AuditExported = "audit.exported",
    /// A verification of the chain.
    AuditVerified = "audit.verified",
    /// An account locked after repeated failures.
    AuthLockout = "auth.lockout",
    /// A passkey sign-in begun.
    AuthPasskeyStarted = "auth.passkey_started",
    /// A password accepted, the second factor still to come.
    AuthPasswordAccepted = "auth.password_accepted",
    /// A confirmation of identity before a sensitive act.
    AuthReauthenticate = "auth.reauthenticate",
    /// A second factor given at sign-in.
    AuthSecondFactor = "auth.second_factor",
    /// A sign-in.
    AuthSignIn = "auth.sign_in",
    /// A sign-out.
    AuthSignOut = "auth.sign_out",
    /// An act on a specific authorization application: its completeness check, material
    /// added, a question, an answer, a briefing, the application withdrawn.
    AuthorizationActRecorded = "authorization.act_recorded",
    /// A specific authorization application filed.
    AuthorizationApplicationFiled = "authorization.application_filed",
    /// A condition of a specific authorization checked (implemented, verified, breached).
    AuthorizationConditionChecked = "authorization.condition_checked",
    /// The decision on a specific authorization application drafted.
    AuthorizationDecisionDrafted = "authorization.decision_drafted",
    /// The decision on a specific authorization application signed.
    AuthorizationDecisionSigned = "authorization.decision_signed",
    /// A case's risk assessed.
    CaseAssessed = "case.assessed",
    /// A case assigned.
    CaseAssigned = "case.assigned",
    /// A proposed override of a case's risk band approved.
    CaseBandOverrideApproved = "case.band_override_approved",
    /// An override of a case's risk band proposed.
    CaseBandOverrideProposed = "case.band_override_proposed",
    /// A proposed override of a case's risk band refused.
    CaseBandOverrideRefused = "case.band_override_refused",
    /// A statutory clock extended.
    CaseClockExtended = "case.clock_extended",
    /// A case consolidated into this one.
    CaseConsolidatedFrom = "case.consolidated_from",
    /// This case consolidated into another.
    CaseConsolidatedInto = "case.consolidated_into",
    /// A case opened (or moved in from the office's records).
    CaseCreated = "case.created",
    /// A deviation from the rules in an emergency.
    CaseEmergencyDeviation = "case.emergency_deviation",
    /// A case exported.
    CaseExported = "case.exported",
    /// A note added to a case.
    CaseNoteAdded = "case.note_added",
    /// A case's nexus recorded.
    CaseNexusRecorded = "case.nexus_recorded",
    /// A party linked to a case.
    CasePartyLinked = "case.party_linked",
    /// The parties' response complete.
    CaseResponseComplete = "case.response_complete",
    /// A request for information answered.
    CaseRfiAnswered = "case.rfi_answered",
    /// A request for information sent.
    CaseRfiSent = "case.rfi_sent",
    /// A case's rule set chosen.
    CaseRuleSet = "case.rule_set",
    /// Screening hits recorded on a case.
    CaseScreeningHits = "case.screening_hits",
    /// A transaction recorded on a case.
    CaseTransactionAdded = "case.transaction_added",
    /// Transactions imported into a case.
    CaseTransactionsImported = "case.transactions_imported",
    /// A case moved by an action of its workflow.
    CaseTransition = "case.transition",
    /// A case's fields changed.
    CaseUpdated = "case.updated",
    /// A restricted case opened.
    CaseViewed = "case.viewed",
    /// A Declaration of Conformity filed (an amendment too).
    DeclarationFiled = "declaration.filed",
    /// A question about a declaration answered by its filer.
    DeclarationQuestionAnswered = "declaration.question_answered",
    /// A question about a declaration asked of its filer.
    DeclarationQuestionAsked = "declaration.question_asked",
    /// A declaration moved by its review.
    DeclarationStatusChanged = "declaration.status_changed",
    /// A declaration replaced by its amendment.
    DeclarationSuperseded = "declaration.superseded",
    /// A determination drafted.
    DeterminationDrafted = "determination.drafted",
    /// A determination published.
    DeterminationPublished = "determination.published",
    /// A determination returned to its drafter.
    DeterminationReturned = "determination.returned",
    /// A determination revised.
    DeterminationRevised = "determination.revised",
    /// A determination sent.
    DeterminationSent = "determination.sent",
    /// A signature on a determination recorded.
    DeterminationSignatureRecorded = "determination.signature_recorded",
    /// A determination signed.
    DeterminationSigned = "determination.signed",
    /// A determination submitted for signature.
    DeterminationSubmitted = "determination.submitted",
    /// A document downloaded.
    DocumentDownloaded = "document.downloaded",
    /// A document uploaded.
    DocumentUploaded = "document.uploaded",
    /// An act recorded in an enforcement matter (a finding, a notice, an answer, an
    /// extension, a settlement, the matter closed).
    EnforcementActRecorded = "enforcement.act_recorded",
    /// An enforcement matter's dossier exported.
    EnforcementMatterExported = "enforcement.matter_exported",
    /// An enforcement matter opened.
    EnforcementMatterOpened = "enforcement.matter_opened",
    /// A firm's reliance on a general authorization recorded.
    GeneralAuthorizationRelied = "general_authorization.relied",
    /// An act of a reliance on a general authorization: a report filed, a change of
    /// circumstance, its reassessment, the reliance ended.
    GeneralAuthorizationRelianceAct = "general_authorization.reliance_act",
    /// A supplier's application for GA 3's approved-supplier list recorded.
    GeneralAuthorizationSupplierApplied = "general_authorization.supplier_applied",
    /// The office's decision on a supplier for GA 3's list, or its removal.
    GeneralAuthorizationSupplierDecided = "general_authorization.supplier_decided",
    /// An import of records completed.
    ImportCompleted = "import.completed",
    /// A mitigation measure checked.
    MeasureChecked = "measure.checked",
    /// A mitigation measure proposed.
    MeasureProposed = "measure.proposed",
    /// A mitigation measure's status changed.
    MeasureStatus = "measure.status",
    /// A notification read.
    NotificationRead = "notification.read",
    /// An act on a request for an advisory opinion: its completeness check, a question, an
    /// answer, the requester's or a third party's material, the request withdrawn.
    OpinionActRecorded = "opinion.act_recorded",
    /// An advisory opinion drafted.
    OpinionDrafted = "opinion.drafted",
    /// An advisory opinion signed and issued.
    OpinionIssued = "opinion.issued",
    /// A request for an advisory opinion filed.
    OpinionRequested = "opinion.requested",
    /// A party created.
    PartyCreated = "party.created",
    /// Evidence added to a party.
    PartyEvidenceAdded = "party.evidence_added",
    /// A party's dossier exported (as a filer, across both dockets).
    PartyExported = "party.exported",
    /// A party's filer role recorded (connected vehicles).
    PartyFilerRoleRecorded = "party.filer_role_recorded",
    /// A screening hit on a party confirmed.
    PartyScreeningHitConfirmed = "party.screening_hit_confirmed",
    /// A screening hit on a party dismissed.
    PartyScreeningHitDismissed = "party.screening_hit_dismissed",
    /// A party's fields changed.
    PartyUpdated = "party.updated",
    /// A reference value added.
    ReferenceAdded = "reference.added",
    /// A reference value changed.
    ReferenceUpdated = "reference.updated",
    /// A rubric created.
    RubricCreated = "rubric.created",
    /// A screening list imported.
    ScreeningListImported = "screening.list_imported",
    /// A session ended.
    SessionEnded = "session.ended",
    /// A change to a role's sign-in policy approved.
    SignInPolicyChangeApproved = "sign_in_policy.change_approved",
    /// A request to change a role's sign-in policy expired unanswered.
    SignInPolicyChangeExpired = "sign_in_policy.change_expired",
    /// A change to a role's sign-in policy refused.
    SignInPolicyChangeRefused = "sign_in_policy.change_refused",
    /// A change to a role's sign-in policy asked for.
    SignInPolicyChangeRequested = "sign_in_policy.change_requested",
    /// A request to change a role's sign-in policy withdrawn.
    SignInPolicyChangeWithdrawn = "sign_in_policy.change_withdrawn",
    /// A role's sign-in policy changed.
    SignInPolicyChanged = "sign_in_policy.changed",
    /// A meeting with the parties held.
    SubmissionMeetingHeld = "submission.meeting_held",
    /// A submission received.
    SubmissionReceived = "submission.received",
    /// An account activated.
    UserActivated = "user.activated",
    /// A change to an account approved.
    UserChangeApproved = "user.change_approved",
    /// A request to change an account expired unanswered.
    UserChangeExpired = "user.change_expired",
    /// A change to an account refused.
    UserChangeRefused = "user.change_refused",
    /// A change to an account asked for.
    UserChangeRequested = "user.change_requested",
    /// A request to change an account withdrawn.
    UserChangeWithdrawn = "user.change_withdrawn",
    /// An account created.
    UserCreated = "user.created",
    /// An account deactivated.
    UserDeactivated = "user.deactivated",
    /// A single sign-on identity linked to an account.
    UserIdentityLinked = "user.identity_linked",
    /// A single sign-on identity unlinked from an account.
    UserIdentityUnlinked = "user.identity_unlinked",
    /// A password changed by its holder.
    UserPasswordChanged = "user.password_changed",
    /// A password reset by an administrator.
    UserPasswordReset = "user.password_reset",
    /// An account reactivated.
    UserReactivated = "user.reactivated",
    /// Recovery codes generated.
    UserRecoveryCodesGenerated = "user.recovery_codes_generated",
    /// An account's role changed.
    UserRoleChanged = "user.role_changed",
    /// An account's second factors reset.
    UserSecondFactorsReset = "user.second_factors_reset",
    /// A security key added.
    UserSecurityKeyAdded = "user.security_key_added",
    /// A security key removed.
    UserSecurityKeyRemoved = "user.security_key_removed",
    /// An account's sessions ended by an administrator.
    UserSessionsEnded = "user.sessions_ended",
    /// An account's time zone set.
    UserTimeZoneSet = "user.time_zone_set",
    /// An authenticator app enrolled.
    UserTotpEnrolled = "user.totp_enrolled",
    /// An authenticator app removed.
    UserTotpRemoved = "user.totp_removed",
    /// An authenticator app's enrolment begun.
    UserTotpStarted = "user.totp_started",
    /// An account unlocked.
    UserUnlocked = "user.unlocked",
    /// Harness only, never written by the product: the events the integration tests append
    /// to exercise the chain itself.
    #[doc(hidden)]
    Test = "test.event",
    /// Harness only, never written by the product: the events the load benchmark appends.
    #[doc(hidden)]
    Bench = "bench.append",
}

impl EventType {
    /// The part of the code before its dot: what the event is about (`case`, `user`, ...).
    pub fn domain(self) -> &'static str {
        let code = self.as_str();
        code.split_once('.').map_or(code, |(d, _)| d)
    }

    /// Whether the changes of an event of this type hold no case content: accounts,
    /// sign-in, the roles' sign-in policy and sessions, refusals, the audit chain itself,
    /// reference data and screening lists.
    pub fn content_free(self) -> bool {
        matches!(self.domain(), "auth" | "user" | "sign_in_policy" | "session" | "access" | "audit" | "reference")
            || self == EventType::ScreeningListImported
    }

    /// Whether an event of this type may come with a change to what a case list shows. Not
    /// sign-ins, sessions, refusals, the log's own reads and exports, nor openings and
    /// exports of cases: those only read. (Migration 0039 classified the events before it
    /// by the same rule.)
    pub fn may_change_cases(self) -> bool {
        !(matches!(self.domain(), "auth" | "session" | "access" | "audit")
            || matches!(
                self,
                EventType::CaseViewed
                    | EventType::CaseExported
                    | EventType::PartyExported
                    | EventType::EnforcementMatterExported
            ))
    }

    /// Whether only the test and benchmark harnesses write it.
    pub fn harness_only(self) -> bool {
        matches!(self, EventType::Test | EventType::Bench)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code this release does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEventType(pub String);

impl fmt::Display for UnknownEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown event type {:?}", self.0)
    }
}

impl std::error::Error for UnknownEventType {}

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        EventType::parse(code).ok_or_else(|| UnknownEventType(code.to_string()))
    }
}

impl serde::Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn every_event_type_round_trips_through_its_code() {
        let mut codes = std::collections::HashSet::new();
        for &t in EventType::ALL {
            assert!(codes.insert(t.as_str()), "{t:?}: code {} used twice", t.as_str());
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), t);
            // A code is lower-case words, one dot between what it is about and what happened.
            let (domain, act) = t.as_str().split_once('.').unwrap();
            assert!(!domain.is_empty() && !act.is_empty() && !act.contains('.'), "{t:?}");
            assert!(t.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'), "{t:?}");
        }
    }

    #[test]
    fn unknown_codes_are_not_event_types() {
        assert_eq!(EventType::parse("case.retired_long_ago"), None);
        assert!("".parse::<EventType>().is_err());
        assert!(serde_json::from_str::<EventType>("\"case.Transition\"").is_err());
    }

    #[test]
    fn classification_follows_the_code() {
        use EventType::*;
        assert!(AuthSignIn.content_free() && !AuthSignIn.may_change_cases());
        assert!(ScreeningListImported.content_free() && ScreeningListImported.may_change_cases());
        assert!(!CaseTransition.content_free() && CaseTransition.may_change_cases());
        assert!(!CaseViewed.may_change_cases() && !CaseExported.may_change_cases());
        assert!(ReferenceAdded.content_free() && UserCreated.content_free());
        assert!(Test.harness_only() && Bench.harness_only() && !CaseCreated.harness_only());
    }
}
