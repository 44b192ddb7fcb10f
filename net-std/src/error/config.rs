//! Configuration errors: the certificate, key and CA files a party needs.

use core::fmt;
use std::io;
use std::path::PathBuf;

/// A file of the party's configuration is missing or unusable.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A certificate, key or CA file is missing, unreadable or unusable.
    CertFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        problem: CertProblem,
    },
}

/// What is wrong with a certificate, key or CA file.
#[derive(Debug)]
#[non_exhaustive]
pub enum CertProblem {
    /// The file does not exist.
    NotFound,
    /// The file may not be read by this process.
    PermissionDenied,
    /// Reading the file failed.
    Unreadable(io::Error),
    /// The file holds no PEM section of the kind needed (named, e.g. "certificate").
    NoPem(&'static str),
    /// The file is not valid PEM (rustls-pki-types' reason).
    InvalidPem(String),
    /// The CA file holds a certificate that cannot be a trust anchor (webpki's reason).
    UnusableCa(String),
    /// The CA certificates cannot verify client certificates (rustls' reason).
    UnusableVerifier(String),
    /// The first certificate of the file cannot be parsed as X.509.
    Unparsable,
    /// The private key does not belong to this certificate file.
    KeyMismatch {
        /// The certificate the key should belong to.
        cert: PathBuf,
    },
    /// The private key cannot be used (rustls' reason).
    UnusableKey(String),
}

impl fmt::Display for CertProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("the file does not exist"),
            Self::PermissionDenied => {
                f.write_str("permission denied (check the file's owner and mode)")
            }
            Self::Unreadable(e) => write!(f, "cannot read it: {e}"),
            Self::NoPem(what) => write!(f, "it contains no PEM {what}"),
            Self::InvalidPem(why) => write!(f, "it is not a valid PEM file ({why})"),
            Self::UnusableCa(why) => write!(f, "it holds an unusable CA certificate ({why})"),
            Self::UnusableVerifier(why) => {
                write!(f, "it cannot be used to verify client certificates ({why})")
            }
            Self::Unparsable => f.write_str("its first certificate cannot be parsed as X.509"),
            Self::KeyMismatch { cert } => write!(
                f,
                "this private key does not belong to the certificate {}",
                cert.display()
            ),
            Self::UnusableKey(why) => write!(f, "unusable private key ({why})"),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // New certificates would give this party a new id, which its key shares are
            // bound to: for a key that does not match, the fix is the right key file.
            Self::CertFile {
                path,
                problem: problem @ CertProblem::KeyMismatch { .. },
            } => write!(
                f,
                "cannot use {}: {problem}; use the private key made with that certificate \
                 (certs/generate_certs.sh writes them in pairs, NAME-cert.pem and \
                 NAME-key.pem); new certificates would change this party's id, to which its \
                 key shares are bound",
                path.display()
            ),
            Self::CertFile {
                path,
                problem: problem @ CertProblem::NotFound,
            } => write!(
                f,
                "cannot use {}: {problem}; run certs/generate_certs.sh to create the \
                 certificates",
                path.display()
            ),
            // The file exists: the fix is the right file, not new certificates (which would
            // change this party's id).
            Self::CertFile { path, problem } => write!(
                f,
                "cannot use {}: {problem}; give the PEM file certs/generate_certs.sh wrote \
                 (ca-cert.pem, NAME-cert.pem, NAME-key.pem)",
                path.display()
            ),
        }
    }
}

impl core::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::CertFile {
                problem: CertProblem::Unreadable(e),
                ..
            } => Some(e),
            Self::CertFile { .. } => None,
        }
    }
}
