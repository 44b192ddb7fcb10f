//! The Paillier Σ-relation of the Paillier–Pedersen equality proof (keygen's and refresh's
//! proof about c_key), for c = Enc(x; r) under N.
//!
//! The prover commits to c̃_i = Enc(τ_i; R̃_i) for each of [`EQ_CHUNKS`] masks; for the
//! [`EQ_CHUNK_BITS`]-bit challenge chunks e_i it answers d_i = e_i·x + τ_i and
//! r̂_i = r^(e_i)·R̃_i mod N; the verifier checks Enc(d_i; r̂_i) = c̃_i·c^(e_i) mod N². Chunks
//! stay below every prime factor N may have (none is below 2^18), so no e_i is ≡ 0 modulo one.

use crypto_bigint::{U64, Uint};
use rand_core::CryptoRng;

use super::{EQ_CHALLENGE_BITS, EQ_CHUNK_BITS, EQ_CHUNKS};
use crate::{
    bigint,
    paillier::{Ciphertext, Encryptor, ModN, ModNN, PublicKey},
};

/// Whether `e` is a challenge of the proofs' width.
pub(crate) fn challenge_fits(e: u64) -> bool {
    e >> EQ_CHALLENGE_BITS == 0
}

/// The `i`-th chunk e_i of challenge `e`.
pub(crate) fn chunk(e: u64, i: usize) -> U64 {
    U64::from_u64(bigint::chunk(e, i, EQ_CHUNK_BITS))
}

/// Fresh randomness R̃_i under `key`, one per chunk.
pub(crate) fn nonces<R: CryptoRng + ?Sized, E: Encryptor>(
    rng: &mut R,
    key: &E,
) -> [ModN; EQ_CHUNKS] {
    core::array::from_fn(|_| key.public_key().random_nonce(rng))
}

/// The first message's c̃_i = Enc(τ_i; R̃_i): one encryption, an independent work item for
/// a caller with threads. Zero for `i` out of range.
pub(crate) fn encryption<E: Encryptor, const L: usize>(
    key: &E,
    masks: &[Uint<L>; EQ_CHUNKS],
    nonces: &[ModN; EQ_CHUNKS],
    i: usize,
) -> ModNN {
    match (masks.get(i), nonces.get(i)) {
        (Some(mask), Some(nonce)) => key.encrypt_with(mask, nonce).0,
        _ => ModNN::ZERO,
    }
}

/// The responses d_i = e_i·x + τ_i and r̂_i = r^(e_i)·R̃_i mod N.
pub(crate) fn respond<const L: usize>(
    key: &PublicKey,
    x: &Uint<L>,
    r: &ModN,
    masks: &[Uint<L>; EQ_CHUNKS],
    nonces: &[ModN; EQ_CHUNKS],
    e: u64,
) -> ([Uint<L>; EQ_CHUNKS], [ModN; EQ_CHUNKS]) {
    let mut d = [Uint::<L>::ZERO; EQ_CHUNKS];
    let mut r_hat = [ModN::ZERO; EQ_CHUNKS];
    for (i, (d_i, r_hat_i)) in d.iter_mut().zip(r_hat.iter_mut()).enumerate() {
        let e_i = chunk(e, i);
        let mask = masks.get(i).copied().unwrap_or_default();
        let nonce = nonces.get(i).copied().unwrap_or_default();
        *d_i = x.wrapping_mul(&e_i).wrapping_add(&mask);
        *r_hat_i = key.mul_n(&key.pow_n(r, &e_i), &nonce);
    }
    (d, r_hat)
}

/// Whether chunk `e_i` of the relation holds: c̃_i is a valid ciphertext, r̂_i a unit below N,
/// and Enc(d_i; r̂_i) = c̃_i·c^(e_i) mod N².
pub(crate) fn holds<const L: usize>(
    key: &PublicKey,
    c: &Ciphertext,
    c_tilde: &ModNN,
    e_i: &U64,
    d_i: &Uint<L>,
    r_hat: &ModN,
) -> bool {
    if key.validate(c_tilde).is_err() || !key.is_unit_below_n(r_hat) {
        return false;
    }
    // vartime: public proof responses and statement.
    let lhs = key.mul_nn(c_tilde, &key.pow_nn_vartime(c.as_uint(), e_i));
    key.encrypt_vartime(d_i, r_hat) == lhs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A challenge is 54 bits: one of 55 is refused, whatever its low bits.
    #[test]
    fn challenge_fits_only_54_bits() {
        assert!(challenge_fits(0));
        assert!(challenge_fits((1 << 54) - 1));
        assert!(!challenge_fits(1 << 54));
        assert!(!challenge_fits((1 << 55) - 1));
        assert!(!challenge_fits(u64::MAX));
    }

    /// The chunks are the challenge's 18-bit pieces, lowest first.
    #[test]
    fn chunks_split_the_challenge_in_18_bits() {
        let e = (5 << 36) | (3 << 18) | 7;
        let chunks: [U64; EQ_CHUNKS] = core::array::from_fn(|i| chunk(e, i));
        assert_eq!(chunks, [7, 3, 5].map(U64::from_u64));
        assert_eq!(chunk((1 << 54) - 1, 2), U64::from_u64((1 << 18) - 1));
    }
}
