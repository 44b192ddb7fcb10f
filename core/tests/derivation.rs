//! BIP32 under two parties: the chain code keygen agrees, signatures under derived keys,
//! shares made before chain codes, and the chain code's place in the share file.

mod support;

use ecdsa2pc_core::bip32::{self, DerivationPath, ExtendedPublicKey};
use ecdsa2pc_core::{Error, KeyShare, KeyShareP1, KeyShareP2, sign};
use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use sha2::{Digest, Sha256};

/// Offset of the chain code in a format-3 share file: the common header before it.
const CHAIN_CODE_AT: usize = 4 + 1 + 1 + 1 + 8 + 1 + 2 * 32 + 3 * 33 + 512;

fn path(text: &str) -> DerivationPath {
    text.parse().unwrap()
}

fn encode<S: KeyShare>(share: &S) -> Vec<u8> {
    let mut out = vec![0u8; S::ENCODED_LEN];
    let len = share.encode(&mut out).unwrap();
    out.truncate(len);
    out
}

/// `bytes` with a fresh trailing checksum (what a writer of a deliberately edited file does).
fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
    let body = bytes.len() - 32;
    let sum = Sha256::digest(&bytes[..body]);
    bytes[body..].copy_from_slice(&sum);
    bytes
}

/// The share as a release before chain codes wrote it: format 2, no chain code.
fn as_format_2(bytes: &[u8]) -> Vec<u8> {
    assert_eq!(bytes[4], 3, "a share fresh from keygen is format 3");
    let mut old = bytes[..CHAIN_CODE_AT].to_vec();
    old[4] = 2;
    old.extend_from_slice(&bytes[CHAIN_CODE_AT + 32..]);
    resealed(old)
}

/// Both parties sign `digest` under `path`; returns both signatures.
fn sign_under(
    seed: u64,
    s1: &mut KeyShareP1,
    s2: &KeyShareP2,
    digest: &[u8; 32],
    path: &DerivationPath,
    presign: bool,
) -> Result<(Signature, Signature), Error> {
    let mut r1 = support::rng(seed);
    let mut r2 = support::rng(seed ^ 0xabcd);
    let pre = presign.then(|| sign::p2::Presign::new(&mut r2, s2));
    let (p1, m1) =
        sign::p1::start_derived(&mut r1, s1, support::rp(), &support::ctx1(), digest, path)?;
    let (p2, m2) = sign::p2::start_derived(
        &mut r2,
        s2,
        &support::ctx2(),
        digest,
        &support::wire(&m1),
        pre,
        path,
    )?;
    let (p1, m3) = p1.on_msg2(&mut r1, &support::wire(&m2))?;
    let (p2, m4) = p2.on_msg3(&mut r2, &support::wire(&m3))?;
    let (sig1, m5) = p1.on_msg4(&support::wire(&m4))?;
    let sig2 = p2.on_msg5(&support::wire(&m5))?;
    Ok((sig1, sig2))
}

fn xpub_of<S: KeyShare>(share: &S) -> ExtendedPublicKey {
    ExtendedPublicKey::new(share.public().q, *share.chain_code().unwrap()).unwrap()
}

#[test]
fn keygen_agrees_on_a_fresh_chain_code() {
    let (s1, s2) = support::keygen(300, 0);
    let cc = *s1.chain_code().expect("keygen gives a chain code");
    assert_eq!(
        s2.chain_code(),
        Some(&cc),
        "both parties hold the same chain code"
    );
    assert_ne!(cc, [0; 32]);
    assert_eq!(s1.extended_key().unwrap(), xpub_of(&s2));
    // Another run, another chain code (both contributions are fresh).
    let (t1, _) = support::keygen(301, 0);
    assert_ne!(t1.chain_code(), Some(&cc));
    // It survives the share file.
    let back = KeyShareP2::decode(&encode(&s2)).unwrap();
    assert_eq!(back.chain_code(), Some(&cc));
    assert_eq!(back.fingerprint(), s2.fingerprint());
}

#[test]
fn signatures_under_derived_keys_verify_with_k256() {
    let (mut s1, s2) = support::keygen(310, 1);
    let master = VerifyingKey::from_affine(s1.public().q).unwrap();
    for (i, text) in ["m/0", "m/0/7", "m/1/2/3", "m/2147483647", "m/44/0/0/1/9"]
        .into_iter()
        .enumerate()
    {
        let p = path(text);
        // The child key by BIP32's public rules from the xpub alone.
        let child = bip32::derive_path(&xpub_of(&s2), &p).unwrap();
        assert_eq!(s1.derive(&p).unwrap(), child, "{text}");
        let vk = VerifyingKey::from_affine(*child.key.key()).unwrap();
        let digest: [u8; 32] = Sha256::digest(format!("derived {text}")).into();
        for presign in [false, true] {
            let (a, b) = sign_under(3100 + i as u64, &mut s1, &s2, &digest, &p, presign).unwrap();
            assert_eq!(a, b, "{text}");
            assert!(a.normalize_s() == a, "low-s");
            vk.verify_prehash(&digest, &a).unwrap();
            assert!(
                master.verify_prehash(&digest, &a).is_err(),
                "{text}: a child signature must not verify under the master key"
            );
        }
        assert!(!s1.is_locked());
    }
    // The path m is the joint key itself.
    let digest = [5u8; 32];
    let (a, _) = sign_under(3199, &mut s1, &s2, &digest, &DerivationPath::MASTER, true).unwrap();
    master.verify_prehash(&digest, &a).unwrap();
}

