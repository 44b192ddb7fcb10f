//! The request at the start of every connection: party 1 says what it wants before any
//! protocol message, party 0 accepts or refuses with a [`Refusal`].
//!
//! The request has one fixed layout ([`REQUEST_LEN`] bytes, see docs/PROTOCOL.md), and a
//! sign request under a BIP32 path appends the path (one depth byte, then each index as 4
//! big-endian bytes); a request without the tail is the master key, as every request of an
//! older release is. Decoding checks the length, the magic, the version, every flag, the
//! path's indexes and that unused fields are zero, and never panics. The same exchange runs against `serve` and in one-shot mode, where
//! party 0 compares the request with what it was started to do ([`Request::check_matches`])
//! so that an operator mistake is a clear refusal naming both sides' values.

use core::fmt;

pub use crate::key_id::{KEY_ID_LEN, KeyId, key_id, key_id_hex, parse_key_id};
use crate::{NetError, Transport};
use ecdsa2pc_core::bip32::{DerivationPath, MAX_DEPTH};
use ecdsa2pc_core::sign::Digest;

/// Version of the request exchange (and of the protocols it starts) this build speaks. 6:
/// refresh proves c_key' = Enc'(x1 mod q) with keygen's equality and range proofs against the
/// share's Q1, so its messages are 1,186, 98 and 20,517 bytes (version 5: a Paillier–Paillier
/// equality proof, 898, 90 and 5,609 bytes; keygen's Pedersen randomness became short
/// (ρ < 2^256) with integer responses, keygen message 3 20,615 bytes; version 4: responses
/// mod p', 31,574 bytes; version 3: a separate PDL proof; version 2: four 13-bit equality
/// chunks and four key-proof roots), and a peer of another release is refused by name before
/// either side computes anything.
pub const REQUEST_VERSION: u8 = 7;
/// First bytes of every request.
const REQUEST_MAGIC: &[u8; 4] = b"E2RQ";
/// First bytes of every reply.
const REPLY_MAGIC: &[u8; 4] = b"E2RA";
/// Length of every request: magic, version, operation, key flag, key id, digest.
pub const REQUEST_LEN: usize = 4 + 1 + 1 + 1 + KEY_ID_LEN + 32;
/// Length of the longest request: a sign request under a path of [`MAX_DEPTH`] steps.
pub const MAX_REQUEST_LEN: usize = REQUEST_LEN + 1 + 4 * MAX_DEPTH;
/// Longest refusal text; longer texts are cut (at a character boundary) when sent.
pub const MAX_REASON_LEN: usize = 512;
/// Longest reply: magic, code, 2-byte text length, text.
pub const MAX_REPLY_LEN: usize = 4 + 1 + 2 + MAX_REASON_LEN;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What party 1 asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Make a new key (no key id).
    Keygen,
    /// Sign this digest with the key.
    Sign(Digest),
    /// Refresh the key's shares.
    Refresh,
    /// Send the key's public key (party 0 answers with 33 bytes of compressed SEC1).
    Pubkey,
    /// Send the service's status (no key, no protocol run; party 0 answers with one JSON
    /// frame, see [`crate::service::Health`]).
    Health,
    /// Run the demo's sequence (keygen, signatures, refresh; no key): with the SHA-256 of
    /// the demo's message, so that two sides started with different messages are told so.
    Demo(Digest),
    /// Run the benchmark's sequence (no key) with these counts, which both sides must share.
    Bench(BenchCounts),
}

/// How many keygens, signatures and refreshes a benchmark runs: both sides run the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchCounts {
    /// Keygens.
    pub keygens: u64,
    /// Signatures.
    pub signs: u64,
    /// Refreshes.
    pub refreshes: u64,
}

impl BenchCounts {
    fn encode(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, n) in out
            .chunks_exact_mut(8)
            .zip([self.keygens, self.signs, self.refreshes])
        {
            chunk.copy_from_slice(&n.to_be_bytes());
        }
        out
    }

    /// The counts of a request's last field; `None` if its unused fourth word is not zero.
    fn decode(field: &[u8; 32]) -> Option<Self> {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(field.get(8 * i..8 * i + 8)?);
            Some(u64::from_be_bytes(w))
        };
        (word(3)? == 0).then_some(Self {
            keygens: word(0)?,
            signs: word(1)?,
            refreshes: word(2)?,
        })
    }
}

impl fmt::Display for BenchCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} keygens, {} signs, {} refreshes",
            self.keygens, self.signs, self.refreshes
        )
    }
}

impl Operation {
    fn code(&self) -> u8 {
        match self {
            Self::Keygen => 1,
            Self::Sign(_) => 2,
            Self::Refresh => 3,
            Self::Pubkey => 4,
            Self::Health => 5,
            Self::Demo(_) => 6,
            Self::Bench(_) => 7,
        }
    }

    /// The request's last 32 bytes: the digest to sign, the demo's message digest, the
    /// benchmark's counts, or zeros.
    fn argument(&self) -> [u8; 32] {
        match self {
            Self::Sign(d) | Self::Demo(d) => *d,
            Self::Bench(counts) => counts.encode(),
            _ => [0; 32],
        }
    }

