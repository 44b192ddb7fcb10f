//! Interactive proof that a Paillier ciphertext, a Pedersen commitment and a curve point hold
//! the same x.
//!
//! Statement: c = Enc(x; R) under N, Com = g^x·h^ρ in the Pedersen group and Q1 = x·G. The
//! prover commits to t masked encryptions c̃_i = Enc(r_i; R̃_i), to Com̃ = g^r·h^μ and to
//! R = r·G, with r = Σ r_i·2^(18i); the verifier sends e < 2^(18t), cut into 18-bit chunks e_i;
//! the prover answers d_i = e_i·x + r_i, D_i = R^(e_i)·R̃_i, ν = e·ρ + μ over the integers
//! (ρ < 2^256, μ < 2^(256+54+λ): see [`pedersen::RANDOMNESS_BITS`]). The verifier
//! checks each chunk under N and the packed d = Σ d_i·2^(18i) in both prime-order groups:
//! Com^e·Com̃ = g^d·h^ν and d·G = R + e·Q1. Chunks stay below every prime factor of N (no factor
//! is below 2^18), so no challenge is ≡ 0 modulo a factor. The curve relation is what ties c to
//! Q1 (keygen's PDL proof did that before, for one N² exponentiation more).

use crypto_bigint::{NonZero, U64, U256, U384, U448, U2048};
use k256::{AffinePoint, ProjectivePoint, Scalar, elliptic_curve::ops::LinearCombination};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{EQ_CHALLENGE_BITS, EQ_CHUNK_BITS, EQ_CHUNKS, STAT_BITS, paillier_sigma as sigma};
use crate::{
    Error, Proof, Result, bigint, commitment, curve,
    paillier::{Ciphertext, Encryptor, ModN, ModNN, PublicKey},
    pedersen,
    session::Binding,
    sizes::{HASH_LEN, MOD_N_LEN, MOD_NN_LEN, POINT_LEN},
    tags,
    wire::{Reader, Writer},
};

/// Width of r = Σ r_i·2^(18i) and d = Σ d_i·2^(18i).
type Packed = U448;
/// Bits of μ: ρ's bits, the challenge's and the statistical slack, so that ν = e·ρ + μ is
/// within 2^−λ of μ's distribution.
const MU_BITS: u32 = pedersen::RANDOMNESS_BITS + EQ_CHALLENGE_BITS + STAT_BITS;
/// Bound on ν = e·ρ + μ: 2^(256+54+λ) + 2^(256+54).
const NU_BOUND: U384 = U384::ONE
    .shl_vartime(MU_BITS)
    .wrapping_add(&U384::ONE.shl_vartime(pedersen::RANDOMNESS_BITS + EQ_CHALLENGE_BITS));
/// Bytes of ν on the wire (its bound needs 375 bits).
const NU_LEN: usize = 47;
// vartime: a public constant bound.
const _: () = assert!(NU_BOUND.bit_width_vartime() as usize <= NU_LEN * 8);
/// Bound on the bits of the verifier's d and ν: the length of its chain of squarings.
const CHAIN_BITS: u32 = {
    let nu = NU_BOUND.bit_width_vartime();
    let d = D_BOUND.bit_width_vartime() + (EQ_CHALLENGE_BITS - EQ_CHUNK_BITS) + 1;
    if nu > d { nu } else { d }
};
const _: () = assert!(CHAIN_BITS <= U448::BITS);
// μ fits its type.
const _: () = assert!(MU_BITS <= U384::BITS);
// The Pedersen table covers h^μ (u^(2μ)).
const _: () = assert!(MU_BITS < pedersen::TABLE_ROOT_H_BITS);
/// Bound on each mask r_i: q·2^(18+λ).
const MASK_BOUND: U384 = bigint::order_shl(EQ_CHUNK_BITS + STAT_BITS);
/// Bound on each response d_i = e_i·x + r_i: q·(2^(18+λ) + 2^18).
const D_BOUND: U384 = MASK_BOUND.wrapping_add(&bigint::order_shl(EQ_CHUNK_BITS));
/// Bits of r = Σ r_i·2^(18i) for masks below [`MASK_BOUND`]: the sum is below
/// MASK_BOUND·2^(18(t−1))·(1 + 2^−18 + …) < MASK_BOUND·2^(18(t−1)+1). The prover's g^r uses
/// this public bound instead of [`Packed`]'s full width (75 squarings fewer).
const PACKED_MASK_BITS: u32 =
    MASK_BOUND.bit_width_vartime() + (EQ_CHALLENGE_BITS - EQ_CHUNK_BITS) + 1;
