//! Confirmed keygen: cut the link before every message, or crash either party before or
//! after every persistence step. Whatever happens, a party that reports success knows the
//! other has stored its share; a share that is not confirmed stays pending and is refused as
//! a share (saying so); no temporary file is left; and a retry into the same files works.

use std::path::Path;
use std::thread;

use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2};
use ecdsa2pc_net::{
    NetError, StoreError, Transport, driver, params_msg::ParamsMsgCache, store::ShareFiles,
};
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

use crate::refresh_crash::{Crash, Crashing, ctx, failures, pipe};
use crate::support::TempDir;

/// Whether each party's keygen reported success.
struct Attempt {
    ok1: bool,
    ok2: bool,
}

fn attempt(dir: &Path, budget: usize, crash1: Crash, crash2: Crash) -> Attempt {
    let f1 = ShareFiles::new(&dir.join("p1.share"));
    let f2 = ShareFiles::new(&dir.join("p2.share"));
    let (mut a, mut b) = pipe(budget);
    let p2 = thread::spawn(move || {
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let mut persist = Crashing {
            files: f2,
            at: crash2,
        };
        driver::keygen_p2_persisted(
            &mut b,
            &mut rng,
            &ctx(2, 1),
            &mut crate::fixtures::trusted,
            &mut persist,
        )
        .is_ok()
    });
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut persist = Crashing {
        files: f1,
        at: crash1,
    };
    let ok1 = driver::keygen_p1_persisted(
        &mut a,
        &mut rng,
        &ctx(1, 2),
        crate::fixtures::paillier(0),
        crate::fixtures::params(),
        &ParamsMsgCache::in_memory(),
        &mut persist,
    )
    .is_ok();
    drop(a);
    Attempt {
        ok1,
        ok2: p2.join().unwrap(),
    }
}

/// The party's share as the files hold it: `Some(active)`, or `None` if there is no active
/// share (and then loading says why: no file, or an unconfirmed pending one).
fn active<S: KeyShare>(files: &ShareFiles) -> Option<S> {
    match files.load::<S>() {
        Ok(held) => {
            assert!(
                held.pending.is_none(),
                "no pending share beside an active one"
            );
            Some(held.active)
        }
        Err(StoreError::Missing { .. }) => {
            assert!(!files.pending_path().exists());
            None
        }
        Err(e @ StoreError::Unconfirmed { .. }) => {
            assert!(files.pending_path().exists());
            let text = e.to_string();
            assert!(
                text.contains("a pending share is never used as one")
                    && (text.contains("p1.share.pending") || text.contains("p2.share.pending")),
                "{text}"
            );
            None
        }
        Err(e) => panic!("unexpected: {e}"),
    }
}

/// Both parties sign with their active shares; the signature verifies under Q.
fn sign_together(s1: &mut KeyShareP1, s2: &KeyShareP2) {
    let (mut a, mut b) = pipe(usize::MAX);
    let digest = [0x4bu8; 32];
    let sig = thread::scope(|s| {
        let p2 = s.spawn(move || {
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            driver::sign_p2(&mut b, &mut rng, s2, &ctx(2, 1), &digest).unwrap()
        });
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let sig = driver::sign_p1(
            &mut a,
            &mut rng,
            s1,
            crate::fixtures::params(),
            &ctx(1, 2),
            &digest,
        )
        .unwrap();
        assert_eq!(sig, p2.join().unwrap());
        sig
    });
    VerifyingKey::from_affine(s1.public().q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
}

fn no_temporary_files(dir: &Path, name: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        assert!(!file.contains(".tmp-"), "{name}: {file} left behind");
    }
}

