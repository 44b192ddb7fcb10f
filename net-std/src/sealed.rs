//! Key shares sealed at rest: the core's share encoding encrypted with XChaCha20-Poly1305
//! under a key derived from a passphrase (Argon2id) or taken from a 32-byte key file.
//!
//! A sealed file is a public header followed by the ciphertext of the share and its 16-byte
//! tag. The whole header is the AEAD's associated data, so no field of it can be changed
//! without the tag failing. All integers are big-endian.
//!
//! | offset | length | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `E2PS` |
//! | 4 | 1 | sealed format version, 1 |
//! | 5 | 1 | party index (0 or 1) |
//! | 6 | 1 | secret kind: 1 passphrase (Argon2id), 2 key file |
//! | 7 | 1 | content: 0 a key share, 1 party 0's commitment-parameter secret |
//! | 8 | 4 | Argon2id memory m in KiB (0 for a key file) |
//! | 12 | 4 | Argon2id passes t (0 for a key file) |
//! | 16 | 4 | Argon2id lanes p (0 for a key file) |
//! | 20 | 16 | salt (random per derivation) |
//! | 36 | 32 | key id: SHA-256 of the joint public key Q, SEC1 compressed (a parameter secret: the parameters' hash) |
//! | 68 | 8 | epoch (a parameter secret: 0) |
//! | 76 | 24 | XChaCha20 nonce (random per write) |
//! | 100 | 16 | secret check: SHA-256(`ecdsa2pc sealed check v1` ‖ salt ‖ M), first 16 bytes |
//! | 116 | 16 | header checksum: SHA-256 of bytes 0..116, first 16 bytes |
//! | 132 | n + 16 | ciphertext of the n-byte share encoding, then the Poly1305 tag |
//!
//! M is the Argon2id output (32 bytes) over the passphrase and salt with the stored (m, t, p),
//! or the key file's 32 bytes; the AEAD key is SHA-256(`ecdsa2pc sealed key v1` ‖ salt ‖ M).
//! Opening checks, in order: the header checksum and parameter bounds (accidental damage:
//! [`StoreError::SealBroken`]), the party ([`StoreError::OtherParty`]), the expected key id
//! ([`StoreError::OtherKey`]), the secret check ([`StoreError::WrongSecret`]), then the tag
//! ([`StoreError::SealBroken`]: the secret is right, so the ciphertext, tag or header was
//! altered). The secret check tells a wrong passphrase from a damaged file; it reveals no more
//! about M than the ciphertext already does, since both need the Argon2id work to test a guess.

use core::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use ecdsa2pc_core::{KeyShare, Party};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{SealPart, StoreError};

/// The magic at the start of a sealed share file.
pub const MAGIC: &[u8; 4] = b"E2PS";
/// The sealed format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Length of the public header (the associated data).
pub const HEADER_LEN: usize = 132;
/// Length of the Poly1305 tag after the ciphertext.
pub const TAG_LEN: usize = 16;
/// Length of a key file's key.
pub const KEY_LEN: usize = 32;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const CHECK_LEN: usize = 16;
const KIND_PASSPHRASE: u8 = 1;
const KIND_KEY_FILE: u8 = 2;
const CHECK_DOMAIN: &[u8] = b"ecdsa2pc sealed check v1";
const KEY_DOMAIN: &[u8] = b"ecdsa2pc sealed key v1";

pub use crate::key_id::{KeyId, key_id};

/// Argon2id cost parameters, stored in each sealed file so that they can be raised later
/// without making older files unreadable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes over the memory.
    pub t: u32,
    /// Lanes (parallelism).
    pub p: u32,
}

