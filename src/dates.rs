//! Dates of acts. A review is a legal record, so the date an act took effect is data, not
//! the clock: a form or request gives it (or it is today), and it is checked before it is
//! recorded. The office's "today" ([`today`]) is the one place a legal date is taken from
//! an instant; every domain reads dates of acts through this module, which sits below them
//! (it uses only the office's zone, the text limits and the domain error).

use time::{Date, OffsetDateTime};

use crate::error::DomainError;

/// An act recorded more than this many days after its date needs a written reason.
pub const LATE_AFTER_DAYS: i64 = 7;

/// The office's calendar date at `now`: the default date of an act, and the day the
/// clocks and "overdue" count from. The office works by its own calendar (its zone,
/// [`crate::zone::office`]), so an act recorded at 8 p.m. in Washington is dated that day,
/// not the next day's UTC date.
pub fn today(now: OffsetDateTime) -> Date {
    crate::zone::office().date_at(now)
}

/// A date as forms, requests and stored events write it: `YYYY-MM-DD` (surrounding spaces
/// ignored).
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// A date of the past as typed (`YYYY-MM-DD`), `today` when none is given; or `None`, with
/// the problem for `field` added to `errors`.
pub fn past_date(
    field: &str,
    typed: Option<&str>,
    today: Date,
    errors: &mut Vec<crate::error::FieldError>,
) -> Option<Date> {
    match typed.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(today),
        Some(s) => match crate::dates::parse_date(s) {
            Some(d) if d <= today => Some(d),
            Some(_) => {
                errors
                    .push(crate::error::FieldError::new(field, format!("cannot be in the future (today is {today})")));
                None
            }
            None => {
                errors.push(crate::error::FieldError::new(field, "give a date as YYYY-MM-DD"));
                None
            }
        },
    }
}

/// Why the date of an act is refused: the field at fault, and why in words naming the
/// dates concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDate {
    pub field: &'static str,
    pub why: String,
}

impl From<BadDate> for DomainError {
    fn from(b: BadDate) -> Self {
        DomainError::invalid(b.field, b.why)
    }
}

/// Checks the date of an act recorded `today`: not in the future, not before `after` (the
/// acts it follows, each with what it was), and a written reason when it is recorded more
/// than [`LATE_AFTER_DAYS`] days late. The refusal names the field and both dates.
pub fn check_act_date(
    field: &'static str,
    on: Date,
    today: Date,
    after: &[(&str, Option<Date>)],
    late_reason: Option<&str>,
) -> Result<(), BadDate> {
    if on > today {
        return Err(BadDate {
            field,
            why: format!("the date of the act ({on}) cannot be in the future (today is {today})"),
        });
    }
    for (what, prior) in after {
        if let Some(p) = prior
            && on < *p
        {
            return Err(BadDate {
                field,
                why: format!("{on} is before {what} on {p}: an act cannot precede the act it follows"),
            });
        }
    }
    if late_reason.is_some_and(|r| crate::text::too_long(r, crate::text::LINE)) {
        return Err(BadDate { field: "late_reason", why: crate::text::at_most(crate::text::LINE) });
    }
    if (today - on).whole_days() > LATE_AFTER_DAYS && late_reason.map(str::trim).is_none_or(str::is_empty) {
        return Err(BadDate {
            field: "late_reason",
            why: format!(
                "the act is dated {on}, more than {LATE_AFTER_DAYS} days before it is recorded ({today}): give a written reason for recording it late"
            ),
        });
    }
    Ok(())
}

/// Checks the date of an act other than a workflow action (a notice, a response, a
/// submission) recorded at `now`: see [`check_act_date`]. A refusal is invalid input
/// naming the field and both dates.
pub fn check_dated(
    field: &'static str,
    on: Date,
    now: OffsetDateTime,
    after: &[(&str, Option<Date>)],
    late_reason: Option<&str>,
) -> Result<(), DomainError> {
    Ok(check_act_date(field, on, today(now), after, late_reason)?)
}

/// Whether an act dated `on` and recorded at `at` was recorded late (more than
/// [`LATE_AFTER_DAYS`] days after its date).
pub fn recorded_late(on: Date, at: OffsetDateTime) -> bool {
    (today(at) - on).whole_days() > LATE_AFTER_DAYS
}

/// When an act other than a workflow action took effect, as a form or request gives it: its
/// date (YYYY-MM-DD; today when absent) and why it is recorded late, if it is.
#[derive(Debug, Clone, Default)]
pub struct When {
    pub on: Option<String>,
    pub late_reason: Option<String>,
}

impl When {
    /// The date of the act, checked as [`check_dated`] checks it (reported on `field`).
    pub fn date(
        &self,
        field: &'static str,
        now: OffsetDateTime,
        after: &[(&str, Option<Date>)],
    ) -> Result<Date, DomainError> {
        let on = match self.on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => today(now),
            Some(s) => parse_date(s).ok_or_else(|| DomainError::invalid(field, "must be a date YYYY-MM-DD"))?,
        };
        check_dated(field, on, now, after, self.late_reason.as_deref())?;
        Ok(on)
    }

    /// The late reason, if one was given, for the audit event.
    pub fn late_reason(&self) -> Option<&str> {
        late_reason_of(self.late_reason.as_deref())
    }
}

/// The late reason of an act, if one was given, for its audit event.
pub fn late_reason_of(r: Option<&str>) -> Option<&str> {
    r.map(str::trim).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{OFFICE_DEFAULT, office};
    use time::macros::{date, datetime};

    #[test]
    fn the_offices_today_is_its_own_calendar_date() {
        // Unit tests never set the office's zone: it is the default, America/New_York.
        assert_eq!(office().name(), OFFICE_DEFAULT);
        assert_eq!(today(datetime!(2026-12-07 03:30 UTC)), date!(2026 - 12 - 06), "10:30 p.m. in Washington");
        assert_eq!(today(datetime!(2026-12-07 05:00 UTC)), date!(2026 - 12 - 07));
        assert_eq!(today(datetime!(2026-07-04 03:59 UTC)), date!(2026 - 07 - 03), "EDT: four hours behind");
        assert_eq!(today(datetime!(2026-07-04 04:00 UTC)), date!(2026 - 07 - 04));
    }
}
