//! Waiting for sockets to be ready, for the loops that open many connections on one thread:
//! poll(2) on Unix; elsewhere a millisecond's sleep, after which the caller tries every
//! socket (non-blocking, so a socket that is not ready costs a `WouldBlock`).

use core::time::Duration;
use std::net::{TcpListener, TcpStream};

/// One socket to wait for: input, or, while it has bytes it could not send, room to write.
pub(crate) struct Interest<'a> {
    /// The socket.
    pub(crate) sock: &'a TcpStream,
    /// Waits for room to write instead of for input.
    pub(crate) write: bool,
}

/// Waits until `listener` (if given) has a connection to accept, one of `sockets` is ready
/// for what it waits for (or has failed or closed), or `timeout` has passed. Returns whether
/// to accept and, per socket in order, whether it is ready; where it cannot tell (not Unix,
/// poll failed) everything is.
pub(crate) fn wait(
    listener: Option<&TcpListener>,
    sockets: &[Interest<'_>],
    timeout: Duration,
) -> (bool, Vec<bool>) {
    #[cfg(unix)]
    {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut fds = Vec::with_capacity(1 + sockets.len());
        if let Some(listener) = listener {
            fds.push(PollFd::new(listener, PollFlags::IN));
        }
        for s in sockets {
            let flags = if s.write {
                PollFlags::OUT
            } else {
                PollFlags::IN
            };
            fds.push(PollFd::new(s.sock, flags));
        }
        let limit = Timespec::try_from(timeout).ok();
        match poll(&mut fds, limit.as_ref()) {
            // Ready, the time is up, or a signal: the readiness flags say which.
            Ok(_) | Err(rustix::io::Errno::INTR) => {
                let mut ready = fds.iter().map(|fd| !fd.revents().is_empty());
                let accept = listener.is_some() && ready.next().unwrap_or(false);
                return (accept, ready.collect());
            }
            // Anything else would fail again at once: wait, then look at everything.
            Err(_) => std::thread::sleep(timeout),
        }
    }
    #[cfg(not(unix))]
    std::thread::sleep(timeout.min(Duration::from_millis(1)));
    (listener.is_some(), vec![true; sockets.len()])
}
