//! Key shares on disk: atomic writes, a pending file for two-phase refresh, a process lock.
//!
//! For a share at `PATH` the files are `PATH` (the active share), `PATH.pending` (a refreshed
//! share waiting for both parties to confirm) and `PATH.lock` (held while a process uses the
//! share, so two runs cannot use one share at once). Every write goes to a temporary file,
//! is synced, renamed over the target and the directory synced; files are mode 0600.
//!
//! The temporary file (`PATH.tmp-<32 random hex digits>`) is created with `O_CREAT|O_EXCL`
//! (`create_new`) and `O_NOFOLLOW`: a file or symlink planted at that name by someone else
//! makes the open fail (POSIX: O_EXCL fails on any existing name, symlinks included, dangling
//! or not), and the next random name is tried; nothing is ever written through it. Its mode
//! is set to 0600 on the open descriptor (fchmod) whatever the umask, and it is removed on
//! every error path. Loading refuses a share that group or others may read or write, as ssh
//! refuses a loose private key, and says the `chmod` that fixes it.
//!
//! Given a [`Sealer`] ([`ShareFiles::sealed_with`]), every share written is sealed
//! ([`crate::sealed`]: XChaCha20-Poly1305 under a passphrase or key file) and sealed files
//! are opened with it; a plaintext share still loads (the caller warns, see
//! [`ShareFiles::active_is_sealed`]) and [`ShareFiles::encrypt_in_place`] seals it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::{Error as CoreError, KeyShare, Party, role_of};
use zeroize::Zeroizing;

use crate::error::{SealPart, StoreError};
use crate::input_file;
use crate::sealed::{self, KeyId, Sealer, key_id};

mod receipts;

pub use receipts::Receipts;

/// The files of one share.
#[derive(Clone, Debug)]
pub struct ShareFiles {
    active: PathBuf,
    pending: PathBuf,
    lock: PathBuf,
    sealer: Option<Sealer>,
}

/// What a party holds: the active share and, after an interrupted refresh, a pending one.
#[derive(Debug)]
pub struct Held<S> {
    /// The share in use.
    pub active: S,
    /// A refreshed share not yet confirmed by both parties.
    pub pending: Option<S>,
}

/// An exclusive hold on a share's files; released on drop.
///
/// A lock file with no share beside it (a keygen that failed or was refused, a run on a key
/// that does not exist) is removed when the hold ends, while it is still held, so that failed
/// keygens leave no empty `PATH.lock` behind. [`ShareFiles::lock`] makes that safe: it counts
/// a lock as taken only if the file it locked is still the one at the path.
#[derive(Debug)]
pub struct ShareLock {
    /// Open while held: its advisory lock is the hold.
    _file: File,
    lock: PathBuf,
    active: PathBuf,
    pending: PathBuf,
}

impl Drop for ShareLock {
    fn drop(&mut self) {
        let absent = |path: &Path| matches!(fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
        // Only where `is_the_file_at` can tell a removed lock file from the one at the path.
        if cfg!(unix) && absent(&self.active) && absent(&self.pending) {
            // Best effort: a lock file left behind is only clutter.
            let _ = fs::remove_file(&self.lock);
        }
    }
}

/// Whether `file` is the file now at `path` (not one removed or replaced since it was opened).
/// A symlink at `path` is followed, as the open that gave `file` followed it.
fn is_the_file_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

impl ShareFiles {
    /// The files of the share at `path`.
    #[must_use]
    pub fn new(path: &Path) -> Self {
        let with = |suffix: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        Self {
            active: path.to_path_buf(),
            pending: with(".pending"),
            lock: with(".lock"),
            sealer: None,
        }
    }

    /// These files, sealing every share written and opening sealed ones with `sealer`.
    #[must_use]
    pub fn sealed_with(mut self, sealer: Option<Sealer>) -> Self {
        self.sealer = sealer;
        self
    }

    /// The sealer shares are written with, if any.
    #[must_use]
    pub fn sealer(&self) -> Option<&Sealer> {
        self.sealer.as_ref()
    }

    /// Whether the active share on disk is sealed (a plaintext one deserves a warning).
    ///
    /// # Errors
    /// [`StoreError::Missing`] or [`StoreError::Unreadable`].
    pub fn active_is_sealed(&self) -> Result<bool, StoreError> {
        Ok(sealed::is_sealed(&self.read_active()?))
    }

    /// The active share's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.active
    }

    /// The pending share's path.
    #[must_use]
    pub fn pending_path(&self) -> &Path {
        &self.pending
    }

