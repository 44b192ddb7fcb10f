//! The share file format: versioned, fixed layout, checksummed, checked for consistency.
//!
//! ```text
//! magic "E2PC" (4) ‖ format version (1) ‖ role (1: 0 = P1, 1 = P2) ‖ curve (1: 1 = secp256k1)
//! ‖ epoch (8) ‖ locked (1) ‖ own pid (32) ‖ peer pid (32) ‖ Q, Q1, Q2 (3 × 33) ‖ c_key (512)
//! ‖ chain code (32, format 3 only)
//! ‖ P1: x1 (48) ‖ p (128) ‖ q (128) ‖ ring-Pedersen parameters' hash (32)
//!   P2: N (256) ‖ x2 (32) ‖ ring-Pedersen N̂, g, h (3 × 256)
//! ‖ SHA-256 of everything before (32)
//! ```
//!
//! Version 2 added the ring-Pedersen parameters (π_c3, issue 10); a version-1 file is
//! refused as [`Error::OldShareFormat`]: it was made without them, and keygen must run again.
//! Version 3 adds the BIP32 chain code agreed at keygen (issue 12). A version-2 file still
//! loads and signs with the master key (its chain code is `None`), and is written back as
//! version 2, so that an older release can still read it after a refresh or a lock.
//!
//! The checksum catches corruption, not an attacker who can write the file; the consistency
//! checks on load (x_i·G = Q_i, Q1 + Q2 = Q, Dec(c_key) = x1) catch a mismatched file.

use crypto_bigint::U1024;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{Common, KeyShare, KeyShareP1, KeyShareP2, PublicShares, X1};
use crate::{
    Error, Party, Result,
    paillier::{Ciphertext, PublicKey, SecretKey},
    ring_pedersen::RingPedersenParams,
    sizes::{HASH_LEN, MAX_EPOCH, MOD_N_LEN, MOD_NN_LEN, POINT_LEN, SCALAR_LEN},
    wire::{Reader, Writer},
};

const MAGIC: &[u8; 4] = b"E2PC";
/// Format of a share made before the ring-Pedersen parameters: refused as
/// [`Error::OldShareFormat`], so that every caller can say that keygen must run again.
const FORMAT_BEFORE_PARAMS: u8 = 1;
/// Format of a share without a chain code.
const FORMAT_NO_CHAIN_CODE: u8 = 2;
/// Format of a share with a chain code (every share keygen makes now).
const FORMAT_VERSION: u8 = 3;
const CURVE_SECP256K1: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 1 + 1 + 8 + 1 + 2 * HASH_LEN + 3 * POINT_LEN + MOD_NN_LEN;
const CHAIN_CODE_LEN: usize = 32;

/// The format a share is written in: 3 with a chain code, 2 without.
fn format_of(c: &Common) -> u8 {
    if c.chain_code.is_some() {
        FORMAT_VERSION
    } else {
        FORMAT_NO_CHAIN_CODE
    }
}

/// The extra length of a format over format 2.
fn extra_len(format: u8) -> usize {
    if format == FORMAT_VERSION {
        CHAIN_CODE_LEN
    } else {
        0
    }
}

/// The format byte of a share file (after the magic), if it is one this build reads.
fn read_format(bytes: &[u8]) -> Result<u8> {
    match bytes {
        [
            m0,
            m1,
            m2,
            m3,
            format @ (FORMAT_NO_CHAIN_CODE | FORMAT_VERSION),
            ..,
        ] if [*m0, *m1, *m2, *m3] == *MAGIC => Ok(*format),
        [m0, m1, m2, m3, FORMAT_BEFORE_PARAMS, ..] if [*m0, *m1, *m2, *m3] == *MAGIC => {
            Err(Error::OldShareFormat)
        }
        _ => Err(Error::InvalidShare),
    }
}
const X1_LEN: usize = 48;
const PRIME_LEN: usize = 128;

