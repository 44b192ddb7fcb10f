//! The one step every networked command starts with: a [`Session`] (connect or accept,
//! the session facts, a seeded RNG) and, for commands that use a share on disk, a
//! [`ShareSession`] (lock and load the share first, then check the certificates against it
//! and agree the epoch with the peer).

use std::path::Path;

use ecdsa2pc_core::KeyShare;
use ecdsa2pc_net::{
    Channel, SessionInfo,
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
    /// Party 0 accepts party 1, party 1 connects to party 0 (see [`Net::open`]); then seeds
    /// the RNG.
    pub(crate) fn open(net: &Net<'_>, log: &Log) -> Result<Self, CliError> {
        let ch = net.open(log)?;
        let info = ch.info().clone();
        Ok(Self {
            ch,
            info,
            rng: os_rng()?,
        })
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
    /// The share's files (the driver persists to them).
    pub(crate) files: ShareFiles,
    _lock: ShareLock,
}

impl<S: KeyShare> ShareSession<S> {
    /// Locks and loads the share at `path` (before any network traffic), opens the
    /// session, checks that both certificates are the ones the share was made with, and
    /// agrees the epoch with the peer.
    pub(crate) fn establish(net: &Net<'_>, path: &Path, log: &Log) -> Result<Self, CliError> {
        let files = ShareFiles::new(path);
        let (lock, held) = share_file::lock_and_load::<S>(&files, log)?;
        let mut session = Session::open(net, log)?;
        certificates::check(&held.active, files.path(), &session.info, log)?;
        let share = epoch::agree(&mut session.ch, &files, held, log)?;
        Ok(Self {
            session,
            share,
            files,
            _lock: lock,
        })
    }
}
