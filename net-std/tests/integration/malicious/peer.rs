//! `MaliciousPeer`: either role of keygen, signing or refresh, run with the core's real round
//! functions, that applies an [`Action`] to chosen outgoing messages.
//!
//! Messages are numbered per protocol as in docs/PROTOCOL.md (keygen 0–3, where 0 is party 0's
//! parameter message, sign 1–5, refresh 1–5); an attack on message `n` applies when this peer is the one that sends it. After an
//! attacked message the peer keeps running the real protocol, so the honest side's reaction
//! (normally its abort message) arrives and is logged.

use std::io::Write;
use std::ops::Range;

use ecdsa2pc_core::{
    Context, Error as CoreError, KeyShare, KeyShareP1, KeyShareP2, Message, PaillierSecretKey,
    ParamsMsg, PublicShares, RingPedersenSecret, keygen, refresh, sign, sign::Digest,
};
use ecdsa2pc_core::{abort_message, peer_abort};
use ecdsa2pc_net::driver::KeygenConfirmation;
use ecdsa2pc_net::{Channel, Framed, MemoryEnd, NetError, Phase, Transport, TransportError};
use k256::ecdsa::Signature;
use rand_core::CryptoRng;

/// A transport the attacker can also write unframed bytes to (for cut frames).
pub trait Link: Transport {
    /// Writes `bytes` to the underlying stream as they are, without a frame header.
    ///
    /// # Errors
    /// The stream's error, or an I/O error if this transport cannot write raw bytes.
    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), NetError>;
}

fn io_err(e: std::io::Error) -> NetError {
    NetError::Transport(TransportError::Io {
        phase: Phase::Send,
        source: e,
    })
}

impl Link for Framed<MemoryEnd> {
    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        let s = self.get_mut();
        s.write_all(bytes).and_then(|()| s.flush()).map_err(io_err)
    }
}

/// A TLS client the test built from rustls directly, so it can also write raw bytes.
pub type RawTls = Framed<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>>;

impl Link for RawTls {
    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        let s = self.get_mut();
        s.write_all(bytes).and_then(|()| s.flush()).map_err(io_err)
    }
}

impl Link for Channel {
    fn write_raw(&mut self, _: &[u8]) -> Result<(), NetError> {
        Err(io_err(std::io::Error::other(
            "a Channel writes whole frames only; use RawTls",
        )))
    }
}

/// What the attacker does after withholding a message.
#[derive(Clone, Copy, Debug)]
pub enum Then {
    /// Close the connection.
    Close,
    /// Keep it open and send nothing (until the honest side gives up).
    Stall,
}

/// Where reordered bytes come from.
#[derive(Debug)]
pub enum Source {
    /// The message this peer sent at the given index (0-based) earlier in this session.
    Earlier(usize),
    /// A message recorded in an earlier session (of another type than the one due).
    Recorded(Vec<u8>),
}

/// Computes the bytes to send from the honest encoding and the log so far.
pub type Rewriter = Box<dyn FnOnce(Vec<u8>, &Log) -> Vec<u8> + Send>;

/// What to do with one outgoing message.
pub enum Action {
    /// Overwrite a byte range of the message.
    Replace { range: Range<usize>, bytes: Vec<u8> },
    /// Flip one bit: `offset` into the message, bit 0 = least significant.
    Mutate { offset: usize, bit: u8 },
    /// Send only the first `len` bytes (as a well-formed, shorter frame).
    Truncate(usize),
    /// Append bytes.
    Extend(Vec<u8>),
    /// Send nothing, then close or stall.
    Drop(Then),
    /// Send a message of the same type recorded in an earlier session instead.
    Replay(Vec<u8>),
    /// Send a message of another type instead.
    Reorder(Source),
    /// Never send it; keep the connection open.
    Stall,
    /// Announce the full frame but write only `keep` bytes of its body, then close or stall.
    CutFrame { keep: usize, then: Then },
    /// Write these raw bytes (e.g. a frame header announcing 4 GiB), then close or stall.
    Raw(Vec<u8>, Then),
    /// Drip the frame: header and then one body byte every `every`, for as long as the peer
    /// reads (a slow-loris peer).
    Drip { every: std::time::Duration },
    /// Compute the bytes to send from the honest encoding and what was received so far.
    Rewrite(Rewriter),
}

