//! Establishing the connection: party 0 listens and accepts one client ([`listen`],
//! [`Listener::accept`], [`listen_and_accept`]); party 1 connects, retrying while party 0
//! is not up yet ([`connect`]); [`establish`] picks the right one for a [`Party`].

use core::net::SocketAddr;
use core::time::Duration;
use std::io;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::thread;
use std::time::Instant;

use ecdsa2pc_core::Party;

use crate::cert_paths::CertPaths;
use crate::channel::Channel;
use crate::error::{NetError, Phase, TransportError};
use crate::handshake::{establish_client, establish_server};
use crate::tls::{ServerSetup, client_setup, server_name_for, server_setup};
use crate::tls_error::TlsProblem;

/// First pause between connection attempts; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Longest pause between connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Waits until `listener` has a connection to accept or `timeout` has passed, whichever comes
/// first (poll(2) on Unix, a plain sleep elsewhere): a connection is taken as it arrives, not
/// at the next look, and the caller still checks its deadline or stop flag every `timeout`.
pub(crate) fn await_connection(listener: &TcpListener, timeout: Duration) {
    #[cfg(unix)]
    if let Ok(limit) = rustix::event::Timespec::try_from(timeout) {
        use rustix::event::{PollFd, PollFlags, poll};
        let mut fds = [PollFd::new(listener, PollFlags::IN)];
        match poll(&mut fds, Some(&limit)) {
            // Ready, the time is up, or a signal: the caller's accept says which.
            Ok(_) | Err(rustix::io::Errno::INTR) => return,
            // Anything else would fail again at once: wait as before, not spin.
            Err(_) => {}
        }
    }
    thread::sleep(timeout);
}

/// How often a listener checks for a new connection while waiting.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// The socket addresses `addr` (HOST:PORT) resolves to.
///
/// # Errors
/// [`TransportError::BadAddress`] if it does not resolve, or to nothing.
pub(crate) fn resolve(addr: &str) -> Result<Vec<SocketAddr>, TransportError> {
    let bad = |reason: String| TransportError::BadAddress {
        addr: addr.to_owned(),
        reason,
    };
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| bad(format!("cannot resolve it ({e})")))?
        .collect();
    if addrs.is_empty() {
        return Err(bad("it resolves to no address".to_owned()));
    }
    Ok(addrs)
}

/// Party 0's listening socket, bound but not yet accepting.
#[derive(Debug)]
pub struct Listener {
    inner: TcpListener,
    addr: String,
}

/// Binds `addr` (`host:port`; port 0 picks a free port, see [`Listener::local_addr`]).
/// An address in use gives [`TransportError::Bind`] naming it.
pub fn listen(addr: &str) -> Result<Listener, NetError> {
    listen_resolved(addr, &resolve(addr)?)
}

/// As [`listen`], at `addrs`, which `addr` resolved to ([`resolve`]).
pub(crate) fn listen_resolved(addr: &str, addrs: &[SocketAddr]) -> Result<Listener, NetError> {
    let inner = TcpListener::bind(addrs).map_err(|source| TransportError::Bind {
        addr: addr.to_owned(),
        source,
    })?;
    Ok(Listener {
        inner,
        addr: addr.to_owned(),
    })
}

