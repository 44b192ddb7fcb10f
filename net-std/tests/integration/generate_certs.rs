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
    // --force over existing files says what it costs: new keys, shares stop working.
    let warning = String::from_utf8_lossy(&forced.stderr);
    assert!(
        warning.contains("WARNING: --force makes NEW keys")
            && warning.contains("key shares made with the old certificates will stop working")
            && warning.contains("use --renew"),
        "{warning}"
    );
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

#[test]
fn force_into_an_empty_directory_does_not_warn() {
    let dir = TempDir::new("gen-force-empty");
    let out = run_script(dir.path(), &["--force"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(!stdout(&out).contains("WARNING"), "{}", stdout(&out));
}

/// The party id the transport derives from the certificate at `path`.
fn pid(path: &Path) -> ecdsa2pc_net::Pid {
    let certs = ecdsa2pc_net::pem::load_certs(path).unwrap();
    ecdsa2pc_net::identity::pid_of_cert(&certs[0]).unwrap()
}

fn openssl_verify(ca: &Path, certs: &[std::path::PathBuf]) -> std::process::Output {
    Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(ca)
        .args(certs)
        .output()
        .unwrap()
}

#[test]
fn renew_reissues_certificates_over_the_same_keys() {
    let dir = TempDir::new("gen-renew");
    let d = dir.path();
    assert!(
        run_script(d, &["--extra", "other", "--san", "old.example"])
            .status
            .success()
    );
    let idents = ["server", "client1", "other"];
    let keys_before: Vec<_> = ["ca", "server", "client1", "other"]
        .iter()
        .map(|n| std::fs::read(d.join(format!("{n}-key.pem"))).unwrap())
        .collect();
    let certs: Vec<_> = idents
        .iter()
        .map(|n| d.join(format!("{n}-cert.pem")))
        .collect();
    let pids_before: Vec<_> = certs.iter().map(|c| pid(c)).collect();
    let certs_before: Vec<_> = certs.iter().map(|c| std::fs::read(c).unwrap()).collect();
    let old_ca = std::fs::read(d.join("ca-cert.pem")).unwrap();

    let out = run_script(d, &["--renew", "--san", "new.example"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("key shares are unchanged"),
        "{}",
        stdout(&out)
    );

    // Keys untouched, certificates new, party ids (SHA-256 of the SPKI) identical.
    let keys_after: Vec<_> = ["ca", "server", "client1", "other"]
        .iter()
        .map(|n| std::fs::read(d.join(format!("{n}-key.pem"))).unwrap())
        .collect();
    assert_eq!(keys_after, keys_before);
    for (i, c) in certs.iter().enumerate() {
        assert_ne!(
            std::fs::read(c).unwrap(),
            certs_before[i],
            "{c:?} re-issued"
        );
        assert_eq!(pid(c), pids_before[i], "{c:?} keeps its party id");
    }
    assert_ne!(std::fs::read(d.join("ca-cert.pem")).unwrap(), old_ca);
    // The new certificates verify under the new CA certificate, and under the old one too
    // (same CA key and name), so the parties need not switch at the same moment.
    let out = openssl_verify(&d.join("ca-cert.pem"), &certs);
    assert!(out.status.success(), "{}", stdout(&out));
    let old_ca_path = d.join("old-ca.pem.keep");
    std::fs::write(&old_ca_path, &old_ca).unwrap();
    let out = openssl_verify(&old_ca_path, &certs);
    assert!(out.status.success(), "{}", stdout(&out));
    // The server keeps its names and gains the new one; roles and names are unchanged.
    let server = x509_text(&d.join("server-cert.pem"));
    for name in [
        "DNS:localhost",
        "IP Address:127.0.0.1",
        "DNS:old.example",
        "DNS:new.example",
    ] {
        assert!(server.contains(name), "{name}: {server}");
    }
    assert!(server.contains("CN = localhost") && server.contains("TLS Web Server Authentication"));
    let other = x509_text(&d.join("other-cert.pem"));
    assert!(other.contains("CN = other") && other.contains("TLS Web Client Authentication"));
    // Still only the pem files (and the copy made above): no temporaries left.
    let count = std::fs::read_dir(d).unwrap().count();
    assert_eq!(count, 9);
}

#[test]
fn renew_needs_a_complete_set_and_excludes_force() {
    let dir = TempDir::new("gen-renew-bad");
    let out = run_script(dir.path(), &["--renew"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("--renew needs every file"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    assert!(run_script(dir.path(), &[]).status.success());
    let before = snapshot(dir.path());
    let out = run_script(dir.path(), &["--renew", "--force"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("exclude each other"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn san_names_and_addresses_go_into_the_server_certificate() {
    let dir = TempDir::new("gen-san");
    let out = run_script(
        dir.path(),
        &[
            "--san",
            "signer.example.com",
            "--san",
            "10.1.2.3",
            "--san=fd00::1",
        ],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    let server = x509_text(&dir.path().join("server-cert.pem"));
    for name in [
        "DNS:localhost",
        "IP Address:127.0.0.1",
        "DNS:signer.example.com",
        "IP Address:10.1.2.3",
        "IP Address:FD00:0:0:0:0:0:0:1",
    ] {
        assert!(server.contains(name), "{name}: {server}");
    }
    // The client certificate is not a server: it gets no names.
    let client = x509_text(&dir.path().join("client1-cert.pem"));
    assert!(!client.contains("signer.example.com"), "{client}");

    // On an existing set --san alone would be ignored: it is refused with the fix.
    let before = snapshot(dir.path());
    let out = run_script(dir.path(), &["--san", "other.example"]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("add --renew"), "{}", stdout(&out));
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn san_that_is_neither_a_name_nor_an_address_is_refused() {
    for (bad, says) in [
        ("two words", "neither an IP address nor a host name"),
        ("a/b", "neither an IP address nor a host name"),
        ("300.1.2.3", "not an IPv4 address"),
        ("fd00::zz", "not an IPv6 address"),
    ] {
        let dir = TempDir::new("gen-san-bad");
        let out = run_script(dir.path(), &["--san", bad]);
        assert!(!out.status.success(), "{bad}");
        assert!(stdout(&out).contains(says), "{bad}: {}", stdout(&out));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{bad}");
    }
}
