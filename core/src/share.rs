//! Key shares: what each party keeps after keygen, and the abort lock.

mod codec;
mod receipt;

pub use codec::role_of;
pub use receipt::Receipt;

use core::fmt;

use k256::{AffinePoint, ProjectivePoint, Scalar};

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{
    Error, Party, Result, bigint,
    bip32::{self, ChainCode, DerivationPath, ExtendedPublicKey},
    curve,
    paillier::{Ciphertext, PublicKey, SecretKey},
    ring_pedersen::RingPedersenParams,
    session::{Context, ID_LEN},
    tags,
    transcript::Transcript,
};

/// The public part both parties agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicShares {
    /// The joint public key Q = Q1 + Q2.
    pub q: AffinePoint,
    /// P1's share of it, x1·G.
    pub q1: AffinePoint,
    /// P2's share of it, x2·G.
    pub q2: AffinePoint,
}

impl PublicShares {
    /// Builds Q = Q1 + Q2.
    ///
    /// # Errors
    /// [`Error::InvalidPoint`] if Q is the identity (Q1 = −Q2: a rogue key).
    pub(crate) fn combine(q1: AffinePoint, q2: AffinePoint) -> Result<Self> {
        let q = (ProjectivePoint::from(q1) + ProjectivePoint::from(q2)).to_affine();
        if curve::is_identity(&q) {
            return Err(Error::InvalidPoint);
        }
        Ok(Self { q, q1, q2 })
    }
}

/// The integer x1, the exact Paillier plaintext of c_key: refresh encrypts x1 mod q under the
/// new key and adds ρ < q to both over the integers, so x1 < 2q after any refresh (< q after
/// keygen). A share refreshed by a release before protocol 6 may hold a larger x1 (those
/// added ρ to the unreduced x1, < q per epoch); it loads, signs, and its next refresh
/// reduces it.
pub(crate) type X1 = crypto_bigint::U384;

impl Common {
    /// The common part of a share fresh from keygen (epoch 0).
    pub(crate) fn new(
        public: PublicShares,
        c_key: Ciphertext,
        own_pid: [u8; ID_LEN],
        peer_pid: [u8; ID_LEN],
        chain_code: ChainCode,
    ) -> Self {
        Self {
            public,
            c_key,
            own_pid,
            peer_pid,
            epoch: 0,
            chain_code: Some(chain_code),
        }
    }

    /// The context's pids must be those recorded in the share.
    fn same_pids(&self, ctx: &Context<'_>) -> Result<()> {
        if ctx.own_pid == self.own_pid && ctx.peer_pid == self.peer_pid {
            Ok(())
        } else {
            Err(Error::SessionMismatch)
        }
    }

    /// Q1 + Q2 = Q, as recorded.
    fn public_consistent(&self) -> bool {
        PublicShares::combine(self.public.q1, self.public.q2).ok() == Some(self.public)
    }
}

/// P1's share: x1, the Paillier secret key and c_key = Enc(x1).
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KeyShareP1 {
    pub(crate) x1: X1,
    pub(crate) paillier: SecretKey,
    #[zeroize(skip)]
    pub(crate) common: Common,
    /// Hash of P1's ring-Pedersen parameters the key was made under: signing needs the
    /// secret whose parameters hash to it.
    #[zeroize(skip)]
    pub(crate) params_hash: [u8; 32],
    // Not secret, and a wiped share must not read as unlocked.
    #[zeroize(skip)]
    pub(crate) locked: bool,
}

/// P2's share: x2, P1's Paillier public key and c_key.
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KeyShareP2 {
    pub(crate) x2: Scalar,
    #[zeroize(skip)]
    pub(crate) paillier: PublicKey,
    /// P1's ring-Pedersen parameters, verified (Π^prm) before keygen: π_c3 commits under them.
    #[zeroize(skip)]
    pub(crate) params: RingPedersenParams,
    #[zeroize(skip)]
    pub(crate) common: Common,
}

