//! The proceedings of a review: notices to agencies with their responses (21 days' notice
//! before service and 14 days' presumed concurrence under `final-2025`; disputes referred
//! to the President), and the parties' submissions (written responses, mitigation
//! proposals, meeting requests and their outcome). Its page also shows the case's
//! determinations, mitigation and documents.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;