impl core::fmt::Debug for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Replace { range, .. } => write!(f, "Replace({range:?})"),
            Self::Mutate { offset, bit } => write!(f, "Mutate(byte {offset}, bit {bit})"),
            Self::Truncate(n) => write!(f, "Truncate({n})"),
            Self::Extend(b) => write!(f, "Extend(+{})", b.len()),
            Self::Drop(t) => write!(f, "Drop, then {t:?}"),
            Self::Replay(b) => write!(f, "Replay(type {:#04x})", b.get(1).unwrap_or(&0)),
            Self::Reorder(s) => write!(f, "Reorder({s:?})"),
            Self::Stall => f.write_str("Stall"),
            Self::CutFrame { keep, then } => write!(f, "CutFrame(keep {keep}, then {then:?})"),
            Self::Drip { every } => write!(f, "Drip(every {every:?})"),
            Self::Raw(b, then) => write!(f, "Raw({} bytes, then {then:?})", b.len()),
            Self::Rewrite(_) => f.write_str("Rewrite"),
        }
    }
}

/// Everything the attacker saw and did, for replays in later sessions and for assertions.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// What it put on the wire (after its actions).
    pub sent: Vec<Vec<u8>>,
    /// The honest encoding of each message it was due to send.
    pub honest: Vec<Vec<u8>>,
    /// What it received, in order (abort messages included).
    pub received: Vec<Vec<u8>>,
}

/// How the attacker's run ended.
#[derive(Debug)]
pub enum End {
    /// The protocol ran to its end.
    Completed,
    /// The honest side sent an abort message with this error.
    PeerAborted(CoreError),
    /// The attacker's own (real) round rejected what the honest side sent.
    Rejected(CoreError),
    /// The transport failed (the honest side closed, a timeout, …).
    Net(NetError),
    /// The attacker withheld a message and stopped.
    Withheld,
}

impl End {
    /// One line for the test's summary.
    pub fn describe(&self) -> String {
        match self {
            Self::Completed => "completed".into(),
            Self::PeerAborted(e) => format!("got the abort ({e:?})"),
            Self::Rejected(e) => format!("rejected the reply ({e:?})"),
            Self::Net(e) => format!("transport ended ({e})"),
            Self::Withheld => "withheld its message".into(),
        }
    }
}

/// The result of a malicious run.
#[derive(Debug)]
pub struct Outcome<V> {
    pub end: End,
    pub output: Option<V>,
    pub log: Log,
}

type Step<V> = Result<V, End>;

/// A hook run on the first message that arrives after the attack (e.g. to look at the
/// honest side's files at the moment its abort reaches us).
type Hook = Box<dyn FnOnce(&[u8]) + Send>;

/// A protocol peer that runs the real rounds and tampers with chosen messages.
pub struct MaliciousPeer<T: Link> {
    t: T,
    attacks: Vec<(u8, Action)>,
    attacked: bool,
    on_reply: Option<Hook>,
    buf: Vec<u8>,
    log: Log,
}

impl<T: Link> MaliciousPeer<T> {
    /// A peer that behaves honestly until an attack is added.
    pub fn new(t: T) -> Self {
        Self {
            t,
            attacks: Vec::new(),
            attacked: false,
            on_reply: None,
            buf: vec![0u8; 1 << 20],
            log: Log::default(),
        }
    }

    /// Applies `action` to message `msg` (1-based, protocol numbering) if this peer sends it.
    pub fn attack(mut self, msg: u8, action: Action) -> Self {
        self.attacks.push((msg, action));
        self
    }

