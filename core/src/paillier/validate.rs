//! Validation of a peer's modulus and ciphertexts: everything checked before any arithmetic.

use crypto_bigint::{Limb, NonZero, Odd, U2048, Word, modular::FixedMontyParams};

use super::{Ciphertext, MODULUS_BITS, ModN, ModNN, PublicKey};
use crate::{Error, Result};

/// Bits of the trial-division bound: no valid modulus has a prime factor below
/// 2^`SMALL_FACTOR_BOUND_BITS`.
///
/// The proofs' challenge chunks and N-th roots rely on it (`crate::zk` ties
/// `EQ_CHUNK_BITS` to it at compile time): every factor of N is ≥ 2^18, so no difference of
/// two 18-bit chunks is ≡ 0 modulo one. It also refuses outright the published smooth
/// moduli of 16-bit primes ("6ix1een").
pub(crate) const SMALL_FACTOR_BOUND_BITS: u32 = 18;

/// The trial-division bound 2^[`SMALL_FACTOR_BOUND_BITS`].
const SMALL_FACTOR_BOUND: usize = 1 << SMALL_FACTOR_BOUND_BITS;

/// π(2^18): how many primes lie below the bound (the sieve checks it at compile time).
const SMALL_PRIME_COUNT: usize = 23_000;

/// Half the gap from each odd prime below the bound to the next, starting at 3 (3→5 is 1):
/// the 23,000 primes in 22,998 bytes of flash (the largest gap below 2^18 is 86, so a half
/// gap fits a byte), where a `u32` table would take 92,000. A `static`, so it is stored once.
static SMALL_PRIME_HALF_GAPS: [u8; SMALL_PRIME_COUNT - 2] = small_prime_half_gaps();

/// Sieve of Eratosthenes over the odd numbers below the bound, as a bit set (16 KiB, and only
/// in the compiler: the result is all that reaches the binary). Evaluated at compile time:
/// an index out of bounds, a gap too wide for a byte or a wrong count fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn small_prime_half_gaps() -> [u8; SMALL_PRIME_COUNT - 2] {
    // Bit k (word k >> 6, bit k & 63) stands for the odd number 2k + 1; shifts, not
    // divisions, per the crate's lint.
    let mut composite = [0u64; SMALL_FACTOR_BOUND >> 7];
    let mut i = 3;
    while i * i < SMALL_FACTOR_BOUND {
        if composite[i >> 7] >> ((i >> 1) & 63) & 1 == 0 {
            let mut j = i * i;
            while j < SMALL_FACTOR_BOUND {
                composite[j >> 7] |= 1 << ((j >> 1) & 63);
                j += 2 * i;
            }
        }
        i += 2;
    }
    let mut out = [0u8; SMALL_PRIME_COUNT - 2];
    // Primes found so far: 2 and 3.
    let mut count = 2;
    let mut previous = 3;
    let mut k = 5;
    while k < SMALL_FACTOR_BOUND {
        if composite[k >> 7] >> ((k >> 1) & 63) & 1 == 0 {
            let half_gap = (k - previous) >> 1;
            assert!(half_gap <= u8::MAX as usize);
            out[count - 2] = half_gap as u8;
            count += 1;
            previous = k;
        }
        k += 2;
    }
    assert!(count == SMALL_PRIME_COUNT);
    out
}

/// Every prime below the bound, in increasing order, decoded from
/// [`SMALL_PRIME_HALF_GAPS`].
fn small_primes() -> impl Iterator<Item = Word> {
    let odd = SMALL_PRIME_HALF_GAPS
        .iter()
        .scan(3, |p: &mut Word, &half_gap| {
            *p += 2 * Word::from(half_gap);
            Some(*p)
        });
    [2, 3].into_iter().chain(odd)
}

impl PublicKey {
    /// Checks a peer's modulus: exactly 2048 bits, odd, no prime factor below 2^18. A prime N
    /// passes here and is refused by the key proof that keygen and refresh run before a share
    /// holds N (`PaillierKeyProof::verify`: for a prime N every N-th
    /// root equals its challenge), which spares every decode a 2048-bit primality test. A
    /// share file's N passed that proof when the share was made; the file carries no proof.
    ///
    /// # Errors
    /// [`Error::PaillierModulus`].
    pub fn from_modulus(n: ModN) -> Result<Self> {
        // vartime: N is public.
        if n.bit_width_vartime() != MODULUS_BITS {
            return Err(Error::PaillierModulus);
        }
        let odd = Option::<Odd<ModN>>::from(Odd::new(n)).ok_or(Error::PaillierModulus)?;
        if has_small_factor(&n) {
            return Err(Error::PaillierModulus);
        }
        Self::from_odd(odd)
    }

