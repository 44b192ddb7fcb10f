//! The lock registry: a key locked by a failed signature stays locked when its share file is
//! replaced by an older copy or copied elsewhere, a decryption is recorded before it happens,
//! and a failing registry write ends the run with nothing decrypted and nothing more sent.

use std::thread;

use ecdsa2pc_core::{
    Error as CoreError, KeyShare, KeyShareP1, KeyShareP2, Message, PublicShares, sign,
};
use ecdsa2pc_net::{
    Framed, NetError, ProtocolError, StoreError, Transport,
    driver::{self, Persist},
    lock_registry::{BESIDE_SHARE, Guarded, LockRegistry, LockState},
    memory_pipe,
    store::ShareFiles,
};

use crate::{
    fixtures::{fail_final_check, keygen_over_pipe},
    pair::{ctx1, ctx2},
    support::TempDir,
};

const DIGEST: [u8; 32] = [3; 32];

/// Party 1's share is not `Clone` (secrets are never copied by accident): a test copy.
fn copy(s2: &KeyShareP2) -> KeyShareP2 {
    let mut buf = vec![0u8; KeyShareP2::ENCODED_LEN];
    let len = s2.encode(&mut buf).unwrap();
    KeyShareP2::decode(&buf[..len]).unwrap()
}

fn send<M: Message>(t: &mut impl Transport, msg: &M) {
    let mut out = vec![0u8; M::LEN];
    msg.encode(&mut out).unwrap();
    t.send(&out).unwrap();
}

/// Party 1 for one signature: honest, or (`cheat`) with message 4's ciphertext altered so
/// that the signature fails party 0's final check. Returns what party 0 sent after message 4
/// (`None` if the channel closed without a message).
fn party_1(
    s2: KeyShareP2,
    t: impl Transport + Send + 'static,
    cheat: bool,
) -> thread::JoinHandle<Option<Vec<u8>>> {
    thread::spawn(move || {
        let mut t = t;
        let max = ecdsa2pc_core::MAX_MSG_LEN;
        let mut buf = vec![0u8; max];
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let m1 = sign::Msg1::decode(t.recv(&mut buf).unwrap()).unwrap();
        let (p2, m2) = sign::p2::start(&mut rng, &s2, &ctx2(), &DIGEST, &m1).unwrap();
        send(&mut t, &m2);
        let m3 = sign::Msg3::decode(t.recv(&mut buf).unwrap()).unwrap();
        let (_, mut m4) = p2.on_msg3(&mut rng, &m3).unwrap();
        if cheat {
            m4.c = m4.c.wrapping_add(&crypto_bigint::U4096::ONE);
        }
        send(&mut t, &m4);
        t.recv(&mut buf).ok().map(<[u8]>::to_vec)
    })
}

/// Runs one signature of party 0 over `persist` against [`party_1`].
fn sign_with(
    share: &mut KeyShareP1,
    s2: &KeyShareP2,
    cheat: bool,
    persist: &mut dyn Persist<KeyShareP1>,
) -> (Result<k256::ecdsa::Signature, NetError>, Option<Vec<u8>>) {
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let peer = party_1(copy(s2), Framed::new(b, max), cheat);
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut t = Framed::new(a, max);
    let r = driver::sign_p1_persisted(
        &mut t,
        &mut rng,
        share,
        crate::fixtures::params(),
        &ctx1(),
        &DIGEST,
        &ecdsa2pc_core::bip32::DerivationPath::MASTER,
        persist,
    );
    drop(t);
    (r, peer.join().unwrap())
}

fn assert_refused(registry: &LockRegistry, key: &PublicShares, want: LockState) -> String {
    let err = registry.check(key).unwrap_err();
    let StoreError::KeyLocked { state, .. } = &err else {
        panic!("expected KeyLocked, got {err:?}");
    };
    assert_eq!(*state, want, "{err}");
    err.to_string()
}

