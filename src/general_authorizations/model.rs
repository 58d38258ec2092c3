//! General authorizations' types and rules, with no I/O: the published versions, a firm's
//! reliance and how it stands on a date (its reports due and missed, which void it from the
//! missed date; a change of circumstance and its 30-day reassessment), and GA 3's
//! approved suppliers as of a date.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::choice::Choice;
use crate::ids::{DeclarationId, PartyId, RelianceId, SupplierId};

/// Days a firm has to reassess its reliance after a change of circumstance (791.306).
pub const REASSESS_DAYS: i64 = 30;

/// A version of a general authorization, as published.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GeneralAuthorization {
    /// `GA 1`.
    pub number: String,
    pub version: i64,
    pub title: String,
    pub effective_from: Date,
    /// The last day before it ended, if it did.
    pub effective_to: Option<Date>,
    pub conditions: String,
    /// How often a firm relying on it reports, in days; `None` when it asks for no report.
    pub report_every_days: Option<i64>,
    /// What a report states.
    pub reports: String,
    /// Whether it authorizes dealings with the office's approved suppliers (GA 3).
    pub supplier_list: bool,
}

impl GeneralAuthorization {
    /// Whether this version is in force on `day`.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|to| day < to)
    }
}

/// An act of a reliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[schema(as = RelianceActKind)]
pub enum ActKind {
    /// The reliance began.
    Relied,
    /// A report the authorization asks for, filed.
    ReportFiled,
    /// A change of circumstance: reliance must be reassessed within 30 days.
    CircumstanceChanged,
    /// The firm's reassessment after a change, recorded.
    Reassessed,
    /// The reliance ended (by the firm, or the office found it ineligible).
    Ended,
}

impl ActKind {
    /// The acts a user records (the first comes with the reliance).
    pub const RECORDED: [ActKind; 4] =
        [ActKind::ReportFiled, ActKind::CircumstanceChanged, ActKind::Reassessed, ActKind::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            ActKind::Relied => "relied",
            ActKind::ReportFiled => "report_filed",
            ActKind::CircumstanceChanged => "circumstance_changed",
            ActKind::Reassessed => "reassessed",
            ActKind::Ended => "ended",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActKind::Relied => "Reliance begun",
            ActKind::ReportFiled => "Report filed",
            ActKind::CircumstanceChanged => "Change of circumstance",
            ActKind::Reassessed => "Reassessed after the change",
            ActKind::Ended => "Reliance ended",
        }
    }
}

/// An act of a reliance, as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = RelianceAct)]
pub struct ActRow {
    pub seq: i64,
    pub kind: ActKind,
    pub effective_on: Date,
    pub note: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub recorded_by: String,
}

/// Where a reliance stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RelianceStatus {
    /// In force.
    Active,
    /// Void from a report's due date that passed without it.
    Void,
    /// Ended.
    Ended,
}

impl RelianceStatus {
    pub fn label(self) -> &'static str {
        match self {
            RelianceStatus::Active => "Active",
            RelianceStatus::Void => "Void (a report was missed)",
            RelianceStatus::Ended => "Ended",
        }
    }
}

/// How a reliance stands on a date, read from its acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub status: RelianceStatus,
    /// The due date of the report that was missed: reliance is void from it.
    pub void_from: Option<Date>,
    /// The next report due, while active.
    pub next_report_due: Option<Date>,
    /// While a change of circumstance awaits its reassessment: the date it is due.
    pub reassess_due: Option<Date>,
    /// Whether that date has passed.
    pub reassess_overdue: bool,
}

