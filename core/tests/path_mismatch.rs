//! Parties that disagree on the derivation path: the session fails before P1 decrypts
//! anything, whichever side notices. Alone in its binary because it reads the process-wide
//! decryption counter.

mod support;

use ecdsa2pc_core::internals::paillier::half_decryptions;
use ecdsa2pc_core::{Error, KeyShare, Proof, bip32::DerivationPath, sign};

#[test]
fn a_path_mismatch_fails_before_any_decryption() {
    let (mut s1, s2) = support::keygen(400, 0);
    let digest = [0x42u8; 32];
    let ours: DerivationPath = "m/0/7".parse().unwrap();
    let theirs: DerivationPath = "m/0/8".parse().unwrap();
    // A second copy of P1's share, to make a message 1 under P2's path.
    let mut other = support::keygen(400, 0).0;
    let before = half_decryptions();

    // P2 sees P1's path id and names the mistake.
    let mut r1 = support::rng(1);
    let mut r2 = support::rng(2);
    let (_, m1) = sign::p1::start_derived(
        &mut r1,
        &mut s1,
        support::rp(),
        &support::ctx1(),
        &digest,
        &ours,
    )
    .unwrap();
    let err = sign::p2::start_derived(
        &mut r2,
        &s2,
        &support::ctx2(),
        &digest,
        &support::wire(&m1),
        None,
        &theirs,
    )
    .unwrap_err();
    assert_eq!(err, Error::PathMismatch);

    // A P2 that skips the id check (here: P1's message edited to show P2's path) still
    // cannot share the session: the path is in the session id, so P1 refuses P2's first
    // proof, long before any ciphertext.
    let (p1, mut m1) = sign::p1::start_derived(
        &mut r1,
        &mut s1,
        support::rp(),
        &support::ctx1(),
        &digest,
        &ours,
    )
    .unwrap();
    let (_, m1_theirs) = sign::p1::start_derived(
        &mut support::rng(9),
        &mut other,
        support::rp(),
        &support::ctx1(),
        &digest,
        &theirs,
    )
    .unwrap();
    m1.path_id = m1_theirs.path_id;
    let (_p2, m2) = sign::p2::start_derived(
        &mut r2,
        &s2,
        &support::ctx2(),
        &digest,
        &support::wire(&m1),
        None,
        &theirs,
    )
    .unwrap();
    assert_eq!(
        p1.on_msg2(&mut r1, &support::wire(&m2)).unwrap_err(),
        Error::ProofInvalid(Proof::DlogPoK)
    );
    assert!(!s1.is_locked());
    assert_eq!(half_decryptions(), before, "P1 decrypted something");

    // Control: the counter counts a real signature.
    support::sign(401, &mut s1, &s2, &digest).unwrap();
    assert!(half_decryptions() > before);
}
