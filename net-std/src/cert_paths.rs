//! Where a party finds its CA, certificate and key: [`CertPaths`].

use std::path::{Path, PathBuf};

use ecdsa2pc_core::Party;

/// The three PEM files a party needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertPaths {
    /// CA certificate(s) that the peer's certificate must chain to.
    pub ca: PathBuf,
    /// Our certificate (chain), end-entity certificate first.
    pub cert: PathBuf,
    /// Our private key (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
}

impl CertPaths {
    /// The files `certs/generate_certs.sh` writes into `dir` for `party`:
    /// party 0 (the TLS server) uses `server-cert.pem`/`server-key.pem`, party 1 (the
    /// client) `client1-cert.pem`/`client1-key.pem`; both use `ca-cert.pem`.
    pub fn for_party(dir: &Path, party: Party) -> Self {
        let name = match party {
            Party::P1 => "server",
            Party::P2 => "client1",
        };
        Self {
            ca: dir.join("ca-cert.pem"),
            cert: dir.join(format!("{name}-cert.pem")),
            key: dir.join(format!("{name}-key.pem")),
        }
    }

    /// These paths with each file that is given replacing the one named here (a CA,
    /// certificate or key kept outside the certificate directory).
    #[must_use]
    pub fn with_files(self, ca: Option<&Path>, cert: Option<&Path>, key: Option<&Path>) -> Self {
        let pick =
            |given: Option<&Path>, default: PathBuf| given.map_or(default, Path::to_path_buf);
        Self {
            ca: pick(ca, self.ca),
            cert: pick(cert, self.cert),
            key: pick(key, self.key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_file_names() {
        let p0 = CertPaths::for_party(Path::new("d"), Party::P1);
        assert_eq!(p0.ca, Path::new("d/ca-cert.pem"));
        assert_eq!(p0.cert, Path::new("d/server-cert.pem"));
        assert_eq!(p0.key, Path::new("d/server-key.pem"));
        let p1 = CertPaths::for_party(Path::new("d"), Party::P2);
        assert_eq!(p1.cert, Path::new("d/client1-cert.pem"));
        assert_eq!(p1.key, Path::new("d/client1-key.pem"));
    }

    #[test]
    fn given_files_replace_the_directory_ones_one_by_one() {
        let p = CertPaths::for_party(Path::new("d"), Party::P2).with_files(
            Some(Path::new("/etc/ca.pem")),
            None,
            Some(Path::new("k.pem")),
        );
        assert_eq!(p.ca, Path::new("/etc/ca.pem"));
        assert_eq!(p.cert, Path::new("d/client1-cert.pem"));
        assert_eq!(p.key, Path::new("k.pem"));
    }
}
