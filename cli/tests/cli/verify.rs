//! `ecdsa2pc verify`: exit 0 for a valid signature, 1 for an invalid one, 2 for bad input.

use std::path::{Path, PathBuf};

use k256::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};

use crate::support::{TempDir, openssl, run, sha256};

const MESSAGE: &str = "verify me";

/// A key file (SEC1 hex, as `demo` prints Q) and a DER signature of SHA-256(MESSAGE).
fn k256_fixture(dir: &Path) -> (PathBuf, PathBuf, Signature) {
    let key = SigningKey::from_slice(&[0x11; 32]).unwrap();
    let sig: Signature = key.sign_prehash(&sha256(MESSAGE.as_bytes())).unwrap();
    let hex: String = key
        .verifying_key()
        .to_sec1_point(true)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key_file = dir.join("q.hex");
    std::fs::write(&key_file, format!("{hex}\n")).unwrap();
    let sig_file = dir.join("sig.der");
    std::fs::write(&sig_file, sig.to_der().as_bytes()).unwrap();
    (key_file, sig_file, sig)
}

fn verify(key: &Path, sig: &Path, rest: &[&str]) -> crate::support::Run {
    let mut args = vec![
        "verify",
        "--public-key",
        key.to_str().unwrap(),
        "--signature",
        sig.to_str().unwrap(),
    ];
    args.extend_from_slice(rest);
    run(&args)
}

#[test]
fn valid_signature_exits_0_and_tampered_message_exits_1() {
    let dir = TempDir::new("verify-valid");
    let (key, sig, _) = k256_fixture(dir.path());
    let ok = verify(&key, &sig, &["--message", MESSAGE]);
    assert_eq!(ok.code, Some(0), "{ok}");
    assert!(ok.stdout.starts_with("valid"), "{ok}");
    let bad = verify(&key, &sig, &["--message", "verify me (tampered)"]);
    assert_eq!(bad.code, Some(1), "{bad}");
    assert!(bad.stderr.contains("does NOT verify"), "{bad}");
}

#[test]
fn digest_in_hex_is_accepted_and_checked() {
    let dir = TempDir::new("verify-digest");
    let (key, sig, _) = k256_fixture(dir.path());
    let digest: String = sha256(MESSAGE.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(verify(&key, &sig, &["--digest", &digest]).code, Some(0));
    let other = format!("{}0", &digest[..63]);
    assert_eq!(verify(&key, &sig, &["--digest", &other]).code, Some(1));
    let short = verify(&key, &sig, &["--digest", &digest[..62]]);
    assert_eq!(short.code, Some(2), "{short}");
    assert!(short.stderr.contains("64 hex digits"), "{short}");
}

#[test]
fn high_s_signature_is_valid_plain_ecdsa_with_a_note() {
    let dir = TempDir::new("verify-high-s");
    let (key, _, sig) = k256_fixture(dir.path());
    let (r, s) = sig.split_scalars();
    let high = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    let high_file = dir.path().join("high.der");
    std::fs::write(&high_file, high.to_der().as_bytes()).unwrap();
    let out = verify(&key, &high_file, &["--message", MESSAGE]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("high s"), "{out}");
}

#[test]
fn openssl_made_key_and_signature_verify() {
    let dir = TempDir::new("verify-openssl");
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(p("msg.txt"), MESSAGE).unwrap();
    for args in [
        &[
            "ecparam",
            "-name",
            "secp256k1",
            "-genkey",
            "-noout",
            "-out",
            &p("k.pem"),
        ][..],
        &["ec", "-in", &p("k.pem"), "-pubout", "-out", &p("pub.pem")],
        &[
            "dgst",
            "-sha256",
            "-sign",
            &p("k.pem"),
            "-out",
            &p("sig.der"),
            &p("msg.txt"),
        ],
    ] {
        let out = openssl(args);
        assert_eq!(out.code, Some(0), "openssl {args:?}:\n{out}");
    }
    let (key, sig) = (dir.path().join("pub.pem"), dir.path().join("sig.der"));
    let ok = verify(&key, &sig, &["--message", MESSAGE]);
    assert_eq!(ok.code, Some(0), "{ok}");
    let bad = verify(&key, &sig, &["--message", "verify me!"]);
    assert_eq!(bad.code, Some(1), "{bad}");
}

#[test]
fn bad_usage_and_bad_files_exit_2() {
    let dir = TempDir::new("verify-usage");
    let (key, sig, _) = k256_fixture(dir.path());
    let both = verify(&key, &sig, &["--message", MESSAGE, "--digest", "00"]);
    assert_eq!(both.code, Some(2), "{both}");
    assert!(both.stderr.contains("exactly one of"), "{both}");
    let missing = dir.path().join("missing.pem");
    let gone = verify(&missing, &sig, &["--message", MESSAGE]);
    assert_eq!(gone.code, Some(2), "{gone}");
    assert!(gone.stderr.contains("missing.pem"), "{gone}");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    assert_eq!(
        verify(&garbage, &sig, &["--message", MESSAGE]).code,
        Some(2)
    );
    assert_eq!(run(&["verify", "--bogus"]).code, Some(2));
}

/// Each way a public-key file can be wrong is named with its file and the reason (exit 2),
/// and a derivation path over a key that is no xpub says what to give instead.
#[test]
fn each_kind_of_bad_public_key_file_is_named() {
    let dir = TempDir::new("verify-bad-keys");
    let (key, sig, _) = k256_fixture(dir.path());
    // 0x02 ‖ x with x = 5: x³ + 7 is not a square mod p, so no point has this x.
    let off_curve = format!("02{:064x}\n", 5);
    for (name, text, reason) in [
        (
            "bad-pem.pem",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
            "bad PEM",
        ),
        (
            // "hello" in base64: PEM around bytes that are no SubjectPublicKeyInfo.
            "not-spki.pem",
            "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n",
            "not a secp256k1 public key (SubjectPublicKeyInfo)",
        ),
        ("odd.hex", "abc\n", "not a hex SEC1 point"),
        (
            "off-curve.hex",
            off_curve.as_str(),
            "the point is not on secp256k1",
        ),
        (
            "garbage.txt",
            "not a key",
            "neither a secp256k1 public key (SubjectPublicKeyInfo PEM or DER) nor a hex SEC1 point",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let r = verify(&file, &sig, &["--message", MESSAGE]);
        assert_eq!(r.code, Some(2), "{name}: {r}");
        assert!(
            r.stderr.contains(&format!("{name}: {reason}")),
            "{name}: {r}"
        );
    }
    let r = verify(&key, &sig, &["--message", MESSAGE, "--path", "m/0/1"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("--path m/0/1: a path derives from an extended public key"),
        "{r}"
    );
}
