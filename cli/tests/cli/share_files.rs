//! Key shares on disk: `keygen`, `sign`, `refresh` and `pubkey` as separate process runs
//! over real mutual TLS, and the refusals (damaged, foreign or busy share files, a peer
//! certificate other than the one the share was made with, overwriting a share).
//!
//! One keygen (the slow part) makes the shares for every test; each test works on its own
//! copies.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{
    Run, TempDir, finish, free_addr, make_certs_with, openssl, run, run_with_lock_dir, sha256,
    spawn_command, spawn_command_with_lock_dir, unhex,
};

/// Party 0's commitment-parameter secret, beside its shares.
pub(crate) const PARAMS_FILE: &str = "ring-pedersen.secret";

/// Certificates (with an `other` identity from the same CA) and one key's two shares.
pub(crate) struct Fixture {
    dir: PathBuf,
    /// Q as `keygen` printed it (SEC1 compressed hex).
    pub(crate) key_hex: String,
}

impl Fixture {
    pub(crate) fn certs(&self) -> PathBuf {
        self.dir.join("certs")
    }

    /// Copies both shares into `dir` as `p0.share` and `p1.share`, with party 0's
    /// commitment-parameter secret beside them (party 0 signs only with it).
    pub(crate) fn copy_shares(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let p0 = dir.join("p0.share");
        let p1 = dir.join("p1.share");
        std::fs::copy(self.dir.join("p0.share"), &p0).unwrap();
        std::fs::copy(self.dir.join("p1.share"), &p1).unwrap();
        std::fs::copy(self.dir.join(PARAMS_FILE), dir.join(PARAMS_FILE)).unwrap();
        (p0, p1)
    }

    /// Copies party 1's pin of the fixture's parameters into this test's lock directory, as
    /// if this test's party 1 had made the fixture key.
    pub(crate) fn copy_pins(&self) {
        let from = crate::support::lock_root()
            .join(FIXTURE_THREAD)
            .join("pins");
        let to = crate::support::lock_dir().join("pins");
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The name of the thread that makes the fixture key, and so of its lock directory.
const FIXTURE_THREAD: &str = "share-fixture";

/// Made once per test binary, under cargo's scratch directory for tests.
pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_fixtures(root);
        let dir = root.join(format!("cli-share-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        make_certs_with(&dir.join("certs"), &["--extra", "other"]);
        let p0 = dir.join("p0.share");
        let p1 = dir.join("p1.share");
        // On a thread of its own, so that party 1 pins the fixture's parameters in a lock
        // directory of their own (`lock_dir` is per thread), not in that of whichever test
        // made the fixture first; tests that need the pin copy it (`Fixture::copy_pins`).
        let certs = dir.join("certs");
        let (r0, r1) = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name(FIXTURE_THREAD.into())
                .spawn_scoped(s, || {
                    both(
                        "keygen",
                        &certs,
                        &["--share", p0.to_str().unwrap()],
                        &["--share", p1.to_str().unwrap()],
                    )
                })
                .unwrap()
                .join()
                .unwrap()
        });
        // The first keygen in a directory makes party 0's parameters; party 1 checks their
        // proof and pins them.
        assert!(
            r0.stderr.contains("making party 0's commitment parameters")
                && r0.stderr.contains(&format!(
                    "wrote party 0's commitment-parameter secret {}",
                    dir.join(PARAMS_FILE).display()
                )),
            "{r0}"
        );
        assert!(
            r1.stderr
                .contains("checking party 0's commitment-parameter proof")
                && r1.stderr.contains("verified and pinned in"),
            "{r1}"
        );
        for (name, r, path) in [("party 0", &r0, &p0), ("party 1", &r1, &p1)] {
            assert_eq!(r.code, Some(0), "{name} keygen:\n{r}");
            assert!(
                r.stderr.contains(&format!(
                    "wrote key share {} (party {}, epoch 0",
                    path.display(),
                    &name[6..]
                )),
                "{name} names the share file and epoch 0:\n{r}"
            );
        }
        let key_hex = r0.field("public key (SEC1 compressed): ");
        assert_eq!(key_hex, r1.field("public key (SEC1 compressed): "));
        for r in [&r0, &r1] {
            assert_eq!(r.stdout.trim(), key_hex, "stdout holds the key alone:\n{r}");
        }
        assert_eq!(key_hex.len(), 66, "{r0}");
        Fixture { dir, key_hex }
    })
}

