//! Two `ecdsa2pc demo` processes over real mutual TLS.

use core::time::Duration;
use std::thread;

use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};

use crate::support::{
    Run, dir_with_certs, finish, free_addr, openssl, run, sha256, spawn_party, unhex,
};

const MESSAGE: &str = "integration test: pay 1 BTC to Bob";

/// Both runs succeeded, agree on Q and the three signatures, and the first two verify under
/// Q (the third, under the child m/0/1, must not: the files' check derives its key).
fn assert_agree_and_verify(p0: &Run, p1: &Run) -> (VerifyingKey, Signature) {
    assert_eq!(p0.code, Some(0), "party 0 failed:\n{p0}");
    assert_eq!(p1.code, Some(0), "party 1 failed:\n{p1}");
    for label in [
        "public key (SEC1 compressed): ",
        "signature #1 (DER): ",
        "signature #2 (DER): ",
        "signature #3 (DER): ",
    ] {
        assert_eq!(
            p0.field(label),
            p1.field(label),
            "both parties print the same {label}"
        );
    }
    let key = VerifyingKey::from_sec1_bytes(&unhex(&p0.field("public key (SEC1 compressed): ")))
        .expect("a valid public key");
    let sig1 = Signature::from_der(&unhex(&p0.field("signature #1 (DER): "))).expect("DER");
    let sig2 = Signature::from_der(&unhex(&p0.field("signature #2 (DER): "))).expect("DER");
    key.verify_prehash(&sha256(MESSAGE.as_bytes()), &sig1)
        .expect("signature #1 verifies with k256");
    key.verify_prehash(&sha256(format!("{MESSAGE} #2").as_bytes()), &sig2)
        .expect("signature #2 verifies with k256");
    assert!(
        key.verify_prehash(&sha256(MESSAGE.as_bytes()), &sig2)
            .is_err(),
        "signature #2 is for the second message only"
    );
    let sig3 = Signature::from_der(&unhex(&p0.field("signature #3 (DER): "))).expect("DER");
    assert!(
        key.verify_prehash(&sha256(format!("{MESSAGE} #3").as_bytes()), &sig3)
            .is_err(),
        "signature #3 is made with the child key at m/0/1, not with Q"
    );
    for run in [p0, p1] {
        assert!(run.stderr.contains("rejected as expected"), "{run}");
        assert!(
            run.stderr.contains("refresh ........ ok")
                && run.stderr.contains("epoch 0 → 1, public key unchanged"),
            "the demo refreshes the shares before signature #2:\n{run}"
        );
        assert!(
            !run.stderr.contains("error:") && run.stdout.is_empty(),
            "no errors expected, and no result on stdout without --json:\n{run}"
        );
    }
    (key, sig1)
}

#[test]
fn two_processes_sign_and_both_k256_and_openssl_verify() {
    let dir = dir_with_certs("e2e");
    let certs = dir.path().join("certs");
    let out0 = dir.path().join("out0");
    let out1 = dir.path().join("out1");
    let addr = free_addr();
    let p0 = spawn_party(
        0,
        &addr,
        &certs,
        &[
            "--message",
            MESSAGE,
            // Party 0's safe-prime search comes first: seconds, more beside other tests.
            "--timeout",
            "120",
            "--verbose",
            "--out-dir",
            out0.to_str().unwrap(),
        ],
    );
    let p1 = spawn_party(
        1,
        &addr,
        &certs,
        &[
            "--message",
            MESSAGE,
            // Party 0's safe-prime search comes first: seconds, more beside other tests.
            "--timeout",
            "120",
            "--out-dir",
            out1.to_str().unwrap(),
        ],
    );
    let (r1, r0) = (finish(p1), finish(p0));
    let (key, sig1) = assert_agree_and_verify(&r0, &r1);
    assert!(
        r0.stderr.contains("TLSv1.3"),
        "--verbose shows the TLS version:\n{r0}"
    );
    assert!(
        r0.stderr.contains("CN=client1"),
        "--verbose shows the peer:\n{r0}"
    );

    for out in [&out0, &out1] {
        let message = std::fs::read(out.join("message.txt")).unwrap();
        assert_eq!(
            message,
            MESSAGE.as_bytes(),
            "message.txt holds exactly the message"
        );
        let der = std::fs::read(out.join("signature.der")).unwrap();
        assert_eq!(Signature::from_der(&der).unwrap(), sig1);
        let pem = std::fs::read_to_string(out.join("public-key.pem")).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        let check = openssl(&[
            "dgst",
            "-sha256",
            "-verify",
            out.join("public-key.pem").to_str().unwrap(),
            "-signature",
            out.join("signature.der").to_str().unwrap(),
            out.join("message.txt").to_str().unwrap(),
        ]);
        assert!(
            check.stdout.contains("Verified OK"),
            "openssl rejects:\n{check}"
        );
        assert_eq!(check.code, Some(0));
    }
    // The signature under m/0/1 verifies against the child that the written xpub derives
    // there, and against no other child.
    for out in [&out0, &out1] {
        let check = |path: &str| {
            run(&[
                "verify",
                "--public-key",
                out.join("key.xpub").to_str().unwrap(),
                "--path",
                path,
                "--signature",
                out.join("child-signature.der").to_str().unwrap(),
                "--message-file",
                out.join("child-message.txt").to_str().unwrap(),
            ])
        };
        let child = check("m/0/1");
        assert_eq!(child.code, Some(0), "{child}");
        assert!(child.stdout.starts_with("valid: "), "{child}");
        let other = check("m/0/2");
        assert_eq!(other.code, Some(1), "{other}");
        assert_eq!(other.stdout, "invalid\n", "the verdict on stdout:\n{other}");
        assert_eq!(
            std::fs::read(out.join("child-message.txt")).unwrap(),
            format!("{MESSAGE} #3").as_bytes()
        );
    }
    // The key openssl reads is Q itself.
    let text = openssl(&[
        "pkey",
        "-pubin",
        "-in",
        out0.join("public-key.pem").to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        dir.path().join("q.der").to_str().unwrap(),
    ]);
    assert_eq!(text.code, Some(0), "{text}");
    let spki = std::fs::read(dir.path().join("q.der")).unwrap();
    assert!(spki.ends_with(key.to_sec1_point(false).as_bytes()));
}

#[test]
fn party_1_started_first_still_succeeds() {
    let dir = dir_with_certs("p1-first");
    let certs = dir.path().join("certs");
    let addr = free_addr();
    // 120 s: party 0 searches safe primes for its parameters before it listens (seconds,
    // longer on a loaded machine), and party 1 keeps retrying meanwhile.
    let args = ["--message", MESSAGE, "--timeout", "120"];
    let p1 = spawn_party(1, &addr, &certs, &args);
    thread::sleep(Duration::from_secs(1));
    let p0 = spawn_party(0, &addr, &certs, &args);
    let (r1, r0) = (finish(p1), finish(p0));
    assert_agree_and_verify(&r0, &r1);
}
