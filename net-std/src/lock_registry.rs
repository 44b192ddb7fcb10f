//! The lock registry: party 0's abort lock recorded outside the share file, keyed by the
//! joint public key Q, so that restoring an older copy of the share, or copying it to another
//! path, does not unlock it.
//!
//! An entry is a file named by the key id (hex SHA-256 of Q's compressed SEC1 encoding,
//! [`mod@crate::key_id`]), with the suffix `.locked` (a signature failed its final check) or
//! `.deciding` (a signing run is decrypting, or stopped after decrypting without recording an
//! outcome). Its presence is the lock; its text helps a reader, and names a random token of
//! the run that made it, by which a run tells its own `.deciding` entry (reached through
//! another spelling of its directory) from another run's. Entries go to every registry
//! directory: a per-user state directory (`$XDG_STATE_HOME/ecdsa2pc/locks`, else
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

/// The `.deciding` entries one run made ([`LockRegistry::begin_deciding`]): exactly what its
/// outcome removes ([`LockRegistry::end_deciding`]), never another run's entry of the key.
/// Not `Clone`: a copy removed after the original could take another run's entry made at the
/// same name in between.
#[derive(Debug, Default)]
pub struct DecidingEntries {
    made: Vec<PathBuf>,
}

impl DecidingEntries {
    /// The entries, each once.
    #[must_use]
    pub fn paths(&self) -> &[PathBuf] {
        &self.made
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

    /// Records that a signature with the key failed party 0's final check: a `.locked` entry
    /// in every registry directory, durably, creating them (mode 0700) if needed. An entry
    /// already there counts as written; a failed record leaves what it wrote (it refuses the
    /// key, the safe side).
    ///
    /// # Errors
    /// [`StoreError::Write`] for the first directory or entry that cannot be written.
    pub fn record_locked(&self, key: &PublicShares) -> Result<(), StoreError> {
        self.write(key, LockState::Locked).1
    }

    /// Records, before anything is decrypted, that this run is deciding a signature with the
    /// key: a `.deciding` entry in every registry directory, made by this call, durably.
    /// Registry directories that are one directory (the same path spelled two ways, a
    /// symlink) hold one entry, which this call recognises as its own by its text (it names
    /// a random token of the run). An entry of another run's already there (one signing right
    /// now with a copy of the share at another path, or one that stopped) is left alone and
    /// ends the record: two runs must not both decrypt.
    ///
    /// A failed record removes the entries it made itself (nothing is decrypted after it, so
    /// a key nothing leaked from stays usable), never another run's; what it cannot remove
    /// only refuses the key, the safe side.
    ///
    /// # Errors
    /// [`StoreError::Write`] for the first directory or entry that cannot be written. For an
    /// entry of another run's: [`StoreError::KeyLocked`] if the registry now holds a `.locked`
    /// entry, else [`StoreError::DecidingElsewhere`].
    pub fn begin_deciding(&self, key: &PublicShares) -> Result<DecidingEntries, StoreError> {
        let (made, recorded) = self.write(key, LockState::Deciding);
        let entries = DecidingEntries { made };
        match recorded {
            Ok(()) => Ok(entries),
            Err(e) => {
                // Best effort: an entry left behind refuses the key, which is safe.
                let _ = self.end_deciding(entries);
                Err(e)
            }
        }
    }

    /// Removes the `.deciding` entries of [`LockRegistry::begin_deciding`] (a decision was
    /// recorded, or nothing was decrypted), each once, durably: exactly the ones that run
    /// made, so that no other run's entry of the key is lifted. A missing entry is fine.
    ///
    /// # Errors
    /// [`StoreError::Write`] for the first entry that cannot be removed (the others are
    /// still tried); the key then stays refused.
    pub fn end_deciding(&self, entries: DecidingEntries) -> Result<(), StoreError> {
        let mut first = Ok(());
        for entry in entries.made {
            let removed = match fs::remove_file(&entry) {
                Ok(()) => store::sync_parent(&entry),
                // Nothing there: nothing to lift, and nothing that `check` would see.
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

    /// Writes an entry of `state` in every registry directory: the entries this call made,
    /// and the outcome (see [`LockRegistry::record_locked`] and
    /// [`LockRegistry::begin_deciding`]).
    fn write(
        &self,
        key: &PublicShares,
        state: LockState,
    ) -> (Vec<PathBuf>, Result<(), StoreError>) {
        let mut token = [0u8; 16];
        // Without a token no entry is taken for this call's own: an alias then fails closed
        // (DecidingElsewhere, nothing decrypted) rather than two runs sharing one entry.
        let own_text = getrandom::fill(&mut token).is_ok();
        let text = format!(
            "ecdsa2pc lock registry entry\nstate: {}\npublic key: {}\nshare: {}\nrun: {}\n",
            state.suffix(),
            hex(key.q.to_sec1_point(true).as_bytes()),
            self.share.display(),
            hex(&token)
        );
        let mut made: Vec<PathBuf> = Vec::new();
        let recorded = self.dirs.iter().try_for_each(|dir| {
            store::create_private_dir(dir, "cannot create the lock registry directory")?;
            let entry = entry_path(dir, key, state);
            match store::create_entry(&entry, text.as_bytes()) {
                Ok(Entry::Created) => {
                    made.push(entry);
                    Ok(())
                }
                Ok(Entry::Existed) if state == LockState::Locked => Ok(()),
                // This call's own entry, reached through another spelling of its directory.
                Ok(Entry::Existed)
                    if own_text && fs::read(&entry).is_ok_and(|t| t == text.as_bytes()) =>
                {
                    Ok(())
                }
                Ok(Entry::Existed) => {
                    // Checked before the run began: another run made it since. A stronger
                    // state it may have reached is the one to report.
                    self.refuse_if(key, LockState::Locked)
                        .and(Err(StoreError::DecidingElsewhere {
                            path: self.share.clone(),
                            entry,
                        }))
                }
                Err(EntryFailed { error, created }) => {
                    if created {
                        made.push(entry);
                    }
                    Err(error)
                }
            }
        });
        (made, recorded)
    }

    /// Persistence for a protocol run over the share's files that records the lock here
    /// too: see the [`Persist`] implementation of [`Guarded`].
    #[must_use]
    pub fn guard(self, files: ShareFiles) -> Guarded {
        Guarded {
            files,
            registry: self,
            deciding: None,
            entries: DecidingEntries::default(),
        }
    }
}

/// A share's files together with its lock registry: the [`Persist`] party 0 runs with.
#[derive(Debug)]
pub struct Guarded {
    files: ShareFiles,
    registry: LockRegistry,
    /// Held from the `.deciding` entry to the outcome: a SIGINT or SIGTERM in between is left
    /// to the command, not acted on at once ([`crate::interrupt`]).
    deciding: Option<Deciding>,
    /// The `.deciding` entries this run made, which its outcome removes.
    entries: DecidingEntries,
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
        debug_assert!(self.entries.paths().is_empty(), "one decision at a time");
        // Before the entry: a stop between the entry and the outcome would refuse the key.
        self.deciding = Some(Deciding::begin());
        // A failed record removes what it wrote itself (nothing is decrypted after it), and
        // refuses the key if another run's `.deciding` entry is there.
        match self.registry.begin_deciding(key) {
            Ok(entries) => {
                self.entries = entries;
                Ok(())
            }
            Err(e) => {
                self.deciding = None;
                Err(e.into())
            }
        }
    }
    fn decided(&mut self, _: &PublicShares) -> Result<(), NetError> {
        let cleared = self
            .registry
            .end_deciding(core::mem::take(&mut self.entries));
        self.deciding = None;
        Ok(cleared?)
    }
    fn locked(&mut self, share: &S) -> Result<(), NetError> {
        // The registry first: it is what a restored copy of the share cannot undo. The
        // `.deciding` entry stays, so a failure of either write still leaves the key refused.
        let recorded = self
            .registry
            .record_locked(share.public())
            .map_err(NetError::from)
            .and_then(|()| Persist::<S>::locked(&mut self.files, share));
        self.deciding = None;
        // Left on disk by design (they refuse the key with the lock); nothing removes them.
        self.entries = DecidingEntries::default();
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
        let others = other.begin_deciding(&key).unwrap();
        let ours = LockRegistry::new(&dir.join("p0.share"), Some(dir.join("state-a")));
        let err = ours.begin_deciding(&key).unwrap_err();
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
        other.record_locked(&key).unwrap();
        let err = ours.begin_deciding(&key).unwrap_err();
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
        other.end_deciding(others).unwrap();
        ours.check(&key).unwrap();
        let mine = ours.begin_deciding(&key).unwrap();
        assert_eq!(mine.paths().len(), 2);
        // The other run begins while ours decides: it is refused, and ours ends cleanly.
        assert!(matches!(
            other.begin_deciding(&key),
            Err(StoreError::DecidingElsewhere { .. })
        ));
        ours.end_deciding(mine).unwrap();
        ours.check(&key).unwrap();
        other.check(&key).unwrap();

        // A `.locked` entry already there counts as written.
        ours.record_locked(&key).unwrap();
        ours.record_locked(&key).unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The per-user directory may be the one beside the share (the same path, spelled
    /// another way, or a symlink to it): a `.deciding` record makes one entry there, does
    /// not take it for another run's, and its outcome removes it once.
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
            let entries = registry
                .begin_deciding(&key)
                .unwrap_or_else(|e| panic!("{}: {e}", state_dir.display()));
            assert!(registry.check(&key).is_err(), "{}", state_dir.display());
            // One entry, removed once by its outcome: a second removal through the other
            // spelling could lift the entry of a run that began in between.
            assert_eq!(entries.paths().len(), 1, "{}", state_dir.display());
            // Another run (a copy beside it) is refused while this one decides.
            let copy = LockRegistry::new(&dir.join("copy.share"), None);
            assert!(
                matches!(
                    copy.begin_deciding(&key),
                    Err(StoreError::DecidingElsewhere { .. })
                ),
                "{}",
                state_dir.display()
            );
            registry.end_deciding(entries).unwrap();
            registry.check(&key).unwrap();
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}
