//! The access policy: the one place that answers "may this actor do this to that?". Roles
//! are compared here and nowhere else: handlers ask through the `Authorized` extractor or
//! [`Actor::may`](super::Actor::may), use cases through the functions below (need-to-know,
//! own-case work, four-eyes). Deny by default: an action not listed for a role is refused.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// A user's role; one per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "user_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Files cases, researches parties, drafts determinations.
    Analyst,
    /// Accepts referrals, assigns work, signs determinations.
    Supervisor,
    /// Reads everything, changes nothing, exports histories.
    Auditor,
    /// Manages accounts and reference data; sees no case content.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Analyst, Role::Supervisor, Role::Auditor, Role::Admin];

    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Analyst => "Analyst",
            Role::Supervisor => "Supervisor",
            Role::Auditor => "Auditor",
            Role::Admin => "Administrator",
        }
    }

    /// Idle timeout of this role's sessions, in minutes (QUALITY.md: 10 for admins).
    pub fn idle_minutes(self) -> i64 {
        match self {
            Role::Admin => 10,
            Role::Analyst | Role::Supervisor | Role::Auditor => 15,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Things an actor may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See and manage one's own account (password, sessions).
    ManageOwnAccount,
    /// List, create and change accounts.
    ManageUsers,
    /// Read the audit log.
    ReadAuditLog,
    /// See cases (subject to need-to-know) and reference data in context.
    ViewCases,
    /// File cases, edit them, add notes, take workflow actions (the workflow narrows it).
    WorkCases,
    /// Assign and reassign cases.
    AssignCases,
    /// Edit reference data (adversaries, categories, agencies, data categories).
    ManageReference,
    /// Sign or return determinations (never one's own draft: checked by the service and
    /// the database).
    SignDeterminations,
    /// Export a case's complete history (auditors and supervisors, with a step-up).
    ExportCases,
    /// Be the assignee of a case.
    BeAssigned,
    /// Consolidate one review into another.
    ConsolidateCases,
    /// Mark a case restricted (need-to-know) or lift the restriction.
    RestrictCases,
    /// Publish a new version of the risk rubric.
    ManageRubrics,
    /// Accept or reject a proposed override of a risk band (never one's own proposal).
    DecideOverrides,
    /// See restricted cases without being their assignee.
    SeeRestrictedCases,
    /// Extend a case's clock.
    GrantExtensions,
    /// Keep a case under the rule other than the one in force on its acceptance date.
    SetCaseRule,
    /// Record an emergency deviation from the procedure (7.100(e) / 791.100(e)).
    RecordDeviations,
    /// Enter a case that began outside the system, with the office's docket number.
    EnterExistingCases,
    /// See the second docket's filings (declarations) and filers.
    ViewFilings,
    /// Receive filings, record filer roles and review declarations.
    WorkFilings,
    /// See enforcement matters (both dockets; a first-docket matter subject to its case's
    /// need-to-know).
    ViewEnforcement,
    /// Open enforcement matters and record the respondent's answers.
    WorkEnforcement,
    /// Record the office's acts in a matter: findings, notices, extensions, settlements.
    DecideEnforcement,
    /// Sign the office's decision on a specific authorization application (never one's own
    /// draft), and decide on suppliers for GA 3's approved-supplier list.
    SignAuthorizations,
}

/// Whether `role` may take `action`.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ManageOwnAccount => true,
        ManageUsers => role == Admin,
        ReadAuditLog => matches!(role, Auditor | Admin),
        ViewCases => matches!(role, Analyst | Supervisor | Auditor),
        WorkCases => matches!(role, Analyst | Supervisor),
        AssignCases => role == Supervisor,
        ManageReference => role == Admin,
        SignDeterminations => role == Supervisor,
        ExportCases => matches!(role, Supervisor | Auditor),
        BeAssigned => matches!(role, Analyst | Supervisor),
        ConsolidateCases | RestrictCases | DecideOverrides | GrantExtensions | SetCaseRule | RecordDeviations
        | EnterExistingCases => role == Supervisor,
        ManageRubrics => role == Admin,
        SeeRestrictedCases => matches!(role, Supervisor | Auditor),
        ViewFilings => matches!(role, Analyst | Supervisor | Auditor),
        WorkFilings => matches!(role, Analyst | Supervisor),
        ViewEnforcement => matches!(role, Analyst | Supervisor | Auditor),
        WorkEnforcement => matches!(role, Analyst | Supervisor),
        DecideEnforcement => role == Supervisor,
        SignAuthorizations => role == Supervisor,
    }
}

/// Whether `role` reads the changes of events about cases (auditors do; admins, who see
/// no case content anywhere, do not; analysts and supervisors never read the log).
pub fn sees_case_content(role: Role) -> bool {
    role != Role::Admin
}

/// How much of the case register a role sees (need-to-know), for list queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseScope {
    /// Every case, restricted ones included.
    All,
    /// Unrestricted cases and the restricted ones assigned to the actor.
    UnrestrictedOrAssigned,
    /// No case content at all.
    Nothing,
}

/// The part of the case register `role` sees.
pub fn case_scope(role: Role) -> CaseScope {
    if allows(role, Action::SeeRestrictedCases) {
        CaseScope::All
    } else if allows(role, Action::ViewCases) {
        CaseScope::UnrestrictedOrAssigned
    } else {
        CaseScope::Nothing
    }
}

