//! Enforcement's use cases: the basis of a penalty.

use sqlx::PgConnection;

use super::db;
use super::model::{Basis, Factor, Maximum};
use crate::access::{Action, Actor};
use crate::choice::Choice;
use crate::error::{DomainError, FieldError};

/// The most a transaction's value may be, in cents (a trillion dollars).
pub const MAX_VALUE_CENTS: i64 = 100_000_000_000_000;

/// What a penalty's basis is asked for, as given.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub violation_on: String,
    /// In dollars, e.g. `1250000` or `1,250,000.50`.
    pub transaction_value: String,
    pub factors: Vec<Choice<Factor>>,
}

/// The basis of a penalty, for a reader of filings or cases: every bad field named.
pub async fn basis(conn: &mut PgConnection, user: &Actor, asked: &Asked) -> Result<Basis, DomainError> {
    if !(user.may(Action::ViewFilings) || user.may(Action::ViewCases)) {
        return Err(DomainError::Forbidden);
    }
    let mut errors = Vec::new();
    let on = crate::dates::parse_date(&asked.violation_on);
    if on.is_none() {
        errors.push(FieldError::new("violation_on", "give the violation's date as YYYY-MM-DD"));
    }
    let value = cents(&asked.transaction_value);
    if value.is_none() {
        errors.push(FieldError::new("transaction_value", "give the transaction's value in dollars, e.g. 1,250,000"));
    }
    let mut factors = Vec::new();
    for f in &asked.factors {
        if let Some(f) = f.or_error("factors", "must be among the factors listed", &mut errors)
            && !factors.contains(&f)
        {
            factors.push(f);
        }
    }
    let (Some(on), Some(value), true) = (on, value, errors.is_empty()) else {
        return Err(DomainError::Invalid(errors));
    };
    let Some(statutory) = db::maximum_on(conn, on).await? else {
        return Err(DomainError::invalid("violation_on", format!("no adjusted maximum is recorded in force on {on}")));
    };
    Ok(super::model::basis(on, statutory, value, factors))
}

/// Every adjusted maximum recorded, latest first.
pub async fn maximums(conn: &mut PgConnection) -> Result<Vec<Maximum>, DomainError> {
    Ok(db::maximums(conn).await?)
}

/// Dollars as typed (`$1,250,000.50`) in cents; `None` when it is no amount within bounds.
fn cents(typed: &str) -> Option<i64> {
    let t: String = typed.trim().trim_start_matches('$').chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().ok()? };
    let c = whole.checked_mul(100)?.checked_add(fraction)?;
    (c <= MAX_VALUE_CENTS).then_some(c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_read_as_typed() {
        assert_eq!(super::cents("$1,250,000"), Some(125_000_000));
        assert_eq!(super::cents("1250000.5"), Some(125_000_050));
        assert_eq!(super::cents("0.05"), Some(5));
        for bad in ["", "-5", "1.234", "ten", "1e9", "99999999999999999999"] {
            assert_eq!(super::cents(bad), None, "{bad}");
        }
    }
}