    /// Takes the exclusive lock, or fails at once if another process holds it.
    ///
    /// # Errors
    /// [`StoreError::InUse`] if the lock is held elsewhere, [`StoreError::LockFile`] if it
    /// cannot be created.
    pub fn lock(&self) -> Result<ShareLock, StoreError> {
        let in_use = || StoreError::InUse {
            path: self.active.clone(),
        };
        // A holder that found no share removes the lock file as it lets go (`ShareLock`'s
        // drop): a file opened just before that is locked by nobody else, so a lock on it
        // holds nothing. Open the file now at the path and try again.
        for _ in 0..3 {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&self.lock)
                .map_err(|source| StoreError::LockFile {
                    path: self.lock.clone(),
                    source,
                })?;
            file.try_lock().map_err(|_| in_use())?;
            // Tests remove the file here, as a holder letting go would.
            injected(&self.lock, Step::Locked).map_err(|source| StoreError::LockFile {
                path: self.lock.clone(),
                source,
            })?;
            if is_the_file_at(&file, &self.lock) {
                return Ok(ShareLock {
                    _file: file,
                    lock: self.lock.clone(),
                    active: self.active.clone(),
                    pending: self.pending.clone(),
                });
            }
        }
        Err(in_use())
    }

    /// Whether an active share exists.
    #[must_use]
    pub fn exists(&self) -> bool {
        self.active.exists()
    }

    /// Takes the lock of a share that must already exist: a missing share is reported as
    /// [`StoreError::Missing`] without creating a lock file next to nothing.
    ///
    /// # Errors
    /// [`StoreError::Missing`], or as [`ShareFiles::lock`].
    pub fn lock_existing(&self) -> Result<ShareLock, StoreError> {
        if !self.exists() {
            return Err(self.no_active());
        }
        self.lock()
    }

    /// The error for a missing active share: [`StoreError::Unconfirmed`] if a pending share
    /// lies beside it (a keygen that was never confirmed by both parties), else
    /// [`StoreError::Missing`].
    fn no_active(&self) -> StoreError {
        // symlink_metadata: whatever sits at the pending name is worth mentioning.
        if fs::symlink_metadata(&self.pending).is_ok() {
            StoreError::Unconfirmed {
                path: self.active.clone(),
                pending: self.pending.clone(),
            }
        } else {
            StoreError::Missing {
                path: self.active.clone(),
            }
        }
    }

    /// Loads the active share and the pending one, if any; each file is read once.
    ///
    /// # Errors
    /// A [`StoreError`] naming the file and what is wrong with it.
    pub fn load<S: KeyShare>(&self) -> Result<Held<S>, StoreError> {
        self.held(self.load_active()?)
    }

    /// As [`ShareFiles::load`], for a process that loads the same share many times (the
    /// service, once per request): an active file whose bytes passed every check before, as
    /// `receipts` remembers, skips the costly one (P1's decryption of c_key; see
    /// [`ecdsa2pc_core::Receipt`]); changed bytes are checked in full.
    ///
    /// # Errors
    /// As [`ShareFiles::load`].
    pub fn load_remembering<S: KeyShare>(
        &self,
        receipts: &Receipts,
    ) -> Result<Held<S>, StoreError> {
        let active = self.decode_with(&self.active, &self.read_active()?, None, Some(receipts))?;
        self.held(active)
    }

    /// `active`, and the pending share beside it if there is one (of the same key).
    fn held<S: KeyShare>(&self, active: S) -> Result<Held<S>, StoreError> {
        let pending = if self.pending.exists() {
            Some(self.read(&self.pending, Some(&key_id(&active.public().q)))?)
        } else {
            None
        };
        Ok(Held { active, pending })
    }

    /// Loads the active share only; a pending file, damaged or not, is not read.
    ///
    /// # Errors
    /// A [`StoreError`] naming the file and what is wrong with it.
    pub fn load_active<S: KeyShare>(&self) -> Result<S, StoreError> {
        self.decode_with(&self.active, &self.read_active()?, None, None)
    }

    /// Loads the pending share only (it must exist).
    ///
    /// # Errors
    /// A [`StoreError`] naming the pending file and what is wrong with it.
    pub fn load_pending<S: KeyShare>(&self) -> Result<S, StoreError> {
        self.read(&self.pending, None)
    }

    /// The active share's bytes, for a caller that learns the party from the file itself
    /// ([`ShareFiles::party_of`]) and then calls [`ShareFiles::decode`]. The buffer is
    /// wiped when dropped.
    ///
    /// # Errors
    /// [`StoreError::Missing`] ([`StoreError::Unconfirmed`] if only a pending share exists)
    /// or [`StoreError::Unreadable`].
    pub fn read_active(&self) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        read_share_bytes(&self.active).map_err(|e| match e {
            StoreError::Missing { .. } => self.no_active(),
            other => other,
        })
    }

    /// Decodes the bytes of the file at `path` as a share of `S::PARTY`, opening them with
    /// the sealer if they are sealed: a share of the other party is
    /// [`StoreError::OtherParty`], a sealed file without a sealer [`StoreError::NoSecret`],
    /// one that does not open as in [`Sealer::open`], anything else that does not decode
    /// [`StoreError::Damaged`].
    ///
    /// # Errors
    /// As above.
    pub fn decode<S: KeyShare>(&self, path: &Path, bytes: &[u8]) -> Result<S, StoreError> {
        self.decode_with(path, bytes, None, None)
    }

    /// [`ShareFiles::decode`], also refusing a share of another key than `expected_key`
    /// ([`StoreError::OtherKey`]), with the receipts of [`ShareFiles::load_remembering`].
    fn decode_with<S: KeyShare>(
        &self,
        path: &Path,
        bytes: &[u8],
        expected_key: Option<&KeyId>,
        receipts: Option<&Receipts>,
    ) -> Result<S, StoreError> {
        let other_key = |found: KeyId| match expected_key {
            Some(want) if *want != found => Err(StoreError::OtherKey {
                path: path.to_path_buf(),
                expected: *want,
                found,
            }),
            _ => Ok(()),
        };
        if !sealed::is_sealed(bytes) {
            let share: S = decode_plain(path, bytes, receipts)?;
            other_key(key_id(&share.public().q))?;
            return Ok(share);
        }
        let head = sealed::header(path, bytes)?;
        let Some(sealer) = &self.sealer else {
            return Err(StoreError::NoSecret {
                path: path.to_path_buf(),
                sealed_with: head.kind,
            });
        };
        let plain = sealer.open(path, bytes, S::PARTY, expected_key)?;
        let share: S = decode_plain(path, &plain, receipts)?;
        // The header is authenticated, so only a writer that sealed a share under another
        // share's header gets here; refuse rather than trust either.
        if key_id(&share.public().q) != head.key_id || share.epoch() != head.epoch {
            return Err(StoreError::SealBroken {
                path: path.to_path_buf(),
                part: SealPart::Payload,
                why: "the header does not describe the share inside",
            });
        }
        Ok(share)
    }

    /// The party whose share the bytes of the file at `path` claim to be (from the
    /// header alone, sealed or not: [`ShareFiles::decode`] checks the rest).
    ///
    /// # Errors
    /// [`StoreError::Unrecognised`] if the header names no known version or party,
    /// [`StoreError::OldFormat`] for a share made before the commitment parameters,
    /// [`StoreError::SealBroken`] if a sealed header is damaged,
    /// [`StoreError::ParamsNotShare`] for party 0's parameter secret (sealed or not).
    pub fn party_of(path: &Path, bytes: &[u8]) -> Result<Party, StoreError> {
        let params = || StoreError::ParamsNotShare {
            path: path.to_path_buf(),
        };
        if sealed::is_sealed(bytes) {
            let head = sealed::header(path, bytes)?;
            if head.content == sealed::Content::ParamsSecret {
                return Err(params());
            }
            return Ok(head.party);
        }
        if bytes.starts_with(&ecdsa2pc_core::RingPedersenSecret::FILE_MAGIC) {
            return Err(params());
        }
        role_of(bytes).map_err(|error| unreadable_header(path, error))
    }

    fn read<S: KeyShare>(
        &self,
        path: &Path,
        expected_key: Option<&KeyId>,
    ) -> Result<S, StoreError> {
        self.decode_with(path, &read_share_bytes(path)?, expected_key, None)
    }

    /// The file bytes of `share` for `path`: sealed if a sealer is set.
    fn file_bytes<S: KeyShare>(
        &self,
        path: &Path,
        share: &S,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let plain = encode(path, share)?;
        match &self.sealer {
            Some(sealer) => sealer.seal(path, share, &plain),
            None => Ok(plain),
        }
    }

    /// Seals a plaintext share (and a plaintext pending share) in place, each with one
    /// atomic write: if it fails or is cut off at any point, the file holds the old
    /// plaintext share or the sealed one, never a mix. The caller holds the lock. Returns
    /// how many files were sealed (0 if all were already sealed).
    ///
    /// # Errors
    /// [`StoreError::NoSecret`] without a sealer; a [`StoreError`] if a share does not load
    /// or cannot be written.
    pub fn encrypt_in_place<S: KeyShare>(&self) -> Result<usize, StoreError> {
        self.encrypt_in_place_via::<S>(&mut |_| Ok(()))
    }

    fn encrypt_in_place_via<S: KeyShare>(
        &self,
        fault: &mut dyn FnMut(Step) -> std::io::Result<()>,
    ) -> Result<usize, StoreError> {
        let Some(sealer) = &self.sealer else {
            return Err(StoreError::NoSecret {
                path: self.active.clone(),
                sealed_with: sealed::SecretKind::Passphrase,
            });
        };
        // Both are loaded (and checked) before anything is written.
        let held = self.load::<S>()?;
        let mut sealed_count = 0;
        for (path, share) in core::iter::once((&self.active, &held.active))
            .chain(held.pending.as_ref().map(|p| (&self.pending, p)))
        {
            if sealed::is_sealed(&read_bytes(path)?) {
                continue;
            }
            let bytes = sealer.seal(path, share, &encode(path, share)?)?;
            self.write_atomic_via(path, &bytes, random_suffix, fault)?;
            sealed_count += 1;
        }
        Ok(sealed_count)
    }

    /// Writes the active share atomically (keygen, or a lock flag after a failed signature).
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn write_active<S: KeyShare>(&self, share: &S) -> Result<(), StoreError> {
        self.write_atomic(&self.active, &self.file_bytes(&self.active, share)?)
    }

    /// Writes a refreshed share as pending, beside the active one.
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn write_pending<S: KeyShare>(&self, share: &S) -> Result<(), StoreError> {
        self.write_atomic(&self.pending, &self.file_bytes(&self.pending, share)?)
    }

    /// Makes the pending share the active one; the old epoch is gone for good.
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn promote(&self) -> Result<(), StoreError> {
        injected(&self.pending, Step::Rename)
            .and_then(|()| fs::rename(&self.pending, &self.active))
            .map_err(|source| StoreError::Write {
                path: self.pending.clone(),
                action: "cannot be made active",
                source,
            })?;
        injected(&self.active, Step::SyncDir).map_err(|source| StoreError::Write {
            path: self.active.clone(),
            action: "cannot sync the directory",
            source,
        })?;
        self.sync_dir()
    }

    /// Deletes a pending share the peer never confirmed.
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn discard_pending(&self) -> Result<(), StoreError> {
        match fs::remove_file(&self.pending) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Write {
                path: self.pending.clone(),
                action: "cannot be removed",
                source,
            }),
        }
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_atomic_via(path, bytes, random_suffix, &mut |step| injected(path, step))
    }

    /// [`ShareFiles::write_atomic`] with the temporary names from `suffix` (tests plant files
    /// at the names it gives) and `fault` called before each step (tests make it fail there;
    /// before [`Step::Write`] half the bytes are already written, as on a full disk).
    fn write_atomic_via(
        &self,
        path: &Path,
        bytes: &[u8],
        suffix: impl FnMut() -> std::io::Result<String>,
        fault: &mut dyn FnMut(Step) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        write_atomic_with(path, bytes, suffix, fault)
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        sync_parent(&self.active)
    }
}

