//! The lock registry: party 0's abort lock recorded outside the share file, keyed by the
//! joint public key Q, so that restoring an older copy of the share, or copying it to another
//! path, does not unlock it.
//!
//! An entry is a file named by the key id (hex SHA-256 of Q's compressed SEC1 encoding,
//! [`mod@crate::key_id`]), with the suffix `.locked` (a signature failed its final check) or
//! `.deciding` (a signing run is decrypting, or stopped after decrypting without recording an
//! outcome). Its presence is
//! the lock; its text only helps a reader. Entries go to every registry directory: a
//! per-user state directory (`$XDG_STATE_HOME/ecdsa2pc/locks`, else
//! `$HOME/.local/state/ecdsa2pc/locks`, or a directory the caller names) and a directory
//! `.ecdsa2pc-locks` beside the share. A key is refused if any of them holds an entry.
//! Every entry is durable by its name (created with `O_EXCL`, its directory synced:
//! `store::create_entry`) before the protocol goes on; its text need not survive a crash.
//!
//! Limits: a copy of the share taken to another user account or machine, or a deleted entry,
//! escapes the registry. It narrows mistakes and casual rollback; it is no defence against
//! someone who controls party 0's files (who holds x1 anyway).

use std::fs;
use std::path::{Path, PathBuf};

use ecdsa2pc_core::{KeyShare, PublicShares};
use k256::elliptic_curve::sec1::ToSec1Point;

use crate::NetError;
use crate::driver::Persist;
use crate::error::StoreError;
use crate::identity::hex;
use crate::interrupt::Deciding;
use crate::store::{self, Entry, EntryFailed, ShareFiles};

/// Name of the registry directory kept beside the share file.
pub const BESIDE_SHARE: &str = ".ecdsa2pc-locks";

/// What a registry entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    /// A signature with the key failed party 0's final check.
    Locked,
    /// Party 0 began decrypting party 1's ciphertext and no outcome was recorded.
    Deciding,
}

impl LockState {
    /// Both states, the stronger first (the one reported when both are present).
    const ALL: [Self; 2] = [Self::Locked, Self::Deciding];

    fn suffix(self) -> &'static str {
        match self {
            Self::Locked => "locked",
            Self::Deciding => "deciding",
        }
    }
}

/// The registry directories of one share, and what they say about its key.
#[derive(Clone, Debug)]
pub struct LockRegistry {
    share: PathBuf,
    dirs: Vec<PathBuf>,
}

