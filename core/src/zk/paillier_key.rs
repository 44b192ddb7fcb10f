//! Proof that N is a valid Paillier modulus: gcd(N, φ(N)) = 1, shown by N-th roots.
//!
//! The verifier picks a seed; both derive ρ_1..ρ_t in Z_N from it; the prover returns
//! σ_i = ρ_i^(N⁻¹ mod φ(N)). If gcd(N, φ(N)) ≠ 1 and N has no factor below 2^18 (checked by
//! [`PublicKey::from_modulus`]), at most a 2^-18 fraction of units are N-th residues.
//!
//! A prime N has gcd(N, φ(N)) = gcd(N, N − 1) = 1 and passes that test, but it is no Paillier
//! modulus. For prime N (and for a Carmichael number), σ^N = σ for every unit σ, so its roots
//! are the challenges themselves; for N = p·q, σ_i = ρ_i only if ρ_i^(N−1) = 1, for a hashed ρ_i a chance of about
//! gcd(p−1, q−1)²/N. The verifier refuses roots that all equal their challenges, which replaces a
//! primality test of N at every decode.

use crypto_bigint::{NonZero, U128};

use super::{KEY_CHALLENGE_LEN, KEY_ROOTS};
use crate::{
    Error, Proof, Result,
    paillier::{ModN, PublicKey, SecretKey},
    session::Binding,
    sizes::MOD_N_LEN,
    tags,
    wire::{Reader, Writer},
    work::{self, Executor, Sequential},
};

/// The roots σ_1..σ_t.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaillierKeyProof {
    roots: [ModN; KEY_ROOTS],
}

/// The verifier's challenge seed.
pub type Challenge = [u8; KEY_CHALLENGE_LEN];

impl PaillierKeyProof {
    /// Storage for a proof about to be read, not a valid proof.
    pub(crate) const EMPTY: Self = Self {
        roots: [ModN::ZERO; KEY_ROOTS],
    };
    /// Encoded length.
    pub const LEN: usize = KEY_ROOTS * MOD_N_LEN;

    /// Answers the verifier's challenge.
    #[must_use]
    pub fn prove(key: &SecretKey, challenge: &Challenge, binding: &Binding<'_>) -> Self {
        Self::prove_with(key, challenge, binding, &Sequential)
    }

    /// As [`Self::prove`], with the N-th roots (independent of each other) run by `exec`:
    /// the same proof on any schedule.
    #[must_use]
    pub(crate) fn prove_with<X: Executor + ?Sized>(
        key: &SecretKey,
        challenge: &Challenge,
        binding: &Binding<'_>,
        exec: &X,
    ) -> Self {
        let rhos = challenges(key.public_key(), challenge, binding);
        Self::from_roots(work::compute(exec, &root_items(key, &rhos)))
    }

    /// The proof of the roots σ_i = [`root`]`(key, ρ, i)` of ρ = [`challenges`].
    pub(crate) const fn from_roots(roots: [ModN; KEY_ROOTS]) -> Self {
        Self { roots }
    }

    /// Checks every root: σ_i^N = ρ_i mod N, and the ρ_i are units.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::PaillierKey`] for a wrong root,
    /// [`Error::PaillierModulus`] if N is prime (every root equals its challenge).
    pub fn verify(
        &self,
        key: &PublicKey,
        challenge: &Challenge,
        binding: &Binding<'_>,
    ) -> Result<()> {
        let rhos = challenges(key, challenge, binding);
        (0..KEY_ROOTS).try_for_each(|i| self.verify_root(key, &rhos, i))?;
        self.verify_not_prime(&rhos)
    }

    /// Checks root `i` (< [`KEY_ROOTS`]) against ρ = [`challenges`]: σ_i^N = ρ_i mod N and
    /// ρ_i a unit. One N-th power: a caller with threads runs the roots as separate items,
    /// then [`Self::verify_not_prime`]; the first failure in that order is the error
    /// [`Self::verify`] gives.
    ///
    /// # Errors
    /// [`Error::ProofInvalid`] with [`Proof::PaillierKey`], also for `i` out of range.
    // Out of line like every work item of `ckey::verify_with` (see
    // `eq_paillier_pedersen::Response::verify_commitment`): a guard; this one was not inlined
    // when that happened.
    #[inline(never)]
    pub(crate) fn verify_root(
        &self,
        key: &PublicKey,
        rhos: &[ModN; KEY_ROOTS],
        i: usize,
    ) -> Result<()> {
        let n = key.modulus();
        let (Some(root), Some(rho)) = (self.roots.get(i), rhos.get(i)) else {
            return Err(Error::ProofInvalid(Proof::PaillierKey));
        };
        if !key.is_unit(rho)
            // vartime: public roots, challenges and N.
            || root.is_zero_vartime()
            || root.cmp_vartime(n).is_ge()
            || key.pow_n_vartime(root, n) != *rho
        {
            return Err(Error::ProofInvalid(Proof::PaillierKey));
        }
        Ok(())
    }

