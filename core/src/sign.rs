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
    AffinePoint, Scalar,
    ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier},
    elliptic_curve::ops::Reduce,
};

use crate::{Error, Result};

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

/// Verifies a signature over a digest with the joint public key, as any verifier would.
///
/// # Errors
/// [`Error::SignatureInvalid`].
pub fn verify(q: &AffinePoint, digest: &Digest, signature: &Signature) -> Result<()> {
    let key = VerifyingKey::from_affine(*q).map_err(|_| Error::SignatureInvalid)?;
    key.verify_prehash(digest, signature)
        .map_err(|_| Error::SignatureInvalid)
}
