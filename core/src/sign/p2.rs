//! Signing, P2's side: proves R2, then computes its half of s under P1's Paillier key and
//! proves it well formed (π_c3).

use crypto_bigint::U2048;
use k256::{AffinePoint, Scalar, ecdsa::Signature};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{
    Derivation, Digest, Msg1, Msg2, Msg3, Msg4, Msg5, RUN, digest_scalar, label, p1::r1_transcript,
    shifted_key,
};
pub use crate::zk::MASK_SLACK_BITS;
use crate::{
    Error, Party, Result,
    bip32::DerivationPath,
    commitment, curve,
    paillier::{Ciphertext, FixedBase, ModNN},
    ring_pedersen::CommitTables,
    session::{self, Context, RunIds, SessionIds},
    share::{KeyShare, KeyShareP2},
    zk::{
        dlog::DlogProof,
        sign_ciphertext::{Prover, Statement},
    },
};

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
    /// δ of the derivation path (0 for the joint key): P2 signs with x2 + δ.
    tweak: Scalar,
    ids: SessionIds,
}

/// P2 after sending [`Msg4`], waiting for the signature.
#[must_use]
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct AwaitMsg5<'s> {
    // Holds the share's borrow to the end of the session, as every earlier state does.
    share: core::marker::PhantomData<&'s KeyShareP2>,
    r: Scalar,
    digest: Digest,
    /// The key the signature must verify under (the child key under a path).
    q: AffinePoint,
}

/// P2's work for one signature that depends neither on R1 nor on the message: the nonce k2
/// and R2, and π_c3's witnesses, masks and commitments with the powers of C' and of the
/// Paillier nonces (docs/PROTOCOL.md, "Signing"). About 100 ms of work that a
/// pool does off the critical path; the online step is then two 256-bit exponentiations mod
/// N². Used once (consumed by value), wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
// Fuzzing only: the fuzz targets clone the state that holds it.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct Presign {
    k2: Scalar,
    #[zeroize(skip)]
    r2: AffinePoint,
    /// π_c3's work; `None` only inside a session started without a presign, which does this
    /// work at message 3 instead.
    prover: Option<Prover>,
    #[zeroize(skip)]
    fingerprint: [u8; 32],
}

impl Presign {
    /// Does the message-independent work of one signature with `share`.
    #[must_use]
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, share: &KeyShareP2) -> Self {
        Self::make(rng, share, None)
    }

    /// As [`Presign::new`], raising C' with the share's fixed-base table (about 5× faster
    /// for that part), and g and h with the parameters' tables if `table` has them
    /// ([`Precomputed::with_commit_tables`]).
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if the table was made for another share.
    pub fn new_with<R: CryptoRng + ?Sized>(
        rng: &mut R,
        share: &KeyShareP2,
        table: &Precomputed<'_>,
    ) -> Result<Self> {
        if table.fingerprint != share.fingerprint() {
            return Err(Error::ForeignPrecomputation);
        }
        Ok(Self::make(rng, share, Some(table)))
    }

    fn make<R: CryptoRng + ?Sized>(
        rng: &mut R,
        share: &KeyShareP2,
        table: Option<&Precomputed<'_>>,
    ) -> Self {
        let mut pre = Self::nonce(rng, share);
        let c_prime = shifted_key(&share.paillier, &share.common.c_key);
        pre.prover = Some(prover(
            rng, share, &share.x2, &pre.k2, &pre.r2, &c_prime, table,
        ));
        pre
    }

    /// π_c3's work of this presign, made now for x2 + `tweak` if the session started without
    /// it (no presign, or a derivation path). Borrowed where it lies: moved out, its 7 KB of
    /// secrets would leave an unwiped copy in the caller's frame; and not inlined, so that
    /// making it (under a path) does not add its locals to the online step's frame (party 1's
    /// firmware signing grew by 9 KiB when paths came, and lost it with this).
    #[inline(never)]
    fn prover_for<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        share: &KeyShareP2,
        tweak: &Scalar,
        c_prime: &Ciphertext,
        table: Option<&Precomputed<'_>>,
    ) -> &Prover {
        let Self {
            k2,
            r2,
            prover: slot,
            ..
        } = self;
        slot.get_or_insert_with(|| {
            let x2 = Zeroizing::new(share.x2 + tweak);
            prover(rng, share, &x2, k2, r2, c_prime, table)
        })
    }

    /// The nonce alone (k2, R2): a session started without a presign does the rest at
    /// message 3, so that its first reply stays as cheap as it was.
    fn nonce<R: CryptoRng + ?Sized>(rng: &mut R, share: &KeyShareP2) -> Self {
        let k2 = curve::random_scalar(rng);
        Self {
            k2,
            r2: curve::mul_g(&k2),
            prover: None,
            fingerprint: share.fingerprint(),
        }
    }
}

