//! Protocol drivers: run the core's rounds over any [`Transport`], one call per protocol.
//!
//! Each driver sends and receives whole messages, checks every received message with the
//! core's strict decoder, and on any failure sends the peer a short abort message (so it
//! stops waiting) before returning the error. The same code runs over TLS and over
//! [`crate::memory_pipe`] in tests.

use ecdsa2pc_core::{
    Error as CoreError, keygen,
    paillier::SecretKey,
    session::Context,
    share::{KeyShareP1, KeyShareP2},
    sign::{self, Digest},
    wire::{self, MAX_MSG_LEN, Message},
};
use k256::ecdsa::Signature;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};

use crate::{NetError, SessionInfo, Transport};

/// The core's session context for a TLS session: our pid, the peer's, the channel binding.
#[must_use]
pub fn context(info: &SessionInfo) -> Context<'_> {
    Context {
        own_pid: info.own_pid,
        peer_pid: info.peer_pid,
        channel_binding: &info.channel_binding,
    }
}

/// A CSPRNG (ChaCha20) seeded from the operating system.
///
/// # Errors
/// [`NetError::Io`] if the operating system has no entropy source.
pub fn os_rng() -> Result<ChaCha20Rng, NetError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| NetError::Io {
        phase: crate::Phase::Connect,
        source: std::io::Error::other(format!("the operating system gave no randomness: {e}")),
    })?;
    Ok(ChaCha20Rng::from_seed(seed))
}

/// Runs keygen as party 0 (P1) with a Paillier key made beforehand.
///
/// # Errors
/// Transport errors, [`NetError::Protocol`] if the peer's messages fail a check,
/// [`NetError::PeerAborted`] if the peer rejected ours.
pub fn keygen_p1<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    ctx: &Context<'_>,
    paillier: SecretKey,
) -> Result<KeyShareP1, NetError> {
    let mut link = Link::new(t);
    let (state, m1) = link.step("keygen, message 1", keygen::p1::start(rng, ctx, paillier))?;
    link.send(&m1)?;
    let m2 = link.recv::<keygen::Msg2>("keygen, message 2")?;
    let (share, m3) = link.step("keygen, message 2", state.on_msg2(rng, &m2))?;
    link.send(&m3)?;
    Ok(share)
}

/// Runs keygen as party 1 (P2).
///
/// # Errors
/// As [`keygen_p1`]; a bad Paillier key or proof from party 0 is [`NetError::Protocol`].
pub fn keygen_p2<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    ctx: &Context<'_>,
) -> Result<KeyShareP2, NetError> {
    let mut link = Link::new(t);
    let m1 = link.recv::<keygen::Msg1>("keygen, message 1")?;
    let (state, m2) = link.step("keygen, message 1", keygen::p2::start(rng, ctx, &m1))?;
    link.send(&m2)?;
    let m3 = link.recv::<keygen::Msg3>("keygen, message 3")?;
    link.step("keygen, message 3", state.on_msg3(rng, &m3))
}

/// Signs `digest` as party 0 (P1). If the final signature fails to verify, the share is
/// locked when this returns: persist it before anything else.
///
/// # Errors
/// As [`keygen_p1`]; [`CoreError::KeyLocked`] for a locked share.
pub fn sign_p1<T: Transport + ?Sized, R: CryptoRng + ?Sized>(
    t: &mut T,
    rng: &mut R,
    share: &mut KeyShareP1,
    ctx: &Context<'_>,
    digest: &Digest,
) -> Result<Signature, NetError> {
    let mut link = Link::new(t);
    let (state, m1) = link.step("sign, message 1", sign::p1::start(rng, share, ctx, digest))?;
    link.send(&m1)?;
    let m2 = link.recv::<sign::Msg2>("sign, message 2")?;
    let (state, m3) = link.step("sign, message 2", state.on_msg2(rng, &m2))?;
    link.send(&m3)?;
    let m4 = link.recv::<sign::Msg4>("sign, message 4")?;
    let (signature, m5) = link.step("sign, message 4", state.on_msg4(&m4))?;
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
    let mut link = Link::new(t);
    let m1 = link.recv::<sign::Msg1>("sign, message 1")?;
    let (state, m2) = link.step(
        "sign, message 1",
        sign::p2::start(rng, share, ctx, digest, &m1),
    )?;
    link.send(&m2)?;
    let m3 = link.recv::<sign::Msg3>("sign, message 3")?;
    let (state, m4) = link.step("sign, message 3", state.on_msg3(rng, &m3))?;
    link.send(&m4)?;
    let m5 = link.recv::<sign::Msg5>("sign, message 5")?;
    link.step("sign, message 5", state.on_msg5(&m5))
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
        let len = msg.encode(&mut out).map_err(|error| NetError::Protocol {
            error,
            step: "encoding",
        })?;
        self.transport.send(out.get(..len).unwrap_or(&out))
    }

    fn recv<M: Message>(&mut self, step: &'static str) -> Result<M, NetError> {
        let bytes = self.transport.recv(&mut self.buf)?;
        if let Some(error) = wire::peer_abort(bytes) {
            return Err(NetError::PeerAborted { error, step });
        }
        let decoded = M::decode(bytes);
        self.step(step, decoded)
    }

    /// Passes a round's result through; on error tells the peer before returning it.
    fn step<V>(&mut self, step: &'static str, result: Result<V, CoreError>) -> Result<V, NetError> {
        result.map_err(|error| {
            // Best effort: the peer may already be gone, and our error is the one to report.
            let _ = self.transport.send(&wire::abort_message(error));
            NetError::Protocol { error, step }
        })
    }
}
