//! P1's Paillier secret key: primes p ≡ q ≡ 3 (mod 4) and the CRT constants derived from them.

use core::fmt;

use crypto_bigint::{NonZero, Odd, U1024, U2048, U4096, modular::FixedMontyParams};
use crypto_primes::{
    Flavor,
    hazmat::{SetBits, SieveFactory, SmallFactorsSieveFactory},
    is_prime,
};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::{ConstantTimeEq, ConstantTimeLess};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{Ciphertext, MODULUS_BITS, ModN, ModNN, PublicKey};
use crate::{
    Error, Result, bigint, tags,
    work::{Executor, SEED_LEN, SeededRng, Sequential, Work},
};

/// Bits of each prime factor.
pub(crate) const PRIME_BITS: u32 = 1024;

/// Candidates from crypto-primes' sieve: 1024-bit odd numbers with both top bits set and no
/// factor among its first 2048 odd primes. Checked at compile time.
const FACTORY: SmallFactorsSieveFactory<U1024> =
    match SmallFactorsSieveFactory::new(Flavor::Any, PRIME_BITS, SetBits::TwoMsb) {
        Ok(factory) => factory,
        Err(_) => panic!("no sieve for 1024-bit primes"),
    };

/// Sieve outputs one window of a prime search looks at. About half are ≡ 3 (mod 4) and get a
/// primality test, and about one window in six holds a prime: short enough that two cores
/// share the end of one prime's search with little waste, long enough that making a
/// window's sieve (a residue per small prime) stays a few per cent of its work.
pub(crate) const WINDOW_CANDIDATES: usize = 16;

/// Most windows a [`KeySearch`] hands out at once.
pub const MAX_SEARCH_WIDTH: usize = 8;

/// The seed of window `index` of the prime search with seed `seed`.
fn window_seed(seed: &[u8; SEED_LEN], index: u32) -> [u8; SEED_LEN] {
    let mut h = Sha256::new();
    h.update(tags::PRIME_WINDOW);
    h.update(seed);
    h.update(index.to_be_bytes());
    h.finalize().into()
}

/// The first prime ≡ 3 (mod 4) among [`WINDOW_CANDIDATES`] sieve outputs from a random start
/// drawn from `seed`, if any.
fn search_window(seed: &[u8; SEED_LEN]) -> Option<U1024> {
    let mut factory = FACTORY;
    let sieve = factory
        .make_sieve(&mut SeededRng::new(seed), None)
        .ok()
        .flatten()?;
    let mut candidates = sieve.take(WINDOW_CANDIDATES);
    // A candidate ≡ 1 (mod 4) is skipped before any primality test.
    candidates.find(|c| c.as_limbs()[0].0 & 3 == 3 && is_prime(Flavor::Any, c))
}

/// The prime of the search with seed `seed`: its windows 0, 1, 2, … in order, on this thread,
/// until one holds a prime. A [`KeySearch`] finds the same prime on any schedule.
fn first_prime(seed: &[u8; SEED_LEN]) -> U1024 {
    let mut index: u32 = 0;
    loop {
        if let Some(p) = search_window(&Zeroizing::new(window_seed(seed, index))) {
            return p;
        }
        index = index.wrapping_add(1);
    }
}

/// A random 1024-bit prime ≡ 3 (mod 4) with its two top bits set; the slow half of key
/// generation, safe to run on any thread: one search (`first_prime`: its windows in order) from a seed drawn from
/// `rng`.
///
/// Both top bits set makes any two such primes multiply to exactly 2048 bits, so a key never
/// has to be drawn again for a short N (with only the top bit set, 61% of pairs gave a 2047-bit
/// N and were thrown away). Candidates come from crypto-primes' sieve (no factor among its
/// first 2048 odd primes); one ≡ 1 (mod 4) is skipped before any primality test instead of
/// after a whole search. Each saves about half the work, and most of the spread.
#[must_use]
pub fn generate_prime<R: CryptoRng + ?Sized>(rng: &mut R) -> U1024 {
    first_prime(&Zeroizing::new(SeededRng::draw_seed(rng)))
}

/// One window of a prime search as a [`Work`] item: the first prime ≡ 3 (mod 4) among
/// [`WINDOW_CANDIDATES`] sieve outputs from a start drawn from the window's own seed, or
/// none. Wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct PrimeWindow {
    seed: [u8; SEED_LEN],
    /// None until searched, then the window's prime if it holds one.
    outcome: Option<Option<U1024>>,
}

