//! Sign-in: accounts, password hashing, sessions, CSRF tokens, lockout, second factors,
//! single sign-on and cards. Who acts and what they may do (the `Actor`, the access
//! policy) is `crate::access`, below every domain.

pub mod api;
pub mod csrf;
pub mod piv;
pub mod second_factor;
pub mod security_keys;
pub mod service;
pub mod session;
pub mod sso;
pub mod web;
