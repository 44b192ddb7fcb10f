//! Two-party signing: five messages; both parties output the same low-s signature.
//!
//! ```text
//! P1                                                P2
//! start ── Msg1: nonce1, fingerprint, Com(R1, digest) ──▶ p2::start
//!       ◀── Msg2: nonce2, R2, π(k2) ─────────────────────
//! on_msg2 ── Msg3: R1, opening, π(k1) ──────────────────▶ on_msg3
//!       ◀── Msg4: c = (c_key ⊕ q·2^64)^(k2⁻¹·r) ⊕ Enc(k2⁻¹·m + k2⁻¹·x2·r + ρ·q)
//! on_msg4 ── Msg5: (r, s) ──────────────────────────────▶ on_msg5
//! → Signature (or SignatureInvalid + lock)                 → Signature
//! ```

mod msg;
pub mod p1;
pub mod p2;

pub use msg::{Msg1, Msg2, Msg3, Msg4, Msg5};

use k256::{
    AffinePoint, ProjectivePoint, Scalar,
    ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier},
    elliptic_curve::ops::Reduce,
};

use crate::{Error, Result, curve};

/// A 32-byte message digest (e.g. SHA-256 of the message).
pub type Digest = [u8; 32];

/// The run name hashed into the session prefix.
pub(crate) const RUN: &str = "sign";
/// Labels of the statements proven in signing.
pub(crate) mod label {
    pub(crate) const R1: &str = "sign/R1";
    pub(crate) const R2: &str = "sign/R2";
}

/// The digest as an integer mod q (bits2int, then reduction, as FIPS 186-4).
#[must_use]
pub(crate) fn digest_scalar(digest: &Digest) -> Scalar {
    <Scalar as Reduce<k256::FieldBytes>>::reduce(&k256::FieldBytes::from(*digest))
}

/// The ECDSA r of the joint nonce: x(k·R_peer) mod q, the same for both roles.
///
/// # Errors
/// [`Error::DegenerateNonce`] if r = 0.
pub(crate) fn joint_r(own_k: &Scalar, peer_r: &AffinePoint) -> Result<Scalar> {
    let big_r = (ProjectivePoint::from(*peer_r) * own_k).to_affine();
    let r = curve::x_mod_q(&big_r);
    if bool::from(r.is_zero()) {
        return Err(Error::DegenerateNonce);
    }
    Ok(r)
}

/// Verifies a signature over a digest with the joint public key, as any verifier would.
///
/// # Errors
/// [`Error::SignatureInvalid`].
pub fn verify(q: &AffinePoint, digest: &Digest, signature: &Signature) -> Result<()> {
    let key = VerifyingKey::from_affine(*q).map_err(|_| Error::SignatureInvalid)?;
    key.verify_prehash(digest, signature)
        .map_err(|_| Error::SignatureInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joint_r_is_symmetric() {
        let (k1, k2) = (Scalar::from(3u64), Scalar::from(5u64));
        let r = joint_r(&k1, &curve::mul_g(&k2)).unwrap();
        assert_eq!(joint_r(&k2, &curve::mul_g(&k1)).unwrap(), r);
        assert_eq!(r, curve::x_mod_q(&curve::mul_g(&Scalar::from(15u64))));
    }

    #[test]
    fn a_zero_r_is_a_degenerate_nonce() {
        // The point at infinity has x = 0, so r = 0.
        assert_eq!(
            joint_r(&Scalar::from(3u64), &AffinePoint::IDENTITY),
            Err(Error::DegenerateNonce)
        );
        assert_eq!(
            joint_r(&Scalar::ZERO, &AffinePoint::GENERATOR),
            Err(Error::DegenerateNonce)
        );
    }
}