    /// Builds the key for a modulus already known to be good (our own, or validated).
    pub(crate) fn from_odd(n: Odd<ModN>) -> Result<Self> {
        let nn: ModNN = n.get().concatenating_square();
        let nn_odd = Odd::new(nn).into_option().ok_or(Error::PaillierModulus)?;
        Ok(Self {
            n: n.get(),
            nn,
            // vartime: N and N² are public.
            monty_n: FixedMontyParams::new_vartime(n),
            monty_nn: FixedMontyParams::new_vartime(nn_odd),
        })
    }

    /// Checks a ciphertext: `0 < c < N²` and `gcd(c, N) = 1`.
    ///
    /// # Errors
    /// [`Error::InvalidCiphertext`].
    pub fn validate(&self, c: &ModNN) -> Result<Ciphertext> {
        // vartime: ciphertexts on the wire are public.
        if c.is_zero_vartime() || c.cmp_vartime(&self.nn).is_ge() {
            return Err(Error::InvalidCiphertext);
        }
        if !self.is_unit(c) {
            return Err(Error::InvalidCiphertext);
        }
        Ok(Ciphertext(*c))
    }

    /// Whether a public `x` is Paillier randomness: `0 < x < N` and `gcd(x, N) = 1`.
    pub(crate) fn is_unit_below_n(&self, x: &ModN) -> bool {
        // vartime: only public values (proof responses) are checked.
        !x.is_zero_vartime() && x.cmp_vartime(&self.n).is_lt() && self.is_unit(x)
    }

    /// Whether `gcd(x mod N, N) = 1`, for public `x`.
    pub(crate) fn is_unit<const L: usize>(&self, x: &crypto_bigint::Uint<L>) -> bool {
        let n_wide = NonZero::new(self.n.resize::<L>()).into_option();
        let Some(n_wide) = n_wide else { return false };
        // vartime: only public values are checked for coprimality.
        let reduced: ModN = x.rem_vartime(&n_wide).resize();
        let Some(n_odd) = Odd::new(self.n).into_option() else {
            return false;
        };
        n_odd.gcd_unsigned_vartime(&reduced).get() == U2048::ONE
    }
}

/// The small primes in limb-sized products, in order, each with how many primes it holds:
/// as many consecutive primes as fit a limb, so that one multi-limb division of N serves them
/// all. Greedy by size, not a fixed count: 15 primes in the first product with 64-bit limbs
/// and 9 with 32-bit ones, 2 per product up to about 2^16 with 32-bit limbs (where a fixed
/// count allows 1 for an 18-bit prime; the last pair is 65521·65537), 3 per product at the
/// top of the table with 64-bit limbs.
fn limb_products() -> impl Iterator<Item = (Word, usize)> {
    let mut primes = small_primes().peekable();
    core::iter::from_fn(move || {
        let mut product: Word = 1;
        let mut count = 0;
        // The first prime that would overflow the limb stays in `primes` to open the next
        // product.
        while let Some(next) = primes.peek().and_then(|&p| product.checked_mul(p)) {
            product = next;
            primes.next();
            count += 1;
        }
        (count > 0).then_some((product, count))
    })
}

