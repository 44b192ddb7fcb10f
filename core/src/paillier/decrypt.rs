//! CRT decryption and N-th roots: every step constant time in the secret key and the plaintext.

use crypto_bigint::{
    MultiExponentiateBoundedExp, NonZero, U512, U1024, U2048, Uint, modular::FixedMontyForm,
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

    /// Whether base^exp · (1+N)^plain · v^N ≡ rhs · c^e mod `prime`², for public values and
    /// base_plain, the plaintext of base (P1's own ciphertext C', whose plaintext it knows): one
    /// half of the same equation mod N², which by the CRT holds exactly when both halves hold.
    /// The two halves are independent work (two threads may run them). Constant time in the
    /// primes and in base_plain.
    ///
    /// Z_{p²}^* is the product of the roots of unity μ_{p−1} and the order-p group 1 + pZ, so
    /// for units a, b: a ≡ b (mod p²) exactly when a ≡ b (mod p) (their μ_{p−1} parts agree:
    /// the randomness half) and a^(p−1) ≡ b^(p−1) (mod p²) (their 1 + pZ parts agree, as
    /// gcd(p, p−1) = 1: the plaintext half). With a the left side and b = rhs·c^e mod p²:
    /// - mod p, (1+N)^plain is 1 and v^N is v^(N mod (p−1)): one two-base
    ///   multi-exponentiation mod p;
    /// - a^(p−1) = 1 + N·(p−1)·(base_plain·exp + plain), since v^(N(p−1)) = 1 and
    ///   base^(p−1) = 1 + N·(p−1)·base_plain mod p², that is 1 + p·t with
    ///   t = −q·(base_plain·exp + plain) mod p: a few products mod p, and one exponentiation
    ///   of b mod p².
    ///
    /// That is one exponentiation mod p² and one multi-exponentiation mod p, where the
    /// equation as written needs a multi-exponentiation mod p² (base^exp·(v^N mod p²)) and an
    /// exponentiation mod p. The verdict is the equation's on every input, given that
    /// base_plain is base's plaintext mod p: for P1's C' it is x1 + q·2^64, and P1's share
    /// holds Dec(c_key) = x1 whenever it signs (checked at every load, true by construction
    /// after keygen and refresh).
    ///
    /// What this computes in the plaintext domain is b^(p−1), the exponentiation of a
    /// decryption of the product C_α·c^e mod p (L_p of it times (−q)⁻¹ would be Dec(C_α) +
    /// e·Dec(c) mod p). An accepting proof fixes that value from public responses and
    /// base_plain; b^(p−1) is compared with it, wiped, and only the comparison's bit leaves,
    /// which is the public equation's verdict. Nothing of c alone or of C_α alone is computed.
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn relation_half_holds<const F: usize>(
        &self,
        prime: Prime,
        base: &ModNN,
        base_plain: &U512,
        exp: &U1024,
        plain: &U2048,
        v: &ModN,
        rhs: &ModNN,
        c: &ModNN,
        e: &Uint<F>,
    ) -> subtle::Choice {
        let (randomness, plaintext) =
            self.relation_half_parts(prime, base, base_plain, exp, plain, v, rhs, c, e);
        randomness & plaintext
    }

    /// The two parts of [`SecretKey::relation_half_holds`], both always computed: whether
    /// the two sides agree mod p, and whether their (p−1)-th powers agree mod p².
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    // Its own frame, and each side's Montgomery forms in their own block: party 0's firmware
    // signs with 64 KiB of RAM, and this is its deepest point.
    #[inline(never)]
    fn relation_half_parts<const F: usize>(
        &self,
        prime: Prime,
        base: &ModNN,
        base_plain: &U512,
        exp: &U1024,
        plain: &U2048,
        v: &ModN,
        rhs: &ModNN,
        c: &ModNN,
        e: &Uint<F>,
    ) -> (subtle::Choice, subtle::Choice) {
        let half = match prime {
            Prime::P => &self.p,
            Prime::Q => &self.q,
        };
        // Secret: the prime, its square and base_plain (x1). Every other value below is a
        // public input reduced mod p² or mod p, or a product or power of such (b^(p−1) among
        // them), or computed from base_plain: with the input it came from, any of the former
        // gives p away (x − (x mod p) is a multiple of p, a gcd with N from the factor), and
        // each Montgomery form also carries a copy of the modulus' parameters. So each is
        // wiped when it goes out of scope; only the verdict leaves, which says whether an
        // equation of public values holds. (Compiler temporaries are out of reach.)
        let reduce_sq = |x: &ModNN| {
            let reduced: Zeroizing<U2048> = Zeroizing::new(x.rem(&half.square_wide).resize());
            Zeroizing::new(FixedMontyForm::new(&reduced, &half.monty_sq))
        };
        let mod_p =
            |x: &U2048| -> Zeroizing<U1024> { Zeroizing::new(x.rem(&half.prime_wide).resize()) };
        // b = rhs·c^e mod p², and b mod p for the randomness half.
        let b = {
            let c_e = Zeroizing::new(reduce_sq(c).pow(e));
            Zeroizing::new(reduce_sq(rhs).mul(&c_e))
        };
        let b_mod_p = mod_p(&Zeroizing::new(b.retrieve()));
        // The randomness half: b ≡ base^exp · v^(N mod (p−1)) (mod p).
        let randomness = {
            let base_mod_p = mod_p(&Zeroizing::new(base.rem(&half.square_wide).resize()));
            let v_mod_p = Zeroizing::new(v.rem(&half.prime_wide).resize::<{ U1024::LIMBS }>());
            let pair = Zeroizing::new([
                (FixedMontyForm::new(&*base_mod_p, &half.monty), *exp),
                (FixedMontyForm::new(&*v_mod_p, &half.monty), half.n_mod),
            ]);
            let product = Zeroizing::new(
                FixedMontyForm::multi_exponentiate_bounded_exp(&*pair, U1024::BITS).retrieve(),
            );
            subtle::ConstantTimeEq::ct_eq(&*product, &*b_mod_p)
        };
        // The plaintext half: b^(p−1) ≡ 1 + p·t (mod p²), t = −q·(base_plain·exp + plain).
        let plaintext = {
            let power = Zeroizing::new(half.power_minus_one(&b));
            let p = &half.prime;
            let base_plain_wide = Zeroizing::new(base_plain.resize::<{ U1024::LIMBS }>());
            let base_plain_mod_p = Zeroizing::new(base_plain_wide.rem(p));
            let exp_mod_p = Zeroizing::new(exp.rem(p));
            let plain_mod_p = mod_p(plain);
            let product = Zeroizing::new(base_plain_mod_p.mul_mod(&exp_mod_p, p));
            let sum = Zeroizing::new(product.add_mod(&plain_mod_p, p));
            let t = Zeroizing::new(sum.mul_mod(&half.neg_other, p));
            let p_t: Zeroizing<U2048> = Zeroizing::new(p.get().concatenating_mul(&*t));
            let expected = Zeroizing::new(p_t.wrapping_add(&U2048::ONE));
            subtle::ConstantTimeEq::ct_eq(&*power, &*expected)
        };
        (randomness, plaintext)
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
        // c mod p² and L_p reveal p (gcd with the public c − c mod p²): wiped on return.
        let c_mod: Zeroizing<U2048> = Zeroizing::new(c.0.rem(&self.square_wide).resize());
        let u = Zeroizing::new(self.power_minus_one(&FixedMontyForm::new(&c_mod, &self.monty_sq)));
        let l: Zeroizing<U1024> = Zeroizing::new(
            u.wrapping_sub(&U2048::ONE)
                .div_rem(&self.prime_wide)
                .0
                .resize(),
        );
        l.mul_mod(&self.h, &self.prime)
    }

    /// x^(p−1) mod p², the exponentiation of a decryption and of π_c3's plaintext half.
    // One function for both: inlined into each, the exponentiation was compiled for the
    // Cortex-M4 into a slower shared form (party 0's decryption +14 % instructions).
    #[inline(never)]
    // Callers wipe the result; the Montgomery form in between is a compiler temporary.
    fn power_minus_one(&self, x: &FixedMontyForm<{ U2048::LIMBS }>) -> U2048 {
        x.pow(&self.minus_one).retrieve()
    }

    /// r^N mod p², as (r^(N mod (p−1)) mod p)^p mod p²: a Paillier nonce's power.
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
    ///
    /// The exponent is computed here, not kept with the key: roots are taken only by the
    /// proofs of a new key (a few per keygen or refresh), while the key is rebuilt from its
    /// primes at every load of a share, where the two inversions (one per prime) were its
    /// costliest step. N is invertible mod p − 1 for any two primes of 1024 bits (neither
    /// divides the other minus one; `SecretKey::from_primes` requires |N| = 2048, so both
    /// have 1024 bits). Were it not (a composite "prime"), the exponent would be 0 and the
    /// root 1: a wrong root, which the proof it goes into fails with.
    fn root_half(&self, x: &ModN) -> U1024 {
        let n_inv = Zeroizing::new(
            NonZero::new(self.minus_one)
                .into_option()
                .and_then(|order| self.n_mod.invert_mod(&order).into_option())
                .unwrap_or(U1024::ZERO),
        );
        // x mod p reveals p (gcd with the public x − x mod p): wiped on return.
        let x_mod: Zeroizing<U1024> = Zeroizing::new(x.rem(&self.prime_wide).resize());
        FixedMontyForm::new(&*x_mod, &self.monty)
            .pow(&*n_inv)
            .retrieve()
    }
}

