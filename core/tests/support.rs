//! Shared test helpers: fixture keys, seeded RNGs and an in-memory run of every protocol,
//! with each message passed through its encoder and decoder as it would cross the wire.
#![allow(dead_code, unreachable_pub, missing_docs)]

#[path = "../fixtures/primes.rs"]
mod fixtures_data;
#[path = "../fixtures/safe_primes.rs"]
mod safe_primes_data;

use crypto_bigint::{U256, U512};
use ecdsa2pc_core::internals::zk::sign_ciphertext::{
    Prover as Pic3Prover, SignCiphertextProof, Statement as Pic3Statement, Trapdoors,
};
use ecdsa2pc_core::internals::{curve, tags};
use ecdsa2pc_core::work::{Executor, Work};
use ecdsa2pc_core::{Ciphertext, RingPedersenParams};
use ecdsa2pc_core::{
    Context, KeyShare, KeyShareP1, KeyShareP2, Message, PaillierSecretKey, Result,
    RingPedersenSecret, TrapdoorTables, keygen, sign,
};
pub use fixtures_data::PRIME_PAIRS;
use k256::ecdsa::Signature;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
pub use safe_primes_data::SAFE_PRIME_PAIRS;

pub const PID1: [u8; 32] = [0x11; 32];
pub const PID2: [u8; 32] = [0x22; 32];
pub const BINDING: &[u8] = b"test channel binding";

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn paillier(i: usize) -> PaillierSecretKey {
    let (p, q) = PRIME_PAIRS[i % PRIME_PAIRS.len()];
    PaillierSecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}

/// P1's ring-Pedersen secret over fixture safe-prime pair `i` (fresh: tests that need
/// another parameter set than [`rp`]'s).
pub fn ring_pedersen(i: usize) -> RingPedersenSecret {
    let (p, q) = SAFE_PRIME_PAIRS[i % SAFE_PRIME_PAIRS.len()];
    RingPedersenSecret::from_safe_primes(
        &mut rng(0x5afe + i as u64),
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}

/// P1's ring-Pedersen secret of every fixture key (pair 0), made once per test binary.
pub fn rp() -> &'static RingPedersenSecret {
    static RP: std::sync::OnceLock<RingPedersenSecret> = std::sync::OnceLock::new();
    RP.get_or_init(|| ring_pedersen(0))
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
    let (p1, m1) = keygen::p1::start(&mut r1, &ctx1(), paillier(key), rp().params()).unwrap();
    let (p2, m2) = keygen::p2::start(&mut r2, &ctx2(), &wire(&m1), rp().params()).unwrap();
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
    let (p1, m1) = sign::p1::start(&mut r1, s1, rp(), &ctx1(), digest)?;
    let (p2, m2) = sign::p2::start(&mut r2, s2, &ctx2(), digest, &wire(&m1))?;
    let (p1, m3) = p1.on_msg2(&mut r1, &wire(&m2))?;
    let (p2, m4) = p2.on_msg3(&mut r2, &wire(&m3))?;
    let (sig1, m5) = p1.on_msg4(&wire(&m4))?;
    let sig2 = p2.on_msg5(&wire(&m5))?;
    Ok((sig1, sig2))
}

/// An honest signing run with P2's presign `pre`, P2's tables `p2_tables` and P1's trapdoor
/// tables `p1_tables` (each optional); messages are handed over in memory, not re-encoded,
/// so that a benchmark times the parties' compute alone. Returns both parties' signatures.
pub fn sign_presigned(
    seed: u64,
    s1: &mut KeyShareP1,
    s2: &KeyShareP2,
    digest: &[u8; 32],
    pre: sign::p2::Presign,
    p2_tables: Option<&sign::p2::Precomputed<'_>>,
    p1_tables: Option<&TrapdoorTables<'_>>,
) -> Result<(Signature, Signature)> {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xabcd);
    let (p1, m1) = sign::p1::start(&mut r1, s1, rp(), &ctx1(), digest)?;
    let (p2, m2) = sign::p2::start_with(&mut r2, s2, &ctx2(), digest, &m1, Some(pre))?;
    let (p1, m3) = p1.on_msg2(&mut r1, &m2)?;
    let (p2, m4) = p2.on_msg3_with(&mut r2, &m3, p2_tables)?;
    let (sig1, m5) = p1.on_msg4_with(&m4, p1_tables)?;
    let sig2 = p2.on_msg5(&m5)?;
    Ok((sig1, sig2))
}

