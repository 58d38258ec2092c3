//! The federal calendar in the API: the holidays of a year, and a due date reckoned.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::Date;

use super::{Due, MAX_DAYS, Observed, YEARS};
use crate::app::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppQuery};

/// Which year.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (1990 to 2100); the office's current one when left out.
    pub year: Option<i32>,
}

/// A year's federal holidays.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Holidays {
    pub year: i32,
    /// The days observed in the year, in date order.
    pub holidays: Vec<Observed>,
}

/// The year asked for, or the office's current one.
pub(super) fn year_of(asked: Option<i32>, state: &AppState) -> Result<i32, AppError> {
    let year = asked.unwrap_or_else(|| crate::dates::today(state.now()).year());
    if !YEARS.contains(&year) {
        return Err(AppError::invalid("year", "must be a year from 1990 to 2100"));
    }
    Ok(year)
}

/// The federal holidays observed in a year (5 U.S.C. 6103, moved off weekends by
/// Executive Order 11582), computed: the days the rule's answer dates roll over.
#[utoipa::path(get, path = "/api/v1/calendar/holidays", tag = "calendar", params(YearQuery),
    responses((status = 200, body = Holidays), (status = 401), (status = 422)), security(("bearer" = [])))]
pub async fn holidays(
    _user: CurrentUser,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<YearQuery>,
) -> Result<ApiJson<Holidays>, AppError> {
    let year = year_of(q.year, &state)?;
    Ok(ApiJson(Holidays { year, holidays: super::observed_in(year) }))
}

/// A count of days to reckon.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// The day counted from (`YYYY-MM-DD`), e.g. a notice's delivery.
    #[param(value_type = Date)]
    pub from: String,
    /// How many calendar days after it (1 to 3660); 30 when left out, the answer time of
    /// a pre-penalty notice.
    pub days: Option<i64>,
}

/// Checks a count of days: the date named and the count within bounds.
pub(super) fn check_due(from: &str, days: Option<i64>) -> Result<(Date, i64), AppError> {
    let mut errors = Vec::new();
    let from = crate::dates::parse_date(from).filter(|d| YEARS.contains(&d.year()));
    if from.is_none() {
        errors.push(crate::web::error::FieldError::new("from", "give a date as YYYY-MM-DD, from 1990 to 2100"));
    }
    let days = days.unwrap_or(30);
    if !(1..=MAX_DAYS).contains(&days) {
        errors.push(crate::web::error::FieldError::new("days", "give a number of days from 1 to 3660"));
    }
    match from {
        Some(from) if errors.is_empty() => Ok((from, days)),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// The date due on the given day after another, rolled to the next business day when it
/// falls on a Saturday, a Sunday or a federal holiday, with every day passed over and why
/// (15 CFR 791.318: a pre-penalty notice's answer).
#[utoipa::path(get, path = "/api/v1/calendar/due", tag = "calendar", params(DueQuery),
    responses((status = 200, body = Due), (status = 401), (status = 422)), security(("bearer" = [])))]
pub async fn due(_user: CurrentUser, AppQuery(q): AppQuery<DueQuery>) -> Result<ApiJson<Due>, AppError> {
    let (from, days) = check_due(&q.from, q.days)?;
    Ok(ApiJson(super::reckon(from, days)))
}
