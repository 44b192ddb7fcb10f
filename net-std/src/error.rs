//! The one error type of this crate, [`NetError`], and its helpers.

use core::fmt;
use core::time::Duration;
use std::io;
use std::path::PathBuf;

use crate::tls_problem::{TlsFailure, TlsProblem};

/// What the connection was doing when an error happened; used in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Party 0 waiting for party 1 to open a TCP connection.
    Accept,
    /// Party 1 opening the TCP connection to party 0.
    Connect,
    /// The TLS handshake, including the "ready" message party 0 sends after it.
    Handshake,
    /// Sending a protocol message.
    Send,
    /// Waiting for / reading a protocol message.
    Recv,
    /// Sending TLS `close_notify` at the end of a session.
    Close,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Accept => "waiting for party 1 to connect",
            Self::Connect => "connecting to party 0",
            Self::Handshake => "the TLS handshake",
            Self::Send => "sending a message",
            Self::Recv => "waiting for a message from the peer",
            Self::Close => "closing the connection",
        })
    }
}

/// Every error of the transport: certificates, TLS, TCP, timeouts and framing.
///
/// Each message names the cause and, where there is one, the fix. Underlying errors
/// (`std::io::Error`, `rustls::Error`) are kept and exposed through
/// [`core::error::Error::source`] for `--verbose` output.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetError {
    /// A certificate, key or CA file is missing, unreadable or unusable.
    CertFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS handshake or a TLS record failed; [`TlsFailure::problem`] classifies it.
    Tls(Box<TlsFailure>),
    /// Party 1 could not reach party 0 before the timeout (retried while refused).
    ConnectTimeout {
        /// The address party 1 tried.
        addr: String,
        /// How long it kept trying.
        waited: Duration,
        /// The error of the last attempt, if any.
        last_error: Option<io::Error>,
    },
    /// Party 0 could not listen on its address.
    Bind {
        /// The address given to listen on.
        addr: String,
        /// The error from the operating system.
        source: io::Error,
    },
    /// An address is not of the form `host:port` or does not resolve.
    BadAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The peer did not make progress within the timeout.
    Timeout {
        /// What we were waiting for.
        phase: Phase,
        /// The timeout that expired, when known.
        after: Option<Duration>,
    },
    /// The peer closed the connection.
    PeerClosed {
        /// What we were doing.
        phase: Phase,
        /// `true` if it disconnected in the middle of a message (a truncated frame).
        mid_message: bool,
    },
    /// The peer announced a frame longer than we accept; its body was not read.
    FrameTooLarge {
        /// The length announced in the frame header.
        len: usize,
        /// The largest length we accept.
        max: usize,
    },
    /// We were asked to send a message longer than the frame limit (a local bug).
    MessageTooLarge {
        /// The length of the message.
        len: usize,
        /// The frame limit.
        max: usize,
    },
    /// The peer completed TLS but does not speak this transport (wrong ready message).
    UnexpectedPeer {
        /// What was received instead.
        detail: String,
    },
    /// Our side of the protocol rejected a message (or refused to run): the peer is faulty
    /// or malicious, or the two parties do not hold matching shares.
    Protocol {
        /// What the protocol core reported.
        error: ecdsa2pc_core::Error,
        /// The step that failed, e.g. "sign, message 4".
        step: &'static str,
    },
    /// A key-share file is missing, unreadable, damaged, or in use by another process.
    ShareFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        problem: String,
    },
    /// The two parties hold no key-share epoch in common.
    EpochMismatch {
        /// Our epochs (active, and pending if any).
        ours: Vec<u64>,
        /// The peer's.
        theirs: Vec<u64>,
    },
    /// The peer stopped the run and told us why.
    PeerAborted {
        /// The error the peer reported.
        error: ecdsa2pc_core::Error,
        /// Our step when the abort arrived.
        step: &'static str,
    },
    /// Any other I/O error.
    Io {
        /// What we were doing.
        phase: Phase,
        /// The underlying error.
        source: io::Error,
    },
}

impl NetError {
    /// The classified TLS problem, if this is a [`NetError::Tls`] error.
    pub fn tls_problem(&self) -> Option<&TlsProblem> {
        match self {
            Self::Tls(failure) => Some(failure.problem()),
            _ => None,
        }
    }