impl PrimeWindow {
    /// What the window holds, searching it here first if no executor did.
    fn outcome(&mut self) -> Option<U1024> {
        if self.outcome.is_none() {
            self.run();
        }
        self.outcome.flatten()
    }
}

impl Work for PrimeWindow {
    fn run(&mut self) {
        self.outcome = Some(search_window(&self.seed));
    }
}

/// The two prime searches of one Paillier key, each from a seed drawn from the caller's RNG,
/// cut into windows that any threads may search in any order. A prime is the one in the
/// lowest-numbered window that holds one (as `first_prime` finds it), so the key depends on that RNG
/// alone, however many windows run at once and on whatever threads; on two cores the windows
/// of the prime still missing share both, where one search per core waited for the slower.
/// [`SecretKey::generate`] searches one window at a time. Wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KeySearch {
    searches: [PrimeState; 2],
    windows: [PrimeWindow; MAX_SEARCH_WIDTH],
    /// Per window of the current batch: the search (0 or 1) it belongs to.
    #[zeroize(skip)]
    owners: [usize; MAX_SEARCH_WIDTH],
    len: usize,
}

/// One prime's search within a [`KeySearch`].
#[derive(Zeroize)]
struct PrimeState {
    seed: [u8; SEED_LEN],
    /// The first window not searched yet.
    next: u32,
    prime: Option<U1024>,
}

impl KeySearch {
    /// Draws the seeds of both searches from `rng` (64 bytes).
    #[must_use]
    pub fn draw<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut search = || PrimeState {
            seed: SeededRng::draw_seed(rng),
            next: 0,
            prime: None,
        };
        let p = search();
        let q = search();
        Self {
            searches: [p, q],
            windows: core::array::from_fn(|_| PrimeWindow {
                seed: [0; SEED_LEN],
                outcome: None,
            }),
            owners: [0; MAX_SEARCH_WIDTH],
            len: 0,
        }
    }

    /// Whether both primes are found.
    fn is_done(&self) -> bool {
        self.searches.iter().all(|s| s.prime.is_some())
    }

    /// Searches until both primes are found, `width` windows at a time (1 to
    /// [`MAX_SEARCH_WIDTH`]; the number of cores is a good choice) handed to `exec`, shared
    /// in turn among the primes still missing. The primes do not depend on `width` or `exec`.
    pub fn run_on<X: Executor + ?Sized>(&mut self, exec: &X, width: usize) {
        let width = width.clamp(1, MAX_SEARCH_WIDTH);
        while !self.is_done() {
            self.fill(width);
            exec.run(self.windows.get_mut(..self.len).unwrap_or_default());
            self.absorb();
        }
    }

    /// Sets up the next `width` windows: the next unsearched ones of each missing prime,
    /// taken in turn, each prime's in ascending order.
    fn fill(&mut self, width: usize) {
        let mut turns = self
            .searches
            .iter()
            .enumerate()
            .filter(|(_, s)| s.prime.is_none())
            .cycle();
        let mut handed = [0u32; 2];
        self.len = 0;
        for (window, owner) in self.windows.iter_mut().zip(&mut self.owners).take(width) {
            let Some((j, search)) = turns.next() else {
                break;
            };
            let Some(offset) = handed.get_mut(j) else {
                break;
            };
            *owner = j;
            window.seed = window_seed(&search.seed, search.next.wrapping_add(*offset));
            window.outcome = None;
            *offset += 1;
            self.len += 1;
        }
    }

    /// Takes each prime from its first window in this batch that holds one (the batch holds
    /// each search's windows in ascending order); a search with none moves past the batch's
    /// windows. Wipes the batch.
    fn absorb(&mut self) {
        for (window, &owner) in self.windows.iter_mut().zip(&self.owners).take(self.len) {
            if let Some(search) = self.searches.get_mut(owner)
                && search.prime.is_none()
            {
                // A window the executor left unrun is searched here (as every round runs
                // what its executor left): "not run" never reads as "no prime".
                match window.outcome() {
                    Some(p) => search.prime = Some(p),
                    None => search.next = search.next.wrapping_add(1),
                }
            }
            window.zeroize();
        }
        self.len = 0;
    }

    /// The key from the two primes, after searching (one window at a time, on this thread)
    /// for any prime not found yet.
    ///
    /// # Errors
    /// [`Error::PaillierModulus`] if the primes make no key (see [`SecretKey::from_primes`]:
    /// only if both searches found the same prime); draw a new search then.
    pub fn finish(mut self) -> Result<SecretKey> {
        self.run_on(&Sequential, 1);
        let [p, q] = &self.searches;
        match (&p.prime, &q.prime) {
            (Some(p), Some(q)) => SecretKey::from_primes(p, q),
            _ => Err(Error::PaillierModulus),
        }
    }
}