/// Fixtures of test runs that are over (their process is gone).
fn remove_stale_fixtures(root: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("cli-share-fixture-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `ecdsa2pc COMMAND` as both parties (party 0 listening on a free port) and waits
/// for both.
pub(crate) fn both(command: &str, certs: &Path, args0: &[&str], args1: &[&str]) -> (Run, Run) {
    both_with_certs(command, certs, certs, args0, args1)
}

fn both_with_certs(
    command: &str,
    certs0: &Path,
    certs1: &Path,
    args0: &[&str],
    args1: &[&str],
) -> (Run, Run) {
    let addr = free_addr();
    // Generous: party 0's first keygen in a directory includes its safe-prime search, which
    // takes seconds alone and much longer beside the other tests on two cores.
    let timeout = ["--timeout", "120"];
    let p0 = spawn_command(command, 0, &addr, certs0, &[args0, &timeout].concat());
    let p1 = spawn_command(command, 1, &addr, certs1, &[args1, &timeout].concat());
    let r1 = finish(p1);
    (finish(p0), r1)
}

/// `ecdsa2pc pubkey --share FILE --format FORMAT`: (stdout, stderr); must succeed.
fn pubkey(share: &Path, format: &str) -> (String, String) {
    let r = run(&[
        "pubkey",
        "--share",
        share.to_str().unwrap(),
        "--format",
        format,
    ]);
    assert_eq!(r.code, Some(0), "{r}");
    (r.stdout, r.stderr)
}

/// Signs `message` with both parties (party 0 writes `sig`); both verify the result.
pub(crate) fn sign_both(
    dir: &Path,
    certs: &Path,
    message: &str,
    sig: &Path,
    party0_digest: bool,
) -> (Run, Run) {
    let (p0, p1) = (dir.join("p0.share"), dir.join("p1.share"));
    let digest_hex: String = sha256(message.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Party 0 may give the digest instead of the message: both sign the same 32 bytes.
    let what0 = if party0_digest {
        ["--digest", digest_hex.as_str()]
    } else {
        ["--message", message]
    };
    let (r0, r1) = both(
        "sign",
        certs,
        &[
            &[
                "--share",
                p0.to_str().unwrap(),
                "--out",
                sig.to_str().unwrap(),
            ],
            &what0[..],
        ]
        .concat(),
        &["--share", p1.to_str().unwrap(), "--message", message],
    );
    for (name, r) in [("party 0", &r0), ("party 1", &r1)] {
        assert_eq!(r.code, Some(0), "{name} sign {message:?}:\n{r}");
        assert!(
            r.stderr.contains("verify ......... ok"),
            "{name} verified the signature:\n{r}"
        );
        assert!(!r.stderr.contains("error"), "{name}:\n{r}");
        assert_eq!(
            r.stdout.trim(),
            r.field("signature (DER): "),
            "{name}: stdout holds the signature alone"
        );
    }
    let der = std::fs::read(sig).unwrap();
    assert_eq!(
        r0.field("signature (DER): "),
        r1.field("signature (DER): "),
        "both parties print the same signature"
    );
    assert_eq!(
        r0.field("signature (DER): "),
        der.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "--out holds the printed signature"
    );
    (r0, r1)
}

/// `openssl dgst -sha256 -verify PEM -signature SIG MSGFILE` accepts.
fn openssl_verifies(pem: &Path, sig: &Path, message_file: &Path) {
    let check = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        pem.to_str().unwrap(),
        "-signature",
        sig.to_str().unwrap(),
        message_file.to_str().unwrap(),
    ]);
    assert_eq!(
        check.code,
        Some(0),
        "openssl rejects {}:\n{check}",
        sig.display()
    );
    assert!(check.stdout.contains("Verified OK"), "{check}");
}

#[test]
fn sign_twice_refresh_sign_again_all_under_one_public_key() {
    let fx = fixture();
    let dir = TempDir::new("lifecycle");
    let certs = fx.certs();
    let (p0, p1) = fx.copy_shares(dir.path());

    // The public key of both shares, as hex and as the PEM openssl reads.
    let (hex0, info0) = pubkey(&p0, "hex");
    let (hex1, info1) = pubkey(&p1, "hex");
    assert_eq!(hex0.trim(), fx.key_hex);
    assert_eq!(hex1.trim(), fx.key_hex);
    assert!(info0.contains("party 0, epoch 0"), "{info0}");
    assert!(info1.contains("party 1, epoch 0"), "{info1}");
    let (pem, _) = pubkey(&p1, "pem");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let pem_file = dir.path().join("public-key.pem");
    std::fs::write(&pem_file, &pem).unwrap();

    let messages = [
        "first: pay 1 BTC to Bob",
        "second: pay 2 BTC to Carol",
        "third, after the refresh",
    ];
    let sigs: Vec<PathBuf> = (1..=3)
        .map(|i| dir.path().join(format!("sig{i}.der")))
        .collect();
    let message_files: Vec<PathBuf> = (1..=3)
        .map(|i| dir.path().join(format!("message{i}.txt")))
        .collect();
    for (file, message) in message_files.iter().zip(messages) {
        std::fs::write(file, message).unwrap();
    }

    // Two signatures in two separate runs, the second with party 0 giving the digest.
    sign_both(dir.path(), &certs, messages[0], &sigs[0], false);
    sign_both(dir.path(), &certs, messages[1], &sigs[1], true);

    // Party 1 keeps a copy of its epoch-0 share to show that an old share is refused.
    let old1 = dir.path().join("p1-epoch0.share");
    std::fs::copy(&p1, &old1).unwrap();

    let (r0, r1) = both(
        "refresh",
        &certs,
        &["--share", p0.to_str().unwrap()],
        &["--share", p1.to_str().unwrap()],
    );
    for (name, r) in [("party 0", &r0), ("party 1", &r1)] {
        assert_eq!(r.code, Some(0), "{name} refresh:\n{r}");
        assert!(
            r.stderr.contains("epoch 0 → 1, public key unchanged"),
            "{name}:\n{r}"
        );
        assert_eq!(
            r.field("public key (SEC1 compressed): "),
            format!("{} (unchanged)", fx.key_hex)
        );
    }
    assert!(
        !dir.path().join("p0.share.pending").exists()
            && !dir.path().join("p1.share.pending").exists(),
        "the pending shares were promoted"
    );

    // Same key after the refresh, next epoch.
    for (share, party) in [(&p0, 0), (&p1, 1)] {
        let (hex, info) = pubkey(share, "hex");
        assert_eq!(hex.trim(), fx.key_hex);
        assert!(info.contains(&format!("party {party}, epoch 1")), "{info}");
        assert_eq!(pubkey(share, "pem").0, pem);
    }

    // As if party 1 had died before promoting its refreshed share: epoch 0 active, epoch 1
    // pending. `pubkey` reads the active share and mentions the pending one; the next
    // `sign` settles on epoch 1 and promotes it.
    let pending1 = dir.path().join("p1.share.pending");
    std::fs::rename(&p1, &pending1).unwrap();
    std::fs::copy(&old1, &p1).unwrap();
    let (hex, info) = pubkey(&p1, "hex");
    assert_eq!(hex.trim(), fx.key_hex);
    assert!(
        info.contains("party 1, epoch 0") && info.contains("p1.share.pending (epoch 1)"),
        "{info}"
    );

    let (_, r1) = sign_both(dir.path(), &certs, messages[2], &sigs[2], false);
    assert!(
        r1.stderr.contains(
            "epoch 1 (both parties); the pending share of the interrupted refresh is now active"
        ),
        "{r1}"
    );
    assert!(!pending1.exists(), "the pending share was promoted");
    assert!(pubkey(&p1, "hex").1.contains("party 1, epoch 1"));
    for (sig, message_file) in sigs.iter().zip(&message_files) {
        openssl_verifies(&pem_file, sig, message_file);
    }
    // A signature is for its own message only.
    let wrong = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        pem_file.to_str().unwrap(),
        "-signature",
        sigs[0].to_str().unwrap(),
        message_files[1].to_str().unwrap(),
    ]);
    assert_ne!(wrong.code, Some(0), "{wrong}");

    // Party 1 with its pre-refresh share: no epoch in common, both stop with exit 1.
    let (r0, r1) = both(
        "sign",
        &certs,
        &["--share", p0.to_str().unwrap(), "--message", "old"],
        &["--share", old1.to_str().unwrap(), "--message", "old"],
    );
    // Each side names who holds the stale copy: party 1, from before the refresh.
    for (name, r, whose) in [
        ("party 0", &r0, "the peer's share is older than ours"),
        ("party 1", &r1, "our share is older than the peer's"),
    ] {
        assert_eq!(r.code, Some(1), "{name}:\n{r}");
        assert!(
            r.stderr.contains("the parties hold no key share in common"),
            "{name}:\n{r}"
        );
        assert!(r.stderr.contains(whose), "{name}:\n{r}");
    }
    assert_eq!(
        pubkey(&p0, "hex").0.trim(),
        fx.key_hex,
        "p0.share is intact"
    );
}

