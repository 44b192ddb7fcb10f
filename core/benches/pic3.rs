//! π_c3 (issue 10): signing with the proof against the bare ciphertext step, each party's
//! compute with and without P2's presigning, P1's verification alone, and the ring-Pedersen
//! parameters' generation, proof and verification.
//!
//! Run: `cargo bench -p ecdsa2pc-core --bench pic3` (all; `params/generate` takes seconds per
//! sample), or name a filter: `cargo bench -p ecdsa2pc-core --bench pic3 -- pic3/`.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support.rs"]
mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crypto_bigint::{U1024, U2048};
use ecdsa2pc_core::internals::{curve, zk::sign_ciphertext::Prover};
use ecdsa2pc_core::{
    CommitTables, ModNN, Prime, RingPedersenSecret, commit_tables_len, sign, trapdoor_tables_len,
};

/// Two threads for P1's check items, as net-std's `Parallel` on a 2-core machine: this
/// thread runs the even-numbered items, a second one the odd-numbered (one Pedersen and one
/// Paillier half each).
const TWO_THREADS: support::Threads = support::Threads(2);

fn bench(crit: &mut Criterion) {
    let mut g = crit.benchmark_group("pic3");
    g.sample_size(10);
    let (mut s1, s2) = support::keygen(1, 0);
    let digest = [9u8; 32];
    let mut storage = vec![ModNN::ZERO; sign::p2::table_len(4).unwrap()];
    let table = sign::p2::Precomputed::new(&s2, 4, &mut storage).unwrap();
    // P2's tables of g and h mod N̂ on top (once per pinned parameter set), and P1's tables of
    // h mod p̂, q̂ (once per process that keeps the secret).
    let mut storage_all = vec![ModNN::ZERO; sign::p2::table_len(4).unwrap()];
    let mut commit_storage = vec![U2048::ZERO; commit_tables_len(4).unwrap()];
    let all_tables = sign::p2::Precomputed::new(&s2, 4, &mut storage_all)
        .unwrap()
        .with_commit_tables(&s2, 4, &mut commit_storage)
        .unwrap();
    let mut trapdoor_storage = vec![U1024::ZERO; trapdoor_tables_len(4).unwrap()];
    let trapdoor = support::rp()
        .trapdoor_tables(4, &mut trapdoor_storage)
        .unwrap();
    let mut seed = 1000u64;
    let mut r1 = support::rng(21);
    let mut r2 = support::rng(22);
    let mut r3 = support::rng(23);

    // Whole signatures, both parties' compute in one process.
    g.bench_function("sign_with_proof_no_presign", |b| {
        b.iter(|| {
            seed += 1;
            support::sign(seed, &mut s1, &s2, &digest).unwrap()
        })
    });
    g.bench_function("sign_with_proof_presign_and_table", |b| {
        b.iter_batched(
            || sign::p2::Presign::new_with(&mut r2, &s2, &table).unwrap(),
            |pre| {
                seed += 1;
                support::sign_presigned(seed, &mut s1, &s2, &digest, pre, Some(&table), None)
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    g.bench_function("sign_with_proof_presign_and_all_tables", |b| {
        b.iter_batched(
            || sign::p2::Presign::new_with(&mut r2, &s2, &all_tables).unwrap(),
            |pre| {
                seed += 1;
                support::sign_presigned(
                    seed,
                    &mut s1,
                    &s2,
                    &digest,
                    pre,
                    Some(&all_tables),
                    Some(&trapdoor),
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    // The tables' one-time cost.
    g.bench_function("p2_commit_tables_build", |b| {
        let mut st = vec![U2048::ZERO; commit_tables_len(4).unwrap()];
        b.iter(|| {
            let params = s2.ring_pedersen_params();
            CommitTables::new(params, 4, &mut st).map(|_| ()).unwrap()
        })
    });
    g.bench_function("p1_trapdoor_tables_build", |b| {
        let mut st = vec![U1024::ZERO; trapdoor_tables_len(4).unwrap()];
        b.iter(|| {
            support::rp()
                .trapdoor_tables(4, &mut st)
                .map(|_| ())
                .unwrap()
        })
    });

    // P2's presigning, off the critical path.
    g.bench_function("p2_presign", |b| {
        b.iter(|| sign::p2::Presign::new(&mut r2, &s2))
    });
    g.bench_function("p2_presign_with_table", |b| {
        b.iter(|| sign::p2::Presign::new_with(&mut r2, &s2, &table).unwrap())
    });
    g.bench_function("p2_presign_with_all_tables", |b| {
        b.iter(|| sign::p2::Presign::new_with(&mut r2, &s2, &all_tables).unwrap())
    });

    // P2's online step (message 3 → message 4) with a presign: with π_c3, and the bare
    // ciphertext step without any proof (what signing cost before issue 10).
    g.bench_function("p2_online_with_proof", |b| {
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
            BatchSize::SmallInput,
        )
    });
    let key = s2.paillier_key().clone();
    let params = *s2.ring_pedersen_params();
    let c_key = support::keygen_run(1, 0).m1.commitment.c_key;
    let c_prime = key.add_plain(&c_key, &support::KEY_SHIFT);
    let (r, m) = (curve::random_scalar(&mut r3), curve::random_scalar(&mut r3));
    let new_prover = |rng: &mut rand_chacha::ChaCha20Rng| {
        let (k2, x2) = (curve::random_scalar(rng), curve::random_scalar(rng));
        let r2p = curve::mul_g(&k2);
        (
            Prover::new(rng, &k2, &x2, &r2p, &key, &c_prime, None, &params, None),
            r2p,
            curve::mul_g(&x2),
        )
    };
    g.bench_function("p2_online_ciphertext_without_proof", |b| {
        b.iter_batched(
            || new_prover(&mut r2).0,
            |prover| prover.ciphertext(&key, &r, &m, None).unwrap(),
            BatchSize::SmallInput,
        )
    });

    // P1's verification of π_c3 alone, with its trapdoors, and the public verifier.
    let fixture = support::Pic3Fixture::new(3);
    let (proof, st) = (&fixture.proof, fixture.statement());
    let binding = support::pic3_binding(&support::PIC3_SID);
    let trapdoors = |tables| fixture.trapdoors(tables);
    g.bench_function("p1_verify_with_trapdoors", |b| {
        b.iter(|| {
            proof
                .verify_with_trapdoors(&st, &binding, &trapdoors(None))
                .unwrap()
        })
    });
    g.bench_function("p1_verify_with_trapdoor_tables", |b| {
        b.iter(|| {
            proof
                .verify_with_trapdoors(&st, &binding, &trapdoors(Some(&trapdoor)))
                .unwrap()
        })
    });
    g.bench_function("p1_verify_with_trapdoor_tables_two_threads", |b| {
        b.iter(|| {
            proof
                .verify_with_trapdoors_on(&st, &binding, &trapdoors(Some(&trapdoor)), &TWO_THREADS)
                .unwrap()
        })
    });
    g.bench_function("p1_verify_public_equations", |b| {
        b.iter(|| proof.verify(&st, &binding).unwrap())
    });
    // P1's message-4 step: verification, then decryption and the signature check.
    g.bench_function("p1_step4_verify_and_decrypt", |b| {
        b.iter_custom(|iters| {
            let mut total = core::time::Duration::ZERO;
            for _ in 0..iters {
                seed += 1;
                let run = support::sign_to_msg4(seed, &mut s1, &s2, &digest);
                let start = std::time::Instant::now();
                core::hint::black_box(run.p1.on_msg4(&run.m4).unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("p1_step4_verify_and_decrypt_with_tables", |b| {
        b.iter_custom(|iters| {
            let mut total = core::time::Duration::ZERO;
            for _ in 0..iters {
                seed += 1;
                let run = support::sign_to_msg4(seed, &mut s1, &s2, &digest);
                let start = std::time::Instant::now();
                core::hint::black_box(run.p1.on_msg4_with(&run.m4, Some(&trapdoor)).unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    // The one-shot party 0's step (net-std's driver): the check's items on two threads, then
    // the two decryption halves on two threads.
    g.bench_function("p1_step4_two_threads_with_tables", |b| {
        b.iter_custom(|iters| {
            let mut total = core::time::Duration::ZERO;
            for _ in 0..iters {
                seed += 1;
                let run = support::sign_to_msg4(seed, &mut s1, &s2, &digest);
                let start = std::time::Instant::now();
                let checked = run
                    .p1
                    .check_msg4_on(&run.m4, Some(&trapdoor), &TWO_THREADS)
                    .unwrap();
                let (p, q) = std::thread::scope(|s| {
                    let other = s.spawn(|| checked.decrypt_half(Prime::Q));
                    (checked.decrypt_half(Prime::P), other.join().unwrap())
                });
                core::hint::black_box(checked.finish(&p, &q).unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();

    // Ring-Pedersen parameters: party 0 once per identity, party 1 once per party 0.
    let mut g = crit.benchmark_group("params");
    g.sample_size(10);
    let secret = support::rp();
    g.bench_function("prove", |b| {
        b.iter(|| secret.params_msg(&mut r1, &support::PID1))
    });
    let msg = secret.params_msg(&mut r1, &support::PID1);
    g.bench_function("verify", |b| b.iter(|| msg.verify(&support::PID1).unwrap()));
    g.bench_function("generate", |b| {
        b.iter(|| RingPedersenSecret::generate(&mut r1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
