//! The append-only, hash-chained audit log that every state change writes to, its verifier
//! and its exports. Depends on nothing else in the crate.
