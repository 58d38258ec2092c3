//! Identity and access: accounts, password hashing, sessions, CSRF, lockout, the access
//! policy and the extractors (`CurrentUser`) that handlers use.

pub mod api;
pub mod csrf;
pub mod extract;
pub mod password;
pub mod policy;
pub mod service;
pub mod session;
pub mod web;

pub use extract::{CurrentUser, RequestMeta};
pub use policy::{Action, Role};