impl KdfParams {
    /// What new files get: 64 MiB, 3 passes, 1 lane (above OWASP's minimum of 19 MiB, t = 2;
    /// about a quarter of a second on a current core).
    pub const DEFAULT: Self = Self {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// Largest memory a file may ask for (4 GiB): a damaged or hostile header must not make
    /// opening it exhaust the machine.
    pub const MAX_M_KIB: u32 = 4 * 1024 * 1024;
    /// Most passes a file may ask for.
    pub const MAX_T: u32 = 64;
    /// Most lanes a file may ask for.
    pub const MAX_P: u32 = 64;

    /// Whether a file may ask for these parameters (Argon2's minimums, our maximums).
    #[must_use]
    pub fn acceptable(&self) -> bool {
        (1..=Self::MAX_P).contains(&self.p)
            && (1..=Self::MAX_T).contains(&self.t)
            && self.m_kib >= 8 * self.p
            && self.m_kib <= Self::MAX_M_KIB
    }
}

/// What a sealed file is opened with: a passphrase or a 32-byte key (from a key file).
/// Both are wiped when dropped; `Debug` does not show them.
#[derive(Clone)]
pub enum Secret {
    /// A passphrase, stretched with Argon2id.
    Passphrase(Zeroizing<Vec<u8>>),
    /// A random 32-byte key, used as it is.
    Key(Zeroizing<[u8; KEY_LEN]>),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Passphrase(_) => "Secret::Passphrase(..)",
            Self::Key(_) => "Secret::Key(..)",
        })
    }
}

impl Secret {
    fn kind(&self) -> u8 {
        match self {
            Self::Passphrase(_) => KIND_PASSPHRASE,
            Self::Key(_) => KIND_KEY_FILE,
        }
    }
}

/// What a sealed file holds (header byte 7; files written before it existed hold 0, a share).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A key share ([`crate::store`]).
    Share,
    /// Party 0's ring-Pedersen parameter secret ([`crate::params_secret`]).
    ParamsSecret,
}

impl Content {
    /// What a file with this content holds, for messages ("a key share").
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Share => "an ecdsa2pc key share",
            Self::ParamsSecret => "party 0's commitment-parameter secret",
        }
    }

    fn byte(self) -> u8 {
        match self {
            Self::Share => 0,
            Self::ParamsSecret => 1,
        }
    }
}

/// What the header of a sealed file says about its content: written in the clear, and
/// authenticated with the rest of the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label {
    /// What the file holds.
    pub content: Content,
    /// The party it belongs to.
    pub party: Party,
    /// The key id ([`key_id`]) of a share; the parameters' hash of a parameter secret.
    pub key_id: KeyId,
    /// The epoch of a share; 0 for a parameter secret.
    pub epoch: u64,
}

impl Label {
    /// The label of `share`.
    #[must_use]
    pub fn of_share<S: KeyShare>(share: &S) -> Self {
        Self {
            content: Content::Share,
            party: S::PARTY,
            key_id: key_id(&share.public().q),
            epoch: share.epoch(),
        }
    }
}

/// The kind of secret a sealed file was made with, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// A passphrase.
    Passphrase,
    /// A key file.
    KeyFile,
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Passphrase => "passphrase",
            Self::KeyFile => "key file",
        })
    }
}

/// A secret with its derived keys cached: Argon2id runs once per salt, not once per file
/// read or written. Clones share the cache.
#[derive(Clone, Debug)]
pub struct Sealer {
    secret: Secret,
    params: KdfParams,
    cache: Arc<Mutex<Option<Derived>>>,
}

/// M for one (salt, parameters): wiped when dropped.
struct Derived {
    salt: [u8; SALT_LEN],
    params: KdfParams,
    master: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Derived(..)")
    }
}

/// The public header of a sealed file, parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// What the file holds.
    pub content: Content,
    /// Whose share it is.
    pub party: Party,
    /// The kind of secret it was sealed with.
    pub kind: SecretKind,
    /// The Argon2id parameters (zero for a key file).
    pub params: KdfParams,
    /// The key it belongs to.
    pub key_id: KeyId,
    /// The share's epoch.
    pub epoch: u64,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    check: [u8; CHECK_LEN],
}

