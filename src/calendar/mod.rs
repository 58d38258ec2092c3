//! The federal calendar the rule's day counts run on: the legal public holidays of
//! 5 U.S.C. 6103, computed for any year (not typed in), the day each is observed, and the
//! business days an answer date rolls over. A pre-penalty notice's answer is due on the
//! 30th day after delivery, or the next business day when that is a Saturday, a Sunday or
//! a federal holiday (15 CFR 791.318); the same rolling serves every other count of days
//! the office keeps in business days.
//!
//! The rules, as in force since 1986 (Juneteenth since 2021):
//! - fixed dates: New Year's Day (1 January), Juneteenth National Independence Day
//!   (19 June), Independence Day (4 July), Veterans Day (11 November), Christmas Day
//!   (25 December);
//! - Mondays: Birthday of Martin Luther King, Jr. (third Monday of January), Washington's
//!   Birthday (third Monday of February), Memorial Day (last Monday of May), Labor Day
//!   (first Monday of September), Columbus Day (second Monday of October);
//! - Thanksgiving Day (fourth Thursday of November);
//! - Inauguration Day (20 January of each fourth year after 1965), a holiday for federal
//!   employees in the Washington area, where the office sits (5 U.S.C. 6103(c)); on a
//!   Sunday it is observed on the Monday, and on a Saturday not at all.
//!
//! A holiday on a Saturday is observed on the Friday before, one on a Sunday on the Monday
//! after (Executive Order 11582, and 5 U.S.C. 6103(b)): so New Year's Day 2022, a
//! Saturday, was observed on Friday 31 December 2021. The calendar is pure (no I/O, no
//! clock); `web.rs` and `api.rs` show it. No crate models federal observance (finance
//! calendars keep exchange or settlement days), so it is computed here and tested against
//! the published lists.

pub mod api;
pub mod model;
pub mod web;

pub use model::*;
