//! Connecting: retries, start order, timeouts, address in use.

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{
    NetError, Phase, Transport, TransportError, connect, listen, listen_and_accept,
};

use crate::support::{OK_TIMEOUT, certs, free_port, party};

#[test]
fn connect_without_server_gives_connect_timeout_after_the_timeout() {
    let dir = certs("refused");
    let addr = format!("127.0.0.1:{}", free_port());
    let timeout = Duration::from_millis(1500);
    let start = Instant::now();
    let err = connect(&addr, &party(&dir, Party::P2), timeout).unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        matches!(&err, NetError::Transport(TransportError::ConnectTimeout { addr: a, waited, .. }) if *a == addr && *waited >= timeout),
        "{err:?}"
    );
    assert!(elapsed >= timeout, "gave up early: {elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "too late: {elapsed:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&addr) && msg.contains("is party 0 running?"),
        "{msg}"
    );
    assert!(msg.contains("start order does not matter"), "{msg}");
}

#[test]
fn client_started_before_server_connects_when_server_comes_up() {
    let dir = certs("order");
    let port = free_port();
    let client_paths = party(&dir, Party::P2);
    let client = thread::spawn(move || {
        let mut ch = connect(&format!("127.0.0.1:{port}"), &client_paths, OK_TIMEOUT)?;
        ch.send(b"late but fine")
    });
    thread::sleep(Duration::from_millis(500));
    let mut server = listen_and_accept(
        &format!("127.0.0.1:{port}"),
        &party(&dir, Party::P1),
        OK_TIMEOUT,
    )
    .unwrap();
    let mut buf = [0u8; 32];
    assert_eq!(server.recv(&mut buf).unwrap(), b"late but fine");
    client.join().unwrap().unwrap();
}

#[test]
fn accept_without_client_times_out() {
    let dir = certs("accept-timeout");
    let listener = listen("127.0.0.1:0").unwrap();
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    let err = listener
        .accept(&party(&dir, Party::P1), timeout)
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        matches!(err, NetError::Transport(TransportError::Timeout { phase: Phase::Accept, after: Some(t) }) if t == timeout),
        "{err:?}"
    );
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_secs(1),
        "{elapsed:?}"
    );
    assert!(
        err.to_string().contains("no connection from party 1"),
        "{err}"
    );
}

#[test]
fn silent_client_gives_handshake_timeout() {
    let dir = certs("hs-timeout");
    let listener = listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Connects at TCP level and then says nothing.
    let silent = TcpStream::connect(addr).unwrap();
    let timeout = Duration::from_millis(500);
    let start = Instant::now();
    let err = listener
        .accept(&party(&dir, Party::P1), timeout)
        .unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        matches!(
            err,
            NetError::Transport(TransportError::Timeout {
                phase: Phase::Handshake,
                after: Some(t),
            }) if t == timeout
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("during the TLS handshake"),
        "{err}"
    );
    assert!(
        elapsed >= timeout && elapsed < timeout * 2 + Duration::from_secs(1),
        "{elapsed:?}"
    );
    drop(silent);
}

#[test]
fn binding_an_address_in_use_names_it() {
    let first = listen("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap().to_string();
    let err = listen(&addr).unwrap_err();
    assert!(
        matches!(&err, NetError::Transport(TransportError::Bind { addr: a, source }) if *a == addr
            && source.kind() == std::io::ErrorKind::AddrInUse),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&addr) && msg.contains("already in use"),
        "{msg}"
    );
}

#[test]
fn malformed_address_is_refused_before_connecting() {
    let dir = certs("badaddr");
    let err = connect("127.0.0.1", &party(&dir, Party::P2), OK_TIMEOUT).unwrap_err();
    assert!(
        matches!(err, NetError::Transport(TransportError::BadAddress { .. })),
        "{err:?}"
    );
    let err = listen("nonsense").unwrap_err();
    assert!(
        matches!(err, NetError::Transport(TransportError::BadAddress { .. })),
        "{err:?}"
    );
}
