//! Certificate problems are reported at connect time with a classified TlsProblem.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{NetError, TlsProblem, connect, pem};
use rustls::{ClientConfig, ClientConnection};
use rustls_pki_types::ServerName;

use crate::support::{OK_TIMEOUT, certs, party, serve};

fn tls(err: &NetError) -> &ecdsa2pc_net::TlsError {
    match err {
        NetError::Tls(f) => f,
        other => panic!("expected a TLS error, got {other:?}: {other}"),
    }
}

#[test]
fn client_certificate_from_another_ca_is_rejected_by_party_0() {
    let (a, b) = (certs("ca-a"), certs("ca-b"));
    let (addr, server) = serve(party(&a, Party::P1), OK_TIMEOUT, |_| ());
    let mut client_paths = party(&b, Party::P2);
    client_paths.ca = party(&a, Party::P2).ca; // the client trusts party 0, but its cert is from CA b
    let client_err = connect(&addr, &client_paths, OK_TIMEOUT).unwrap_err();
    let server_err = server.join().unwrap().unwrap_err();

    let s = tls(&server_err);
    assert_eq!(s.problem(), &TlsProblem::UnknownCa, "{server_err}");
    assert!(!s.reported_by_peer());
    let msg = server_err.to_string();
    assert!(
        msg.contains("not signed by our CA") && msg.contains("ca-cert.pem"),
        "{msg}"
    );
    assert!(msg.contains("same CA"), "{msg}");
    // Party 1 learns it at connect time (from the alert), not at its first message.
    let c = tls(&client_err);
    assert_eq!(c.problem(), &TlsProblem::UnknownCa, "{client_err}");
    assert!(c.reported_by_peer());
}

/// A TLS failure while another connection is being opened (here an idle socket) does not
/// end party 0's wait at once: the other might be party 1. A party 1 of the right CA that
/// comes meanwhile is accepted; with none, party 0 reports the TLS failure (not the idle
/// socket's timeout) once the idle socket has timed out.
#[test]
fn a_tls_failure_beside_another_opening_waits_for_it_and_is_reported_last() {
    let (a, b) = (certs("ca-a3"), certs("ca-b3"));
    let mut stranger = party(&b, Party::P2);
    stranger.ca = party(&a, Party::P2).ca;
    // Party 1 comes after the stranger: accepted.
    let (addr, server) = serve(party(&a, Party::P1), OK_TIMEOUT, |_| ());
    let idle = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let e = connect(&addr, &stranger, OK_TIMEOUT).unwrap_err();
    assert_eq!(tls(&e).problem(), &TlsProblem::UnknownCa, "{e}");
    connect(&addr, &party(&a, Party::P2), OK_TIMEOUT).unwrap();
    server.join().unwrap().unwrap();
    drop(idle);
    // No party 1: the TLS failure, once the idle socket is gone at its timeout.
    let timeout = Duration::from_secs(3);
    let (addr, server) = serve(party(&a, Party::P1), timeout, |_| ());
    let idle = TcpStream::connect(&addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let _ = connect(&addr, &stranger, OK_TIMEOUT).unwrap_err();
    let server_err = server.join().unwrap().unwrap_err();
    assert_eq!(
        tls(&server_err).problem(),
        &TlsProblem::UnknownCa,
        "{server_err}"
    );
    drop(idle);
}

#[test]
fn server_certificate_from_another_ca_is_rejected_by_party_1() {
    let (a, b) = (certs("ca-a2"), certs("ca-b2"));
    let mut server_paths = party(&b, Party::P1);
    server_paths.ca = party(&a, Party::P1).ca;
    let (addr, server) = serve(server_paths, OK_TIMEOUT, |_| ());
    let client_err = connect(&addr, &party(&a, Party::P2), OK_TIMEOUT).unwrap_err();
    let server_err = server.join().unwrap().unwrap_err();

    let c = tls(&client_err);
    assert_eq!(c.problem(), &TlsProblem::UnknownCa, "{client_err}");
    assert!(!c.reported_by_peer());
    assert!(client_err.to_string().contains("not signed by our CA"));
    assert!(
        matches!(c.rustls_error(), rustls::Error::InvalidCertificate(_)),
        "source kept: {:?}",
        c.rustls_error()
    );
    tls(&server_err);
}

#[test]
fn client_without_certificate_is_refused() {
    let dir = certs("nocert");
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, |_| ());
    // A client that trusts the CA but has no client certificate.
    let roots = pem::load_roots(&party(&dir, Party::P2).ca).unwrap();
    let config = ClientConfig::builder_with_provider(ecdsa2pc_net::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn =
        ClientConnection::new(Arc::new(config), ServerName::try_from("127.0.0.1").unwrap())
            .unwrap();
    let mut sock = TcpStream::connect(&addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            break;
        }
    }
    // Read until the server's verdict arrives (an alert) or the socket ends.
    let mut stream = rustls::Stream::new(&mut conn, &mut sock);
    let client_result = stream.read(&mut [0u8; 64]);
    let server_err = server.join().unwrap().unwrap_err();

    assert_eq!(
        tls(&server_err).problem(),
        &TlsProblem::NoClientCertificate,
        "{server_err}"
    );
    let msg = server_err.to_string();
    assert!(msg.contains("without a client certificate"), "{msg}");
    assert!(
        client_result.is_err(),
        "the client must not get data: {client_result:?}"
    );
    let _ = stream.flush();
}

