//! Distributed key generation: three messages, P1 → P2 → P1 → P2.
//!
//! ```text
//! P1                                              P2
//! start ── Msg1: nonce1, Com(Q1, cc1), N, c_key, Com, Com(eq₁), Com(range₁) ──▶ p2::start
//!       ◀── Msg2: nonce2, Q2, π(x2), key seed, e_eq, e_range, cc2 ──────────
//! on_msg2 ── Msg3: Q1, cc1, opening, π(x1), eq, range, N-th roots ──▶ on_msg3
//! → KeyShareP1                                                          → KeyShareP2
//! ```
//!
//! The BIP32 chain code is a coin toss folded into these messages: P1 commits to a random
//! cc1 together with Q1, P2 answers with a random cc2, P1 opens cc1 with Q1, and both take
//! cc = H(tag, sid, cc1, cc2). Neither party alone chooses it. It is public (every xpub
//! carries it): it gives unlinkability of child keys, not unforgeability.

use crate::{Party, bip32::ChainCode, session::SessionIds, tags};

mod msg;
pub mod p1;
pub mod p2;

pub use msg::{Msg1, Msg2, Msg3};

/// The run name hashed into the session prefix.
pub(crate) const RUN: &str = "keygen";
/// Labels of the statements proven in keygen.
pub(crate) mod label {
    pub(crate) const Q1: &str = "keygen/Q1";
    pub(crate) const Q2: &str = "keygen/Q2";
    pub(crate) const EQ: &str = "keygen/eq";
    pub(crate) const RANGE: &str = "keygen/range";
    pub(crate) const KEY: &str = "keygen/paillier-key";
    pub(crate) const CHAIN_CODE: &str = "keygen/chain-code";
}

/// The joint chain code cc = H(tag, sid, P1's pid, cc1, cc2), the same on both sides.
pub(crate) fn chain_code(ids: &SessionIds, cc1: &ChainCode, cc2: &ChainCode) -> ChainCode {
    let mut t = ids
        .proof_by(Party::P1, label::CHAIN_CODE)
        .transcript(tags::KEYGEN_CHAIN_CODE);
    t.bytes("cc1", cc1).bytes("cc2", cc2);
    t.finish()
}
