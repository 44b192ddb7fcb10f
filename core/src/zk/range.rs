//! Interactive range proof: the value x in Com = g^x·h^ρ lies in (−q·2^λ, q·2^λ) (honestly < q).
//!
//! t binary repetitions. The prover commits to c̃_i = 2^(ξ_i)·u^(r_i) (square roots of the
//! generators) with ξ_i < q·(2^λ − 1) and r_i < 2^(256+λ); for challenge bit e_i it answers
//! d_i = ξ_i + e_i·x and f_i = r_i + e_i·ρ over the integers (ρ < 2^256, see
//! [`pedersen::RANDOMNESS_BITS`]), and the verifier accepts d_i < q·2^λ (cb-mpc's bound). The
//! verifier squares c̃_i into the subgroup and checks c̃_i²·Com^(e_i) = g^(d_i)·h^(f_i) for
//! all i at once with random 64-bit weights.

use crypto_bigint::{NonZero, U64, U128, U256, U384, U448, U2048};
use k256::Scalar;
use rand_core::CryptoRng;
use subtle::{Choice, ConditionallySelectable};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{RANGE_CHALLENGE_BITS, RANGE_REPS, STAT_BITS};
use crate::{
    Error, Proof, Result, bigint, commitment, pedersen,
    session::Binding,
    sizes::{HASH_LEN, MOD_N_LEN},
    tags,
    transcript::Transcript,
    wire::{Reader, Writer},
};

/// Bound on each response d_i: q·2^λ, cb-mpc's bound. Two accepted responses to the two
/// challenges of one repetition then differ by less than q·2^λ, so the extracted x satisfies
/// |x| < q·2^λ and the signing shift c_key ⊕ q·2^λ keeps P2's plaintext positive (a bound of
/// q·(2^λ + 1) would let x reach −q·2^λ − q + 1).
const D_BOUND: U384 = bigint::order_shl(STAT_BITS);
/// Bound on each mask ξ_i: q·(2^λ − 1) = D_BOUND − q. With x < q, every honest response
/// ξ_i + e_i·x is below D_BOUND: the proof is perfectly complete (no abort-and-retry), and a
/// response with e_i = 1 is within statistical distance q/(q·(2^λ − 1)) ≈ 2^−λ of uniform.
const MASK_BOUND: U384 = D_BOUND.wrapping_sub(&bigint::order_shl(0));
/// Bits of every mask ξ_i, the public bound of the prover's 2^(ξ_i): a full-width exponent
/// would spend 64 of its 384 squarings on bits that are always 0, a table 16 rows.
const MASK_BITS: u32 = MASK_BOUND.bit_width_vartime();
// The Pedersen table covers every mask.
const _: () = assert!(MASK_BITS <= pedersen::TABLE_ROOT_G_BITS);
/// Bits that cover the repetitions (2^6 ≥ 50): the nonces' extra slack, so that all 50 f_i
/// together, not just each one, hide ρ to about 2^−λ.
const REPS_BITS: u32 = RANGE_REPS.next_power_of_two().trailing_zeros();
/// Bits of every nonce r_i: ρ's bits, the statistical slack and [`REPS_BITS`], so that
/// r_i + ρ is within 2^−(λ+6) of r_i's distribution and the 50 responses within 2^−λ·50/64.
pub const NONCE_BITS: u32 = pedersen::RANDOMNESS_BITS + STAT_BITS + REPS_BITS;
/// Bound on each response f_i = r_i + e_i·ρ: 2^(256+λ+6) + 2^256.
const F_BOUND: U384 = U384::ONE
    .shl_vartime(NONCE_BITS)
    .wrapping_add(&U384::ONE.shl_vartime(pedersen::RANDOMNESS_BITS));
