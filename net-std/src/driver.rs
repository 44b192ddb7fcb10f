//! Protocol drivers: run the core's rounds over any [`Transport`], one call per protocol.
//!
//! Each driver sends and receives whole messages, checks every received message with the
//! core's strict decoder, and on any failure sends the peer a short abort message (so it
//! stops waiting) before returning the error. The same code runs over TLS and over
//! [`crate::memory_pipe`] in tests.

use ecdsa2pc_core::{
    Context, Error as CoreError, KeyShare, KeyShareP1, KeyShareP2, MAX_MSG_LEN, Message,
    PaillierSecretKey, ParamsMsg, Proof, PublicShares, RingPedersenParams, RingPedersenSecret,
    TrapdoorTables, keygen, refresh, sign, sign::Digest,
};
use ecdsa2pc_core::{abort_message, bip32::DerivationPath, peer_abort};
use k256::ecdsa::Signature;
use rand_core::CryptoRng;

use crate::work::Parallel;
use crate::{
    NetError, Pid, SessionInfo, Transport,
    error::{PeerAbort, ProtocolError},
    params_msg::ParamsMsgCache,
    pins::PARAMS_STEP,
    store::ShareFiles,
};
use ecdsa2pc_core::work::Executor;

/// Where a driver puts what must survive a crash, at the moments the protocol requires.
pub trait Persist<S> {
    /// A new share (keygen) or a refreshed one, before the message that lets the peer adopt
    /// it.
    ///
    /// # Errors
    /// Whatever the storage reports; the run stops without sending that message (the peer
    /// gets an abort, [`CoreError::StorageFailed`]).
    fn pending(&mut self, share: &S) -> Result<(), NetError>;
    /// The peer confirmed the pending share (it stored its own): make it the active one.
    ///
    /// # Errors
    /// Whatever the storage reports (party 0's refresh sends the peer an abort,
    /// [`CoreError::StorageFailed`]; not keygen, where an abort would make party 1 discard a
    /// share that a promotion failing after its rename has made active here, nor party 1's
    /// refresh, where party 0 is done).
    fn promote(&mut self) -> Result<(), NetError>;
    /// Party 0 is about to decrypt party 1's ciphertext for the key `key`: record durably
    /// that a decision is pending, so that a crash, a kill or a failed write from here on
    /// leaves the key refused rather than unlocked (the core's in-memory share is locked over
    /// the same span).
    ///
    /// # Errors
    /// Whatever the storage reports; nothing is decrypted then, and only an abort
    /// ([`CoreError::StorageFailed`]) is sent.
    fn deciding(&mut self, key: &PublicShares) -> Result<(), NetError>;
    /// The run recorded its outcome (a verified signature, or nothing decrypted): lift what
    /// [`Persist::deciding`] recorded. Never called after a lock.
    ///
    /// # Errors
    /// Whatever the storage reports; the key then stays refused, and only an abort
    /// ([`CoreError::StorageFailed`]) is sent, not the signature.
    fn decided(&mut self, key: &PublicShares) -> Result<(), NetError>;
    /// A share that just locked itself after a failed signature, before any reply.
    ///
    /// # Errors
    /// Whatever the storage reports; no reply is sent then either (not even an abort:
    /// nothing leaves before the lock is durable).
    fn locked(&mut self, share: &S) -> Result<(), NetError>;
    /// A keygen ended before its share was promoted, at a point where the peer cannot hold
    /// the key as active: remove what [`Persist::pending`] stored.
    ///
    /// # Errors
    /// Whatever the storage reports (a pending file left behind is never used as a share).
    fn discard(&mut self) -> Result<(), NetError>;
}

/// Persistence for in-memory use (tests, the demo): nothing is stored.
#[derive(Clone, Copy, Debug, Default)]
pub struct InMemory;

