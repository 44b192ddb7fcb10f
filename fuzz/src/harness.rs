//! The fuzz harness: deterministic honest runs and one entry point per fuzz target.
//!
//! This one file is shared by the cargo-fuzz targets (through `fuzz/src/lib.rs`), the seed
//! corpus generator (`fuzz/src/bin/seed.rs`) and the stable regression test
//! `core/tests/fuzz_regressions.rs`, which includes it with `#[path]`: a regression input is
//! replayed through exactly the code that fuzzed it.
//!
//! Round targets run a round function of one party from a *valid* state on whatever the fuzzer
//! feeds them, and accept `Ok` or `Err`; only a panic (or a broken invariant, asserted here) is
//! a finding. Under `--cfg fuzzing` (set by cargo-fuzz) the expensive states — a keygen with a
//! 2048-bit Paillier key takes about a second — are built once and cloned per input: the core
//! derives `Clone` on its protocol states only under that cfg. Without it (stable tests) every
//! input that decodes gets freshly rebuilt states. All runs are seeded, so both ways reach the
//! same states, and an honest message fed to its round reproduces the honest run exactly.

use std::sync::OnceLock;

use ecdsa2pc_core::peer_abort;
use ecdsa2pc_core::{
    Context, Error, KeyShare, KeyShareP1, KeyShareP2, Message, PaillierSecretKey, ParamsMsg,
    RingPedersenSecret, keygen, refresh, sign,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[path = "../../core/fixtures/primes.rs"]
mod primes;
#[path = "../../core/fixtures/safe_primes.rs"]
mod safe_primes;

/// P1's party id in every harness run.
pub const PID1: [u8; 32] = [0x11; 32];
/// P2's party id in every harness run.
pub const PID2: [u8; 32] = [0x22; 32];
/// The channel binding of every harness run.
pub const BINDING: &[u8] = b"ecdsa2pc fuzz channel binding";
/// The digest every harness signing run signs.
pub const DIGEST: [u8; 32] = [0x5a; 32];

/// One RNG seed per (party, round), used both by the honest run and by the fuzzed round.
mod seed {
    pub(super) const RING_PEDERSEN: u64 = 0x0101;
    pub(super) const PARAMS_MSG: u64 = 0x0102;
    pub(super) const KEYGEN_P1_START: u64 = 0x1101;
    pub(super) const KEYGEN_P2_START: u64 = 0x1201;
    pub(super) const KEYGEN_P1_MSG2: u64 = 0x1102;
    pub(super) const KEYGEN_P2_MSG3: u64 = 0x1203;
    pub(super) const SIGN_P1_START: u64 = 0x2101;
    pub(super) const SIGN_P2_START: u64 = 0x2201;
    pub(super) const SIGN_P1_MSG2: u64 = 0x2102;
    pub(super) const SIGN_P2_MSG3: u64 = 0x2203;
    pub(super) const REFRESH_P1_START: u64 = 0x3101;
    pub(super) const REFRESH_P2_START: u64 = 0x3201;
    pub(super) const REFRESH_P1_MSG2: u64 = 0x3102;
    pub(super) const REFRESH_P2_MSG3: u64 = 0x3203;
}

/// A seeded RNG.
#[must_use]
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn ctx1() -> Context<'static> {
    Context {
        own_pid: PID1,
        peer_pid: PID2,
        channel_binding: BINDING,
    }
}

fn ctx2() -> Context<'static> {
    Context {
        own_pid: PID2,
        peer_pid: PID1,
        channel_binding: BINDING,
    }
}

/// P1's Paillier key: fixture pair 0.
fn paillier() -> PaillierSecretKey {
    let (p, q) = primes::PRIME_PAIRS[0];
    PaillierSecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .expect("fixture primes make a valid Paillier key")
}