    /// Maps an I/O error seen while doing `phase` to the matching variant: TLS errors
    /// carried inside it, timeouts, disconnects and the rest.
    pub(crate) fn from_io(err: io::Error, phase: Phase) -> Self {
        if err
            .get_ref()
            .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            let kind = err.kind();
            match err
                .into_inner()
                .map(|inner| inner.downcast::<rustls::Error>())
            {
                Some(Ok(tls)) => return Self::Tls(Box::new(TlsFailure::new(*tls))),
                Some(Err(other)) => {
                    return Self::Io {
                        phase,
                        source: io::Error::new(kind, other),
                    };
                }
                None => {
                    return Self::Io {
                        phase,
                        source: io::Error::from(kind),
                    };
                }
            }
        }
        match err.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                Self::Timeout { phase, after: None }
            }
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Self::PeerClosed {
                phase,
                mid_message: false,
            },
            _ => Self::Io { phase, source: err },
        }
    }

    /// Replaces the phase of phase-carrying variants.
    pub(crate) fn in_phase(self, new: Phase) -> Self {
        match self {
            Self::Timeout { after, .. } => Self::Timeout { phase: new, after },
            Self::PeerClosed { mid_message, .. } => Self::PeerClosed {
                phase: new,
                mid_message,
            },
            Self::Io { source, .. } => Self::Io { phase: new, source },
            other => other,
        }
    }

    /// Fills in the timeout of a [`NetError::Timeout`] that does not know it yet.
    pub(crate) fn with_timeout(self, timeout: Duration) -> Self {
        match self {
            Self::Timeout { phase, after: None } => Self::Timeout {
                phase,
                after: Some(timeout),
            },
            other => other,
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if (s - s.round()).abs() < 0.05 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol { error, step } => {
                write!(f, "{step}: {error}")?;
                f.write_str(protocol_hint(*error))
            }
            Self::ShareFile { path, problem } => {
                write!(f, "key share {}: {problem}", path.display())
            }
            Self::EpochMismatch { ours, theirs } => write!(
                f,
                "the parties hold no key share in common (our epochs {ours:?}, the peer's \
                 {theirs:?}): they were made by different keygen runs, or one side's files were \
                 replaced; use the share files of the same key on both sides"
            ),
            Self::PeerAborted { error, step } => {
                write!(f, "{step}: the peer stopped the run: {error}")?;
                f.write_str(protocol_hint(*error))
            }
            Self::CertFile { path, reason } => write!(
                f,
                "cannot use {}: {reason}; run certs/generate_certs.sh to create the \
                 certificates, or check that --certs points at the directory holding them",
                path.display()
            ),
            Self::Tls(failure) => fmt::Display::fmt(failure, f),
            Self::ConnectTimeout { addr, waited, .. } => write!(
                f,
                "could not reach party 0 at {addr} within {}: is party 0 running? start it \
                 with the same ecdsa2pc command and `--party 0` (start order does not \
                 matter; raise --timeout if needed)",
                secs(*waited)
            ),
            Self::Bind { addr, source } => match source.kind() {
                io::ErrorKind::AddrInUse => write!(
                    f,
                    "cannot listen on {addr}: the address is already in use (is another \
                     party 0 still running?); stop it or choose another port"
                ),
                io::ErrorKind::AddrNotAvailable => write!(
                    f,
                    "cannot listen on {addr}: it is not an address of this machine; use \
                     e.g. 127.0.0.1:PORT or 0.0.0.0:PORT"
                ),
                io::ErrorKind::PermissionDenied => write!(
                    f,
                    "cannot listen on {addr}: permission denied (ports below 1024 need \
                     privileges); choose a port above 1023"
                ),
                _ => write!(f, "cannot listen on {addr}: {source}"),
            },
            Self::BadAddress { addr, reason } => write!(
                f,
                "invalid address '{addr}': {reason}; expected HOST:PORT, e.g. 127.0.0.1:7000"
            ),
            Self::Timeout { phase, after } => {
                let within = after
                    .map(|d| format!(" within {}", secs(d)))
                    .unwrap_or_default();
                match phase {
                    Phase::Accept => write!(
                        f,
                        "no connection from party 1{within}: start party 1 (the same ecdsa2pc \
                         command with `--party 1`) with --server pointing at this address, \
                         or raise --timeout"
                    ),
                    _ => write!(
                        f,
                        "the peer stopped responding during {phase} (no progress{within}): \
                         it may be stalled, overloaded or gone; check its log, or raise \
                         --timeout if it is only slow"
                    ),
                }
            }
            Self::PeerClosed { phase, mid_message } => {
                if *mid_message {
                    write!(
                        f,
                        "the peer disconnected in the middle of a message ({phase}): it \
                         crashed or aborted the protocol; see its log"
                    )
                } else if *phase == Phase::Handshake {
                    write!(
                        f,
                        "the peer closed the connection during the TLS handshake: it \
                         probably rejected our certificate; see its log"
                    )
                } else {
                    write!(
                        f,
                        "the peer closed the connection ({phase}): it aborted the \
                         protocol; see its log"
                    )
                }
            }
            Self::FrameTooLarge { len, max } => write!(
                f,
                "the peer announced a message of {len} bytes, more than the {max} bytes \
                 allowed: it runs an incompatible version or is misbehaving; the message \
                 was not read"
            ),
            Self::MessageTooLarge { len, max } => write!(
                f,
                "refusing to send a message of {len} bytes: the frame limit is {max} bytes \
                 (this is a bug in the caller)"
            ),
            Self::UnexpectedPeer { detail } => write!(
                f,
                "the peer completed TLS but is not an ecdsa2pc party of this version \
                 ({detail}); check that both parties run the same ecdsa2pc release"
            ),
            Self::Io { phase, source } => write!(f, "I/O error while {phase}: {source}"),
        }
    }
}

