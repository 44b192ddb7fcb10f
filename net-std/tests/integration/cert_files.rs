//! Missing or bad certificate files are reported with the file's path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{CertPaths, CertProblem, ConfigError, NetError, connect, listen_and_accept};

use crate::support::{TempDir, certs, party};

fn assert_cert_file(err: &NetError, want: &Path, reason_part: &str) {
    match err {
        NetError::Config(ConfigError::CertFile { path, problem }) => {
            assert_eq!(path, want, "{err}");
            let problem = problem.to_string();
            assert!(problem.contains(reason_part), "{problem}");
        }
        other => panic!("expected CertFile, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&want.display().to_string()), "{msg}");
    assert!(msg.contains("generate_certs.sh"), "{msg}");
}

#[test]
fn missing_files_are_named() {
    let empty = TempDir::new("empty");
    let paths = CertPaths::for_party(empty.path(), Party::P2);
    let err = connect("127.0.0.1:1", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.ca, "does not exist");

    // CA and certificate present, key missing.
    let dir = certs("nokey");
    let paths = party(&dir, Party::P1);
    std::fs::remove_file(&paths.key).unwrap();
    let err = listen_and_accept("127.0.0.1:0", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.key, "does not exist");
}

#[test]
fn garbage_or_unreadable_key_is_named() {
    let dir = certs("garbage");
    let paths = party(&dir, Party::P2);
    std::fs::write(&paths.key, "this is not PEM\n").unwrap();
    let err = connect("127.0.0.1:1", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.key, "no PEM private key");

    // A directory where the key should be: opening works, reading fails.
    std::fs::remove_file(&paths.key).unwrap();
    std::fs::create_dir(&paths.key).unwrap();
    let err = connect("127.0.0.1:1", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.key, "cannot read");
}

#[test]
fn empty_certificate_file_is_named() {
    let dir = certs("emptycert");
    let paths = party(&dir, Party::P2);
    std::fs::write(&paths.cert, "").unwrap();
    let err = connect("127.0.0.1:1", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.cert, "no PEM certificate");
}

/// A device given as the CA file (`/dev/zero` never ends) is refused before it is read, and
/// the fix named is the right file, not new certificates.
#[cfg(unix)]
#[test]
fn a_device_as_a_pem_file_is_refused_without_reading_it() {
    let dir = certs("device");
    let mut paths = party(&dir, Party::P2);
    paths.ca = Path::new("/dev/zero").to_path_buf();
    let err = connect("127.0.0.1:1", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.ca, "not a regular file");
    let msg = err.to_string();
    assert!(!msg.contains("to create the certificates"), "{msg}");
}

#[test]
fn key_of_another_certificate_is_refused() {
    let dir = certs("mismatch");
    let mut paths = party(&dir, Party::P2);
    paths.key = party(&dir, Party::P1).key;
    let err = connect("127.0.0.1:1", &paths, Duration::from_secs(1)).unwrap_err();
    assert_cert_file(&err, &paths.key, "does not belong to the certificate");
    // The fix is the matching key, not new certificates (they would change the party's id).
    let msg = err.to_string();
    assert!(
        msg.contains("use the private key made with that certificate"),
        "{msg}"
    );
    assert!(!msg.contains("to create the certificates"), "{msg}");
}

/// The problem of a damaged certificate or key file, from whichever party loads it.
fn cert_problem<'e>(err: &'e NetError, want: &Path) -> &'e CertProblem {
    match err {
        NetError::Config(ConfigError::CertFile { path, problem }) if path == want => problem,
        other => panic!("expected CertFile for {}, got {other:?}", want.display()),
    }
}

/// A PEM section that does not decode, a CA certificate that cannot be a trust anchor, an
/// own certificate that is no X.509 and a private key no algorithm parses: each is named
/// with the file and what is wrong with it.
#[test]
fn damaged_pem_files_are_named_with_what_is_wrong() {
    let dir = certs("damaged");
    let fresh = || party(&dir, Party::P2);
    let connect_err =
        |paths: &CertPaths| connect("127.0.0.1:1", paths, Duration::from_secs(1)).unwrap_err();
    // "hello" in base64: well-formed PEM around bytes that are no DER structure.
    let pem_of =
        |label: &str| format!("-----BEGIN {label}-----\naGVsbG8=\n-----END {label}-----\n");

    for (name, text) in [
        (
            "bad base64",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        ),
        ("no end line", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n"),
    ] {
        let paths = fresh();
        let saved = std::fs::read(&paths.cert).unwrap();
        std::fs::write(&paths.cert, text).unwrap();
        let err = connect_err(&paths);
        std::fs::write(&paths.cert, saved).unwrap();
        let problem = cert_problem(&err, &paths.cert);
        assert!(
            matches!(problem, CertProblem::InvalidPem(_)),
            "{name}: {err}"
        );
        assert!(
            err.to_string().contains("it is not a valid PEM file"),
            "{name}: {err}"
        );
    }

    // One file of the set replaced by well-formed PEM around bytes that are no DER: the
    // error and the damaged file.
    let other = TempDir::new("damaged-files");
    let damaged = |which: fn(&mut CertPaths) -> &mut PathBuf, label: &str| {
        let mut paths = fresh();
        let file = other.path().join(format!("{label}.pem"));
        std::fs::write(&file, pem_of(label)).unwrap();
        which(&mut paths).clone_from(&file);
        (connect_err(&paths), file)
    };
    let (err, file) = damaged(|p| &mut p.ca, "CERTIFICATE");
    assert!(
        matches!(cert_problem(&err, &file), CertProblem::UnusableCa(_)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("it holds an unusable CA certificate"),
        "{err}"
    );
    let (err, file) = damaged(|p| &mut p.cert, "CERTIFICATE");
    assert!(
        matches!(cert_problem(&err, &file), CertProblem::Unparsable),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("its first certificate cannot be parsed as X.509"),
        "{err}"
    );
    let (err, file) = damaged(|p| &mut p.key, "PRIVATE KEY");
    assert!(
        matches!(cert_problem(&err, &file), CertProblem::UnusableKey(_)),
        "{err}"
    );
    assert!(err.to_string().contains("unusable private key"), "{err}");
}