#[test]
fn a_locked_key_stays_locked_after_an_older_copy_is_restored_or_the_share_is_copied() {
    let dir = TempDir::new("registry-restore");
    let state = dir.path().join("state");
    let (s1, s2) = keygen_over_pipe(ctx1(), ctx2());
    let share_dir = dir.path().join("shares");
    std::fs::create_dir(&share_dir).unwrap();
    let path = share_dir.join("p1.share");
    let files = ShareFiles::new(&path);
    files.write_active(&s1).unwrap();
    let backup = std::fs::read(&path).unwrap();
    let registry = LockRegistry::new(&path, Some(state.clone()));
    registry.check(s1.public()).unwrap();

    // An honest signature leaves nothing in the registry.
    let mut guarded: Guarded = registry.clone().guard(files.clone());
    let mut share = files.load::<KeyShareP1>().unwrap().active;
    let (r, _) = sign_with(&mut share, &s2, false, &mut guarded);
    r.unwrap();
    registry.check(s1.public()).unwrap();
    for d in registry.dirs() {
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "{}", d.display());
    }

    // A cheating ciphertext is refused by π_c3: nothing is recorded, nothing locked.
    let (r, reply) = sign_with(&mut share, &s2, true, &mut guarded);
    let refused = CoreError::ProofInvalid(ecdsa2pc_core::Proof::SignCiphertext);
    assert!(
        matches!(r, Err(NetError::Protocol(ProtocolError { error, .. })) if error == refused),
        "{r:?}"
    );
    assert_eq!(ecdsa2pc_core::peer_abort(&reply.unwrap()), Some(refused));
    assert!(!share.is_locked());
    registry.check(s1.public()).unwrap();
    for d in registry.dirs() {
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 0, "{}", d.display());
    }

    // A failed final check (a broken proof system) locks the share; the driver's persistence
    // records it in both registry directories, then in the file.
    fail_final_check(&mut share, &s2);
    Persist::<KeyShareP1>::deciding(&mut guarded, share.public()).unwrap();
    Persist::locked(&mut guarded, &share).unwrap();
    assert!(files.load::<KeyShareP1>().unwrap().active.is_locked());
    let msg = assert_refused(&registry, s1.public(), LockState::Locked);
    assert!(msg.contains("its key is locked"), "{msg}");
    assert!(msg.contains("lock registry"), "{msg}");
    assert!(msg.contains("older copy"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");

    // The older, unlocked copy put back: the file is unlocked, the registry is not.
    std::fs::write(&path, &backup).unwrap();
    let restored = files.load::<KeyShareP1>().unwrap().active;
    assert!(!restored.is_locked());
    assert_refused(&registry, restored.public(), LockState::Locked);

    // A copy at another path, in another directory: the per-user registry refuses it.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let copy = elsewhere.join("renamed.share");
    std::fs::copy(&path, &copy).unwrap();
    let copied = ShareFiles::new(&copy).load::<KeyShareP1>().unwrap().active;
    assert_refused(
        &LockRegistry::new(&copy, Some(state.clone())),
        copied.public(),
        LockState::Locked,
    );
    // A copy at another name in the same directory, without the per-user registry: the
    // registry beside the share refuses it.
    let sibling = share_dir.join("other-name.share");
    std::fs::copy(&path, &sibling).unwrap();
    assert_refused(
        &LockRegistry::new(&sibling, None),
        copied.public(),
        LockState::Locked,
    );
    assert!(share_dir.join(BESIDE_SHARE).is_dir());
}

#[test]
fn a_failing_registry_write_before_decryption_decrypts_nothing_and_sends_only_an_abort() {
    let dir = TempDir::new("registry-unwritable");
    let (s1, s2) = keygen_over_pipe(ctx1(), ctx2());
    let path = dir.path().join("p1.share");
    let files = ShareFiles::new(&path);
    files.write_active(&s1).unwrap();
    // The per-user registry "directory" is a file: no entry can be written there.
    let state = dir.path().join("not-a-dir");
    std::fs::write(&state, b"a file").unwrap();
    let registry = LockRegistry::new(&path, Some(state));
    let mut guarded = registry.clone().guard(files.clone());
    let mut share = files.load::<KeyShareP1>().unwrap().active;

    // An honest party 1: its message 4 passes every check, and the registry write that
    // must precede decryption fails.
    let (r, reply) = sign_with(&mut share, &s2, false, &mut guarded);
    let err = r.unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Store(StoreError::Write {
                action: "cannot create the lock registry directory",
                ..
            })
        ),
        "{err}"
    );
    // Nothing after message 4 but an abort that says party 0 could not store: no signature
    // (nothing was decrypted, so there is nothing to send).
    assert_eq!(
        reply.as_deref().and_then(ecdsa2pc_core::peer_abort),
        Some(ecdsa2pc_core::Error::StorageFailed)
    );
    // The core holds the share locked in memory from the moment it accepts message 4 for
    // decryption (fail closed); that copy is dropped with the run.
    assert!(share.is_locked());
    // Nothing leaked, so nothing stays behind in the registry and the share on disk signs.
    registry.check(s1.public()).unwrap();
    let mut reloaded = files.load::<KeyShareP1>().unwrap().active;
    assert!(!reloaded.is_locked());
    let mut guarded = LockRegistry::new(&path, None).guard(files.clone());
    let (r, _) = sign_with(&mut reloaded, &s2, false, &mut guarded);
    r.unwrap();
}

