//! The one error type of the protocol core.

use core::fmt;

/// Which proof failed to verify.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proof {
    /// Schnorr proof of knowledge of a discrete logarithm (Q1, Q2, R1, R2).
    DlogPoK,
    /// The Paillier modulus is valid: N-th roots, gcd(N, φ(N)) = 1.
    PaillierKey,
    /// PDL: the plaintext of `c_key` is the discrete log of Q1.
    Pdl,
    /// The Paillier plaintext of `c_key` equals the Pedersen-committed value.
    PaillierPedersenEq,
    /// The Pedersen-committed value lies in range.
    Range,
}

/// Everything that can go wrong in a protocol round.
///
/// Values carry no secret-dependent data: they are safe to log and to show.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// A message has the wrong length, version, type or a non-canonical field.
    Malformed,
    /// A point is not a canonical compressed point on secp256k1, or is the identity.
    InvalidPoint,
    /// A Paillier ciphertext is out of range or shares a factor with N.
    InvalidCiphertext,
    /// The peer's Paillier modulus has the wrong size, is even, or has a small factor.
    PaillierModulus,
    /// A zero-knowledge proof did not verify.
    ProofInvalid(Proof),
    /// A commitment was not opened to the value it committed to.
    CommitmentMismatch,
    /// The peer runs another session: another key, another digest or another identity.
    SessionMismatch,
    /// The final ECDSA signature does not verify; for P1 this locks the key share.
    SignatureInvalid,
    /// The key share is locked after a failed signature and must not be used again.
    KeyLocked,
    /// A key share is not self-consistent.
    InvalidShare,
    /// The caller's output buffer is too small for the message.
    BufferTooSmall,
}

impl Error {
    /// Whether this error means the peer may be trying to extract the key.
    ///
    /// Only [`Error::SignatureInvalid`] does: P1 has then locked its share.
    #[must_use]
    pub const fn locks_key(&self) -> bool {
        matches!(self, Self::SignatureInvalid)
    }
}

impl From<Proof> for Error {
    fn from(proof: Proof) -> Self {
        Self::ProofInvalid(proof)
    }
}

impl fmt::Display for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DlogPoK => "discrete-log proof of knowledge",
            Self::PaillierKey => "Paillier key validity proof",
            Self::Pdl => "PDL proof",
            Self::PaillierPedersenEq => "Paillier-Pedersen equality proof",
            Self::Range => "range proof",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed protocol message"),
            Self::InvalidPoint => f.write_str("invalid curve point"),
            Self::InvalidCiphertext => f.write_str("invalid Paillier ciphertext"),
            Self::PaillierModulus => f.write_str("invalid Paillier modulus"),
            Self::ProofInvalid(p) => write!(f, "{p} did not verify"),
            Self::CommitmentMismatch => f.write_str("commitment opened to another value"),
            Self::SessionMismatch => {
                f.write_str("peer is in another session (key, digest or identity differs)")
            }
            Self::SignatureInvalid => {
                f.write_str("final signature does not verify: the key share is now locked")
            }
            Self::KeyLocked => f.write_str("key share is locked after a failed signature"),
            Self::InvalidShare => f.write_str("key share is not self-consistent"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
        }
    }
}

impl core::error::Error for Error {}

/// Result with the core's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