impl<S> Persist<S> for InMemory {
    fn pending(&mut self, _: &S) -> Result<(), NetError> {
        Ok(())
    }
    fn promote(&mut self) -> Result<(), NetError> {
        Ok(())
    }
    fn deciding(&mut self, _: &PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn decided(&mut self, _: &PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn locked(&mut self, _: &S) -> Result<(), NetError> {
        Ok(())
    }
    fn discard(&mut self) -> Result<(), NetError> {
        Ok(())
    }
}

/// The share's files alone: the lock goes into the share file only, and nothing records a
/// decryption in progress. Party 0 runs with [`crate::lock_registry::Guarded`], which adds
/// the lock registry; this is for party 1, whose share never locks.
impl<S: KeyShare> Persist<S> for ShareFiles {
    fn pending(&mut self, share: &S) -> Result<(), NetError> {
        Ok(self.write_pending(share)?)
    }
    fn promote(&mut self) -> Result<(), NetError> {
        Ok(ShareFiles::promote(self)?)
    }
    fn deciding(&mut self, _: &PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn decided(&mut self, _: &PublicShares) -> Result<(), NetError> {
        Ok(())
    }
    fn locked(&mut self, share: &S) -> Result<(), NetError> {
        Ok(self.write_active(share)?)
    }
    fn discard(&mut self) -> Result<(), NetError> {
        Ok(self.discard_pending()?)
    }
}

/// The core's session context for a TLS session: our pid, the peer's, the channel binding.
#[must_use]
pub fn context(info: &SessionInfo) -> Context<'_> {
    Context {
        own_pid: info.own_pid,
        peer_pid: info.peer_pid,
        channel_binding: &info.channel_binding,
    }
}

/// Runs keygen as party 0 (P1) with a Paillier key made beforehand and its commitment
/// parameters ([`crate::params_secret`]), storing nothing; see [`keygen_p1_persisted`] (the
/// wire exchange is the same).
///
/// # Errors
/// As [`keygen_p1_persisted`].
pub fn keygen_p1<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    ctx: &Context<'_>,
    paillier: PaillierSecretKey,
    params: &RingPedersenSecret,
) -> Result<KeyShareP1, NetError> {
    keygen_p1_persisted(
        t,
        rng,
        ctx,
        paillier,
        params,
        &ParamsMsgCache::in_memory(),
        &mut InMemory,
    )
}

/// Runs keygen as party 0 (P1), confirmed. The parameter message (parameters and their
/// proof, bound to our pid, from `params_msgs`: proved once per identity; dropped from it if
/// party 1 refuses the proof, so that the next keygen proves again) goes first, then
/// keygen message 1, which names the parameters' hash. The new share goes to `persist.pending` before message 3 leaves, and is promoted only when party 1 says it has stored its own
/// ([`KeygenConfirmation::Stored`]); then party 0 tells party 1 so
/// ([`KeygenConfirmation::Active`]). On any error before the promotion (the pending write
/// included) the pending share is discarded: party 1 promotes only after that last message,
/// so it cannot hold the key as active either. Once promoted, the key is party 0's whatever
/// becomes of that last message: a failure to send it is not an error.
///
/// # Errors
/// Transport errors, [`NetError::Protocol`] if the peer's messages fail a check,
/// [`NetError::PeerAbort`] if the peer rejected ours (e.g. party 1 pinned other parameters
/// for us: [`CoreError::ParamsMismatch`]), a [`crate::StoreError`] from `persist`.
pub fn keygen_p1_persisted<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    ctx: &Context<'_>,
    paillier: PaillierSecretKey,
    params: &RingPedersenSecret,
    params_msgs: &ParamsMsgCache,
    persist: &mut dyn Persist<KeyShareP1>,
) -> Result<KeyShareP1, NetError> {
    let mut link = Link::new(t);
    // Message 1 first: its round checks the context (e.g. a session with ourselves) before
    // anything is sent. Both of P1's steps run their independent computations on every core.
    let (state, m1) = link.step(
        "keygen, message 1",
        keygen::p1::start_with(
            rng,
            ctx,
            paillier,
            params.params(),
            crate::tables::pedersen(),
            &Parallel,
        ),
    )?;
    link.send(params_msgs.get(rng, params, &ctx.own_pid).msg())?;
    link.send(&m1)?;
    let m2 = link
        .recv::<keygen::Msg2>("keygen, message 2")
        .inspect_err(|e| {
            if matches!(
                e,
                NetError::PeerAbort(PeerAbort {
                    error: CoreError::ProofInvalid(Proof::RingPedersenParams),
                    ..
                })
            ) {
                params_msgs.forget();
            }
        })?;
    let (share, m3) = link.step("keygen, message 2", state.on_msg2_with(rng, &m2, &Parallel))?;
    let confirmed = link.stored(persist.pending(&share)).and_then(|()| {
        link.send(&m3)?;
        link.recv_confirmation(KeygenConfirmation::Stored, share.public())?;
        // No abort if this fails: party 1 discards its share on an abort (party 0 aborts
        // only before promoting), and a promotion that failed after its rename has made the
        // key active here. Party 1 keeps its share pending instead (README, keygen).
        persist.promote()
    });
    if let Err(e) = confirmed {
        // Best effort: a pending file left behind is never loaded as a share anyway.
        let _ = persist.discard();
        return Err(e);
    }
    // Our share is active now whatever happens to this message: party 1 stored its own. So
    // a failed send is no failure of the keygen: party 0 reports the key it keeps, and party
    // 1, if it missed this message, holds its half as FILE.pending (README, keygen).
    let _ = link.send_raw(&KeygenConfirmation::Active.encode(share.public()));
    Ok(share)
}

