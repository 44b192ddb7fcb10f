//! Fiat–Shamir transcript: typed, length-prefixed, domain-separated hashing.
//!
//! Every item is absorbed as `kind ‖ len(label) ‖ label ‖ len(data) ‖ data`, so the encoding of a
//! sequence of items is injective: ("ab", "c") and ("a", "bc") never hash alike.

use crypto_bigint::U512;
use crypto_bigint::{NonZero, Uint};
use k256::{
    AffinePoint, Scalar,
    elliptic_curve::{ops::Reduce, sec1::ToSec1Point},
};
use sha2::{Digest, Sha256};

/// Kind byte of each absorbed item.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Tag = 1,
    Bytes = 2,
    Point = 3,
    Scalar = 4,
    Integer = 5,
}

/// A running hash over a typed sequence of labelled items.
#[derive(Clone)]
pub struct Transcript {
    hasher: Sha256,
}

impl Transcript {
    /// Starts a transcript under a domain tag (see [`crate::tags`]).
    #[must_use]
    pub fn new(tag: &'static [u8]) -> Self {
        let mut t = Self {
            hasher: Sha256::new(),
        };
        t.absorb(Kind::Tag, b"", tag);
        t
    }

    fn absorb(&mut self, kind: Kind, label: &[u8], data: &[u8]) {
        self.hasher.update([kind as u8]);
        self.hasher.update((label.len() as u64).to_be_bytes());
        self.hasher.update(label);
        self.hasher.update((data.len() as u64).to_be_bytes());
        self.hasher.update(data);
    }

    /// Absorbs a byte string.
    pub fn bytes(&mut self, label: &'static str, data: &[u8]) -> &mut Self {
        self.absorb(Kind::Bytes, label.as_bytes(), data);
        self
    }

    /// Absorbs a curve point in compressed SEC1 form (the identity as one zero byte).
    pub fn point(&mut self, label: &'static str, point: &AffinePoint) -> &mut Self {
        let encoded = point.to_sec1_point(true);
        self.absorb(Kind::Point, label.as_bytes(), encoded.as_bytes());
        self
    }

    /// Absorbs a scalar as 32 big-endian bytes.
    pub fn scalar(&mut self, label: &'static str, scalar: &Scalar) -> &mut Self {
        self.absorb(Kind::Scalar, label.as_bytes(), &scalar.to_bytes());
        self
    }

    /// Absorbs an integer at the fixed width of its type.
    pub fn integer<const L: usize>(&mut self, label: &'static str, value: &Uint<L>) -> &mut Self {
        self.absorb(
            Kind::Integer,
            label.as_bytes(),
            value.to_be_bytes().as_ref(),
        );
        self
    }

    /// Absorbs a small integer.
    pub fn u64(&mut self, label: &'static str, value: u64) -> &mut Self {
        self.absorb(Kind::Integer, label.as_bytes(), &value.to_be_bytes());
        self
    }

    /// Ends the transcript with its 32-byte digest.
    #[must_use]
    pub fn finish(self) -> [u8; 32] {
        self.hasher.finalize().into()
    }

    /// Ends the transcript with an output stream of any length.
    #[must_use]
    pub fn into_xof(self) -> Xof {
        Xof {
            seed: self.finish(),
            counter: 0,
        }
    }

    /// Ends the transcript with a scalar challenge, uniform mod q up to 2^-256.
    #[must_use]
    pub fn challenge_scalar(self) -> Scalar {
        let mut wide = [0u8; 64];
        self.into_xof().fill(&mut wide);
        <Scalar as Reduce<U512>>::reduce(&U512::from_be_slice(&wide))
    }
}

/// A counter-mode SHA-256 output stream seeded by a finished transcript.
pub struct Xof {
    seed: [u8; 32],
    counter: u64,
}

impl Xof {
    /// Fills `out` with the next output bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            let block: [u8; 32] = h.finalize().into();
            chunk.copy_from_slice(block.get(..chunk.len()).unwrap_or(&block));
        }
    }

    /// Draws an integer uniform mod `modulus` up to 2^-128; `W` must hold 128 bits more than it.
    pub fn integer_mod<const W: usize>(&mut self, modulus: &NonZero<Uint<W>>) -> Uint<W> {
        let mut buf = [0u8; 1024];
        // vartime: the modulus of a public challenge.
        let len = (modulus.bit_width_vartime() as usize).div_ceil(8) + 16;
        let len = len.min(Uint::<W>::BYTES).min(buf.len());
        let bytes = buf.get_mut(..len).unwrap_or_default();
        self.fill(bytes);
        let wide = crate::bigint::from_be::<W>(bytes).unwrap_or(Uint::ZERO);
        // vartime: the challenge and the modulus are public.
        wide.rem_vartime(modulus)
    }
}