    /// Whether the operation names no key (it makes one, or needs none).
    fn keyless(&self) -> bool {
        matches!(
            self,
            Self::Keygen | Self::Health | Self::Demo(_) | Self::Bench(_)
        )
    }

    /// The operation's name, as in the command line.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Keygen => "keygen",
            Self::Sign(_) => "sign",
            Self::Refresh => "refresh",
            Self::Pubkey => "pubkey",
            Self::Health => "health",
            Self::Demo(_) => "demo",
            Self::Bench(_) => "bench",
        }
    }
}

/// Party 1's request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub operation: Operation,
    /// With which key; `None` exactly for keygen.
    pub key: Option<KeyId>,
    /// The BIP32 path a signature is made under ([`DerivationPath::MASTER`], the key itself,
    /// for every other operation).
    pub path: DerivationPath,
}

impl Request {
    /// A keygen request.
    #[must_use]
    pub fn keygen() -> Self {
        Self::keyless(Operation::Keygen)
    }

    /// A health request (names no key).
    #[must_use]
    pub fn health() -> Self {
        Self::keyless(Operation::Health)
    }

    /// A request for an operation that names no key (keygen, health, demo, bench).
    #[must_use]
    pub fn keyless(operation: Operation) -> Self {
        Self {
            operation,
            key: None,
            path: DerivationPath::MASTER,
        }
    }

    /// A request for `operation` (not keygen) on the key `key`.
    #[must_use]
    pub fn on_key(operation: Operation, key: KeyId) -> Self {
        Self {
            operation,
            key: Some(key),
            path: DerivationPath::MASTER,
        }
    }

    /// A sign request for `digest` with the key `key`, under the BIP32 child key at `path`.
    #[must_use]
    pub fn sign_under(digest: Digest, key: KeyId, path: DerivationPath) -> Self {
        Self {
            path,
            ..Self::on_key(Operation::Sign(digest), key)
        }
    }