/// Bytes of each f_i on the wire (2^326 + 2^256 needs 327 bits).
const F_LEN: usize = 41;
/// Bound on the bits of Σ d_i·w_i and Σ f_i·w_i (50 terms below 2^6, 64-bit weights): the
/// length of the verifier's shared chain of squarings.
const SUM_BITS: u32 = F_BOUND.bit_width_vartime() + u64::BITS + REPS_BITS;
const _: () = assert!(D_BOUND.bit_width_vartime() + u64::BITS + REPS_BITS <= SUM_BITS);
const _: () = assert!(SUM_BITS <= U448::BITS);
// vartime: a public constant bound.
const _: () = assert!(F_BOUND.bit_width_vartime() as usize <= F_LEN * 8);
// The nonces fit their type.
const _: () = assert!(NONCE_BITS <= U384::BITS);
// The Pedersen table covers every nonce.
const _: () = assert!(NONCE_BITS <= pedersen::TABLE_ROOT_H_BITS);
/// Bases raised together in [`Response::verify`]'s shared squaring chain: 10 elements of
/// 256 bytes on the stack at a time, as much saved as 50 at once within a few percent.
const STRAUS_GROUP: usize = 10;
/// Repetitions per work item of the prover's first message: 5 items of 10 commitments, enough
/// to keep two cores busy beside the other items of P1's keygen step, few enough that the
/// list stays short.
pub(crate) const REPS_PER_ITEM: usize = 10;
/// Work items of the prover's first message ([`Masks::commitments`]).
pub(crate) const COMMIT_ITEMS: usize = 5;
const _: () = assert!(COMMIT_ITEMS * REPS_PER_ITEM == RANGE_REPS);
/// Bytes of each d_i on the wire: q·2^λ < 2^320.
const D_LEN: usize = 40;
// vartime: a public constant bound.
const _: () = assert!(D_BOUND.bit_width_vartime() as usize <= D_LEN * 8);

/// The prover between its commitment and the challenge.
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Prover {
    masks: [U384; RANGE_REPS],
    nonces: [U384; RANGE_REPS],
    // The first message and its opening are sent: public. Held in the pieces it is computed
    // in, each written in place by its work item ([`Prover::commit_places`]).
    #[zeroize(skip)]
    c_tilde: [[U2048; REPS_PER_ITEM]; COMMIT_ITEMS],
    #[zeroize(skip)]
    opening: [u8; HASH_LEN],
}

/// The prover's secrets the first message is computed from: what its work items read while
/// they write the message's pieces ([`Prover::commit_places`]).
#[derive(Clone, Copy)]
pub(crate) struct Masks<'a> {
    masks: &'a [U384; RANGE_REPS],
    nonces: &'a [U384; RANGE_REPS],
}

impl Masks<'_> {
    /// Piece `k` (< [`COMMIT_ITEMS`]) of the first message: c̃_i = 2^(ξ_i)·u^(r_i) for the
    /// [`REPS_PER_ITEM`] repetitions from i = k·[`REPS_PER_ITEM`] on, with the table if the
    /// caller has one. Independent of the other pieces: a work item.
    pub(crate) fn commitments(
        &self,
        table: Option<&pedersen::Table<'_>>,
        k: usize,
    ) -> [U2048; REPS_PER_ITEM] {
        core::array::from_fn(|j| {
            let i = k.saturating_mul(REPS_PER_ITEM).saturating_add(j);
            match (self.masks.get(i), self.nonces.get(i)) {
                (Some(m), Some(n)) => {
                    pedersen::pow_roots(table, m, MASK_BITS, n, NONCE_BITS).retrieve()
                }
                _ => U2048::ZERO,
            }
        })
    }
}

/// The opened first message and the responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    c_tilde: [U2048; RANGE_REPS],
    opening: [u8; HASH_LEN],
    d: [U384; RANGE_REPS],
    f: [U384; RANGE_REPS],
}