#[test]
fn damaged_truncated_or_other_party_share_exits_2_naming_the_file() {
    let fx = fixture();
    let dir = TempDir::new("damaged");
    let (p0, p1) = fx.copy_shares(dir.path());
    let bytes = std::fs::read(&p1).unwrap();
    // Party 1 alone: the share is checked before any connection is made.
    let sign1 = |share: &Path| {
        run(&[
            "sign",
            "--party",
            "1",
            "--share",
            share.to_str().unwrap(),
            "--message",
            "m",
            "--server",
            &free_addr(),
            "--timeout",
            "5",
        ])
    };

    // A file that is no share at all, readable by others (as most files are): named as not a
    // share, not as an exposed one, and no "not encrypted" warning calls it a share.
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, "# not a key share\n").unwrap();
    let r = run(&["pubkey", "--share", readme.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("is not an ecdsa2pc key share"), "{r}");
    assert!(!r.stderr.contains("other users"), "{r}");
    assert!(!r.stderr.contains("is not encrypted"), "{r}");

    let flipped = dir.path().join("flipped.share");
    let mut altered = bytes.clone();
    altered[600] ^= 0x20;
    std::fs::write(&flipped, &altered).unwrap();
    private(&flipped);
    let r = sign1(&flipped);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("key share ") && r.stderr.contains("flipped.share: is not a party 1"),
        "{r}"
    );
    assert!(r.stderr.contains("damaged"), "{r}");
    let r = run(&["pubkey", "--share", flipped.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("flipped.share") && r.stderr.contains("damaged"),
        "{r}"
    );

    let truncated = dir.path().join("truncated.share");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    private(&truncated);
    let r = sign1(&truncated);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("truncated.share") && r.stderr.contains("damaged"),
        "{r}"
    );

    let r = sign1(&p0);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("p0.share: is not a party 1 key share"),
        "{r}"
    );
    assert!(r.stderr.contains("use it with --party 0"), "{r}");

    let missing = dir.path().join("missing.share");
    let r = run(&["pubkey", "--share", missing.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("missing.share: does not exist"),
        "names the file:\n{r}"
    );
    let r = sign1(&missing);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("missing.share: does not exist"), "{r}");
    assert!(r.stderr.contains("`ecdsa2pc keygen`"), "{r}");
    assert!(
        !dir.path().join("missing.share.lock").exists(),
        "no lock file for a share that does not exist"
    );
}

