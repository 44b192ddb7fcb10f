//! The wallet formats through the real binary: `sign --format`, `--message-file`,
//! `--eth-message`, `--btc-message`, `--json`, `verify` of every format, `pubkey --format`
//! and `inspect`, on one key's shares (see [`crate::share_files::fixture`]).

use std::path::Path;

use k256::ecdsa::signature::hazmat::PrehashVerifier as _;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest as _, Keccak256};

use crate::share_files::{both, fixture};
use crate::support::{Run, TempDir, run, sha256, unhex};

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{r}"))
}

/// Both parties sign with the same `args` (party 0 also with `extra0`); both must succeed.
fn sign_both(dir: &Path, args: &[&str], extra0: &[&str]) -> (Run, Run) {
    let fx = fixture();
    let (p0, p1) = fx.copy_shares(dir);
    let (r0, r1) = both(
        "sign",
        &fx.certs(),
        &[&["--share", p0.to_str().unwrap()], args, extra0].concat(),
        &[&["--share", p1.to_str().unwrap()], args].concat(),
    );
    assert_eq!(r0.code, Some(0), "party 0:\n{r0}");
    assert_eq!(r1.code, Some(0), "party 1:\n{r1}");
    (r0, r1)
}

/// `ecdsa2pc verify` with the fixture's key; returns the run.
fn verify(dir: &Path, signature: &Path, args: &[&str]) -> Run {
    let key = dir.join("key.hex");
    std::fs::write(&key, &fixture().key_hex).unwrap();
    run(&[
        &[
            "verify",
            "--public-key",
            key.to_str().unwrap(),
            "--signature",
            signature.to_str().unwrap(),
        ],
        args,
    ]
    .concat())
}

fn joint_key() -> VerifyingKey {
    VerifyingKey::from_sec1_bytes(&unhex(&fixture().key_hex)).unwrap()
}

#[test]
fn each_sign_format_verifies_and_stdout_is_the_signature_alone() {
    let dir = TempDir::new("formats");
    let message = "pay 0.1 BTC to Bob";
    let digest = sha256(message.as_bytes());
    for format in ["der", "hex", "compact", "eth"] {
        let out = dir.path().join(format!("sig.{format}"));
        let (r0, r1) = sign_both(
            dir.path(),
            &["--message", message, "--format", format],
            &["--out", out.to_str().unwrap(), "--json"],
        );
        let v = json(&r0);
        assert_eq!(v["ok"], true, "{r0}");
        assert_eq!(v["command"], "sign");
        assert_eq!(v["format"], format);
        assert_eq!(v["public_key"], fixture().key_hex.as_str());
        assert_eq!(v["digest"], hex(&digest));
        assert_eq!(v["hash"], "sha256");
        let recovery_id = v["recovery_id"].as_u64().expect("recovery id");
        // Party 1 prints the signature alone: the same one party 0's JSON holds.
        let file = std::fs::read(&out).unwrap();
        let sig = match format {
            "der" => {
                assert_eq!(r1.stdout_raw, file, "binary DER on stdout and in --out");
                assert_eq!(v["signature"], hex(&file));
                Signature::from_der(&file).unwrap()
            }
            _ => {
                let text = r1.stdout.strip_suffix('\n').expect("a text line");
                assert!(!text.contains('\n'), "one line:\n{r1}");
                assert_eq!(text.as_bytes(), file, "--out holds what stdout shows");
                assert_eq!(v["signature"], text);
                let raw = unhex(text.trim_start_matches("0x"));
                match format {
                    "hex" => Signature::from_der(&raw).unwrap(),
                    "compact" => {
                        assert_eq!(raw.len(), 64);
                        Signature::from_slice(&raw).unwrap()
                    }
                    _ => {
                        assert_eq!(raw.len(), 65);
                        assert_eq!(u64::from(raw[64]), 27 + recovery_id, "v = 27 + id");
                        // The recovered key is the share's key.
                        let sig = Signature::from_slice(&raw[..64]).unwrap();
                        let id = RecoveryId::from_byte(raw[64] - 27).unwrap();
                        let recovered =
                            VerifyingKey::recover_from_prehash(&digest, &sig, id).unwrap();
                        assert_eq!(recovered, joint_key(), "eth recovers the joint key");
                        sig
                    }
                }
            }
        };
        assert_eq!(sig.normalize_s(), sig, "low s");
        joint_key()
            .verify_prehash(&digest, &sig)
            .expect("k256 verifies");
        let ok = verify(dir.path(), &out, &["--message", message]);
        assert_eq!(ok.code, Some(0), "verify {format}:\n{ok}");
        assert!(ok.stdout.starts_with("valid"), "{ok}");
        let bad = verify(dir.path(), &out, &["--message", "pay 9 BTC to Bob"]);
        assert_eq!(
            bad.code,
            Some(1),
            "verify {format} of another message:\n{bad}"
        );
    }
}

