//! Cases: intake, the regulation's workflow as a pure state machine, its clocks, queues and
//! search, with their database access and web/API adapters.

pub mod api;
pub mod clocks;
pub mod db;
pub mod import;
pub mod model;
pub mod reference;
pub mod service;
pub mod totals;
pub mod transactions;
pub mod triage;
pub mod web;
pub mod workflow;
