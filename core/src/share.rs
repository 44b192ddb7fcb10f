//! Key shares: what each party keeps after keygen, and the abort lock.

mod codec;

pub use codec::role_of;

use core::fmt;

use k256::{AffinePoint, ProjectivePoint, Scalar};

use zeroize::Zeroize;

use crate::{
    Error, Result, bigint, curve,
    paillier::{Ciphertext, PublicKey, SecretKey},
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

/// The integer x1 is kept unreduced: refresh adds ρ over the integers so that it stays the
/// exact Paillier plaintext of c_key. It grows by less than q per epoch.
pub type X1 = crypto_bigint::U384;

/// P1's share: x1, the Paillier secret key and c_key = Enc(x1).
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct KeyShareP1 {
    pub(crate) x1: X1,
    pub(crate) paillier: SecretKey,
    pub(crate) c_key: Ciphertext,
    pub(crate) public: PublicShares,
    pub(crate) own_pid: [u8; ID_LEN],
    pub(crate) peer_pid: [u8; ID_LEN],
    pub(crate) epoch: u64,
    pub(crate) locked: bool,
}

/// P2's share: x2, P1's Paillier public key and c_key.
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct KeyShareP2 {
    pub(crate) x2: Scalar,
    pub(crate) paillier: PublicKey,
    pub(crate) c_key: Ciphertext,
    pub(crate) public: PublicShares,
    pub(crate) own_pid: [u8; ID_LEN],
    pub(crate) peer_pid: [u8; ID_LEN],
    pub(crate) epoch: u64,
}

impl KeyShareP1 {
    /// The joint public key and both halves.
    #[must_use]
    pub fn public(&self) -> &PublicShares {
        &self.public
    }

    /// Whether a failed signature locked this share. A caller must persist the lock before
    /// it does anything else, and must never unlock it.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Our party id and the peer's, as recorded at keygen.
    #[must_use]
    pub fn pids(&self) -> (&[u8; ID_LEN], &[u8; ID_LEN]) {
        (&self.own_pid, &self.peer_pid)
    }

    /// The refresh epoch (0 after keygen).
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Fingerprint of the public state both parties must share: (Q, N, c_key, epoch).
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint(
            &self.public,
            self.paillier.public_key(),
            &self.c_key,
            self.epoch,
        )
    }

    /// Admits a session: the share is not locked and the context's pids are the recorded
    /// ones. Returns the share's fingerprint.
    pub(crate) fn admit(&self, ctx: &Context<'_>) -> Result<[u8; 32]> {
        if self.locked {
            return Err(Error::KeyLocked);
        }
        same_pids(ctx, &self.own_pid, &self.peer_pid)?;
        Ok(self.fingerprint())
    }

    /// Checks x1·G = Q1, Q1 + Q2 = Q and Dec(c_key) = x1.
    ///
    /// # Errors
    /// [`Error::InvalidShare`].
    pub fn check(&self) -> Result<()> {
        let consistent = curve::mul_g(&bigint::reduce_mod_q(&self.x1)) == self.public.q1
            && PublicShares::combine(self.public.q1, self.public.q2).ok() == Some(self.public)
            && self.paillier.decrypt(&self.c_key) == self.x1.resize();
        if consistent {
            Ok(())
        } else {
            Err(Error::InvalidShare)
        }
    }
}

impl KeyShareP2 {
    /// The joint public key and both halves.
    #[must_use]
    pub fn public(&self) -> &PublicShares {
        &self.public
    }

    /// Our party id and the peer's, as recorded at keygen.
    #[must_use]
    pub fn pids(&self) -> (&[u8; ID_LEN], &[u8; ID_LEN]) {
        (&self.own_pid, &self.peer_pid)
    }

    /// The refresh epoch (0 after keygen).
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Fingerprint of the public state both parties must share: (Q, N, c_key, epoch).
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint(&self.public, &self.paillier, &self.c_key, self.epoch)
    }

    /// Admits a session: the context's pids are the recorded ones and P1 holds this very
    /// share (its fingerprint). Returns the fingerprint.
    pub(crate) fn admit(&self, ctx: &Context<'_>, peer_fingerprint: &[u8; 32]) -> Result<[u8; 32]> {
        same_pids(ctx, &self.own_pid, &self.peer_pid)?;
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

    /// Checks x2·G = Q2 and Q1 + Q2 = Q.
    ///
    /// # Errors
    /// [`Error::InvalidShare`].
    pub fn check(&self) -> Result<()> {
        let consistent = curve::mul_g(&self.x2) == self.public.q2
            && PublicShares::combine(self.public.q1, self.public.q2).ok() == Some(self.public);
        if consistent {
            Ok(())
        } else {
            Err(Error::InvalidShare)
        }
    }
}

/// The context's pids must be those recorded in the share.
fn same_pids(ctx: &Context<'_>, own: &[u8; ID_LEN], peer: &[u8; ID_LEN]) -> Result<()> {
    if ctx.own_pid == *own && ctx.peer_pid == *peer {
        Ok(())
    } else {
        Err(Error::SessionMismatch)
    }
}

fn fingerprint(public: &PublicShares, key: &PublicKey, c_key: &Ciphertext, epoch: u64) -> [u8; 32] {
    let mut t = Transcript::new(tags::KEY_FINGERPRINT);
    t.point("Q", &public.q)
        .point("Q1", &public.q1)
        .point("Q2", &public.q2)
        .integer("N", key.modulus())
        .integer("c_key", c_key.as_uint())
        .u64("epoch", epoch);
    t.finish()
}

impl Drop for KeyShareP1 {
    fn drop(&mut self) {
        self.x1.zeroize();
    }
}

impl Drop for KeyShareP2 {
    fn drop(&mut self) {
        self.x2.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for KeyShareP1 {}
impl zeroize::ZeroizeOnDrop for KeyShareP2 {}

impl fmt::Debug for KeyShareP1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShareP1")
            .field("public", &self.public)
            .field("epoch", &self.epoch)
            .field("locked", &self.locked)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for KeyShareP2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShareP2")
            .field("public", &self.public)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}
