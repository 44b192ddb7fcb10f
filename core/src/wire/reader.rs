//! Bounded read cursor over a received message.

use crypto_bigint::Uint;
use k256::{AffinePoint, Scalar};

use zeroize::Zeroize;

use crate::{Error, Result, bigint, curve};

/// Reads fixed-width fields from a byte slice; never panics, never reads past the end.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `len` bytes.
    ///
    /// # Errors
    /// [`Error::Malformed`] if fewer remain.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(len).ok_or(Error::Malformed)?;
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    ///
    /// # Errors
    /// [`Error::Malformed`] if fewer remain.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| Error::Malformed)
    }

    /// A compressed point: on the curve, canonical, not the identity.
    ///
    /// # Errors
    /// [`Error::Malformed`] if too short, [`Error::InvalidPoint`] if not a valid point.
    pub fn point(&mut self) -> Result<AffinePoint> {
        curve::decode_point(&self.array()?)
    }

    /// A canonical scalar, `< q`.
    ///
    /// # Errors
    /// [`Error::Malformed`] if too short or `≥ q`.
    pub fn scalar(&mut self) -> Result<Scalar> {
        // The scalar may be a secret (x2 in a share file): wipe the copy.
        let mut bytes = self.array()?;
        let scalar = curve::decode_scalar(&bytes);
        bytes.zeroize();
        scalar
    }

    /// An integer of `width` bytes that must be `< bound`.
    ///
    /// # Errors
    /// [`Error::Malformed`] if too short, too wide for `Uint<L>`, or not below `bound`.
    pub fn integer<const L: usize>(&mut self, width: usize, bound: &Uint<L>) -> Result<Uint<L>> {
        let value = bigint::from_be::<L>(self.take(width)?).ok_or(Error::Malformed)?;
        // vartime: the bound is public and the value came off the wire.
        if value.cmp_vartime(bound).is_lt() {
            Ok(value)
        } else {
            Err(Error::Malformed)
        }
    }

    /// An integer of `width` bytes with no bound beyond its width.
    ///
    /// # Errors
    /// [`Error::Malformed`] if too short or too wide for `Uint<L>`.
    pub fn integer_unbounded<const L: usize>(&mut self, width: usize) -> Result<Uint<L>> {
        bigint::from_be::<L>(self.take(width)?).ok_or(Error::Malformed)
    }

    /// A `u64` of `width ≤ 8` bytes that must be `< 2^bits`.
    ///
    /// # Errors
    /// [`Error::Malformed`] if too short or out of range.
    pub fn bits(&mut self, bits: u32) -> Result<u64> {
        let v = u64::from_be_bytes(self.array::<8>()?);
        if bits < 64 && v >> bits != 0 {
            Err(Error::Malformed)
        } else {
            Ok(v)
        }
    }

    /// Succeeds only if every byte was read.
    ///
    /// # Errors
    /// [`Error::Malformed`] on trailing bytes.
    pub fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }
}
