//! Distributed key generation: three messages, P1 → P2 → P1 → P2.
//!
//! ```text
//! P1                                              P2
//! start ── Msg1: nonce1, Com(Q1), N, c_key, Com, Com(eq₁), Com(range₁) ──▶ p2::start
//!       ◀── Msg2: nonce2, Q2, π(x2), key seed, e_eq, e_range ─────────────
//! on_msg2 ── Msg3: Q1, opening, π(x1), PDL, eq, range, N-th roots ──▶ on_msg3
//! → KeyShareP1                                                          → KeyShareP2
//! ```

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
    pub(crate) const PDL: &str = "keygen/pdl";
    pub(crate) const EQ: &str = "keygen/eq";
    pub(crate) const RANGE: &str = "keygen/range";
    pub(crate) const KEY: &str = "keygen/paillier-key";
}
