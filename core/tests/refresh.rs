//! Refresh: the public key stays, shares and the Paillier key change, signing keeps working,
//! and every check of the refresh rejects its bad input. Also the share file format.

mod support;

use crypto_bigint::U384;
use ecdsa2pc_core::{
    Error, KeyShare, KeyShareP1, KeyShareP2, Message, Proof,
    internals::{
        commitment,
        session::Binding,
        tags,
        zk::ckey::{self, Challenges},
    },
    refresh,
    refresh::{Msg1, Msg2, Msg3},
    work::Sequential,
};
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

/// One honest refresh with fixture key `key` as the new Paillier key.
fn refresh(seed: u64, s1: &KeyShareP1, s2: &KeyShareP2, key: usize) -> (KeyShareP1, KeyShareP2) {
    let mut r1 = support::rng(seed);
    let mut r2 = support::rng(seed ^ 0x77);
    let (p1, m1) =
        refresh::p1::start(&mut r1, s1, &support::ctx1(), support::paillier(key)).unwrap();
    let (p2, m2) = refresh::p2::start(&mut r2, s2, &support::ctx2(), &support::wire(&m1)).unwrap();
    let (p1, m3) = p1.on_msg2(&mut r1, &support::wire(&m2)).unwrap();
    let (n2, m4) = p2.on_msg3(&mut r2, &support::wire(&m3)).unwrap();
    let n1 = p1.on_msg4(&support::wire(&m4)).unwrap();
    (n1, n2)
}