    /// Runs `hook` on the first message received after an attack.
    pub fn on_reply(mut self, hook: impl FnOnce(&[u8]) + Send + 'static) -> Self {
        self.on_reply = Some(Box::new(hook));
        self
    }

    fn send<M: Message>(&mut self, n: u8, msg: &M) -> Step<()> {
        let mut honest = vec![0u8; M::LEN];
        msg.encode(&mut honest).expect("encodes");
        self.log.honest.push(honest.clone());
        let action = self
            .attacks
            .iter()
            .position(|(at, _)| *at == n)
            .map(|i| self.attacks.remove(i).1);
        let Some(action) = action else {
            return self.put(honest);
        };
        self.attacked = true;
        let mut bytes = honest;
        match action {
            Action::Replace { range, bytes: with } => {
                assert_eq!(range.len(), with.len(), "Replace keeps the length");
                bytes[range].copy_from_slice(&with);
            }
            Action::Mutate { offset, bit } => bytes[offset] ^= 1 << bit,
            Action::Truncate(len) => bytes.truncate(len),
            Action::Extend(more) => bytes.extend_from_slice(&more),
            Action::Replay(old) => {
                assert_eq!(old[..2], bytes[..2], "a replay has the type that is due");
                assert_ne!(old, bytes, "a replay is another session's message");
                bytes = old;
            }
            Action::Reorder(source) => {
                let other = match source {
                    Source::Earlier(i) => self.log.sent[i].clone(),
                    Source::Recorded(b) => b,
                };
                assert_ne!(other[1], bytes[1], "a reordered message has another type");
                bytes = other;
            }
            Action::Rewrite(f) => bytes = f(bytes, &self.log),
            Action::Drop(then) => return Err(self.then(then)),
            Action::Stall => return Err(self.then(Then::Stall)),
            Action::CutFrame { keep, then } => {
                let mut raw = u32::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
                raw.extend_from_slice(&bytes[..keep]);
                self.t.write_raw(&raw).map_err(End::Net)?;
                return Err(self.then(then));
            }
            Action::Raw(raw, then) => {
                self.t.write_raw(&raw).map_err(End::Net)?;
                return Err(self.then(then));
            }
            Action::Drip { every } => {
                let header = u32::try_from(bytes.len()).unwrap().to_be_bytes();
                self.t.write_raw(&header).map_err(End::Net)?;
                for b in &bytes {
                    std::thread::sleep(every);
                    if self.t.write_raw(&[*b]).is_err() {
                        break;
                    }
                }
                return Err(End::Withheld);
            }
        }
        self.put(bytes)
    }

    fn put(&mut self, bytes: Vec<u8>) -> Step<()> {
        let sent = self.t.send(&bytes);
        self.log.sent.push(bytes);
        sent.map_err(End::Net)
    }

    /// Withholds: closes at once, or reads (and logs) until the honest side goes away.
    fn then(&mut self, then: Then) -> End {
        if let Then::Stall = then {
            while let Ok(got) = self.t.recv(&mut self.buf) {
                self.log.received.push(got.to_vec());
            }
        }
        End::Withheld
    }

    fn recv<M: Message>(&mut self) -> Step<M> {
        let got = self.t.recv(&mut self.buf).map_err(End::Net)?.to_vec();
        if self.attacked
            && let Some(hook) = self.on_reply.take()
        {
            hook(&got);
        }
        self.log.received.push(got.clone());
        if let Some(e) = peer_abort(&got) {
            return Err(End::PeerAborted(e));
        }
        let decoded = M::decode(&got);
        self.round(decoded)
    }

    /// The honest side's abort after our last message, if it sends one before closing.
    fn reaction(&mut self) -> Option<CoreError> {
        let got = self.t.recv(&mut self.buf).ok()?.to_vec();
        if let Some(hook) = self.on_reply.take() {
            hook(&got);
        }
        self.log.received.push(got.clone());
        peer_abort(&got)
    }