/// Whether a public N has a prime factor below 2^[`SMALL_FACTOR_BOUND_BITS`].
///
/// One multi-limb division of N per limb product of small primes (7,063 with 64-bit limbs,
/// 19,679 with 32-bit ones, for 23,000 primes), then one machine division of the remainder
/// per prime. A remainder tree (N modulo products of 256 to 1024 bits first, so that each
/// limb division walks a shorter remainder) measured slower on a Cortex-M4 and at most a
/// fifth faster on x86-64: with crypto-bigint 0.7 a limb of multi-limb division costs more
/// than a limb of `rem_limb` (BENCHMARKS.md, "Trial division").
fn has_small_factor(n: &ModN) -> bool {
    let mut primes = small_primes();
    limb_products().any(|(product, count)| {
        // A product of primes is never zero; refusing N is the safe answer all the same.
        let Some(divisor) = NonZero::new(Limb(product)).into_option() else {
            return true;
        };
        let r = n.rem_limb(divisor).0;
        // A machine division may take variable time: N is public.
        primes.by_ref().take(count).any(|p| r.is_multiple_of(p))
    })
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::vec::Vec;

    use super::*;

    /// Whether `p` is prime, by trial division: an oracle independent of the sieve.
    fn is_prime_slow(p: Word) -> bool {
        p >= 2
            && (2..)
                .take_while(|d| d * d <= p)
                .all(|d| !p.is_multiple_of(d))
    }

    #[test]
    fn small_primes_table_is_the_primes_below_2_18() {
        let primes: Vec<Word> = small_primes().collect();
        assert_eq!(primes.len(), SMALL_PRIME_COUNT);
        assert_eq!(primes.len(), 23_000);
        assert_eq!(primes[..6], [2, 3, 5, 7, 11, 13]);
        // The largest primes below 2^13 and 2^16 (the old bounds) and 2^18.
        assert_eq!(primes[1027], 8191);
        assert_eq!(primes[6541], 65521);
        assert_eq!(primes[6542], 65537);
        assert_eq!(primes[22_999], 262_139);
        assert!(primes.windows(2).all(|w| w[0] < w[1]));
        // Every entry prime, and no prime skipped: between consecutive entries (and after
        // the last, up to the bound) no number is prime.
        assert!(primes.iter().all(|&p| is_prime_slow(p)));
        let bound = Word::try_from(SMALL_FACTOR_BOUND).unwrap();
        let mut next = primes.iter().copied().skip(1).chain([bound]);
        for &p in &primes {
            let q = next.next().unwrap();
            assert!((p + 1..q).all(|k| !is_prime_slow(k)), "{p}..{q}");
        }
    }

    /// The limb products split the table into consecutive runs, each the product of its
    /// primes and as long as a limb allows: one more prime would overflow it.
    #[test]
    fn limb_products_are_greedy_runs_of_the_table() {
        let primes: Vec<Word> = small_primes().collect();
        let products: Vec<(Word, usize)> = limb_products().collect();
        let mut start = 0;
        for &(product, count) in &products {
            let run = &primes[start..start + count];
            assert!(!run.is_empty());
            assert_eq!(run.iter().product::<Word>(), product);
            if let Some(&next) = primes.get(start + count) {
                assert_eq!(product.checked_mul(next), None, "{run:?} then {next}");
            }
            start += count;
        }
        assert_eq!(start, SMALL_PRIME_COUNT);
        // 2·3·…·47 < 2^64 < 2·3·…·53 and 2·3·…·23 < 2^32 < 2·3·…·29.
        let (groups, first) = if Word::BITS == 64 {
            (7_063, 15)
        } else {
            (19_679, 9)
        };
        assert_eq!((products.len(), products[0].1), (groups, first));
    }

    /// Every product boundary is caught: N = p·K, with K free of small factors, for the
    /// first and last prime of every limb product of two or more primes (every product with
    /// 64-bit limbs, those up to 65537 with 32-bit ones, where the rest hold one prime each:
    /// the test above shows how they split the table), the first prime alone in its product,
    /// every 97th prime, 2, 3 and the largest prime below 2^18; a product of two 1024-bit
    /// primes passes.
    #[test]
    fn small_factor_found_wherever_it_sits_in_its_group() {
        let good = *crate::fixtures::paillier_key(0).public_key().modulus();
        assert!(!has_small_factor(&good));
        assert!(PublicKey::from_modulus(good).is_ok());
        // K: a 1024-bit prime of the fixtures, so N = p·K has no other small factor.
        let k = crate::fixtures::paillier_key(0).primes().0;
        let mut sample = Vec::new();
        // The first prime alone in its product (65539 with 32-bit limbs, after the pair
        // 65521·65537; none with 64-bit limbs).
        let mut first_alone = None;
        let mut primes = small_primes();
        for (_, count) in limb_products() {
            let run: Vec<Word> = primes.by_ref().take(count).collect();
            if count > 1 {
                sample.extend([run[0], run[count - 1]]);
            } else if first_alone.is_none() {
                first_alone = Some(run[0]);
            }
        }
        // Every 97th prime for positions inside the products, 3 (inside the first) and the
        // last prime below 2^18.
        if Word::BITS == 32 {
            assert_eq!(first_alone, Some(65_539));
        }
        sample.extend(first_alone);
        sample.extend(small_primes().step_by(97).chain([3, 262_139]));
        sample.sort_unstable();
        sample.dedup();
        assert_eq!(sample[..2], [2, 3]);
        assert_eq!(sample.last(), Some(&262_139));
        for &p in &sample {
            let n: U2048 = k
                .resize::<{ U2048::LIMBS }>()
                .wrapping_mul(&U2048::from_word(p));
            assert!(has_small_factor(&n), "{p}");
        }
        let expected = if Word::BITS == 64 { 14_000 } else { 6_000 };
        assert!(sample.len() > expected, "{}", sample.len());
    }

    #[test]
    fn rejects_wrong_size_even_and_smooth_moduli() {
        let top = U2048::ONE.shl_vartime(2047);
        // Even.
        assert_eq!(PublicKey::from_modulus(top), Err(Error::PaillierModulus));
        // 2047 bits.
        assert_eq!(
            PublicKey::from_modulus(top.shr_vartime(1).wrapping_add(&U2048::ONE)),
            Err(Error::PaillierModulus)
        );
        // Multiple of 8191.
        let n = top.wrapping_add(&U2048::ONE);
        let r = n.rem_limb(NonZero::new(Limb::from(8191u16)).unwrap());
        // A limb is u32 on 32-bit targets, where this conversion is not useless.
        #[allow(clippy::useless_conversion)]
        let n = n.wrapping_add(&U2048::from(8191u64 - u64::from(r.0)));
        let n = if n.is_odd().into() {
            n
        } else {
            n.wrapping_add(&U2048::from(8191u64))
        };
        assert_eq!(PublicKey::from_modulus(n), Err(Error::PaillierModulus));
    }
}
