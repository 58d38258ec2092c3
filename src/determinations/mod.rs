//! Determinations: initial and final drafts, four-eyes sign-off, and the signed documents.
