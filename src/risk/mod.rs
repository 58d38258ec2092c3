//! Risk: the versioned rubric of the rule's criteria, pure scoring, append-only
//! assessments, supervisor-approved band overrides and the nexus finding.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;
