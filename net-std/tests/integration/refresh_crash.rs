//! Refresh that survives failure: cut the link before every message, or crash either party
//! before or after every persistence step; after a restart both parties agree on one epoch,
//! sign with it under the unchanged public key, and can refresh again. The cut link and the
//! crashing persistence serve the keygen tests too (`keygen_confirm`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use ecdsa2pc_core::{Context, KeyShare, KeyShareP1, KeyShareP2};
use ecdsa2pc_net::{
    Framed, MemoryEnd, NetError, Phase, Transport, TransportError,
    driver::{self, Persist},
    epoch, memory_pipe,
    store::ShareFiles,
};
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

use crate::support::TempDir;

pub(crate) fn ctx(own: u8, peer: u8) -> Context<'static> {
    Context {
        own_pid: [own; 32],
        peer_pid: [peer; 32],
        channel_binding: b"crash",
    }
}

/// A transport that stops working once the shared budget of sent messages is spent, as a
/// cut connection would; the peer then sees the pipe close.
pub(crate) struct Cut {
    inner: Framed<MemoryEnd>,
    budget: Arc<AtomicUsize>,
}

impl Transport for Cut {
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError> {
        if self
            .budget
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
            .is_err()
        {
            return Err(NetError::Transport(TransportError::PeerClosed {
                phase: Phase::Send,
                mid_message: false,
            }));
        }
        self.inner.send(msg)
    }
    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
        self.inner.recv(buf)
    }
}

pub(crate) fn pipe(budget: usize) -> (Cut, Cut) {
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let budget = Arc::new(AtomicUsize::new(budget));
    (
        Cut {
            inner: Framed::new(a, max),
            budget: budget.clone(),
        },
        Cut {
            inner: Framed::new(b, max),
            budget,
        },
    )
}

/// Persistence that "crashes" (stops the run) at one step, before or after doing it.
pub(crate) struct Crashing {
    pub(crate) files: ShareFiles,
    pub(crate) at: Crash,
}

impl Crashing {
    fn check(&self, step: &'static str, after: bool) -> Result<(), NetError> {
        if self.at == Some((step, after)) {
            return Err(NetError::Transport(TransportError::Io {
                phase: Phase::Close,
                source: std::io::Error::other("simulated crash"),
            }));
        }
        Ok(())
    }
}

