//! `ecdsa2pc serve` with the usual party-1 commands as its clients, over real mutual TLS.

use crate::support::{TempDir, dir_with_certs, finish, free_addr, openssl, run, spawn_serve};

#[test]
fn party_1_commands_work_against_serve_and_openssl_verifies() {
    let dir = dir_with_certs("serve");
    let certs = dir.path().join("certs");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let key_file = dir.path().join("serve.key");
    std::fs::write(&key_file, format!("{}\n", "5a".repeat(32))).unwrap();
    let addr = free_addr();
    let mut service = spawn_serve(
        &addr,
        &certs,
        &shares,
        &["--key-file", key_file.to_str().unwrap()],
    );
    let log = service.wait_for_stderr("party 0 serving on");
    assert!(!log.contains("unencrypted"), "{log}");
    // The first start in a share directory makes party 0's parameters, before serving.
    assert!(
        log.contains("making party 0's commitment parameters"),
        "{log}"
    );

    let share = dir.path().join("k.share");
    let client = |command: &str, extra: &[&str]| {
        let base = [
            command,
            "--party",
            "1",
            "--server",
            &addr,
            "--certs",
            certs.to_str().unwrap(),
            "--share",
            share.to_str().unwrap(),
            "--timeout",
            "120",
        ];
        run(&[&base[..], extra].concat())
    };
    let r = client("keygen", &[]);
    assert_eq!(r.code, Some(0), "{r}");
    let q = r.field("public key (SEC1 compressed): ");
    let log = service.wait_for_stderr("keygen new key: ok");
    assert!(log.contains("CN=client1"), "{log}");
    assert_eq!(
        std::fs::read_dir(&shares).unwrap().count(),
        3,
        "the share, its lock file and party 0's parameter secret"
    );
    assert!(
        std::fs::read(shares.join("ring-pedersen.secret"))
            .unwrap()
            .starts_with(b"E2PS"),
        "the parameter secret is encrypted under --key-file too"
    );
    // Party 0's new share is encrypted under --key-file (and opened with it to sign below).
    let p0 = std::fs::read_dir(&shares)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "share"))
        .expect("party 0's share");
    assert!(std::fs::read(&p0).unwrap().starts_with(b"E2PS"), "{p0:?}");

    let sig = dir.path().join("sig.der");
    let r = client(
        "sign",
        &["--message", "pay Bob", "--out", sig.to_str().unwrap()],
    );
    assert_eq!(r.code, Some(0), "{r}");
    service.wait_for_stderr("ok, signed");
    let r = client("refresh", &[]);
    assert_eq!(r.code, Some(0), "{r}");
    assert_eq!(r.stdout.trim(), "1", "{r}");
    assert!(r.stderr.contains("epoch 0 → 1"), "{r}");

    // The signature verifies with OpenSSL against the key the client printed.
    let pem = dir.path().join("pub.pem");
    let r = run(&[
        "pubkey",
        "--share",
        share.to_str().unwrap(),
        "--format",
        "pem",
    ]);
    assert_eq!(r.code, Some(0), "{r}");
    std::fs::write(&pem, &r.stdout).unwrap();
    let msg = dir.path().join("msg.txt");
    std::fs::write(&msg, "pay Bob").unwrap();
    let v = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        pem.to_str().unwrap(),
        "-signature",
        sig.to_str().unwrap(),
        msg.to_str().unwrap(),
    ]);
    assert!(v.stdout.contains("Verified OK"), "{v}");
    let r = run(&["pubkey", "--share", share.to_str().unwrap()]);
    assert_eq!(r.stdout.trim(), q, "{r}");

    // SIGTERM: the service stops accepting, finishes, and exits 0.
    service.signal("TERM");
    let log = service.wait_for_stderr("[serve] stopped");
    assert!(log.contains("finishing the sessions in progress"), "{log}");
    let r = finish(service);
    assert_eq!(r.code, Some(0), "{r}");
}

#[test]
fn serve_refuses_bad_options_with_exit_2() {
    let dir = TempDir::new("serve-usage");
    let missing = dir.path().join("missing");
    let r = run(&["serve", "--shares", missing.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("not a directory; create it first"), "{r}");
    let shares = dir.path().to_str().unwrap();
    let r = run(&["serve", "--shares", shares, "--workers", "0"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("--workers and --max-connections"), "{r}");
    let r = run(&["serve", "--shares", shares, "--timeout", "0"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("--handshake-timeout and --timeout"),
        "{r}"
    );
    // Without a secret it warns that new shares are written unencrypted (here before the
    // missing certificates stop it); a key file that is no key is refused.
    let no_certs = dir.path().join("no-certs");
    let no_certs = no_certs.to_str().unwrap();
    let r = run(&["serve", "--shares", shares, "--certs", no_certs]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("are written unencrypted"), "{r}");
    let bad_key = dir.path().join("bad.key");
    std::fs::write(&bad_key, "not a key\n").unwrap();
    let r = run(&[
        "serve",
        "--shares",
        shares,
        "--certs",
        no_certs,
        "--key-file",
        bad_key.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("--key-file"), "{r}");
    assert!(!r.stderr.contains("unencrypted"), "{r}");
}
