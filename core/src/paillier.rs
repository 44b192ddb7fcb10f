//! Paillier encryption over a 2048-bit modulus, with g = N + 1.
//!
//! P1 owns a [`SecretKey`] and decrypts with CRT; P2 holds only the [`PublicKey`].

mod decrypt;
mod encrypt;
mod fixed_base;
mod keygen;
mod validate;

// The trial-division bound, which the proofs' chunk width and root count rest on (`crate::zk`).
pub(crate) use validate::SMALL_FACTOR_BOUND_BITS;

#[cfg(any(test, feature = "internals"))]
pub use decrypt::half_decryptions;
pub use decrypt::{HalfPlaintext, Prime};
pub(crate) use fixed_base::Comb;
pub use fixed_base::{FixedBase, MAX_WINDOW, NoncePower, table_len};
pub use keygen::{KeySearch, MAX_SEARCH_WIDTH, SecretKey, generate_prime};

use crypto_bigint::{U2048, U4096, modular::FixedMontyParams};

/// Bits of every Paillier modulus, exactly.
pub const MODULUS_BITS: u32 = 2048;

/// An integer mod N.
pub type ModN = U2048;
/// An integer mod N², such as a ciphertext.
pub type ModNN = U4096;

/// A Paillier public key: the modulus N and its Montgomery parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    n: ModN,
    nn: ModNN,
    monty_n: FixedMontyParams<{ U2048::LIMBS }>,
    monty_nn: FixedMontyParams<{ U4096::LIMBS }>,
}

/// A Paillier ciphertext, checked to be in `(0, N²)` and coprime to N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ciphertext(pub(crate) ModNN);

impl Ciphertext {
    /// Zero, which no check accepts as a ciphertext: the value of a field filled in before
    /// anything reads it (a prover's c before its commitment, computed in place).
    pub(crate) const UNSET: Self = Self(ModNN::ZERO);

    /// The ciphertext as an integer mod N².
    #[must_use]
    pub fn as_uint(&self) -> &ModNN {
        &self.0
    }
}

/// Something that encrypts under a key: the public key, or (faster, by CRT) its owner.
pub trait Encryptor {
    /// The key encrypted under.
    fn public_key(&self) -> &PublicKey;
    /// Enc(m; r).
    fn encrypt_with<const L: usize>(&self, m: &crypto_bigint::Uint<L>, r: &ModN) -> Ciphertext;
}

impl Encryptor for PublicKey {
    fn public_key(&self) -> &PublicKey {
        self
    }
    fn encrypt_with<const L: usize>(&self, m: &crypto_bigint::Uint<L>, r: &ModN) -> Ciphertext {
        PublicKey::encrypt_with(self, m, r)
    }
}

impl Encryptor for SecretKey {
    fn public_key(&self) -> &PublicKey {
        SecretKey::public_key(self)
    }
    fn encrypt_with<const L: usize>(&self, m: &crypto_bigint::Uint<L>, r: &ModN) -> Ciphertext {
        SecretKey::encrypt_with(self, m, r)
    }
}

impl PublicKey {
    /// The modulus N.
    #[must_use]
    pub fn modulus(&self) -> &ModN {
        &self.n
    }

    /// N².
    #[must_use]
    pub fn modulus_squared(&self) -> &ModNN {
        &self.nn
    }
}
