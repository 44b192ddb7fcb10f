//! What the operating system must provide: randomness and threads.

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
        }
    }
}

impl core::error::Error for SystemError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::NoEntropy(e) => Some(e),
            Self::NoThread(e) => Some(e),
        }
    }
}
