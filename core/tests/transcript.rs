//! Transcript injectivity (docs/SECURITY.md A5, A7, F9, F10).
//!
//! Property tests: the Fiat–Shamir transcript is exactly the documented typed, length-prefixed
//! encoding, that encoding decodes back to the items it came from (so it is injective), and the
//! shapes that broke real implementations — re-split concatenations, `a$|b` vs `a|$b`, one
//! payload under different kinds, label/data boundaries, tag/item boundaries — hash apart.
//! Table tests: every statement and binding field of a proof is covered by its challenge.

mod support;

use crypto_bigint::{U64, U256};
use ecdsa2pc_core::internals::curve;
use ecdsa2pc_core::{
    Error, Proof,
    internals::{
        session::Binding,
        transcript::Transcript,
        zk::{dlog::DlogProof, paillier_key::PaillierKeyProof},
    },
};
use k256::{AffinePoint, ProjectivePoint, Scalar, elliptic_curve::sec1::ToSec1Point};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// Labels are `&'static str`: tests slice them out of this one.
const LABELS: &str = "abcdefghijklmnopqrstuvwxyz0123456789$|/-_";
/// Tags are `&'static [u8]`: likewise.
const TAGS: &[u8] = b"ecdsa2pc/v1/test-tag/abcdefghijklmnopqrstuvwxyz$|";

fn label(len: usize) -> &'static str {
    &LABELS[..len.min(LABELS.len())]
}

fn tag(len: usize) -> &'static [u8] {
    &TAGS[..len.min(TAGS.len())]
}

// ---------------------------------------------------------------------------------------------
// A model of the encoding, and a decoder for it
// ---------------------------------------------------------------------------------------------

/// One absorbed item, as the caller sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Bytes(&'static str, Vec<u8>),
    /// A point k·G (k ≠ 0).
    Point(&'static str, u64),
    /// A canonical scalar.
    Scalar(&'static str, [u8; 32]),
    /// An integer at the width of `U256`.
    Integer(&'static str, [u8; 32]),
    /// A u64 (absorbed as an 8-byte integer, the same value as a one-limb `Uint`).
    U64(&'static str, u64),
}

const KIND_TAG: u8 = 1;
const KIND_BYTES: u8 = 2;
const KIND_POINT: u8 = 3;
const KIND_SCALAR: u8 = 4;
const KIND_INTEGER: u8 = 5;

fn point(k: u64) -> AffinePoint {
    curve::mul_g(&Scalar::from(k))
}

fn scalar(bytes: &[u8; 32]) -> Scalar {
    curve::decode_scalar(bytes).expect("test scalars are canonical")
}

impl Item {
    fn kind_and_data(&self) -> (u8, &'static str, Vec<u8>) {
        match self {
            Self::Bytes(l, d) => (KIND_BYTES, *l, d.clone()),
            Self::Point(l, k) => (
                KIND_POINT,
                *l,
                point(*k).to_sec1_point(true).as_bytes().to_vec(),
            ),
            Self::Scalar(l, s) => (KIND_SCALAR, *l, s.to_vec()),
            Self::Integer(l, v) => (KIND_INTEGER, *l, v.to_vec()),
            Self::U64(l, v) => (KIND_INTEGER, *l, v.to_be_bytes().to_vec()),
        }
    }

    fn absorb(&self, t: &mut Transcript) {
        match self {
            Self::Bytes(l, d) => t.bytes(l, d),
            Self::Point(l, k) => t.point(l, &point(*k)),
            Self::Scalar(l, s) => t.scalar(l, &scalar(s)),
            Self::Integer(l, v) => t.integer(l, &U256::from_be_slice(v)),
            Self::U64(l, v) => t.u64(l, *v),
        };
    }
}

/// `kind ‖ u64 len(label) ‖ label ‖ u64 len(data) ‖ data`: the encoding transcript.rs documents
/// (lengths big-endian). Pinned here on purpose: changing it changes every proof.
fn encode_one(out: &mut Vec<u8>, kind: u8, label: &[u8], data: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(label.len() as u64).to_be_bytes());
    out.extend_from_slice(label);
    out.extend_from_slice(&(data.len() as u64).to_be_bytes());
    out.extend_from_slice(data);
}

fn encode(tag: &[u8], items: &[Item]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_one(&mut out, KIND_TAG, b"", tag);
    for item in items {
        let (kind, l, data) = item.kind_and_data();
        encode_one(&mut out, kind, l.as_bytes(), &data);
    }
    out
}

/// One parsed item: (kind, label, data).
type Parsed = (u8, Vec<u8>, Vec<u8>);

/// Parses an encoding back into its items; `None` unless it parses exactly.
fn decode(mut bytes: &[u8]) -> Option<Vec<Parsed>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (&kind, rest) = bytes.split_first()?;
        let (len, rest) = rest.split_first_chunk::<8>()?;
        let (label, rest) =
            rest.split_at_checked(usize::try_from(u64::from_be_bytes(*len)).ok()?)?;
        let (len, rest) = rest.split_first_chunk::<8>()?;
        let (data, rest) =
            rest.split_at_checked(usize::try_from(u64::from_be_bytes(*len)).ok()?)?;
        out.push((kind, label.to_vec(), data.to_vec()));
        bytes = rest;
    }
    Some(out)
}

