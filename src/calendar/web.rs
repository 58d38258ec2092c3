//! The federal calendar page: a year's holidays, and a due date reckoned from a date and
//! a count of days. It writes nothing: its form is a GET.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Due, Observed};
use crate::app::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::{AppError, FieldError};
use crate::web::extract::AppQuery;
use crate::web::layout::{Layout, render_as};

#[derive(Template)]
#[template(path = "calendar/index.html")]
struct CalendarPage {
    layout: Layout,
    year: i32,
    holidays: Vec<Observed>,
    from: String,
    days: String,
    due: Option<Due>,
    errors: Vec<FieldError>,
}

impl CalendarPage {
    fn error(&self, field: &str) -> &str {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str()).unwrap_or_default()
    }
}

/// The page's query: the year shown, and the count of days to reckon.
#[derive(Debug, Default, Deserialize)]
pub struct CalendarQuery {
    year: Option<String>,
    from: Option<String>,
    days: Option<String>,
}

/// A date as the page shows it: `Friday 7 August 2026`.
pub fn long_date(d: &time::Date) -> String {
    format!("{} {} {} {}", d.weekday(), d.day(), d.month(), d.year())
}

/// `GET /calendar`.
pub async fn page(
    user: CurrentUser,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<CalendarQuery>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let asked = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => match y.parse::<i32>() {
            Ok(y) => Some(y),
            Err(_) => {
                errors.push(FieldError::new("year", "must be a year from 1990 to 2100"));
                None
            }
        },
    };
    let year = match super::api::year_of(asked, &state) {
        Ok(y) => y,
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            crate::dates::today(state.now()).year()
        }
        Err(e) => return Err(e),
    };
    let from = q.from.unwrap_or_default();
    let days = q.days.unwrap_or_else(|| "30".into());
    let mut due = None;
    if !from.trim().is_empty() {
        let count = days.trim().parse::<i64>().ok();
        match (count, super::api::check_due(&from, count)) {
            (None, checked) => {
                errors.push(FieldError::new("days", "give a number of days from 1 to 3660"));
                if let Err(AppError::Invalid(e)) = checked {
                    errors.extend(e.into_iter().filter(|e| e.field == "from"));
                }
            }
            (Some(_), Ok((from, days))) => due = Some(super::reckon(from, days)),
            (Some(_), Err(AppError::Invalid(e))) => errors.extend(e),
            (Some(_), Err(e)) => return Err(e),
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &CalendarPage {
            layout: Layout::for_user(&state.web, "/calendar", Some(&user)),
            year,
            holidays: super::observed_in(year),
            from,
            days,
            due,
            errors,
        },
    )
}
