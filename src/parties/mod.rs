//! The party registry shared across cases: ownership chains, adversary-nexus evidence and
//! screening against restricted-party lists.
