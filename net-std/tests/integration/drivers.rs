//! The protocol drivers over an in-memory pipe and over real mTLS: keygen, sign, aborts.

use std::thread;
use std::time::Duration;

use ecdsa2pc_core::{Context, Error as CoreError, KeyShare, Party};
use ecdsa2pc_net::{Framed, NetError, PeerAbort, ProtocolError, driver, memory_pipe};
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

use crate::support;

const BINDING: &[u8] = b"pipe";

fn ctx(own: u8, peer: u8) -> Context<'static> {
    Context {
        own_pid: [own; 32],
        peer_pid: [peer; 32],
        channel_binding: BINDING,
    }
}

#[test]
fn keygen_and_sign_over_a_memory_pipe() {
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let digest = [0x42u8; 32];
    let p2 = thread::spawn(move || {
        let mut t = Framed::new(b, max);
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let share =
            driver::keygen_p2(&mut t, &mut rng, &ctx(2, 1), &mut crate::fixtures::trusted).unwrap();
        let sig = driver::sign_p2(&mut t, &mut rng, &share, &ctx(2, 1), &digest).unwrap();
        (share.public().q, sig)
    });
    let mut t = Framed::new(a, max);
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut share = driver::keygen_p1(
        &mut t,
        &mut rng,
        &ctx(1, 2),
        crate::fixtures::paillier(0),
        crate::fixtures::params(),
    )
    .unwrap();
    let sig = driver::sign_p1(
        &mut t,
        &mut rng,
        &mut share,
        crate::fixtures::params(),
        &ctx(1, 2),
        &digest,
    )
    .unwrap();
    let (q, sig2) = p2.join().unwrap();
    assert_eq!(q, share.public().q);
    assert_eq!(sig, sig2);
    VerifyingKey::from_affine(q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
}

#[test]
fn a_rejected_message_aborts_both_sides_at_once() {
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let p2 = thread::spawn(move || {
        let mut t = Framed::new(b, max);
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let share =
            driver::keygen_p2(&mut t, &mut rng, &ctx(2, 1), &mut crate::fixtures::trusted).unwrap();
        // Party 1 was asked to sign another message.
        driver::sign_p2(&mut t, &mut rng, &share, &ctx(2, 1), &[2u8; 32]).unwrap_err()
    });
    let mut t = Framed::new(a, max);
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut share = driver::keygen_p1(
        &mut t,
        &mut rng,
        &ctx(1, 2),
        crate::fixtures::paillier(0),
        crate::fixtures::params(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let err = driver::sign_p1(
        &mut t,
        &mut rng,
        &mut share,
        crate::fixtures::params(),
        &ctx(1, 2),
        &[1u8; 32],
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the abort arrives, not a timeout"
    );
    assert!(
        matches!(
            err,
            NetError::PeerAbort(PeerAbort {
                error: CoreError::CommitmentMismatch,
                ..
            })
        ),
        "party 0 hears why: {err}"
    );
    let err2 = p2.join().unwrap();
    assert!(
        matches!(
            err2,
            NetError::Protocol(ProtocolError {
                error: CoreError::CommitmentMismatch,
                ..
            })
        ),
        "{err2}"
    );
    assert!(
        !share.is_locked(),
        "a mismatch before decryption is no reason to lock"
    );
}

#[test]
fn keygen_and_sign_over_mutual_tls() {
    let dir = support::certs("drivers-tls");
    let timeout = Duration::from_secs(30);
    let digest = [0x17u8; 32];
    let (addr, server) = support::serve(support::party(&dir, Party::P1), timeout, move |mut ch| {
        let info = ch.info().clone();
        let ctx = driver::context(&info);
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let mut share = driver::keygen_p1(
            &mut ch,
            &mut rng,
            &ctx,
            crate::fixtures::paillier(0),
            crate::fixtures::params(),
        )
        .unwrap();
        let sig = driver::sign_p1(
            &mut ch,
            &mut rng,
            &mut share,
            crate::fixtures::params(),
            &ctx,
            &digest,
        )
        .unwrap();
        (share.public().q, sig)
    });
    let mut ch = ecdsa2pc_net::connect(&addr, &support::party(&dir, Party::P2), timeout).unwrap();
    let info = ch.info().clone();
    let ctx = driver::context(&info);
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let share = driver::keygen_p2(&mut ch, &mut rng, &ctx, &mut crate::fixtures::trusted).unwrap();
    let sig = driver::sign_p2(&mut ch, &mut rng, &share, &ctx, &digest).unwrap();
    let (q, sig1) = server.join().unwrap().unwrap();
    assert_eq!(sig, sig1);
    assert_eq!(q, share.public().q);
    VerifyingKey::from_affine(q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
}

#[test]
fn party_1_signs_with_its_table_and_presign_pool() {
    use ecdsa2pc_core::{ModNN, sign};
    use ecdsa2pc_net::{driver::Accel, pool::PresignPool};

    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let digests: Vec<[u8; 32]> = (0u8..5).map(|i| [i; 32]).collect();
    let ds = digests.clone();
    let p2 = thread::spawn(move || {
        let mut t = Framed::new(b, max);
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let share =
            driver::keygen_p2(&mut t, &mut rng, &ctx(2, 1), &mut crate::fixtures::trusted).unwrap();
        let mut storage = vec![ModNN::ZERO; sign::p2::table_len(4).unwrap()];
        let table = sign::p2::Precomputed::new(&share, 4, &mut storage).unwrap();
        let pool = PresignPool::spawn(&share, 4).unwrap();
        assert!(
            pool.wait(Duration::from_secs(10)).is_some(),
            "the pool fills"
        );
        // It refills to its capacity and says so (the load generator waits for that).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while pool.ready() < 4 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(pool.ready(), 4, "the pool refills to its capacity");
        // A batch makes its count and stops, so nothing refills behind a take (a refilling
        // pool may have the next presign made and waiting for room).
        let batch = PresignPool::batch(&share, 2).unwrap();
        while batch.ready() < 2 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(batch.ready(), 2, "a batch makes its count");
        assert!(batch.take().is_some());
        assert_eq!(batch.ready(), 1, "a taken presign is no longer counted");
        drop(batch);
        let accel = Accel {
            table: Some(&table),
            pool: Some(&pool),
        };
        let sigs = ds
            .iter()
            .map(|d| {
                driver::sign_p2_with(
                    &mut t,
                    &mut rng,
                    &share,
                    &ctx(2, 1),
                    d,
                    &ecdsa2pc_core::bip32::DerivationPath::MASTER,
                    &accel,
                )
                .unwrap()
            })
            .collect::<Vec<_>>();
        // A batch makes exactly its count, then its thread ends: nothing refills.
        let batch = PresignPool::batch(&share, 2).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while batch.ready() < 2 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(batch.ready(), 2, "the batch is made");
        assert!(batch.take().is_some() && batch.take().is_some());
        thread::sleep(Duration::from_millis(300));
        assert_eq!(batch.ready(), 0);
        assert!(batch.take().is_none(), "a batch does not refill");
        sigs
    });
    let mut t = Framed::new(a, max);
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut share = driver::keygen_p1(
        &mut t,
        &mut rng,
        &ctx(1, 2),
        crate::fixtures::paillier(0),
        crate::fixtures::params(),
    )
    .unwrap();
    let vk = VerifyingKey::from_affine(share.public().q).unwrap();
    let ours: Vec<_> = digests
        .iter()
        .map(|d| {
            driver::sign_p1(
                &mut t,
                &mut rng,
                &mut share,
                crate::fixtures::params(),
                &ctx(1, 2),
                d,
            )
            .unwrap()
        })
        .collect();
    let theirs = p2.join().unwrap();
    assert_eq!(ours, theirs);
    for (d, sig) in digests.iter().zip(&ours) {
        vk.verify_prehash(d, sig).unwrap();
    }
}
