//! Share-store errors: the files of a key share, and epoch agreement between the parties.

use core::fmt;
use std::io;
use std::path::PathBuf;

use ecdsa2pc_core::{Error as CoreError, Party};

use crate::sealed::SecretKind;

/// Which part of a sealed share file is damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealPart {
    /// The public header: its checksum, version or parameters (found without the secret).
    Header,
    /// The ciphertext or its tag (or a header altered together with its checksum): the
    /// secret is right but the authentication tag does not match.
    Payload,
}

/// A key-share file is missing, damaged, busy or cannot be written, or the two parties
/// hold no share epoch in common.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The share file does not exist.
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The share file does not exist, but a pending share lies beside it: a keygen that
    /// stopped before both parties confirmed they stored their shares. A pending share is
    /// never used in place of an active one.
    Unconfirmed {
        /// The share file.
        path: PathBuf,
        /// The pending file beside it.
        pending: PathBuf,
    },
    /// The share file exists but cannot be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The error from the operating system.
        source: io::Error,
    },
    /// Group or others may read or write the share file (as ssh refuses a loose key).
    LoosePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file holds the other party's share.
    OtherParty {
        /// The file.
        path: PathBuf,
        /// The party whose share was asked for.
        expected: Party,
        /// The party the file belongs to.
        found: Party,
    },
    /// The file is not a share of the expected party, or is damaged or altered.
    Damaged {
        /// The file.
        path: PathBuf,
        /// The party whose share was asked for.
        expected: Party,
        /// What the core's decoder reported.
        error: CoreError,
    },
    /// The share was made by an older version, before signatures carried a proof (π_c3) and
    /// shares recorded party 0's commitment parameters: it cannot be used (the core reads
    /// its header as [`CoreError::OldShareFormat`]).
    OldFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file is party 0's commitment-parameter secret, given where a key share belongs.
    ParamsNotShare {
        /// The file.
        path: PathBuf,
    },
    /// The file's header names no known share version or party.
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// What the core's decoder reported.
        error: CoreError,
    },
    /// The share file is sealed, and the passphrase or key file given does not open it.
    WrongSecret {
        /// The file.
        path: PathBuf,
        /// What the file was sealed with.
        sealed_with: SecretKind,
    },
    /// The share file is sealed but no passphrase or key file was given.
    NoSecret {
        /// The file.
        path: PathBuf,
        /// What the file was sealed with.
        sealed_with: SecretKind,
    },
    /// A sealed share file is damaged or was altered.
    SealBroken {
        /// The file.
        path: PathBuf,
        /// Which part.
        part: SealPart,
        /// What was found.
        why: &'static str,
    },
    /// The sealed file belongs to another key than the one expected (e.g. a pending share
    /// beside the active share of a different key).
    OtherKey {
        /// The file.
        path: PathBuf,
        /// The key id (SHA-256 of Q) expected.
        expected: [u8; 32],
        /// The key id the file names.
        found: [u8; 32],
    },
    /// The share's lock file cannot be created.
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// The error from the operating system.
        source: io::Error,
    },
    /// Another process holds the share's lock.
    InUse {
        /// The share file.
        path: PathBuf,
    },
    /// A new key's share file exists before keygen stored it. A key id is the hash of a
    /// fresh random public key that nobody else knew yet, so no share can be there by chance:
    /// randomness repeated (a restored snapshot, a fixed seed) or the file was planted.
    Occupied {
        /// The share file.
        path: PathBuf,
    },
    /// Writing, replacing, promoting or removing a file failed.
    Write {
        /// The file (or directory) concerned.
        path: PathBuf,
        /// What failed, e.g. "cannot sync".
        action: &'static str,
        /// The error from the operating system.
        source: io::Error,
    },
    /// The lock registry refuses this key (party 0): a signature with it failed its final
    /// check, or a signing run ended after decrypting without a recorded outcome. Restoring
    /// or copying the share file does not lift this: the entry is keyed by the public key.
    KeyLocked {
        /// The share file that was to be used.
        path: PathBuf,
        /// The registry entry that refuses it.
        entry: PathBuf,
        /// What the entry records.
        state: crate::lock_registry::LockState,
    },
    /// Party 0 was about to decrypt and found another run's `.deciding` entry for the key
    /// in its lock registry: a run with a copy of the share at another path (which shares
    /// the registry) is deciding a signature at the same moment. Nothing was decrypted.
    DecidingElsewhere {
        /// The share file that was to be used.
        path: PathBuf,
        /// The other run's registry entry.
        entry: PathBuf,
    },
    /// Party 0's commitment-parameter secret file does not decode, or its checks fail (the
    /// core re-checks the safe primes and the parameters on every load).
    ParamsDamaged {
        /// The file.
        path: PathBuf,
        /// What the core's decoder reported.
        error: CoreError,
    },
    /// Party 1 pinned other commitment parameters for this party 0 at an earlier keygen
    /// than the ones it now offers ([`crate::pins`]).
    ParamsPinned {
        /// The pin file.
        pin: PathBuf,
        /// The hash pinned.
        pinned: [u8; 32],
        /// The hash of the parameters party 0 offered.
        offered: [u8; 32],
    },
    /// A pin file does not parse, or names another party 0 than its file name.
    PinDamaged {
        /// The pin file.
        pin: PathBuf,
    },
    /// The two parties hold no key-share epoch in common.
    NoCommonEpoch {
        /// Our epochs (active, and pending if any).
        ours: Vec<u64>,
        /// The peer's.
        theirs: Vec<u64>,
    },
}

