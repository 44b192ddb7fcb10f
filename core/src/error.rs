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
    /// The Paillier plaintext of `c_key` equals the Pedersen-committed value and the discrete
    /// log of Q1.
    PaillierPedersenEq,
    /// The Pedersen-committed value lies in range.
    Range,
    /// Ring-Pedersen parameters: g lies in the group h generates (Π^prm).
    RingPedersenParams,
    /// π_c3: P2's signing ciphertext c is well formed (its plaintext is k2⁻¹·(m + r·x) + ρ·q
    /// for the k2 of R2, the x2 of Q2 and a bounded ρ), checked before P1 decrypts anything.
    SignCiphertext,
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
    /// The peer's Paillier modulus has the wrong size, is even, has a small factor, or is
    /// prime (its key proof's roots all equal their challenges).
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
    /// A key share (or its file) is damaged or not self-consistent; also a step on a state
    /// in the caller's slot (`on_msg2_from`) given an empty slot (no run started, or its
    /// state already consumed) or a state whose commitment never completed.
    InvalidShare,
    /// The caller's output buffer is too small for the message.
    BufferTooSmall,
    /// The share's refresh epoch cannot advance further: the share can still sign, but a
    /// new key must be generated to refresh again.
    EpochExhausted,
    /// A refresh result would change the joint public key Q; the old share stays in use.
    RefreshChangesKey,
    /// A precomputed table or nonce was made for another key (or another exponent size);
    /// build it again for this share.
    ForeignPrecomputation,
    /// The joint nonce is degenerate (r = 0); sign again with fresh nonces.
    DegenerateNonce,
    /// Ring-Pedersen parameters have the wrong size, an even modulus, g = h, or a g or h
    /// that is not a unit in (1, N̂ − 1).
    PedersenParameters,
    /// The ring-Pedersen parameters are not the ones pinned in the key share, or not the ones
    /// the peer announced: use the parameter set the share was made with (P1), or verify and
    /// pin the peer's current set before keygen (P2).
    ParamsMismatch,
    /// The share was made before keygen agreed on a BIP32 chain code (share format 2): it
    /// signs with the master key only; a new keygen is needed to derive child keys.
    NoChainCode,
    /// The parties asked to sign under different BIP32 derivation paths (a caller mistake,
    /// caught before anything is computed from the peer's messages).
    PathMismatch,
    /// BIP32's invalid child (I_L ≥ n or the point at infinity, odds below 2^-127) along the
    /// path: use the next index.
    InvalidChildKey,
    /// A share file in a format this version no longer reads (format 1, made before the
    /// ring-Pedersen parameters that signing's proof π_c3 needs): it cannot sign or refresh;
    /// run keygen again on both parties and move the funds to the new key.
    OldShareFormat,
    /// A fixed-base table's window is outside 1..=[`crate::MAX_WINDOW`] bits: pick a window in that
    /// range (4 is the usual trade of memory for speed).
    TableWindow,
    /// A party could not write its share or its lock record (a full disk, a read-only file
    /// system, permissions) and stopped the run: sent in an abort so that the peer hears why
    /// instead of seeing the connection close. The core never returns it from a round.
    StorageFailed,
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

impl Error {
    /// A one-byte code for the abort message; [`Error::from_code`] reverses it.
    #[must_use]
    pub const fn code(&self) -> u8 {
        match self {
            Self::Malformed => 1,
            Self::InvalidPoint => 2,
            Self::InvalidCiphertext => 3,
            Self::PaillierModulus => 4,
            Self::ProofInvalid(Proof::DlogPoK) => 5,
            Self::ProofInvalid(Proof::PaillierKey) => 6,
            // 7 named the PDL proof up to protocol 3 (the equality proof took over its
            // statement): never reused.
            Self::ProofInvalid(Proof::PaillierPedersenEq) => 8,
            Self::ProofInvalid(Proof::Range) => 9,
            Self::CommitmentMismatch => 10,
            Self::SessionMismatch => 11,
            Self::SignatureInvalid => 12,
            Self::KeyLocked => 13,
            Self::InvalidShare => 14,
            Self::BufferTooSmall => 15,
            // 16 named the Paillier–Paillier equality proof of refresh up to protocol 5
            // (refresh now proves c_key' with keygen's proofs): never reused.
            Self::EpochExhausted => 17,
            Self::RefreshChangesKey => 18,
            Self::ForeignPrecomputation => 19,
            Self::DegenerateNonce => 20,
            Self::ProofInvalid(Proof::RingPedersenParams) => 21,
            Self::PedersenParameters => 22,
            Self::ParamsMismatch => 23,
            Self::ProofInvalid(Proof::SignCiphertext) => 24,
            Self::NoChainCode => 25,
            Self::PathMismatch => 26,
            Self::InvalidChildKey => 27,
            Self::TableWindow => 28,
            Self::OldShareFormat => 29,
            Self::StorageFailed => 30,
        }
    }