/// How a reliance that began `from`, on a version reporting every `every` days (if it
/// asks for reports), stands on `today` given its acts in order: the n-th report filed
/// answers the n-th due date (`from` + n × `every`), and one filed after its date, or not
/// at all by then, voids the reliance from that date on.
pub fn standing(from: Date, every: Option<i64>, acts: &[(ActKind, Date)], today: Date) -> Standing {
    let ended = acts.iter().find(|(k, _)| *k == ActKind::Ended).map(|(_, d)| *d);
    let mut void_from = None;
    let mut next_report_due = None;
    if let Some(every) = every {
        let mut filed = acts.iter().filter(|(k, _)| *k == ActKind::ReportFiled).map(|(_, d)| *d);
        let mut n = 1;
        loop {
            let due = from + Duration::days(every * n);
            if ended.is_some_and(|e| e <= due) {
                break;
            }
            match filed.next() {
                Some(on) if on <= due => n += 1,
                Some(_) => {
                    void_from = Some(due);
                    break;
                }
                None if due < today => {
                    void_from = Some(due);
                    break;
                }
                None => {
                    next_report_due = Some(due);
                    break;
                }
            }
        }
    }
    let last_change = acts.iter().rev().find(|(k, _)| *k == ActKind::CircumstanceChanged).map(|(_, d)| *d);
    let reassessed = acts.iter().rev().find(|(k, _)| *k == ActKind::Reassessed).map(|(_, d)| *d);
    let reassess_due = match (last_change, reassessed) {
        (Some(c), Some(r)) if r >= c => None,
        (Some(c), _) if ended.is_none() => Some(c + Duration::days(REASSESS_DAYS)),
        _ => None,
    };
    let status = match (ended, void_from) {
        (Some(e), Some(v)) if e <= v => RelianceStatus::Ended,
        (_, Some(_)) => RelianceStatus::Void,
        (Some(_), None) => RelianceStatus::Ended,
        (None, None) => RelianceStatus::Active,
    };
    Standing {
        status,
        void_from,
        next_report_due: next_report_due.filter(|_| status == RelianceStatus::Active),
        reassess_due,
        reassess_overdue: reassess_due.is_some_and(|d| d < today),
    }
}

/// A reliance, with its standing on the day it was read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reliance {
    pub id: RelianceId,
    pub party_id: PartyId,
    pub party_name: String,
    pub ga_number: String,
    pub ga_version: i64,
    pub ga_title: String,
    pub declaration_id: Option<DeclarationId>,
    pub summary: String,
    pub relied_from: Date,
    pub version: i64,
    pub standing: Standing,
}

/// A reliance to record.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReliance {
    /// The firm relying.
    pub party_id: Option<PartyId>,
    /// The authorization relied on: `GA 1`.
    #[schema(value_type = crate::text::Text<{ crate::text::CODE }>, inline)]
    pub ga_number: String,
    /// The declaration that states the reliance, if any.
    #[serde(default)]
    pub declaration_id: Option<DeclarationId>,
    /// What is done under it.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub summary: String,
    /// From when (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub relied_from: Option<String>,
}

/// An act recorded on a reliance.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRelianceAct)]
pub struct NewAct {
    /// `report_filed`, `circumstance_changed`, `reassessed` or `ended`.
    #[schema(value_type = ActKind)]
    pub kind: Choice<ActKind>,
    /// When (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub effective_on: Option<String>,
    /// What the report states, what changed, what the reassessment found, why it ended.
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub note: String,
    /// The reliance's version; a stale one gets 409.
    pub version: i64,
}

/// Where a supplier's application stands on GA 3's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SupplierStatus {
    Applied,
    Approved,
    Denied,
    Removed,
}

impl SupplierStatus {
    pub fn label(self) -> &'static str {
        match self {
            SupplierStatus::Applied => "Applied",
            SupplierStatus::Approved => "Approved (on the list)",
            SupplierStatus::Denied => "Denied",
            SupplierStatus::Removed => "Removed from the list",
        }
    }
}

/// A supplier's application for GA 3's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Supplier {
    pub id: SupplierId,
    pub party_id: PartyId,
    pub party_name: String,
    pub applied_on: Date,
    pub status: SupplierStatus,
    pub decided_on: Option<Date>,
    pub removed_on: Option<Date>,
    pub reason: String,
    pub version: i64,
}

impl Supplier {
    /// Whether it was on the list on `day`: approved by then, not removed by then.
    pub fn listed_on(&self, day: Date) -> bool {
        matches!(self.status, SupplierStatus::Approved | SupplierStatus::Removed)
            && self.decided_on.is_some_and(|d| d <= day)
            && self.removed_on.is_none_or(|r| day < r)
    }
}

