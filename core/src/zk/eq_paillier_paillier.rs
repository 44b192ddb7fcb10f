//! Interactive proof that c0 under N0 and c1 under N1 encrypt the same integer x (refresh).
//!
//! The Paillier Σ-relation of `paillier_sigma` run under both keys with the same masks τ_i
//! and the same challenge: the prover commits to c̃0_i = Enc0(τ_i; R̃0_i) and
//! c̃1_i = Enc1(τ_i; R̃1_i), and one d_i = e_i·x + τ_i answers both, with r̂0_i and r̂1_i.

use crypto_bigint::{NonZero, U512};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{EQ_CHUNK_BITS, EQ_CHUNKS, STAT_BITS, paillier_sigma as sigma};
use crate::{
    Error, Proof, Result, bigint, commitment,
    paillier::{Ciphertext, Encryptor, ModN, ModNN, PublicKey},
    session::Binding,
    share::X1,
    sizes::{HASH_LEN, MOD_N_LEN, MOD_NN_LEN, X_SLACK_BITS},
    tags,
    transcript::Transcript,
    wire::{Reader, Writer},
};

/// Bound on each mask τ_i: q·2^(16+18+λ).
const MASK_BOUND: U512 = bigint::order_shl(X_SLACK_BITS + EQ_CHUNK_BITS + STAT_BITS);
/// Bound on each d_i = e_i·x + τ_i.
const D_BOUND: U512 = MASK_BOUND.wrapping_add(&bigint::order_shl(X_SLACK_BITS + EQ_CHUNK_BITS));
/// Bytes of each d_i on the wire.
/// (q·(2^98 + 2^34) < 2^354: the fewest bytes that hold it, checked below).
const D_LEN: usize = 45;
/// Encryptions in the prover's first message: one per chunk under each key.
pub(crate) const ENCRYPTIONS: usize = 2 * EQ_CHUNKS;
// vartime: public proof responses and statement.
const _: () = assert!((D_BOUND.bit_width_vartime() as usize).div_ceil(8) == D_LEN);

/// The public statement.
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// The old key and ciphertext.
    pub key0: &'a PublicKey,
    /// c0 = Enc0(x; r0).
    pub c0: &'a Ciphertext,
    /// The new key and ciphertext.
    pub key1: &'a PublicKey,
    /// c1 = Enc1(x; r1).
    pub c1: &'a Ciphertext,
}

/// One of the two keys of the [`Statement`]: the side of a chunk's check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The old key: c0 under N0.
    Old,
    /// The new key: c1 under N1.
    New,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct First {
    c0: [ModNN; EQ_CHUNKS],
    c1: [ModNN; EQ_CHUNKS],
}

/// The prover between its commitment and the challenge.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Prover {
    masks: [U512; EQ_CHUNKS],
    nonces0: [ModN; EQ_CHUNKS],
    nonces1: [ModN; EQ_CHUNKS],
    // The first message and its opening are sent: public.
    #[zeroize(skip)]
    first: First,
    #[zeroize(skip)]
    opening: [u8; HASH_LEN],
}

/// The opened first message and the responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    first: First,
    opening: [u8; HASH_LEN],
    d: [U512; EQ_CHUNKS],
    r0: [ModN; EQ_CHUNKS],
    r1: [ModN; EQ_CHUNKS],
}

