//! CRT decryption and N-th roots: every step constant time in the secret key and the plaintext.

use crypto_bigint::{
    MultiExponentiateBoundedExp, NonZero, U1024, U2048, Uint, modular::FixedMontyForm,
};
use k256::Scalar;
use rand_core::CryptoRng;
use subtle::{ConditionallySelectable, ConstantTimeLess};

use super::{Ciphertext, ModN, ModNN, SecretKey, keygen::CrtHalf};
use zeroize::Zeroizing;

use crate::bigint;

impl SecretKey {
    /// Dec(c) in `[0, N)`.
    #[must_use]
    pub fn decrypt(&self, c: &Ciphertext) -> ModN {
        // The plaintext mod p and mod q: wiped once joined.
        let mp = Zeroizing::new(self.p.decrypt_half(c));
        let mq = Zeroizing::new(self.q.decrypt_half(c));
        self.combine(&mp, &mq)
    }

    /// Dec(c) read as a signed value in (−N/2, N/2), reduced mod q.
    ///
    /// An honest plaintext is far below N/2; a larger one is a negative value that a cheating
    /// peer wrapped around N, and must not be reduced as if it were positive.
    #[must_use]
    pub fn decrypt_centered_mod_q(&self, c: &Ciphertext) -> Scalar {
        self.centered_mod_q(&self.decrypt(c))
    }

    /// The plaintext mod one prime (the two halves are independent: they may run in parallel).
    #[must_use]
    pub fn decrypt_half(&self, c: &Ciphertext, prime: Prime) -> HalfPlaintext {
        let value = match prime {
            Prime::P => self.p.decrypt_half(c),
            Prime::Q => self.q.decrypt_half(c),
        };
        HalfPlaintext { value, prime }
    }

    /// Joins the two halves and reads the plaintext as [`SecretKey::decrypt_centered_mod_q`]
    /// does; `None` unless one half is mod p and the other mod q.
    #[must_use]
    pub fn join_centered_mod_q(&self, a: &HalfPlaintext, b: &HalfPlaintext) -> Option<Scalar> {
        let (p, q) = match (a.prime, b.prime) {
            (Prime::P, Prime::Q) => (a, b),
            (Prime::Q, Prime::P) => (b, a),
            _ => return None,
        };
        Some(self.centered_mod_q(&self.combine(&p.value, &q.value)))
    }

    /// m read as a signed value in (−N/2, N/2), reduced mod q, in constant time.
    fn centered_mod_q(&self, m: &ModN) -> Scalar {
        let m = *m;
        let n = self.public.n;
        let half = n.shr(1).wrapping_add(&ModN::ONE);
        let negative = !m.ct_lt(&half);
        let positive = bigint::reduce_mod_q(&m);
        let wrapped = positive - bigint::reduce_mod_q(&n);
        Scalar::conditional_select(&positive, &wrapped, negative)
    }

    /// The N-th root of a unit x mod N: x^(N⁻¹ mod φ(N)), by CRT.
    #[must_use]
    pub fn nth_root(&self, x: &ModN) -> ModN {
        let rp = self.p.root_half(x);
        let rq = self.q.root_half(x);
        self.combine(&rp, &rq)
    }

    /// Enc(m; r) by CRT: r^N mod p² and mod q² (half-size moduli), joined mod N².
    #[must_use]
    pub fn encrypt_with<const L: usize>(&self, m: &Uint<L>, r: &ModN) -> Ciphertext {
        let a = self.p.nth_power_half(r);
        let b = self.q.nth_power_half(r);
        let pp = NonZero::new(self.p.square).into_option();
        let joined = pp.map_or(ModNN::ZERO, |pp| {
            let b_mod = b.rem(&pp);
            let h = a.sub_mod(&b_mod, &pp).mul_mod(&self.qq_inv_pp, &pp);
            let qq_h: ModNN = self.q.square.concatenating_mul(&h);
            qq_h.wrapping_add(&b.resize())
        });
        let rn = FixedMontyForm::new(&joined, &self.public.monty_nn);
        self.public.encrypt_with_power(m, &rn)
    }