/// Whether `bytes` start like a sealed share file (any version).
#[must_use]
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Parses and checks the public header of a sealed file (checksum, version, party,
/// parameters); nothing secret is needed.
///
/// # Errors
/// [`StoreError::SealBroken`] with [`SealPart::Header`].
pub fn header(path: &Path, bytes: &[u8]) -> Result<Header, StoreError> {
    let broken = |why: &'static str| StoreError::SealBroken {
        path: path.to_path_buf(),
        part: SealPart::Header,
        why,
    };
    let head = bytes
        .get(..HEADER_LEN)
        .ok_or(broken("the file is shorter than the header"))?;
    let (body, sum) = head.split_at(HEADER_LEN - 16);
    if Sha256::digest(body)[..16] != *sum {
        return Err(broken("the header checksum does not match"));
    }
    if head[4] != VERSION {
        return Err(broken("unknown sealed format version"));
    }
    let party = Party::from_index(head[5]).ok_or(broken("unknown party"))?;
    let content = match head[7] {
        0 => Content::Share,
        1 => Content::ParamsSecret,
        _ => return Err(broken("unknown kind of content")),
    };
    let kind = match head[6] {
        KIND_PASSPHRASE => SecretKind::Passphrase,
        KIND_KEY_FILE => SecretKind::KeyFile,
        _ => return Err(broken("unknown kind of secret")),
    };
    let u32_at =
        |at: usize| u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
    let params = KdfParams {
        m_kib: u32_at(8),
        t: u32_at(12),
        p: u32_at(16),
    };
    let params_ok = match kind {
        SecretKind::Passphrase => params.acceptable(),
        SecretKind::KeyFile => {
            params
                == KdfParams {
                    m_kib: 0,
                    t: 0,
                    p: 0,
                }
        }
    };
    if !params_ok {
        return Err(broken("its Argon2id parameters are out of bounds"));
    }
    let mut epoch = [0u8; 8];
    epoch.copy_from_slice(&head[68..76]);
    let mut h = Header {
        content,
        party,
        kind,
        params,
        key_id: [0; 32],
        epoch: u64::from_be_bytes(epoch),
        salt: [0; SALT_LEN],
        nonce: [0; NONCE_LEN],
        check: [0; CHECK_LEN],
    };
    h.salt.copy_from_slice(&head[20..36]);
    h.key_id.copy_from_slice(&head[36..68]);
    h.nonce.copy_from_slice(&head[76..100]);
    h.check.copy_from_slice(&head[100..116]);
    Ok(h)
}

impl Header {
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..4].copy_from_slice(MAGIC);
        out[4] = VERSION;
        out[5] = self.party.index();
        out[6] = match self.kind {
            SecretKind::Passphrase => KIND_PASSPHRASE,
            SecretKind::KeyFile => KIND_KEY_FILE,
        };
        out[7] = self.content.byte();
        out[8..12].copy_from_slice(&self.params.m_kib.to_be_bytes());
        out[12..16].copy_from_slice(&self.params.t.to_be_bytes());
        out[16..20].copy_from_slice(&self.params.p.to_be_bytes());
        out[20..36].copy_from_slice(&self.salt);
        out[36..68].copy_from_slice(&self.key_id);
        out[68..76].copy_from_slice(&self.epoch.to_be_bytes());
        out[76..100].copy_from_slice(&self.nonce);
        out[100..116].copy_from_slice(&self.check);
        let sum = Sha256::digest(&out[..HEADER_LEN - 16]);
        out[HEADER_LEN - 16..].copy_from_slice(&sum[..16]);
        out
    }
}

