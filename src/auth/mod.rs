//! Sign-in: sessions, CSRF tokens, lockout and throttle, second factors, security keys,
//! single sign-on and cards. It uses the accounts (`crate::accounts`: the account, its
//! password, its role's sign-in policy, its linked identities), which never use it. Who acts and what they may do (the `Actor`, the access
//! policy) is `crate::access`, below every domain.

pub mod api;
pub mod csrf;
pub mod db;
pub mod finish;
pub mod piv;
pub mod second_factor;
pub mod security_keys;
pub mod service;
pub mod session;
pub mod sso;
pub mod web;
