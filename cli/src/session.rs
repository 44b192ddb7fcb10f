//! The one step every networked command starts with: a [`Session`] (connect or accept,
//! the session facts, a seeded RNG) and, for commands that use a share on disk, a
//! [`ShareSession`] (lock and load the share first, check party 0's lock registry, then check
//! the certificates against it and agree the epoch with the peer).

use std::path::Path;

use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{KeyShare, Party};
use ecdsa2pc_net::{
    Channel, SessionInfo,
    lock_registry::{Guarded, LockRegistry},
    request::{self, Operation, Request, key_id, key_id_hex},
    rng::os_rng,
    store::{ShareFiles, ShareLock},
};
use rand_chacha::ChaCha20Rng;

use crate::error::CliError;
use crate::network::{self, Net};
use crate::output::Log;
use crate::{certificates, epoch, share_file};

/// An authenticated connection to the peer and what a protocol run needs with it.
#[derive(Debug)]
pub(crate) struct Session {
    /// The mutual-TLS channel.
    pub(crate) ch: Channel,
    /// The session facts: pids, channel binding, TLS details.
    pub(crate) info: SessionInfo,
    /// The run's randomness, seeded from the operating system.
    pub(crate) rng: ChaCha20Rng,
}

impl Session {
    /// Party 0 accepts party 1, party 1 connects to party 0 (see [`Net::open`]); then party
    /// 1 sends `request` and party 0 accepts it if it is its own (else both sides see the
    /// refusal naming both values); then seeds the RNG.
    pub(crate) fn open(net: &Net<'_>, log: &Log, req: &Request) -> Result<Self, CliError> {
        Self::open_after(net, log, req, || Ok(())).map(|(session, ())| session)
    }

    /// As [`Self::open`], with `prepare` run once party 0 has bound its address and before
    /// the connection (see [`Net::open`]).
    pub(crate) fn open_after<T>(
        net: &Net<'_>,
        log: &Log,
        req: &Request,
        prepare: impl FnOnce() -> Result<T, CliError>,
    ) -> Result<(Self, T), CliError> {
        let (mut ch, prepared) = net.open(log, prepare)?;
        log.phase(
            "request",
            || Ok(request::exchange(&mut ch, net.party, req)?),
            |()| match req.key {
                Some(id) => format!("{} with key {}", req.operation.name(), key_id_hex(&id)),
                None => req.operation.name().to_owned(),
            },
        )?;
        let info = ch.info().clone();
        let session = Self {
            ch,
            info,
            rng: os_rng()?,
        };
        Ok((session, prepared))
    }

    /// Closes the connection (see [`network::close`]).
    pub(crate) fn close(self, log: &Log) {
        network::close(log, self.ch);
    }
}

/// A [`Session`] over a key share on disk, ready for a protocol run: the share is locked
/// against other processes for as long as this lives.
#[derive(Debug)]
pub(crate) struct ShareSession<S> {
    /// The connection.
    pub(crate) session: Session,
    /// The share both parties agreed to use.
    pub(crate) share: S,
    /// The share's files and lock registry (the driver persists to them).
    pub(crate) store: Guarded,
    _lock: ShareLock,
}

/// Environment variable naming the per-user lock-registry directory, instead of
/// `$XDG_STATE_HOME/ecdsa2pc/locks` or `~/.local/state/ecdsa2pc/locks`.
pub(crate) const LOCK_DIR_ENV: &str = "ECDSA2PC_LOCK_DIR";

/// The per-user lock-registry directory: `$ECDSA2PC_LOCK_DIR` if set and not empty, else
/// [`LockRegistry::default_state_dir`].
pub(crate) fn lock_state_dir() -> Option<std::path::PathBuf> {
    std::env::var_os(LOCK_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(LockRegistry::default_state_dir)
}

/// The lock registry of the share at `path` (see `ecdsa2pc_net::lock_registry`).
pub(crate) fn lock_registry(path: &Path) -> LockRegistry {
    LockRegistry::new(path, lock_state_dir())
}

impl<S: KeyShare> ShareSession<S> {
    /// Locks and loads the share of `files` and, for party 0, checks the lock registry (all
    /// before any network traffic: a locked key never reaches the epoch agreement), opens
    /// the session asking for `operation` on the share's key, checks that both certificates
    /// are the ones the share was made with, and agrees the epoch with the peer.
    pub(crate) fn establish(
        net: &Net<'_>,
        files: ShareFiles,
        log: &Log,
        operation: Operation,
    ) -> Result<Self, CliError> {
        Self::establish_with(net, files, log, operation, &DerivationPath::MASTER, |_| {
            Ok(())
        })
        .map(|(s, ())| s)
    }

    /// [`ShareSession::establish`] that also runs `prepare` on the share's files after the
    /// local checks (a locked key is reported as such first) and before any network traffic
    /// (the peer is not kept waiting for it): party 0 loads its parameter secret there.
    /// `path` is the BIP32 path a signature is made under (in the request, so that party 0
    /// compares it or, serving, uses it); a path on a share without a chain code is refused
    /// here, before any network traffic.
    pub(crate) fn establish_with<P>(
        net: &Net<'_>,
        files: ShareFiles,
        log: &Log,
        operation: Operation,
        path: &DerivationPath,
        prepare: impl FnOnce(&ShareFiles) -> Result<P, CliError>,
    ) -> Result<(Self, P), CliError> {
        let (lock, held) = share_file::lock_and_load::<S>(&files, log)?;
        if path.depth() != 0 && held.active.chain_code().is_none() {
            return Err(CliError::Usage(format!(
                "--path {path}: {}",
                ecdsa2pc_core::Error::NoChainCode
            )));
        }
        let registry = lock_registry(files.path());
        if S::PARTY == Party::P1 {
            // Every epoch (active and pending) has the same Q: one check covers both.
            registry.check(held.active.public())?;
        }
        let prepared = prepare(&files)?;
        let req = Request {
            path: *path,
            ..Request::on_key(operation, key_id(&held.active.public().q))
        };
        let mut session = Session::open(net, log, &req)?;
        certificates::check(&held.active, files.path(), &session.info, log)?;
        let share = epoch::agree(&mut session.ch, &files, held, log)?;
        Ok((
            Self {
                session,
                share,
                store: registry.guard(files),
                _lock: lock,
            },
            prepared,
        ))
    }
}