impl core::error::Error for NetError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Tls(failure) => Some(failure.rustls_error()),
            Self::ConnectTimeout { last_error, .. } => last_error
                .as_ref()
                .map(|e| e as &(dyn core::error::Error + 'static)),
            Self::Bind { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What a user can do about a protocol error.
fn protocol_hint(error: ecdsa2pc_core::Error) -> &'static str {
    use ecdsa2pc_core::Error as E;
    match error {
        E::SessionMismatch => {
            "; the two parties hold shares of different keys (or epochs), sign different \
             digests, or the peer's certificate is not the one recorded in the share"
        }
        E::KeyLocked | E::SignatureInvalid => {
            "; a final signature failed to verify, so party 0 locked this key share: the peer \
             may be probing the key. Do not use the share again; investigate, then run a new keygen"
        }
        E::InvalidShare => "; the key share file is damaged or was altered: restore it from backup",
        _ => "; the peer is faulty or malicious. Nothing was saved; check both versions and retry",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds_map_to_variants() {
        let t = NetError::from_io(io::Error::from(io::ErrorKind::WouldBlock), Phase::Recv);
        assert!(matches!(
            t,
            NetError::Timeout {
                phase: Phase::Recv,
                after: None
            }
        ));
        let c = NetError::from_io(io::Error::from(io::ErrorKind::UnexpectedEof), Phase::Send);
        assert!(matches!(
            c,
            NetError::PeerClosed {
                phase: Phase::Send,
                mid_message: false
            }
        ));
        let o = NetError::from_io(io::Error::other("x"), Phase::Close);
        assert!(matches!(
            o,
            NetError::Io {
                phase: Phase::Close,
                ..
            }
        ));
    }

    #[test]
    fn rustls_error_inside_io_error_becomes_tls() {
        let inner = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let err = NetError::from_io(
            io::Error::new(io::ErrorKind::InvalidData, inner),
            Phase::Recv,
        );
        assert_eq!(err.tls_problem(), Some(&TlsProblem::UnknownCa));
        assert!(core::error::Error::source(&err).is_some());
    }

    #[test]
    fn timeout_message_names_duration_and_fix() {
        let e = NetError::Timeout {
            phase: Phase::Recv,
            after: None,
        }
        .with_timeout(Duration::from_millis(1500));
        let msg = e.to_string();
        assert!(
            msg.contains("stopped responding") && msg.contains("1.5 s"),
            "{msg}"
        );
        let a = NetError::Timeout {
            phase: Phase::Accept,
            after: Some(Duration::from_secs(3)),
        };
        assert!(
            a.to_string()
                .contains("no connection from party 1 within 3 s")
        );
    }
}