impl Prover {
    /// Draws the masks and returns the prover with the hash commitment to send.
    // The round draws and computes the pieces itself (beside its own encryption); tests and
    // benches use this.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn commit<R: CryptoRng + ?Sized, E0: Encryptor + Sync, E1: Encryptor + Sync>(
        rng: &mut R,
        key0: &E0,
        key1: &E1,
        binding: &Binding<'_>,
    ) -> (Self, [u8; HASH_LEN]) {
        Self::commit_with(rng, key0, key1, binding, &crate::work::Sequential)
    }

    /// As [`Self::commit`], with the 8 encryptions (4 under each key, independent of each
    /// other) run by `exec`: the same randomness is drawn in the same order, so the same
    /// commitment comes out on any schedule.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn commit_with<
        R: CryptoRng + ?Sized,
        E0: Encryptor + Sync,
        E1: Encryptor + Sync,
        X: crate::work::Executor + ?Sized,
    >(
        rng: &mut R,
        key0: &E0,
        key1: &E1,
        binding: &Binding<'_>,
        exec: &X,
    ) -> (Self, [u8; HASH_LEN]) {
        let mut prover = Self::draw(rng, key0, key1);
        let this = &prover;
        let encryption_of: [_; ENCRYPTIONS] =
            core::array::from_fn(|i| move || this.encryption(key0, key1, i));
        let c_tilde = crate::work::compute(exec, &encryption_of);
        let sealed = prover.seal(&c_tilde, binding);
        (prover, sealed)
    }

    /// Draws the masks, the nonces under both keys and the commitment's opening, in the order
    /// [`Self::commit_with`] does; the first message is computed apart ([`Self::encryption`]
    /// for i < [`ENCRYPTIONS`]) and sealed by [`Self::seal`].
    pub(crate) fn draw<R: CryptoRng + ?Sized, E0: Encryptor, E1: Encryptor>(
        rng: &mut R,
        key0: &E0,
        key1: &E1,
    ) -> Self {
        let bound = NonZero::new(MASK_BOUND).into_option();
        let masks: [U512; EQ_CHUNKS] =
            core::array::from_fn(|_| bound.map_or(U512::ZERO, |b| bigint::random_below(rng, &b)));
        let nonces0 = sigma::nonces(rng, key0);
        let nonces1 = sigma::nonces(rng, key1);
        let opening = commitment::randomness(rng);
        Self {
            masks,
            nonces0,
            nonces1,
            first: First {
                c0: [ModNN::ZERO; EQ_CHUNKS],
                c1: [ModNN::ZERO; EQ_CHUNKS],
            },
            opening,
        }
    }

    /// Encryption `i` of the first message (< [`ENCRYPTIONS`]): c̃0_i under `key0` for the
    /// first [`EQ_CHUNKS`], then c̃1 under `key1` (the keys [`Self::draw`] drew for). Each is
    /// an independent work item.
    pub(crate) fn encryption<E0: Encryptor, E1: Encryptor>(
        &self,
        key0: &E0,
        key1: &E1,
        i: usize,
    ) -> ModNN {
        match i.checked_sub(EQ_CHUNKS) {
            None => sigma::encryption(key0, &self.masks, &self.nonces0, i),
            Some(j) => sigma::encryption(key1, &self.masks, &self.nonces1, j),
        }
    }

    /// Takes the first message ([`Self::encryption`] for i = 0, 1, …) and returns the hash
    /// commitment to send.
    pub(crate) fn seal(
        &mut self,
        c_tilde: &[ModNN; ENCRYPTIONS],
        binding: &Binding<'_>,
    ) -> [u8; HASH_LEN] {
        let first = self.first.c0.iter_mut().chain(self.first.c1.iter_mut());
        for (out, c) in first.zip(c_tilde) {
            *out = *c;
        }
        commitment::seal(self.first.transcript(binding), &self.opening)
    }

    /// Answers challenge `e` for the integer x and both ciphertexts' randomness.
    #[must_use]
    pub fn respond(&self, st: &Statement<'_>, x: &X1, r0: &ModN, r1: &ModN, e: u64) -> Response {
        let mut x_wide: U512 = x.resize();
        // Both sides answer with the same d_i: the masks and the challenge are shared.
        let (d, out0) = sigma::respond(st.key0, &x_wide, r0, &self.masks, &self.nonces0, e);
        let (_, out1) = sigma::respond(st.key1, &x_wide, r1, &self.masks, &self.nonces1, e);
        x_wide.zeroize();
        Response {
            first: self.first.clone(),
            opening: self.opening,
            d,
            r0: out0,
            r1: out1,
        }
    }
}

