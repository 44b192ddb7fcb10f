//! Fixed Paillier keys shared with the core's tests (primes made once with openssl).

#[path = "../../../core/fixtures/primes.rs"]
mod primes;

use ecdsa2pc_core::PaillierSecretKey;

/// The Paillier key of fixture pair `i`.
pub fn paillier(i: usize) -> PaillierSecretKey {
    let (p, q) = primes::PRIME_PAIRS[i];
    PaillierSecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}