const _: () = assert!(PACKED_MASK_BITS <= Packed::BITS);
/// Bytes of each d_i on the wire.
/// (q·(2^82 + 2^18) < 2^338: the fewest bytes that hold it, checked below).
const D_LEN: usize = 43;
// vartime: public proof responses and statement; the shift amount is a constant.
const _: () = assert!((D_BOUND.bit_width_vartime() as usize).div_ceil(8) == D_LEN);

/// The public statement.
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// The Paillier key c is under.
    pub key: &'a PublicKey,
    /// c = Enc(x; R).
    pub ciphertext: &'a Ciphertext,
    /// Com = g^x·h^ρ, already checked to lie in the subgroup.
    pub commitment: &'a pedersen::Element,
    /// Q1 = x·G.
    pub point: &'a AffinePoint,
}

/// The prover between its commitment and the verifier's challenge.
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Prover {
    masks: [U384; EQ_CHUNKS],
    nonces: [ModN; EQ_CHUNKS],
    mu: U384,
    // The first message and its opening are sent: public.
    #[zeroize(skip)]
    first: First,
    #[zeroize(skip)]
    opening: [u8; HASH_LEN],
}

/// The prover's first message, sent in the clear with the response.
#[derive(Clone, Debug, PartialEq, Eq)]
struct First {
    c_tilde: [ModNN; EQ_CHUNKS],
    com_tilde: U2048,
    r_point: AffinePoint,
}

/// The prover's answer: the opened first message and the responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    first: First,
    opening: [u8; HASH_LEN],
    d: [U384; EQ_CHUNKS],
    big_d: [ModN; EQ_CHUNKS],
    nu: U384,
}