fn hash(tag: &'static [u8], items: &[Item]) -> [u8; 32] {
    let mut t = Transcript::new(tag);
    for item in items {
        item.absorb(&mut t);
    }
    t.finish()
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Items over small alphabets, so that structurally close sequences are common.
fn item() -> impl Strategy<Value = Item> {
    let lbl = (0usize..4).prop_map(label);
    let wide = [0x7fu8; 32]; // a full-width scalar, below q
    prop_oneof![
        (lbl.clone(), prop::collection::vec(0u8..3, 0..5)).prop_map(|(l, d)| Item::Bytes(l, d)),
        (lbl.clone(), 1u64..4).prop_map(|(l, k)| Item::Point(l, k)),
        (lbl.clone(), 0u8..3).prop_map(|(l, b)| Item::Scalar(l, [b; 32])),
        (lbl.clone(), 0u8..3).prop_map(|(l, b)| Item::Integer(l, [b; 32])),
        (lbl.clone(), Just(wide)).prop_map(|(l, v)| Item::Scalar(l, v)),
        (lbl, 0u64..3).prop_map(|(l, v)| Item::U64(l, v)),
    ]
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec(item(), 0..5)
}

/// Items as the model sees them: a u64 is the integer of its 8 bytes.
fn normalized(items: &[Item]) -> Vec<(u8, &'static str, Vec<u8>)> {
    items.iter().map(Item::kind_and_data).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The transcript hashes exactly the documented encoding, and that encoding parses back to
    /// the items: together, distinct item sequences never share a preimage.
    #[test]
    fn transcript_is_the_injective_encoding(tag_len in 0usize..40, items in items()) {
        let t = tag(tag_len);
        let encoded = encode(t, &items);
        let expected: [u8; 32] = Sha256::digest(&encoded).into();
        prop_assert_eq!(hash(t, &items), expected);
        let parsed = decode(&encoded).expect("the encoding parses");
        prop_assert_eq!(parsed.len(), items.len() + 1);
        prop_assert_eq!(&parsed[0], &(KIND_TAG, Vec::new(), t.to_vec()));
        for (p, (kind, l, data)) in parsed[1..].iter().zip(normalized(&items)) {
            prop_assert_eq!(p, &(kind, l.as_bytes().to_vec(), data));
        }
    }

    /// Two sequences hash alike iff they are the same typed values.
    #[test]
    fn sequences_collide_only_when_equal(a in items(), b in items()) {
        let same = normalized(&a) == normalized(&b);
        prop_assert_eq!(hash(b"t", &a) == hash(b"t", &b), same);
    }

    /// ("ab", "c") vs ("a", "bc"): one concatenation split into two byte strings two ways.
    #[test]
    fn resplit_concatenations_differ(
        data in prop::collection::vec(any::<u8>(), 1..48),
        i in 0usize..48,
        j in 0usize..48,
        l in 0usize..3,
    ) {
        let (i, j) = (i % (data.len() + 1), j % (data.len() + 1));
        prop_assume!(i != j);
        let split = |k: usize| {
            vec![Item::Bytes(label(l), data[..k].to_vec()), Item::Bytes(label(l), data[k..].to_vec())]
        };
        prop_assert_ne!(hash(b"t", &split(i)), hash(b"t", &split(j)));
    }

    /// tss-lib's `a$|b` vs `a|$b` (TSSHOCK α-shuffle): a delimiter moved across a boundary.
    #[test]
    fn delimiter_shuffle_differs(
        a in prop::collection::vec(any::<u8>(), 0..16),
        b in prop::collection::vec(any::<u8>(), 0..16),
        delim in any::<u8>(),
    ) {
        let left = [a.clone(), vec![delim]].concat();
        let right = [vec![delim], b.clone()].concat();
        let x = hash(b"t", &[Item::Bytes("m", left), Item::Bytes("m", b)]);
        let y = hash(b"t", &[Item::Bytes("m", a), Item::Bytes("m", right)]);
        prop_assert_ne!(x, y);
    }

    /// A label/data boundary moved: ("ab", "cd…") vs ("abc", "d…").
    #[test]
    fn label_data_boundary_differs(n in 1usize..30, k1 in 0usize..30, k2 in 0usize..30,
                                   tail in prop::collection::vec(any::<u8>(), 0..8)) {
        let (k1, k2) = (k1 % (n + 1), k2 % (n + 1));
        prop_assume!(k1 != k2);
        let at = |k: usize| {
            let data = [&LABELS.as_bytes()[k..n], &tail[..]].concat();
            vec![Item::Bytes(label(k), data)]
        };
        prop_assert_ne!(hash(b"t", &at(k1)), hash(b"t", &at(k2)));
    }

    /// The same payload absorbed as bytes, integer, scalar, point or u64 hashes differently.
    #[test]
    fn kinds_never_collide(v in any::<[u8; 32]>(), k in 1u64..1_000_000, small in any::<u64>()) {
        let mut canonical = v;
        canonical[0] &= 0x7f; // below q
        let p = point(k).to_sec1_point(true).as_bytes().to_vec();
        let cases = [
            hash(b"t", &[Item::Bytes("x", canonical.to_vec())]),
            hash(b"t", &[Item::Integer("x", canonical)]),
            hash(b"t", &[Item::Scalar("x", canonical)]),
            hash(b"t", &[Item::Bytes("x", p)]),
            hash(b"t", &[Item::Point("x", k)]),
            hash(b"t", &[Item::Bytes("x", small.to_be_bytes().to_vec())]),
            hash(b"t", &[Item::U64("x", small)]),
        ];
        for i in 0..cases.len() {
            for j in i + 1..cases.len() {
                prop_assert_ne!(cases[i], cases[j], "{} vs {}", i, j);
            }
        }
        // A u64 is the integer of its 8 bytes: the same typed value, the same hash.
        let mut t = Transcript::new(b"t");
        t.integer("x", &U64::from_u64(small));
        prop_assert_eq!(t.finish(), cases[6]);
    }

    /// The domain tag cannot be confused with an item: tag "ab" ≠ tag "a" + item "b".
    #[test]
    fn tag_and_items_are_separated(n in 1usize..40, k in 0usize..40) {
        let k = k % n;
        let whole = hash(tag(n), &[]);
        let mut t = Transcript::new(tag(k));
        t.bytes("", &TAGS[k..n]);
        prop_assert_ne!(whole, t.finish());
    }
}

// ---------------------------------------------------------------------------------------------
// Challenge coverage (F10): change any statement or binding field, the proof fails
// ---------------------------------------------------------------------------------------------

const SID: [u8; 32] = [0x51; 32];
const PID: [u8; 32] = [0x11; 32];

fn at<'a>(sid: &'a [u8; 32], pid: &'a [u8; 32], label: &'static str) -> Binding<'a> {
    Binding {
        session: sid,
        prover: pid,
        label,
    }
}

