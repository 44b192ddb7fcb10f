//! Robustness suite: no byte string crashes a decoder or a round (docs/SECURITY.md C1, F14–F16).
//!
//! For every message of keygen and signing, starting from an honest encoding: single-bit flips,
//! truncation, extension, wrong version and type bytes, and random bytes. Decoding must return
//! `Ok` or `Err` without panicking; whatever decodes is fed to the receiving round (and, where
//! that round cannot judge the field, on to the round that can), and the run must end in an
//! error. A panic anywhere fails the test.
//!
//! Sampling: every bit of the small signing messages is flipped. The big keygen messages are
//! sampled (header bits, the first and last byte of every field, every 97th byte), since each
//! decoded keygen message costs a verification of up to 0.2 s.

mod support;

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use ecdsa2pc_core::{
    Error, KeyShare, KeyShareP1, Message, MsgType, Proof, internals::wire::VERSION, keygen, sign,
};
use rand_core::Rng;

const KEYGEN_SEED: u64 = 0x0b0e_0001;
const SIGN_SEED: u64 = 0x0b0e_0002;
const DIGEST: [u8; 32] = [0x5a; 32];

// ---------------------------------------------------------------------------------------------
// Shared honest transcripts
// ---------------------------------------------------------------------------------------------

fn keys() -> &'static support::KeygenRun {
    static RUN: OnceLock<support::KeygenRun> = OnceLock::new();
    RUN.get_or_init(|| support::keygen_run(KEYGEN_SEED, 0))
}

/// A P1 share that never gets locked (the rounds fed through it fail before decryption).
static P1: Mutex<Option<KeyShareP1>> = Mutex::new(None);

fn with_p1<T>(f: impl FnOnce(&mut KeyShareP1) -> T) -> T {
    let mut guard = P1.lock().unwrap_or_else(|p| p.into_inner());
    let s1 = guard.get_or_insert_with(|| support::p1_share(KEYGEN_SEED, 0));
    let out = f(s1);
    assert!(!s1.is_locked(), "the shared P1 share must stay unlocked");
    out
}

struct SignMsgs {
    m1: sign::Msg1,
    m2: sign::Msg2,
    m3: sign::Msg3,
    m4: sign::Msg4,
    m5: sign::Msg5,
}

/// The messages of one honest signing session (replayed identically by the same seeds).
fn sign_msgs() -> &'static SignMsgs {
    static MSGS: OnceLock<SignMsgs> = OnceLock::new();
    MSGS.get_or_init(|| {
        with_p1(|s1| {
            let run = support::sign_to_msg4(SIGN_SEED, s1, &keys().s2, &DIGEST);
            let (m1, m2, m3, m4) = (run.m1, run.m2, run.m3, run.m4);
            let (_, m5) = run.p1.on_msg4(&m4).unwrap();
            SignMsgs {
                m1,
                m2,
                m3,
                m4,
                m5: support::wire(&m5),
            }
        })
    })
}

// ---------------------------------------------------------------------------------------------
// The mutation campaign
// ---------------------------------------------------------------------------------------------

/// What happened to the mutants of one message.
#[derive(Default, Debug)]
struct Tally {
    decode_errors: usize,
    round_errors: usize,
    /// Bits whose flip decoded and was then accepted by every round: must stay empty.
    accepted: Vec<usize>,
}

/// Flips each bit in `bits`, decodes, and feeds what decodes to `feed`, which runs the
/// receiving side as far as it goes and returns `Ok` only if the mutant was accepted.
fn flip_campaign<M: Message>(
    honest: &[u8],
    bits: impl IntoIterator<Item = usize>,
    mut feed: impl FnMut(&M, usize) -> Result<(), Error>,
) -> Tally {
    let mut tally = Tally::default();
    for bit in bits {
        let mutant = support::flipped(honest, bit);
        match M::decode(&mutant) {
            Err(e) => {
                if bit < 16 {
                    assert_eq!(e, Error::Malformed, "header bit {bit}");
                }
                tally.decode_errors += 1;
            }
            Ok(msg) => {
                assert!(bit >= 16, "a header flip decoded (bit {bit})");
                match feed(&msg, bit) {
                    Err(_) => tally.round_errors += 1,
                    Ok(()) => tally.accepted.push(bit),
                }
            }
        }
    }
    tally
}

