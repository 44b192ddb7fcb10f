//! The protocols a party runs, chosen by the type of its key share: keygen, sign and
//! refresh through the `ecdsa2pc-net` drivers, with party 0's Paillier key made first, and
//! the commitment parameters of issue 10 (party 0's secret, party 1's pins).

use std::path::Path;

use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{
    Context, KeyShare, KeyShareP1, KeyShareP2, PaillierSecretKey, ParamsMsg, RingPedersenParams,
    RingPedersenSecret, sign::Digest,
};
use ecdsa2pc_net::{
    Channel, NetError, Pid,
    driver::{self, Persist},
    params_msg::ParamsMsgCache,
    params_secret::{self, ParamsSecretFile},
    pins::{self, PinStore},
    sealed::Sealer,
};
use k256::ecdsa::Signature;
use rand_chacha::ChaCha20Rng;

use crate::error::CliError;
use crate::output::Log;
use crate::paillier_key::paillier_key;
use crate::session::Session;

/// One party's side of each protocol, implemented for both share types, so that a command
/// is written once and picks the party with one `match`.
pub(crate) trait Protocols: KeyShare {
    /// What this party makes before keygen and refresh: party 0 a Paillier key.
    type Fresh;
    /// Said of keygen and refresh timings: party 1 waits for party 0's Paillier key.
    const NOTE: &'static str;
    /// What keygen and signing need besides the share: party 0 its commitment-parameter
    /// secret and the message that proves its parameters ([`OwnParams`]), party 1 the way
    /// it checks party 0's parameters.
    type Params;
    /// Makes [`Protocols::Fresh`], reported as its own phase.
    fn fresh(log: &Log) -> Result<Self::Fresh, CliError>;
    /// [`Protocols::Params`] for a run with the share file `share`, before any network
    /// traffic: party 0 loads its parameter secret from beside the share (opened with
    /// `sealer`), or for keygen (`make`) makes and writes one if there is none; party 1 uses
    /// its pins.
    fn params_on_disk(
        share: &Path,
        sealer: Option<&Sealer>,
        make: bool,
        log: &Log,
    ) -> Result<Self::Params, CliError>;
    /// [`Protocols::Params`] kept in memory (the demo): party 0 makes a parameter secret,
    /// party 1 checks party 0's parameter proof every time.
    fn params_in_memory(log: &Log) -> Result<Self::Params, CliError>;
    /// Runs keygen; the new share goes to `persist` as pending, and is promoted once the
    /// peer confirms it stored its own.
    fn keygen(
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        fresh: Self::Fresh,
        params: &Self::Params,
        log: &Log,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError>;
    /// Signs `digest` under the BIP32 `path` (m: the joint key); a share that locks itself
    /// goes to `persist` before any reply.
    // The driver's own arguments plus the share: no smaller grouping says more.
    #[allow(clippy::too_many_arguments)]
    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        digest: &Digest,
        path: &DerivationPath,
        params: &Self::Params,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Signature, NetError>;
    /// Refreshes; the new share goes to `persist` as pending, then is promoted.
    fn refresh(
        &self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        fresh: Self::Fresh,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError>;
}

/// Party 0's commitment parameters: the secret, and where the parameter message that proves
/// them comes from (proved once per identity, kept beside the secret when that is on disk).
#[derive(Debug)]
pub(crate) struct OwnParams {
    secret: RingPedersenSecret,
    params_msgs: ParamsMsgCache,
}

impl Protocols for KeyShareP1 {
    type Fresh = PaillierSecretKey;
    type Params = OwnParams;
    const NOTE: &'static str = "";

    fn fresh(log: &Log) -> Result<PaillierSecretKey, CliError> {
        paillier_key(log)
    }

    fn params_on_disk(
        share: &Path,
        sealer: Option<&Sealer>,
        make: bool,
        log: &Log,
    ) -> Result<OwnParams, CliError> {
        let file = ParamsSecretFile::beside(share).sealed_with(sealer.cloned());
        let params_msgs = ParamsMsgCache::beside(&file);
        if !make {
            return Ok(OwnParams {
                secret: file.load()?,
                params_msgs,
            });
        }
        let mut made = false;
        let secret = file.load_or_make(&mut || {
            made = true;
            log.line(params_secret::MAKING_FOR_DIRECTORY);
            log.line(params_secret::MAKING);
        })?;
        if made {
            log.line(format_args!(
                "wrote party 0's commitment-parameter secret {} ({}): every key party 0 makes \
                 from now on needs it to sign; back it up with the shares",
                file.path().display(),
                if sealer.is_some() {
                    "encrypted"
                } else {
                    "NOT encrypted"
                }
            ));
        }
        Ok(OwnParams {
            secret,
            params_msgs,
        })
    }

    fn params_in_memory(log: &Log) -> Result<OwnParams, CliError> {
        log.line(params_secret::MAKING);
        let secret = log.phase(
            "commitment parameters",
            || Ok(params_secret::new_params_secret()?),
            |_| "kept in memory".to_owned(),
        )?;
        Ok(OwnParams {
            secret,
            params_msgs: ParamsMsgCache::in_memory(),
        })
    }

    fn keygen(
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        fresh: PaillierSecretKey,
        params: &OwnParams,
        log: &Log,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError> {
        let share = driver::keygen_p1_persisted(
            ch,
            rng,
            ctx,
            fresh,
            &params.secret,
            &params.params_msgs,
            persist,
        );
        if let Some(e) = params.params_msgs.take_write_error() {
            log.line(format_args!(
                "the parameter proof is not kept on disk, so the next keygen here proves it \
                 again (about half a second): {e}"
            ));
        }
        share
    }

    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        digest: &Digest,
        path: &DerivationPath,
        params: &OwnParams,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Signature, NetError> {
        driver::sign_p1_persisted(ch, rng, self, &params.secret, ctx, digest, path, persist)
    }

    fn refresh(
        &self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        fresh: PaillierSecretKey,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError> {
        driver::refresh_p1(ch, rng, self, ctx, fresh, persist)
    }
}

/// How party 1 checks party 0's commitment parameters at keygen.
#[derive(Debug)]
pub(crate) enum ParamsCheck {
    /// Against its pins: the proof once per party 0, a changed parameter set refused.
    Pinned(PinStore),
    /// The proof every time, nothing written (the demo).
    Always,
}

impl ParamsCheck {
    fn check(
        &self,
        msg: &ParamsMsg,
        owner: &Pid,
        log: &Log,
    ) -> Result<RingPedersenParams, NetError> {
        match self {
            Self::Pinned(pins) => pins.check(msg, owner, &mut |event| log.line(event)),
            Self::Always => pins::verify(msg, owner),
        }
    }
}

impl Protocols for KeyShareP2 {
    type Fresh = ();
    type Params = ParamsCheck;
    const NOTE: &'static str = "(includes party 0's Paillier key generation)";

    fn fresh(_: &Log) -> Result<(), CliError> {
        Ok(())
    }

    fn params_on_disk(
        _: &Path,
        _: Option<&Sealer>,
        make: bool,
        _: &Log,
    ) -> Result<ParamsCheck, CliError> {
        if !make {
            // Signing: party 1's share holds the parameters; no pin is read.
            return Ok(ParamsCheck::Always);
        }
        pin_dir()
            .map(|dir| ParamsCheck::Pinned(PinStore::new(&dir)))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "party 1 keeps its pins of party 0's commitment parameters in a state \
                 directory, and neither {} nor $XDG_STATE_HOME nor $HOME names one: set {} to \
                 a private directory",
                    crate::session::LOCK_DIR_ENV,
                    crate::session::LOCK_DIR_ENV
                ))
            })
    }

    fn params_in_memory(_: &Log) -> Result<ParamsCheck, CliError> {
        Ok(ParamsCheck::Always)
    }

    fn keygen(
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        (): (),
        params: &ParamsCheck,
        log: &Log,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError> {
        driver::keygen_p2_persisted(
            ch,
            rng,
            ctx,
            &mut |msg, owner| params.check(msg, owner, log),
            persist,
        )
    }

    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        digest: &Digest,
        path: &DerivationPath,
        _: &ParamsCheck,
        _: &mut dyn Persist<Self>,
    ) -> Result<Signature, NetError> {
        // Party 1's share never changes while signing: nothing to persist.
        driver::sign_p2_with(ch, rng, self, ctx, digest, path, &driver::Accel::default())
    }

    fn refresh(
        &self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        (): (),
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError> {
        driver::refresh_p2(ch, rng, self, ctx, persist)
    }
}

