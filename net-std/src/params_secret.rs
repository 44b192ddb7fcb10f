//! Party 0's ring-Pedersen parameter secret on disk (issue 10).
//!
//! Party 0 makes one parameter set (N̂ from two 1024-bit safe primes, g = h^λ) per identity
//! and reuses it for every key and refresh: the safe-prime search takes seconds, and party 1
//! checks the parameter proof once per party 0 and pins the result ([`crate::pins`]). The
//! secret (p̂, q̂, λ) is kept in one file, [`FILE_NAME`], beside party 0's share files (the
//! directory of a one-shot share, the service's share directory), written and read by the
//! same code as the shares: atomic and synced, mode 0600, refused if others may read it, and
//! sealed with the shares' passphrase or key file when one is given ([`crate::sealed`],
//! content [`Content::ParamsSecret`]). Loading re-checks the primes and the parameters (the
//! core's decoder does).
//!
//! Every share party 0 makes records the parameters' hash, and signing refuses a parameter
//! secret with another hash: replacing or losing this file makes party 0's keys unusable, so
//! it is backed up with the shares. It is not per key: deleting it makes a new one at the
//! next keygen, which party 1 then refuses until it deletes its pin.

use std::path::{Path, PathBuf};

use crypto_bigint::U1024;
use ecdsa2pc_core::{Party, RingPedersenSecret, generate_safe_prime, work::Work};
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

use crate::NetError;
use crate::error::{StoreError, SystemError};
use crate::rng::os_rng;
use crate::sealed::{self, Content, Label, Sealer};
use crate::store;
use crate::work::run_parallel;

/// The file name of party 0's parameter secret, in the directory of its shares.
pub const FILE_NAME: &str = "ring-pedersen.secret";

/// Said on stderr (by the caller) before the safe-prime search.
pub const MAKING: &str = "making party 0's commitment parameters: safe-prime search, a few seconds";

/// Said on stderr (by the caller) when party 0 makes its parameters for a directory that
/// has none: a party 1 that pinned party 0's parameters elsewhere will refuse the new ones.
pub const MAKING_FOR_DIRECTORY: &str = "this directory holds no ring-pedersen.secret, so party 0 \
     makes new commitment parameters for it; a party 1 that made keys with party 0 before has \
     pinned the old ones and will refuse these: to keep them, stop now and copy \
     ring-pedersen.secret from party 0's first share directory here";

/// The file of party 0's parameter secret, and the sealer it is written and opened with.
#[derive(Clone, Debug)]
pub struct ParamsSecretFile {
    path: PathBuf,
    sealer: Option<Sealer>,
}

