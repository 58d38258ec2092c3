//! Advisory opinions (15 CFR 791.310, connected vehicles): a request by a party with a
//! direct financial interest, its (c)(1)–(7) content and completeness check, questions,
//! the requester's and third parties' material, an opinion signed with four eyes on the
//! hash read, and its public version with confidential business information redacted.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;
