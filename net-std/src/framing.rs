//! Length-prefixed frames: a 4-byte big-endian length, then that many payload bytes.
//!
//! Reading never allocates: the body goes into the caller's buffer, and a frame whose
//! announced length exceeds that buffer is refused before any of its body is read.

use std::io::{self, Read, Write};

use crate::error::{NetError, Phase, TransportError};

/// Size of the frame header (the big-endian `u32` payload length).
pub const FRAME_HEADER_LEN: usize = 4;

/// Writes one frame (`payload.len()` as big-endian `u32`, then `payload`) and flushes.
///
/// Refuses a payload longer than `max_len` (or than `u32::MAX`) with
/// [`TransportError::MessageTooLarge`] without writing anything.
pub fn write_frame<W: Write>(w: &mut W, payload: &[u8], max_len: usize) -> Result<(), NetError> {
    let too_large = || {
        NetError::from(TransportError::MessageTooLarge {
            len: payload.len(),
            max: max_len,
        })
    };
    if payload.len() > max_len {
        return Err(too_large());
    }
    let Ok(len) = u32::try_from(payload.len()) else {
        return Err(too_large());
    };
    let io = |e: io::Error| NetError::from_io(e, Phase::Send);
    w.write_all(&len.to_be_bytes()).map_err(io)?;
    w.write_all(payload).map_err(io)?;
    w.flush().map_err(io)
}

/// Reads one frame into `buf` and returns the payload (a prefix of `buf`).
///
/// - A length above `buf.len()` gives [`TransportError::FrameTooLarge`]; the body is not
///   read.
/// - End of stream before the first header byte gives [`TransportError::PeerClosed`] with
///   `mid_message: false` (the peer hung up between messages); end of stream inside the
///   header or body gives `mid_message: true`.
/// - A timeout of the underlying reader gives [`TransportError::Timeout`].
pub fn read_frame<'b, R: Read>(r: &mut R, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    read_full(r, &mut header, false)?;
    let announced = u32::from_be_bytes(header);
    let len = usize::try_from(announced).unwrap_or(usize::MAX);
    let max = buf.len();
    let Some(body) = buf.get_mut(..len) else {
        return Err(TransportError::FrameTooLarge { len, max }.into());
    };
    read_full(r, body, true)?;
    Ok(body)
}

/// Fills `out` completely. `started` says whether bytes of this frame were read before.
fn read_full<R: Read>(r: &mut R, out: &mut [u8], started: bool) -> Result<(), NetError> {
    let mut filled = 0;
    while filled < out.len() {
        let Some(rest) = out.get_mut(filled..) else {
            break;
        };
        match r.read(rest) {
            Ok(0) => {
                return Err(TransportError::PeerClosed {
                    phase: Phase::Recv,
                    mid_message: started || filled > 0,
                }
                .into());
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(match NetError::from_io(e, Phase::Recv) {
                    NetError::Transport(TransportError::PeerClosed { phase, .. }) => {
                        TransportError::PeerClosed {
                            phase,
                            mid_message: started || filled > 0,
                        }
                        .into()
                    }
                    other => other,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn round_trip() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"hello", 16).unwrap();
        write_frame(&mut wire, b"", 16).unwrap();
        assert_eq!(&wire[..4], &[0, 0, 0, 5]);
        let mut r = Cursor::new(wire);
        let mut buf = [0u8; 16];
        assert_eq!(read_frame(&mut r, &mut buf).unwrap(), b"hello");
        assert_eq!(read_frame(&mut r, &mut buf).unwrap(), b"");
        let end = read_frame(&mut r, &mut buf).unwrap_err();
        assert!(matches!(
            end,
            NetError::Transport(TransportError::PeerClosed {
                mid_message: false,
                ..
            })
        ));
    }

    #[test]
    fn oversized_frame_is_refused_without_reading_body() {
        let mut wire = vec![0xff, 0xff, 0xff, 0xff];
        wire.extend_from_slice(&[7u8; 32]);
        let mut r = Cursor::new(wire);
        let mut buf = [0u8; 8];
        let err = read_frame(&mut r, &mut buf).unwrap_err();
        assert!(
            matches!(err, NetError::Transport(TransportError::FrameTooLarge { len, max: 8 }) if len == 0xffff_ffff)
        );
        assert_eq!(r.position(), 4, "only the header was consumed");
        assert_eq!(buf, [0u8; 8], "the buffer was not touched");
    }

    #[test]
    fn exact_fit_is_accepted() {
        let mut wire = Vec::new();
        write_frame(&mut wire, &[1, 2, 3], 3).unwrap();
        let mut buf = [0u8; 3];
        assert_eq!(
            read_frame(&mut Cursor::new(wire), &mut buf).unwrap(),
            &[1, 2, 3]
        );
    }

    #[test]
    fn write_over_cap_writes_nothing() {
        let mut wire = Vec::new();
        let err = write_frame(&mut wire, &[0u8; 17], 16).unwrap_err();
        assert!(matches!(
            err,
            NetError::Transport(TransportError::MessageTooLarge { len: 17, max: 16 })
        ));
        assert!(wire.is_empty());
    }

    #[test]
    fn truncation_in_header_or_body_is_mid_message() {
        let mut buf = [0u8; 64];
        let err = read_frame(&mut Cursor::new(vec![0u8, 0]), &mut buf).unwrap_err();
        assert!(matches!(
            err,
            NetError::Transport(TransportError::PeerClosed {
                mid_message: true,
                ..
            })
        ));
        let err = read_frame(&mut Cursor::new(vec![0u8, 0, 0, 9, 1, 2]), &mut buf).unwrap_err();
        assert!(matches!(
            err,
            NetError::Transport(TransportError::PeerClosed {
                mid_message: true,
                ..
            })
        ));
    }
}
