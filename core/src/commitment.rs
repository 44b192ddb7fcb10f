//! Hash commitments bound to a session and to the committer's identity.

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use crate::{Error, Result, transcript::Transcript};

/// Length of a commitment and of its opening randomness.
pub const LEN: usize = 32;

/// Fresh opening randomness.
#[must_use]
pub fn randomness<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; LEN] {
    let mut r = [0u8; LEN];
    rng.fill_bytes(&mut r);
    r
}

/// Seals a transcript holding (tag, session, committer, values) with the opening randomness.
#[must_use]
pub fn seal(mut values: Transcript, opening: &[u8; LEN]) -> [u8; LEN] {
    values.bytes("opening", opening);
    values.finish()
}

/// Checks that `values` and `opening` open `commitment`.
///
/// # Errors
/// [`Error::CommitmentMismatch`].
pub fn open(commitment: &[u8; LEN], values: Transcript, opening: &[u8; LEN]) -> Result<()> {
    if bool::from(seal(values, opening).ct_eq(commitment)) {
        Ok(())
    } else {
        Err(Error::CommitmentMismatch)
    }
}
