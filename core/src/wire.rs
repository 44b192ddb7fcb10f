//! Wire codec: fixed-layout messages read and written through bounded cursors.
//!
//! A message is `version ‖ type ‖ fields`, each field at a fixed width (docs/PROTOCOL.md, "Message layout").

mod reader;
mod writer;

pub use reader::Reader;
pub use writer::Writer;

use crate::sizes::HEADER_LEN;

/// Protocol version byte of every message.
pub const VERSION: u8 = 1;

/// Message type bytes, one per message of each protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MsgType {
    /// Ring-Pedersen parameters with their proof, party 0 → party 1 (once per party 0).
    Params = 0x01,
    /// Keygen message 1, P1 → P2.
    Keygen1 = 0x11,
    /// Keygen message 2, P2 → P1.
    Keygen2 = 0x12,
    /// Keygen message 3, P1 → P2.
    Keygen3 = 0x13,
    /// Sign message 1, P1 → P2.
    Sign1 = 0x21,
    /// Sign message 2, P2 → P1.
    Sign2 = 0x22,
    /// Sign message 3, P1 → P2.
    Sign3 = 0x23,
    /// Sign message 4, P2 → P1.
    Sign4 = 0x24,
    /// Sign message 5, P1 → P2.
    Sign5 = 0x25,
    /// Refresh message 1, P1 → P2.
    Refresh1 = 0x31,
    /// Refresh message 2, P2 → P1.
    Refresh2 = 0x32,
    /// Refresh message 3, P1 → P2.
    Refresh3 = 0x33,
    /// Refresh message 4, P2 → P1.
    Refresh4 = 0x34,
    /// Refresh message 5, P1 → P2 (persistence acknowledgement).
    Refresh5 = 0x35,
    /// Either party: the run failed here; one more byte carries [`crate::Error::code`].
    Abort = 0xff,
}

/// Length of an abort message: header and error code.
pub const ABORT_LEN: usize = HEADER_LEN + 1;

/// The abort message a party sends when a round fails, so the peer stops waiting.
#[must_use]
pub fn abort_message(error: crate::Error) -> [u8; ABORT_LEN] {
    [VERSION, MsgType::Abort as u8, error.code()]
}

/// The peer's error if `bytes` is an abort message.
#[must_use]
pub fn peer_abort(bytes: &[u8]) -> Option<crate::Error> {
    match bytes {
        [VERSION, t, code] if *t == MsgType::Abort as u8 => Some(crate::Error::from_code(*code)),
        _ => None,
    }
}

/// Redacted `Debug` for types that hold secrets: the type name only.
macro_rules! redacted_debug {
    ($($ty:ident),+ $(,)?) => {$(
        impl core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($ty)).finish_non_exhaustive()
            }
        }
    )+};
}
pub(crate) use redacted_debug;

/// The seal of [`Message`]: only this crate's messages implement it.
mod seal {
    /// Implemented by [`sealed!`](super::sealed) for each message type.
    pub trait Sealed {}
}

/// Seals message types: `sealed!(Msg1, Msg2)` lets them implement [`Fields`] and [`Message`].
macro_rules! sealed {
    ($($ty:ident),+ $(,)?) => {$(
        impl crate::wire::Sealed for $ty {}
    )+};
}
pub(crate) use {seal::Sealed, sealed};

/// How a message writes and reads its fields after the header: the codec's half of
/// [`Message`], kept out of the public API (tests reach it through `internals`).
pub trait Fields: Sealed + Sized {
    /// Writes the fields after the header.
    ///
    /// # Errors
    /// [`crate::Error::BufferTooSmall`] if the writer runs out of room.
    fn write_fields(&self, w: &mut Writer<'_>) -> crate::Result<()>;

    /// Reads the fields after the header, checking each one as far as it can be checked alone.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] or a more specific error for a bad field.
    fn read_fields(r: &mut Reader<'_>) -> crate::Result<Self>;

    /// As [`Fields::read_fields`], overwriting `out`. The default reads a value and moves it
    /// in; the largest messages override it to fill `out` field by field, so that decoding
    /// needs no stack beyond the message itself (every copy of keygen's 21 KB third message
    /// counts on a microcontroller).
    ///
    /// # Errors
    /// As [`Fields::read_fields`]; `out` is then partly overwritten.
    fn read_fields_into(r: &mut Reader<'_>, out: &mut Self) -> crate::Result<()> {
        *out = Self::read_fields(r)?;
        Ok(())
    }
}

/// A protocol message: a fixed number of bytes, `version ‖ type ‖ fields`. Sealed: only
/// the messages of keygen, sign and refresh implement it.
pub trait Message: Fields {
    /// Its type byte.
    const TYPE: MsgType;
    /// Its exact encoded length, header included.
    const LEN: usize;

    /// Encodes into `out`, returning the number of bytes written (always [`Self::LEN`]).
    ///
    /// # Errors
    /// [`crate::Error::BufferTooSmall`] if `out` is shorter than [`Self::LEN`].
    fn encode(&self, out: &mut [u8]) -> crate::Result<usize> {
        let mut w = Writer::new(out);
        w.bytes(&[VERSION, Self::TYPE as u8])?;
        self.write_fields(&mut w)?;
        Ok(w.position())
    }

    /// Decodes and validates a message; the length must be exact.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] for a wrong length, version or type, or the field's error.
    fn decode(bytes: &[u8]) -> crate::Result<Self> {
        let mut r = Self::reader(bytes)?;
        let msg = Self::read_fields(&mut r)?;
        r.finish()?;
        Ok(msg)
    }

    /// As [`Message::decode`], into caller-owned storage: the large messages (keygen's and
    /// refresh's message 3, sign's message 4, the parameter message) fill `out` field by
    /// field, so that a device with little RAM holds one copy of them (start from the
    /// message's `EMPTY` value). For the other messages it is [`Message::decode`] followed by
    /// a move.
    ///
    /// # Errors
    /// As [`Message::decode`]; `out` is then partly overwritten and must not be used.
    fn decode_into(bytes: &[u8], out: &mut Self) -> crate::Result<()> {
        let mut r = Self::reader(bytes)?;
        Self::read_fields_into(&mut r, out)?;
        r.finish()
    }

    /// A reader over the fields of `bytes` after checking its length and header (the
    /// decoders' first step; the reader's type is internal).
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] for a wrong length, version or type.
    #[doc(hidden)]
    fn reader(bytes: &[u8]) -> crate::Result<Reader<'_>> {
        if bytes.len() != Self::LEN {
            return Err(crate::Error::Malformed);
        }
        let mut r = Reader::new(bytes);
        if r.array::<HEADER_LEN>()? != [VERSION, Self::TYPE as u8] {
            return Err(crate::Error::Malformed);
        }
        Ok(r)
    }
}
