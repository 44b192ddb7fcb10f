//! Loading certificates, keys and CA roots from PEM files with `rustls-pki-types`'
//! [`PemObject`] trait. Every failure is a [`ConfigError::CertFile`] naming the file.

use std::io;
use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use zeroize::Zeroizing;

use crate::error::{CertProblem, ConfigError};
use crate::input_file;

fn cert_file_error(path: &Path, problem: CertProblem) -> ConfigError {
    ConfigError::CertFile {
        path: path.to_path_buf(),
        problem,
    }
}

fn pem_error(path: &Path, what: &'static str, err: pem::Error) -> ConfigError {
    let problem = match err {
        pem::Error::Io(e) if e.kind() == io::ErrorKind::NotFound => CertProblem::NotFound,
        pem::Error::Io(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            CertProblem::PermissionDenied
        }
        pem::Error::Io(e) => CertProblem::Unreadable(e),
        pem::Error::NoItemsFound => CertProblem::NoPem(what),
        other => CertProblem::InvalidPem(other.to_string()),
    };
    cert_file_error(path, problem)
}

/// The bytes of a PEM file (a regular file of at most [`input_file::MAX_PEM_FILE_LEN`]).
fn read_pem(path: &Path, what: &'static str) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    input_file::read(path, input_file::MAX_PEM_FILE_LEN)
        .map_err(|e| pem_error(path, what, pem::Error::Io(e)))
}

/// Loads every certificate of a PEM file (a chain: end-entity certificate first).
/// An empty file or one without `CERTIFICATE` sections is an error.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    const WHAT: &str = "certificate (-----BEGIN CERTIFICATE-----)";
    let bytes = read_pem(path, WHAT)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, WHAT, e))?;
    if certs.is_empty() {
        return Err(pem_error(path, WHAT, pem::Error::NoItemsFound));
    }
    Ok(certs)
}

/// Loads the first private key (PKCS#8, SEC1 or PKCS#1) of a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    const WHAT: &str = "private key (-----BEGIN PRIVATE KEY-----)";
    PrivateKeyDer::from_pem_slice(&read_pem(path, WHAT)?).map_err(|e| pem_error(path, WHAT, e))
}

/// Loads the CA certificates of a PEM file as the roots the peer must chain to.
pub fn load_roots(path: &Path) -> Result<RootCertStore, ConfigError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots
            .add(cert)
            .map_err(|e| cert_file_error(path, CertProblem::UnusableCa(e.to_string())))?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ecdsa2pc-net-pem-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn missing_file_is_named() {
        let path = Path::new("/nonexistent/ecdsa2pc/ca-cert.pem");
        let err = load_certs(path).unwrap_err();
        assert!(matches!(&err, ConfigError::CertFile { path: p, .. } if p == path));
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/ecdsa2pc/ca-cert.pem"), "{msg}");
        assert!(
            msg.contains("does not exist") && msg.contains("generate_certs.sh"),
            "{msg}"
        );
    }

    /// A file we may not read names the owner and mode as the fix: from the file itself
    /// where the permission check applies (not as root), and always from the mapping.
    #[cfg(unix)]
    #[test]
    fn a_file_we_may_not_read_names_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let permission_denied = |err: &ConfigError| {
            matches!(
                err,
                ConfigError::CertFile {
                    problem: CertProblem::PermissionDenied,
                    ..
                }
            ) && err
                .to_string()
                .contains("permission denied (check the file's owner and mode)")
        };
        let err = pem_error(
            Path::new("key.pem"),
            "key",
            pem::Error::Io(io::ErrorKind::PermissionDenied.into()),
        );
        assert!(permission_denied(&err), "{err}");

        let dir = temp_dir("mode");
        let key = dir.join("key.pem");
        std::fs::write(&key, b"-----BEGIN PRIVATE KEY-----\n").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads it anyway: then only the mapping above is checked.
        let readable = std::fs::File::open(&key).is_ok();
        let loaded = load_key(&key);
        std::fs::remove_dir_all(&dir).unwrap();
        if !readable {
            let err = loaded.unwrap_err();
            assert!(permission_denied(&err), "{err}");
        }
    }

    #[test]
    fn empty_and_garbage_files_are_refused() {
        let dir = temp_dir("bad");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, b"").unwrap();
        let garbage = dir.join("garbage-key.pem");
        std::fs::write(&garbage, b"not a key at all\n").unwrap();
        let empty_err = load_certs(&empty);
        let garbage_err = load_key(&garbage);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(empty_err, Err(ConfigError::CertFile { .. })));
        let err = garbage_err.unwrap_err();
        assert!(err.to_string().contains("no PEM private key"), "{err}");
    }
}
