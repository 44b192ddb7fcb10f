//! The service's accept loop and openings: every accepted connection's TLS handshake and
//! request, driven by one thread over non-blocking sockets and poll(2).
//!
//! A connection that stalls its handshake or its request (slow loris, a port scan that holds
//! the socket, a client that vanished) costs a socket and its TLS state until its
//! [`ServiceConfig::handshake_timeout`], never a thread: the thread goes on with the others
//! as their bytes arrive. Up to [`ServiceConfig::max_openings`] connections are opened at once
//! to be served; a few more are opened to be refused as busy within a small budget, the rest
//! dropped ([`super::busy`]). An opened request goes to the workers' queue (health requests are
//! answered here), or is refused as busy at once if that queue is full.

use core::net::SocketAddr;
use core::panic::AssertUnwindSafe;
use core::sync::atomic::Ordering;
use core::time::Duration;
use std::io;
use std::net::TcpListener;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Instant;

#[cfg(doc)]
use super::ServiceConfig;
use super::busy::{self, MAX_REFUSING, REFUSAL_DEADLINE};
use super::log::Client;
use super::{Opened, Shared, health};
use crate::error::{NetError, SystemError};
use crate::handshake::{Lingering, OpeningEnd, OpeningFailure, ServerOpening};
use crate::readiness::{self, Interest};
use crate::request::{self, MAX_REQUEST_LEN, Operation};
use crate::session::SessionInfo;

/// How long accepting pauses after `accept` failed for want of resources (file descriptors):
/// the listener stays readable, and retrying at once would spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(200);
/// Longest time a reply sent from this thread (health, a refusal) may block it. Such replies
/// are a few hundred bytes, which the socket's send buffer takes at once; the limit is there
/// for a peer that could make it otherwise.
const REPLY_LIMIT: Duration = Duration::from_secs(1);
/// Most connections accepted in one turn: a flood of connects (each over the cap dropped at
/// once) must not keep the thread from the connections it is opening.
const MAX_ACCEPTS_PER_TURN: usize = 256;

/// The connections being opened, and those lingering after a TLS error: together at most
/// [`ServiceConfig::max_openings`] sockets (a lingering socket keeps the place of the
/// opening it ended).
/// Beyond the cap, up to [`MAX_REFUSING`] more are opened to be refused as busy.
pub(super) struct Openings<'a> {
    shared: &'a Shared,
    sessions: SyncSender<Opened<'a>>,
    pending: Vec<Pending<'a>>,
    lingering: Vec<Lingering>,
    accept_paused_until: Option<Instant>,
}

/// One connection on its way to a request.
struct Pending<'a> {
    opening: ServerOpening<'a>,
    addr: SocketAddr,
    start: Instant,
    /// Accepted over the cap: its request is answered "busy", never served.
    over_cap: bool,
}

impl<'a> Openings<'a> {
    /// No connections yet; opened requests go to `sessions` (which closes when the openings
    /// are dropped).
    pub(super) fn new(shared: &'a Shared, sessions: SyncSender<Opened<'a>>) -> Self {
        Self {
            shared,
            sessions,
            pending: Vec::new(),
            lingering: Vec::new(),
            accept_paused_until: None,
        }
    }

    /// Waits until a connection arrives on `listener` (non-blocking), a socket being opened
    /// is ready, a deadline passes or `max_wait` is over, and does what is due: accepts,
    /// advances, expires.
    pub(super) fn turn(&mut self, listener: &TcpListener, max_wait: Duration) {
        let now = Instant::now();
        // A pause that has passed is over: kept, its instant would cut every wait to 1 ms.
        if self.accept_paused_until.is_some_and(|t| now >= t) {
            self.accept_paused_until = None;
        }
        let listening = self.accept_paused_until.is_none();
        let next_deadline = self
            .pending
            .iter()
            .map(|p| p.opening.deadline())
            .chain(self.lingering.iter().map(Lingering::until))
            .chain(self.accept_paused_until)
            .min();
        let timeout = next_deadline.map_or(max_wait, |t| {
            t.saturating_duration_since(now)
                .min(max_wait)
                .max(Duration::from_millis(1))
        });
        let (accept, ready) = self.wait(listening.then_some(listener), timeout);
        // Advanced first: the flags are those of the sockets polled, before new ones join.
        self.advance(&ready);
        if accept {
            self.accept_from(listener);
        }
    }

