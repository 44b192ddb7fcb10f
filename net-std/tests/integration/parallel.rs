//! Keygen and refresh work run on every core (`work::Parallel`: P2's checks, P1's keygen
//! steps, refresh P1's encryptions and roots) gives what one thread gives: the same messages
//! and share from an honest run, the same error from a bad one.

use ecdsa2pc_core::{Error, KeyShare, Proof, keygen, refresh};
use ecdsa2pc_net::work::Parallel;

use crate::fixtures;
use crate::pair::{ctx1, ctx2, rng};

/// An honest keygen up to P2's last step.
fn keygen_to_msg3(
    seed: u64,
) -> (
    keygen::p2::AwaitMsg3,
    keygen::Msg3,
    ecdsa2pc_core::KeyShareP1,
) {
    let params = fixtures::params().params();
    let mut r1 = rng(seed);
    let (p1, m1) = keygen::p1::start(&mut r1, &ctx1(), fixtures::paillier(0), params).unwrap();
    let (p2, m2) = keygen::p2::start(&mut rng(seed + 1), &ctx2(), &m1, params).unwrap();
    let (s1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    (p2, m3, s1)
}

/// P1's keygen steps on every core send the bytes the one-thread steps send from the same
/// seed (core's own test adds a backwards schedule), and the run ends in the same share.
#[test]
fn keygen_p1_on_every_core_sends_the_sequential_bytes() {
    use ecdsa2pc_core::{Message, work::Executor, work::Sequential};
    /// One keygen with P1's steps run by `exec`: message 1's bytes, message 3, the share's
    /// fingerprint.
    fn run<X: Executor>(exec: &X) -> (Vec<u8>, keygen::Msg3, [u8; 32]) {
        let params = fixtures::params().params();
        let mut r1 = rng(60);
        let (p1, m1) =
            keygen::p1::start_with(&mut r1, &ctx1(), fixtures::paillier(0), params, None, exec)
                .unwrap();
        let mut bytes = vec![0; keygen::Msg1::LEN];
        m1.encode(&mut bytes).unwrap();
        let mut r2 = rng(61);
        let (p2, m2) = keygen::p2::start(&mut r2, &ctx2(), &m1, params).unwrap();
        let (s1, m3) = p1.on_msg2_with(&mut r1, &m2, exec).unwrap();
        let s2 = p2.on_msg3(&mut r2, &m3).unwrap();
        assert_eq!(s1.fingerprint(), s2.fingerprint());
        (bytes, m3, s1.fingerprint())
    }
    assert_eq!(run(&Sequential), run(&Parallel));
}

#[test]
fn keygen_checks_on_every_core_give_the_sequential_outcome() {
    let (p2, m3, _) = keygen_to_msg3(70);
    let sequential = p2.on_msg3(&mut rng(71), &m3).unwrap();
    let (p2, m3, _) = keygen_to_msg3(70);
    let parallel = p2.on_msg3_with(&mut rng(71), &m3, &Parallel).unwrap();
    assert_eq!(sequential.fingerprint(), parallel.fingerprint());

    // Two bad proofs: the error is the first one's in the sequential order (the key proof,
    // then the range proof).
    let (_, other, _) = keygen_to_msg3(72);
    let (p2, mut m3, _) = keygen_to_msg3(70);
    m3.responses.key_proof = other.responses.key_proof;
    m3.responses.range = other.responses.range;
    assert_eq!(
        p2.on_msg3_with(&mut rng(71), &m3, &Parallel).err(),
        Some(Error::ProofInvalid(Proof::PaillierKey))
    );
}

#[test]
fn refresh_checks_on_every_core_give_the_sequential_outcome() {
    let (p2, m3, s1) = keygen_to_msg3(80);
    let s2 = p2.on_msg3(&mut rng(81), &m3).unwrap();
    let run = |bad: Option<&refresh::Msg3>, parallel: bool| {
        let mut r1 = rng(82);
        let mut r2 = rng(83);
        let (p1, m1) = if parallel {
            // With the process's Pedersen table, as the driver runs it: the same bytes.
            refresh::p1::start_with(
                &mut r1,
                &s1,
                &ctx1(),
                fixtures::paillier(1),
                ecdsa2pc_net::tables::pedersen(),
                &Parallel,
            )
        } else {
            refresh::p1::start(&mut r1, &s1, &ctx1(), fixtures::paillier(1))
        }
        .unwrap();
        let (p2, m2) = refresh::p2::start(&mut r2, &s2, &ctx2(), &m1).unwrap();
        let (_, m3) = if parallel {
            p1.on_msg2_with(&mut r1, &m2, &Parallel)
        } else {
            p1.on_msg2(&mut r1, &m2)
        }
        .unwrap();
        let m3 = bad.cloned().unwrap_or(m3);
        let out = if parallel {
            p2.on_msg3_with(&mut r2, &m3, &Parallel)
        } else {
            p2.on_msg3(&mut r2, &m3)
        };
        (
            out.map(|(share, confirm)| (share.fingerprint(), confirm)),
            m1,
            m3,
        )
    };
    // P1's step-1 work items and P2's checks on every core: the same messages and the same share.
    let (sequential, m1_sequential, honest) = run(None, false);
    let (parallel, m1_parallel, m3_parallel) = run(None, true);
    assert_eq!(m1_sequential, m1_parallel);
    assert_eq!(honest, m3_parallel);
    assert_eq!(sequential.unwrap(), parallel.unwrap());

    // Proofs from another refresh (another new key): with only its equality proof, the
    // opening fails; with its key proof too, the key proof fails first, as in the
    // sequential order.
    let mut r1 = rng(91);
    let (p1, m1) = refresh::p1::start(&mut r1, &s1, &ctx1(), fixtures::paillier(2)).unwrap();
    let (_, m2) = refresh::p2::start(&mut rng(92), &s2, &ctx2(), &m1).unwrap();
    let (_, other) = p1.on_msg2(&mut r1, &m2).unwrap();
    let mut bad = honest.clone();
    bad.responses.eq = other.responses.eq.clone();
    for parallel in [true, false] {
        assert_eq!(
            run(Some(&bad), parallel).0.err(),
            Some(Error::CommitmentMismatch)
        );
    }
    bad.responses.key_proof = other.responses.key_proof;
    for parallel in [true, false] {
        assert_eq!(
            run(Some(&bad), parallel).0.err(),
            Some(Error::ProofInvalid(Proof::PaillierKey))
        );
    }
}
