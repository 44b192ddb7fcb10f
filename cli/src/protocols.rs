//! The protocols a party runs, chosen by the type of its key share: keygen, sign and
//! refresh through the `ecdsa2pc-net` drivers, with party 0's Paillier key made first.

use ecdsa2pc_core::{Context, KeyShare, KeyShareP1, KeyShareP2, PaillierSecretKey, sign::Digest};
use ecdsa2pc_net::{
    Channel, NetError,
    driver::{self, Persist},
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
    /// Makes [`Protocols::Fresh`], reported as its own phase.
    fn fresh(log: &Log) -> Result<Self::Fresh, CliError>;
    /// Runs keygen; the new share goes to `persist` as pending, and is promoted once the
    /// peer confirms it stored its own.
    fn keygen(
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        fresh: Self::Fresh,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError>;
    /// Signs `digest`; a share that locks itself goes to `persist` before any reply.
    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        digest: &Digest,
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

impl Protocols for KeyShareP1 {
    type Fresh = PaillierSecretKey;
    const NOTE: &'static str = "";

    fn fresh(log: &Log) -> Result<PaillierSecretKey, CliError> {
        paillier_key(log)
    }

    fn keygen(
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        fresh: PaillierSecretKey,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError> {
        driver::keygen_p1_persisted(ch, rng, ctx, fresh, persist)
    }

    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        digest: &Digest,
        persist: &mut dyn Persist<Self>,
    ) -> Result<Signature, NetError> {
        driver::sign_p1_persisted(ch, rng, self, ctx, digest, persist)
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

impl Protocols for KeyShareP2 {
    type Fresh = ();
    const NOTE: &'static str = "(includes party 0's Paillier key generation)";

    fn fresh(_: &Log) -> Result<(), CliError> {
        Ok(())
    }

    fn keygen(
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        (): (),
        persist: &mut dyn Persist<Self>,
    ) -> Result<Self, NetError> {
        driver::keygen_p2_persisted(ch, rng, ctx, persist)
    }

    fn sign(
        &mut self,
        ch: &mut Channel,
        rng: &mut ChaCha20Rng,
        ctx: &Context<'_>,
        digest: &Digest,
        _: &mut dyn Persist<Self>,
    ) -> Result<Signature, NetError> {
        // Party 1's share never changes while signing: nothing to persist.
        driver::sign_p2(ch, rng, self, ctx, digest)
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

/// Runs keygen (party 0 first makes its Paillier key), reported as the `keygen` phase; the
/// share goes to `persist` (pending, then promoted when both parties have stored theirs).
pub(crate) fn keygen<S: Protocols>(
    session: &mut Session,
    log: &Log,
    persist: &mut dyn Persist<S>,
) -> Result<S, CliError> {
    let fresh = S::fresh(log)?;
    let Session { ch, info, rng } = session;
    let ctx = driver::context(info);
    log.phase(
        "keygen",
        || Ok(S::keygen(ch, rng, &ctx, fresh, persist)?),
        |_| S::NOTE.to_owned(),
    )
}

/// Signs `digest` with the peer; the caller reports the phase.
pub(crate) fn sign<S: Protocols>(
    share: &mut S,
    session: &mut Session,
    digest: &Digest,
    persist: &mut dyn Persist<S>,
) -> Result<Signature, NetError> {
    let Session { ch, info, rng } = session;
    share.sign(ch, rng, &driver::context(info), digest, persist)
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
