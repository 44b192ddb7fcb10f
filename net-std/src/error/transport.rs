//! Transport errors: addresses, TCP, timeouts, framing, a vanished peer.

use core::fmt;
use core::time::Duration;
use std::io;

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

/// The connection could not be made, stalled, broke, or carried a bad frame.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// An address is not of the form `host:port` or does not resolve.
    BadAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Party 0 could not listen on its address.
    Bind {
        /// The address given to listen on.
        addr: String,
        /// The error from the operating system.
        source: io::Error,
    },
    /// Party 1 could not reach party 0 before the timeout (retried while refused).
    ConnectTimeout {
        /// The address party 1 tried.
        addr: String,
        /// How long it kept trying: the timeout it was given.
        waited: Duration,
        /// The error of the last attempt, if any.
        last_error: Option<io::Error>,
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
    /// Any other I/O error.
    Io {
        /// What we were doing.
        phase: Phase,
        /// The underlying error.
        source: io::Error,
    },
}

impl TransportError {
    /// Maps an I/O error (not carrying a TLS error) seen while doing `phase`: timeouts,
    /// disconnects and the rest.
    pub(crate) fn from_io(err: io::Error, phase: Phase) -> Self {
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

    /// Fills in the timeout of a [`TransportError::Timeout`] that does not know it yet.
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

/// A duration as people read it: `3 s`, `1.5 s`.
pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if (s - s.round()).abs() < 0.05 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAddress { addr, reason } => write!(
                f,
                "invalid address '{addr}': {reason}; expected HOST:PORT, e.g. 127.0.0.1:7000"
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
            Self::ConnectTimeout { addr, waited, .. } => write!(
                f,
                "could not reach party 0 at {addr} within {}: is party 0 running? (start \
                 order does not matter)",
                secs(*waited)
            ),
            Self::Timeout { phase, after } => {
                let within = after
                    .map(|d| format!(" within {}", secs(d)))
                    .unwrap_or_default();
                match phase {
                    Phase::Accept => write!(
                        f,
                        "no connection from party 1{within}: start party 1 and point it at \
                         this address"
                    ),
                    _ => write!(
                        f,
                        "the peer stopped responding during {phase} (no progress{within}): \
                         it may be stalled, overloaded or gone; check its log"
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
                        "the peer closed the connection during the TLS handshake: a \
                         party that rejected our certificate (see its log), or a probe that \
                         connected and left (a port scan, a TCP health check)"
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

impl core::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::ConnectTimeout { last_error, .. } => last_error
                .as_ref()
                .map(|e| e as &(dyn core::error::Error + 'static)),
            Self::Bind { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_message_names_duration_and_fix() {
        let e = TransportError::Timeout {
            phase: Phase::Recv,
            after: None,
        }
        .with_timeout(Duration::from_millis(1500));
        let msg = e.to_string();
        assert!(
            msg.contains("stopped responding") && msg.contains("1.5 s"),
            "{msg}"
        );
        let a = TransportError::Timeout {
            phase: Phase::Accept,
            after: Some(Duration::from_secs(3)),
        };
        assert!(
            a.to_string()
                .contains("no connection from party 1 within 3 s")
        );
    }
}
