//! Accounts, apart from sign-in: who holds an account, with which role and in which time
//! zone; an administrator's changes (create, role, activation, temporary password, lock,
//! sessions, second factors, cards) and the second administrator's approval some of them
//! wait for; how each role may sign in; the identities linked to an account; passwords
//! (hashing and the rules of a new one). Sign-in (the `auth` module) uses this domain, never
//! the reverse: an administrator's change that ends sessions or removes credentials does
//! it through `db.rs` here.

pub mod api;
pub mod approvals;
pub mod db;
pub mod identities;
pub mod model;
pub mod password;
pub mod service;
pub mod sign_in_policy;
pub mod web;
