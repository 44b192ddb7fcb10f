//! π_c3: P2 proves that its signing ciphertext c is well formed (cb-mpc's
//! ZK-Two-Party-ECDSA-Sign-Integer-Commit; docs/PROTOCOL.md, "Signing").
//!
//! Statement: N, C' = c_key ⊕ q·2^64, c, Q2, R2, m, r, and P1's ring-Pedersen parameters
//! (N̂, g, h). Witness: w1 = k2⁻¹, w2 = k2⁻¹·x2 (mod q), w3 = ρ ∈ [0, q²·2^128), w4 = r_c ∈ Z_N*.
//! Relations: w1·R2 = G; w2·R2 = Q2; c = C'^(r·w1)·(1+N)^(w1·m + w2·r + w3·q)·w4^N mod N².
//!
//! The EC relations hold mod q, the Paillier one over the integers; integer commitments
//! W_j = g^(w_j)·h^(ρ_j) mod N̂ tie the two, so that P2 cannot answer with integers that agree
//! with w_j only mod q. Without this proof, P1's decryption of c and its final ECDSA check
//! would let a cheating P2 learn whether a chosen threshold lies below x1 (the threshold
//! attack of docs/SECURITY.md A1); with it, whether P1's check passes no longer depends on x1.
//!
//! Prover: ρ_j ← [0, N̂·2^s), W_j; α1, α2 ← [0, q·2^(s+κ)), α3 ← [0, q²·2^(3s+κ)),
//! β_j ← [0, N̂·2^(2s+κ)), γ ← Z_N*; A_j = g^(α_j)·h^(β_j), G' = α1·R2, Q2' = α2·R2,
//! C_α = C'^(r·α1)·(1+N)^(α1·m + α2·r + α3·q)·γ^N; e = H(everything) (κ bits);
//! z_j = α_j + e·w_j, u_j = β_j + e·ρ_j over the integers, v = γ·w4^e mod N. Everything but
//! C_α's r- and m-dependent factors is made before R1 and the message are known
//! ([`Prover::new`], P2's presigning), and C'^(r·w1) = (C'^w1)^r, C'^(r·α1) = (C'^α1)^r leave
//! two 256-bit exponentiations for the online step.
//!
//! Verifier (P1), every range and unit check before any exponentiation: z1, z2 < q·2^(s+κ+1),
//! z3 < q²·2^(3s+κ+1), u_j < N̂·2^(2s+κ+1), W_j, A_j ∈ (0, N̂) units mod N̂, c, C_α ∈ (0, N²) and
//! v ∈ (0, N) units mod N; then z1·R2 = G' + e·G, z2·R2 = Q2' + e·Q2,
//! g^(z_j)·h^(u_j) = A_j·W_j^e mod N̂, and
//! C'^(r·z1)·(1+N)^(z1·m + z2·r + z3·q)·v^N = C_α·c^e mod N². A cheating plaintext is then
//! below q·2^193·q·2^193·... < 2^1089 < N/2 (N ≥ 2^2047): no wrap mod N is possible.
//!
//! P1 computes the same public equations faster with its trapdoors, never accepting what they
//! reject: g^z·h^u = h^((λz + u) mod φ(N̂)) mod p̂ and q̂ (constant time in λ), and the
//! Paillier equation mod p² and q², each as its part mod p and its (p−1)-th power mod p²,
//! the latter from the plaintext of C' (P1's x1 + q·2^64) instead of an exponentiation
//! (`SecretKey::relation_half_holds`); a value is a unit mod N̂ (or N) when it is nonzero mod
//! each factor, which two reductions show for the price of a tenth of a gcd. It does not use
//! the "decryption-domain" shortcut, which decrypts c and C_α before the proof has verified:
//! P1 never decrypts a signing ciphertext whose proof has not verified (docs/PROTOCOL.md,
//! "Signing").

use crypto_bigint::{NonZero, U128, U256, U320, U512, U640, U896, U1024, U2048, Uint};
use k256::{AffinePoint, ProjectivePoint, Scalar};
use rand_core::CryptoRng;
use subtle::Choice;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{MASK_SLACK_BITS, SIGN_CHALLENGE_BITS, STAT_BITS};
use crate::{
    Error, Proof, Result, bigint,
    paillier::{Ciphertext, FixedBase, ModN, ModNN, NoncePower, Prime, PublicKey, SecretKey},
    ring_pedersen::{
        CommitTables, ElementN, RingPedersenParams, RingPedersenSecret, TrapdoorTables,
    },
    session::{Binding, ID_LEN},
    sizes::{MOD_N_LEN, MOD_NN_LEN, POINT_LEN},
    tags,
    wire::{Reader, Writer},
    work::{Check, Executor, Sequential, run_checks},
};

