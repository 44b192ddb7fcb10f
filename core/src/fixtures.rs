//! Test fixtures: Paillier keys from fixed primes, seeded RNGs.

#[path = "../fixtures/primes.rs"]
mod primes;

#[path = "../fixtures/safe_primes.rs"]
mod safe_primes;

pub(crate) use primes::PRIME_PAIRS;
pub(crate) use safe_primes::SAFE_PRIME_PAIRS;

/// P1's ring-Pedersen secret over fixture safe-prime pair `i`.
pub(crate) fn ring_pedersen(i: usize) -> crate::RingPedersenSecret {
    let (p, q) = SAFE_PRIME_PAIRS[i];
    let p = crypto_bigint::U1024::from_be_hex(p);
    let q = crypto_bigint::U1024::from_be_hex(q);
    crate::RingPedersenSecret::from_safe_primes(&mut rng(0x5afe + i as u64), &p, &q).unwrap()
}

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

/// The contexts of P1 and P2 in the in-crate test runs.
pub(crate) fn contexts() -> (
    crate::session::Context<'static>,
    crate::session::Context<'static>,
) {
    let ctx1 = crate::session::Context {
        own_pid: [1; 32],
        peer_pid: [2; 32],
        channel_binding: b"fixture channel",
    };
    let ctx2 = crate::session::Context {
        own_pid: [2; 32],
        peer_pid: [1; 32],
        channel_binding: b"fixture channel",
    };
    (ctx1, ctx2)
}

/// An honest in-memory keygen with fixture Paillier key 0.
pub(crate) fn keygen(seed: u64) -> (crate::KeyShareP1, crate::KeyShareP2) {
    use crate::keygen::{p1, p2};
    let (ctx1, ctx2) = contexts();
    let mut r1 = rng(seed);
    let mut r2 = rng(seed + 1);
    let params = *ring_pedersen(0).params();
    let (s1, m1) = p1::start(&mut r1, &ctx1, paillier_key(0), &params).unwrap();
    let (s2, m2) = p2::start(&mut r2, &ctx2, &m1, &params).unwrap();
    let (share1, m3) = s1.on_msg2(&mut r1, &m2).unwrap();
    let share2 = s2.on_msg3(&mut r2, &m3).unwrap();
    (share1, share2)
}
