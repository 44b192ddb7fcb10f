//! Fuzz harness for ecdsa2pc-core; the targets in `fuzz_targets/` are thin wrappers over it.
//!
//! The harness itself lives in `harness.rs` so that `core/tests/fuzz_regressions.rs` can
//! include the very same code on stable Rust.

#[path = "harness.rs"]
mod harness;

pub use harness::*;
