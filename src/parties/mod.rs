//! The party registry shared across cases: legal names and aliases, ownership chains to a
//! foreign adversary, adversary-nexus evidence per criterion, and links to cases.

pub mod api;
pub mod db;
pub mod model;
pub mod screening;
pub mod screening_service;
pub mod service;

pub mod web;

pub use db::{cases_of, count, evidence, get, list, nexus_evidence_of_case, page, parties_of_case};
pub use model::{
    CaseLink, CaseParty, ChainLink, Evidence, EvidenceInput, MAX_ALIASES, NexusCriterion, Party, PartyFilter,
    PartyInput, PartyKind, PartyRole, PartySort, ValidParty,
};
pub use service::{add_evidence, create, ownership_chain, prc_or_russia_tie, update};
