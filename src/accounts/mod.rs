//! Accounts, apart from sign-in: administrators' approvals, the roles' sign-in policies,
//! the identities linked to an account, passwords, and their SQL.

pub mod approvals;
pub mod db;
pub mod identities;
pub mod password;
pub mod sign_in_policy;
pub mod web;