/// The seal of [`KeyShare`] and the common part it reads. Public inside a private module:
/// nameable in this crate only, so nobody else can implement the trait or build a share.
mod sealed {
    use super::{ChainCode, Ciphertext, ID_LEN, PublicKey, PublicShares};

    /// Only this crate's share types are key shares.
    pub trait Sealed {
        /// The fields both shares hold.
        fn common(&self) -> &Common;
        /// P1's Paillier public key, under which c_key is encrypted.
        fn paillier_public(&self) -> &PublicKey;
        /// Hash of P1's ring-Pedersen parameters the key was made under.
        fn pinned_params_hash(&self) -> [u8; 32];
        /// Whether the secret half matches the public one: x_i·G = Q_i, and for P1
        /// Dec(c_key) = x1.
        fn secret_consistent(&self) -> bool;
    }

    /// What both parties' shares hold alike: the public state and who the key is shared with.
    /// Embedded in [`KeyShareP1`](super::KeyShareP1) and [`KeyShareP2`](super::KeyShareP2);
    /// [`KeyShare`](super::KeyShare) reads it for both.
    // Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): see `KeyShareP1`.
    #[cfg_attr(fuzzing, derive(Clone))]
    #[derive(Debug)]
    pub struct Common {
        /// Q, Q1 and Q2.
        pub(crate) public: PublicShares,
        /// c_key = Enc(x1) under P1's Paillier key.
        pub(crate) c_key: Ciphertext,
        /// Our party id, as recorded at keygen.
        pub(crate) own_pid: [u8; ID_LEN],
        /// The peer's party id, as recorded at keygen.
        pub(crate) peer_pid: [u8; ID_LEN],
        /// The refresh epoch (0 after keygen).
        pub(crate) epoch: u64,
        /// The BIP32 chain code agreed at keygen; `None` for a share made before keygen
        /// agreed one (share format 2), which signs with the master key only.
        pub(crate) chain_code: Option<ChainCode>,
    }
}

pub(crate) use sealed::Common;

/// A key share of either party: what a store or a caller needs without knowing which.
pub trait KeyShare: sealed::Sealed + Sized {
    /// Which party holds this kind of share.
    const PARTY: Party;
    /// Length of the encoded share file.
    const ENCODED_LEN: usize;

    /// The joint public key and both halves.
    #[must_use]
    fn public(&self) -> &PublicShares {
        &self.common().public
    }

    /// Our party id and the peer's, as recorded at keygen.
    #[must_use]
    fn pids(&self) -> (&[u8; ID_LEN], &[u8; ID_LEN]) {
        let c = self.common();
        (&c.own_pid, &c.peer_pid)
    }

    /// The refresh epoch (0 after keygen).
    #[must_use]
    fn epoch(&self) -> u64 {
        self.common().epoch
    }

    /// Hash of P1's ring-Pedersen parameters ([`RingPedersenParams::hash`]) the key was
    /// made under; the fingerprint covers it, so every sign and refresh session id does.
    #[must_use]
    fn params_hash(&self) -> [u8; 32] {
        self.pinned_params_hash()
    }

    /// Fingerprint of the public state both parties must share: (Q, N, c_key, epoch, the
    /// ring-Pedersen parameters' hash, and the chain code if the share has one).
    ///
    /// A share without a chain code (format 2) hashes exactly what it did before chain codes
    /// existed, so its fingerprint, and the agreement on it, do not change.
    #[must_use]
    fn fingerprint(&self) -> [u8; 32] {
        let c = self.common();
        let mut t = Transcript::new(tags::KEY_FINGERPRINT);
        t.point("Q", &c.public.q)
            .point("Q1", &c.public.q1)
            .point("Q2", &c.public.q2)
            .integer("N", self.paillier_public().modulus())
            .integer("c_key", c.c_key.as_uint())
            .u64("epoch", c.epoch)
            .bytes("params", &self.pinned_params_hash());
        if let Some(chain_code) = &c.chain_code {
            t.bytes("chain_code", chain_code);
        }
        t.finish()
    }

