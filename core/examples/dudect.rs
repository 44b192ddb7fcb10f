//! A dudect-style timing test (Reparaz, Balasch, Verbauwhede 2017): time an operation on two
//! classes of secret input, fixed and random, interleaved at random, and compare the two
//! timing distributions with Welch's t-test. |t| above about 4.5 suggests a leak; below, no
//! leak was detected at this sample size (it proves nothing stronger).
//!
//! Targets: P1's Paillier decryption with the centered lift (fixed plaintext vs random
//! plaintexts) and P1's signature finalisation, `sign::p1::AwaitMsg4::on_msg4` (fixed vs
//! random P2 share inside the ciphertext), and P1's check of π_c3 with its trapdoors (fixed vs
//! random plaintext of C', that is x1: the Paillier relation's plaintext half computes with
//! it). Keygen's secrets on P1's side: the Pedersen table walk u^r (fixed vs random nonce r,
//! the range proof's commitments and h^ρ walk the same rows), and the range and equality
//! proofs' responses (fixed vs random x1, ρ and c_key's randomness). Run:
//! `scripts/dudect.sh [SAMPLES]`.

#[path = "../tests/support.rs"]
mod support;

use std::time::Instant;

use crypto_bigint::{NonZero, RandomMod, U256, U384, U512, U2048};
use ecdsa2pc_core::{
    PEDERSEN_TABLE_LEN, PedersenTable,
    internals::{
        pedersen,
        zk::{eq_paillier_pedersen, range, sign_ciphertext::Trapdoors},
    },
    sign,
};
use k256::{Scalar, elliptic_curve::Field};
use rand_core::Rng;

/// Welch's t statistic of two samples.
fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var, n)
    };
    let (ma, va, na) = stats(a);
    let (mb, vb, nb) = stats(b);
    (ma - mb) / (va / na + vb / nb).sqrt()
}

/// Drops the slowest 10 % of each class (interrupts, frequency changes), as dudect crops.
fn crop(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    let keep = v.len() * 9 / 10;
    v.truncate(keep);
    v
}

fn report(name: &str, fixed: Vec<f64>, random: Vec<f64>) {
    let t = welch_t(&crop(fixed.clone()), &crop(random.clone()));
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let verdict = if t.abs() < 4.5 {
        "no leak detected"
    } else {
        "POSSIBLE LEAK"
    };
    println!(
        "{name:<30} samples {:>5}+{:<5} median fixed {:>9.1} µs random {:>9.1} µs  |t| = {:>5.2}  {verdict}",
        fixed.len(),
        random.len(),
        median(fixed) / 1e3,
        median(random) / 1e3,
        t.abs()
    );
}

/// Times `op` on every input made beforehand (class fixed or random, interleaved at random)
/// and reports the two classes.
fn measure<T>(name: &str, inputs: Vec<(bool, T)>, mut op: impl FnMut(&T)) {
    let (mut fixed, mut random) = (Vec::new(), Vec::new());
    for (class_fixed, input) in &inputs {
        let start = Instant::now();
        op(core::hint::black_box(input));
        let ns = start.elapsed().as_nanos() as f64;
        if *class_fixed {
            fixed.push(ns)
        } else {
            random.push(ns)
        }
    }
    report(name, fixed, random);
}

/// `samples` inputs, each the fixed one or a fresh `random()` with probability 1/2.
fn classes<T: Clone, R: Rng>(
    rng: &mut R,
    samples: usize,
    fixed: &T,
    mut random: impl FnMut(&mut R) -> T,
) -> Vec<(bool, T)> {
    (0..samples)
        .map(|_| {
            if rng.next_u32() & 1 == 0 {
                (true, fixed.clone())
            } else {
                (false, random(rng))
            }
        })
        .collect()
}

fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut rng = support::rng(0xd0d0);
    let sk = support::paillier(0);
    let pk = sk.public_key().clone();

    // Decryption: fixed plaintext vs random plaintexts below q^3 (P2's honest range).
    let bound = NonZero::new(U512::MAX.shr_vartime(128)).unwrap();
    let fixed_ct = pk.encrypt(&mut rng, &U512::from_u64(0x1234_5678)).0;
    // Every input is made before the first measurement, as dudect prescribes: made between
    // two measurements, an encryption (a 4096-bit exponentiation) ran before every random
    // one only, and its effect on caches and clocks showed as a difference between the
    // classes (|t| = 12 at 4000 samples, 2026-12-01) that was not the decryption's.
    let inputs = classes(&mut rng, samples, &fixed_ct, |rng| {
        let m = U512::random_mod_vartime(rng, &bound);
        pk.encrypt(rng, &m).0
    });
    measure("paillier decrypt (centered)", inputs, |ct| {
        core::hint::black_box(sk.decrypt_centered_mod_q(ct));
    });

    // Signature finalisation: the full on_msg4 of P1 with a fixed vs random run of P2.
    let (mut s1, s2) = support::keygen(1, 0);
    let digest = [7u8; 32];
    let runs = (samples / 10).max(100);
    let (mut fixed, mut random) = (Vec::new(), Vec::new());
    let mut fixed_seed_rng = support::rng(42);
    for i in 0..runs {
        let class_fixed = rng.next_u32() & 1 == 0;
        // The fixed class replays P2 with the same seed, so P2's nonce and mask repeat.
        let mut r2 = if class_fixed {
            support::rng(7)
        } else {
            support::rng(1000 + i as u64)
        };
        let (p1, m1) = sign::p1::start(
            &mut fixed_seed_rng,
            &mut s1,
            support::rp(),
            &support::ctx1(),
            &digest,
        )
        .unwrap();
        let (p2, m2) = sign::p2::start(&mut r2, &s2, &support::ctx2(), &digest, &m1).unwrap();
        let (p1, m3) = p1.on_msg2(&mut fixed_seed_rng, &m2).unwrap();
        let (_, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
        let start = Instant::now();
        let out = p1.on_msg4(core::hint::black_box(&m4));
        let ns = start.elapsed().as_nanos() as f64;
        core::hint::black_box(out.unwrap());
        if class_fixed {
            fixed.push(ns)
        } else {
            random.push(ns)
        }
    }
    report("sign finalisation (on_msg4)", fixed, random);

    // P1's check of π_c3: the right plaintext of C' (the proof verifies) vs random ones in
    // x1's range (it does not); every item runs whatever the others give, so both classes do
    // the same work, and the time must not depend on x1.
    let fixture = support::Pic3Fixture::new(0x5eed);
    let (proof, st) = (&fixture.proof, fixture.statement());
    let binding = support::pic3_binding(&support::PIC3_SID);
    let right = fixture.c_prime_plain;
    let shift: U512 = support::KEY_SHIFT.resize();
    let x1_bound = NonZero::new(shift).unwrap();
    let inputs = classes(&mut rng, samples / 4, &right, |rng| {
        U512::random_mod_vartime(rng, &x1_bound).wrapping_add(&shift)
    });
    measure("pi_c3 check (x1)", inputs, |plain| {
        let trapdoors = Trapdoors {
            c_prime_plain: plain,
            ..fixture.trapdoors(None)
        };
        let verdict = proof.verify_with_trapdoors(&st, &binding, &trapdoors);
        assert_eq!(verdict.is_ok(), *plain == right);
    });

    // Keygen, P1: the Pedersen table walk for a range nonce u^r (r < 2^NONCE_BITS): every
    // entry of every row the bound covers is read, whatever r.
    let mut storage = vec![U2048::ZERO; PEDERSEN_TABLE_LEN];
    let table = PedersenTable::new(&mut storage).expect("table storage");
    let nonce_bound = NonZero::new(U384::ONE.shl_vartime(range::NONCE_BITS)).unwrap();
    let fixed_nonce = U384::random_mod_vartime(&mut rng, &nonce_bound);
    let inputs = classes(&mut rng, samples, &fixed_nonce, |rng| {
        U384::random_mod_vartime(rng, &nonce_bound)
    });
    measure("pedersen table walk (u^r)", inputs, |r| {
        core::hint::black_box(pedersen::pow_root_h(Some(&table), r, range::NONCE_BITS));
    });

    // Keygen, P1: the range proof's responses d_i = ξ_i + e_i·x1, f_i = r_i + e_i·ρ for a
    // fixed prover and challenge, fixed vs random (x1, ρ).
    let binding = support::pic3_binding(&support::PIC3_SID);
    let (prover, _) = range::Prover::commit_with(&mut rng, &binding, Some(&table));
    let e = rng.next_u64();
    let draw_witness = |rng: &mut _| {
        let bound = NonZero::new(U256::MAX).unwrap();
        (
            Scalar::random(&mut *rng),
            U256::random_mod_vartime(rng, &bound),
        )
    };
    let fixed_witness = draw_witness(&mut rng);
    let inputs = classes(&mut rng, samples, &fixed_witness, draw_witness);
    measure("range respond (x1, rho)", inputs, |(x, rho)| {
        core::hint::black_box(prover.respond(x, rho, e));
    });

    // Keygen, P1: the equality proof's responses, which also multiply by c_key's randomness
    // mod N: fixed vs random (x1, r_key, ρ).
    let key = pk.clone();
    let (eq_prover, _) =
        eq_paillier_pedersen::Prover::commit_with(&mut rng, &sk, &binding, Some(&table));
    let e_eq = rng.next_u64() >> (64 - ecdsa2pc_core::internals::zk::EQ_CHALLENGE_BITS);
    let draw_eq = |rng: &mut _| {
        let (x, rho) = draw_witness(rng);
        (x, key.random_nonce(rng), rho)
    };
    let fixed_eq = draw_eq(&mut rng);
    let inputs = classes(&mut rng, samples, &fixed_eq, draw_eq);
    measure("equality respond (x1, r, rho)", inputs, |(x, r, rho)| {
        core::hint::black_box(eq_prover.respond(&key, x, r, rho, e_eq));
    });
}
