//! icts-review: case management for reviews of ICTS transactions under 15 CFR Part 791.
//!
//! The binary (`src/main.rs`) only parses the command line and calls [`cli::run`]. The
//! library is organised by domain (see `docs/ARCHITECTURE.md`).

pub mod access;
pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authorizations;
pub mod backup;
pub mod calendar;
pub mod canonical;
pub mod cases;
pub mod choice;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dates;
pub mod db;
pub mod declarations;
pub mod determinations;
pub mod documents;
pub mod dossier;
pub mod enforcement;
pub mod error;
pub mod filings;
pub mod general_authorizations;
pub mod home;
pub mod ids;
pub mod mitigation;
pub mod notifications;
pub mod opinions;
pub mod parties;
pub mod proceedings;
pub mod risk;
pub mod router;
pub mod search;
pub mod seed;
pub mod server;
pub mod synthetic;
pub mod telemetry;
pub mod text;
pub mod web;
pub mod zone;
