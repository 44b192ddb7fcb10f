//! RAM needed per role: the size of every state and share, kept under documented caps.
//!
//! The README's "RAM per role" table quotes these numbers; this test fails if a state grows
//! past its cap, so the table cannot silently go stale.

use core::mem::size_of;

use ecdsa2pc_core::{KeyShareP1, KeyShareP2};
use ecdsa2pc_core::{keygen, sign};

/// (name, size, cap) for every state a caller holds between messages.
fn sizes() -> [(&'static str, usize, usize); 9] {
    [
        (
            "keygen::p1::AwaitMsg2",
            size_of::<keygen::p1::AwaitMsg2>(),
            32 * 1024,
        ),
        (
            "keygen::p2::AwaitMsg3",
            size_of::<keygen::p2::AwaitMsg3>(),
            6 * 1024,
        ),
        (
            "sign::p1::AwaitMsg2",
            size_of::<sign::p1::AwaitMsg2<'_>>(),
            512,
        ),
        (
            "sign::p1::AwaitMsg4",
            size_of::<sign::p1::AwaitMsg4<'_>>(),
            512,
        ),
        (
            "sign::p2::AwaitMsg3",
            size_of::<sign::p2::AwaitMsg3<'_>>(),
            // Holds P2's presigning work (π_c3's witnesses, masks and commitments).
            8 * 1024,
        ),
        (
            "sign::p2::AwaitMsg5",
            size_of::<sign::p2::AwaitMsg5<'_>>(),
            512,
        ),
        ("KeyShareP1", size_of::<KeyShareP1>(), 12 * 1024),
        ("KeyShareP2", size_of::<KeyShareP2>(), 6 * 1024),
        ("MAX_MSG_LEN", ecdsa2pc_core::MAX_MSG_LEN, 34 * 1024),
    ]
}

#[test]
fn states_stay_within_their_documented_caps() {
    for (name, size, cap) in sizes() {
        println!("{name:<24} {size:>6} bytes (cap {cap})");
        assert!(
            size <= cap,
            "{name} is {size} bytes, over its cap of {cap}: update the README"
        );
    }
}
