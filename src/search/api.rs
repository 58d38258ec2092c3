//! The search across both dockets in the API.

use axum::extract::State;
use serde::Deserialize;

use super::Section;
use crate::app::AppState;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::{ApiJson, AppQuery};

/// The query: `?q=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words, a number or a name (at most 200 characters: a longer one is refused with 422).
    pub q: Option<String>,
}

/// Searches both dockets (analysts, supervisors, auditors): cases by full text under
/// need-to-know, parties by name, declarations by number, filer or item, specific
/// authorization applications and enforcement matters by number, party or text; at most
/// ten of each kind, with the kind's own list for the rest.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = [Section]), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn search(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<SearchQuery>,
) -> Result<ApiJson<Vec<Section>>, AppError> {
    let q = q.q.unwrap_or_default();
    Ok(ApiJson(super::search(&mut *state.conn().await?, &user, state.now(), &q).await?))
}
