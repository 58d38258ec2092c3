//! Mitigation: a catalogue of measure kinds, the measures of a case (owner, due date,
//! status proposed → agreed → implemented → verified, or rejected, or breached) and the
//! compliance checks that monitor them. A breach (a status change or a check that finds
//! one) reopens a monitored case for review and notifies the assignee and the supervisors.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;

pub use model::{Check, Measure, MeasureKind, MeasureStatus, NewCheck, NewMeasure, StatusChange};
pub use service::{add, add_check, set_status};