impl Response {
    /// Encoded length.
    pub const LEN: usize = EQ_CHUNKS * (2 * MOD_NN_LEN + D_LEN + 2 * MOD_N_LEN) + HASH_LEN;

    /// Opens the commitment and checks both relations for every chunk.
    ///
    /// # Errors
    /// [`Error::CommitmentMismatch`] if the first message differs from the committed one,
    /// else [`Error::ProofInvalid`] with [`Proof::PaillierEq`].
    pub fn verify(
        &self,
        sealed: &[u8; HASH_LEN],
        st: &Statement<'_>,
        e: u64,
        binding: &Binding<'_>,
    ) -> Result<()> {
        self.verify_opening(sealed, e, binding)?;
        (0..EQ_CHUNKS).try_for_each(|i| self.verify_chunk(st, e, i))
    }

    /// Opens the commitment and checks that `e` fits: every check of [`Self::verify`] but the
    /// chunks, which a caller with threads may run apart (see [`crate::work`]).
    ///
    /// # Errors
    /// As [`Self::verify`].
    pub fn verify_opening(
        &self,
        sealed: &[u8; HASH_LEN],
        e: u64,
        binding: &Binding<'_>,
    ) -> Result<()> {
        commitment::open(sealed, self.first.transcript(binding), &self.opening)?;
        if sigma::challenge_fits(e) {
            Ok(())
        } else {
            Err(Error::ProofInvalid(Proof::PaillierEq))
        }
    }

    /// Checks chunk `i` (< [`EQ_CHUNKS`]) under both keys, the old key's side first.
    /// Meaningful only with [`Self::verify_opening`], which opens the c̃ it checks.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::PaillierEq`], also for `i` out of range.
    pub fn verify_chunk(&self, st: &Statement<'_>, e: u64, i: usize) -> Result<()> {
        self.verify_chunk_side(st, e, i, Side::Old)?;
        self.verify_chunk_side(st, e, i, Side::New)
    }

    /// Checks chunk `i` (< [`EQ_CHUNKS`]) under one key: half of [`Self::verify_chunk`], one
    /// r̂^N mod N² (the bulk of the verifier's time), so a caller with threads can spread the
    /// 2·[`EQ_CHUNKS`] halves over its cores in even pieces. Meaningful only with
    /// [`Self::verify_opening`], which opens the c̃ it checks.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::PaillierEq`], also for `i` out of range.
    pub fn verify_chunk_side(
        &self,
        st: &Statement<'_>,
        e: u64,
        i: usize,
        side: Side,
    ) -> Result<()> {
        let bad = Error::ProofInvalid(Proof::PaillierEq);
        let (key, c, c_tilde, r_hat) = match side {
            Side::Old => (st.key0, st.c0, self.first.c0.get(i), self.r0.get(i)),
            Side::New => (st.key1, st.c1, self.first.c1.get(i), self.r1.get(i)),
        };
        let (Some(d_i), Some(c_tilde), Some(r_hat)) = (self.d.get(i), c_tilde, r_hat) else {
            return Err(bad);
        };
        if sigma::holds(key, c, c_tilde, &sigma::chunk(e, i), d_i, r_hat) {
            Ok(())
        } else {
            Err(bad)
        }
    }

    /// Check `k` (< [`ENCRYPTIONS`]) of the chunks, numbered as [`Prover::encryption`]
    /// numbers the first message: chunk k under the old key for k < [`EQ_CHUNKS`], then
    /// chunk k − [`EQ_CHUNKS`] under the new key ([`Self::verify_chunk_side`]).
    ///
    /// # Errors
    /// As [`Self::verify_chunk_side`].
    pub(crate) fn verify_encryption(&self, st: &Statement<'_>, e: u64, k: usize) -> Result<()> {
        match k.checked_sub(EQ_CHUNKS) {
            None => self.verify_chunk_side(st, e, k, Side::Old),
            Some(i) => self.verify_chunk_side(st, e, i, Side::New),
        }
    }

