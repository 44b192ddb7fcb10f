//! A peer that stops responding or disappears mid-protocol.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{NetError, Phase, Transport, TransportError, connect};

use crate::support::{OK_TIMEOUT, certs, party, serve};

#[test]
fn stalled_server_gives_client_timeout() {
    let dir = certs("stall");
    let (release_tx, release_rx) = mpsc::channel::<()>();
    // Party 0 completes the handshake, then never sends (until released).
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, move |ch| {
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
        drop(ch);
    });
    let timeout = Duration::from_secs(1);
    let mut client = connect(&addr, &party(&dir, Party::P2), timeout).unwrap();
    let start = Instant::now();
    let err = client.recv(&mut [0u8; 64]).unwrap_err();
    let elapsed = start.elapsed();
    release_tx.send(()).unwrap();
    server.join().unwrap().unwrap();

    assert!(
        matches!(err, NetError::Transport(TransportError::Timeout { phase: Phase::Recv, after: Some(t) }) if t == timeout),
        "{err:?}"
    );
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(elapsed < timeout + Duration::from_secs(2), "{elapsed:?}");
    let msg = err.to_string();
    assert!(msg.contains("stopped responding"), "{msg}");
}

#[test]
fn set_timeout_applies_to_later_receives() {
    let dir = certs("settimeout");
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, move |ch| {
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
        drop(ch);
    });
    let mut client = connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    client.set_timeout(Duration::from_millis(200)).unwrap();
    let start = Instant::now();
    let err = client.recv(&mut [0u8; 8]).unwrap_err();
    release_tx.send(()).unwrap();
    server.join().unwrap().unwrap();
    assert!(
        matches!(err, NetError::Transport(TransportError::Timeout { .. })),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn server_vanishing_mid_protocol_gives_peer_closed() {
    let dir = certs("vanish");
    // Party 0 drops the connection without close_notify (a crash).
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, drop);
    let mut client = connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    server.join().unwrap().unwrap();
    let err = client.recv(&mut [0u8; 64]).unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Transport(TransportError::PeerClosed {
                phase: Phase::Recv,
                ..
            })
        ),
        "{err:?}"
    );
}
