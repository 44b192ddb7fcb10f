//! A connection over the service's cap gets a "busy" refusal it can print, within a small
//! bounded budget, or is dropped.
//!
//! When [`ServiceConfig::max_openings`] connections are being opened, the accept loop hands a new
//! connection to one "refuser" thread through a queue of
//! [`MAX_REFUSING`] places. The refuser runs the TLS handshake and reads the request under
//! a deadline of [`REFUSAL_DEADLINE`] (or the handshake timeout, if shorter), answers
//! [`RefusalCode::Busy`] and closes. A connection that finds the refuser's queue full too is
//! dropped at once, as is one whose handshake or request misses the deadline; each is
//! logged. So the cap costs at most one thread and [`MAX_REFUSING`] + 1 sockets more, and a
//! flood of slow clients over the cap delays nobody being served.

use core::net::SocketAddr;
use core::panic::AssertUnwindSafe;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::net::TcpStream;
use std::sync::mpsc::Receiver;
use std::time::Instant;

#[cfg(doc)]
use super::ServiceConfig;
use super::log::Client;
use super::{Shared, refuse};
use crate::channel::Channel;
use crate::error::NetError;
use crate::handshake::establish_server;
use crate::request::RefusalCode;
use crate::request::{self, Request};
use crate::session::SessionInfo;

/// Connections over the cap that wait for their "busy" refusal; one more is dropped at once.
pub const MAX_REFUSING: usize = 4;
/// Longest time the refuser gives one connection for its handshake and request.
pub const REFUSAL_DEADLINE: Duration = Duration::from_secs(1);

/// The refuser thread: answers "busy" to each queued connection until the queue closes.
pub(super) fn refuser(shared: &Shared, rx: &Receiver<(TcpStream, SocketAddr)>) {
    while let Ok((sock, addr)) = rx.recv() {
        // A bug in one refusal must not end the refusals of the rest.
        let refused = std::panic::catch_unwind(AssertUnwindSafe(|| {
            refuse_busy(shared, sock, addr);
        }));
        if refused.is_err() {
            shared.counters.failed.fetch_add(1, Ordering::Relaxed);
            shared.log.event(
                "error",
                &format!("{addr}: busy refusal ended by an internal error (a bug)"),
            );
        }
    }
}

/// Why a connection over the cap is not served, for the log.
pub(super) fn over_cap(shared: &Shared) -> String {
    format!(
        "over the connection cap: {} workers busy and {} requests waiting, or {} connections \
         opening",
        shared.config.workers, shared.config.max_waiting, shared.config.max_openings
    )
}

/// Handshake and request under the refusal deadline, then "busy"; logs one line.
fn refuse_busy(shared: &Shared, sock: TcpStream, addr: SocketAddr) {
    let start = Instant::now();
    let log = &shared.log;
    shared.counters.failed.fetch_add(1, Ordering::Relaxed);
    let deadline = shared.config.handshake_timeout.min(REFUSAL_DEADLINE);
    let why = over_cap(shared);
    let Some((mut ch, info, req)) = open_connection(shared, sock, addr, deadline, |e| {
        format!("{why}; no busy refusal: {e}")
    }) else {
        return;
    };
    let client = Client::of(addr, &info);
    let refused = refuse(&mut ch, RefusalCode::Busy, format!("party 0 is {why}"));
    let _ = ch.close();
    log.request(&client, &req, &Err(refused), start.elapsed());
}

/// The TLS handshake and the request, both under `deadline` (the channel keeps that timeout
/// until the request has arrived: a client that stalls holds the refuser no longer), on the
/// blocking socket. On failure the connection is dropped and logged with `cause(error)`.
fn open_connection(
    shared: &Shared,
    sock: TcpStream,
    addr: SocketAddr,
    deadline: Duration,
    cause: impl Fn(&NetError) -> String,
) -> Option<(Channel, SessionInfo, Request)> {
    let start = Instant::now();
    let mut ch = match establish_server(sock, &shared.setup, deadline) {
        Ok(ch) => ch,
        Err(e) => {
            shared.log.dropped(addr, None, &cause(&e));
            return None;
        }
    };
    let info = ch.info().clone();
    // The request gets what is left of the deadline, not a deadline of its own: handshake
    // and request together take at most `deadline` (at least a millisecond is left for a
    // client that finished its handshake at the last moment and sends at once).
    let left = deadline
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(1));
    let received = ch
        .set_timeout(left)
        .and_then(|()| request::receive(&mut ch));
    match received {
        Ok(req) => Some((ch, info, req)),
        Err(e) => {
            let client = Client::of(addr, &info);
            shared.log.dropped(addr, Some(&client), &cause(&e));
            None
        }
    }
}
