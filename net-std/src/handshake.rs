//! Completing the TLS handshake within a deadline, the "ready" message, and building the
//! [`Channel`] with its [`SessionInfo`].
//!
//! With TLS 1.3 the client finishes its handshake before the server has checked the
//! client certificate, so a rejected client would only notice at its first read. To
//! surface such errors at connect time, party 0 sends one frame [`READY`] right after the
//! handshake and party 1 waits for it before `connect` returns.

use core::time::Duration;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::Instant;

use rustls::{
    ClientConnection, ConnectionCommon, ProtocolVersion, ServerConnection, SideData, StreamOwned,
};
use rustls_pki_types::ServerName;

use crate::channel::{Channel, TlsStream};
use ecdsa2pc_core::Party;

use crate::error::{NetError, Phase, TransportError};
use crate::identity::{pid_of_cert, subject_of_cert};
use crate::session::{CHANNEL_BINDING_LABEL, SessionInfo};
use crate::tls::{ClientSetup, OwnIdentity, ServerSetup};
use crate::tls_error::TlsError;
use crate::transport::{DEFAULT_MAX_FRAME_LEN, Framed, Transport};

/// The frame party 0 sends after the handshake (transport version 1).
pub(crate) const READY: &[u8] = b"ecdsa2pc-net ready v1";

/// Socket I/O that ends at `deadline`: every read and write gets the remaining time as
/// its socket timeout.
struct DeadlineIo<'a> {
    sock: &'a mut TcpStream,
    deadline: Instant,
}

impl DeadlineIo<'_> {
    fn remaining(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "handshake deadline passed",
            ))
        } else {
            Ok(left)
        }
    }
}

impl Read for DeadlineIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.sock.set_read_timeout(Some(left))?;
        self.sock.read(buf)
    }
}

impl Write for DeadlineIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.sock.set_write_timeout(Some(left))?;
        self.sock.write(buf)
    }

    // rustls writes queued records (e.g. a change_cipher_spec and an alert) with one
    // vectored write: the default implementation would send only the first of them.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let left = self.remaining()?;
        self.sock.set_write_timeout(Some(left))?;
        self.sock.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

/// Runs the handshake to completion or until `deadline`.
fn drive<S: SideData>(
    conn: &mut ConnectionCommon<S>,
    sock: &mut TcpStream,
    deadline: Instant,
) -> Result<(), NetError> {
    let mut io = DeadlineIo { sock, deadline };
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut io) {
            let err = NetError::from_io(e, Phase::Handshake);
            if matches!(err, NetError::Tls(_)) {
                // Send whatever is still queued (the alert telling the peer why).
                while conn.wants_write() {
                    if !matches!(conn.write_tls(&mut io), Ok(n) if n > 0) {
                        break;
                    }
                }
                linger_close(io.sock);
            }
            return Err(err);
        }
    }
    Ok(())
}

/// Longest wait of [`linger_close`].
const LINGER: Duration = Duration::from_millis(500);

/// Closes after a TLS error so that the peer reads our alert: rustls has already written
/// it; closing a socket with unread input would send a TCP reset, which can make the
/// peer lose the alert. So: shut down our sending side, then read and discard until the
/// peer closes too (it does once it has read the alert), for at most [`LINGER`].
fn linger_close(sock: &TcpStream) {
    let _ = sock.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut scratch = [0u8; 2048];
    let mut reader = sock;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || sock.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match reader.read(&mut scratch) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn version_name(v: Option<ProtocolVersion>) -> &'static str {
    match v {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
        Some(other) => other.as_str().unwrap_or("unknown"),
        None => "unknown",
    }
}

/// Collects the session facts once the handshake is complete.
fn session_info(
    stream: &TlsStream,
    party: Party,
    own: &OwnIdentity,
) -> Result<SessionInfo, NetError> {
    let state = stream.state();
    let tls = |e: rustls::Error| NetError::from(TlsError::new(e));
    let peer_cert = state
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| tls(rustls::Error::NoCertificatesPresented))?;
    let bad_cert = || {
        tls(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadEncoding,
        ))
    };
    let peer_pid = pid_of_cert(peer_cert).ok_or_else(bad_cert)?;
    let peer_subject = subject_of_cert(peer_cert).ok_or_else(bad_cert)?;
    let channel_binding = stream.export_binding(CHANNEL_BINDING_LABEL).map_err(tls)?;
    let peer_addr = stream
        .sock()
        .peer_addr()
        .map_err(|e| NetError::from_io(e, Phase::Handshake))?;
    Ok(SessionInfo {
        party,
        own_pid: own.pid,
        peer_pid,
        channel_binding,
        tls_version: version_name(state.protocol_version()),
        cipher_suite: state
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown"),
        own_subject: own.subject.clone(),
        peer_subject,
        peer_addr,
    })
}