/// Integers mod N̂ widened by the masks: ρ_j < N̂·2^64, β_j < N̂·2^256, u_j < N̂·2^257.
pub type U2368 = Uint<{ U2048::LIMBS + U320::LIMBS }>;

/// How a verifier of π_c3 tells units mod N̂ and mod N (the values are public; only the
/// cost differs): by gcd ([`PublicUnits`]) or, for P1, by the factors ([`TrapdoorUnits`]).
trait Units {
    /// Whether x is a unit in (0, N̂).
    fn below_n_hat(&self, x: &U2048) -> bool;
    /// Whether x is a unit in (0, N).
    fn below_n(&self, x: &ModN) -> bool;
    /// x as a ciphertext: 0 < x < N², a unit.
    fn ciphertext(&self, x: &ModNN) -> Result<Ciphertext>;
}

/// Units by gcd with the public moduli: what any verifier can do.
#[cfg(any(test, feature = "internals"))]
struct PublicUnits<'a, 'b>(&'a Statement<'b>);

#[cfg(any(test, feature = "internals"))]
impl Units for PublicUnits<'_, '_> {
    fn below_n_hat(&self, x: &U2048) -> bool {
        self.0.params.is_unit_below_n(x)
    }
    fn below_n(&self, x: &ModN) -> bool {
        self.0.key.is_unit_below_n(x)
    }
    fn ciphertext(&self, x: &ModNN) -> Result<Ciphertext> {
        self.0.key.validate(x)
    }
}

/// Units by P1's factors of N̂ and N: two reductions instead of each gcd (about a tenth of
/// the time), the same answers.
struct TrapdoorUnits<'a> {
    ring: &'a RingPedersenSecret,
    paillier: &'a SecretKey,
}

impl Units for TrapdoorUnits<'_> {
    fn below_n_hat(&self, x: &U2048) -> bool {
        self.ring.is_unit_below_n(x)
    }
    fn below_n(&self, x: &ModN) -> bool {
        self.paillier.is_unit_below_n(x)
    }
    fn ciphertext(&self, x: &ModNN) -> Result<Ciphertext> {
        self.paillier.validate(x)
    }
}

/// What P1 knows that the public verifier does not, and that makes its check of π_c3 cheap
/// ([`SignCiphertextProof::verify_with_trapdoors`]). Every field is secret.
#[derive(Clone, Copy)]
pub struct Trapdoors<'a> {
    /// P1's ring-Pedersen secret: λ (g = h^λ) and N̂'s factors.
    pub ring: &'a RingPedersenSecret,
    /// `ring`'s comb tables of h mod p̂ and q̂, if built (the same check, faster).
    pub tables: Option<&'a TrapdoorTables<'a>>,
    /// P1's Paillier secret key: N's factors.
    pub paillier: &'a SecretKey,
    /// The plaintext of the statement's C': P1's x1 + q·2^64. The Paillier relation's
    /// plaintext half is computed from it; with any other value the verdict is not the public
    /// equations'.
    pub c_prime_plain: &'a U512,
}

impl core::fmt::Debug for Trapdoors<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Trapdoors").finish_non_exhaustive()
    }
}

/// κ + s: the bits a response mask exceeds what it hides by.
const MASK_BITS: u32 = SIGN_CHALLENGE_BITS + STAT_BITS;
/// Bound on w3 = ρ, P2's mask of its plaintext: q²·2^128.
const W3_BOUND: U640 = bigint::order_sq_shl(MASK_SLACK_BITS);
/// Bound on α1, α2: q·2^(s+κ).
const ALPHA12_BOUND: U512 = bigint::order_shl(MASK_BITS);
/// Bound on α3: q²·2^(3s+κ).
const ALPHA3_BOUND: U896 = bigint::order_sq_shl(2 * STAT_BITS + MASK_BITS);
/// β_j < N̂·2^(2s+κ): the shift of N̂ that bounds the masks of ρ_j (u_j < N̂·2^(2s+κ+1)).
const U_SHIFT: u32 = STAT_BITS + MASK_BITS;
/// Bound on z1, z2: q·2^(s+κ+1).
const Z12_BOUND: U512 = bigint::order_shl(MASK_BITS + 1);
/// Bound on z3: q²·2^(3s+κ+1).
const Z3_BOUND: U896 = bigint::order_sq_shl(2 * STAT_BITS + MASK_BITS + 1);