/// How party 1 accepts party 0's commitment parameters at keygen: given party 0's parameter
/// message and its pid, the parameters to use, or why not. [`crate::pins::PinStore::check`]
/// (pinned per party 0) and [`crate::pins::verify`] (the proof every time) are the two ways.
pub type AcceptParams<'a> =
    dyn FnMut(&ParamsMsg, &Pid) -> Result<RingPedersenParams, NetError> + 'a;

/// Runs keygen as party 1 (P2), storing nothing; see [`keygen_p2_persisted`].
///
/// # Errors
/// As [`keygen_p2_persisted`].
pub fn keygen_p2<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    ctx: &Context<'_>,
    accept: &mut AcceptParams<'_>,
) -> Result<KeyShareP2, NetError> {
    keygen_p2_persisted(t, rng, ctx, accept, &mut InMemory)
}

/// Runs keygen as party 1 (P2), confirmed: first party 0's parameter message, judged by
/// `accept` (a refusal goes to party 0 as an abort), then keygen with the parameters
/// accepted; the verified share goes to `persist.pending`
/// before the acknowledgement ([`KeygenConfirmation::Stored`]) leaves, and is promoted when
/// party 0 says it made its own active ([`KeygenConfirmation::Active`]). A failed pending
/// write is discarded (nothing was acknowledged), and so is the share when party 0 aborts
/// instead of confirming (it aborts only before promoting); on any other error after the
/// acknowledgement the pending share stays (party 0 may hold the key as active): the
/// caller tells the operator, see [`crate::StoreError::Unconfirmed`].
///
/// # Errors
/// As [`keygen_p1_persisted`]; a bad Paillier key or proof from party 0 is
/// [`NetError::Protocol`]; what `accept` returns.
pub fn keygen_p2_persisted<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    ctx: &Context<'_>,
    accept: &mut AcceptParams<'_>,
    persist: &mut dyn Persist<KeyShareP2>,
) -> Result<KeyShareP2, NetError> {
    let mut link = Link::new(t);
    let msg = link.recv::<ParamsMsg>(PARAMS_STEP)?;
    // Party 0 sends message 1 right behind the parameters: read it before judging them, so
    // that an abort leaves nothing unread here (closing with unread data resets the TCP
    // connection, and party 0 would see the reset instead of the abort).
    let m1 = link.recv::<keygen::Msg1>("keygen, message 1")?;
    let params = accept(&msg, &ctx.peer_pid).inspect_err(|e| {
        // Party 0 must hear why (a bad proof, a changed parameter set), not time out; a
        // local failure (a pin that cannot be read or written) is ours alone, as when a
        // share cannot be written.
        if let Some(code) = params_abort(e) {
            let _ = link.transport.send(&abort_message(code));
        }
    })?;
    let (state, m2) = link.step(
        "keygen, message 1",
        keygen::p2::start(rng, ctx, &m1, &params),
    )?;
    link.send(&m2)?;
    let m3 = link.recv::<keygen::Msg3>("keygen, message 3")?;
    // P2's proof checks are independent: they run on every core.
    let share = link.step("keygen, message 3", state.on_msg3_with(rng, &m3, &Parallel))?;
    if let Err(e) = link.stored(persist.pending(&share)) {
        // Nothing acknowledged: party 0 cannot promote. A write that failed after its
        // rename may have left the file: remove it (best effort, as in party 0's case).
        let _ = persist.discard();
        return Err(e);
    }
    // From here on party 0 may hold the key as active (even a failed send may have reached
    // it): the pending share stays on error, except when party 0 aborts instead of
    // confirming, which it does only before its own promotion.
    link.send_raw(&KeygenConfirmation::Stored.encode(share.public()))?;
    match link.recv_confirmation(KeygenConfirmation::Active, share.public()) {
        Err(e @ NetError::PeerAbort(_)) => {
            let _ = persist.discard();
            return Err(e);
        }
        other => other?,
    }
    persist.promote()?;
    Ok(share)
}