    /// The BIP32 chain code agreed at keygen (public: it is part of every xpub); `None` for
    /// a share made before keygen agreed one.
    #[must_use]
    fn chain_code(&self) -> Option<&ChainCode> {
        self.common().chain_code.as_ref()
    }

    /// The joint key with its chain code: the root of every derived key.
    ///
    /// # Errors
    /// [`Error::NoChainCode`] for a share made before chain codes.
    fn extended_key(&self) -> Result<ExtendedPublicKey> {
        let chain_code = self.chain_code().ok_or(Error::NoChainCode)?;
        ExtendedPublicKey::new(self.public().q, *chain_code).map_err(|_| Error::InvalidPoint)
    }

    /// The child key at `path` (BIP32 public derivation from Q and the chain code), with the
    /// tweak P2 adds and what an xpub of the child needs.
    ///
    /// # Errors
    /// [`Error::NoChainCode`] for a share made before chain codes (even for the path `m`:
    /// its result carries a chain code, which such a share does not have);
    /// [`Error::InvalidChildKey`] if a step hits BIP32's invalid child.
    fn derive(&self, path: &DerivationPath) -> Result<bip32::Derived> {
        let start = self.extended_key()?;
        bip32::derive_path(&start, path).map_err(|_| Error::InvalidChildKey)
    }

    /// Whether a failed signature locked this share (always false for P2's share). A
    /// caller must persist the lock before it does anything else, and must never unlock it.
    #[must_use]
    fn is_locked(&self) -> bool;

    /// Self-consistency check: x_i·G = Q_i, Q1 + Q2 = Q, and for P1 Dec(c_key) = x1.
    ///
    /// # Errors
    /// [`Error::InvalidShare`].
    fn check(&self) -> Result<()> {
        if self.secret_consistent() && self.common().public_consistent() {
            Ok(())
        } else {
            Err(Error::InvalidShare)
        }
    }

    /// Encodes into `out` (at least [`KeyShare::ENCODED_LEN`] bytes, secret material
    /// included: store it with care); returns the length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    fn encode(&self, out: &mut [u8]) -> Result<usize>;

    /// Decodes and checks a share file: format, checksum, key, and [`KeyShare::check`].
    ///
    /// # Errors
    /// [`Error::InvalidShare`] (or [`Error::InvalidPoint`] / [`Error::PaillierModulus`] for
    /// a bad field); [`Error::OldShareFormat`] for a share made before the ring-Pedersen
    /// parameters.
    fn decode(bytes: &[u8]) -> Result<Self>;

    /// As [`KeyShare::decode`], for a caller that decodes the same file many times: if
    /// `before` is the [`Receipt`] of exactly these bytes, the check of the secret half
    /// (x_i·G = Q_i, and for P1 the costly Dec(c_key) = x1) is skipped, since it passed for
    /// them before; every other check runs. Returns the share and the receipt of its bytes, to pass next time. Keep
    /// receipts in memory only (see [`Receipt`]).
    ///
    /// # Errors
    /// As [`KeyShare::decode`].
    fn decode_remembered(bytes: &[u8], before: Option<&Receipt>) -> Result<(Self, Receipt)>
    where
        Self: Sized;
}

impl sealed::Sealed for KeyShareP1 {
    fn common(&self) -> &Common {
        &self.common
    }
    fn paillier_public(&self) -> &PublicKey {
        self.paillier.public_key()
    }
    fn pinned_params_hash(&self) -> [u8; 32] {
        self.params_hash
    }
    fn secret_consistent(&self) -> bool {
        curve::mul_g(&bigint::reduce_mod_q(&self.x1)) == self.common.public.q1
            && self.paillier.decrypt(&self.common.c_key) == self.x1.resize()
    }
}

