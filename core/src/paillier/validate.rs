//! Validation of a peer's modulus and ciphertexts: everything checked before any arithmetic.

use crypto_bigint::{Limb, NonZero, Odd, U2048, Word, modular::FixedMontyParams};

use super::{Ciphertext, MODULUS_BITS, ModN, ModNN, PublicKey};
use crate::{Error, Result};

/// Every prime below 2^16: no valid modulus may have one as a factor.
///
/// The proofs need no factor below 2^13 (their challenge chunks are 13 bits); going to 2^16
/// also refuses outright the published smooth moduli of 16-bit primes ("6ix1een").
pub(crate) const SMALL_PRIMES: [u16; 6542] = small_primes();

// Evaluated at compile time: an index out of bounds or a wrong count fails the build.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const fn small_primes() -> [u16; 6542] {
    let mut composite = [false; 1 << 16];
    let mut out = [0u16; 6542];
    let mut count = 0;
    let mut i = 2;
    while i < 1 << 16 {
        if !composite[i] {
            out[count] = i as u16;
            count += 1;
            let mut j = i * i;
            while j < 1 << 16 {
                composite[j] = true;
                j += i;
            }
        }
        i += 1;
    }
    assert!(count == 6542);
    out
}

impl PublicKey {
    /// Checks a peer's modulus: exactly 2048 bits, odd, no prime factor below 2^16, not prime.
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
        // A prime N passes the N-th-root proof (gcd(N, N−1) = 1) but is no Paillier modulus.
        if crypto_primes::is_prime(crypto_primes::Flavor::Any, &n) {
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

/// Small primes multiplied into one divisor: each is below 2^16 (two bytes), so a limb holds
/// the product of this many.
const PRIMES_PER_LIMB: usize = Limb::BYTES >> 1;

/// Whether a public N has a prime factor below 2^16.
///
/// One multi-limb division of N per limb-sized product of small primes (a quarter as many as
/// primes with 64-bit limbs), then one machine division of the remainder per prime.
fn has_small_factor(n: &ModN) -> bool {
    SMALL_PRIMES.chunks(PRIMES_PER_LIMB).any(|group| {
        let product = group.iter().fold(1, |acc: Word, &p| acc * Word::from(p));
        NonZero::new(Limb(product)).into_option().is_some_and(|d| {
            let r = n.rem_limb(d).0;
            // A machine division may take variable time: N is public.
            group.iter().any(|&p| r.is_multiple_of(Word::from(p)))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_primes_table_is_the_primes_below_2_16() {
        assert_eq!(SMALL_PRIMES[0], 2);
        assert_eq!(SMALL_PRIMES[1027], 8191);
        assert_eq!(SMALL_PRIMES[6541], 65521);
        assert!(SMALL_PRIMES.windows(2).all(|w| w[0] < w[1]));
    }

    /// Every position in a product group is caught: N = p·K for small primes p spread over
    /// the table (and both ends), with K free of small factors; a good modulus has none.
    #[test]
    fn small_factor_found_wherever_it_sits_in_its_group() {
        let good = *crate::fixtures::paillier_key(0).public_key().modulus();
        assert!(!has_small_factor(&good));
        // K: a 1024-bit prime of the fixtures, so N = p·K has no other small factor.
        let k = crate::fixtures::paillier_key(0).primes().0;
        // Every 5th prime (5 and the group size are coprime: every position) and the last 4.
        let last = SMALL_PRIMES.len() - 4;
        for (i, &p) in SMALL_PRIMES.iter().enumerate() {
            if !i.is_multiple_of(5) && i < last {
                continue;
            }
            let n: U2048 = k.resize::<{ U2048::LIMBS }>().wrapping_mul(&U2048::from_u16(p));
            assert!(has_small_factor(&n), "{p}");
        }
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
