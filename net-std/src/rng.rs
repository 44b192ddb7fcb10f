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
    seeded_by(getrandom::fill)
}

/// A ChaCha20 seeded by `fill`: the operating system's source for [`os_rng`], a failing one
/// in the tests.
fn seeded_by(
    fill: impl FnOnce(&mut [u8]) -> Result<(), getrandom::Error>,
) -> Result<ChaCha20Rng, SystemError> {
    let mut seed = [0u8; 32];
    let filled = fill(&mut seed);
    // The seed is the whole state of the generator: it must not outlive this call, nor
    // whatever part of it a failing source wrote.
    let rng = filled.map(|()| ChaCha20Rng::from_seed(seed));
    seed.zeroize();
    rng.map_err(SystemError::NoEntropy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    /// A source that fails is `NoEntropy`, carrying the source's error, and says what to
    /// check; no generator is made from whatever it wrote.
    #[test]
    fn a_failing_entropy_source_is_no_entropy() {
        let failed = seeded_by(|seed| {
            seed.fill(7);
            Err(getrandom::Error::UNSUPPORTED)
        });
        let Err(SystemError::NoEntropy(source)) = failed else {
            panic!("expected NoEntropy, got {failed:?}");
        };
        assert_eq!(source, getrandom::Error::UNSUPPORTED);
        let text = SystemError::NoEntropy(source).to_string();
        assert!(text.contains("gave no randomness"), "{text}");
        assert!(text.contains("entropy source"), "{text}");
    }

    /// The generator is ChaCha20 keyed with exactly what the source gave.
    #[test]
    fn the_generator_is_keyed_by_the_source() {
        let mut rng = seeded_by(|seed| {
            seed.fill(0x5a);
            Ok(())
        })
        .expect("a source that fills the seed");
        let mut expected = ChaCha20Rng::from_seed([0x5a; 32]);
        assert_eq!(rng.next_u64(), expected.next_u64());
        let (mut a, mut b) = (os_rng().unwrap(), os_rng().unwrap());
        assert_ne!(
            a.next_u64(),
            b.next_u64(),
            "two seeds from the system differ"
        );
    }
}
