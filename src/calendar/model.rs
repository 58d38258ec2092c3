//! The federal calendar's rules, pure (no I/O, no clock): the holidays of 5 U.S.C. 6103,
//! their observance, and the business days a count of days rolls over (see [`super`]).

use serde::Serialize;
use time::{Date, Duration, Month, Weekday};

/// A legal public holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    NewYearsDay,
    MartinLutherKingJrDay,
    InaugurationDay,
    WashingtonsBirthday,
    MemorialDay,
    Juneteenth,
    IndependenceDay,
    LaborDay,
    ColumbusDay,
    VeteransDay,
    ThanksgivingDay,
    ChristmasDay,
}

impl Holiday {
    /// Every holiday, in the order of the year.
    pub const ALL: [Holiday; 12] = [
        Holiday::NewYearsDay,
        Holiday::MartinLutherKingJrDay,
        Holiday::InaugurationDay,
        Holiday::WashingtonsBirthday,
        Holiday::MemorialDay,
        Holiday::Juneteenth,
        Holiday::IndependenceDay,
        Holiday::LaborDay,
        Holiday::ColumbusDay,
        Holiday::VeteransDay,
        Holiday::ThanksgivingDay,
        Holiday::ChristmasDay,
    ];

    /// Its name as the statute gives it.
    pub fn name(self) -> &'static str {
        match self {
            Holiday::NewYearsDay => "New Year's Day",
            Holiday::MartinLutherKingJrDay => "Birthday of Martin Luther King, Jr.",
            Holiday::InaugurationDay => "Inauguration Day (Washington area)",
            Holiday::WashingtonsBirthday => "Washington's Birthday",
            Holiday::MemorialDay => "Memorial Day",
            Holiday::Juneteenth => "Juneteenth National Independence Day",
            Holiday::IndependenceDay => "Independence Day",
            Holiday::LaborDay => "Labor Day",
            Holiday::ColumbusDay => "Columbus Day",
            Holiday::VeteransDay => "Veterans Day",
            Holiday::ThanksgivingDay => "Thanksgiving Day",
            Holiday::ChristmasDay => "Christmas Day",
        }
    }

    /// Its date in `year` by the statute, before any Saturday or Sunday moves it; `None`
    /// in a year it is not held (Juneteenth before 2021, Inauguration Day outside its
    /// fourth years) or a year the calendar does not reach.
    pub fn legal_date(self, year: i32) -> Option<Date> {
        let fixed = |month, day| Date::from_calendar_date(year, month, day).ok();
        match self {
            Holiday::NewYearsDay => fixed(Month::January, 1),
            Holiday::MartinLutherKingJrDay => nth_weekday(year, Month::January, Weekday::Monday, 3),
            Holiday::InaugurationDay if year > 1965 && (year - 1965) % 4 == 0 => fixed(Month::January, 20),
            Holiday::InaugurationDay => None,
            Holiday::WashingtonsBirthday => nth_weekday(year, Month::February, Weekday::Monday, 3),
            Holiday::MemorialDay => last_weekday(year, Month::May, Weekday::Monday),
            Holiday::Juneteenth if year >= 2021 => fixed(Month::June, 19),
            Holiday::Juneteenth => None,
            Holiday::IndependenceDay => fixed(Month::July, 4),
            Holiday::LaborDay => nth_weekday(year, Month::September, Weekday::Monday, 1),
            Holiday::ColumbusDay => nth_weekday(year, Month::October, Weekday::Monday, 2),
            Holiday::VeteransDay => fixed(Month::November, 11),
            Holiday::ThanksgivingDay => nth_weekday(year, Month::November, Weekday::Thursday, 4),
            Holiday::ChristmasDay => fixed(Month::December, 25),
        }
    }

    /// The day it is observed in `year`'s calendar (its legal date moved off a weekend).
    fn observed(self, year: i32) -> Option<Date> {
        let legal = self.legal_date(year)?;
        match (self, legal.weekday()) {
            // Inauguration Day on a Saturday gives no day off; on a Sunday, the Monday.
            (Holiday::InaugurationDay, Weekday::Saturday) => None,
            (_, Weekday::Saturday) => legal.previous_day(),
            (_, Weekday::Sunday) => legal.next_day(),
            _ => Some(legal),
        }
    }
}

/// A holiday as the office keeps it: the day off, and the date the statute names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Observed {
    pub holiday: Holiday,
    /// The day the office is closed for it.
    pub observed_on: Date,
    /// The statute's date (a Saturday or a Sunday when the two differ).
    pub legal_date: Date,
}

/// The holidays observed on days of `year`, in date order: a holiday of `year + 1`
/// observed on 31 December of `year` (New Year's Day on a Saturday) is among them, and
/// `year`'s own New Year's Day observed the year before is not.
pub fn observed_in(year: i32) -> Vec<Observed> {
    let mut days: Vec<Observed> = [year, year + 1]
        .into_iter()
        .flat_map(|y| {
            Holiday::ALL.into_iter().filter_map(move |h| {
                let observed_on = h.observed(y)?;
                Some(Observed { holiday: h, observed_on, legal_date: h.legal_date(y)? })
            })
        })
        .filter(|o| o.observed_on.year() == year)
        .collect();
    days.sort_by_key(|o| (o.observed_on, o.holiday));
    // Inauguration Day on the third Monday of January is Martin Luther King, Jr. Day too
    // (as in 2025): one day off, kept under both names.
    days
}