    /// The encoding: the fixed layout, then the path for a sign request under one.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_fixed().to_vec();
        let steps = self.path.steps();
        if !steps.is_empty() {
            out.push(self.path.depth());
            for index in steps {
                out.extend_from_slice(&index.to_be_bytes());
            }
        }
        out
    }

    /// The fixed-layout part of the encoding.
    fn encode_fixed(&self) -> [u8; REQUEST_LEN] {
        let mut out = [0u8; REQUEST_LEN];
        let (magic, rest) = out.split_at_mut(REQUEST_MAGIC.len());
        magic.copy_from_slice(REQUEST_MAGIC);
        let (head, rest) = rest.split_at_mut(3);
        let (key, digest) = rest.split_at_mut(KEY_ID_LEN);
        head.copy_from_slice(&[
            REQUEST_VERSION,
            self.operation.code(),
            u8::from(self.key.is_some()),
        ]);
        if let Some(id) = &self.key {
            key.copy_from_slice(id);
        }
        digest.copy_from_slice(&self.operation.argument());
        out
    }

    /// Decodes a request; every byte is checked.
    ///
    /// # Errors
    /// [`RefusalCode::VersionNotSupported`] for another version, [`RefusalCode::BadRequest`]
    /// for anything else that is not a well-formed request.
    pub fn decode(bytes: &[u8]) -> Result<Self, Refusal> {
        let bad = |why: &str| Refusal::new(RefusalCode::BadRequest, format!("bad request: {why}"));
        let rest = bytes
            .strip_prefix(REQUEST_MAGIC)
            .ok_or_else(|| bad("it does not start with the request magic"))?;
        let Some((&version, rest)) = rest.split_first() else {
            return Err(bad("it is too short"));
        };
        if version != REQUEST_VERSION {
            return Err(Refusal::new(
                RefusalCode::VersionNotSupported,
                format!(
                    "party 1 speaks version {version}, party 0 speaks version \
                     {REQUEST_VERSION}: run the same ecdsa2pc release on both sides"
                ),
            ));
        }
        if bytes.len() < REQUEST_LEN {
            return Err(bad(&format!(
                "{} bytes, a request has {REQUEST_LEN}",
                bytes.len()
            )));
        }
        let (rest, tail) = rest.split_at(REQUEST_LEN - REQUEST_MAGIC.len() - 1);
        let path = decode_path(tail).map_err(|why| bad(&why))?;
        let (head, rest) = rest.split_at(2);
        let (key, digest) = rest.split_at(KEY_ID_LEN);
        let (op, flag) = match head {
            [op, flag] => (*op, *flag),
            _ => return Err(bad("it is too short")),
        };
        let zero = |field: &[u8]| field.iter().all(|b| *b == 0);
        let key = match flag {
            0 if zero(key) => None,
            0 => return Err(bad("a key id is present without its flag")),
            1 => {
                let mut id = [0u8; KEY_ID_LEN];
                id.copy_from_slice(key);
                Some(id)
            }
            _ => return Err(bad("the key flag is neither 0 nor 1")),
        };
        let mut argument = [0u8; 32];
        argument.copy_from_slice(digest);
        let operation = match op {
            1 => Operation::Keygen,
            2 => Operation::Sign(argument),
            3 => Operation::Refresh,
            4 => Operation::Pubkey,
            5 => Operation::Health,
            6 => Operation::Demo(argument),
            7 => Operation::Bench(
                BenchCounts::decode(&argument)
                    .ok_or_else(|| bad("the benchmark's unused count word is not zero"))?,
            ),
            other => return Err(bad(&format!("unknown operation {other}"))),
        };
        if operation.argument() != argument {
            return Err(bad("a digest is present in a request that does not sign"));
        }
        if !matches!(operation, Operation::Sign(_)) && path.depth() != 0 {
            return Err(bad(
                "a derivation path is present in a request that does not sign",
            ));
        }
        let keyless = operation.keyless();
        match (operation, key) {
            (_, Some(_)) if keyless => Err(bad(&format!("{} names a key", operation.name()))),
            (_, None) if keyless => Ok(Self {
                operation,
                key,
                path,
            }),
            (_, Some(_)) => Ok(Self {
                operation,
                key,
                path,
            }),
            (_, None) => Err(bad(&format!("{} names no key", operation.name()))),
        }
    }

    /// One-shot mode: party 0 was started for `self`; `theirs` is what party 1 asked.
    /// Differences are operator mistakes, refused naming both sides' values.
    ///
    /// # Errors
    /// [`RefusalCode::Mismatch`] naming both values.
    pub fn check_matches(&self, theirs: &Self) -> Result<(), Refusal> {
        let mismatch = |kind: MismatchKind, what: String| {
            Err(Refusal::new(
                RefusalCode::Mismatch,
                format!("{}{what}", kind.lead()),
            ))
        };
        if theirs.operation == Operation::Health && self.operation != Operation::Health {
            return mismatch(
                MismatchKind::Operation,
                format!(
                    "party 1 asks for a service's health, but this is a one-shot party 0 \
                     running {}: point `ecdsa2pc health` at `ecdsa2pc serve`",
                    self.operation.name()
                ),
            );
        }
        if self.operation.code() != theirs.operation.code() {
            return mismatch(
                MismatchKind::Operation,
                format!(
                    "party 1 runs {} but party 0 runs {}; start both sides with the same command",
                    theirs.operation.name(),
                    self.operation.name()
                ),
            );
        }
        if self.key != theirs.key {
            let show = |k: &Option<KeyId>| k.as_ref().map_or_else(|| "none".to_owned(), |k| hex(k));
            return mismatch(
                MismatchKind::Key,
                format!(
                    "party 1's is of key id {} but party 0's of key id {} (a key id is the \
                     SHA-256 of the public key); give each side its share of the same key",
                    show(&theirs.key),
                    show(&self.key)
                ),
            );
        }
        if let (Operation::Sign(ours), Operation::Sign(other)) = (self.operation, theirs.operation)
            && ours != other
        {
            return mismatch(
                MismatchKind::Digest,
                format!(
                    "party 1 signs {} but party 0 {}; both sides must sign the same message, \
                     hashed the same way",
                    hex(&other),
                    hex(&ours)
                ),
            );
        }
        if let (Operation::Demo(ours), Operation::Demo(other)) = (self.operation, theirs.operation)
            && ours != other
        {
            return mismatch(
                MismatchKind::Digest,
                format!(
                    "party 1's demo signs a message with SHA-256 {} but party 0's {}; give \
                     both sides the same --message",
                    hex(&other),
                    hex(&ours)
                ),
            );
        }
        if let (Operation::Bench(ours), Operation::Bench(other)) =
            (self.operation, theirs.operation)
            && ours != other
        {
            return mismatch(
                MismatchKind::Counts,
                format!(
                    "party 1 runs {other} but party 0 {ours}; give both sides the same \
                     --keygens, --signs and --refreshes"
                ),
            );
        }
        if self.path != theirs.path {
            return mismatch(
                MismatchKind::Path,
                format!(
                    "party 1 under {} but party 0 under {}; give both sides the same path",
                    theirs.path, self.path
                ),
            );
        }
        Ok(())
    }
}

/// The path tail of a request: empty for the master key, else a depth byte (1 to
/// [`MAX_DEPTH`]) and exactly that many 4-byte big-endian non-hardened indexes.
fn decode_path(tail: &[u8]) -> Result<DerivationPath, String> {
    let Some((&depth, indexes)) = tail.split_first() else {
        return Ok(DerivationPath::MASTER);
    };
    if depth == 0 {
        return Err("a derivation path of depth 0 is sent as no path".to_owned());
    }
    if indexes.len() != 4 * usize::from(depth) {
        return Err(format!(
            "the derivation path says {depth} steps but carries {} bytes of indexes",
            indexes.len()
        ));
    }
    let mut steps = [0u32; MAX_DEPTH];
    for (step, bytes) in steps.iter_mut().zip(indexes.chunks_exact(4)) {
        let mut index = [0u8; 4];
        index.copy_from_slice(bytes);
        *step = u32::from_be_bytes(index);
    }
    let steps = steps.get(..usize::from(depth)).unwrap_or_default();
    DerivationPath::from_steps(steps).map_err(|e| format!("derivation path: {e}"))
}