/// A supplier's application.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSupplier {
    pub party_id: Option<PartyId>,
    /// When it applied (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub applied_on: Option<String>,
}

/// The office's decision on a supplier, or its removal from the list.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierDecision {
    /// `approved`, `denied` (an application) or `removed` (a listed supplier).
    #[schema(value_type = SupplierStatus)]
    pub status: Choice<SupplierStatus>,
    /// When (`YYYY-MM-DD`); today when left out.
    #[serde(default)]
    #[schema(value_type = Option<Date>)]
    pub on: Option<String>,
    /// Why (required for a denial or a removal).
    #[serde(default)]
    #[schema(value_type = crate::text::Text<{ crate::text::TEXT }>, inline)]
    pub reason: String,
    /// The application's version; a stale one gets 409.
    pub version: i64,
}

/// A general authorization's number as the office publishes it: `GA 1`, `GA 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GaNumber(u16);

impl GaNumber {
    /// The number as typed: `GA 1`, `ga1`, `GA-1` or `1`; `None` for anything else.
    pub fn parse(typed: &str) -> Option<GaNumber> {
        let t = typed.trim();
        let digits = match t.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("GA") => t[2..].trim_start_matches([' ', '-']),
            _ => t,
        };
        if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|n| *n > 0).map(GaNumber)
    }
}

impl std::fmt::Display for GaNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GA {}", self.0)
    }
}

/// The work of reliances on general authorizations for a home page, on a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RelianceWork {
    /// Not ended, and void from a report that was missed or late: the party must be told.
    pub void: i64,
    /// In force with a report due within [`REPORT_SOON_DAYS`] days.
    pub reports_due_soon: i64,
    /// Changes of circumstance awaiting their reassessment, and how many of them are late.
    pub reassessments: i64,
    pub reassessments_overdue: i64,
}

/// How many days ahead a home page counts reports coming due.
pub const REPORT_SOON_DAYS: i64 = 30;

