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
pub mod sizes;
pub mod tags;
pub mod transcript;
pub mod wire;
pub mod zk;

pub use error::{Error, Proof, Result};
pub use party::{Party, UnknownParty};
pub use share::{KeyShare, KeyShareP1, KeyShareP2, PublicShares};
pub use sizes::{MAX_EPOCH, MAX_MSG_LEN};

// MAX_MSG_LEN is a plain number so that `sizes` depends on nothing; here, where every
// protocol is in view, the build fails unless it is exactly the longest message.
// Evaluated at compile time: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
const _: () = {
    use wire::Message;
    let lens = [
        keygen::Msg1::LEN,
        keygen::Msg2::LEN,
        keygen::Msg3::LEN,
        sign::Msg1::LEN,
        sign::Msg2::LEN,
        sign::Msg3::LEN,
        sign::Msg4::LEN,
        sign::Msg5::LEN,
        refresh::Msg1::LEN,
        refresh::Msg2::LEN,
        refresh::Msg3::LEN,
        refresh::Msg4::LEN,
        wire::ABORT_LEN,
    ];
    let mut max = 0;
    let mut i = 0;
    while i < lens.len() {
        if lens[i] > max {
            max = lens[i];
        }
        i += 1;
    }
    assert!(
        max == MAX_MSG_LEN,
        "sizes::MAX_MSG_LEN is not the longest message"
    );
};
