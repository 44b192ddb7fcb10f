//! Share files: atomic 0600 writes, clear errors for damaged or foreign files, the process
//! lock, and a ciphertext refused by π_c3 leaving the share file as it was.

use std::os::unix::fs::PermissionsExt;
use std::thread;

use ecdsa2pc_core::{Error as CoreError, KeyShare, KeyShareP1, Message, Party, sign};
use ecdsa2pc_net::{
    Framed, NetError, ProtocolError, StoreError, Transport, driver, memory_pipe, store::ShareFiles,
};

use crate::{
    fixtures::keygen_over_pipe,
    pair::{ctx1, ctx2},
    support::TempDir,
};

fn problem(err: StoreError) -> String {
    err.to_string()
}

#[test]
fn share_files_are_private_atomic_and_checked() {
    let dir = TempDir::new("store");
    let (s1, s2) = keygen_over_pipe(ctx1(), ctx2());
    let f1 = ShareFiles::new(&dir.path().join("p1.share"));
    let f2 = ShareFiles::new(&dir.path().join("p2.share"));
    f1.write_active(&s1).unwrap();
    f2.write_active(&s2).unwrap();
    let mode = std::fs::metadata(f1.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        f1.load::<KeyShareP1>().unwrap().active.fingerprint(),
        s1.fingerprint()
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp-"))
    );

    // Party 1's file given to party 0: told apart from a damaged file by its header.
    let err = ShareFiles::new(f2.path()).load::<KeyShareP1>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::OtherParty {
                expected: Party::P1,
                found: Party::P2,
                ..
            }
        ),
        "{err:?}"
    );
    let wrong = problem(err);
    assert!(wrong.contains("not a party 0 key share"), "{wrong}");
    // The party a file claims, read from the bytes a caller read once.
    let bytes2 = f2.read_active().unwrap();
    assert_eq!(ShareFiles::party_of(f2.path(), &bytes2).unwrap(), Party::P2);
    let garbage = ShareFiles::party_of(f2.path(), b"not a share").unwrap_err();
    assert!(
        matches!(garbage, StoreError::Unrecognised { .. }),
        "{garbage:?}"
    );
    assert!(problem(garbage).contains("known version"));
    // Truncated.
    let bytes = std::fs::read(f1.path()).unwrap();
    std::fs::write(f1.path(), &bytes[..bytes.len() / 2]).unwrap();
    let err = f1.load::<KeyShareP1>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Damaged {
                expected: Party::P1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(problem(err).contains("damaged"));
    // Bit flip.
    let mut flipped = bytes.clone();
    flipped[300] ^= 4;
    std::fs::write(f1.path(), &flipped).unwrap();
    assert!(problem(f1.load::<KeyShareP1>().unwrap_err()).contains("damaged"));
    // Missing: the error names the file.
    let missing = ShareFiles::new(&dir.path().join("nope.share"));
    // (The hint to run keygen is the command line's: cli/src/error.rs.)
    match missing.load::<KeyShareP1>().unwrap_err() {
        StoreError::Missing { path } => assert!(path.ends_with("nope.share")),
        other => panic!("{other}"),
    }
    // A directory where the share should be: found, but it cannot be read as a file.
    let dir_share = dir.path().join("dir.share");
    std::fs::create_dir(&dir_share).unwrap();
    let err = ShareFiles::new(&dir_share)
        .load::<KeyShareP1>()
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Unreadable { path, .. } if *path == dir_share),
        "{err:?}"
    );
    let text = problem(err);
    assert!(
        text.contains("dir.share: cannot be read (Is a directory"),
        "{text}"
    );
    // Locking a missing share reports it and leaves no lock file behind.
    assert!(matches!(
        missing.lock_existing().unwrap_err(),
        StoreError::Missing { .. }
    ));
    assert!(!dir.path().join("nope.share.lock").exists());
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_share_others_can_read_or_write_is_refused_with_the_chmod_that_fixes_it() {
    let dir = TempDir::new("store-perms");
    let (s1, _) = keygen_over_pipe(ctx1(), ctx2());
    let f1 = ShareFiles::new(&dir.path().join("p1.share"));
    f1.write_active(&s1).unwrap();
    for mode in [0o640, 0o604, 0o602, 0o620, 0o666] {
        chmod(f1.path(), mode);
        let err = problem(f1.load::<KeyShareP1>().unwrap_err());
        assert!(
            err.contains(&format!("mode {mode:04o}"))
                && err.contains(&format!("`chmod 600 {}`", f1.path().display())),
            "{mode:o}: {err}"
        );
    }
    // The owner's own bits do not matter; group and others' do.
    chmod(f1.path(), 0o400);
    assert!(f1.load::<KeyShareP1>().is_ok());
    chmod(f1.path(), 0o600);
    assert!(f1.load::<KeyShareP1>().is_ok());

    // A loose pending share is refused too, with its own path.
    f1.write_pending(&s1).unwrap();
    chmod(f1.pending_path(), 0o644);
    match f1.load::<KeyShareP1>().unwrap_err() {
        StoreError::LoosePermissions { path, mode } => {
            assert_eq!(path, f1.pending_path());
            assert_eq!(mode, 0o644);
        }
        other => panic!("expected LoosePermissions, got {other}"),
    }
}

