//! Key shares on disk: atomic writes, a pending file for two-phase refresh, a process lock.
//!
//! For a share at `PATH` the files are `PATH` (the active share), `PATH.pending` (a refreshed
//! share waiting for both parties to confirm) and `PATH.lock` (held while a process uses the
//! share, so two runs cannot use one share at once). Every write goes to a temporary file,
//! is synced, renamed over the target and the directory synced; files are mode 0600.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2};

use crate::NetError;

/// A share type that can live in a file (epoch and fingerprint come from [`KeyShare`]).
pub trait StoredShare: KeyShare {
    /// What the file must hold; used in messages.
    const WHAT: &'static str;
    /// Encodes the share.
    fn to_bytes(&self) -> Vec<u8>;
    /// Decodes and checks a share.
    ///
    /// # Errors
    /// The core's error for a damaged or inconsistent share.
    fn from_bytes(bytes: &[u8]) -> Result<Self, ecdsa2pc_core::Error>;
}

/// `StoredShare` for a core share type: its codec.
macro_rules! stored_share {
    ($ty:ty, $what:literal) => {
        impl StoredShare for $ty {
            const WHAT: &'static str = $what;
            fn to_bytes(&self) -> Vec<u8> {
                let mut out = vec![0u8; <$ty>::ENCODED_LEN];
                let len = self.encode(&mut out).unwrap_or(0);
                out.truncate(len);
                out
            }
            fn from_bytes(bytes: &[u8]) -> Result<Self, ecdsa2pc_core::Error> {
                <$ty>::decode(bytes)
            }
        }
    };
}

stored_share!(KeyShareP1, "a party 0 key share");
stored_share!(KeyShareP2, "a party 1 key share");

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
    /// [`NetError::ShareFile`] if the lock is held elsewhere or cannot be created.
    pub fn lock(&self) -> Result<ShareLock, NetError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|e| self.problem(&self.lock, format!("cannot create its lock file: {e}")))?;
        file.try_lock().map_err(|_| {
            self.problem(
                &self.active,
                "is in use by another ecdsa2pc process; wait for it to finish".to_owned(),
            )
        })?;
        Ok(ShareLock { _file: file })
    }

    /// Whether an active share exists.
    #[must_use]
    pub fn exists(&self) -> bool {
        self.active.exists()
    }

    /// Loads the active share and the pending one, if any.
    ///
    /// # Errors
    /// [`NetError::ShareFile`] naming the file and what is wrong with it.
    pub fn load<S: StoredShare>(&self) -> Result<Held<S>, NetError> {
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
    /// [`NetError::ShareFile`] naming the file and what is wrong with it.
    pub fn load_active<S: StoredShare>(&self) -> Result<S, NetError> {
        self.read(&self.active)
    }

    /// Loads the pending share only (it must exist).
    ///
    /// # Errors
    /// [`NetError::ShareFile`] naming the pending file and what is wrong with it.
    pub fn load_pending<S: StoredShare>(&self) -> Result<S, NetError> {
        self.read(&self.pending)
    }

    fn read<S: StoredShare>(&self, path: &Path) -> Result<S, NetError> {
        let bytes = fs::read(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist: run `ecdsa2pc keygen` first, or check --share"
            } else {
                "cannot be read"
            };
            self.problem(path, format!("{hint} ({e})"))
        })?;
        S::from_bytes(&bytes).map_err(|e| {
            self.problem(
                path,
                format!(
                    "is not {} or is damaged ({e}); it may belong to the other party, be \
                     truncated, or have been altered: restore it from a backup",
                    S::WHAT
                ),
            )
        })
    }

    /// Writes the active share atomically (keygen, or a lock flag after a failed signature).
    ///
    /// # Errors
    /// [`NetError::ShareFile`].
    pub fn write_active<S: StoredShare>(&self, share: &S) -> Result<(), NetError> {
        self.write_atomic(&self.active, &share.to_bytes())
    }

    /// Writes a refreshed share as pending, beside the active one.
    ///
    /// # Errors
    /// [`NetError::ShareFile`].
    pub fn write_pending<S: StoredShare>(&self, share: &S) -> Result<(), NetError> {
        self.write_atomic(&self.pending, &share.to_bytes())
    }

    /// Makes the pending share the active one; the old epoch is gone for good.
    ///
    /// # Errors
    /// [`NetError::ShareFile`].
    pub fn promote(&self) -> Result<(), NetError> {
        fs::rename(&self.pending, &self.active)
            .map_err(|e| self.problem(&self.pending, format!("cannot be made active: {e}")))?;
        self.sync_dir()
    }

    /// Deletes a pending share the peer never confirmed.
    ///
    /// # Errors
    /// [`NetError::ShareFile`].
    pub fn discard_pending(&self) -> Result<(), NetError> {
        match fs::remove_file(&self.pending) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.problem(&self.pending, format!("cannot be removed: {e}"))),
        }
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), NetError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let fail = |what: &str, e: std::io::Error| self.problem(path, format!("{what}: {e}"));
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

    fn sync_dir(&self) -> Result<(), NetError> {
        let dir = match self.active.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.problem(dir, format!("cannot sync the directory: {e}")))
    }

    fn problem(&self, path: &Path, problem: String) -> NetError {
        NetError::ShareFile {
            path: path.to_path_buf(),
            problem,
        }
    }
}
