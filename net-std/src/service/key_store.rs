//! Where the service keeps party 0's shares: the [`KeyStore`] trait, and [`ShareDir`], a
//! directory of share files, its one implementation.
//!
//! The service asks a store only for what a session needs: whether a key exists, exclusive
//! use of one key ([`KeyStore::take`]), and through that hold the share, the lock check, the
//! epoch agreement and the persistence the protocol drivers write through. So another store
//! can replace the directory without touching the service loop.
//!
//! # A database-backed store
//!
//! Several service instances behind a load balancer need one store they all see. A database
//! implementation would map the pieces as follows:
//! - a table `shares(key_id PRIMARY KEY, active BLOB, pending BLOB NULL, locked BOOL,
//!   deciding BOOL)`, each blob the share's sealed encoding ([`crate::sealed`]), so the
//!   database never holds plaintext;
//! - [`KeyStore::take`]: a lease row (`key_id`, instance, expiry) taken with a conditional
//!   insert, or `SELECT … FOR UPDATE NOWAIT` in a transaction held for the session; held by
//!   another instance → [`StoreError::InUse`] (the client sees "busy");
//! - [`KeyInUse::persist`]: `pending` writes the pending column, `promote` moves it to
//!   active, `deciding`/`decided`/`locked` set the flags, each committed before the driver
//!   sends its next message (the drivers rely on that ordering, see
//!   [`crate::driver::Persist`]);
//! - [`KeyInUse::check_lock`] reads the flags; [`KeyInUse::agree`] exchanges the two
//!   columns' epochs with party 1 as [`crate::epoch::agree`] does for files, promoting or
//!   clearing the pending column in the same transaction;
//! - [`KeyInUse::create`]: an insert that fails ([`StoreError::Occupied`]) if the key id exists.

use core::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ecdsa2pc_core::{KeyShareP1, PublicShares};

use crate::driver::Persist;
use crate::error::{NetError, StoreError};
use crate::key_id::{KeyId, key_id_hex, parse_key_id};
use crate::lock_registry::{Guarded, LockRegistry};
use crate::sealed::Sealer;
use crate::store::{Held, Receipts, ShareFiles, ShareLock};
use crate::{Transport, epoch};

/// Party 0's shares, one per key id, as the service uses them.
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// Whether the store holds a share of key `id`.
    fn contains(&self, id: &KeyId) -> bool;
    /// How many keys the store holds (for the health reply, which asks at most every few
    /// seconds and after a keygen).
    fn count(&self) -> usize;
    /// Takes key `id` for one session, exclusively against every other user of the store
    /// (another process, another service instance); released on drop.
    ///
    /// # Errors
    /// [`StoreError::InUse`] if someone else holds it; what the store reports otherwise.
    fn take(&self, id: &KeyId) -> Result<Box<dyn KeyInUse + '_>, StoreError>;
}

/// One key taken for a session ([`KeyStore::take`]).
pub trait KeyInUse {
    /// The key's share, and a refreshed one not yet confirmed if there is one.
    ///
    /// # Errors
    /// A missing, damaged or unopenable share.
    fn load(&self) -> Result<Held<KeyShareP1>, StoreError>;
    /// Refuses a key whose abort lock is recorded outside its share (the lock registry).
    ///
    /// # Errors
    /// [`StoreError::KeyLocked`] naming why.
    fn check_lock(&self, key: &PublicShares) -> Result<(), StoreError>;
    /// Settles with party 1 which share epoch to use (as [`epoch::agree`]).
    ///
    /// # Errors
    /// As [`epoch::agree`].
    fn agree(
        &mut self,
        t: &mut dyn Transport,
        held: Held<KeyShareP1>,
    ) -> Result<KeyShareP1, NetError>;
    /// Where sign and refresh persist (pending and promoted shares, the abort lock).
    fn persist(&mut self) -> &mut dyn Persist<KeyShareP1>;
    /// Stores the share of a new key under this id as pending (keygen); [`KeyInUse::persist`]
    /// promotes it once party 1 confirmed it stored its own, or discards it.
    ///
    /// # Errors
    /// [`StoreError::Occupied`] if a share of the id exists already; write errors.
    fn create(&mut self, share: &KeyShareP1) -> Result<(), StoreError>;
}

