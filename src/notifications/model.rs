//! What a notification is: why someone is notified, the row as listed, and a note to
//! write.

use serde::Serialize;
use time::OffsetDateTime;

use crate::ids::{CaseId, NotificationId};

/// Why someone is notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A case was assigned to you.
    Assigned,
    /// Your draft determination was returned.
    Returned,
    /// A determination, or a decision on a specific authorization, awaits a supervisor's
    /// signature.
    AwaitingSignature,
    /// A clock of your case is due within 7 days.
    ClockDue,
    /// A mitigation measure, or a condition of a specific authorization, was breached.
    Breach,
    /// Your draft determination, or your draft decision on an authorization, was signed.
    Signed,
}

impl Kind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Assigned => "assigned",
            Kind::Returned => "returned",
            Kind::AwaitingSignature => "awaiting_signature",
            Kind::ClockDue => "clock_due",
            Kind::Breach => "breach",
            Kind::Signed => "signed",
        }
    }
}

/// A notification as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    /// `assigned`, `returned`, `awaiting_signature`, `clock_due`, `breach` or `signed`.
    pub kind: String,
    /// The case concerned.
    pub case_id: Option<CaseId>,
    /// What happened.
    pub message: String,
    /// Where to look (a path of the service).
    pub link: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When read (unread: null).
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

/// One notification to write.
pub struct Note<'a> {
    /// Why.
    pub kind: Kind,
    /// The case concerned.
    pub case_id: Option<CaseId>,
    /// What happened.
    pub message: &'a str,
    /// Where to look.
    pub link: &'a str,
    /// Written at most once per user and key (clock reminders).
    pub dedupe_key: Option<&'a str>,
}

impl<'a> Note<'a> {
    /// A notification about something other than a case (no dedupe key).
    pub fn about(kind: Kind, message: &'a str, link: &'a str) -> Note<'a> {
        Note { kind, case_id: None, message, link, dedupe_key: None }
    }

    /// A notification about a case (no dedupe key).
    pub fn on_case(kind: Kind, case_id: CaseId, message: &'a str, link: &'a str) -> Note<'a> {
        Note { kind, case_id: Some(case_id), message, link, dedupe_key: None }
    }
}
