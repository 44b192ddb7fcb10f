//! Raw timings of keygen's and refresh's phases and of Paillier key generation, one sample
//! per line, for comparing two builds interleaved on a loaded machine (criterion's summaries
//! cannot be interleaved across builds).
//!
//! `cargo bench -p ecdsa2pc-core --bench phases -- [PHASE ...] [--n N] [--seed S]` prints
//! `SAMPLE <phase> <ms>` for each of N iterations and then `SUMMARY <phase> <n> <median> <p10>
//! <p90> <min> <max>`. Without a phase name it runs them all. Prime and key generation draw
//! from a seeded RNG, so two builds given the same seed search from the same random starts.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support.rs"]
mod support;

use std::time::Instant;

use crypto_bigint::U2048;
use ecdsa2pc_core::{
    KeyShareP1, KeyShareP2, PEDERSEN_TABLE_LEN, PaillierSecretKey, PedersenTable, generate_prime,
    keygen, refresh,
};

struct Args {
    phases: Vec<String>,
    n: usize,
    seed: u64,
}

fn args() -> Args {
    let mut out = Args {
        phases: Vec::new(),
        n: 10,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => out.n = it.next().and_then(|v| v.parse().ok()).unwrap_or(out.n),
            "--seed" => out.seed = it.next().and_then(|v| v.parse().ok()).unwrap_or(out.seed),
            // cargo bench passes --bench; criterion-style flags are ignored.
            s if s.starts_with("--") => {}
            s => out.phases.push(s.to_owned()),
        }
    }
    out
}

fn report(phase: &str, mut ms: Vec<f64>) {
    for m in &ms {
        println!("SAMPLE {phase} {m:.3}");
    }
    ms.sort_by(f64::total_cmp);
    // Nearest rank: index round((n − 1)·f) for f = k/10.
    let at = |tenths: usize| ms[((ms.len() - 1) * tenths + 5) / 10];
    println!(
        "SUMMARY {phase} {} {:.3} {:.3} {:.3} {:.3} {:.3}",
        ms.len(),
        at(5),
        at(1),
        at(9),
        ms[0],
        ms[ms.len() - 1]
    );
}

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64() * 1e3)
}

/// One keygen's messages and states, each step timed.
fn keygen_steps(
    seed: u64,
    table: Option<&PedersenTable<'_>>,
) -> ([f64; 4], (KeyShareP1, KeyShareP2)) {
    let mut r1 = support::rng(seed);
    let mut r2 = support::rng(seed ^ 0xffff);
    let ((p1, m1), a) = time(|| {
        keygen::p1::start_with(
            &mut r1,
            &support::ctx1(),
            support::paillier(0),
            support::rp().params(),
            table,
            &ecdsa2pc_core::work::Sequential,
        )
        .unwrap()
    });
    let ((p2, m2), b) = time(|| {
        let m1 = support::wire(&m1);
        keygen::p2::start(&mut r2, &support::ctx2(), &m1, support::rp().params()).unwrap()
    });
    let ((s1, m3), c) = time(|| p1.on_msg2(&mut r1, &support::wire(&m2)).unwrap());
    let (s2, d) = time(|| p2.on_msg3(&mut r2, &support::wire(&m3)).unwrap());
    ([a, b, c, d], (s1, s2))
}

fn main() {
    let args = args();
    let want = |p: &str| args.phases.is_empty() || args.phases.iter().any(|x| x == p);
    let n = args.n;

    if want("generate_prime") {
        let mut rng = support::rng(args.seed);
        report(
            "generate_prime",
            (0..n)
                .map(|_| time(|| generate_prime(&mut rng)).1)
                .collect(),
        );
    }
    if want("paillier_keygen") {
        let mut rng = support::rng(args.seed);
        report(
            "paillier_keygen",
            (0..n)
                .map(|_| time(|| PaillierSecretKey::generate(&mut rng)).1)
                .collect(),
        );
    }
    let mut storage = vec![U2048::ZERO; PEDERSEN_TABLE_LEN];
    let (table, build) = time(|| PedersenTable::new(&mut storage).unwrap());
    if want("pedersen_table") {
        // Paid once per process (net-std builds it on first use): a one-shot CLI run pays it.
        report("pedersen_table", vec![build]);
    }
    for (name, table) in [("keygen", None), ("keygen_table", Some(&table))] {
        if !want(name) {
            continue;
        }
        let mut steps: [Vec<f64>; 4] = Default::default();
        let mut total = Vec::new();
        for i in 0..n {
            let (t, _) = keygen_steps(args.seed.wrapping_add(i as u64), table);
            for (s, v) in steps.iter_mut().zip(t) {
                s.push(v);
            }
            total.push(t.iter().sum());
        }
        let names = ["p1_start", "p2_start", "p1_msg2", "p2_msg3"];
        for (s, step) in names.iter().zip(steps) {
            report(&format!("{name}/{s}"), step);
        }
        report(&format!("{name}/total"), total);
    }
    for (name, table) in [("refresh", None), ("refresh_table", Some(&table))] {
        if !want(name) {
            continue;
        }
        let (s1, s2) = support::keygen(3, 0);
        let mut steps: [Vec<f64>; 4] = Default::default();
        let mut total = Vec::new();
        for i in 0..n {
            let seed = args.seed.wrapping_add(i as u64);
            let mut r1 = support::rng(seed);
            let mut r2 = support::rng(seed ^ 0x77);
            let ((p1, m1), a) = time(|| {
                refresh::p1::start_with(
                    &mut r1,
                    &s1,
                    &support::ctx1(),
                    support::paillier(1),
                    table,
                    &ecdsa2pc_core::work::Sequential,
                )
                .unwrap()
            });
            let ((p2, m2), b) = time(|| {
                let m1 = support::wire(&m1);
                refresh::p2::start(&mut r2, &s2, &support::ctx2(), &m1).unwrap()
            });
            let ((p1, m3), c) = time(|| p1.on_msg2(&mut r1, &support::wire(&m2)).unwrap());
            let ((_, m4), d) = time(|| p2.on_msg3(&mut r2, &support::wire(&m3)).unwrap());
            p1.on_msg4(&m4).unwrap();
            for (s, v) in steps.iter_mut().zip([a, b, c, d]) {
                s.push(v);
            }
            total.push(a + b + c + d);
        }
        let names = ["p1_start", "p2_start", "p1_msg2", "p2_msg3"];
        for (s, step) in names.iter().zip(steps) {
            report(&format!("{name}/{s}"), step);
        }
        report(&format!("{name}/total"), total);
    }
}
