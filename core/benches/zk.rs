//! Each proof's prover and verifier.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use crypto_bigint::U2048;
use ecdsa2pc_core::internals::{curve, pedersen};
use ecdsa2pc_core::internals::{
    session::Binding,
    zk::{dlog::DlogProof, eq_paillier_pedersen, paillier_key::PaillierKeyProof},
};

const SID: [u8; 32] = [3; 32];
const PID: [u8; 32] = [4; 32];

fn bench(c: &mut Criterion) {
    let sk = support::paillier(0);
    let pk = sk.public_key();
    let mut rng = support::rng(2);
    let at = |label| Binding {
        session: &SID,
        prover: &PID,
        label,
    };
    let x = curve::random_scalar(&mut rng);
    let xg = curve::mul_g(&x);
    let x_int: U2048 = U2048::from_be_slice(&[&[0u8; 224][..], &x.to_bytes()[..]].concat());
    let (c_key, r_key) = pk.encrypt(&mut rng, &x_int);
    let rho: crypto_bigint::U256 =
        crypto_bigint::RandomBits::random_bits(&mut rng, pedersen::RANDOMNESS_BITS);
    let (g, h) = pedersen::generators();
    let com = g.pow(&x_int).mul(&h.pow(&rho));

    let mut grp = c.benchmark_group("zk");
    grp.sample_size(10);

    let proof = DlogProof::prove(&mut rng, &x, &xg, &at("b"));
    grp.bench_function("dlog_prove", |b| {
        b.iter(|| DlogProof::prove(&mut rng, &x, &xg, &at("b")))
    });
    grp.bench_function("dlog_verify", |b| {
        b.iter(|| proof.verify(&xg, &at("b")).unwrap())
    });

    let seed = [5u8; 16];
    let kp = PaillierKeyProof::prove(&sk, &seed, &at("k"));
    grp.bench_function("paillier_key_prove", |b| {
        b.iter(|| PaillierKeyProof::prove(&sk, &seed, &at("k")))
    });
    grp.bench_function("paillier_key_verify", |b| {
        b.iter(|| kp.verify(pk, &seed, &at("k")).unwrap())
    });

    let est = eq_paillier_pedersen::Statement {
        key: pk,
        ciphertext: &c_key,
        commitment: &com,
        point: &xg,
    };
    let e = 0x000a_bcde_f012_3456;
    grp.bench_function("eq_prove", |b| {
        b.iter(|| {
            let (p, _) = eq_paillier_pedersen::Prover::commit(&mut rng, pk, &at("e"));
            p.respond(pk, &x, &r_key, &rho, e)
        })
    });
    let (p, sealed) = eq_paillier_pedersen::Prover::commit(&mut rng, pk, &at("e"));
    let resp = p.respond(pk, &x, &r_key, &rho, e);
    grp.bench_function("eq_verify", |b| {
        b.iter(|| resp.verify(&sealed, &est, e, &at("e")).unwrap())
    });

    let er = 0x0002_5a5a_a5a5_0ff0;
    grp.bench_function("range_prove", |b| {
        b.iter(|| {
            let (p, _) = ecdsa2pc_core::internals::zk::range::Prover::commit(&mut rng, &at("r"));
            p.respond(&x, &rho, er)
        })
    });
    let (p, sealed) = ecdsa2pc_core::internals::zk::range::Prover::commit(&mut rng, &at("r"));
    let resp = p.respond(&x, &rho, er);
    let mut vr = support::rng(9);
    grp.bench_function("range_verify", |b| {
        b.iter(|| resp.verify(&sealed, &com, er, &at("r"), &mut vr).unwrap())
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