    /// A round's result; on error the attacker aborts like an honest implementation,
    /// unless a replay is still pending: a replaying attacker ignores its own checks (its
    /// state belongs to another session) and sends the old message anyway.
    /// Receives the keygen confirmation `expected` for `key` (as the honest driver sends it).
    fn confirmation(&mut self, expected: KeygenConfirmation, key: &PublicShares) -> Step<()> {
        let got = self.t.recv(&mut self.buf).map_err(End::Net)?.to_vec();
        self.log.received.push(got.clone());
        if let Some(e) = peer_abort(&got) {
            return Err(End::PeerAborted(e));
        }
        if got != expected.encode(key) {
            return Err(End::Rejected(CoreError::Malformed));
        }
        Ok(())
    }

    fn round<V>(&mut self, r: Result<V, CoreError>) -> Step<V> {
        r.map_err(|e| {
            let replay = self
                .attacks
                .iter()
                .position(|(_, a)| matches!(a, Action::Replay(_)));
            if let Some(i) = replay
                && let (_, Action::Replay(old)) = self.attacks.remove(i)
            {
                self.attacked = true;
                if let Err(end) = self.put(old) {
                    return end;
                }
                return self.reaction().map_or(End::Withheld, End::PeerAborted);
            }
            let _ = self.t.send(&abort_message(e));
            End::Rejected(e)
        })
    }

    fn finish<V>(mut self, r: Step<V>) -> Outcome<V> {
        // An attack on our last message: wait for the honest side's reaction (its abort,
        // or the end of the connection).
        let r = match r {
            Ok(v) if self.attacked => match self.reaction() {
                Some(e) => Err(End::PeerAborted(e)),
                None => Ok(v),
            },
            other => other,
        };
        let Self { t, log, .. } = self;
        drop(t);
        match r {
            Ok(v) => Outcome {
                end: End::Completed,
                output: Some(v),
                log,
            },
            Err(end) => Outcome {
                end,
                output: None,
                log,
            },
        }
    }

    /// Keygen as P1 (party 0), with the commitment parameters of `params`.
    pub fn keygen_p1<R: CryptoRng>(
        mut self,
        rng: &mut R,
        ctx: &Context<'_>,
        key: PaillierSecretKey,
        params: &RingPedersenSecret,
    ) -> Outcome<KeyShareP1> {
        let r = (|| -> Step<KeyShareP1> {
            self.send(0, &params.params_msg(rng, &ctx.own_pid))?;
            let (st, m1) = self.round(keygen::p1::start(rng, ctx, key, params.params()))?;
            self.send(1, &m1)?;
            let m2 = self.recv::<keygen::Msg2>()?;
            let (share, m3) = self.round(st.on_msg2(rng, &m2))?;
            self.send(3, &m3)?;
            if !self.attacked {
                // The honest confirmation: party 1's acknowledgement, then "active".
                self.confirmation(KeygenConfirmation::Stored, share.public())?;
                self.put(KeygenConfirmation::Active.encode(share.public()).to_vec())?;
            }
            Ok(share)
        })();
        self.finish(r)
    }

    /// Keygen as P2 (party 1).
    pub fn keygen_p2<R: CryptoRng>(
        mut self,
        rng: &mut R,
        ctx: &Context<'_>,
    ) -> Outcome<KeyShareP2> {
        let r = (|| -> Step<KeyShareP2> {
            let m0 = self.recv::<ParamsMsg>()?;
            // The fixture parameters skip their proof, as a pinned party 1 does.
            let params =
                self.round(
                    crate::fixtures::trusted(&m0, &ctx.peer_pid).map_err(|e| match e {
                        NetError::Protocol(p) => p.error,
                        _ => CoreError::ParamsMismatch,
                    }),
                )?;
            let m1 = self.recv::<keygen::Msg1>()?;
            let (st, m2) = self.round(keygen::p2::start(rng, ctx, &m1, &params))?;
            self.send(2, &m2)?;
            let m3 = self.recv::<keygen::Msg3>()?;
            let share = self.round(st.on_msg3(rng, &m3))?;
            self.put(KeygenConfirmation::Stored.encode(share.public()).to_vec())?;
            self.confirmation(KeygenConfirmation::Active, share.public())?;
            Ok(share)
        })();
        self.finish(r)
    }

