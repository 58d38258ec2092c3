//! The one integration-test binary: every suite is a module here, sharing one harness.

mod harness;

mod browser;
mod foundation;
mod lifecycle;