/// Reads the role a share file claims, to pick the decoder.
///
/// # Errors
/// [`Error::OldShareFormat`] for a share made before the ring-Pedersen parameters;
/// [`Error::InvalidShare`] if the bytes are not a share file of a known version.
pub fn role_of(bytes: &[u8]) -> Result<Party> {
    read_format(bytes)?;
    let role = bytes.get(5).ok_or(Error::InvalidShare)?;
    Party::from_index(*role).ok_or(Error::InvalidShare)
}

fn write_common(w: &mut Writer<'_>, role: Party, c: &Common, locked: bool) -> Result<()> {
    w.bytes(MAGIC)?;
    w.bytes(&[format_of(c), role.index(), CURVE_SECP256K1])?;
    w.u64(c.epoch)?;
    w.bytes(&[u8::from(locked)])?;
    w.bytes(&c.own_pid)?;
    w.bytes(&c.peer_pid)?;
    w.point(&c.public.q)?;
    w.point(&c.public.q1)?;
    w.point(&c.public.q2)?;
    w.integer(MOD_NN_LEN, c.c_key.as_uint())?;
    match &c.chain_code {
        Some(chain_code) => w.bytes(chain_code),
        None => Ok(()),
    }
}

/// Reads the common header and the lock flag. The c_key it returns is not yet checked
/// against the key, which comes later in the file: the caller must [`check_c_key`] it.
fn read_common(r: &mut Reader<'_>, role: Party, format: u8) -> Result<(Common, bool)> {
    let head: [u8; 7] = r.array()?;
    if head
        != [
            MAGIC[0],
            MAGIC[1],
            MAGIC[2],
            MAGIC[3],
            format,
            role.index(),
            CURVE_SECP256K1,
        ]
    {
        return Err(Error::InvalidShare);
    }
    let epoch = u64::from_be_bytes(r.array()?);
    let locked = match r.array::<1>()? {
        [0] => false,
        [1] => true,
        _ => return Err(Error::InvalidShare),
    };
    if epoch > MAX_EPOCH {
        return Err(Error::InvalidShare);
    }
    let own_pid = r.array()?;
    let peer_pid = r.array()?;
    let (q, q1, q2) = (r.point()?, r.point()?, r.point()?);
    let public = PublicShares::combine(q1, q2)?;
    if public.q != q {
        return Err(Error::InvalidShare);
    }
    let c_key = Ciphertext(r.integer_unbounded(MOD_NN_LEN)?);
    let chain_code = if format == FORMAT_VERSION {
        Some(r.array()?)
    } else {
        None
    };
    let common = Common {
        public,
        c_key,
        own_pid,
        peer_pid,
        epoch,
        chain_code,
    };
    Ok((common, locked))
}

/// Checks the header's c_key against the key read after it.
fn check_c_key(common: &mut Common, key: &PublicKey) -> Result<()> {
    common.c_key = key
        .validate(common.c_key.as_uint())
        .map_err(|_| Error::InvalidShare)?;
    Ok(())
}

/// Splits off and checks the trailing checksum.
fn body(bytes: &[u8], len: usize) -> Result<&[u8]> {
    if bytes.len() != len {
        return Err(Error::InvalidShare);
    }
    let (body, sum) = bytes
        .split_at_checked(len - HASH_LEN)
        .ok_or(Error::InvalidShare)?;
    if bool::from(Sha256::digest(body).as_slice().ct_eq(sum)) {
        Ok(body)
    } else {
        Err(Error::InvalidShare)
    }
}

/// Appends the checksum of `out[..len]` and returns the total length.
fn seal(out: &mut [u8], len: usize) -> Result<usize> {
    let sum = Sha256::digest(out.get(..len).ok_or(Error::BufferTooSmall)?);
    out.get_mut(len..len + HASH_LEN)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(&sum);
    Ok(len + HASH_LEN)
}

/// Length of P1's encoded share in format 2 (format 3 adds the chain code).
const P1_LEN_V2: usize = HEADER_LEN + X1_LEN + 2 * PRIME_LEN + HASH_LEN + HASH_LEN;
/// Length of P2's encoded share in format 2 (format 3 adds the chain code).
const P2_LEN_V2: usize =
    HEADER_LEN + MOD_N_LEN + SCALAR_LEN + RingPedersenParams::ENCODED_LEN + HASH_LEN;
