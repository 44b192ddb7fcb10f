//! Π^prm: the owner of ring-Pedersen parameters (N̂, g, h) proves g ∈ ⟨h⟩ (CGGMP21's
//! ring-Pedersen parameter proof; docs/PROTOCOL.md, "Ring-Pedersen parameters").
//!
//! π_c3 commits P2's witnesses as g^w·h^ρ mod N̂ under parameters P1 made; they hide w only
//! if g lies in the group h generates, which a P1 that knows N̂'s factors could otherwise
//! violate (a component of g of small order ℓ outside ⟨h⟩ leaks w mod ℓ). The owner knows
//! λ with g = h^λ and φ(N̂); for i < [`PRM_REPS`] it takes A_i = h^(a_i), a_i ← [0, φ(N̂)),
//! binary challenges e_i from a hash of (prover id, N̂, g, h, A_1..A_m) and answers
//! z_i = a_i + e_i·λ mod φ(N̂). Two accepting answers to one A_i give g = h^(z_1 − z_0), so a
//! g outside ⟨h⟩ passes with probability 2^-m in any group; challenges must be binary (a
//! large challenge e only shows g^e ∈ ⟨h⟩), and rows cannot be batched with random weights
//! (the owner can plant small-order elements). Zero knowledge is perfect: z_i is uniform mod
//! φ(N̂).
//!
//! Compact form (as cb-mpc sends it): the proof is (e_1..e_m, z_1..z_m); the verifier
//! recomputes A_i = h^(z_i)·g^(−e_i) and checks that the hash of the recomputed A_i gives back
//! the same bits. This halves the message (33.6 KB instead of 66 KB), which party 1, a
//! microcontroller, receives whole. Soundness is unchanged: the A_i are fixed by (e, z) and
//! the hash must map them to e.

use crypto_bigint::{NonZero, U2048};
use rand_core::CryptoRng;
use subtle::{Choice, ConditionallySelectable};
use zeroize::Zeroizing;

use super::PRM_REPS;
use crate::{
    Error, Proof, Result, bigint,
    ring_pedersen::{ElementN, MontyN, RingPedersenParams},
    session::ID_LEN,
    sizes::MOD_N_LEN,
    tags,
    transcript::Transcript,
    wire::{Reader, Writer},
};

/// Bytes of the challenge: one bit per repetition.
const E_LEN: usize = PRM_REPS >> 3;

/// A compact Π^prm proof: the challenge bits and the answers z_i.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrmProof {
    e: [u8; E_LEN],
    z: [U2048; PRM_REPS],
}

impl PrmProof {
    /// Encoded length: the challenge bytes and m answers of 256 bytes.
    pub const LEN: usize = E_LEN + PRM_REPS * MOD_N_LEN;

    /// Storage to decode into; verifies for no parameters (every z_i is 0 and the bits are 0).
    pub const EMPTY: Self = Self {
        e: [0; E_LEN],
        z: [U2048::ZERO; PRM_REPS],
    };

    /// Proves g = h^λ for the owner `prover`, knowing λ and φ(N̂) (both secret). The caller
    /// has checked the parameters, whose Montgomery form mod N̂ is `monty` (they come from a
    /// [`crate::RingPedersenSecret`]).
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        params: &RingPedersenParams,
        monty: &MontyN,
        lambda: &U2048,
        phi: &NonZero<U2048>,
        prover: &[u8; ID_LEN],
    ) -> Self {
        let h = ElementN::new(&params.h, monty);
        // The masks a_i give λ away with z_i: wiped on return. Drawn below the public N̂ and
        // reduced mod φ(N̂) in constant time, not drawn below φ(N̂): the sampler rejects in
        // variable time, which only a public bound allows. N̂ − φ(N̂) = p̂ + q̂ − 1 < 2^1026,
        // so a_i mod φ(N̂) is within 2^-1021 of uniform.
        let n = NonZero::new(params.n).into_option().unwrap_or(NonZero::ONE);
        let masks: Zeroizing<[U2048; PRM_REPS]> = Zeroizing::new(core::array::from_fn(|_| {
            bigint::random_below(rng, &n).rem(phi)
        }));
        let mut t = transcript(params, prover);
        for a in masks.iter() {
            t.integer("A", &h.pow(a).retrieve());
        }
        let e = challenge(t);
        let lambda = Zeroizing::new(lambda.rem(phi));
        let z = core::array::from_fn(|i| {
            let bit = Choice::from(bit(&e, i));
            let add = U2048::conditional_select(&U2048::ZERO, &lambda, bit);
            masks.get(i).unwrap_or(&U2048::ZERO).add_mod(&add, phi)
        });
        Self { e, z }
    }

    /// Verifies that g ∈ ⟨h⟩ for parameters owned by `prover`.
    ///
    /// # Errors
    /// [`Error::PedersenParameters`] for parameters that fail the public checks (before any
    /// exponentiation); [`Error::ProofInvalid`] with [`Proof::RingPedersenParams`] if a z_i is
    /// not below N̂ or the recomputed A_i do not hash to the challenge bits.
    pub fn verify(&self, params: &RingPedersenParams, prover: &[u8; ID_LEN]) -> Result<()> {
        let monty = params.monty()?;
        let bad = Error::ProofInvalid(Proof::RingPedersenParams);
        // vartime: the proof is public.
        if self.z.iter().any(|z| z.cmp_vartime(&params.n).is_ge()) {
            return Err(bad);
        }
        let h = ElementN::new(&params.h, &monty);
        // vartime: g is a public unit (checked above).
        let g_inv = Option::<ElementN>::from(ElementN::new(&params.g, &monty).invert_vartime())
            .ok_or(Error::PedersenParameters)?;
        let mut t = transcript(params, prover);
        for (i, z) in self.z.iter().enumerate() {
            // vartime: bases, exponents and challenge bits are public.
            let hz = h.pow_vartime(z);
            let a = if bit(&self.e, i) == 1 { hz.mul(&g_inv) } else { hz };
            t.integer("A", &a.retrieve());
        }
        // Public bits compared: no secret in either.
        if challenge(t) != self.e {
            return Err(bad);
        }
        Ok(())
    }

    /// Writes e ‖ z_1 ‖ … ‖ z_m.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.bytes(&self.e)?;
        for z in &self.z {
            w.integer(MOD_N_LEN, z)?;
        }
        Ok(())
    }

    /// Reads e ‖ z_1 ‖ … ‖ z_m into `self` (layout only: ranges are the verifier's).
    pub(crate) fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()> {
        self.e = r.array()?;
        for z in &mut self.z {
            *z = r.integer_unbounded(MOD_N_LEN)?;
        }
        Ok(())
    }

    /// The challenge bits (tests).
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn bits(&self) -> &[u8; E_LEN] {
        &self.e
    }

    /// The answers (tests).
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn answers_mut(&mut self) -> &mut [U2048; PRM_REPS] {
        &mut self.z
    }

    /// The challenge bits, writable (tests).
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn bits_mut(&mut self) -> &mut [u8; E_LEN] {
        &mut self.e
    }
}

