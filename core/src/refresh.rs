//! Key refresh: new shares and a new Paillier key for the same public key Q.
//!
//! ```text
//! P1                                                     P2
//! start ── Msg1: nonce1, fingerprint, Com(ρ1), N', c_key' = Enc'(x1 mod q),
//!                Com = g^(x1 mod q)·h^ρ, Com(eq₁), Com(range₁) ──────────────▶ p2::start
//!       ◀── Msg2: nonce2, ρ2, key seed, e_eq, e_range ─────────────────────────
//! on_msg2 ── Msg3: ρ1, opening, equality proof, range proof, N'-th roots ─────▶ on_msg3
//!       ◀── Msg4: fingerprint of the new share ─────────────────────────────────
//! on_msg4 → new KeyShareP1 ── Msg5: promoted (persistence only) ──▶ → new KeyShareP2
//! ```
//!
//! c_key' is proven exactly as keygen proves c_key (`core/src/zk/ckey.rs`, the same code with
//! the labels `refresh/eq` and `refresh/range`): its plaintext is the discrete log mod q of
//! the share's Q1, in range. ρ = ρ1 + ρ2 is a coin toss (P1 commits first); x1' = (x1 mod q) + ρ
//! over the integers (< 2q), the exact plaintext of c_key' ⊕ ρ; x2' = x2 − ρ; Q is unchanged;
//! the epoch grows by one.
//! P1's new share is available as [`p1::AwaitMsg4::pending`] before P2 confirms, so a caller
//! can persist it as pending and promote it on confirmation (two-phase).

mod msg;
pub mod p1;
pub mod p2;

pub use msg::{Msg1, Msg2, Msg3, Msg4, Msg5};

use k256::{ProjectivePoint, Scalar};

use crate::{
    Error, Result, bigint,
    paillier::{Ciphertext, PublicKey},
    share::{Common, PublicShares, X1},
    sizes::MAX_EPOCH,
};

/// The run name hashed into the session prefix.
pub(crate) const RUN: &str = "refresh";
/// Labels of the statements proven in refresh.
pub(crate) mod label {
    pub(crate) const RHO1: &str = "refresh/rho1";
    pub(crate) const EQ: &str = "refresh/eq";
    pub(crate) const RANGE: &str = "refresh/range";
    pub(crate) const KEY: &str = "refresh/paillier-key";
}

/// A share may start another refresh only below [`MAX_EPOCH`].
///
/// # Errors
/// [`Error::EpochExhausted`] at [`MAX_EPOCH`].
pub(crate) fn check_epoch(epoch: u64) -> Result<()> {
    if epoch >= MAX_EPOCH {
        return Err(Error::EpochExhausted);
    }
    Ok(())
}

/// The common part of a share after refresh adds ρ to x1 and takes it from x2 (both roles):
/// Q1 + ρ·G, Q2 − ρ·G, c_key' ⊕ ρ under the new key, the next epoch.
///
/// # Errors
/// [`Error::RefreshChangesKey`] if Q would change (it cannot for a consistent share);
/// [`Error::EpochExhausted`] past the last epoch.
pub(crate) fn shift_common(
    old: &Common,
    key: &PublicKey,
    c_key: &Ciphertext,
    rho: &Scalar,
) -> Result<Common> {
    let shift = ProjectivePoint::GENERATOR * rho;
    let q1 = (ProjectivePoint::from(old.public.q1) + shift).to_affine();
    let q2 = (ProjectivePoint::from(old.public.q2) - shift).to_affine();
    let public = PublicShares::combine(q1, q2)?;
    if public.q != old.public.q {
        return Err(Error::RefreshChangesKey);
    }
    check_epoch(old.epoch)?;
    let rho_int: X1 = bigint::scalar_to_uint(rho);
    Ok(Common {
        public,
        c_key: key.add_plain(c_key, &rho_int),
        own_pid: old.own_pid,
        peer_pid: old.peer_pid,
        epoch: old.epoch + 1,
        // Q and the chain code are unchanged, so every derived key survives a refresh.
        chain_code: old.chain_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{curve, fixtures};

    fn common(epoch: u64, q_offset: u64) -> (Common, PublicKey) {
        let key = fixtures::paillier_key(0).public_key().clone();
        let (x1, x2) = (Scalar::from(5u64), Scalar::from(7u64));
        let (q1, q2) = (curve::mul_g(&x1), curve::mul_g(&x2));
        let mut public = PublicShares::combine(q1, q2).unwrap();
        // An inconsistent share records a Q other than Q1 + Q2.
        public.q = curve::mul_g(&(x1 + x2 + Scalar::from(q_offset)));
        let c_key = key.encrypt_with(
            &crypto_bigint::U256::from_u64(5),
            &crate::paillier::ModN::ONE,
        );
        let common = Common {
            public,
            c_key,
            own_pid: [1; 32],
            peer_pid: [2; 32],
            epoch,
            chain_code: Some([3; 32]),
        };
        (common, key)
    }

    #[test]
    fn a_shift_keeps_q_and_advances_the_epoch() {
        let (old, key) = common(3, 0);
        let rho = Scalar::from(11u64);
        let next = shift_common(&old, &key, &old.c_key, &rho).unwrap();
        assert_eq!(next.public.q, old.public.q);
        assert_eq!(next.public.q1, curve::mul_g(&Scalar::from(16u64)));
        assert_eq!(next.epoch, 4);
    }

    #[test]
    fn a_shift_that_would_change_q_is_refused() {
        let (old, key) = common(0, 1);
        assert_eq!(
            shift_common(&old, &key, &old.c_key, &Scalar::ONE).unwrap_err(),
            Error::RefreshChangesKey
        );
    }

    #[test]
    fn the_last_epoch_cannot_advance() {
        assert_eq!(check_epoch(MAX_EPOCH - 1), Ok(()));
        assert_eq!(check_epoch(MAX_EPOCH), Err(Error::EpochExhausted));
        let (old, key) = common(MAX_EPOCH, 0);
        assert_eq!(
            shift_common(&old, &key, &old.c_key, &Scalar::ONE).unwrap_err(),
            Error::EpochExhausted
        );
    }
}