/// The two messages that end a keygen, so that neither party uses a share the other has not
/// stored: a fixed tag and the joint public key Q (compressed SEC1), which the receiver
/// compares with its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeygenConfirmation {
    /// Party 1 to party 0, after message 3: "my share is stored" (the acknowledgement).
    Stored,
    /// Party 0 to party 1, last: "mine is active; make yours active".
    Active,
}

impl KeygenConfirmation {
    /// Length of either message: 16-byte tag and 33-byte Q.
    pub const LEN: usize = 16 + 33;

    fn tag(self) -> &'static [u8; 16] {
        match self {
            Self::Stored => b"E2KEYGEN-STORED1",
            Self::Active => b"E2KEYGEN-ACTIVE1",
        }
    }

    fn step(self) -> &'static str {
        match self {
            Self::Stored => "keygen, acknowledgement",
            Self::Active => "keygen, confirmation",
        }
    }

    /// The message for the key `key`.
    #[must_use]
    pub fn encode(self, key: &PublicShares) -> [u8; Self::LEN] {
        use k256::elliptic_curve::sec1::ToSec1Point;
        let mut out = [0u8; Self::LEN];
        let (tag, q) = out.split_at_mut(16);
        tag.copy_from_slice(self.tag());
        q.copy_from_slice(key.q.to_sec1_point(true).as_bytes());
        out
    }
}

/// The abort code that tells party 0 why its parameters were refused, if it is party 0's
/// business.
fn params_abort(e: &NetError) -> Option<CoreError> {
    match e {
        NetError::Protocol(p) => Some(p.error),
        NetError::Store(crate::StoreError::ParamsPinned { .. }) => Some(CoreError::ParamsMismatch),
        _ => None,
    }
}

/// Signs `digest` as party 0 (P1) without storage; see [`sign_p1_persisted`].
///
/// # Errors
/// As [`sign_p1_persisted`].
pub fn sign_p1<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &mut KeyShareP1,
    params: &RingPedersenSecret,
    ctx: &Context<'_>,
    digest: &Digest,
) -> Result<Signature, NetError> {
    sign_p1_persisted(
        t,
        rng,
        share,
        params,
        ctx,
        digest,
        &DerivationPath::MASTER,
        &mut InMemory,
    )
}

