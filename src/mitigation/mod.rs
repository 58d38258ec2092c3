//! Mitigation: agreed measures and the compliance checks that monitor them.
