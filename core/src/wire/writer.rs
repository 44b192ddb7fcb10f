//! Bounded write cursor over a caller-owned buffer.

use crypto_bigint::Uint;
use k256::{AffinePoint, Scalar};

use zeroize::Zeroize;

use crate::{Error, Result, bigint, curve, sizes::SCALAR_LEN};

/// Writes fixed-width fields into a caller-owned buffer; never panics.
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    #[must_use]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes written so far.
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Appends raw bytes.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if they do not fit.
    pub fn bytes(&mut self, data: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(data.len())
            .ok_or(Error::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(data);
        self.pos = end;
        Ok(())
    }

    /// Appends a compressed point.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`], or [`Error::InvalidPoint`] for the identity.
    pub fn point(&mut self, point: &AffinePoint) -> Result<()> {
        self.bytes(&curve::encode_point(point)?)
    }

    /// Appends a scalar.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn scalar(&mut self, scalar: &Scalar) -> Result<()> {
        // The scalar may be a secret (x2 in a share file): wipe the copy.
        let mut bytes: [u8; SCALAR_LEN] = scalar.to_bytes().into();
        let written = self.bytes(&bytes);
        bytes.zeroize();
        written
    }

    /// Appends an integer at exactly `width` bytes.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`], or [`Error::Malformed`] if the value is wider than `width`.
    pub fn integer<const L: usize>(&mut self, width: usize, value: &Uint<L>) -> Result<()> {
        let end = self.pos.checked_add(width).ok_or(Error::BufferTooSmall)?;
        let out = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?;
        bigint::to_be(value, out).ok_or(Error::Malformed)?;
        self.pos = end;
        Ok(())
    }

    /// Appends a small integer as 8 bytes.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn u64(&mut self, value: u64) -> Result<()> {
        self.bytes(&value.to_be_bytes())
    }
}