/// Why party 0 refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalCode {
    /// Party 0 holds no key with that id.
    UnknownKey,
    /// The key was made with another client certificate.
    NotOwner,
    /// The key locked itself after a failed signature.
    KeyLocked,
    /// Party 1 speaks another version.
    VersionNotSupported,
    /// Another session holds the key, or the service is at its connection cap.
    Busy,
    /// The service's policy refused the request.
    Policy,
    /// One-shot mode: the two sides were started for different things.
    Mismatch,
    /// The request is not well formed.
    BadRequest,
    /// Party 0 cannot serve the key (its share is unusable or its own certificate changed).
    Unavailable,
}

impl RefusalCode {
    const ALL: [Self; 9] = [
        Self::UnknownKey,
        Self::NotOwner,
        Self::KeyLocked,
        Self::VersionNotSupported,
        Self::Busy,
        Self::Policy,
        Self::Mismatch,
        Self::BadRequest,
        Self::Unavailable,
    ];

    fn code(self) -> u8 {
        match self {
            Self::UnknownKey => 1,
            Self::NotOwner => 2,
            Self::KeyLocked => 3,
            Self::VersionNotSupported => 4,
            Self::Busy => 5,
            Self::Policy => 6,
            Self::Mismatch => 7,
            Self::BadRequest => 8,
            Self::Unavailable => 9,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// A short name for logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::UnknownKey => "unknown key",
            Self::NotOwner => "not the key's client",
            Self::KeyLocked => "key locked",
            Self::VersionNotSupported => "version not supported",
            Self::Busy => "busy",
            Self::Policy => "refused by policy",
            Self::Mismatch => "the two sides differ",
            Self::BadRequest => "bad request",
            Self::Unavailable => "key unavailable",
        }
    }
}

/// A refusal: its code and party 0's explanation.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// Why, for programs.
    pub code: RefusalCode,
    /// Why, for people (printable text, at most [`MAX_REASON_LEN`] bytes).
    pub reason: String,
    /// Whether we are party 0 and sent it ([`refuse`]), rather than party 1 that received
    /// it: the message then says "refused party 1's request", not "party 0 refused".
    /// Not on the wire, and not part of equality.
    sent: bool,
}

/// What differs between the two sides' requests in one-shot mode (a
/// [`RefusalCode::Mismatch`]), for a hint that names the right option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchKind {
    /// The two sides run different operations.
    Operation,
    /// Their shares are of different keys.
    Key,
    /// They sign different digests.
    Digest,
    /// They sign under different derivation paths.
    Path,
    /// Their benchmarks run different counts.
    Counts,
}

impl MismatchKind {
    /// The start of the reason [`Request::check_matches`] gives for this kind: one place
    /// that writes it and reads it back (party 1 receives only the reason's text).
    const fn lead(self) -> &'static str {
        match self {
            Self::Operation => "the parties run different operations: ",
            Self::Key => "the parties' shares are of different keys: ",
            Self::Digest => "the parties sign different digests: ",
            Self::Path => "the parties sign under different derivation paths: ",
            Self::Counts => "the parties' benchmarks differ: ",
        }
    }
}

impl Refusal {
    /// A refusal with `reason`, made printable and cut to [`MAX_REASON_LEN`] bytes.
    #[must_use]
    pub fn new(code: RefusalCode, reason: impl Into<String>) -> Self {
        let mut reason: String = reason
            .into()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if reason.len() > MAX_REASON_LEN {
            let mut cut = MAX_REASON_LEN;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
        }
        Self {
            code,
            reason,
            sent: false,
        }
    }

    /// What differs, for a [`RefusalCode::Mismatch`] made by [`Request::check_matches`];
    /// `None` for any other refusal (or a reason worded by another release).
    #[must_use]
    pub fn mismatch(&self) -> Option<MismatchKind> {
        if self.code != RefusalCode::Mismatch {
            return None;
        }
        [
            MismatchKind::Operation,
            MismatchKind::Key,
            MismatchKind::Digest,
            MismatchKind::Path,
            MismatchKind::Counts,
        ]
        .into_iter()
        .find(|kind| self.reason.starts_with(kind.lead()))
    }

    /// Whether we sent this refusal (party 0) rather than received it (party 1).
    #[must_use]
    pub fn sent(&self) -> bool {
        self.sent
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = REPLY_MAGIC.to_vec();
        out.push(self.code.code());
        let len = u16::try_from(self.reason.len()).unwrap_or(0);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(
            self.reason
                .as_bytes()
                .get(..usize::from(len))
                .unwrap_or(&[]),
        );
        out
    }
}

impl PartialEq for Refusal {
    /// The same refusal on both sides: code and reason (whose side it is does not count).
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.reason == other.reason
    }
}