    /// Signing as P1 (party 0).
    pub fn sign_p1<R: CryptoRng>(
        mut self,
        rng: &mut R,
        share: &mut KeyShareP1,
        params: &RingPedersenSecret,
        ctx: &Context<'_>,
        digest: &Digest,
    ) -> Outcome<Signature> {
        let r = (|| -> Step<Signature> {
            let (st, m1) = self.round(sign::p1::start(rng, share, params, ctx, digest))?;
            self.send(1, &m1)?;
            let m2 = self.recv::<sign::Msg2>()?;
            let (st, m3) = self.round(st.on_msg2(rng, &m2))?;
            self.send(3, &m3)?;
            let m4 = self.recv::<sign::Msg4>()?;
            let (sig, m5) = self.round(st.on_msg4(&m4))?;
            self.send(5, &m5)?;
            Ok(sig)
        })();
        self.finish(r)
    }

    /// Signing as P2 (party 1).
    pub fn sign_p2<R: CryptoRng>(
        mut self,
        rng: &mut R,
        share: &KeyShareP2,
        ctx: &Context<'_>,
        digest: &Digest,
    ) -> Outcome<Signature> {
        let r = (|| -> Step<Signature> {
            let m1 = self.recv::<sign::Msg1>()?;
            let (st, m2) = self.round(sign::p2::start(rng, share, ctx, digest, &m1))?;
            self.send(2, &m2)?;
            let m3 = self.recv::<sign::Msg3>()?;
            let (st, m4) = self.round(st.on_msg3(rng, &m3))?;
            self.send(4, &m4)?;
            let m5 = self.recv::<sign::Msg5>()?;
            self.round(st.on_msg5(&m5))
        })();
        self.finish(r)
    }

    /// Refresh as P1 (party 0) with the new Paillier key `key`; persists nothing.
    pub fn refresh_p1<R: CryptoRng>(
        mut self,
        rng: &mut R,
        share: &KeyShareP1,
        ctx: &Context<'_>,
        key: PaillierSecretKey,
    ) -> Outcome<KeyShareP1> {
        let r = (|| -> Step<KeyShareP1> {
            let (st, m1) = self.round(refresh::p1::start(rng, share, ctx, key))?;
            self.send(1, &m1)?;
            let m2 = self.recv::<refresh::Msg2>()?;
            let (st, m3) = self.round(st.on_msg2(rng, &m2))?;
            self.send(3, &m3)?;
            let m4 = self.recv::<refresh::Msg4>()?;
            let fresh = self.round(st.on_msg4(&m4))?;
            self.send(5, &refresh::Msg5)?;
            Ok(fresh)
        })();
        self.finish(r)
    }

    /// Refresh as P2 (party 1); persists nothing.
    pub fn refresh_p2<R: CryptoRng>(
        mut self,
        rng: &mut R,
        share: &KeyShareP2,
        ctx: &Context<'_>,
    ) -> Outcome<KeyShareP2> {
        let r = (|| -> Step<KeyShareP2> {
            let m1 = self.recv::<refresh::Msg1>()?;
            let (st, m2) = self.round(refresh::p2::start(rng, share, ctx, &m1))?;
            self.send(2, &m2)?;
            let m3 = self.recv::<refresh::Msg3>()?;
            let (fresh, m4) = self.round(st.on_msg3(rng, &m3))?;
            self.send(4, &m4)?;
            self.recv::<refresh::Msg5>()?;
            Ok(fresh)
        })();
        self.finish(r)
    }
}
