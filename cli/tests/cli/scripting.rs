//! The scripting contract without a peer: usage errors instead of panics for arguments that
//! are not text or out of range, `--version`, `-h`, and the environment defaults.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::process::{Command, Stdio};

use crate::support::{Run, TempDir, bin, run};

/// Runs the binary with raw (possibly non-UTF-8) arguments.
fn run_os(args: &[&OsStr]) -> Run {
    Run::from_output(
        Command::new(bin())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts"),
    )
}

/// Exit 2 with a usage message naming `needle`, and no panic.
fn assert_usage_error(r: &Run, needle: &str) {
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains(needle), "names {needle:?}:\n{r}");
    assert!(!r.stderr.contains("panicked"), "{r}");
    assert!(r.stdout.is_empty(), "nothing on stdout:\n{r}");
}

#[test]
fn non_utf8_arguments_are_usage_errors() {
    let bad = OsStr::from_bytes(b"\xFF");
    for args in [
        &[
            "sign",
            "--party",
            "0",
            "--share",
            "p0.share",
            "--message",
            "X",
        ][..],
        &[
            "verify",
            "--public-key",
            "k",
            "--signature",
            "s",
            "--message",
            "X",
        ][..],
    ] {
        let os: Vec<&OsStr> = args
            .iter()
            .map(|a| if *a == "X" { bad } else { OsStr::new(a) })
            .collect();
        let r = run_os(&os);
        assert_usage_error(&r, "is not valid UTF-8");
        assert!(
            r.stderr.contains("--message-file"),
            "names the way out:\n{r}"
        );
        // A script that asked for JSON gets its failure object.
        let r = run_os(&[&os[..], &[OsStr::new("--json")]].concat());
        assert_eq!(r.code, Some(2), "{r}");
        let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one object");
        assert_eq!(v["ok"], false, "{r}");
        assert!(
            v["error"].as_str().unwrap().contains("is not valid UTF-8"),
            "{r}"
        );
    }
}

#[test]
fn out_of_range_timeouts_are_usage_errors() {
    for command in ["sign", "keygen", "refresh", "demo"] {
        for timeout in ["18446744073709551615", "86401", "0"] {
            let mut args = vec![command, "--party", "0", "--timeout", timeout];
            if command != "demo" && command != "keygen" {
                args.extend(["--share", "p0.share"]);
            }
            if command == "keygen" {
                args.extend(["--share", "new.share"]);
            }
            if command == "sign" {
                args.extend(["--message", "m"]);
            }
            let r = run(&args);
            assert_usage_error(&r, &format!("--timeout {timeout}: must be from 1 to 86400"));
        }
    }
    // Beyond u64, negative or not a number: argh refuses the value, said in plain words.
    for (timeout, want) in [
        ("18446744073709551616", "is too large"),
        (
            "-1",
            "expects a whole number of digits only (no sign, no unit)",
        ),
        (
            "60s",
            "expects a whole number of digits only (no sign, no unit)",
        ),
    ] {
        let r = run(&["demo", "--party", "0", "--timeout", timeout]);
        assert_usage_error(&r, &format!("'--timeout' with value '{timeout}': {want}"));
        assert!(!r.stderr.contains("invalid digit found in string"), "{r}");
    }
}

/// bench's --pool and --window beyond their bounds are refused before any connection (a pool
/// of 2^32 entries aborted on a 30 TB allocation; a wide window was refused only after
/// connecting, leaving the peer with an abort).
#[test]
fn bench_pool_and_window_beyond_their_bounds_are_usage_errors_before_connecting() {
    for (option, value, want) in [
        ("--pool", "4294967295", "--pool 4294967295: at most 4096"),
        ("--window", "9", "--window 9: at most 8"),
    ] {
        let r = run(&["bench", "--party", "1", "--timeout", "2", option, value]);
        assert_usage_error(&r, want);
        assert!(
            !r.stderr.contains("connect"),
            "refused before connecting:\n{r}"
        );
    }
}

