//! Enforcement (15 CFR 791.316–791.319, for both dockets). So far: the civil penalty's
//! basis, as a penalty notice states it: the greater of the adjusted statutory maximum in
//! force on the violation's date (dated reference data) and twice the transaction's value,
//! with the factors weighed.

pub mod api;
pub mod db;
pub mod model;
pub mod service;
pub mod web;
