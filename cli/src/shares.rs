//! Key shares of either role: running keygen, sign and refresh with one, and the share files
//! (role check, loading, the certificate check, epoch agreement).

use std::path::Path;

use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2, Party, PublicShares, role_of, sign::Digest};
use ecdsa2pc_net::{
    Channel, NetError, Pid, SessionInfo, driver,
    driver::{InMemory, Persist},
    epoch,
    store::{Held, ShareFiles, ShareLock},
};
use k256::ecdsa::{Signature, VerifyingKey};
use rand_chacha::ChaCha20Rng;

use crate::error::{CertMismatch, CliError};
use crate::output::{Log, hex};
use crate::session;

/// What the CLI reads from a share of either role.
pub(crate) trait View {
    /// Q and its two halves.
    fn public_shares(&self) -> &PublicShares;
    /// Our pid as recorded at keygen.
    fn own_pid(&self) -> &Pid;
    /// The peer's pid as recorded at keygen.
    fn peer_pid(&self) -> &Pid;
    /// The refresh epoch.
    fn share_epoch(&self) -> u64;
    /// Whether a failed signature locked the share (party 0 only).
    fn locked(&self) -> bool;
}

impl View for KeyShareP1 {
    fn public_shares(&self) -> &PublicShares {
        self.public()
    }
    fn own_pid(&self) -> &Pid {
        self.pids().0
    }
    fn peer_pid(&self) -> &Pid {
        self.pids().1
    }
    fn share_epoch(&self) -> u64 {
        self.epoch()
    }
    fn locked(&self) -> bool {
        self.is_locked()
    }
}

impl View for KeyShareP2 {
    fn public_shares(&self) -> &PublicShares {
        self.public()
    }
    fn own_pid(&self) -> &Pid {
        self.pids().0
    }
    fn peer_pid(&self) -> &Pid {
        self.pids().1
    }
    fn share_epoch(&self) -> u64 {
        self.epoch()
    }
    fn locked(&self) -> bool {
        false
    }
}

/// The joint public key Q of a share.
pub(crate) fn public_key(share: &dyn View) -> Result<VerifyingKey, CliError> {
    VerifyingKey::from_affine(share.public_shares().q)
        .map_err(|_| CliError::Verification("the key share holds an invalid public key".into()))
}

/// Q as SEC1 compressed hex.
pub(crate) fn public_key_hex(key: &VerifyingKey) -> String {
    hex(key.to_sec1_point(true).as_bytes())
}

/// A party's key share.
pub(crate) enum Share {
    /// Party 0's share (protocol role P1); boxed: it holds the Paillier secret key.
    P1(Box<KeyShareP1>),
    /// Party 1's share (protocol role P2).
    P2(Box<KeyShareP2>),
}

impl Share {
    /// The share's public view.
    pub(crate) fn view(&self) -> &dyn View {
        match self {
            Self::P1(s) => &**s,
            Self::P2(s) => &**s,
        }
    }

    /// The joint public key Q.
    pub(crate) fn public_key(&self) -> Result<VerifyingKey, CliError> {
        public_key(self.view())
    }