/// The steps of an atomic write, for fault injection in tests, the moment a share's lock file
/// is locked and not yet checked ([`ShareFiles::lock`]), and the making of a missing
/// directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Create,
    Write,
    Sync,
    Rename,
    SyncDir,
    Locked,
    /// Just before a missing directory is made ([`create_private_dir`]).
    MakeDir,
}

/// Why a share's header is unusable: the core's [`CoreError::OldShareFormat`] (a share made
/// before the commitment parameters) becomes [`StoreError::OldFormat`], which says to run
/// keygen again; anything else is a file of no known version.
fn unreadable_header(path: &Path, error: CoreError) -> StoreError {
    match error {
        CoreError::OldShareFormat => StoreError::OldFormat {
            path: path.to_path_buf(),
        },
        error => StoreError::Unrecognised {
            path: path.to_path_buf(),
            error,
        },
    }
}

/// Decodes a plaintext share encoding (see [`ShareFiles::decode`]).
fn decode_plain<S: KeyShare>(
    path: &Path,
    bytes: &[u8],
    receipts: Option<&Receipts>,
) -> Result<S, StoreError> {
    match role_of(bytes) {
        Ok(found) if found != S::PARTY => {
            return Err(StoreError::OtherParty {
                path: path.to_path_buf(),
                expected: S::PARTY,
                found,
            });
        }
        Err(error @ CoreError::OldShareFormat) => return Err(unreadable_header(path, error)),
        // A header that names no party falls through to the decoder, which says why.
        _ => {}
    }
    let damaged = |error| StoreError::Damaged {
        path: path.to_path_buf(),
        expected: S::PARTY,
        error,
    };
    let Some(receipts) = receipts else {
        return S::decode(bytes).map_err(damaged);
    };
    let (share, receipt) =
        S::decode_remembered(bytes, receipts.get(path).as_ref()).map_err(damaged)?;
    receipts.put(path, receipt);
    Ok(share)
}