/// Puts an error into the handshake phase and adds the timeout, our party and CA file.
fn in_context(err: NetError, party: Party, ca_file: &Path, timeout: Duration) -> NetError {
    match err.in_phase(Phase::Handshake).with_timeout(timeout) {
        NetError::Tls(failure) => NetError::Tls(Box::new(failure.with_context(party, ca_file))),
        other => other,
    }
}

/// Prepares a socket fresh from `connect`/`accept`.
fn prepare(sock: &TcpStream) -> Result<(), NetError> {
    let io = |e| NetError::from_io(e, Phase::Handshake);
    sock.set_nonblocking(false).map_err(io)?;
    sock.set_nodelay(true).map_err(io)
}

/// Party 0: handshake on an accepted socket, then send [`READY`].
pub(crate) fn establish_server(
    mut sock: TcpStream,
    setup: &ServerSetup,
    timeout: Duration,
) -> Result<Channel, NetError> {
    let deadline = Instant::now() + timeout;
    let ctx = |e| in_context(e, Party::P1, &setup.ca_file, timeout);
    prepare(&sock)?;
    let mut conn = ServerConnection::new(setup.config.clone())
        .map_err(|e| ctx(NetError::from(TlsError::new(e))))?;
    drive(&mut conn, &mut sock, deadline).map_err(ctx)?;
    let stream = TlsStream::Server(Box::new(StreamOwned::new(conn, sock)));
    finish(
        stream,
        Party::P1,
        &setup.own,
        &setup.ca_file,
        deadline,
        timeout,
    )
}

/// Party 1: handshake on a connected socket, then wait for [`READY`].
pub(crate) fn establish_client(
    mut sock: TcpStream,
    setup: &ClientSetup,
    server_name: ServerName<'static>,
    timeout: Duration,
) -> Result<Channel, NetError> {
    let deadline = Instant::now() + timeout;
    let ctx = |e| in_context(e, Party::P2, &setup.ca_file, timeout);
    prepare(&sock)?;
    let mut conn = ClientConnection::new(setup.config.clone(), server_name)
        .map_err(|e| ctx(NetError::from(TlsError::new(e))))?;
    drive(&mut conn, &mut sock, deadline).map_err(ctx)?;
    let stream = TlsStream::Client(Box::new(StreamOwned::new(conn, sock)));
    finish(
        stream,
        Party::P2,
        &setup.own,
        &setup.ca_file,
        deadline,
        timeout,
    )
}

/// Exchanges [`READY`] (server sends, client receives) before `deadline`, then switches
/// the socket to the per-operation `timeout`.
fn finish(
    stream: TlsStream,
    party: Party,
    own: &OwnIdentity,
    ca_file: &Path,
    deadline: Instant,
    timeout: Duration,
) -> Result<Channel, NetError> {
    let ctx = |e| in_context(e, party, ca_file, timeout);
    let info = session_info(&stream, party, own).map_err(ctx)?;
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(TransportError::Timeout {
            phase: Phase::Handshake,
            after: Some(timeout),
        }
        .into());
    }
    stream
        .set_timeouts(left)
        .map_err(|e| ctx(NetError::from_io(e, Phase::Handshake)))?;
    let mut framed = Framed::new(stream, DEFAULT_MAX_FRAME_LEN);
    match party {
        Party::P1 => framed.send(READY).map_err(ctx)?,
        Party::P2 => {
            let mut buf = [0u8; 64];
            let got = match framed.recv(&mut buf) {
                Ok(got) => got,
                Err(NetError::Transport(TransportError::FrameTooLarge { len, .. })) => {
                    return Err(TransportError::UnexpectedPeer {
                        detail: format!("its first message announces {len} bytes"),
                    }
                    .into());
                }
                Err(e) => return Err(ctx(e)),
            };
            if got != READY {
                return Err(TransportError::UnexpectedPeer {
                    detail: format!("its first message is {} unexpected bytes", got.len()),
                }
                .into());
            }
        }
    }
    framed
        .get_ref()
        .set_timeouts(timeout)
        .map_err(|e| ctx(NetError::from_io(e, Phase::Handshake)))?;
    Ok(Channel::new(framed, info, timeout, ca_file.to_path_buf()))
}
