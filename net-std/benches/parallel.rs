//! Keygen and refresh on one core and on every core, interleaved iteration by iteration so
//! that both see the same machine load, one sample per line (the format of core's `phases`
//! bench).
//!
//! `cargo bench -p ecdsa2pc-net --bench parallel -- [PHASE ...] [--n N] [--seed S]` prints
//! `SAMPLE <phase> <ms>` and `SUMMARY <phase> <n> <median> <p10> <p90> <min> <max>` for:
//! - `paillier_keygen` / `paillier_keygen_cores`: a Paillier key on one thread
//!   (`SecretKey::generate`) and with its prime-search windows on every core (`run_on`),
//!   from the same seeds, so the same keys;
//! - `keygen` / `keygen_cores` (and `keygen_table*`, with the Pedersen table): a Paillier key
//!   and the whole protocol, both parties, every message through its codec; `_cores` with the
//!   key's prime searches, P1's step-1 commitments and encryptions and P2's proof checks on
//!   every core;
//! - `refresh` / `refresh_cores`: likewise with the refresh's new key, P1's encryptions (c_key
//!   and the equality proof's) and P2's checks;
//! - `refresh_p2` / `refresh_p2_cores` / `refresh_p2_modeled`: P2's check of refresh
//!   message 3 alone (its key and equality proofs), on one core, with its checks on every
//!   core, and modeled as below;
//! - `*_modeled`: the one-thread run's time minus what a 2-core schedule of its work items
//!   would save, from each item's own time on one thread ([`Modeled`]). On a machine whose
//!   other load leaves this process less than two cores (the scheduler shares CPU between
//!   sessions, not threads), `_cores` cannot show the gain and `_modeled` estimates it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/integration/pair.rs"]
mod pair;
#[path = "../../core/fixtures/safe_primes.rs"]
mod safe_primes;

use core::cell::Cell;
use std::time::Instant;

use crypto_bigint::{U1024, U2048};
use ecdsa2pc_core::{
    KeyShareP1, KeyShareP2, Message, PEDERSEN_TABLE_LEN, PaillierKeySearch, PaillierSecretKey,
    PedersenTable, RingPedersenSecret, keygen, refresh,
    work::{Executor, Sequential, Work},
};
use ecdsa2pc_net::work::{self as net_work, Parallel};
use pair::{ctx1, ctx2, rng};

fn wire<M: Message>(msg: &M) -> M {
    let mut buf = vec![0u8; M::LEN];
    msg.encode(&mut buf).unwrap();
    M::decode(&buf).unwrap()
}

fn params() -> RingPedersenSecret {
    let (p, q) = safe_primes::SAFE_PRIME_PAIRS[0];
    RingPedersenSecret::from_safe_primes(
        &mut rng(0),
        &U1024::from_be_hex(p),
        &U1024::from_be_hex(q),
    )
    .unwrap()
}

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64() * 1e3)
}

