//! Failures end with the documented exit code and a message that names the cause.

use core::time::Duration;
use std::time::Instant;

use crate::support::{
    TempDir, dir_with_certs, finish, free_addr, make_certs, spawn_party, spawn_under_ulimit,
};

#[test]
fn certificates_from_another_ca_fail_both_parties_with_exit_3() {
    let dir = dir_with_certs("wrong-ca");
    let other = dir.path().join("other-certs");
    make_certs(&other);
    let addr = free_addr();
    let p0 = spawn_party(0, &addr, &dir.path().join("certs"), &["--timeout", "20"]);
    let p1 = spawn_party(1, &addr, &other, &["--timeout", "20"]);
    let (r1, r0) = (finish(p1), finish(p0));
    for (name, run) in [("party 0", &r0), ("party 1", &r1)] {
        assert_eq!(run.code, Some(3), "{name}:\n{run}");
        assert!(
            run.stderr.contains("certificates from the same CA"),
            "{name} names the CA problem:\n{run}"
        );
        assert!(
            run.stderr.lines().any(|l| l.starts_with("error: ")),
            "{name}:\n{run}"
        );
    }
}

#[test]
fn party_1_alone_times_out_with_exit_3() {
    let dir = dir_with_certs("alone");
    let started = Instant::now();
    let p1 = spawn_party(
        1,
        &free_addr(),
        &dir.path().join("certs"),
        &["--timeout", "2"],
    );
    let run = finish(p1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "gave up in time"
    );
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("could not reach party 0"), "{run}");
    assert!(
        run.stderr.contains("within 2 s"),
        "mentions the timeout:\n{run}"
    );
    assert!(
        run.stderr.contains("--timeout"),
        "says how to change it:\n{run}"
    );
}

/// A one-shot party 0 whose open-file limit leaves no descriptor for the connections
/// waiting on it stops with exit 2 and the limit to raise, not with a bare I/O error.
#[cfg(unix)]
#[test]
fn party_0_out_of_file_descriptors_names_the_limit_to_raise() {
    let dir = dir_with_certs("no-fds");
    let addr = free_addr();
    let certs = dir.path().join("certs");
    let certs = certs.to_str().unwrap();
    let mut p0 = spawn_under_ulimit(
        &["-n", "16"],
        &[
            "demo",
            "--party",
            "0",
            "--server",
            &addr,
            "--certs",
            certs,
            "--timeout",
            "20",
        ],
    );
    p0.wait_for_stderr("listening on");
    // More connections than descriptors: the kernel queues them before party 0 accepts.
    let held: Vec<_> = (0..24)
        .map_while(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    assert_eq!(held.len(), 24, "the connections were queued");
    let error = p0.wait_for_stderr("error: ");
    assert!(
        error.contains("no file descriptor left to accept a connection")
            && error.contains("ulimit -n"),
        "{error}"
    );
    assert_eq!(finish(p0).code, Some(2), "{error}");
}

#[test]
fn missing_cert_dir_exits_2_naming_the_file() {
    let dir = TempDir::new("no-certs");
    let missing = dir.path().join("no-such-dir");
    for party in [0, 1] {
        let run = finish(spawn_party(
            party,
            &free_addr(),
            &missing,
            &["--timeout", "5"],
        ));
        assert_eq!(run.code, Some(2), "party {party}:\n{run}");
        assert!(
            run.stderr.contains("no-such-dir/ca-cert.pem"),
            "party {party} names the file:\n{run}"
        );
        assert!(
            run.stderr.contains("generate_certs.sh") && run.stderr.contains("--certs"),
            "and the fix:\n{run}"
        );
    }
}

#[test]
fn bad_party_number_is_a_usage_error() {
    let dir = TempDir::new("bad-party");
    let run = finish(spawn_party(7, &free_addr(), dir.path(), &[]));
    assert_eq!(run.code, Some(2), "{run}");
    // argh parses --party into ecdsa2pc_core::Party and names the option and the choices.
    assert!(
        run.stderr.contains("--party") && run.stderr.contains("a party is 0"),
        "{run}"
    );
}
