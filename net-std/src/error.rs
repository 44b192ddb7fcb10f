//! The errors of this crate, layered as rustls and snow do it: one top-level [`NetError`]
//! whose variants wrap one type per category.
//!
//! - [`ConfigError`]: a certificate, key or CA file is missing or unusable ([`CertProblem`]).
//! - [`TlsError`](crate::TlsError): the TLS handshake or a TLS record failed.
//! - [`TransportError`]: TCP (address, bind, connect), timeouts, framing, a vanished peer.
//! - [`ProtocolError`]: our side of a protocol step rejected a message, and which step.
//! - [`PeerAbort`]: the peer stopped the run and sent its abort code.
//! - [`StoreError`]: a key-share file is missing, damaged, busy or cannot be written, or
//!   the parties hold no share epoch in common.
//! - [`SystemError`]: the operating system gave no randomness, no thread or too few file
//!   descriptors.
//! - [`Refusal`](crate::request::Refusal): party 0 refused party 1's request.
//!
//! Messages name the cause and a fix that does not depend on how the library is driven;
//! a front end (the `ecdsa2pc` command line) adds hints naming its own options.

mod config;
mod protocol;
mod store;
mod system;
mod transport;

use core::fmt;
use std::io;

pub use config::{CertProblem, ConfigError};
pub use protocol::{PeerAbort, ProtocolError};
pub use store::{SealPart, StoreError};
pub use system::SystemError;
pub use transport::{Phase, TransportError};

use crate::tls_error::{TlsError, TlsProblem};

/// Every error of this crate: one variant per category, each with its own type.
///
/// Underlying errors (`std::io::Error`, `rustls::Error`, ...) are exposed through
/// [`core::error::Error::source`].
#[derive(Debug)]
#[non_exhaustive]
pub enum NetError {
    /// A certificate, key or CA file is missing, unreadable or unusable.
    Config(ConfigError),
    /// The TLS handshake or a TLS record failed; [`TlsError::problem`] classifies it.
    Tls(Box<TlsError>),
    /// TCP, timeouts, framing, or the peer went away.
    Transport(TransportError),
    /// Our side of the protocol rejected a message (or refused to run).
    Protocol(ProtocolError),
    /// The peer stopped the run and told us why.
    PeerAbort(PeerAbort),
    /// A key-share file problem, or no share epoch in common with the peer.
    Store(StoreError),
    /// The operating system could not provide randomness, a thread or file descriptors.
    System(SystemError),
    /// Party 0 refused party 1's request (on party 1: received; on party 0: sent).
    Refused(crate::request::Refusal),
}

impl NetError {
    /// The classified TLS problem, if this is a [`NetError::Tls`] error.
    pub fn tls_problem(&self) -> Option<&TlsProblem> {
        match self {
            Self::Tls(failure) => Some(failure.problem()),
            _ => None,
        }
    }

    /// Maps an I/O error seen while doing `phase`: a TLS error carried inside it becomes
    /// [`NetError::Tls`], everything else a [`TransportError`].
    pub(crate) fn from_io(err: io::Error, phase: Phase) -> Self {
        if err
            .get_ref()
            .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            let kind = err.kind();
            let source = match err
                .into_inner()
                .map(|inner| inner.downcast::<rustls::Error>())
            {
                Some(Ok(tls)) => return Self::Tls(Box::new(TlsError::new(*tls))),
                Some(Err(other)) => io::Error::new(kind, other),
                None => io::Error::from(kind),
            };
            return TransportError::Io { phase, source }.into();
        }
        TransportError::from_io(err, phase).into()
    }

    /// Replaces the phase of a phase-carrying transport error.
    pub(crate) fn in_phase(self, new: Phase) -> Self {
        match self {
            Self::Transport(t) => Self::Transport(t.in_phase(new)),
            other => other,
        }
    }

    /// Fills in the timeout of a [`TransportError::Timeout`] that does not know it yet.
    pub(crate) fn with_timeout(self, timeout: core::time::Duration) -> Self {
        match self {
            Self::Transport(t) => Self::Transport(t.with_timeout(timeout)),
            other => other,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => fmt::Display::fmt(e, f),
            Self::Tls(e) => fmt::Display::fmt(e, f),
            Self::Transport(e) => fmt::Display::fmt(e, f),
            Self::Protocol(e) => fmt::Display::fmt(e, f),
            Self::PeerAbort(e) => fmt::Display::fmt(e, f),
            Self::Store(e) => fmt::Display::fmt(e, f),
            Self::System(e) => fmt::Display::fmt(e, f),
            Self::Refused(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for NetError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        // The category is the error itself: its cause comes next.
        match self {
            Self::Config(e) => e.source(),
            Self::Tls(e) => e.source(),
            Self::Transport(e) => e.source(),
            Self::Protocol(e) => e.source(),
            Self::PeerAbort(e) => e.source(),
            Self::Store(e) => e.source(),
            Self::System(e) => e.source(),
            Self::Refused(e) => e.source(),
        }
    }
}

/// `From` for each category, so that `?` lifts it into [`NetError`].
macro_rules! category {
    ($($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for NetError {
            fn from(e: $ty) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}

category!(
    Config(ConfigError),
    Transport(TransportError),
    Protocol(ProtocolError),
    PeerAbort(PeerAbort),
    Store(StoreError),
    System(SystemError),
    Refused(crate::request::Refusal),
);

impl From<TlsError> for NetError {
    fn from(e: TlsError) -> Self {
        Self::Tls(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::error::Error as _;

    #[test]
    fn io_kinds_map_to_transport_errors() {
        let t = NetError::from_io(io::Error::from(io::ErrorKind::WouldBlock), Phase::Recv);
        assert!(matches!(
            t,
            NetError::Transport(TransportError::Timeout {
                phase: Phase::Recv,
                after: None
            })
        ));
        let c = NetError::from_io(io::Error::from(io::ErrorKind::UnexpectedEof), Phase::Send);
        assert!(matches!(
            c,
            NetError::Transport(TransportError::PeerClosed {
                phase: Phase::Send,
                mid_message: false
            })
        ));
        let o = NetError::from_io(io::Error::other("x"), Phase::Close);
        assert!(matches!(
            o,
            NetError::Transport(TransportError::Io {
                phase: Phase::Close,
                ..
            })
        ));
        assert!(o.source().is_some(), "the io::Error is the source");
    }

    #[test]
    fn rustls_error_inside_io_error_becomes_tls() {
        let inner = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let err = NetError::from_io(
            io::Error::new(io::ErrorKind::InvalidData, inner),
            Phase::Recv,
        );
        assert_eq!(err.tls_problem(), Some(&TlsProblem::UnknownCa));
        assert!(err.source().is_some());
    }
}