/// Writes `bytes` to `path` atomically and durably: a private temporary file beside it,
/// synced, renamed over `path`, and the directory synced. Share files and lock-registry
/// entries both go through here.
///
/// # Errors
/// [`StoreError::Write`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_with(path, bytes, random_suffix, &mut |step| injected(path, step))
}

/// A fault for the writes of one test thread: called with the file and each step of its
/// write (and of a promotion) before the step; an error fails the write there.
#[cfg(test)]
type Injector = Box<dyn FnMut(&Path, Step) -> std::io::Result<()>>;

#[cfg(test)]
thread_local! {
    /// The fault every write on this thread goes through (tests set it, see `fault_tests`).
    static INJECT: core::cell::RefCell<Option<Injector>> = const { core::cell::RefCell::new(None) };
}

/// The injected fault for `step` of the write of `path`: none outside tests.
fn injected(path: &Path, step: Step) -> std::io::Result<()> {
    #[cfg(test)]
    return INJECT.with(|i| i.borrow_mut().as_mut().map_or(Ok(()), |f| f(path, step)));
    #[cfg(not(test))]
    {
        let _ = (path, step);
        Ok(())
    }
}

/// [`write_atomic`] with the temporary names from `suffix` (tests plant files at the names it
/// gives) and `fault` called before each step (tests make it fail there; before
/// [`Step::Write`] half the bytes are already written, as on a full disk).
fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    suffix: impl FnMut() -> std::io::Result<String>,
    fault: &mut dyn FnMut(Step) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let fail = |action: &'static str, source: std::io::Error| StoreError::Write {
        path: path.to_path_buf(),
        action,
        source,
    };
    fault(Step::Create).map_err(|e| fail("cannot create a temporary file", e))?;
    let (tmp, mut file) =
        TempFile::create(path, suffix).map_err(|e| fail("cannot create a temporary file", e))?;
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    file.write_all(first)
        .and_then(|()| fault(Step::Write))
        .and_then(|()| file.write_all(rest))
        .map_err(|e| fail("cannot write", e))?;
    fault(Step::Sync)
        .and_then(|()| file.sync_all())
        .map_err(|e| fail("cannot sync", e))?;
    drop(file);
    fault(Step::Rename)
        .and_then(|()| fs::rename(&tmp.path, path))
        .map_err(|e| fail("cannot replace", e))?;
    tmp.renamed();
    fault(Step::SyncDir).map_err(|source| StoreError::Write {
        path: path.to_path_buf(),
        action: "cannot sync the directory",
        source,
    })?;
    sync_parent(path)
}

