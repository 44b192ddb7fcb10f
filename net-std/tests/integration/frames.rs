//! Framing errors: truncated frames, oversized frames.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use ecdsa2pc_core::Party;
use ecdsa2pc_net::{
    DEFAULT_MAX_FRAME_LEN, Framed, NetError, Transport, TransportError, connect, memory_pipe,
    read_frame, write_frame,
};

use crate::support::{OK_TIMEOUT, certs, party, serve};

#[test]
fn disconnect_mid_frame_over_memory_pipe_is_peer_closed() {
    let (mut a, b) = memory_pipe();
    a.write_all(&100u32.to_be_bytes()).unwrap();
    a.write_all(&[7u8; 10]).unwrap();
    drop(a);
    let mut framed = Framed::new(b, 1024);
    let err = framed.recv(&mut [0u8; 1024]).unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Transport(TransportError::PeerClosed {
                mid_message: true,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("in the middle of a message"),
        "{err}"
    );
}

#[test]
fn disconnect_mid_frame_over_tcp_is_peer_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.write_all(&100u32.to_be_bytes()).unwrap();
        sock.write_all(&[1u8; 10]).unwrap();
        // dropped: the connection closes after 14 of 104 bytes
    });
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    writer.join().unwrap();
    let mut buf = [0u8; 256];
    let err = read_frame(&mut &sock, &mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Transport(TransportError::PeerClosed {
                mid_message: true,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn header_claiming_4_gib_gives_frame_too_large_without_reading() {
    let (mut a, b) = memory_pipe();
    a.write_all(&u32::MAX.to_be_bytes()).unwrap();
    a.write_all(b"body").unwrap();
    let mut framed = Framed::new(b, DEFAULT_MAX_FRAME_LEN);
    let mut buf = [0xaau8; 1024];
    let err = framed.recv(&mut buf).unwrap_err();
    assert!(
        matches!(err, NetError::Transport(TransportError::FrameTooLarge { len, max: 1024 }) if len == 0xffff_ffff),
        "{err:?}"
    );
    assert_eq!(buf, [0xaau8; 1024], "the caller's buffer is untouched");
    // The body was not consumed: it is still in the pipe.
    let mut rest = [0u8; 4];
    std::io::Read::read_exact(framed.get_mut(), &mut rest).unwrap();
    assert_eq!(&rest, b"body");
}

#[test]
fn write_frame_over_cap_is_refused() {
    let mut out = Vec::new();
    let err = write_frame(&mut out, &[0u8; 33], 32).unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Transport(TransportError::MessageTooLarge { len: 33, max: 32 })
        ),
        "{err:?}"
    );
    assert!(out.is_empty());
}

#[test]
fn channel_enforces_frame_limits_both_ways() {
    let dir = certs("limits");
    let (addr, server) = serve(party(&dir, Party::P1), OK_TIMEOUT, |mut ch| {
        ch.set_max_frame_len(16);
        ch.recv(&mut [0u8; 1024]).unwrap_err()
    });
    let mut client = connect(&addr, &party(&dir, Party::P2), OK_TIMEOUT).unwrap();
    client.set_max_frame_len(32);
    let err = client.send(&[0u8; 33]).unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Transport(TransportError::MessageTooLarge { len: 33, max: 32 })
        ),
        "{err:?}"
    );
    client.send(&[0u8; 17]).unwrap();
    let server_err = server.join().unwrap().unwrap();
    assert!(
        matches!(
            server_err,
            NetError::Transport(TransportError::FrameTooLarge { len: 17, max: 16 })
        ),
        "{server_err:?}"
    );
}
