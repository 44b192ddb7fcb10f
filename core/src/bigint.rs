//! Fixed-width integer helpers: byte conversion, sampling, reduction mod q.

use crypto_bigint::{Limb, NonZero, RandomMod, U256, U512, Uint, Word, modular::FixedMontyForm};
use k256::{Scalar, elliptic_curve::ops::Reduce};
use rand_core::CryptoRng;
use subtle::{ConstantTimeEq, ConstantTimeLess};
use zeroize::Zeroizing;

/// The secp256k1 group order q.
pub(crate) const ORDER: U256 =
    U256::from_be_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");

/// Whether a public x is a unit in (0, n), for n the product of the two secret primes
/// `factors` (as divisors at x's width): x ≢ 0 mod each, two reductions where anyone else needs
/// a gcd. Constant time in the factors, both always reduced, and each remainder wiped (with
/// x it gives its factor away: gcd(x − r, n)); only the answer, which anyone's gcd gives too,
/// comes out.
#[must_use]
pub(crate) fn is_unit_by_factors<const L: usize>(
    x: &Uint<L>,
    n: &Uint<L>,
    factors: [&NonZero<Uint<L>>; 2],
) -> bool {
    let mut unit = x.ct_lt(n) & !x.ct_eq(&Uint::ZERO);
    for factor in factors {
        let remainder = Zeroizing::new(x.rem(factor));
        unit &= !remainder.ct_eq(&Uint::ZERO);
    }
    bool::from(unit)
}

/// Reads a big-endian integer of at most `Uint<L>::BYTES` bytes; `None` if it cannot fit.
#[must_use]
pub(crate) fn from_be<const L: usize>(bytes: &[u8]) -> Option<Uint<L>> {
    if bytes.len() > L * Limb::BYTES {
        return None;
    }
    let mut limbs = [Limb::ZERO; L];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.rchunks(Limb::BYTES)) {
        limb.0 = chunk
            .iter()
            .fold(0, |acc: Word, b| (acc << 8) | Word::from(*b));
    }
    Some(Uint::new(limbs))
}

/// Writes `value` big-endian into exactly `out.len()` bytes; `None` if it does not fit.
#[must_use]
pub(crate) fn to_be<const L: usize>(value: &Uint<L>, out: &mut [u8]) -> Option<()> {
    if value.bit_width() as usize > out.len() * 8 {
        return None;
    }
    out.fill(0);
    for (limb, chunk) in value.as_limbs().iter().zip(out.rchunks_mut(Limb::BYTES)) {
        let bytes = limb.0.to_be_bytes();
        let skip = bytes.len().saturating_sub(chunk.len());
        chunk.copy_from_slice(bytes.get(skip..)?);
    }
    Some(())
}

/// Samples uniformly from `[0, bound)` for a **public** `bound`: the value kept is constant
/// time, but how many draws are rejected depends on the bound. A secret bound (φ(N̂)) is not
/// passed here: its callers draw below the public modulus and reduce in constant time.
#[must_use]
pub(crate) fn random_below<const L: usize, R: CryptoRng + ?Sized>(
    rng: &mut R,
    bound: &NonZero<Uint<L>>,
) -> Uint<L> {
    // vartime: rejection sampling leaks only how many draws failed, not the value kept.
    Uint::random_mod_vartime(rng, bound)
}

/// Samples uniformly from `[0, 2^BITS)`; a width beyond the type's fails the build.
#[must_use]
pub(crate) fn random_bits<const L: usize, const BITS: u32, R: CryptoRng + ?Sized>(
    rng: &mut R,
) -> Uint<L> {
    const { assert!(BITS <= Uint::<L>::BITS) };
    // Fails only for a width beyond the type's (ruled out above) or an RNG error, and
    // `CryptoRng`'s error type is uninhabited.
    <Uint<L> as crypto_bigint::RandomBits>::try_random_bits(rng, BITS).unwrap_or(Uint::ZERO)
}

/// `q · 2^k` as a `Uint<L>`, for the slack bounds of the proofs.
#[must_use]
pub(crate) const fn order_shl<const L: usize>(k: u32) -> Uint<L> {
    // vartime: public constants shifted by public amounts.
    ORDER.resize::<L>().shl_vartime(k)
}

/// q², 512 bits wide (q is 256 bits).
const ORDER_SQ: U512 = ORDER.concatenating_square();

/// q² · 2^k.
#[must_use]
pub(crate) const fn order_sq_shl<const L: usize>(k: u32) -> Uint<L> {
    let sq: Uint<L> = ORDER_SQ.resize();
    // vartime: public constants shifted by public amounts.
    sq.shl_vartime(k)
}

