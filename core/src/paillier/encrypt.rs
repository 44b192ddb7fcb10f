//! Encryption and the homomorphic operations, with the public key only.

use crypto_bigint::{NonZero, Uint, modular::FixedMontyForm};
use rand_core::CryptoRng;

use super::{Ciphertext, ModN, ModNN, PublicKey};
use crate::bigint;

impl PublicKey {
    /// A random r in [1, N): the randomness of one encryption.
    ///
    /// A non-unit r would factor N; for an honest N that happens with probability about 2^-1023.
    #[must_use]
    pub fn random_nonce<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> ModN {
        let bound = NonZero::new(self.n.wrapping_sub(&ModN::ONE)).into_option();
        bound.map_or(ModN::ONE, |b| {
            bigint::random_below(rng, &b).wrapping_add(&ModN::ONE)
        })
    }

    /// r^N mod N², the randomness factor of an encryption (constant time in r).
    #[must_use]
    pub fn nonce_power(&self, r: &ModN) -> FixedMontyForm<{ ModNN::LIMBS }> {
        FixedMontyForm::new(&r.resize(), &self.monty_nn).pow(&self.n)
    }

    /// Enc(m; r) = (1 + m·N) · r^N mod N², for any m (taken mod N).
    #[must_use]
    pub fn encrypt_with<const L: usize>(&self, m: &Uint<L>, r: &ModN) -> Ciphertext {
        let rn = self.nonce_power(r);
        self.encrypt_with_power(m, &rn)
    }

    /// Enc(m; r) from a precomputed r^N.
    #[must_use]
    pub fn encrypt_with_power<const L: usize>(
        &self,
        m: &Uint<L>,
        rn: &FixedMontyForm<{ ModNN::LIMBS }>,
    ) -> Ciphertext {
        let gm = self.plaintext_factor(m);
        Ciphertext(gm.mul(rn).retrieve())
    }

    /// Enc(m) with fresh randomness, also returning the randomness.
    #[must_use]
    pub fn encrypt<const L: usize, R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        m: &Uint<L>,
    ) -> (Ciphertext, ModN) {
        let r = self.random_nonce(rng);
        (self.encrypt_with(m, &r), r)
    }

    /// 1 + (m mod N)·N in Montgomery form mod N².
    fn plaintext_factor<const L: usize>(&self, m: &Uint<L>) -> FixedMontyForm<{ ModNN::LIMBS }> {
        let m_mod_n = reduce_mod_n(m, &self.n);
        let mn: ModNN = m_mod_n.concatenating_mul(&self.n);
        FixedMontyForm::new(&mn.wrapping_add(&ModNN::ONE), &self.monty_nn)
    }

    /// c1 · c2: encrypts the sum of the plaintexts.
    #[must_use]
    pub fn add(&self, c1: &Ciphertext, c2: &Ciphertext) -> Ciphertext {
        Ciphertext(self.mul_nn(&c1.0, &c2.0))
    }

    /// c · (1 + k·N): adds the constant k to the plaintext.
    #[must_use]
    pub fn add_plain<const L: usize>(&self, c: &Ciphertext, k: &Uint<L>) -> Ciphertext {
        let gk = self.plaintext_factor(k);
        Ciphertext(
            gk.mul(&FixedMontyForm::new(&c.0, &self.monty_nn))
                .retrieve(),
        )
    }

    /// c^k: multiplies the plaintext by k (constant time in k).
    #[must_use]
    pub fn mul_plain<const L: usize>(&self, c: &Ciphertext, k: &Uint<L>) -> Ciphertext {
        Ciphertext(FixedMontyForm::new(&c.0, &self.monty_nn).pow(k).retrieve())
    }

    /// a · b mod N².
    pub(crate) fn mul_nn(&self, a: &ModNN, b: &ModNN) -> ModNN {
        FixedMontyForm::new(a, &self.monty_nn)
            .mul(&FixedMontyForm::new(b, &self.monty_nn))
            .retrieve()
    }

    /// base^e mod N² where both are public (proof verification).
    // vartime: for proof verification; callers pass public values only.
    pub(crate) fn pow_nn_vartime<const L: usize>(&self, base: &ModNN, e: &Uint<L>) -> ModNN {
        bigint::pow_sliding_vartime(&FixedMontyForm::new(base, &self.monty_nn), e).retrieve()
    }

    /// Enc(m; r) where m, r are public (proof verification).
    // vartime: for proof verification; callers pass public values only.
    pub(crate) fn encrypt_vartime<const L: usize>(&self, m: &Uint<L>, r: &ModN) -> ModNN {
        let rn =
            bigint::pow_sliding_vartime(&FixedMontyForm::new(&r.resize(), &self.monty_nn), &self.n);
        self.plaintext_factor(m).mul(&rn).retrieve()
    }

    /// a · b mod N.
    pub(crate) fn mul_n(&self, a: &ModN, b: &ModN) -> ModN {
        FixedMontyForm::new(a, &self.monty_n)
            .mul(&FixedMontyForm::new(b, &self.monty_n))
            .retrieve()
    }

    /// base^e mod N (constant time).
    pub(crate) fn pow_n<const L: usize>(&self, base: &ModN, e: &Uint<L>) -> ModN {
        FixedMontyForm::new(base, &self.monty_n).pow(e).retrieve()
    }

    /// base^e mod N for public values.
    // vartime: for proof verification; callers pass public values only.
    pub(crate) fn pow_n_vartime<const L: usize>(&self, base: &ModN, e: &Uint<L>) -> ModN {
        bigint::pow_sliding_vartime(&FixedMontyForm::new(base, &self.monty_n), e).retrieve()
    }
}

/// m mod N in constant time, at N's width.
pub(crate) fn reduce_mod_n<const L: usize>(m: &Uint<L>, n: &ModN) -> ModN {
    if L <= ModN::LIMBS {
        let m: ModN = m.resize();
        // A value narrower than N may still exceed it only if it has N's full width.
        return NonZero::new(*n).into_option().map_or(m, |n| m.rem(&n));
    }
    NonZero::new(n.resize::<L>())
        .into_option()
        .map_or(ModN::ZERO, |n| m.rem(&n).resize())
}
