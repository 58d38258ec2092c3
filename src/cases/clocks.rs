//! The review's clocks as pure functions of dates: which rule governs the case fixes
//! them. A supervisor may extend a clock (in writing); a request for information may toll
//! (pause) the clocks it concerns.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::workflow::{RuleVersion, Stage};

/// Days from acceptance (`ifr-2021`) or service (`final-2025`) to the final determination.
pub const FINAL_DAYS: i64 = 180;
/// Days the parties have to respond after service.
pub const RESPONSE_DAYS: i64 = 30;
/// Days of notice agencies get before service (`final-2025`).
pub const AGENCY_NOTICE_DAYS: i64 = 21;
/// Days of silence that count as concurrence (`final-2025`).
pub const PRESUMED_CONCURRENCE_DAYS: i64 = 14;

/// The clocks a case can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "clock_name", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ClockName {
    /// Final determination due.
    FinalDetermination,
    /// Parties' response window.
    ResponseWindow,
    /// Earliest service date after notifying agencies (`final-2025`).
    AgencyNotice,
    /// Silence counts as concurrence after this (`final-2025`).
    PresumedConcurrence,
}

impl ClockName {
    /// Every clock.
    pub const ALL: [ClockName; 4] = [
        ClockName::FinalDetermination,
        ClockName::ResponseWindow,
        ClockName::AgencyNotice,
        ClockName::PresumedConcurrence,
    ];

    /// Stored / API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockName::FinalDetermination => "final_determination",
            ClockName::ResponseWindow => "response_window",
            ClockName::AgencyNotice => "agency_notice",
            ClockName::PresumedConcurrence => "presumed_concurrence",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<ClockName> {
        ClockName::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Label for people.
    pub fn label(self) -> &'static str {
        match self {
            ClockName::FinalDetermination => "Final determination due",
            ClockName::ResponseWindow => "Parties' response due",
            ClockName::AgencyNotice => "Earliest service after agency notice",
            ClockName::PresumedConcurrence => "Concurrence presumed",
        }
    }
}

/// A written extension granted by a supervisor.
#[derive(Debug, Clone)]
pub struct Extension {
    /// Which clock.
    pub clock: ClockName,
    /// How many days.
    pub days: i64,
}

/// A period during which the named clocks stood still (an open request for information
/// has no end yet).
#[derive(Debug, Clone)]
pub struct Toll {
    /// Which clocks it pauses.
    pub clocks: Vec<ClockName>,
    /// First day paused.
    pub from: Date,
    /// Day it ended (answered), if it has.
    pub until: Option<Date>,
}

/// Everything the clocks depend on.
#[derive(Debug, Clone)]
pub struct ClockInputs {
    /// Governing rule; no clocks before acceptance fixes it.
    pub rule: Option<RuleVersion>,
    /// Current stage.
    pub stage: Stage,
    /// Accepted for review.
    pub accepted_on: Option<Date>,
    /// Agencies notified.
    pub agencies_notified_on: Option<Date>,
    /// Initial determination served.
    pub served_on: Option<Date>,
    /// Proposed final determination circulated.
    pub circulated_on: Option<Date>,
    pub extensions: Vec<Extension>,
    /// Tolling periods.
    pub tolls: Vec<Toll>,
    pub today: Date,
}

/// A clock's state today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClockState {
    /// Which clock.
    pub name: ClockName,
    /// When it started.
    pub started: Date,
    /// Due date, after extensions and tolling.
    pub due: Date,
    /// Days from today to the due date (negative when past).
    pub days_left: i64,
    /// Whether a request for information is pausing it now.
    pub paused: bool,
    /// Past due while still running.
    pub overdue: bool,
    /// Whether the clock still matters at this stage (false once its event happened).
    pub running: bool,
    /// Days added by extensions.
    pub extended_days: i64,
    /// Days added by tolling.
    pub tolled_days: i64,
}

/// Days of `toll` that fall on or after `start` and before `today` (an open toll runs to today).
fn tolled(toll: &Toll, start: Date, today: Date) -> i64 {
    let from = toll.from.max(start);
    let until = toll.until.unwrap_or(today).min(today);
    (until - from).whole_days().max(0)
}

