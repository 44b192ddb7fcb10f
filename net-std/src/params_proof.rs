//! Party 0's parameter message, proved once per identity and reused.
//!
//! At every keygen party 0 sends its ring-Pedersen parameters with a Π^prm proof that
//! g ∈ ⟨h⟩ ([`ParamsMsg`]). The proof is bound to the parameters and to party 0's pid, not to
//! a session or a peer, so the same message serves every keygen of one identity: proving it
//! takes about half a second (128 exponentiations mod N̂), as long as the rest of a keygen.
//! An [`Announcer`] proves it at most once per process and, when party 0's parameter secret
//! is on disk, keeps it in [`FILE_NAME`] beside that secret, so that later runs read it
//! instead.
//!
//! The file is public data (the parameters and a proof about them, no secret) in a small
//! versioned layout that ends with a SHA-256 of everything before it; a file that is
//! damaged, made for another identity (a new certificate is a new pid) or for other
//! parameters is not used: the announcer proves again and replaces it. Party 0 does not
//! re-verify the proof it reads: that costs as much as proving. A proof replaced on purpose
//! by someone who can write party 0's directory is refused by every new party 1 (its
//! [`crate::pins`] check verifies it), which can deny keygen but never weaken it; that writer
//! could delete the parameter secret as well.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use ecdsa2pc_core::{Message, ParamsMsg, RingPedersenSecret};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};

use crate::identity::Pid;
use crate::params_secret::ParamsSecretFile;
use crate::store;

/// The file name of party 0's proved parameter message, beside its parameter secret.
pub const FILE_NAME: &str = "ring-pedersen.proof";

/// The first bytes of the file: what it is and the layout's version.
const MAGIC: &[u8; 24] = b"ecdsa2pc params proof v1";

/// The file's length: magic, owner pid, the message, the checksum.
const FILE_LEN: usize = MAGIC.len() + 32 + ParamsMsg::LEN + 32;

/// Party 0's parameter message for one identity: the parameters, their Π^prm proof bound to
/// `owner`, and that pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsAnnouncement {
    owner: Pid,
    msg: ParamsMsg,
}

impl ParamsAnnouncement {
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
    pub fn announces(&self, secret: &RingPedersenSecret, owner: &Pid) -> bool {
        self.owner == *owner && self.msg.params() == secret.params()
    }

    /// The file's bytes.
    fn to_file(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FILE_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.owner);
        let mut msg = vec![0u8; ParamsMsg::LEN];
        // The buffer is the message's fixed length: encoding cannot run short.
        let len = self.msg.encode(&mut msg).unwrap_or(0);
        out.extend_from_slice(msg.get(..len).unwrap_or_default());
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// Reads the file's bytes: `None` for a wrong length, magic or checksum, or a message
    /// that does not decode.
    fn from_file(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != FILE_LEN {
            return None;
        }
        let (body, sum) = bytes.split_at(FILE_LEN - 32);
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
pub struct Announcer {
    file: Option<PathBuf>,
    cached: Mutex<Option<Arc<ParamsAnnouncement>>>,
}

impl Announcer {
    /// An announcer that keeps the message in memory only (the demo, tests).
    #[must_use]
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// An announcer that also keeps the message in [`FILE_NAME`] beside `secret_file`.
    #[must_use]
    pub fn beside(secret_file: &ParamsSecretFile) -> Self {
        Self {
            file: Some(secret_file.path().with_file_name(FILE_NAME)),
            cached: Mutex::default(),
        }
    }

    /// The file the message is kept in, if any.
    #[must_use]
    pub fn path(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    /// The parameter message for `secret` and party 0's pid `owner`: the one in memory if it
    /// is for them, else the one in the file if that is, else a new proof (written to the
    /// file; a failed write only means the next run proves again, so it is not an error).
    pub fn announcement<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        secret: &RingPedersenSecret,
        owner: &Pid,
    ) -> Arc<ParamsAnnouncement> {
        // A panic elsewhere cannot leave a wrong message here: each is checked before use.
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = cached.as_ref().filter(|a| a.announces(secret, owner)) {
            return Arc::clone(hit);
        }
        let from_file = self
            .file
            .as_ref()
            .and_then(|path| store::read_bytes(path).ok())
            .and_then(|bytes| ParamsAnnouncement::from_file(&bytes))
            .filter(|a| a.announces(secret, owner));
        let announcement = Arc::new(from_file.unwrap_or_else(|| {
            let made = ParamsAnnouncement::prove(rng, secret, owner);
            if let Some(path) = &self.file {
                let _ = store::write_atomic(path, &made.to_file());
            }
            made
        }));
        *cached = Some(Arc::clone(&announcement));
        announcement
    }
}
