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
use crate::framing::{FRAME_HEADER_LEN, write_frame};
use crate::identity::{pid_of_cert, subject_of_cert};
use crate::readiness::Interest;
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
    linger_until(sock, Instant::now() + LINGER);
}

/// Reads and drops the input of the blocking `sock` until the peer closes or `until`.
fn linger_until(sock: &TcpStream, until: Instant) {
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
    match stream {
        TlsStream::Server(s) => session_info_of(&s.conn, &s.sock, party, own),
        TlsStream::Client(s) => session_info_of(&s.conn, &s.sock, party, own),
    }
}

/// [`session_info`] of a connection and its socket, before or after they become a stream.
fn session_info_of<D>(
    conn: &ConnectionCommon<D>,
    sock: &TcpStream,
    party: Party,
    own: &OwnIdentity,
) -> Result<SessionInfo, NetError> {
    let state: &rustls::CommonState = conn;
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
    let channel_binding = conn
        .export_keying_material([0u8; 32], CHANNEL_BINDING_LABEL, None)
        .map_err(tls)?;
    let peer_addr = sock
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
    finish(stream, &setup.own, &setup.ca_file, deadline, timeout)
}

/// Party 0's opening of one accepted connection on a non-blocking socket: the TLS handshake,
/// [`READY`] and the client's first frame, each step taken when the socket is ready for it
/// ([`ServerOpening::advance`]). One thread opens any number of connections this way, so a
/// client that stalls its handshake or its first frame holds a socket and its TLS state
/// until its deadline, not a thread. Party 0 opens every connection this way: the service
/// ([`crate::service`]) and the one-shot listener ([`crate::Listener::accept`]) alike.
pub(crate) struct ServerOpening<'s> {
    sock: TcpStream,
    conn: ServerConnection,
    setup: &'s ServerSetup,
    deadline: Instant,
    timeout: Duration,
    /// The session facts, once the handshake is complete and [`READY`] is queued.
    info: Option<SessionInfo>,
    /// The first frame so far: its header, then its body.
    first: Vec<u8>,
    /// The longest first frame to read; `None`: the opening ends once [`READY`] is sent,
    /// and the caller reads the first frame from the channel.
    max_first: Option<usize>,
}

/// How a [`ServerOpening`] ended ([`ServerOpening::advance`], [`ServerOpening::expire`]).
pub(crate) enum OpeningEnd {
    /// Handshake done, [`READY`] sent, the first frame read if asked for: the channel
    /// (blocking again, with the opening's timeout) and the frame, or
    /// [`TransportError::FrameTooLarge`] if it announced more than the opening's limit (its
    /// body unread); `None` if the opening was not to read it.
    Opened(Box<Channel>, Option<Result<Vec<u8>, NetError>>),
    /// Failed.
    Failed(Box<OpeningFailure>),
}

/// Why and where an opening failed.
pub(crate) struct OpeningFailure {
    /// The error, with the timeout and our CA file where they explain it.
    pub(crate) error: NetError,
    /// The session facts, if the handshake had completed.
    pub(crate) info: Option<SessionInfo>,
    /// After a TLS error, the socket, to close once the peer has read our alert.
    pub(crate) linger: Option<Lingering>,
}

/// [`OpeningEnd::Failed`].
fn failed(error: NetError, info: Option<SessionInfo>, linger: Option<Lingering>) -> OpeningEnd {
    OpeningEnd::Failed(Box::new(OpeningFailure {
        error,
        info,
        linger,
    }))
}

/// A socket closed for writing after a TLS error, whose input is read and dropped until
/// the peer closes or [`LINGER`] has passed, as [`linger_close`] does, without blocking:
/// closing it with unread input would send a reset that can make the peer lose our alert.
pub(crate) struct Lingering {
    sock: TcpStream,
    until: Instant,
}

impl Lingering {
    fn new(sock: TcpStream) -> Self {
        let _ = sock.shutdown(Shutdown::Write);
        Self {
            sock,
            until: Instant::now() + LINGER,
        }
    }

    /// The socket, to wait on for input.
    pub(crate) fn sock(&self) -> &TcpStream {
        &self.sock
    }

    /// When to close it whatever the peer does.
    pub(crate) fn until(&self) -> Instant {
        self.until
    }

    /// Lingers on the calling thread, blocking, until the peer closes or the time is up,
    /// then closes: for a caller that has nothing else to do.
    pub(crate) fn wait_out(self) {
        if self.sock.set_nonblocking(false).is_ok() {
            linger_until(&self.sock, self.until);
        }
    }

