//! certs/generate_certs.sh: outputs, permissions, no silent overwrite.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use crate::support::{TempDir, run_script};

const BASE: [&str; 6] = [
    "ca-cert.pem",
    "ca-key.pem",
    "server-cert.pem",
    "server-key.pem",
    "client1-cert.pem",
    "client1-key.pem",
];

fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    BTreeMap::from_iter(BASE.iter().map(|f| {
        let p = dir.join(f);
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        (f.to_string(), (std::fs::read(&p).unwrap(), mtime))
    }))
}

fn x509_text(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn does_not_overwrite_without_force() {
    let dir = TempDir::new("gen-noforce");
    let first = run_script(dir.path(), &[]);
    assert!(first.status.success(), "{}", stdout(&first));
    assert!(stdout(&first).contains("server-cert.pem"));
    let before = snapshot(dir.path());

    let again = run_script(dir.path(), &[]);
    assert!(again.status.success(), "{}", stdout(&again));
    assert!(
        stdout(&again).contains("already exist"),
        "{}",
        stdout(&again)
    );
    assert_eq!(snapshot(dir.path()), before, "nothing was rewritten");

    let forced = run_script(dir.path(), &["--force"]);
    assert!(forced.status.success(), "{}", stdout(&forced));
    let after = snapshot(dir.path());
    for f in BASE {
        assert_ne!(after[f].0, before[f].0, "{f} regenerated");
    }
}

#[test]
fn refuses_to_complete_a_partial_set() {
    let dir = TempDir::new("gen-partial");
    assert!(run_script(dir.path(), &[]).status.success());
    std::fs::remove_file(dir.path().join("server-key.pem")).unwrap();
    let ca_before = std::fs::read(dir.path().join("ca-cert.pem")).unwrap();
    let out = run_script(dir.path(), &[]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("only some"), "{}", stdout(&out));
    assert_eq!(
        std::fs::read(dir.path().join("ca-cert.pem")).unwrap(),
        ca_before
    );
    assert!(!dir.path().join("server-key.pem").exists());
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
}

#[test]
fn keys_are_private_and_certificates_have_the_right_extensions() {
    let dir = TempDir::new("gen-content");
    let out = run_script(dir.path(), &["--extra", "mallory"]);
    assert!(out.status.success(), "{}", stdout(&out));
    for key in [
        "ca-key.pem",
        "server-key.pem",
        "client1-key.pem",
        "mallory-key.pem",
    ] {
        let mode = std::fs::metadata(dir.path().join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        8,
        "only the pem files, no csr/cnf/srl: {names:?}"
    );
    assert!(names.iter().all(|n| n.ends_with(".pem")), "{names:?}");

    let server = x509_text(&dir.path().join("server-cert.pem"));
    assert!(server.contains("DNS:localhost"), "{server}");
    assert!(server.contains("IP Address:127.0.0.1"), "{server}");
    assert!(server.contains("TLS Web Server Authentication"), "{server}");
    assert!(server.contains("CA:FALSE"), "{server}");
    assert!(server.contains("CN = localhost"), "{server}");
    let client = x509_text(&dir.path().join("client1-cert.pem"));
    assert!(client.contains("TLS Web Client Authentication") && client.contains("CN = client1"));
    let ca = x509_text(&dir.path().join("ca-cert.pem"));
    assert!(
        ca.contains("CA:TRUE") && ca.contains("Certificate Sign"),
        "{ca}"
    );
    assert!(ca.contains("CN = ecdsa2pc demo CA"), "{ca}");
    let extra = x509_text(&dir.path().join("mallory-cert.pem"));
    assert!(extra.contains("CN = mallory") && extra.contains("TLS Web Client Authentication"));

    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.path().join("ca-cert.pem"))
        .arg(dir.path().join("server-cert.pem"))
        .arg(dir.path().join("client1-cert.pem"))
        .arg(dir.path().join("mallory-cert.pem"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stdout(&verify));
}

#[test]
fn extra_identity_can_be_added_to_an_existing_set() {
    let dir = TempDir::new("gen-extra-later");
    assert!(run_script(dir.path(), &[]).status.success());
    let before = snapshot(dir.path());
    let out = run_script(dir.path(), &["--extra", "eve"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the existing set is untouched"
    );
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(dir.path().join("ca-cert.pem"))
        .arg(dir.path().join("eve-cert.pem"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", stdout(&verify));
}
