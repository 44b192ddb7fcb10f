//! What the operating system must provide: randomness, threads and file descriptors.

use core::fmt;
use std::io;

use super::{NetError, Phase, TransportError};

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
    /// `accept` failed because the process (or the whole system) has no file descriptor
    /// left for a new connection.
    OutOfFiles(io::Error),
}

impl SystemError {
    /// What `accept` failing with `source` means: [`SystemError::OutOfFiles`] when the
    /// process or the system ran out of file descriptors (`EMFILE`, `ENFILE`), else an I/O
    /// error while accepting.
    pub(crate) fn from_accept(source: io::Error) -> NetError {
        if is_out_of_files(&source) {
            Self::OutOfFiles(source).into()
        } else {
            TransportError::Io {
                phase: Phase::Accept,
                source,
            }
            .into()
        }
    }
}

#[cfg(unix)]
fn is_out_of_files(e: &io::Error) -> bool {
    use rustix::io::Errno;
    let no_files = [Errno::MFILE.raw_os_error(), Errno::NFILE.raw_os_error()];
    e.raw_os_error()
        .is_some_and(|code| no_files.contains(&code))
}

#[cfg(not(unix))]
fn is_out_of_files(_: &io::Error) -> bool {
    false
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
            Self::OutOfFiles(e) => write!(
                f,
                "no file descriptor left to accept a connection ({e}): raise the process's \
                 open-file limit (ulimit -n, or LimitNOFILE= under systemd), or find what \
                 holds so many files or connections open"
            ),
        }
    }
}

impl core::error::Error for SystemError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::NoEntropy(e) => Some(e),
            Self::NoThread(e) | Self::OutOfFiles(e) => Some(e),
            Self::TooFewFiles { .. } => None,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn accept_out_of_descriptors_is_said_with_the_limit_to_raise() {
        for errno in [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE] {
            let e = SystemError::from_accept(io::Error::from_raw_os_error(errno.raw_os_error()));
            assert!(
                matches!(e, NetError::System(SystemError::OutOfFiles(_))),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(
                text.contains("no file descriptor left") && text.contains("ulimit -n"),
                "{text}"
            );
        }
        let reset = io::Error::from_raw_os_error(rustix::io::Errno::CONNRESET.raw_os_error());
        assert!(matches!(
            SystemError::from_accept(reset),
            NetError::Transport(TransportError::Io {
                phase: Phase::Accept,
                ..
            })
        ));
    }
}