#[cfg(test)]
mod tests {
    use crypto_bigint::{U256, U4096};

    use crate::{Error, fixtures, paillier::PublicKey};

    /// A uniform integer of L limbs.
    fn random<const L: usize>(rng: &mut rand_chacha::ChaCha20Rng) -> crypto_bigint::Uint<L> {
        let max = crypto_bigint::NonZero::new(crypto_bigint::Uint::<L>::MAX).unwrap();
        crate::bigint::random_below(rng, &max)
    }

    /// The inputs of one Paillier relation base^exp·(1+N)^plain·v^N = rhs·c^e mod N², made to
    /// hold, with base_plain the plaintext of base.
    #[derive(Clone)]
    struct Relation {
        sk: super::SecretKey,
        base: super::ModNN,
        base_plain: super::U512,
        exp: super::U1024,
        plain: super::U2048,
        v: super::ModN,
        rhs: super::ModNN,
        c: super::ModNN,
        e: crypto_bigint::U128,
    }

    impl Relation {
        fn new(seed: u64) -> Self {
            use crypto_bigint::U128;
            let sk = fixtures::paillier_key(0);
            let pk = sk.public_key().clone();
            let mut rng = fixtures::rng(seed);
            // Widths as in π_c3: base_plain = x1 + q·2^64 (321 bits), exp = r·z1 (706 bits),
            // plain below 2^1090.
            let base_plain = random::<{ super::U512::LIMBS }>(&mut rng).shr_vartime(512 - 321);
            let (base, _) = pk.encrypt(&mut rng, &base_plain);
            let exp = random::<{ super::U1024::LIMBS }>(&mut rng).shr_vartime(1024 - 706);
            let plain = random::<{ super::U2048::LIMBS }>(&mut rng).shr_vartime(2048 - 1090);
            let v = pk.random_nonce(&mut rng);
            let m = random::<{ U256::LIMBS }>(&mut rng);
            let (c, _) = pk.encrypt(&mut rng, &m);
            let e: U128 = random(&mut rng);
            let mut relation = Self {
                sk,
                base: base.0,
                base_plain,
                exp,
                plain,
                v,
                rhs: super::ModNN::ONE,
                c: c.0,
                e,
            };
            relation.rhs = relation.balanced_rhs();
            relation
        }