/// Reduces any integer mod q, in constant time.
#[must_use]
pub(crate) fn reduce_mod_q<const L: usize>(value: &Uint<L>) -> Scalar {
    if L <= U512::LIMBS {
        return <Scalar as Reduce<U512>>::reduce(&value.resize());
    }
    let q = NonZero::<Uint<L>>::new_unwrap(ORDER.resize());
    <Scalar as Reduce<U256>>::reduce(&value.rem(&q).resize())
}

/// A scalar as an integer in `[0, q)`.
#[must_use]
pub(crate) fn scalar_to_uint<const L: usize>(scalar: &Scalar) -> Uint<L> {
    from_be::<{ U256::LIMBS }>(&scalar.to_bytes())
        .unwrap_or(U256::ZERO)
        .resize()
}

/// Chunk `index` of `width` bits of `value` (0 past the top).
#[must_use]
pub(crate) fn chunk(value: u64, index: usize, width: u32) -> u64 {
    let shift = u32::try_from(index).map_or(u32::MAX, |i| i.saturating_mul(width));
    value.checked_shr(shift).unwrap_or(0) & !(u64::MAX.checked_shl(width).unwrap_or(0))
}

/// The widest window of [`pow_sliding_vartime`]: its table holds 2^(5−1) = 16 odd powers,
/// 8 KiB on the stack for a 4096-bit modulus (16 KiB at width 6 would save about 1 % more
/// products, not worth it on party 1's small-RAM firmware).
const SLIDING_WINDOW_MAX: u32 = 5;
/// Entries of [`pow_sliding_vartime`]'s table: base^1, base^3, …, base^(2^w − 1).
const SLIDING_TABLE: usize = 1 << (SLIDING_WINDOW_MAX - 1);

