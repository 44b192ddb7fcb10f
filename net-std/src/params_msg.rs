//! Party 0's parameter message, proved once per identity and reused.
//!
//! At every keygen party 0 sends its ring-Pedersen parameters with a Π^prm proof that
//! g ∈ ⟨h⟩ ([`ParamsMsg`]). The proof is bound to the parameters and to party 0's pid, not to
//! a session or a peer, so the same message serves every keygen of one identity. Proving it
//! takes about half a second (128 exponentiations mod N̂), several times the rest of a
//! keygen. A [`ParamsMsgCache`] proves it at most once per process and, when party 0's
//! parameter secret is on disk, keeps it in [`FILE_NAME`] beside that secret, so that later
//! runs read it instead.
//!
//! The file is public data (the parameters and a proof about them, no secret) in a small
//! versioned layout that ends with a SHA-256 of everything before it; a file that is
//! damaged, made for another identity (a new certificate is a new pid) or for other
//! parameters is not used: the cache proves again and replaces it. Party 0 does not
//! re-verify the proof it reads: that costs as much as proving. If a party 1 refuses the
//! proof anyway (a file replaced by someone who can write party 0's directory), the keygen
//! driver drops the cached message ([`ParamsMsgCache::forget`]) so that the next keygen
//! proves again; such a writer can deny keygen but never weaken a check, and could delete
//! the parameter secret as well.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ecdsa2pc_core::{Message, ParamsMsg, RingPedersenSecret};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::identity::Pid;
use crate::params_secret::ParamsSecretFile;
use crate::store;

/// The file name of party 0's parameter message, beside its parameter secret.
pub const FILE_NAME: &str = "ring-pedersen.proof";

/// The first bytes of the file: what it is and the layout's version.
const MAGIC: &[u8; 24] = b"ecdsa2pc params proof v1";

/// The checksum's length.
const SUM_LEN: usize = 32;

/// The file's length: magic, owner pid, the message, the checksum.
const FILE_LEN: usize = MAGIC.len() + 32 + ParamsMsg::LEN + SUM_LEN;

/// Party 0's parameter message for one identity: the parameters, their Π^prm proof bound to
/// `owner`, and that pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedParamsMsg {
    owner: Pid,
    msg: ParamsMsg,
}

impl CachedParamsMsg {
    /// Proves `secret`'s parameters for party 0's pid `owner` (about half a second).
    #[must_use]
    pub fn prove<R: CryptoRng + ?Sized>(
        rng: &mut R,
        secret: &RingPedersenSecret,
        owner: &Pid,
    ) -> Self {
        Self {
            owner: *owner,
            msg: secret.params_msg(rng, owner),
        }
    }

    /// The message party 0 sends at keygen.
    #[must_use]
    pub fn msg(&self) -> &ParamsMsg {
        &self.msg
    }

    /// Whether this is the message for `secret`'s parameters and party 0's pid `owner`.
    #[must_use]
    pub fn is_for(&self, secret: &RingPedersenSecret, owner: &Pid) -> bool {
        self.owner == *owner && self.msg.params() == secret.params()
    }

    /// The file's bytes.
    fn to_file(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FILE_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.owner);
        // Encoded in place: the space is the message's fixed length, so encoding cannot run
        // short.
        let start = out.len();
        out.resize(start + ParamsMsg::LEN, 0);
        let len = out
            .get_mut(start..)
            .map_or(0, |space| self.msg.encode(space).unwrap_or(0));
        out.truncate(start + len);
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// Reads the file's bytes: `None` for a wrong length, checksum or magic, or a message
    /// that does not decode.
    fn from_file(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != FILE_LEN {
            return None;
        }
        let (body, sum) = bytes.split_at(FILE_LEN - SUM_LEN);
        if Sha256::digest(body).as_slice() != sum {
            return None;
        }
        let rest = body.strip_prefix(MAGIC.as_slice())?;
        let (owner, msg) = rest.split_at(32);
        Some(Self {
            owner: owner.try_into().ok()?,
            msg: ParamsMsg::decode(msg).ok()?,
        })
    }
}

/// Where party 0 gets its parameter message: proved at most once per process and identity,
/// and kept beside the parameter secret when that is on disk.
#[derive(Debug, Default)]
pub struct ParamsMsgCache {
    file: Option<PathBuf>,
    cached: Mutex<Option<Arc<CachedParamsMsg>>>,
    /// Why the last message made could not be kept in the file, until taken.
    write_error: Mutex<Option<StoreError>>,
}