    /// Drops every connection still being opened (the service is stopping), each logged,
    /// and closes the workers' queue.
    pub(super) fn drop_unopened(self) {
        for p in self.pending {
            self.shared.counters.failed.fetch_add(1, Ordering::Relaxed);
            let client = p.opening.info().map(|info| Client::of(p.addr, info));
            self.shared.log.dropped(
                p.addr,
                client.as_ref(),
                "the service is stopping: not opened",
            );
        }
    }

    /// Waits on the listener (if given), the pending sockets and the lingering ones: whether
    /// to accept, and which pending and lingering sockets are ready, in order.
    fn wait(&self, listener: Option<&TcpListener>, timeout: Duration) -> (bool, Vec<bool>) {
        let pending = self.pending.iter().map(|p| p.opening.interest());
        let lingering = self.lingering.iter().map(|l| Interest {
            sock: l.sock(),
            write: false,
        });
        let sockets: Vec<Interest<'_>> = pending.chain(lingering).collect();
        readiness::wait(listener, &sockets, timeout)
    }

    /// Accepts the connections waiting on `listener` (up to [`MAX_ACCEPTS_PER_TURN`]): opened
    /// to be served up to the cap, beyond it opened to be refused as busy (up to
    /// [`MAX_REFUSING`], each within [`REFUSAL_DEADLINE`]) or dropped.
    fn accept_from(&mut self, listener: &TcpListener) {
        let shared = self.shared;
        let config = &shared.config;
        let log = &shared.log;
        let refusing = self.pending.iter().filter(|p| p.over_cap).count();
        let mut serving = self.pending.len() - refusing + self.lingering.len();
        let mut refusing = refusing;
        for _ in 0..MAX_ACCEPTS_PER_TURN {
            match listener.accept() {
                Ok((sock, addr)) if serving < config.max_openings || refusing < MAX_REFUSING => {
                    let over_cap = serving >= config.max_openings;
                    let (timeout, counter) = if over_cap {
                        let deadline = config.handshake_timeout.min(REFUSAL_DEADLINE);
                        (deadline, &mut refusing)
                    } else {
                        (config.handshake_timeout, &mut serving)
                    };
                    let opening =
                        ServerOpening::new(sock, &shared.setup, timeout, Some(MAX_REQUEST_LEN));
                    match opening {
                        Ok(opening) => {
                            *counter += 1;
                            self.pending.push(Pending {
                                opening,
                                addr,
                                start: Instant::now(),
                                over_cap,
                            });
                        }
                        Err(e) => self.dropped(addr, None, over_cap, &e),
                    }
                }
                Ok((_, addr)) => {
                    log.dropped(
                        addr,
                        None,
                        &format!(
                            "{}, and {MAX_REFUSING} more wait for their busy refusal",
                            busy::over_cap(shared),
                        ),
                    );
                    shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // A client that reset before we accepted it, or a signal: nothing to serve.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    // Out of file descriptors and the like: say so, pause accepting (the
                    // openings go on), keep serving.
                    log.event("error", &SystemError::from_accept(e).to_string());
                    self.accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                    return;
                }
            }
        }
    }

    /// Advances the ready connections, ends those past their deadline, and lets the
    /// lingering sockets go once their peers have closed or their time is up.
    fn advance(&mut self, ready: &[bool]) {
        // One flag per pending socket, then one per lingering socket (all set if poll failed).
        let is_ready = |i: usize| ready.get(i).copied().unwrap_or(true);
        let pending = core::mem::take(&mut self.pending);
        let lingering_from = pending.len();
        for (i, p) in pending.into_iter().enumerate() {
            let addr = p.addr;
            // A bug in one connection's opening must not end the service's only opening
            // thread: that connection is dropped (its socket closed as it unwinds).
            let stepped = std::panic::catch_unwind(AssertUnwindSafe(|| self.step(p, is_ready(i))));
            if stepped.is_err() {
                self.shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                self.shared.log.event(
                    "error",
                    &format!("{addr}: opening ended by an internal error (a bug)"),
                );
            }
        }
        let lingering = core::mem::take(&mut self.lingering);
        for (i, mut l) in lingering.into_iter().enumerate() {
            let keep = if is_ready(lingering_from + i) {
                l.drain()
            } else {
                Instant::now() < l.until()
            };
            if keep {
                self.lingering.push(l);
            }
        }
    }

