//! Party 0's Paillier key, made fresh for every keygen and refresh.

use ecdsa2pc_core::{PAILLIER_MODULUS_BITS, PaillierSecretKey};
use ecdsa2pc_net::paillier::new_paillier_key;

use crate::error::CliError;
use crate::output::Log;

/// Party 0's fresh Paillier key, timed and reported as the `paillier key` phase.
pub(crate) fn paillier_key(log: &Log) -> Result<PaillierSecretKey, CliError> {
    let (key, _attempts) = log.phase(
        "paillier key",
        || Ok(new_paillier_key()?),
        |(_key, attempts)| {
            format!(
                "{}-bit modulus, {attempts} attempt{}",
                PAILLIER_MODULUS_BITS,
                if *attempts == 1 { "" } else { "s" }
            )
        },
    )?;
    Ok(key)
}