// ---------------------------------------------------------------------------------------------
// Helpers for the adversarial and robustness suites. They rebuild, from the public API only, what
// an attacker sitting at one end of the channel can compute: the session prefix and id, the
// commitment transcripts, and the secret shares of a run whose RNG seed the test controls.
// `control_*` tests in adversarial.rs check that these replicas agree with the real rounds, so a
// negative test cannot pass merely because a replica is wrong.
// ---------------------------------------------------------------------------------------------

use ecdsa2pc_core::internals::{session::Binding, transcript::Transcript};
use k256::{AffinePoint, Scalar};

/// P1's and P2's pids as the support contexts name them.
pub fn pids() -> ([u8; 32], [u8; 32]) {
    (PID1, PID2)
}

/// The session prefix of `run` ("keygen" or "sign") for the support contexts.
pub fn prefix(run: &'static str, nonce1: &[u8; 32], extra: &[u8]) -> [u8; 32] {
    let mut t = Transcript::new(tags::SESSION_PREFIX);
    t.bytes("protocol", tags::PROTOCOL)
        .bytes("run", run.as_bytes())
        .bytes("pid1", &PID1)
        .bytes("pid2", &PID2)
        .bytes("channel", BINDING)
        .bytes("nonce1", nonce1)
        .bytes("extra", extra);
    t.finish()
}

/// The session id from the prefix and P2's nonce.
pub fn sid(prefix: &[u8; 32], nonce2: &[u8; 32]) -> [u8; 32] {
    let mut t = Transcript::new(tags::SESSION_ID);
    t.bytes("prefix", prefix).bytes("nonce2", nonce2);
    t.finish()
}

/// A transcript that starts with a binding, as the core's proofs and commitments do.
pub fn bound_transcript(tag: &'static [u8], b: &Binding<'_>) -> Transcript {
    let mut t = Transcript::new(tag);
    t.bytes("session", b.session)
        .bytes("prover", b.prover)
        .bytes("label", b.label.as_bytes());
    t
}

/// P1's keygen commitment to Q1.
pub fn com_q1(q1: &AffinePoint, cc1: &[u8; 32], prefix: &[u8; 32], open: &[u8; 32]) -> [u8; 32] {
    let b = Binding {
        session: prefix,
        prover: &PID1,
        label: "keygen/Q1",
    };
    let mut t = bound_transcript(tags::KEYGEN_Q1, &b);
    t.point("Q1", q1).bytes("cc1", cc1);
    ecdsa2pc_core::internals::commitment::seal(t, open)
}

/// P1's signing commitment to (R1, digest).
pub fn com_r1(r1: &AffinePoint, digest: &[u8; 32], prefix: &[u8; 32], open: &[u8; 32]) -> [u8; 32] {
    let b = Binding {
        session: prefix,
        prover: &PID1,
        label: "sign/R1",
    };
    let mut t = bound_transcript(tags::SIGN_R1, &b);
    t.point("R1", r1).bytes("digest", digest);
    ecdsa2pc_core::internals::commitment::seal(t, open)
}

/// The secret scalar a round draws right after its 32-byte nonce (x1, x2, k1 or k2), predicted
/// from a clone of the RNG the round is about to use.
pub fn predict_secret(rng: &ChaCha20Rng) -> Scalar {
    use rand_core::Rng;
    let mut r = rng.clone();
    let mut nonce = [0u8; 32];
    r.fill_bytes(&mut nonce);
    curve::random_scalar(&mut r)
}

