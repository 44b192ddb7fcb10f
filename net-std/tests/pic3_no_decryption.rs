//! Party 0's signing driver decrypts nothing for a ciphertext whose proof π_c3 fails (issue
//! 10): counted with the core's decryption counter (`internals` builds), which is
//! process-wide, so this test has its own binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

#[allow(dead_code)]
#[path = "integration/fixtures.rs"]
mod fixtures;

use std::thread;

use ecdsa2pc_core::internals::paillier;
use ecdsa2pc_core::{
    Context, Error as CoreError, KeyShare, KeyShareP1, KeyShareP2, Message, Proof, sign,
};
use ecdsa2pc_net::{
    Framed, NetError, ProtocolError, Transport, driver, lock_registry::LockRegistry, memory_pipe,
    rng::os_rng, store::ShareFiles,
};

const DIGEST: [u8; 32] = [0x44; 32];

fn ctx(own: u8, peer: u8) -> Context<'static> {
    Context {
        own_pid: [own; 32],
        peer_pid: [peer; 32],
        channel_binding: b"no-decryption",
    }
}

fn send<M: Message>(t: &mut impl Transport, msg: &M) {
    let mut out = vec![0u8; M::LEN];
    msg.encode(&mut out).unwrap();
    t.send(&out).unwrap();
}

/// Party 1 for one signature; `shift` (if any) is added to message 4's ciphertext, as the
/// threshold attack's c = c_key^α·Enc(β) changes it. Returns party 0's reply.
fn party_1(
    s2: KeyShareP2,
    t: impl Transport + Send + 'static,
    shift: Option<u64>,
) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut t = t;
        let max = ecdsa2pc_core::MAX_MSG_LEN;
        let mut buf = vec![0u8; max];
        let mut rng = os_rng().unwrap();
        let m1 = sign::Msg1::decode(t.recv(&mut buf).unwrap()).unwrap();
        let (p2, m2) = sign::p2::start(&mut rng, &s2, &ctx(2, 1), &DIGEST, &m1).unwrap();
        send(&mut t, &m2);
        let m3 = sign::Msg3::decode(t.recv(&mut buf).unwrap()).unwrap();
        let (_, mut m4) = p2.on_msg3(&mut rng, &m3).unwrap();
        if let Some(k) = shift {
            let key = s2.paillier_key();
            let c = key.validate(&m4.c).unwrap();
            m4.c = *key
                .add_plain(&c, &crypto_bigint::U64::from_u64(k))
                .as_uint();
        }
        send(&mut t, &m4);
        t.recv(&mut buf).unwrap().to_vec()
    })
}

fn copy(s2: &KeyShareP2) -> KeyShareP2 {
    let mut buf = vec![0u8; KeyShareP2::ENCODED_LEN];
    let len = s2.encode(&mut buf).unwrap();
    KeyShareP2::decode(&buf[..len]).unwrap()
}

#[test]
fn a_dishonest_ciphertext_is_refused_before_any_decryption_and_locks_nothing() {
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let (a, b) = memory_pipe();
    let p2 = thread::spawn(move || {
        driver::keygen_p2(
            &mut Framed::new(b, max),
            &mut os_rng().unwrap(),
            &ctx(2, 1),
            &mut fixtures::trusted,
        )
        .unwrap()
    });
    let s1 = driver::keygen_p1(
        &mut Framed::new(a, max),
        &mut os_rng().unwrap(),
        &ctx(1, 2),
        fixtures::paillier(0),
        fixtures::params(),
    )
    .unwrap();
    let s2 = p2.join().unwrap();

    let dir = std::env::temp_dir().join(format!("ecdsa2pc-no-decryption-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = ShareFiles::new(&dir.join("p1.share"));
    files.write_active(&s1).unwrap();
    let before = std::fs::read(files.path()).unwrap();
    let registry = LockRegistry::new(files.path(), Some(dir.join("state")));
    let mut share = files.load::<KeyShareP1>().unwrap().active;

    let sign = |share: &mut KeyShareP1, shift: Option<u64>| {
        let (a, b) = memory_pipe();
        let peer = party_1(copy(&s2), Framed::new(b, max), shift);
        let r = driver::sign_p1_persisted(
            &mut Framed::new(a, max),
            &mut os_rng().unwrap(),
            share,
            fixtures::params(),
            &ctx(1, 2),
            &DIGEST,
            &ecdsa2pc_core::bip32::DerivationPath::MASTER,
            &mut registry.clone().guard(files.clone()),
        );
        (r, peer.join().unwrap())
    };

    // An honest signature decrypts once (two CRT halves).
    let start = paillier::half_decryptions();
    sign(&mut share, None).0.unwrap();
    assert_eq!(paillier::half_decryptions(), start + 2);

    // Probes that shift the plaintext (below, at and above any threshold): each is refused by
    // π_c3 with nothing decrypted, recorded or locked, and party 1 hears only the abort.
    let refused = CoreError::ProofInvalid(Proof::SignCiphertext);
    for shift in [1, 2, 1 << 20, u64::MAX] {
        let start = paillier::half_decryptions();
        let (r, reply) = sign(&mut share, Some(shift));
        let err = r.unwrap_err();
        assert!(
            matches!(err, NetError::Protocol(ProtocolError { error, step: "sign, message 4" }) if error == refused),
            "{err}"
        );
        assert_eq!(
            paillier::half_decryptions(),
            start,
            "nothing decrypted (shift {shift})"
        );
        assert_eq!(ecdsa2pc_core::peer_abort(&reply), Some(refused));
        assert!(!share.is_locked());
        registry.check(share.public()).unwrap();
        assert_eq!(std::fs::read(files.path()).unwrap(), before);
    }

    // And the key signs honestly afterwards.
    sign(&mut share, None).0.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
