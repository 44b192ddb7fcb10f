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

use crypto_bigint::{Uint, modular::FixedMontyForm};
use rand_core::CryptoRng;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Ciphertext, ModN, ModNN, PublicKey};
use crate::{Error, Result};

/// Widest window accepted: 2^8 entries per row.
pub const MAX_WINDOW: u32 = 8;

/// Entries a table needs for `window`-bit digits of an `exp_bits`-bit exponent.
#[must_use]
pub const fn table_len(window: u32, exp_bits: u32) -> usize {
    (exp_bits.div_ceil(window) as usize) << window
}

/// A fixed-base table in caller-owned storage, tied to one key and one base.
pub struct FixedBase<'t> {
    table: &'t [ModNN],
    window: u32,
    rows: usize,
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
    /// [`Error::BufferTooSmall`] unless `storage.len() == table_len(window, exp_bits)` and
    /// `1 ≤ window ≤ MAX_WINDOW`.
    pub fn fixed_base<'t>(
        &self,
        base: &Ciphertext,
        window: u32,
        exp_bits: u32,
        storage: &'t mut [ModNN],
    ) -> Result<FixedBase<'t>> {
        if window == 0 || window > MAX_WINDOW || storage.len() != table_len(window, exp_bits) {
            return Err(Error::BufferTooSmall);
        }
        let width = 1usize << window;
        let one = FixedMontyForm::one(&self.monty_nn);
        let mut row_base = FixedMontyForm::new(&base.0, &self.monty_nn);
        for row in storage.chunks_exact_mut(width) {
            let mut acc = one;
            for entry in row.iter_mut() {
                *entry = acc.to_montgomery();
                acc = acc.mul(&row_base);
            }
            row_base = acc;
        }
        Ok(FixedBase {
            rows: storage.len() >> window,
            table: storage,
            window,
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
        if !bool::from(table.modulus.ct_eq(&self.n))
            || Uint::<L>::BITS as usize > table.rows * table.window as usize
        {
            return Err(Error::ForeignPrecomputation);
        }
        let width = 1usize << table.window;
        let mask = (1u64 << table.window) - 1;
        let mut acc = FixedMontyForm::one(&self.monty_nn);
        for (i, row) in table.table.chunks_exact(width).enumerate() {
            let shift = u32::try_from(i).map_or(u32::MAX, |i| i.saturating_mul(table.window));
            let digit = e
                .wrapping_shr(shift)
                .as_limbs()
                .first()
                .map_or(0, |l| limb_u64(l.0) & mask);
            let mut picked = ModNN::ZERO;
            for (d, entry) in (0u64..).zip(row.iter()) {
                picked.conditional_assign(entry, d.ct_eq(&digit));
            }
            acc = acc.mul(&FixedMontyForm::from_montgomery(picked, &self.monty_nn));
        }
        Ok(Ciphertext(acc.retrieve()))
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
            .field("window", &self.window)
            .field("rows", &self.rows)
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
