//! The second docket's Declarations of Conformity (15 CFR 791.305): connected-vehicle
//! manufacturers and VCS hardware importers, parties of the registry with their filer
//! roles, declare per model year (or calendar year, for hardware without one) that what
//! they import or sell meets the rule. The office receives each declaration (through the
//! API its public portal calls, or a form), reviews it (under review, questions asked,
//! accepted, deficient), and keeps every one: a material change is filed as an amendment
//! that supersedes the declaration it replaces, whose history stays.

pub mod api;
pub mod bulk;
pub mod db;
pub mod model;
pub mod service;
pub mod web;

pub use model::{Declaration, DeclarationKind, DeclarationStatus, FilerRole};