/// Bit positions: all header bits, bit 0 and bit 7 of the first and last byte of each field,
/// and one bit (rotating) of every `stride`-th byte in each `[start, end)` region.
fn sample(fields: &[usize], regions: &[(usize, usize, usize)]) -> BTreeSet<usize> {
    let mut bits: BTreeSet<usize> = (0..16).collect();
    for w in fields.windows(2) {
        for byte in [w[0], w[1] - 1] {
            bits.insert(byte * 8);
            bits.insert(byte * 8 + 7);
        }
    }
    for &(start, end, stride) in regions {
        for byte in (start..end).step_by(stride) {
            bits.insert(byte * 8 + byte % 8);
        }
    }
    bits
}

/// The index (for `support::flipped`) of bit `k` of the big-endian integer field at `start`.
fn value_bit(start: usize, width: usize, k: usize) -> usize {
    (start + width - 1 - k / 8) * 8 + k % 8
}

/// Length, version and type checks common to every message.
fn framing_checks<M: Message + core::fmt::Debug>(honest: &[u8]) {
    assert_eq!(honest.len(), M::LEN);
    let malformed = |bytes: &[u8], what: &str| {
        assert_eq!(M::decode(bytes).unwrap_err(), Error::Malformed, "{what}");
    };
    malformed(&[], "empty");
    malformed(&honest[..1], "one byte");
    malformed(&honest[..M::LEN - 1], "one byte short");
    malformed(&[honest, &[0]].concat(), "one byte long");
    malformed(&[honest, honest].concat(), "doubled");
    for v in [0u8, VERSION + 1, 0x7f, 0xff] {
        let mut b = honest.to_vec();
        b[0] = v;
        malformed(&b, &format!("version {v:#x}"));
    }
    for t in 0..=255u8 {
        if t != M::TYPE as u8 {
            let mut b = honest.to_vec();
            b[1] = t;
            malformed(&b, &format!("type {t:#x}"));
        }
    }
    M::decode(honest).expect("the honest encoding decodes");
}

