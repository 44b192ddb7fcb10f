//! Epoch agreement: before using a share, both parties pick the newest epoch they both hold.
//!
//! A refresh can die between any two messages, leaving one party with a pending share the
//! other may or may not have. Each party sends `hello`: the (epoch, fingerprint) of its active
//! share and of its pending one. Both choose the highest pair present on both sides; the
//! chosen pending share is promoted, a pending share not chosen is deleted (it is never used
//! again), and if nothing matches the run stops with [`StoreError::NoCommonEpoch`].

use ecdsa2pc_core::KeyShare;

use crate::{
    NetError, Transport,
    error::{ProtocolError, StoreError},
    store::{Held, ShareFiles},
};

const MAGIC: &[u8; 8] = b"E2HELLO1";
const ENTRY_LEN: usize = 8 + 32;
const MAX_LEN: usize = MAGIC.len() + 1 + 2 * ENTRY_LEN;

/// Runs the exchange and returns the share to use, with the files brought in line.
///
/// # Errors
/// Transport errors, a malformed reply as [`NetError::Protocol`], or a [`StoreError`]: no
/// common epoch, or promoting or discarding failed.
pub fn agree<T: Transport + ?Sized, S: KeyShare>(
    t: &mut T,
    files: &ShareFiles,
    held: Held<S>,
) -> Result<S, NetError> {
    let ours: Vec<(u64, [u8; 32])> = core::iter::once(&held.active)
        .chain(held.pending.as_ref())
        .map(|s| (s.epoch(), s.fingerprint()))
        .collect();
    t.send(&encode(&ours))?;
    let mut buf = [0u8; MAX_LEN];
    let theirs = decode(t.recv(&mut buf)?)?;
    let chosen = ours
        .iter()
        .filter(|o| theirs.contains(o))
        .max_by_key(|(e, _)| *e)
        .copied();
    let Some(chosen) = chosen else {
        return Err(StoreError::NoCommonEpoch {
            ours: ours.iter().map(|(e, _)| *e).collect(),
            theirs: theirs.iter().map(|(e, _)| *e).collect(),
        }
        .into());
    };
    match held.pending {
        Some(pending) if (pending.epoch(), pending.fingerprint()) == chosen => {
            files.promote()?;
            Ok(pending)
        }
        Some(_) => {
            files.discard_pending()?;
            Ok(held.active)
        }
        None => Ok(held.active),
    }
}

fn encode(entries: &[(u64, [u8; 32])]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(u8::try_from(entries.len()).unwrap_or(0));
    for (epoch, fp) in entries {
        out.extend_from_slice(&epoch.to_be_bytes());
        out.extend_from_slice(fp);
    }
    out
}

fn decode(bytes: &[u8]) -> Result<Vec<(u64, [u8; 32])>, ProtocolError> {
    let bad = || ProtocolError {
        error: ecdsa2pc_core::Error::Malformed,
        step: "epoch agreement",
    };
    let rest = bytes.strip_prefix(MAGIC).ok_or_else(bad)?;
    let (&count, rest) = rest.split_first().ok_or_else(bad)?;
    if !(1..=2).contains(&count) || rest.len() != usize::from(count) * ENTRY_LEN {
        return Err(bad());
    }
    rest.chunks_exact(ENTRY_LEN)
        .map(|c| {
            let (e, fp) = c.split_at(8);
            Ok((
                u64::from_be_bytes(e.try_into().map_err(|_| bad())?),
                fp.try_into().map_err(|_| bad())?,
            ))
        })
        .collect()
}
