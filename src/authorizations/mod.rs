//! Specific authorizations (15 CFR 791.307, connected vehicles): applications with their
//! (c)(1)–(8) content, the completeness check, questions, briefings and added material, the
//! office's clock (its target a dated setting, paused while questions are open), the
//! decision signed with four eyes, and a grant's conditions tracked as mitigation measures
//! are, a breach reopening the application.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;
