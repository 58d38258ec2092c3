//! Time zones: where people read the times the system keeps in UTC.
//!
//! Every instant is stored and exported in UTC. Pages show it in the reader's time zone
//! (their own setting, or the office's default); legal dates (due dates, dates of acts)
//! are calendar dates and are never shifted. The zone rules are the IANA time zone
//! database compiled into the binary (through `jiff`), so a machine without `tzdata`
//! shows the same times as one with it.

use std::sync::{Arc, OnceLock};

use time::OffsetDateTime;

/// The office's default zone when none is configured.
pub const OFFICE_DEFAULT: &str = "America/New_York";

/// Zones offered first when a user picks one: the United States' and UTC.
pub const COMMON: [&str; 10] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Pacific/Guam",
    "UTC",
];

/// An IANA time zone by its name (`America/New_York`).
#[derive(Clone, Debug)]
pub struct Zone {
    name: Arc<str>,
    tz: jiff::tz::TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

/// Why a time zone name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ZoneError(pub String);

impl Zone {
    /// A zone by its IANA name, one of [`names`] (`UTC` included); names are matched as
    /// written, after trimming.
    pub fn parse(name: &str) -> Result<Zone, ZoneError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ZoneError("is required: choose a time zone from the list".into()));
        }
        let Ok(i) = names().binary_search_by(|n| n.as_str().cmp(name)) else {
            let shown: String = name.chars().take(64).filter(|c| !c.is_control()).collect();
            return Err(ZoneError(format!(
                "{shown:?} is not a time zone this system knows; choose one from the list (such as America/New_York)"
            )));
        };
        let name = &names()[i];
        let tz = jiff::tz::TimeZone::get(name).map_err(|e| ZoneError(format!("{name:?} cannot be used: {e}")))?;
        Ok(Zone { name: Arc::from(name.as_str()), tz })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone { name: Arc::from("UTC"), tz: jiff::tz::TimeZone::UTC }
    }

    /// The office's default zone.
    pub fn office_default() -> Zone {
        Zone::parse(OFFICE_DEFAULT).unwrap_or_else(|_| Zone::utc())
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `t` as a wall-clock time in this zone, with the zone's abbreviation for that
    /// instant: `2026-11-28 12:40 EST` (or `+03` where the zone has no abbreviation).
    pub fn wall_clock(&self, t: OffsetDateTime) -> String {
        match jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()) {
            Ok(ts) => ts.to_zoned_datetime(self.tz.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
            Err(_) => String::new(),
        }
    }

    /// The calendar date at `t` in this zone.
    pub fn date_at(&self, t: OffsetDateTime) -> time::Date {
        let Ok(ts) = jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()) else { return t.date() };
        let d = ts.to_zoned_datetime(self.tz.clone()).date();
        time::Month::try_from(d.month() as u8)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(d.year().into(), m, d.day() as u8).ok())
            .unwrap_or_else(|| t.date())
    }
}

/// The zone whose calendar gives the office's legal "today" (set once at start from
/// `--time-zone` / `ICTS_TIME_ZONE`; the default zone until then).
static OFFICE: OnceLock<Zone> = OnceLock::new();

/// Sets the office's zone for the life of the process: the dates of acts, the clocks and
/// "overdue" follow its calendar, as the office's own working day does. The first call
/// wins (one process serves one office); later calls with another zone are ignored and
/// logged.
pub fn set_office(zone: Zone) {
    if let Err(z) = OFFICE.set(zone)
        && Some(&z) != OFFICE.get()
    {
        tracing::warn!(ignored = z.name(), kept = office().name(), "the office's time zone is already set");
    }
}

/// The office's zone (see [`set_office`]).
pub fn office() -> &'static Zone {
    OFFICE.get_or_init(Zone::office_default)
}

/// Every zone a user may choose, sorted: the database's `Area/Location` names and `UTC`,
/// without the legacy aliases (`US/Eastern`, `EST5EDT`, `Etc/GMT+5`, ...).
pub fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        const AREAS: [&str; 10] = [
            "Africa/",
            "America/",
            "Antarctica/",
            "Arctic/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
            "Pacific/",
        ];
        let mut all: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| n == "UTC" || AREAS.iter().any(|a| n.starts_with(a)))
            .collect();
        if !all.iter().any(|n| n == "UTC") {
            all.push("UTC".into());
        }
        all.sort();
        all.dedup();
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_show_in_the_zone_with_its_abbreviation_across_daylight_saving() {
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(ny.wall_clock(datetime!(2026-01-15 17:40 UTC)), "2026-01-15 12:40 EST");
        assert_eq!(ny.wall_clock(datetime!(2026-07-15 17:40 UTC)), "2026-07-15 13:40 EDT");
        assert_eq!(Zone::utc().wall_clock(datetime!(2026-07-15 17:40 UTC)), "2026-07-15 17:40 UTC");
        let chicago = Zone::parse(" America/Chicago ").unwrap();
        assert_eq!(chicago.name(), "America/Chicago");
        assert_eq!(chicago.date_at(datetime!(2026-03-04 03:06 UTC)), time::macros::date!(2026 - 03 - 03));
    }

    #[test]
    fn unknown_and_legacy_names_are_refused_with_a_sentence() {
        assert!(Zone::parse("").unwrap_err().0.starts_with("is required"));
        assert!(Zone::parse("Mars/Olympus").unwrap_err().0.contains("not a time zone"));
        assert!(Zone::parse("US/Eastern").is_err(), "legacy aliases are not offered");
        assert!(Zone::parse("america/new_york").is_err(), "names are matched as written");
        assert!(names().len() > 300 && names().windows(2).all(|w| w[0] < w[1]));
        assert!(COMMON.iter().all(|c| Zone::parse(c).is_ok()));
        assert_eq!(Zone::office_default().name(), OFFICE_DEFAULT);
    }
}
