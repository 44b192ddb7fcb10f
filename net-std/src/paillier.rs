//! Party 0's Paillier key, made fresh for every keygen and refresh (inline, or ahead of time
//! by the service's [`crate::service::PaillierPool`]).

use crypto_bigint::U1024;
use ecdsa2pc_core::{PaillierKeySearch, PaillierSecretKey};
use zeroize::Zeroize;

use crate::error::SystemError;
use crate::rng::os_rng;
use crate::work::{Parallel, cores};

/// A fresh Paillier key: the windows of the two 1024-bit prime searches of core's
/// [`PaillierKeySearch`] run on every core, as many at once as there are cores, and a new
/// pair is searched for in the (never seen) case that they make no key. Returns the key and the number of pairs searched for.
///
/// # Errors
/// [`SystemError::NoEntropy`] if the operating system gives no randomness.
pub fn new_paillier_key() -> Result<(PaillierSecretKey, u32), SystemError> {
    let mut rng = os_rng()?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut search = PaillierKeySearch::draw(&mut rng);
        search.run_on(&Parallel, cores());
        if let Ok(key) = search.finish() {
            return Ok((key, attempts));
        }
    }
}

/// A key from the pairs of primes `draw` returns (see [`ecdsa2pc_core::generate_prime`]), drawing again
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
