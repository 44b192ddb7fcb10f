//! Party 0's Paillier key, made fresh for every keygen and refresh (inline, or ahead of time
//! by the service's [`crate::service::PaillierPool`]).

use std::thread;

use crypto_bigint::U1024;
use ecdsa2pc_core::{PaillierSecretKey, generate_prime};
use zeroize::Zeroize;

use crate::error::SystemError;
use crate::rng::os_rng;

/// A fresh Paillier key: the two 1024-bit primes are generated in parallel, and the pair
/// is drawn again while the modulus is not exactly 2048 bits. Returns the key and the
/// number of pairs drawn.
///
/// # Errors
/// [`SystemError::NoEntropy`] if the operating system gives no randomness.
pub fn new_paillier_key() -> Result<(PaillierSecretKey, u32), SystemError> {
    key_from_primes(|| {
        let (p, q) = thread::scope(|s| {
            let other = s.spawn(|| os_rng().map(|mut rng| generate_prime(&mut rng)));
            let here = os_rng().map(|mut rng| generate_prime(&mut rng));
            let other = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (here, other)
        });
        match (p, q) {
            (Ok(p), Ok(q)) => Ok((p, q)),
            (Ok(mut prime), Err(e)) | (Err(e), Ok(mut prime)) => {
                prime.zeroize();
                Err(e)
            }
            (Err(e), Err(_)) => Err(e),
        }
    })
}

/// A key from the pairs of primes `draw` returns (see [`generate_prime`]), drawing again
/// while a pair makes no key; every prime is wiped once used. Returns the key and the
/// number of pairs drawn, or the first error of `draw`.
pub(crate) fn key_from_primes<E>(
    mut draw: impl FnMut() -> Result<(U1024, U1024), E>,
) -> Result<(PaillierSecretKey, u32), E> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (mut p, mut q) = draw()?;
        let key = PaillierSecretKey::from_primes(&p, &q);
        p.zeroize();
        q.zeroize();
        if let Ok(key) = key {
            return Ok((key, attempts));
        }
    }
}
