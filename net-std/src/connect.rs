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
use crate::error::{NetError, Phase, SystemError, TransportError};
use crate::handshake::{OpeningEnd, ServerOpening, establish_client};
use crate::readiness::{self, Interest};
use crate::tls::{ServerSetup, client_setup, server_name_for, server_setup};
use crate::tls_error::TlsProblem;

/// First pause between connection attempts; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Longest pause between connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Most connections a one-shot party 0 opens at once while it waits for party 1; more are
/// closed as they arrive.
const MAX_OPENINGS: usize = 64;

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

    /// Accepts every connection that arrives within `timeout` and opens them side by side
    /// ([`ServerOpening`], each with `timeout` for its handshake): party 1 is the first to
    /// open. A stray one is skipped (told to `skipped`), so that neither junk nor an idle
    /// socket (a port scan that holds it) keeps party 1 waiting. A TLS failure (most likely
    /// party 1 misconfigured) ends the wait with its error, at once if no other connection
    /// is being opened, else once none is left and none opened; so does the last opening's
    /// timeout.
    fn accept_with(
        &self,
        setup: &ServerSetup,
        timeout: Duration,
        skipped: &mut dyn FnMut(SocketAddr, &NetError),
    ) -> Result<Channel, NetError> {
        let io = |source| TransportError::Io {
            phase: Phase::Accept,
            source,
        };
        let deadline = Instant::now() + timeout;
        self.inner.set_nonblocking(true).map_err(io)?;
        let mut pending: Vec<(ServerOpening<'_>, SocketAddr)> = Vec::new();
        let mut tls_failure = None;
        loop {
            let now = Instant::now();
            let accepting = now < deadline;
            if !accepting && pending.is_empty() {
                return Err(TransportError::Timeout {
                    phase: Phase::Accept,
                    after: Some(timeout),
                }
                .into());
            }
            let next = pending
                .iter()
                .map(|(o, _)| o.deadline())
                .chain(accepting.then_some(deadline))
                .min()
                .unwrap_or(now);
            let sockets: Vec<Interest<'_>> = pending.iter().map(|(o, _)| o.interest()).collect();
            let wait = next
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            let (accept, ready) = readiness::wait(accepting.then_some(&self.inner), &sockets, wait);
            drop(sockets);
            let others = pending.len().saturating_sub(1);
            for (i, (opening, peer)) in core::mem::take(&mut pending).into_iter().enumerate() {
                let ended = match opening.step(ready.get(i).copied().unwrap_or(true)) {
                    Ok(opening) => {
                        pending.push((opening, peer));
                        continue;
                    }
                    Err(ended) => ended,
                };
                let failure = match ended {
                    OpeningEnd::Opened(ch, _) => return Ok(*ch),
                    OpeningEnd::Failed(failure) => *failure,
                };
                // A timeout with others still opening was an idle socket, not party 1, who
                // would have finished its handshake long before.
                let timed_out = matches!(
                    failure.error,
                    NetError::Transport(TransportError::Timeout { .. })
                );
                if is_stray(&failure.error) || (timed_out && others > 0) {
                    skipped(peer, &failure.error);
                    continue;
                }
                if others > 0 {
                    // Another may be party 1: decided once they have ended. (This socket
                    // closes without lingering; its peer may miss the alert.)
                    tls_failure.get_or_insert(failure.error);
                    continue;
                }
                if let Some(linger) = failure.linger {
                    linger.wait_out();
                }
                // An earlier TLS failure says more than an idle socket's timeout.
                return Err(tls_failure.unwrap_or(failure.error));
            }
            if accept {
                self.accept_openings(setup, timeout, &mut pending)?;
            }
            // A TLS failure waited for the others; with none left, it is the answer.
            if pending.is_empty()
                && let Some(failure) = tls_failure.take()
            {
                return Err(failure);
            }
        }
    }

    /// Accepts what waits on the listener into `pending`, up to [`MAX_OPENINGS`] held and
    /// as many taken per call (a flood of connects must not keep the caller from the
    /// openings and its deadline).
    ///
    /// # Errors
    /// `accept` failed for want of resources ([`SystemError::OutOfFiles`], or memory),
    /// which would fail again at once; a connection cannot be set up for its opening.
    fn accept_openings<'s>(
        &self,
        setup: &'s ServerSetup,
        timeout: Duration,
        pending: &mut Vec<(ServerOpening<'s>, SocketAddr)>,
    ) -> Result<(), NetError> {
        for _ in 0..MAX_OPENINGS {
            match self.inner.accept() {
                Ok((sock, peer)) if pending.len() < MAX_OPENINGS => {
                    let opening = ServerOpening::new(sock, setup, timeout, None)?;
                    pending.push((opening, peer));
                }
                // Over the cap: closed at once.
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // A client that reset before it was accepted, or a signal: nothing to open.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => return Err(SystemError::from_accept(e)),
            }
        }
        Ok(())
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