/// Creates the file at `path` with `bytes` and makes its *name* durable (the directory is
/// synced; the contents are not), for files that count by their existence alone: the lock
/// registry's entries, which refuse a key whatever they hold (a crash may leave one empty;
/// it refuses the key all the same). Two synchronous writes fewer than [`write_atomic`] (no
/// sync of the contents, no rename), on the path of every signature. A file or symlink
/// already at `path` is left as it is and reported as [`Entry::Existed`] (its name is
/// synced all the same): it refuses the key as well, and a caller that must own its entry
/// (party 0's `.deciding` record) can tell.
///
/// # Errors
/// [`EntryFailed`]: the [`StoreError::Write`] naming the step, and whether this call had
/// created the file before a later step failed. Such a file is left in place (it refuses
/// the key, the safe side); the caller removes it if nothing may remain.
pub(crate) fn create_entry(path: &Path, bytes: &[u8]) -> Result<Entry, EntryFailed> {
    let fail = |created: bool, action: &'static str, source: std::io::Error| EntryFailed {
        error: StoreError::Write {
            path: path.to_path_buf(),
            action,
            source,
        },
        created,
    };
    let mut options = OpenOptions::new();
    // create_new: O_CREAT|O_EXCL, which never follows a symlink at the name.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let created = injected(path, Step::Create).and_then(|()| options.open(path));
    let entry = match created {
        Ok(mut file) => {
            let (first, rest) = bytes.split_at(bytes.len() / 2);
            file.write_all(first)
                .and_then(|()| injected(path, Step::Write))
                .and_then(|()| file.write_all(rest))
                .map_err(|e| fail(true, "cannot write", e))?;
            Entry::Created
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Entry::Existed,
        Err(e) => return Err(fail(false, "cannot create", e)),
    };
    let created = entry == Entry::Created;
    injected(path, Step::SyncDir).map_err(|e| fail(created, "cannot sync the directory", e))?;
    sync_parent(path).map_err(|error| EntryFailed { error, created })?;
    Ok(entry)
}

/// What [`create_entry`] found at its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// This call created the file.
    Created,
    /// A file or symlink was already there; it was left as it is.
    Existed,
}

/// A failed [`create_entry`].
#[derive(Debug)]
pub(crate) struct EntryFailed {
    /// The step that failed, naming the file.
    pub error: StoreError,
    /// Whether this call had created the file before the step failed.
    pub created: bool,
}

