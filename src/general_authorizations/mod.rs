//! General authorizations (15 CFR 791.306, connected vehicles): the office's published
//! authorizations as versioned reference data; each firm's reliance with its reports (a
//! missed one voids reliance from its date) and changes of circumstance (reassessed within
//! 30 days); GA 3's approved-supplier list, its applications and decisions, as of any date.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;
