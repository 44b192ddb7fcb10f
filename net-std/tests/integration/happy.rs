//! Successful mutual-TLS sessions.

use std::thread;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{NetError, Transport, TransportError, connect, listen_and_accept};

use crate::support::{OK_TIMEOUT, certs, free_port, openssl_spki_sha256, party, serve};

#[test]
fn mtls_happy_path_exchanges_frames_and_agrees_on_session() {
    let dir = certs("happy");
    let big: Vec<u8> = (0..100_000u32).map(|i| i.to_le_bytes()[0]).collect();
    let big_for_server = big.clone();
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, move |mut ch| {
        let mut buf = vec![0u8; 200_000];
        assert_eq!(ch.recv(&mut buf).unwrap(), b"hello from party 1");
        ch.send(b"hello from party 0").unwrap();
        assert_eq!(ch.recv(&mut buf).unwrap(), &big_for_server[..]);
        ch.send(b"").unwrap();
        // The client closes with close_notify: a clean end between messages.
        let end = ch.recv(&mut buf).unwrap_err();
        assert!(
            matches!(
                end,
                NetError::Transport(TransportError::PeerClosed {
                    mid_message: false,
                    ..
                })
            ),
            "{end:?}"
        );
        ch.info().clone()
    });
    let mut client = connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    client.send(b"hello from party 1").unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(client.recv(&mut buf).unwrap(), b"hello from party 0");
    client.send(&big).unwrap();
    assert_eq!(client.recv(&mut buf).unwrap(), b"");
    let c = client.info().clone();
    client.close().unwrap();
    let s = server.join().unwrap().unwrap();

    assert_eq!((s.party, c.party), (Party::P1, Party::P2));
    assert_eq!(c.peer_pid, s.own_pid);
    assert_eq!(s.peer_pid, c.own_pid);
    assert_ne!(c.own_pid, c.peer_pid);
    assert_eq!(c.channel_binding, s.channel_binding);
    assert_ne!(c.channel_binding, [0u8; 32]);
    assert_eq!((c.tls_version, s.tls_version), ("TLSv1.3", "TLSv1.3"));
    assert_eq!(c.cipher_suite, s.cipher_suite);
    assert!(c.cipher_suite.starts_with("TLS13_"), "{}", c.cipher_suite);
    assert_eq!(c.peer_subject, "CN=localhost");
    assert_eq!(s.peer_subject, "CN=client1");
    assert_eq!(c.own_subject, "CN=client1");
    // pid = SHA-256 of the SubjectPublicKeyInfo, cross-checked with openssl.
    assert_eq!(
        s.own_pid,
        openssl_spki_sha256(&dir.path().join("server-cert.pem"))
    );
    assert_eq!(
        c.own_pid,
        openssl_spki_sha256(&dir.path().join("client1-cert.pem"))
    );
}

#[test]
fn each_connection_has_its_own_channel_binding() {
    let dir = certs("binding");
    let mut bindings = Vec::new();
    for _ in 0..2 {
        let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, |ch| {
            ch.info().channel_binding
        });
        let client = connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
        let server_binding = server.join().unwrap().unwrap();
        assert_eq!(client.info().channel_binding, server_binding);
        bindings.push(server_binding);
    }
    assert_ne!(bindings[0], bindings[1]);
}

#[test]
fn listen_and_accept_with_dns_server_name() {
    let dir = certs("dnsname");
    let port = free_port();
    let server_paths = party(&dir, Party::P1);
    let server = thread::spawn(move || {
        listen_and_accept(&format!("127.0.0.1:{port}"), &server_paths, OK_TIMEOUT)
    });
    // "localhost" is verified as a DNS name against the certificate's SAN.
    let mut client = connect(
        &format!("localhost:{port}"),
        &party(&dir, Party::P2),
        OK_TIMEOUT,
    )
    .unwrap();
    let mut server = server.join().unwrap().unwrap();
    server.send(b"x").unwrap();
    assert_eq!(client.recv(&mut [0u8; 4]).unwrap(), b"x");
    assert_eq!(client.info().peer_subject, "CN=localhost");
}

#[test]
fn other_identity_from_the_same_ca_is_accepted_with_its_own_pid() {
    // TLS accepts any certificate of the CA; pinning the peer's pid is the job of the
    // key-share layer, which needs the distinct pid seen here.
    let dir = certs("extra");
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, |ch| ch.info().clone());
    let mut paths = party(&dir, Party::P2);
    paths.cert = dir.path().join("other-cert.pem");
    paths.key = dir.path().join("other-key.pem");
    let client = connect(&addr, &paths, OK_TIMEOUT).unwrap();
    let s = server.join().unwrap().unwrap();
    assert_eq!(s.peer_subject, "CN=other");
    assert_eq!(s.peer_pid, client.info().own_pid);
    assert_ne!(
        s.peer_pid,
        openssl_spki_sha256(&dir.path().join("client1-cert.pem"))
    );
}

#[test]
fn tls12_client_gets_the_same_channel_binding_and_ready_frame() {
    use std::net::TcpStream;
    use std::sync::Arc;

    use ecdsa2pc_net::{CHANNEL_BINDING_LABEL, pem, read_frame, tls};
    use rustls::{ClientConfig, ClientConnection, Stream};
    use rustls_pki_types::ServerName;

    let dir = certs("tls12");
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, |ch| ch.info().clone());
    let paths = party(&dir, Party::P2);
    let config = ClientConfig::builder_with_provider(tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(pem::load_roots(&paths.ca).unwrap())
        .with_client_auth_cert(
            pem::load_certs(&paths.cert).unwrap(),
            pem::load_key(&paths.key).unwrap(),
        )
        .unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(&addr).unwrap();
    sock.set_read_timeout(Some(OK_TIMEOUT)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    let mut buf = [0u8; 64];
    let ready = read_frame(&mut Stream::new(&mut conn, &mut sock), &mut buf).unwrap();
    assert_eq!(ready, b"ecdsa2pc-net ready v1");
    let binding = conn
        .export_keying_material([0u8; 32], CHANNEL_BINDING_LABEL, None)
        .unwrap();
    let s = server.join().unwrap().unwrap();
    assert_eq!(s.tls_version, "TLSv1.2");
    assert_eq!(s.channel_binding, binding);
    assert!(
        s.cipher_suite.starts_with("TLS_ECDHE_ECDSA_"),
        "{}",
        s.cipher_suite
    );
}
