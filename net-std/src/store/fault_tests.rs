//! The failing-write matrix (issue 14): keygen's share write and promotion, refresh's pending
//! write and promotion, and party 0's lock-registry records fail at every step of their write
//! (half the bytes written, as on a full disk, at `Step::Write`). After each failure the
//! failing party reports a [`StoreError::Write`] naming the file, no temporary file is left,
//! and the previous valid share is still there and signs (or, for a lock, the key stays
//! refused and nothing was decrypted).

use core::cell::Cell;
use std::rc::Rc;
use std::thread;

use ecdsa2pc_core::{Context, KeyShare, KeyShareP1, KeyShareP2, MAX_MSG_LEN, Party};

use super::sealed_tests::{keys, paillier, ring_pedersen};
use super::tests::{names, scratch};
use super::*;
use crate::driver::{self, Persist};
use crate::lock_registry::LockRegistry;
use crate::{Framed, MemoryEnd, NetError, epoch, memory_pipe};

/// The steps of a lock-registry entry's write (`create_entry`: no temporary file, no rename).
const ENTRY_STEPS: [Step; 3] = [Step::Create, Step::Write, Step::SyncDir];

const STEPS: [Step; 5] = [
    Step::Create,
    Step::Write,
    Step::Sync,
    Step::Rename,
    Step::SyncDir,
];

/// While it lives, the `nth` time (1-based) this thread reaches `step` in a write (or
/// promotion) of a file whose name ends in `suffix`, that step fails with ENOSPC.
struct Fault {
    hit: Rc<Cell<bool>>,
}

impl Fault {
    fn at(suffix: &'static str, step: Step, nth: usize) -> Self {
        let hit = Rc::new(Cell::new(false));
        let seen = Rc::clone(&hit);
        let mut count = 0;
        INJECT.with(|i| {
            *i.borrow_mut() = Some(Box::new(move |path: &Path, at: Step| {
                if at == step && path.to_string_lossy().ends_with(suffix) {
                    count += 1;
                    if count == nth {
                        seen.set(true);
                        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
                    }
                }
                Ok(())
            }));
        });
        Self { hit }
    }

    /// Whether the fault was reached.
    fn hit(&self) -> bool {
        self.hit.get()
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        INJECT.with(|i| *i.borrow_mut() = None);
    }
}

/// Where a case fails: (file suffix, step, occurrence), and a name for messages.
type Case = (&'static str, Step, usize, String);

/// The pending write at every step, then the promotion's rename and directory sync.
fn pending_and_promote_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = STEPS
        .iter()
        .map(|&s| (".pending", s, 1, format!("pending write, {s:?}")))
        .collect();
    cases.push((".pending", Step::Rename, 2, "promotion, rename".into()));
    cases.push((
        ".share",
        Step::SyncDir,
        1,
        "promotion, directory sync".into(),
    ));
    cases
}

fn ctx(own: u8, peer: u8) -> Context<'static> {
    Context {
        own_pid: [own; 32],
        peer_pid: [peer; 32],
        channel_binding: b"faults",
    }
}

fn pipe() -> (Framed<MemoryEnd>, Framed<MemoryEnd>) {
    let (a, b) = memory_pipe();
    (Framed::new(a, MAX_MSG_LEN), Framed::new(b, MAX_MSG_LEN))
}

/// Both parties sign with `s1`, `s2` and get the same signature (each driver verifies it
/// under Q before returning it).
fn signs(s1: &mut KeyShareP1, s2: &KeyShareP2) {
    let digest = [0x33u8; 32];
    let (mut a, mut b) = pipe();
    thread::scope(|s| {
        let p2 = s.spawn(move || {
            let mut rng = crate::rng::os_rng().unwrap();
            driver::sign_p2(&mut b, &mut rng, s2, &ctx(2, 1), &digest).unwrap()
        });
        let mut rng = crate::rng::os_rng().unwrap();
        let sig =
            driver::sign_p1(&mut a, &mut rng, s1, ring_pedersen(), &ctx(1, 2), &digest).unwrap();
        assert_eq!(sig, p2.join().unwrap());
    });
}

