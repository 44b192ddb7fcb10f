//! Connections that are no ecdsa2pc session, as the internet sends them: for load tests and
//! tests of the service's accept loop (a service must log and drop each and keep serving).

use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, ClientConnection};

use crate::error::NetError;
use crate::{pem, tls};

/// Plain TCP: connects, sends an HTTP request line, waits briefly for anything, closes.
///
/// # Errors
/// If the connection cannot be made.
pub fn plain_tcp(addr: &str) -> Result<(), NetError> {
    let mut s = TcpStream::connect(addr).map_err(io_err)?;
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let _ = s.read(&mut [0u8; 64]);
    Ok(())
}

/// A TLS client that trusts the CA at `ca` but has no client certificate: runs the handshake
/// as far as the server lets it and reads until the server's verdict. Returns whether the
/// server sent any application data (it must not).
///
/// # Errors
/// If the CA cannot be loaded or the connection cannot be made.
pub fn tls_without_certificate(addr: &str, ca: &Path, timeout: Duration) -> Result<bool, NetError> {
    let roots = pem::load_roots(ca)?;
    let config = ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| io_err(std::io::Error::other(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = tls::server_name_for(addr)?;
    let mut conn = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| io_err(std::io::Error::other(e)))?;
    let mut sock = TcpStream::connect(addr).map_err(io_err)?;
    let _ = sock.set_read_timeout(Some(timeout));
    let _ = sock.set_write_timeout(Some(timeout));
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            return Ok(false);
        }
    }
    let mut stream = rustls::Stream::new(&mut conn, &mut sock);
    Ok(matches!(stream.read(&mut [0u8; 64]), Ok(n) if n > 0))
}

/// A client that connects and says nothing for `hold` (a stalled handshake, slow loris).
///
/// # Errors
/// If the connection cannot be made.
pub fn stalled(addr: &str, hold: Duration) -> Result<(), NetError> {
    let s = TcpStream::connect(addr).map_err(io_err)?;
    std::thread::sleep(hold);
    drop(s);
    Ok(())
}

fn io_err(source: std::io::Error) -> NetError {
    crate::TransportError::Io {
        phase: crate::Phase::Connect,
        source,
    }
    .into()
}