/// serve's thread and queue limits beyond their bounds are usage errors before anything binds
/// (--max-connections 2^64−1 panicked on a capacity overflow, --workers 100000 hung).
#[test]
fn serve_limits_beyond_their_bounds_are_usage_errors() {
    for (option, value, want) in [
        (
            "--workers",
            "100000",
            "--workers 100000: must be from 1 to 1024",
        ),
        (
            "--max-handshakes",
            "0",
            "--max-handshakes 0: must be from 1 to 8192",
        ),
        (
            "--max-handshakes",
            "8193",
            "--max-handshakes 8193: must be from 1 to 8192",
        ),
        (
            "--max-connections",
            "18446744073709551615",
            "--max-connections 18446744073709551615: must be from 1 to 65536",
        ),
    ] {
        let r = run(&[
            "serve",
            "--shares",
            ".",
            "--listen",
            "127.0.0.1:0",
            option,
            value,
        ]);
        assert_usage_error(&r, want);
        assert!(!r.stderr.contains("serving on"), "{r}");
    }
}

#[test]
fn load_presign_takes_only_its_two_modes() {
    // The former 1/0 form and anything else: refused by the parser before any file or
    // network step, naming both modes.
    for value in ["1", "0", "yes", "Inline"] {
        let r = run(&["load", "--shares", "x", "--presign", value]);
        assert_usage_error(
            &r,
            &format!("unknown presign mode '{value}': use ahead (presign before the clock"),
        );
        assert!(r.stderr.contains("or inline"), "{r}");
    }
}

#[test]
fn version_and_short_help_everywhere() {
    // The release and the protocol (request) version, from every command.
    let version = format!(
        "ecdsa2pc {} (protocol {})",
        env!("CARGO_PKG_VERSION"),
        ecdsa2pc_net::request::REQUEST_VERSION
    );
    let commands = [
        "keygen", "sign", "refresh", "pubkey", "inspect", "verify", "demo", "bench", "share",
        "serve", "health", "load",
    ];
    let every = commands.iter().map(|c| vec![*c, "--version"]);
    for args in [
        vec!["--version"],
        vec!["-V"],
        vec!["version"],
        vec!["pubkey", "-V"],
    ]
    .into_iter()
    .chain(every)
    {
        let args = &args[..];
        let r = run(args);
        assert_eq!(r.code, Some(0), "{args:?}:\n{r}");
        assert_eq!(r.stdout.trim(), version, "{args:?}");
    }
    for command in [
        "keygen", "sign", "refresh", "pubkey", "inspect", "verify", "demo", "bench",
    ] {
        let r = run(&[command, "-h"]);
        assert_eq!(r.code, Some(0), "{command} -h:\n{r}");
        assert!(
            r.stdout.starts_with(&format!("Usage: ecdsa2pc {command}")),
            "{command} -h prints its usage:\n{r}"
        );
        assert!(
            r.stdout.contains("--json") && r.stdout.contains("--quiet"),
            "{r}"
        );
    }
    // The `share` group and its subcommands, and the service's commands, too.
    for args in [
        &["share", "-h"][..],
        &["share", "encrypt", "-h"],
        &["serve", "-h"],
        &["health", "-h"],
        &["load", "-h"],
    ] {
        let r = run(args);
        assert_eq!(r.code, Some(0), "{args:?}:\n{r}");
        let usage = format!("Usage: ecdsa2pc {}", args[..args.len() - 1].join(" "));
        assert!(r.stdout.starts_with(&usage), "{args:?}:\n{r}");
    }
    let top = run(&["-h"]);
    assert_eq!(top.code, Some(0), "{top}");
    assert!(
        top.stdout.contains("ECDSA2PC_CERTS") && top.stdout.contains("ECDSA2PC_SERVER"),
        "the environment variables are documented:\n{top}"
    );
    // A `--version` that is an option's value is that value, not a version request.
    let r = run(&[
        "verify",
        "--public-key",
        "missing.pem",
        "--signature",
        "s",
        "--message",
        "--version",
    ]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("missing.pem"), "{r}");
}