/// Signs `digest` as party 0 (P1) with the commitment-parameter secret the share was made
/// with, under the BIP32 child key at `path` ([`DerivationPath::MASTER`] for the key
/// itself; party 1 must sign under the same path). Party 1's message 4 carries a proof (π_c3) that its ciphertext is well formed; it is
/// checked before anything is decrypted, and an invalid one ends the run with
/// [`CoreError::ProofInvalid`] and nothing decrypted, recorded or locked. Only then does
/// `persist.deciding` record that a decision is pending, and once the outcome is known
/// `persist.decided` lift it; if the final signature fails to verify (which a valid proof
/// rules out unless its soundness broke), the share locks itself and is handed to
/// `persist.locked` before the abort goes out to the peer. A failure of `deciding` or
/// `decided` ends the run with an abort that says so ([`CoreError::StorageFailed`]; for a
/// `deciding` record that finds the key locked by another run, [`CoreError::KeyLocked`]) and
/// nothing else; a failure of `locked` sends nothing at all.
///
/// # Errors
/// As [`keygen_p1`]; [`CoreError::KeyLocked`] for a locked share;
/// [`CoreError::ParamsMismatch`] if `params` are not the ones the share was made with;
/// [`CoreError::NoChainCode`] for a path on a share made before chain codes.
#[allow(clippy::too_many_arguments)]
pub fn sign_p1_persisted<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &mut KeyShareP1,
    params: &RingPedersenSecret,
    ctx: &Context<'_>,
    digest: &Digest,
    path: &DerivationPath,
    persist: &mut dyn Persist<KeyShareP1>,
) -> Result<Signature, NetError> {
    // One signature at a time: π_c3's check on every core.
    sign_p1_persisted_with(
        t, rng, share, params, None, &Parallel, ctx, digest, path, persist,
    )
}

/// As [`sign_p1_persisted`], checking π_c3 with `tables`, the comb tables of `params`' h mod
/// its primes ([`RingPedersenSecret::trapdoor_tables`]), if the caller keeps them: the same
/// check, faster. A process that signs many times (the service) builds them once; for one
/// signature they cost about as much as they save. `exec` runs the check's independent
/// items ([`sign::p1::AwaitMsg4::check_msg4_on`]) and the decryption's two CRT halves:
/// [`Parallel`] for one signature at a time
/// ([`sign_p1_persisted`]), [`ecdsa2pc_core::work::Sequential`] where other sessions keep
/// every core busy (the service).
///
/// # Errors
/// As [`sign_p1_persisted`].
#[allow(clippy::too_many_arguments)]
pub fn sign_p1_persisted_with<T: Transport + ?Sized, R: CryptoRng + ?Sized, X: Executor>(
    t: &mut T,
    rng: &mut R,
    share: &mut KeyShareP1,
    params: &RingPedersenSecret,
    tables: Option<&TrapdoorTables<'_>>,
    exec: &X,
    ctx: &Context<'_>,
    digest: &Digest,
    path: &DerivationPath,
    persist: &mut dyn Persist<KeyShareP1>,
) -> Result<Signature, NetError> {
    let key = *share.public();
    let mut link = Link::new(t);
    let (state, m1) = link.step(
        "sign, message 1",
        sign::p1::start_derived(rng, share, params, ctx, digest, path),
    )?;
    link.send(&m1)?;
    let m2 = link.recv::<sign::Msg2>("sign, message 2")?;
    let (state, m3) = link.step("sign, message 2", state.on_msg2(rng, &m2))?;
    link.send(&m3)?;
    let m4 = link.recv::<sign::Msg4>("sign, message 4")?;
    // π_c3 and every other check of message 4, before any decryption.
    let checked = link.step("sign, message 4", state.check_msg4_on(&m4, tables, exec))?;
    link.stored(persist.deciding(&key))?;
    // The decryption's two CRT halves are independent work, as the check's items are.
    let finished = checked.finish_on(exec);
    if share.is_locked() {
        // Not even an abort goes out before the lock is durable.
        persist.locked(share)?;
    } else {
        link.stored(persist.decided(&key))?;
    }
    let (signature, m5) = link.step("sign, message 4", finished)?;
    link.send(&m5)?;
    Ok(signature)
}

