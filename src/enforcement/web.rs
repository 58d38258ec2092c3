//! The penalty calculator page: a GET form, it writes nothing.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::model::{Basis, Factor, Ground, Maximum};
use super::service::{self, Asked};
use crate::app::AppState;
use crate::choice::Choice;
use crate::web::auth::{Authorized, perm};
use crate::web::error::{AppError, FieldError};
use crate::web::extract::AppQuery;
use crate::web::layout::{FormErrors, Layout, money, render};

#[derive(Template)]
#[template(path = "enforcement/penalty.html")]
struct PenaltyPage {
    layout: Layout,
    q: PenaltyQuery,
    basis: Option<Basis>,
    errors: FormErrors,
    factors: [Factor; 6],
    maximums: Vec<Maximum>,
}

impl PenaltyPage {
    fn dollars(&self, cents: &i64) -> String {
        money(*cents as f64 / 100.0)
    }

    fn checked(&self, f: &Factor) -> bool {
        self.q.factor.iter().any(|x| x == f.as_str())
    }

    fn by_statute(&self, g: &Ground) -> bool {
        *g == Ground::Statutory
    }
}

/// The calculator's query: the violation's date, the value, and each factor weighed
/// (`factor=…`, repeated).
#[derive(Debug, Clone, Default)]
pub struct PenaltyQuery {
    violation_on: String,
    transaction_value: String,
    factor: Vec<String>,
}

impl PenaltyQuery {
    fn of(pairs: Vec<(String, String)>) -> PenaltyQuery {
        let mut q = PenaltyQuery::default();
        for (k, v) in pairs {
            match k.as_str() {
                "violation_on" => q.violation_on = v,
                "transaction_value" => q.transaction_value = v,
                "factor" => q.factor.push(v),
                _ => {}
            }
        }
        q
    }
}

/// `GET /enforcement/penalty`.
pub async fn page(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(pairs): AppQuery<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let q = PenaltyQuery::of(pairs);
    let mut conn = state.conn().await?;
    let asked_for = !q.violation_on.trim().is_empty() || !q.transaction_value.trim().is_empty();
    let (basis, errors) = if asked_for {
        let asked = Asked {
            violation_on: q.violation_on.clone(),
            transaction_value: q.transaction_value.clone(),
            factors: q.factor.iter().map(|f| Choice::<Factor>::named(f)).collect(),
        };
        match service::basis(&mut conn, &user, &asked).await.map_err(AppError::from) {
            Ok(b) => (Some(b), Vec::new()),
            Err(AppError::Invalid(e)) => (None, e),
            Err(e) => return Err(e),
        }
    } else {
        (None, Vec::<FieldError>::new())
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let mut r = render(&PenaltyPage {
        layout: Layout::for_user(&state.web, "/enforcement", Some(&user)),
        q,
        basis,
        errors: FormErrors(errors),
        factors: Factor::ALL,
        maximums: service::maximums(&mut conn).await?,
    })?;
    *r.status_mut() = status;
    Ok(r)
}
