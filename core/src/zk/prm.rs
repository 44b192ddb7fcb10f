//! Π^prm: the owner of ring-Pedersen parameters (N̂, g, h) proves g ∈ ⟨h⟩ (CGGMP21's
//! ring-Pedersen parameter proof; design-research.md §1.2 (a)).
//!
//! π_c3 will commit P2's witnesses as g^w·h^ρ mod N̂ under parameters P1 made; they hide w only
//! if g lies in the group h generates, which a P1 that knows N̂'s factors could otherwise
//! violate (a component of g of small order ℓ outside ⟨h⟩ leaks w mod ℓ). The owner knows
//! λ with g = h^λ and φ(N̂); for i < [`PRM_REPS`] it sends A_i = h^(a_i), a_i ← [0, φ(N̂)),
//! takes binary challenges e_i from a hash of (prover id, N̂, g, h, A_1..A_m) and answers
//! z_i = a_i + e_i·λ mod φ(N̂). The verifier checks h^(z_i) = A_i·g^(e_i) mod N̂ for every i.
//! Two accepting answers to one A_i give g = h^(z_1 − z_0), so a g outside ⟨h⟩ passes with
//! probability 2^-m in any group; challenges must be binary (a large challenge e only shows
//! g^e ∈ ⟨h⟩), and rows cannot be batched with random weights (the owner can plant
//! small-order elements). Zero knowledge is perfect: z_i is uniform mod φ(N̂).
//!
//! Standalone: not yet part of any protocol message.

use crypto_bigint::{
    NonZero, Odd, U2048,
    modular::{FixedMontyForm, FixedMontyParams},
};
use rand_core::CryptoRng;
use subtle::{Choice, ConditionallySelectable};

use super::PRM_REPS;
use crate::{Error, Proof, Result, bigint, session::ID_LEN, tags, transcript::Transcript};

/// Bits of the ring-Pedersen modulus N̂.
pub const MODULUS_BITS: u32 = 2048;

type Monty = FixedMontyForm<{ U2048::LIMBS }>;
/// Bytes of the challenge: one bit per repetition.
const E_LEN: usize = PRM_REPS >> 3;

/// Ring-Pedersen parameters: a modulus N̂ and two units g, h with g = h^λ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// The modulus N̂ (2048 bits, odd).
    pub n: U2048,
    /// g = h^λ.
    pub g: U2048,
    /// h = τ².
    pub h: U2048,
}

/// A Π^prm proof: the first messages A_i and the answers z_i.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrmProof {
    a: [U2048; PRM_REPS],
    z: [U2048; PRM_REPS],
}

impl Params {
    /// The public checks P2 makes on parameters before anything else: N̂ odd and exactly
    /// [`MODULUS_BITS`] bits; 1 < g, h < N̂ − 1; g ≠ h; g and h units mod N̂.
    ///
    /// # Errors
    /// [`Error::PedersenParameters`].
    fn monty(&self) -> Result<FixedMontyParams<{ U2048::LIMBS }>> {
        let bad = Error::PedersenParameters;
        // vartime: the parameters are public.
        if self.n.bit_width_vartime() != MODULUS_BITS {
            return Err(bad);
        }
        let n_odd = Odd::new(self.n).into_option().ok_or(bad)?;
        let top = self.n.wrapping_sub(&U2048::ONE);
        for x in [&self.g, &self.h] {
            // vartime: public parameters.
            if x.cmp_vartime(&U2048::ONE).is_le() || x.cmp_vartime(&top).is_ge() {
                return Err(bad);
            }
            if n_odd.gcd_unsigned_vartime(x).get() != U2048::ONE {
                return Err(bad);
            }
        }
        if self.g == self.h {
            return Err(bad);
        }
        Ok(FixedMontyParams::new_vartime(n_odd))
    }
}