impl Prover {
    /// Draws the masks and returns the prover with the hash commitment to send.
    // The round draws and computes the pieces itself, with its table; tests and benches use this.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn commit<R: CryptoRng + ?Sized>(
        rng: &mut R,
        binding: &Binding<'_>,
    ) -> (Self, [u8; HASH_LEN]) {
        Self::commit_with(rng, binding, None)
    }

    /// Draws the masks, with the Pedersen fixed-base table if the caller has one, and returns
    /// the prover with the hash commitment to send.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn commit_with<R: CryptoRng + ?Sized>(
        rng: &mut R,
        binding: &Binding<'_>,
        table: Option<&pedersen::Table<'_>>,
    ) -> (Self, [u8; HASH_LEN]) {
        let mut prover = Self::EMPTY;
        prover.draw_in(rng);
        let (masks, places) = prover.commit_places();
        for (k, place) in places.iter_mut().enumerate() {
            *place = masks.commitments(table, k);
        }
        let sealed = prover.seal(binding);
        (prover, sealed)
    }

    /// Storage for a prover about to be drawn in place ([`Self::draw_in`]): zero secrets.
    pub(crate) const EMPTY: Self = Self {
        masks: [U384::ZERO; RANGE_REPS],
        nonces: [U384::ZERO; RANGE_REPS],
        c_tilde: [[U2048::ZERO; REPS_PER_ITEM]; COMMIT_ITEMS],
        opening: [0; HASH_LEN],
    };

    /// Draws the masks, the nonces and the commitment's opening, in the order
    /// [`Self::commit_with`] does, where the prover lies (17.6 KB: no copy of it on a
    /// microcontroller's stack); the first message is computed apart, in [`COMMIT_ITEMS`]
    /// pieces ([`Self::commit_places`]), and sealed by [`Self::seal`].
    pub(crate) fn draw_in<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) {
        let mask_bound = NonZero::new(MASK_BOUND).into_option();
        for mask in &mut self.masks {
            *mask = mask_bound.map_or(U384::ZERO, |b| bigint::random_below(rng, &b));
        }
        for nonce in &mut self.nonces {
            *nonce = bigint::random_bits::<_, NONCE_BITS, _>(rng);
        }
        // Drawn after the nonces, where it was drawn when the commitments were computed
        // in between: they draw nothing, so the stream is the same.
        self.opening = commitment::randomness(rng);
    }

    /// The secrets the first message is computed from, and the places of its
    /// [`COMMIT_ITEMS`] pieces: piece k is [`Masks::commitments`] for k, written into the k-th
    /// place (by a work item, [`crate::work::Fill`]) before [`Self::seal`].
    pub(crate) fn commit_places(
        &mut self,
    ) -> (Masks<'_>, &mut [[U2048; REPS_PER_ITEM]; COMMIT_ITEMS]) {
        let masks = Masks {
            masks: &self.masks,
            nonces: &self.nonces,
        };
        (masks, &mut self.c_tilde)
    }

    /// Returns the hash commitment to send, once every piece of the first message is in its
    /// place ([`Self::commit_places`]).
    pub(crate) fn seal(&self, binding: &Binding<'_>) -> [u8; HASH_LEN] {
        commitment::seal(
            first_transcript(self.c_tilde.as_flattened(), binding),
            &self.opening,
        )
    }

    /// Answers the challenge bits `e` for witness x (< q) and Pedersen randomness ρ
    /// (< 2^[`pedersen::RANDOMNESS_BITS`]).
    // The rounds write responses in place; tests and benches take them whole.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn respond(&self, x: &Scalar, rho: &U256, e: u64) -> Response {
        let mut out = Response::EMPTY;
        self.respond_into(x, rho, e, &mut out);
        out
    }

    /// As [`Self::respond`], writing every field of `out` in place: at 17 KB the response is
    /// the largest part of P1's last message, and a microcontroller's stack counts each copy.
    pub fn respond_into(&self, x: &Scalar, rho: &U256, e: u64, out: &mut Response) {
        let x_int: Zeroizing<U384> = Zeroizing::new(bigint::scalar_to_uint(x));
        let rho_wide: Zeroizing<U384> = Zeroizing::new(rho.resize());
        for (c, piece) in out.c_tilde.iter_mut().zip(self.c_tilde.as_flattened()) {
            *c = *piece;
        }
        out.opening = self.opening;
        for (i, (d_i, f_i)) in out.d.iter_mut().zip(out.f.iter_mut()).enumerate() {
            let bit = Choice::from(u8::from(bigint::chunk(e, i, 1) == 1));
            let mask = self.masks.get(i).copied().unwrap_or_default();
            let nonce = self.nonces.get(i).copied().unwrap_or_default();
            let ex = U384::conditional_select(&U384::ZERO, &*x_int, bit);
            let erho = U384::conditional_select(&U384::ZERO, &*rho_wide, bit);
            *d_i = mask.wrapping_add(&ex);
            // Below 2^(256+λ+6) + 2^256: no wrap.
            *f_i = nonce.wrapping_add(&erho);
        }
    }
}