fn report(phase: &str, mut ms: Vec<f64>) {
    for m in &ms {
        println!("SAMPLE {phase} {m:.3}");
    }
    ms.sort_by(f64::total_cmp);
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

/// Runs items on this thread, timing each, and adds up how much a 2-core run with
/// `run_parallel`'s policy (each thread takes the next untaken item) would have saved.
#[derive(Default)]
struct Modeled {
    saved_ms: Cell<f64>,
}

impl Executor for Modeled {
    fn run<W: Work>(&self, items: &mut [W]) {
        let mut free_at = [0.0f64; 2];
        let mut total = 0.0;
        for item in items.iter_mut() {
            let ((), ms) = time(|| item.run());
            total += ms;
            let first = if free_at[0] <= free_at[1] { 0 } else { 1 };
            free_at[first] += ms;
        }
        let makespan = free_at[0].max(free_at[1]);
        self.saved_ms.set(self.saved_ms.get() + total - makespan);
    }
}

impl Modeled {
    fn take(&self) -> f64 {
        self.saved_ms.replace(0.0)
    }
}

/// A Paillier key from `seed` with its searches timed by `model`.
fn paillier_modeled(seed: u64, model: &Modeled) -> PaillierSecretKey {
    let mut r = rng(seed);
    loop {
        let mut search = PaillierKeySearch::draw(&mut r);
        search.run_on(model, 2);
        if let Ok(key) = search.finish() {
            return key;
        }
    }
}

/// A Paillier key from `seed`, on one thread or on every core: the same key either way.
fn paillier(seed: u64, cores: bool) -> PaillierSecretKey {
    let mut r = rng(seed);
    if !cores {
        return PaillierSecretKey::generate(&mut r);
    }
    loop {
        let mut search = PaillierKeySearch::draw(&mut r);
        search.run_on(&Parallel, net_work::cores());
        if let Ok(key) = search.finish() {
            return key;
        }
    }
}

fn keygen_run<X: Executor>(
    seed: u64,
    key: PaillierSecretKey,
    rp: &RingPedersenSecret,
    table: Option<&PedersenTable<'_>>,
    exec: &X,
) -> (KeyShareP1, KeyShareP2) {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xffff);
    let (p1, m1) = keygen::p1::start_with(&mut r1, &ctx1(), key, rp.params(), table, exec).unwrap();
    let (p2, m2) = keygen::p2::start(&mut r2, &ctx2(), &wire(&m1), rp.params()).unwrap();
    let (s1, m3) = p1.on_msg2_with(&mut r1, &wire(&m2), exec).unwrap();
    let s2 = p2.on_msg3_with(&mut r2, &wire(&m3), exec).unwrap();
    (s1, s2)
}

fn refresh_run<X: Executor>(
    seed: u64,
    s1: &KeyShareP1,
    s2: &KeyShareP2,
    key: PaillierSecretKey,
    table: Option<&PedersenTable<'_>>,
    exec: &X,
) {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0x7777);
    let (p1, m1) = refresh::p1::start_with(&mut r1, s1, &ctx1(), key, table, exec).unwrap();
    let (p2, m2) = refresh::p2::start(&mut r2, s2, &ctx2(), &wire(&m1)).unwrap();
    let (p1, m3) = p1.on_msg2_with(&mut r1, &wire(&m2), exec).unwrap();
    let (_, m4) = p2.on_msg3_with(&mut r2, &wire(&m3), exec).unwrap();
    p1.on_msg4(&wire(&m4)).unwrap();
}

/// P2's check of refresh message 3 alone (the key proof for N', the equality and range
/// proofs), on one core, on every core and modeled ([`Modeled`]), from one P1 run: the step
/// whose checks spread over the cores.
fn refresh_p2_check(
    seed: u64,
    s1: &KeyShareP1,
    s2: &KeyShareP2,
    key: PaillierSecretKey,
    table: Option<&PedersenTable<'_>>,
) -> (f64, f64, f64) {
    let mut r1 = rng(seed);
    let (p1, m1) = refresh::p1::start_with(&mut r1, s1, &ctx1(), key, table, &Parallel).unwrap();
    let p2 = || refresh::p2::start(&mut rng(seed ^ 0x7777), s2, &ctx2(), &wire(&m1)).unwrap();
    let (_, m2) = p2();
    let (_, m3) = p1.on_msg2_with(&mut r1, &wire(&m2), &Parallel).unwrap();
    let m3 = wire(&m3);
    let (state, r) = (p2().0, &mut rng(seed));
    let (one, t1) = time(|| state.on_msg3_with(r, &m3, &Sequential).unwrap());
    let (state, r) = (p2().0, &mut rng(seed));
    let (all, t2) = time(|| state.on_msg3_with(r, &m3, &Parallel).unwrap());
    assert_eq!(one.1, all.1, "the same confirmation either way");
    let model = Modeled::default();
    let (state, r) = (p2().0, &mut rng(seed));
    let (modeled, t3) = time(|| state.on_msg3_with(r, &m3, &model).unwrap());
    assert_eq!(one.1, modeled.1, "the same confirmation either way");
    (t1, t2, t3 - model.take())
}

