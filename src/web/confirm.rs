//! The confirmation step before an act that cannot be undone: a page, made without
//! JavaScript, that says what is about to happen and repeats the form as hidden fields for
//! the one button that does it.

use askama::Template;
use axum::response::Response;

use super::error::AppError;
use super::layout::{Layout, render};

/// What a confirmation page shows and posts.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct Confirm {
    /// The page layout.
    pub layout: Layout,
    /// "Accept the referral of ICTS-2026-014?"
    pub heading: String,
    /// What the act is about, as (term, description) pairs.
    pub facts: Vec<(String, String)>,
    /// What the act sets in motion.
    pub consequence: String,
    /// Where the confirmed form posts.
    pub action: String,
    /// The fields it posts (the CSRF token among them).
    pub hidden: Vec<(String, String)>,
    /// The label of the button that does it.
    pub button: String,
    /// Whether the button is styled as a destructive act.
    pub destructive: bool,
    /// Where "Cancel" leads back to.
    pub cancel: String,
}

impl Confirm {
    /// Renders the page.
    pub fn page(self) -> Result<Response, AppError> {
        render(&self)
    }
}