fn clock(name: ClockName, start: Date, days: i64, running: bool, inputs: &ClockInputs) -> ClockState {
    let extended_days: i64 = inputs.extensions.iter().filter(|e| e.clock == name).map(|e| e.days).sum();
    let mine: Vec<&Toll> = inputs.tolls.iter().filter(|t| t.clocks.contains(&name)).collect();
    let tolled_days: i64 = mine.iter().map(|t| tolled(t, start, inputs.today)).sum();
    let paused = running && mine.iter().any(|t| t.until.is_none() && t.from <= inputs.today);
    let due = start + Duration::days(days + extended_days + tolled_days);
    let days_left = (due - inputs.today).whole_days();
    ClockState {
        name,
        started: start,
        due,
        days_left,
        paused,
        overdue: running && !paused && days_left < 0,
        running,
        extended_days,
        tolled_days,
    }
}

/// The clocks of a case today.
pub fn clocks(inputs: &ClockInputs) -> Vec<ClockState> {
    let Some(rule) = inputs.rule else { return Vec::new() };
    let stage = inputs.stage;
    let mut out = Vec::new();
    let final_start = match rule {
        RuleVersion::Ifr2021 => inputs.accepted_on,
        RuleVersion::Final2025 => inputs.served_on,
    };
    if let Some(start) = final_start {
        out.push(clock(ClockName::FinalDetermination, start, FINAL_DAYS, stage.is_open(), inputs));
    }
    if let Some(served) = inputs.served_on {
        out.push(clock(ClockName::ResponseWindow, served, RESPONSE_DAYS, stage == Stage::ResponsePeriod, inputs));
    }
    if rule == RuleVersion::Final2025 {
        if let Some(notified) = inputs.agencies_notified_on {
            let running = matches!(stage, Stage::FirstInteragency | Stage::InitialDetermination);
            let mut c = clock(ClockName::AgencyNotice, notified, AGENCY_NOTICE_DAYS, running, inputs);
            // Not a deadline to meet but a wait: it is never "overdue".
            c.overdue = false;
            out.push(c);
        }
        if let Some(circulated) = inputs.circulated_on {
            let mut c = clock(
                ClockName::PresumedConcurrence,
                circulated,
                PRESUMED_CONCURRENCE_DAYS,
                stage == Stage::SecondInteragency,
                inputs,
            );
            c.overdue = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn base(rule: RuleVersion, stage: Stage, today: Date) -> ClockInputs {
        ClockInputs {
            rule: Some(rule),
            stage,
            accepted_on: Some(date!(2024 - 01 - 10)),
            agencies_notified_on: None,
            served_on: None,
            circulated_on: None,
            extensions: vec![],
            tolls: vec![],
            today,
        }
    }

    fn get(cs: &[ClockState], n: ClockName) -> ClockState {
        cs.iter().find(|c| c.name == n).cloned().unwrap_or_else(|| panic!("no {n:?} clock"))
    }

    #[test]
    fn interim_rule_final_clock_runs_180_days_from_acceptance() {
        let cs = clocks(&base(RuleVersion::Ifr2021, Stage::InitialReview, date!(2024 - 02 - 01)));
        let c = get(&cs, ClockName::FinalDetermination);
        assert_eq!(c.due, date!(2024 - 07 - 08));
        assert_eq!(c.days_left, 158);
        assert!(!c.overdue && !c.paused && c.running);
        let cs = clocks(&base(RuleVersion::Ifr2021, Stage::InitialReview, date!(2024 - 07 - 09)));
        assert!(get(&cs, ClockName::FinalDetermination).overdue);
        // A decided case is never overdue.
        let cs = clocks(&base(RuleVersion::Ifr2021, Stage::Decided, date!(2025 - 01 - 01)));
        assert!(!get(&cs, ClockName::FinalDetermination).overdue);
    }

    #[test]
    fn final_rule_final_clock_starts_at_service_not_acceptance() {
        let mut i = base(RuleVersion::Final2025, Stage::FirstInteragency, date!(2025 - 06 - 01));
        assert!(clocks(&i).iter().all(|c| c.name != ClockName::FinalDetermination), "no final clock before service");
        i.agencies_notified_on = Some(date!(2025 - 05 - 20));
        let notice = get(&clocks(&i), ClockName::AgencyNotice);
        assert_eq!(notice.due, date!(2025 - 06 - 10));
        assert!(!notice.overdue);
        i.stage = Stage::ResponsePeriod;
        i.served_on = Some(date!(2025 - 06 - 10));
        let cs = clocks(&i);
        assert_eq!(get(&cs, ClockName::FinalDetermination).due, date!(2025 - 12 - 07));
        assert_eq!(get(&cs, ClockName::ResponseWindow).due, date!(2025 - 07 - 10));
        assert!(!get(&cs, ClockName::AgencyNotice).running);
    }

    #[test]
    fn presumed_concurrence_after_fourteen_days_under_the_final_rule_only() {
        let mut i = base(RuleVersion::Final2025, Stage::SecondInteragency, date!(2025 - 08 - 01));
        i.served_on = Some(date!(2025 - 06 - 10));
        i.circulated_on = Some(date!(2025 - 07 - 20));
        assert_eq!(get(&clocks(&i), ClockName::PresumedConcurrence).due, date!(2025 - 08 - 03));
        i.rule = Some(RuleVersion::Ifr2021);
        assert!(clocks(&i).iter().all(|c| c.name != ClockName::PresumedConcurrence));
    }

    #[test]
    fn extensions_add_days_to_their_clock_only() {
        let mut i = base(RuleVersion::Ifr2021, Stage::ResponsePeriod, date!(2024 - 03 - 01));
        i.served_on = Some(date!(2024 - 02 - 20));
        i.extensions = vec![Extension { clock: ClockName::FinalDetermination, days: 30 }];
        let cs = clocks(&i);
        let f = get(&cs, ClockName::FinalDetermination);
        assert_eq!(f.due, date!(2024 - 08 - 07));
        assert_eq!(f.extended_days, 30);
        assert_eq!(get(&cs, ClockName::ResponseWindow).extended_days, 0);
    }

    #[test]
    fn tolling_pauses_and_shifts_the_clocks_it_concerns() {
        let mut i = base(RuleVersion::Ifr2021, Stage::InitialReview, date!(2024 - 03 - 01));
        // An open request for information since 20 Feb pauses the final clock.
        i.tolls = vec![Toll { clocks: vec![ClockName::FinalDetermination], from: date!(2024 - 02 - 20), until: None }];
        let open = get(&clocks(&i), ClockName::FinalDetermination);
        assert!(open.paused && !open.overdue);
        assert_eq!(open.tolled_days, 10);
        assert_eq!(open.due, date!(2024 - 07 - 18));
        // While paused, days left stand still from one day to the next.
        let mut tomorrow = i.clone();
        tomorrow.today = date!(2024 - 03 - 02);
        assert_eq!(get(&clocks(&tomorrow), ClockName::FinalDetermination).days_left, open.days_left);
        // Answered on 5 March: 14 days added, running again.
        i.tolls[0].until = Some(date!(2024 - 03 - 05));
        i.today = date!(2024 - 04 - 01);
        let closed = get(&clocks(&i), ClockName::FinalDetermination);
        assert!(!closed.paused);
        assert_eq!(closed.tolled_days, 14);
        assert_eq!(closed.due, date!(2024 - 07 - 22));
        // Days before the clock started do not count.
        i.tolls[0].from = date!(2023 - 12 - 01);
        assert_eq!(get(&clocks(&i), ClockName::FinalDetermination).tolled_days, 55);
    }

    #[test]
    fn no_clocks_before_acceptance() {
        let mut i = base(RuleVersion::Ifr2021, Stage::Intake, date!(2024 - 01 - 01));
        i.rule = None;
        assert!(clocks(&i).is_empty());
    }
}