#[test]
fn keygen_is_confirmed_whatever_is_cut_or_crashes() {
    // Messages: party 0's parameters, 1, 2, 3, party 1's acknowledgement, party 0's
    // confirmation.
    let cases = failures(6);
    let mut summary = Vec::new();
    for (name, budget, c1, c2) in &cases {
        let dir = TempDir::new("keygen-case");
        let f1 = ShareFiles::new(&dir.path().join("p1.share"));
        let f2 = ShareFiles::new(&dir.path().join("p2.share"));
        let Attempt { ok1, ok2 } = attempt(dir.path(), *budget, *c1, *c2);
        no_temporary_files(dir.path(), name);
        let s1 = active::<KeyShareP1>(&f1);
        let s2 = active::<KeyShareP2>(&f2);
        // Success on one side means the other side has stored its share.
        if ok1 {
            assert!(
                s1.is_some(),
                "{name}: party 0 succeeded with its share active"
            );
            assert!(
                f2.path().exists() || f2.pending_path().exists(),
                "{name}: party 0 succeeded, so party 1 stored its share"
            );
        }
        if ok2 {
            assert!(
                s2.is_some(),
                "{name}: party 1 succeeded with its share active"
            );
            assert!(
                s1.is_some(),
                "{name}: party 1 succeeded, so party 0's is active"
            );
        }
        // Party 0 reports the key it keeps active unless it crashed: a cut of its last
        // message (the confirmation) does not undo what party 1 already stored.
        if s1.is_some() && c1.is_none() {
            assert!(
                ok1,
                "{name}: party 0 keeps the key active, so it reports it"
            );
        }
        // Party 1 makes its share active only after party 0 did.
        if s2.is_some() {
            assert!(s1.is_some(), "{name}: party 1 active alone");
        }
        match (s1, s2) {
            // Both active (party 1 may still have died after its promotion): they sign.
            (Some(mut s1), Some(s2)) => sign_together(&mut s1, &s2),
            // Party 0 active, party 1 still pending (it missed the confirmation): the
            // pending file is party 1's half, which the refusal tells how to adopt.
            (Some(_), None) => assert!(
                f2.pending_path().exists(),
                "{name}: party 0 is active, so party 1 stored its share"
            ),
            (None, _) => assert!(!ok1 && !ok2, "{name}: nobody reports success"),
        }
        // A retry into the same files makes a key both sides hold and can sign with.
        let retry = attempt(dir.path(), usize::MAX, None, None);
        assert!(retry.ok1 && retry.ok2, "{name}: retry");
        let mut s1 = active::<KeyShareP1>(&f1).expect("retry: party 0 active");
        let s2 = active::<KeyShareP2>(&f2).expect("retry: party 1 active");
        assert_eq!(s1.public().q, s2.public().q, "{name}: one key");
        sign_together(&mut s1, &s2);
        no_temporary_files(dir.path(), name);
        summary.push(format!("{name}: party 0 ok {ok1}, party 1 ok {ok2}"));
    }
    assert_eq!(summary.len(), 14, "{summary:#?}");
}

/// A transport that replaces the `nth` message it sends (1-based) with `rewrite` of it.
struct Rewriting<T> {
    inner: T,
    sent: usize,
    nth: usize,
    rewrite: fn(&[u8]) -> Vec<u8>,
}

impl<T: Transport> Transport for Rewriting<T> {
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError> {
        self.sent += 1;
        if self.sent == self.nth {
            return self.inner.send(&(self.rewrite)(msg));
        }
        self.inner.send(msg)
    }
    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
        self.inner.recv(buf)
    }
}

/// Keygen in `dir` with `party`'s `nth` sent message rewritten; returns both results.
fn keygen_rewritten(
    dir: &Path,
    party: ecdsa2pc_core::Party,
    nth: usize,
    rewrite: fn(&[u8]) -> Vec<u8>,
) -> (Result<KeyShareP1, NetError>, Result<KeyShareP2, NetError>) {
    use ecdsa2pc_core::Party;
    let wrap = |inner, who| Rewriting {
        inner,
        sent: 0,
        nth: if who == party { nth } else { 0 },
        rewrite,
    };
    let (a, b) = pipe(usize::MAX);
    let (mut a, mut b) = (wrap(a, Party::P1), wrap(b, Party::P2));
    let mut f1 = ShareFiles::new(&dir.join("p1.share"));
    let mut f2 = ShareFiles::new(&dir.join("p2.share"));
    thread::scope(|s| {
        let p2 = s.spawn(|| {
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            let r = driver::keygen_p2_persisted(
                &mut b,
                &mut rng,
                &ctx(2, 1),
                &mut crate::fixtures::trusted,
                &mut f2,
            );
            drop(b);
            r
        });
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let r1 = driver::keygen_p1_persisted(
            &mut a,
            &mut rng,
            &ctx(1, 2),
            crate::fixtures::paillier(0),
            crate::fixtures::params(),
            &ParamsMsgCache::in_memory(),
            &mut f1,
        );
        drop(a);
        (r1, p2.join().unwrap())
    })
}

