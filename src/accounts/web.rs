//! The administrators' pages of the accounts domain.

pub mod sign_in_policy;
