//! Two-party signing: five messages; both parties output the same low-s signature.
//!
//! ```text
//! P1                                                P2
//! start ── Msg1: nonce1, fingerprint, Com(R1, digest) ──▶ p2::start
//!       ◀── Msg2: nonce2, R2, π(k2) ─────────────────────
//! on_msg2 ── Msg3: R1, opening, π(k1) ──────────────────▶ on_msg3
//!       ◀── Msg4: c = (c_key ⊕ q·2^64)^(k2⁻¹·r) ⊕ Enc(k2⁻¹·m + k2⁻¹·x2·r + ρ·q), π_c3
//! on_msg4 ── Msg5: (r, s) ──────────────────────────────▶ on_msg5
//!         (π_c3 verified before c is decrypted)
//! → Signature (or SignatureInvalid + lock)                 → Signature
//! ```

mod msg;
pub mod p1;
pub mod p2;

pub use msg::{Msg1, Msg2, Msg3, Msg4, Msg5};

use k256::{
    AffinePoint, ProjectivePoint, Scalar,
    ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier},
    elliptic_curve::{ops::Reduce, subtle::ConstantTimeEq},
};

use crate::{
    Error, Result, bip32::DerivationPath, curve, paillier::Ciphertext, share::KeyShare, tags,
    transcript::Transcript,
};

/// A 32-byte message digest (e.g. SHA-256 of the message).
pub type Digest = [u8; 32];

/// The run name hashed into the session prefix.
pub(crate) const RUN: &str = "sign";
/// Labels of the statements proven in signing.
pub(crate) mod label {
    pub(crate) const R1: &str = "sign/R1";
    pub(crate) const R2: &str = "sign/R2";
    pub(crate) const C: &str = "sign/c";
}

/// What one signature's derivation path means for the two parties: BIP32's tweak δ (the sum
/// of the tweaks along the path, 0 for `m`) and the path's id.
///
/// Everything here is public: Q, the chain code and the path give δ to anyone. P2 signs with
/// x2 + δ; P1 keeps x1 and c_key and uses the child key Q + δ·G for its checks, so its view
/// of P2's half in π_c3's statement is Q_child − Q1 = Q2 + δ·G, the point P2 proves.
/// The states keep only δ (32 bytes) and recompute the points when needed, so that a
/// signing state stays small on a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Derivation {
    /// δ, the sum of BIP32's tweaks along the path (0 for `m`).
    pub(crate) tweak: Scalar,
    /// The path's id, sent in [`Msg1`] and hashed into the session prefix.
    pub(crate) path_id: [u8; 32],
}

impl Derivation {
    /// The derivation of `path` below `share`'s joint key. The path `m` works on every
    /// share; any other path needs the chain code a share has had since keygen agreed one.
    ///
    /// # Errors
    /// [`Error::NoChainCode`] for a non-empty path on a share without a chain code;
    /// [`Error::InvalidChildKey`] if the path hits BIP32's invalid child.
    pub(crate) fn new<S: KeyShare>(share: &S, path: &DerivationPath) -> Result<Self> {
        let tweak = if path.depth() == 0 {
            Scalar::ZERO
        } else {
            share.derive(path)?.tweak
        };
        Ok(Self {
            tweak,
            path_id: path_id(path),
        })
    }

    /// Whether P2 signs with x2 itself (the path `m`): then a presign made for the share
    /// still fits.
    pub(crate) fn keeps_x2(&self) -> bool {
        self.tweak == Scalar::ZERO
    }

    /// What P1 hashes into the session prefix: the share's fingerprint and the path's id,
    /// so that both parties must agree on the path to share a session.
    pub(crate) fn session_extra(&self, fingerprint: &[u8; 32]) -> [u8; 64] {
        let mut extra = [0u8; 64];
        let (key, path) = extra.split_at_mut(32);
        key.copy_from_slice(fingerprint);
        path.copy_from_slice(&self.path_id);
        extra
    }
}

