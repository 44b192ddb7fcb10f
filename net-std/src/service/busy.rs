//! A connection over the service's cap gets a "busy" refusal it can print, within a small
//! bounded budget, or is dropped.
//!
//! When every opener opens a connection and [`ServiceConfig::max_waiting`] more wait, the
//! accept loop hands a new connection to one "refuser" thread through a queue of
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
use super::{Shared, open_connection, refuse};
use crate::request::RefusalCode;

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
         opening and {} waiting",
        shared.config.workers,
        shared.config.max_waiting,
        shared.config.openers,
        shared.config.max_waiting
    )
}

/// Handshake and request under the refusal deadline, then "busy"; logs one line.
fn refuse_busy(shared: &Shared, sock: TcpStream, addr: SocketAddr) {
    let start = Instant::now();
    let log = &shared.log;
    shared.counters.failed.fetch_add(1, Ordering::Relaxed);
    let deadline = shared.config.handshake_timeout.min(REFUSAL_DEADLINE);
    let why = over_cap(shared);
    let Some((mut ch, info, req)) = open_connection(shared, sock, addr, deadline, |_, e| {
        format!("{why}; no busy refusal: {e}")
    }) else {
        return;
    };
    let client = Client::of(addr, &info);
    let refused = refuse(&mut ch, RefusalCode::Busy, format!("party 0 is {why}"));
    let _ = ch.close();
    log.request(&client, &req, &Err(refused), start.elapsed());
}