/// π_c3's message-independent work for nonce k2 with `share`, whose x2 is `x2` (the share's
/// own, or x2 + δ under a derivation path). `c_prime` is the share's C' = c_key ⊕ q·2^64,
/// which the caller computes once and also puts in π_c3's statement.
fn prover<R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &KeyShareP2,
    x2: &Scalar,
    k2: &Scalar,
    r2: &AffinePoint,
    c_prime: &Ciphertext,
    table: Option<&Precomputed<'_>>,
) -> Prover {
    Prover::new(
        rng,
        k2,
        x2,
        r2,
        &share.paillier,
        c_prime,
        table.map(|t| &t.table),
        &share.params,
        table.and_then(|t| t.commit.as_ref()),
    )
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
    start_derived(rng, share, ctx, digest, msg, pre, &DerivationPath::MASTER)
}

/// As [`start_with`], signing under the BIP32 child key at `path` (non-hardened; `m` is the
/// joint key): P2 signs with x2 + δ, δ the path's tweak. P1 must sign under the same path;
/// another path is refused before anything is computed. A presign keeps its nonce under a
/// path other than `m`, but its π_c3 work was made for x2 and is redone at message 3.
///
/// # Errors
/// As [`start`]; [`Error::PathMismatch`] if P1 signs under another path;
/// [`Error::NoChainCode`] for a path other than `m` on a share made before chain codes;
/// [`Error::InvalidChildKey`] if the path hits BIP32's invalid child;
/// [`Error::ForeignPrecomputation`] as [`start_with`].
pub fn start_derived<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP2,
    ctx: &Context<'_>,
    digest: &Digest,
    msg: &Msg1,
    pre: Option<Presign>,
    path: &DerivationPath,
) -> Result<(AwaitMsg3<'s>, Msg2)> {
    let fingerprint = share.admit(ctx, &msg.fingerprint)?;
    let derivation = Derivation::new(share, path)?;
    if msg.path_id != derivation.path_id {
        return Err(Error::PathMismatch);
    }
    if pre.as_ref().is_some_and(|p| p.fingerprint != fingerprint) {
        return Err(Error::ForeignPrecomputation);
    }
    let run = RunIds::new(
        ctx,
        Party::P2,
        RUN,
        &msg.nonce1,
        &derivation.session_extra(&fingerprint),
    )?;
    let nonce2 = session::nonce(rng);
    let ids = run.with_nonce2(&nonce2);
    let mut pre = pre.unwrap_or_else(|| Presign::nonce(rng, share));
    if !derivation.keeps_x2() {
        // Its witnesses and commitments were made for x2, not x2 + δ.
        pre.prover = None;
    }
    let r2 = pre.r2;
    let proof_r2 = DlogProof::prove(rng, &pre.k2, &r2, &ids.proof_by(Party::P2, label::R2));
    let state = AwaitMsg3 {
        share,
        pre,
        com_r1: msg.com_r1,
        digest: *digest,
        tweak: derivation.tweak,
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
    /// Opens R1, checks P1's proof, and sends c encrypting k2⁻¹·(m + r·x) + ρ·q (mod q: s·k1)
    /// with π_c3. With a [`Presign`] given at [`start_with`] this is the online step only;
    /// otherwise the presigning work is done here, with `rng`.
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

    /// As [`AwaitMsg3::on_msg3`], with the fixed-base table of C' = c_key ⊕ q·2^64 built ahead of
    /// time (once per share), if the caller has one.
    ///
    /// # Errors
    /// As [`AwaitMsg3::on_msg3`]; [`Error::ForeignPrecomputation`] if the table was made for
    /// another share.
    pub fn on_msg3_with<R: CryptoRng + ?Sized>(
        mut self,
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
        let key = &share.paillier;
        let c_prime = shifted_key(key, &share.common.c_key);
        let r2 = self.pre.r2;
        let prover = self
            .pre
            .prover_for(rng, share, &self.tweak, &c_prime, table);
        let c = prover.ciphertext(key, &r, &m, table.map(|t| &t.table))?;
        let fingerprint = share.fingerprint();
        // Q2 + δ·G = (x2 + δ)·G, which P1 computes as Q_child − Q1.
        let q2 = super::tweaked(&share.common.public.q2, &self.tweak);
        let statement = Statement {
            key,
            c_prime: &c_prime,
            c: &c,
            q2: &q2,
            r2: &r2,
            m: &m,
            r: &r,
            params: &share.params,
            fingerprint: &fingerprint,
            epoch: share.common.epoch,
            verifier: self.ids.run.pid(Party::P1),
        };
        let proof = prover.prove(&statement, &self.ids.proof_by(Party::P2, label::C))?;
        Ok((
            AwaitMsg5 {
                share: core::marker::PhantomData,
                r,
                digest: self.digest,
                q: super::tweaked(&share.common.public.q, &self.tweak),
            },
            Msg4 { c: c.0, proof },
        ))
    }
}

/// Bits of the exponents P2's table serves: w1·r (< q²) and the presigning powers.
pub const EXPONENT_BITS: u32 = 512;

/// Entries of P2's fixed-base table for `window`-bit digits (512 bytes each).
///
/// # Errors
/// [`Error::TableWindow`] unless `1 ≤ window ≤ crate::MAX_WINDOW`.
pub const fn table_len(window: u32) -> Result<usize> {
    crate::paillier::table_len(window, EXPONENT_BITS)
}

/// P2's fixed-base table for one share, in caller-owned storage of [`table_len`] entries.
pub struct Precomputed<'t> {
    table: FixedBase<'t>,
    /// The tables of the share's ring-Pedersen g and h, if the caller added them.
    commit: Option<CommitTables<'t>>,
    fingerprint: [u8; 32],
}

