//! Party 0's Paillier key, made fresh for every keygen and refresh.

use std::thread;

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
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (p, q) = thread::scope(|s| {
            let other = s.spawn(|| os_rng().map(|mut rng| generate_prime(&mut rng)));
            let here = os_rng().map(|mut rng| generate_prime(&mut rng));
            let other = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (here, other)
        });
        let (mut p, mut q) = (p?, q?);
        let key = PaillierSecretKey::from_primes(&p, &q);
        p.zeroize();
        q.zeroize();
        if let Ok(key) = key {
            return Ok((key, attempts));
        }
    }
}