/// A Paillier secret key with everything CRT decryption needs. Wiped on drop; after an
/// explicit [`Zeroize::zeroize`] it decrypts nothing meaningful and must not be used.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey {
    #[zeroize(skip)]
    pub(crate) public: PublicKey,
    pub(crate) p: CrtHalf,
    pub(crate) q: CrtHalf,
    /// q⁻¹ mod p.
    pub(crate) q_inv_p: U1024,
    /// (q²)⁻¹ mod p², to join r^N mod p² and mod q².
    pub(crate) qq_inv_pp: U2048,
}

/// The constants of one prime factor: every one of them gives the prime away.
/// (Zeroizing a `NonZero` leaves it 1, the nearest value to 0 it can hold.)
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct CrtHalf {
    pub(crate) prime: NonZero<U1024>,
    pub(crate) minus_one: U1024,
    pub(crate) monty: FixedMontyParams<{ U1024::LIMBS }>,
    pub(crate) monty_sq: FixedMontyParams<{ U2048::LIMBS }>,
    /// The prime at N's width, as a divisor.
    pub(crate) prime_wide: NonZero<U2048>,
    /// The prime squared at N²'s width, as a divisor.
    pub(crate) square_wide: NonZero<U4096>,
    /// L_p((1+N)^(p−1) mod p²)⁻¹ mod p, which is (−q)⁻¹ mod p.
    pub(crate) h: U1024,
    /// −q mod p (q the other prime): L_p((1+N)^(p−1) mod p²), for π_c3's plaintext half.
    pub(crate) neg_other: U1024,
    /// N mod (p − 1): the exponent of x^N mod p, the first step of x^N mod p² (see
    /// `nth_power_half`).
    pub(crate) n_mod: U1024,
    /// p² as a value.
    pub(crate) square: U2048,
}