impl RelianceWork {
    /// The counts from the standings of the reliances not ended, on `today`.
    pub fn of(standings: impl IntoIterator<Item = Standing>, today: Date) -> RelianceWork {
        let soon = today + Duration::days(REPORT_SOON_DAYS);
        let mut w = RelianceWork::default();
        for s in standings {
            w.void += i64::from(s.status == RelianceStatus::Void);
            w.reports_due_soon +=
                i64::from(s.status == RelianceStatus::Active && s.next_report_due.is_some_and(|d| d <= soon));
            w.reassessments += i64::from(s.reassess_due.is_some());
            w.reassessments_overdue += i64::from(s.reassess_overdue);
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const FROM: Date = date!(2026 - 01 - 01);

    #[test]
    fn reports_on_time_keep_it_active_and_name_the_next_due() {
        let acts = [(ActKind::Relied, FROM), (ActKind::ReportFiled, date!(2026 - 03 - 30))];
        let s = standing(FROM, Some(90), &acts, date!(2026 - 05 - 01));
        assert_eq!(
            (s.status, s.next_report_due, s.void_from),
            (RelianceStatus::Active, Some(date!(2026 - 06 - 30)), None)
        );
        // No reports asked for: active, nothing due.
        let s = standing(FROM, None, &acts[..1], date!(2030 - 01 - 01));
        assert_eq!((s.status, s.next_report_due), (RelianceStatus::Active, None));
    }

    #[test]
    fn a_missed_report_voids_reliance_from_its_due_date() {
        let relied = [(ActKind::Relied, FROM)];
        // Not filed by 2026-04-01 and the date has passed.
        let s = standing(FROM, Some(90), &relied, date!(2026 - 04 - 02));
        assert_eq!(
            (s.status, s.void_from, s.next_report_due),
            (RelianceStatus::Void, Some(date!(2026 - 04 - 01)), None)
        );
        // On its due date it is still due, not missed.
        let s = standing(FROM, Some(90), &relied, date!(2026 - 04 - 01));
        assert_eq!((s.status, s.next_report_due), (RelianceStatus::Active, Some(date!(2026 - 04 - 01))));
        // Filed late: void from the date it was due, even so.
        let late = [(ActKind::Relied, FROM), (ActKind::ReportFiled, date!(2026 - 04 - 05))];
        let s = standing(FROM, Some(90), &late, date!(2026 - 04 - 06));
        assert_eq!((s.status, s.void_from), (RelianceStatus::Void, Some(date!(2026 - 04 - 01))));
        // Ended before the date: ended, not void.
        let ended = [(ActKind::Relied, FROM), (ActKind::Ended, date!(2026 - 03 - 01))];
        let s = standing(FROM, Some(90), &ended, date!(2026 - 06 - 01));
        assert_eq!((s.status, s.void_from), (RelianceStatus::Ended, None));
    }

    #[test]
    fn a_change_of_circumstance_is_reassessed_within_thirty_days() {
        let changed = [(ActKind::Relied, FROM), (ActKind::CircumstanceChanged, date!(2026 - 02 - 10))];
        let s = standing(FROM, None, &changed, date!(2026 - 03 - 12));
        assert_eq!((s.reassess_due, s.reassess_overdue), (Some(date!(2026 - 03 - 12)), false));
        let s = standing(FROM, None, &changed, date!(2026 - 03 - 13));
        assert!(s.reassess_overdue);
        let mut done = changed.to_vec();
        done.push((ActKind::Reassessed, date!(2026 - 03 - 01)));
        assert_eq!(standing(FROM, None, &done, date!(2026 - 04 - 01)).reassess_due, None);
    }

    #[test]
    fn the_supplier_list_is_read_as_of_a_date() {
        let s = Supplier {
            id: SupplierId::new(),
            party_id: PartyId(uuid::Uuid::nil()),
            party_name: "x".into(),
            applied_on: date!(2025 - 07 - 01),
            status: SupplierStatus::Removed,
            decided_on: Some(date!(2025 - 08 - 01)),
            removed_on: Some(date!(2026 - 02 - 01)),
            reason: String::new(),
            version: 3,
        };
        assert!(!s.listed_on(date!(2025 - 07 - 31)));
        assert!(s.listed_on(date!(2025 - 08 - 01)) && s.listed_on(date!(2026 - 01 - 31)));
        assert!(!s.listed_on(date!(2026 - 02 - 01)));
    }

    #[test]
    fn the_home_page_counts_void_reliances_reports_coming_due_and_reassessments() {
        let today = date!(2026 - 06 - 01);
        let active = |due, reassess: Option<(Date, bool)>| Standing {
            status: RelianceStatus::Active,
            void_from: None,
            next_report_due: Some(due),
            reassess_due: reassess.map(|r| r.0),
            reassess_overdue: reassess.is_some_and(|r| r.1),
        };
        let void = Standing {
            status: RelianceStatus::Void,
            void_from: Some(date!(2026 - 05 - 01)),
            next_report_due: None,
            reassess_due: None,
            reassess_overdue: false,
        };
        let w = RelianceWork::of(
            [
                active(date!(2026 - 07 - 01), None),
                active(date!(2026 - 07 - 02), Some((date!(2026 - 05 - 30), true))),
                active(date!(2026 - 06 - 20), Some((date!(2026 - 06 - 30), false))),
                void,
            ],
            today,
        );
        // 1 July is the 30th day ahead; 2 July is not yet counted.
        assert_eq!(w, RelianceWork { void: 1, reports_due_soon: 2, reassessments: 2, reassessments_overdue: 1 });
    }

    #[test]
    fn a_general_authorizations_number_reads_as_typed_and_writes_as_published() {
        for typed in ["GA 1", "ga1", " GA-1 ", "1", "Ga  1"] {
            assert_eq!(GaNumber::parse(typed).map(|n| n.to_string()).as_deref(), Some("GA 1"), "{typed}");
        }
        for typed in ["", "GA", "GA 0", "GA x", "G 1", "GA 1a", "GA 12345", "-1"] {
            assert_eq!(GaNumber::parse(typed), None, "{typed}");
        }
    }
}