/// Bits of q (q < 2^256) and of q² (< 2^512): the exponent widths below are bounds on secret
/// values, public by construction, so an exponentiation may stop at them in constant time.
const Q_BITS: u32 = 256;
/// Bits of w1, w2 (< q), w3 (< q²·2^128), α1, α2 (< q·2^(s+κ)) and α3 (< q²·2^(3s+κ)), in the
/// order the prover commits them.
const WITNESS_BITS: [u32; 3] = [Q_BITS, Q_BITS, 2 * Q_BITS + MASK_SLACK_BITS];
const ALPHA_BITS: [u32; 3] = [
    Q_BITS + MASK_BITS,
    Q_BITS + MASK_BITS,
    2 * Q_BITS + 2 * STAT_BITS + MASK_BITS,
];
/// Bits of ρ_j (< N̂·2^s) and β_j (< N̂·2^(2s+κ)).
const RHO_BITS: u32 = crate::ring_pedersen::MODULUS_BITS + STAT_BITS;
const BETA_BITS: u32 = crate::ring_pedersen::MODULUS_BITS + U_SHIFT;
/// The widest exponents of g and of h in P2's commitments: what its ring-Pedersen tables cover.
pub(crate) const G_EXPONENT_BITS: u32 = ALPHA_BITS[2];
pub(crate) const H_EXPONENT_BITS: u32 = BETA_BITS;
const _: () = assert!(
    G_EXPONENT_BITS >= ALPHA_BITS[0]
        && G_EXPONENT_BITS >= WITNESS_BITS[2]
        && H_EXPONENT_BITS >= RHO_BITS
        && G_EXPONENT_BITS <= U896::BITS
        && H_EXPONENT_BITS <= U2368::BITS
);

/// Wire widths of the responses: the bytes of their bounds.
const Z12_LEN: usize = (256 + MASK_BITS as usize + 1).div_ceil(8);
const Z3_LEN: usize = (2 * 256 + 2 * STAT_BITS as usize + MASK_BITS as usize + 1).div_ceil(8);
const U_LEN: usize = (2048 + U_SHIFT as usize + 1).div_ceil(8);
const E_LEN: usize = SIGN_CHALLENGE_BITS as usize >> 3;

/// What π_c3 is about: everything both parties know when P2 sends message 4.
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// P1's Paillier key N.
    pub key: &'a PublicKey,
    /// C' = c_key ⊕ q·2^64.
    pub c_prime: &'a Ciphertext,
    /// P2's ciphertext c (checked to be a ciphertext).
    pub c: &'a Ciphertext,
    /// Q2 = x2·G.
    pub q2: &'a AffinePoint,
    /// R2 = k2·G.
    pub r2: &'a AffinePoint,
    /// The digest as a scalar.
    pub m: &'a Scalar,
    /// r = x(k1·k2·G) mod q.
    pub r: &'a Scalar,
    /// P1's ring-Pedersen parameters, pinned in both shares.
    pub params: &'a RingPedersenParams,
    /// The key share's fingerprint.
    pub fingerprint: &'a [u8; 32],
    /// The key share's epoch.
    pub epoch: u64,
    /// P1's pid (the verifier; P2, the prover, is in the binding).
    pub verifier: &'a [u8; ID_LEN],
}

/// A π_c3 proof: the commitments and the responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignCiphertextProof {
    /// W_j = g^(w_j)·h^(ρ_j) mod N̂.
    pub w: [U2048; 3],
    /// A_j = g^(α_j)·h^(β_j) mod N̂.
    pub a: [U2048; 3],
    /// G' = α1·R2.
    pub g_prime: AffinePoint,
    /// Q2' = α2·R2.
    pub q2_prime: AffinePoint,
    /// C_α = C'^(r·α1)·(1+N)^(α1·m + α2·r + α3·q)·γ^N mod N².
    pub c_alpha: ModNN,
    /// z1 = α1 + e·w1.
    pub z1: U512,
    /// z2 = α2 + e·w2.
    pub z2: U512,
    /// z3 = α3 + e·w3.
    pub z3: U896,
    /// u_j = β_j + e·ρ_j.
    pub u: [U2368; 3],
    /// v = γ·w4^e mod N.
    pub v: ModN,
}

impl SignCiphertextProof {
    /// Encoded length.
    pub const LEN: usize =
        6 * MOD_N_LEN + 2 * POINT_LEN + MOD_NN_LEN + 2 * Z12_LEN + Z3_LEN + 3 * U_LEN + MOD_N_LEN;

    /// Storage for a proof about to be read (no valid proof: its points are G).
    pub const EMPTY: Self = Self {
        w: [U2048::ZERO; 3],
        a: [U2048::ZERO; 3],
        g_prime: AffinePoint::GENERATOR,
        q2_prime: AffinePoint::GENERATOR,
        c_alpha: ModNN::ZERO,
        z1: U512::ZERO,
        z2: U512::ZERO,
        z3: U896::ZERO,
        u: [U2368::ZERO; 3],
        v: ModN::ZERO,
    };

