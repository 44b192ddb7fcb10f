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
        self.write_atomic_via(path, bytes, random_suffix)
    }

    /// [`ShareFiles::write_atomic`] with the temporary names from `suffix` (tests plant files
    /// at the names it gives).
    fn write_atomic_via(
        &self,
        path: &Path,
        bytes: &[u8],
        suffix: impl FnMut() -> std::io::Result<String>,
    ) -> Result<(), StoreError> {
        let fail = |action: &'static str, source: std::io::Error| StoreError::Write {
            path: path.to_path_buf(),
            action,
            source,
        };
        let (tmp, mut file) = TempFile::create(path, suffix)
            .map_err(|e| fail("cannot create a temporary file", e))?;
        file.write_all(bytes).map_err(|e| fail("cannot write", e))?;
        file.sync_all().map_err(|e| fail("cannot sync", e))?;
        drop(file);
        fs::rename(&tmp.path, path).map_err(|e| fail("cannot replace", e))?;
        tmp.renamed();
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

/// Reads a share file into a buffer that is wiped when dropped; a file that group or others
/// may read or write is refused ([`StoreError::LoosePermissions`]).
fn read_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, StoreError> {
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
    let mut file = File::open(path).map_err(cannot_read)?;
    // The mode of the file opened (fstat), not of whatever the path names a moment later.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(cannot_read)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::LoosePermissions {
                path: path.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes).map_err(cannot_read)?;
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