        /// rhs = left · c^(−e): the rhs that makes the relation hold.
        fn balanced_rhs(&self) -> super::ModNN {
            let pk = self.sk.public_key();
            let nn = crypto_bigint::NonZero::new(*pk.modulus_squared()).unwrap();
            let c_inv = self.c.invert_mod(&nn).unwrap();
            pk.mul_nn(&self.public_left(), &pk.pow_nn_vartime(&c_inv, &self.e))
        }

        /// base^exp·(1+N)^plain·v^N mod N², by the public key.
        fn public_left(&self) -> super::ModNN {
            let pk = self.sk.public_key();
            let plain = pk.add_plain(&super::Ciphertext(super::ModNN::ONE), &self.plain);
            pk.mul_nn(
                &pk.mul_nn(&pk.pow_nn_vartime(&self.base, &self.exp), &plain.0),
                &pk.pow_nn_vartime(&self.v.resize(), pk.modulus()),
            )
        }

        /// The equation mod N² as any verifier checks it.
        fn public_verdict(&self) -> bool {
            let pk = self.sk.public_key();
            self.public_left() == pk.mul_nn(&self.rhs, &pk.pow_nn_vartime(&self.c, &self.e))
        }

        /// P1's two halves, mod p² and mod q², each as (agrees mod the prime, (prime−1)-th
        /// powers agree mod its square); the halves' verdicts must be the parts' AND.
        fn parts(&self) -> [(bool, bool); 2] {
            [super::Prime::P, super::Prime::Q].map(|prime| {
                let (randomness, plaintext) = self.sk.relation_half_parts(
                    prime,
                    &self.base,
                    &self.base_plain,
                    &self.exp,
                    &self.plain,
                    &self.v,
                    &self.rhs,
                    &self.c,
                    &self.e,
                );
                let holds = self.sk.relation_half_holds(
                    prime,
                    &self.base,
                    &self.base_plain,
                    &self.exp,
                    &self.plain,
                    &self.v,
                    &self.rhs,
                    &self.c,
                    &self.e,
                );
                assert_eq!(bool::from(holds), bool::from(randomness & plaintext));
                (bool::from(randomness), bool::from(plaintext))
            })
        }

