//! Deterministic regression vectors: with fixed Paillier primes and seeded RNGs, keygen,
//! signing and refresh produce byte-identical transcripts. Each message's SHA-256 and length, the joint
//! key and the signature are checked in under `tests/vectors/`; any change to encodings,
//! hashing, proofs or randomness use shows up here.
//!
//! After an intended change: `ECDSA2PC_BLESS=1 cargo test -p ecdsa2pc-core --test vectors`.

mod support;

use ecdsa2pc_core::KeyShare;
use ecdsa2pc_core::{Message, keygen, refresh, sign};
use sha2::{Digest, Sha256};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/transcript-v1.txt"
);

fn line<M: Message>(name: &str, msg: &M) -> String {
    let bytes = support::bytes(msg);
    format!("{name} {} {}", bytes.len(), hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn transcript() -> Vec<String> {
    let mut out = Vec::new();
    let mut r1 = support::rng(7);
    let mut r2 = support::rng(8);
    let (p1, m1) = keygen::p1::start(
        &mut r1,
        &support::ctx1(),
        support::paillier(0),
        support::rp().params(),
    )
    .unwrap();
    out.push(line("keygen.msg1", &m1));
    let (p2, m2) = keygen::p2::start(
        &mut r2,
        &support::ctx2(),
        &support::wire(&m1),
        support::rp().params(),
    )
    .unwrap();
    out.push(line("keygen.msg2", &m2));
    let (mut s1, m3) = p1.on_msg2(&mut r1, &support::wire(&m2)).unwrap();
    out.push(line("keygen.msg3", &m3));
    let s2 = p2.on_msg3(&mut r2, &support::wire(&m3)).unwrap();
    let q = k256::ecdsa::VerifyingKey::from_affine(s1.public().q).unwrap();
    out.push(format!(
        "public-key {}",
        hex(q.to_sec1_point(true).as_bytes())
    ));

    let digest: [u8; 32] = Sha256::digest(b"deterministic vector").into();
    let (a, m1) =
        sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap();
    out.push(line("sign.msg1", &m1));
    let (b, m2) =
        sign::p2::start(&mut r2, &s2, &support::ctx2(), &digest, &support::wire(&m1)).unwrap();
    out.push(line("sign.msg2", &m2));
    let (a, m3) = a.on_msg2(&mut r1, &support::wire(&m2)).unwrap();
    out.push(line("sign.msg3", &m3));
    let (b, m4) = b.on_msg3(&mut r2, &support::wire(&m3)).unwrap();
    out.push(line("sign.msg4", &m4));
    let (sig, m5) = a.on_msg4(&support::wire(&m4)).unwrap();
    out.push(line("sign.msg5", &m5));
    assert_eq!(b.on_msg5(&support::wire(&m5)).unwrap(), sig);
    out.push(format!("signature {}", hex(&sig.to_bytes())));

    let (a, m1) = refresh::p1::start(&mut r1, &s1, &support::ctx1(), support::paillier(1)).unwrap();
    out.push(line("refresh.msg1", &m1));
    let (b, m2) = refresh::p2::start(&mut r2, &s2, &support::ctx2(), &support::wire(&m1)).unwrap();
    out.push(line("refresh.msg2", &m2));
    let (a, m3) = a.on_msg2(&mut r1, &support::wire(&m2)).unwrap();
    out.push(line("refresh.msg3", &m3));
    let (n2, m4) = b.on_msg3(&mut r2, &support::wire(&m3)).unwrap();
    out.push(line("refresh.msg4", &m4));
    let n1 = a.on_msg4(&support::wire(&m4)).unwrap();
    assert_eq!(n1.fingerprint(), n2.fingerprint());
    out.push(format!("refresh.fingerprint {}", hex(&n1.fingerprint())));
    out
}

#[test]
fn transcripts_are_byte_identical_to_the_checked_in_vectors() {
    let first = transcript();
    assert_eq!(first, transcript(), "the same seeds give the same bytes");
    let text = first.join("\n") + "\n";
    if std::env::var_os("ECDSA2PC_BLESS").is_some() {
        std::fs::write(FILE, &text).unwrap();
    }
    let expected = std::fs::read_to_string(FILE).expect("vectors file (bless to create it)");
    assert_eq!(
        text, expected,
        "transcript changed: bless only if the change is intended"
    );
}
