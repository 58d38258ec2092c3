//! Identity and access: accounts, password hashing, sessions, CSRF tokens, lockout, the
//! access policy and the [`Actor`] every use case takes. The extractors that build an
//! actor from a request are the web layer's (`web::auth`).

pub mod actor;
pub mod api;
pub mod approvals;
pub mod csrf;
pub mod db;
pub mod identities;
pub mod password;
pub mod piv;
pub mod policy;
pub mod second_factor;
pub mod security_keys;
pub mod service;
pub mod session;
pub mod sign_in_policy;
pub mod sso;
pub mod web;

pub use actor::{Actor, RequestMeta};
pub use policy::{Action, Role};