    /// Writes the response.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        self.first
            .c0
            .iter()
            .chain(self.first.c1.iter())
            .try_for_each(|c| w.integer(MOD_NN_LEN, c))?;
        w.bytes(&self.opening)?;
        self.d.iter().try_for_each(|d| w.integer(D_LEN, d))?;
        self.r0
            .iter()
            .chain(self.r1.iter())
            .try_for_each(|r| w.integer(MOD_N_LEN, r))
    }

    /// Reads the response; d_i below its bound (N-dependent bounds: in `verify`).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let mut first = First {
            c0: [ModNN::ZERO; EQ_CHUNKS],
            c1: [ModNN::ZERO; EQ_CHUNKS],
        };
        for c in first.c0.iter_mut().chain(first.c1.iter_mut()) {
            *c = r.integer_unbounded(MOD_NN_LEN)?;
        }
        let opening = r.array()?;
        let mut d = [U512::ZERO; EQ_CHUNKS];
        for d_i in &mut d {
            *d_i = r.integer(D_LEN, &D_BOUND)?;
        }
        let mut r0 = [ModN::ZERO; EQ_CHUNKS];
        let mut r1 = [ModN::ZERO; EQ_CHUNKS];
        for x in r0.iter_mut().chain(r1.iter_mut()) {
            *x = r.integer_unbounded(MOD_N_LEN)?;
        }
        Ok(Self {
            first,
            opening,
            d,
            r0,
            r1,
        })
    }
}

impl First {
    fn transcript(&self, binding: &Binding<'_>) -> Transcript {
        let mut t = binding.transcript(tags::ZK_EQ_PAILLIER_COMMIT);
        for c in self.c0.iter().chain(self.c1.iter()) {
            t.integer("c~", c);
        }
        t
    }
}

#[cfg(test)]
impl Prover {
    /// Whether every secret of the prover is zero (its zeroization test, and the states').
    pub(crate) fn is_wiped(&self) -> bool {
        fn is_zero<T: Default + PartialEq + Copy, const N: usize>(v: &[T; N]) -> bool {
            v.iter().all(|x| *x == T::default())
        }
        is_zero(&self.masks) && is_zero(&self.nonces0) && is_zero(&self.nonces1)
    }
}