#[test]
fn a_peer_with_another_certificate_of_the_same_ca_is_refused_by_both() {
    let fx = fixture();
    let dir = TempDir::new("wrong-peer");
    let (p0, p1) = fx.copy_shares(dir.path());
    // Party 1 presents the `other` identity (same CA) instead of client1's.
    let other = dir.path().join("other-certs");
    std::fs::create_dir_all(&other).unwrap();
    for (from, to) in [
        ("ca-cert.pem", "ca-cert.pem"),
        ("other-cert.pem", "client1-cert.pem"),
        ("other-key.pem", "client1-key.pem"),
    ] {
        std::fs::copy(fx.certs().join(from), other.join(to)).unwrap();
    }
    let before = (std::fs::read(&p0).unwrap(), std::fs::read(&p1).unwrap());
    let (r0, r1) = both_with_certs(
        "sign",
        &fx.certs(),
        &other,
        &["--share", p0.to_str().unwrap(), "--message", "m"],
        &["--share", p1.to_str().unwrap(), "--message", "m"],
    );
    for (name, r) in [("party 0", &r0), ("party 1", &r1)] {
        assert_eq!(r.code, Some(2), "{name}:\n{r}");
        assert!(
            r.stderr.contains("is not the one this share was made with")
                && r.stderr
                    .contains("another certificate from the same CA is not the same"),
            "{name}:\n{r}"
        );
        assert!(
            r.stderr.contains("certificates ... FAILED") && !r.stderr.contains("epoch ...."),
            "{name} stops before any protocol message:\n{r}"
        );
    }
    assert!(
        r0.stderr.contains("the peer's certificate (CN=other, pid "),
        "party 0 names the peer's pid:\n{r0}"
    );
    assert!(
        r1.stderr.contains("our own certificate (CN=other, pid "),
        "party 1 names its own pid:\n{r1}"
    );
    assert_eq!(
        (std::fs::read(&p0).unwrap(), std::fs::read(&p1).unwrap()),
        before,
        "the shares are untouched"
    );
}

#[test]
fn keygen_never_overwrites_a_share_and_a_busy_share_is_refused() {
    let fx = fixture();
    let dir = TempDir::new("overwrite");
    let (p0, p1) = fx.copy_shares(dir.path());
    let before = std::fs::read(&p0).unwrap();
    let addr = free_addr();
    let keygen = |share: &Path| {
        run(&[
            "keygen",
            "--party",
            "0",
            "--share",
            share.to_str().unwrap(),
            "--server",
            &addr,
            "--timeout",
            "5",
        ])
    };
    let r = keygen(&p0);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("p0.share already exists: refusing to overwrite")
            && r.stderr.contains("--force"),
        "{r}"
    );
    assert!(
        !r.stderr.contains("listening"),
        "refused before listening:\n{r}"
    );
    assert_eq!(std::fs::read(&p0).unwrap(), before);

    // With --force both shares are replaced by a new key's, and a stale pending share goes.
    let stale = dir.path().join("p1.share.pending");
    std::fs::copy(&p1, &stale).unwrap();
    let (r0, r1) = both(
        "keygen",
        &fx.certs(),
        &["--share", p0.to_str().unwrap(), "--force"],
        &["--share", p1.to_str().unwrap(), "--force"],
    );
    assert_eq!((r0.code, r1.code), (Some(0), Some(0)), "{r0}\n{r1}");
    let new_key = r0.field("public key (SEC1 compressed): ");
    assert_ne!(new_key, fx.key_hex, "a new key");
    assert_eq!(pubkey(&p1, "hex").0.trim(), new_key);
    assert!(!stale.exists(), "the old key's pending share is gone");

    // A pending share alone is an unconfirmed keygen's, which a new keygen replaces: see
    // keygen_confirm.rs.

    // While one run uses a share (party 0 waiting for its peer), another is refused.
    let mut busy = spawn_command(
        "sign",
        0,
        &addr,
        &fx.certs(),
        &[
            "--share",
            p0.to_str().unwrap(),
            "--message",
            "m",
            "--timeout",
            "30",
        ],
    );
    // It takes the share's lock before it starts listening.
    busy.wait_for_stderr("listening on");
    let r = run(&[
        "sign",
        "--party",
        "0",
        "--share",
        p0.to_str().unwrap(),
        "--message",
        "m",
        "--server",
        &free_addr(),
        "--timeout",
        "1",
    ]);
    drop(busy);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("in use by another ecdsa2pc process"),
        "{r}"
    );
}

