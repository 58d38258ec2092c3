//! The search page: one box, the hits of each kind the reader may see.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::Section;
use super::api::SearchQuery;
use crate::app::AppState;
use crate::web::auth::{Authorized, perm};
use crate::web::error::AppError;
use crate::web::extract::AppQuery;
use crate::web::layout::{FormErrors, Layout, render_as};

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    sections: Vec<Section>,
    found: usize,
    errors: FormErrors,
}

/// `GET /search?q=`.
pub async fn page(
    user: Authorized<perm::ViewFilings>,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<SearchQuery>,
) -> Result<Response, AppError> {
    let q = q.q.unwrap_or_default();
    let (sections, errors) = match super::search(&mut *state.conn().await?, &user, state.now(), &q).await {
        Ok(s) => (s, Vec::new()),
        Err(crate::error::DomainError::Invalid(e)) => (Vec::new(), e),
        Err(e) => return Err(e.into()),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_as(
        status,
        &SearchPage {
            layout: Layout::for_user(&state.web, "/search", Some(&user)),
            found: sections.iter().map(|s| s.hits.len()).sum(),
            q,
            sections,
            errors: FormErrors(errors),
        },
    )
}