impl Eq for Refusal {}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.sent {
            "refused party 1's request"
        } else {
            "party 0 refused the request"
        };
        write!(f, "{who} ({}): {}", self.code.name(), self.reason)
    }
}

impl core::error::Error for Refusal {}

/// The accept reply: magic, code 0, empty text.
fn accept_bytes() -> [u8; 7] {
    let mut out = [0u8; 7];
    out[..4].copy_from_slice(REPLY_MAGIC);
    out
}

/// Decodes party 0's reply: `Ok(())` for accept.
///
/// # Errors
/// The [`Refusal`] it carries; a malformed reply as [`RefusalCode::BadRequest`].
pub fn decode_reply(bytes: &[u8]) -> Result<(), Refusal> {
    let bad = || {
        Refusal::new(
            RefusalCode::BadRequest,
            "party 0 answered the request with a malformed reply: is it an ecdsa2pc of the same \
             release?",
        )
    };
    let rest = bytes.strip_prefix(REPLY_MAGIC).ok_or_else(bad)?;
    let Some((&code, rest)) = rest.split_first() else {
        return Err(bad());
    };
    let (len, text) = match rest.split_first_chunk::<2>() {
        Some((len, text)) => (usize::from(u16::from_be_bytes(*len)), text),
        None => return Err(bad()),
    };
    if len > MAX_REASON_LEN || text.len() != len {
        return Err(bad());
    }
    let text = core::str::from_utf8(text).map_err(|_| bad())?;
    if code == 0 {
        return if text.is_empty() { Ok(()) } else { Err(bad()) };
    }
    let code = RefusalCode::from_code(code).ok_or_else(bad)?;
    Err(Refusal::new(code, text))
}

/// Party 1: sends `request` and waits for the answer.
///
/// # Errors
/// Transport errors; [`NetError::Refused`] with party 0's refusal.
pub fn ask<T: Transport + ?Sized>(t: &mut T, request: &Request) -> Result<(), NetError> {
    t.send(&request.encode())?;
    let mut buf = [0u8; MAX_REPLY_LEN];
    Ok(decode_reply(t.recv(&mut buf)?)?)
}

/// Party 0: receives and decodes party 1's request; a malformed one or one of another
/// version is refused on the wire before the error returns.
///
/// # Errors
/// Transport errors; [`NetError::Refused`] with the refusal sent.
pub fn receive<T: Transport + ?Sized>(t: &mut T) -> Result<Request, NetError> {
    let mut buf = [0u8; MAX_REQUEST_LEN];
    let received = t.recv(&mut buf);
    decode_received(t, received)
}

/// Party 0: the request in a frame already received from `t` (or the error of receiving it),
/// as [`receive`] reads it: a bad or oversized one is refused over `t`.
///
/// # Errors
/// As [`receive`].
pub(crate) fn decode_received<T: Transport + ?Sized>(
    t: &mut T,
    received: Result<&[u8], NetError>,
) -> Result<Request, NetError> {
    let decoded = match received {
        Ok(bytes) => Request::decode(bytes),
        // An oversized request is a bad request too: say so before hanging up.
        Err(NetError::Transport(crate::TransportError::FrameTooLarge { .. })) => Err(Refusal::new(
            RefusalCode::BadRequest,
            "bad request: longer than any request",
        )),
        Err(e) => return Err(e),
    };
    decoded.map_err(|refusal| refuse(t, refusal))
}

/// Party 0: accepts the request.
///
/// # Errors
/// Transport errors.
pub fn accept<T: Transport + ?Sized>(t: &mut T) -> Result<(), NetError> {
    t.send(&accept_bytes())
}

/// Party 0: sends `refusal` (best effort: the peer may be gone) and returns it as the error.
pub fn refuse<T: Transport + ?Sized>(t: &mut T, mut refusal: Refusal) -> NetError {
    let _ = t.send(&refusal.encode());
    refusal.sent = true;
    NetError::Refused(refusal)
}

/// One-shot party 0: receives party 1's request and accepts it if it is `ours`.
///
/// # Errors
/// As [`receive`]; a different request is refused as [`RefusalCode::Mismatch`].
pub fn expect<T: Transport + ?Sized>(t: &mut T, ours: &Request) -> Result<(), NetError> {
    let theirs = receive(t)?;
    match ours.check_matches(&theirs) {
        Ok(()) => accept(t),
        Err(refusal) => Err(refuse(t, refusal)),
    }
}

