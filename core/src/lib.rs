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
mod error;
#[cfg(test)]
mod fixtures;
mod party;
mod ring_pedersen;
mod share;
mod slot;

/// Declares the modules that hold the protocol's building blocks: private, and with the
/// `internals` feature re-exported under [`internals`] for this workspace's tests, benches
/// and fuzz targets. Without the feature their `pub` items are reachable from nowhere,
/// which `unreachable_pub` would report for every one of them.
macro_rules! building_blocks {
    ($($name:ident: $what:literal),+ $(,)?) => {
        $(
            #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
            mod $name;
        )+

        /// The building blocks behind the rounds, for this workspace's tests, benchmarks and
        /// fuzz targets (feature `internals`). Not a stable API: nothing here is needed to
        /// run the protocol, and any of it may change in any release.
        #[cfg(feature = "internals")]
        #[doc(hidden)]
        pub mod internals {
            $(
                #[doc = $what]
                pub mod $name {
                    pub use crate::$name::*;
                }
            )+
        }
    };
}

building_blocks! {
    commitment: "Hash commitments.",
    curve: "secp256k1 helpers.",
    paillier: "Paillier encryption.",
    pedersen: "The Pedersen group.",
    session: "Session binding.",
    sizes: "Field widths and bounds.",
    tags: "Domain-separation tags.",
    transcript: "Transcripts.",
    wire: "The wire codec, including the field half of `Message`.",
    zk: "The zero-knowledge proofs.",
}

pub mod bip32;
pub mod keygen;
pub mod refresh;
pub mod sign;
pub mod work;

// The public interface is:
pub use error::{Error, Proof, Result};
pub use paillier::{
    Ciphertext, HalfPlaintext, KeySearch as PaillierKeySearch, MAX_SEARCH_WIDTH, MAX_WINDOW,
    MODULUS_BITS as PAILLIER_MODULUS_BITS, ModNN, NoncePower, Prime,
    PublicKey as PaillierPublicKey, SecretKey as PaillierSecretKey, generate_prime,
};
pub use party::{Party, UnknownParty};
pub use pedersen::{TABLE_LEN as PEDERSEN_TABLE_LEN, Table as PedersenTable};
pub use ring_pedersen::{
    CommitTables, ParamsMsg, RingPedersenParams, RingPedersenSecret, TrapdoorTables,
    commit_tables_len, generate_safe_prime, trapdoor_tables_len,
};
pub use session::{Context, ID_LEN};
pub use share::{KeyShare, KeyShareP1, KeyShareP2, PublicShares, Receipt, role_of};
pub use sizes::{MAX_EPOCH, MAX_MSG_LEN};
pub use wire::{ABORT_LEN, Message, MsgType, abort_message, peer_abort};

// MAX_MSG_LEN is a plain number so that `sizes` depends on nothing; here, where every
// protocol is in view, the build fails unless it is exactly the longest message.
// Evaluated at compile time: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
const _: () = {
    use wire::Message;
    let lens = [
        ParamsMsg::LEN,
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
        ABORT_LEN,
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
