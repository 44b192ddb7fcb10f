//! [`Channel`]: an authenticated mutual-TLS connection carrying framed messages.

use core::fmt;
use core::time::Duration;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Instant;

use rustls::{ClientConnection, ServerConnection, StreamOwned};

use crate::error::{NetError, Phase};
use crate::framing::read_frame;
use crate::session::SessionInfo;
use crate::transport::{Framed, Transport};

/// A rustls stream of either side.
#[derive(Debug)]
pub(crate) enum TlsStream {
    /// Party 0's end.
    Server(Box<StreamOwned<ServerConnection, TcpStream>>),
    /// Party 1's end.
    Client(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl TlsStream {
    pub(crate) fn sock(&self) -> &TcpStream {
        match self {
            Self::Server(s) => s.get_ref(),
            Self::Client(s) => s.get_ref(),
        }
    }

    /// Sets the read and write timeouts of the socket.
    pub(crate) fn set_timeouts(&self, timeout: Duration) -> io::Result<()> {
        let t = Some(timeout.max(Duration::from_millis(1)));
        self.sock().set_read_timeout(t)?;
        self.sock().set_write_timeout(t)
    }

    fn send_close_notify(&mut self) {
        match self {
            Self::Server(s) => s.conn.send_close_notify(),
            Self::Client(s) => s.conn.send_close_notify(),
        }
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Server(s) => s.read(buf),
            Self::Client(s) => s.read(buf),
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Server(s) => s.write(buf),
            Self::Client(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Server(s) => s.flush(),
            Self::Client(s) => s.flush(),
        }
    }
}

/// An established mutual-TLS connection to the other party, made by
/// [`connect`](crate::connect) or [`Listener::accept`](crate::Listener::accept).
///
/// It sends and receives framed messages ([`Transport`]); every blocking operation ends
/// within the timeout (a stalled peer gives [`TransportError::Timeout`](crate::TransportError::Timeout)). After any error the
/// channel must be dropped.
pub struct Channel {
    framed: Framed<TlsStream>,
    info: SessionInfo,
    timeout: Duration,
    ca_file: PathBuf,
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("info", &self.info)
            .field("timeout", &self.timeout)
            .field("max_frame_len", &self.framed.max_len())
            .finish_non_exhaustive()
    }
}

impl Channel {
    pub(crate) fn new(
        framed: Framed<TlsStream>,
        info: SessionInfo,
        timeout: Duration,
        ca_file: PathBuf,
    ) -> Self {
        Self {
            framed,
            info,
            timeout,
            ca_file,
        }
    }

    /// The socket under the channel.
    pub(crate) fn sock(&self) -> &TcpStream {
        self.framed.get_ref().sock()
    }

    /// Identities, channel binding and parameters of this connection.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The timeout of every blocking send or receive.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Changes the timeout of every later send or receive (e.g. to wait for a peer that
    /// performs a long computation).
    pub fn set_timeout(&mut self, timeout: Duration) -> Result<(), NetError> {
        self.framed
            .get_ref()
            .set_timeouts(timeout)
            .map_err(|e| NetError::from_io(e, Phase::Recv))?;
        self.timeout = timeout;
        Ok(())
    }

    /// The largest message accepted or sent
    /// ([`DEFAULT_MAX_FRAME_LEN`](crate::DEFAULT_MAX_FRAME_LEN) unless changed).
    pub fn max_frame_len(&self) -> usize {
        self.framed.max_len()
    }

    /// Changes the largest message accepted or sent; set it to the largest message of
    /// the protocol.
    pub fn set_max_frame_len(&mut self, max_len: usize) {
        self.framed.set_max_len(max_len);
    }

    /// Ends the session cleanly: sends TLS `close_notify` and closes the connection. The
    /// peer's next receive then fails with
    /// [`TransportError::PeerClosed`](crate::TransportError::PeerClosed).
    pub fn close(mut self) -> Result<(), NetError> {
        let stream = self.framed.get_mut();
        stream.send_close_notify();
        let flushed = stream.flush();
        let _ = stream.sock().shutdown(std::net::Shutdown::Write);
        flushed.map_err(|e| self.contextualize(NetError::from_io(e, Phase::Close)))
    }

    /// Adds what only the channel knows to an error: the timeout, our party, the CA file.
    pub(crate) fn contextualize(&self, err: NetError) -> NetError {
        match err.with_timeout(self.timeout) {
            NetError::Tls(failure) => NetError::Tls(Box::new(
                failure.with_context(self.info.party, &self.ca_file),
            )),
            other => other,
        }
    }
}

impl Transport for Channel {
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError> {
        self.framed.send(msg).map_err(|e| self.contextualize(e))
    }

    /// The whole message must arrive within the timeout: a peer that sends one byte per
    /// timeout period cannot hold the receive open (a per-read timeout alone would let it).
    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
        let cap = buf.len().min(self.framed.max_len());
        let (usable, _) = buf.split_at_mut(cap);
        let mut reader = Deadline {
            stream: self.framed.get_mut(),
            deadline: Instant::now() + self.timeout,
        };
        let result = read_frame(&mut reader, usable);
        // Deadline shortened the socket's read timeout; put the per-operation one back.
        let _ = self.framed.get_ref().set_timeouts(self.timeout);
        result.map_err(|e| self.contextualize(e))
    }
}

/// Reads from the TLS stream with the socket's read timeout cut to what is left before
/// `deadline`; once it has passed, reads fail with [`io::ErrorKind::TimedOut`].
struct Deadline<'a> {
    stream: &'a mut TlsStream,
    deadline: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the message did not arrive within the timeout",
            ));
        }
        self.stream
            .sock()
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        self.stream.read(buf)
    }
}
