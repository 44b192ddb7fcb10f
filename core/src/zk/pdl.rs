//! PDL: the Paillier plaintext of c_key is the discrete log of Q1 (mod q), non-interactive.
//!
//! Prover: r = a·q + b with a < q·2^λ, b < q; c_r = Enc(r; ρ), R = b·G; e = H(…) mod q;
//! z = r + e·x1 over the integers, ρ_z = ρ·r_key^e mod N. Verifier: z·G = R + e·Q1,
//! z < q²·(2^λ + 1) and Enc(z; ρ_z) = c_r · c_key^e mod N². Sound only together with the range
//! proof, which bounds x1; keygen always sends both.

use crypto_bigint::{NonZero, U256, U384, U512, U640, U768};
use k256::{AffinePoint, ProjectivePoint, Scalar};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::STAT_BITS;
use crate::{
    Error, Proof, Result, bigint, curve,
    paillier::{Ciphertext, Encryptor, ModN, ModNN, PublicKey},
    session::Binding,
    sizes::{MOD_N_LEN, MOD_NN_LEN, POINT_LEN},
    tags,
    wire::{Reader, Writer},
};

/// Width of the integer response z.
type Wide = U640;
/// Bound on z: q²·(2^λ + 1).
const Z_BOUND: Wide = bigint::order_sq_slack(STAT_BITS);
/// Bytes of z on the wire.
const Z_LEN: usize = 73;
// vartime: public proof responses and statement.
const _: () = assert!(Z_BOUND.bit_width_vartime() as usize <= Z_LEN * 8);

/// The public statement: c_key under N encrypts log_G(Q1).
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// P1's Paillier key.
    pub key: &'a PublicKey,
    /// Enc(x1).
    pub c_key: &'a Ciphertext,
    /// x1·G.
    pub q1: &'a AffinePoint,
}

/// The prover's randomness (a, b, ρ), drawn before the proof is computed: a caller can
/// draw it in its place in the RNG stream and compute the proof apart, as a work item.
/// Wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Masks {
    a: U384,
    b: Scalar,
    rho: ModN,
}

impl Masks {
    /// Draws a < q·2^λ, b < q and ρ under `key`, in the order [`PdlProof::prove_with`] does.
    pub(crate) fn draw<R: CryptoRng + ?Sized>(rng: &mut R, key: &PublicKey) -> Self {
        let a_bound = NonZero::new(bigint::order_shl::<{ U384::LIMBS }>(STAT_BITS)).into_option();
        let a = a_bound.map_or(U384::ZERO, |bound| bigint::random_below(rng, &bound));
        let b = curve::random_scalar(rng);
        let rho = key.random_nonce(rng);
        Self { a, b, rho }
    }

    /// The proof from these masks, with witness x1 (< q) and the randomness `r_key` of c_key;
    /// `owner` encrypts (P1's secret key, for CRT speed, or the public key).
    pub(crate) fn prove<E: Encryptor>(
        &self,
        owner: &E,
        st: &Statement<'_>,
        x1: &Scalar,
        r_key: &ModN,
        binding: &Binding<'_>,
    ) -> PdlProof {
        let q: U384 = bigint::ORDER.resize();
        let mut r: Wide = self
            .a
            .concatenating_mul::<{ U384::LIMBS }, { U768::LIMBS }>(&q)
            .resize::<{ Wide::LIMBS }>()
            .wrapping_add(&bigint::scalar_to_uint(&self.b));
        let c_r = owner.encrypt_with(&r, &self.rho);
        let r_point = curve::mul_g(&self.b);
        let e = challenge(st, &c_r.0, &r_point, binding);
        let e_int: U256 = bigint::scalar_to_uint(&e);
        let ex: Wide = bigint::scalar_to_uint::<{ U256::LIMBS }>(x1)
            .concatenating_mul::<{ U256::LIMBS }, { U512::LIMBS }>(&e_int)
            .resize();
        let z = r.wrapping_add(&ex);
        let rho_z = st.key.mul_n(&self.rho, &st.key.pow_n(r_key, &e_int));
        r.zeroize();
        PdlProof {
            c_r: c_r.0,
            r_point,
            z,
            rho_z,
        }
    }
}

/// The proof (c_r, R, z, ρ_z).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdlProof {
    c_r: ModNN,
    r_point: AffinePoint,
    z: Wide,
    rho_z: ModN,
}

impl PdlProof {
    /// Storage for a proof about to be read, not a valid proof.
    pub(crate) const EMPTY: Self = Self {
        c_r: ModNN::ZERO,
        r_point: AffinePoint::IDENTITY,
        z: Wide::ZERO,
        rho_z: ModN::ZERO,
    };
    /// Encoded length.
    pub const LEN: usize = MOD_NN_LEN + POINT_LEN + Z_LEN + MOD_N_LEN;