/// Whether `actor` (with `role`) may see a case: restricted cases only by their assignee,
/// supervisors and auditors; administrators see no case content.
pub fn may_see_case(role: Role, actor: UserId, restricted: bool, assignee: Option<UserId>) -> bool {
    match case_scope(role) {
        CaseScope::All => true,
        CaseScope::UnrestrictedOrAssigned => !restricted || assignee == Some(actor),
        CaseScope::Nothing => false,
    }
}

/// How an actor stands to the work on one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseWork {
    /// May work on it: a supervisor, or the assigned analyst.
    Allowed,
    /// Works cases, but not this one: an analyst it is not assigned to.
    NotAssignee,
    /// Never works cases (auditors, administrators).
    Forbidden,
}

/// Whether `actor` may work on a case assigned to `assignee`: supervisors on any, analysts
/// on their own.
pub fn case_work(role: Role, actor: UserId, assignee: Option<UserId>) -> CaseWork {
    work_on(role, assignee == Some(actor))
}

/// [`case_work`] when it is already known whether the actor is the case's assignee.
pub fn work_on(role: Role, is_assignee: bool) -> CaseWork {
    if !allows(role, Action::WorkCases) {
        CaseWork::Forbidden
    } else if allows(role, Action::AssignCases) || is_assignee {
        CaseWork::Allowed
    } else {
        CaseWork::NotAssignee
    }
}

/// Whether a case filed by `role` is assigned to its filer (an analyst's own filing is
/// theirs to work; a supervisor's waits in the unassigned queue).
pub fn assigned_when_filing(role: Role) -> bool {
    allows(role, Action::BeAssigned) && !allows(role, Action::AssignCases)
}

/// Why a signature (or a return, or a decision on an override) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FourEyes {
    /// The role never signs.
    NotASigner,
    /// The actor wrote what is to be signed.
    OwnWork,
}

impl FourEyes {
    /// The refusal in words, for signing `what` ("a decision", "an opinion").
    pub fn refusal(self, what: &str) -> String {
        match self {
            FourEyes::NotASigner => format!("only a supervisor signs {what}"),
            FourEyes::OwnWork => "you drafted it: a second supervisor signs".to_string(),
        }
    }
}

/// Four-eyes: a supervisor signs, returns or decides only what someone else wrote.
pub fn four_eyes(role: Role, actor: UserId, author: UserId, action: Action) -> Result<(), FourEyes> {
    if !allows(role, action) {
        Err(FourEyes::NotASigner)
    } else if actor == author {
        Err(FourEyes::OwnWork)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        let table = [
            (Action::ManageOwnAccount, [true, true, true, true]),
            (Action::ManageUsers, [false, false, false, true]),
            (Action::ReadAuditLog, [false, false, true, true]),
            (Action::ViewCases, [true, true, true, false]),
            (Action::WorkCases, [true, true, false, false]),
            (Action::AssignCases, [false, true, false, false]),
            (Action::ManageReference, [false, false, false, true]),
            (Action::SignDeterminations, [false, true, false, false]),
            (Action::ExportCases, [false, true, true, false]),
            (Action::BeAssigned, [true, true, false, false]),
            (Action::ConsolidateCases, [false, true, false, false]),
            (Action::RestrictCases, [false, true, false, false]),
            (Action::ManageRubrics, [false, false, false, true]),
            (Action::DecideOverrides, [false, true, false, false]),
            (Action::SeeRestrictedCases, [false, true, true, false]),
            (Action::GrantExtensions, [false, true, false, false]),
            (Action::SetCaseRule, [false, true, false, false]),
            (Action::RecordDeviations, [false, true, false, false]),
            (Action::EnterExistingCases, [false, true, false, false]),
        ];
        for (action, expected) in table {
            for (role, want) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(allows(role, action), want, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn need_to_know_own_work_and_four_eyes() {
        let (me, other) = (UserId::new(), UserId::new());
        // A restricted case assigned to someone else.
        let seen: Vec<bool> = Role::ALL.into_iter().map(|r| may_see_case(r, me, true, Some(other))).collect();
        assert_eq!(seen, [false, true, true, false]);
        assert!(may_see_case(Role::Analyst, me, true, Some(me)));
        assert!(may_see_case(Role::Analyst, me, false, Some(other)));
        assert!(!may_see_case(Role::Admin, me, false, None), "administrators see no case content");
        let work: Vec<CaseWork> = Role::ALL.into_iter().map(|r| case_work(r, me, Some(other))).collect();
        assert_eq!(work, [CaseWork::NotAssignee, CaseWork::Allowed, CaseWork::Forbidden, CaseWork::Forbidden]);
        assert_eq!(case_work(Role::Analyst, me, Some(me)), CaseWork::Allowed);
        assert!(assigned_when_filing(Role::Analyst) && !assigned_when_filing(Role::Supervisor));
        let sign = Action::SignDeterminations;
        assert_eq!(four_eyes(Role::Supervisor, me, other, sign), Ok(()));
        assert_eq!(four_eyes(Role::Supervisor, me, me, sign), Err(FourEyes::OwnWork));
        assert_eq!(four_eyes(Role::Analyst, me, other, sign), Err(FourEyes::NotASigner));
        assert_eq!(FourEyes::NotASigner.refusal("an opinion"), "only a supervisor signs an opinion");
        assert_eq!(FourEyes::OwnWork.refusal("an opinion"), "you drafted it: a second supervisor signs");
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
