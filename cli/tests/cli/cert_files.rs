//! `--ca`, `--cert` and `--key`: certificate files outside any `--certs` directory, and the
//! refusal of a file that cannot be read, naming the option and the file.

use std::path::{Path, PathBuf};

use crate::support::{TempDir, dir_with_certs, finish, free_addr, run, spawn_party};

/// Copies `certs/NAME` to `to` (a name no `--certs` directory would use).
fn moved(certs: &Path, name: &str, to: PathBuf) -> String {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(certs.join(name), &to).unwrap();
    to.display().to_string()
}

#[test]
fn certificate_files_outside_any_certs_directory_work() {
    let dir = dir_with_certs("cert-files");
    let certs = dir.path().join("certs");
    let ca = moved(&certs, "ca-cert.pem", dir.path().join("trust/root.pem"));
    let files = |party: &str, name: &str| {
        [
            "--ca".to_owned(),
            ca.clone(),
            "--cert".to_owned(),
            moved(
                &certs,
                &format!("{name}-cert.pem"),
                dir.path().join(format!("{party}/id.crt")),
            ),
            "--key".to_owned(),
            moved(
                &certs,
                &format!("{name}-key.pem"),
                dir.path().join(format!("{party}/id.key")),
            ),
            "--timeout".to_owned(),
            "120".to_owned(),
        ]
    };
    let f0 = files("zero", "server");
    let f1 = files("one", "client1");
    std::fs::remove_dir_all(&certs).unwrap();
    // --certs names a directory that no longer exists: every file comes from the options.
    let addr = free_addr();
    let p0 = spawn_party(
        0,
        &addr,
        &certs,
        &f0.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let p1 = spawn_party(
        1,
        &addr,
        &certs,
        &f1.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let (r1, r0) = (finish(p1), finish(p0));
    for (name, r) in [("party 0", &r0), ("party 1", &r1)] {
        assert_eq!(r.code, Some(0), "{name}:\n{r}");
        assert!(r.stderr.contains("every step succeeded"), "{name}:\n{r}");
    }
}

#[test]
fn an_unreadable_certificate_file_is_refused_naming_its_option() {
    let dir = TempDir::new("cert-files-missing");
    let missing = dir.path().join("nowhere.pem");
    let missing = missing.to_str().unwrap();
    for option in ["--ca", "--cert", "--key"] {
        for party in [0, 1] {
            let r = finish(spawn_party(
                party,
                &free_addr(),
                dir.path(),
                &[option, missing, "--timeout", "5"],
            ));
            assert_eq!(r.code, Some(2), "{option} party {party}:\n{r}");
            assert!(
                r.stderr
                    .contains(&format!("{option} {missing}: cannot read this file")),
                "{option} party {party} names the option and the file:\n{r}"
            );
        }
        // The service too.
        let r = run(&[
            "serve",
            "--shares",
            dir.path().to_str().unwrap(),
            option,
            missing,
        ]);
        assert_eq!(r.code, Some(2), "serve {option}:\n{r}");
        assert!(
            r.stderr
                .contains(&format!("{option} {missing}: cannot read this file")),
            "serve {option}:\n{r}"
        );
    }
}

#[test]
fn every_networked_command_documents_the_file_options() {
    for command in [
        "keygen", "sign", "refresh", "demo", "bench", "serve", "health", "load",
    ] {
        let r = run(&[command, "--help"]);
        assert_eq!(r.code, Some(0), "{command}:\n{r}");
        for option in ["--certs", "--ca", "--cert", "--key"] {
            assert!(
                r.stdout.contains(&format!("  {option} ")),
                "{command} --help lists {option}:\n{r}"
            );
        }
    }
}