impl Response {
    /// Encoded length.
    pub const LEN: usize = RANGE_REPS * (MOD_N_LEN + D_LEN + F_LEN) + HASH_LEN;

    /// Opens the commitment and checks every repetition, batched with weights from `rng`.
    ///
    /// # Errors
    /// [`Error::CommitmentMismatch`] if the first message differs from the committed one,
    /// else [`Error::ProofInvalid`] with [`Proof::Range`].
    pub fn verify<R: CryptoRng + ?Sized>(
        &self,
        sealed: &[u8; HASH_LEN],
        com: &pedersen::Element,
        e: u64,
        binding: &Binding<'_>,
        rng: &mut R,
    ) -> Result<()> {
        self.verify_weighted(sealed, com, e, binding, &draw_weights(rng))
    }

    /// As [`Self::verify`], with the weights drawn beforehand ([`draw_weights`]): for a caller
    /// that runs this check apart from the RNG (see [`crate::work`]).
    ///
    /// # Errors
    /// As [`Self::verify`].
    // Out of line: P2 runs this as one of its work items (`ckey::verify_with`). Inlined into
    // the function that lists the items, its 4 KiB of locals stayed in that function's frame
    // while the other items ran (see `eq_paillier_pedersen::Response::verify_commitment`).
    #[inline(never)]
    pub fn verify_weighted(
        &self,
        sealed: &[u8; HASH_LEN],
        com: &pedersen::Element,
        e: u64,
        binding: &Binding<'_>,
        weights: &[u64; RANGE_REPS],
    ) -> Result<()> {
        commitment::open(
            sealed,
            first_transcript(&self.c_tilde, binding),
            &self.opening,
        )?;
        let bad = Error::ProofInvalid(Proof::Range);
        if e >> RANGE_CHALLENGE_BITS != 0 {
            return Err(bad);
        }
        // Σ d_i·w_i and Σ f_i·w_i are below 2^SUM_BITS (≤ 448).
        let mut d_sum = U448::ZERO;
        let mut f_sum = U448::ZERO;
        let mut e_sum = U128::ZERO;
        for (i, weight) in weights.iter().enumerate() {
            let (Some(d_i), Some(f_i)) = (self.d.get(i), self.f.get(i)) else {
                return Err(bad);
            };
            let w = U64::from_u64(*weight);
            d_sum = d_sum.wrapping_add(&d_i.resize::<{ U448::LIMBS }>().wrapping_mul(&w));
            f_sum = f_sum.wrapping_add(&f_i.resize::<{ U448::LIMBS }>().wrapping_mul(&w));
            if bigint::chunk(e, i, 1) == 1 {
                e_sum = e_sum.wrapping_add(&w.resize());
            }
        }
        // ∏ c̃_i^(w_i) by Straus's method: one chain of 64 squarings per group of bases
        // instead of one per base.
        let mut lhs = pedersen::Element::ONE;
        for (c_group, w_group) in self
            .c_tilde
            .chunks(STRAUS_GROUP)
            .zip(weights.chunks(STRAUS_GROUP))
        {
            let mut bases = [pedersen::Element::ONE; STRAUS_GROUP];
            for (base, c_t) in bases.iter_mut().zip(c_group) {
                *base = pedersen::unit_element(c_t).ok_or(bad)?;
            }
            let mut acc = pedersen::Element::ONE;
            for bit in (0..u64::BITS).rev() {
                acc = acc.square();
                for (base, w) in bases.iter().zip(w_group) {
                    // vartime: the weights and c̃_i are public.
                    if (w >> bit) & 1 == 1 {
                        acc = acc.mul(base);
                    }
                }
            }
            lhs = lhs.mul(&acc);
        }
        // vartime: every exponent and base here is public.
        let lhs = lhs.square().mul(&com.pow_vartime(&e_sum));
        let rhs = pedersen::g_h_power(&d_sum, &f_sum, SUM_BITS);
        if lhs == rhs { Ok(()) } else { Err(bad) }
    }

