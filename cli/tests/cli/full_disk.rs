//! Writes that genuinely fail part-way (issue 14): the binary runs with its file-size limit
//! lowered (`ulimit -f`, SIGXFSZ ignored), so that writing a share or a lock-registry entry
//! fails with EFBIG as on a full disk. After each failure the command exits non-zero naming
//! the file, no temporary file is left, and the previous share is still there and signs.

use std::path::Path;

use crate::share_files::{both, fixture, sign_both};
use crate::support::{
    Run, TempDir, finish, free_addr, lock_dir, spawn_command, spawn_size_limited,
};

/// One 1024-byte block: below the size of party 0's share (plaintext or sealed), above half
/// of it, so the share's write fails part-way.
const BELOW_A_SHARE: u32 = 1;

fn no_temporary_files(dir: &Path, what: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.contains(".tmp-"), "{what}: {name} left behind");
    }
}

/// Party 0 runs `command` size-limited to `blocks`, party 1 normally; returns both runs.
fn limited_party_0(
    command: &str,
    certs: &Path,
    blocks: u32,
    args0: &[&str],
    args1: &[&str],
) -> (Run, Run) {
    let addr = free_addr();
    let certs_s = certs.to_str().unwrap();
    let base = [
        command,
        "--party",
        "0",
        "--server",
        &addr,
        "--certs",
        certs_s,
        "--timeout",
        "60",
    ];
    let p0 = spawn_size_limited(blocks, &[&base[..], args0].concat());
    let p1 = spawn_command(
        command,
        1,
        &addr,
        certs,
        &[args1, &["--timeout", "60"]].concat(),
    );
    let r1 = finish(p1);
    (finish(p0), r1)
}

fn assert_failed_naming(r: &Run, file: &Path, what: &str) {
    assert_eq!(r.code, Some(2), "{what}:\n{r}");
    assert!(
        r.stderr.contains(&file.display().to_string()) && r.stderr.contains("File too large"),
        "{what}: names the file and the cause:\n{r}"
    );
}

/// Party 1 reports no result, and says that party 0 could not store (its abort), not that
/// the connection closed or that party 0 is malicious.
fn assert_peer_could_not_store(r: &Run, what: &str) {
    assert_eq!(r.code, Some(1), "{what}:\n{r}");
    assert!(r.stdout.is_empty(), "{what}:\n{r}");
    assert!(
        r.stderr.contains(
            "the peer stopped the run: a party could not write its key share or lock record"
        ) && r.stderr.contains("own log names the file")
            && !r.stderr.contains("malicious"),
        "{what}:\n{r}"
    );
}

#[test]
fn size_limited_writes_lose_nothing() {
    let certs = fixture().certs();
    let dir = TempDir::new("full-disk");
    // A key of its own: a run stopped at party 0's lock record must not meet the shared
    // fixture key's signing runs in other tests (one key's `.deciding` entry refuses it
    // everywhere while it exists).
    let (p0, p1) = (dir.path().join("p0.share"), dir.path().join("p1.share"));
    let (r0, r1) = both(
        "keygen",
        &certs,
        &["--share", p0.to_str().unwrap()],
        &["--share", p1.to_str().unwrap()],
    );
    assert_eq!((r0.code, r1.code), (Some(0), Some(0)), "{r0}\n{r1}");
    let before = std::fs::read(&p0).unwrap();
    assert!(
        before.len() > 1024 && before.len() / 2 < 1024,
        "{}",
        before.len()
    );
    let sig = dir.path().join("sig.der");

    // Encrypt in place: the sealed share does not fit.
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "full disk passphrase\n").unwrap();
    let r = finish(spawn_size_limited(
        BELOW_A_SHARE,
        &[
            "share",
            "encrypt",
            "--share",
            p0.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    ));
    assert_failed_naming(&r, &p0, "share encrypt");
    assert_eq!(
        std::fs::read(&p0).unwrap(),
        before,
        "the plaintext share is untouched"
    );
    no_temporary_files(dir.path(), "share encrypt");
    sign_both(dir.path(), &certs, "after a failed encryption", &sig, false);

    // Refresh: party 0's pending share does not fit; both stay at epoch 0 and sign.
    let pending = dir.path().join("p0.share.pending");
    let (r0, r1) = limited_party_0(
        "refresh",
        &certs,
        BELOW_A_SHARE,
        &["--share", p0.to_str().unwrap()],
        &["--share", p1.to_str().unwrap()],
    );
    assert_failed_naming(&r0, &pending, "refresh");
    assert_peer_could_not_store(&r1, "refresh");
    assert_eq!(
        std::fs::read(&p0).unwrap(),
        before,
        "the active share is untouched"
    );
    no_temporary_files(dir.path(), "refresh");
    let (r0, _) = sign_both(dir.path(), &certs, "after a failed refresh", &sig, false);
    assert!(r0.stderr.contains("epoch 0"), "{r0}");

    // Sign: party 0's lock-registry record (before it decrypts) cannot be written at all:
    // nothing is decrypted or sent, party 1 gets no signature, and the key still signs.
    let (r0, r1) = limited_party_0(
        "sign",
        &certs,
        0,
        &["--share", p0.to_str().unwrap(), "--message", "m"],
        &["--share", p1.to_str().unwrap(), "--message", "m"],
    );
    assert_eq!(r0.code, Some(2), "{r0}");
    assert!(
        r0.stderr.contains(".deciding") && r0.stderr.contains("File too large"),
        "{r0}"
    );
    assert_peer_could_not_store(&r1, "sign");
    assert!(
        !r1.stderr.contains("both parties must sign the same digest"),
        "no digest note for a storage failure:\n{r1}"
    );
    // The record's undo: no entry is left to refuse the key (nothing was decrypted).
    for d in [dir.path().join(".ecdsa2pc-locks"), lock_dir()] {
        if d.exists() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let name = entry.unwrap().file_name();
                assert!(
                    !name.to_string_lossy().ends_with(".deciding"),
                    "{name:?} left in {}",
                    d.display()
                );
            }
        }
    }
    sign_both(
        dir.path(),
        &certs,
        "after a failed lock record",
        &sig,
        false,
    );

    // Keygen: party 0's new share does not fit; neither side reports a key or keeps a share.
    let (n0, n1) = (dir.path().join("n0.share"), dir.path().join("n1.share"));
    let (r0, r1) = limited_party_0(
        "keygen",
        &certs,
        BELOW_A_SHARE,
        &["--share", n0.to_str().unwrap()],
        &["--share", n1.to_str().unwrap()],
    );
    assert_failed_naming(&r0, &dir.path().join("n0.share.pending"), "keygen");
    assert_peer_could_not_store(&r1, "keygen");
    assert!(
        r0.stdout.is_empty() && r1.stdout.is_empty(),
        "no key reported:\n{r0}\n{r1}"
    );
    for f in [
        "n0.share",
        "n0.share.pending",
        "n1.share",
        "n1.share.pending",
        "n0.share.lock",
        "n1.share.lock",
    ] {
        assert!(!dir.path().join(f).exists(), "keygen left {f}");
    }
    no_temporary_files(dir.path(), "keygen");
}
