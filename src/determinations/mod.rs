//! Determinations: initial and final drafts, amendments and revocations, four-eyes
//! sign-off, and the signed document.
//!
//! A draft belongs to its drafter, who revises it (each save is a numbered revision) until
//! it is submitted. A supervisor who is not the drafter signs it, with a re-authentication
//! from the last 5 minutes, or returns it with a comment. Signing freezes it: the sha256 of
//! the canonical content ([`content_hash`]), the signer, the time and the time of the
//! re-authentication are stored, and the row never changes again. The database enforces
//! the same rules (migration 0008: CHECKs and the `determinations_guard` trigger).

pub mod api;
pub mod db;
pub mod document;
pub mod model;
pub mod service;
pub mod web;

pub use model::*;