/// Either party's side of the exchange in one-shot mode: party 1 asks, party 0 expects.
///
/// # Errors
/// As [`ask`] or [`expect`].
pub fn exchange<T: Transport + ?Sized>(
    t: &mut T,
    party: ecdsa2pc_core::Party,
    request: &Request,
) -> Result<(), NetError> {
    match party {
        ecdsa2pc_core::Party::P1 => expect(t, request),
        ecdsa2pc_core::Party::P2 => ask(t, request),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_MAX_FRAME_LEN, Framed, MemoryEnd};

    fn memory_pipe() -> (Framed<MemoryEnd>, Framed<MemoryEnd>) {
        let (a, b) = crate::memory_pipe();
        (
            Framed::new(a, DEFAULT_MAX_FRAME_LEN),
            Framed::new(b, DEFAULT_MAX_FRAME_LEN),
        )
    }

    const KEY: KeyId = [7u8; KEY_ID_LEN];

    fn path(text: &str) -> DerivationPath {
        text.parse().unwrap()
    }

    const COUNTS: BenchCounts = BenchCounts {
        keygens: 5,
        signs: 300,
        refreshes: 5,
    };

    fn all() -> [Request; 9] {
        [
            Request::keygen(),
            Request::health(),
            Request::keyless(Operation::Demo([3u8; 32])),
            Request::keyless(Operation::Bench(COUNTS)),
            Request::on_key(Operation::Sign([9u8; 32]), KEY),
            Request::sign_under([9u8; 32], KEY, path("m/0/7")),
            Request::sign_under([9u8; 32], KEY, path("m/2147483647/0/1/2")),
            Request::on_key(Operation::Refresh, KEY),
            Request::on_key(Operation::Pubkey, KEY),
        ]
    }

    fn code_of(bytes: &[u8]) -> RefusalCode {
        Request::decode(bytes).map(|_| ()).unwrap_err().code
    }

    #[test]
    fn requests_round_trip() {
        for r in all() {
            assert_eq!(Request::decode(&r.encode()), Ok(r));
        }
    }

    #[test]
    fn a_sign_request_carries_its_path_after_the_fixed_layout() {
        let master = Request::on_key(Operation::Sign([9u8; 32]), KEY).encode();
        assert_eq!(
            master.len(),
            REQUEST_LEN,
            "no path: the layout of older releases"
        );
        let under = Request::sign_under([9u8; 32], KEY, path("m/0/7")).encode();
        assert_eq!(under[..REQUEST_LEN], master[..]);
        assert_eq!(under[REQUEST_LEN..], [2, 0, 0, 0, 0, 0, 0, 0, 7]);
        let deepest = DerivationPath::from_steps(&[5; MAX_DEPTH]).unwrap();
        let longest = Request::sign_under([1; 32], KEY, deepest).encode();
        assert_eq!(longest.len(), MAX_REQUEST_LEN);
        assert_eq!(Request::decode(&longest).unwrap().path, deepest);
    }

    #[test]
    fn bad_paths_are_refused() {
        let under = Request::sign_under([9u8; 32], KEY, path("m/0/7")).encode();
        let reason = |bytes: &[u8]| {
            let refusal = Request::decode(bytes).unwrap_err();
            assert_eq!(refusal.code, RefusalCode::BadRequest);
            refusal.reason
        };
        // A hardened index says why it is refused.
        let mut hardened = under.clone();
        hardened[REQUEST_LEN + 5] = 0x80;
        assert!(
            reason(&hardened).contains("two-party hardened derivation is not supported"),
            "{}",
            reason(&hardened)
        );
        // Depth 0, a depth that disagrees with the bytes, a cut index.
        let mut zero = under[..REQUEST_LEN].to_vec();
        zero.push(0);
        assert!(reason(&zero).contains("depth 0"));
        let mut deeper = under.clone();
        deeper[REQUEST_LEN] = 3;
        assert!(reason(&deeper).contains("says 3 steps but carries 8 bytes"));
        assert!(reason(&under[..under.len() - 1]).contains("carries 7 bytes"));
        // A path on a request that does not sign.
        let mut refresh = Request::on_key(Operation::Refresh, KEY).encode();
        refresh.extend_from_slice(&under[REQUEST_LEN..]);
        assert!(reason(&refresh).contains("does not sign"));
    }

    #[test]
    fn a_path_mismatch_names_both_paths() {
        let ours = Request::sign_under([1; 32], KEY, path("m/0/7"));
        let theirs = Request::sign_under([1; 32], KEY, path("m/0/8"));
        let r = ours.check_matches(&theirs).unwrap_err();
        assert_eq!(r.code, RefusalCode::Mismatch);
        assert!(
            r.reason
                .starts_with("the parties sign under different derivation paths"),
            "{}",
            r.reason
        );
        assert_eq!(r.mismatch(), Some(MismatchKind::Path));
        assert!(
            r.reason
                .contains("party 1 under m/0/8 but party 0 under m/0/7")
        );
        let master = Request::on_key(Operation::Sign([1; 32]), KEY);
        assert!(master.check_matches(&theirs).is_err());
        assert_eq!(ours.check_matches(&ours), Ok(()));
    }

    #[test]
    fn every_length_but_the_right_one_is_refused() {
        let good = Request::on_key(Operation::Sign([9u8; 32]), KEY).encode();
        for len in 0..=good.len() + 8 {
            let mut bytes = good.to_vec();
            bytes.resize(len, 0);
            if len != REQUEST_LEN {
                assert_eq!(code_of(&bytes), RefusalCode::BadRequest, "length {len}");
            }
        }
    }

    #[test]
    fn bad_fields_are_refused() {
        let good = Request::on_key(Operation::Refresh, KEY).encode();
        let with = |at: usize, value: u8| {
            let mut b = good.clone();
            b[at] = value;
            b
        };
        assert_eq!(code_of(&with(0, b'X')), RefusalCode::BadRequest, "magic");
        assert_eq!(code_of(&with(4, 1)), RefusalCode::VersionNotSupported);
        assert_eq!(code_of(&with(5, 0)), RefusalCode::BadRequest, "operation 0");
        assert_eq!(code_of(&with(5, 8)), RefusalCode::BadRequest, "operation 8");
        let mut demo_with_key = with(5, 6);
        demo_with_key[REQUEST_LEN - 32..].fill(0);
        let refusal = Request::decode(&demo_with_key).unwrap_err();
        assert_eq!(refusal.reason, "bad request: demo names a key");
        let mut bench = Request::keyless(Operation::Bench(COUNTS)).encode();
        bench[REQUEST_LEN - 1] = 1;
        let refusal = Request::decode(&bench).unwrap_err();
        assert!(
            refusal.reason.contains("unused count word"),
            "{}",
            refusal.reason
        );
        assert_eq!(code_of(&with(6, 2)), RefusalCode::BadRequest, "key flag 2");
        assert_eq!(
            code_of(&with(6, 0)),
            RefusalCode::BadRequest,
            "key without flag"
        );
        assert_eq!(
            code_of(&with(REQUEST_LEN - 1, 1)),
            RefusalCode::BadRequest,
            "digest"
        );
        let mut keygen_with_key = with(5, 1);
        keygen_with_key[6] = 1;
        assert_eq!(code_of(&keygen_with_key), RefusalCode::BadRequest);
        let mut health_with_key = with(5, 5);
        health_with_key[6] = 1;
        let refusal = Request::decode(&health_with_key).unwrap_err();
        assert_eq!(refusal.reason, "bad request: health names a key");
        let mut sign_without_key = Request::keygen().encode();
        sign_without_key[5] = 2;
        assert_eq!(code_of(&sign_without_key), RefusalCode::BadRequest);
    }

    #[test]
    fn another_version_names_both() {
        let mut bytes = Request::keygen().encode().to_vec();
        bytes[4] = 9;
        bytes.truncate(5);
        let refusal = Request::decode(&bytes).unwrap_err();
        assert_eq!(refusal.code, RefusalCode::VersionNotSupported);
        assert!(refusal.reason.contains("version 9"), "{}", refusal.reason);
        assert!(refusal.reason.contains("version 7"), "{}", refusal.reason);
        // Peers of the releases before three 18-bit chunks (version 2), before the equality
        // proof took over PDL's statement (version 3), before short Pedersen randomness
        // (version 4), before refresh proved c_key' with keygen's proofs (version 5) and
        // before demo and bench said so in their requests (version 6) are refused by name.
        for old in [2u8, 3, 4, 5, 6] {
            let mut bytes = Request::keygen().encode().to_vec();
            bytes[4] = old;
            let refusal = Request::decode(&bytes).unwrap_err();
            assert_eq!(refusal.code, RefusalCode::VersionNotSupported);
            assert!(
                refusal.reason.contains(&format!("version {old}")),
                "{}",
                refusal.reason
            );
        }
    }

    #[test]
    fn mismatches_name_both_sides() {
        let sign = |d: u8| Request::on_key(Operation::Sign([d; 32]), KEY);
        let r = sign(1).check_matches(&sign(2)).unwrap_err();
        assert_eq!(r.code, RefusalCode::Mismatch);
        assert!(r.reason.contains(&hex(&[2u8; 32])) && r.reason.contains(&hex(&[1u8; 32])));
        assert_eq!(r.mismatch(), Some(MismatchKind::Digest));
        let r = sign(1)
            .check_matches(&Request::on_key(Operation::Refresh, KEY))
            .unwrap_err();
        assert!(
            r.reason
                .contains("party 1 runs refresh but party 0 runs sign")
        );
        assert_eq!(r.mismatch(), Some(MismatchKind::Operation));
        let r = sign(1)
            .check_matches(&Request::on_key(Operation::Sign([1; 32]), [8; KEY_ID_LEN]))
            .unwrap_err();
        assert!(r.reason.contains(&hex(&[8u8; KEY_ID_LEN])) && r.reason.contains(&hex(&KEY)));
        assert!(r.reason.contains("party 1's is of key id"), "{}", r.reason);
        assert_eq!(r.mismatch(), Some(MismatchKind::Key));
        assert_eq!(sign(1).check_matches(&sign(1)), Ok(()));

        // A demo is not a keygen (a keygen beside a demo would report a key the demo never
        // stored); two demos with different messages, and benchmarks with different counts,
        // are told so; a health probe at a one-shot party 0 is pointed at the service.
        let demo = |d: u8| Request::keyless(Operation::Demo([d; 32]));
        let r = Request::keygen().check_matches(&demo(1)).unwrap_err();
        assert!(
            r.reason
                .contains("party 1 runs demo but party 0 runs keygen"),
            "{}",
            r.reason
        );
        let r = demo(1).check_matches(&demo(2)).unwrap_err();
        assert!(
            r.reason.contains("give both sides the same --message"),
            "{}",
            r.reason
        );
        assert_eq!(r.mismatch(), Some(MismatchKind::Digest));
        assert_eq!(demo(1).check_matches(&demo(1)), Ok(()));
        let bench = |signs| Request::keyless(Operation::Bench(BenchCounts { signs, ..COUNTS }));
        let r = bench(300).check_matches(&bench(2)).unwrap_err();
        assert!(
            r.reason.contains(
                "party 1 runs 5 keygens, 2 signs, 5 refreshes but party 0 5 keygens, 300 signs"
            ),
            "{}",
            r.reason
        );
        assert_eq!(r.mismatch(), Some(MismatchKind::Counts));
        let r = sign(1).check_matches(&Request::health()).unwrap_err();
        assert!(
            r.reason
                .contains("point `ecdsa2pc health` at `ecdsa2pc serve`"),
            "{}",
            r.reason
        );

        // Only a mismatch made here has a kind: another code, or another release's wording,
        // has none (the hint then stays general).
        assert_eq!(Refusal::new(RefusalCode::Policy, r.reason).mismatch(), None);
        assert_eq!(
            Refusal::new(RefusalCode::Mismatch, "the two differ").mismatch(),
            None
        );
    }

    #[test]
    fn replies_round_trip_and_bad_replies_are_refused() {
        assert_eq!(decode_reply(&accept_bytes()), Ok(()));
        for code in RefusalCode::ALL {
            let r = Refusal::new(code, "why");
            assert_eq!(decode_reply(&r.encode()), Err(r));
        }
        let bad = |b: &[u8]| decode_reply(b).unwrap_err().code;
        assert_eq!(bad(b"E2RA"), RefusalCode::BadRequest);
        assert_eq!(
            bad(b"E2RA\x00\x00\x01x"),
            RefusalCode::BadRequest,
            "accept with text"
        );
        assert_eq!(
            bad(b"E2RA\x63\x00\x00"),
            RefusalCode::BadRequest,
            "unknown code"
        );
        assert_eq!(
            bad(b"E2RA\x01\x00\x05ab"),
            RefusalCode::BadRequest,
            "short text"
        );
        assert_eq!(
            bad(b"E2RA\x01\x00\x02\xff\xfe"),
            RefusalCode::BadRequest,
            "not utf-8"
        );
        assert_eq!(bad(b"XXXX\x00\x00\x00"), RefusalCode::BadRequest, "magic");
    }

    #[test]
    fn refusal_text_is_printable_and_bounded() {
        let r = Refusal::new(
            RefusalCode::Policy,
            format!("a\u{1b}[2J{}", "é".repeat(600)),
        );
        assert!(!r.reason.chars().any(char::is_control));
        assert!(r.reason.len() <= MAX_REASON_LEN);
        assert_eq!(decode_reply(&r.encode()), Err(r));
    }

    #[test]
    fn one_shot_exchange_accepts_the_same_and_refuses_a_mistake() {
        let ours = Request::on_key(Operation::Sign([1; 32]), KEY);
        let (mut a, mut b) = memory_pipe();
        let p0 = std::thread::spawn(move || expect(&mut a, &ours));
        assert!(ask(&mut b, &ours).is_ok());
        assert!(p0.join().unwrap().is_ok());

        let (mut a, mut b) = memory_pipe();
        let p0 = std::thread::spawn(move || expect(&mut a, &ours));
        let theirs = Request::on_key(Operation::Refresh, KEY);
        let NetError::Refused(seen) = ask(&mut b, &theirs).unwrap_err() else {
            panic!("not a refusal")
        };
        assert_eq!(seen.code, RefusalCode::Mismatch);
        let NetError::Refused(sent) = p0.join().unwrap().unwrap_err() else {
            panic!("not a refusal")
        };
        assert_eq!(sent, seen);
        // Each side tells it from where it stands.
        assert!(sent.sent() && !seen.sent());
        assert!(
            seen.to_string()
                .starts_with("party 0 refused the request (the two sides differ): ")
        );
        assert!(
            sent.to_string()
                .starts_with("refused party 1's request (the two sides differ): "),
            "{sent}"
        );
    }

    #[test]
    fn garbage_request_is_refused_on_the_wire() {
        let (mut a, mut b) = memory_pipe();
        let p0 = std::thread::spawn(move || receive(&mut a));
        b.send(b"GET / HTTP/1.1").unwrap();
        let mut buf = [0u8; MAX_REPLY_LEN];
        let reply = decode_reply(b.recv(&mut buf).unwrap()).unwrap_err();
        assert_eq!(reply.code, RefusalCode::BadRequest);
        assert!(matches!(p0.join().unwrap(), Err(NetError::Refused(_))));
    }
}