/// The holiday observed on `date`, if any.
pub fn holiday_on(date: Date) -> Option<Holiday> {
    observed_in(date.year()).into_iter().find(|o| o.observed_on == date).map(|o| o.holiday)
}

/// Whether the office is open on `date`: a weekday that is no observed holiday.
pub fn is_business_day(date: Date) -> bool {
    closed_on(date).is_none()
}

/// A date due on the `days`th day after `from` (counted in calendar days), rolled to the
/// next business day when that day is a Saturday, a Sunday or a federal holiday: with 30,
/// the answer date of a pre-penalty notice delivered on `from`.
pub fn due_after(from: Date, days: i64) -> Date {
    reckon(from, days).due
}

/// The years the calendar answers for: the rules above hold over them.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// The longest count of days it reckons.
pub const MAX_DAYS: i64 = 3660;

/// Why a day is passed over when a due date rolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PassedOver {
    pub date: Date,
    /// `saturday`, `sunday`, or the holiday observed that day.
    pub reason: Closed,
}

/// Why the office is closed on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "holiday")]
pub enum Closed {
    Saturday,
    Sunday,
    Holiday(Holiday),
}

impl Closed {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Closed::Saturday => "a Saturday",
            Closed::Sunday => "a Sunday",
            Closed::Holiday(h) => h.name(),
        }
    }
}

/// Why the office is closed on `date`, if it is.
pub fn closed_on(date: Date) -> Option<Closed> {
    match date.weekday() {
        Weekday::Saturday => Some(Closed::Saturday),
        Weekday::Sunday => Some(Closed::Sunday),
        _ => holiday_on(date).map(Closed::Holiday),
    }
}

/// A due date with its reckoning: the day counted to, the days passed over, the day due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Due {
    pub from: Date,
    pub days: i64,
    /// The `days`th day after `from`.
    pub counted_to: Date,
    /// The days after it passed over, each with why.
    pub passed_over: Vec<PassedOver>,
    /// The first business day from `counted_to` on.
    pub due: Date,
}

/// [`due_after`] with its reckoning.
pub fn reckon(from: Date, days: i64) -> Due {
    let counted_to = from + Duration::days(days);
    let mut passed_over = Vec::new();
    let mut d = counted_to;
    while let Some(reason) = closed_on(d) {
        passed_over.push(PassedOver { date: d, reason });
        d = d.next_day().expect("a business day comes before the calendar's end");
    }
    Due { from, days, counted_to, passed_over, due: d }
}

/// The `n`th `weekday` of `month` (1 = the first).
fn nth_weekday(year: i32, month: Month, weekday: Weekday, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (weekday.number_days_from_monday() + 7 - first.weekday().number_days_from_monday()) % 7;
    first.checked_add(Duration::days(i64::from(offset) + 7 * i64::from(n - 1)))
}

