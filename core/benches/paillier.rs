//! Paillier primitives: prime generation, encryption, CRT decryption, scalar multiplication.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support.rs"]
mod support;
use ecdsa2pc_core::{PaillierPublicKey, PaillierSecretKey, generate_prime};

use criterion::{Criterion, criterion_group, criterion_main};
use crypto_bigint::{U256, U512};

fn bench(c: &mut Criterion) {
    let sk = support::paillier(0);
    let pk = sk.public_key().clone();
    let mut rng = support::rng(1);
    let m = U256::from_u64(0x1234_5678);
    let (ct, _) = pk.encrypt(&mut rng, &m);
    let mut g = c.benchmark_group("paillier");
    g.sample_size(20);
    g.bench_function("generate_prime_1024", |b| {
        b.iter(|| generate_prime(&mut rng))
    });
    g.bench_function("encrypt_public", |b| b.iter(|| pk.encrypt(&mut rng, &m)));
    g.bench_function("nonce_power (pool refill, per nonce)", |b| {
        b.iter(|| pk.nonce_power_random(&mut rng))
    });
    // A peer's modulus: size, parity and trial division by every prime below 2^18.
    g.bench_function("from_modulus (peer modulus check)", |b| {
        b.iter(|| PaillierPublicKey::from_modulus(*pk.modulus()))
    });
    // Party 0's key rebuilt from its stored primes: every load of a share.
    let (p, q) = sk.primes();
    g.bench_function("from_primes (each share load)", |b| {
        b.iter(|| PaillierSecretKey::from_primes(&p, &q))
    });
    g.bench_function("decrypt_crt", |b| b.iter(|| sk.decrypt(&ct)));
    g.bench_function("decrypt_centered_mod_q", |b| {
        b.iter(|| sk.decrypt_centered_mod_q(&ct))
    });
    let k = U512::MAX.shr_vartime(2);
    g.bench_function("mul_plain_510bit", |b| b.iter(|| pk.mul_plain(&ct, &k)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