/// Longest encoding of P1's share (format 3).
pub(super) const P1_LEN: usize = P1_LEN_V2 + CHAIN_CODE_LEN;
/// Longest encoding of P2's share (format 3).
pub(super) const P2_LEN: usize = P2_LEN_V2 + CHAIN_CODE_LEN;

/// Which checks a decode runs once the fields are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Checks {
    /// Every check of [`KeyShare::check`].
    All,
    /// All but the secret half's consistency with the public one: for bytes a
    /// [`super::Receipt`] covers, which passed it before.
    Public,
}

impl Checks {
    fn run<S: KeyShare>(self, share: &S) -> Result<()> {
        match self {
            Self::All => share.check(),
            Self::Public if share.common().public_consistent() => Ok(()),
            Self::Public => Err(Error::InvalidShare),
        }
    }
}

pub(super) fn encode_p1(share: &KeyShareP1, out: &mut [u8]) -> Result<usize> {
    let mut w = Writer::new(out);
    write_common(&mut w, Party::P1, &share.common, share.locked)?;
    w.integer(X1_LEN, &share.x1)?;
    let (p, q) = share.paillier.primes();
    let (p, q) = (Zeroizing::new(p), Zeroizing::new(q));
    w.integer(PRIME_LEN, &*p)?;
    w.integer(PRIME_LEN, &*q)?;
    w.bytes(&share.params_hash)?;
    let len = w.position();
    seal(out, len)
}

pub(super) fn decode_p1(bytes: &[u8], checks: Checks) -> Result<KeyShareP1> {
    let format = read_format(bytes)?;
    let mut r = Reader::new(body(bytes, P1_LEN_V2 + extra_len(format))?);
    let (mut common, locked) = read_common(&mut r, Party::P1, format)?;
    // Wiped on every return, the early ones included.
    let x1: Zeroizing<X1> = Zeroizing::new(r.integer_unbounded(X1_LEN)?);
    let p: Zeroizing<U1024> = Zeroizing::new(r.integer_unbounded(PRIME_LEN)?);
    let q: Zeroizing<U1024> = Zeroizing::new(r.integer_unbounded(PRIME_LEN)?);
    let params_hash = r.array()?;
    r.finish()?;
    let paillier = SecretKey::from_primes(&p, &q)?;
    check_c_key(&mut common, paillier.public_key())?;
    let share = KeyShareP1 {
        x1: *x1,
        paillier,
        common,
        params_hash,
        locked,
    };
    checks.run(&share)?;
    Ok(share)
}

pub(super) fn encode_p2(share: &KeyShareP2, out: &mut [u8]) -> Result<usize> {
    let mut w = Writer::new(out);
    write_common(&mut w, Party::P2, &share.common, false)?;
    w.integer(MOD_N_LEN, share.paillier.modulus())?;
    w.scalar(&share.x2)?;
    share.params.write(&mut w)?;
    let len = w.position();
    seal(out, len)
}

pub(super) fn decode_p2(bytes: &[u8], checks: Checks) -> Result<KeyShareP2> {
    let format = read_format(bytes)?;
    let mut r = Reader::new(body(bytes, P2_LEN_V2 + extra_len(format))?);
    let (mut common, locked) = read_common(&mut r, Party::P2, format)?;
    let paillier = PublicKey::from_modulus(r.integer_unbounded(MOD_N_LEN)?)?;
    let x2 = r.scalar().map_err(|_| Error::InvalidShare)?;
    let params = RingPedersenParams::read(&mut r)?;
    r.finish()?;
    params.monty().map_err(|_| Error::InvalidShare)?;
    if locked {
        return Err(Error::InvalidShare);
    }
    check_c_key(&mut common, &paillier)?;
    let share = KeyShareP2 {
        x2,
        paillier,
        params,
        common,
    };
    checks.run(&share)?;
    Ok(share)
}