#[test]
fn a_rewrite_is_0600_even_over_a_loose_file() {
    let dir = TempDir::new("store-rewrite");
    let (s1, _) = keygen_over_pipe(ctx1(), ctx2());
    let f1 = ShareFiles::new(&dir.path().join("p1.share"));
    std::fs::write(f1.path(), b"old").unwrap();
    chmod(f1.path(), 0o666);
    f1.write_active(&s1).unwrap();
    let mode = std::fs::metadata(f1.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let dir = TempDir::new("store-tmp-cleanup");
    let (s1, _) = keygen_over_pipe(ctx1(), ctx2());
    // The target is a non-empty directory: the rename fails after the secret was written
    // to the temporary file, which must then be gone.
    let target = dir.path().join("p1.share");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let err = problem(ShareFiles::new(&target).write_active(&s1).unwrap_err());
    assert!(err.contains("cannot replace"), "{err}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["p1.share"], "no temporary file left");
}

#[test]
fn one_process_at_a_time_per_share() {
    let dir = TempDir::new("store-lock");
    let files = ShareFiles::new(&dir.path().join("p1.share"));
    let held = files.lock().unwrap();
    let err = ShareFiles::new(files.path()).lock().unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    let err = problem(err);
    assert!(err.contains("in use by another ecdsa2pc process"), "{err}");
    drop(held);
    files.lock().unwrap();
}

/// A lock file that cannot be created (here a directory in its place) is named, with the
/// operating system's reason, rather than read as "in use".
#[test]
fn a_lock_file_that_cannot_be_created_is_named() {
    let dir = TempDir::new("store-lockfile");
    let share = dir.path().join("p1.share");
    let lock = dir.path().join("p1.share.lock");
    std::fs::create_dir(&lock).unwrap();
    let err = ShareFiles::new(&share).lock().unwrap_err();
    assert!(
        matches!(&err, StoreError::LockFile { path, .. } if *path == lock),
        "{err:?}"
    );
    let text = problem(err);
    assert!(text.contains("cannot create its lock file"), "{text}");
}

#[test]
fn a_ciphertext_refused_by_pic3_leaves_the_share_file_as_it_was_and_the_key_usable() {
    let dir = TempDir::new("store-abort");
    let (s1, s2) = keygen_over_pipe(ctx1(), ctx2());
    let f1 = ShareFiles::new(&dir.path().join("p1.share"));
    f1.write_active(&s1).unwrap();
    let path = f1.path().to_path_buf();
    let before = std::fs::read(&path).unwrap();
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let digest = [1u8; 32];
    // A malicious party 1: honest until message 4, whose ciphertext it replaces.
    let attacker = thread::spawn(move || {
        let mut t = Framed::new(b, max);
        let mut buf = vec![0u8; max];
        let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
        let m1 = sign::Msg1::decode(t.recv(&mut buf).unwrap()).unwrap();
        let (p2, m2) = sign::p2::start(&mut rng, &s2, &ctx2(), &digest, &m1).unwrap();
        send(&mut t, &m2);
        let m3 = sign::Msg3::decode(t.recv(&mut buf).unwrap()).unwrap();
        let (_, mut m4) = p2.on_msg3(&mut rng, &m3).unwrap();
        m4.c = m4.c.wrapping_add(&crypto_bigint::U4096::ONE);
        send(&mut t, &m4);
        // When party 0's abort arrives, its share file is as it was.
        let reply = t.recv(&mut buf).unwrap().to_vec();
        let on_disk = std::fs::read(&path).unwrap();
        (ecdsa2pc_core::peer_abort(&reply), on_disk)
    });
    let mut share = f1.load::<KeyShareP1>().unwrap().active;
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let mut files = f1.clone();
    let err = driver::sign_p1_persisted(
        &mut Framed::new(a, max),
        &mut rng,
        &mut share,
        crate::fixtures::params(),
        &ctx1(),
        &digest,
        &ecdsa2pc_core::bip32::DerivationPath::MASTER,
        &mut files,
    )
    .unwrap_err();
    let refused = CoreError::ProofInvalid(ecdsa2pc_core::Proof::SignCiphertext);
    assert!(
        matches!(err, NetError::Protocol(ProtocolError { error, .. }) if error == refused),
        "{err}"
    );
    let (abort, on_disk) = attacker.join().unwrap();
    assert_eq!(abort, Some(refused));
    assert_eq!(on_disk, before, "nothing written before the abort");
    assert!(!share.is_locked());
    assert_eq!(std::fs::read(f1.path()).unwrap(), before);
}

fn send<M: Message>(t: &mut impl Transport, msg: &M) {
    let mut out = vec![0u8; M::LEN];
    msg.encode(&mut out).unwrap();
    t.send(&out).unwrap();
}