/// base^exp for a PUBLIC base and exponent (proof verification only): a left-to-right
/// sliding window over odd powers, which for a 2048-bit exponent needs about 5 % fewer
/// Montgomery products than crypto-bigint's fixed 4-bit window (`pow_vartime`): one product
/// per about w + 1 bits instead of per 4, for 2^(w−1) products of precomputation. The same
/// value as `base.pow_vartime(exp)`.
// vartime: the squarings and products, and the table entry each product reads, follow the
// exponent's bits; callers pass public values only (the allow-list of check-vartime.sh).
#[must_use]
pub(crate) fn pow_sliding_vartime<const L: usize, const E: usize>(
    base: &FixedMontyForm<L>,
    exp: &Uint<E>,
) -> FixedMontyForm<L> {
    let params = base.params();
    let bits = exp.bit_width_vartime();
    // The width that needs the fewest products: w + 1 beats w above 2^(w−1)·(w+1)·(w+2) bits.
    let width: u32 = match bits {
        0 => return FixedMontyForm::one(params),
        1..=6 => 1,
        7..=24 => 2,
        25..=80 => 3,
        81..=240 => 4,
        _ => SLIDING_WINDOW_MAX,
    };
    // table[k] = base^(2k + 1) in Montgomery form: Uints, without a copy of the parameters
    // per entry.
    let mut table = [Uint::<L>::ZERO; SLIDING_TABLE];
    let used = 1usize << (width - 1);
    let square = base.square();
    let mut power = *base;
    for entry in table.iter_mut().take(used) {
        *entry = *power.as_montgomery();
        power = power.mul(&square);
    }
    let entry = |k: usize| {
        let value = table.get(k).copied().unwrap_or(Uint::ZERO);
        FixedMontyForm::from_montgomery(value, params)
    };

    // `top` bits of the exponent are still to do: the next one is bit top − 1. Squarings
    // for zero bits wait in `pending` until the next window (or the end) does them at once.
    let mut acc: Option<FixedMontyForm<L>> = None;
    let mut top = bits;
    let mut pending = 0u32;
    while top > 0 {
        if !exp.bit_vartime(top - 1) {
            pending += 1;
            top -= 1;
            continue;
        }
        // The window is bits top − 1 down to its lowest set bit within `width` bits: odd.
        let mut low = top.saturating_sub(width);
        while !exp.bit_vartime(low) {
            low += 1;
        }
        let window = (low..top)
            .rev()
            .fold(0usize, |v, i| (v << 1) | usize::from(exp.bit_vartime(i)));
        let odd = entry(window >> 1);
        acc = Some(match acc {
            None => odd,
            Some(a) => a.square_repeat_vartime(pending + (top - low)).mul(&odd),
        });
        pending = 0;
        top = low;
    }
    acc.map_or_else(
        || FixedMontyForm::one(params),
        |a| a.square_repeat_vartime(pending),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::{U64, U384, U768};

    /// Draws below 2^bits for the widths the proofs use (256 in a U256, 326 and 374 in a
    /// U384): never at or above the bound, and the top bit set in about half the draws.
    #[test]
    fn random_bits_stay_below_their_width_and_reach_its_top() {
        fn tops<const L: usize, const BITS: u32>(rng: &mut rand_chacha::ChaCha20Rng) -> u32 {
            (0..64)
                .map(|_| {
                    let v: Uint<L> = random_bits::<L, BITS, _>(rng);
                    assert!(v.bit_width() <= BITS);
                    u32::from(v.bit_width() == BITS)
                })
                .sum()
        }
        let mut rng = crate::fixtures::rng(40);
        assert!((16..=48).contains(&tops::<{ U256::LIMBS }, 256>(&mut rng)));
        assert!((16..=48).contains(&tops::<{ U384::LIMBS }, 326>(&mut rng)));
        assert!((16..=48).contains(&tops::<{ U384::LIMBS }, 374>(&mut rng)));
    }

    #[test]
    fn bytes_round_trip_and_refuse_overflow() {
        let v = U384::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
        let mut out = [0u8; 16];
        assert!(to_be(&v, &mut out).is_some());
        assert_eq!(from_be::<{ U384::LIMBS }>(&out), Some(v));
        let mut short = [0u8; 15];
        assert!(to_be(&v, &mut short).is_none());
        assert!(from_be::<{ U64::LIMBS }>(&[1u8; 9]).is_none());
    }

    #[test]
    fn reduction_matches_for_wide_values() {
        let q = ORDER.resize::<{ U512::LIMBS }>();
        let v = q.wrapping_add(&U512::from_u8(5));
        assert_eq!(reduce_mod_q(&v), Scalar::from(5u64));
        let wide: U768 = ORDER
            .resize::<{ U768::LIMBS }>()
            .shl_vartime(300)
            .wrapping_add(&Uint::from_u8(7));
        assert_eq!(reduce_mod_q(&wide), Scalar::from(7u64));
    }
    /// The sliding window gives crypto-bigint's `pow_vartime` for exponents 0, 1, 2, all
    /// ones, random 2048-bit ones, short ones of every window width, and ones whose top
    /// window is partial, at 2048 and 4096 bits (the limbs are 32 or 64 bits by target).
    #[test]
    fn sliding_window_power_matches_pow_vartime() {
        use crate::paillier::{ModN, ModNN};
        use crypto_bigint::{Odd, U2048, modular::FixedMontyParams};
        use rand_core::Rng;

        fn check<const L: usize, const E: usize>(base: &FixedMontyForm<L>, exp: &Uint<E>) {
            assert_eq!(
                pow_sliding_vartime(base, exp),
                base.pow_vartime(exp),
                "{exp}"
            );
        }
        let mut rng = crate::fixtures::rng(90);
        let mut random = |bytes: &mut [u8]| rng.fill_bytes(bytes);
        let mut wide = [0u8; ModNN::BYTES];
        random(&mut wide);
        let modulus = Odd::new(ModNN::from_be_slice(&wide) | ModNN::ONE).unwrap();
        let params = FixedMontyParams::new_vartime(modulus);
        random(&mut wide);
        let base = FixedMontyForm::new(&ModNN::from_be_slice(&wide), &params);
        let mut narrow = [0u8; ModN::BYTES];
        random(&mut narrow);
        let big = U2048::from_be_slice(&narrow);
        let small_modulus = Odd::new(big | U2048::ONE).unwrap();
        let small_params = FixedMontyParams::new_vartime(small_modulus);
        random(&mut narrow);
        let small_base = FixedMontyForm::new(&U2048::from_be_slice(&narrow), &small_params);

        for exp in [U2048::ZERO, U2048::ONE, U2048::from_u8(2), U2048::MAX, big] {
            check(&base, &exp);
            check(&small_base, &exp);
        }
        // Every width, at and around the thresholds; 1 and 2^k − 1 and 2^k + 1 patterns.
        for bits in [3, 6, 7, 24, 25, 64, 80, 81, 240, 241, 673, 2047] {
            let all_ones = U2048::MAX.shr_vartime(U2048::BITS - bits);
            check(&base, &all_ones);
            check(&base, &U2048::ONE.shl_vartime(bits));
            check(
                &base,
                &U2048::ONE.shl_vartime(bits).wrapping_add(&U2048::ONE),
            );
            check(&base, &big.shr_vartime(U2048::BITS - bits));
        }
        // A top window of fewer than 5 bits: 2048 − 5·k bits for a few k, and N-sized.
        for shift in [1, 2, 3, 4, 6, 8] {
            check(
                &base,
                &(big | U2048::ONE.shl_vartime(U2048::BITS - 1)).shr_vartime(shift),
            );
        }
        check(&base, &order_shl::<{ U512::LIMBS }>(5));
        check(&small_base, &U64::from_u64(0x0003_ffff));
    }
}