#[test]
fn message_file_signs_the_exact_bytes_with_trailing_newlines() {
    let dir = TempDir::new("message-file");
    let bytes = b"line one\n\nline three\n\n";
    let file = dir.path().join("message.txt");
    std::fs::write(&file, bytes).unwrap();
    let (r0, r1) = sign_both(
        dir.path(),
        &["--message-file", file.to_str().unwrap()],
        &["--quiet"],
    );
    assert!(
        r0.stderr.is_empty(),
        "--quiet: nothing but errors on stderr:\n{r0}"
    );
    assert_eq!(r0.stdout, r1.stdout, "the same signature");
    let sig = Signature::from_der(&unhex(r0.stdout.trim())).unwrap();
    let key = joint_key();
    key.verify_prehash(&sha256(bytes), &sig)
        .expect("the signature is over SHA-256 of the exact bytes");
    let trimmed = String::from_utf8_lossy(bytes).trim_end().to_owned();
    assert!(
        key.verify_prehash(&sha256(trimmed.as_bytes()), &sig)
            .is_err(),
        "not over the bytes without their trailing newlines"
    );
    let sig_file = dir.path().join("sig.hex");
    std::fs::write(&sig_file, &r0.stdout).unwrap();
    let ok = verify(
        dir.path(),
        &sig_file,
        &["--message-file", file.to_str().unwrap()],
    );
    assert_eq!(ok.code, Some(0), "{ok}");
}

#[test]
fn ethereum_and_bitcoin_messages() {
    let dir = TempDir::new("eth-btc");
    let message = "hello world";
    // EIP-191: Keccak-256 of the prefixed message.
    let (r0, _) = sign_both(
        dir.path(),
        &["--message", message, "--eth-message", "--format", "eth"],
        &[],
    );
    let text = r0.stdout.trim();
    assert!(text.starts_with("0x") && text.len() == 132, "{r0}");
    let raw = unhex(&text[2..]);
    let digest: [u8; 32] = Keccak256::new()
        .chain_update(format!(
            "\x19Ethereum Signed Message:\n{}{message}",
            message.len()
        ))
        .finalize()
        .into();
    let sig = Signature::from_slice(&raw[..64]).unwrap();
    let id = RecoveryId::from_byte(raw[64] - 27).unwrap();
    assert_eq!(
        VerifyingKey::recover_from_prehash(&digest, &sig, id).unwrap(),
        joint_key()
    );
    let eth_file = dir.path().join("sig.eth");
    std::fs::write(&eth_file, text).unwrap();
    let ok = verify(
        dir.path(),
        &eth_file,
        &["--message", message, "--eth-message"],
    );
    assert_eq!(ok.code, Some(0), "{ok}");
    assert!(ok.stdout.contains("recovers that key"), "{ok}");
    let plain = verify(dir.path(), &eth_file, &["--message", message]);
    assert_eq!(plain.code, Some(1), "not a SHA-256 signature:\n{plain}");
    // A key other than the signer's: the recovered key does not match.
    let other = dir.path().join("other.hex");
    std::fs::write(
        &other,
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    )
    .unwrap();
    let wrong = run(&[
        "verify",
        "--public-key",
        other.to_str().unwrap(),
        "--signature",
        eth_file.to_str().unwrap(),
        "--message",
        message,
        "--eth-message",
    ]);
    assert_eq!(wrong.code, Some(1), "{wrong}");

    // Bitcoin signed message: base64 of 65 bytes, header 31 or 32 (compressed key).
    let (r0, r1) = sign_both(dir.path(), &["--message", message, "--btc-message"], &[]);
    let b64 = r0.stdout.trim();
    assert_eq!(b64, r1.stdout.trim());
    assert_eq!(b64.len(), 88, "{r0}");
    assert!(
        b64.starts_with('H') || b64.starts_with('I'),
        "header 31/32: {b64}"
    );
    let btc_file = dir.path().join("sig.b64");
    std::fs::write(&btc_file, b64).unwrap();
    let ok = verify(
        dir.path(),
        &btc_file,
        &["--message", message, "--btc-message"],
    );
    assert_eq!(ok.code, Some(0), "{ok}");
    let refused = run(&[
        "sign",
        "--party",
        "0",
        "--share",
        "x",
        "--message",
        "m",
        "--btc-message",
        "--format",
        "der",
    ]);
    assert_eq!(refused.code, Some(2), "{refused}");
    assert!(refused.stderr.contains("leave out --format"), "{refused}");
}