impl SecretKey {
    /// Generates a fresh key on this thread: the two searches of a [`KeySearch`] one after
    /// the other, so a caller that runs them in parallel gets the same key from the same RNG.
    #[must_use]
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            if let Ok(key) = KeySearch::draw(rng).finish() {
                return key;
            }
        }
    }

    /// Builds a key from two primes (from [`generate_prime`]); checks p ≠ q,
    /// p ≡ q ≡ 3 (mod 4), |N| = 2048 and that the decryption's CRT constants exist (each
    /// prime invertible mod the other). N⁻¹ mod (p − 1), which only N-th roots need, is not
    /// checked here: it exists for any two primes of 1024 bits.
    ///
    /// Primality is not tested here: this runs at every load of P1's share, and every
    /// primality test we have (crypto-primes) is variable time in the candidate, a timing
    /// oracle on the secret primes. Primes come from [`generate_prime`], which makes them;
    /// a damaged share file is refused by its checksum and by Dec(c_key) = x1, which no
    /// altered prime passes (the altered N changes the decryption).
    ///
    /// # Errors
    /// [`Error::PaillierModulus`] if any check fails.
    pub fn from_primes(p: &U1024, q: &U1024) -> Result<Self> {
        let three_mod_four = |x: &U1024| x.as_limbs()[0].0 & 3 == 3;
        // p == q compares in constant time; the low two bits of a valid prime are public (11).
        if p == q || !three_mod_four(p) || !three_mod_four(q) {
            return Err(Error::PaillierModulus);
        }
        let n: U2048 = p.concatenating_mul(q);
        if n.bit_width() != MODULUS_BITS {
            return Err(Error::PaillierModulus);
        }
        let n_odd = Odd::new(n).into_option().ok_or(Error::PaillierModulus)?;
        let public = PublicKey::from_odd(n_odd)?;
        let half_p = CrtHalf::new(p, q, &n)?;
        let half_q = CrtHalf::new(q, p, &n)?;
        // No inversions of their own (they were a third of a share load's cost): h_p is
        // (−q)⁻¹ mod p, so q⁻¹ = p − h_p; and w = (q⁻¹)² mod p lifts to (q²)⁻¹ mod p² in one
        // Newton step (q²·w = 1 + k·p gives q²·w·(2 − q²·w) = 1 − k²·p²).
        // Every value here gives the primes away: wiped on return (the results live on in the
        // key, which wipes itself).
        let q_inv_p = Zeroizing::new(half_p.prime.wrapping_sub(&half_p.h));
        let pp = Zeroizing::new(
            NonZero::new(half_p.square)
                .into_option()
                .ok_or(Error::PaillierModulus)?,
        );
        let w_mod_p = Zeroizing::new(q_inv_p.mul_mod(&q_inv_p, &half_p.prime));
        let w = Zeroizing::new(w_mod_p.resize::<{ U2048::LIMBS }>());
        let qq_mod_pp = Zeroizing::new(half_q.square.rem(&pp));
        let qq_w = Zeroizing::new(qq_mod_pp.mul_mod(&w, &pp));
        let two_minus = Zeroizing::new(U2048::from_u8(2).sub_mod(&qq_w, &pp));
        let qq_inv_pp = w.mul_mod(&two_minus, &pp);
        Ok(Self {
            public,
            p: half_p,
            q: half_q,
            q_inv_p: *q_inv_p,
            qq_inv_pp,
        })
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// [`PublicKey::validate`] from the factors: `0 < c < N²` and c mod N a unit (a unit
    /// mod N² exactly when it is one mod N), which `is_unit_below_n` tells without
    /// a gcd. Same answer, same error.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`].
    pub fn validate(&self, c: &ModNN) -> Result<Ciphertext> {
        let in_range = c.ct_lt(&self.public.nn) & !c.ct_eq(&ModNN::ZERO);
        let n_wide = NonZero::new(self.public.n.resize::<{ ModNN::LIMBS }>())
            .into_option()
            .ok_or(Error::InvalidCiphertext)?;
        // c and N are public: so is c mod N.
        let reduced: ModN = c.rem(&n_wide).resize();
        if bool::from(in_range) && self.is_unit_below_n(&reduced) {
            Ok(Ciphertext(*c))
        } else {
            Err(Error::InvalidCiphertext)
        }
    }

    /// [`PublicKey::is_unit_below_n`] from the factors: `0 < x < N` and x ≢ 0 mod p and mod q
    /// ([`bigint::is_unit_by_factors`]).
    pub(crate) fn is_unit_below_n(&self, x: &ModN) -> bool {
        bigint::is_unit_by_factors(x, &self.public.n, [&self.p.prime_wide, &self.q.prime_wide])
    }

    /// The two primes, for storage.
    #[must_use]
    pub fn primes(&self) -> (U1024, U1024) {
        (self.p.prime.get(), self.q.prime.get())
    }
}

