//! Key refresh: new shares and a new Paillier key for the same public key Q.
//!
//! ```text
//! P1                                                     P2
//! start ── Msg1: nonce1, fingerprint, Com(ρ1), N', c_key' = Enc'(x1), Com(eq₁) ──▶ p2::start
//!       ◀── Msg2: nonce2, ρ2, key seed, e ──────────────────────────────────────
//! on_msg2 ── Msg3: ρ1, opening, equality proof, N'-th roots ──────────────────▶ on_msg3
//!       ◀── Msg4: fingerprint of the new share ─────────────────────────────────
//! on_msg4 → new KeyShareP1 ── Msg5: promoted (persistence only) ──▶ → new KeyShareP2
//! ```
//!
//! ρ = ρ1 + ρ2 is a coin toss (P1 commits first); x1' = x1 + ρ over the integers, so it stays
//! the exact plaintext of c_key' ⊕ ρ; x2' = x2 − ρ; Q is unchanged; the epoch grows by one.
//! P1's new share is available as [`p1::AwaitMsg4::pending`] before P2 confirms, so a caller
//! can persist it as pending and promote it on confirmation (two-phase).

mod msg;
pub mod p1;
pub mod p2;

pub use msg::{Msg1, Msg2, Msg3, Msg4, Msg5};

use crate::zk::eq_paillier_paillier::X_SLACK_BITS;

/// The last epoch a share may reach: x1 grows by < q per refresh and must stay below
/// q·2^16, the bound the refresh equality proof masks.
pub const MAX_EPOCH: u64 = (1 << X_SLACK_BITS) - 1;

/// The run name hashed into the session prefix.
pub(crate) const RUN: &str = "refresh";
/// Labels of the statements proven in refresh.
pub(crate) mod label {
    pub(crate) const RHO1: &str = "refresh/rho1";
    pub(crate) const EQ: &str = "refresh/eq";
    pub(crate) const KEY: &str = "refresh/paillier-key";
}