    /// The error an abort code names; unknown codes read as [`Error::Malformed`].
    #[must_use]
    pub const fn from_code(code: u8) -> Self {
        match code {
            2 => Self::InvalidPoint,
            3 => Self::InvalidCiphertext,
            4 => Self::PaillierModulus,
            5 => Self::ProofInvalid(Proof::DlogPoK),
            6 => Self::ProofInvalid(Proof::PaillierKey),
            8 => Self::ProofInvalid(Proof::PaillierPedersenEq),
            9 => Self::ProofInvalid(Proof::Range),
            10 => Self::CommitmentMismatch,
            11 => Self::SessionMismatch,
            12 => Self::SignatureInvalid,
            13 => Self::KeyLocked,
            14 => Self::InvalidShare,
            15 => Self::BufferTooSmall,
            17 => Self::EpochExhausted,
            18 => Self::RefreshChangesKey,
            19 => Self::ForeignPrecomputation,
            20 => Self::DegenerateNonce,
            21 => Self::ProofInvalid(Proof::RingPedersenParams),
            22 => Self::PedersenParameters,
            23 => Self::ParamsMismatch,
            24 => Self::ProofInvalid(Proof::SignCiphertext),
            25 => Self::NoChainCode,
            26 => Self::PathMismatch,
            27 => Self::InvalidChildKey,
            28 => Self::TableWindow,
            29 => Self::OldShareFormat,
            30 => Self::StorageFailed,
            _ => Self::Malformed,
        }
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
            Self::PaillierPedersenEq => "Paillier-Pedersen equality proof",
            Self::Range => "range proof",
            Self::RingPedersenParams => "ring-Pedersen parameter proof (Π^prm)",
            Self::SignCiphertext => "signing ciphertext proof (π_c3)",
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
            Self::InvalidShare => f.write_str("key share is damaged or not self-consistent"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
            Self::EpochExhausted => f.write_str(
                "key share has reached its last refresh epoch: it can still sign, but refreshing \
                 again needs a new key",
            ),
            Self::RefreshChangesKey => {
                f.write_str("refresh would change the joint public key: the old share is kept")
            }
            Self::ForeignPrecomputation => f.write_str(
                "precomputed table or nonce was made for another key: build it for this share",
            ),
            Self::DegenerateNonce => f.write_str("degenerate nonce (r = 0): sign again"),
            Self::PedersenParameters => f.write_str(
                "invalid ring-Pedersen parameters (modulus size or parity, g = h, or g or h not \
                 a unit)",
            ),
            Self::ParamsMismatch => f.write_str(
                "ring-Pedersen parameters differ from those pinned in the share or announced by \
                 the peer",
            ),
            Self::NoChainCode => f.write_str(
                "this share was made before chain codes; run a new keygen to derive child keys",
            ),
            Self::PathMismatch => f.write_str(
                "the parties signed under different derivation paths: give both the same path",
            ),
            Self::InvalidChildKey => f.write_str(
                "the derivation path hits BIP32's invalid child (odds below 2^-127): use the \
                 next index",
            ),
            Self::OldShareFormat => f.write_str(
                "key share made by an older version, before the commitment parameters signing \
                 needs: run keygen again on both parties",
            ),
            Self::TableWindow => f.write_str(
                "fixed-base table window out of range: use 1 to 8 bits (4 is the usual choice)",
            ),
            Self::StorageFailed => f.write_str(
                "a party could not write its key share or lock record (full disk, read-only file \
                 system or permissions)",
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Result with the core's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_codes_round_trip() {
        let all = [
            Error::Malformed,
            Error::InvalidPoint,
            Error::InvalidCiphertext,
            Error::PaillierModulus,
            Error::ProofInvalid(Proof::DlogPoK),
            Error::ProofInvalid(Proof::PaillierKey),
            Error::ProofInvalid(Proof::PaillierPedersenEq),
            Error::ProofInvalid(Proof::Range),
            Error::CommitmentMismatch,
            Error::SessionMismatch,
            Error::SignatureInvalid,
            Error::KeyLocked,
            Error::InvalidShare,
            Error::BufferTooSmall,
            Error::EpochExhausted,
            Error::RefreshChangesKey,
            Error::ForeignPrecomputation,
            Error::DegenerateNonce,
            Error::ProofInvalid(Proof::RingPedersenParams),
            Error::PedersenParameters,
            Error::ParamsMismatch,
            Error::ProofInvalid(Proof::SignCiphertext),
            Error::NoChainCode,
            Error::PathMismatch,
            Error::InvalidChildKey,
            Error::TableWindow,
            Error::OldShareFormat,
            Error::StorageFailed,
        ];
        for e in all {
            assert_eq!(Error::from_code(e.code()), e);
        }
        assert_eq!(Error::from_code(200), Error::Malformed);
        // Codes are assigned once: new variants take new codes.
        assert_eq!(Error::EpochExhausted.code(), 17);
        assert_eq!(Error::DegenerateNonce.code(), 20);
        // The retired codes (PDL's, the Paillier–Paillier equality proof's) read as unknown.
        assert_eq!(Error::from_code(7), Error::Malformed);
        assert_eq!(Error::from_code(16), Error::Malformed);
    }
}