    /// Writes the proof at its fixed layout.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        for x in self.w.iter().chain(self.a.iter()) {
            w.integer(MOD_N_LEN, x)?;
        }
        w.point(&self.g_prime)?;
        w.point(&self.q2_prime)?;
        w.integer(MOD_NN_LEN, &self.c_alpha)?;
        w.integer(Z12_LEN, &self.z1)?;
        w.integer(Z12_LEN, &self.z2)?;
        w.integer(Z3_LEN, &self.z3)?;
        for u in &self.u {
            w.integer(U_LEN, u)?;
        }
        w.integer(MOD_N_LEN, &self.v)
    }

    /// Reads the layout; points must be valid, every range is the verifier's to check.
    pub(crate) fn read_into(&mut self, r: &mut Reader<'_>) -> Result<()> {
        for x in self.w.iter_mut().chain(self.a.iter_mut()) {
            *x = r.integer_unbounded(MOD_N_LEN)?;
        }
        self.g_prime = r.point()?;
        self.q2_prime = r.point()?;
        self.c_alpha = r.integer_unbounded(MOD_NN_LEN)?;
        self.z1 = r.integer_unbounded(Z12_LEN)?;
        self.z2 = r.integer_unbounded(Z12_LEN)?;
        self.z3 = r.integer_unbounded(Z3_LEN)?;
        for u in &mut self.u {
            *u = r.integer_unbounded(U_LEN)?;
        }
        self.v = r.integer_unbounded(MOD_N_LEN)?;
        Ok(())
    }

    /// The range and unit checks, before any exponentiation; returns C_α as a ciphertext.
    /// `units` tells units mod N̂ and N: by gcd for anyone, by the factors for P1.
    // Its own frame, gone before the exponentiations: party 0's firmware signs in 64 KiB.
    #[inline(never)]
    fn check_ranges(&self, st: &Statement<'_>, units: &dyn Units) -> Result<Ciphertext> {
        let bad = Error::ProofInvalid(Proof::SignCiphertext);
        let n_hat = &st.params.n;
        // vartime: every value compared is public (the proof and the parameters).
        let u_bound: U2368 = n_hat.resize::<{ U2368::LIMBS }>().shl_vartime(U_SHIFT + 1);
        if self.z1.cmp_vartime(&Z12_BOUND).is_ge()
            || self.z2.cmp_vartime(&Z12_BOUND).is_ge()
            || self.z3.cmp_vartime(&Z3_BOUND).is_ge()
            || self.u.iter().any(|u| u.cmp_vartime(&u_bound).is_ge())
        {
            return Err(bad);
        }
        if !self
            .w
            .iter()
            .chain(self.a.iter())
            .all(|x| units.below_n_hat(x))
        {
            return Err(bad);
        }
        if !units.below_n(&self.v) {
            return Err(bad);
        }
        units.ciphertext(&self.c_alpha).map_err(|_| bad)
    }

    /// Verifies with the public equations only: what any verifier can do, and the reference
    /// P1's faster check ([`SignCiphertextProof::verify_with_trapdoors`]) must agree with.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::SignCiphertext`].
    #[cfg(any(test, feature = "internals"))]
    pub fn verify(&self, st: &Statement<'_>, binding: &Binding<'_>) -> Result<()> {
        let bad = Error::ProofInvalid(Proof::SignCiphertext);
        let c_alpha = self.check_ranges(st, &PublicUnits(st))?;
        let e = self.challenge(st, binding);
        self.check_curve(st, &e)?;
        let monty = st.params.monty()?;
        let g = ElementN::new(&st.params.g, &monty);
        let h = ElementN::new(&st.params.h, &monty);
        let z: [U896; 3] = [self.z1.resize(), self.z2.resize(), self.z3];
        for j in 0..3 {
            let (Some(zj), Some(uj)) = (z.get(j), self.u.get(j)) else {
                return Err(bad);
            };
            let lhs = g.pow_vartime(zj).mul(&h.pow_vartime(uj));
            if lhs.retrieve() != self.pedersen_rhs(j, &e, &monty) {
                return Err(bad);
            }
        }
        let key = st.key;
        let (r_z1, plain) = self.paillier_parts(st);
        let plain = key.add_plain(&Ciphertext(ModNN::ONE), &plain).0;
        // vartime: every base and exponent here is public (C', c, C_α, v; r·z1, e, N).
        let lhs = key.mul_nn(
            &key.mul_nn(&key.pow_nn_vartime(st.c_prime.as_uint(), &r_z1), &plain),
            &key.pow_nn_vartime(&self.v.resize(), key.modulus()),
        );
        let rhs = key.mul_nn(c_alpha.as_uint(), &key.pow_nn_vartime(st.c.as_uint(), &e));
        if lhs != rhs {
            return Err(bad);
        }
        Ok(())
    }

    /// P1's check: the same equations as [`SignCiphertextProof::verify`], computed with P1's
    /// [`Trapdoors`]: first ranges and units, then the EC relations, the Pedersen relations
    /// mod p̂ and mod q̂, and the Paillier relation mod p² and mod q². Neither c nor C_α is
    /// decrypted.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::SignCiphertext`].
    pub fn verify_with_trapdoors(
        &self,
        st: &Statement<'_>,
        binding: &Binding<'_>,
        trapdoors: &Trapdoors<'_>,
    ) -> Result<()> {
        self.verify_with_trapdoors_on(st, binding, trapdoors, &Sequential)
    }

    /// As [`SignCiphertextProof::verify_with_trapdoors`], with the checks after the ranges,
    /// units and EC relations as four independent work items run by `exec`: the Pedersen
    /// relations mod p̂, mod q̂, the Paillier relation mod p², mod q² (one of each per core on
    /// two cores, which about halves the latency). Every item runs whatever the others give,
    /// and the outcome is the same on every schedule.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::SignCiphertext`].
    pub fn verify_with_trapdoors_on<X: Executor + ?Sized>(
        &self,
        st: &Statement<'_>,
        binding: &Binding<'_>,
        trapdoors: &Trapdoors<'_>,
        exec: &X,
    ) -> Result<()> {
        let Trapdoors {
            ring,
            tables,
            paillier,
            c_prime_plain,
        } = *trapdoors;
        let c_alpha = self.check_ranges(st, &TrapdoorUnits { ring, paillier })?;
        let e = self.challenge(st, binding);
        // The EC relations first, in place: cheap, on public values only, and they end most
        // bad proofs (any change to a committed value moves e) before the exponentiations.
        self.check_curve(st, &e)?;
        let z: [U896; 3] = [self.z1.resize(), self.z2.resize(), self.z3];
        let (r_z1, plain) = self.paillier_parts(st);
        let verdict = |ok: Choice| {
            if bool::from(ok) {
                Ok(())
            } else {
                Err(Error::ProofInvalid(Proof::SignCiphertext))
            }
        };
        let pedersen = |prime: Prime| {
            let mut ok = Choice::from(1);
            for (((zj, uj), aj), wj) in z.iter().zip(&self.u).zip(&self.a).zip(&self.w) {
                ok &= ring.pedersen_half_holds(prime, zj, uj, aj, wj, &e, tables);
            }
            verdict(ok)
        };
        let paillier_half = |prime: Prime| {
            verdict(paillier.relation_half_holds(
                prime,
                st.c_prime.as_uint(),
                c_prime_plain,
                &r_z1,
                &plain,
                &self.v,
                c_alpha.as_uint(),
                st.c.as_uint(),
                &e,
            ))
        };
        let (pedersen_p, pedersen_q) = (|| pedersen(Prime::P), || pedersen(Prime::Q));
        let (paillier_p, paillier_q) = (|| paillier_half(Prime::P), || paillier_half(Prime::Q));
        run_checks(
            exec,
            &mut [
                Check::new(&pedersen_p),
                Check::new(&pedersen_q),
                Check::new(&paillier_p),
                Check::new(&paillier_q),
            ],
        )
    }

    /// A_j·W_j^e mod N̂ (public values), for the public verifier; P1 computes it mod p̂ and q̂.
    #[cfg(any(test, feature = "internals"))]
    fn pedersen_rhs(&self, j: usize, e: &U128, monty: &crate::ring_pedersen::MontyN) -> U2048 {
        let (a, w) = (
            self.a.get(j).unwrap_or(&U2048::ONE),
            self.w.get(j).unwrap_or(&U2048::ONE),
        );
        // vartime: W_j, A_j and e are public.
        ElementN::new(a, monty)
            .mul(&ElementN::new(w, monty).pow_vartime(e))
            .retrieve()
    }

    /// The public inputs of the Paillier equation C'^(r·z1)·(1+N)^(z1·m + z2·r + z3·q)·v^N =
    /// C_α·c^e: the exponent r·z1 and the plaintext z1·m + z2·r + z3·q (below 2^1090 < N).
    // Its own frame, gone before the exponentiations: party 0's firmware signs in 64 KiB.
    #[inline(never)]
    fn paillier_parts(&self, st: &Statement<'_>) -> (U1024, U2048) {
        let r: U512 = bigint::scalar_to_uint(st.r);
        let m: U512 = bigint::scalar_to_uint(st.m);
        let r_z1: U1024 = r.concatenating_mul(&self.z1);
        (r_z1, linear(&self.z1, &self.z2, &self.z3, &r, &m))
    }

    /// z1·R2 = G' + e·G and z2·R2 = Q2' + e·Q2 (public points and scalars).
    // Its own frame, gone before the exponentiations: party 0's firmware signs in 64 KiB.
    #[inline(never)]
    fn check_curve(&self, st: &Statement<'_>, e: &U128) -> Result<()> {
        let e = bigint::reduce_mod_q(e);
        let r2 = ProjectivePoint::from(*st.r2);
        let first = r2 * bigint::reduce_mod_q(&self.z1)
            == ProjectivePoint::from(self.g_prime) + ProjectivePoint::GENERATOR * e;
        let second = r2 * bigint::reduce_mod_q(&self.z2)
            == ProjectivePoint::from(self.q2_prime) + ProjectivePoint::from(*st.q2) * e;
        if first && second {
            Ok(())
        } else {
            Err(Error::ProofInvalid(Proof::SignCiphertext))
        }
    }

    /// The challenge e (κ bits) over the binding, the whole statement and every commitment.
    // Its own frame, gone before the exponentiations: party 0's firmware signs in 64 KiB.
    #[inline(never)]
    fn challenge(&self, st: &Statement<'_>, binding: &Binding<'_>) -> U128 {
        challenge(
            st,
            binding,
            &self.w,
            &self.a,
            &self.g_prime,
            &self.q2_prime,
            &self.c_alpha,
        )
    }
}