/// P1's ring-Pedersen secret: fixture safe-prime pair 0, made once per process.
fn ring_pedersen() -> &'static RingPedersenSecret {
    static CELL: OnceLock<RingPedersenSecret> = OnceLock::new();
    CELL.get_or_init(|| {
        let (p, q) = safe_primes::SAFE_PRIME_PAIRS[0];
        RingPedersenSecret::from_safe_primes(
            &mut rng(seed::RING_PEDERSEN),
            &crypto_bigint::U1024::from_be_hex(p),
            &crypto_bigint::U1024::from_be_hex(q),
        )
        .expect("fixture safe primes make valid parameters")
    })
}

/// What one target did with one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The decoder refused the input.
    Undecodable(Error),
    /// The input decoded and the round refused it.
    Rejected(Error),
    /// The input decoded (and, for a round target, the round succeeded).
    Accepted,
}

fn outcome<T>(result: Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Accepted,
        Err(e) => Outcome::Rejected(e),
    }
}

/// The encoding of a message. Panics if a message cannot be encoded: for a message that was
/// decoded, that is an asymmetric codec.
#[must_use]
pub fn encode<M: Message>(msg: &M) -> Vec<u8> {
    let mut buf = vec![0u8; M::LEN];
    let n = msg
        .encode(&mut buf)
        .unwrap_or_else(|e| panic!("{} does not encode: {e:?}", core::any::type_name::<M>()));
    assert_eq!(
        n,
        M::LEN,
        "{} encodes to the wrong length",
        core::any::type_name::<M>()
    );
    buf
}

/// Decoder target: `decode` never panics, and on accepted input `encode ∘ decode` is the
/// identity (one canonical encoding per message). `peer_abort` never panics either.
pub fn decode<M: Message>(data: &[u8]) -> Outcome {
    let _ = peer_abort(data);
    match M::decode(data) {
        Err(e) => Outcome::Undecodable(e),
        Ok(msg) => {
            let again = encode(&msg);
            assert!(
                again == data,
                "{}: decode then encode changed the bytes (non-canonical encoding accepted)",
                core::any::type_name::<M>()
            );
            Outcome::Accepted
        }
    }
}

/// The messages of one honest run, and the shares it produced.
pub struct Honest {
    /// Party 0's ring-Pedersen parameter message, for party 0's pid.
    pub params: ParamsMsg,
    /// Keygen messages 1–3.
    pub keygen: (keygen::Msg1, keygen::Msg2, keygen::Msg3),
    /// Sign messages 1–5.
    pub sign: (sign::Msg1, sign::Msg2, sign::Msg3, sign::Msg4, sign::Msg5),
    /// Refresh messages 1–4 (of a refresh of the keygen's shares).
    pub refresh: (refresh::Msg1, refresh::Msg2, refresh::Msg3, refresh::Msg4),
    /// The keygen's shares as share files (P1's, P2's).
    pub files: (Vec<u8>, Vec<u8>),
    share1: KeyShareP1,
    share2: KeyShareP2,
}

/// Sends a message through its encoder and decoder, as the wire would.
fn wired<M: Message>(msg: &M) -> M {
    M::decode(&encode(msg)).unwrap_or_else(|e| {
        panic!(
            "honest {} does not decode: {e:?}",
            core::any::type_name::<M>()
        )
    })
}

fn keygen_p1_start() -> (keygen::p1::AwaitMsg2, keygen::Msg1) {
    let (state, msg) = keygen::p1::start(
        &mut rng(seed::KEYGEN_P1_START),
        &ctx1(),
        paillier(),
        ring_pedersen().params(),
    )
    .expect("honest keygen start");
    (state, wired(&msg))
}

fn keygen_p2_start(
    msg: &keygen::Msg1,
) -> ecdsa2pc_core::Result<(keygen::p2::AwaitMsg3, keygen::Msg2)> {
    keygen::p2::start(
        &mut rng(seed::KEYGEN_P2_START),
        &ctx2(),
        msg,
        ring_pedersen().params(),
    )
}