/// Guarded persistence whose lock write fails (a full disk at the worst moment).
struct LockWriteFails(Guarded);

impl Persist<KeyShareP1> for LockWriteFails {
    fn pending(&mut self, s: &KeyShareP1) -> Result<(), NetError> {
        self.0.pending(s)
    }
    fn promote(&mut self) -> Result<(), NetError> {
        Persist::<KeyShareP1>::promote(&mut self.0)
    }
    fn deciding(&mut self, key: &PublicShares) -> Result<(), NetError> {
        Persist::<KeyShareP1>::deciding(&mut self.0, key)
    }
    fn decided(&mut self, key: &PublicShares) -> Result<(), NetError> {
        Persist::<KeyShareP1>::decided(&mut self.0, key)
    }
    fn discard(&mut self) -> Result<(), NetError> {
        Persist::<KeyShareP1>::discard(&mut self.0)
    }
    fn locked(&mut self, _: &KeyShareP1) -> Result<(), NetError> {
        Err(StoreError::Write {
            path: "registry".into(),
            action: "cannot write",
            source: std::io::Error::other("no space left on device (simulated)"),
        }
        .into())
    }
}

#[test]
fn a_failing_lock_write_after_a_failed_signature_leaves_the_key_refused() {
    let dir = TempDir::new("registry-lock-fails");
    let (s1, s2) = keygen_over_pipe(ctx1(), ctx2());
    let path = dir.path().join("p1.share");
    let files = ShareFiles::new(&path);
    files.write_active(&s1).unwrap();
    let registry = LockRegistry::new(&path, Some(dir.path().join("state")));
    let mut persist = LockWriteFails(registry.clone().guard(files.clone()));
    let mut share = files.load::<KeyShareP1>().unwrap().active;

    // As the driver runs it: `deciding` before decrypting, then the failed final check and
    // a lock write that fails (the driver then sends nothing more).
    Persist::<KeyShareP1>::deciding(&mut persist, share.public()).unwrap();
    fail_final_check(&mut share, &s2);
    let r = persist.locked(&share);
    assert!(matches!(r, Err(NetError::Store(_))), "{r:?}");
    // The share file was never locked, but the record made before decrypting refuses the key
    // in every later run, in this process or another.
    assert!(!files.load::<KeyShareP1>().unwrap().active.is_locked());
    let msg = assert_refused(&registry, s1.public(), LockState::Deciding);
    assert!(msg.contains("never recorded its outcome"), "{msg}");
}
