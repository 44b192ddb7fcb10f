//! `ecdsa2pc serve` with the usual party-1 commands as its clients, over real mutual TLS.

use std::path::{Path, PathBuf};

use crate::support::{
    Party, Run, TempDir, dir_with_certs, finish, free_addr, openssl, run, spawn_command,
    spawn_serve, spawn_under_ulimit,
};

/// Starts `ecdsa2pc serve` on `addr` with `certs` and `shares`, under `ulimit LIMIT...`.
fn spawn_serve_under_ulimit(limit: &[&str], addr: &str, certs: &Path, shares: &Path) -> Party {
    let args = [
        "serve",
        "--listen",
        addr,
        "--certs",
        certs.to_str().unwrap(),
        "--shares",
        shares.to_str().unwrap(),
    ];
    spawn_under_ulimit(limit, &args)
}

/// Runs `ecdsa2pc health` against the service at `addr`.
fn health_of(addr: &str, certs: &Path) -> Run {
    run(&[
        "health",
        "--server",
        addr,
        "--certs",
        certs.to_str().unwrap(),
    ])
}

/// Runs `ecdsa2pc COMMAND --party 1` against the service at `addr` with `share`.
fn client_run(addr: &str, certs: &Path, share: &Path, command: &str, extra: &[&str]) -> Run {
    let base = [
        command,
        "--party",
        "1",
        "--server",
        addr,
        "--certs",
        certs.to_str().unwrap(),
        "--share",
        share.to_str().unwrap(),
        "--timeout",
        "120",
    ];
    run(&[&base[..], extra].concat())
}

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
    // The service took its secret once, at start (issue 14): without the key file from here
    // on it still seals the new share and opens it to sign and refresh.
    std::fs::remove_file(&key_file).unwrap();
    // The first start in a share directory makes party 0's parameters, before serving.
    assert!(
        log.contains("making party 0's commitment parameters"),
        "{log}"
    );
    // ... and their proof, kept beside them (public, in the clear): no keygen waits for it.
    assert!(
        std::fs::read(shares.join("ring-pedersen.proof"))
            .unwrap()
            .starts_with(b"ecdsa2pc params proof v1")
    );

    let share = dir.path().join("k.share");
    let client = |command: &str, extra: &[&str]| client_run(&addr, &certs, &share, command, extra);
    let r = client("keygen", &[]);
    assert_eq!(r.code, Some(0), "{r}");
    let q = r.field("public key (SEC1 compressed): ");
    let log = service.wait_for_stderr("keygen new key: ok");
    assert!(log.contains("CN=client1"), "{log}");
    assert_eq!(
        std::fs::read_dir(&shares).unwrap().count(),
        4,
        "the share, its lock file, party 0's parameter secret and parameter proof"
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
    assert!(
        log.contains("the sessions in progress have 20 s to finish"),
        "{log}"
    );
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
    assert!(
        r.stderr.contains("--workers 0: must be from 1 to 1024"),
        "{r}"
    );
    let r = run(&["serve", "--shares", shares, "--log-format", "xml"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("--log-format xml: must be text or json"),
        "{r}"
    );
    let r = run(&["serve", "--shares", shares, "--approve", " "]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("--approve: the command is empty"), "{r}");
    let r = run(&[
        "serve",
        "--shares",
        shares,
        "--approve",
        "/bin/true",
        "--approve-timeout",
        "0",
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("--approve-timeout 0: must be from 1 to 86400 seconds"),
        "{r}"
    );
    // Every duration is bounded: a day at most (a deadline far beyond would overflow the
    // clock), at least a second except --key-wait (0: busy at once).
    for (option, value, expected) in [
        ("--timeout", "0", "--timeout 0: must be from 1 to 86400"),
        (
            "--timeout",
            "86401",
            "--timeout 86401: must be from 1 to 86400",
        ),
        (
            "--handshake-timeout",
            "18446744073709551615",
            "--handshake-timeout 18446744073709551615: must be from 1 to 86400",
        ),
        (
            "--key-wait",
            "86401",
            "--key-wait 86401: must be from 0 to 86400",
        ),
        (
            "--approve-timeout",
            "86401",
            "--approve-timeout 86401: must be from 1 to 86400",
        ),
    ] {
        let r = run(&["serve", "--shares", shares, option, value]);
        assert_eq!(r.code, Some(2), "{option} {value}: {r}");
        assert!(r.stderr.contains(expected), "{option} {value}: {r}");
    }
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

/// The JSON lines of a `serve --log-format json` log.
fn json_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A running `serve` with an approval hook, and where its files are.
struct Hooked {
    dir: TempDir,
    certs: PathBuf,
    shares: PathBuf,
    addr: String,
    service: Party,
    /// The log up to the line that says the service is serving.
    startup: String,
}

/// Starts `serve --approve HOOK EXTRA...`, HOOK a shell script that reads its stdin and then
/// runs `body(dir)` (`dir` the test's directory).
fn serve_with_hook(tag: &str, body: impl FnOnce(&Path) -> String, extra: &[&str]) -> Hooked {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = dir_with_certs(tag);
    let certs = dir.path().join("certs");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let hook = dir.path().join("approve.sh");
    let script = format!("#!/bin/sh\ncat > /dev/null\n{}\n", body(dir.path()));
    std::fs::write(&hook, script).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o700)).unwrap();
    let addr = free_addr();
    let mut service = spawn_serve(
        &addr,
        &certs,
        &shares,
        &[&["--approve", hook.to_str().unwrap()][..], extra].concat(),
    );
    let startup = service.wait_for_stderr("party 0 serving on");
    Hooked {
        dir,
        certs,
        shares,
        addr,
        service,
        startup,
    }
}

#[test]
fn serve_operations_approval_refusals_health_and_json_log() {
    // The hook refuses while a marker file exists, with a reason on its first line.
    let Hooked {
        dir,
        certs,
        shares,
        addr,
        mut service,
        startup,
    } = serve_with_hook(
        "serve-ops",
        |dir| {
            format!(
                "[ -e {} ] || exit 0\necho 'over the daily limit'\nexit 1",
                dir.join("deny").display()
            )
        },
        // No Paillier pool: the keygen below draws its key inline, which health counts.
        &["--log-format", "json", "--paillier-pool", "0"],
    );
    // A JSON log is JSON from its first line.
    assert!(startup.lines().all(|l| l.starts_with('{')), "{startup}");
    assert!(
        json_lines(&startup).iter().any(|e| e["event"] == "serving"),
        "{startup}"
    );
    let marker = dir.path().join("deny");
    let health = |extra: &[&str]| {
        run(&[
            &[
                "health",
                "--server",
                &addr,
                "--certs",
                certs.to_str().unwrap(),
            ][..],
            extra,
        ]
        .concat())
    };
    let r = health(&[]);
    assert_eq!(r.code, Some(0), "{r}");
    assert!(r.stdout.contains("0 keys"), "{r}");
    assert!(
        r.stdout
            .contains("Paillier keys 0/0 ready (0 taken, 0 made inline)"),
        "{r}"
    );

    let share = dir.path().join("k.share");
    let client = |command: &str, extra: &[&str]| client_run(&addr, &certs, &share, command, extra);
    let r = client("keygen", &[]);
    assert_eq!(r.code, Some(0), "{r}");
    let r = client("sign", &["--message", "pay Bob"]);
    assert_eq!(r.code, Some(0), "{r}");

    // Refused by policy: the client prints the hook's reason and exits 1.
    std::fs::write(&marker, "").unwrap();
    let r = client("sign", &["--message", "pay Mallory"]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.contains("refused by policy"), "{r}");
    assert!(r.stderr.contains("over the daily limit"), "{r}");
    std::fs::remove_file(&marker).unwrap();

    // A key party 0's lock registry holds: the client prints the refusal and exits 1.
    let inspect = run(&["inspect", "--share", share.to_str().unwrap(), "--json"]);
    let id = serde_json::from_str::<serde_json::Value>(&inspect.stdout).unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(shares.join(format!("{id}.share")).is_file(), "{id}");
    let registry = shares.join(".ecdsa2pc-locks");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(
        registry.join(format!("{id}.locked")),
        "locked by the test\n",
    )
    .unwrap();
    let r = client("sign", &["--message", "pay Bob"]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stderr.contains("key locked"), "{r}");
    assert!(r.stderr.contains("lock registry"), "{r}");

    // Health as JSON: one key, one signature, the failures counted.
    let r = health(&["--json"]);
    assert_eq!(r.code, Some(0), "{r}");
    let h: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(h["ok"], true, "{h}");
    assert_eq!(h["keys"], 1, "{h}");
    assert_eq!(h["signatures"], 1, "{h}");
    assert_eq!(h["protocol"], ecdsa2pc_net::request::REQUEST_VERSION, "{h}");
    assert!(h["requests_failed"].as_u64().unwrap() >= 2, "{h}");
    assert_eq!(
        h["paillier_pool"],
        serde_json::json!({"ready": 0, "target": 0, "taken": 0, "inline": 1}),
        "{h}"
    );

    service.signal("TERM");
    let log = service.wait_for_stderr("\"stopped\"");
    let events = json_lines(&log);
    let results: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["event"] == "request")
        .map(|e| {
            (
                e["operation"].as_str().unwrap(),
                e["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("health", "ok"),
            ("keygen", "ok"),
            ("sign", "ok"),
            ("sign", "refused"),
            ("sign", "refused"),
            ("health", "ok"),
        ],
        "{log}"
    );
    let refusals: Vec<&str> = events
        .iter()
        .filter_map(|e| e["refusal"].as_str())
        .collect();
    assert_eq!(refusals, ["refused by policy", "key locked"], "{log}");
    assert!(events.iter().all(|e| e.get("event").is_some()), "{log}");
    let r = finish(service);
    assert_eq!(r.code, Some(0), "{r}");
    // The JSON log ends with the service's "stopped" event, no text summary after it.
    assert!(!r.stderr.contains("result: service stopped"), "{r}");

    // Nothing listening: health fails with the network exit code.
    let r = health(&["--timeout", "1"]);
    assert_eq!(r.code, Some(3), "{r}");
}

#[test]
fn load_generator_smoke_test_with_junk() {
    let dir = dir_with_certs("serve-load");
    let certs = dir.path().join("certs");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let addr = free_addr();
    let mut service = spawn_serve(
        &addr,
        &certs,
        &shares,
        &["--handshake-timeout", "2", "--log-format", "json"],
    );
    service.wait_for_stderr("party 0 serving on");
    let load_shares = dir.path().join("load");
    let load = |extra: &[&str]| {
        run(&[
            &[
                "load",
                "--server",
                &addr,
                "--certs",
                certs.to_str().unwrap(),
                "--shares",
                load_shares.to_str().unwrap(),
                "--clients",
                "2",
                "--signs",
                "4",
            ][..],
            extra,
        ]
        .concat())
    };
    // The first run makes the two keys; the second reuses them, with junk mixed in.
    let r = load(&["--json", "--window", "2"]);
    assert_eq!(r.code, Some(0), "{r}");
    assert_eq!(r.stderr.matches("made key").count(), 2, "{r}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["signatures"], 8, "{v}");
    assert_eq!(v["errors"], 0, "{v}");
    assert!(
        v["p99_ms"].as_f64().unwrap() >= v["p50_ms"].as_f64().unwrap(),
        "{v}"
    );
    assert!(v["per_second"].as_f64().unwrap() > 0.0, "{v}");
    if Path::new("/proc/self/stat").exists() {
        assert!(v["server_cpu_ms_per_signature"].as_f64().is_some(), "{v}");
    }
    let r = load(&["--junk", "--keys", "1", "--window", "2"]);
    assert_eq!(r.code, Some(0), "{r}");
    assert!(!r.stderr.contains("made key"), "{r}");
    assert!(r.stderr.contains("| clients | keys |"), "{r}");
    let row = r.stdout.trim();
    assert!(
        row.starts_with("|       2 |    1 |     8 |      0 |"),
        "{r}"
    );

    // A table window the core does not offer: a usage error naming the option.
    let r = load(&["--window", "99"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("--window 99: at most 8"), "{r}");

    service.signal("TERM");
    let log = service.wait_for_stderr("\"stopped\"");
    let dropped = json_lines(&log)
        .iter()
        .filter(|e| e["event"] == "dropped")
        .count();
    assert!(dropped >= 2, "junk was dropped and logged:\n{log}");
    let r = finish(service);
    assert_eq!(r.code, Some(0), "{r}");

    // Bad counts are usage errors.
    let r = run(&["load", "--shares", "x", "--clients", "0"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("at least 1"), "{r}");
}

#[test]
fn sigterm_during_a_signing_session_lets_it_finish_then_serve_exits_0() {
    // The hook holds the session open: it says it runs, then waits a moment and approves.
    let Hooked {
        dir,
        certs,
        shares,
        addr,
        mut service,
        ..
    } = serve_with_hook(
        "serve-term",
        |dir| {
            format!(
                "touch {}\nsleep 1\nexit 0",
                dir.join("hook-started").display()
            )
        },
        &[],
    );
    let started = dir.path().join("hook-started");
    let share = dir.path().join("k.share");
    let share_arg = ["--share", share.to_str().unwrap(), "--timeout", "120"];
    let r = client_run(&addr, &certs, &share, "keygen", &[]);
    assert_eq!(r.code, Some(0), "{r}");

    let signer = spawn_command(
        "sign",
        1,
        &addr,
        &certs,
        &[&share_arg[..], &["--message", "pay Bob"]].concat(),
    );
    let deadline = std::time::Instant::now() + core::time::Duration::from_secs(60);
    while !started.exists() {
        assert!(std::time::Instant::now() < deadline, "the hook never ran");
        std::thread::sleep(core::time::Duration::from_millis(10));
    }
    service.signal("TERM");
    let signed = finish(signer);
    assert_eq!(
        signed.code,
        Some(0),
        "the session in progress finishes:\n{signed}"
    );
    let log = service.wait_for_stderr("[serve] stopped");
    let stopping = log
        .find("stopping: no new connections")
        .expect("stopping logged");
    let ok = log.find("ok, signed").expect("the signature logged");
    assert!(stopping < ok, "{log}");
    let r = finish(service);
    assert_eq!(r.code, Some(0), "{r}");
    // Nothing half-written: the share, its lock file, the registry directory and party 0's
    // parameter secret and parameter proof only.
    let mut names: Vec<String> = std::fs::read_dir(&shares)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(
        names[0] == ".ecdsa2pc-locks"
            && names[1].ends_with(".share")
            && names[3] == "ring-pedersen.proof"
            && names[4] == "ring-pedersen.secret",
        "{names:?}"
    );
    assert!(names[2].ends_with(".share.lock"), "{names:?}");
}

/// A service that cannot write a new share (here its file-size limit, as on a full disk) tells
/// the client why with its abort, instead of the client seeing the connection close; neither
/// side keeps a share or reports a key, and the service keeps serving.
#[test]
fn a_service_that_cannot_store_a_share_tells_the_client_and_keeps_serving() {
    let dir = dir_with_certs("serve-full");
    let certs = dir.path().join("certs");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let addr = free_addr();
    // A first start makes party 0's parameters (larger than the limit below), then stops.
    let mut first = spawn_serve(&addr, &certs, &shares, &[]);
    first.wait_for_stderr("party 0 serving on");
    drop(first);

    let mut service = spawn_serve_under_ulimit(&["-f", "1"], &addr, &certs, &shares);
    service.wait_for_stderr("party 0 serving on");
    let share = dir.path().join("k.share");
    let r = client_run(&addr, &certs, &share, "keygen", &[]);
    assert_eq!(r.code, Some(1), "{r}");
    assert!(r.stdout.is_empty(), "no key reported:\n{r}");
    assert!(
        r.stderr
            .contains("the peer stopped the run: a party could not write its key share")
            && r.stderr.contains("The peer's own log names the file")
            && !r.stderr.contains("malicious"),
        "{r}"
    );
    let log = service.wait_for_stderr("keygen new key: ");
    assert!(log.contains("File too large"), "{log}");
    for f in [share.clone(), share.with_extension("share.pending")] {
        assert!(!f.exists(), "{} left behind", f.display());
    }
    let names: Vec<String> = std::fs::read_dir(&shares)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains(".share")),
        "the service keeps no share: {names:?}"
    );
    let r = health_of(&addr, &certs);
    assert_eq!(r.code, Some(0), "the service still serves:\n{r}");
}

/// A bad listening address, from `--listen` or from `$ECDSA2PC_SERVER` (which `--listen`
/// defaults to), fails before any parameters are made, and the hint names `--listen`.
#[test]
fn a_bad_listening_address_names_listen_and_fails_before_making_parameters() {
    let dir = dir_with_certs("serve-bad-address");
    let certs = dir.path().join("certs");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let args = |listen: Option<&str>| {
        let mut args = vec![
            "serve".to_owned(),
            "--certs".into(),
            certs.to_str().unwrap().into(),
            "--shares".into(),
            shares.to_str().unwrap().into(),
        ];
        if let Some(listen) = listen {
            args.extend(["--listen".into(), listen.into()]);
        }
        args
    };
    let r = Run::from_output(
        std::process::Command::new(crate::support::bin())
            .args(args(Some("no port here")))
            .env_remove("ECDSA2PC_SERVER")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("'no port here'"), "{r}");
    assert!(r.stderr.contains("; check --listen\n"), "{r}");
    let r = Run::from_output(
        std::process::Command::new(crate::support::bin())
            .args(args(None))
            .env("ECDSA2PC_SERVER", "no port here")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains(
            "check --listen (or $ECDSA2PC_SERVER, set to \"no port here\", which --listen \
             defaults to)"
        ),
        "{r}"
    );
    assert!(!r.stderr.contains("--server"), "{r}");
    assert!(!r.stderr.contains("making party 0's"), "{r}");
    assert_eq!(
        std::fs::read_dir(&shares).unwrap().count(),
        0,
        "nothing was made in the share directory"
    );
}

/// The open-file limit: `serve` raises a low soft limit to what its limits need; under a hard
/// limit too low for them it opens fewer connections at once and says how many and what to
/// set; with no room for its workers and waiting requests it does not start, naming the
/// limit (exit 2).
#[cfg(unix)]
#[test]
fn serve_fits_its_connections_under_the_open_file_limit() {
    let dir = dir_with_certs("serve-nofile");
    let certs = dir.path().join("certs");
    let shares = dir.path().join("shares");
    std::fs::create_dir(&shares).unwrap();
    let addr = free_addr();
    let health = || health_of(&addr, &certs);
    let serve_under = |limit: &[&str]| spawn_serve_under_ulimit(limit, &addr, &certs, &shares);

    // The cases lower the soft or the hard limit from the test's own: they need a hard limit
    // above what the defaults need (about 1300).
    let hard = std::process::Command::new("bash")
        .args(["-c", "ulimit -Hn"])
        .output()
        .unwrap();
    let hard = String::from_utf8_lossy(&hard.stdout).trim().to_owned();
    if hard != "unlimited" && hard.parse::<u64>().unwrap() < 2000 {
        eprintln!("hard open-file limit {hard}: skipped");
        return;
    }
    // No room: 4 workers and 64 waiting requests need more than 200 descriptors.
    let r = finish(serve_under(&["-n", "200"]));
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("the process may open only 200 files")
            && r.stderr.contains("raise the hard limit (ulimit -Hn"),
        "{r}"
    );
    assert!(!r.stderr.contains("serving on"), "{r}");

    // A low soft limit under a high hard one is raised to what the limits need.
    let mut service = serve_under(&["-Sn", "300"]);
    let log = service.wait_for_stderr("party 0 serving on");
    assert!(
        log.contains("raised the soft limit (ulimit -n) from 300 to "),
        "{log}"
    );
    assert_eq!(health().code, Some(0));
    drop(service);

    // A hard limit of 600: fewer connections opened at once, said with the limit to set.
    let mut service = serve_under(&["-n", "600"]);
    let log = service.wait_for_stderr("party 0 serving on");
    assert!(
        log.contains("the limit (ulimit -n) is 600, the hard limit too, room for ")
            && log.contains("connections being opened at once, not the 1024 asked for")
            && log.contains("LimitNOFILE="),
        "{log}"
    );
    let r = health();
    assert_eq!(r.code, Some(0), "{r}");
}