/// Every message of an honest keygen, with both shares and both secrets.
pub struct KeygenRun {
    pub s1: KeyShareP1,
    pub s2: KeyShareP2,
    pub m1: keygen::Msg1,
    pub m2: keygen::Msg2,
    pub m3: keygen::Msg3,
    pub x1: Scalar,
    pub x2: Scalar,
}

/// An honest keygen that records its transcript; same shares as [`keygen`] for the same inputs.
pub fn keygen_run(seed: u64, key: usize) -> KeygenRun {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xffff);
    let x1 = predict_secret(&r1);
    let (p1, m1) = keygen::p1::start(&mut r1, &ctx1(), paillier(key), rp().params()).unwrap();
    let m1 = wire(&m1);
    let x2 = predict_secret(&r2);
    let (p2, m2) = keygen::p2::start(&mut r2, &ctx2(), &m1, rp().params()).unwrap();
    let m2 = wire(&m2);
    let (s1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    let m3 = wire(&m3);
    let s2 = p2.on_msg3(&mut r2, &m3).unwrap();
    assert_eq!(curve::mul_g(&x1), s1.public().q1, "x1 prediction");
    assert_eq!(curve::mul_g(&x2), s1.public().q2, "x2 prediction");
    KeygenRun {
        s1,
        s2,
        m1,
        m2,
        m3,
        x1,
        x2,
    }
}

/// P1's share of the honest keygen [`keygen`]`(seed, key)` would run, without P2's (slow)
/// verification of Msg3: the same share, for tests that need a fresh, unlocked copy.
pub fn p1_share(seed: u64, key: usize) -> KeyShareP1 {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xffff);
    let (p1, m1) = keygen::p1::start(&mut r1, &ctx1(), paillier(key), rp().params()).unwrap();
    let (_, m2) = keygen::p2::start(&mut r2, &ctx2(), &wire(&m1), rp().params()).unwrap();
    p1.on_msg2(&mut r1, &wire(&m2)).unwrap().0
}

/// The messages of an honest signing run up to (and including) Msg4, with the live states.
pub struct SignRun<'a, 'b> {
    pub p1: sign::p1::AwaitMsg4<'a>,
    pub p2: sign::p2::AwaitMsg5<'b>,
    pub m1: sign::Msg1,
    pub m2: sign::Msg2,
    pub m3: sign::Msg3,
    pub m4: sign::Msg4,
}

/// Runs an honest signing session up to P2's Msg4, stopping before P1 decrypts.
pub fn sign_to_msg4<'a, 'b>(
    seed: u64,
    s1: &'a mut KeyShareP1,
    s2: &'b KeyShareP2,
    digest: &[u8; 32],
) -> SignRun<'a, 'b> {
    let mut r1 = rng(seed);
    let mut r2 = rng(seed ^ 0xabcd);
    let (p1, m1) = sign::p1::start(&mut r1, s1, rp(), &ctx1(), digest).unwrap();
    let m1 = wire(&m1);
    let (p2, m2) = sign::p2::start(&mut r2, s2, &ctx2(), digest, &m1).unwrap();
    let m2 = wire(&m2);
    let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    let m3 = wire(&m3);
    let (p2, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
    let m4 = wire(&m4);
    SignRun {
        p1,
        p2,
        m1,
        m2,
        m3,
        m4,
    }
}

/// `bytes` with one bit flipped.
pub fn flipped(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bit / 8] ^= 1 << (bit % 8);
    out
}

/// The session id of a signing run from P1's Msg1 and P2's nonce.
pub fn sign_sid(m1: &sign::Msg1, nonce2: &[u8; 32]) -> [u8; 32] {
    // The prefix hashes the share's fingerprint followed by the derivation path's id.
    let mut extra = [0u8; 64];
    extra[..32].copy_from_slice(&m1.fingerprint);
    extra[32..].copy_from_slice(&m1.path_id);
    sid(&prefix("sign", &m1.nonce1, &extra), nonce2)
}