/// Flips each bit of a 32-byte id in turn.
fn each_bit_flip(id: &[u8; 32]) -> impl Iterator<Item = [u8; 32]> + '_ {
    (0..256).map(move |bit| {
        let mut out = *id;
        out[bit / 8] ^= 1 << (bit % 8);
        out
    })
}

fn dlog_from(a: &AffinePoint, z: &Scalar) -> DlogProof {
    let mut buf = curve::encode_point(a).unwrap().to_vec();
    buf.extend_from_slice(&z.to_bytes());
    DlogProof::read(&mut ecdsa2pc_core::internals::wire::Reader::new(&buf)).unwrap()
}

fn dlog_parts(p: &DlogProof) -> (AffinePoint, Scalar) {
    let mut buf = [0u8; DlogProof::LEN];
    p.write(&mut ecdsa2pc_core::internals::wire::Writer::new(&mut buf))
        .unwrap();
    (
        curve::decode_point(buf[..33].try_into().unwrap()).unwrap(),
        curve::decode_scalar(buf[33..].try_into().unwrap()).unwrap(),
    )
}

#[test]
fn dlog_challenge_covers_statement_and_binding() {
    let mut rng = support::rng(1);
    let x = curve::random_scalar(&mut rng);
    let xg = curve::mul_g(&x);
    let label = "keygen/Q1";
    // The prover's nonce k is its first draw: knowing it, the test recovers the challenge e.
    let k = curve::random_scalar(&mut rng.clone());
    let proof = DlogProof::prove(&mut rng, &x, &xg, &at(&SID, &PID, label));
    assert_eq!(proof.verify(&xg, &at(&SID, &PID, label)), Ok(()));
    let (a, z) = dlog_parts(&proof);
    let e = (z - k) * Option::<Scalar>::from(x.invert()).unwrap();
    assert_eq!(curve::mul_g(&k), a, "nonce prediction");
    let bad = Err(Error::ProofInvalid(Proof::DlogPoK));

    // Frozen Heart (A7): were X or A left out of the hash, e would stay the same when they change,
    // and these adjusted proofs would verify. X' = X + d·G with z' = z + e·d; A' = A + δ·G with
    // z' = z + δ. Both equations hold for the old e, so only the hash can refuse them.
    let d = Scalar::from(12_345u64);
    assert_eq!(
        dlog_from(&a, &z).verify(&xg, &at(&SID, &PID, label)),
        Ok(()),
        "the recipe with d = 0 reproduces the proof"
    );
    let moved_x = curve::mul_g(&(x + d));
    assert_eq!(
        dlog_from(&a, &(z + e * d)).verify(&moved_x, &at(&SID, &PID, label)),
        bad,
        "X moved"
    );
    let moved_a = (ProjectivePoint::from(a) + ProjectivePoint::GENERATOR * d).to_affine();
    assert_eq!(
        dlog_from(&moved_a, &(z + d)).verify(&xg, &at(&SID, &PID, label)),
        bad,
        "A moved"
    );
    // Other statements, unadjusted.
    for other in [
        curve::mul_g(&(x + Scalar::ONE)),
        -xg,
        AffinePoint::GENERATOR,
        (ProjectivePoint::from(xg).double()).to_affine(),
    ] {
        assert_eq!(proof.verify(&other, &at(&SID, &PID, label)), bad);
    }
    // The first message A swapped with another proof's, either way round.
    let (a2, z2) = dlog_parts(&DlogProof::prove(&mut rng, &x, &xg, &at(&SID, &PID, label)));
    assert_ne!(a, a2);
    assert_eq!(dlog_from(&a2, &z).verify(&xg, &at(&SID, &PID, label)), bad);
    assert_eq!(dlog_from(&a, &z2).verify(&xg, &at(&SID, &PID, label)), bad);
    // The binding enters only through the hash: every single-bit change of the session id and
    // of the prover's pid, both swapped, and every other label of the protocol.
    for sid in each_bit_flip(&SID) {
        assert_eq!(proof.verify(&xg, &at(&sid, &PID, label)), bad);
    }
    for pid in each_bit_flip(&PID) {
        assert_eq!(proof.verify(&xg, &at(&SID, &pid, label)), bad);
    }
    assert_eq!(proof.verify(&xg, &at(&PID, &SID, label)), bad);
    for other in [
        "keygen/Q2",
        "sign/R1",
        "sign/R2",
        "keygen/Q",
        "keygen/Q1 ",
        "",
    ] {
        assert_eq!(proof.verify(&xg, &at(&SID, &PID, other)), bad, "{other:?}");
    }
}

