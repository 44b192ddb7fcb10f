//! The randomness of a run: a CSPRNG seeded from the operating system.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zeroize::Zeroize;

use crate::error::SystemError;

/// A CSPRNG (ChaCha20) seeded from the operating system.
///
/// # Errors
/// [`SystemError::NoEntropy`] if the operating system has no entropy source.
pub fn os_rng() -> Result<ChaCha20Rng, SystemError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(SystemError::NoEntropy)?;
    let rng = ChaCha20Rng::from_seed(seed);
    // The seed is the whole state of the generator: it must not outlive this call.
    seed.zeroize();
    Ok(rng)
}