/// The new key's r̂1_i, for tests that break the proof under one key only.
#[cfg(test)]
pub(crate) fn r1_mut(resp: &mut Response) -> &mut [ModN; EQ_CHUNKS] {
    &mut resp.r1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    const SID: [u8; 32] = [7; 32];
    const PID: [u8; 32] = [1; 32];

    /// The encryptions run out of order give the commitment and prover of the sequential run.
    #[test]
    fn encryptions_run_out_of_order_give_the_sequential_commitment() {
        let (k0, k1) = (fixtures::paillier_key(0), fixtures::paillier_key(1));
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "refresh/eq",
        };
        let (a, sealed_a) = Prover::commit(&mut fixtures::rng(13), &k0, &k1, &b);
        let (r, sealed_r) =
            Prover::commit_with(&mut fixtures::rng(13), &k0, &k1, &b, &crate::work::Reversed);
        assert_eq!(sealed_a, sealed_r);
        assert_eq!(a.first, r.first);
        assert_eq!((a.masks, a.opening), (r.masks, r.opening));
    }

    #[test]
    fn honest_proof_verifies_and_a_different_plaintext_fails() {
        let k0 = fixtures::paillier_key(0);
        let k1 = fixtures::paillier_key(1);
        let mut rng = fixtures::rng(12);
        let x =
            bigint::order_shl::<{ crypto_bigint::U384::LIMBS }>(3).wrapping_add(&X1::from_u64(99));
        let (c0, _) = k0.public_key().encrypt(&mut rng, &x);
        let r0 = k0.randomness_of(&c0);
        let (c1, r1) = k1.public_key().encrypt(&mut rng, &x);
        let st = Statement {
            key0: k0.public_key(),
            c0: &c0,
            key1: k1.public_key(),
            c1: &c1,
        };
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "refresh/eq",
        };
        let (prover, sealed) = Prover::commit(&mut rng, st.key0, st.key1, &b);
        let e = 0x000b_eef0_1234_5678;
        let resp = prover.respond(&st, &x, &r0, &r1, e);
        assert_eq!(resp.verify(&sealed, &st, e, &b), Ok(()));
        let bad = Err(Error::ProofInvalid(Proof::PaillierEq));
        assert_eq!(resp.verify(&sealed, &st, e ^ 2, &b), bad);
        // Each of the EQ_CHUNKS chunks is checked: its challenge bits, d_i, r̂0_i and r̂1_i.
        for i in 0..EQ_CHUNKS {
            let top_bit = 1u64 << (EQ_CHUNK_BITS * (u32::try_from(i).unwrap() + 1) - 1);
            assert_eq!(resp.verify(&sealed, &st, e ^ top_bit, &b), bad, "e_{i}");
            let mut t = resp.clone();
            t.d[i] = t.d[i].wrapping_add(&U512::ONE);
            assert_eq!(t.verify(&sealed, &st, e, &b), bad, "d_{i}");
            let mut t = resp.clone();
            t.r0[i] = t.r0[i].wrapping_add(&ModN::ONE);
            assert_eq!(t.verify(&sealed, &st, e, &b), bad, "r0_{i}");
            // A response wrong under one key fails that key's half of the chunk only; check
            // k of verify_encryption is encryption k's relation.
            assert_eq!(t.verify_chunk_side(&st, e, i, Side::Old), bad, "r0_{i}");
            assert_eq!(t.verify_chunk_side(&st, e, i, Side::New), Ok(()), "r0_{i}");
            assert_eq!(t.verify_encryption(&st, e, i), bad, "r0_{i}");
            assert_eq!(t.verify_encryption(&st, e, EQ_CHUNKS + i), Ok(()), "r0_{i}");
            let mut t = resp.clone();
            t.r1[i] = t.r1[i].wrapping_add(&ModN::ONE);
            assert_eq!(t.verify(&sealed, &st, e, &b), bad, "r1_{i}");
            assert_eq!(t.verify_chunk_side(&st, e, i, Side::Old), Ok(()), "r1_{i}");
            assert_eq!(t.verify_chunk_side(&st, e, i, Side::New), bad, "r1_{i}");
            assert_eq!(t.verify_chunk(&st, e, i), bad, "r1_{i}");
            assert_eq!(t.verify_encryption(&st, e, i), Ok(()), "r1_{i}");
            assert_eq!(t.verify_encryption(&st, e, EQ_CHUNKS + i), bad, "r1_{i}");
        }

        // Beyond the chunks, every check refuses.
        assert_eq!(resp.verify_chunk_side(&st, e, EQ_CHUNKS, Side::New), bad);
        assert_eq!(resp.verify_encryption(&st, e, ENCRYPTIONS), bad);

        // c1 for x + 1, with the proof made as well as a cheater can.
        let x_plus = x.wrapping_add(&X1::ONE);
        let (c1b, r1b) = k1.public_key().encrypt(&mut rng, &x_plus);
        let st_b = Statement { c1: &c1b, ..st };
        let (prover, sealed) = Prover::commit(&mut rng, st.key0, st.key1, &b);
        let resp = prover.respond(&st_b, &x, &r0, &r1b, e);
        assert_eq!(resp.verify(&sealed, &st_b, e, &b), bad);
    }

    #[test]
    fn zeroizing_the_prover_wipes_masks_and_both_nonces() {
        let (k0, k1) = (fixtures::paillier_key(0), fixtures::paillier_key(1));
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "refresh/eq",
        };
        let (mut prover, _) = Prover::commit(&mut fixtures::rng(32), &k0, k1.public_key(), &b);
        assert!(!prover.is_wiped());
        prover.zeroize();
        assert!(prover.is_wiped());
    }
}