fn sign_p1_start(share: &mut KeyShareP1) -> (sign::p1::AwaitMsg2<'_>, sign::Msg1) {
    let (state, msg) = sign::p1::start(
        &mut rng(seed::SIGN_P1_START),
        share,
        ring_pedersen(),
        &ctx1(),
        &DIGEST,
    )
    .expect("honest sign start");
    (state, wired(&msg))
}

fn sign_p2_start<'s>(
    share: &'s KeyShareP2,
    msg: &sign::Msg1,
) -> ecdsa2pc_core::Result<(sign::p2::AwaitMsg3<'s>, sign::Msg2)> {
    sign::p2::start(&mut rng(seed::SIGN_P2_START), share, &ctx2(), &DIGEST, msg)
}

/// An honest keygen: its messages and both shares. Deterministic.
fn run_keygen() -> (
    (keygen::Msg1, keygen::Msg2, keygen::Msg3),
    KeyShareP1,
    KeyShareP2,
) {
    let (p1, m1) = keygen_p1_start();
    let (p2, m2) = keygen_p2_start(&m1).expect("honest keygen msg1");
    let m2 = wired(&m2);
    let (share1, m3) = p1
        .on_msg2(&mut rng(seed::KEYGEN_P1_MSG2), &m2)
        .expect("honest keygen msg2");
    let m3 = wired(&m3);
    let share2 = p2
        .on_msg3(&mut rng(seed::KEYGEN_P2_MSG3), &m3)
        .expect("honest keygen msg3");
    ((m1, m2, m3), share1, share2)
}

fn run_honest() -> Honest {
    let (keygen, mut share1, share2) = run_keygen();
    let (p1, m1) = sign_p1_start(&mut share1);
    let (p2, m2) = sign_p2_start(&share2, &m1).expect("honest sign msg1");
    let m2 = wired(&m2);
    let (p1, m3) = p1
        .on_msg2(&mut rng(seed::SIGN_P1_MSG2), &m2)
        .expect("honest sign msg2");
    let m3 = wired(&m3);
    let (p2, m4) = p2
        .on_msg3(&mut rng(seed::SIGN_P2_MSG3), &m3)
        .expect("honest sign msg3");
    let m4 = wired(&m4);
    let (sig1, m5) = p1.on_msg4(&m4).expect("honest sign msg4");
    let m5 = wired(&m5);
    let sig2 = p2.on_msg5(&m5).expect("honest sign msg5");
    assert_eq!(sig1, sig2, "both parties output the same signature");
    assert!(!share1.is_locked(), "an honest run does not lock the share");
    let refresh = run_refresh(&share1, &share2);
    let files = (encode_share1(&share1), encode_share2(&share2));
    let params = wired(&ring_pedersen().params_msg(&mut rng(seed::PARAMS_MSG), &PID1));
    Honest {
        params,
        keygen,
        sign: (m1, m2, m3, m4, m5),
        refresh,
        files,
        share1,
        share2,
    }
}

/// The new Paillier key of the harness's refresh: fixture pair 1.
fn refresh_key() -> PaillierSecretKey {
    let (p, q) = primes::PRIME_PAIRS[1];
    PaillierSecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .expect("fixture primes")
}

fn refresh_p1_start(share: &KeyShareP1) -> (refresh::p1::AwaitMsg2<'_>, refresh::Msg1) {
    let (state, msg) = refresh::p1::start(
        &mut rng(seed::REFRESH_P1_START),
        share,
        &ctx1(),
        refresh_key(),
    )
    .expect("honest refresh start");
    (state, wired(&msg))
}

fn refresh_p2_start<'s>(
    share: &'s KeyShareP2,
    msg: &refresh::Msg1,
) -> ecdsa2pc_core::Result<(refresh::p2::AwaitMsg3<'s>, refresh::Msg2)> {
    refresh::p2::start(&mut rng(seed::REFRESH_P2_START), share, &ctx2(), msg)
}