    /// Reads and drops what has arrived (at most [`MAX_DRAIN`] at a time: a peer that
    /// sends without pause must not hold the caller); `false` once the peer has closed, the
    /// socket failed or the time is up: then drop it.
    pub(crate) fn drain(&mut self) -> bool {
        let mut scratch = [0u8; 2048];
        for _ in 0..MAX_DRAIN / scratch.len() {
            if Instant::now() >= self.until {
                return false;
            }
            match self.sock.read(&mut scratch) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

/// Most bytes one [`Lingering::drain`] reads.
const MAX_DRAIN: usize = 64 * 1024;

impl<'s> ServerOpening<'s> {
    /// Starts opening `sock`, fresh from `accept`: everything must be done within `timeout`;
    /// the first frame may be at most `max_first` bytes long (`None`: the opening ends with
    /// [`READY`] sent, and does not read it).
    ///
    /// # Errors
    /// The socket cannot be made non-blocking; rustls refuses the configuration.
    pub(crate) fn new(
        sock: TcpStream,
        setup: &'s ServerSetup,
        timeout: Duration,
        max_first: Option<usize>,
    ) -> Result<Self, NetError> {
        let deadline = Instant::now() + timeout;
        let io = |e| NetError::from_io(e, Phase::Handshake);
        sock.set_nonblocking(true).map_err(io)?;
        sock.set_nodelay(true).map_err(io)?;
        let conn = ServerConnection::new(setup.config.clone()).map_err(|e| {
            in_context(
                NetError::from(TlsError::new(e)),
                Party::P1,
                &setup.ca_file,
                timeout,
            )
        })?;
        Ok(Self {
            sock,
            conn,
            setup,
            deadline,
            timeout,
            info: None,
            first: Vec::new(),
            max_first,
        })
    }

    /// The session facts, once the handshake is complete.
    pub(crate) fn info(&self) -> Option<&SessionInfo> {
        self.info.as_ref()
    }

    /// When the opening fails if it has not completed.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The failure of an opening whose deadline has passed: a handshake timeout, or a
    /// request that did not arrive in time.
    fn expire(self) -> OpeningEnd {
        let err = match self.info {
            None => self.contextualize(NetError::from_io(
                io::Error::new(io::ErrorKind::TimedOut, "handshake deadline passed"),
                Phase::Handshake,
            )),
            Some(_) => NetError::from(TransportError::Timeout {
                phase: Phase::Recv,
                after: Some(self.timeout),
            }),
        };
        failed(err, self.info, None)
    }

    /// Takes every step the socket allows now: writes what rustls has queued, reads and
    /// processes what has arrived, queues [`READY`] once the handshake is complete, and reads
    /// the first frame's bytes. Returns the opening while it waits for the socket, or how it
    /// ended.
    fn advance(mut self) -> Result<Self, OpeningEnd> {
        loop {
            while self.conn.wants_write() {
                match self.conn.write_tls(&mut self.sock) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(self);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.fail_io(e)),
                }
            }
            if self.info.is_none() && !self.conn.is_handshaking() {
                self.info = Some(self.start_session()?);
                continue;
            }
            if self.info.is_some() {
                // Every queued byte is written (else the loop above has returned): READY
                // is sent.
                let Some(max_first) = self.max_first else {
                    return Err(self.opened());
                };
                match self.read_first(max_first) {
                    Ok(true) => return Err(self.opened()),
                    Ok(false) => {}
                    Err(e) => return Err(e),
                }
            }
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => {
                    // A probe that connected and left, or a client gone between messages,
                    // is not a message cut in half.
                    let err = TransportError::PeerClosed {
                        phase: self.phase(),
                        mid_message: self.info.is_some() && !self.first.is_empty(),
                    };
                    return Err(failed(self.contextualize(err.into()), self.info, None));
                }
                Ok(_) => {
                    if let Err(e) = self.conn.process_new_packets() {
                        return Err(self.fail_tls(e));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(self),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail_io(e)),
            }
        }
    }

    /// One turn of an opening loop: advances the opening if its socket is `ready` (see
    /// [`ServerOpening::advance`]), and ends it with [`ServerOpening::expire`] if it is still
    /// waiting at its deadline.
    pub(crate) fn step(self, ready: bool) -> Result<Self, OpeningEnd> {
        let opening = if ready { self.advance()? } else { self };
        if Instant::now() < opening.deadline {
            Ok(opening)
        } else {
            Err(opening.expire())
        }
    }

    /// What to wait for before the next [`ServerOpening::step`]: room to write while a write
    /// would block (its input can wait, and waking for input it will not read before it has
    /// written would spin), else input.
    pub(crate) fn interest(&self) -> Interest<'_> {
        Interest {
            sock: &self.sock,
            write: self.conn.wants_write(),
        }
    }

    /// The handshake is complete: the session facts, and [`READY`] queued.
    fn start_session(&mut self) -> Result<SessionInfo, OpeningEnd> {
        let info = session_info_of(&self.conn, &self.sock, Party::P1, &self.setup.own)
            .map_err(|e| failed(self.contextualize(e), None, None))?;
        let mut frame = Vec::with_capacity(READY.len() + FRAME_HEADER_LEN);
        write_frame(&mut frame, READY, DEFAULT_MAX_FRAME_LEN)
            .and_then(|()| {
                self.conn
                    .writer()
                    .write_all(&frame)
                    .map_err(|e| NetError::from_io(e, Phase::Handshake))
            })
            .map_err(|e| failed(self.contextualize(e), Some(info.clone()), None))?;
        Ok(info)
    }