/// Each check of the confirmation frames, fed the bad input: another length or tag is
/// `Malformed`, another key `SessionMismatch`; the receiver aborts, and nobody keeps an
/// active share.
#[test]
fn a_bad_acknowledgement_or_confirmation_is_refused_with_its_own_error() {
    use ecdsa2pc_core::{Error as CoreError, Party};
    use ecdsa2pc_net::{PeerAbort, ProtocolError};
    fn truncated(m: &[u8]) -> Vec<u8> {
        m[..m.len() - 1].to_vec()
    }
    fn other_tag(m: &[u8]) -> Vec<u8> {
        // A reflected confirmation: party 0's tag where party 1's belongs, and back.
        let mut v = m.to_vec();
        let swapped: &[u8; 16] = if m.starts_with(b"E2KEYGEN-STORED1") {
            b"E2KEYGEN-ACTIVE1"
        } else {
            b"E2KEYGEN-STORED1"
        };
        v[..16].copy_from_slice(swapped);
        v
    }
    fn other_key(m: &[u8]) -> Vec<u8> {
        let mut v = m.to_vec();
        *v.last_mut().unwrap() ^= 1;
        v
    }
    type Rewrite = fn(&[u8]) -> Vec<u8>;
    let cases: [(&str, Party, usize, Rewrite, CoreError, &str); 6] = [
        (
            "acknowledgement cut short",
            Party::P2,
            2,
            truncated,
            CoreError::Malformed,
            "keygen, acknowledgement",
        ),
        (
            "acknowledgement with party 0's tag",
            Party::P2,
            2,
            other_tag,
            CoreError::Malformed,
            "keygen, acknowledgement",
        ),
        (
            "acknowledgement for another key",
            Party::P2,
            2,
            other_key,
            CoreError::SessionMismatch,
            "keygen, acknowledgement",
        ),
        (
            "confirmation cut short",
            Party::P1,
            4,
            truncated,
            CoreError::Malformed,
            "keygen, confirmation",
        ),
        (
            "confirmation with party 1's tag",
            Party::P1,
            4,
            other_tag,
            CoreError::Malformed,
            "keygen, confirmation",
        ),
        (
            "confirmation for another key",
            Party::P1,
            4,
            other_key,
            CoreError::SessionMismatch,
            "keygen, confirmation",
        ),
    ];
    for (name, sender, nth, rewrite, error, step) in cases {
        let dir = TempDir::new("keygen-bad-confirmation");
        let (r1, r2) = keygen_rewritten(dir.path(), sender, nth, rewrite);
        let f1 = ShareFiles::new(&dir.path().join("p1.share"));
        let f2 = ShareFiles::new(&dir.path().join("p2.share"));
        let (refused, other) = match sender {
            Party::P2 => (r1.map(drop).unwrap_err(), r2.map(drop)),
            Party::P1 => (r2.map(drop).unwrap_err(), r1.map(drop)),
        };
        assert!(
            matches!(&refused, NetError::Protocol(ProtocolError { error: e, step: s }) if *e == error && *s == step),
            "{name}: {refused}"
        );
        match sender {
            // Party 0 refused the acknowledgement: it told party 1, and neither keeps
            // anything (an abort in place of the confirmation means party 0 never promoted).
            Party::P2 => {
                assert!(
                    matches!(other, Err(NetError::PeerAbort(PeerAbort { error: e, .. })) if e == error),
                    "{name}: {other:?}"
                );
                assert!(!f1.path().exists() && !f1.pending_path().exists(), "{name}");
                assert!(!f2.path().exists() && !f2.pending_path().exists(), "{name}");
            }
            // Party 1 refused the confirmation: party 0 had already promoted (it sends the
            // confirmation last), party 1 keeps its share pending and says why.
            Party::P1 => {
                assert!(other.is_ok(), "{name}: {other:?}");
                assert!(!f2.path().exists() && f2.pending_path().exists(), "{name}");
            }
        }
    }
}