/// H(binding, pid1, fingerprint, epoch, params hash, N, C', c, Q2, R2, m, r, W, A, G', Q2', C_α)
/// truncated to κ bits, each item typed and length-prefixed by the transcript.
fn challenge(
    st: &Statement<'_>,
    binding: &Binding<'_>,
    w: &[U2048; 3],
    a: &[U2048; 3],
    g_prime: &AffinePoint,
    q2_prime: &AffinePoint,
    c_alpha: &ModNN,
) -> U128 {
    let mut t = binding.transcript(tags::ZK_SIGN_CIPHERTEXT);
    t.bytes("pid1", st.verifier)
        .bytes("fingerprint", st.fingerprint)
        .u64("epoch", st.epoch)
        .bytes("params", &st.params.hash())
        .integer("N", st.key.modulus())
        .integer("C'", st.c_prime.as_uint())
        .integer("c", st.c.as_uint())
        .point("Q2", st.q2)
        .point("R2", st.r2)
        .scalar("m", st.m)
        .scalar("r", st.r);
    for x in w {
        t.integer("W", x);
    }
    for x in a {
        t.integer("A", x);
    }
    t.point("G'", g_prime)
        .point("Q2'", q2_prime)
        .integer("C_alpha", c_alpha);
    let mut e = [0u8; E_LEN];
    t.into_xof().fill(&mut e);
    U128::from_be_slice(&e)
}

