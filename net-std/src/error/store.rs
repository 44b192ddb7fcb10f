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
    /// The two parties hold no key-share epoch in common.
    NoCommonEpoch {
        /// Our epochs (active, and pending if any).
        ours: Vec<u64>,
        /// The peer's.
        theirs: Vec<u64>,
    },
}

impl StoreError {
    /// The share file this error is about, if it is about one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Missing { path }
            | Self::Unconfirmed { path, .. }
            | Self::Unreadable { path, .. }
            | Self::LoosePermissions { path, .. }
            | Self::OtherParty { path, .. }
            | Self::Damaged { path, .. }
            | Self::Unrecognised { path, .. }
            | Self::WrongSecret { path, .. }
            | Self::NoSecret { path, .. }
            | Self::SealBroken { path, .. }
            | Self::OtherKey { path, .. }
            | Self::LockFile { path, .. }
            | Self::InUse { path }
            | Self::Write { path, .. }
            | Self::KeyLocked { path, .. } => Some(path),
            Self::NoCommonEpoch { .. } => None,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.path() {
            write!(f, "key share {}: ", path.display())?;
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
                "can be read or written by other users (mode {mode:04o}); a key share must be \
                 private to its owner: fix it with `chmod 600 {}`, and if others may have \
                 copied it, treat the key as exposed",
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
                     is right ({why}): it is damaged or was tampered with; restore it from a \
                     backup"
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
            Self::Write { action, source, .. } => write!(f, "{action}: {source}"),
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
                         locked: make a new key with keygen and move the funds to it",
                        entry.display()
                    ),
                }
            }
            Self::NoCommonEpoch { ours, theirs } => write!(
                f,
                "the parties hold no key share in common (our epochs {ours:?}, the peer's \
                 {theirs:?}): they were made by different keygen runs, or one side's files were \
                 replaced; use the share files of the same key on both sides"
            ),
        }
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
