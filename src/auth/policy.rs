//! The access policy: the one place that answers "may this actor do this?". Handlers ask
//! it through [`CurrentUser::authorize`](super::CurrentUser::authorize) and never decide
//! themselves. Deny by default: an action not listed for a role is refused.

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
        if self == Role::Admin { 10 } else { 15 }
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
        ];
        for (action, expected) in table {
            for (role, want) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(allows(role, action), want, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