impl StoreError {
    /// The file this error is about (a share, a parameter secret, a pin), if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Missing { path }
            | Self::Unconfirmed { path, .. }
            | Self::Unreadable { path, .. }
            | Self::LoosePermissions { path, .. }
            | Self::OtherParty { path, .. }
            | Self::Damaged { path, .. }
            | Self::Unrecognised { path, .. }
            | Self::ParamsNotShare { path }
            | Self::OldFormat { path }
            | Self::WrongSecret { path, .. }
            | Self::NoSecret { path, .. }
            | Self::SealBroken { path, .. }
            | Self::OtherKey { path, .. }
            | Self::LockFile { path, .. }
            | Self::InUse { path }
            | Self::Occupied { path }
            | Self::Write { path, .. }
            | Self::KeyLocked { path, .. }
            | Self::DecidingElsewhere { path, .. }
            | Self::ParamsDamaged { path, .. } => Some(path),
            Self::PinDamaged { pin } | Self::ParamsPinned { pin, .. } => Some(pin),
            Self::NoCommonEpoch { .. } => None,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.path() {
            write!(f, "{} {}: ", noun(path), path.display())?;
        }
        match self {
            Self::Missing { .. } => f.write_str("does not exist"),
            Self::Unconfirmed { pending, .. } => write!(
                f,
                "does not exist; {} beside it is the share of a keygen that stopped before \
                 both parties confirmed they had stored theirs, and a pending share is never \
                 used as one. If party 0 reported the key as made, party 1 alone missed the \
                 last confirmation: rename the pending file to the share file to use it. \
                 Otherwise the key was never made on both sides: run keygen again (it \
                 replaces the pending file) and fund no key until both sides report success",
                pending.display()
            ),
            Self::Unreadable { source, .. } => write!(f, "cannot be read ({source})"),
            Self::LoosePermissions { path, mode } => write!(
                f,
                "can be read or written by other users (mode {mode:04o}); a {} must be \
                 private to its owner: fix it with `chmod 600 {}`, and if others may have \
                 copied it, treat the key as exposed",
                noun(path),
                path.display()
            ),
            Self::OtherParty {
                expected, found, ..
            } => write!(
                f,
                "is not a {expected} key share but {found}'s: give {expected} its own share file"
            ),
            Self::Damaged {
                expected, error, ..
            } => write!(
                f,
                "is not a {expected} key share or is damaged ({error}); it may belong to the \
                 other party, be truncated, or have been altered: restore it from a backup"
            ),
            Self::OldFormat { .. } => f.write_str(
                "was made by an older version of ecdsa2pc, before every signature carried a \
                 proof that party 1's ciphertext is well formed (π_c3) and shares recorded \
                 party 0's commitment parameters: it cannot sign or refresh any more. Run keygen \
                 again on both parties and move the funds to the new key",
            ),
            Self::ParamsNotShare { .. } => f.write_str(
                "holds party 0's commitment-parameter secret, not a key share (the file is \
                 intact): give the path of the key share file",
            ),
            Self::Unrecognised { error, .. } => write!(
                f,
                "is not an ecdsa2pc key share of a known version, or is damaged ({error}): \
                 restore it from a backup"
            ),
            Self::WrongSecret { sealed_with, .. } => write!(
                f,
                "is encrypted with a {sealed_with}, and the secret given does not open it: give \
                 the {sealed_with} it was encrypted with"
            ),
            Self::NoSecret { sealed_with, .. } => write!(
                f,
                "is encrypted with a {sealed_with}, and none was given: give the {sealed_with}"
            ),
            Self::SealBroken { part, why, .. } => match part {
                SealPart::Header => write!(
                    f,
                    "is an encrypted key share whose header is damaged ({why}): restore it from \
                     a backup"
                ),
                SealPart::Payload => write!(
                    f,
                    "is an encrypted key share that fails authentication although the secret \
                     is right ({why}): it is damaged, cut short or was tampered with; restore \
                     it from a backup"
                ),
            },
            Self::OtherKey {
                expected, found, ..
            } => write!(
                f,
                "belongs to another key (key id {}…, expected {}…): it is not a share of this \
                 key; remove or move it",
                short_hex(found),
                short_hex(expected)
            ),
            Self::LockFile { source, .. } => write!(f, "cannot create its lock file: {source}"),
            Self::InUse { .. } => {
                f.write_str("is in use by another ecdsa2pc process; wait for it to finish")
            }
            Self::Occupied { .. } => f.write_str(
                "exists already, yet it is named after the key this keygen has just made. A key \
                 id is the hash of a new random public key that nobody else knew yet, so this \
                 points to repeated randomness (a restored VM snapshot, a fixed seed) or to a \
                 planted file: investigate before touching it, it may be the live share of an \
                 existing key. It was left as it was and the new key was discarded. A keygen \
                 with fresh randomness makes a different key; if this happens again, the \
                 randomness repeats: stop and check the random generators of both parties",
            ),
            Self::Write { action, source, .. } => write!(f, "{action}: {source}"),
            Self::DecidingElsewhere { entry, .. } => write!(
                f,
                "another ecdsa2pc process is signing with a copy of this key's share right now: \
                 its lock registry entry {} appeared while this run was about to decrypt, so \
                 nothing was decrypted here. Sign with one copy at a time and run again when \
                 the other run has ended; if the entry is still there then, that run stopped \
                 while deciding and the key is refused",
                entry.display()
            ),
            Self::KeyLocked { entry, state, .. } => {
                use crate::lock_registry::LockState;
                match state {
                    LockState::Locked => write!(
                        f,
                        "its key is locked: a signature with this key failed party 0's final \
                         check, which an honest party 1 never causes, and that was recorded in \
                         the lock registry ({}). A backup, an older copy or a copy at another \
                         path of the share is locked too. Do not sign with this key again: \
                         make a new key with keygen and move the funds to it",
                        entry.display()
                    ),
                    LockState::Deciding => write!(
                        f,
                        "its key is locked: a signing run started decrypting party 1's \
                         message and never recorded its outcome (the process was stopped or \
                         crashed, or a write to the lock registry {} failed), so party 0 \
                         cannot tell whether party 1 learned anything. Treat the key as \
                         locked: make a new key with keygen and move the funds to it. (If \
                         another ecdsa2pc process is signing with a copy of this share right \
                         now, the entry may be its own: run again once it has finished; if the \
                         entry is then gone, the key is fine.)",
                        entry.display()
                    ),
                }
            }
            Self::ParamsDamaged { error, .. } => write!(
                f,
                "does not hold valid commitment parameters ({error}); it is damaged or was \
                 altered: restore it from a backup (party 0 signs only with the parameter \
                 secret its keys were made with)"
            ),
            Self::ParamsPinned {
                pin,
                pinned,
                offered,
            } => write!(
                f,
                "party 0 offers commitment parameters {}… but party 1 pinned {}… for this \
                 party 0 at an earlier keygen: refusing them. Most often party 0 ran with \
                 another share directory, which made it new parameters (they live in \
                 ring-pedersen.secret beside its shares: copy that file from its first \
                 directory), or lost that file; if neither, someone else may hold party 0's \
                 certificate. If party 0 rotated its parameters on purpose, delete the pin {} \
                 and run keygen again",
                crate::pins::short(offered),
                crate::pins::short(pinned),
                pin.display()
            ),
            Self::PinDamaged { pin } => write!(
                f,
                "is not a pin this version wrote for the party 0 its name says; it is damaged or \
                 was altered: delete it (the next keygen checks party 0's parameter proof again \
                 and pins them anew) after checking who could write {}",
                pin.display()
            ),
            Self::NoCommonEpoch { ours, theirs } => {
                write!(
                    f,
                    "the parties hold no key share in common (our epochs {ours:?}, the peer's \
                     {theirs:?}): "
                )?;
                // A refresh keeps the key, so the same key at different epochs is one side
                // holding a share from before a refresh (a restored backup, an old copy).
                let (our_max, their_max) = (ours.iter().max(), theirs.iter().max());
                if our_max < their_max {
                    write!(
                        f,
                        "our share is older than the peer's, from before a refresh (a \
                         restored backup or an old copy?); use this party's newest share of \
                         the key"
                    )
                } else if our_max > their_max {
                    write!(
                        f,
                        "the peer's share is older than ours, from before a refresh (a \
                         restored backup or an old copy?); the peer must use its newest share \
                         of the key"
                    )
                } else {
                    write!(
                        f,
                        "the shares have the same epoch but differ: they were made by \
                         different keygen or refresh runs, or one side's files were replaced; \
                         use the share files of the same key on both sides"
                    )
                }
            }
        }
    }
}