    /// Enc(m) with fresh randomness, by CRT; also returns the randomness.
    #[must_use]
    pub fn encrypt<const L: usize, R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        m: &Uint<L>,
    ) -> (Ciphertext, ModN) {
        let r = self.public.random_nonce(rng);
        (self.encrypt_with(m, &r), r)
    }

    /// The randomness r of a ciphertext c = (1 + m·N)·r^N: the N-th root of c mod N.
    #[must_use]
    pub fn randomness_of(&self, c: &Ciphertext) -> ModN {
        let n = NonZero::new(self.public.n.resize::<{ ModNN::LIMBS }>()).into_option();
        let c_mod_n: ModN = n.map_or(ModN::ZERO, |n| c.0.rem(&n).resize());
        self.nth_root(&c_mod_n)
    }

    /// Whether base^exp · plain · v^N ≡ rhs · c^e mod `prime`², for public values: one half of
    /// the same equation mod N², which by the CRT holds exactly when both halves hold. The two
    /// halves are independent work (two threads may run them). Constant time in the primes;
    /// decrypts nothing.
    ///
    /// v^N mod p² is ω^p for ω = v^(N mod (p−1)) mod p (see `nth_power_half`), and base^exp·ω^p
    /// is one multi-exponentiation: the two 1024-bit exponents share one chain of squarings.
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    // Its own frame, and each side's Montgomery forms (about 1 KiB each) in their own block:
    // party 0's firmware signs with 64 KiB of RAM, and this is its deepest point.
    #[inline(never)]
    pub(crate) fn relation_half_holds<const F: usize>(
        &self,
        prime: Prime,
        base: &ModNN,
        exp: &U1024,
        plain: &ModNN,
        v: &ModN,
        rhs: &ModNN,
        c: &ModNN,
        e: &Uint<F>,
    ) -> subtle::Choice {
        let half = match prime {
            Prime::P => &self.p,
            Prime::Q => &self.q,
        };
        // Secret: the prime and its square. Every value below is a public input reduced mod
        // p² (or mod p for ω), or a product or power of such: with the input it came from, any
        // one gives p away (x − (x mod p²) is a multiple of p², a gcd with N from the factor),
        // and each Montgomery form also carries a copy of p²'s parameters. So each is wiped
        // when it goes out of scope; only the verdict leaves, which says whether an equation
        // of public values holds. (Compiler temporaries are out of reach.)
        let reduce = |x: &ModNN| {
            let reduced: Zeroizing<U2048> = Zeroizing::new(x.rem(&half.square_wide).resize());
            Zeroizing::new(FixedMontyForm::new(&reduced, &half.monty_sq))
        };
        let right: Zeroizing<U2048> = {
            let c_e = Zeroizing::new(reduce(c).pow(e));
            Zeroizing::new(reduce(rhs).mul(&c_e).retrieve())
        };
        let left: Zeroizing<U2048> = {
            let omega = half.nth_power_mod_p(v);
            let pair = Zeroizing::new([
                (*reduce(base), *exp),
                (
                    FixedMontyForm::new(&omega.resize(), &half.monty_sq),
                    half.prime.get(),
                ),
            ]);
            let product = Zeroizing::new(FixedMontyForm::multi_exponentiate_bounded_exp(
                &*pair,
                U1024::BITS,
            ));
            Zeroizing::new(product.mul(&reduce(plain)).retrieve())
        };
        subtle::ConstantTimeEq::ct_eq(&*left, &*right)
    }

    /// CRT: the x mod N with x ≡ a (mod p), x ≡ b (mod q).
    fn combine(&self, a: &U1024, b: &U1024) -> ModN {
        let p = &self.p.prime;
        // Every intermediate is a function of the plaintext and the primes: wiped on return.
        let b_mod_p = Zeroizing::new(b.rem(p));
        let diff = Zeroizing::new(a.sub_mod(&b_mod_p, p));
        let h = Zeroizing::new(diff.mul_mod(&self.q_inv_p, p));
        let qh: Zeroizing<U2048> = Zeroizing::new(self.q.prime.get().concatenating_mul(&*h));
        qh.wrapping_add(&b.resize())
    }
}

/// One of the two prime factors of a secret modulus, naming one half of a computation split
/// by the CRT: P1's decryption ([`SecretKey::decrypt_half`]; the halves of one plaintext are
/// joined by [`SecretKey::join_centered_mod_q`]), and the halves of π_c3's check with P1's
/// trapdoors, mod p² and q² of the Paillier N for its Paillier relation and mod p̂ and q̂ of
/// the ring-Pedersen N̂ for its commitments. The two halves of one computation are independent
/// work: an executor may run them on two threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prime {
    /// The first prime (p of N, p̂ of N̂).
    P,
    /// The second prime (q of N, q̂ of N̂).
    Q,
}