/// The failing party's error: a write error naming one of its files and the cause.
fn assert_names_file(err: &NetError, files: &ShareFiles, name: &str) {
    let NetError::Store(StoreError::Write { path, .. }) = err else {
        panic!("{name}: expected a write error, got {err}");
    };
    assert!(
        path == files.path() || path == files.pending_path(),
        "{name}: {}",
        path.display()
    );
    let text = err.to_string();
    assert!(
        text.contains(&files.path().display().to_string()) && text.contains("No space left"),
        "{name}: {text}"
    );
}

fn assert_no_temporary_file(dir: &Path, name: &str) {
    for file in names(dir) {
        assert!(!file.contains(".tmp-"), "{name}: {file} left behind");
    }
}

/// The failing party, and where its write fails: (file suffix, step, occurrence).
type Where = (Party, &'static str, Step, usize);

/// Runs party 0's side `p1` here and party 1's side `p2` on another thread, each over its end
/// of a pipe with its share files and randomness, the fault installed on the failing party's
/// thread (and checked to have been reached). Each side's end closes when it returns.
fn run_pair<A, B: Send>(
    (faulty, suffix, step, nth): Where,
    (f1, f2): (&ShareFiles, &ShareFiles),
    p1: impl FnOnce(&mut Framed<MemoryEnd>, &mut rand_chacha::ChaCha20Rng, &mut ShareFiles) -> A,
    p2: impl FnOnce(&mut Framed<MemoryEnd>, &mut rand_chacha::ChaCha20Rng, &mut ShareFiles) -> B + Send,
) -> (A, B) {
    let (mut a, mut b) = pipe();
    let installed = move |party: Party| (faulty == party).then(|| Fault::at(suffix, step, nth));
    let reached = |fault: Option<Fault>| assert!(fault.is_none_or(|f| f.hit()), "fault reached");
    thread::scope(|s| {
        let mut p2files = f2.clone();
        let theirs = s.spawn(move || {
            let fault = installed(Party::P2);
            let out = p2(&mut b, &mut crate::rng::os_rng().unwrap(), &mut p2files);
            drop(b);
            reached(fault);
            out
        });
        let fault = installed(Party::P1);
        let ours = p1(&mut a, &mut crate::rng::os_rng().unwrap(), &mut f1.clone());
        drop(a);
        reached(fault);
        (ours, theirs.join().unwrap())
    })
}

/// Two share files in `dir` holding key 0 at epoch 0.
fn with_old_key(dir: &Path) -> (ShareFiles, ShareFiles) {
    let (s1, s2) = &keys()[0];
    let f1 = ShareFiles::new(&dir.join("p1.share"));
    let f2 = ShareFiles::new(&dir.join("p2.share"));
    f1.write_active(s1).unwrap();
    f2.write_active(s2).unwrap();
    (f1, f2)
}

/// Party 0 signs `digest` with the share in `f1` through `registry`'s guard, party 1 with
/// `s2` on another thread: both outcomes. Faults set on this thread hit party 0 only.
fn sign_guarded(
    f1: &ShareFiles,
    registry: &LockRegistry,
    s2: &KeyShareP2,
    digest: [u8; 32],
) -> (
    Result<k256::ecdsa::Signature, NetError>,
    Result<k256::ecdsa::Signature, NetError>,
) {
    let mut share: KeyShareP1 = f1.load_active().unwrap();
    let (mut a, mut b) = pipe();
    thread::scope(|s| {
        let p2 = s.spawn(move || {
            let mut rng = crate::rng::os_rng().unwrap();
            driver::sign_p2(&mut b, &mut rng, s2, &ctx(2, 1), &digest)
        });
        let mut rng = crate::rng::os_rng().unwrap();
        let mut guard = registry.clone().guard(f1.clone());
        let r = driver::sign_p1_persisted(
            &mut a,
            &mut rng,
            &mut share,
            ring_pedersen(),
            &ctx(1, 2),
            &digest,
            &ecdsa2pc_core::bip32::DerivationPath::MASTER,
            &mut guard,
        );
        drop(a);
        (r, p2.join().unwrap())
    })
}

#[test]
fn keygen_writes_failing_at_each_step_lose_nothing() {
    let old_q = keys()[0].0.public().q;
    for faulty in [Party::P1, Party::P2] {
        for (suffix, step, nth, what) in pending_and_promote_cases() {
            let name = format!("{faulty}, keygen {what}");
            let dir = scratch("fault-keygen");
            // Keygen over an existing key's files (as with --force): the old key must survive
            // every failure before the new one is active on both sides.
            let (f1, f2) = with_old_key(&dir);
            let (r1, r2) = run_pair(
                (faulty, suffix, step, nth),
                (&f1, &f2),
                |t, rng, files| {
                    driver::keygen_p1_persisted(
                        t,
                        rng,
                        &ctx(1, 2),
                        paillier(1),
                        ring_pedersen(),
                        &crate::params_msg::ParamsMsgCache::in_memory(),
                        files,
                    )
                },
                |t, rng, files| {
                    driver::keygen_p2_persisted(t, rng, &ctx(2, 1), &mut crate::pins::verify, files)
                },
            );
            let (err, files) = match faulty {
                Party::P1 => (r1.as_ref().map(drop).unwrap_err(), &f1),
                Party::P2 => (r2.as_ref().map(drop).unwrap_err(), &f2),
            };
            assert_names_file(err, files, &name);
            assert_no_temporary_file(&dir, &name);
            let mut a1: KeyShareP1 = f1.load_active().unwrap();
            let a2: KeyShareP2 = f2.load_active().unwrap();
            if a1.public().q == old_q {
                // Party 0 never promoted: the old key is intact on both sides, and signs.
                assert!(r1.is_err() && r2.is_err(), "{name}: nobody reports success");
                assert_eq!(a2.public().q, old_q, "{name}");
                assert!(!f1.pending_path().exists(), "{name}: party 0 discarded");
                signs(&mut a1, &a2);
            } else {
                // Party 0 promoted, so party 1 had stored the new share: active (then both
                // sign with it) or pending (kept, refused as a share until adopted).
                if a2.public().q == a1.public().q {
                    signs(&mut a1, &a2);
                } else {
                    let pending: KeyShareP2 = f2.load_pending().unwrap();
                    assert_eq!(pending.public().q, a1.public().q, "{name}");
                    assert!(r2.is_err(), "{name}");
                }
            }
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn refresh_writes_failing_at_each_step_lose_nothing() {
    let q = keys()[0].0.public().q;
    for faulty in [Party::P1, Party::P2] {
        for (suffix, step, nth, what) in pending_and_promote_cases() {
            let name = format!("{faulty}, refresh {what}");
            let dir = scratch("fault-refresh");
            let (f1, f2) = with_old_key(&dir);
            let (r1, r2) = run_pair(
                (faulty, suffix, step, nth),
                (&f1, &f2),
                |t, rng, files| {
                    let share: KeyShareP1 = files.load_active().unwrap();
                    driver::refresh_p1(t, rng, &share, &ctx(1, 2), paillier(1), files).map(drop)
                },
                |t, rng, files| {
                    let share: KeyShareP2 = files.load_active().unwrap();
                    driver::refresh_p2(t, rng, &share, &ctx(2, 1), files).map(drop)
                },
            );
            let (err, files) = match faulty {
                Party::P1 => (r1.as_ref().unwrap_err(), &f1),
                Party::P2 => (r2.as_ref().unwrap_err(), &f2),
            };
            assert_names_file(err, files, &name);
            assert_no_temporary_file(&dir, &name);
            // A restart: both agree on an epoch they hold, and it signs under the same Q.
            let (mut a, mut b) = pipe();
            let (mut s1, s2) = thread::scope(|s| {
                let p2 = s.spawn(|| epoch::agree(&mut b, &f2, f2.load::<KeyShareP2>().unwrap()));
                let s1 = epoch::agree(&mut a, &f1, f1.load::<KeyShareP1>().unwrap()).unwrap();
                (s1, p2.join().unwrap().unwrap())
            });
            assert_eq!(s1.epoch(), s2.epoch(), "{name}");
            assert_eq!(s1.public().q, q, "{name}");
            signs(&mut s1, &s2);
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn lock_writes_failing_at_each_step_leave_nothing_decrypted_or_the_key_refused() {
    let (s1, s2) = &keys()[0];
    // The `.deciding` record before decryption: nothing is decrypted or sent, and the key
    // is usable again afterwards (nothing leaked).
    // In the first registry directory, then in the second (the first entry, made, is
    // removed again).
    for (step, nth) in ENTRY_STEPS.into_iter().flat_map(|s| [(s, 1), (s, 2)]) {
        let name = format!("deciding record, {step:?}, directory {nth}");
        let dir = scratch("fault-deciding");
        let (f1, _) = with_old_key(&dir);
        let registry = LockRegistry::new(f1.path(), Some(dir.join("state")));
        let fault = Fault::at(".deciding", step, nth);
        let (r1, r2) = sign_guarded(&f1, &registry, s2, [0x44u8; 32]);
        assert!(fault.hit(), "{name}: the fault was reached");
        drop(fault);
        let err = r1.unwrap_err();
        assert!(
            matches!(&err, NetError::Store(StoreError::Write { path, .. })
                if path.to_string_lossy().ends_with(".deciding")),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("No space left"), "{name}: {err}");
        // Party 1 got no signature: only the abort that says party 0 could not store.
        assert!(
            matches!(
                r2,
                Err(NetError::PeerAbort(crate::PeerAbort {
                    error: ecdsa2pc_core::Error::StorageFailed,
                    ..
                }))
            ),
            "{name}: {r2:?}"
        );
        for d in registry.dirs() {
            if d.exists() {
                assert_no_temporary_file(d, &name);
            }
        }
        registry.check(s1.public()).unwrap();
        for d in registry.dirs() {
            let left = fs::read_dir(d).into_iter().flatten().count();
            assert_eq!(left, 0, "{name}: no entry is left in {}", d.display());
        }
        let mut again: KeyShareP1 = f1.load_active().unwrap();
        signs(&mut again, s2);
        fs::remove_dir_all(&dir).unwrap();
    }
    // The lock after a failed signature: the registry's `.locked` entry and then the share
    // file. Whichever write fails, the key stays refused (the `.deciding` entry stays).
    for (suffix, what, steps) in [
        (".locked", "registry entry", &ENTRY_STEPS[..]),
        ("p1.share", "share file", &STEPS[..]),
    ] {
        for &step in steps {
            let name = format!("lock, {what}, {step:?}");
            let dir = scratch("fault-locked");
            let (f1, _) = with_old_key(&dir);
            let registry = LockRegistry::new(f1.path(), Some(dir.join("state")));
            let mut guard = registry.clone().guard(f1.clone());
            Persist::<KeyShareP1>::deciding(&mut guard, s1.public()).unwrap();
            let fault = Fault::at(suffix, step, 1);
            let err = Persist::<KeyShareP1>::locked(&mut guard, s1).unwrap_err();
            assert!(fault.hit(), "{name}: the fault was reached");
            drop(fault);
            assert!(
                matches!(&err, NetError::Store(StoreError::Write { path, .. })
                    if path.to_string_lossy().ends_with(suffix)),
                "{name}: {err}"
            );
            assert!(err.to_string().contains("No space left"), "{name}: {err}");
            assert!(
                matches!(
                    registry.check(s1.public()),
                    Err(StoreError::KeyLocked { .. })
                ),
                "{name}: the key stays refused"
            );
            assert_no_temporary_file(&dir, &name);
            for d in registry.dirs() {
                assert_no_temporary_file(d, &name);
            }
            // The share file itself is whole: the old one or the rewritten one.
            let kept: KeyShareP1 = f1.load_active().unwrap();
            assert_eq!(kept.fingerprint(), s1.fingerprint(), "{name}");
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

/// A new registry directory's missing ancestors are synced into their parents as well,
/// outermost first; a failure to sync one ends the record with an error naming it and
/// removes the directories the record made, so that the next record makes and syncs them
/// again.
#[test]
fn a_new_registry_directorys_ancestors_are_synced() {
    let (s1, _) = &keys()[0];
    let dir = scratch("fault-ancestors");
    let new = dir.join("new");
    let state = new.join("deeper").join("locks");
    let registry = LockRegistry::new(&dir.join("p0.share"), Some(state.clone()));

    // Which directories a record syncs, in which order.
    let record_syncing = || {
        let synced = Rc::new(core::cell::RefCell::new(Vec::new()));
        let log = Rc::clone(&synced);
        INJECT.with(|i| {
            *i.borrow_mut() = Some(Box::new(move |path: &Path, at: Step| {
                if at == Step::SyncDir && path.is_dir() {
                    log.borrow_mut().push(path.to_path_buf());
                }
                Ok(())
            }));
        });
        let recorded = registry.record_locked(s1.public());
        INJECT.with(|i| *i.borrow_mut() = None);
        recorded.unwrap();
        synced.take()
    };
    assert_eq!(
        record_syncing(),
        [
            new.clone(),
            new.join("deeper"),
            state.clone(),
            dir.join(crate::lock_registry::BESIDE_SHARE)
        ]
    );
    fs::remove_dir_all(&new).unwrap();

    for suffix in ["/new", "/deeper", "/locks"] {
        let fault = Fault::at(suffix, Step::SyncDir, 1);
        let err = registry.record_locked(s1.public()).unwrap_err();
        assert!(fault.hit(), "{suffix}: the fault was reached");
        drop(fault);
        assert!(
            matches!(&err, StoreError::Write { path, .. }
                if path.to_string_lossy().ends_with(suffix)),
            "{suffix}: {err}"
        );
        assert!(err.to_string().contains("No space left"), "{suffix}: {err}");
        assert!(!new.exists(), "{suffix}: the directories made were removed");
        // The next record makes and syncs them again, and the key is refused.
        assert_eq!(
            record_syncing()[..3],
            [new.clone(), new.join("deeper"), state.clone()],
            "{suffix}"
        );
        let entries: Vec<_> = fs::read_dir(&state).unwrap().flatten().collect();
        assert!(
            entries.len() == 1
                && entries[0]
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".locked"),
            "{suffix}: the entry is in the remade directory"
        );
        fs::remove_dir_all(&new).unwrap();
    }

    // A directory that cannot be made at all (its name is too long) after its parent was
    // made: the parent is removed again too.
    let registry = LockRegistry::new(&dir.join("p0.share"), Some(new.join("x".repeat(300))));
    let err = registry.record_locked(s1.public()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Write { action, .. }
            if action.contains("lock registry directory")),
        "{err}"
    );
    assert!(!new.exists(), "the parent it made was removed");
    fs::remove_dir_all(&dir).unwrap();
}

/// A registry directory that another process makes between a record's check and its own
/// make is that process's: when the record then fails (a deeper directory's sync), it removes
/// only the directories it made itself, and the other's stays for the entry that process is
/// about to make in it.
#[test]
fn a_directory_made_meanwhile_by_another_process_is_not_removed_by_a_failed_record() {
    let (s1, _) = &keys()[0];
    let dir = scratch("fault-race");
    let new = dir.join("new");
    let state = new.join("deeper").join("locks");
    let registry = LockRegistry::new(&dir.join("p0.share"), Some(state.clone()));
    let (made_by_other, synced) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
    let (other, syncs) = (Rc::clone(&made_by_other), Rc::clone(&synced));
    INJECT.with(|i| {
        *i.borrow_mut() = Some(Box::new(move |path: &Path, at: Step| {
            match at {
                // The other process makes `new` just before this record tries to.
                Step::MakeDir if path.ends_with("new") => {
                    fs::create_dir(path)?;
                    other.set(true);
                }
                Step::SyncDir if path.is_dir() => {
                    syncs.set(syncs.get() + 1);
                    if path.ends_with("locks") {
                        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
                    }
                }
                _ => {}
            }
            Ok(())
        }));
    });
    let err = registry.record_locked(s1.public()).unwrap_err();
    INJECT.with(|i| *i.borrow_mut() = None);
    assert!(made_by_other.get(), "the other process made the directory");
    assert!(
        matches!(&err, StoreError::Write { path, .. } if path.ends_with("locks")),
        "{err}"
    );
    // Synced: `deeper` (made here) and `locks` (failed); not `new`, which is not this record's.
    assert_eq!(synced.get(), 2);
    assert!(new.is_dir(), "the other process's directory stays");
    assert!(
        !new.join("deeper").exists(),
        "the directories this record made are removed"
    );
    // The next record makes the rest and succeeds.
    registry.record_locked(s1.public()).unwrap();
    assert!(state.is_dir());
    fs::remove_dir_all(&dir).unwrap();
}

/// A `.deciding` record that finds another run's entries, and the key locked by that run (a
/// copy of the share beside it whose signature failed): nothing is decrypted, party 0 reports
/// the lock, and party 1 gets the `KeyLocked` abort, not "could not store". A copy that is
/// only deciding gives `DecidingElsewhere` and the storage abort.
#[test]
fn a_decision_that_finds_another_runs_record_decrypts_nothing_and_says_why() {
    let (s1, s2) = &keys()[0];
    for locked in [true, false] {
        let dir = scratch("deciding-other-run");
        let (f1, _) = with_old_key(&dir);
        let other = LockRegistry::new(&dir.join("copy.share"), None);
        let others = other.begin_deciding(s1.public()).unwrap();
        if locked {
            other.record_locked(s1.public()).unwrap();
        }
        let registry = LockRegistry::new(f1.path(), Some(dir.join("state")));
        let (r1, r2) = sign_guarded(&f1, &registry, s2, [0x45u8; 32]);
        let (ours, theirs) = if locked {
            (
                matches!(
                    r1,
                    Err(NetError::Store(StoreError::KeyLocked {
                        state: crate::lock_registry::LockState::Locked,
                        ..
                    }))
                ),
                ecdsa2pc_core::Error::KeyLocked,
            )
        } else {
            (
                matches!(
                    r1,
                    Err(NetError::Store(StoreError::DecidingElsewhere { .. }))
                ),
                ecdsa2pc_core::Error::StorageFailed,
            )
        };
        assert!(ours, "locked {locked}: party 0 reports the other run");
        assert!(
            matches!(&r2, Err(NetError::PeerAbort(crate::PeerAbort { error, .. })) if *error == theirs),
            "locked {locked}: {r2:?}"
        );
        // This run's own entry in its state directory was removed; the other run's stay.
        assert_eq!(
            names(&dir.join("state")),
            Vec::<String>::new(),
            "locked {locked}"
        );
        other.end_deciding(others).unwrap();
        if !locked {
            registry.check(s1.public()).unwrap();
            let mut again: KeyShareP1 = f1.load_active().unwrap();
            signs(&mut again, s2);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