impl Prover {
    /// Draws the masks and returns the prover with the hash commitment to send.
    // The round draws and computes the pieces itself, with its table; tests and benches use this.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn commit<R: CryptoRng + ?Sized, E: Encryptor + Sync>(
        rng: &mut R,
        key: &E,
        binding: &Binding<'_>,
    ) -> (Self, [u8; HASH_LEN]) {
        Self::commit_with(rng, key, binding, None)
    }

    /// Draws the masks, with the Pedersen fixed-base table if the caller has one, and returns
    /// the prover with the hash commitment to send.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn commit_with<R: CryptoRng + ?Sized, E: Encryptor + Sync>(
        rng: &mut R,
        key: &E,
        binding: &Binding<'_>,
        table: Option<&pedersen::Table<'_>>,
    ) -> (Self, [u8; HASH_LEN]) {
        let mut prover = Self::EMPTY;
        prover.draw_in(rng, key);
        let c_tilde = core::array::from_fn(|i| prover.encryption(key, i));
        let com_tilde = prover.com_tilde(table);
        let sealed = prover.seal(c_tilde, com_tilde, binding);
        (prover, sealed)
    }

    /// Draws the masks, the nonces under `key`, μ and the commitment's opening, in the order
    /// [`Self::commit_with`] does, where the prover lies (over [`Self::EMPTY`]); the first
    /// message is computed apart ([`Self::encryption`] for each chunk, [`Self::com_tilde`])
    /// and sealed by [`Self::seal`].
    pub(crate) fn draw_in<R: CryptoRng + ?Sized, E: Encryptor>(&mut self, rng: &mut R, key: &E) {
        let mask_bound = NonZero::new(MASK_BOUND).into_option();
        for mask in &mut self.masks {
            *mask = mask_bound.map_or(U384::ZERO, |b| bigint::random_below(rng, &b));
        }
        self.nonces = sigma::nonces(rng, key);
        self.mu = bigint::random_bits::<_, MU_BITS, _>(rng);
        self.opening = commitment::randomness(rng);
    }

    /// Storage for a prover about to be drawn in place ([`Self::draw_in`]): zero secrets.
    pub(crate) const EMPTY: Self = Self {
        masks: [U384::ZERO; EQ_CHUNKS],
        nonces: [ModN::ZERO; EQ_CHUNKS],
        mu: U384::ZERO,
        first: First::EMPTY,
        opening: [0; HASH_LEN],
    };

    /// c̃_i = Enc(r_i; R̃_i) under `key` (the one [`Self::draw_in`] drew for), for chunk `i` <
    /// [`EQ_CHUNKS`]: one independent work item of the first message.
    pub(crate) fn encryption<E: Encryptor>(&self, key: &E, i: usize) -> ModNN {
        sigma::encryption(key, &self.masks, &self.nonces, i)
    }

    /// Com̃ = g^r·h^μ with r = Σ r_i·2^(18i), with the table if the caller has one: the
    /// first message's Pedersen part, a work item of its own.
    pub(crate) fn com_tilde(&self, table: Option<&pedersen::Table<'_>>) -> U2048 {
        let (g, _) = pedersen::generators();
        let mut packed = pack(&self.masks);
        let com = g
            .pow_bounded_exp(&packed, PACKED_MASK_BITS)
            .mul(&pedersen::pow_h(table, &self.mu, MU_BITS))
            .retrieve();
        packed.zeroize();
        com
    }

    /// Takes the first message ([`Self::encryption`] for every chunk, [`Self::com_tilde`]),
    /// adds its curve part R = r·G (one base-point multiplication, too short to be a work
    /// item) and returns the hash commitment to send.
    pub(crate) fn seal(
        &mut self,
        c_tilde: [ModNN; EQ_CHUNKS],
        com_tilde: U2048,
        binding: &Binding<'_>,
    ) -> [u8; HASH_LEN] {
        let mut packed = pack(&self.masks);
        let mut r = bigint::reduce_mod_q(&packed);
        let r_point = curve::mul_g(&r);
        packed.zeroize();
        r.zeroize();
        self.first = First {
            c_tilde,
            com_tilde,
            r_point,
        };
        commitment::seal(self.first.transcript(binding), &self.opening)
    }

    /// Answers challenge `e` (< 2^[`EQ_CHALLENGE_BITS`]) for witness x = Dec(c) with
    /// randomness `r_key` and Pedersen ρ (< 2^[`pedersen::RANDOMNESS_BITS`]).
    #[must_use]
    pub fn respond(
        &self,
        key: &PublicKey,
        x: &Scalar,
        r_key: &ModN,
        rho: &U256,
        e: u64,
    ) -> Response {
        // The round's e comes from a decoder that bounds it; a wider one would weaken ν's
        // slack, so it is a caller's bug.
        debug_assert!(sigma::challenge_fits(e), "challenge wider than the proof's");
        let mut x_int: U384 = bigint::scalar_to_uint(x);
        let (d, big_d) = sigma::respond(key, &x_int, r_key, &self.masks, &self.nonces, e);
        x_int.zeroize();
        // e·ρ + μ < 2^310 + 2^374: no wrap.
        let mut e_rho = rho
            .resize::<{ U384::LIMBS }>()
            .wrapping_mul(&U64::from_u64(e));
        let nu = e_rho.wrapping_add(&self.mu);
        e_rho.zeroize();
        Response {
            first: self.first.clone(),
            opening: self.opening,
            d,
            big_d,
            nu,
        }
    }
}

impl Response {
    /// Storage for a response about to be read, not a valid response.
    pub(crate) const EMPTY: Self = Self {
        first: First::EMPTY,
        opening: [0; HASH_LEN],
        d: [U384::ZERO; EQ_CHUNKS],
        big_d: [ModN::ZERO; EQ_CHUNKS],
        nu: U384::ZERO,
    };
    /// Encoded length.
    pub const LEN: usize =
        EQ_CHUNKS * (MOD_NN_LEN + D_LEN + MOD_N_LEN) + MOD_N_LEN + POINT_LEN + HASH_LEN + NU_LEN;