/// Party 1's pin directory: `pins` in `$ECDSA2PC_LOCK_DIR` if set (the state directory the
/// tests and sandboxes name), else the per-user one ([`PinStore::default_dir`]).
pub(crate) fn pin_dir() -> Option<std::path::PathBuf> {
    std::env::var_os(crate::session::LOCK_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(|d| std::path::PathBuf::from(d).join("pins"))
        .or_else(PinStore::default_dir)
}

/// Runs keygen (party 0 first makes its Paillier key), reported as the `keygen` phase; the
/// share goes to `persist` (pending, then promoted when both parties have stored theirs).
pub(crate) fn keygen<S: Protocols>(
    session: &mut Session,
    params: &S::Params,
    log: &Log,
    persist: &mut dyn Persist<S>,
) -> Result<S, CliError> {
    let fresh = S::fresh(log)?;
    let Session { ch, info, rng } = session;
    let ctx = driver::context(info);
    log.phase(
        "keygen",
        || Ok(S::keygen(ch, rng, &ctx, fresh, params, log, persist)?),
        |_| S::NOTE.to_owned(),
    )
}

/// Signs `digest` with the peer; the caller reports the phase.
pub(crate) fn sign<S: Protocols>(
    share: &mut S,
    session: &mut Session,
    digest: &Digest,
    path: &DerivationPath,
    params: &S::Params,
    persist: &mut dyn Persist<S>,
) -> Result<Signature, NetError> {
    let Session { ch, info, rng } = session;
    share.sign(
        ch,
        rng,
        &driver::context(info),
        digest,
        path,
        params,
        persist,
    )
}

/// Runs refresh (party 0 first makes a new Paillier key), reported as the `refresh` phase;
/// fails if the joint public key changed.
pub(crate) fn refresh<S: Protocols>(
    share: &S,
    session: &mut Session,
    log: &Log,
    persist: &mut dyn Persist<S>,
) -> Result<S, CliError> {
    let fresh = S::fresh(log)?;
    let Session { ch, info, rng } = session;
    let ctx = driver::context(info);
    let (old_q, old_epoch) = (share.public().q, share.epoch());
    log.phase(
        "refresh",
        || {
            let new = share.refresh(ch, rng, &ctx, fresh, persist)?;
            if new.public().q == old_q {
                Ok(new)
            } else {
                Err(CliError::Verification(
                    "refresh changed the joint public key, which it must never do: do not use \
                     the new share, and report this as a bug"
                        .to_owned(),
                ))
            }
        },
        |new| {
            let sep = if S::NOTE.is_empty() { "" } else { " " };
            format!(
                "epoch {old_epoch} → {}, public key unchanged{sep}{}",
                new.epoch(),
                S::NOTE
            )
        },
    )
}