#[test]
fn pubkey_formats_and_json() {
    let fx = fixture();
    let dir = TempDir::new("pubkey-formats");
    let (p0, _) = fx.copy_shares(dir.path());
    let share = p0.to_str().unwrap();
    let key = joint_key();
    let out = |args: &[&str]| {
        let r = run(&[&["pubkey", "--share", share], args].concat());
        assert_eq!(r.code, Some(0), "{args:?}:\n{r}");
        r
    };
    assert_eq!(out(&["--format", "hex"]).stdout.trim(), fx.key_hex);
    assert_eq!(
        out(&["--format", "uncompressed"]).stdout.trim(),
        hex(key.to_sec1_point(false).as_bytes())
    );
    let der = out(&["--format", "der"]);
    assert_eq!(
        der.stdout_raw.len(),
        88,
        "binary SPKI of an uncompressed key"
    );
    assert_eq!(
        &der.stdout_raw[23..],
        point_bytes(&key),
        "ending in the SEC1 point"
    );
    let eth = out(&["--format", "eth-address"]);
    let eth = eth.stdout.trim();
    let point = key.to_sec1_point(false);
    let want = &Keccak256::digest(&point.as_bytes()[1..])[12..];
    assert_eq!(eth.to_lowercase(), format!("0x{}", hex(want)));
    assert!(out(&["--format", "btc-p2wpkh"]).stdout.starts_with("bc1q"));
    assert!(
        out(&["--format", "btc-p2wpkh", "--testnet"])
            .stdout
            .starts_with("tb1q")
    );
    let v = json(&out(&["--format", "eth-address", "--json"]));
    assert_eq!(v["ok"], true);
    assert_eq!(v["public_key"], eth);
    assert_eq!(v["public_key_hex"], fx.key_hex.as_str());
    assert_eq!(v["party"], 0);
    assert_eq!(v["epoch"], 0);
    let xpub = run(&["pubkey", "--share", share, "--format", "xpub"]);
    assert_eq!(xpub.code, Some(0), "{xpub}");
    assert!(xpub.stdout.starts_with("xpub"), "{xpub}");
}

#[test]
fn inspect_shows_the_public_facts_and_no_secret() {
    let fx = fixture();
    let dir = TempDir::new("inspect");
    let (p0, p1) = fx.copy_shares(dir.path());
    // Share file layout (core/src/share/codec.rs): a 691-byte header, the chain code (32),
    // then P1: x1 (48) ‖ p ‖ q ‖ the parameters' hash (32), P2: N (256) ‖ x2 (32) ‖ the
    // parameters (768); a 32-byte checksum last.
    let f0 = std::fs::read(&p0).unwrap();
    let f1 = std::fs::read(&p1).unwrap();
    assert_eq!(
        (f0.len(), f1.len()),
        (1091, 1811),
        "the layout this test reads"
    );
    assert!(
        f0[723..723 + 16].iter().all(|b| *b == 0) && f0[723 + 16..723 + 48].iter().any(|b| *b != 0),
        "x1 is a big-endian scalar in a 48-byte field"
    );
    let x1 = hex(&f0[723 + 16..723 + 48]);
    let p = hex(&f0[771..771 + 128]);
    let x2 = hex(&f1[979..1011]);
    let mut seen = Vec::new();
    for (share, party) in [(&p0, 0), (&p1, 1)] {
        let text = run(&["inspect", "--share", share.to_str().unwrap()]);
        assert_eq!(text.code, Some(0), "{text}");
        let js = run(&["inspect", "--share", share.to_str().unwrap(), "--json"]);
        assert_eq!(js.code, Some(0), "{js}");
        let v = json(&js);
        assert_eq!(v["party"], party);
        assert_eq!(v["public_key"], fx.key_hex.as_str());
        assert_eq!(v["epoch"], 0);
        assert_eq!(v["locked"], false);
        assert_eq!(v["chain_code"], true);
        assert_eq!(v["bip32_key_identifier"].as_str().unwrap().len(), 40);
        for field in ["fingerprint", "party0_id", "party1_id", "key_id"] {
            assert_eq!(v[field].as_str().unwrap().len(), 64, "{field}");
            assert!(
                text.stdout
                    .contains(&format!("{field}: {}", v[field].as_str().unwrap())),
                "{text}"
            );
        }
        for secret in [&x1, &p, &x2] {
            assert!(
                !text.stdout.contains(secret.as_str()) && !js.stdout.contains(secret.as_str()),
                "a secret is printed:\n{text}"
            );
        }
        seen.push(v);
    }
    assert_eq!(seen[0]["params_hash"].as_str().unwrap().len(), 64);
    for field in [
        "fingerprint",
        "party0_id",
        "party1_id",
        "key_id",
        "bip32_key_identifier",
        "params_hash",
    ] {
        assert_eq!(
            seen[0][field], seen[1][field],
            "both shares agree on {field}"
        );
    }
}

fn point_bytes(key: &VerifyingKey) -> Vec<u8> {
    key.to_sec1_point(false).as_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