/// Paths that would destroy a key or cannot hold the result are refused before any
/// connection, naming the option: `sign --out` at the share, at party 0's parameter secret or
/// at a directory; `keygen --share` at the parameter secret, at another kind of file or at a
/// directory (not even with --force), or empty. A device given as a share is refused without
/// being read (`/dev/zero` never ends). Every file is left as it was.
#[test]
fn outputs_that_would_replace_a_secret_and_unreadable_inputs_are_refused_first() {
    let fx = fixture();
    let dir = TempDir::new("out-paths");
    let (p0, _) = fx.copy_shares(dir.path());
    let params = dir.path().join(PARAMS_FILE);
    let (share_before, params_before) =
        (std::fs::read(&p0).unwrap(), std::fs::read(&params).unwrap());
    let addr = free_addr();
    let refused = |args: &[&str], want: &str| {
        let r = run(&[args, &["--server", &addr, "--timeout", "5"]].concat());
        assert_eq!(r.code, Some(2), "{args:?}:\n{r}");
        assert!(r.stderr.contains(want), "{args:?}:\n{r}");
        assert!(
            !r.stderr.contains("listening"),
            "refused before listening:\n{r}"
        );
    };
    let p0s = p0.to_str().unwrap();
    let sign = |out: &str, want: &str| {
        let args = [
            "sign",
            "--party",
            "0",
            "--share",
            p0s,
            "--message",
            "m",
            "--out",
            out,
        ];
        refused(&args, want);
    };
    sign(p0s, "holds an ecdsa2pc key share; refusing to overwrite it");
    sign(
        params.to_str().unwrap(),
        "holds party 0's commitment-parameter secret",
    );
    sign(
        dir.path().to_str().unwrap(),
        "is a directory; give a file name in it",
    );

    let keygen = |share: &str, force: bool, want: &str| {
        let args = ["keygen", "--party", "0", "--share", share];
        let args = if force {
            [&args[..], &["--force"]].concat()
        } else {
            args.to_vec()
        };
        refused(&args, want);
    };
    keygen(
        params.to_str().unwrap(),
        true,
        "refusing to replace it (not even with --force)",
    );
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"not a share").unwrap();
    keygen(
        notes.to_str().unwrap(),
        true,
        "exists and is not an ecdsa2pc key share",
    );
    keygen(dir.path().to_str().unwrap(), true, "is a directory");
    keygen("", false, "not a file name");
    let under_a_file = dir.path().join("notes.txt").join("p0.share");
    keygen(
        under_a_file.to_str().unwrap(),
        false,
        "notes.txt is not a directory (a file of that name exists)",
    );
    sign(
        under_a_file.to_str().unwrap(),
        "notes.txt is not a directory",
    );
    assert_eq!(std::fs::read(&notes).unwrap(), b"not a share");
    assert_eq!(std::fs::read(&p0).unwrap(), share_before);
    assert_eq!(std::fs::read(&params).unwrap(), params_before);

    // The parameter secret given as a share is named for what it is, not called damaged.
    let r = run(&["inspect", "--share", params.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("not a key share (the file is intact)") && !r.stderr.contains("backup"),
        "{r}"
    );

    let r = run(&["inspect", "--share", "/dev/zero"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("not a regular file"), "{r}");
}

/// Mode 0600, as a share file must have (a looser one is refused before it is read).
/// A key recorded in party 0's lock registry (by an earlier failed signature, or a run that
/// stopped while deciding) is refused before any connection, with the entry named, whatever
/// copy of the share is used: an unlocked older copy, or a copy at another path.
#[test]
fn a_key_in_the_lock_registry_is_refused_before_any_connection_for_every_copy() {
    let fx = fixture();
    let dir = TempDir::new("registry");
    let (p0, _) = fx.copy_shares(dir.path());
    let id: String = sha256(&unhex(&fx.key_hex))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sign0 = |share: &Path, locks: &Path| {
        run_with_lock_dir(
            &[
                "sign",
                "--party",
                "0",
                "--share",
                share.to_str().unwrap(),
                "--message",
                "m",
                "--server",
                &free_addr(),
                "--timeout",
                "5",
            ],
            locks,
        )
    };

    // The per-user registry says the key locked; the share file itself is not locked.
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let entry = state.join(format!("{id}.locked"));
    std::fs::write(&entry, "state: locked\n").unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let copy = elsewhere.join("copy.share");
    std::fs::copy(&p0, &copy).unwrap();
    for share in [&p0, &copy] {
        let r = sign0(share, &state);
        assert_eq!(r.code, Some(1), "{r}");
        let name = share.file_name().unwrap().to_str().unwrap();
        assert!(
            r.stderr.contains(&format!("{name}: its key is locked")),
            "{r}"
        );
        assert!(r.stderr.contains("failed party 0's final check"), "{r}");
        assert!(r.stderr.contains(&entry.display().to_string()), "{r}");
        assert!(r.stderr.contains("older copy"), "{r}");
        assert!(r.stderr.contains("make a new key"), "{r}");
        assert!(!r.stderr.contains("attack"), "{r}");
        // Refused before the session: party 0 never listened.
        assert!(!r.stdout.contains("listening"), "{r}");
        // inspect and pubkey say the key is locked, and inspect names the entry, although
        // the share file's own flag is clear.
        let r = run_with_lock_dir(
            &["inspect", "--share", share.to_str().unwrap(), "--json"],
            &state,
        );
        assert_eq!(r.code, Some(0), "{r}");
        let facts: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(facts["locked"], true, "{r}");
        assert_eq!(
            facts["lock_registry_entry"],
            entry.display().to_string(),
            "{r}"
        );
        let r = run_with_lock_dir(
            &["pubkey", "--share", share.to_str().unwrap(), "--json"],
            &state,
        );
        let facts: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(facts["locked"], true, "{r}");
        assert!(r.stderr.contains("LOCKED"), "{r}");
    }
    // Without the entry, the same share reads as unlocked.
    let r = run_with_lock_dir(
        &["inspect", "--share", p0.to_str().unwrap(), "--json"],
        dir.path(),
    );
    let facts: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (
            facts["locked"].clone(),
            facts["lock_registry_entry"].clone()
        ),
        (false.into(), serde_json::Value::Null),
        "{r}"
    );

    // An unfinished decision recorded beside the share, no per-user registry entry.
    std::fs::remove_file(&entry).unwrap();
    let beside = elsewhere.join(".ecdsa2pc-locks");
    std::fs::create_dir(&beside).unwrap();
    std::fs::write(beside.join(format!("{id}.deciding")), "state: deciding\n").unwrap();
    let r = sign0(&copy, &state);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.contains("never recorded its outcome"), "{r}");
    assert!(r.stderr.contains(".ecdsa2pc-locks"), "{r}");
    assert!(
        !r.stderr.contains("same digest"),
        "no digest explains a lock:\n{r}"
    );
}