    /// Opens the commitment and checks both relations for challenge `e`: [`Self::verify_commitment`]
    /// and then [`Self::verify_chunk`] for every chunk, the independent checks a caller with
    /// threads may run apart (see [`crate::work`]).
    ///
    /// # Errors
    /// [`Error::CommitmentMismatch`] if the first message differs from the committed one,
    /// else [`Error::ProofInvalid`] with [`Proof::PaillierPedersenEq`].
    pub fn verify(
        &self,
        sealed: &[u8; HASH_LEN],
        st: &Statement<'_>,
        e: u64,
        binding: &Binding<'_>,
    ) -> Result<()> {
        self.verify_commitment(sealed, st, e, binding)?;
        (0..EQ_CHUNKS).try_for_each(|i| self.verify_chunk(st, e, i))
    }

    /// Opens the commitment and checks the relations in the two prime-order groups,
    /// Com^e·Com̃ = g^d·h^ν and d·G = R + e·Q1: every check of [`Self::verify`] but the
    /// Paillier chunks.
    ///
    /// # Errors
    /// As [`Self::verify`].
    // Out of line: P2 runs this as one of its work items (`ckey::verify_with`). Inlined into
    // the function that lists the items, its 16 KiB of locals stayed in that function's frame
    // while the other items ran (with `range::Response::verify_weighted`'s 4 KiB, party 1's
    // refresh peaked 13 KiB higher on a Cortex-M4).
    #[inline(never)]
    pub fn verify_commitment(
        &self,
        sealed: &[u8; HASH_LEN],
        st: &Statement<'_>,
        e: u64,
        binding: &Binding<'_>,
    ) -> Result<()> {
        commitment::open(sealed, self.first.transcript(binding), &self.opening)?;
        let bad = Error::ProofInvalid(Proof::PaillierPedersenEq);
        if !sigma::challenge_fits(e) {
            return Err(bad);
        }
        let com_tilde = pedersen::subgroup_element(&self.first.com_tilde).ok_or(bad)?;
        // vartime: every exponent and base here is public.
        let lhs = st.commitment.pow_vartime(&U64::from_u64(e)).mul(&com_tilde);
        let d = pack(&self.d);
        let rhs = pedersen::g_h_power(&d, &self.nu.resize(), CHAIN_BITS);
        if lhs != rhs {
            return Err(bad);
        }
        // d·G − e·Q1 = R, as one double-scalar multiplication.
        let lhs = ProjectivePoint::lincomb(&[
            (ProjectivePoint::GENERATOR, bigint::reduce_mod_q(&d)),
            (ProjectivePoint::from(*st.point), -Scalar::from(e)),
        ]);
        if lhs == ProjectivePoint::from(self.first.r_point) {
            Ok(())
        } else {
            Err(bad)
        }
    }

    /// Checks the Paillier relation of chunk `i` (< [`EQ_CHUNKS`]): Enc(d_i; D_i) = c̃_i·c^(e_i).
    /// Meaningful only with [`Self::verify_commitment`], which opens c̃_i.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::PaillierPedersenEq`], also for `i` out of range.
    // Out of line like every work item of `ckey::verify_with` (see `verify_commitment`): a
    // guard; this one was not inlined when that happened.
    #[inline(never)]
    pub fn verify_chunk(&self, st: &Statement<'_>, e: u64, i: usize) -> Result<()> {
        let bad = Error::ProofInvalid(Proof::PaillierPedersenEq);
        let (Some(c_t), Some(d_i), Some(big_d_i)) =
            (self.first.c_tilde.get(i), self.d.get(i), self.big_d.get(i))
        else {
            return Err(bad);
        };
        let e_i = sigma::chunk(e, i);
        if sigma::holds(st.key, st.ciphertext, c_t, &e_i, d_i, big_d_i) {
            Ok(())
        } else {
            Err(bad)
        }
    }