    /// The refresh epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.view().share_epoch()
    }

    /// Runs keygen: party 0 first makes its Paillier key.
    pub(crate) fn keygen(
        party: u8,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        info: &SessionInfo,
        log: &Log,
    ) -> Result<Self, CliError> {
        let ctx = driver::context(info);
        if party == 0 {
            let paillier = session::paillier_key(log)?;
            log.phase(
                "keygen",
                || {
                    Ok(Self::P1(Box::new(driver::keygen_p1(
                        ch, rng, &ctx, paillier,
                    )?)))
                },
                |_| String::new(),
            )
        } else {
            log.phase(
                "keygen",
                || Ok(Self::P2(Box::new(driver::keygen_p2(ch, rng, &ctx)?))),
                |_| "(includes party 0's Paillier key generation)".to_owned(),
            )
        }
    }

    /// Runs the signing protocol for `digest`. Party 0 hands a share that locked itself to
    /// `files` (if given) before it replies.
    pub(crate) fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        info: &SessionInfo,
        digest: &Digest,
        files: Option<&mut ShareFiles>,
    ) -> Result<Signature, NetError> {
        let ctx = driver::context(info);
        match self {
            Self::P1(share) => {
                let mut memory = InMemory;
                let persist: &mut dyn Persist<KeyShareP1> = match files {
                    Some(files) => files,
                    None => &mut memory,
                };
                driver::sign_p1_persisted(ch, rng, share, &ctx, digest, persist)
            }
            Self::P2(share) => driver::sign_p2(ch, rng, share, &ctx, digest),
        }
    }

    /// Runs refresh (party 0 first makes a new Paillier key); with `files`, the new share
    /// is written as pending before the next message and promoted on confirmation. Prints
    /// the `refresh` phase; fails if Q changed.
    pub(crate) fn refresh(
        &self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        info: &SessionInfo,
        log: &Log,
        files: Option<&mut ShareFiles>,
    ) -> Result<Self, CliError> {
        let ctx = driver::context(info);
        let old_q = self.view().public_shares().q;
        let old_epoch = self.epoch();
        let same_key = |fresh: Self| {
            if fresh.view().public_shares().q == old_q {
                Ok(fresh)
            } else {
                Err(CliError::Verification(
                    "refresh changed the joint public key, which it must never do: do not use \
                     the new share, and report this as a bug"
                        .to_owned(),
                ))
            }
        };
        let note = |extra: &str, fresh: &Self| {
            format!(
                "epoch {old_epoch} → {}, public key unchanged{extra}",
                fresh.epoch()
            )
        };
        let mut memory = InMemory;
        match self {
            Self::P1(share) => {
                let key = session::paillier_key(log)?;
                let persist: &mut dyn Persist<KeyShareP1> = match files {
                    Some(files) => files,
                    None => &mut memory,
                };
                log.phase(
                    "refresh",
                    || {
                        let fresh = driver::refresh_p1(ch, rng, share, &ctx, key, persist)?;
                        same_key(Self::P1(Box::new(fresh)))
                    },
                    |fresh| note("", fresh),
                )
            }
            Self::P2(share) => {
                let persist: &mut dyn Persist<KeyShareP2> = match files {
                    Some(files) => files,
                    None => &mut memory,
                };
                log.phase(
                    "refresh",
                    || {
                        let fresh = driver::refresh_p2(ch, rng, share, &ctx, persist)?;
                        same_key(Self::P2(Box::new(fresh)))
                    },
                    |fresh| note(" (includes party 0's Paillier key generation)", fresh),
                )
            }
        }
    }
}

/// The first bytes of a pid in hex, enough to tell two apart.
pub(crate) fn pid_prefix(pid: &Pid) -> String {
    format!("{}…", hex(pid.get(..8).unwrap_or(pid)))
}

/// A share loaded from its files: the active share and a pending one, if a refresh was
/// interrupted.
pub(crate) enum Stored {
    /// Party 0's (boxed: two shares with Paillier secret keys are large).
    P1(Box<Held<KeyShareP1>>),
    /// Party 1's.
    P2(Box<Held<KeyShareP2>>),
}

impl Stored {
    /// Takes the share's process lock, then loads the share of `party` (active and
    /// pending) and prints a summary.
    pub(crate) fn lock_and_load(
        files: &ShareFiles,
        party: u8,
        log: &Log,
    ) -> Result<(ShareLock, Self), CliError> {
        // A missing share: report it without creating a lock file next to nothing.
        if !files.exists() {
            return Err(load_error(files, party));
        }
        let lock = files.lock()?;
        check_role(files.path(), party)?;
        let stored = if party == 0 {
            Self::P1(Box::new(files.load()?))
        } else {
            Self::P2(Box::new(files.load()?))
        };
        let active = stored.active();
        log.line(format_args!(
            "key share {}: party {party}, epoch {}, public key {}{}",
            files.path().display(),
            active.share_epoch(),
            public_key_hex(&public_key(active)?),
            if active.locked() { ", LOCKED" } else { "" }
        ));
        if let Some(pending) = stored.pending() {
            log.line(format_args!(
                "pending share {} (epoch {}) from an interrupted refresh: the parties will \
                 settle on their newest common epoch",
                files.pending_path().display(),
                pending.share_epoch()
            ));
        }
        Ok((lock, stored))
    }

    /// The active share.
    pub(crate) fn active(&self) -> &dyn View {
        match self {
            Self::P1(held) => &held.active,
            Self::P2(held) => &held.active,
        }
    }