        /// P1's verdicts mod p² and mod q².
        fn halves(&self) -> (bool, bool) {
            let [p, q] = self.parts();
            (p.0 && p.1, q.0 && q.1)
        }

        /// x ≡ 1 (mod q) and x ≡ a (mod p): changes a value mod p only.
        fn one_mod_q(&self, a: u64) -> super::ModN {
            let (p, q) = self.sk.primes();
            let a = super::U1024::from_u64(a);
            self.sk
                .combine(
                    &a.rem(&crypto_bigint::NonZero::new(p).unwrap()),
                    &super::U1024::ONE,
                )
                .rem(&crypto_bigint::NonZero::new(q.concatenating_mul(&p)).unwrap())
        }
    }

    #[test]
    fn the_relation_halves_agree_with_the_equation_mod_n_squared() {
        for seed in 0..3 {
            let r = Relation::new(seed);
            assert!(
                r.public_verdict(),
                "seed {seed}: the fixture's relation holds"
            );
            assert_eq!(r.parts(), [(true, true); 2], "seed {seed}");
        }
    }

    #[test]
    fn an_exponent_above_the_prime_is_reduced_only_where_it_may_be() {
        // r·z1 is below 2^706 in π_c3; the relation takes any 1024-bit exponent. Above p,
        // the plaintext half reduces it mod p, the part mod p must not: exp + p moves
        // base^exp mod p (and everything mod q) but not X·exp mod p.
        // (exp + p stays below 2^1024: exp < 2^706.)
        let mut r = Relation::new(8);
        let (p, _) = r.sk.primes();
        r.exp = p.wrapping_add(&r.exp);
        r.rhs = r.balanced_rhs();
        assert!(
            r.public_verdict(),
            "an exponent above p: the relation holds"
        );
        assert_eq!(r.parts(), [(true, true); 2]);
        // Back below p by p (2p would not fit in 1024 bits), with the rhs of exp + p.
        let mut moved = r.clone();
        moved.exp = r.exp.wrapping_sub(&p);
        assert!(!moved.public_verdict());
        assert_eq!(moved.parts(), [(false, true), (false, false)]);
    }