impl<S: KeyShare> Persist<S> for Crashing {
    fn pending(&mut self, share: &S) -> Result<(), NetError> {
        self.check("pending", false)?;
        self.files.write_pending(share)?;
        self.check("pending", true)
    }
    fn promote(&mut self) -> Result<(), NetError> {
        self.check("promote", false)?;
        self.files.promote()?;
        self.check("promote", true)
    }
    // Refresh never decrypts a signature: these are not reached here.
    fn deciding(&mut self, _: &ecdsa2pc_core::PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn decided(&mut self, _: &ecdsa2pc_core::PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn locked(&mut self, share: &S) -> Result<(), NetError> {
        Ok(self.files.write_active(share)?)
    }
    fn discard(&mut self) -> Result<(), NetError> {
        self.check("discard", false)?;
        self.files.discard_pending()?;
        self.check("discard", true)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// After a failure: restart both parties from their files, agree, sign; returns the epoch.
fn restart_and_sign(dir: &Path, q: &k256::AffinePoint) -> u64 {
    let f1 = ShareFiles::new(&dir.join("p1.share"));
    let f2 = ShareFiles::new(&dir.join("p2.share"));
    let (mut a, mut b) = pipe(usize::MAX);
    let digest = [0x5au8; 32];
    let p2 = thread::spawn(move || {
        let share: KeyShareP2 = epoch::agree(&mut b, &f2, f2.load().unwrap()).unwrap();
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let sig = driver::sign_p2(&mut b, &mut rng, &share, &ctx(2, 1), &digest).unwrap();
        assert!(
            !f2.pending_path().exists(),
            "no pending share is left behind"
        );
        (share.epoch(), share.fingerprint(), sig)
    });
    let mut share: KeyShareP1 = epoch::agree(&mut a, &f1, f1.load().unwrap()).unwrap();
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let sig = driver::sign_p1(
        &mut a,
        &mut rng,
        &mut share,
        crate::fixtures::params(),
        &ctx(1, 2),
        &digest,
    )
    .unwrap();
    assert!(
        !f1.pending_path().exists(),
        "no pending share is left behind"
    );
    let (epoch2, fp2, sig2) = p2.join().unwrap();
    assert_eq!(share.epoch(), epoch2, "both sides use the same epoch");
    assert_eq!(share.fingerprint(), fp2, "and the same shares of it");
    assert_eq!(sig, sig2);
    assert_eq!(share.public().q, *q);
    VerifyingKey::from_affine(*q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
    share.epoch()
}

/// Where a party crashes: (persistence step, after doing it).
pub(crate) type Crash = Option<(&'static str, bool)>;

/// A named failure: (name, messages before the cut, party 0's crash, party 1's crash).
pub(crate) type Case = (String, usize, Crash, Crash);

/// Every failure of a two-phase protocol of `messages` messages: the link cut before each
/// message, and either party crashing before or after its pending write and its promotion.
pub(crate) fn failures(messages: usize) -> Vec<Case> {
    let mut cases: Vec<Case> = (0..messages)
        .map(|budget| {
            let name = format!("link cut before message {}", budget + 1);
            (name, budget, None, None)
        })
        .collect();
    for step in ["pending", "promote"] {
        for after in [false, true] {
            let when = if after { "after" } else { "before" };
            cases.push((
                format!("party 0 dies {when} {step}"),
                usize::MAX,
                Some((step, after)),
                None,
            ));
            cases.push((
                format!("party 1 dies {when} {step}"),
                usize::MAX,
                None,
                Some((step, after)),
            ));
        }
    }
    cases
}

/// One refresh attempt that may be cut after `budget` messages or crash at a persistence step.
fn attempt(
    dir: &Path,
    budget: usize,
    crash1: Option<(&'static str, bool)>,
    crash2: Option<(&'static str, bool)>,
) -> bool {
    let f1 = ShareFiles::new(&dir.join("p1.share"));
    let f2 = ShareFiles::new(&dir.join("p2.share"));
    let (mut a, mut b) = pipe(budget);
    let p2 = thread::spawn(move || {
        let share: KeyShareP2 = f2.load().unwrap().active;
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let mut persist = Crashing {
            files: f2,
            at: crash2,
        };
        driver::refresh_p2(&mut b, &mut rng, &share, &ctx(2, 1), &mut persist).is_ok()
    });
    let share: KeyShareP1 = f1.load().unwrap().active;
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut persist = Crashing {
        files: f1,
        at: crash1,
    };
    let ok1 = driver::refresh_p1(
        &mut a,
        &mut rng,
        &share,
        &ctx(1, 2),
        crate::fixtures::paillier(1),
        &mut persist,
    )
    .is_ok();
    drop(a);
    let ok2 = p2.join().unwrap();
    ok1 && ok2
}

#[test]
fn refresh_survives_a_cut_or_a_crash_at_every_step() {
    let base = TempDir::new("crash-base");
    let q = {
        let (mut a, mut b) = pipe(usize::MAX);
        let p2 = thread::spawn(move || {
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            driver::keygen_p2(&mut b, &mut rng, &ctx(2, 1), &mut crate::fixtures::trusted).unwrap()
        });
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let s1 = driver::keygen_p1(
            &mut a,
            &mut rng,
            &ctx(1, 2),
            crate::fixtures::paillier(0),
            crate::fixtures::params(),
        )
        .unwrap();
        let s2 = p2.join().unwrap();
        ShareFiles::new(&base.path().join("p1.share"))
            .write_active(&s1)
            .unwrap();
        ShareFiles::new(&base.path().join("p2.share"))
            .write_active(&s2)
            .unwrap();
        s1.public().q
    };

    let cases = failures(6);
    let mut summary: Vec<String> = Vec::new();
    for (name, budget, c1, c2) in &cases {
        let dir = TempDir::new("crash-case");
        copy_dir(base.path(), dir.path());
        let completed = attempt(dir.path(), *budget, *c1, *c2);
        let epoch = restart_and_sign(dir.path(), &q);
        assert!(epoch <= 1, "{name}: epoch {epoch}");
        if completed {
            assert_eq!(epoch, 1, "{name}: a completed refresh is kept");
        }
        // And the key keeps working: another refresh from the agreed epoch succeeds.
        assert!(
            attempt(dir.path(), usize::MAX, None, None),
            "{name}: refresh after recovery"
        );
        assert_eq!(restart_and_sign(dir.path(), &q), epoch + 1, "{name}");
        summary.push(format!("{name}: recovered at epoch {epoch}"));
    }
    assert_eq!(summary.len(), 14);
}