/// An honest refresh of the given shares: its messages 1–4. Deterministic.
fn run_refresh(
    share1: &KeyShareP1,
    share2: &KeyShareP2,
) -> (refresh::Msg1, refresh::Msg2, refresh::Msg3, refresh::Msg4) {
    let (p1, m1) = refresh_p1_start(share1);
    let (p2, m2) = refresh_p2_start(share2, &m1).expect("honest refresh msg1");
    let m2 = wired(&m2);
    let (p1, m3) = p1
        .on_msg2(&mut rng(seed::REFRESH_P1_MSG2), &m2)
        .expect("honest refresh msg2");
    let m3 = wired(&m3);
    let (_, m4) = p2
        .on_msg3(&mut rng(seed::REFRESH_P2_MSG3), &m3)
        .expect("honest refresh msg3");
    let m4 = wired(&m4);
    p1.on_msg4(&m4).expect("honest refresh msg4");
    (m1, m2, m3, m4)
}

fn encode_share1(share: &KeyShareP1) -> Vec<u8> {
    let mut out = vec![0u8; KeyShareP1::ENCODED_LEN];
    let n = share.encode(&mut out).expect("share encodes");
    assert_eq!(n, out.len(), "share encodes to its length");
    out
}

fn encode_share2(share: &KeyShareP2) -> Vec<u8> {
    let mut out = vec![0u8; KeyShareP2::ENCODED_LEN];
    let n = share.encode(&mut out).expect("share encodes");
    assert_eq!(n, out.len(), "share encodes to its length");
    out
}

/// BIP32 path parser: never panics; an accepted path prints as text that parses to the same
/// path, and its indexes rebuild it (what a sign request carries).
pub fn parse_derivation_path(data: &[u8]) -> Outcome {
    use ecdsa2pc_core::bip32::DerivationPath;
    let Ok(text) = core::str::from_utf8(data) else {
        return Outcome::Undecodable(Error::Malformed);
    };
    match DerivationPath::parse(text) {
        Err(_) => Outcome::Undecodable(Error::Malformed),
        Ok(path) => {
            let printed = path.to_string();
            assert!(
                DerivationPath::parse(&printed) == Ok(path),
                "a path does not survive its own printing"
            );
            assert!(
                DerivationPath::from_steps(path.steps()) == Ok(path),
                "a path's indexes do not rebuild it"
            );
            Outcome::Accepted
        }
    }
}

/// Share-file parser (party 0): never panics; an accepted file re-encodes to the same bytes.
pub fn decode_share_p1(data: &[u8]) -> Outcome {
    let _ = ecdsa2pc_core::role_of(data);
    match KeyShareP1::decode(data) {
        Err(e) => Outcome::Undecodable(e),
        Ok(share) => {
            assert!(
                encode_share1(&share) == data,
                "share file accepted in a non-canonical form"
            );
            Outcome::Accepted
        }
    }
}

/// Share-file parser (party 1): never panics; an accepted file re-encodes to the same bytes.
pub fn decode_share_p2(data: &[u8]) -> Outcome {
    match KeyShareP2::decode(data) {
        Err(e) => Outcome::Undecodable(e),
        Ok(share) => {
            assert!(
                encode_share2(&share) == data,
                "share file accepted in a non-canonical form"
            );
            Outcome::Accepted
        }
    }
}

/// The honest run, made once per process.
pub fn honest() -> &'static Honest {
    static HONEST: OnceLock<Honest> = OnceLock::new();
    HONEST.get_or_init(run_honest)
}

/// A valid state from `cell`: built once and cloned under `--cfg fuzzing`, rebuilt otherwise.
#[cfg(fuzzing)]
fn fresh<T: Clone + Send + Sync>(cell: &'static OnceLock<T>, make: impl FnOnce() -> T) -> T {
    cell.get_or_init(make).clone()
}

