//! Sealed share files through [`ShareFiles`]: round trips, each refusal with its own error,
//! no secret in the file, and encryption in place interrupted at every step.

use std::os::unix::fs::PermissionsExt;
use std::sync::OnceLock;
use std::thread;

use ecdsa2pc_core::{Context, KeyShare, KeyShareP1, KeyShareP2, PaillierSecretKey};
use zeroize::Zeroizing;

use super::tests::{names, scratch};
use super::*;
use crate::sealed::{self, HEADER_LEN, KdfParams, Sealer, Secret, SecretKind};
use crate::{Framed, driver, memory_pipe};

#[path = "../../../core/fixtures/primes.rs"]
mod primes;
#[path = "../../../core/fixtures/safe_primes.rs"]
mod safe_primes;

/// Cheap Argon2id parameters: the tests check the format, not the cost.
const CHEAP: KdfParams = KdfParams {
    m_kib: 64,
    t: 1,
    p: 1,
};

pub(super) fn paillier(i: usize) -> PaillierSecretKey {
    let (p, q) = primes::PRIME_PAIRS[i];
    PaillierSecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}

/// Party 0's commitment-parameter secret over the core's fixture safe primes, made once.
pub(super) fn ring_pedersen() -> &'static ecdsa2pc_core::RingPedersenSecret {
    static SECRET: OnceLock<ecdsa2pc_core::RingPedersenSecret> = OnceLock::new();
    SECRET.get_or_init(|| {
        let (p, q) = safe_primes::SAFE_PRIME_PAIRS[0];
        ecdsa2pc_core::RingPedersenSecret::from_safe_primes(
            &mut crate::rng::os_rng().unwrap(),
            &crypto_bigint::U1024::from_be_hex(p),
            &crypto_bigint::U1024::from_be_hex(q),
        )
        .unwrap()
    })
}

fn keygen(i: usize) -> (KeyShareP1, KeyShareP2) {
    let ctx = |own: u8, peer: u8| Context {
        own_pid: [own; 32],
        peer_pid: [peer; 32],
        channel_binding: b"sealed",
    };
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let p2 = thread::spawn(move || {
        let mut rng = crate::rng::os_rng().unwrap();
        driver::keygen_p2(
            &mut Framed::new(b, max),
            &mut rng,
            &ctx(2, 1),
            &mut crate::pins::verify,
        )
        .unwrap()
    });
    let mut rng = crate::rng::os_rng().unwrap();
    let s1 = driver::keygen_p1(
        &mut Framed::new(a, max),
        &mut rng,
        &ctx(1, 2),
        paillier(i),
        ring_pedersen(),
    )
    .unwrap();
    (s1, p2.join().unwrap())
}

/// Two keys, made once for all tests.
pub(crate) fn keys() -> &'static [(KeyShareP1, KeyShareP2); 2] {
    static KEYS: OnceLock<[(KeyShareP1, KeyShareP2); 2]> = OnceLock::new();
    KEYS.get_or_init(|| [keygen(0), keygen(1)])
}

fn passphrase(text: &str) -> Sealer {
    Sealer::with_params(
        Secret::Passphrase(Zeroizing::new(text.as_bytes().to_vec())),
        CHEAP,
    )
}

fn key_file(byte: u8) -> Sealer {
    Sealer::new(Secret::Key(Zeroizing::new([byte; 32])))
}

fn sealed_files(dir: &Path, name: &str, sealer: &Sealer) -> ShareFiles {
    ShareFiles::new(&dir.join(name)).sealed_with(Some(sealer.clone()))
}

/// Writes `bytes` as the file at `path`, mode 0600.
fn put(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// Flips one bit of the file at `path`, `at` bytes from the start (negative: from the end).
fn flip(path: &Path, at: isize) {
    let mut bytes = fs::read(path).unwrap();
    let i = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at.unsigned_abs()
    };
    bytes[i] ^= 1;
    put(path, &bytes);
}