impl LockRegistry {
    /// The registry of the share at `share`: `state_dir` (the per-user one, see
    /// [`LockRegistry::default_state_dir`]; none if `None`) and the directory beside the share.
    #[must_use]
    pub fn new(share: &Path, state_dir: Option<PathBuf>) -> Self {
        let beside = match share.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join(BESIDE_SHARE),
            _ => PathBuf::from(BESIDE_SHARE),
        };
        let mut dirs: Vec<PathBuf> = state_dir.into_iter().collect();
        dirs.push(beside);
        Self {
            share: share.to_path_buf(),
            dirs,
        }
    }

    /// The per-user registry directory: `$XDG_STATE_HOME/ecdsa2pc/locks` if that variable
    /// holds an absolute path, else `$HOME/.local/state/ecdsa2pc/locks`, else none.
    #[must_use]
    pub fn default_state_dir() -> Option<PathBuf> {
        state_dir().map(|d| d.join("locks"))
    }

    /// The directories this registry reads and writes.
    #[must_use]
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Refuses a key the registry holds an entry for; call it before any session with the
    /// share (before the epoch agreement: every epoch of one key has the same Q).
    ///
    /// # Errors
    /// [`StoreError::KeyLocked`] naming the entry, the `.locked` one first.
    pub fn check(&self, key: &PublicShares) -> Result<(), StoreError> {
        LockState::ALL
            .into_iter()
            .try_for_each(|state| self.refuse_if(key, state))
    }

    /// [`StoreError::KeyLocked`] naming the first entry of `state` for the key, if any.
    fn refuse_if(&self, key: &PublicShares, state: LockState) -> Result<(), StoreError> {
        for dir in &self.dirs {
            let entry = entry_path(dir, key, state);
            // symlink_metadata: an entry that is a dangling symlink still counts.
            if fs::symlink_metadata(&entry).is_ok() {
                return Err(StoreError::KeyLocked {
                    path: self.share.clone(),
                    entry,
                    state,
                });
            }
        }
        Ok(())
    }

    /// Records `state` for the key in every registry directory, durably, creating them
    /// (mode 0700) if needed; two of them that are one directory (the same path spelled two
    /// ways, or a symlink) are written once. A `.locked` entry already there counts as
    /// written. A `.deciding` entry already there does not: it belongs to another run (one
    /// signing right now with a copy of the share at another path, or one that stopped), and
    /// two runs must not both decrypt; the record fails and leaves that entry.
    ///
    /// A failed `.deciding` record removes the entries it made itself (nothing is decrypted
    /// after it, so a key nothing leaked from stays usable), never another run's; what it
    /// cannot remove only refuses the key, the safe side. A failed `.locked` record leaves
    /// what it wrote.
    ///
    /// # Errors
    /// [`StoreError::Write`] for the first directory or entry that cannot be written. For a
    /// `.deciding` entry that was already there: [`StoreError::KeyLocked`] if the registry
    /// now holds a `.locked` entry, else [`StoreError::DecidingElsewhere`].
    pub fn record(&self, key: &PublicShares, state: LockState) -> Result<(), StoreError> {
        let text = format!(
            "ecdsa2pc lock registry entry\nstate: {}\npublic key: {}\nshare: {}\n",
            state.suffix(),
            hex(key.q.to_sec1_point(true).as_bytes()),
            self.share.display()
        );
        let mut made = Vec::new();
        let mut written = Vec::new();
        let recorded = self.dirs.iter().try_for_each(|dir| {
            store::create_private_dir(dir, "cannot create the lock registry directory")?;
            let same = store::dir_identity(dir);
            if same.is_some() && written.contains(&same) {
                return Ok(());
            }
            written.push(same);
            let entry = entry_path(dir, key, state);
            match store::create_entry(&entry, text.as_bytes()) {
                Ok(Entry::Created) => {
                    made.push(entry);
                    Ok(())
                }
                Ok(Entry::Existed) if state == LockState::Deciding => {
                    // Checked before the run began: another run made it since. A stronger
                    // state it may have reached is the one to report.
                    self.refuse_if(key, LockState::Locked)
                        .and(Err(StoreError::DecidingElsewhere {
                            path: self.share.clone(),
                            entry,
                        }))
                }
                Ok(Entry::Existed) => Ok(()),
                Err(EntryFailed { error, created }) => {
                    if created {
                        made.push(entry);
                    }
                    Err(error)
                }
            }
        });
        if recorded.is_err() && state == LockState::Deciding {
            for entry in &made {
                // Best effort: an entry left behind refuses the key, which is safe.
                if fs::remove_file(entry).is_ok() {
                    let _ = store::sync_parent(entry);
                }
            }
        }
        recorded
    }

    /// Removes the `.deciding` entries of the key (a decision was recorded, or nothing was
    /// decrypted), durably. A missing entry is fine.
    ///
    /// # Errors
    /// [`StoreError::Write`] for the first entry that cannot be removed (the others are
    /// still tried); the key then stays refused.
    pub fn clear_deciding(&self, key: &PublicShares) -> Result<(), StoreError> {
        let mut first = Ok(());
        for dir in &self.dirs {
            let entry = entry_path(dir, key, LockState::Deciding);
            let removed = match fs::remove_file(&entry) {
                Ok(()) => store::sync_parent(&entry),
                // No entry there (or no directory): nothing to lift, and nothing that
                // `check` would see.
                Err(_) if fs::symlink_metadata(&entry).is_err() => Ok(()),
                Err(source) => Err(StoreError::Write {
                    path: entry,
                    action: "cannot be removed",
                    source,
                }),
            };
            if first.is_ok() {
                first = removed;
            }
        }
        first
    }

    /// Persistence for a protocol run over the share's files that records the lock here
    /// too: see the [`Persist`] implementation of [`Guarded`].
    #[must_use]
    pub fn guard(self, files: ShareFiles) -> Guarded {
        Guarded {
            files,
            registry: self,
            deciding: None,
        }
    }
}