/// Writes `bytes` to `path` durably as [`write_atomic`] does, but only if `path` does not
/// exist yet: the synced temporary file is linked to `path` (which fails on any existing
/// name), never renamed over it. Returns `false`, writing nothing, if `path` exists: two
/// processes that make the same file at once both end up using the one that won.
///
/// # Errors
/// [`StoreError::Write`].
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    let fail = |action: &'static str, source: std::io::Error| StoreError::Write {
        path: path.to_path_buf(),
        action,
        source,
    };
    let (tmp, mut file) = TempFile::create(path, random_suffix)
        .map_err(|e| fail("cannot create a temporary file", e))?;
    file.write_all(bytes).map_err(|e| fail("cannot write", e))?;
    file.sync_all().map_err(|e| fail("cannot sync", e))?;
    drop(file);
    // The temporary name is removed when `tmp` drops, linked or not.
    match fs::hard_link(&tmp.path, path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(fail("cannot create", e)),
    }
    drop(tmp);
    sync_parent(path)?;
    Ok(true)
}

/// Creates the private directory `dir` and any missing ancestors (mode 0700), and syncs
/// each new one into its parent, outermost first: a file is only as durable as the names
/// of the directories above it.
///
/// # Errors
/// [`StoreError::Write`] with `action` if `dir` cannot be made; naming the new directory
/// whose name cannot be synced. Either way the directories this call made are removed
/// again (those still empty); one that another process made in the meantime is its own and
/// stays.
pub(crate) fn create_private_dir(dir: &Path, action: &'static str) -> Result<(), StoreError> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
        .collect();
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let fail = |source| StoreError::Write {
        path: dir.to_path_buf(),
        action,
        source,
    };
    // Made by this call, outermost first. A directory whose name may not be durable is not
    // left for a later call to take as made: after a failure, remove these (empty ones only,
    // innermost first), so that the next call makes and syncs them again.
    let mut made: Vec<&Path> = Vec::with_capacity(missing.len());
    let result = missing.iter().rev().try_for_each(|&new| {
        match injected(new, Step::MakeDir).and_then(|()| builder.create(new)) {
            Ok(()) => {
                made.push(new);
                sync_new_dir(new)
            }
            // Made by another process since the check (its maker syncs it): not this call's
            // to sync or to remove.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && new.is_dir() => Ok(()),
            Err(source) => Err(fail(source)),
        }
    });
    let result = result.and_then(|()| {
        // With nothing missing, `dir` was there: it must be a directory.
        if dir.is_dir() {
            Ok(())
        } else {
            Err(fail(std::io::Error::from(
                std::io::ErrorKind::NotADirectory,
            )))
        }
    });
    if result.is_err() {
        for new in made.iter().rev() {
            let _ = fs::remove_dir(new);
        }
    }
    result
}

/// Syncs the directory above `dir`, which was just made, so that `dir`'s name survives a
/// crash (and with it whatever is made inside).
///
/// # Errors
/// [`StoreError::Write`] naming `dir`.
fn sync_new_dir(dir: &Path) -> Result<(), StoreError> {
    injected(dir, Step::SyncDir)
        .and_then(|()| File::open(parent_dir(dir))?.sync_all())
        .map_err(|source| StoreError::Write {
            path: dir.to_path_buf(),
            action: "could not be made durable (the directory above it cannot be synced) and \
                     was removed again if empty",
            source,
        })
}

/// The directory holding `path` (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Syncs the directory holding `path`, so that a rename or removal in it is durable.
///
/// # Errors
/// [`StoreError::Write`] naming the directory.
pub(crate) fn sync_parent(path: &Path) -> Result<(), StoreError> {
    let dir = parent_dir(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Write {
            path: dir.to_path_buf(),
            action: "cannot sync the directory",
            source,
        })
}

/// Encodes `share` (for the file at `path`) into a buffer that is wiped when dropped.
fn encode<S: KeyShare>(path: &Path, share: &S) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let mut out = Zeroizing::new(vec![0u8; S::ENCODED_LEN]);
    // ENCODED_LEN always fits, so this fails only on a bug; it is reported, never
    // written as a short file.
    let len = share.encode(&mut out).map_err(|error| StoreError::Write {
        path: path.to_path_buf(),
        action: "cannot encode the share",
        source: std::io::Error::other(error),
    })?;
    out.truncate(len);
    Ok(out)
}

/// Reads a share file (or another private file of the store: a parameter secret, a pin)
/// into a buffer that is wiped when dropped; a file that group or others may read or write
/// is refused ([`StoreError::LoosePermissions`]).
pub(crate) fn read_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    read_bytes_checking(path, |_| Ok(()))
}

/// [`read_bytes`] for a share file: a file that group or others may read is reported as what
/// it is when it is no key share at all (someone passed another file), and only then as a
/// share with loose permissions.
fn read_share_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    read_bytes_checking(path, |bytes| ShareFiles::party_of(path, bytes).map(drop))
}