/// Signs `digest` as party 1 (P2); returns the signature party 0 finished, verified.
///
/// # Errors
/// As [`keygen_p1`].
pub fn sign_p2<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &KeyShareP2,
    ctx: &Context<'_>,
    digest: &Digest,
) -> Result<Signature, NetError> {
    sign_p2_with(
        t,
        rng,
        share,
        ctx,
        digest,
        &DerivationPath::MASTER,
        &Accel::default(),
    )
}

/// What P2 computed ahead of time: its fixed-base table and a pool of message-independent
/// signing work (both optional).
#[derive(Debug, Default)]
pub struct Accel<'a, 't> {
    /// The fixed-base table of the share's c_key ⊕ q·2^64.
    pub table: Option<&'a sign::p2::Precomputed<'t>>,
    /// Precomputed signing work ([`sign::p2::Presign`]) for the share.
    pub pool: Option<&'a crate::pool::PresignPool>,
}

/// As [`sign_p2`], under the BIP32 child key at `path` ([`DerivationPath::MASTER`] for the
/// key itself), with precomputation.
///
/// # Errors
/// As [`sign_p2`]; [`CoreError::PathMismatch`] if party 0 signs under another path;
/// [`CoreError::NoChainCode`] for a path on a share made before chain codes.
pub fn sign_p2_with<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &KeyShareP2,
    ctx: &Context<'_>,
    digest: &Digest,
    path: &DerivationPath,
    accel: &Accel<'_, '_>,
) -> Result<Signature, NetError> {
    let mut link = Link::new(t);
    let m1 = link.recv::<sign::Msg1>("sign, message 1")?;
    let pre = accel.pool.and_then(crate::pool::PresignPool::take);
    let (state, m2) = link.step(
        "sign, message 1",
        sign::p2::start_derived(rng, share, ctx, digest, &m1, pre, path),
    )?;
    link.send(&m2)?;
    let m3 = link.recv::<sign::Msg3>("sign, message 3")?;
    let (state, m4) = link.step("sign, message 3", state.on_msg3_with(rng, &m3, accel.table))?;
    link.send(&m4)?;
    let m5 = link.recv::<sign::Msg5>("sign, message 5")?;
    link.step("sign, message 5", state.on_msg5(&m5))
}

/// Refreshes as party 0 (P1) with a new Paillier key: the new share goes to
/// `persist.pending` before message 3 leaves, and is promoted once party 1 confirms.
///
/// # Errors
/// As [`keygen_p1`]; on any error before the promotion the old share stays active.
pub fn refresh_p1<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &KeyShareP1,
    ctx: &Context<'_>,
    new_key: PaillierSecretKey,
    persist: &mut dyn Persist<KeyShareP1>,
) -> Result<KeyShareP1, NetError> {
    let mut link = Link::new(t);
    let (state, m1) = link.step(
        "refresh, message 1",
        // c_key', the Pedersen commitment and the proofs' first messages are independent: on
        // every core, with the process's Pedersen table as keygen uses it.
        refresh::p1::start_with(
            rng,
            share,
            ctx,
            new_key,
            crate::tables::pedersen(),
            &Parallel,
        ),
    )?;
    link.send(&m1)?;
    let m2 = link.recv::<refresh::Msg2>("refresh, message 2")?;
    let (state, m3) = link.step(
        "refresh, message 2",
        state.on_msg2_with(rng, &m2, &Parallel),
    )?;
    link.stored(persist.pending(state.pending()))?;
    link.send(&m3)?;
    let m4 = link.recv::<refresh::Msg4>("refresh, message 4")?;
    let fresh = link.step("refresh, message 4", state.on_msg4(&m4))?;
    link.stored(persist.promote())?;
    link.send(&refresh::Msg5)?;
    Ok(fresh)
}

