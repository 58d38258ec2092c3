//! Time as the service sees it. Everything that depends on "now" (session timeouts,
//! lockouts, audit timestamps, case clocks) reads it from a [`Clock`], so that tests can
//! move time instead of waiting.

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current UTC time, truncated to microseconds (what PostgreSQL stores).
    fn now(&self) -> OffsetDateTime;
}

/// `t` as PostgreSQL will store and return it: in UTC, to the microsecond. Whatever is
/// hashed before it is stored (audit events) must be this.
pub fn storable(t: OffsetDateTime) -> OffsetDateTime {
    truncate_micros(t.to_offset(time::UtcOffset::UTC))
}

fn truncate_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_nanosecond(micros * 1000).expect("microseconds fit")
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that tests set and advance by hand.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A manual clock starting at the current system time.
    pub fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(SystemClock.now())))
    }

    /// A manual clock starting at `t`.
    pub fn at(t: OffsetDateTime) -> Self {
        ManualClock(Arc::new(Mutex::new(t)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }

    /// Sets the clock.
    pub fn set(&self, to: OffsetDateTime) {
        *self.0.lock().expect("clock lock") = to;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        truncate_micros(*self.0.lock().expect("clock lock"))
    }
}

/// The clock shared through the application state.
pub type SharedClock = Arc<dyn Clock>;