/// [`read_bytes`], with `loose` told the bytes of a file with loose permissions first: its
/// error, if any, is the one reported.
fn read_bytes_checking(
    path: &Path,
    loose: impl FnOnce(&[u8]) -> Result<(), StoreError>,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let cannot_read = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            StoreError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            StoreError::Unreadable {
                path: path.to_path_buf(),
                source,
            }
        }
    };
    let (bytes, meta) = input_file::read_with_metadata(path, input_file::MAX_SECRET_FILE_LEN)
        .map_err(cannot_read)?;
    // The mode of the file read (fstat), not of whatever the path names a moment later.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            loose(&bytes)?;
            return Err(StoreError::LoosePermissions {
                path: path.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (loose, meta);
    Ok(bytes)
}

/// 16 bytes from the OS RNG as hex: a temporary name nobody can plant a file at in advance.
fn random_suffix() -> std::io::Result<String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(format!("OS RNG: {e}")))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// A temporary file beside its target, removed on drop unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    renamed: bool,
}

impl TempFile {
    /// Names tried before giving up: a clash with a random name means someone plants files.
    const ATTEMPTS: usize = 8;

    /// Creates `TARGET.tmp-<suffix>` exclusively (never an existing file or symlink), not
    /// following a symlink, mode 0600 whatever the umask.
    fn create(
        target: &Path,
        mut suffix: impl FnMut() -> std::io::Result<String>,
    ) -> std::io::Result<(Self, File)> {
        for _ in 0..Self::ATTEMPTS {
            let mut name = target.as_os_str().to_owned();
            name.push(format!(".tmp-{}", suffix()?));
            let path = PathBuf::from(name);
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
            }
            match options.open(&path) {
                Ok(file) => {
                    let tmp = Self {
                        path,
                        renamed: false,
                    };
                    // The umask may have taken bits from 0o600 (never added): set it exactly.
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        file.set_permissions(fs::Permissions::from_mode(0o600))?;
                    }
                    return Ok((tmp, file));
                }
                // Someone else's file or symlink: leave it alone, take another name.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} random temporary names beside it were all taken; another user may be \
                 planting files in its directory: check who can write there",
                Self::ATTEMPTS
            ),
        ))
    }

    /// The file is now the target: nothing to remove.
    fn renamed(mut self) {
        self.renamed = true;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.renamed {
            // Best effort: the error that got us here is the one worth reporting.
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod fault_tests;
#[cfg(test)]
pub(crate) mod sealed_tests;

#[cfg(test)]
pub(crate) mod tests {
    use core::cell::Cell;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::rc::Rc;

    use super::*;

    const SECRET: &[u8] = b"secret share bytes";

    /// A fresh empty directory under the system temporary directory.
    pub(crate) fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ecdsa2pc-store-{tag}-{}-{}",
            std::process::id(),
            random_suffix().unwrap()
        ));
        fs::create_dir(&dir).unwrap();
        dir
    }

    pub(super) fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn plant_private_victim(dir: &Path) -> PathBuf {
        let victim = dir.join("victim");
        fs::write(&victim, b"someone else's file").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        victim
    }

    #[test]
    fn a_lock_file_with_no_share_beside_it_is_removed_when_the_hold_ends() {
        let dir = scratch("lock-file");
        let files = ShareFiles::new(&dir.join("k.share"));
        drop(files.lock().unwrap());
        assert_eq!(names(&dir), Vec::<String>::new(), "no share: no lock file");

        // A pending share (an unconfirmed keygen) or an active one keeps it.
        for kept in [files.pending_path(), files.path()] {
            let held = files.lock().unwrap();
            fs::write(kept, SECRET).unwrap();
            drop(held);
            assert!(dir.join("k.share.lock").exists(), "{}", kept.display());
            fs::remove_file(kept).unwrap();
        }
        drop(files.lock().unwrap());
        assert_eq!(names(&dir), Vec::<String>::new());
    }

    #[test]
    fn a_lock_on_a_lock_file_removed_or_replaced_since_it_was_opened_holds_nothing() {
        let dir = scratch("lock-inode");
        let path = dir.join("k.share.lock");
        let opened = File::create(&path).unwrap();
        assert!(is_the_file_at(&opened, &path));
        // The holder before us removed it (no share) after we opened it ...
        fs::remove_file(&path).unwrap();
        assert!(!is_the_file_at(&opened, &path));
        // ... and the next process created a new one, which it locks.
        fs::write(&path, b"").unwrap();
        assert!(!is_the_file_at(&opened, &path));
        // `lock` locks the file now at the path, so it is refused while that one is held.
        let files = ShareFiles::new(&dir.join("k.share"));
        let held = files.lock().unwrap();
        assert!(matches!(files.lock(), Err(StoreError::InUse { .. })));
        drop(held);

        // A lock file that is a symlink (as the open, the check follows it) still locks.
        let target = dir.join("elsewhere.lock");
        fs::write(&target, b"").unwrap();
        let linked = ShareFiles::new(&dir.join("l.share"));
        symlink(&target, dir.join("l.share.lock")).unwrap();
        let held = linked.lock().unwrap();
        assert!(matches!(linked.lock(), Err(StoreError::InUse { .. })));
        drop(held);
    }

    /// `lock` locked a file that its holder removed in between (as `ShareLock`'s drop does
    /// with no share beside it): it tries again on the file now at the path, three times.
    #[test]
    fn a_lock_file_removed_between_open_and_lock_is_opened_again() {
        let dir = scratch("lock-retry");
        let files = ShareFiles::new(&dir.join("k.share"));
        for (removals, taken) in [(1, true), (2, true), (3, false), (u32::MAX, false)] {
            let mut left = removals;
            let mut seen = 0u32;
            let count = Rc::new(Cell::new(0u32));
            let counted = Rc::clone(&count);
            INJECT.with(|i| {
                *i.borrow_mut() = Some(Box::new(move |path: &Path, step: Step| {
                    if step == Step::Locked {
                        seen += 1;
                        counted.set(seen);
                        if left > 0 {
                            left -= 1;
                            fs::remove_file(path)?;
                        }
                    }
                    Ok(())
                }));
            });
            let result = files.lock();
            INJECT.with(|i| *i.borrow_mut() = None);
            assert_eq!(count.get(), removals.saturating_add(1).min(3), "{removals}");
            match result {
                Ok(held) if taken => {
                    // The lock holds the file now at the path: a second one is refused.
                    assert!(matches!(files.lock(), Err(StoreError::InUse { .. })));
                    drop(held);
                }
                Err(StoreError::InUse { path }) if !taken => assert_eq!(path, files.path()),
                other => panic!("{removals}: {other:?}"),
            }
        }
    }

    #[test]
    fn planted_file_and_symlinks_at_temporary_names_are_neither_followed_nor_leaked() {
        let dir = scratch("planted");
        let target = dir.join("p.share");
        let victim = plant_private_victim(&dir);
        symlink(&victim, dir.join("p.share.tmp-1")).unwrap();
        fs::write(dir.join("p.share.tmp-2"), b"planted").unwrap();
        fs::set_permissions(dir.join("p.share.tmp-2"), fs::Permissions::from_mode(0o644)).unwrap();
        symlink(dir.join("would-be-created"), dir.join("p.share.tmp-3")).unwrap();
        let mut next = 0;
        let suffix = || {
            next += 1;
            Ok(next.to_string())
        };

        let files = ShareFiles::new(&target);
        files
            .write_atomic_via(&target, SECRET, suffix, &mut |_| Ok(()))
            .unwrap();

        // The share went to the fourth name and then into place, mode 0600.
        assert_eq!(fs::read(&target).unwrap(), SECRET);
        let mode = fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Nothing planted was written through, re-moded or removed; nothing was created.
        assert_eq!(fs::read(&victim).unwrap(), b"someone else's file");
        assert_eq!(
            fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(fs::read(dir.join("p.share.tmp-2")).unwrap(), b"planted");
        let planted_mode = fs::metadata(dir.join("p.share.tmp-2"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(planted_mode & 0o777, 0o644);
        assert_eq!(fs::read_link(dir.join("p.share.tmp-1")).unwrap(), victim);
        assert!(!dir.join("would-be-created").exists());
        assert_eq!(
            names(&dir),
            [
                "p.share",
                "p.share.tmp-1",
                "p.share.tmp-2",
                "p.share.tmp-3",
                "victim"
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_temporary_name_taken_fails_without_writing_anywhere() {
        let dir = scratch("taken");
        let target = dir.join("p.share");
        let victim = plant_private_victim(&dir);
        symlink(&victim, dir.join("p.share.tmp-x")).unwrap();

        let files = ShareFiles::new(&target);
        let err = files
            .write_atomic_via(&target, SECRET, || Ok("x".to_owned()), &mut |_| Ok(()))
            .unwrap_err();
        let StoreError::Write {
            ref path,
            action,
            ref source,
        } = err
        else {
            panic!("expected Write, got {err}");
        };
        assert_eq!(*path, target);
        assert_eq!(action, "cannot create a temporary file");
        assert!(source.to_string().contains("were all taken"), "{err}");
        assert_eq!(fs::read(&victim).unwrap(), b"someone else's file");
        assert_eq!(names(&dir), ["p.share.tmp-x", "victim"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn random_temporary_names_differ() {
        let a = random_suffix().unwrap();
        let b = random_suffix().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