fn main() {
    let mut phases = Vec::new();
    let (mut n, mut seed) = (10usize, 1u64);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--n" => n = it.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            "--seed" => seed = it.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            s if s.starts_with("--") => {}
            s => phases.push(s.to_owned()),
        }
    }
    let want = |p: &str| phases.is_empty() || phases.iter().any(|x| x == p);
    let rp = params();
    let mut storage = vec![U2048::ZERO; PEDERSEN_TABLE_LEN];
    let table = PedersenTable::new(&mut storage).unwrap();

    if want("paillier_keygen") {
        let (mut one, mut all, mut modeled) = (Vec::new(), Vec::new(), Vec::new());
        let model = Modeled::default();
        for i in 0..n as u64 {
            let (a, t1) = time(|| paillier(seed + i, false));
            let (b, t2) = time(|| paillier(seed + i, true));
            let (c, t3) = time(|| paillier_modeled(seed + i, &model));
            assert_eq!(a.primes(), b.primes(), "the same key either way");
            assert_eq!(a.primes(), c.primes(), "the same key either way");
            one.push(t1);
            all.push(t2);
            modeled.push(t3 - model.take());
        }
        report("paillier_keygen", one);
        report("paillier_keygen_cores", all);
        report("paillier_keygen_modeled", modeled);
    }
    for (name, table) in [("keygen", None), ("keygen_table", Some(&table))] {
        if !want(name) {
            continue;
        }
        let (mut one, mut all, mut modeled) = (Vec::new(), Vec::new(), Vec::new());
        let model = Modeled::default();
        for i in 0..n as u64 {
            let s = seed + i;
            one.push(time(|| keygen_run(s, paillier(s, false), &rp, table, &Sequential)).1);
            all.push(time(|| keygen_run(s, paillier(s, true), &rp, table, &Parallel)).1);
            let t = time(|| keygen_run(s, paillier_modeled(s, &model), &rp, table, &model)).1;
            modeled.push(t - model.take());
        }
        report(name, one);
        report(&format!("{name}_cores"), all);
        report(&format!("{name}_modeled"), modeled);
    }
    if want("refresh") {
        let (s1, s2) = keygen_run(seed, paillier(seed, true), &rp, Some(&table), &Parallel);
        let (mut one, mut all, mut modeled) = (Vec::new(), Vec::new(), Vec::new());
        let model = Modeled::default();
        for i in 0..n as u64 {
            let s = seed + 1000 + i;
            // With the Pedersen table, as the service runs refresh (net-std/src/tables.rs).
            let t = Some(&table);
            one.push(time(|| refresh_run(s, &s1, &s2, paillier(s, false), t, &Sequential)).1);
            all.push(time(|| refresh_run(s, &s1, &s2, paillier(s, true), t, &Parallel)).1);
            let m = &model;
            modeled
                .push(time(|| refresh_run(s, &s1, &s2, paillier_modeled(s, m), t, m)).1 - m.take());
        }
        report("refresh", one);
        report("refresh_cores", all);
        report("refresh_modeled", modeled);
    }
    if want("refresh_p2") {
        let (s1, s2) = keygen_run(seed, paillier(seed, true), &rp, Some(&table), &Parallel);
        let (mut one, mut all, mut modeled) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n as u64 {
            let s = seed + 1000 + i;
            let (t1, t2, t3) = refresh_p2_check(s, &s1, &s2, paillier(s, true), Some(&table));
            one.push(t1);
            all.push(t2);
            modeled.push(t3);
        }
        report("refresh_p2", one);
        report("refresh_p2_cores", all);
        report("refresh_p2_modeled", modeled);
    }
}