impl PrmProof {
    /// Proves g = h^λ for the owner `prover`, knowing λ and φ(N̂) (both secret).
    ///
    /// # Errors
    /// [`Error::PedersenParameters`] if the parameters fail [`PrmProof::verify`]'s checks.
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        params: &Params,
        lambda: &U2048,
        phi: &NonZero<U2048>,
        prover: &[u8; ID_LEN],
    ) -> Result<Self> {
        let monty = params.monty()?;
        let h = Monty::new(&params.h, &monty);
        let masks: [U2048; PRM_REPS] = core::array::from_fn(|_| bigint::random_below(rng, phi));
        let a: [U2048; PRM_REPS] =
            core::array::from_fn(|i| h.pow(masks.get(i).unwrap_or(&U2048::ZERO)).retrieve());
        let e = challenge(params, &a, prover);
        let lambda = lambda.rem(phi);
        let z = core::array::from_fn(|i| {
            let bit = Choice::from(bit(&e, i));
            let add = U2048::conditional_select(&U2048::ZERO, &lambda, bit);
            masks.get(i).unwrap_or(&U2048::ZERO).add_mod(&add, phi)
        });
        Ok(Self { a, z })
    }

    /// Verifies that g ∈ ⟨h⟩ for parameters owned by `prover`.
    ///
    /// # Errors
    /// [`Error::PedersenParameters`] for parameters that fail the public checks (before any
    /// exponentiation); [`Error::ProofInvalid`] with [`Proof::RingPedersenParams`] if an A_i
    /// or z_i is out of range or not a unit, or an equation fails.
    pub fn verify(&self, params: &Params, prover: &[u8; ID_LEN]) -> Result<()> {
        let monty = params.monty()?;
        let bad = Error::ProofInvalid(Proof::RingPedersenParams);
        let n_odd = Odd::new(params.n).into_option().ok_or(bad)?;
        for (a, z) in self.a.iter().zip(self.z.iter()) {
            // vartime: the proof is public.
            if a.is_zero_vartime()
                || a.cmp_vartime(&params.n).is_ge()
                || z.cmp_vartime(&params.n).is_ge()
                || n_odd.gcd_unsigned_vartime(a).get() != U2048::ONE
            {
                return Err(bad);
            }
        }
        let e = challenge(params, &self.a, prover);
        let g = Monty::new(&params.g, &monty);
        let h = Monty::new(&params.h, &monty);
        for (i, (a, z)) in self.a.iter().zip(self.z.iter()).enumerate() {
            // vartime: bases, exponents and challenge bits are public.
            let lhs = h.pow_vartime(z);
            let a = Monty::new(a, &monty);
            let rhs = if bit(&e, i) == 1 { a.mul(&g) } else { a };
            if lhs != rhs {
                return Err(bad);
            }
        }
        Ok(())
    }
}

/// The m challenge bits, from the prover id, the parameters and every A_i.
fn challenge(params: &Params, a: &[U2048; PRM_REPS], prover: &[u8; ID_LEN]) -> [u8; E_LEN] {
    let mut t = Transcript::new(tags::ZK_PRM);
    t.bytes("prover", prover)
        .integer("N^", &params.n)
        .integer("g", &params.g)
        .integer("h", &params.h);
    for a_i in a {
        t.integer("A", a_i);
    }
    let mut e = [0u8; E_LEN];
    t.into_xof().fill(&mut e);
    e
}

