//! BIP32 through the real binary: `pubkey --path` and `--format xpub` agree with BIP32's
//! public derivation from the exported xpub, `sign --path` signs under the child key (both
//! parties, real mutual TLS), hardened paths and mismatched paths are refused, and a share
//! from before chain codes still signs but does not derive.

use std::path::Path;

use ecdsa2pc_core::bip32::{self, DerivationPath, ExtendedPublicKey};
use k256::ecdsa::signature::hazmat::PrehashVerifier as _;
use k256::ecdsa::{Signature, VerifyingKey};

use crate::share_files::{both, fixture};
use crate::support::{TempDir, run, sha256, unhex};

/// The 78 bytes of a base58check xpub, the checksum checked.
fn xpub_bytes(text: &str) -> [u8; 78] {
    bs58::decode(text.trim())
        .with_check(None)
        .into_vec()
        .unwrap()
        .try_into()
        .unwrap()
}

fn pubkey(share: &Path, args: &[&str]) -> String {
    let r = run(&[&["pubkey", "--share", share.to_str().unwrap()], args].concat());
    assert_eq!(r.code, Some(0), "{r}");
    r.stdout.trim().to_owned()
}

#[test]
fn pubkey_path_is_the_child_of_the_exported_xpub() {
    let fx = fixture();
    let dir = TempDir::new("derive-pubkey");
    let (p0, p1) = fx.copy_shares(dir.path());
    let xpub = pubkey(&p0, &["--format", "xpub"]);
    assert_eq!(pubkey(&p1, &["--format", "xpub"]), xpub, "both shares");
    // BIP32's serialization of a master key: mainnet public version bytes, depth 0, zero
    // parent fingerprint and child number, the chain code, the compressed key.
    assert!(xpub.starts_with("xpub"), "{xpub}");
    let raw = xpub_bytes(&xpub);
    assert_eq!(raw[..4], [0x04, 0x88, 0xb2, 0x1e]);
    assert_eq!(raw[4..13], [0; 9]);
    assert_eq!(raw[45..], unhex(&fx.key_hex)[..]);
    let tpub = pubkey(&p0, &["--format", "xpub", "--testnet"]);
    let traw = xpub_bytes(&tpub);
    assert!(tpub.starts_with("tpub"), "{tpub}");
    assert_eq!(traw[..4], [0x04, 0x35, 0x87, 0xcf]);
    assert_eq!(traw[4..], raw[4..]);
    let root = ExtendedPublicKey::new(
        *VerifyingKey::from_sec1_bytes(&raw[45..])
            .unwrap()
            .as_affine(),
        raw[13..45].try_into().unwrap(),
    )
    .unwrap();
    for text in ["m/0", "m/0/7", "m/7/0", "m/1/2/3/4", "m/2147483647"] {
        let path: DerivationPath = text.parse().unwrap();
        let want = bip32::derive_path(&root, &path).unwrap();
        let want_hex: String = VerifyingKey::from_affine(*want.key.key())
            .unwrap()
            .to_sec1_point(true)
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(pubkey(&p0, &["--path", text]), want_hex, "{text}");
        assert_eq!(pubkey(&p1, &["--path", text]), want_hex, "{text}");
        assert_ne!(want_hex, fx.key_hex, "{text}");
        // The child's xpub: depth, child number and chain code as BIP32 serializes them.
        let child = xpub_bytes(&pubkey(&p0, &["--path", text, "--format", "xpub"]));
        assert_eq!(usize::from(child[4]), path.steps().len(), "{text}");
        assert_eq!(
            child[9..13],
            path.steps().last().unwrap().to_be_bytes(),
            "{text}"
        );
        assert_eq!(child[13..45], want.key.chain_code()[..], "{text}");
        assert_eq!(child[45..], unhex(&want_hex)[..], "{text}");
    }
    // Every other format shows the same child key.
    let addr = pubkey(&p0, &["--path", "m/0/7", "--format", "eth-address"]);
    let master_addr = pubkey(&p0, &["--format", "eth-address"]);
    assert!(addr.starts_with("0x") && addr != master_addr, "{addr}");
    let js = run(&[
        "pubkey",
        "--share",
        p0.to_str().unwrap(),
        "--path",
        "m/0/7",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(js.stdout.trim()).unwrap();
    assert_eq!(v["path"], "m/0/7");
    assert_eq!(v["public_key"], pubkey(&p0, &["--path", "m/0/7"]));
}

#[test]
fn hardened_paths_are_usage_errors() {
    let fx = fixture();
    let dir = TempDir::new("derive-hardened");
    let (p0, _) = fx.copy_shares(dir.path());
    for path in ["m/0'", "m/1/2h", "m/2147483648"] {
        let r = run(&["pubkey", "--share", p0.to_str().unwrap(), "--path", path]);
        assert_eq!(r.code, Some(2), "{r}");
        assert!(
            r.stderr
                .contains("two-party hardened derivation is not supported"),
            "{r}"
        );
        let s = run(&[
            "sign",
            "--party",
            "0",
            "--share",
            p0.to_str().unwrap(),
            "--message",
            "x",
            "--path",
            path,
        ]);
        assert_eq!(s.code, Some(2), "{s}");
        assert!(
            s.stderr
                .contains("two-party hardened derivation is not supported"),
            "{s}"
        );
    }
}

#[test]
fn sign_under_a_path_verifies_with_the_child_key_only() {
    let fx = fixture();
    let dir = TempDir::new("derive-sign");
    let (p0, p1) = fx.copy_shares(dir.path());
    let message = "pay 0.01 BTC from m/0/7";
    let digest = sha256(message.as_bytes());
    let args = [
        "--message",
        message,
        "--path",
        "m/0/7",
        "--format",
        "compact",
    ];
    let (r0, r1) = both(
        "sign",
        &fx.certs(),
        &[&["--share", p0.to_str().unwrap()], &args[..]].concat(),
        &[&["--share", p1.to_str().unwrap()], &args[..]].concat(),
    );
    assert_eq!(r0.code, Some(0), "party 0:\n{r0}");
    assert_eq!(r1.code, Some(0), "party 1:\n{r1}");
    assert_eq!(r0.stdout, r1.stdout);
    let sig = Signature::from_slice(&unhex(r0.stdout.trim())).unwrap();
    let child_hex = pubkey(&p0, &["--path", "m/0/7"]);
    let child = VerifyingKey::from_sec1_bytes(&unhex(&child_hex)).unwrap();
    child.verify_prehash(&digest, &sig).unwrap();
    let master = VerifyingKey::from_sec1_bytes(&unhex(&fx.key_hex)).unwrap();
    assert!(master.verify_prehash(&digest, &sig).is_err());
    assert!(
        r0.stderr
            .contains(&format!("signing under m/0/7 (public key {child_hex})")),
        "{r0}"
    );

    // `verify` with the xpub and the path, as a wallet holding only the xpub would.
    let xpub_file = dir.path().join("key.xpub");
    std::fs::write(&xpub_file, pubkey(&p0, &["--format", "xpub"])).unwrap();
    let sig_file = dir.path().join("sig.txt");
    std::fs::write(&sig_file, r0.stdout.trim()).unwrap();
    let verify = |path: &str| {
        run(&[
            "verify",
            "--public-key",
            xpub_file.to_str().unwrap(),
            "--path",
            path,
            "--signature",
            sig_file.to_str().unwrap(),
            "--message",
            message,
        ])
    };
    let ok = verify("m/0/7");
    assert_eq!(ok.code, Some(0), "{ok}");
    assert!(ok.stdout.contains(&child_hex), "{ok}");
    let wrong = verify("m/0/8");
    assert_eq!(wrong.code, Some(1), "{wrong}");
}

#[test]
fn parties_on_different_paths_are_refused_naming_both() {
    let fx = fixture();
    let dir = TempDir::new("derive-mismatch");
    let (p0, p1) = fx.copy_shares(dir.path());
    let (r0, r1) = both(
        "sign",
        &fx.certs(),
        &[
            "--share",
            p0.to_str().unwrap(),
            "--message",
            "m",
            "--path",
            "m/0/7",
        ],
        &[
            "--share",
            p1.to_str().unwrap(),
            "--message",
            "m",
            "--path",
            "m/0/8",
        ],
    );
    for (name, r) in [("party 0", &r0), ("party 1", &r1)] {
        assert_eq!(r.code, Some(1), "{name}:\n{r}");
        assert!(
            r.stderr
                .contains("the parties sign under different derivation paths")
                && r.stderr
                    .contains("party 1 under m/0/8 but party 0 under m/0/7")
                && r.stderr.contains("; check --path on both sides"),
            "{name}:\n{r}"
        );
        assert!(r.stdout.is_empty(), "{name}:\n{r}");
    }
}

/// The share file as a release before chain codes wrote it: format 2, no chain code.
fn as_format_2(path: &Path) {
    // The chain code follows the 691-byte common header (core/src/share/codec.rs).
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes[4], 3);
    let mut old = bytes[..691].to_vec();
    old[4] = 2;
    old.extend_from_slice(&bytes[691 + 32..bytes.len() - 32]);
    let sum = sha256(&old);
    old.extend_from_slice(&sum);
    std::fs::write(path, old).unwrap();
}

#[test]
fn a_share_from_before_chain_codes_signs_but_does_not_derive() {
    let fx = fixture();
    let dir = TempDir::new("derive-format2");
    let (p0, p1) = fx.copy_shares(dir.path());
    as_format_2(&p0);
    as_format_2(&p1);
    let why = "this share was made before chain codes; run a new keygen to derive child keys";
    for args in [&["--path", "m/0"][..], &["--format", "xpub"][..]] {
        let r = run(&[&["pubkey", "--share", p0.to_str().unwrap()], args].concat());
        assert_eq!(r.code, Some(2), "{r}");
        assert!(r.stderr.contains(why), "{r}");
    }
    assert_eq!(pubkey(&p1, &[]), fx.key_hex);
    let inspect = run(&["inspect", "--share", p1.to_str().unwrap()]);
    assert!(inspect.stdout.contains("chain_code: false"), "{inspect}");
    // --path is refused before any network traffic (no peer is running).
    let r = run(&[
        "sign",
        "--party",
        "1",
        "--share",
        p1.to_str().unwrap(),
        "--message",
        "m",
        "--path",
        "m/1",
        "--certs",
        fx.certs().to_str().unwrap(),
        "--server",
        "127.0.0.1:1",
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains(why), "{r}");
    // Without --path it signs with the joint key.
    let (r0, r1) = both(
        "sign",
        &fx.certs(),
        &["--share", p0.to_str().unwrap(), "--message", "old"],
        &["--share", p1.to_str().unwrap(), "--message", "old"],
    );
    assert_eq!(r0.code, Some(0), "party 0:\n{r0}");
    assert_eq!(r1.code, Some(0), "party 1:\n{r1}");
    let sig = Signature::from_der(&unhex(r0.stdout.trim())).unwrap();
    VerifyingKey::from_sec1_bytes(&unhex(&fx.key_hex))
        .unwrap()
        .verify_prehash(&sha256(b"old"), &sig)
        .unwrap();
    // The shares are written back as format 2 (the epoch settled on disk, untouched).
    assert_eq!(std::fs::read(&p0).unwrap()[4], 2);
}