impl ParamsMsgCache {
    /// A cache that keeps the message in memory only (the demo, tests).
    #[must_use]
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// A cache that also keeps the message in [`FILE_NAME`] beside `secret_file`.
    #[must_use]
    pub fn beside(secret_file: &ParamsSecretFile) -> Self {
        Self {
            file: Some(secret_file.path().with_file_name(FILE_NAME)),
            ..Self::default()
        }
    }

    /// The file the message is kept in, if any.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The parameter message for `secret` and party 0's pid `owner`: the one in memory if it
    /// is for them, else the one in the file if that is, else a new proof, written to the
    /// file. A failed write does not fail this (the next run proves again); it is kept for
    /// [`ParamsMsgCache::take_write_error`].
    pub fn get<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        secret: &RingPedersenSecret,
        owner: &Pid,
    ) -> Arc<CachedParamsMsg> {
        // A panic elsewhere cannot leave a wrong message here: each is checked before use.
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = cached.as_ref().filter(|m| m.is_for(secret, owner)) {
            return Arc::clone(hit);
        }
        let from_file = self
            .file
            .as_ref()
            .and_then(|path| store::read_bytes(path).ok())
            .and_then(|bytes| CachedParamsMsg::from_file(&bytes))
            .filter(|m| m.is_for(secret, owner));
        let msg = Arc::new(from_file.unwrap_or_else(|| {
            let made = CachedParamsMsg::prove(rng, secret, owner);
            if let Some(path) = &self.file
                && let Err(e) = store::write_atomic(path, &made.to_file())
            {
                *self
                    .write_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e);
            }
            made
        }));
        *cached = Some(Arc::clone(&msg));
        msg
    }

    /// Why the last message this cache made could not be kept in its file, once: for the
    /// caller to say so (the message itself was fine and was used).
    pub fn take_write_error(&self) -> Option<StoreError> {
        self.write_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Drops the cached message from memory and removes its file: a party 1 refused its
    /// proof, so the next keygen proves again. Best effort: a file that cannot be removed is
    /// replaced by the next proof anyway.
    pub fn forget(&self) {
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(path) = &self.file {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached message over [`ParamsMsg::EMPTY`]: the layout is all these tests look at.
    fn sample() -> CachedParamsMsg {
        CachedParamsMsg {
            owner: [5; 32],
            msg: ParamsMsg::EMPTY,
        }
    }

    /// `body` with its checksum recomputed, so that only the check under test can refuse it.
    fn resealed(mut bytes: Vec<u8>) -> Vec<u8> {
        let body_len = bytes.len() - SUM_LEN;
        let sum = Sha256::digest(&bytes[..body_len]);
        bytes[body_len..].copy_from_slice(&sum);
        bytes
    }

    #[test]
    fn the_file_round_trips() {
        let bytes = sample().to_file();
        assert_eq!(bytes.len(), FILE_LEN);
        assert_eq!(CachedParamsMsg::from_file(&bytes), Some(sample()));
    }

    #[test]
    fn a_wrong_checksum_magic_length_or_message_is_refused() {
        let good = sample().to_file();
        let mut bad_sum = good.clone();
        bad_sum[FILE_LEN - 1] ^= 1;
        assert_eq!(CachedParamsMsg::from_file(&bad_sum), None);
        // Each below carries a valid checksum: the magic, the message's header (its wire
        // version and type) must refuse it on their own.
        let mut bad_magic = good.clone();
        bad_magic[MAGIC.len() - 1] = b'2';
        assert_eq!(CachedParamsMsg::from_file(&resealed(bad_magic)), None);
        for at in [0, 1] {
            let mut bad_header = good.clone();
            bad_header[MAGIC.len() + 32 + at] ^= 0x40;
            assert_eq!(
                CachedParamsMsg::from_file(&resealed(bad_header)),
                None,
                "header byte {at}"
            );
        }
        assert_eq!(CachedParamsMsg::from_file(&good[..FILE_LEN - 1]), None);
        let mut long = good;
        long.push(0);
        assert_eq!(CachedParamsMsg::from_file(&resealed(long)), None);
    }
}