impl Sealer {
    /// A sealer for `secret`; new passphrase-sealed files use [`KdfParams::DEFAULT`].
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self::with_params(secret, KdfParams::DEFAULT)
    }

    /// A sealer whose new passphrase-sealed files use `params` (tests use cheap ones; files
    /// record their parameters, so any acceptable ones can be opened).
    ///
    /// # Panics
    /// If `params` are not [`KdfParams::acceptable`] (a programming error).
    #[must_use]
    pub fn with_params(secret: Secret, params: KdfParams) -> Self {
        assert!(params.acceptable(), "Argon2id parameters out of bounds");
        Self {
            secret,
            params,
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The kind of secret this sealer holds.
    #[must_use]
    pub fn kind(&self) -> SecretKind {
        match self.secret {
            Secret::Passphrase(_) => SecretKind::Passphrase,
            Secret::Key(_) => SecretKind::KeyFile,
        }
    }

    /// M for `salt` and `params` (from the cache, or derived and then cached).
    fn master(
        &self,
        salt: &[u8; SALT_LEN],
        params: KdfParams,
    ) -> Result<Zeroizing<[u8; 32]>, String> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(d) = cache.as_ref()
            && d.salt == *salt
            && d.params == params
        {
            return Ok(d.master.clone());
        }
        let master = match &self.secret {
            Secret::Key(key) => key.clone(),
            Secret::Passphrase(pass) => {
                let argon = Params::new(params.m_kib, params.t, params.p, Some(32))
                    .map_err(|e| format!("Argon2id parameters: {e}"))?;
                let mut out = Zeroizing::new([0u8; 32]);
                Argon2::new(Algorithm::Argon2id, Version::V0x13, argon)
                    .hash_password_into(pass, salt, out.as_mut())
                    .map_err(|e| format!("Argon2id: {e}"))?;
                out
            }
        };
        *cache = Some(Derived {
            salt: *salt,
            params,
            master: master.clone(),
        });
        Ok(master)
    }

    /// The salt and parameters of the cached derivation if it was made with this sealer's
    /// own parameters; otherwise a new random salt (so a new file never reuses one it read
    /// with weaker parameters).
    fn salt_for_writing(&self) -> Result<[u8; SALT_LEN], String> {
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(d) = cache.as_ref()
            && d.params == self.write_params()
        {
            return Ok(d.salt);
        }
        drop(cache);
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| format!("OS RNG: {e}"))?;
        Ok(salt)
    }

    fn write_params(&self) -> KdfParams {
        match self.secret {
            Secret::Passphrase(_) => self.params,
            Secret::Key(_) => KdfParams {
                m_kib: 0,
                t: 0,
                p: 0,
            },
        }
    }

    /// Seals the encoding `plain` of `share` (written to `path`).
    ///
    /// # Errors
    /// [`StoreError::Write`] if the OS gives no randomness or the cipher refuses (a bug).
    pub fn seal<S: KeyShare>(
        &self,
        path: &Path,
        share: &S,
        plain: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.seal_labelled(path, Label::of_share(share), plain)
    }

    /// Seals `plain` (written to `path`) under a header that says `label`.
    ///
    /// # Errors
    /// As [`Sealer::seal`].
    pub fn seal_labelled(
        &self,
        path: &Path,
        label: Label,
        plain: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let fail = |why: String| StoreError::Write {
            path: path.to_path_buf(),
            action: "cannot seal the file",
            source: std::io::Error::other(why),
        };
        let salt = self.salt_for_writing().map_err(fail)?;
        let params = self.write_params();
        let master = self.master(&salt, params).map_err(fail)?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| fail(format!("OS RNG: {e}")))?;
        let h = Header {
            content: label.content,
            party: label.party,
            kind: self.kind(),
            params,
            key_id: label.key_id,
            epoch: label.epoch,
            salt,
            nonce,
            check: check_value(&salt, &master),
        };
        debug_assert_eq!(self.secret.kind(), h.to_bytes()[6]);
        seal_with(&h, &master, plain).map_err(fail)
    }

    /// Opens a sealed file's bytes: checks the header, its party (`expected`), its key id
    /// (`expected_key`, if the caller knows which key it must be), the secret, and the tag;
    /// returns the share encoding inside.
    ///
    /// # Errors
    /// [`StoreError::SealBroken`], [`StoreError::OtherParty`], [`StoreError::OtherKey`],
    /// [`StoreError::WrongSecret`], as described in the module documentation.
    pub fn open(
        &self,
        path: &Path,
        bytes: &[u8],
        expected: Party,
        expected_key: Option<&KeyId>,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.open_content(path, bytes, Content::Share, expected, expected_key)
    }

    /// [`Sealer::open`] for a file that must hold `content`: another content is
    /// [`StoreError::SealBroken`] ([`SealPart::Header`]) before anything else is checked.
    ///
    /// # Errors
    /// As [`Sealer::open`].
    pub fn open_content(
        &self,
        path: &Path,
        bytes: &[u8],
        content: Content,
        expected: Party,
        expected_key: Option<&KeyId>,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let h = header(path, bytes)?;
        if h.content != content {
            return Err(StoreError::SealBroken {
                path: path.to_path_buf(),
                part: SealPart::Header,
                why: match content {
                    Content::Share => {
                        "it holds party 0's commitment-parameter secret, not a key share"
                    }
                    Content::ParamsSecret => {
                        "it holds a key share, not party 0's commitment-parameter secret"
                    }
                },
            });
        }
        if h.party != expected {
            return Err(StoreError::OtherParty {
                path: path.to_path_buf(),
                expected,
                found: h.party,
            });
        }
        if let Some(want) = expected_key
            && *want != h.key_id
        {
            return Err(StoreError::OtherKey {
                path: path.to_path_buf(),
                expected: *want,
                found: h.key_id,
            });
        }
        let wrong = StoreError::WrongSecret {
            path: path.to_path_buf(),
            sealed_with: h.kind,
        };
        if h.kind != self.kind() {
            return Err(wrong);
        }
        let master = self
            .master(&h.salt, h.params)
            .map_err(|_| StoreError::SealBroken {
                path: path.to_path_buf(),
                part: SealPart::Header,
                why: "its Argon2id parameters cannot be used",
            })?;
        if !bool::from(check_value(&h.salt, &master).ct_eq(&h.check)) {
            return Err(wrong);
        }
        let key = Zeroizing::new(aead_key(&h.salt, &master));
        let cipher = XChaCha20Poly1305::new((&*key).into());
        let (aad, ciphertext) = bytes.split_at(HEADER_LEN);
        let plain = cipher
            .decrypt(
                (&h.nonce).into(),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| StoreError::SealBroken {
                path: path.to_path_buf(),
                part: SealPart::Payload,
                // The header is checked above, so a file cut short fails here too.
                why: "the ciphertext, its tag or the header was altered, or the file was cut \
                      short (an incomplete copy)",
            })?;
        Ok(Zeroizing::new(plain))
    }
}