    /// The check of [`Self::verify`] after the roots': not every root its own N-th power,
    /// which would make N prime (see the module documentation).
    ///
    /// # Errors
    /// [`Error::PaillierModulus`] if every root equals its challenge.
    pub(crate) fn verify_not_prime(&self, rhos: &[ModN; KEY_ROOTS]) -> Result<()> {
        if self.roots == *rhos {
            return Err(Error::PaillierModulus);
        }
        Ok(())
    }

    /// Writes the roots.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        self.roots.iter().try_for_each(|r| w.integer(MOD_N_LEN, r))
    }

    /// Reads the roots (their bound N is checked in `verify`).
    ///
    /// # Errors
    /// [`Error::Malformed`].
    pub fn read(r: &mut Reader<'_>) -> Result<Self> {
        let mut roots = [ModN::ZERO; KEY_ROOTS];
        for root in &mut roots {
            *root = r.integer_unbounded(MOD_N_LEN)?;
        }
        Ok(Self { roots })
    }
}

/// σ_i = ρ_i^(N⁻¹ mod φ(N)), root `i` of the proof (< [`KEY_ROOTS`]; zero beyond): one
/// independent work item.
fn root(key: &SecretKey, rhos: &[ModN; KEY_ROOTS], i: usize) -> ModN {
    rhos.get(i).map_or(ModN::ZERO, |rho| key.nth_root(rho))
}

/// The proof's N-th roots of `rhos` as independent computations, one per root, for an
/// executor: [`PaillierKeyProof::prove_with`] and keygen run them as its items.
pub(crate) fn root_items<'a>(
    key: &'a SecretKey,
    rhos: &'a [ModN; KEY_ROOTS],
) -> [impl Fn() -> ModN + Sync + 'a; KEY_ROOTS] {
    core::array::from_fn(|i| move || root(key, rhos, i))
}

/// ρ_1..ρ_t, uniform in Z_N, from the seed, N and the binding.
pub(crate) fn challenges(
    key: &PublicKey,
    challenge: &Challenge,
    binding: &Binding<'_>,
) -> [ModN; KEY_ROOTS] {
    let mut t = binding.transcript(tags::ZK_PAILLIER_KEY);
    t.bytes("seed", challenge).integer("N", key.modulus());
    let mut xof = t.into_xof();
    let n_wide =
        NonZero::new(key.modulus().resize::<{ ModN::LIMBS + U128::LIMBS }>()).into_option();
    core::array::from_fn(|_| {
        n_wide.map_or(ModN::ZERO, |n| {
            xof.integer_mod::<{ ModN::LIMBS + U128::LIMBS }>(&n)
                .resize::<{ ModN::LIMBS }>()
        })
    })
}

#[cfg(test)]
pub(crate) fn roots_mut(proof: &mut PaillierKeyProof) -> &mut [ModN; KEY_ROOTS] {
    &mut proof.roots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    const SID: [u8; 32] = [7; 32];
    const PID: [u8; 32] = [1; 32];

    #[test]
    fn honest_roots_verify_and_tampering_fails() {
        let sk = fixtures::paillier_key(0);
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/N",
        };
        let seed = [9u8; KEY_CHALLENGE_LEN];
        let mut proof = PaillierKeyProof::prove(&sk, &seed, &b);
        assert_eq!(proof.verify(sk.public_key(), &seed, &b), Ok(()));
        let bad = Err(Error::ProofInvalid(Proof::PaillierKey));
        assert_eq!(
            proof.verify(sk.public_key(), &[8u8; KEY_CHALLENGE_LEN], &b),
            bad
        );
        // A proof for another N does not carry over.
        let other = fixtures::paillier_key(1);
        assert_eq!(proof.verify(other.public_key(), &seed, &b), bad);
        roots_mut(&mut proof)[2] = ModN::ONE;
        assert_eq!(proof.verify(sk.public_key(), &seed, &b), bad);
    }

    /// A prime N decodes (it has no small factor) and its honest "roots" σ_i = ρ_i verify as
    /// N-th roots; the verifier refuses them as a prime modulus. One root changed to another
    /// valid value is a wrong root again.
    #[test]
    fn a_prime_modulus_is_refused_by_its_roots() {
        let prime: ModN =
            crypto_primes::random_prime(&mut fixtures::rng(3), crypto_primes::Flavor::Any, 2048);
        let key = PublicKey::from_modulus(prime).unwrap();
        let b = Binding {
            session: &SID,
            prover: &PID,
            label: "keygen/N",
        };
        let seed = [5u8; KEY_CHALLENGE_LEN];
        let rhos = challenges(&key, &seed, &b);
        for rho in &rhos {
            assert_eq!(key.pow_n_vartime(rho, key.modulus()), *rho, "Fermat");
        }
        let mut proof = PaillierKeyProof::from_roots(rhos);
        assert_eq!(proof.verify(&key, &seed, &b), Err(Error::PaillierModulus));
        roots_mut(&mut proof)[0] = ModN::ONE;
        assert_eq!(
            proof.verify(&key, &seed, &b),
            Err(Error::ProofInvalid(Proof::PaillierKey))
        );
    }
}
