//! Signing, P2's side: proves R2, then computes its half of s under P1's Paillier key.

use crypto_bigint::{NonZero, U384, U512, U640, U1024, Uint};

use crate::paillier::{Ciphertext, FixedBase, ModNN, NoncePower};
use k256::{AffinePoint, Scalar, ecdsa::Signature};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Digest, Msg1, Msg2, Msg3, Msg4, Msg5, RUN, digest_scalar, label, p1::r1_transcript};
use crate::{
    Error, Party, Result, bigint, commitment, curve,
    session::{self, Context, RunIds, SessionIds},
    share::{KeyShare, KeyShareP2},
    zk::{STAT_BITS, dlog::DlogProof},
};

/// Bits of the statistical mask beyond q²: ρ < q²·2^128.
pub const MASK_SLACK_BITS: u32 = 128;
const _: () = assert!(MASK_SLACK_BITS >= 128);

/// Bound on the mask ρ: q²·2^128.
const MASK_BOUND: U640 = bigint::order_sq_shl(MASK_SLACK_BITS);

/// P2 after sending [`Msg2`], waiting for [`Msg3`].
#[must_use]
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct AwaitMsg3<'s> {
    share: &'s KeyShareP2,
    pre: Presign,
    com_r1: [u8; 32],
    digest: Digest,
    ids: SessionIds,
}

/// P2 after sending [`Msg4`], waiting for the signature.
#[must_use]
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct AwaitMsg5<'s> {
    share: &'s KeyShareP2,
    r: Scalar,
    digest: Digest,
}

/// P2's work for one signature that depends neither on R1 nor on the message: the nonce k2
/// and R2, and the randomness of the ciphertext. Made ahead of time (a pool, off the critical
/// path), used once (consumed by value), wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
// Fuzzing only: the fuzz targets clone the state that holds it.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct Presign {
    k2: Scalar,
    #[zeroize(skip)]
    r2: AffinePoint,
    nonce: NoncePower,
    #[zeroize(skip)]
    fingerprint: [u8; 32],
}

impl Presign {
    /// Does the message-independent work of one signature with `share`.
    #[must_use]
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, share: &KeyShareP2) -> Self {
        let k2 = curve::random_scalar(rng);
        Self {
            k2,
            r2: curve::mul_g(&k2),
            nonce: share.paillier.nonce_power_random(rng),
            fingerprint: share.fingerprint(),
        }
    }
}

impl core::fmt::Debug for Presign {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Presign").finish_non_exhaustive()
    }
}

/// Answers P1's first message for `digest`.
///
/// # Errors
/// [`Error::SessionMismatch`] if P1's share fingerprint differs from ours (another key, epoch
/// or ring-Pedersen parameters) or the context's peer is not the peer recorded in the share.
pub fn start<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP2,
    ctx: &Context<'_>,
    digest: &Digest,
    msg: &Msg1,
) -> Result<(AwaitMsg3<'s>, Msg2)> {
    start_with(rng, share, ctx, digest, msg, None)
}

/// As [`start`], with the message-independent work done ahead of time ([`Presign::new`]);
/// `None` does it now.
///
/// # Errors
/// As [`start`]; [`Error::ForeignPrecomputation`] if `pre` was made for another share (or
/// another epoch of this one).
pub fn start_with<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP2,
    ctx: &Context<'_>,
    digest: &Digest,
    msg: &Msg1,
    pre: Option<Presign>,
) -> Result<(AwaitMsg3<'s>, Msg2)> {
    let fingerprint = share.admit(ctx, &msg.fingerprint)?;
    if pre.as_ref().is_some_and(|p| p.fingerprint != fingerprint) {
        return Err(Error::ForeignPrecomputation);
    }
    let run = RunIds::new(ctx, Party::P2, RUN, &msg.nonce1, &fingerprint)?;
    let nonce2 = session::nonce(rng);
    let ids = run.with_nonce2(&nonce2);
    let pre = pre.unwrap_or_else(|| Presign::new(rng, share));
    let r2 = pre.r2;
    let proof_r2 = DlogProof::prove(rng, &pre.k2, &r2, &ids.proof_by(Party::P2, label::R2));
    let state = AwaitMsg3 {
        share,
        pre,
        com_r1: msg.com_r1,
        digest: *digest,
        ids,
    };
    Ok((
        state,
        Msg2 {
            nonce2,
            r2,
            proof_r2,
        },
    ))
}

impl<'s> AwaitMsg3<'s> {
    /// Opens R1, checks P1's proof, and sends c encrypting k2⁻¹·(m + r·x) + ρ·q (mod q: s·k1).
    ///
    /// # Errors
    /// [`Error::CommitmentMismatch`] if R1 or the digest differ from P1's commitment;
    /// [`Error::ProofInvalid`] if P1's proof fails; [`Error::DegenerateNonce`] if r = 0.
    pub fn on_msg3<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg3,
    ) -> Result<(AwaitMsg5<'s>, Msg4)> {
        self.on_msg3_with(rng, msg, None)
    }

    /// As [`AwaitMsg3::on_msg3`], with the fixed-base table of c_key ⊕ q·2^64 built ahead of
    /// time (once per share), if the caller has one.
    ///
    /// # Errors
    /// As [`AwaitMsg3::on_msg3`]; [`Error::ForeignPrecomputation`] if the table was made for
    /// another share.
    pub fn on_msg3_with<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg3,
        table: Option<&Precomputed<'_>>,
    ) -> Result<(AwaitMsg5<'s>, Msg4)> {
        let share = self.share;
        commitment::open(
            &self.com_r1,
            r1_transcript(&msg.r1, &self.digest, &self.ids.run),
            &msg.open_r1,
        )?;
        msg.proof_r1
            .verify(&msg.r1, &self.ids.proof_by(Party::P1, label::R1))?;
        let (_, r) = super::joint_r(&self.pre.k2, &msg.r1)?;
        if table.is_some_and(|t| t.fingerprint != share.fingerprint()) {
            return Err(Error::ForeignPrecomputation);
        }
        let m = digest_scalar(&self.digest);
        let c = homomorphic_half(rng, share, self.pre, &r, &m, table)?;
        Ok((
            AwaitMsg5 {
                share,
                r,
                digest: self.digest,
            },
            Msg4 { c },
        ))
    }
}

