//! The one integration-test binary: every suite is a module here, sharing one harness.

#![allow(
    clippy::disallowed_methods,
    reason = "the tests build schemas, fixtures and ad-hoc reads; src/ is held to checked SQL"
)]

mod harness;

mod access;
mod assets;
mod audit;
mod authorizations;
mod backup;
mod browser;
mod calendar;
mod cases;
mod days;
mod declarations;
mod determinations;
mod enforcement;
mod exports;
mod filing_lists;
mod forms;
mod foundation;
mod general_authorizations;
mod home;
mod identity;
mod import;
mod layers;
mod lifecycle;
mod migrations;
mod opinions;
mod parties;
mod piv;
mod record;
mod risk;
mod screening;
mod search;
mod security;
mod security_keys;
mod seed;
mod sso;
mod two_step;
mod witness;
