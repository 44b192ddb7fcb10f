//! Shared test helpers: fixture keys, seeded RNGs and an in-memory run of every protocol,
//! with each message passed through its encoder and decoder as it would cross the wire.
#![allow(dead_code, unreachable_pub)]

#[path = "../fixtures/primes.rs"]
mod fixtures_data;

use ecdsa2pc_core::{
    Result, keygen,
    paillier::SecretKey,
    session::Context,
    share::{KeyShareP1, KeyShareP2},
    sign,
    wire::Message,
};
pub use fixtures_data::PRIME_PAIRS;
use k256::ecdsa::Signature;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub const PID1: [u8; 32] = [0x11; 32];
pub const PID2: [u8; 32] = [0x22; 32];
pub const BINDING: &[u8] = b"test channel binding";

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn paillier(i: usize) -> SecretKey {
    let (p, q) = PRIME_PAIRS[i % PRIME_PAIRS.len()];
    SecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}

pub fn ctx1() -> Context<'static> {
    Context {
        own_pid: PID1,
        peer_pid: PID2,
        channel_binding: BINDING,
    }
}

pub fn ctx2() -> Context<'static> {
    Context {
        own_pid: PID2,
        peer_pid: PID1,
        channel_binding: BINDING,
    }
}

/// Encodes then decodes, as the wire would.
pub fn wire<M: Message>(msg: &M) -> M {
    let mut buf = vec![0u8; M::LEN];
    let n = msg.encode(&mut buf).unwrap();
    assert_eq!(n, M::LEN);
    M::decode(&buf).unwrap()
}

/// Encoded bytes of a message.
pub fn bytes<M: Message>(msg: &M) -> Vec<u8> {
    let mut buf = vec![0u8; M::LEN];
    msg.encode(&mut buf).unwrap();
    buf
}

/// An honest keygen with fixture Paillier key `key`, seeded by `seed`.
pub fn keygen(seed: u64, key: usize) -> (KeyShareP1, KeyShareP2) {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xffff);
    let (p1, m1) = keygen::p1::start(&mut r1, &ctx1(), paillier(key)).unwrap();
    let (p2, m2) = keygen::p2::start(&mut r2, &ctx2(), &wire(&m1)).unwrap();
    let (share1, m3) = p1.on_msg2(&mut r1, &wire(&m2)).unwrap();
    let share2 = p2.on_msg3(&mut r2, &wire(&m3)).unwrap();
    (share1, share2)
}

/// An honest signing run; returns both parties' signatures.
pub fn sign(
    seed: u64,
    s1: &mut KeyShareP1,
    s2: &KeyShareP2,
    digest: &[u8; 32],
) -> Result<(Signature, Signature)> {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xabcd);
    let (p1, m1) = sign::p1::start(&mut r1, s1, &ctx1(), digest)?;
    let (p2, m2) = sign::p2::start(&mut r2, s2, &ctx2(), digest, &wire(&m1))?;
    let (p1, m3) = p1.on_msg2(&mut r1, &wire(&m2))?;
    let (p2, m4) = p2.on_msg3(&mut r2, &wire(&m3))?;
    let (sig1, m5) = p1.on_msg4(&wire(&m4))?;
    let sig2 = p2.on_msg5(&wire(&m5))?;
    Ok((sig1, sig2))
}