    /// Reads the first frame's bytes that rustls holds; `true` once it is complete (or
    /// announced too long: then its body is never read).
    fn read_first(&mut self, max_first: usize) -> Result<bool, OpeningEnd> {
        loop {
            let need = match announced(&self.first) {
                None => FRAME_HEADER_LEN - self.first.len(),
                Some(len) if len > max_first => return Ok(true),
                Some(len) => FRAME_HEADER_LEN + len - self.first.len(),
            };
            if need == 0 {
                return Ok(true);
            }
            let mut chunk = [0u8; 512];
            let want = need.min(chunk.len());
            let Some(chunk) = chunk.get_mut(..want) else {
                return Ok(false);
            };
            match self.conn.reader().read(chunk) {
                Ok(0) => {
                    let err = TransportError::PeerClosed {
                        phase: Phase::Recv,
                        mid_message: !self.first.is_empty(),
                    };
                    return Err(failed(err.into(), self.info.clone(), None));
                }
                Ok(n) => self
                    .first
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => {
                    let err = NetError::from_io(e, Phase::Recv);
                    return Err(failed(err, self.info.clone(), None));
                }
            }
        }
    }

    /// The opened channel and the first frame.
    fn opened(self) -> OpeningEnd {
        let Self {
            sock,
            conn,
            setup,
            timeout,
            info,
            first,
            max_first,
            ..
        } = self;
        let Some(info) = info else {
            return failed(
                TransportError::Timeout {
                    phase: Phase::Handshake,
                    after: Some(timeout),
                }
                .into(),
                None,
                None,
            );
        };
        let frame = max_first.map(|max| match announced(&first) {
            Some(len) if len > max => Err(TransportError::FrameTooLarge { len, max }.into()),
            _ => Ok(first.get(FRAME_HEADER_LEN..).unwrap_or_default().to_vec()),
        });
        if let Err(e) = sock.set_nonblocking(false) {
            return failed(NetError::from_io(e, Phase::Recv), Some(info), None);
        }
        let stream = TlsStream::Server(Box::new(StreamOwned::new(conn, sock)));
        if let Err(e) = stream.set_timeouts(timeout) {
            return failed(NetError::from_io(e, Phase::Recv), Some(info), None);
        }
        let framed = Framed::new(stream, DEFAULT_MAX_FRAME_LEN);
        let ch = Channel::new(framed, info, timeout, setup.ca_file.clone());
        OpeningEnd::Opened(Box::new(ch), frame)
    }

    fn phase(&self) -> Phase {
        if self.info.is_some() {
            Phase::Recv
        } else {
            Phase::Handshake
        }
    }

    /// Adds the timeout, our party and CA file to an error of the handshake.
    fn contextualize(&self, err: NetError) -> NetError {
        if self.info.is_some() {
            return err.with_timeout(self.timeout);
        }
        in_context(err, Party::P1, &self.setup.ca_file, self.timeout)
    }

    fn fail_io(self, e: io::Error) -> OpeningEnd {
        let err = self.contextualize(NetError::from_io(e, self.phase()));
        failed(err, self.info, None)
    }

    /// A TLS error: sends the alert rustls has queued (as far as the socket takes it), then
    /// lingers so that the peer reads it.
    fn fail_tls(mut self, e: rustls::Error) -> OpeningEnd {
        while self.conn.wants_write() {
            if !matches!(self.conn.write_tls(&mut self.sock), Ok(n) if n > 0) {
                break;
            }
        }
        let err = self.contextualize(TlsError::new(e).into());
        failed(err, self.info, Some(Lingering::new(self.sock)))
    }
}

/// The announced length of a frame whose first bytes are `first`, once its header is in.
fn announced(first: &[u8]) -> Option<usize> {
    let header: [u8; FRAME_HEADER_LEN] = first.get(..FRAME_HEADER_LEN)?.try_into().ok()?;
    Some(usize::try_from(u32::from_be_bytes(header)).unwrap_or(usize::MAX))
}

/// Party 1: receives [`READY`] before `deadline`, then switches the socket to the
/// per-operation `timeout`. (Party 0 sends it from its [`ServerOpening`].)
fn finish(
    stream: TlsStream,
    own: &OwnIdentity,
    ca_file: &Path,
    deadline: Instant,
    timeout: Duration,
) -> Result<Channel, NetError> {
    let party = Party::P2;
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
    framed
        .get_ref()
        .set_timeouts(timeout)
        .map_err(|e| ctx(NetError::from_io(e, Phase::Handshake)))?;
    Ok(Channel::new(framed, info, timeout, ca_file.to_path_buf()))
}
