//! Enforcement in the API: the basis of a penalty.

use axum::extract::State;
use serde::Deserialize;

use super::model::{Basis, Factor};
use super::service::{self, Asked};
use crate::app::AppState;
use crate::choice::Choice;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppQuery};

/// A penalty's facts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BasisQuery {
    /// The violation's date (`YYYY-MM-DD`).
    #[param(value_type = time::Date)]
    pub violation_on: String,
    /// The transaction's value in dollars, e.g. `1250000` or `1,250,000.50`.
    pub transaction_value: String,
    /// The factors weighed, comma-separated.
    #[param(value_type = Option<String>)]
    pub factors: Option<String>,
}

/// The maximum civil penalty for one violation and its basis (15 CFR 791.319; IEEPA): the
/// greater of the adjusted statutory maximum in force on the violation's date and twice
/// the transaction's value, with the factors weighed (voluntary self-disclosure among
/// them). Analysts, supervisors and auditors.
#[utoipa::path(get, path = "/api/v1/enforcement/penalty-basis", tag = "enforcement", params(BasisQuery),
    responses((status = 200, body = Basis), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn penalty_basis(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<BasisQuery>,
) -> Result<ApiJson<Basis>, AppError> {
    let factors = q.factors.as_deref().unwrap_or("").split(',').map(str::trim).filter(|f| !f.is_empty());
    let asked = Asked {
        violation_on: q.violation_on,
        transaction_value: q.transaction_value,
        factors: factors.map(Choice::<Factor>::named).collect(),
    };
    Ok(ApiJson(service::basis(&mut *state.conn().await?, &user, &asked).await?))
}
