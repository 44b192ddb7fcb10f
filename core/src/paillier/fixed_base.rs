//! Exponentiation with a base fixed for the life of a key, and precomputed encryption nonces.
//!
//! P2 raises the same ciphertext, c_key ⊕ q·2^64, to a fresh secret exponent in every
//! signature. A table of base^(d·2^(w·i)) for each w-bit window i and digit d turns that into
//! one multiplication per window; each row is scanned in full with constant-time selects, so
//! the exponent's digits never pick a memory address. The table lives in caller-owned storage
//! of [`table_len`] entries (512 bytes each): w = 4 over a 512-bit exponent is 1 MiB and saves
//! about 80 % of the work; a firmware build can take w = 2 (512 KiB) or skip the table.
//!
//! The randomness factor r^N of an encryption does not depend on the message, so a caller can
//! compute [`NoncePower`]s ahead of time, off the critical path.

use crypto_bigint::{
    Limb, Uint,
    modular::{FixedMontyForm, FixedMontyParams},
};
use rand_core::CryptoRng;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Ciphertext, ModN, ModNN, PublicKey};
use crate::{Error, Result};

/// Widest window accepted: 2^8 entries per row.
pub const MAX_WINDOW: u32 = 8;

/// Entries a table needs for `window`-bit digits of an `exp_bits`-bit exponent.
///
/// # Errors
/// [`Error::TableWindow`] unless `1 ≤ window ≤ MAX_WINDOW`.
pub const fn table_len(window: u32, exp_bits: u32) -> Result<usize> {
    if window == 0 || window > MAX_WINDOW {
        return Err(Error::TableWindow);
    }
    Ok((exp_bits.div_ceil(window) as usize) << window)
}

/// A comb table of one base modulo one modulus of `L` limbs, in caller-owned storage:
/// base^(d·2^(w·i)) in Montgomery form for every w-bit window i and digit d, so that base^e
/// is one multiplication per window of e. The one table type behind every fixed base: P2's
/// C' mod N² ([`FixedBase`]), and the ring-Pedersen bases g, h mod N̂ (P2) and h mod p̂, q̂ (P1).
pub(crate) struct Comb<'t, const L: usize> {
    table: &'t mut [Uint<L>],
    window: u32,
    rows: usize,
}

impl<'t, const L: usize> Comb<'t, L> {
    /// Fills `storage` with the table of `base` for exponents of up to `exp_bits` bits.
    ///
    /// # Errors
    /// [`Error::TableWindow`] for a window outside `1..=MAX_WINDOW`; [`Error::BufferTooSmall`]
    /// unless `storage.len() == table_len(window, exp_bits)`.
    pub(crate) fn build(
        base: &FixedMontyForm<L>,
        window: u32,
        exp_bits: u32,
        storage: &'t mut [Uint<L>],
    ) -> Result<Self> {
        if storage.len() != table_len(window, exp_bits)? {
            return Err(Error::BufferTooSmall);
        }
        let width = 1usize << window;
        let one = FixedMontyForm::one(base.params());
        let mut row_base = *base;
        for row in storage.chunks_exact_mut(width) {
            let mut acc = one;
            for entry in row.iter_mut() {
                *entry = acc.to_montgomery();
                acc = acc.mul(&row_base);
            }
            row_base = acc;
        }
        Ok(Self {
            rows: storage.len() >> window,
            table: storage,
            window,
        })
    }

    /// Whether the table serves exponents of `bits` bits.
    pub(crate) fn covers(&self, bits: u32) -> bool {
        (bits as usize) <= self.rows.saturating_mul(self.window as usize)
    }

    /// base^e over the low `bits` bits of `e` (a public bound), constant time in `e`: each row
    /// is scanned in full with constant-time selects, so no digit picks a memory address.
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if the table does not cover `bits`.
    pub(crate) fn pow_bounded<const E: usize>(
        &self,
        e: &Uint<E>,
        bits: u32,
        params: &FixedMontyParams<L>,
    ) -> Result<FixedMontyForm<L>> {
        if !self.covers(bits) {
            return Err(Error::ForeignPrecomputation);
        }
        let width = 1usize << self.window;
        let rows = (bits.div_ceil(self.window)) as usize;
        let mut acc = FixedMontyForm::one(params);
        for (i, row) in self.table.chunks_exact(width).take(rows).enumerate() {
            let position = u32::try_from(i).map_or(u32::MAX, |i| i.saturating_mul(self.window));
            // The top row may reach past `bits`: those bits are not part of the exponent.
            let digit = digit(e, position, self.window.min(bits.saturating_sub(position)));
            let mut picked = Uint::<L>::ZERO;
            for (d, entry) in (0u64..).zip(row.iter()) {
                picked.conditional_assign(entry, d.ct_eq(&digit));
            }
            acc = acc.mul(&FixedMontyForm::from_montgomery(picked, params));
        }
        Ok(acc)
    }
}

impl<const L: usize> Zeroize for Comb<'_, L> {
    /// Wipes the entries: a table of a secret base (P1's h mod p̂) gives the secret away.
    fn zeroize(&mut self) {
        self.table.zeroize();
    }
}