#[test]
fn sealed_shares_round_trip_with_a_passphrase_and_a_key_file() {
    let dir = scratch("seal-trip");
    let (s1, s2) = &keys()[0];
    let f1 = sealed_files(&dir, "p1.share", &passphrase("correct horse"));
    let f2 = sealed_files(&dir, "p2.share", &key_file(7));
    f1.write_active(s1).unwrap();
    f2.write_active(s2).unwrap();
    for f in [&f1, &f2] {
        let bytes = fs::read(f.path()).unwrap();
        assert!(bytes.starts_with(sealed::MAGIC));
        assert!(f.active_is_sealed().unwrap());
        let mode = fs::metadata(f.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Fresh ShareFiles (fresh caches): the derivation is redone from the header.
    let again = sealed_files(&dir, "p1.share", &passphrase("correct horse"));
    let back1 = again.load::<KeyShareP1>().unwrap().active;
    assert_eq!(back1.fingerprint(), s1.fingerprint());
    let back2 = sealed_files(&dir, "p2.share", &key_file(7))
        .load::<KeyShareP2>()
        .unwrap()
        .active;
    assert_eq!(back2.fingerprint(), s2.fingerprint());
    // The header says what is needed to open it, in public.
    let h = sealed::header(f1.path(), &fs::read(f1.path()).unwrap()).unwrap();
    assert_eq!(h.party, Party::P1);
    assert_eq!(h.kind, SecretKind::Passphrase);
    assert_eq!(h.params, CHEAP);
    assert_eq!(h.key_id, key_id(&s1.public().q));
    assert_eq!(h.epoch, 0);
    let h2 = sealed::header(f2.path(), &fs::read(f2.path()).unwrap()).unwrap();
    assert_eq!(h2.kind, SecretKind::KeyFile);
    // party_of reads the sealed header.
    let bytes = f2.read_active().unwrap();
    assert_eq!(ShareFiles::party_of(f2.path(), &bytes).unwrap(), Party::P2);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn default_parameters_are_the_documented_ones() {
    assert_eq!(
        KdfParams::DEFAULT,
        KdfParams {
            m_kib: 65536,
            t: 3,
            p: 1
        }
    );
    let sealer = Sealer::new(Secret::Passphrase(Zeroizing::new(b"x".to_vec())));
    let dir = scratch("seal-default");
    let f = ShareFiles::new(&dir.join("p2.share")).sealed_with(Some(sealer));
    f.write_active(&keys()[0].1).unwrap();
    let h = sealed::header(f.path(), &fs::read(f.path()).unwrap()).unwrap();
    assert_eq!(h.params, KdfParams::DEFAULT);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wrong_secret_missing_secret_and_wrong_kind_are_told_apart() {
    let dir = scratch("seal-wrong");
    let (s1, _) = &keys()[0];
    sealed_files(&dir, "p1.share", &passphrase("right"))
        .write_active(s1)
        .unwrap();
    let err = sealed_files(&dir, "p1.share", &passphrase("wrong"))
        .load::<KeyShareP1>()
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongSecret {
                sealed_with: SecretKind::Passphrase,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("encrypted with a passphrase, and the secret given does not open it"),
        "{err}"
    );
    let err = sealed_files(&dir, "p1.share", &key_file(1))
        .load::<KeyShareP1>()
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongSecret {
                sealed_with: SecretKind::Passphrase,
                ..
            }
        ),
        "{err}"
    );
    let err = ShareFiles::new(&dir.join("p1.share"))
        .load::<KeyShareP1>()
        .unwrap_err();
    assert!(matches!(err, StoreError::NoSecret { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("encrypted with a passphrase, and none was given")
    );
    // A key file that is not the one used.
    let (_, s2) = &keys()[0];
    sealed_files(&dir, "p2.share", &key_file(1))
        .write_active(s2)
        .unwrap();
    let err = sealed_files(&dir, "p2.share", &key_file(2))
        .load::<KeyShareP2>()
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongSecret {
                sealed_with: SecretKind::KeyFile,
                ..
            }
        ),
        "{err}"
    );
    // The other party's sealed share, found from the header before any secret is used.
    let err = sealed_files(&dir, "p2.share", &key_file(2))
        .load::<KeyShareP1>()
        .unwrap_err();
    assert!(matches!(err, StoreError::OtherParty { .. }), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}

/// The refusal for a sealed file altered at `at`.
fn tampered(at: isize) -> StoreError {
    let dir = scratch("seal-tamper");
    let f = sealed_files(&dir, "p2.share", &passphrase("pw"));
    f.write_active(&keys()[0].1).unwrap();
    flip(f.path(), at);
    let err = f.load::<KeyShareP2>().unwrap_err();
    fs::remove_dir_all(&dir).unwrap();
    err
}

#[test]
fn tampered_header_ciphertext_and_tag_are_each_refused() {
    // Epoch field (68..76), salt (20..36), key id (36..68), nonce, secret check, checksum.
    for at in [5, 9, 25, 40, 70, 80, 105, 120] {
        let err = tampered(at);
        assert!(
            matches!(
                err,
                StoreError::SealBroken {
                    part: SealPart::Header,
                    ..
                }
            ),
            "byte {at}: {err}"
        );
        assert!(err.to_string().contains("header is damaged"), "{err}");
    }
    // First ciphertext byte, a middle one, the last tag byte, the first tag byte.
    for at in [HEADER_LEN as isize, 500, -1, -16] {
        let err = tampered(at);
        assert!(
            matches!(
                err,
                StoreError::SealBroken {
                    part: SealPart::Payload,
                    ..
                }
            ),
            "byte {at}: {err}"
        );
        assert!(err.to_string().contains("tampered with"), "{err}");
    }
    // A truncated file.
    let dir = scratch("seal-short");
    let f = sealed_files(&dir, "p2.share", &passphrase("pw"));
    f.write_active(&keys()[0].1).unwrap();
    let bytes = fs::read(f.path()).unwrap();
    put(f.path(), &bytes[..bytes.len() - 1]);
    let err = f.load::<KeyShareP2>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SealBroken {
                part: SealPart::Payload,
                ..
            }
        ),
        "{err}"
    );
    // The message allows for an incomplete copy, not only for tampering.
    assert!(err.to_string().contains("cut short"), "{err}");
    put(f.path(), &bytes[..HEADER_LEN - 1]);
    assert!(matches!(
        f.load::<KeyShareP2>().unwrap_err(),
        StoreError::SealBroken {
            part: SealPart::Header,
            ..
        }
    ));
    fs::remove_dir_all(&dir).unwrap();
}

/// Recomputes the header checksum after a deliberate change (an attacker can too).
fn rechecksum(bytes: &mut [u8]) {
    use sha2::{Digest, Sha256};
    let sum = Sha256::digest(&bytes[..HEADER_LEN - 16]);
    bytes[HEADER_LEN - 16..HEADER_LEN].copy_from_slice(&sum[..16]);
}

#[test]
fn header_altered_with_its_checksum_fails_the_tag_and_absurd_parameters_are_refused() {
    let dir = scratch("seal-aad");
    let f = sealed_files(&dir, "p2.share", &passphrase("pw"));
    f.write_active(&keys()[0].1).unwrap();
    let original = fs::read(f.path()).unwrap();
    // The epoch, changed consistently: only the AEAD (header as associated data) sees it.
    let mut bytes = original.clone();
    bytes[75] ^= 1;
    rechecksum(&mut bytes);
    put(f.path(), &bytes);
    let err = f.load::<KeyShareP2>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SealBroken {
                part: SealPart::Payload,
                ..
            }
        ),
        "{err}"
    );
    // 4 TiB of memory asked for: refused before Argon2id runs.
    let mut bytes = original.clone();
    bytes[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    rechecksum(&mut bytes);
    put(f.path(), &bytes);
    let err = f.load::<KeyShareP2>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SealBroken {
                part: SealPart::Header,
                why: "its Argon2id parameters are out of bounds",
                ..
            }
        ),
        "{err}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_for_another_key_is_refused() {
    let dir = scratch("seal-other-key");
    let pw = passphrase("pw");
    let (a, _) = &keys()[0];
    let (b, _) = &keys()[1];
    let files = sealed_files(&dir, "p1.share", &pw);
    files.write_active(a).unwrap();
    // A pending share of another key beside the active one.
    files.write_pending(b).unwrap();
    let err = files.load::<KeyShareP1>().unwrap_err();
    let StoreError::OtherKey {
        ref path,
        expected,
        found,
    } = err
    else {
        panic!("expected OtherKey, got {err}");
    };
    assert_eq!(path, files.pending_path());
    assert_eq!(expected, key_id(&a.public().q));
    assert_eq!(found, key_id(&b.public().q));
    assert!(err.to_string().contains("belongs to another key"), "{err}");
    // Headers swapped: key b's header on key a's sealed body, as the pending file.
    let body_a = fs::read(files.path()).unwrap();
    let head_b = fs::read(files.pending_path()).unwrap();
    let mut swapped = head_b[..HEADER_LEN].to_vec();
    swapped.extend_from_slice(&body_a[HEADER_LEN..]);
    put(files.pending_path(), &swapped);
    let err = files.load::<KeyShareP1>().unwrap_err();
    assert!(matches!(err, StoreError::OtherKey { .. }), "{err}");
    // The same swap as the active file: the tag fails (nothing says which key it should be).
    put(files.path(), &swapped);
    files.discard_pending().unwrap();
    let err = files.load::<KeyShareP1>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SealBroken {
                part: SealPart::Payload,
                ..
            }
        ),
        "{err}"
    );
    // A plaintext pending share of another key is refused the same way.
    let plain = ShareFiles::new(&dir.join("q1.share"));
    plain.write_active(a).unwrap();
    plain.write_pending(b).unwrap();
    assert!(matches!(
        plain.load::<KeyShareP1>().unwrap_err(),
        StoreError::OtherKey { .. }
    ));
    // A share sealed under a header that names another key (only a faulty writer can).
    let other = sealed_files(&dir, "r1.share", &pw);
    let bytes = pw
        .seal(other.path(), b, &encode(other.path(), a).unwrap())
        .unwrap();
    put(other.path(), &bytes);
    let err = other.load::<KeyShareP1>().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SealBroken {
                why: "the header does not describe the share inside",
                ..
            }
        ),
        "{err}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Big- and little-endian bytes and hex (both cases) of a secret, leading zeros dropped.
fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    let first = secret.iter().position(|&b| b != 0).unwrap_or(secret.len());
    let be = secret[first..].to_vec();
    let le: Vec<u8> = be.iter().rev().copied().collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut out = vec![be.clone(), le.clone()];
    for raw in [&be, &le] {
        out.push(hex(raw).into_bytes());
        out.push(hex(raw).to_uppercase().into_bytes());
    }
    out
}

/// Whether any 8-byte window of any encoding of `secret` occurs in `file`.
fn leaks(file: &[u8], secret: &[u8]) -> bool {
    encodings(secret)
        .iter()
        .any(|enc| enc.windows(8).any(|w| file.windows(8).any(|f| f == w)))
}

#[test]
fn a_sealed_share_file_holds_none_of_its_secret_values() {
    let dir = scratch("seal-leak");
    let (s1, s2) = &keys()[0];
    // The secrets, from the in-memory shares' own encodings (x1 48 bytes, then p and q,
    // then the 32-byte parameters' hash and a 32-byte checksum; x2 32 bytes before the
    // 768-byte ring-Pedersen parameters and the checksum) and the fixture primes.
    let plain1 = encode(Path::new("x"), s1).unwrap();
    let plain2 = encode(Path::new("x"), s2).unwrap();
    let n1 = plain1.len() - 32;
    let n2 = plain2.len() - 768;
    let x1 = &plain1[n1 - 32 - 256 - 48..n1 - 32 - 256];
    let p = &plain1[n1 - 32 - 256..n1 - 32 - 128];
    let q = &plain1[n1 - 32 - 128..n1 - 32];
    let x2 = &plain2[n2 - 32 - 32..n2 - 32];
    let (fp, fq) = primes::PRIME_PAIRS[0];
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(hex(p), fp.to_lowercase());
    assert_eq!(hex(q), fq.to_lowercase());
    let f1 = sealed_files(&dir, "p1.share", &passphrase("pw"));
    let f2 = sealed_files(&dir, "p2.share", &passphrase("pw"));
    f1.write_active(s1).unwrap();
    f2.write_active(s2).unwrap();
    let file1 = fs::read(f1.path()).unwrap();
    let file2 = fs::read(f2.path()).unwrap();
    for secret in [x1, p, q] {
        assert!(leaks(&plain1, secret), "the check finds it in plaintext");
        assert!(
            !leaks(&file1, secret),
            "a secret of party 0's share is in its file"
        );
    }
    assert!(leaks(&plain2, x2));
    assert!(!leaks(&file2, x2), "x2 is in party 1's sealed file");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plaintext_shares_still_load_with_a_secret_and_encrypt_in_place() {
    let dir = scratch("seal-migrate");
    let (s1, _) = &keys()[0];
    let (b1, _) = &keys()[1];
    let plain = ShareFiles::new(&dir.join("p1.share"));
    plain.write_active(s1).unwrap();
    let files = sealed_files(&dir, "p1.share", &passphrase("pw"));
    assert!(!files.active_is_sealed().unwrap());
    assert_eq!(
        files.load::<KeyShareP1>().unwrap().active.fingerprint(),
        s1.fingerprint()
    );
    // Without a secret there is nothing to seal with.
    assert!(matches!(
        plain.encrypt_in_place::<KeyShareP1>().unwrap_err(),
        StoreError::NoSecret { .. }
    ));
    assert_eq!(files.encrypt_in_place::<KeyShareP1>().unwrap(), 1);
    assert!(files.active_is_sealed().unwrap());
    assert_eq!(
        files.load::<KeyShareP1>().unwrap().active.fingerprint(),
        s1.fingerprint()
    );
    // Again: nothing left to do.
    assert_eq!(files.encrypt_in_place::<KeyShareP1>().unwrap(), 0);
    assert_eq!(names(&dir), ["p1.share"]);
    // A share that does not load is not touched.
    let other = ShareFiles::new(&dir.join("o1.share"));
    other.write_active(s1).unwrap();
    other.write_pending(b1).unwrap();
    let before = fs::read(other.path()).unwrap();
    let err = other
        .clone()
        .sealed_with(Some(passphrase("pw")))
        .encrypt_in_place::<KeyShareP1>()
        .unwrap_err();
    assert!(matches!(err, StoreError::OtherKey { .. }), "{err}");
    assert_eq!(fs::read(other.path()).unwrap(), before);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn encryption_in_place_interrupted_at_each_step_loses_nothing() {
    let (s1, _) = &keys()[0];
    let steps = [
        Step::Create,
        Step::Write,
        Step::Sync,
        Step::Rename,
        Step::SyncDir,
    ];
    // A refresh was interrupted too: a pending share of the same key is sealed second
    // (the same share serves: only its key id matters here).
    let pending = s1;
    for file in 0..2 {
        for step in steps {
            let dir = scratch("seal-fault");
            let plain = ShareFiles::new(&dir.join("p1.share"));
            plain.write_active(s1).unwrap();
            plain.write_pending(pending).unwrap();
            let files = plain.clone().sealed_with(Some(passphrase("pw")));
            let mut seen = 0;
            let mut fault = |at: Step| {
                if at == Step::Create {
                    seen += 1;
                }
                if seen == file + 1 && at == step {
                    Err(std::io::Error::other("injected: disk full"))
                } else {
                    Ok(())
                }
            };
            let err = files
                .encrypt_in_place_via::<KeyShareP1>(&mut fault)
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Write { .. }) && err.to_string().contains("injected"),
                "file {file}, {step:?}: {err}"
            );
            // Both files still load (old plaintext or new sealed), the same share.
            let held = files.load::<KeyShareP1>().unwrap();
            assert_eq!(held.active.fingerprint(), s1.fingerprint());
            assert_eq!(held.pending.unwrap().fingerprint(), pending.fingerprint());
            // Only a failure after the rename leaves the file sealed.
            let sealed_now = files.active_is_sealed().unwrap();
            assert_eq!(
                sealed_now,
                file == 1 || step == Step::SyncDir,
                "file {file}, {step:?}"
            );
            // No temporary file is left behind; running again finishes the job.
            assert_eq!(names(&dir), ["p1.share", "p1.share.pending"], "{step:?}");
            files.encrypt_in_place::<KeyShareP1>().unwrap();
            assert!(files.active_is_sealed().unwrap());
            assert!(sealed::is_sealed(&fs::read(files.pending_path()).unwrap()));
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn key_files_hold_raw_or_hex_keys() {
    let raw = [0xabu8; 32];
    assert_eq!(*sealed::parse_key(&raw).unwrap(), raw);
    let hex = format!("{}\n", "AB".repeat(32));
    assert_eq!(*sealed::parse_key(hex.as_bytes()).unwrap(), raw);
    assert_eq!(*sealed::parse_key("ab".repeat(32).as_bytes()).unwrap(), raw);
    let err = sealed::parse_key(b"short").unwrap_err();
    assert!(err.contains("holds 5 bytes"), "{err}");
    let err = sealed::parse_key("zz".repeat(32).as_bytes()).unwrap_err();
    assert!(err.contains("64 hex digits"), "{err}");
}