/// Bit `i` of the challenge (0 past the end).
fn bit(e: &[u8; E_LEN], i: usize) -> u8 {
    e.get(i >> 3).map_or(0, |b| (b >> (i & 7)) & 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crypto_bigint::U1024;

    const PID: [u8; ID_LEN] = [5; ID_LEN];

    /// Parameters over a fixture modulus p·q: (params, λ, φ), with h of order prime to 3.
    struct Setup {
        params: Params,
        lambda: U2048,
        phi: NonZero<U2048>,
        monty: FixedMontyParams<{ U2048::LIMBS }>,
        p: U1024,
    }

    /// A fixture pair with 3 | p − 1 (so Z_N̂* has elements of order 3), h = τ^(2·3^v)
    /// with 3^v ‖ φ (so ⟨h⟩ has none), g = h^λ.
    fn setup(seed: u64) -> Setup {
        let three = U1024::from_u8(3);
        let (p, q) = fixtures::PRIME_PAIRS
            .iter()
            .map(|(p, q)| (U1024::from_be_hex(p), U1024::from_be_hex(q)))
            .find(|(p, _)| {
                p.wrapping_sub(&U1024::ONE)
                    .rem_vartime(&NonZero::new(three).unwrap())
                    == U1024::ZERO
            })
            .expect("a fixture prime p ≡ 1 mod 3");
        let n: U2048 = p.concatenating_mul(&q);
        let phi: U2048 = p
            .wrapping_sub(&U1024::ONE)
            .concatenating_mul(&q.wrapping_sub(&U1024::ONE));
        let mut three_part = U2048::from_u8(2);
        let mut rest = phi;
        let three_w = NonZero::new(U2048::from_u8(3)).unwrap();
        while rest.rem_vartime(&three_w) == U2048::ZERO {
            rest = rest.wrapping_div_vartime(&three_w);
            three_part = three_part.wrapping_mul(&U2048::from_u8(3));
        }
        let monty = FixedMontyParams::new_vartime(Odd::new(n).unwrap());
        let mut rng = fixtures::rng(seed);
        let tau = bigint::random_below(&mut rng, &NonZero::new(n).unwrap());
        let h = Monty::new(&tau, &monty).pow(&three_part);
        let phi = NonZero::new(phi).unwrap();
        let lambda = bigint::random_below(&mut rng, &phi);
        let g = h.pow(&lambda);
        Setup {
            params: Params {
                n,
                g: g.retrieve(),
                h: h.retrieve(),
            },
            lambda,
            phi,
            monty,
            p,
        }
    }

    fn invalid() -> Result<()> {
        Err(Error::ProofInvalid(Proof::RingPedersenParams))
    }

    #[test]
    fn honest_proof_verifies_and_binds_the_prover_id() {
        let s = setup(1);
        let mut rng = fixtures::rng(2);
        let proof = PrmProof::prove(&mut rng, &s.params, &s.lambda, &s.phi, &PID).unwrap();
        assert_eq!(proof.verify(&s.params, &PID), Ok(()));
        // Another party id, other parameters: another challenge.
        assert_eq!(proof.verify(&s.params, &[6; ID_LEN]), invalid());
        let mut other = s.params;
        other.h = s.params.g;
        other.g = s.params.h;
        assert_eq!(proof.verify(&other, &PID), invalid());
    }

    #[test]
    fn g_with_a_component_of_order_3_outside_h_fails() {
        let s = setup(3);
        // ω = x^(φ/3) ≠ 1 has order 3; ⟨h⟩ has no element of order 3.
        let third = s
            .phi
            .wrapping_div_vartime(&NonZero::new(U2048::from_u8(3)).unwrap());
        let omega = (2u8..)
            .map(|x| Monty::new(&U2048::from_u8(x), &s.monty).pow(&third))
            .find(|w| w.retrieve() != U2048::ONE)
            .unwrap();
        let g = Monty::new(&s.params.g, &s.monty).mul(&omega);
        let params = Params {
            g: g.retrieve(),
            ..s.params
        };
        let mut rng = fixtures::rng(4);
        // The honest prover with the λ it knows: every row with e_i = 1 fails.
        let proof = PrmProof::prove(&mut rng, &params, &s.lambda, &s.phi, &PID).unwrap();
        assert_eq!(proof.verify(&params, &PID), invalid());
    }

    #[test]
    fn a_prover_that_guesses_its_challenge_bits_fails() {
        let s = setup(5);
        let mut rng = fixtures::rng(6);
        let mut proof = PrmProof::prove(&mut rng, &s.params, &s.lambda, &s.phi, &PID).unwrap();
        // Answers made for the bit 0 in every row (A_i = h^(z_i)): the hash gives some 1s.
        let h = Monty::new(&s.params.h, &s.monty);
        for (a, z) in proof.a.iter_mut().zip(proof.z.iter()) {
            *a = h.pow(z).retrieve();
        }
        assert_eq!(proof.verify(&s.params, &PID), invalid());
        // One row reused for every row: still one challenge per row.
        let mut proof = PrmProof::prove(&mut rng, &s.params, &s.lambda, &s.phi, &PID).unwrap();
        let (a0, z0) = (proof.a[0], proof.z[0]);
        proof.a = [a0; PRM_REPS];
        proof.z = [z0; PRM_REPS];
        assert_eq!(proof.verify(&s.params, &PID), invalid());
    }

    #[test]
    fn out_of_range_or_non_unit_proof_values_fail() {
        let s = setup(7);
        let mut rng = fixtures::rng(8);
        let proof = PrmProof::prove(&mut rng, &s.params, &s.lambda, &s.phi, &PID).unwrap();
        let p_wide: U2048 = s.p.resize();
        for (name, i, a, z) in [
            ("A = 0", 3, Some(U2048::ZERO), None),
            ("A = N^", 4, Some(s.params.n), None),
            ("A not a unit", 5, Some(p_wide), None),
            ("z = N^", 6, None, Some(s.params.n)),
        ] {
            let mut t = proof.clone();
            if let Some(a) = a {
                t.a[i] = a;
            }
            if let Some(z) = z {
                t.z[i] = z;
            }
            assert_eq!(t.verify(&s.params, &PID), invalid(), "{name}");
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let s = setup(9);
        let mut rng = fixtures::rng(10);
        let proof = PrmProof::prove(&mut rng, &s.params, &s.lambda, &s.phi, &PID).unwrap();
        let p_wide: U2048 = s.p.resize();
        let n = s.params.n;
        let cases = [
            (
                "N^ of 2047 bits",
                Params {
                    n: n.shr_vartime(1) | U2048::ONE,
                    ..s.params
                },
            ),
            (
                "N^ even",
                Params {
                    n: n.wrapping_add(&U2048::ONE),
                    ..s.params
                },
            ),
            (
                "g = h",
                Params {
                    g: s.params.h,
                    ..s.params
                },
            ),
            (
                "g not a unit",
                Params {
                    g: p_wide,
                    ..s.params
                },
            ),
            (
                "h not a unit",
                Params {
                    h: p_wide,
                    ..s.params
                },
            ),
            (
                "g = 1",
                Params {
                    g: U2048::ONE,
                    ..s.params
                },
            ),
            (
                "g = N^ − 1",
                Params {
                    g: n.wrapping_sub(&U2048::ONE),
                    ..s.params
                },
            ),
            ("h = N^", Params { h: n, ..s.params }),
        ];
        for (name, params) in cases {
            assert_eq!(
                proof.verify(&params, &PID),
                Err(Error::PedersenParameters),
                "{name}"
            );
            assert_eq!(
                PrmProof::prove(&mut rng, &params, &s.lambda, &s.phi, &PID).map(|_| ()),
                Err(Error::PedersenParameters),
                "{name}"
            );
        }
    }
}