/// Random bytes of the right length: with a random header (refused), and with the right header
/// (decoded or not, then fed).
fn random_campaign<M: Message + core::fmt::Debug>(
    seed: u64,
    count: usize,
    mut feed: impl FnMut(&M) -> bool,
) {
    let mut rng = support::rng(seed);
    for _ in 0..count {
        let mut bytes = vec![0u8; M::LEN];
        rng.fill_bytes(&mut bytes);
        if bytes[..2] != [VERSION, M::TYPE as u8] {
            assert_eq!(M::decode(&bytes).unwrap_err(), Error::Malformed);
        }
        bytes[0] = VERSION;
        bytes[1] = M::TYPE as u8;
        if let Ok(msg) = M::decode(&bytes) {
            assert!(!feed(&msg), "random bytes were accepted");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keygen
// ---------------------------------------------------------------------------------------------

/// P2 fed a keygen Msg1; P1 answers (honestly) as it did in the shared run. True if accepted.
fn keygen_p2_accepts(m1: &keygen::Msg1) -> Result<(), Error> {
    let mut r2 = support::rng(KEYGEN_SEED ^ 0xffff);
    let (p2, _) = keygen::p2::start(&mut r2, &support::ctx2(), m1, support::rp().params())?;
    p2.on_msg3(&mut r2, &keys().m3).map(|_| ())
}

#[test]
fn keygen_msg1_framing_and_bit_flips() {
    let honest = support::bytes(&keys().m1);
    framing_checks::<keygen::Msg1>(&honest);
    let fields = [2, 34, 66, 322, 834, 1090, 1122, 1154];
    let bits = sample(&fields, &[(2, 1154, 97)]);
    let tally = flip_campaign::<keygen::Msg1>(&honest, bits, |m, _| keygen_p2_accepts(m));
    assert!(tally.accepted.is_empty(), "{tally:?}");
    assert!(
        tally.round_errors > 0 && tally.decode_errors > 0,
        "{tally:?}"
    );
}

#[test]
fn keygen_msg1_random_bytes() {
    random_campaign::<keygen::Msg1>(1, 8, |m| keygen_p2_accepts(m).is_ok());
}

/// P1 fed a keygen Msg2. P1 cannot judge P2's challenges (the seed, e_eq, e_range are P2's to
/// choose): a flip there is answered, and P2 — holding the real challenges — refuses the answer.
fn keygen_p1_accepts(m2: &keygen::Msg2) -> Result<(), Error> {
    let (p1, _) = keygen::p1::start(
        &mut support::rng(KEYGEN_SEED),
        &support::ctx1(),
        support::paillier(0),
        support::rp().params(),
    )
    .unwrap();
    let (_, m3) = p1.on_msg2(&mut support::rng(KEYGEN_SEED + 7), m2)?;
    let mut r2 = support::rng(KEYGEN_SEED ^ 0xffff);
    let (p2, _) = keygen::p2::start(
        &mut r2,
        &support::ctx2(),
        &keys().m1,
        support::rp().params(),
    )
    .unwrap();
    p2.on_msg3(&mut r2, &support::wire(&m3)).map(|_| ())
}

#[test]
fn keygen_msg2_framing_and_bit_flips() {
    let honest = support::bytes(&keys().m2);
    framing_checks::<keygen::Msg2>(&honest);
    // Each decoded Msg2 costs a fresh P1 (0.6 s): one bit in the middle of each field.
    let mut bits: BTreeSet<usize> = (0..16).collect();
    for byte in [20, 50, 80, 115, 140, 155, 163] {
        bits.insert(byte * 8 + 1);
    }
    let tally = flip_campaign::<keygen::Msg2>(&honest, bits, |m, _| keygen_p1_accepts(m));
    assert!(tally.accepted.is_empty(), "{tally:?}");
    // The flips of the nonce, z, the seed and both challenges decode (a flipped point may
    // fall off the curve) and are refused by a round.
    assert!(tally.round_errors >= 5, "{tally:?}");
    // Flips in the challenge fields' zero high bits are refused at decode.
    for (start, width) in [(148usize, 54usize), (156, 50)] {
        let mutant = support::flipped(&honest, value_bit(start, 8, width));
        assert_eq!(
            keygen::Msg2::decode(&mutant).unwrap_err(),
            Error::Malformed,
            "bit {width} of the challenge"
        );
    }
}

#[test]
fn keygen_msg2_random_bytes() {
    // Random Q2 bytes are almost never a point: decode refuses, P1 is never built.
    random_campaign::<keygen::Msg2>(2, 64, |m| keygen_p1_accepts(m).is_ok());
}

/// P2 fed a keygen Msg3 in the shared run's session.
fn keygen_p2_accepts_msg3(m3: &keygen::Msg3) -> Result<(), Error> {
    let mut r2 = support::rng(KEYGEN_SEED ^ 0xffff);
    let (p2, _) = keygen::p2::start(
        &mut r2,
        &support::ctx2(),
        &keys().m1,
        support::rp().params(),
    )
    .unwrap();
    p2.on_msg3(&mut r2, m3).map(|_| ())
}

/// Field boundaries of keygen Msg3 (see adversarial.rs for the layout).
const K3_FIELDS: [usize; 18] = [
    2, 35, 67, 99, 132, 164, 1700, 1956, 1989, 2021, 2150, 2918, 2965, 15765, 15797, 17797, 19847,
    20615,
];
const K3_RANGE: usize = 2965;
const K3_KEY: usize = 19847;

fn keygen_msg3_flips(regions: &[(usize, usize, usize)], with_fields: bool) {
    let honest = support::bytes(&keys().m3);
    let fields: &[usize] = if with_fields { &K3_FIELDS } else { &[] };
    let bits = sample(fields, regions);
    let tally = flip_campaign::<keygen::Msg3>(&honest, bits, |m, _| keygen_p2_accepts_msg3(m));
    assert!(tally.accepted.is_empty(), "{tally:?}");
}

#[test]
fn keygen_msg3_framing_and_bit_flips_before_the_range_proof() {
    let honest = support::bytes(&keys().m3);
    framing_checks::<keygen::Msg3>(&honest);
    keygen_msg3_flips(&[(2, K3_RANGE, 97), (K3_KEY, keygen::Msg3::LEN, 97)], true);
}

#[test]
fn keygen_msg3_bit_flips_in_the_range_proof() {
    // The range response is 50 copies of one layout, and each of its mutants costs a full
    // verification up to the range proof (~0.2 s): every 8th position of the 97-byte stride
    // (its field boundaries are in the test above).
    keygen_msg3_flips(&[(K3_RANGE + 50, K3_KEY, 97 * 8)], false);
}

#[test]
fn keygen_msg3_random_bytes() {
    random_campaign::<keygen::Msg3>(3, 32, |m| keygen_p2_accepts_msg3(m).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

/// P2 fed a sign Msg1, then (if it answers) P1's honest Msg3 of the session.
fn sign_p2_accepts_msg1(m1: &sign::Msg1) -> Result<(), Error> {
    let s2 = &keys().s2;
    let mut r2 = support::rng(SIGN_SEED ^ 0xabcd);
    let (p2, _) = sign::p2::start(&mut r2, s2, &support::ctx2(), &DIGEST, m1)?;
    p2.on_msg3(&mut r2, &sign_msgs().m3).map(|_| ())
}

#[test]
fn sign_msg1_every_bit_flip() {
    let honest = support::bytes(&sign_msgs().m1);
    framing_checks::<sign::Msg1>(&honest);
    let tally =
        flip_campaign::<sign::Msg1>(&honest, 0..honest.len() * 8, |m, _| sign_p2_accepts_msg1(m));
    assert!(tally.accepted.is_empty(), "{tally:?}");
    // Msg1 has no field that can be checked alone: every body flip decodes.
    assert_eq!(tally.round_errors, (honest.len() - 2) * 8, "{tally:?}");
    random_campaign::<sign::Msg1>(4, 256, |m| sign_p2_accepts_msg1(m).is_ok());
}

/// P1 fed a sign Msg2 (P1 refuses before decrypting anything, so its share is not locked).
fn sign_p1_accepts_msg2(m2: &sign::Msg2) -> Result<(), Error> {
    with_p1(|s1| {
        let (p1, _) = sign::p1::start(
            &mut support::rng(SIGN_SEED),
            s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        p1.on_msg2(&mut support::rng(SIGN_SEED + 9), m2).map(|_| ())
    })
}

#[test]
fn sign_msg2_every_bit_flip() {
    let honest = support::bytes(&sign_msgs().m2);
    framing_checks::<sign::Msg2>(&honest);
    let tally =
        flip_campaign::<sign::Msg2>(&honest, 0..honest.len() * 8, |m, _| sign_p1_accepts_msg2(m));
    assert!(tally.accepted.is_empty(), "{tally:?}");
    random_campaign::<sign::Msg2>(5, 256, |m| sign_p1_accepts_msg2(m).is_ok());
}

/// P2 fed a sign Msg3 in the session of `sign_msgs`.
fn sign_p2_accepts_msg3(m3: &sign::Msg3) -> Result<(), Error> {
    let s2 = &keys().s2;
    let mut r2 = support::rng(SIGN_SEED ^ 0xabcd);
    let (p2, _) = sign::p2::start(&mut r2, s2, &support::ctx2(), &DIGEST, &sign_msgs().m1)?;
    p2.on_msg3(&mut r2, m3).map(|_| ())
}

#[test]
fn sign_msg3_every_bit_flip() {
    let honest = support::bytes(&sign_msgs().m3);
    framing_checks::<sign::Msg3>(&honest);
    let tally =
        flip_campaign::<sign::Msg3>(&honest, 0..honest.len() * 8, |m, _| sign_p2_accepts_msg3(m));
    assert!(tally.accepted.is_empty(), "{tally:?}");
    random_campaign::<sign::Msg3>(6, 256, |m| sign_p2_accepts_msg3(m).is_ok());
}

#[test]
fn sign_msg2_and_msg3_share_a_length_but_not_a_type() {
    let m2 = support::bytes(&sign_msgs().m2);
    let m3 = support::bytes(&sign_msgs().m3);
    assert_eq!(m2.len(), m3.len());
    assert_eq!(sign::Msg3::decode(&m2).unwrap_err(), Error::Malformed);
    assert_eq!(sign::Msg2::decode(&m3).unwrap_err(), Error::Malformed);
    assert_eq!(MsgType::Sign2 as u8 + 1, MsgType::Sign3 as u8);
}

#[test]
fn sign_msg4_every_bit_flip() {
    // Msg4 is c and π_c3. Decoding checks the frame and the two points (G', Q2'); P1's round
    // then checks c (InvalidCiphertext) and the proof (ProofInvalid(SignCiphertext)) before it
    // decrypts anything, and neither locks. Every flip that decodes goes to the proof's
    // verifier with P1's statement and trapdoors: every bit of the fields the challenge or the
    // EC relations read (fast refusals), every 8th bit of z3, u and v, whose refusals need the
    // Pedersen or Paillier relations.
    use ecdsa2pc_core::internals::{
        session::Binding,
        zk::sign_ciphertext::{Statement, Trapdoors},
    };
    let msgs = sign_msgs();
    let honest = support::bytes(&msgs.m4);
    framing_checks::<sign::Msg4>(&honest);
    let k = keys();
    let s2 = &k.s2;
    let key = s2.paillier_key();
    let c_prime = key.add_plain(&k.m1.commitment.c_key, &support::KEY_SHIFT);
    let m = <k256::Scalar as k256::elliptic_curve::ops::Reduce<k256::FieldBytes>>::reduce(
        &k256::FieldBytes::from(DIGEST),
    );
    let fingerprint = s2.fingerprint();
    let sid = support::sign_sid(&msgs.m1, &msgs.m2.nonce2);
    let binding = Binding {
        session: &sid,
        prover: &support::PID2,
        label: "sign/c",
    };
    let sk = support::paillier(0);
    // P1 knows the plaintext of C' (x1 + q·2^64); the test reads it by decrypting.
    let c_prime_plain: crypto_bigint::U512 = sk.decrypt(&c_prime).resize();
    let verdict = |m4: &sign::Msg4| -> Result<(), Error> {
        let c = key.validate(&m4.c)?;
        let st = Statement {
            key,
            c_prime: &c_prime,
            c: &c,
            q2: &s2.public().q2,
            r2: &msgs.m2.r2,
            m: &m,
            r: &msgs.m5.r,
            params: s2.ring_pedersen_params(),
            fingerprint: &fingerprint,
            epoch: s2.epoch(),
            verifier: &support::PID1,
        };
        m4.proof.verify_with_trapdoors(
            &st,
            &binding,
            &Trapdoors {
                ring: support::rp(),
                tables: None,
                paillier: &sk,
                c_prime_plain: &c_prime_plain,
            },
        )
    };
    assert_eq!(
        verdict(&msgs.m4),
        Ok(()),
        "control: the honest message verifies"
    );
    // z3 starts after c, W, A, G', Q2', C_α, z1, z2.
    let slow_from = 2 + 512 + 6 * 256 + 2 * 33 + 512 + 2 * 57;
    let (mut undecodable, mut invalid_c, mut invalid_proof) = (0, 0, 0);
    for bit in 16..honest.len() * 8 {
        if bit / 8 >= slow_from && bit % 8 != (bit / 8) % 8 {
            continue;
        }
        let Ok(m4) = sign::Msg4::decode(&support::flipped(&honest, bit)) else {
            undecodable += 1;
            continue;
        };
        match verdict(&m4) {
            Err(Error::InvalidCiphertext) => invalid_c += 1,
            Err(Error::ProofInvalid(Proof::SignCiphertext)) => invalid_proof += 1,
            other => panic!("bit {bit}: {other:?}"),
        }
    }
    assert!(undecodable > 0 && invalid_c > 0 && invalid_proof > 0);

    // The real round, on a few flips (c's top bit, a bit of W_1, of z1, of v): each refused
    // without decrypting anything or locking the share.
    for bit in [
        value_bit(2, 512, 4095),
        514 * 8 + 3,
        2628 * 8 + 9,
        (3970 - 1) * 8,
    ] {
        let e = with_p1(|share| {
            let run = support::sign_to_msg4(SIGN_SEED, share, &keys().s2, &DIGEST);
            assert_eq!(run.m4, msgs.m4, "the session replays");
            let m4 = sign::Msg4::decode(&support::flipped(&honest, bit)).unwrap();
            run.p1.on_msg4(&m4).expect_err("a flipped Msg4 is refused")
        });
        assert!(
            matches!(
                e,
                Error::InvalidCiphertext | Error::ProofInvalid(Proof::SignCiphertext)
            ),
            "bit {bit}: {e:?}"
        );
    }
}

/// P2 at Msg5 in the session of `sign_msgs` (replayed; P1 stops before decrypting).
fn sign_p2_accepts_msg5(m5: &sign::Msg5) -> Result<(), Error> {
    let m4 = &sign_msgs().m4;
    with_p1(|s1| {
        let run = support::sign_to_msg4(SIGN_SEED, s1, &keys().s2, &DIGEST);
        assert_eq!(&run.m4, m4, "the session replays");
        run.p2.on_msg5(m5).map(|_| ())
    })
}

#[test]
fn sign_msg5_every_bit_flip() {
    let honest = support::bytes(&sign_msgs().m5);
    framing_checks::<sign::Msg5>(&honest);
    sign_p2_accepts_msg5(&sign::Msg5::decode(&honest).unwrap()).expect("control");
    // Every bit is flipped and decoded. A decoded mutant needs a fresh P2 at Msg5 (~30 ms for
    // its homomorphic step): one rotating bit per byte is fed to the round.
    let mut fed = 0;
    for bit in 16..honest.len() * 8 {
        let mutant = support::flipped(&honest, bit);
        let Ok(m5) = sign::Msg5::decode(&mutant) else {
            continue;
        };
        if bit % 8 == (bit / 8) % 8 {
            assert_eq!(
                sign_p2_accepts_msg5(&m5).unwrap_err(),
                Error::SignatureInvalid,
                "bit {bit}"
            );
            fed += 1;
        }
    }
    assert!(fed >= 60, "{fed}");
    random_campaign::<sign::Msg5>(7, 16, |m| sign_p2_accepts_msg5(m).is_ok());
}