    /// Writes the response.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        self.c_tilde
            .iter()
            .try_for_each(|c| w.integer(MOD_N_LEN, c))?;
        w.bytes(&self.opening)?;
        self.d.iter().try_for_each(|d| w.integer(D_LEN, d))?;
        self.f.iter().try_for_each(|f| w.integer(F_LEN, f))
    }

    /// Reads the response, each field below its bound.
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let mut out = Self::EMPTY;
        out.read_into(r)?;
        Ok(out)
    }

    /// All zeros: storage for [`Response::read_into`], not a response any verifier accepts.
    pub const EMPTY: Self = Self {
        c_tilde: [U2048::ZERO; RANGE_REPS],
        opening: [0; HASH_LEN],
        d: [U384::ZERO; RANGE_REPS],
        f: [U384::ZERO; RANGE_REPS],
    };

    /// As [`Response::read`], overwriting `self` in place: at 17 KB this is the largest field
    /// of the largest message, and every copy of it counts on a microcontroller's stack.
    ///
    /// # Errors
    /// [`Error::Malformed`]; `self` is then partly overwritten.
    pub fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()> {
        for c in &mut self.c_tilde {
            *c = r.integer(MOD_N_LEN, &pedersen::P)?;
        }
        self.opening = r.array()?;
        for d_i in &mut self.d {
            *d_i = r.integer(D_LEN, &D_BOUND)?;
        }
        for f_i in &mut self.f {
            *f_i = r.integer(F_LEN, &F_BOUND)?;
        }
        Ok(())
    }
}

/// The verifier's random 64-bit weights of the repetitions, one `next_u64` each, in order.
pub fn draw_weights<R: CryptoRng + ?Sized>(rng: &mut R) -> [u64; RANGE_REPS] {
    core::array::from_fn(|_| rng.next_u64())
}

fn first_transcript(c_tilde: &[U2048], binding: &Binding<'_>) -> Transcript {
    let mut t = binding.transcript(tags::ZK_RANGE_COMMIT);
    for c in c_tilde {
        t.integer("c~", c);
    }
    t
}

