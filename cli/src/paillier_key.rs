//! Party 0's Paillier key, made fresh for every keygen and refresh.

use std::thread;

use ecdsa2pc_core::{PAILLIER_MODULUS_BITS, PaillierSecretKey, generate_prime};
use ecdsa2pc_net::rng::os_rng;
use zeroize::Zeroize;

use crate::error::CliError;
use crate::output::Log;

/// Party 0's fresh Paillier key, timed and reported as the `paillier key` phase.
pub(crate) fn paillier_key(log: &Log) -> Result<PaillierSecretKey, CliError> {
    let (key, _attempts) = log.phase("paillier key", new_paillier_key, |(_key, attempts)| {
        format!(
            "{}-bit modulus, {attempts} attempt{}",
            PAILLIER_MODULUS_BITS,
            if *attempts == 1 { "" } else { "s" }
        )
    })?;
    Ok(key)
}

/// A fresh Paillier key: the two 1024-bit primes are generated in parallel, and the pair
/// is drawn again while the modulus is not exactly 2048 bits. Returns the key and the
/// number of pairs drawn.
pub(crate) fn new_paillier_key() -> Result<(PaillierSecretKey, u32), CliError> {
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