#[test]
fn paillier_key_challenges_cover_modulus_seed_and_binding() {
    let sk = support::paillier(0);
    let other = support::paillier(1);
    let seed = [7u8; 16];
    let label = "keygen/paillier-key";
    let proof = PaillierKeyProof::prove(&sk, &seed, &at(&SID, &PID, label));
    assert_eq!(
        proof.verify(sk.public_key(), &seed, &at(&SID, &PID, label)),
        Ok(())
    );
    let bad = Err(Error::ProofInvalid(Proof::PaillierKey));
    assert_eq!(
        proof.verify(other.public_key(), &seed, &at(&SID, &PID, label)),
        bad,
        "N"
    );
    let mut seed2 = seed;
    seed2[15] ^= 1;
    assert_eq!(
        proof.verify(sk.public_key(), &seed2, &at(&SID, &PID, label)),
        bad,
        "seed"
    );
    let mut sid = SID;
    sid[0] ^= 0x80;
    assert_eq!(
        proof.verify(sk.public_key(), &seed, &at(&sid, &PID, label)),
        bad,
        "sid"
    );
    let mut pid = PID;
    pid[31] ^= 1;
    assert_eq!(
        proof.verify(sk.public_key(), &seed, &at(&SID, &pid, label)),
        bad,
        "pid"
    );
    assert_eq!(
        proof.verify(sk.public_key(), &seed, &at(&SID, &PID, "keygen/eq")),
        bad,
        "label"
    );
}