    #[test]
    fn a_wrong_randomness_mod_p_fails_the_p_half_only() {
        // v·t with t ≡ 1 (mod q), t ≡ 2 (mod p): v^N changes mod p² only, and only in its
        // roots-of-unity part (v^(N(p−1)) = 1 whatever v): the plaintext half still holds, so
        // the randomness half alone must refuse it.
        let mut r = Relation::new(4);
        let t = r.one_mod_q(2);
        let n = crypto_bigint::NonZero::new(*r.sk.public_key().modulus()).unwrap();
        r.v = r.v.mul_mod(&t, &n);
        assert!(!r.public_verdict());
        assert_eq!(r.parts(), [(false, true), (true, true)]);
    }

    #[test]
    fn a_wrong_plaintext_mod_p_fails_the_p_half_only() {
        // plain + q (the Paillier prime): (1+N)^q is 1 mod q² and 1 + p·q² mod p², and 1 mod p:
        // the randomness half still holds, so the plaintext half alone must refuse it.
        let mut r = Relation::new(5);
        let (_, q) = r.sk.primes();
        r.plain = r.plain.wrapping_add(&q.resize());
        assert!(!r.public_verdict());
        assert_eq!(r.parts(), [(true, false), (true, true)]);
    }

    #[test]
    fn a_wrong_plaintext_of_the_base_fails_both_halves() {
        // base_plain is what the plaintext half rests on: one off, and neither half holds,
        // though the public equation (which never sees it) does.
        let mut r = Relation::new(6);
        r.base_plain = r.base_plain.wrapping_add(&super::U512::ONE);
        assert!(r.public_verdict());
        assert_eq!(r.parts(), [(true, false); 2]);
    }

    /// One change to a relation's inputs.
    type Change<'a> = dyn Fn(&mut Relation) + 'a;

    #[test]
    fn every_input_of_the_relation_is_read() {
        // Each input changed (a value doubled, an integer one more): both halves fail, and so
        // does the equation, except for base_plain, which the equation never sees.
        let r = Relation::new(7);
        let pk = r.sk.public_key().clone();
        let double = |x: &mut super::ModNN| *x = pk.mul_nn(x, &super::ModNN::from_u8(2));
        let n = crypto_bigint::NonZero::new(*pk.modulus()).unwrap();
        let changes: [(&str, &Change<'_>); 8] = [
            ("v", &|c| c.v = c.v.mul_mod(&super::ModN::from_u8(2), &n)),
            ("plain", &|c| {
                c.plain = c.plain.wrapping_add(&super::U2048::ONE)
            }),
            ("base_plain", &|c| {
                c.base_plain = c.base_plain.wrapping_add(&super::U512::ONE);
            }),
            ("base", &|c| double(&mut c.base)),
            ("exp", &|c| c.exp = c.exp.wrapping_add(&super::U1024::ONE)),
            ("rhs", &|c| double(&mut c.rhs)),
            ("c", &|c| double(&mut c.c)),
            ("e", &|c| c.e = c.e.wrapping_add(&crypto_bigint::U128::ONE)),
        ];
        for (name, change) in changes {
            let mut case = r.clone();
            change(&mut case);
            assert_eq!(case.public_verdict(), name == "base_plain", "{name}");
            assert_eq!(case.halves(), (false, false), "{name}");
        }
    }

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
