//! Share-store errors: the files of a key share, and epoch agreement between the parties.

use core::fmt;
use std::io;
use std::path::PathBuf;

use ecdsa2pc_core::{Error as CoreError, Party};

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
            | Self::Unreadable { path, .. }
            | Self::LoosePermissions { path, .. }
            | Self::OtherParty { path, .. }
            | Self::Damaged { path, .. }
            | Self::Unrecognised { path, .. }
            | Self::LockFile { path, .. }
            | Self::InUse { path }
            | Self::Write { path, .. } => Some(path),
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
            Self::LockFile { source, .. } => write!(f, "cannot create its lock file: {source}"),
            Self::InUse { .. } => {
                f.write_str("is in use by another ecdsa2pc process; wait for it to finish")
            }
            Self::Write { action, source, .. } => write!(f, "{action}: {source}"),
            Self::NoCommonEpoch { ours, theirs } => write!(
                f,
                "the parties hold no key share in common (our epochs {ours:?}, the peer's \
                 {theirs:?}): they were made by different keygen runs, or one side's files were \
                 replaced; use the share files of the same key on both sides"
            ),
        }
    }
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