/// The transcript of the challenge up to the A_i: prover id and parameters.
fn transcript(params: &RingPedersenParams, prover: &[u8; ID_LEN]) -> Transcript {
    let mut t = Transcript::new(tags::ZK_PRM);
    t.bytes("prover", prover)
        .integer("N^", &params.n)
        .integer("g", &params.g)
        .integer("h", &params.h);
    t
}

/// The m challenge bits from the transcript with every A_i absorbed.
fn challenge(t: Transcript) -> [u8; E_LEN] {
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
    use crate::{fixtures, ring_pedersen::MontyN};
    use crypto_bigint::{Odd, U1024};

    type Params = RingPedersenParams;
    type Monty = ElementN;

    const PID: [u8; ID_LEN] = [5; ID_LEN];

    /// Parameters over a fixture modulus p·q: (params, λ, φ), with h of order prime to 3.
    struct Setup {
        params: Params,
        lambda: U2048,
        phi: NonZero<U2048>,
        monty: MontyN,
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
        let monty = MontyN::new_vartime(Odd::new(n).unwrap());
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
        let proof = PrmProof::prove(&mut rng, &s.params, &s.monty, &s.lambda, &s.phi, &PID);
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
        let proof = PrmProof::prove(&mut rng, &params, &s.monty, &s.lambda, &s.phi, &PID);
        assert_eq!(proof.verify(&params, &PID), invalid());
    }

    #[test]
    fn a_prover_that_guesses_its_challenge_bits_fails() {
        let s = setup(5);
        let mut rng = fixtures::rng(6);
        // Bits fixed to 0 before hashing (A_i = h^(z_i), which needs no λ): the hash of those
        // A_i gives other bits.
        let mut proof = PrmProof::prove(&mut rng, &s.params, &s.monty, &s.lambda, &s.phi, &PID);
        *proof.bits_mut() = [0; E_LEN];
        assert_eq!(proof.verify(&s.params, &PID), invalid());
        // One row (bit and answer) reused for every row: still one challenge per row.
        let mut proof = PrmProof::prove(&mut rng, &s.params, &s.monty, &s.lambda, &s.phi, &PID);
        let (e0, z0) = (bit(proof.bits(), 0), proof.z[0]);
        *proof.bits_mut() = [if e0 == 1 { 0xff } else { 0 }; E_LEN];
        proof.z = [z0; PRM_REPS];
        assert_eq!(proof.verify(&s.params, &PID), invalid());
        // One flipped bit, with its answer adjusted to match (z ± λ): the hash moves.
        let mut proof = PrmProof::prove(&mut rng, &s.params, &s.monty, &s.lambda, &s.phi, &PID);
        let lambda = s.lambda.rem(&s.phi);
        proof.z[9] = if bit(proof.bits(), 9) == 1 {
            proof.z[9].sub_mod(&lambda, &s.phi)
        } else {
            proof.z[9].add_mod(&lambda, &s.phi)
        };
        proof.e[1] ^= 2;
        assert_eq!(proof.verify(&s.params, &PID), invalid());
    }

    #[test]
    fn out_of_range_answers_fail() {
        let s = setup(7);
        let mut rng = fixtures::rng(8);
        let proof = PrmProof::prove(&mut rng, &s.params, &s.monty, &s.lambda, &s.phi, &PID);
        // z_i + N̂ gives the same A_i: only the range check refuses it.
        for (name, i, z) in [
            ("z = N^", 6, s.params.n),
            ("z + N^", 7, proof.z[7].wrapping_add(&s.params.n)),
            ("z = 2^2048 - 1", 8, U2048::MAX),
        ] {
            let mut t = proof.clone();
            t.z[i] = z;
            assert_eq!(t.verify(&s.params, &PID), invalid(), "{name}");
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let s = setup(9);
        let mut rng = fixtures::rng(10);
        let proof = PrmProof::prove(&mut rng, &s.params, &s.monty, &s.lambda, &s.phi, &PID);
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
        }
    }
}