/// The `window`-bit digit of `e` at bit `position` (0 past the top), read from at most two
/// limbs at public positions.
fn digit<const E: usize>(e: &Uint<E>, position: u32, window: u32) -> u64 {
    let limb_shift = Limb::BITS.trailing_zeros();
    let index = (position >> limb_shift) as usize;
    let offset = position & (Limb::BITS - 1);
    let limbs = e.as_limbs();
    let low = limbs.get(index).map_or(0, |l| limb_u64(l.0)) >> offset;
    let high = if offset + window > Limb::BITS {
        limbs
            .get(index + 1)
            .map_or(0, |l| limb_u64(l.0) << (Limb::BITS - offset))
    } else {
        0
    };
    (low | high) & !(u64::MAX << window)
}

/// A fixed-base table in caller-owned storage, tied to one key and one base.
pub struct FixedBase<'t> {
    comb: Comb<'t, { ModNN::LIMBS }>,
    modulus: ModN,
    base: ModNN,
}

/// r^N mod N² for a fresh random r, in Montgomery form, for one encryption under one key.
// Fuzzing only (`--cfg fuzzing`): the fuzz targets clone P2's states, which hold one.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct NoncePower {
    power: ModNN,
    #[zeroize(skip)]
    modulus: ModN,
}

impl PublicKey {
    /// Fills `storage` with the table of `base` for exponents of up to `exp_bits` bits.
    ///
    /// # Errors
    /// [`Error::TableWindow`] unless `1 ≤ window ≤ MAX_WINDOW`; [`Error::BufferTooSmall`]
    /// unless `storage.len() == table_len(window, exp_bits)`.
    pub fn fixed_base<'t>(
        &self,
        base: &Ciphertext,
        window: u32,
        exp_bits: u32,
        storage: &'t mut [ModNN],
    ) -> Result<FixedBase<'t>> {
        let base_monty = FixedMontyForm::new(&base.0, &self.monty_nn);
        Ok(FixedBase {
            comb: Comb::build(&base_monty, window, exp_bits, storage)?,
            modulus: self.n,
            base: base.0,
        })
    }

    /// base^e with the table, in constant time in `e`.
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if the table was built for another key, or `e` is
    /// wider than the table.
    pub fn pow_fixed<const L: usize>(
        &self,
        table: &FixedBase<'_>,
        e: &Uint<L>,
    ) -> Result<Ciphertext> {
        if !bool::from(table.modulus.ct_eq(&self.n)) {
            return Err(Error::ForeignPrecomputation);
        }
        let power = table
            .comb
            .pow_bounded(e, Uint::<L>::BITS, &self.monty_nn)?;
        Ok(Ciphertext(power.retrieve()))
    }

    /// A fresh r^N, to spend on one later encryption.
    #[must_use]
    pub fn nonce_power_random<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> NoncePower {
        let mut r = self.random_nonce(rng);
        let power = self.nonce_power(&r).to_montgomery();
        r.zeroize();
        NoncePower {
            power,
            modulus: self.n,
        }
    }

    /// r^N for a given r, to spend on one later encryption whose randomness the caller keeps
    /// (π_c3 answers with it).
    #[must_use]
    pub(crate) fn nonce_power_of(&self, r: &ModN) -> NoncePower {
        NoncePower {
            power: self.nonce_power(r).to_montgomery(),
            modulus: self.n,
        }
    }

    /// Enc(m) with a precomputed nonce.
    ///
    /// # Errors
    /// [`Error::ForeignPrecomputation`] if the nonce was made for another key.
    pub fn encrypt_with_nonce<const L: usize>(
        &self,
        m: &Uint<L>,
        nonce: &NoncePower,
    ) -> Result<Ciphertext> {
        if !bool::from(nonce.modulus.ct_eq(&self.n)) {
            return Err(Error::ForeignPrecomputation);
        }
        let rn = FixedMontyForm::from_montgomery(nonce.power, &self.monty_nn);
        Ok(self.encrypt_with_power(m, &rn))
    }
}

/// A limb as `u64` (limbs are `u32` on 32-bit targets).
#[allow(clippy::useless_conversion)]
fn limb_u64(word: crypto_bigint::Word) -> u64 {
    u64::from(word)
}

impl FixedBase<'_> {
    /// The base this table raises.
    #[must_use]
    pub fn base(&self) -> &ModNN {
        &self.base
    }
}

impl core::fmt::Debug for NoncePower {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NoncePower").finish_non_exhaustive()
    }
}

impl core::fmt::Debug for FixedBase<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FixedBase")
            .field("window", &self.comb.window)
            .field("rows", &self.comb.rows)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn zeroizing_a_nonce_power_wipes_the_power() {
        let sk = fixtures::paillier_key(0);
        let mut nonce = sk.public_key().nonce_power_random(&mut fixtures::rng(3));
        assert_ne!(nonce.power, ModNN::ZERO);
        nonce.zeroize();
        assert_eq!(nonce.power, ModNN::ZERO);
        assert_eq!(nonce.modulus, *sk.public_key().modulus());
    }
}