fn private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn operator_mistakes_are_refused_naming_both_sides() {
    let fx = fixture();
    let dir = TempDir::new("mistakes");
    let (p0, p1) = fx.copy_shares(dir.path());
    let (p0, p1) = (p0.to_str().unwrap(), p1.to_str().unwrap());
    let hex = |m: &str| -> String {
        sha256(m.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let (r0, r1) = both(
        "sign",
        &fx.certs(),
        &["--share", p0, "--message", "pay Bob"],
        &["--share", p1, "--message", "pay Eve"],
    );
    for r in [&r0, &r1] {
        assert_eq!(r.code, Some(1), "{r}");
        assert!(
            r.stderr.contains(&format!(
                "the parties sign different digests: party 1 signs {} but party 0 {}",
                hex("pay Eve"),
                hex("pay Bob")
            )),
            "{r}"
        );
    }
    // Each side tells it from where it stands; party 1's hint names the options that set
    // the digest.
    assert!(
        r0.stderr
            .contains("refused party 1's request (the two sides differ)"),
        "{r0}"
    );
    assert!(
        r1.stderr
            .contains("party 0 refused the request (the two sides differ)"),
        "{r1}"
    );
    assert!(
        r1.stderr
            .contains("check --message, --message-file or --digest"),
        "{r1}"
    );
    // One side runs refresh, the other sign: refused before any share changes.
    let addr = free_addr();
    let timeout = ["--timeout", "30"];
    let s0 = spawn_command(
        "sign",
        0,
        &addr,
        &fx.certs(),
        &[&["--share", p0, "--message", "m"][..], &timeout].concat(),
    );
    let s1 = spawn_command(
        "refresh",
        1,
        &addr,
        &fx.certs(),
        &[&["--share", p1][..], &timeout].concat(),
    );
    let (r1, r0) = (finish(s1), finish(s0));
    for r in [&r0, &r1] {
        assert_eq!(r.code, Some(1), "{r}");
        assert!(
            r.stderr
                .contains("party 1 runs refresh but party 0 runs sign"),
            "{r}"
        );
        // No digest option is named for a refresh against a sign.
        assert!(!r.stderr.contains("--message"), "{r}");
    }
    // The shares are untouched and still sign.
    let (r0, r1) = sign_both(
        dir.path(),
        &fx.certs(),
        "after",
        &dir.path().join("sig.der"),
        false,
    );
    assert_eq!((r0.code, r1.code), (Some(0), Some(0)), "{r0}\n{r1}");
}

/// Whether the file at `path` is a sealed (encrypted) share.
fn is_sealed(path: &Path) -> bool {
    std::fs::read(path).unwrap().starts_with(b"E2PS")
}

#[test]
fn shares_encrypted_in_place_need_their_secret_and_still_sign_and_refresh() {
    let fx = fixture();
    let dir = TempDir::new("cli-sealed");
    let (p0, p1) = fx.copy_shares(dir.path());
    let (s0, s1) = (p0.to_str().unwrap(), p1.to_str().unwrap());
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse battery\n").unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "incorrect\n").unwrap();
    let key = dir.path().join("share.key");
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let (pass_s, wrong_s, key_s) = (
        pass.to_str().unwrap(),
        wrong.to_str().unwrap(),
        key.to_str().unwrap(),
    );

    // A plaintext share loads, with a warning naming the command that encrypts it.
    let (out, err) = pubkey(&p0, "hex");
    assert_eq!(out.trim(), fx.key_hex);
    assert!(
        err.contains("is not encrypted") && err.contains("ecdsa2pc share encrypt --share"),
        "{err}"
    );
    // No secret (stdin is not a terminal: no prompt), or two: refused, nothing changed.
    let r = run(&["share", "encrypt", "--share", s0]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("no secret to encrypt with"), "{r}");
    let r = run(&[
        "share",
        "encrypt",
        "--share",
        s0,
        "--passphrase-file",
        pass_s,
        "--key-file",
        key_s,
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("not both"), "{r}");
    assert!(!is_sealed(&p0));

    // Encrypt in place: party 0 under a passphrase, party 1 under a key file.
    let r = run(&[
        "share",
        "encrypt",
        "--share",
        s0,
        "--passphrase-file",
        pass_s,
    ]);
    assert_eq!(r.code, Some(0), "{r}");
    assert!(r.stderr.contains("encrypted key share"), "{r}");
    // Party 0's parameter secret beside the share is sealed with it (it was plaintext).
    let params = p0.parent().unwrap().join(PARAMS_FILE);
    assert!(
        r.stderr
            .contains("with party 0's commitment-parameter secret")
            && is_sealed(&params),
        "{r}"
    );
    let r = run(&["share", "encrypt", "--share", s1, "--key-file", key_s]);
    assert_eq!(r.code, Some(0), "{r}");
    assert!(is_sealed(&p0) && is_sealed(&p1));
    let r = run(&["share", "encrypt", "--share", s1, "--key-file", key_s]);
    assert_eq!(r.code, Some(0), "{r}");
    assert!(r.stderr.contains("already encrypted"), "{r}");

    // Without its secret, `inspect` shows the public header, and says that is all it shows.
    let head = run(&["inspect", "--share", s1, "--json"]);
    assert_eq!(head.code, Some(0), "{head}");
    assert!(
        head.stderr
            .contains("is encrypted: shown is its public header"),
        "{head}"
    );
    let full = run(&["inspect", "--share", s1, "--key-file", key_s, "--json"]);
    assert_eq!(full.code, Some(0), "{full}");
    let json = |r: &Run| -> serde_json::Value { serde_json::from_str(&r.stdout).unwrap() };
    let (head, full) = (json(&head), json(&full));
    assert_eq!(head["header_only"], true, "{head}");
    assert_eq!(head["party"], 1, "{head}");
    assert_eq!(head["encrypted_with"], "key file", "{head}");
    assert_eq!(head["key_id"], full["key_id"], "{head}\n{full}");
    assert_eq!(head["epoch"], full["epoch"], "{head}\n{full}");
    assert!(head.get("public_key").is_none() && full.get("public_key").is_some());
    assert!(full.get("header_only").is_none(), "{full}");

    // Missing, wrong and malformed secrets each say what to give.
    let r = run(&["pubkey", "--share", s0]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("encrypted with a passphrase, and none was given")
            && r.stderr.contains("--passphrase-file FILE"),
        "{r}"
    );
    let r = run(&["pubkey", "--share", s0, "--passphrase-file", wrong_s]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("encrypted with a passphrase, and the secret given does not open it")
            && r.stderr.contains("check --passphrase-file"),
        "{r}"
    );
    let r = run(&["pubkey", "--share", s1, "--passphrase-file", pass_s]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("encrypted with a key file, and the secret given does not open it"),
        "{r}"
    );
    // The hint names only what can open a key-file share.
    assert!(r.stderr.contains("check --key-file"), "{r}");
    assert!(!r.stderr.contains("ECDSA2PC_PASSPHRASE"), "{r}");
    let r = run(&["pubkey", "--share", s1]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("with --key-file FILE") && !r.stderr.contains("--passphrase-file"),
        "{r}"
    );
    let short = dir.path().join("short.key");
    std::fs::write(&short, "short").unwrap();
    let r = run(&[
        "pubkey",
        "--share",
        s1,
        "--key-file",
        short.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("holds 5 bytes"), "{r}");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\nsecond line\n").unwrap();
    let r = run(&[
        "pubkey",
        "--share",
        s0,
        "--passphrase-file",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("the first line (the passphrase) is empty"),
        "{r}"
    );
    // The right secret, from a file or from the environment.
    let r = run(&["pubkey", "--share", s0, "--passphrase-file", pass_s]);
    assert_eq!(r.code, Some(0), "{r}");
    assert_eq!(r.stdout.trim(), fx.key_hex);
    assert!(!r.stderr.contains("not encrypted"), "{r}");
    let r = Run::from_output(
        std::process::Command::new(crate::support::bin())
            .args(["pubkey", "--share", s0])
            .env("ECDSA2PC_PASSPHRASE", "correct horse battery")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, Some(0), "{r}");
    assert_eq!(r.stdout.trim(), fx.key_hex);

    // Sign, refresh (the pending and promoted shares stay sealed) and sign again.
    let secret0 = ["--share", s0, "--passphrase-file", pass_s];
    let secret1 = ["--share", s1, "--key-file", key_s];
    for command in ["sign", "refresh", "sign"] {
        let message: &[&str] = if command == "sign" {
            &["--message", "sealed"]
        } else {
            &[]
        };
        let (r0, r1) = both(
            command,
            &fx.certs(),
            &[&secret0[..], message].concat(),
            &[&secret1[..], message].concat(),
        );
        for (r, file) in [(&r0, &p0), (&r1, &p1)] {
            assert_eq!(r.code, Some(0), "{command}:\n{r}");
            assert!(!r.stderr.contains("NOT encrypted"), "{r}");
            if command == "refresh" {
                assert!(
                    r.stderr
                        .contains(&format!("back up {} now (epoch 1)", file.display()))
                        && r.stderr.contains("destroy every older copy")
                        && r.stderr.contains("they still sign"),
                    "{r}"
                );
            }
        }
        assert!(is_sealed(&p0) && is_sealed(&p1), "after {command}");
    }
    let pending = dir.path().join("p0.share.pending");
    assert!(!pending.exists());
}

#[test]
fn keygen_with_a_secret_writes_encrypted_shares_and_parameters_and_pins_refuse_new_parameters() {
    let fx = fixture();
    let dir = TempDir::new("cli-sealed-keygen");
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "keygen passphrase\n").unwrap();
    let key = dir.path().join("share.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let (p0, p1) = (dir.path().join("p0.share"), dir.path().join("p1.share"));
    let params = dir.path().join(PARAMS_FILE);
    let args0 = [
        "--share",
        p0.to_str().unwrap(),
        "--passphrase-file",
        pass.to_str().unwrap(),
    ];
    let args1 = [
        "--share",
        p1.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ];
    // Party 0 (the fixture's identity) makes new parameters in this directory, encrypted
    // like its shares. Party 1 pinned the fixture's parameters for this party 0: refused.
    fx.copy_pins();
    let (r0, r1) = both("keygen", &fx.certs(), &args0, &args1);
    // Party 0 says before the search that a pinning party 1 will refuse new parameters.
    for needle in [
        "making party 0's commitment parameters",
        "this directory holds no ring-pedersen.secret",
    ] {
        assert!(r0.stderr.contains(needle), "{needle:?}:\n{r0}");
    }
    assert!(is_sealed(&params), "the parameter secret is encrypted");
    assert_eq!(r1.code, Some(1), "{r1}");
    // The ordinary cause first: party 0 ran with another share directory.
    for needle in [
        "party 0 offers commitment parameters",
        "but party 1 pinned",
        "another share directory",
        "delete the pin",
        ".pin",
    ] {
        assert!(r1.stderr.contains(needle), "{needle:?}:\n{r1}");
    }
    assert_eq!(r0.code, Some(1), "{r0}");
    assert!(r0.stderr.contains("delete its pin"), "{r0}");
    assert!(
        !p0.exists() && !p1.exists(),
        "no share from a refused keygen"
    );

    // A party 1 without that pin (its own state directory) checks the proof and pins.
    let locks = dir.path().join("state");
    let addr = free_addr();
    let timeout = ["--timeout", "120"];
    let s0 = spawn_command(
        "keygen",
        0,
        &addr,
        &fx.certs(),
        &[&args0[..], &timeout].concat(),
    );
    let s1 = spawn_command_with_lock_dir(
        "keygen",
        1,
        &addr,
        &fx.certs(),
        &[&args1[..], &timeout].concat(),
        &locks,
    );
    let (r1, r0) = (finish(s1), finish(s0));
    assert!(!r0.stderr.contains("making party 0's"), "made once:\n{r0}");
    assert!(r1.stderr.contains("verified and pinned in"), "{r1}");
    assert!(locks.join("pins").is_dir(), "{r1}");
    for (r, file) in [(&r0, &p0), (&r1, &p1)] {
        assert_eq!(r.code, Some(0), "{r}");
        assert!(r.stderr.contains("mode 0600, encrypted)"), "{r}");
        assert!(!r.stderr.contains("NOT encrypted"), "{r}");
        assert!(
            r.stderr
                .contains(&format!("back up {} now", file.display())),
            "{r}"
        );
    }
    assert!(is_sealed(&p0) && is_sealed(&p1));
    // Party 0's parameter proof beside its secret, in the clear (it is public), for the
    // next keygen here to read instead of proving again.
    let proof = std::fs::read(dir.path().join("ring-pedersen.proof")).unwrap();
    assert!(proof.starts_with(b"ecdsa2pc params proof v1"));
    let r = run(&[
        "pubkey",
        "--share",
        p1.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{r}");
    assert_eq!(r.stdout.trim(), r0.field("public key (SEC1 compressed): "));
}
