//! Key shares on disk: atomic writes, a pending file for two-phase refresh, a process lock.
//!
//! For a share at `PATH` the files are `PATH` (the active share), `PATH.pending` (a refreshed
//! share waiting for both parties to confirm) and `PATH.lock` (held while a process uses the
//! share, so two runs cannot use one share at once). Every write goes to a temporary file,
//! is synced, renamed over the target and the directory synced; files are mode 0600.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::{KeyShare, Party, role_of};
use zeroize::Zeroizing;

use crate::error::StoreError;

/// The files of one share.
#[derive(Clone, Debug)]
pub struct ShareFiles {
    active: PathBuf,
    pending: PathBuf,
    lock: PathBuf,
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
#[derive(Debug)]
pub struct ShareLock {
    _file: File,
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
        }
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
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|source| StoreError::LockFile {
                path: self.lock.clone(),
                source,
            })?;
        file.try_lock().map_err(|_| StoreError::InUse {
            path: self.active.clone(),
        })?;
        Ok(ShareLock { _file: file })
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
            return Err(StoreError::Missing {
                path: self.active.clone(),
            });
        }
        self.lock()
    }

    /// Loads the active share and the pending one, if any; each file is read once.
    ///
    /// # Errors
    /// A [`StoreError`] naming the file and what is wrong with it.
    pub fn load<S: KeyShare>(&self) -> Result<Held<S>, StoreError> {
        let active = self.read(&self.active)?;
        let pending = if self.pending.exists() {
            Some(self.read(&self.pending)?)
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
        self.read(&self.active)
    }

    /// Loads the pending share only (it must exist).
    ///
    /// # Errors
    /// A [`StoreError`] naming the pending file and what is wrong with it.
    pub fn load_pending<S: KeyShare>(&self) -> Result<S, StoreError> {
        self.read(&self.pending)
    }

    /// The active share's bytes, for a caller that learns the party from the file itself
    /// ([`ShareFiles::party_of`]) and then calls [`ShareFiles::decode`]. The buffer is
    /// wiped when dropped.
    ///
    /// # Errors
    /// [`StoreError::Missing`] or [`StoreError::Unreadable`].
    pub fn read_active(&self) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        read_bytes(&self.active)
    }

    /// Decodes the bytes of the file at `path` as a share of `S::PARTY`: a share of the
    /// other party is [`StoreError::OtherParty`], anything else that does not decode
    /// [`StoreError::Damaged`].
    ///
    /// # Errors
    /// As above.
    pub fn decode<S: KeyShare>(path: &Path, bytes: &[u8]) -> Result<S, StoreError> {
        // A header that names no party falls through to the decoder, which says why.
        if let Ok(found) = role_of(bytes)
            && found != S::PARTY
        {
            return Err(StoreError::OtherParty {
                path: path.to_path_buf(),
                expected: S::PARTY,
                found,
            });
        }
        S::decode(bytes).map_err(|error| StoreError::Damaged {
            path: path.to_path_buf(),
            expected: S::PARTY,
            error,
        })
    }

    /// The party whose share the bytes of the file at `path` claim to be (from the
    /// header alone: [`ShareFiles::decode`] checks the rest).
    ///
    /// # Errors
    /// [`StoreError::Unrecognised`] if the header names no known version or party.
    pub fn party_of(path: &Path, bytes: &[u8]) -> Result<Party, StoreError> {
        role_of(bytes).map_err(|error| StoreError::Unrecognised {
            path: path.to_path_buf(),
            error,
        })
    }

    fn read<S: KeyShare>(&self, path: &Path) -> Result<S, StoreError> {
        Self::decode(path, &read_bytes(path)?)
    }

    /// Writes the active share atomically (keygen, or a lock flag after a failed signature).
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn write_active<S: KeyShare>(&self, share: &S) -> Result<(), StoreError> {
        self.write_atomic(&self.active, &encode(&self.active, share)?)
    }

    /// Writes a refreshed share as pending, beside the active one.
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn write_pending<S: KeyShare>(&self, share: &S) -> Result<(), StoreError> {
        self.write_atomic(&self.pending, &encode(&self.pending, share)?)
    }

    /// Makes the pending share the active one; the old epoch is gone for good.
    ///
    /// # Errors
    /// [`StoreError::Write`].
    pub fn promote(&self) -> Result<(), StoreError> {
        fs::rename(&self.pending, &self.active).map_err(|source| StoreError::Write {
            path: self.pending.clone(),
            action: "cannot be made active",
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
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let fail = |action: &'static str, source: std::io::Error| StoreError::Write {
            path: path.to_path_buf(),
            action,
            source,
        };
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .map_err(|e| fail("cannot create a temporary file", e))?;
        file.write_all(bytes).map_err(|e| fail("cannot write", e))?;
        file.sync_all().map_err(|e| fail("cannot sync", e))?;
        drop(file);
        fs::rename(&tmp, path).map_err(|e| fail("cannot replace", e))?;
        self.sync_dir()
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        let dir = match self.active.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| StoreError::Write {
                path: dir.to_path_buf(),
                action: "cannot sync the directory",
                source,
            })
    }
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

/// Reads a share file into a buffer that is wiped when dropped.
fn read_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    fs::read(path).map(Zeroizing::new).map_err(|source| {
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
    })
}
