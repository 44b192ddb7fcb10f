//! Session binding: the caller's context, the session id and the binding of every proof.

use crate::{Error, Party, Result, tags, transcript::Transcript};

/// Length of a party id, a nonce and a session id.
pub const ID_LEN: usize = 32;

/// What the transport knows about this session; the core treats it as opaque bytes.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Our party id: SHA-256 of our certificate's SubjectPublicKeyInfo.
    pub own_pid: [u8; ID_LEN],
    /// The peer's party id, likewise.
    pub peer_pid: [u8; ID_LEN],
    /// A value both ends of the channel share and nobody else does (a TLS exporter).
    pub channel_binding: &'a [u8],
}

impl Context<'_> {
    /// (P1's pid, P2's pid), given which party we are.
    ///
    /// # Errors
    /// [`Error::SessionMismatch`] if both ids are equal: a party talking to itself.
    pub(crate) fn pids(&self, we: Party) -> Result<([u8; ID_LEN], [u8; ID_LEN])> {
        if self.own_pid == self.peer_pid {
            return Err(Error::SessionMismatch);
        }
        Ok(match we {
            Party::P1 => (self.own_pid, self.peer_pid),
            Party::P2 => (self.peer_pid, self.own_pid),
        })
    }
}

/// What P1 opens a run with: its nonce, drawn before anything else, the run's ids and what
/// the run is about (the `extra` the ids bind: the parameters' hash for keygen, the share's
/// fingerprint for refresh, the fingerprint and the derivation path's id for sign).
pub(crate) struct Opened<E = [u8; ID_LEN]> {
    /// P1's nonce, sent in its first message.
    pub(crate) nonce1: [u8; ID_LEN],
    /// The run's ids.
    pub(crate) ids: RunIds,
    /// What the ids bind besides the run and the parties.
    pub(crate) extra: E,
}

/// Draws P1's nonce for a `run` about `extra` and makes the run's ids (see [`RunIds::new`]).
///
/// # Errors
/// [`Error::SessionMismatch`] if both ids of the context are equal.
pub(crate) fn open<R: rand_core::CryptoRng + ?Sized, E: AsRef<[u8]>>(
    rng: &mut R,
    ctx: &Context<'_>,
    run: &'static str,
    extra: E,
) -> Result<Opened<E>> {
    let nonce1 = nonce(rng);
    let ids = RunIds::new(ctx, Party::P1, run, &nonce1, extra.as_ref())?;
    Ok(Opened { nonce1, ids, extra })
}

/// The ids of one run before P2's nonce is known: both pids and the prefix, the hash of
/// everything known so far. Makes the bindings of P1's commitments.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunIds {
    pid1: [u8; ID_LEN],
    pid2: [u8; ID_LEN],
    prefix: [u8; ID_LEN],
}

impl RunIds {
    /// The ids of a `run` (keygen, sign, refresh) P1 opened with `nonce1`; `extra` is what
    /// the run is about (the parameters' hash for keygen, the share's fingerprint for refresh,
    /// the fingerprint and the derivation path's id for sign).
    ///
    /// # Errors
    /// [`Error::SessionMismatch`] if both ids of the context are equal.
    pub(crate) fn new(
        ctx: &Context<'_>,
        we: Party,
        run: &'static str,
        nonce1: &[u8; ID_LEN],
        extra: &[u8],
    ) -> Result<Self> {
        let (pid1, pid2) = ctx.pids(we)?;
        let mut t = Transcript::new(tags::SESSION_PREFIX);
        t.bytes("protocol", tags::PROTOCOL)
            .bytes("run", run.as_bytes())
            .bytes("pid1", &pid1)
            .bytes("pid2", &pid2)
            .bytes("channel", ctx.channel_binding)
            .bytes("nonce1", nonce1)
            .bytes("extra", extra);
        Ok(Self {
            pid1,
            pid2,
            prefix: t.finish(),
        })
    }

    /// The party id of `party`.
    pub(crate) fn pid(&self, party: Party) -> &[u8; ID_LEN] {
        match party {
            Party::P1 => &self.pid1,
            Party::P2 => &self.pid2,
        }
    }

    /// The binding of a statement P1 commits to before P2's nonce: the prefix, prover P1.
    pub(crate) fn committed(&self, label: &'static str) -> Binding<'_> {
        Binding {
            session: &self.prefix,
            prover: &self.pid1,
            label,
        }
    }

    /// The ids once P2's nonce is known.
    pub(crate) fn with_nonce2(self, nonce2: &[u8; ID_LEN]) -> SessionIds {
        let mut t = Transcript::new(tags::SESSION_ID);
        t.bytes("prefix", &self.prefix).bytes("nonce2", nonce2);
        SessionIds {
            run: self,
            sid: t.finish(),
        }
    }
}

/// The ids of a run once both nonces are known: adds the session id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionIds {
    /// The ids before P2's nonce, still binding P1's commitments.
    pub(crate) run: RunIds,
    sid: [u8; ID_LEN],
}

impl SessionIds {
    /// The binding of a proof `prover` makes in this session.
    pub(crate) fn proof_by(&self, prover: Party, label: &'static str) -> Binding<'_> {
        Binding {
            session: &self.sid,
            prover: self.run.pid(prover),
            label,
        }
    }
}

/// What a proof is bound to: the session, the prover and the statement's role in it.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    /// The session id (or prefix, for commitments made before it is known).
    pub session: &'a [u8; ID_LEN],
    /// The prover's party id.
    pub prover: &'a [u8; ID_LEN],
    /// Which statement of the protocol this is, e.g. `"keygen/Q1"`.
    pub label: &'static str,
}

impl Binding<'_> {
    /// A transcript under `tag` that starts with this binding.
    #[must_use]
    pub(crate) fn transcript(&self, tag: &'static [u8]) -> Transcript {
        let mut t = Transcript::new(tag);
        t.bytes("session", self.session)
            .bytes("prover", self.prover)
            .bytes("label", self.label.as_bytes());
        t
    }
}

/// A fresh random nonce.
pub(crate) fn nonce<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> [u8; ID_LEN] {
    let mut n = [0u8; ID_LEN];
    rng.fill_bytes(&mut n);
    n
}