#[test]
fn server_certificate_used_as_client_certificate_is_refused() {
    let dir = certs("purpose");
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, |_| ());
    let mut client_paths = party(&dir, Party::P2);
    let server_paths = party(&dir, Party::P1);
    client_paths.cert = server_paths.cert;
    client_paths.key = server_paths.key;
    let client_err = connect(&addr, &client_paths, OK_TIMEOUT).unwrap_err();
    let server_err = server.join().unwrap().unwrap_err();

    assert_eq!(
        tls(&server_err).problem(),
        &TlsProblem::WrongPurpose,
        "{server_err}"
    );
    assert!(
        server_err
            .to_string()
            .contains("party 1 must use a client certificate (client1-cert.pem)")
    );
    let c = tls(&client_err);
    assert_eq!(c.problem(), &TlsProblem::WrongPurpose, "{client_err}");
    assert!(c.reported_by_peer());
    assert!(
        client_err.to_string().contains("client1-cert.pem"),
        "{client_err}"
    );
}

/// A one-shot party 0 opens the connections that arrive side by side: an idle socket (a
/// port scan that holds it) and a client stalled half-way through its ClientHello, both
/// there first, do not keep party 1 waiting until their handshake timeout (which, with one
/// connection opened at a time, ended the wait with a handshake timeout instead).
#[test]
fn idle_and_stalled_connections_do_not_keep_party_1_waiting() {
    let dir = certs("stalled-first");
    let listener = ecdsa2pc_net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let paths = party(&dir, Party::P1);
    let server = std::thread::spawn(move || {
        listener
            .accept(&paths, OK_TIMEOUT)
            .map(|ch| ch.info().peer_subject.clone())
    });
    let idle = TcpStream::connect(&addr).unwrap();
    let mut stalled = TcpStream::connect(&addr).unwrap();
    // A handshake record's header announcing 512 bytes, then nothing.
    stalled
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = std::time::Instant::now();
    connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    let accepted = server.join().unwrap();
    assert!(accepted.unwrap().contains("client1"));
    assert!(
        start.elapsed() < OK_TIMEOUT / 2,
        "party 1 waited {:?}",
        start.elapsed()
    );
    drop((idle, stalled));
}

/// A one-shot party 0 goes past stray connections (an HTTP request, a port scan that
/// connects and closes) and keeps waiting for party 1, telling the caller of each; party 1
/// then connects as usual. A TLS client of another CA still ends the wait (see
/// `client_certificate_from_another_ca_is_rejected_by_party_0`).
#[test]
fn stray_connections_are_skipped_and_party_1_is_still_accepted() {
    let dir = certs("stray");
    let listener = ecdsa2pc_net::listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let paths = party(&dir, Party::P1);
    let server = std::thread::spawn(move || {
        let mut skipped = Vec::new();
        let ch = listener.accept_skipping(&paths, OK_TIMEOUT, &mut |peer, e| {
            skipped.push(format!("{peer}: {e}"));
        });
        (ch.map(|ch| ch.info().peer_subject.clone()), skipped)
    });
    let mut http = TcpStream::connect(&addr).unwrap();
    http.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    let _ = http.read_to_end(&mut reply);
    drop(TcpStream::connect(&addr).unwrap());
    std::thread::sleep(Duration::from_millis(200));
    connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    let (accepted, skipped) = server.join().unwrap();
    assert!(accepted.is_ok(), "{accepted:?} after {skipped:#?}");
    assert_eq!(skipped.len(), 2, "{skipped:#?}");
    assert!(skipped[0].contains("not TLS"), "{skipped:#?}");
}

/// A TLS server with a certificate party 1 trusts, which then sends something other than
/// party 0's ready message (other bytes, or a frame longer than any ready message), is
/// named as a peer that is not an ecdsa2pc party of this version, not as a network error.
#[test]
fn a_tls_server_that_is_no_ecdsa2pc_party_is_named_as_such() {
    use ecdsa2pc_net::{TransportError, write_frame};
    use rustls::{ServerConfig, ServerConnection, StreamOwned};
    use std::net::TcpListener;

    let dir = certs("unexpected-peer");
    let server = party(&dir, Party::P1);
    let config = Arc::new(
        ServerConfig::builder_with_provider(ecdsa2pc_net::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                pem::load_certs(&server.cert).unwrap(),
                pem::load_key(&server.key).unwrap(),
            )
            .unwrap(),
    );
    let mut too_long = 1000u32.to_be_bytes().to_vec();
    too_long.resize(1004, 0);
    let mut other = Vec::new();
    write_frame(&mut other, b"HTTP/1.1 200 OK", 64).unwrap();
    for (first, detail) in [
        (other, "its first message is 15 unexpected bytes"),
        (too_long, "its first message announces 1000 bytes"),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let config = Arc::clone(&config);
        let peer = std::thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let conn = ServerConnection::new(config).unwrap();
            let mut tls = StreamOwned::new(conn, sock);
            tls.write_all(&first).unwrap();
            tls.flush().unwrap();
            // Until party 1 hangs up.
            let _ = tls.read(&mut [0u8; 1]);
        });
        let err = connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap_err();
        peer.join().unwrap();
        assert!(
            matches!(&err, NetError::Transport(TransportError::UnexpectedPeer { detail: d }) if d == detail),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("the peer completed TLS but is not an ecdsa2pc party of this version"),
            "{err}"
        );
    }
}