impl CrtHalf {
    fn new(prime: &U1024, other: &U1024, n: &U2048) -> Result<Self> {
        let odd = Odd::new(*prime)
            .into_option()
            .ok_or(Error::PaillierModulus)?;
        let nz = NonZero::new(*prime)
            .into_option()
            .ok_or(Error::PaillierModulus)?;
        let square: U2048 = prime.concatenating_square();
        let square_odd = Odd::new(square)
            .into_option()
            .ok_or(Error::PaillierModulus)?;
        let minus_one = prime.wrapping_sub(&U1024::ONE);
        // p − 1 gives p away: wiped on return (the key keeps its own copy, and wipes it).
        let minus_one_wide = Zeroizing::new(
            NonZero::new(minus_one.resize::<{ U2048::LIMBS }>())
                .into_option()
                .ok_or(Error::PaillierModulus)?,
        );
        let n_mod: U1024 = n.rem(&minus_one_wide).resize();
        let other_mod = Zeroizing::new(other.rem(&nz));
        let neg_other = Zeroizing::new(prime.wrapping_sub(&other_mod));
        let h = neg_other
            .invert_odd_mod(&odd)
            .into_option()
            .ok_or(Error::PaillierModulus)?;
        Ok(Self {
            prime: nz,
            minus_one,
            square,
            n_mod,
            monty: FixedMontyParams::new(odd),
            monty_sq: FixedMontyParams::new(square_odd),
            prime_wide: NonZero::new(prime.resize())
                .into_option()
                .ok_or(Error::PaillierModulus)?,
            square_wide: NonZero::new(square.resize())
                .into_option()
                .ok_or(Error::PaillierModulus)?,
            h,
            neg_other: *neg_other,
        })
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// P1's unit checks by the factors give the gcd's answers: on units, on 0 and the moduli,
    /// above them, and on multiples of each prime (the cases only a factor can refuse).
    #[test]
    fn unit_checks_by_the_factors_agree_with_the_gcd() {
        let sk = fixtures::paillier_key(0);
        let pk = sk.public_key();
        let (p, q) = sk.primes();
        let n = *pk.modulus();
        let wide = |x: &U1024| x.resize::<{ U2048::LIMBS }>();
        let below_n: [(&str, ModN, bool); 7] = [
            ("0", ModN::ZERO, false),
            ("1", ModN::ONE, true),
            ("N − 1", n.wrapping_sub(&ModN::ONE), true),
            ("N", n, false),
            ("p", wide(&p), false),
            ("3·q", wide(&q).wrapping_mul(&ModN::from_u8(3)), false),
            ("p + 1", wide(&p).wrapping_add(&ModN::ONE), true),
        ];
        for (name, x, unit) in below_n {
            assert_eq!(sk.is_unit_below_n(&x), unit, "{name}");
            assert_eq!(pk.is_unit_below_n(&x), unit, "{name}: the gcd agrees");
        }
        let nn = *pk.modulus_squared();
        let wide_nn = |x: &U1024| x.resize::<{ ModNN::LIMBS }>();
        let q_sq_plus_2 = wide_nn(&q)
            .wrapping_mul(&wide_nn(&q))
            .wrapping_add(&ModNN::from_u8(2));
        let ciphertexts: [(&str, ModNN, bool); 7] = [
            ("0", ModNN::ZERO, false),
            ("1", ModNN::ONE, true),
            ("N² − 1", nn.wrapping_sub(&ModNN::ONE), true),
            ("N²", nn, false),
            ("N·5", n.resize().wrapping_mul(&ModNN::from_u8(5)), false),
            ("p·2^1000", wide_nn(&p).shl_vartime(1000), false),
            ("q² + 2", q_sq_plus_2, true),
        ];
        for (name, c, valid) in ciphertexts {
            let expected = if valid {
                Ok(Ciphertext(c))
            } else {
                Err(Error::InvalidCiphertext)
            };
            assert_eq!(sk.validate(&c), expected, "{name}");
            assert_eq!(pk.validate(&c), expected, "{name}: the gcd agrees");
        }
    }

    /// Every prime has its two top bits set and is ≡ 3 (mod 4), and the smallest N two such
    /// primes can make, (2^1023 + 2^1022)², is already 2048 bits: a key is never redrawn.
    #[test]
    fn generated_primes_make_a_2048_bit_modulus_at_the_first_draw() {
        let mut rng = fixtures::rng(15);
        let (p, q) = (generate_prime(&mut rng), generate_prime(&mut rng));
        for x in [&p, &q] {
            assert_eq!(x.as_limbs()[0].0 & 3, 3);
            assert!(x.bit(PRIME_BITS - 1).to_bool() && x.bit(PRIME_BITS - 2).to_bool());
            assert!(is_prime(Flavor::Any, x));
        }
        let smallest = U1024::ONE
            .shl(PRIME_BITS - 1)
            .wrapping_add(&U1024::ONE.shl(PRIME_BITS - 2));
        let n: U2048 = smallest.concatenating_square();
        assert_eq!(n.bit_width(), MODULUS_BITS);
        let key = SecretKey::from_primes(&p, &q).unwrap();
        assert_eq!(key.public_key().modulus().bit_width(), MODULUS_BITS);
        assert_eq!(key.primes(), (p, q));
    }

    /// Every width and schedule of the windows makes the key `generate` makes (one window at
    /// a time) from the same RNG.
    #[test]
    fn prime_windows_on_any_schedule_and_width_make_the_key_generate_makes() {
        let key = SecretKey::generate(&mut fixtures::rng(16));
        for width in [1, 2, 3, MAX_SEARCH_WIDTH] {
            let mut forward = KeySearch::draw(&mut fixtures::rng(16));
            forward.run_on(&Sequential, width);
            assert_eq!(forward.finish().unwrap().primes(), key.primes(), "{width}");
            let mut backward = KeySearch::draw(&mut fixtures::rng(16));
            backward.run_on(&crate::work::Reversed, width);
            assert_eq!(backward.finish().unwrap().primes(), key.primes(), "{width}");
            // An executor that runs nothing: the search runs its windows itself.
            let mut idle = KeySearch::draw(&mut fixtures::rng(16));
            idle.run_on(&crate::work::Idle, width);
            assert_eq!(idle.finish().unwrap().primes(), key.primes(), "{width}");
        }
    }

    /// A batch that holds two windows with a prime gives the lower window's prime, also when
    /// the higher one runs first: a prime is its search's first, whatever ran beside it.
    #[test]
    fn a_prime_comes_from_the_lowest_window_that_holds_one() {
        // A search seed whose windows 0..4 (one prime's share of an 8-wide batch) hold two
        // primes; about one seed in seven does.
        let (seed, found) = (0u8..)
            .find_map(|i| {
                let seed = [i; SEED_LEN];
                let found: [Option<U1024>; 4] =
                    [0, 1, 2, 3].map(|k| search_window(&window_seed(&seed, k)));
                (found.iter().flatten().count() >= 2).then_some((seed, found))
            })
            .unwrap();
        let mut primes = found.iter().flatten();
        let (lowest, higher) = (primes.next().unwrap(), primes.next().unwrap());
        assert_ne!(lowest, higher);
        assert_eq!(first_prime(&seed), *lowest);
        let mut search = KeySearch::draw(&mut fixtures::rng(17));
        search.searches[0].seed = seed;
        search.run_on(&crate::work::Reversed, MAX_SEARCH_WIDTH);
        assert_eq!(search.searches[0].prime, Some(*lowest));
    }

    /// Two searches from one seed find the same prime, which makes no key.
    #[test]
    fn two_searches_that_find_the_same_prime_make_no_key() {
        let mut search = KeySearch::draw(&mut fixtures::rng(18));
        for s in &mut search.searches {
            s.seed = [3; SEED_LEN];
        }
        assert_eq!(search.finish().err(), Some(Error::PaillierModulus));
    }

    /// The joining constants are the inverses they stand for, for both orders of the primes.
    #[test]
    fn the_crt_constants_are_the_inverses_of_q_and_q_squared() {
        for key in [fixtures::paillier_key(0), fixtures::paillier_key(1)] {
            let (p, q) = key.primes();
            for (p, q) in [(p, q), (q, p)] {
                let key = SecretKey::from_primes(&p, &q).unwrap();
                let p_nz = NonZero::new(p).unwrap();
                assert_eq!(key.q_inv_p.mul_mod(&q, &p_nz), U1024::ONE);
                let pp = NonZero::new(p.concatenating_square()).unwrap();
                let qq = q.concatenating_square().rem(&pp);
                assert_eq!(key.qq_inv_pp.mul_mod(&qq, &pp), U2048::ONE);
            }
        }
    }

    #[test]
    fn zeroizing_a_secret_key_wipes_the_primes_and_everything_derived_from_them() {
        let mut key = fixtures::paillier_key(0);
        key.zeroize();
        assert_eq!((key.q_inv_p, key.qq_inv_pp), (U1024::ZERO, U2048::ZERO));
        for half in [&key.p, &key.q] {
            // A NonZero or Odd wipes to 1, the nearest it can hold to 0.
            assert_eq!(half.prime.get(), U1024::ONE);
            assert_eq!(half.prime_wide.get(), U2048::ONE);
            assert_eq!(half.square_wide.get(), U4096::ONE);
            assert_eq!(
                [
                    half.minus_one,
                    half.h,
                    half.neg_other,
                    half.n_mod
                ],
                [U1024::ZERO; 4]
            );
            assert_eq!(half.square, U2048::ZERO);
            assert_eq!(half.monty.modulus().get(), U1024::ONE);
            assert_eq!(*half.monty.r2(), U1024::ZERO);
            assert_eq!(half.monty_sq.modulus().get(), U2048::ONE);
            assert_eq!(*half.monty_sq.r2(), U2048::ZERO);
        }
        // The public half is not secret and stays.
        assert_eq!(key.public, *fixtures::paillier_key(0).public_key());
    }
}