/// What the file at `path` is, for messages: the store's files have fixed names or suffixes.
fn noun(path: &std::path::Path) -> &'static str {
    if path.file_name() == Some(crate::params_secret::FILE_NAME.as_ref()) {
        "party 0's commitment-parameter secret"
    } else if path.extension() == Some(crate::pins::PIN_SUFFIX.as_ref()) {
        "parameter pin"
    } else {
        "key share"
    }
}

/// The first 8 bytes of a key id, hex: enough to tell keys apart in a message.
fn short_hex(id: &[u8; 32]) -> String {
    id[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl core::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Unreadable { source, .. }
            | Self::LockFile { source, .. }
            | Self::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    /// The message says which side holds the older share, or that the shares differ at the
    /// same epoch.
    #[test]
    fn no_common_epoch_names_the_stale_side() {
        let text = |ours: &[u64], theirs: &[u64]| {
            StoreError::NoCommonEpoch {
                ours: ours.to_vec(),
                theirs: theirs.to_vec(),
            }
            .to_string()
        };
        assert!(text(&[0], &[1]).contains("our share is older than the peer's"));
        assert!(text(&[2, 3], &[1]).contains("the peer's share is older than ours"));
        let same = text(&[1], &[1]);
        assert!(same.contains("the same epoch but differ"), "{same}");
        assert!(!same.contains("older"), "{same}");
    }
}