/// A P2 that picks its own nonce k2: its Msg2 answering P1's `m1` (a fresh nonce2 from `rng`
/// and an honest proof of k2) and the session id.
pub fn msg2_with_nonce(
    rng: &mut ChaCha20Rng,
    m1: &sign::Msg1,
    k2: &Scalar,
) -> (sign::Msg2, [u8; 32]) {
    use rand_core::Rng;
    let r2 = curve::mul_g(k2);
    let mut nonce2 = [0u8; 32];
    rng.fill_bytes(&mut nonce2);
    let sid = sign_sid(m1, &nonce2);
    let binding = Binding {
        session: &sid,
        prover: &PID2,
        label: "sign/R2",
    };
    let proof_r2 = ecdsa2pc_core::internals::zk::dlog::DlogProof::prove(rng, k2, &r2, &binding);
    let msg = sign::Msg2 {
        nonce2,
        r2,
        proof_r2,
    };
    (msg, sid)
}

/// A cheating P2's message 4: the ciphertext `c` with a π_c3 made by the honest prover from the
/// honest witnesses k2 (R2 = k2·G) and x2, for the statement that names `c`. This is the best a
/// P2 without P1's trapdoors can do with a `c` that is not the honest one.
#[allow(clippy::too_many_arguments)]
pub fn forged_msg4(
    seed: u64,
    s2: &KeyShareP2,
    c_key: &Ciphertext,
    x2: &Scalar,
    k2: &Scalar,
    r: &Scalar,
    digest: &[u8; 32],
    sid: &[u8; 32],
    c: &Ciphertext,
) -> sign::Msg4 {
    use ecdsa2pc_core::internals::zk::sign_ciphertext::{Prover, Statement};
    let key = s2.paillier_key();
    let c_prime = key.add_plain(c_key, &KEY_SHIFT);
    let r2 = curve::mul_g(k2);
    let prover = Prover::new(
        &mut rng(seed),
        k2,
        x2,
        &r2,
        key,
        &c_prime,
        None,
        s2.ring_pedersen_params(),
        None,
    );
    let m = <Scalar as k256::elliptic_curve::ops::Reduce<k256::FieldBytes>>::reduce(
        &k256::FieldBytes::from(*digest),
    );
    let fingerprint = s2.fingerprint();
    let statement = Statement {
        key,
        c_prime: &c_prime,
        c,
        q2: &s2.public().q2,
        r2: &r2,
        m: &m,
        r,
        params: s2.ring_pedersen_params(),
        fingerprint: &fingerprint,
        epoch: s2.epoch(),
        verifier: &PID1,
    };
    let binding = Binding {
        session: sid,
        prover: &PID2,
        label: "sign/c",
    };
    sign::Msg4 {
        c: *c.as_uint(),
        proof: prover.prove(&statement, &binding).unwrap(),
    }
}

/// The secp256k1 group order q, as k256 defines it (the tests hold no copy of it).
pub const Q_ORDER: U256 = <k256::Secp256k1 as k256::elliptic_curve::Curve>::ORDER.get_copy();

/// q·2^64: what C' = c_key ⊕ q·2^64 adds to c_key's plaintext x1.
pub const KEY_SHIFT: crypto_bigint::U384 = Q_ORDER.resize().shl_vartime(64);

/// An executor with threads (core's library has none: it is `no_std`) for the tests and the
/// benchmarks: runs a list on up to `self.0` threads, this one and the rest spawned, item i on
/// thread i mod n. `Threads(2)` is net-std's `Parallel` on a 2-core machine;
/// [`Threads::ONE_PER_ITEM`] puts each item on its own thread, finishing in any order. Core's
/// `Reversed` and `Idle` give the backwards and the empty schedules.
#[derive(Clone, Copy, Debug)]
pub struct Threads(pub usize);

impl Threads {
    /// Every item on its own thread.
    pub const ONE_PER_ITEM: Self = Self(usize::MAX);
}