/// The last `weekday` of `month`.
fn last_weekday(year: i32, month: Month, weekday: Weekday) -> Option<Date> {
    let last = Date::from_calendar_date(year, month, month.length(year)).ok()?;
    let back = (last.weekday().number_days_from_monday() + 7 - weekday.number_days_from_monday()) % 7;
    last.checked_sub(Duration::days(i64::from(back)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn days_off(year: i32) -> Vec<Date> {
        let mut d: Vec<Date> = observed_in(year).into_iter().map(|o| o.observed_on).collect();
        d.dedup();
        d
    }

    // The Office of Personnel Management's published lists of federal holidays, year by
    // year: the computation must give exactly these days off.
    #[test]
    fn the_days_off_are_the_published_ones_year_after_year() {
        let published: [(i32, [Date; 11]); 2] = [
            (
                2023,
                [
                    date!(2023 - 01 - 02),
                    date!(2023 - 01 - 16),
                    date!(2023 - 02 - 20),
                    date!(2023 - 05 - 29),
                    date!(2023 - 06 - 19),
                    date!(2023 - 07 - 04),
                    date!(2023 - 09 - 04),
                    date!(2023 - 10 - 09),
                    date!(2023 - 11 - 10),
                    date!(2023 - 11 - 23),
                    date!(2023 - 12 - 25),
                ],
            ),
            (
                2024,
                [
                    date!(2024 - 01 - 01),
                    date!(2024 - 01 - 15),
                    date!(2024 - 02 - 19),
                    date!(2024 - 05 - 27),
                    date!(2024 - 06 - 19),
                    date!(2024 - 07 - 04),
                    date!(2024 - 09 - 02),
                    date!(2024 - 10 - 14),
                    date!(2024 - 11 - 11),
                    date!(2024 - 11 - 28),
                    date!(2024 - 12 - 25),
                ],
            ),
        ];
        for (year, days) in published {
            assert_eq!(days_off(year), days.to_vec(), "{year}");
        }
        // 2021: Juneteenth's first year, observed on Friday 18 June; Independence Day on a
        // Sunday, observed on Monday 5 July; Christmas on a Saturday, observed on Friday
        // 24 December; and New Year's Day 2022, a Saturday, observed on Friday 31 December.
        assert_eq!(
            days_off(2021),
            [
                date!(2021 - 01 - 01),
                date!(2021 - 01 - 18),
                date!(2021 - 01 - 20),
                date!(2021 - 02 - 15),
                date!(2021 - 05 - 31),
                date!(2021 - 06 - 18),
                date!(2021 - 07 - 05),
                date!(2021 - 09 - 06),
                date!(2021 - 10 - 11),
                date!(2021 - 11 - 11),
                date!(2021 - 11 - 25),
                date!(2021 - 12 - 24),
                date!(2021 - 12 - 31),
            ]
        );
        // 2022 begins with no New Year's Day of its own (observed in 2021) and ends with
        // Christmas, a Sunday, observed on Monday 26 December.
        let d2022 = days_off(2022);
        assert_eq!(d2022.first(), Some(&date!(2022 - 01 - 17)));
        assert_eq!(d2022.last(), Some(&date!(2022 - 12 - 26)));
        assert_eq!(d2022.len(), 10);
        // 2025: Inauguration Day falls on Martin Luther King, Jr. Day: one day off, two names.
        let y2025 = observed_in(2025);
        let jan20: Vec<Holiday> =
            y2025.iter().filter(|o| o.observed_on == date!(2025 - 01 - 20)).map(|o| o.holiday).collect();
        assert_eq!(jan20, [Holiday::MartinLutherKingJrDay, Holiday::InaugurationDay]);
        assert_eq!(days_off(2025).len(), 11);
        // 2026: Independence Day on a Saturday, observed on Friday 3 July.
        assert_eq!(holiday_on(date!(2026 - 07 - 03)), Some(Holiday::IndependenceDay));
        assert_eq!(holiday_on(date!(2026 - 07 - 04)), None);
        // 2027: Juneteenth and Christmas on Saturdays (18 June, 24 December), New Year's Day
        // 2028 too (31 December 2027).
        let d2027 = days_off(2027);
        for d in [date!(2027 - 06 - 18), date!(2027 - 12 - 24), date!(2027 - 12 - 31)] {
            assert!(d2027.contains(&d), "{d}");
        }
        assert_eq!(d2027.len(), 12);
        // 2029: Inauguration Day on a Saturday gives no day off.
        assert!(!observed_in(2029).iter().any(|o| o.holiday == Holiday::InaugurationDay));
    }

    #[test]
    fn every_year_has_each_holiday_once_on_a_weekday() {
        for year in 1990..=2100 {
            let days = observed_in(year);
            for o in &days {
                assert!(!matches!(o.observed_on.weekday(), Weekday::Saturday | Weekday::Sunday), "{o:?}");
                assert!((o.observed_on - o.legal_date).whole_days().abs() <= 1, "{o:?}");
            }
            // Each holiday of the year is observed once, in this year or (New Year's Day) on
            // the last day of the one before.
            for h in Holiday::ALL {
                let here = days.iter().filter(|o| o.holiday == h && o.legal_date.year() == year).count();
                let before =
                    observed_in(year - 1).iter().filter(|o| o.holiday == h && o.legal_date.year() == year).count();
                let expected = usize::from(h.observed(year).is_some());
                assert_eq!(here + before, expected, "{h:?} {year}");
            }
        }
    }

    #[test]
    fn an_answer_due_on_a_weekend_or_a_holiday_rolls_to_the_next_business_day() {
        // Delivered on Friday 7 August 2026: the 30th day is Sunday 6 September, Monday
        // 7 September is Labor Day, so the answer is due on Tuesday 8 September.
        assert_eq!(due_after(date!(2026 - 08 - 07), 30), date!(2026 - 09 - 08));
        let r = reckon(date!(2026 - 08 - 07), 30);
        assert_eq!(r.counted_to, date!(2026 - 09 - 06));
        assert_eq!(
            r.passed_over.iter().map(|p| p.reason).collect::<Vec<_>>(),
            [Closed::Sunday, Closed::Holiday(Holiday::LaborDay)]
        );
        // Delivered on Friday 27 November 2026: the 30th day is Sunday 27 December, a
        // business day the Monday after.
        assert_eq!(due_after(date!(2026 - 11 - 27), 30), date!(2026 - 12 - 28));
        // Over New Year's Day 2022 observed on Friday 31 December 2021: due Monday 3 January.
        assert_eq!(due_after(date!(2021 - 12 - 01), 30), date!(2022 - 01 - 03));
        // A 30th day that is a business day stays.
        assert_eq!(due_after(date!(2026 - 03 - 02), 30), date!(2026 - 04 - 01));
        // Thanksgiving 2026 (Thursday 26 November): due on the Friday.
        assert_eq!(due_after(date!(2026 - 10 - 27), 30), date!(2026 - 11 - 27));
        assert!(!is_business_day(date!(2026 - 11 - 26)));
        assert!(is_business_day(date!(2026 - 11 - 27)));
    }
}
