//! The [`Transport`] trait the protocol drivers use, and [`Framed`], its implementation
//! over any byte stream.

use std::io::{Read, Write};

use crate::error::NetError;
use crate::framing::{read_frame, write_frame};

/// Default frame limit of [`Framed`] and [`Channel`](crate::Channel): 1 MiB. Protocol
/// drivers should lower it to the largest message of the protocol.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1 << 20;

/// A reliable, ordered, message-oriented connection to the other party.
///
/// After any error the connection is in an unknown state and must be dropped.
pub trait Transport {
    /// Sends one message.
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError>;

    /// Receives one message into `buf` and returns it (a prefix of `buf`). A message longer
    /// than `buf` (or than the transport's limit) is refused with
    /// [`TransportError::FrameTooLarge`](crate::TransportError::FrameTooLarge).
    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError>;
}

/// Frames messages over a byte stream `S` (TLS stream, TCP, or
/// [`MemoryEnd`](crate::MemoryEnd) in tests) with a maximum frame length.
#[derive(Debug)]
pub struct Framed<S> {
    inner: S,
    max_len: usize,
}

impl<S: Read + Write> Framed<S> {
    /// Wraps `inner`; frames longer than `max_len` are refused in both directions.
    pub fn new(inner: S, max_len: usize) -> Self {
        Self { inner, max_len }
    }

    /// The frame limit.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Changes the frame limit.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len;
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The underlying stream, mutably (writing to it directly breaks the framing).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Read + Write> Transport for Framed<S> {
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError> {
        write_frame(&mut self.inner, msg, self.max_len)
    }

    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
        let cap = buf.len().min(self.max_len);
        let (usable, _) = buf.split_at_mut(cap);
        read_frame(&mut self.inner, usable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TransportError;
    use crate::memory::memory_pipe;

    #[test]
    fn framed_over_memory_pipe_both_ways() {
        let (a, b) = memory_pipe();
        let (mut a, mut b) = (Framed::new(a, 64), Framed::new(b, 64));
        a.send(b"ping").unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(b.recv(&mut buf).unwrap(), b"ping");
        b.send(b"pong").unwrap();
        assert_eq!(a.recv(&mut buf).unwrap(), b"pong");
    }

    #[test]
    fn limit_applies_even_with_a_larger_buffer() {
        let (a, b) = memory_pipe();
        let (mut a, mut b) = (Framed::new(a, 100), Framed::new(b, 8));
        a.send(&[0u8; 9]).unwrap();
        let mut buf = [0u8; 64];
        let err = b.recv(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            NetError::Transport(TransportError::FrameTooLarge { len: 9, max: 8 })
        ));
    }
}