impl Executor for Threads {
    fn run<W: Work>(&self, items: &mut [W]) {
        let n = self.0.clamp(1, items.len().max(1));
        let mut lanes: Vec<Vec<&mut W>> = (0..n).map(|_| Vec::new()).collect();
        for (i, item) in items.iter_mut().enumerate() {
            if let Some(lane) = lanes.get_mut(i % n) {
                lane.push(item);
            }
        }
        let mut lanes = lanes.into_iter();
        let here = lanes.next().unwrap_or_default();
        std::thread::scope(|s| {
            for lane in lanes {
                s.spawn(move || lane.into_iter().for_each(Work::run));
            }
            here.into_iter().for_each(Work::run);
        });
    }
}

/// The session id of [`Pic3Fixture`]'s proof.
pub const PIC3_SID: [u8; 32] = [7; 32];

/// The binding of a π_c3 proof in session `sid`, proved by party 1.
pub fn pic3_binding(sid: &[u8; 32]) -> Binding<'_> {
    Binding {
        session: sid,
        prover: &PID2,
        label: "sign/c",
    }
}

/// A π_c3 statement and an honest proof of it, with everything the statement borrows owned,
/// and the plaintext of C' that P1's verifier is given (P2's witnesses random from the seed).
pub struct Pic3Fixture {
    pub sk: PaillierSecretKey,
    pub c_prime: Ciphertext,
    /// The plaintext of C', x1 + q·2^64, which P1's verifier is given.
    pub c_prime_plain: U512,
    pub c: Ciphertext,
    pub q2: AffinePoint,
    pub r2: AffinePoint,
    pub m: Scalar,
    pub r: Scalar,
    pub params: RingPedersenParams,
    pub fingerprint: [u8; 32],
    pub epoch: u64,
    pub proof: SignCiphertextProof,
}

impl Pic3Fixture {
    pub fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let sk = paillier(0);
        let key = sk.public_key();
        let x1 = U256::from_be_slice(&curve::random_scalar(&mut rng).to_bytes());
        let (c_key, _) = key.encrypt(&mut rng, &x1);
        let c_prime = key.add_plain(&c_key, &KEY_SHIFT);
        let c_prime_plain = x1
            .resize::<{ U512::LIMBS }>()
            .wrapping_add(&KEY_SHIFT.resize());
        let (k2, x2) = (
            curve::random_scalar(&mut rng),
            curve::random_scalar(&mut rng),
        );
        let r2 = curve::mul_g(&k2);
        let (m, r) = (
            curve::random_scalar(&mut rng),
            curve::random_scalar(&mut rng),
        );
        let params = *rp().params();
        let prover = Pic3Prover::new(&mut rng, &k2, &x2, &r2, key, &c_prime, None, &params, None);
        let c = prover.ciphertext(key, &r, &m, None).unwrap();
        let mut f = Self {
            c_prime,
            c_prime_plain,
            c,
            q2: curve::mul_g(&x2),
            r2,
            m,
            r,
            params,
            fingerprint: [9; 32],
            epoch: 3,
            proof: SignCiphertextProof::EMPTY,
            sk,
        };
        f.proof = prover
            .prove(&f.statement(), &pic3_binding(&PIC3_SID))
            .unwrap();
        f
    }

    pub fn statement(&self) -> Pic3Statement<'_> {
        Pic3Statement {
            key: self.sk.public_key(),
            c_prime: &self.c_prime,
            c: &self.c,
            q2: &self.q2,
            r2: &self.r2,
            m: &self.m,
            r: &self.r,
            params: &self.params,
            fingerprint: &self.fingerprint,
            epoch: self.epoch,
            verifier: &PID1,
        }
    }

    /// P1's trapdoors for this fixture's statement.
    pub fn trapdoors<'a>(&'a self, tables: Option<&'a TrapdoorTables<'a>>) -> Trapdoors<'a> {
        Trapdoors {
            ring: rp(),
            tables,
            paillier: &self.sk,
            c_prime_plain: &self.c_prime_plain,
        }
    }
}