/// `point + tweak·G`: the child key from Q, or P2's half of it from Q2 (public values only).
pub(crate) fn tweaked(point: &AffinePoint, tweak: &Scalar) -> AffinePoint {
    if *tweak == Scalar::ZERO {
        return *point;
    }
    (ProjectivePoint::from(*point) + ProjectivePoint::GENERATOR * tweak).to_affine()
}

/// The id of a derivation path: a hash of its indexes (the empty list for `m`).
fn path_id(path: &DerivationPath) -> [u8; 32] {
    let mut t = Transcript::new(tags::SIGN_PATH);
    t.u64("depth", u64::from(path.depth()));
    for index in path.steps() {
        t.u64("index", u64::from(*index));
    }
    t.finish()
}

/// C' = c_key ⊕ q·2^64: the base P2 raises in every signature, and part of π_c3's statement.
///
/// Adding q·2^64 (≡ 0 mod q) keeps the plaintext positive whatever x1 the proofs allowed (in
/// (−q·2^64, q·2^64) by the range proof, plus ρ < q after a refresh), so nothing wraps mod N.
pub(crate) fn shifted_key(key: &crate::paillier::PublicKey, c_key: &Ciphertext) -> Ciphertext {
    key.add_plain(c_key, &KEY_SHIFT)
}

/// The plaintext of C' = c_key ⊕ q·2^64, which P1 knows: x1 + q·2^64 (below 2^386 for any
/// x1 a share can hold, far below N's primes). P1's check of π_c3 uses it
/// (`SignCiphertextProof::verify_with_trapdoors`).
pub(crate) fn shifted_plain(x1: &crate::share::X1) -> crypto_bigint::U512 {
    let wide = zeroize::Zeroizing::new(x1.resize::<{ crypto_bigint::U512::LIMBS }>());
    wide.wrapping_add(&KEY_SHIFT.resize())
}

/// q·2^64, what [`shifted_key`] adds to c_key's plaintext.
const KEY_SHIFT: crypto_bigint::U384 = crate::bigint::order_shl(crate::zk::STAT_BITS);

/// The digest as an integer mod q (bits2int, then reduction, as FIPS 186-4).
#[must_use]
pub(crate) fn digest_scalar(digest: &Digest) -> Scalar {
    <Scalar as Reduce<k256::FieldBytes>>::reduce(&k256::FieldBytes::from(*digest))
}

/// The joint nonce point R = k·R_peer and its ECDSA r = x(R) mod q, the same for both roles.
///
/// # Errors
/// [`Error::DegenerateNonce`] if r = 0.
pub(crate) fn joint_r(own_k: &Scalar, peer_r: &AffinePoint) -> Result<(AffinePoint, Scalar)> {
    let big_r = (ProjectivePoint::from(*peer_r) * own_k).to_affine();
    let r = curve::x_mod_q(&big_r);
    if bool::from(r.is_zero()) {
        return Err(Error::DegenerateNonce);
    }
    Ok((big_r, r))
}

/// Verifies a signature over a digest with the joint public key, as any verifier would.
///
/// Variable time in the signature (ecdsa inverts s with `invert_vartime`): for public
/// signatures only, never for one not yet released.
///
/// # Errors
/// [`Error::SignatureInvalid`].
pub fn verify(q: &AffinePoint, digest: &Digest, signature: &Signature) -> Result<()> {
    let key = VerifyingKey::from_affine(*q).map_err(|_| Error::SignatureInvalid)?;
    key.verify_prehash(digest, signature)
        .map_err(|_| Error::SignatureInvalid)
}