/// A plaintext mod one prime factor: half a CRT decryption.
#[derive(zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct HalfPlaintext {
    value: U1024,
    #[zeroize(skip)]
    prime: Prime,
}

impl core::fmt::Debug for HalfPlaintext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HalfPlaintext")
            .field("prime", &self.prime)
            .finish_non_exhaustive()
    }
}

/// Test instrument (`internals` builds only): how many half-decryptions ran in this process,
/// so that tests can show a round decrypted nothing.
#[cfg(any(test, feature = "internals"))]
static HALF_DECRYPTIONS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Test instrument (`internals` builds only): half-decryptions so far in this process (two per
/// decryption). Tests that read it must run alone in their binary.
#[cfg(any(test, feature = "internals"))]
#[must_use]
pub fn half_decryptions() -> usize {
    HALF_DECRYPTIONS.load(core::sync::atomic::Ordering::SeqCst)
}

impl CrtHalf {
    /// L_p(c^(p−1) mod p²) · h_p mod p: the plaintext mod p.
    fn decrypt_half(&self, c: &Ciphertext) -> U1024 {
        #[cfg(any(test, feature = "internals"))]
        HALF_DECRYPTIONS.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        let c_mod: U2048 = c.0.rem(&self.square_wide).resize();
        let u = FixedMontyForm::new(&c_mod, &self.monty_sq)
            .pow(&self.minus_one)
            .retrieve();
        let l: U1024 = u
            .wrapping_sub(&U2048::ONE)
            .div_rem(&self.prime_wide)
            .0
            .resize();
        l.mul_mod(&self.h, &self.prime)
    }

    /// r^N mod p², as (r^(N mod (p−1)) mod p)^p mod p²: a Paillier nonce's power, and the
    /// v^N of π_c3's Paillier relation.
    ///
    /// Z_{p²}^* is the product of the roots of unity μ_{p−1} and the order-p group 1 + pZ. As p
    /// divides N, r^N kills r's 1 + pZ part: r^N = ω^N for the root of unity ω ≡ r (mod p), so
    /// r^N mod p² is the root of unity ≡ r^N (mod p). For any y, y^p is the root of unity
    /// ≡ y (mod p) (its 1 + pZ part vanishes, and ω^p = ω). So a 1024-bit exponentiation mod p
    /// and one with the 1024-bit exponent p mod p² replace one 2048-bit exponentiation mod p²:
    /// about 5/8 of the work, both constant time like before.
    fn nth_power_half(&self, r: &ModN) -> U2048 {
        let root_mod_p = self.nth_power_mod_p(r);
        FixedMontyForm::new(&root_mod_p.resize(), &self.monty_sq)
            .pow(&self.prime.get())
            .retrieve()
    }

    /// r^N mod p, as r^(N mod (p−1)): the first step of [`CrtHalf::nth_power_half`].
    fn nth_power_mod_p(&self, r: &ModN) -> Zeroizing<U1024> {
        let r_mod_p: Zeroizing<U1024> = Zeroizing::new(r.rem(&self.prime_wide).resize());
        Zeroizing::new(
            FixedMontyForm::new(&*r_mod_p, &self.monty)
                .pow(&self.n_mod)
                .retrieve(),
        )
    }

    /// x^(N⁻¹ mod (p−1)) mod p.
    fn root_half(&self, x: &ModN) -> U1024 {
        let x_mod: U1024 = x.rem(&self.prime_wide).resize();
        FixedMontyForm::new(&x_mod, &self.monty)
            .pow(&self.n_inv)
            .retrieve()
    }
}

#[cfg(test)]
mod tests {
    use crypto_bigint::{U256, U4096};

    use crate::{Error, fixtures, paillier::PublicKey};

    #[test]
    fn round_trip_and_homomorphism() {
        let sk = fixtures::paillier_key(0);
        let pk = sk.public_key();
        let mut rng = fixtures::rng(1);
        let a = U256::from_u64(123_456_789);
        let b = U256::from_u64(987_654_321);
        let (ca, _) = pk.encrypt(&mut rng, &a);
        let (cb, _) = pk.encrypt(&mut rng, &b);
        assert_eq!(sk.decrypt(&ca), a.resize());
        assert_eq!(sk.decrypt(&pk.add(&ca, &cb)), a.wrapping_add(&b).resize());
        assert_eq!(
            sk.decrypt(&pk.add_plain(&ca, &b)),
            a.wrapping_add(&b).resize()
        );
        let prod: crypto_bigint::U512 = a.concatenating_mul(&b);
        assert_eq!(sk.decrypt(&pk.mul_plain(&ca, &b)), prod.resize());
    }

    #[test]
    fn centered_lift_treats_top_half_as_negative() {
        let sk = fixtures::paillier_key(0);
        let pk = sk.public_key();
        let mut rng = fixtures::rng(2);
        // Enc(N − 5) is "−5".
        let minus_five = pk.modulus().wrapping_sub(&crypto_bigint::U2048::from_u8(5));
        let (c, _) = pk.encrypt(&mut rng, &minus_five);
        assert_eq!(sk.decrypt_centered_mod_q(&c), -k256::Scalar::from(5u64));
        let (c, _) = pk.encrypt(&mut rng, &U256::from_u8(5));
        assert_eq!(sk.decrypt_centered_mod_q(&c), k256::Scalar::from(5u64));
    }

    #[test]
    fn crt_encryption_equals_public_encryption() {
        let sk = fixtures::paillier_key(2);
        let mut rng = fixtures::rng(3);
        let m = U256::from_u64(424_242);
        // Random nonces, and the edges: 1, N − 1, and multiples of either prime (r^N mod p²
        // is then 0 on that side, by both routes).
        let (p, q) = sk.primes();
        let n = *sk.public_key().modulus();
        let edges = [
            crypto_bigint::U2048::ONE,
            n.wrapping_sub(&crypto_bigint::U2048::ONE),
            p.resize(),
            q.resize::<{ crypto_bigint::U2048::LIMBS }>().shl_vartime(1),
        ];
        for r in (0..6)
            .map(|_| sk.public_key().random_nonce(&mut rng))
            .chain(edges)
        {
            assert_eq!(
                sk.encrypt_with(&m, &r),
                sk.public_key().encrypt_with(&m, &r)
            );
        }
        let r = sk.public_key().random_nonce(&mut rng);
        assert_eq!(
            sk.encrypt_with(&m, &r),
            sk.public_key().encrypt_with(&m, &r)
        );
        let (c, r2) = sk.encrypt(&mut rng, &m);
        assert_eq!(sk.decrypt(&c), m.resize());
        assert_eq!(sk.randomness_of(&c), r2);
    }

    #[test]
    fn nth_root_is_a_root() {
        let sk = fixtures::paillier_key(1);
        let pk = sk.public_key();
        let x = crypto_bigint::U2048::from_u64(0xdead_beef);
        let root = sk.nth_root(&x);
        assert_eq!(pk.pow_n_vartime(&root, pk.modulus()), x);
    }

    #[test]
    fn ciphertext_validation() {
        let sk = fixtures::paillier_key(0);
        let pk: &PublicKey = sk.public_key();
        let n: U4096 = pk.modulus().resize();
        assert_eq!(pk.validate(&U4096::ZERO), Err(Error::InvalidCiphertext));
        assert_eq!(
            pk.validate(pk.modulus_squared()),
            Err(Error::InvalidCiphertext)
        );
        assert_eq!(pk.validate(&n), Err(Error::InvalidCiphertext));
        let p: U4096 = sk.primes().0.resize();
        assert_eq!(pk.validate(&p), Err(Error::InvalidCiphertext));
        assert!(pk.validate(&U4096::from_u8(4)).is_ok());
        assert_eq!(PublicKey::from_modulus(*pk.modulus()).unwrap(), *pk);
    }

    #[test]
    fn zeroizing_a_half_plaintext_wipes_its_value() {
        use zeroize::Zeroize;
        let sk = fixtures::paillier_key(0);
        let mut rng = fixtures::rng(9);
        let (c, _) = sk.public_key().encrypt(&mut rng, &U256::from_u64(77));
        let mut half = sk.decrypt_half(&c, super::Prime::Q);
        assert_ne!(half.value, crypto_bigint::U1024::ZERO);
        half.zeroize();
        assert_eq!(half.value, crypto_bigint::U1024::ZERO);
        assert_eq!(half.prime, super::Prime::Q);
    }
}