/// The secret check stored in the header.
fn check_value(salt: &[u8; SALT_LEN], master: &[u8; 32]) -> [u8; CHECK_LEN] {
    let d = Sha256::new()
        .chain_update(CHECK_DOMAIN)
        .chain_update(salt)
        .chain_update(master)
        .finalize();
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&d[..CHECK_LEN]);
    out
}

/// The AEAD key for one salt.
fn aead_key(salt: &[u8; SALT_LEN], master: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(KEY_DOMAIN)
        .chain_update(salt)
        .chain_update(master)
        .finalize()
        .into()
}

/// Header ‖ AEAD(plain) with the header as associated data.
fn seal_with(h: &Header, master: &[u8; 32], plain: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
    let head = h.to_bytes();
    let key = Zeroizing::new(aead_key(&h.salt, master));
    let cipher = XChaCha20Poly1305::new((&*key).into());
    let sealed = cipher
        .encrypt(
            (&h.nonce).into(),
            Payload {
                msg: plain,
                aad: &head,
            },
        )
        .map_err(|_| "the cipher refused the share".to_owned())?;
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + sealed.len()));
    out.extend_from_slice(&head);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Parses a key file's content: 32 raw bytes, or 64 hex digits (surrounding whitespace
/// allowed).
///
/// # Errors
/// A sentence saying what the content is instead.
pub fn parse_key(content: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, String> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    if content.len() == KEY_LEN {
        key.copy_from_slice(content);
        return Ok(key);
    }
    let text = content.trim_ascii();
    if text.len() == 2 * KEY_LEN && text.iter().all(u8::is_ascii_hexdigit) {
        for (out, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => c - b'A' + 10,
            };
            *out = digit(pair[0]) << 4 | digit(pair[1]);
        }
        return Ok(key);
    }
    Err(format!(
        "holds {} bytes: a key file must hold exactly 32 random bytes or 64 hex digits \
         (make one with `head -c 32 /dev/urandom > FILE`)",
        content.len()
    ))
}