/// P2's message-independent half of π_c3 and of c: witnesses, masks, commitments and the
/// powers of C' and of the Paillier nonces. Made by presigning, used once, wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
// Fuzzing only: the fuzz targets clone the P2 state that holds it.
#[cfg_attr(fuzzing, derive(Clone))]
pub struct Prover {
    w1: Scalar,
    w2: Scalar,
    w3: U640,
    w4: ModN,
    w4_n: NoncePower,
    rho: [U2368; 3],
    alpha1: U512,
    alpha2: U512,
    alpha3: U896,
    beta: [U2368; 3],
    gamma: ModN,
    gamma_n: NoncePower,
    /// C'^w1 mod N².
    c_w1: ModNN,
    /// C'^α1 mod N².
    c_alpha1: ModNN,
    #[zeroize(skip)]
    w: [U2048; 3],
    #[zeroize(skip)]
    a: [U2048; 3],
    #[zeroize(skip)]
    g_prime: AffinePoint,
    #[zeroize(skip)]
    q2_prime: AffinePoint,
}

impl Prover {
    /// The message-independent work for a signature with nonce k2 (R2 = k2·G) by the holder of
    /// x2: everything but the factors that need r and m. `c_prime` is C' = c_key ⊕ q·2^64 and
    /// `table`, if any, its fixed-base table; `commit_tables`, if any, the tables of `params`'
    /// g and h (tables for other parameters are not used).
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        k2: &Scalar,
        x2: &Scalar,
        r2: &AffinePoint,
        key: &PublicKey,
        c_prime: &Ciphertext,
        table: Option<&FixedBase<'_>>,
        params: &RingPedersenParams,
        commit_tables: Option<&CommitTables<'_>>,
    ) -> Self {
        let w1 = Option::<Scalar>::from(k2.invert()).unwrap_or(Scalar::ZERO);
        let w2 = w1 * x2;
        let w3 = bigint::random_below(rng, &nz(W3_BOUND));
        let w4 = key.random_nonce(rng);
        let monty = params.monty_checked();
        let g = ElementN::new(&params.g, &monty);
        let h = ElementN::new(&params.h, &monty);
        let n_hat: U2368 = params.n.resize();
        let rho_bound = nz(n_hat.wrapping_shl(STAT_BITS));
        let beta_bound = nz(n_hat.wrapping_shl(U_SHIFT));
        let rho: [U2368; 3] = core::array::from_fn(|_| bigint::random_below(rng, &rho_bound));
        let alpha1 = bigint::random_below(rng, &nz(ALPHA12_BOUND));
        let alpha2 = bigint::random_below(rng, &nz(ALPHA12_BOUND));
        let alpha3 = bigint::random_below(rng, &nz(ALPHA3_BOUND));
        let beta: [U2368; 3] = core::array::from_fn(|_| bigint::random_below(rng, &beta_bound));
        let gamma = key.random_nonce(rng);

        let w1_int = Zeroizing::new(bigint::scalar_to_uint::<{ U896::LIMBS }>(&w1));
        let w2_int = Zeroizing::new(bigint::scalar_to_uint::<{ U896::LIMBS }>(&w2));
        let w3_int = Zeroizing::new(w3.resize::<{ U896::LIMBS }>());
        let wits = [&*w1_int, &*w2_int, &*w3_int];
        let alphas = [alpha1.resize(), alpha2.resize(), alpha3];
        // Each exponentiation stops at its exponent's public bound: the same values in
        // constant time, without the squarings of the always-zero top bits.
        let commit = |x: &U896, x_bits: u32, blind: &U2368, blind_bits: u32| {
            commit_tables
                .and_then(|t| t.commit(params, x, x_bits, blind, blind_bits))
                .unwrap_or_else(|| {
                    g.pow_bounded_exp(x, x_bits)
                        .mul(&h.pow_bounded_exp(blind, blind_bits))
                        .retrieve()
                })
        };
        let w = core::array::from_fn(|j| match (wits.get(j), WITNESS_BITS.get(j), rho.get(j)) {
            (Some(x), Some(bits), Some(b)) => commit(x, *bits, b, RHO_BITS),
            _ => U2048::ZERO,
        });
        let a = core::array::from_fn(|j| match (alphas.get(j), ALPHA_BITS.get(j), beta.get(j)) {
            (Some(x), Some(bits), Some(b)) => commit(x, *bits, b, BETA_BITS),
            _ => U2048::ZERO,
        });
        let alpha1_s = bigint::reduce_mod_q(&alpha1);
        let alpha2_s = bigint::reduce_mod_q(&alpha2);
        let r2p = ProjectivePoint::from(*r2);
        let g_prime = (r2p * alpha1_s).to_affine();
        let q2_prime = (r2p * alpha2_s).to_affine();
        let w1_512 = Zeroizing::new(bigint::scalar_to_uint::<{ U512::LIMBS }>(&w1));
        let power = |e: &U512| match table {
            Some(t) => key
                .pow_fixed(t, e)
                .unwrap_or_else(|_| key.mul_plain(c_prime, e)),
            None => key.mul_plain(c_prime, e),
        };
        let c_w1 = power(&w1_512).0;
        let c_alpha1 = power(&alpha1).0;
        Self {
            w1,
            w2,
            w3,
            w4_n: key.nonce_power_of(&w4),
            w4,
            rho,
            alpha1,
            alpha2,
            alpha3,
            beta,
            gamma_n: key.nonce_power_of(&gamma),
            gamma,
            c_w1,
            c_alpha1,
            w,
            a,
            g_prime,
            q2_prime,
        }
    }

    /// The online step, once r and m are known: c and its proof. `key_fingerprint`, `epoch`,
    /// `params` and `verifier` complete the statement; `binding` names the session and P2.
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if the prover was made under another Paillier key.
    pub fn prove(&self, st: &Statement<'_>, binding: &Binding<'_>) -> Result<SignCiphertextProof> {
        let key = st.key;
        let r: U512 = bigint::scalar_to_uint(st.r);
        let m: U512 = bigint::scalar_to_uint(st.m);
        let c_alpha = self.c_alpha(key, &r, &m)?;
        let e = challenge(
            st,
            binding,
            &self.w,
            &self.a,
            &self.g_prime,
            &self.q2_prime,
            &c_alpha,
        );
        let w1 = Zeroizing::new(bigint::scalar_to_uint::<{ U512::LIMBS }>(&self.w1));
        let w2 = Zeroizing::new(bigint::scalar_to_uint::<{ U512::LIMBS }>(&self.w2));
        let e512: U512 = e.resize();
        let e896: U896 = e.resize();
        let e2368: U2368 = e.resize();
        let z1 = self.alpha1.wrapping_add(&e512.wrapping_mul(&w1));
        let z2 = self.alpha2.wrapping_add(&e512.wrapping_mul(&w2));
        let z3 = self
            .alpha3
            .wrapping_add(&e896.wrapping_mul(&self.w3.resize::<{ U896::LIMBS }>()));
        let u = core::array::from_fn(|j| match (self.beta.get(j), self.rho.get(j)) {
            (Some(b), Some(rho)) => b.wrapping_add(&e2368.wrapping_mul(rho)),
            _ => U2368::ZERO,
        });
        let v = key.mul_n(&self.gamma, &key.pow_n(&self.w4, &e));
        Ok(SignCiphertextProof {
            w: self.w,
            a: self.a,
            g_prime: self.g_prime,
            q2_prime: self.q2_prime,
            c_alpha,
            z1,
            z2,
            z3,
            u,
            v,
        })
    }

    /// c = C'^(r·w1)·(1+N)^(w1·m + w2·r + w3·q)·w4^N: P2's signing ciphertext, which the
    /// statement of [`Prover::prove`] names. C'^(r·w1) is (C'^w1)^r, or one pass over C''s
    /// fixed-base `table` if the caller has one.
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if the prover or the table was made under another
    /// Paillier key.
    pub fn ciphertext(
        &self,
        key: &PublicKey,
        r: &Scalar,
        m: &Scalar,
        table: Option<&FixedBase<'_>>,
    ) -> Result<Ciphertext> {
        let r: U512 = bigint::scalar_to_uint(r);
        let m: U512 = bigint::scalar_to_uint(m);
        let w1 = Zeroizing::new(bigint::scalar_to_uint::<{ U512::LIMBS }>(&self.w1));
        let w2 = Zeroizing::new(bigint::scalar_to_uint::<{ U512::LIMBS }>(&self.w2));
        let plain = Zeroizing::new(linear(&w1, &w2, &self.w3.resize(), &r, &m));
        let raised = match table {
            // w1·r < q² fits the table's 512-bit exponents.
            Some(t) => key.pow_fixed(t, &Zeroizing::new(w1.wrapping_mul(&r)))?,
            // r < q: a 256-bit exponent, not the 512 bits r is held in for `linear`.
            None => key.mul_plain(&Ciphertext(self.c_w1), &r.resize::<{ U256::LIMBS }>()),
        };
        Ok(key.add(&raised, &key.encrypt_with_nonce(&*plain, &self.w4_n)?))
    }

    /// C_α = (C'^α1)^r·(1+N)^(α1·m + α2·r + α3·q)·γ^N.
    fn c_alpha(&self, key: &PublicKey, r: &U512, m: &U512) -> Result<ModNN> {
        let plain = Zeroizing::new(linear(&self.alpha1, &self.alpha2, &self.alpha3, r, m));
        // r < q: a 256-bit exponent (half the squarings of its 512-bit container).
        let raised = key.mul_plain(&Ciphertext(self.c_alpha1), &r.resize::<{ U256::LIMBS }>());
        Ok(key
            .add(&raised, &key.encrypt_with_nonce(&*plain, &self.gamma_n)?)
            .0)
    }

    /// The witnesses w1 = k2⁻¹ and w2 = k2⁻¹·x2, for a cheating prover in tests.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn witnesses(&self) -> (Scalar, Scalar) {
        (self.w1, self.w2)
    }
}