/// P1's check of a signature it has not released yet, given the nonce point R whose x
/// coordinate gave r: s·R = ±(m·G + r·Q).
///
/// This is ECDSA verification without inverting s: s⁻¹·(m·G + r·Q) = ±R, whose x is
/// r mod q (± because `normalize_s` may negate s). Constant time in s, which on the failure
/// path comes from k1 and a decryption of P2's ciphertext. It accepts only signatures the
/// standard check accepts; it could refuse a valid one only if s⁻¹·(m·G + r·Q) were a point
/// other than ±R with the same x mod q, which an honest run never produces.
#[must_use]
pub(crate) fn verify_with_nonce(
    q: &AffinePoint,
    big_r: &AffinePoint,
    digest: &Digest,
    signature: &Signature,
) -> bool {
    let (r, s) = signature.split_scalars();
    let lhs = ProjectivePoint::from(*big_r) * *s;
    let rhs = ProjectivePoint::from(curve::mul_g(&digest_scalar(digest)))
        + ProjectivePoint::from(*q) * *r;
    let matches = lhs.ct_eq(&rhs) | lhs.ct_eq(&-rhs);
    // r and R are public (P2 computes R = k2·R1 and receives r in Msg5).
    bool::from(curve::x_mod_q(big_r).ct_eq(&r) & matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signature made in the clear: (Q, R, digest, signature).
    fn clear_signature() -> (AffinePoint, AffinePoint, Digest, Signature) {
        let x = Scalar::from(0x1234_5678_u64);
        let k = Scalar::from(0x0bad_cafe_u64);
        let digest = [7u8; 32];
        let big_r = curve::mul_g(&k);
        let r = curve::x_mod_q(&big_r);
        let k_inv = Option::<Scalar>::from(k.invert()).unwrap();
        let s = k_inv * (digest_scalar(&digest) + r * x);
        let sig = Signature::from_scalars(r, s).unwrap();
        (curve::mul_g(&x), big_r, digest, sig)
    }

    #[test]
    fn verify_with_nonce_agrees_with_ecdsa_verification() {
        let (q, big_r, digest, sig) = clear_signature();
        assert_eq!(verify(&q, &digest, &sig), Ok(()));
        assert!(verify_with_nonce(&q, &big_r, &digest, &sig));
        // The low-s form (s negated when high) verifies both ways too.
        let low = sig.normalize_s();
        assert_eq!(verify(&q, &digest, &low), Ok(()));
        assert!(verify_with_nonce(&q, &big_r, &digest, &low));
        let (r, s) = sig.split_scalars();
        let negated = Signature::from_scalars(*r, -*s).unwrap();
        assert!(verify_with_nonce(&q, &big_r, &digest, &negated));

        // A wrong s, digest, key or nonce point: refused by both.
        let wrong_s = Signature::from_scalars(*r, *s + Scalar::ONE).unwrap();
        assert_eq!(verify(&q, &digest, &wrong_s), Err(Error::SignatureInvalid));
        assert!(!verify_with_nonce(&q, &big_r, &digest, &wrong_s));
        let other_digest = [8u8; 32];
        assert_eq!(
            verify(&q, &other_digest, &sig),
            Err(Error::SignatureInvalid)
        );
        assert!(!verify_with_nonce(&q, &big_r, &other_digest, &sig));
        let other_q = curve::mul_g(&Scalar::from(99u64));
        assert_eq!(
            verify(&other_q, &digest, &sig),
            Err(Error::SignatureInvalid)
        );
        assert!(!verify_with_nonce(&other_q, &big_r, &digest, &sig));
        // R whose x is not r: refused even though s·R is computed consistently.
        let other_r = curve::mul_g(&Scalar::from(5u64));
        assert!(!verify_with_nonce(&q, &other_r, &digest, &sig));
    }

    #[test]
    fn joint_r_is_symmetric() {
        let (k1, k2) = (Scalar::from(3u64), Scalar::from(5u64));
        let (big_r, r) = joint_r(&k1, &curve::mul_g(&k2)).unwrap();
        assert_eq!(joint_r(&k2, &curve::mul_g(&k1)).unwrap(), (big_r, r));
        assert_eq!(big_r, curve::mul_g(&Scalar::from(15u64)));
        assert_eq!(r, curve::x_mod_q(&big_r));
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