/// A valid state from `cell`: built once and cloned under `--cfg fuzzing`, rebuilt otherwise.
#[cfg(not(fuzzing))]
fn fresh<T>(_cell: &'static OnceLock<T>, make: impl FnOnce() -> T) -> T {
    make()
}

/// P1's share after the honest keygen, unused and unlocked.
fn share1() -> KeyShareP1 {
    #[cfg(fuzzing)]
    let share = honest().share1.clone();
    #[cfg(not(fuzzing))]
    let share = {
        let (_, share, _) = run_keygen();
        assert_eq!(
            share.fingerprint(),
            honest().share1.fingerprint(),
            "keygen is deterministic"
        );
        share
    };
    share
}

fn keygen_p1_state() -> keygen::p1::AwaitMsg2 {
    static CELL: OnceLock<keygen::p1::AwaitMsg2> = OnceLock::new();
    fresh(&CELL, || keygen_p1_start().0)
}

fn keygen_p2_state() -> keygen::p2::AwaitMsg3 {
    static CELL: OnceLock<keygen::p2::AwaitMsg3> = OnceLock::new();
    fresh(&CELL, || {
        keygen_p2_start(&honest().keygen.0)
            .expect("honest keygen msg1")
            .0
    })
}

fn sign_p2_state3() -> sign::p2::AwaitMsg3<'static> {
    static CELL: OnceLock<sign::p2::AwaitMsg3<'static>> = OnceLock::new();
    fresh(&CELL, || {
        let h = honest();
        sign_p2_start(&h.share2, &h.sign.0)
            .expect("honest sign msg1")
            .0
    })
}

fn sign_p2_state5() -> sign::p2::AwaitMsg5<'static> {
    static CELL: OnceLock<sign::p2::AwaitMsg5<'static>> = OnceLock::new();
    fresh(&CELL, || {
        let h = honest();
        let (state, _) = sign_p2_start(&h.share2, &h.sign.0).expect("honest sign msg1");
        state
            .on_msg3(&mut rng(seed::SIGN_P2_MSG3), &h.sign.2)
            .expect("honest sign msg3")
            .0
    })
}

macro_rules! decode_or_return {
    ($ty:ty, $data:expr) => {
        match <$ty>::decode($data) {
            Ok(msg) => msg,
            Err(e) => return Outcome::Undecodable(e),
        }
    };
}

/// P2 answers an arbitrary keygen Msg1.
pub fn keygen_p2_on_msg1(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(keygen::Msg1, data);
    outcome(keygen_p2_start(&msg))
}

/// P1, after its honest keygen Msg1, receives an arbitrary Msg2.
pub fn keygen_p1_on_msg2(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(keygen::Msg2, data);
    outcome(keygen_p1_state().on_msg2(&mut rng(seed::KEYGEN_P1_MSG2), &msg))
}

/// P2, after answering the honest keygen Msg1, receives an arbitrary Msg3.
pub fn keygen_p2_on_msg3(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(keygen::Msg3, data);
    outcome(keygen_p2_state().on_msg3(&mut rng(seed::KEYGEN_P2_MSG3), &msg))
}

/// P2, holding the honest share, answers an arbitrary sign Msg1.
pub fn sign_p2_on_msg1(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(sign::Msg1, data);
    outcome(sign_p2_start(&honest().share2, &msg))
}

/// P1, after its honest sign Msg1, receives an arbitrary Msg2.
pub fn sign_p1_on_msg2(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(sign::Msg2, data);
    let mut share = share1();
    let (state, _) = sign_p1_start(&mut share);
    outcome(state.on_msg2(&mut rng(seed::SIGN_P1_MSG2), &msg))
}

/// P2, after the honest sign Msg1, receives an arbitrary Msg3.
pub fn sign_p2_on_msg3(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(sign::Msg3, data);
    outcome(sign_p2_state3().on_msg3(&mut rng(seed::SIGN_P2_MSG3), &msg))
}