/// x1·m + x2·r + x3·q over the integers (< 2^1090 for every use here, so below N).
fn linear(x1: &U512, x2: &U512, x3: &U896, r: &U512, m: &U512) -> U2048 {
    let wide = |x: &U512| x.resize::<{ U2048::LIMBS }>();
    let q: U2048 = bigint::ORDER.resize();
    wide(x1)
        .wrapping_mul(&wide(m))
        .wrapping_add(&wide(x2).wrapping_mul(&wide(r)))
        .wrapping_add(&x3.resize::<{ U2048::LIMBS }>().wrapping_mul(&q))
}

/// A constant bound as a divisor (never zero).
fn nz<const L: usize>(x: Uint<L>) -> NonZero<Uint<L>> {
    NonZero::new(x)
        .into_option()
        .unwrap_or(NonZero::<Uint<L>>::ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn zeroizing_the_prover_wipes_witnesses_masks_and_nonces() {
        let sk = fixtures::paillier_key(0);
        let key = sk.public_key();
        let mut rng = fixtures::rng(1);
        let (c_key, _) = key.encrypt(&mut rng, &U512::from_u64(7));
        let params = *fixtures::ring_pedersen(0).params();
        let k2 = Scalar::from(11u64);
        let mut p = Prover::new(
            &mut rng,
            &k2,
            &Scalar::from(13u64),
            &crate::curve::mul_g(&k2),
            key,
            &c_key,
            None,
            &params,
            None,
        );
        p.zeroize();
        assert_eq!((p.w1, p.w2), (Scalar::ZERO, Scalar::ZERO));
        assert_eq!((p.w3, p.w4, p.gamma), (U640::ZERO, ModN::ZERO, ModN::ZERO));
        assert_eq!(
            (p.alpha1, p.alpha2, p.alpha3),
            (U512::ZERO, U512::ZERO, U896::ZERO)
        );
        assert_eq!(p.rho, [U2368::ZERO; 3]);
        assert_eq!(p.beta, [U2368::ZERO; 3]);
        assert_eq!((p.c_w1, p.c_alpha1), (ModNN::ZERO, ModNN::ZERO));
    }
}