    /// Advances one opening if its socket is `ready`, and keeps it while it waits, or ends it.
    fn step(&mut self, p: Pending<'a>, ready: bool) {
        let Pending {
            opening,
            addr,
            start,
            over_cap,
        } = p;
        match opening.step(ready) {
            Ok(opening) => self.pending.push(Pending {
                opening,
                addr,
                start,
                over_cap,
            }),
            Err(ended) => self.end(ended, addr, start, over_cap),
        }
    }

    /// A connection's opening has ended: serve, answer, refuse or drop it.
    fn end(&mut self, ended: OpeningEnd, addr: SocketAddr, start: Instant, over_cap: bool) {
        let shared = self.shared;
        match ended {
            OpeningEnd::Opened(ch, frame) => {
                let mut ch = *ch;
                let info = ch.info().clone();
                if let Err(e) = ch.set_timeout(REPLY_LIMIT) {
                    self.dropped(addr, Some(&info), over_cap, &e);
                    return;
                }
                // Always read here (the opening was given its limit): none decodes as empty.
                let req = match frame.unwrap_or(Ok(Vec::new())) {
                    Ok(bytes) => request::decode_received(&mut ch, Ok(&bytes)),
                    Err(e) => request::decode_received(&mut ch, Err(e)),
                };
                match req {
                    Ok(req) => {
                        // Registered from here on: a stop closes it at its deadline.
                        let tracked = shared.live.track(ch.sock());
                        let opened = Opened {
                            ch,
                            info,
                            req,
                            addr,
                            start,
                            _tracked: tracked,
                        };
                        // Health is answered here whatever the load: opened, it costs no more
                        // than its refusal would.
                        if over_cap && opened.req.operation != Operation::Health {
                            let why = busy::over_cap(shared);
                            opened.refuse_busy(shared, format!("party 0 is {why}"));
                        } else {
                            self.dispatch(opened);
                        }
                    }
                    Err(e) => self.dropped(addr, Some(&info), over_cap, &e),
                }
            }
            OpeningEnd::Failed(failure) => {
                let OpeningFailure {
                    error: e,
                    info,
                    linger,
                } = *failure;
                self.dropped(addr, info.as_ref(), over_cap, &e);
                // In the place of the opening it ended: the cap holds. (One over the cap has
                // no place to keep: closed at once, its alert may be lost.)
                if let Some(linger) = linger
                    && !over_cap
                {
                    self.lingering.push(linger);
                }
            }
        }
    }

    /// Counts and logs a connection dropped with `e`: with its client once the handshake has
    /// told who it is, else as failed before a session; one `over_cap` as getting no busy
    /// refusal.
    fn dropped(&self, addr: SocketAddr, info: Option<&SessionInfo>, over_cap: bool, e: &NetError) {
        let shared = self.shared;
        shared.counters.failed.fetch_add(1, Ordering::Relaxed);
        let client = info.map(|info| Client::of(addr, info));
        let why = match (over_cap, &client) {
            (true, _) => format!("{}; no busy refusal: {e}", busy::over_cap(shared)),
            (false, Some(_)) => e.to_string(),
            (false, None) => format!("before a session: {e}"),
        };
        shared.log.dropped(addr, client.as_ref(), &why);
    }

    /// An opened request: health is answered here; anything else goes to the workers'
    /// queue, or is refused as busy if that is full.
    fn dispatch(&self, opened: Opened<'a>) {
        let shared = self.shared;
        if opened.req.operation == Operation::Health {
            // No key, no protocol run: answered here, so that a monitoring check gets its
            // answer however busy the workers are.
            opened.answer(shared, |ch, _, _| health(shared, ch));
            return;
        }
        match self.sessions.try_send(opened) {
            Ok(()) => {}
            Err(TrySendError::Full(opened) | TrySendError::Disconnected(opened)) => {
                opened.refuse_busy(shared, format!("party 0 is {}", busy::over_cap(shared)));
            }
        }
    }
}
