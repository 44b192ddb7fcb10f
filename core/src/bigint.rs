//! Fixed-width integer helpers: byte conversion, sampling, reduction mod q.

use crypto_bigint::{Limb, NonZero, RandomMod, U256, Uint, Word};
use k256::{Scalar, elliptic_curve::ops::Reduce};
use rand_core::CryptoRng;

/// The secp256k1 group order q.
pub(crate) const ORDER: U256 =
    U256::from_be_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");

/// Reads a big-endian integer of at most `Uint<L>::BYTES` bytes; `None` if it cannot fit.
#[must_use]
pub(crate) fn from_be<const L: usize>(bytes: &[u8]) -> Option<Uint<L>> {
    if bytes.len() > L * Limb::BYTES {
        return None;
    }
    let mut limbs = [Limb::ZERO; L];
    for (i, byte) in bytes.iter().rev().enumerate() {
        let limb = limbs.get_mut(i / Limb::BYTES)?;
        limb.0 |= Word::from(*byte) << (8 * (i % Limb::BYTES));
    }
    Some(Uint::new(limbs))
}

/// Writes the low `out.len()` bytes of `value` big-endian; `None` if `value` does not fit.
#[must_use]
pub(crate) fn to_be<const L: usize>(value: &Uint<L>, out: &mut [u8]) -> Option<()> {
    let limbs = value.as_limbs();
    let width = out.len();
    for (i, byte) in out.iter_mut().rev().enumerate() {
        *byte = limbs
            .get(i / Limb::BYTES)
            .map_or(0, |l| (l.0 >> (8 * (i % Limb::BYTES))) as u8);
    }
    // The bytes above `width` must all be zero for the encoding to be exact.
    if value.bit_width_vartime() as usize > width * 8 {
        return None;
    }
    Some(())
}

/// Samples uniformly from `[0, bound)` in constant time.
#[must_use]
pub(crate) fn random_below<const L: usize, R: CryptoRng + ?Sized>(
    rng: &mut R,
    bound: &NonZero<Uint<L>>,
) -> Uint<L> {
    // vartime: rejection sampling leaks only how many draws failed, not the value kept.
    Uint::random_mod_vartime(rng, bound)
}

/// `q · 2^k` as a `Uint<L>`, for the slack bounds of the proofs.
#[must_use]
pub(crate) const fn order_shl<const L: usize>(k: u32) -> Uint<L> {
    ORDER.resize::<L>().shl_vartime(k)
}

/// q² · 2^k.
#[must_use]
pub(crate) const fn order_sq_shl<const L: usize>(k: u32) -> Uint<L> {
    let sq: Uint<L> = ORDER.concatenating_mul::<4, 8>(&ORDER).resize();
    sq.shl_vartime(k)
}

/// q² · (2^k + 1): the bound of a response r + e·x with r < q²·2^k and e, x < q.
#[must_use]
pub(crate) const fn order_sq_slack<const L: usize>(k: u32) -> Uint<L> {
    let sq: Uint<L> = ORDER.concatenating_mul::<4, 8>(&ORDER).resize();
    sq.shl_vartime(k).wrapping_add(&sq)
}

/// q · (2^k + 1): the bound of a response ξ + e·x with ξ < q·2^k and e·x < q.
#[must_use]
pub(crate) const fn order_slack<const L: usize>(k: u32) -> Uint<L> {
    let q: Uint<L> = ORDER.resize();
    q.shl_vartime(k).wrapping_add(&q)
}

/// Reduces any integer mod q, in constant time.
#[must_use]
pub(crate) fn reduce_mod_q<const L: usize>(value: &Uint<L>) -> Scalar {
    if L <= U256::LIMBS * 2 {
        return <Scalar as Reduce<crypto_bigint::U512>>::reduce(&value.resize());
    }
    let q = NonZero::<Uint<L>>::new_unwrap(ORDER.resize());
    <Scalar as Reduce<U256>>::reduce(&value.rem(&q).resize())
}

/// A scalar as an integer in `[0, q)`.
#[must_use]
pub(crate) fn scalar_to_uint<const L: usize>(scalar: &Scalar) -> Uint<L> {
    from_be::<4>(&scalar.to_bytes())
        .unwrap_or(U256::ZERO)
        .resize()
}

/// Bit `i` of `value` as a `u64` chunk of `width` bits starting there.
#[must_use]
pub(crate) fn chunk(value: u64, index: u32, width: u32) -> u64 {
    (value >> (index * width)) & ((1u64 << width) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::{U384, U512};

    #[test]
    fn bytes_round_trip_and_refuse_overflow() {
        let v = U384::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
        let mut out = [0u8; 16];
        assert!(to_be(&v, &mut out).is_some());
        assert_eq!(from_be::<6>(&out), Some(v));
        let mut short = [0u8; 15];
        assert!(to_be(&v, &mut short).is_none());
        assert!(from_be::<1>(&[1u8; 9]).is_none());
    }

    #[test]
    fn reduction_matches_for_wide_values() {
        let q = ORDER.resize::<8>();
        let v = q.wrapping_add(&U512::from_u8(5));
        assert_eq!(reduce_mod_q(&v), Scalar::from(5u64));
        let wide: Uint<12> = ORDER
            .resize::<12>()
            .shl_vartime(300)
            .wrapping_add(&Uint::from_u8(7));
        assert_eq!(reduce_mod_q(&wide), Scalar::from(7u64));
    }
}