#[test]
fn parties_on_different_paths_are_told_so() {
    let (mut s1, s2) = support::keygen(330, 0);
    let digest = [9u8; 32];
    let mut r1 = support::rng(1);
    let mut r2 = support::rng(2);
    let (_p1, m1) = sign::p1::start_derived(
        &mut r1,
        &mut s1,
        support::rp(),
        &support::ctx1(),
        &digest,
        &path("m/0/7"),
    )
    .unwrap();
    for other in ["m/0/8", "m/0", "m", "m/0/7/0"] {
        let err = sign::p2::start_derived(
            &mut r2,
            &s2,
            &support::ctx2(),
            &digest,
            &support::wire(&m1),
            None,
            &path(other),
        )
        .unwrap_err();
        assert_eq!(err, Error::PathMismatch, "{other}");
    }
    assert!(
        Error::PathMismatch
            .to_string()
            .contains("the parties signed under different derivation paths")
    );
}

#[test]
fn a_share_from_before_chain_codes_signs_but_does_not_derive() {
    let (s1, s2) = support::keygen(340, 0);
    let mut old1 = KeyShareP1::decode(&as_format_2(&encode(&s1))).unwrap();
    let old2 = KeyShareP2::decode(&as_format_2(&encode(&s2))).unwrap();
    assert_eq!(old1.chain_code(), None);
    assert_eq!(old2.chain_code(), None);
    // Written back as it was read: format 2, so an older release still reads it.
    let again = encode(&old2);
    assert_eq!(again[4], 2);
    assert_eq!(again, as_format_2(&encode(&s2)));
    // Derivation and xpubs name the cause and the fix.
    assert_eq!(old2.derive(&path("m/0")), Err(Error::NoChainCode));
    assert_eq!(old2.extended_key(), Err(Error::NoChainCode));
    assert_eq!(
        Error::NoChainCode.to_string(),
        "this share was made before chain codes; run a new keygen to derive child keys"
    );
    let digest = [4u8; 32];
    let mut r1 = support::rng(3);
    assert_eq!(
        sign::p1::start_derived(
            &mut r1,
            &mut old1,
            support::rp(),
            &support::ctx1(),
            &digest,
            &path("m/1"),
        )
        .unwrap_err(),
        Error::NoChainCode
    );
    let (_, m1) =
        sign::p1::start(&mut r1, &mut old1, support::rp(), &support::ctx1(), &digest).unwrap();
    assert_eq!(
        sign::p2::start_derived(
            &mut support::rng(4),
            &old2,
            &support::ctx2(),
            &digest,
            &m1,
            None,
            &path("m/1"),
        )
        .unwrap_err(),
        Error::NoChainCode
    );
    // The master key still signs.
    let (a, b) = support::sign(341, &mut old1, &old2, &digest).unwrap();
    assert_eq!(a, b);
    VerifyingKey::from_affine(old1.public().q)
        .unwrap()
        .verify_prehash(&digest, &a)
        .unwrap();
}

#[test]
fn the_fingerprint_covers_the_chain_code() {
    let (mut s1, s2) = support::keygen(350, 0);
    let bytes = encode(&s2);
    // A flipped chain-code byte fails the checksum ...
    let mut flipped = bytes.clone();
    flipped[CHAIN_CODE_AT + 5] ^= 0x01;
    assert_eq!(
        KeyShareP2::decode(&flipped).unwrap_err(),
        Error::InvalidShare
    );
    // ... and with the checksum redone, the fingerprint differs, so P1 and P2 no longer
    // agree on the key: P2 refuses P1's first message.
    let edited = KeyShareP2::decode(&resealed(flipped)).unwrap();
    assert_ne!(edited.fingerprint(), s2.fingerprint());
    let digest = [6u8; 32];
    let (_, m1) = sign::p1::start(
        &mut support::rng(5),
        &mut s1,
        support::rp(),
        &support::ctx1(),
        &digest,
    )
    .unwrap();
    assert_eq!(
        sign::p2::start(
            &mut support::rng(6),
            &edited,
            &support::ctx2(),
            &digest,
            &m1
        )
        .unwrap_err(),
        Error::SessionMismatch
    );
    // A format-2 share's fingerprint is the one it had before chain codes (no chain code
    // hashed), so it differs from the same key's format-3 fingerprint.
    let old = KeyShareP2::decode(&as_format_2(&bytes)).unwrap();
    assert_ne!(old.fingerprint(), s2.fingerprint());
}