/// Each option's help text in `command -h`, by the option's name as the help lists it (e.g.
/// `--server`, `-v, --verbose`), its wrapped lines joined. argh writes the names in the first
/// 20 columns and the text from column 20 on, wrapped lines indented to it.
fn option_help(command: &str) -> Vec<(String, String)> {
    const TEXT_COLUMN: usize = 20;
    let r = run(&[command, "-h"]);
    assert_eq!(r.code, Some(0), "{command} -h:\n{r}");
    let options = r
        .stdout
        .split_once("Options:\n")
        .and_then(|(_, rest)| rest.split("\n\n").next())
        .unwrap_or_else(|| panic!("{command} -h lists its options:\n{r}"));
    let mut list: Vec<(String, String)> = Vec::new();
    for line in options.lines() {
        let (name, text) = match (line.get(..TEXT_COLUMN), line.get(TEXT_COLUMN..)) {
            (Some(name), Some(text)) => (name.trim(), text.trim()),
            _ => (line.trim(), ""),
        };
        match list.last_mut() {
            Some((_, help)) if name.is_empty() => {
                help.push(' ');
                help.push_str(text);
            }
            _ => list.push((name.to_owned(), text.to_owned())),
        }
    }
    list
}

/// The commands that run one session with the peer share their connection, output and secret
/// options (declared once, by `peer_command!`: argh has no `flatten`). They must read the same
/// everywhere: this test fails if one command's help describes one of them differently.
#[test]
fn the_commands_with_a_peer_describe_their_shared_options_alike() {
    let shared = [
        "--party",
        "--server",
        "--certs",
        "--ca",
        "--cert",
        "--key",
        "--timeout",
        "-v, --verbose",
        "--json",
        "-q, --quiet",
    ];
    let secret = ["--passphrase-file", "--key-file"];
    let reference = option_help("keygen");
    let text = |list: &[(String, String)], name: &str| {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(_, help)| help.clone())
    };
    for name in shared.iter().chain(&secret) {
        assert!(
            text(&reference, name).is_some_and(|help| !help.is_empty()),
            "keygen -h describes {name}: {reference:?}"
        );
    }
    for (command, names) in [
        ("sign", &[&shared[..], &secret[..]]),
        ("refresh", &[&shared[..], &secret[..]]),
        ("demo", &[&shared[..], &[][..]]),
    ] {
        let list = option_help(command);
        for name in names.iter().flat_map(|n| n.iter()) {
            assert_eq!(
                text(&list, name),
                text(&reference, name),
                "{command} -h describes {name} as keygen -h does"
            );
        }
    }
}