impl ParamsSecretFile {
    /// The parameter secret in the directory `dir` (the service's share directory).
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join(FILE_NAME),
            sealer: None,
        }
    }

    /// The parameter secret beside the share file `share` (a one-shot run's `--share`).
    #[must_use]
    pub fn beside(share: &Path) -> Self {
        match share.parent() {
            Some(d) if !d.as_os_str().is_empty() => Self::in_dir(d),
            _ => Self::in_dir(Path::new(".")),
        }
    }

    /// This file, sealed with `sealer` when written and opened with it when sealed (the
    /// shares' sealer: one secret for all of party 0's files).
    #[must_use]
    pub fn sealed_with(mut self, sealer: Option<Sealer>) -> Self {
        self.sealer = sealer;
        self
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists.
    #[must_use]
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Loads and re-checks the parameter secret.
    ///
    /// # Errors
    /// [`StoreError::Missing`], [`StoreError::Unreadable`], [`StoreError::LoosePermissions`];
    /// for a sealed file [`StoreError::NoSecret`] without a sealer and the errors of
    /// [`Sealer::open_content`] (a wrong passphrase is [`StoreError::WrongSecret`]);
    /// [`StoreError::ParamsDamaged`] if it does not decode or its checks fail.
    pub fn load(&self) -> Result<RingPedersenSecret, StoreError> {
        self.decode(&store::read_bytes(&self.path)?)
    }

    fn decode(&self, bytes: &[u8]) -> Result<RingPedersenSecret, StoreError> {
        let damaged = |error| StoreError::ParamsDamaged {
            path: self.path.clone(),
            error,
        };
        if !sealed::is_sealed(bytes) {
            return RingPedersenSecret::decode(bytes).map_err(damaged);
        }
        let head = sealed::header(&self.path, bytes)?;
        let Some(sealer) = &self.sealer else {
            return Err(StoreError::NoSecret {
                path: self.path.clone(),
                sealed_with: head.kind,
            });
        };
        let plain =
            sealer.open_content(&self.path, bytes, Content::ParamsSecret, Party::P1, None)?;
        let secret = RingPedersenSecret::decode(&plain).map_err(damaged)?;
        // The header is authenticated: only a writer that sealed one secret under another's
        // header gets here; refuse rather than trust either.
        if secret.params().hash() != head.key_id {
            return Err(StoreError::SealBroken {
                path: self.path.clone(),
                part: crate::SealPart::Payload,
                why: "the header does not describe the parameters inside",
            });
        }
        Ok(secret)
    }

    /// The file's bytes for `secret`: sealed if a sealer is set.
    fn file_bytes(&self, secret: &RingPedersenSecret) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let mut plain = Zeroizing::new(vec![0u8; RingPedersenSecret::ENCODED_LEN]);
        let len = secret
            .encode(&mut plain)
            .map_err(|error| StoreError::Write {
                path: self.path.clone(),
                action: "cannot encode the parameter secret",
                source: std::io::Error::other(error),
            })?;
        plain.truncate(len);
        match &self.sealer {
            Some(sealer) => sealer.seal_labelled(
                &self.path,
                Label {
                    content: Content::ParamsSecret,
                    party: Party::P1,
                    key_id: secret.params().hash(),
                    epoch: 0,
                },
                &plain,
            ),
            None => Ok(plain),
        }
    }

    /// Writes `secret` if no parameter secret exists yet; returns whether it was written. An
    /// existing file is never replaced: every share made with it needs it to sign.
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn write_new(&self, secret: &RingPedersenSecret) -> Result<bool, StoreError> {
        store::write_new(&self.path, &self.file_bytes(secret)?)
    }

    /// Seals a plaintext parameter secret in place with this file's sealer, in one atomic
    /// write (interrupted, the file holds the plaintext or the sealed secret, never a mix);
    /// returns whether it did (`false`: there is none, or it is sealed already). `share
    /// encrypt` runs it for party 0's shares, so that the secret beside them is not left
    /// readable.
    ///
    /// # Errors
    /// [`StoreError::NoSecret`] without a sealer; as [`ParamsSecretFile::load`] for a file
    /// that does not load; [`StoreError::Write`].
    pub fn encrypt_in_place(&self) -> Result<bool, StoreError> {
        if self.sealer.is_none() {
            return Err(StoreError::NoSecret {
                path: self.path.clone(),
                sealed_with: sealed::SecretKind::Passphrase,
            });
        }
        let bytes = match store::read_bytes(&self.path) {
            Err(StoreError::Missing { .. }) => return Ok(false),
            read => read?,
        };
        if sealed::is_sealed(&bytes) {
            return Ok(false);
        }
        // Loaded and checked before anything is written.
        let secret = self.decode(&bytes)?;
        store::write_atomic(&self.path, &self.file_bytes(&secret)?)?;
        Ok(true)
    }

    /// Loads the parameter secret, or makes ([`new_params_secret`]) and writes one if there
    /// is none: `making` is called before the safe-prime search (seconds). If another process
    /// wrote one meanwhile, that one is loaded and used, so two first keygens at once agree.
    ///
    /// # Errors
    /// As [`ParamsSecretFile::load`] and [`ParamsSecretFile::write_new`];
    /// [`SystemError::NoEntropy`] if the operating system gives no randomness.
    pub fn load_or_make(&self, making: &mut dyn FnMut()) -> Result<RingPedersenSecret, NetError> {
        match self.load() {
            Err(StoreError::Missing { .. }) => {}
            loaded => return Ok(loaded?),
        }
        making();
        let secret = new_params_secret()?;
        if self.write_new(&secret)? {
            Ok(secret)
        } else {
            Ok(self.load()?)
        }
    }
}

/// Fresh parameters for party 0, the two 1024-bit safe primes searched in parallel (the
/// search is nearly all the work: about a second per prime on average, with high variance),
/// drawn again in the rare case that they are equal or their product is short.
///
/// # Errors
/// [`SystemError::NoEntropy`] if the operating system gives no randomness.
pub fn new_params_secret() -> Result<RingPedersenSecret, SystemError> {
    loop {
        let mut searches = [SafePrimeSearch::draw()?, SafePrimeSearch::draw()?];
        run_parallel(&mut searches);
        let [p, q] = &searches;
        if let Ok(secret) = RingPedersenSecret::from_safe_primes(&mut os_rng()?, &p.prime, &q.prime)
        {
            return Ok(secret);
        }
    }
}

/// One safe-prime search as a work item: the two of [`new_params_secret`] run on two cores
/// when the system starts a second thread, one after the other when it does not.
struct SafePrimeSearch {
    /// The search's own generator, seeded from the system; a rerun starts from a copy of it,
    /// so it finds the same prime.
    rng: ChaCha20Rng,
    /// The prime found (zero until the search ran); wiped when the search drops.
    prime: Zeroizing<U1024>,
}

impl SafePrimeSearch {
    fn draw() -> Result<Self, SystemError> {
        Ok(Self {
            rng: os_rng()?,
            prime: Zeroizing::new(U1024::ZERO),
        })
    }
}

impl Work for SafePrimeSearch {
    fn run(&mut self) {
        *self.prime = generate_safe_prime(&mut self.rng.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two safe-prime searches (run as work items, on two cores where there are two)
    /// make a secret whose parameters pass the core's checks, and a second call makes
    /// another one: each search draws its own randomness from the system.
    #[test]
    fn each_new_secret_comes_from_two_fresh_searches() {
        let first = new_params_secret().expect("the system gives randomness");
        let second = new_params_secret().expect("the system gives randomness");
        assert_ne!(first.params().hash(), second.params().hash());
    }
}
