//! Test fixtures: Paillier keys from fixed primes, seeded RNGs.

#[path = "../fixtures/primes.rs"]
mod primes;

pub(crate) use primes::PRIME_PAIRS;

/// The Paillier key of fixture pair `i`.
pub(crate) fn paillier_key(i: usize) -> crate::paillier::SecretKey {
    let (p, q) = PRIME_PAIRS[i];
    let p = crypto_bigint::U1024::from_be_hex(p);
    let q = crypto_bigint::U1024::from_be_hex(q);
    crate::paillier::SecretKey::from_primes(&p, &q).unwrap()
}

/// A seeded RNG for reproducible tests.
pub(crate) fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_core::SeedableRng::seed_from_u64(seed)
}