/// Refreshes as party 1 (P2): the verified new share goes to `persist.pending` before the
/// confirmation leaves, and is promoted when party 0 says it promoted its own.
///
/// # Errors
/// As [`keygen_p2`]; a bad N' or proof from party 0 is [`NetError::Protocol`].
pub fn refresh_p2<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &KeyShareP2,
    ctx: &Context<'_>,
    persist: &mut dyn Persist<KeyShareP2>,
) -> Result<KeyShareP2, NetError> {
    let mut link = Link::new(t);
    let m1 = link.recv::<refresh::Msg1>("refresh, message 1")?;
    let (state, m2) = link.step(
        "refresh, message 1",
        refresh::p2::start(rng, share, ctx, &m1),
    )?;
    link.send(&m2)?;
    let m3 = link.recv::<refresh::Msg3>("refresh, message 3")?;
    // P2's proof checks are independent: they run on every core.
    let (fresh, m4) = link.step(
        "refresh, message 3",
        state.on_msg3_with(rng, &m3, &Parallel),
    )?;
    link.stored(persist.pending(&fresh))?;
    link.send(&m4)?;
    link.recv::<refresh::Msg5>("refresh, message 5")?;
    persist.promote()?;
    Ok(fresh)
}

/// A transport with one receive buffer and the abort rule.
struct Link<'t, T: Transport + ?Sized> {
    transport: &'t mut T,
    buf: Vec<u8>,
}

impl<'t, T: Transport + ?Sized> Link<'t, T> {
    fn new(transport: &'t mut T) -> Self {
        Self {
            transport,
            buf: vec![0u8; MAX_MSG_LEN],
        }
    }

    fn send<M: Message>(&mut self, msg: &M) -> Result<(), NetError> {
        let mut out = vec![0u8; M::LEN];
        let len = msg.encode(&mut out).map_err(|error| ProtocolError {
            error,
            step: "encoding",
        })?;
        self.transport.send(out.get(..len).unwrap_or(&out))
    }

    fn recv<M: Message>(&mut self, step: &'static str) -> Result<M, NetError> {
        let bytes = self.transport.recv(&mut self.buf)?;
        if let Some(error) = peer_abort(bytes) {
            return Err(PeerAbort { error, step }.into());
        }
        let decoded = M::decode(bytes);
        self.step(step, decoded)
    }

    /// Sends bytes that are no core message (the keygen confirmations).
    fn send_raw(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        self.transport.send(bytes)
    }

    /// Receives `expected` for `key`: another length or tag is [`CoreError::Malformed`],
    /// another Q [`CoreError::SessionMismatch`] (the peer made another key).
    fn recv_confirmation(
        &mut self,
        expected: KeygenConfirmation,
        key: &PublicShares,
    ) -> Result<(), NetError> {
        let step = expected.step();
        let bytes = self.transport.recv(&mut self.buf)?;
        if let Some(error) = peer_abort(bytes) {
            return Err(PeerAbort { error, step }.into());
        }
        let want = expected.encode(key);
        let checked = if bytes.len() != want.len() || bytes.get(..16) != want.get(..16) {
            Err(CoreError::Malformed)
        } else if bytes != want {
            Err(CoreError::SessionMismatch)
        } else {
            Ok(())
        };
        self.step(step, checked)
    }

    /// Passes a storage write's result through; on error tells the peer that we could not
    /// store ([`CoreError::StorageFailed`]), which it would otherwise see only as a closed
    /// connection, or that the key is locked ([`CoreError::KeyLocked`]) if the write found
    /// its lock (a `.deciding` record finding that another run of the key locked it).
    fn stored(&mut self, result: Result<(), NetError>) -> Result<(), NetError> {
        result.inspect_err(|e| {
            let code = match e {
                NetError::Store(crate::error::StoreError::KeyLocked { .. }) => CoreError::KeyLocked,
                _ => CoreError::StorageFailed,
            };
            // Best effort, as in `step`: our storage error is the one to report.
            let _ = self.transport.send(&abort_message(code));
        })
    }

    /// Passes a round's result through; on error tells the peer before returning it.
    fn step<V>(&mut self, step: &'static str, result: Result<V, CoreError>) -> Result<V, NetError> {
        result.map_err(|error| {
            // Best effort: the peer may already be gone, and our error is the one to report.
            let _ = self.transport.send(&abort_message(error));
            ProtocolError { error, step }.into()
        })
    }
}