    /// Proves with witness x1 (< q) and the randomness `r_key` of c_key.
    #[must_use]
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        st: &Statement<'_>,
        x1: &Scalar,
        r_key: &ModN,
        binding: &Binding<'_>,
    ) -> Self {
        Self::prove_with(rng, st.key, st, x1, r_key, binding)
    }

    /// Proves with witness x1 (< q) and the randomness `r_key` of c_key; `owner` encrypts
    /// (P1's secret key, for CRT speed, or the public key).
    #[must_use]
    pub fn prove_with<R: CryptoRng + ?Sized, E: Encryptor>(
        rng: &mut R,
        owner: &E,
        st: &Statement<'_>,
        x1: &Scalar,
        r_key: &ModN,
        binding: &Binding<'_>,
    ) -> Self {
        Masks::draw(rng, st.key).prove(owner, st, x1, r_key, binding)
    }
    /// Verifies against the statement.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::Pdl`].
    pub fn verify(&self, st: &Statement<'_>, binding: &Binding<'_>) -> Result<()> {
        let bad = Error::ProofInvalid(Proof::Pdl);
        st.key.validate(&self.c_r).map_err(|_| bad)?;
        // vartime: z and ρ_z are public responses.
        if self.z.cmp_vartime(&Z_BOUND).is_ge() || !st.key.is_unit_below_n(&self.rho_z) {
            return Err(bad);
        }
        let e = challenge(st, &self.c_r, &self.r_point, binding);
        let lhs = ProjectivePoint::GENERATOR * bigint::reduce_mod_q(&self.z);
        let rhs = ProjectivePoint::from(self.r_point) + ProjectivePoint::from(*st.q1) * e;
        if lhs != rhs {
            return Err(bad);
        }
        let e_int: U256 = bigint::scalar_to_uint(&e);
        let expected = st.key.mul_nn(
            &self.c_r,
            // vartime: public proof responses and statement.
            &st.key.pow_nn_vartime(st.c_key.as_uint(), &e_int),
        );
        if st.key.encrypt_vartime(&self.z, &self.rho_z) != expected {
            return Err(bad);
        }
        Ok(())
    }

    /// Writes the proof.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.integer(MOD_NN_LEN, &self.c_r)?;
        w.point(&self.r_point)?;
        w.integer(Z_LEN, &self.z)?;
        w.integer(MOD_N_LEN, &self.rho_z)
    }

    /// Reads the proof: R a valid point, z below its bound (N-dependent bounds: in `verify`).
    ///
    /// # Errors
    /// [`Error::Malformed`] or [`Error::InvalidPoint`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            c_r: r.integer_unbounded(MOD_NN_LEN)?,
            r_point: r.point()?,
            z: r.integer(Z_LEN, &Z_BOUND)?,
            rho_z: r.integer_unbounded(MOD_N_LEN)?,
        })
    }
}

fn challenge(
    st: &Statement<'_>,
    c_r: &ModNN,
    r_point: &AffinePoint,
    binding: &Binding<'_>,
) -> Scalar {
    let mut t = binding.transcript(tags::ZK_PDL);
    t.integer("N", st.key.modulus())
        .integer("c_key", st.c_key.as_uint())
        .point("Q1", st.q1)
        .integer("c_r", c_r)
        .point("R", r_point);
    t.challenge_scalar()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crypto_bigint::U320;

    const SID: [u8; 32] = [7; 32];
    const PID: [u8; 32] = [1; 32];

    #[test]
    fn honest_proof_verifies_and_each_tampering_fails() {
        let sk = fixtures::paillier_key(0);
        let pk = sk.public_key();
        let mut rng = fixtures::rng(4);
        let x1 = curve::random_scalar(&mut rng);
        let (c_key, r_key) = pk.encrypt(&mut rng, &bigint::scalar_to_uint::<{ U256::LIMBS }>(&x1));
        let q1 = curve::mul_g(&x1);
        let st = Statement {
            key: pk,
            c_key: &c_key,
            q1: &q1,
        };
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/pdl",
        };
        let proof = PdlProof::prove(&mut rng, &st, &x1, &r_key, &b);
        assert_eq!(proof.verify(&st, &b), Ok(()));
        let bad = Err(Error::ProofInvalid(Proof::Pdl));
        let other_q1 = curve::mul_g(&(x1 + Scalar::ONE));
        assert_eq!(
            proof.verify(
                &Statement {
                    q1: &other_q1,
                    ..st
                },
                &b
            ),
            bad
        );
        let (other_c, _) = pk.encrypt(&mut rng, &bigint::scalar_to_uint::<{ U256::LIMBS }>(&x1));
        assert_eq!(
            proof.verify(
                &Statement {
                    c_key: &other_c,
                    ..st
                },
                &b
            ),
            bad
        );
        let mut z_plus = proof.clone();
        z_plus.z = z_plus.z.wrapping_add(&Wide::ONE);
        assert_eq!(z_plus.verify(&st, &b), bad);
        let mut z_big = proof.clone();
        z_big.z = Z_BOUND;
        assert_eq!(z_big.verify(&st, &b), bad);
        let mut rho_zero = proof.clone();
        rho_zero.rho_z = ModN::ZERO;
        assert_eq!(rho_zero.verify(&st, &b), bad);
        // c_key holding x1 + q passes nothing: its plaintext is not x1 as an integer.
        let x1_plus_q =
            bigint::scalar_to_uint::<{ U320::LIMBS }>(&x1).wrapping_add(&bigint::ORDER.resize());
        let (c_shift, r_shift) = pk.encrypt(&mut rng, &x1_plus_q);
        let st_shift = Statement {
            c_key: &c_shift,
            ..st
        };
        let forged = PdlProof::prove(&mut rng, &st_shift, &x1, &r_shift, &b);
        assert_eq!(forged.verify(&st_shift, &b), bad);
    }
}