impl sealed::Sealed for KeyShareP2 {
    fn common(&self) -> &Common {
        &self.common
    }
    fn paillier_public(&self) -> &PublicKey {
        &self.paillier
    }
    fn pinned_params_hash(&self) -> [u8; 32] {
        self.params.hash()
    }
    fn secret_consistent(&self) -> bool {
        curve::mul_g(&self.x2) == self.common.public.q2
    }
}

impl KeyShare for KeyShareP1 {
    const PARTY: Party = Party::P1;
    const ENCODED_LEN: usize = codec::P1_LEN;

    fn is_locked(&self) -> bool {
        self.locked
    }

    fn encode(&self, out: &mut [u8]) -> Result<usize> {
        codec::encode_p1(self, out)
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        codec::decode_p1(bytes, codec::Checks::All)
    }

    fn decode_remembered(bytes: &[u8], before: Option<&Receipt>) -> Result<(Self, Receipt)> {
        receipt::decode_remembered(bytes, before, codec::decode_p1)
    }
}

impl KeyShare for KeyShareP2 {
    const PARTY: Party = Party::P2;
    const ENCODED_LEN: usize = codec::P2_LEN;

    fn is_locked(&self) -> bool {
        false
    }

    fn encode(&self, out: &mut [u8]) -> Result<usize> {
        codec::encode_p2(self, out)
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        codec::decode_p2(bytes, codec::Checks::All)
    }

    fn decode_remembered(bytes: &[u8], before: Option<&Receipt>) -> Result<(Self, Receipt)> {
        receipt::decode_remembered(bytes, before, codec::decode_p2)
    }
}

impl KeyShareP1 {
    /// Admits a session: the share is not locked and the context's pids are the recorded
    /// ones. Returns the share's fingerprint.
    pub(crate) fn admit(&self, ctx: &Context<'_>) -> Result<[u8; 32]> {
        if self.locked {
            return Err(Error::KeyLocked);
        }
        self.common.same_pids(ctx)?;
        Ok(self.fingerprint())
    }
}

impl KeyShareP2 {
    /// Admits a session: the context's pids are the recorded ones and P1 holds this very
    /// share (its fingerprint). Returns the fingerprint.
    pub(crate) fn admit(&self, ctx: &Context<'_>, peer_fingerprint: &[u8; 32]) -> Result<[u8; 32]> {
        self.common.same_pids(ctx)?;
        let fingerprint = self.fingerprint();
        if *peer_fingerprint != fingerprint {
            return Err(Error::SessionMismatch);
        }
        Ok(fingerprint)
    }

    /// P1's Paillier public key, under which c_key is encrypted.
    #[must_use]
    pub fn paillier_key(&self) -> &PublicKey {
        &self.paillier
    }

    /// P1's ring-Pedersen parameters, pinned at keygen.
    #[must_use]
    pub fn ring_pedersen_params(&self) -> &RingPedersenParams {
        &self.params
    }
}

impl fmt::Debug for KeyShareP1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShareP1")
            .field("public", &self.common.public)
            .field("epoch", &self.common.epoch)
            .field("locked", &self.locked)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for KeyShareP2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShareP2")
            .field("public", &self.common.public)
            .field("epoch", &self.common.epoch)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn zeroizing_a_share_wipes_its_secrets_and_keeps_the_lock() {
        let (mut s1, mut s2) = fixtures::keygen(40);
        s1.locked = true;
        s1.zeroize();
        assert_eq!(s1.x1, X1::ZERO);
        assert_eq!(s1.paillier.p.prime.get(), crypto_bigint::U1024::ONE);
        assert_eq!(s1.paillier.q_inv_p, crypto_bigint::U1024::ZERO);
        assert!(s1.is_locked(), "a wiped share must not read as unlocked");
        s2.zeroize();
        assert_eq!(s2.x2, Scalar::ZERO);
        // The public part is kept: it is what both parties already know.
        assert_eq!(s1.public(), s2.public());
    }
}
