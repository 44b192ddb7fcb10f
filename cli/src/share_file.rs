//! A party's key share on disk as the commands use it: lock and load (each file read
//! once), a one-line summary, and the joint public key.

use std::path::{Path, PathBuf};

use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{KeyShare, Party};
use ecdsa2pc_net::StoreError;
use ecdsa2pc_net::store::{Held, ShareFiles, ShareLock};
use k256::ecdsa::VerifyingKey;

use crate::error::CliError;
use crate::output::{Log, hex};
use crate::wallet::Network;
use crate::wallet::xpub::Xpub;

/// Takes the share's process lock, then loads the share (active and pending) of the
/// party `S` belongs to, and prints a summary.
pub(crate) fn lock_and_load<S: KeyShare>(
    files: &ShareFiles,
    log: &Log,
) -> Result<(ShareLock, Held<S>), CliError> {
    let lock = files.lock_existing()?;
    let held = files.load::<S>()?;
    log.line(format_args!(
        "key share {}: {}, epoch {}, public key {}{}",
        files.path().display(),
        S::PARTY,
        held.active.epoch(),
        public_key_hex(&public_key(&held.active)?),
        if held.active.is_locked() {
            ", LOCKED"
        } else {
            ""
        }
    ));
    if let Some(pending) = &held.pending {
        log.line(format_args!(
            "pending share {} (epoch {}) from an interrupted refresh: the parties will \
             settle on their newest common epoch",
            files.pending_path().display(),
            pending.epoch()
        ));
    }
    Ok((lock, held))
}

/// Whether the key of `share` (read from `path`) is locked, and by what: the share's own flag
/// (`None`), or for party 0 an entry of the lock registry, which outlives restored or copied
/// share files (`Some(entry)`).
pub(crate) fn lock_state<S: KeyShare>(path: &Path, share: &S) -> Option<Option<PathBuf>> {
    let registry = match S::PARTY {
        Party::P1 => crate::session::lock_registry(path)
            .check(share.public())
            .err(),
        Party::P2 => None,
    };
    match registry {
        Some(StoreError::KeyLocked { entry, .. }) => Some(Some(entry)),
        // Another error reading the registry: reported by the commands that sign.
        _ => share.is_locked().then_some(None),
    }
}

/// The joint public key Q of a share.
pub(crate) fn public_key<S: KeyShare>(share: &S) -> Result<VerifyingKey, CliError> {
    VerifyingKey::from_affine(share.public().q)
        .map_err(|_| CliError::Verification("the key share holds an invalid public key".into()))
}

/// Q as SEC1 compressed hex.
pub(crate) fn public_key_hex(key: &VerifyingKey) -> String {
    hex(key.to_sec1_point(true).as_bytes())
}

/// The key at `path` below a share's joint key (the key itself for `m`), with its extended
/// key when the share has a chain code (`network` picks xpub or tpub).
///
/// # Errors
/// A usage error for a path other than `m` on a share made before chain codes (naming
/// the fix), or for BIP32's invalid child.
pub(crate) fn derived_key<S: KeyShare>(
    share: &S,
    path: &DerivationPath,
    network: Network,
) -> Result<(VerifyingKey, Option<Xpub>), CliError> {
    let root = match share.extended_key() {
        Ok(root) => root,
        Err(ecdsa2pc_core::Error::NoChainCode) if path.depth() == 0 => {
            return Ok((public_key(share)?, None));
        }
        Err(e) => return Err(CliError::Usage(format!("--path {path}: {e}"))),
    };
    let (child, _) = Xpub::master(root, network)
        .derive(path)
        .map_err(|e| CliError::Usage(format!("--path {path}: {e}")))?;
    let key = VerifyingKey::from_affine(*child.key.key())
        .map_err(|_| CliError::Verification("the derived public key is invalid".into()))?;
    Ok((key, Some(child)))
}
