//! Missing or bad certificate files are reported with the file's path.

use std::path::Path;
use std::time::Duration;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{CertPaths, ConfigError, NetError, connect, listen_and_accept};

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