impl Listener {
    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        self.inner.local_addr().map_err(|source| {
            TransportError::Io {
                phase: Phase::Accept,
                source,
            }
            .into()
        })
    }

    /// Waits up to `timeout` for one client, then completes the mutual-TLS handshake
    /// within `timeout` more (certificates are loaded first, so a missing file is
    /// reported before waiting). A stray connection is skipped: see [`Self::accept_skipping`].
    pub fn accept(&self, paths: &CertPaths, timeout: Duration) -> Result<Channel, NetError> {
        self.accept_skipping(paths, timeout, &mut |_, _| {})
    }

    /// [`Self::accept`], telling `skipped` of every stray connection it goes past: one that
    /// sends something other than TLS (a port scan's probe, an HTTP request) or closes before
    /// its handshake is done (a health probe of a load balancer). Those are no party 1, and
    /// waiting goes on for the one that is, until `timeout` from the call; a connection that
    /// speaks TLS and fails it (another CA, no client certificate) ends the wait with its
    /// error, as it is most likely party 1 misconfigured.
    pub fn accept_skipping(
        &self,
        paths: &CertPaths,
        timeout: Duration,
        skipped: &mut dyn FnMut(SocketAddr, &NetError),
    ) -> Result<Channel, NetError> {
        let setup = server_setup(paths)?;
        self.accept_with(&setup, timeout, skipped)
    }

    fn accept_with(
        &self,
        setup: &ServerSetup,
        timeout: Duration,
        skipped: &mut dyn FnMut(SocketAddr, &NetError),
    ) -> Result<Channel, NetError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (sock, peer) = self.accept_tcp(left, timeout)?;
            // The handshake keeps the whole timeout, as before: party 1 may have connected
            // at the last moment of the wait.
            match establish_server(sock, setup, timeout) {
                Err(e)
                    if is_stray(&e)
                        && !deadline.saturating_duration_since(Instant::now()).is_zero() =>
                {
                    skipped(peer, &e);
                }
                done => return done,
            }
        }
    }

    /// Polls the nonblocking listener so that waiting ends after `left`; a timeout reports
    /// `timeout`, the whole wait.
    fn accept_tcp(
        &self,
        left: Duration,
        timeout: Duration,
    ) -> Result<(TcpStream, SocketAddr), TransportError> {
        let io = |source| TransportError::Io {
            phase: Phase::Accept,
            source,
        };
        let deadline = Instant::now() + left;
        self.inner.set_nonblocking(true).map_err(io)?;
        loop {
            match self.inner.accept() {
                Ok(accepted) => return Ok(accepted),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => return Err(io(e)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(TransportError::Timeout {
                    phase: Phase::Accept,
                    after: Some(timeout),
                });
            }
            await_connection(&self.inner, left.min(ACCEPT_POLL));
        }
    }

    /// The bound socket itself, for a caller that runs its own accept loop.
    pub(crate) fn into_tcp(self) -> TcpListener {
        self.inner
    }

    /// The address as given to [`listen`].
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

/// Party 0: loads the certificates, binds `addr`, waits up to `timeout` for party 1 and
/// completes the handshake within `timeout` more.
pub fn listen_and_accept(
    addr: &str,
    paths: &CertPaths,
    timeout: Duration,
) -> Result<Channel, NetError> {
    let setup = server_setup(paths)?;
    listen(addr)?.accept_with(&setup, timeout, &mut |_, _| {})
}

/// Whether a failed handshake was no party 1 at all: bytes that are not TLS, or a peer that
/// closed before the handshake was done.
fn is_stray(e: &NetError) -> bool {
    match e {
        NetError::Tls(t) => *t.problem() == TlsProblem::NotTls,
        NetError::Transport(TransportError::PeerClosed { .. }) => true,
        _ => false,
    }
}

/// Opens `party`'s side of the session: party 0 (the TLS server) listens on `addr` and
/// accepts party 1; party 1 (the TLS client) connects to party 0 at `addr`. The TLS role
/// follows from the party; `paths` must be that party's files
/// ([`CertPaths::for_party`]).
///
/// # Errors
/// As [`listen_and_accept`] or [`connect`].
pub fn establish(
    party: Party,
    addr: &str,
    paths: &CertPaths,
    timeout: Duration,
) -> Result<Channel, NetError> {
    match party {
        Party::P1 => listen_and_accept(addr, paths, timeout),
        Party::P2 => connect(addr, paths, timeout),
    }
}

/// Errors after which party 1 tries again (party 0 not listening yet, network down).
fn retryable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::TimedOut
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::Interrupted
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable
    )
}

/// Party 1: loads the certificates, connects to `addr` (retrying with back-off 50 ms → 1 s
/// while refused or unreachable, for up to `timeout`; then
/// [`TransportError::ConnectTimeout`]), and completes the handshake within `timeout` more.
/// Party 0's certificate must be valid for the host part of `addr`.
pub fn connect(addr: &str, paths: &CertPaths, timeout: Duration) -> Result<Channel, NetError> {
    let server_name = server_name_for(addr)?;
    let setup = client_setup(paths)?;
    let sock = connect_tcp(addr, timeout)?;
    establish_client(sock, &setup, server_name, timeout)
}

fn connect_tcp(addr: &str, timeout: Duration) -> Result<TcpStream, TransportError> {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut backoff = FIRST_BACKOFF;
    let mut last_error = None;
    loop {
        for target in resolve(addr)? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(&target, left) {
                Ok(sock) => return Ok(sock),
                Err(e) if retryable(&e) => last_error = Some(e),
                Err(source) => {
                    return Err(TransportError::Io {
                        phase: Phase::Connect,
                        source,
                    });
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // The timeout the user gave, not the elapsed time: that overshoots it by the
            // last attempt's scheduling delay (2.1 s for a 2 s timeout on a busy machine).
            return Err(TransportError::ConnectTimeout {
                addr: addr.to_owned(),
                waited: timeout,
                last_error,
            });
        }
        thread::sleep(backoff.min(left));
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