/// P1, after the honest sign Msg1–Msg3, receives an arbitrary Msg4. Also checks the abort
/// lock: a result that says the key may be under attack must have locked the share, and
/// nothing else may lock it.
pub fn sign_p1_on_msg4(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(sign::Msg4, data);
    let mut share = share1();
    let (state, _) = sign_p1_start(&mut share);
    let (state, _) = state
        .on_msg2(&mut rng(seed::SIGN_P1_MSG2), &honest().sign.1)
        .expect("honest sign msg2");
    let result = state.on_msg4(&msg);
    let must_lock = result.as_ref().err().is_some_and(Error::locks_key);
    assert_eq!(
        share.is_locked(),
        must_lock,
        "share lock after on_msg4 returned {:?}",
        result.as_ref().map(|_| ())
    );
    outcome(result)
}

/// Party 1's check of an arbitrary parameter message from party 0: the public checks, then
/// Π^prm. An accepted message must carry the parameters it returns.
pub fn params_p2_verify(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(ParamsMsg, data);
    let result = msg.verify(&PID1);
    if let Ok(params) = &result {
        assert_eq!(params, msg.params(), "verify returned other parameters");
    }
    outcome(result)
}

/// P2, after the honest sign Msg1–Msg4, receives an arbitrary Msg5.
pub fn sign_p2_on_msg5(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(sign::Msg5, data);
    outcome(sign_p2_state5().on_msg5(&msg))
}

/// P2, holding the honest share, answers an arbitrary refresh Msg1.
pub fn refresh_p2_on_msg1(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(refresh::Msg1, data);
    outcome(refresh_p2_start(&honest().share2, &msg))
}

/// P1, after its honest refresh Msg1, receives an arbitrary Msg2.
pub fn refresh_p1_on_msg2(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(refresh::Msg2, data);
    let share = &honest().share1;
    let (state, _) = refresh_p1_start(share);
    outcome(state.on_msg2(&mut rng(seed::REFRESH_P1_MSG2), &msg))
}

/// P2, after the honest refresh Msg1, receives an arbitrary Msg3.
pub fn refresh_p2_on_msg3(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(refresh::Msg3, data);
    let h = honest();
    let (state, _) = refresh_p2_start(&h.share2, &h.refresh.0).expect("honest refresh msg1");
    outcome(state.on_msg3(&mut rng(seed::REFRESH_P2_MSG3), &msg))
}

/// P1, after the honest refresh Msg1–Msg3, receives an arbitrary confirmation Msg4.
pub fn refresh_p1_on_msg4(data: &[u8]) -> Outcome {
    let msg = decode_or_return!(refresh::Msg4, data);
    let h = honest();
    let (state, _) = refresh_p1_start(&h.share1);
    let (state, _) = state
        .on_msg2(&mut rng(seed::REFRESH_P1_MSG2), &h.refresh.1)
        .expect("honest refresh msg2");
    outcome(state.on_msg4(&msg))
}

/// A fuzz target's entry point.
pub type Target = fn(&[u8]) -> Outcome;