/// c = (c_key ⊕ q·2^64)^(w1·r) ⊕ Enc(w1·m + w2·r + ρ·q) with w1 = k2⁻¹, w2 = k2⁻¹·x2.
///
/// Adding q·2^64 (≡ 0 mod q) keeps the plaintext positive whatever x1 in [0, q·2^64) the range
/// proof allowed, so nothing wraps mod N; ρ·q masks everything but the value mod q.
fn homomorphic_half<R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &KeyShareP2,
    pre: Presign,
    r: &Scalar,
    m: &Scalar,
    table: Option<&Precomputed<'_>>,
) -> Result<ModNN> {
    let key = &share.paillier;
    let mut w1 = Option::<Scalar>::from(pre.k2.invert()).unwrap_or(Scalar::ZERO);
    let mut w2 = w1 * share.x2;
    let mut rho = NonZero::new(MASK_BOUND)
        .into_option()
        .map_or(Uint::ZERO, |b| bigint::random_below(rng, &b));
    let mut w1_int: U512 = bigint::scalar_to_uint(&w1);
    let mut w2_int: U512 = bigint::scalar_to_uint(&w2);
    let q: U1024 = bigint::ORDER.resize();
    let mut plain: U1024 = w1_int
        .wrapping_mul(&bigint::scalar_to_uint::<{ U512::LIMBS }>(m))
        .resize::<{ U1024::LIMBS }>()
        .wrapping_add(
            &w2_int
                .wrapping_mul(&bigint::scalar_to_uint::<{ U512::LIMBS }>(r))
                .resize(),
        )
        .wrapping_add(&rho.resize::<{ U1024::LIMBS }>().wrapping_mul(&q));
    let c_tag = key.encrypt_with_nonce(&plain, &pre.nonce);
    let mut exponent: U512 = w1_int.wrapping_mul(&bigint::scalar_to_uint::<{ U512::LIMBS }>(r));
    let raised = match table {
        Some(t) => key.pow_fixed(&t.table, &exponent),
        None => Ok(key.mul_plain(&shifted_key(share), &exponent)),
    };
    // w1 and w2 = k2⁻¹·x2 together give x2.
    w1.zeroize();
    w2.zeroize();
    w1_int.zeroize();
    w2_int.zeroize();
    rho.zeroize();
    plain.zeroize();
    exponent.zeroize();
    Ok(key.add(&raised?, &c_tag?).0)
}

/// c_key ⊕ q·2^64: the base P2 raises in every signature.
fn shifted_key(share: &KeyShareP2) -> Ciphertext {
    let shift: U384 = bigint::order_shl(STAT_BITS);
    share.paillier.add_plain(&share.common.c_key, &shift)
}

/// Bits of P2's exponent w1·r (< q²).
pub const EXPONENT_BITS: u32 = 512;

/// Entries of P2's fixed-base table for `window`-bit digits (512 bytes each).
#[must_use]
pub const fn table_len(window: u32) -> usize {
    crate::paillier::table_len(window, EXPONENT_BITS)
}

/// P2's fixed-base table for one share, in caller-owned storage of [`table_len`] entries.
pub struct Precomputed<'t> {
    table: FixedBase<'t>,
    fingerprint: [u8; 32],
}

impl<'t> Precomputed<'t> {
    /// Builds the table of c_key ⊕ q·2^64 for `share` (once per share, about 2^w/w
    /// multiplications per exponent bit).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `storage` does not hold exactly [`table_len`]`(window)`.
    pub fn new(share: &KeyShareP2, window: u32, storage: &'t mut [ModNN]) -> Result<Self> {
        let base = shifted_key(share);
        let table = share
            .paillier
            .fixed_base(&base, window, EXPONENT_BITS, storage)?;
        Ok(Self {
            table,
            fingerprint: share.fingerprint(),
        })
    }
}

impl core::fmt::Debug for Precomputed<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Precomputed")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl AwaitMsg5<'_> {
    /// Checks P1's signature: same r, low s, valid under Q.
    ///
    /// # Errors
    /// [`Error::SignatureInvalid`].
    pub fn on_msg5(self, msg: &Msg5) -> Result<Signature> {
        if msg.r != self.r {
            return Err(Error::SignatureInvalid);
        }
        let sig = Signature::from_scalars(msg.r, msg.s).map_err(|_| Error::SignatureInvalid)?;
        if sig.normalize_s() != sig {
            return Err(Error::SignatureInvalid);
        }
        super::verify(&self.share.common.public.q, &self.digest, &sig)?;
        Ok(sig)
    }
}

impl core::fmt::Debug for AwaitMsg3<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitMsg3").finish_non_exhaustive()
    }
}

impl core::fmt::Debug for AwaitMsg5<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitMsg5").finish_non_exhaustive()
    }
}
