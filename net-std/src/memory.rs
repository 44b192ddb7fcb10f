//! An in-memory duplex byte pipe for tests of protocol drivers: [`memory_pipe`].

use core::time::Duration;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Read timeout of a new [`MemoryEnd`]: long enough for slow tests, short enough that a
/// test waiting for a message that never comes fails instead of hanging.
pub const DEFAULT_PIPE_TIMEOUT: Duration = Duration::from_secs(30);

/// One direction of the pipe.
#[derive(Debug, Default)]
struct Direction {
    state: Mutex<DirectionState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct DirectionState {
    data: VecDeque<u8>,
    writer_gone: bool,
    reader_gone: bool,
}

impl Direction {
    fn lock(&self) -> MutexGuard<'_, DirectionState> {
        // The state stays consistent even if a holder panicked, so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One end of an in-memory duplex pipe made by [`memory_pipe`].
///
/// Bytes written to one end are read from the other. Reads block until data arrives,
/// the other end is dropped (then they return end of stream, `Ok(0)`), or the read
/// timeout expires (then they fail with [`io::ErrorKind::TimedOut`]). Writing after the
/// other end was dropped fails with [`io::ErrorKind::BrokenPipe`]. Writes never block.
#[derive(Debug)]
pub struct MemoryEnd {
    incoming: Arc<Direction>,
    outgoing: Arc<Direction>,
    read_timeout: Option<Duration>,
}

/// Creates a connected pair of in-memory pipe ends with read timeout
/// [`DEFAULT_PIPE_TIMEOUT`].
pub fn memory_pipe() -> (MemoryEnd, MemoryEnd) {
    let a_to_b = Arc::new(Direction::default());
    let b_to_a = Arc::new(Direction::default());
    let a = MemoryEnd {
        incoming: Arc::clone(&b_to_a),
        outgoing: Arc::clone(&a_to_b),
        read_timeout: Some(DEFAULT_PIPE_TIMEOUT),
    };
    let b = MemoryEnd {
        incoming: a_to_b,
        outgoing: b_to_a,
        read_timeout: Some(DEFAULT_PIPE_TIMEOUT),
    };
    (a, b)
}

impl MemoryEnd {
    /// Sets the read timeout (`None`: wait forever).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }
}

impl Read for MemoryEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.read_timeout.map(|t| Instant::now() + t);
        let mut state = self.incoming.lock();
        loop {
            if !state.data.is_empty() {
                let n = buf.len().min(state.data.len());
                for (dst, src) in buf.iter_mut().zip(state.data.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if state.writer_gone || buf.is_empty() {
                return Ok(0);
            }
            state = match deadline {
                None => self
                    .incoming
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "memory pipe read timed out",
                        ));
                    }
                    self.incoming
                        .changed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

impl Write for MemoryEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.outgoing.lock();
        if state.reader_gone {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the other end of the memory pipe was dropped",
            ));
        }
        state.data.extend(buf);
        drop(state);
        self.outgoing.changed.notify_all();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MemoryEnd {
    fn drop(&mut self) {
        self.outgoing.lock().writer_gone = true;
        self.outgoing.changed.notify_all();
        let mut incoming = self.incoming.lock();
        incoming.reader_gone = true;
        incoming.data.clear();
        drop(incoming);
        self.incoming.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn bytes_flow_both_ways_across_threads() {
        let (mut a, mut b) = memory_pipe();
        let t = thread::spawn(move || {
            let mut buf = [0u8; 5];
            b.read_exact(&mut buf).unwrap();
            b.write_all(&buf).unwrap();
            b
        });
        a.write_all(b"hello").unwrap();
        let mut back = [0u8; 5];
        a.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"hello");
        drop(t.join().unwrap());
    }

    #[test]
    fn drop_gives_eof_after_pending_data_and_broken_pipe_on_write() {
        let (mut a, mut b) = memory_pipe();
        a.write_all(b"xy").unwrap();
        drop(a);
        let mut buf = [0u8; 4];
        assert_eq!(b.read(&mut buf).unwrap(), 2);
        assert_eq!(b.read(&mut buf).unwrap(), 0);
        assert_eq!(b.write(b"z").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn read_times_out() {
        let (_a, mut b) = memory_pipe();
        b.set_read_timeout(Some(Duration::from_millis(50)));
        let start = Instant::now();
        let err = b.read(&mut [0u8; 1]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(50));
    }
}