/// A share's files together with its lock registry: the [`Persist`] party 0 runs with.
#[derive(Clone, Debug)]
pub struct Guarded {
    files: ShareFiles,
    registry: LockRegistry,
    /// Held from the `.deciding` entry to the outcome: a SIGINT or SIGTERM in between is left
    /// to the command, not acted on at once ([`crate::interrupt`]).
    deciding: Option<Deciding>,
}

impl Guarded {
    /// The share's files.
    #[must_use]
    pub fn files(&self) -> &ShareFiles {
        &self.files
    }

    /// The lock registry.
    #[must_use]
    pub fn registry(&self) -> &LockRegistry {
        &self.registry
    }
}

impl<S: KeyShare> Persist<S> for Guarded {
    fn pending(&mut self, share: &S) -> Result<(), NetError> {
        Persist::<S>::pending(&mut self.files, share)
    }
    fn promote(&mut self) -> Result<(), NetError> {
        Persist::<S>::promote(&mut self.files)
    }
    fn deciding(&mut self, key: &PublicShares) -> Result<(), NetError> {
        // Before the entry: a stop between the entry and the outcome would refuse the key.
        self.deciding = Some(Deciding::begin());
        // A failed record removes what it wrote itself (nothing is decrypted after it), and
        // refuses the key if another run's `.deciding` entry is there.
        self.registry.record(key, LockState::Deciding).map_err(|e| {
            self.deciding = None;
            e.into()
        })
    }
    fn decided(&mut self, key: &PublicShares) -> Result<(), NetError> {
        let cleared = self.registry.clear_deciding(key);
        self.deciding = None;
        Ok(cleared?)
    }
    fn locked(&mut self, share: &S) -> Result<(), NetError> {
        // The registry first: it is what a restored copy of the share cannot undo. The
        // `.deciding` entry stays, so a failure of either write still leaves the key refused.
        let recorded = self
            .registry
            .record(share.public(), LockState::Locked)
            .map_err(NetError::from)
            .and_then(|()| Persist::<S>::locked(&mut self.files, share));
        self.deciding = None;
        recorded
    }
    fn discard(&mut self) -> Result<(), NetError> {
        Persist::<S>::discard(&mut self.files)
    }
}

/// The per-user state directory of ecdsa2pc: `$XDG_STATE_HOME/ecdsa2pc` if that variable
/// holds an absolute path, else `$HOME/.local/state/ecdsa2pc`, else none. The lock registry
/// and party 1's parameter pins ([`crate::pins`]) live below it.
#[must_use]
pub fn state_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_STATE_HOME")
        .or_else(|| absolute("HOME").map(|h| h.join(".local").join("state")))
        .map(|d| d.join("ecdsa2pc"))
}

/// `DIR/<key id>.<state>` ([`mod@crate::key_id`]).
fn entry_path(dir: &Path, key: &PublicShares, state: LockState) -> PathBuf {
    let id = crate::key_id::key_id(&key.q);
    dir.join(format!(
        "{}.{}",
        crate::key_id::key_id_hex(&id),
        state.suffix()
    ))
}

#[cfg(test)]
mod tests {
    use ecdsa2pc_core::KeyShareP1;
    use k256::AffinePoint;

    use super::*;
    use crate::store::tests::scratch;

    /// A key for the registry's names (only Q matters to them).
    fn any_key() -> PublicShares {
        PublicShares {
            q: AffinePoint::GENERATOR,
            q1: AffinePoint::GENERATOR,
            q2: AffinePoint::GENERATOR,
        }
    }

