//! Whole protocols, compute only, both parties in one process; and each party's steps.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use ecdsa2pc_core::{keygen, sign};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("protocol");
    g.sample_size(10);
    let mut seed = 0u64;
    g.bench_function("keygen_without_paillier_keygen", |b| {
        b.iter(|| {
            seed += 1;
            support::keygen(seed, 0)
        })
    });
    let mut table_storage = vec![crypto_bigint::U2048::ZERO; ecdsa2pc_core::PEDERSEN_TABLE_LEN];
    let table = ecdsa2pc_core::PedersenTable::new(&mut table_storage).unwrap();
    g.bench_function("keygen_with_pedersen_table_without_paillier_keygen", |b| {
        b.iter(|| {
            seed += 1;
            let mut r1 = support::rng(seed);
            let mut r2 = support::rng(seed ^ 0xffff);
            let (p1, m1) = keygen::p1::start_with(
                &mut r1,
                &support::ctx1(),
                support::paillier(0),
                support::rp().params(),
                Some(&table),
                &ecdsa2pc_core::work::Sequential,
            )
            .unwrap();
            let (p2, m2) =
                keygen::p2::start(&mut r2, &support::ctx2(), &m1, support::rp().params()).unwrap();
            let (s1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
            (s1, p2.on_msg3(&mut r2, &m3).unwrap())
        })
    });
    g.bench_function("pedersen_table_build", |b| {
        b.iter(|| {
            let mut storage = vec![crypto_bigint::U2048::ZERO; ecdsa2pc_core::PEDERSEN_TABLE_LEN];
            ecdsa2pc_core::PedersenTable::new(&mut storage)
                .map(|_| ())
                .unwrap()
        })
    });
    g.bench_function("refresh_without_paillier_keygen", |b| {
        let (s1, s2) = support::keygen(3, 0);
        b.iter(|| {
            seed += 1;
            let mut r1 = support::rng(seed);
            let mut r2 = support::rng(seed ^ 0x77);
            let (p1, m1) = ecdsa2pc_core::refresh::p1::start(
                &mut r1,
                &s1,
                &support::ctx1(),
                support::paillier(1),
            )
            .unwrap();
            let (p2, m2) =
                ecdsa2pc_core::refresh::p2::start(&mut r2, &s2, &support::ctx2(), &m1).unwrap();
            let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
            let (n2, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
            (p1.on_msg4(&m4).unwrap(), n2)
        })
    });
    g.bench_function("paillier_keygen", |b| {
        let mut rng = support::rng(11);
        b.iter(|| ecdsa2pc_core::PaillierSecretKey::generate(&mut rng))
    });
    let (mut s1, s2) = support::keygen(1, 0);
    let digest = [9u8; 32];
    g.bench_function("sign", |b| {
        b.iter(|| {
            seed += 1;
            support::sign(seed, &mut s1, &s2, &digest).unwrap()
        })
    });

    // Per-party steps of signing.
    let mut r1 = support::rng(21);
    let mut r2 = support::rng(22);
    let mut r3 = support::rng(23);
    g.bench_function("sign/p2_step3_homomorphic", |b| {
        b.iter_batched(
            || {
                let (p1, m1) =
                    sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest)
                        .unwrap();
                let (p2, m2) =
                    sign::p2::start(&mut r2, &s2, &support::ctx2(), &digest, &m1).unwrap();
                let (_, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
                (p2, m3)
            },
            |(p2, m3)| p2.on_msg3(&mut r3, &m3).unwrap().1,
            criterion::BatchSize::SmallInput,
        )
    });
    let mut storage = vec![ecdsa2pc_core::ModNN::ZERO; sign::p2::table_len(4).unwrap()];
    let table = sign::p2::Precomputed::new(&s2, 4, &mut storage).unwrap();
    g.bench_function("sign/p2_step3_table_and_presign", |b| {
        b.iter_batched(
            || {
                let pre = sign::p2::Presign::new(&mut r2, &s2);
                let (p1, m1) =
                    sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest)
                        .unwrap();
                let (p2, m2) =
                    sign::p2::start_with(&mut r2, &s2, &support::ctx2(), &digest, &m1, Some(pre))
                        .unwrap();
                let (_, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
                (p2, m3)
            },
            |(p2, m3)| p2.on_msg3_with(&mut r3, &m3, Some(&table)).unwrap().1,
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("sign_with_p2_precomputation", |b| {
        b.iter_batched(
            || sign::p2::Presign::new(&mut r2, &s2),
            |pre| {
                seed += 1;
                support::sign_presigned(seed, &mut s1, &s2, &digest, pre, Some(&table), None)
                    .unwrap()
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("sign/p2_table_build_w4", |b| {
        b.iter(|| {
            let mut storage = vec![ecdsa2pc_core::ModNN::ZERO; sign::p2::table_len(4).unwrap()];
            sign::p2::Precomputed::new(&s2, 4, &mut storage)
                .map(|_| ())
                .unwrap()
        })
    });

    // Per-party steps of keygen.
    let mut r1 = support::rng(31);
    let mut r2 = support::rng(32);
    let mut r3 = support::rng(33);
    g.bench_function("keygen/p1_step1", |b| {
        b.iter(|| {
            keygen::p1::start(
                &mut r3,
                &support::ctx1(),
                support::paillier(0),
                support::rp().params(),
            )
            .unwrap()
        })
    });
    g.bench_function("keygen/p1_step2_prove", |b| {
        b.iter_batched(
            || {
                let (p1, m1) = keygen::p1::start(
                    &mut r1,
                    &support::ctx1(),
                    support::paillier(0),
                    support::rp().params(),
                )
                .unwrap();
                let (_, m2) =
                    keygen::p2::start(&mut r2, &support::ctx2(), &m1, support::rp().params())
                        .unwrap();
                (p1, m2)
            },
            |(p1, m2)| p1.on_msg2(&mut r3, &m2).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("keygen/p2_step2_verify", |b| {
        b.iter_batched(
            || {
                let (p1, m1) = keygen::p1::start(
                    &mut r1,
                    &support::ctx1(),
                    support::paillier(0),
                    support::rp().params(),
                )
                .unwrap();
                let (p2, m2) =
                    keygen::p2::start(&mut r2, &support::ctx2(), &m1, support::rp().params())
                        .unwrap();
                let (_, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
                (p2, m3)
            },
            |(p2, m3)| p2.on_msg3(&mut r3, &m3).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