    fn pending(&self) -> Option<&dyn View> {
        match self {
            Self::P1(held) => held.pending.as_ref().map(|s| s as &dyn View),
            Self::P2(held) => held.pending.as_ref().map(|s| s as &dyn View),
        }
    }

    /// Checks, before any protocol message, that this session's certificates are the ones
    /// the share was made with: the peer's pid and our own. Prints the `certificates` phase.
    pub(crate) fn check_certificates(
        &self,
        path: &Path,
        info: &SessionInfo,
        log: &Log,
    ) -> Result<(), CliError> {
        log.phase(
            "certificates",
            || self.certificates_match(path, info),
            |()| "both are the ones the key share was made with".to_owned(),
        )
    }

    fn certificates_match(&self, path: &Path, info: &SessionInfo) -> Result<(), CliError> {
        let share = self.active();
        let mismatch = |subject: &str, got: &Pid, expected: &Pid| {
            (got != expected).then(|| {
                Box::new(CertMismatch {
                    subject: subject.to_owned(),
                    got: pid_prefix(got),
                    expected: pid_prefix(expected),
                })
            })
        };
        let peer = mismatch(&info.peer_subject, &info.peer_pid, share.peer_pid());
        let own = mismatch(&info.own_subject, &info.own_pid, share.own_pid());
        if peer.is_none() && own.is_none() {
            return Ok(());
        }
        Err(CliError::WrongCertificate {
            share: path.to_path_buf(),
            peer,
            own,
        })
    }

    /// Agrees with the peer on the newest common epoch (promoting or discarding a pending
    /// share) and returns the share to use. Prints the `epoch` phase.
    pub(crate) fn agree(
        self,
        ch: &mut Channel,
        files: &ShareFiles,
        log: &Log,
    ) -> Result<Share, CliError> {
        let pending_epoch = self.pending().map(View::share_epoch);
        log.phase(
            "epoch",
            || {
                Ok(match self {
                    Self::P1(held) => Share::P1(Box::new(epoch::agree(ch, files, *held)?)),
                    Self::P2(held) => Share::P2(Box::new(epoch::agree(ch, files, *held)?)),
                })
            },
            |share| {
                let settled = match pending_epoch {
                    Some(e) if e == share.epoch() => {
                        "; the pending share of the interrupted refresh is now active"
                    }
                    Some(_) => "; the unconfirmed pending share was discarded",
                    None => "",
                };
                format!("epoch {} (both parties){settled}", share.epoch())
            },
        )
    }
}

/// The error of loading a share that does not exist (or cannot be read).
fn load_error(files: &ShareFiles, party: u8) -> CliError {
    let result = if party == 0 {
        files.load_active::<KeyShareP1>().map(drop)
    } else {
        files.load_active::<KeyShareP2>().map(drop)
    };
    match result {
        Err(e) => e.into(),
        Ok(()) => CliError::Net(NetError::ShareFile {
            path: files.path().to_path_buf(),
            problem: "vanished while it was being opened".to_owned(),
        }),
    }
}

/// A share file of the other role is refused with a message that says whose it is.
fn check_role(path: &Path, party: u8) -> Result<(), CliError> {
    let Ok(bytes) = std::fs::read(path) else {
        // Loading reports a file that cannot be read.
        return Ok(());
    };
    match role_of(&bytes) {
        Ok(role) if role.index() != party => Err(CliError::Net(NetError::ShareFile {
            path: path.to_path_buf(),
            problem: format!(
                "is not a party {party} key share but party {0}'s: use it with --party {0}, \
                 or give party {party} its own share file",
                role.index()
            ),
        })),
        _ => Ok(()),
    }
}

/// Which role a share file claims: reads it and looks at its header.
pub(crate) fn role_of_file(path: &Path) -> Result<Party, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let problem = if e.kind() == std::io::ErrorKind::NotFound {
            format!("does not exist: run `ecdsa2pc keygen` first, or check --share ({e})")
        } else {
            format!("cannot be read ({e})")
        };
        CliError::Net(NetError::ShareFile {
            path: path.to_path_buf(),
            problem,
        })
    })?;
    role_of(&bytes).map_err(|e| {
        CliError::Net(NetError::ShareFile {
            path: path.to_path_buf(),
            problem: format!(
                "is not an ecdsa2pc key share of a known version, or is damaged ({e}): restore \
                 it from a backup"
            ),
        })
    })
}