    /// From the `.deciding` entry to the outcome a stop signal is held off (see
    /// [`crate::interrupt`]), and only then: a decided, a locked or a failed record ends it.
    #[test]
    fn a_decision_holds_off_stops_until_its_outcome_is_recorded() {
        let dir = scratch("guarded-hold");
        let share = dir.join("p0.share");
        let mut guarded = LockRegistry::new(&share, None).guard(ShareFiles::new(&share));
        let key = any_key();
        assert!(guarded.deciding.is_none());
        Persist::<KeyShareP1>::deciding(&mut guarded, &key).unwrap();
        assert!(guarded.deciding.is_some(), "held while deciding");
        assert!(
            guarded.registry.check(&key).is_err(),
            "and the entry is on disk"
        );
        Persist::<KeyShareP1>::decided(&mut guarded, &key).unwrap();
        assert!(guarded.deciding.is_none(), "released once decided");
        assert!(guarded.registry.check(&key).is_ok());

        // A record that fails (its directory is a file) holds nothing.
        let blocked = dir.join("blocked");
        fs::write(&blocked, b"not a directory").unwrap();
        let mut guarded =
            LockRegistry::new(&blocked.join("p0.share"), None).guard(ShareFiles::new(&share));
        assert!(Persist::<KeyShareP1>::deciding(&mut guarded, &key).is_err());
        assert!(guarded.deciding.is_none(), "a failed record holds nothing");
    }

    /// Two copies of one share in one directory share the registry beside them: a
    /// `.deciding` record that finds the other run's entry refuses with
    /// `DecidingElsewhere`, removes the entry it made itself (in its own state directory)
    /// and leaves the other run's; once that run has locked the key, with `KeyLocked`.
    #[test]
    fn a_deciding_record_that_finds_another_runs_entry_refuses_and_removes_only_its_own() {
        let dir = scratch("deciding-race");
        let key = any_key();
        let other = LockRegistry::new(&dir.join("copy.share"), Some(dir.join("state-b")));
        other.record(&key, LockState::Deciding).unwrap();
        let ours = LockRegistry::new(&dir.join("p0.share"), Some(dir.join("state-a")));
        let err = ours.record(&key, LockState::Deciding).unwrap_err();
        let StoreError::DecidingElsewhere { entry, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(
            entry,
            &entry_path(&dir.join(BESIDE_SHARE), &key, LockState::Deciding)
        );
        let text = err.to_string();
        assert!(
            text.contains("signing with a copy of this key's share right now")
                && text.contains("nothing was decrypted"),
            "{text}"
        );
        assert!(
            !entry_path(&dir.join("state-a"), &key, LockState::Deciding).exists(),
            "its own entry was removed"
        );
        assert!(entry.exists(), "the other run's entry stays");
        other.check(&key).unwrap_err();

        // The other run's signature failed and it locked the key: that is what is reported.
        other.record(&key, LockState::Locked).unwrap();
        let err = ours.record(&key, LockState::Deciding).unwrap_err();
        assert!(
            matches!(
                &err,
                StoreError::KeyLocked {
                    state: LockState::Locked,
                    ..
                }
            ),
            "{err}"
        );
        fs::remove_file(entry_path(&dir.join(BESIDE_SHARE), &key, LockState::Locked)).unwrap();
        fs::remove_file(entry_path(&dir.join("state-b"), &key, LockState::Locked)).unwrap();

        // Once the other run has decided, the key is usable again.
        other.clear_deciding(&key).unwrap();
        ours.check(&key).unwrap();
        ours.record(&key, LockState::Deciding).unwrap();

        // A `.locked` entry already there counts as written.
        ours.record(&key, LockState::Locked).unwrap();
        ours.record(&key, LockState::Locked).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The per-user directory may be the one beside the share (the same path, spelled
    /// another way, or a symlink to it): a `.deciding` record writes it once and does not
    /// take its own entry for another run's.
    #[test]
    fn registry_directories_that_are_one_directory_are_written_once() {
        let dir = scratch("deciding-same-dir");
        let key = any_key();
        let share = dir.join("p0.share");
        fs::create_dir(dir.join(BESIDE_SHARE)).unwrap();
        std::os::unix::fs::symlink(dir.join(BESIDE_SHARE), dir.join("link")).unwrap();
        for state_dir in [
            dir.join(BESIDE_SHARE),
            dir.join(".").join(BESIDE_SHARE),
            dir.join("link"),
        ] {
            let registry = LockRegistry::new(&share, Some(state_dir.clone()));
            registry
                .record(&key, LockState::Deciding)
                .unwrap_or_else(|e| panic!("{}: {e}", state_dir.display()));
            assert!(registry.check(&key).is_err(), "{}", state_dir.display());
            registry.clear_deciding(&key).unwrap();
            registry.check(&key).unwrap();
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
