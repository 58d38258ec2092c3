//! The domain's error: what a use case can refuse or fail with, in the domain's words. It
//! knows nothing of HTTP; the web layer gives each kind its status and page in one place
//! (`web::error`, `From<DomainError> for AppError`).

use serde::Serialize;

/// The most field errors one request is told of: a body of half a million bad items gets
/// the first ones, not half a million (nor the time to compare them).
pub const MAX_FIELD_ERRORS: usize = 50;

/// One invalid input field: the field's name and what is wrong with it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Name of the field (form field or JSON member).
    pub field: String,
    /// What is wrong, in words for the user.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// Several errors as one line: `field: message; field: message`.
    pub fn join(errors: &[FieldError]) -> String {
        errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
    }
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No such object, or one the actor may not know about (need-to-know hides it).
    #[error("not found")]
    NotFound,
    /// The policy does not let the actor do this.
    #[error("forbidden")]
    Forbidden,
    /// The actor may not do this to this object, for the reason given (e.g. four-eyes).
    #[error("forbidden: {0}")]
    ForbiddenBecause(String),
    /// The act needs a fresh re-authentication (step-up) first.
    #[error("re-authentication required")]
    ReauthRequired,
    /// Some inputs are invalid; each error names its field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The object changed since the actor read it, or the act does not fit its state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A status machine refused the change, for the reason given.
    #[error("refused: {0}")]
    Refused(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Any other internal failure.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl DomainError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The refusal of an act on `what` ("CVD-2026-000042", "this reliance") that changed
    /// since the user opened it, naming where it stands now when `now` is given.
    pub fn changed_since(what: &str, now: Option<&str>) -> Self {
        DomainError::Conflict(match now {
            Some(s) => format!("{what} changed since you opened it (it is {} now): look at it again", s.to_lowercase()),
            None => format!("{what} changed since you opened it: look at it again"),
        })
    }

    /// The refusal of a write that found `what` changed meanwhile.
    pub fn changed_meanwhile(what: &str) -> Self {
        DomainError::Conflict(format!("{what} changed meanwhile: look at it again"))
    }
}

/// The characters no text of ours may hold: the C0 controls other than tab, line feed and
/// carriage return, and DEL. (PostgreSQL cannot store NUL in text at all; the others have
/// no business in a record and hide text from reviewers.)
pub fn control_character(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}
