#![no_std]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(clippy::integer_division_remainder_used)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod bigint;
pub mod bip32;
pub mod commitment;
pub mod curve;
mod error;
#[cfg(test)]
mod fixtures;
pub mod keygen;
pub mod paillier;
mod party;
pub mod pedersen;
pub mod refresh;
pub mod session;
pub mod share;
pub mod sign;
pub mod tags;
pub mod transcript;
pub mod wire;
pub mod zk;

pub use error::{Error, Proof, Result};
pub use party::{Party, UnknownParty};