/// The messages of one refresh up to message 3, for tampering.
fn messages(s1: &KeyShareP1, s2: &KeyShareP2) -> (Msg1, Msg2, Msg3) {
    let mut r1 = support::rng(5);
    let mut r2 = support::rng(6);
    let (p1, m1) = refresh::p1::start(&mut r1, s1, &support::ctx1(), support::paillier(2)).unwrap();
    let (_, m2) = refresh::p2::start(&mut r2, s2, &support::ctx2(), &m1).unwrap();
    let (_, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    (m1, m2, m3)
}

fn p2_result(s2: &KeyShareP2, m1: &Msg1, m3: &Msg3) -> Result<KeyShareP2, Error> {
    let mut r2 = support::rng(6);
    let (p2, _) = refresh::p2::start(&mut r2, s2, &support::ctx2(), m1)?;
    p2.on_msg3(&mut r2, m3).map(|(s, _)| s)
}

#[test]
fn refresh_keeps_the_chain_code_and_every_child_key() {
    let (s1, s2) = support::keygen(44, 0);
    let path: ecdsa2pc_core::bip32::DerivationPath = "m/3/4".parse().unwrap();
    let before = s1.derive(&path).unwrap();
    let (n1, n2) = refresh(45, &s1, &s2, 1);
    assert!(s1.chain_code().is_some());
    assert_eq!(n1.chain_code(), s1.chain_code());
    assert_eq!(n2.chain_code(), s1.chain_code());
    assert_eq!(n1.derive(&path).unwrap(), before);
    assert_eq!(n2.derive(&path).unwrap(), before);
}

#[test]
fn refresh_keeps_the_public_key_and_signing_works_across_epochs() {
    let (s1, s2) = support::keygen(40, 0);
    let q = s1.public().q;
    let vk = VerifyingKey::from_affine(q).unwrap();
    let (mut a1, a2) = refresh(41, &s1, &s2, 1);
    assert_eq!(a1.public().q, q);
    assert_eq!(a2.public().q, q);
    assert_ne!(a1.public().q1, s1.public().q1, "the shares moved");
    assert_eq!(a1.epoch(), 1);
    assert_eq!(a1.fingerprint(), a2.fingerprint());
    a1.check().unwrap();
    a2.check().unwrap();
    let digest = [3u8; 32];
    let (sig, _) = support::sign(42, &mut a1, &a2, &digest).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
    // A second refresh from there, back to the first key: x1 may now exceed q (it stays < 2q).
    let (mut b1, b2) = refresh(43, &a1, &a2, 0);
    assert_eq!(b1.epoch(), 2);
    b1.check().unwrap();
    let (sig, _) = support::sign(44, &mut b1, &b2, &digest).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
    // The old epoch's shares cannot sign with the new ones.
    let mut old1 = KeyShareP1::decode(&encode1(&s1)).unwrap();
    assert_eq!(
        support::sign(45, &mut old1, &b2, &digest).unwrap_err(),
        Error::SessionMismatch
    );
}

#[test]
fn a_bad_refresh_is_refused_and_the_old_shares_still_sign() {
    let (mut s1, s2) = support::keygen(50, 0);
    let (m1, _, m3) = messages(&s1, &s2);
    assert!(
        p2_result(&s2, &m1, &m3).is_ok(),
        "the untampered run passes"
    );

    // c_key' for x1 + 1, with otherwise honest proofs (for x1).
    let mut r1 = support::rng(51);
    let new_key = support::paillier(2);
    let (p1, mut m1b) =
        refresh::p1::start(&mut r1, &s1, &support::ctx1(), new_key.clone()).unwrap();
    let one = crypto_bigint::U64::ONE;
    m1b.commitment.c_key = new_key.public_key().add_plain(&m1b.commitment.c_key, &one);
    let mut r2 = support::rng(52);
    let (p2, m2) = refresh::p2::start(&mut r2, &s2, &support::ctx2(), &m1b).unwrap();
    let (_, m3b) = p1.on_msg2(&mut r1, &m2).unwrap();
    assert_eq!(
        p2.on_msg3(&mut r2, &m3b).unwrap_err(),
        Error::ProofInvalid(Proof::PaillierPedersenEq)
    );

    // An equivocated coin-toss opening.
    let mut m3c = m3.clone();
    m3c.rho1 += k256::Scalar::ONE;
    assert_eq!(
        p2_result(&s2, &m1, &m3c).unwrap_err(),
        Error::CommitmentMismatch
    );

    // A proof answered for another N'.
    let (m1d, _, _) = messages(&s1, &s2);
    let mut m1e = m1d.clone();
    m1e.paillier = support::paillier(3).public_key().clone();
    m1e.commitment.c_key = m1e
        .paillier
        .validate(m1d.commitment.c_key.as_uint())
        .unwrap_or(m1d.commitment.c_key);
    assert!(matches!(
        p2_result(&s2, &m1e, &m3),
        Err(Error::ProofInvalid(_) | Error::CommitmentMismatch)
    ));

    // A smooth or wrong-size N' is refused at decode.
    let mut bytes = support::bytes(&m1);
    bytes[2 + 96] = 0; // top byte of N': 2040 bits
    assert_eq!(Msg1::decode(&bytes).unwrap_err(), Error::PaillierModulus);

    // Another share's fingerprint.
    let (_, other2) = support::keygen(53, 1);
    let mut r2 = support::rng(54);
    assert_eq!(
        refresh::p2::start(&mut r2, &other2, &support::ctx2(), &m1).unwrap_err(),
        Error::SessionMismatch
    );

    // The old shares still sign.
    let digest = [9u8; 32];
    let (sig, _) = support::sign(55, &mut s1, &s2, &digest).unwrap();
    VerifyingKey::from_affine(s1.public().q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
}

#[test]
fn a_locked_share_refuses_refresh() {
    let (s1, _) = support::keygen(60, 0);
    let mut bytes = encode1(&s1);
    // Set the lock flag (byte 15) and fix the checksum, as a persisted lock would be.
    bytes[15] = 1;
    reseal(&mut bytes);
    let locked = KeyShareP1::decode(&bytes).unwrap();
    assert!(locked.is_locked());
    let mut rng = support::rng(61);
    let err =
        refresh::p1::start(&mut rng, &locked, &support::ctx1(), support::paillier(1)).unwrap_err();
    assert_eq!(err, Error::KeyLocked);
}

fn encode1(s: &KeyShareP1) -> Vec<u8> {
    let mut out = vec![0u8; KeyShareP1::ENCODED_LEN];
    assert_eq!(s.encode(&mut out).unwrap(), out.len());
    out
}

fn encode2(s: &KeyShareP2) -> Vec<u8> {
    let mut out = vec![0u8; KeyShareP2::ENCODED_LEN];
    assert_eq!(s.encode(&mut out).unwrap(), out.len());
    out
}

fn reseal(bytes: &mut [u8]) {
    use sha2::Digest;
    let n = bytes.len() - 32;
    let sum = sha2::Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&sum);
}

#[test]
fn share_files_round_trip_and_refuse_damage() {
    let (s1, s2) = support::keygen(70, 0);
    let b1 = encode1(&s1);
    let b2 = encode2(&s2);
    let d1 = KeyShareP1::decode(&b1).unwrap();
    let d2 = KeyShareP2::decode(&b2).unwrap();
    assert_eq!(d1.fingerprint(), s1.fingerprint());
    assert_eq!(d2.fingerprint(), s2.fingerprint());
    assert_eq!(ecdsa2pc_core::role_of(&b1), Ok(ecdsa2pc_core::Party::P1));
    assert_eq!(ecdsa2pc_core::role_of(&b2), Ok(ecdsa2pc_core::Party::P2));

    // Truncated, extended, bit-flipped anywhere: refused.
    assert_eq!(
        KeyShareP1::decode(&b1[..b1.len() - 1]).unwrap_err(),
        Error::InvalidShare
    );
    assert_eq!(
        KeyShareP2::decode(&[b2.as_slice(), &[0]].concat()).unwrap_err(),
        Error::InvalidShare
    );
    for pos in (0..b1.len()).step_by(41) {
        let mut t = b1.clone();
        t[pos] ^= 0x10;
        assert!(KeyShareP1::decode(&t).is_err(), "flip at {pos} accepted");
    }
    // A P2 file read as P1's.
    assert_eq!(KeyShareP1::decode(&b2).unwrap_err(), Error::InvalidShare);

    // Consistent checksum but x2 swapped for another: x2·G ≠ Q2.
    let mut t = b2.clone();
    let x2_at = b2.len() - 32 - 768 - 32;
    t[x2_at + 31] ^= 1;
    reseal(&mut t);
    assert_eq!(KeyShareP2::decode(&t).unwrap_err(), Error::InvalidShare);
    // Consistent checksum but ring-Pedersen parameters that fail the public checks (g = h).
    let mut t = b2.clone();
    let h_at = b2.len() - 32 - 256;
    let h = t[h_at..h_at + 256].to_vec();
    t[h_at - 256..h_at].copy_from_slice(&h);
    reseal(&mut t);
    assert_eq!(KeyShareP2::decode(&t).unwrap_err(), Error::InvalidShare);
    // A version-1 file (made before the ring-Pedersen parameters): refused as such, by both
    // decoders and by the header read alone, so that callers can say keygen must run again.
    let mut t = b1.clone();
    t[4] = 1;
    reseal(&mut t);
    assert_eq!(KeyShareP1::decode(&t).unwrap_err(), Error::OldShareFormat);
    assert_eq!(
        ecdsa2pc_core::role_of(&t).unwrap_err(),
        Error::OldShareFormat
    );
    let mut t = b2.clone();
    t[4] = 1;
    reseal(&mut t);
    assert_eq!(KeyShareP2::decode(&t).unwrap_err(), Error::OldShareFormat);
    // A format this version has never known is not taken for an old one.
    let mut t = b1.clone();
    t[4] = 0;
    reseal(&mut t);
    assert_eq!(KeyShareP1::decode(&t).unwrap_err(), Error::InvalidShare);
    assert_eq!(ecdsa2pc_core::role_of(&t).unwrap_err(), Error::InvalidShare);
    // Consistent checksum but c_key from another key: Dec(c_key) ≠ x1.
    let (other1, _) = support::keygen(71, 0);
    let ob = encode1(&other1);
    let mut t = b1.clone();
    let c_at = 4 + 3 + 8 + 1 + 64 + 99;
    t[c_at..c_at + 512].copy_from_slice(&ob[c_at..c_at + 512]);
    reseal(&mut t);
    assert_eq!(KeyShareP1::decode(&t).unwrap_err(), Error::InvalidShare);
    // Consistent checksum but p replaced by a composite p' ≡ 3 (mod 4) for which every CRT
    // constant exists. Loading does not test primality (variable time on the secret primes):
    // Dec(c_key) = x1 refuses it.
    let p_at = b1.len() - 32 - 32 - 2 * 128;
    let p = crypto_bigint::U1024::from_be_slice(&b1[p_at..p_at + 128]);
    let q = crypto_bigint::U1024::from_be_slice(&b1[p_at + 128..p_at + 256]);
    let composite = (1..1000u64)
        .map(|k| p.wrapping_add(&crypto_bigint::U1024::from_u64(4 * k)))
        .find(|c| {
            !crypto_primes::is_prime(crypto_primes::Flavor::Any, c)
                && ecdsa2pc_core::PaillierSecretKey::from_primes(c, &q).is_ok()
        })
        .expect("a composite with a usable CRT near p");
    let mut t = b1.clone();
    t[p_at..p_at + 128].copy_from_slice(&composite.to_be_bytes());
    reseal(&mut t);
    assert_eq!(KeyShareP1::decode(&t).unwrap_err(), Error::InvalidShare);
}

/// A share file rewritten to epoch `epoch` (the epoch field follows magic, version, role and
/// curve), resealed and decoded: a share at the end of its epochs, as it would be loaded.
fn at_epoch<S: KeyShare>(bytes: &[u8], epoch: u64) -> S {
    let mut t = bytes.to_vec();
    t[7..15].copy_from_slice(&epoch.to_be_bytes());
    reseal(&mut t);
    S::decode(&t).unwrap()
}

#[test]
fn a_share_at_the_last_epoch_refuses_to_refresh_but_still_signs() {
    let (s1, s2) = support::keygen(72, 0);
    let last = ecdsa2pc_core::MAX_EPOCH;
    let (mut e1, e2): (KeyShareP1, KeyShareP2) =
        (at_epoch(&encode1(&s1), last), at_epoch(&encode2(&s2), last));
    assert_eq!(e1.epoch(), last);
    let mut r1 = support::rng(73);
    let err = refresh::p1::start(&mut r1, &e1, &support::ctx1(), support::paillier(1));
    assert_eq!(err.unwrap_err(), Error::EpochExhausted);
    // P2 refuses too, even when P1 names its share correctly.
    let (mut m1, _, _) = messages(&s1, &s2);
    m1.fingerprint = e2.fingerprint();
    let mut r2 = support::rng(74);
    let err = refresh::p2::start(&mut r2, &e2, &support::ctx2(), &m1);
    assert_eq!(err.unwrap_err(), Error::EpochExhausted);
    // One epoch earlier both still refresh, into the last epoch.
    let (b1, b2): (KeyShareP1, KeyShareP2) = (
        at_epoch(&encode1(&s1), last - 1),
        at_epoch(&encode2(&s2), last - 1),
    );
    let (n1, n2) = refresh(75, &b1, &b2, 1);
    assert_eq!((n1.epoch(), n2.epoch()), (last, last));
    // Signing does not depend on the epoch.
    let (sig1, sig2) = support::sign(76, &mut e1, &e2, &[9u8; 32]).unwrap();
    assert_eq!(sig1, sig2);
}

/// The equality challenge e in Msg2 is 54 bits (three 18-bit chunks): 2^54 − 1 decodes, 2^54
/// and wider are `Malformed`; the range challenge is 50 bits, likewise.
#[test]
fn msg2_challenges_wider_than_their_bits_are_malformed() {
    let m2 = Msg2 {
        nonce2: [3; 32],
        rho2: k256::Scalar::ONE,
        challenges: Challenges {
            key: [4; 16],
            e_eq: 0,
            e_range: 0,
        },
    };
    let honest = support::bytes(&m2);
    // After the header, nonce2, ρ2 and the seed; e_range follows.
    let at = 2 + 32 + 32 + 16;
    assert_eq!(honest.len(), at + 8 + 8);
    let with_e = |e: u64| [&honest[..at], &e.to_be_bytes(), &honest[at + 8..]].concat();
    assert_eq!(
        Msg2::decode(&with_e((1 << 54) - 1))
            .unwrap()
            .challenges
            .e_eq,
        (1 << 54) - 1
    );
    for e in [1 << 54, (1 << 55) - 1, u64::MAX] {
        assert_eq!(
            Msg2::decode(&with_e(e)).unwrap_err(),
            Error::Malformed,
            "{e:#x}"
        );
    }
    let with_range = |e: u64| [&honest[..at + 8], &e.to_be_bytes()].concat();
    assert_eq!(
        Msg2::decode(&with_range((1 << 50) - 1))
            .unwrap()
            .challenges
            .e_range,
        (1 << 50) - 1
    );
    for e in [1 << 50, u64::MAX] {
        assert_eq!(
            Msg2::decode(&with_range(e)).unwrap_err(),
            Error::Malformed,
            "{e:#x}"
        );
    }
}

/// Offset of x1 (48 bytes) in P1's share file, format 3: header (16), pids (64), Q, Q1, Q2
/// (99), c_key (512), chain code (32).
const X1_AT: usize = 16 + 64 + 99 + 512 + 32;
/// Offset of c_key in both parties' share files.
const C_KEY_AT: usize = 16 + 64 + 99;

/// P1's integer share x1, read from its share file.
fn x1_of(s1: &KeyShareP1) -> U384 {
    U384::from_be_slice(&encode1(s1)[X1_AT..X1_AT + 48])
}

/// x1 (< q, as keygen makes it) as a scalar.
fn scalar_of(x1: &U384) -> k256::Scalar {
    use k256::elliptic_curve::PrimeField;
    let bytes: [u8; 32] = x1.to_be_bytes()[16..].try_into().unwrap();
    Option::from(k256::Scalar::from_repr(bytes.into())).unwrap()
}

/// 2q, the bound P1's integer share now stays below.
fn two_q() -> U384 {
    let q: U384 = support::Q_ORDER.resize();
    q.wrapping_add(&q)
}

/// Refresh message 3 with one byte of a proof response changed: the equality proof's d_1 and
/// the range proof's d_1, each refused as its own proof.
#[test]
fn msg3_with_a_wrong_equality_or_range_response_is_refused() {
    let (s1, s2) = support::keygen(56, 0);
    let (m1, _, m3) = messages(&s1, &s2);
    let honest = support::bytes(&m3);
    // Header, ρ1 and its opening, then the equality proof: c̃_1..3, Com̃, R, opening, d_1..3.
    let eq_d1 = 2 + 32 + 32 + 3 * 512 + 256 + 33 + 32;
    let eq_len = 3 * (512 + 43 + 256) + 256 + 33 + 32 + 47;
    // The range proof after it: c̃_1..50, opening, d_1..50, f_1..50.
    let range_d1 = 2 + 32 + 32 + eq_len + 50 * 256 + 32;
    for (at, proof) in [
        (eq_d1 + 42, Proof::PaillierPedersenEq),
        (range_d1 + 39, Proof::Range),
    ] {
        let mut bytes = honest.clone();
        bytes[at] ^= 1;
        let bad = Msg3::decode(&bytes).unwrap();
        assert_eq!(
            p2_result(&s2, &m1, &bad).unwrap_err(),
            Error::ProofInvalid(proof),
            "{proof:?}"
        );
    }
}

/// A refresh P1 run with a chosen witness x for c_key' and chosen labels for its proofs'
/// commitments, everything else honest (ρ1's commitment, the key proof for N'), against P2.
fn cheating_refresh(
    s2: &KeyShareP2,
    x: &k256::Scalar,
    labels: (&'static str, &'static str),
) -> Result<KeyShareP2, Error> {
    let nonce1 = [0x31; 32];
    let fingerprint = s2.fingerprint();
    let prefix = support::prefix("refresh", &nonce1, &fingerprint);
    let at = |label| Binding {
        session: &prefix,
        prover: &support::PID1,
        label,
    };
    let rho1 = k256::Scalar::from(77u64);
    let open_rho1 = [5; 32];
    let mut t = support::bound_transcript(tags::REFRESH_RHO1, &at("refresh/rho1"));
    t.scalar("rho1", &rho1);
    let com_rho1 = commitment::seal(t, &open_rho1);
    let new_key = support::paillier(2);
    let bindings = ckey::Bindings {
        eq: at(labels.0),
        range: at(labels.1),
    };
    let mut rng = support::rng(90);
    let (prover, commitment) =
        ckey::Prover::commit_with(&mut rng, &new_key, x, &bindings, None, &Sequential);
    let m1 = Msg1 {
        nonce1,
        fingerprint,
        com_rho1,
        paillier: new_key.public_key().clone(),
        commitment,
    };
    let mut r2 = support::rng(91);
    let (p2, m2) = refresh::p2::start(&mut r2, s2, &support::ctx2(), &support::wire(&m1))?;
    let sid = support::sid(&prefix, &m2.nonce2);
    let key_binding = Binding {
        session: &sid,
        prover: &support::PID1,
        label: "refresh/paillier-key",
    };
    let responses = prover.respond(&new_key, &m2.challenges, &key_binding, &Sequential);
    let m3 = Msg3 {
        rho1,
        open_rho1,
        responses,
    };
    p2.on_msg3(&mut r2, &support::wire(&m3)).map(|(s, _)| s)
}

/// The proofs about c_key' are checked against the share's Q1 and under refresh's labels: the
/// control run (x1, refresh's labels) passes; a c_key' with its proofs made for another
/// discrete log (another Q1, as another share's x1 would give) fails the equality proof; the
/// same proofs committed under keygen's labels (keygen's proof replayed into refresh) do not
/// open.
#[test]
fn proofs_for_another_q1_or_under_keygen_labels_are_refused() {
    let (s1, s2) = support::keygen(57, 0);
    let x1 = x1_of(&s1);
    assert!(x1 < two_q());
    let x1 = scalar_of(&x1);
    let refresh_labels = ("refresh/eq", "refresh/range");
    assert!(cheating_refresh(&s2, &x1, refresh_labels).is_ok());
    let (other1, _) = support::keygen(58, 1);
    let other = scalar_of(&x1_of(&other1));
    assert_eq!(
        cheating_refresh(&s2, &other, refresh_labels).unwrap_err(),
        Error::ProofInvalid(Proof::PaillierPedersenEq)
    );
    assert_eq!(
        cheating_refresh(&s2, &(x1 + k256::Scalar::ONE), refresh_labels).unwrap_err(),
        Error::ProofInvalid(Proof::PaillierPedersenEq)
    );
    assert_eq!(
        cheating_refresh(&s2, &x1, ("keygen/eq", "keygen/range")).unwrap_err(),
        Error::CommitmentMismatch
    );
    assert_eq!(
        cheating_refresh(&s2, &x1, ("refresh/eq", "keygen/range")).unwrap_err(),
        Error::CommitmentMismatch
    );
}

/// P1's integer share stays below 2q over many refreshes (each reduces it mod q before adding
/// ρ < q), and the shares still sign.
#[test]
fn x1_stays_below_2q_over_five_refreshes_and_signing_verifies() {
    let (mut s1, mut s2) = support::keygen(59, 0);
    let vk = VerifyingKey::from_affine(s1.public().q).unwrap();
    for epoch in 1..=5u64 {
        let (n1, n2) = refresh(600 + epoch, &s1, &s2, usize::try_from(epoch % 3).unwrap());
        (s1, s2) = (n1, n2);
        assert_eq!(s1.epoch(), epoch);
        assert!(x1_of(&s1) < two_q(), "epoch {epoch}");
        s1.check().unwrap();
    }
    let digest = [0x5a; 32];
    let (sig, _) = support::sign(610, &mut s1, &s2, &digest).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
}

/// A share of an older release whose x1 grew past q (refresh added ρ over the integers):
/// simulated by x1 + q with c_key ⊕ q in both files. It loads (Dec(c_key) = x1), signs,
/// and refreshes into x1 < 2q.
#[test]
fn an_older_share_with_x1_above_q_loads_signs_and_refreshes() {
    let (s1, s2) = support::keygen(62, 0);
    let q: U384 = support::Q_ORDER.resize();
    let grown = x1_of(&s1).wrapping_add(&q).wrapping_add(&q);
    let key = support::paillier(0);
    let mut b1 = encode1(&s1);
    let mut b2 = encode2(&s2);
    let old = ecdsa2pc_core::ModNN::from_be_slice(&b1[C_KEY_AT..C_KEY_AT + 512]);
    let c_key = key.public_key().add_plain(
        &key.public_key().validate(&old).unwrap(),
        &q.wrapping_add(&q),
    );
    let c_key_bytes = c_key.as_uint().to_be_bytes();
    b1[X1_AT..X1_AT + 48].copy_from_slice(&grown.to_be_bytes());
    b1[C_KEY_AT..C_KEY_AT + 512].copy_from_slice(&c_key_bytes);
    b2[C_KEY_AT..C_KEY_AT + 512].copy_from_slice(&c_key_bytes);
    reseal(&mut b1);
    reseal(&mut b2);
    let (mut o1, o2) = (
        KeyShareP1::decode(&b1).unwrap(),
        KeyShareP2::decode(&b2).unwrap(),
    );
    assert!(x1_of(&o1) >= two_q());
    let vk = VerifyingKey::from_affine(o1.public().q).unwrap();
    let digest = [0x6b; 32];
    let (sig, _) = support::sign(63, &mut o1, &o2, &digest).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
    let (mut n1, n2) = refresh(64, &o1, &o2, 1);
    assert!(x1_of(&n1) < two_q());
    n1.check().unwrap();
    let (sig, _) = support::sign(65, &mut n1, &n2, &digest).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
}

/// Msg1's Pedersen commitment to x1 mod q must lie in the Pedersen subgroup: 0, 1, a
/// non-residue, p and values above it are `Malformed` at decode, before P2 does anything.
#[test]
fn msg1_pedersen_commitment_outside_the_subgroup_is_malformed() {
    use crypto_bigint::U2048;
    use ecdsa2pc_core::internals::pedersen;
    let (s1, _) = support::keygen(90, 0);
    let (_, m1) = refresh::p1::start(
        &mut support::rng(91),
        &s1,
        &support::ctx1(),
        support::paillier(1),
    )
    .unwrap();
    let honest = support::bytes(&m1);
    assert!(Msg1::decode(&honest).is_ok());
    // After the header, nonce1, the fingerprint, Com(ρ1), N' and c_key'.
    let at = 2 + 32 + 32 + 32 + 256 + 512;
    let p = pedersen::P;
    let cases: [(&str, U2048); 5] = [
        ("0", U2048::ZERO),
        ("1", U2048::ONE),
        ("p - 1 (a non-residue)", p.wrapping_sub(&U2048::ONE)),
        ("p", p),
        ("2^2048 - 1", U2048::MAX),
    ];
    for (name, v) in cases {
        let bytes = [&honest[..at], &v.to_be_bytes()[..], &honest[at + 256..]].concat();
        assert_eq!(
            Msg1::decode(&bytes).unwrap_err(),
            Error::Malformed,
            "Pedersen commitment = {name}"
        );
    }
}
