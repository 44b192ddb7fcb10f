//! What the operating system must provide: randomness, threads and file descriptors.

use core::fmt;
use std::io;

/// The operating system could not provide what the run needs.
#[derive(Debug)]
#[non_exhaustive]
pub enum SystemError {
    /// No randomness: the OS entropy source failed, so no secret can be drawn.
    NoEntropy(getrandom::Error),
    /// A worker thread could not be started.
    NoThread(io::Error),
    /// The process may not open enough files (its open-file limit, `ulimit -n`, cannot be
    /// raised far enough) for the service's workers and waiting requests.
    TooFewFiles {
        /// The limit, as raised as far as the hard limit allowed.
        limit: u64,
        /// The fewest the service needs.
        needed: u64,
    },
}

impl fmt::Display for SystemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoEntropy(e) => write!(
                f,
                "the operating system gave no randomness ({e}): no key material can be \
                 drawn; check that the system's entropy source (getrandom, /dev/urandom) is \
                 available to this process"
            ),
            Self::NoThread(e) => write!(
                f,
                "cannot start a worker thread ({e}): the system is out of threads or memory"
            ),
            Self::TooFewFiles { limit, needed } => write!(
                f,
                "the process may open only {limit} files (its open-file limit, ulimit -n, \
                 cannot be raised further) and the service needs at least {needed} for its \
                 workers, waiting requests and connections: raise the hard limit (ulimit -Hn, \
                 or LimitNOFILE= under systemd), or configure fewer workers or waiting requests"
            ),
        }
    }
}

impl core::error::Error for SystemError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::NoEntropy(e) => Some(e),
            Self::NoThread(e) => Some(e),
            Self::TooFewFiles { .. } => None,
        }
    }
}