/// A directory of share files, `<key id>.share` each, sealed with `sealer` if given, with
/// the lock registry beside the shares and in `lock_dir`. Clones share the receipts of the
/// files loaded so far ([`Receipts`]): an unchanged share is checked in full once per
/// process, not once per request.
#[derive(Clone, Debug)]
pub struct ShareDir {
    dir: PathBuf,
    sealer: Option<Sealer>,
    lock_dir: Option<PathBuf>,
    receipts: Arc<Receipts>,
}

impl ShareDir {
    /// The share files in `dir`.
    #[must_use]
    pub fn new(dir: &Path, sealer: Option<Sealer>, lock_dir: Option<PathBuf>) -> Self {
        Self {
            dir: dir.to_path_buf(),
            sealer,
            lock_dir,
            receipts: Arc::default(),
        }
    }

    /// The share files of key `id`.
    #[must_use]
    pub fn files_of(&self, id: &KeyId) -> ShareFiles {
        ShareFiles::new(&self.dir.join(format!("{}.share", key_id_hex(id))))
            .sealed_with(self.sealer.clone())
    }

    /// The lock registry of the share files `files`.
    #[must_use]
    pub fn registry_of(&self, files: &ShareFiles) -> LockRegistry {
        LockRegistry::new(files.path(), self.lock_dir.clone())
    }
}

impl KeyStore for ShareDir {
    fn contains(&self, id: &KeyId) -> bool {
        self.files_of(id).exists()
    }

    /// The files at the name [`ShareDir::files_of`] gives a key id: a copy or a backup under
    /// another name is not a key the service serves. Their contents are not read.
    fn count(&self) -> usize {
        let is_key = |name: &str| {
            name.strip_suffix(".share")
                .and_then(parse_key_id)
                .is_some_and(|id| self.files_of(&id).path().file_name() == Some(name.as_ref()))
        };
        std::fs::read_dir(&self.dir).map_or(0, |entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_str().is_some_and(is_key))
                .count()
        })
    }

    fn take(&self, id: &KeyId) -> Result<Box<dyn KeyInUse + '_>, StoreError> {
        let files = self.files_of(id);
        let lock = files.lock()?;
        let registry = self.registry_of(&files);
        Ok(Box::new(FileKey {
            guarded: registry.clone().guard(files.clone()),
            files,
            registry,
            receipts: Arc::clone(&self.receipts),
            _lock: lock,
        }))
    }
}

/// A key of a [`ShareDir`], its share file locked.
struct FileKey {
    files: ShareFiles,
    registry: LockRegistry,
    guarded: Guarded,
    receipts: Arc<Receipts>,
    _lock: ShareLock,
}

impl KeyInUse for FileKey {
    fn load(&self) -> Result<Held<KeyShareP1>, StoreError> {
        self.files.load_remembering(&self.receipts)
    }

    fn check_lock(&self, key: &PublicShares) -> Result<(), StoreError> {
        self.registry.check(key)
    }

    fn agree(
        &mut self,
        t: &mut dyn Transport,
        held: Held<KeyShareP1>,
    ) -> Result<KeyShareP1, NetError> {
        epoch::agree(t, &self.files, held)
    }

    fn persist(&mut self) -> &mut dyn Persist<KeyShareP1> {
        &mut self.guarded
    }

    fn create(&mut self, share: &KeyShareP1) -> Result<(), StoreError> {
        if self.files.exists() {
            // Q is uniformly random and new: only repeated randomness or a planted file.
            return Err(StoreError::Occupied {
                path: self.files.path().to_path_buf(),
            });
        }
        self.files.write_pending(share)
    }
}