    /// Writes the response.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        self.first
            .c_tilde
            .iter()
            .try_for_each(|c| w.integer(MOD_NN_LEN, c))?;
        w.integer(MOD_N_LEN, &self.first.com_tilde)?;
        w.point(&self.first.r_point)?;
        w.bytes(&self.opening)?;
        self.d.iter().try_for_each(|d| w.integer(D_LEN, d))?;
        self.big_d
            .iter()
            .try_for_each(|d| w.integer(MOD_N_LEN, d))?;
        w.integer(NU_LEN, &self.nu)
    }

    /// Reads the response, each field below its bound (N-dependent bounds: in `verify`), R a
    /// valid point.
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::InvalidPoint`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let mut c_tilde = [ModNN::ZERO; EQ_CHUNKS];
        for c in &mut c_tilde {
            *c = r.integer_unbounded(MOD_NN_LEN)?;
        }
        let com_tilde = r.integer(MOD_N_LEN, &pedersen::P)?;
        let r_point = r.point()?;
        let opening = r.array()?;
        let mut d = [U384::ZERO; EQ_CHUNKS];
        for d_i in &mut d {
            *d_i = r.integer(D_LEN, &D_BOUND)?;
        }
        let mut big_d = [ModN::ZERO; EQ_CHUNKS];
        for d_i in &mut big_d {
            *d_i = r.integer_unbounded(MOD_N_LEN)?;
        }
        let nu = r.integer(NU_LEN, &NU_BOUND)?;
        Ok(Self {
            first: First {
                c_tilde,
                com_tilde,
                r_point,
            },
            opening,
            d,
            big_d,
            nu,
        })
    }
}

impl First {
    /// Storage for a first message not drawn or read yet.
    const EMPTY: Self = Self {
        c_tilde: [ModNN::ZERO; EQ_CHUNKS],
        com_tilde: U2048::ZERO,
        r_point: AffinePoint::IDENTITY,
    };

    fn transcript(&self, binding: &Binding<'_>) -> crate::transcript::Transcript {
        let mut t = binding.transcript(tags::ZK_EQ_COMMIT);
        for c in &self.c_tilde {
            t.integer("c~", c);
        }
        t.integer("Com~", &self.com_tilde);
        t.point("R", &self.r_point);
        t
    }
}

/// Σ v_i·2^(18i): the verifier's d from the public d_i, the prover's r from its secret masks
/// (variable time only in the shift, a constant; additions in constant time).
fn pack(values: &[U384; EQ_CHUNKS]) -> Packed {
    values.iter().rev().fold(Packed::ZERO, |acc, v| {
        // vartime: only in the shift amount, a constant.
        acc.shl_vartime(EQ_CHUNK_BITS).wrapping_add(&v.resize())
    })
}

#[cfg(test)]
impl Prover {
    /// Whether every secret of the prover is zero (its zeroization test, and the states').
    pub(crate) fn is_wiped(&self) -> bool {
        fn is_zero<T: Default + PartialEq + Copy, const N: usize>(v: &[T; N]) -> bool {
            v.iter().all(|x| *x == T::default())
        }
        is_zero(&self.masks) && is_zero(&self.nonces) && self.mu == U384::ZERO
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{curve, fixtures};

    const SID: [u8; 32] = [7; 32];
    const PID: [u8; 32] = [1; 32];

    /// An honest statement: (key, c_key, Com) with its witnesses.
    pub(crate) struct Setup {
        pub key: crate::paillier::SecretKey,
        pub x: Scalar,
        pub c: Ciphertext,
        pub r_key: ModN,
        pub rho: U256,
        pub com: pedersen::Element,
        pub q1: AffinePoint,
    }

    pub(crate) fn setup(seed: u64, x_int: &U384) -> Setup {
        let key = fixtures::paillier_key(0);
        let mut rng = fixtures::rng(seed);
        let (c, r_key) = key.public_key().encrypt(&mut rng, x_int);
        let rho: U256 = bigint::random_bits::<_, { pedersen::RANDOMNESS_BITS }, _>(&mut rng);
        let (g, h) = pedersen::generators();
        let com = g.pow(x_int).mul(&h.pow(&rho));
        let x = bigint::reduce_mod_q(x_int);
        Setup {
            key,
            x,
            c,
            r_key,
            rho,
            com,
            q1: curve::mul_g(&x),
        }
    }

    #[test]
    fn honest_proof_verifies_and_tampering_fails() {
        let mut rng = fixtures::rng(5);
        let x = curve::random_scalar(&mut rng);
        let s = setup(6, &bigint::scalar_to_uint(&x));
        let pk = s.key.public_key();
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/eq",
        };
        let st = Statement {
            key: pk,
            ciphertext: &s.c,
            commitment: &s.com,
            point: &s.q1,
        };
        let (prover, sealed) = Prover::commit(&mut rng, pk, &b);
        let e = 0x000f_1234_5678_9abc;
        let resp = prover.respond(pk, &s.x, &s.r_key, &s.rho, e);
        assert_eq!(resp.verify(&sealed, &st, e, &b), Ok(()));
        let bad = Err(Error::ProofInvalid(Proof::PaillierPedersenEq));
        assert_eq!(resp.verify(&sealed, &st, e ^ 1, &b), bad);
        assert_eq!(resp.verify(&sealed, &st, e ^ (1 << 40), &b), bad);
        let mut other = [0u8; 32];
        other[0] = 1;
        assert_eq!(
            resp.verify(&other, &st, e, &b),
            Err(Error::CommitmentMismatch)
        );
        let mut t = resp.clone();
        t.d[1] = t.d[1].wrapping_add(&U384::ONE);
        assert_eq!(t.verify(&sealed, &st, e, &b), bad);
        let mut t = resp.clone();
        t.nu = t.nu.wrapping_add(&U384::ONE);
        assert_eq!(t.verify(&sealed, &st, e, &b), bad);
        let mut t = resp.clone();
        t.first.c_tilde[0] = ModNN::ONE;
        assert_eq!(
            t.verify(&sealed, &st, e, &b),
            Err(Error::CommitmentMismatch)
        );
        let mut t = resp.clone();
        t.first.r_point = curve::mul_g(&Scalar::ONE);
        assert_eq!(
            t.verify(&sealed, &st, e, &b),
            Err(Error::CommitmentMismatch)
        );
        // Another Q1 fails on the curve alone: c and Com still hold the same x.
        let other_q1 = curve::mul_g(&(s.x + Scalar::ONE));
        let wrong_point = Statement {
            point: &other_q1,
            ..st
        };
        assert_eq!(resp.verify_commitment(&sealed, &wrong_point, e, &b), bad);
        assert_eq!(resp.verify(&sealed, &wrong_point, e, &b), bad);
        // A commitment to another value fails even with an honest Paillier side.
        let (g, h) = pedersen::generators();
        let com2 = g
            .pow(&bigint::scalar_to_uint::<{ U256::LIMBS }>(
                &(s.x + Scalar::ONE),
            ))
            .mul(&h.pow(&s.rho));
        assert_eq!(
            resp.verify(
                &sealed,
                &Statement {
                    commitment: &com2,
                    ..st
                },
                e,
                &b
            ),
            bad
        );
    }

    /// The prover raises g to its packed masks with [`PACKED_MASK_BITS`] as the public bound:
    /// the largest masks must pack below it, or g^r would silently drop their top bits.
    #[test]
    fn the_largest_packed_masks_fit_the_exponent_bound() {
        let largest = [MASK_BOUND.wrapping_sub(&U384::ONE); EQ_CHUNKS];
        let packed = pack(&largest);
        assert!(packed.bit_width() <= PACKED_MASK_BITS);
        let (g, _) = pedersen::generators();
        assert_eq!(g.pow_bounded_exp(&packed, PACKED_MASK_BITS), g.pow(&packed));
    }

    /// The largest honest ν, the largest μ plus the largest e·ρ, is below its wire bound and
    /// fits [`NU_LEN`] bytes.
    #[test]
    fn largest_honest_nu_is_below_its_bound() {
        let largest_mu = U384::ONE.shl_vartime(MU_BITS).wrapping_sub(&U384::ONE);
        let largest_e = U64::from_u64((1 << EQ_CHALLENGE_BITS) - 1);
        let largest_rho: U384 = U256::MAX.resize();
        let largest = largest_mu.wrapping_add(&largest_rho.wrapping_mul(&largest_e));
        assert!(largest < NU_BOUND);
        assert_eq!(NU_BOUND.bit_width(), 375);
        assert_eq!(NU_LEN, 375usize.div_ceil(8));
    }

    #[test]
    fn zeroizing_the_prover_wipes_masks_nonces_and_mu() {
        let key = fixtures::paillier_key(0);
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/eq",
        };
        let (mut prover, _) = Prover::commit(&mut fixtures::rng(31), key.public_key(), &b);
        assert!(!prover.is_wiped());
        prover.zeroize();
        assert!(prover.is_wiped());
    }
}