/// Every target: its name (the file in `fuzz/fuzz_targets/`) and its entry point.
pub const TARGETS: [(&str, Target); 30] = [
    ("decode_params_msg", decode::<ParamsMsg>),
    ("params_p2_verify", params_p2_verify),
    ("decode_keygen_msg1", decode::<keygen::Msg1>),
    ("decode_keygen_msg2", decode::<keygen::Msg2>),
    ("decode_keygen_msg3", decode::<keygen::Msg3>),
    ("decode_sign_msg1", decode::<sign::Msg1>),
    ("decode_sign_msg2", decode::<sign::Msg2>),
    ("decode_sign_msg3", decode::<sign::Msg3>),
    ("decode_sign_msg4", decode::<sign::Msg4>),
    ("decode_sign_msg5", decode::<sign::Msg5>),
    ("keygen_p2_on_msg1", keygen_p2_on_msg1),
    ("keygen_p1_on_msg2", keygen_p1_on_msg2),
    ("keygen_p2_on_msg3", keygen_p2_on_msg3),
    ("sign_p2_on_msg1", sign_p2_on_msg1),
    ("sign_p1_on_msg2", sign_p1_on_msg2),
    ("sign_p2_on_msg3", sign_p2_on_msg3),
    ("sign_p1_on_msg4", sign_p1_on_msg4),
    ("sign_p2_on_msg5", sign_p2_on_msg5),
    ("decode_refresh_msg1", decode::<refresh::Msg1>),
    ("decode_refresh_msg2", decode::<refresh::Msg2>),
    ("decode_refresh_msg3", decode::<refresh::Msg3>),
    ("decode_refresh_msg4", decode::<refresh::Msg4>),
    ("decode_refresh_msg5", decode::<refresh::Msg5>),
    ("refresh_p2_on_msg1", refresh_p2_on_msg1),
    ("refresh_p1_on_msg2", refresh_p1_on_msg2),
    ("refresh_p2_on_msg3", refresh_p2_on_msg3),
    ("refresh_p1_on_msg4", refresh_p1_on_msg4),
    ("decode_share_p1", decode_share_p1),
    ("decode_share_p2", decode_share_p2),
    ("parse_derivation_path", parse_derivation_path),
];

/// The entry point of the target called `name`.
#[must_use]
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The honest message a target takes, encoded: its seed input.
#[must_use]
pub fn honest_input(name: &str) -> Option<Vec<u8>> {
    let h = honest();
    // Each target is named after the message it takes: `…_msgN` of keygen, sign or refresh,
    // or the share file of a party.
    let bytes = match name {
        "decode_params_msg" | "params_p2_verify" => encode(&h.params),
        "decode_keygen_msg1" | "keygen_p2_on_msg1" => encode(&h.keygen.0),
        "decode_keygen_msg2" | "keygen_p1_on_msg2" => encode(&h.keygen.1),
        "decode_keygen_msg3" | "keygen_p2_on_msg3" => encode(&h.keygen.2),
        "decode_sign_msg1" | "sign_p2_on_msg1" => encode(&h.sign.0),
        "decode_sign_msg2" | "sign_p1_on_msg2" => encode(&h.sign.1),
        "decode_sign_msg3" | "sign_p2_on_msg3" => encode(&h.sign.2),
        "decode_sign_msg4" | "sign_p1_on_msg4" => encode(&h.sign.3),
        "decode_sign_msg5" | "sign_p2_on_msg5" => encode(&h.sign.4),
        "decode_refresh_msg1" | "refresh_p2_on_msg1" => encode(&h.refresh.0),
        "decode_refresh_msg2" | "refresh_p1_on_msg2" => encode(&h.refresh.1),
        "decode_refresh_msg3" | "refresh_p2_on_msg3" => encode(&h.refresh.2),
        "decode_refresh_msg4" | "refresh_p1_on_msg4" => encode(&h.refresh.3),
        "decode_refresh_msg5" => encode(&refresh::Msg5),
        "decode_share_p1" => h.files.0.clone(),
        "decode_share_p2" => h.files.1.clone(),
        "parse_derivation_path" => b"m/44/0/7".to_vec(),
        _ => return None,
    };
    Some(bytes)
}

/// Runs target `name` on its honest input once, asserting that it is accepted: a fuzz target
/// calls this before fuzzing, so the (slow) valid states are built up front and are known valid.
pub fn warm_up(name: &str) {
    let run = target(name).unwrap_or_else(|| panic!("unknown fuzz target {name}"));
    let input = honest_input(name).unwrap_or_else(|| panic!("no honest input for {name}"));
    assert_eq!(
        run(&input),
        Outcome::Accepted,
        "{name}: honest input rejected"
    );
}