impl<'t> Precomputed<'t> {
    /// Builds the table of c_key ⊕ q·2^64 for `share` (once per share, about 2^w/w
    /// multiplications per exponent bit).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `storage` does not hold exactly [`table_len`]`(window)`.
    pub fn new(share: &KeyShareP2, window: u32, storage: &'t mut [ModNN]) -> Result<Self> {
        let base = shifted_key(&share.paillier, &share.common.c_key);
        let table = share
            .paillier
            .fixed_base(&base, window, EXPONENT_BITS, storage)?;
        Ok(Self {
            table,
            commit: None,
            fingerprint: share.fingerprint(),
        })
    }

    /// Adds the comb tables of the share's ring-Pedersen g and h (built once per pinned
    /// parameter set, in `storage` of [`crate::commit_tables_len`]`(window)` entries): presigning then
    /// makes π_c3's six commitments several times faster, which is most of what bounds
    /// sustained signing throughput.
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if `share` is not the share the table was built for;
    /// otherwise as [`CommitTables::new`].
    pub fn with_commit_tables(
        mut self,
        share: &KeyShareP2,
        window: u32,
        storage: &'t mut [U2048],
    ) -> Result<Self> {
        if self.fingerprint != share.fingerprint() {
            return Err(Error::ForeignPrecomputation);
        }
        self.commit = Some(CommitTables::new(&share.params, window, storage)?);
        Ok(self)
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
    /// Checks P1's signature: same r, low s, valid under Q (the child key under a path).
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
        super::verify(&self.q, &self.digest, &sig)?;
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