#[cfg(test)]
impl Prover {
    /// Whether every secret of the prover is zero (its zeroization test, and the states').
    pub(crate) fn is_wiped(&self) -> bool {
        fn is_zero<T: Default + PartialEq + Copy, const N: usize>(v: &[T; N]) -> bool {
            v.iter().all(|x| *x == T::default())
        }
        is_zero(&self.masks) && is_zero(&self.nonces)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{curve, fixtures, zk::eq_paillier_pedersen::tests::setup};

    const SID: [u8; 32] = [7; 32];
    const PID: [u8; 32] = [1; 32];

    #[test]
    fn honest_proof_verifies_and_out_of_range_fails() {
        let mut rng = fixtures::rng(7);
        let x = curve::random_scalar(&mut rng);
        let s = setup(8, &bigint::scalar_to_uint(&x));
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/range",
        };
        let (prover, sealed) = Prover::commit(&mut rng, &b);
        let e = 0x0002_a5a5_5a5a_f00f;
        let resp = prover.respond(&s.x, &s.rho, e);
        assert_eq!(resp.verify(&sealed, &s.com, e, &b, &mut rng), Ok(()));
        // Every c̃_i is a quadratic residue whatever the parity of its nonce r_i (both
        // generator roots are residues): the Legendre symbol says nothing about r_i.
        for c in &resp.c_tilde {
            assert_eq!(
                pedersen::Element::new(c).jacobi_symbol_vartime(),
                crypto_bigint::JacobiSymbol::One
            );
        }
        let bad = Err(Error::ProofInvalid(Proof::Range));
        assert_eq!(resp.verify(&sealed, &s.com, e ^ 4, &b, &mut rng), bad);
        let mut t = resp.clone();
        t.f[3] = t.f[3].wrapping_add(&U384::ONE);
        assert_eq!(t.verify(&sealed, &s.com, e, &b, &mut rng), bad);
        let mut t = resp.clone();
        t.c_tilde[0] = U2048::ONE;
        assert_eq!(
            t.verify(&sealed, &s.com, e, &b, &mut rng),
            Err(Error::CommitmentMismatch)
        );

        // x = 2^300·q + x1 is out of range: the honest prover's responses overflow the bound,
        // and forcing them below it breaks the equation.
        let big: U384 =
            bigint::scalar_to_uint::<{ U384::LIMBS }>(&x).wrapping_add(&bigint::order_shl(300));
        let s_big = setup(9, &big);
        let (prover, sealed) = Prover::commit(&mut rng, &b);
        let resp = prover.respond(&s_big.x, &s_big.rho, e);
        assert_eq!(resp.verify(&sealed, &s_big.com, e, &b, &mut rng), bad);
    }

    /// Completeness without retries: the largest mask plus the largest witness (q − 1),
    /// q·2^λ − 2, is below the bound q·2^λ, which is cb-mpc's.
    #[test]
    fn largest_honest_response_is_below_the_bound() {
        let q_minus_1: U384 = bigint::order_shl(0).wrapping_sub(&U384::ONE);
        let largest = MASK_BOUND.wrapping_sub(&U384::ONE).wrapping_add(&q_minus_1);
        assert_eq!(largest, D_BOUND.wrapping_sub(&U384::from_u8(2)));
        assert!(largest < D_BOUND);
        assert_eq!(D_BOUND, bigint::order_shl(64));
    }

    /// The largest honest f_i, the largest nonce plus the largest ρ, is below its wire bound,
    /// and fits [`F_LEN`] bytes; one more does not.
    #[test]
    fn largest_honest_f_is_below_its_bound() {
        let largest_nonce = U384::ONE.shl_vartime(NONCE_BITS).wrapping_sub(&U384::ONE);
        let largest_rho: U384 = U256::MAX.resize();
        let largest = largest_nonce.wrapping_add(&largest_rho);
        assert_eq!(largest, F_BOUND.wrapping_sub(&U384::from_u8(2)));
        assert!(largest < F_BOUND);
        assert_eq!(F_BOUND.bit_width(), 327);
        assert_eq!(F_LEN, 327usize.div_ceil(8));
        assert_eq!(REPS_BITS, 6);
        assert_eq!(SUM_BITS, 397);
    }

    #[test]
    fn zeroizing_the_prover_wipes_masks_and_nonces() {
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/range",
        };
        let (mut prover, _) = Prover::commit(&mut fixtures::rng(30), &b);
        assert!(!prover.is_wiped());
        prover.zeroize();
        assert!(prover.is_wiped());
    }
}
