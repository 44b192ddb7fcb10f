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

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ecdsa2pc_core::share::{KeyShareP1, KeyShareP2};

use crate::NetError;

/// A share type that can live in a file.
pub trait StoredShare: Sized {
    /// What the file must hold; used in messages.
    const WHAT: &'static str;
    /// Encodes the share.
    fn to_bytes(&self) -> Vec<u8>;
    /// Decodes and checks a share.
    ///
    /// # Errors
    /// The core's error for a damaged or inconsistent share.
    fn from_bytes(bytes: &[u8]) -> Result<Self, ecdsa2pc_core::Error>;
    /// The refresh epoch.
    fn epoch(&self) -> u64;
    /// The fingerprint both parties agree on.
    fn fingerprint(&self) -> [u8; 32];
}

/// `StoredShare` for a core share type: its codec, epoch and fingerprint.
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
            fn epoch(&self) -> u64 {
                <$ty>::epoch(self)
            }
            fn fingerprint(&self) -> [u8; 32] {
                <$ty>::fingerprint(self)
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
        let cannot_read = |e: std::io::Error| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist: run `ecdsa2pc keygen` first, or check --share"
            } else {
                "cannot be read"
            };
            self.problem(path, format!("{hint} ({e})"))
        };
        let mut file = File::open(path).map_err(cannot_read)?;
        // The mode of the file opened (fstat), not of whatever the path names a moment later.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata().map_err(cannot_read)?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(self.problem(
                    path,
                    format!(
                        "can be read or written by other users (mode {:04o}); a key share must                          be private to its owner: fix it with `chmod 600 {}`, and if others                          may have copied it, treat the key as exposed",
                        mode & 0o7777,
                        path.display()
                    ),
                ));
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(cannot_read)?;
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
        self.write_atomic_via(path, bytes, random_suffix)
    }

    /// [`ShareFiles::write_atomic`] with the temporary names from `suffix` (tests plant files
    /// at the names it gives).
    fn write_atomic_via(
        &self,
        path: &Path,
        bytes: &[u8],
        suffix: impl FnMut() -> std::io::Result<String>,
    ) -> Result<(), NetError> {
        let fail = |what: &str, e: std::io::Error| self.problem(path, format!("{what}: {e}"));
        let (tmp, mut file) = TempFile::create(path, suffix)
            .map_err(|e| fail("cannot create a temporary file", e))?;
        file.write_all(bytes).map_err(|e| fail("cannot write", e))?;
        file.sync_all().map_err(|e| fail("cannot sync", e))?;
        drop(file);
        fs::rename(&tmp.path, path).map_err(|e| fail("cannot replace", e))?;
        tmp.renamed();
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
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    const SECRET: &[u8] = b"secret share bytes";

    /// A fresh empty directory under the system temporary directory.
    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ecdsa2pc-store-{tag}-{}-{}",
            std::process::id(),
            random_suffix().unwrap()
        ));
        fs::create_dir(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
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
        files.write_atomic_via(&target, SECRET, suffix).unwrap();

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
            .write_atomic_via(&target, SECRET, || Ok("x".to_owned()))
            .unwrap_err();
        let NetError::ShareFile { path, problem } = err else {
            panic!("expected ShareFile, got {err}");
        };
        assert_eq!(path, target);
        assert!(
            problem.contains("cannot create a temporary file"),
            "{problem}"
        );
        assert!(problem.contains("were all taken"), "{problem}");
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