#[test]
fn environment_sets_the_certificate_directory_and_flags_take_precedence() {
    let dir = TempDir::new("env-certs");
    let from_env = dir.path().join("env-certs-dir");
    let from_flag = dir.path().join("flag-certs-dir");
    // `demo` reads the certificates first: the directory it names shows which one won.
    let demo = |extra: &[&str]| {
        Run::from_output(
            Command::new(bin())
                .args(["demo", "--party", "0", "--timeout", "2"])
                .args(extra)
                .env("ECDSA2PC_CERTS", &from_env)
                .stdin(Stdio::null())
                .output()
                .expect("the binary starts"),
        )
    };
    let r = demo(&[]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(r.stderr.contains("env-certs-dir/ca-cert.pem"), "{r}");
    // The hint names the variable that gave the directory, not only the option.
    assert!(
        r.stderr.contains("--certs (or $ECDSA2PC_CERTS, set to \"")
            && r.stderr
                .contains("env-certs-dir\", which --certs defaults to)"),
        "{r}"
    );
    let r = demo(&["--certs", from_flag.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.contains("flag-certs-dir/ca-cert.pem") && !r.stderr.contains("env-certs-dir"),
        "the flag wins:\n{r}"
    );
    // The server address from the environment: party 1 tries to reach it.
    let r = Run::from_output(
        Command::new(bin())
            .args(["demo", "--party", "1", "--timeout", "1", "--certs"])
            .arg(dir.path())
            .env("ECDSA2PC_SERVER", "127.0.0.1:1")
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts"),
    );
    assert!(r.stderr.contains("127.0.0.1:1"), "{r}");
    // An address from the environment that is not one: the hint names the variable.
    let r = Run::from_output(
        Command::new(bin())
            .args(["demo", "--party", "1", "--timeout", "1", "--certs"])
            .arg(dir.path())
            .env("ECDSA2PC_SERVER", "no port here")
            .stdin(Stdio::null())
            .output()
            .expect("the binary starts"),
    );
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr
            .contains("check --server (or $ECDSA2PC_SERVER, set to \"no port here\", which --server defaults to)"),
        "{r}"
    );
}

#[test]
fn json_errors_are_one_object_on_stdout() {
    let dir = TempDir::new("json-error");
    let missing = dir.path().join("missing.share");
    let r = run(&["pubkey", "--share", missing.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, Some(2), "{r}");
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    assert_eq!(v["ok"], false, "{r}");
    assert_eq!(v["exit_code"], 2, "{r}");
    assert!(
        v["error"].as_str().unwrap().contains("missing.share"),
        "{r}"
    );
    // One failure schema for every command (README): a local failure locked nothing.
    assert_eq!(v["locked_share"], false, "{r}");
    assert!(
        r.stderr.contains("error: "),
        "the error is on stderr too:\n{r}"
    );
    // An option the parser refuses, too: the object on stdout, the error on stderr; without
    // --json, nothing on stdout.
    let r = run(&["sign", "--json", "--bogus"]);
    assert_eq!(r.code, Some(2), "{r}");
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    assert_eq!(
        (v["ok"].clone(), v["exit_code"].clone()),
        (false.into(), 2.into()),
        "{r}"
    );
    assert!(v["error"].as_str().unwrap().contains("--bogus"), "{r}");
    assert_eq!(v["locked_share"], false, "{r}");
    assert!(r.stderr.contains("--bogus"), "{r}");
    let r = run(&["sign", "--bogus"]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(2), ""), "{r}");
    // --quiet keeps stderr to the error.
    let r = run(&["pubkey", "--share", missing.to_str().unwrap(), "--quiet"]);
    assert_eq!(r.code, Some(2), "{r}");
    assert!(
        r.stderr.lines().all(|l| l.starts_with("error: ")),
        "only errors with --quiet:\n{r}"
    );
}

/// Party 0 on an address in use: the bind error, and no "listening on" line before it, nor
/// the seconds of its parameter search (demo and keygen make parameters only once bound).
#[test]
fn a_busy_address_is_reported_without_claiming_to_listen() {
    let dir = crate::support::dir_with_certs("busy-port");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let certs = dir.path().to_str().unwrap();
    let share = dir.path().join("p0.share");
    let common = [
        "--party",
        "0",
        "--server",
        &addr,
        "--certs",
        certs,
        "--timeout",
        "2",
    ];
    for command in [
        &["demo"][..],
        &["keygen", "--share", share.to_str().unwrap()],
    ] {
        let r = run(&[command, &common[..]].concat());
        assert_eq!(r.code, Some(3), "{command:?}: {r}");
        assert!(r.stderr.contains("already in use"), "{r}");
        assert!(!r.stderr.contains("listening on"), "{r}");
        assert!(!r.stderr.contains("commitment parameters"), "{r}");
        assert!(!share.exists() && !dir.path().join("ring-pedersen.secret").exists());
    }
}
