//! Configuration errors: the certificate, key and CA files a party needs.

use core::fmt;
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
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CertFile { path, reason } => write!(
                f,
                "cannot use {}: {reason}; run certs/generate_certs.sh to create the \
                 certificates",
                path.display()
            ),
        }
    }
}

impl core::error::Error for ConfigError {}
