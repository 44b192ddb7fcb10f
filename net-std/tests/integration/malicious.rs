//! Malicious-peer suite (issue #5, docs/SECURITY.md §F): a [`MaliciousPeer`] plays either role of
//! keygen, signing or refresh with the core's real rounds and tampers with one chosen
//! message; the other side is the real driver (`driver::*`, share files on disk).
//!
//! Every run asserts, for the honest side:
//! - its exact error: `NetError::Protocol(ProtocolError { error, step })` with the core's variant and the
//!   step, or `Timeout` / `PeerClosed` / `FrameTooLarge` for transport-level attacks;
//! - everything it wrote: the protocol messages due before the failure, then nothing but the
//!   3-byte abort carrying that error (no abort after a transport failure);
//! - that the abort reached the attacker (the attacker's run ends in `PeerAborted(error)`);
//! - its files: no share after a failed keygen; a byte-identical share after a failed
//!   signature unless the final check failed, in which case the share is locked on disk; after
//!   a failed refresh the active share is unchanged, and the next epoch agreement leaves no
//!   pending file and still signs at epoch 0;
//! - that the error's `Display` and `Debug` carry no secret (no run of 16 hex digits at all,
//!   and no 16-digit window of the share's secret material);
//! - for stalls: a timeout within the configured timeout plus a margin, and bounded memory.
//!
//! Most cases run over `memory_pipe`; a representative subset runs over real mutual TLS,
//! including frame-level attacks from a raw rustls client.

mod peer;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use ecdsa2pc_core::{
    Context, Error as CoreError, KeyShare, KeyShareP1, KeyShareP2, MAX_MSG_LEN, Message, Party,
    Proof, keygen, refresh, sign,
};
use ecdsa2pc_core::{MsgType, abort_message};
use ecdsa2pc_net::{
    CHANNEL_BINDING_LABEL, CertPaths, Channel, Framed, MemoryEnd, NetError, ProtocolError,
    SessionInfo, Transport, TransportError, connect, driver, epoch, identity, listen, memory_pipe,
    pem, store::ShareFiles, tls,
};
use k256::{AffinePoint, ProjectivePoint, Scalar};

use crate::support::{self, TempDir};
use peer::{Action, End, Link, Log, MaliciousPeer, RawTls, Source, Then};

/// The digest every case signs.
const DIGEST: [u8; 32] = [0x5a; 32];
/// Receive timeout of runs that must not time out.
const PATIENT: Duration = Duration::from_secs(30);
/// Receive timeout of the honest side in stall cases.
const STALL_TIMEOUT: Duration = Duration::from_secs(1);
/// How late a timeout may fire on a busy machine.
const MARGIN: Duration = Duration::from_secs(2);
/// Frame cap of an attacker: larger than the protocol's, so it can send oversized frames.
const ATTACKER_MAX: usize = 1 << 20;
/// Growth of the process's resident memory a stalled run may cause (docs/SECURITY.md F16).
const RSS_BOUND: u64 = 64 << 20;
/// Where the secret part of a share file starts (after the common header).
const SECRET_AT: usize = 4 + 1 + 1 + 1 + 8 + 1 + 2 * 32 + 3 * 33 + 512;
/// Offset of the lock flag in a share file.
const LOCK_AT: usize = 4 + 1 + 1 + 1 + 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Keygen,
    Sign,
    Refresh,
}

/// A share's file bytes.
fn encoded<S: KeyShare>(share: &S) -> Vec<u8> {
    let mut out = vec![0u8; S::ENCODED_LEN];
    let len = share.encode(&mut out).unwrap();
    out.truncate(len);
    out
}

/// The share file of `party` in a case's directory.
fn share_file(party: Party) -> &'static str {
    match party {
        Party::P1 => "p1.share",
        Party::P2 => "p2.share",
    }
}

// ---------------------------------------------------------------------------------------
// Connections: memory pipes, mutual TLS, and a raw rustls client for frame-level attacks.

/// Any of the transports a case runs over.
enum Conn {
    Pipe(Framed<MemoryEnd>),
    Tls(Box<Channel>),
    Raw(Box<RawTls>),
}

impl Transport for Conn {
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError> {
        match self {
            Self::Pipe(t) => t.send(msg),
            Self::Tls(t) => t.send(msg),
            Self::Raw(t) => t.send(msg),
        }
    }
    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
        match self {
            Self::Pipe(t) => t.recv(buf),
            Self::Tls(t) => t.recv(buf),
            Self::Raw(t) => t.recv(buf),
        }
    }
}

impl Link for Conn {
    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), NetError> {
        match self {
            Self::Pipe(t) => t.write_raw(bytes),
            Self::Tls(t) => t.write_raw(bytes),
            Self::Raw(t) => t.write_raw(bytes),
        }
    }
}

/// An owned session context.
#[derive(Clone, Debug)]
struct Ctx {
    own: [u8; 32],
    peer: [u8; 32],
    binding: Vec<u8>,
}

impl Ctx {
    fn get(&self) -> Context<'_> {
        Context {
            own_pid: self.own,
            peer_pid: self.peer,
            channel_binding: &self.binding,
        }
    }
    fn of(info: &SessionInfo) -> Self {
        Self {
            own: info.own_pid,
            peer: info.peer_pid,
            binding: info.channel_binding.to_vec(),
        }
    }
    /// The context of a memory-pipe run (the shares of [`fixture`] record these pids).
    fn pipe(party: Party) -> Self {
        let (own, peer) = match party {
            Party::P1 => ([1u8; 32], [2u8; 32]),
            Party::P2 => ([2u8; 32], [1u8; 32]),
        };
        Self {
            own,
            peer,
            binding: b"malicious".to_vec(),
        }
    }
}

/// Where a case runs.
#[derive(Clone, Copy)]
enum Net<'a> {
    Pipe,
    Tls(&'a TempDir),
    /// Mutual TLS where party 1 is a rustls client built by the test (raw writes allowed).
    RawTls(&'a TempDir),
}

impl Net<'_> {
    fn honest(self) -> Self {
        match self {
            Self::RawTls(d) => Self::Tls(d),
            other => other,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Pipe => "pipe",
            Self::Tls(_) => "mTLS",
            Self::RawTls(_) => "mTLS (raw client)",
        }
    }
}

/// Receive timeout and frame cap of one side.
#[derive(Clone, Copy)]
struct Side {
    timeout: Duration,
    max: usize,
}

const HONEST: Side = Side {
    timeout: PATIENT,
    max: MAX_MSG_LEN,
};
const ATTACKER: Side = Side {
    timeout: PATIENT,
    max: ATTACKER_MAX,
};

/// Runs `f0` as party 0 (in a thread) and `f1` as party 1 over a fresh connection.
fn pair<A: Send, B>(
    net: Net<'_>,
    sides: [Side; 2],
    f0: impl FnOnce(Conn, Ctx) -> A + Send,
    f1: impl FnOnce(Conn, Ctx) -> B,
) -> (A, B) {
    thread::scope(|s| match net {
        Net::Pipe => {
            let (mut a, mut b) = memory_pipe();
            a.set_read_timeout(Some(sides[0].timeout));
            b.set_read_timeout(Some(sides[1].timeout));
            let h = s.spawn(move || {
                f0(
                    Conn::Pipe(Framed::new(a, sides[0].max)),
                    Ctx::pipe(Party::P1),
                )
            });
            let r1 = f1(
                Conn::Pipe(Framed::new(b, sides[1].max)),
                Ctx::pipe(Party::P2),
            );
            (h.join().unwrap(), r1)
        }
        Net::Tls(dir) | Net::RawTls(dir) => {
            let listener = listen("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let paths0 = support::party(dir, Party::P1);
            let h = s.spawn(move || {
                let mut ch = listener.accept(&paths0, support::OK_TIMEOUT).unwrap();
                ch.set_timeout(sides[0].timeout).unwrap();
                ch.set_max_frame_len(sides[0].max);
                let ctx = Ctx::of(ch.info());
                f0(Conn::Tls(Box::new(ch)), ctx)
            });
            let paths1 = support::party(dir, Party::P2);
            let (conn, ctx) = if let Net::RawTls(_) = net {
                raw_connect(&addr, &paths1, sides[1])
            } else {
                let mut ch = connect(&addr, &paths1, support::OK_TIMEOUT).unwrap();
                ch.set_timeout(sides[1].timeout).unwrap();
                ch.set_max_frame_len(sides[1].max);
                let ctx = Ctx::of(ch.info());
                (Conn::Tls(Box::new(ch)), ctx)
            };
            let r1 = f1(conn, ctx);
            (h.join().unwrap(), r1)
        }
    })
}

/// Party 1 as a rustls client made here rather than by `connect`, so that it can write
/// unframed bytes; it checks party 0's ready frame and derives the same context.
fn raw_connect(addr: &str, paths: &CertPaths, side: Side) -> (Conn, Ctx) {
    let config = tls::client_config(paths).unwrap();
    let name = tls::server_name_for(addr).unwrap();
    let mut conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(side.timeout)).unwrap();
    sock.set_write_timeout(Some(side.timeout)).unwrap();
    sock.set_nodelay(true).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    let own_cert = pem::load_certs(&paths.cert).unwrap();
    let own = identity::pid_of_cert(&own_cert[0]).unwrap();
    let peer = identity::pid_of_cert(&conn.peer_certificates().unwrap()[0]).unwrap();
    let binding = conn
        .export_keying_material([0u8; 32], CHANNEL_BINDING_LABEL, None)
        .unwrap();
    let mut framed = Framed::new(rustls::StreamOwned::new(conn, sock), side.max);
    let mut buf = [0u8; 64];
    assert_eq!(framed.recv(&mut buf).unwrap(), b"ecdsa2pc-net ready v1");
    let ctx = Ctx {
        own,
        peer,
        binding: binding.to_vec(),
    };
    (Conn::Raw(Box::new(framed)), ctx)
}

// ---------------------------------------------------------------------------------------
// Fixtures: one honest keygen, and recorded sessions to replay from.

/// Both parties' share files (bytes) and the attacker's logs of earlier honest sessions.
struct Fixture {
    p1: Vec<u8>,
    p2: Vec<u8>,
    /// Keygen, attacker as P1: `sent` = [msg1, msg3].
    keygen: Log,
    /// Signing, attacker as P2: `sent` = [msg2, msg4], `received` = [msg1, msg3, msg5].
    sign: Log,
    /// Refresh, attacker as P1: `sent` = [msg1, msg3, msg5].
    refresh: Log,
}

impl Fixture {
    fn share(&self, party: Party) -> &[u8] {
        match party {
            Party::P1 => &self.p1,
            Party::P2 => &self.p2,
        }
    }
    fn install(&self, dir: &Path) {
        for (name, bytes) in [("p1.share", &self.p1), ("p2.share", &self.p2)] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            // Share files must be private (a looser one is refused).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

/// An honest keygen with the `MaliciousPeer` as P1 (no attack: the harness's control), and
/// recorded honest signing and refresh sessions.
fn keygen_with_control(net: Net<'_>) -> (Vec<u8>, Vec<u8>, Log) {
    let (mal, honest) = pair(
        net,
        [ATTACKER, HONEST],
        |t, ctx| {
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            MaliciousPeer::new(t).keygen_p1(
                &mut rng,
                &ctx.get(),
                crate::fixtures::paillier(0),
                crate::fixtures::params(),
            )
        },
        |mut t, ctx| {
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            driver::keygen_p2(&mut t, &mut rng, &ctx.get(), &mut crate::fixtures::trusted)
        },
    );
    assert!(matches!(mal.end, End::Completed), "control: {:?}", mal.end);
    let s1 = mal.output.unwrap();
    let s2 = honest.unwrap();
    assert_eq!(s1.fingerprint(), s2.fingerprint(), "control keygen agrees");
    (encoded(&s1), encoded(&s2), mal.log)
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (p1, p2, keygen) = keygen_with_control(Net::Pipe);
        let (b1, b2) = (p1.clone(), p2.clone());
        let (honest, mal) = pair(
            Net::Pipe,
            [HONEST, ATTACKER],
            move |mut t, ctx| {
                let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
                let mut share = KeyShareP1::decode(&b1).unwrap();
                let params = crate::fixtures::params();
                driver::sign_p1(&mut t, &mut rng, &mut share, params, &ctx.get(), &DIGEST).unwrap()
            },
            move |t, ctx| {
                let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
                let share = KeyShareP2::decode(&b2).unwrap();
                MaliciousPeer::new(t).sign_p2(&mut rng, &share, &ctx.get(), &DIGEST)
            },
        );
        assert!(matches!(mal.end, End::Completed), "control: {:?}", mal.end);
        assert_eq!(mal.output.unwrap(), honest, "control signature");
        let sign = mal.log;
        let (b1, b2) = (p1.clone(), p2.clone());
        let (mal, honest) = pair(
            Net::Pipe,
            [ATTACKER, HONEST],
            move |t, ctx| {
                let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
                let share = KeyShareP1::decode(&b1).unwrap();
                MaliciousPeer::new(t).refresh_p1(
                    &mut rng,
                    &share,
                    &ctx.get(),
                    crate::fixtures::paillier(1),
                )
            },
            move |mut t, ctx| {
                let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
                let share = KeyShareP2::decode(&b2).unwrap();
                driver::refresh_p2(&mut t, &mut rng, &share, &ctx.get(), &mut driver::InMemory)
                    .unwrap()
            },
        );
        assert!(matches!(mal.end, End::Completed), "control: {:?}", mal.end);
        assert_eq!(mal.output.unwrap().fingerprint(), honest.fingerprint());
        Fixture {
            p1,
            p2,
            keygen,
            sign,
            refresh: mal.log,
        }
    })
}

// ---------------------------------------------------------------------------------------
// The honest side: real drivers, share files, and a recorder of everything it writes.

/// Records every message the honest side writes, and when it last wrote.
struct Recorder {
    inner: Conn,
    sent: Vec<Vec<u8>>,
    last: Instant,
}

impl Transport for Recorder {
    fn send(&mut self, msg: &[u8]) -> Result<(), NetError> {
        self.sent.push(msg.to_vec());
        let r = self.inner.send(msg);
        self.last = Instant::now();
        r
    }
    fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b [u8], NetError> {
        self.inner.recv(buf)
    }
}

struct HonestRun {
    result: Result<(), NetError>,
    sent: Vec<Vec<u8>>,
    /// From the honest side's last write to the end of its run.
    waited: Duration,
}

/// Runs the honest side of `proto` as `party`, as the CLI would: keygen writes its share
/// only on success; sign and refresh hold the process lock and use the share files.
fn honest(proto: Proto, party: Party, dir: &Path, conn: Conn, ctx: &Ctx) -> HonestRun {
    let mut rec = Recorder {
        inner: conn,
        sent: Vec::new(),
        last: Instant::now(),
    };
    let result = run_driver(&mut rec, proto, party, dir, &ctx.get());
    let waited = rec.last.elapsed();
    let Recorder { inner, sent, .. } = rec;
    drop(inner);
    HonestRun {
        result,
        sent,
        waited,
    }
}

fn run_driver(
    t: &mut Recorder,
    proto: Proto,
    party: Party,
    dir: &Path,
    ctx: &Context<'_>,
) -> Result<(), NetError> {
    let mut rng = ecdsa2pc_net::rng::os_rng()?;
    let mut files = ShareFiles::new(&dir.join(share_file(party)));
    match proto {
        Proto::Keygen => {
            let out = ShareFiles::new(&dir.join(format!("keygen-{}", share_file(party))));
            Ok(match party {
                Party::P1 => out.write_active(&driver::keygen_p1(
                    t,
                    &mut rng,
                    ctx,
                    crate::fixtures::paillier(0),
                    crate::fixtures::params(),
                )?),
                Party::P2 => out.write_active(&driver::keygen_p2(
                    t,
                    &mut rng,
                    ctx,
                    &mut crate::fixtures::trusted,
                )?),
            }?)
        }
        Proto::Sign => {
            let _lock = files.lock()?;
            match party {
                Party::P1 => {
                    let mut share: KeyShareP1 = files.load_active()?;
                    let params = crate::fixtures::params();
                    driver::sign_p1_persisted(
                        t,
                        &mut rng,
                        &mut share,
                        params,
                        ctx,
                        &DIGEST,
                        &ecdsa2pc_core::bip32::DerivationPath::MASTER,
                        &mut files,
                    )
                    .map(drop)
                }
                Party::P2 => {
                    let share: KeyShareP2 = files.load_active()?;
                    driver::sign_p2(t, &mut rng, &share, ctx, &DIGEST).map(drop)
                }
            }
        }
        Proto::Refresh => {
            let _lock = files.lock()?;
            match party {
                Party::P1 => {
                    let share: KeyShareP1 = files.load_active()?;
                    let key = crate::fixtures::paillier(1);
                    driver::refresh_p1(t, &mut rng, &share, ctx, key, &mut files).map(drop)
                }
                Party::P2 => {
                    let share: KeyShareP2 = files.load_active()?;
                    driver::refresh_p2(t, &mut rng, &share, ctx, &mut files).map(drop)
                }
            }
        }
    }
}

/// Runs the attacker's side of `proto` as `party` with its share from `shares`.
fn attacker(
    proto: Proto,
    party: Party,
    peer: MaliciousPeer<Conn>,
    ctx: &Ctx,
    shares: &Fixture,
) -> (End, Log) {
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let ctx = ctx.get();
    macro_rules! ran {
        ($o:expr) => {{
            let o = $o;
            (o.end, o.log)
        }};
    }
    let p1 = || KeyShareP1::decode(&shares.p1).unwrap();
    let p2 = || KeyShareP2::decode(&shares.p2).unwrap();
    match (proto, party) {
        (Proto::Keygen, Party::P1) => {
            ran!(peer.keygen_p1(
                &mut rng,
                &ctx,
                crate::fixtures::paillier(0),
                crate::fixtures::params(),
            ))
        }
        (Proto::Keygen, Party::P2) => ran!(peer.keygen_p2(&mut rng, &ctx)),
        (Proto::Sign, Party::P1) => ran!(peer.sign_p1(
            &mut rng,
            &mut p1(),
            crate::fixtures::params(),
            &ctx,
            &DIGEST
        )),
        (Proto::Sign, Party::P2) => ran!(peer.sign_p2(&mut rng, &p2(), &ctx, &DIGEST)),
        (Proto::Refresh, Party::P1) => {
            ran!(peer.refresh_p1(&mut rng, &p1(), &ctx, crate::fixtures::paillier(1)))
        }
        (Proto::Refresh, Party::P2) => ran!(peer.refresh_p2(&mut rng, &p2(), &ctx)),
    }
}

// ---------------------------------------------------------------------------------------
// Cases and their checks.

#[derive(Debug)]
enum Expect {
    /// Our own round rejected the message: this error, at this step, and we sent the abort.
    Protocol(CoreError, &'static str),
    Timeout,
    PeerClosed {
        mid_message: bool,
    },
    FrameTooLarge,
}

struct Case {
    name: String,
    proto: Proto,
    attacker: Party,
    attacks: Vec<(u8, Action)>,
    expect: Expect,
    /// Types of the messages the honest side writes, in order; 0xff is the abort.
    sent: &'static [u8],
    /// The honest side's receive timeout.
    timeout: Duration,
}

fn case(
    name: &str,
    proto: Proto,
    attacker: Party,
    at: u8,
    action: Action,
    expect: Expect,
    sent: &'static [u8],
) -> Case {
    Case {
        name: name.to_owned(),
        proto,
        attacker,
        attacks: vec![(at, action)],
        expect,
        sent,
        timeout: PATIENT,
    }
}

impl Case {
    fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    fn also(mut self, at: u8, action: Action) -> Self {
        self.attacks.push((at, action));
        self
    }
    fn locks(&self) -> bool {
        self.proto == Proto::Sign
            && self.attacker == Party::P2
            && matches!(
                self.expect,
                Expect::Protocol(CoreError::SignatureInvalid, _)
            )
    }
}

fn proto_err(e: CoreError, step: &'static str) -> Expect {
    Expect::Protocol(e, step)
}

fn flip(offset: usize) -> Action {
    Action::Mutate { offset, bit: 0 }
}

type Snapshot = BTreeMap<String, Vec<u8>>;

fn snapshot(dir: &Path) -> Snapshot {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// No run of 16 or more hex digits, and no 16-digit window of any secret.
fn assert_no_secret(what: &str, text: &str, secrets: &[Vec<u8>]) {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        assert!(run < 16, "{what}: a long hex run in {text:?}");
    }
    let lower = text.to_lowercase();
    for secret in secrets {
        let h = hex(secret);
        let h = h.trim_start_matches('0');
        for i in 0..h.len().saturating_sub(16) {
            assert!(
                !lower.contains(&h[i..i + 16]),
                "{what}: secret bytes in {text:?}"
            );
        }
    }
}

/// The secret material of a share file: x1, p, q (P1) or x2 (P2).
fn secrets(share: &[u8], party: Party) -> Vec<Vec<u8>> {
    match party {
        Party::P1 => vec![
            share[SECRET_AT..SECRET_AT + 48].to_vec(),
            share[SECRET_AT + 48..SECRET_AT + 176].to_vec(),
            share[SECRET_AT + 176..SECRET_AT + 304].to_vec(),
        ],
        Party::P2 => vec![share[SECRET_AT + 256..SECRET_AT + 288].to_vec()],
    }
}

/// Runs one case; returns a one-line summary.
fn run_case(net: Net<'_>, shares: &Fixture, mut case: Case) -> String {
    let dir = TempDir::new("malicious");
    shares.install(dir.path());
    let before = snapshot(dir.path());
    let rss_before = rss();
    let honest_party = case.attacker.peer();
    let attacks = std::mem::take(&mut case.attacks);
    let make_peer = |t: Conn| {
        attacks
            .into_iter()
            .fold(MaliciousPeer::new(t), |p, (at, a)| p.attack(at, a))
    };
    let honest_side = Side {
        timeout: case.timeout,
        max: MAX_MSG_LEN,
    };
    let (proto, path) = (case.proto, dir.path());
    let started = Instant::now();
    let (run, (end, _log)) = match case.attacker {
        Party::P1 => {
            let (end, run) = pair(
                net,
                [ATTACKER, honest_side],
                |t, ctx| attacker(proto, Party::P1, make_peer(t), &ctx, shares),
                |t, ctx| honest(proto, Party::P2, path, t, &ctx),
            );
            (run, end)
        }
        Party::P2 => pair(
            net,
            [honest_side, ATTACKER],
            |t, ctx| honest(proto, Party::P1, path, t, &ctx),
            |t, ctx| attacker(proto, Party::P2, make_peer(t), &ctx, shares),
        ),
    };
    let elapsed = started.elapsed();
    let name = format!("{} [{}]", case.name, net.name());

    // 1. The specific error.
    let err = match &run.result {
        Ok(()) => panic!("{name}: the honest side accepted the attack"),
        Err(e) => e,
    };
    match (&case.expect, err) {
        (Expect::Protocol(want, want_step), NetError::Protocol(ProtocolError { error, step })) => {
            assert_eq!((error, step), (want, want_step), "{name}: {err}");
        }
        (Expect::Timeout, NetError::Transport(TransportError::Timeout { .. })) => {
            assert!(run.waited >= case.timeout, "{name}: gave up early");
            assert!(
                run.waited < case.timeout + MARGIN,
                "{name}: timed out only after {:?} (timeout {:?})",
                run.waited,
                case.timeout
            );
        }
        (
            Expect::PeerClosed { mid_message },
            NetError::Transport(TransportError::PeerClosed {
                mid_message: got, ..
            }),
        ) => assert_eq!(got, mid_message, "{name}: {err}"),
        (Expect::FrameTooLarge, NetError::Transport(TransportError::FrameTooLarge { max, .. })) => {
            assert_eq!(*max, MAX_MSG_LEN, "{name}");
        }
        (want, got) => panic!("{name}: expected {want:?}, got {got:?}: {got}"),
    }
    if !matches!(case.expect, Expect::Protocol(..)) {
        let grew = rss().saturating_sub(rss_before);
        assert!(
            grew < RSS_BOUND,
            "{name}: resident memory grew by {grew} bytes"
        );
    }

    // 2. What the honest side wrote: the messages due, then only the abort.
    let types: Vec<u8> = run.sent.iter().map(|m| m[1]).collect();
    assert_eq!(types, case.sent, "{name}: message types written");
    for (i, m) in run.sent.iter().enumerate() {
        if m[1] == MsgType::Abort as u8 {
            assert_eq!(i, run.sent.len() - 1, "{name}: nothing after the abort");
            let NetError::Protocol(ProtocolError { error, .. }) = err else {
                panic!("{name}: an abort after a transport error");
            };
            assert_eq!(m[..], abort_message(*error), "{name}: the abort names it");
        }
    }
    // And the abort reached the attacker.
    if let Expect::Protocol(e, _) = case.expect {
        assert!(
            matches!(end, End::PeerAborted(got) if got == e),
            "{name}: the attacker saw {end:?}"
        );
    }

    // 3. No secret in the error text.
    let honest_share = shares.share(honest_party);
    let secret = secrets(honest_share, honest_party);
    assert_no_secret(&name, &err.to_string(), &secret);
    assert_no_secret(&name, &format!("{err:?}"), &secret);

    // 4. Files: nothing created or changed, except the lock.
    let after = snapshot(dir.path());
    let names = |s: &Snapshot| s.keys().cloned().collect::<Vec<_>>();
    for (file, bytes) in &after {
        let allowed = before.contains_key(file)
            || file.ends_with(".lock")
            || (case.proto == Proto::Refresh && file.ends_with(".pending"));
        assert!(allowed, "{name}: {file} was created ({:?})", names(&after));
        assert!(!file.contains(".tmp-"), "{name}: a temporary file is left");
        let Some(old) = before.get(file) else {
            continue;
        };
        if case.locks() && file == "p1.share" {
            let locked = KeyShareP1::decode(bytes).unwrap();
            let original = KeyShareP1::decode(old).unwrap();
            assert!(locked.is_locked(), "{name}: the share is locked on disk");
            assert_eq!(locked.fingerprint(), original.fingerprint(), "{name}");
            let n = bytes.len();
            for i in (0..n - 32).filter(|&i| i != LOCK_AT) {
                assert_eq!(bytes[i], old[i], "{name}: only the lock flag changed ({i})");
            }
        } else {
            assert_eq!(bytes, old, "{name}: {file} changed");
        }
    }
    if case.locks() {
        assert_ne!(
            after["p1.share"], before["p1.share"],
            "{name}: lock persisted"
        );
    }
    if case.proto == Proto::Refresh {
        let epoch = agree_and_sign(net.honest(), dir.path());
        assert_eq!(epoch, 0, "{name}: the old epoch is kept");
        let after = snapshot(dir.path());
        for (file, bytes) in &after {
            assert!(!file.ends_with(".pending"), "{name}: {file} left behind");
            if let Some(old) = before.get(file) {
                assert_eq!(bytes, old, "{name}: {file} changed");
            }
        }
    }
    let outcome = match err {
        NetError::Protocol(ProtocolError { error, step }) => format!("{error:?} at {step:?}"),
        other => format!("{other:?}"),
    };
    format!(
        "{name}: {outcome}{}; wrote {types:02x?}; attacker {} ({elapsed:.2?})",
        if case.locks() { ", LOCKED on disk" } else { "" },
        end.describe()
    )
}

/// Both honest parties restart from their files, agree on an epoch, and sign with it.
fn agree_and_sign(net: Net<'_>, dir: &Path) -> u64 {
    let (a, b) = pair(
        net,
        [HONEST, HONEST],
        |mut t, ctx| {
            let f = ShareFiles::new(&dir.join("p1.share"));
            let _lock = f.lock().unwrap();
            let mut s: KeyShareP1 = epoch::agree(&mut t, &f, f.load().unwrap()).unwrap();
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            let params = crate::fixtures::params();
            let sig =
                driver::sign_p1(&mut t, &mut rng, &mut s, params, &ctx.get(), &DIGEST).unwrap();
            (s.epoch(), s.fingerprint(), sig)
        },
        |mut t, ctx| {
            let f = ShareFiles::new(&dir.join("p2.share"));
            let _lock = f.lock().unwrap();
            let s: KeyShareP2 = epoch::agree(&mut t, &f, f.load().unwrap()).unwrap();
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            let sig = driver::sign_p2(&mut t, &mut rng, &s, &ctx.get(), &DIGEST).unwrap();
            (s.epoch(), s.fingerprint(), sig)
        },
    );
    assert_eq!(a, b, "both parties use the same share and signature");
    a.0
}

fn run_all(net: Net<'_>, shares: &Fixture, cases: Vec<Case>) {
    let n = cases.len();
    let started = Instant::now();
    for case in cases {
        println!("{}", run_case(net, shares, case));
    }
    println!("{n} cases in {:.2?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------
// Offsets of the fields attacked (docs/PROTOCOL.md; checked against the layouts below).

/// Where party 0's keygen messages sit in a recorded log: the parameter message comes first.
const KG_M1: usize = 1;
const KG_M3: usize = 2;
/// keygen msg1: Com(Q1) at 34..66.
const K1_COM_Q1: usize = 34 + 31;
/// keygen msg2: π(x2).z at 100..132.
const K2_Z: usize = 131;
/// keygen msg3: the equality proof's ν at 2918..2965.
const K3_EQ_NU: usize = 2964;
/// keygen msg3: the last N-th root of the key proof ends the message.
const K3_KEY_ROOT: usize = keygen::Msg3::LEN - 1;
/// sign msg1: fingerprint 34..66, path id 66..98, Com(R1) 98..130.
const S1_FP: usize = 65;
const S1_PATH: usize = 97;
const S1_COM: usize = 129;
/// sign msg2 / msg3: π.z at 100..132.
const S_Z: usize = 131;
/// sign msg4: c at 2..514.
const S4_C: usize = 513;
/// sign msg5: s at 34..66.
const S5_S: usize = 65;
/// refresh msg1: Com(ρ1) at 66..98.
const R1_COM: usize = 97;
/// refresh msg2: ρ2 at 34..66.
const R2_RHO: usize = 65;
/// refresh msg3: the low byte of the equality proof's d_1 at 1923..1966 (after ρ1, opening,
/// 3 c̃, Com̃, R, the proof opening).
const R3_D1: usize = 2 + 32 + 32 + 3 * 512 + 256 + 33 + 32 + 42;
/// refresh msg3: the last N'-th root ends the message.
const R3_KEY_ROOT: usize = refresh::Msg3::LEN - 1;
/// refresh msg4: fingerprint at 2..34.
const R4_FP: usize = 33;

#[test]
fn field_offsets_match_the_layouts() {
    let fx = fixture();
    // A flip at each offset changes exactly the field it names.
    let k3 = keygen::Msg3::decode(&fx.keygen.sent[KG_M3]).unwrap();
    let mut b = fx.keygen.sent[KG_M3].clone();
    b[K3_EQ_NU] ^= 1;
    let t = keygen::Msg3::decode(&b).unwrap();
    assert_eq!(
        (
            &t.q1,
            &t.open_q1,
            &t.proof_q1,
            &t.responses.range,
            &t.responses.key_proof
        ),
        (
            &k3.q1,
            &k3.open_q1,
            &k3.proof_q1,
            &k3.responses.range,
            &k3.responses.key_proof
        )
    );
    assert_ne!(t.responses.eq, k3.responses.eq);
    let r3 = refresh::Msg3::decode(&fx.refresh.sent[1]).unwrap();
    let mut b = fx.refresh.sent[1].clone();
    b[R3_D1] ^= 1;
    let t = refresh::Msg3::decode(&b).unwrap();
    assert_eq!(
        (
            &t.rho1,
            &t.open_rho1,
            &t.responses.range,
            &t.responses.key_proof
        ),
        (
            &r3.rho1,
            &r3.open_rho1,
            &r3.responses.range,
            &r3.responses.key_proof
        )
    );
    assert_ne!(t.responses.eq, r3.responses.eq);
    let r1 = refresh::Msg1::decode(&fx.refresh.sent[0]).unwrap();
    let mut b = fx.refresh.sent[0].clone();
    b[R1_COM] ^= 1;
    let t = refresh::Msg1::decode(&b).unwrap();
    assert_ne!(t.com_rho1, r1.com_rho1);
    assert_eq!(
        (&t.fingerprint, &t.paillier),
        (&r1.fingerprint, &r1.paillier)
    );
    let s4 = sign::Msg4::decode(&fx.sign.sent[1]).unwrap();
    let mut b = fx.sign.sent[1].clone();
    b[S4_C] ^= 1;
    assert_ne!(sign::Msg4::decode(&b).unwrap(), s4);
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn honest_malicious_peer_completes_every_protocol() {
    let fx = fixture();
    // The parameters, messages 1 and 3, then the confirmation that ends keygen.
    assert_eq!(fx.keygen.sent.len(), 4);
    assert_eq!(fx.sign.sent.len(), 2);
    assert_eq!(fx.sign.received.len(), 3);
    assert_eq!(fx.refresh.sent.len(), 3);
    assert_eq!(
        fx.keygen.sent[..3],
        fx.keygen.honest,
        "no action: sent as encoded"
    );
}

#[test]
fn keygen_attacks_over_memory_pipes() {
    use Party::{P1, P2};
    use Proto::Keygen;
    let fx = fixture();
    let cases = vec![
        case(
            "keygen msg1: Com(Q1) bit flip",
            Keygen,
            P1,
            1,
            flip(K1_COM_Q1),
            proto_err(CoreError::CommitmentMismatch, "keygen, message 3"),
            &[0x12, 0xff],
        ),
        case(
            "keygen msg1: truncated",
            Keygen,
            P1,
            1,
            Action::Truncate(keygen::Msg1::LEN - 1),
            proto_err(CoreError::Malformed, "keygen, message 1"),
            &[0xff],
        ),
        case(
            "keygen msg2: π(x2) response bit flip",
            Keygen,
            P2,
            2,
            flip(K2_Z),
            proto_err(CoreError::ProofInvalid(Proof::DlogPoK), "keygen, message 2"),
            &[0x01, 0x11, 0xff],
        ),
        case(
            "keygen msg2: truncated",
            Keygen,
            P2,
            2,
            Action::Truncate(keygen::Msg2::LEN - 1),
            proto_err(CoreError::Malformed, "keygen, message 2"),
            &[0x01, 0x11, 0xff],
        ),
        case(
            "keygen msg3: equality response bit flip",
            Keygen,
            P1,
            3,
            flip(K3_EQ_NU),
            proto_err(
                CoreError::ProofInvalid(Proof::PaillierPedersenEq),
                "keygen, message 3",
            ),
            &[0x12, 0xff],
        ),
        case(
            "keygen msg3: Paillier key proof root bit flip",
            Keygen,
            P1,
            3,
            flip(K3_KEY_ROOT),
            proto_err(
                CoreError::ProofInvalid(Proof::PaillierKey),
                "keygen, message 3",
            ),
            &[0x12, 0xff],
        ),
        case(
            "keygen msg3: truncated",
            Keygen,
            P1,
            3,
            Action::Truncate(keygen::Msg3::LEN - 1),
            proto_err(CoreError::Malformed, "keygen, message 3"),
            &[0x12, 0xff],
        ),
        case(
            "keygen msg3: one byte past the frame cap",
            Keygen,
            P1,
            3,
            // The cap is the longest message's length (the parameter message's).
            Action::Extend(vec![0; MAX_MSG_LEN - keygen::Msg3::LEN + 1]),
            Expect::FrameTooLarge,
            &[0x12],
        ),
    ];
    run_all(Net::Pipe, fx, cases);
}

#[test]
fn sign_attacks_over_memory_pipes() {
    use Party::{P1, P2};
    use Proto::Sign;
    let fx = fixture();
    let cases = vec![
        case(
            "sign msg1: Com(R1, digest) bit flip",
            Sign,
            P1,
            1,
            flip(S1_COM),
            proto_err(CoreError::CommitmentMismatch, "sign, message 3"),
            &[0x22, 0xff],
        ),
        case(
            "sign msg1: share fingerprint bit flip",
            Sign,
            P1,
            1,
            flip(S1_FP),
            proto_err(CoreError::SessionMismatch, "sign, message 1"),
            &[0xff],
        ),
        case(
            "sign msg1: derivation path id bit flip",
            Sign,
            P1,
            1,
            flip(S1_PATH),
            proto_err(CoreError::PathMismatch, "sign, message 1"),
            &[0xff],
        ),
        case(
            "sign msg1: truncated",
            Sign,
            P1,
            1,
            Action::Truncate(sign::Msg1::LEN - 1),
            proto_err(CoreError::Malformed, "sign, message 1"),
            &[0xff],
        ),
        case(
            "sign msg2: π(k2) response bit flip",
            Sign,
            P2,
            2,
            flip(S_Z),
            proto_err(CoreError::ProofInvalid(Proof::DlogPoK), "sign, message 2"),
            &[0x21, 0xff],
        ),
        case(
            "sign msg2: truncated",
            Sign,
            P2,
            2,
            Action::Truncate(sign::Msg2::LEN - 1),
            proto_err(CoreError::Malformed, "sign, message 2"),
            &[0x21, 0xff],
        ),
        case(
            "sign msg2: extended by one byte",
            Sign,
            P2,
            2,
            Action::Extend(vec![0]),
            proto_err(CoreError::Malformed, "sign, message 2"),
            &[0x21, 0xff],
        ),
        case(
            "sign msg3: π(k1) response bit flip",
            Sign,
            P1,
            3,
            flip(S_Z),
            proto_err(CoreError::ProofInvalid(Proof::DlogPoK), "sign, message 3"),
            &[0x22, 0xff],
        ),
        case(
            "sign msg3: truncated",
            Sign,
            P1,
            3,
            Action::Truncate(sign::Msg3::LEN - 1),
            proto_err(CoreError::Malformed, "sign, message 3"),
            &[0x22, 0xff],
        ),
        case(
            "sign msg4: ciphertext bit flip (π_c3 fails, nothing decrypted)",
            Sign,
            P2,
            4,
            flip(S4_C),
            proto_err(
                CoreError::ProofInvalid(Proof::SignCiphertext),
                "sign, message 4",
            ),
            &[0x21, 0x23, 0xff],
        ),
        case(
            "sign msg4: ciphertext 0",
            Sign,
            P2,
            4,
            // c alone (its 512 bytes after the header); the proof after it stays.
            Action::Replace {
                range: 2..S4_C + 1,
                bytes: vec![0; S4_C - 1],
            },
            proto_err(CoreError::InvalidCiphertext, "sign, message 4"),
            &[0x21, 0x23, 0xff],
        ),
        case(
            "sign msg4: truncated",
            Sign,
            P2,
            4,
            Action::Truncate(sign::Msg4::LEN - 1),
            proto_err(CoreError::Malformed, "sign, message 4"),
            &[0x21, 0x23, 0xff],
        ),
        case(
            "sign msg5: s bit flip",
            Sign,
            P1,
            5,
            flip(S5_S),
            proto_err(CoreError::SignatureInvalid, "sign, message 5"),
            &[0x22, 0x24, 0xff],
        ),
        case(
            "sign msg5: truncated",
            Sign,
            P1,
            5,
            Action::Truncate(sign::Msg5::LEN - 1),
            proto_err(CoreError::Malformed, "sign, message 5"),
            &[0x22, 0x24, 0xff],
        ),
    ];
    run_all(Net::Pipe, fx, cases);
}

#[test]
fn refresh_attacks_over_memory_pipes() {
    use Party::{P1, P2};
    use Proto::Refresh;
    use refresh::{Msg1, Msg2, Msg3, Msg4};
    let fx = fixture();
    let cases = vec![
        case(
            "refresh msg1: Com(ρ1) bit flip",
            Refresh,
            P1,
            1,
            flip(R1_COM),
            proto_err(CoreError::CommitmentMismatch, "refresh, message 3"),
            &[0x32, 0xff],
        ),
        case(
            "refresh msg1: truncated",
            Refresh,
            P1,
            1,
            Action::Truncate(Msg1::LEN - 1),
            proto_err(CoreError::Malformed, "refresh, message 1"),
            &[0xff],
        ),
        case(
            "refresh msg2: coin-toss share ρ2 bit flip",
            Refresh,
            P2,
            2,
            flip(R2_RHO),
            proto_err(CoreError::SessionMismatch, "refresh, message 4"),
            &[0x31, 0x33, 0xff],
        ),
        case(
            "refresh msg2: truncated",
            Refresh,
            P2,
            2,
            Action::Truncate(Msg2::LEN - 1),
            proto_err(CoreError::Malformed, "refresh, message 2"),
            &[0x31, 0xff],
        ),
        case(
            "refresh msg3: equality proof response bit flip",
            Refresh,
            P1,
            3,
            flip(R3_D1),
            proto_err(
                CoreError::ProofInvalid(Proof::PaillierPedersenEq),
                "refresh, message 3",
            ),
            &[0x32, 0xff],
        ),
        case(
            "refresh msg3: N'-th root bit flip",
            Refresh,
            P1,
            3,
            flip(R3_KEY_ROOT),
            proto_err(
                CoreError::ProofInvalid(Proof::PaillierKey),
                "refresh, message 3",
            ),
            &[0x32, 0xff],
        ),
        case(
            "refresh msg3: truncated",
            Refresh,
            P1,
            3,
            Action::Truncate(Msg3::LEN - 1),
            proto_err(CoreError::Malformed, "refresh, message 3"),
            &[0x32, 0xff],
        ),
        case(
            "refresh msg4: new-share fingerprint bit flip",
            Refresh,
            P2,
            4,
            flip(R4_FP),
            proto_err(CoreError::SessionMismatch, "refresh, message 4"),
            &[0x31, 0x33, 0xff],
        ),
        case(
            "refresh msg4: truncated",
            Refresh,
            P2,
            4,
            Action::Truncate(Msg4::LEN - 1),
            proto_err(CoreError::Malformed, "refresh, message 4"),
            &[0x31, 0x33, 0xff],
        ),
        case(
            "refresh msg5: type byte bit flip",
            Refresh,
            P1,
            5,
            flip(1),
            proto_err(CoreError::Malformed, "refresh, message 5"),
            &[0x32, 0x34, 0xff],
        ),
        case(
            "refresh msg5: truncated",
            Refresh,
            P1,
            5,
            Action::Truncate(1),
            proto_err(CoreError::Malformed, "refresh, message 5"),
            &[0x32, 0x34, 0xff],
        ),
    ];
    run_all(Net::Pipe, fx, cases);
}

#[test]
fn replay_and_reorder_over_memory_pipes() {
    use Party::{P1, P2};
    use Proto::{Keygen, Refresh, Sign};
    let fx = fixture();
    let cases = vec![
        case(
            "keygen msg3 replayed from an earlier session",
            Keygen,
            P1,
            3,
            Action::Replay(fx.keygen.sent[KG_M3].clone()),
            proto_err(CoreError::CommitmentMismatch, "keygen, message 3"),
            &[0x12, 0xff],
        ),
        case(
            "keygen msg1 and msg3 replayed (a whole earlier transcript)",
            Keygen,
            P1,
            1,
            Action::Replay(fx.keygen.sent[KG_M1].clone()),
            proto_err(CoreError::ProofInvalid(Proof::DlogPoK), "keygen, message 3"),
            &[0x12, 0xff],
        )
        .also(3, Action::Replay(fx.keygen.sent[KG_M3].clone())),
        case(
            "sign msg3 replayed from an earlier session",
            Sign,
            P1,
            3,
            Action::Replay(fx.sign.received[1].clone()),
            proto_err(CoreError::CommitmentMismatch, "sign, message 3"),
            &[0x22, 0xff],
        ),
        case(
            "sign msg1 and msg3 replayed (a whole earlier transcript)",
            Sign,
            P1,
            1,
            Action::Replay(fx.sign.received[0].clone()),
            proto_err(CoreError::ProofInvalid(Proof::DlogPoK), "sign, message 3"),
            &[0x22, 0xff],
        )
        .also(3, Action::Replay(fx.sign.received[1].clone())),
        case(
            "sign msg4 replayed from an earlier session",
            Sign,
            P2,
            4,
            Action::Replay(fx.sign.sent[1].clone()),
            proto_err(
                CoreError::ProofInvalid(Proof::SignCiphertext),
                "sign, message 4",
            ),
            &[0x21, 0x23, 0xff],
        ),
        case(
            "refresh msg3 replayed from an earlier session",
            Refresh,
            P1,
            3,
            Action::Replay(fx.refresh.sent[1].clone()),
            proto_err(
                CoreError::ProofInvalid(Proof::PaillierKey),
                "refresh, message 3",
            ),
            &[0x32, 0xff],
        ),
        case(
            "sign: a recorded msg3 sent where msg2 is expected",
            Sign,
            P2,
            2,
            Action::Reorder(Source::Recorded(fx.sign.received[1].clone())),
            proto_err(CoreError::Malformed, "sign, message 2"),
            &[0x21, 0xff],
        ),
        case(
            "sign: msg2 sent again where msg4 is expected",
            Sign,
            P2,
            4,
            Action::Reorder(Source::Earlier(0)),
            proto_err(CoreError::Malformed, "sign, message 4"),
            &[0x21, 0x23, 0xff],
        ),
    ];
    run_all(Net::Pipe, fx, cases);
}

#[test]
fn drop_stall_and_cut_frames_over_memory_pipes() {
    use Party::{P1, P2};
    use Proto::{Keygen, Refresh, Sign};
    let fx = fixture();
    let cases = vec![
        case(
            "keygen msg3 dropped, connection closed",
            Keygen,
            P1,
            3,
            Action::Drop(Then::Close),
            Expect::PeerClosed { mid_message: false },
            &[0x12],
        ),
        case(
            "keygen msg3 frame cut after half its body, connection closed",
            Keygen,
            P1,
            3,
            Action::CutFrame {
                keep: keygen::Msg3::LEN / 2,
                then: Then::Close,
            },
            Expect::PeerClosed { mid_message: true },
            &[0x12],
        ),
        case(
            "sign msg4 stalled",
            Sign,
            P2,
            4,
            Action::Stall,
            Expect::Timeout,
            &[0x21, 0x23],
        )
        .timeout(STALL_TIMEOUT),
        case(
            "sign msg2 frame cut after 10 bytes, then stalled",
            Sign,
            P2,
            2,
            Action::CutFrame {
                keep: 10,
                then: Then::Stall,
            },
            Expect::Timeout,
            &[0x21],
        )
        .timeout(STALL_TIMEOUT),
        case(
            "sign msg2 replaced by a frame header announcing 4 GiB",
            Sign,
            P2,
            2,
            Action::Raw(u32::MAX.to_be_bytes().to_vec(), Then::Stall),
            Expect::FrameTooLarge,
            &[0x21],
        ),
        case(
            "refresh msg4 dropped, then stalled",
            Refresh,
            P2,
            4,
            Action::Drop(Then::Stall),
            Expect::Timeout,
            &[0x31, 0x33],
        )
        .timeout(STALL_TIMEOUT),
    ];
    run_all(Net::Pipe, fx, cases);
}

/// T − Q2 (T known to the attacker) or −Q2, in place of the committed Q1.
fn rogue_q1(with_t: bool) -> Action {
    Action::Rewrite(Box::new(move |bytes, log: &Log| {
        let m2 = keygen::Msg2::decode(&log.received[0]).unwrap();
        let mut m3 = keygen::Msg3::decode(&bytes).unwrap();
        let t = if with_t {
            ProjectivePoint::GENERATOR * Scalar::from(7u64)
        } else {
            ProjectivePoint::IDENTITY
        };
        m3.q1 = (t - ProjectivePoint::from(m2.q2)).to_affine();
        assert_ne!(m3.q1, AffinePoint::IDENTITY);
        let mut out = vec![0u8; keygen::Msg3::LEN];
        m3.encode(&mut out).unwrap();
        out
    }))
}

#[test]
fn rogue_key_p1_cannot_open_its_commitment_to_another_q1() {
    let fx = fixture();
    let cases = vec![
        case(
            "rogue-key P1: Q1 opened as 7·G − Q2",
            Proto::Keygen,
            Party::P1,
            3,
            rogue_q1(true),
            proto_err(CoreError::CommitmentMismatch, "keygen, message 3"),
            &[0x12, 0xff],
        ),
        case(
            "rogue-key P1: Q1 opened as −Q2 (Q = O)",
            Proto::Keygen,
            Party::P1,
            3,
            rogue_q1(false),
            proto_err(CoreError::CommitmentMismatch, "keygen, message 3"),
            &[0x12, 0xff],
        ),
    ];
    run_all(Net::Pipe, fx, cases);
}

/// c ⊕ Enc(1): a well-formed ciphertext of the wrong plaintext, as a key-probing P2 sends.
fn wrong_ciphertext(shares: &Fixture) -> Action {
    let key = KeyShareP2::decode(&shares.p2)
        .unwrap()
        .paillier_key()
        .clone();
    Action::Rewrite(Box::new(move |bytes, _| {
        let mut m4 = sign::Msg4::decode(&bytes).unwrap();
        let c = key.validate(&m4.c).unwrap();
        m4.c = *key.add_plain(&c, &crypto_bigint::U64::ONE).as_uint();
        let mut out = vec![0u8; sign::Msg4::LEN];
        m4.encode(&mut out).unwrap();
        out
    }))
}

/// The selective-abort defence end to end: a P2 that sends a wrong final ciphertext makes
/// P1's share locked on disk before P1's abort reaches it; the share then refuses to sign or
/// refresh, in memory and after a restart.
fn selective_abort(net: Net<'_>, shares: &Fixture) {
    let dir = TempDir::new("malicious-lock");
    shares.install(dir.path());
    let path = dir.path().join("p1.share");
    let before = std::fs::read(&path).unwrap();
    // (the reply that reached the attacker, whether P1's file was locked at that moment)
    type Seen = Mutex<Option<(Vec<u8>, bool)>>;
    let seen: Arc<Seen> = Arc::default();
    let seen2 = Arc::clone(&seen);
    let watched = path.clone();
    let peer = move |t: Conn| {
        MaliciousPeer::new(t)
            .attack(4, wrong_ciphertext(shares))
            .on_reply(move |reply| {
                // The abort just arrived: what does P1's file say right now?
                let on_disk = KeyShareP1::decode(&std::fs::read(&watched).unwrap()).unwrap();
                *seen2.lock().unwrap() = Some((reply.to_vec(), on_disk.is_locked()));
            })
    };
    let files = ShareFiles::new(&path);
    let mut share: KeyShareP1 = files.load_active().unwrap();
    let (first, end) = pair(
        net,
        [HONEST, ATTACKER],
        |t, ctx| {
            let mut rec = Recorder {
                inner: t,
                sent: Vec::new(),
                last: Instant::now(),
            };
            let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
            let mut persist = files.clone();
            let r = driver::sign_p1_persisted(
                &mut rec,
                &mut rng,
                &mut share,
                crate::fixtures::params(),
                &ctx.get(),
                &DIGEST,
                &ecdsa2pc_core::bip32::DerivationPath::MASTER,
                &mut persist,
            );
            (r, rec.sent)
        },
        |t, ctx| attacker(Proto::Sign, Party::P2, peer(t), &ctx, shares),
    );
    let (result, sent) = first;
    let err = result.unwrap_err();
    let refused = CoreError::ProofInvalid(Proof::SignCiphertext);
    assert!(
        matches!(
            err,
            NetError::Protocol(ProtocolError {
                error,
                step: "sign, message 4"
            }) if error == refused
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("nothing was decrypted") && text.contains("NOT locked"),
        "{text}"
    );
    assert_no_secret("proof refused", &text, &secrets(&shares.p1, Party::P1));
    let types: Vec<u8> = sent.iter().map(|m| m[1]).collect();
    assert_eq!(types, [0x21, 0x23, 0xff]);
    assert!(matches!(end.0, End::PeerAborted(e) if e == refused));
    let (reply, locked_when_abort_arrived) = seen.lock().unwrap().take().unwrap();
    assert_eq!(reply, abort_message(refused));
    assert!(
        !locked_when_abort_arrived,
        "nothing to lock: party 1 learned nothing"
    );
    assert!(!share.is_locked());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the share file is untouched"
    );

    // The same share object, and the share reloaded from disk (a restart), sign honestly.
    let mut reloaded: KeyShareP1 = files.load_active().unwrap();
    for (what, s) in [("in memory", &mut share), ("after restart", &mut reloaded)] {
        let (mine, theirs) = pair(
            net.honest(),
            [HONEST, HONEST],
            |mut t, ctx| {
                let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
                driver::sign_p1_persisted(
                    &mut t,
                    &mut rng,
                    &mut *s,
                    crate::fixtures::params(),
                    &ctx.get(),
                    &DIGEST,
                    &ecdsa2pc_core::bip32::DerivationPath::MASTER,
                    &mut files.clone(),
                )
            },
            |mut t, ctx| {
                let share2 = KeyShareP2::decode(&shares.p2).unwrap();
                let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
                driver::sign_p2(&mut t, &mut rng, &share2, &ctx.get(), &DIGEST)
            },
        );
        assert_eq!(mine.unwrap(), theirs.unwrap(), "sign {what}");
    }
    println!(
        "selective abort [{}]: ProofInvalid(π_c3) before decryption, nothing locked; the share signs after, also after restart",
        net.name()
    );
}

#[test]
fn selective_abort_ciphertext_is_refused_by_pic3_without_decrypting_or_locking() {
    selective_abort(Net::Pipe, fixture());
}

#[test]
fn attacks_over_mutual_tls() {
    use Party::{P1, P2};
    let started = Instant::now();
    let certs = support::certs("malicious-tls");
    let (p1, p2, keygen_log) = keygen_with_control(Net::Tls(&certs));
    let fx = Fixture {
        p1,
        p2,
        keygen: keygen_log,
        sign: Log::default(),
        refresh: Log::default(),
    };
    let tls = Net::Tls(&certs);
    let raw = Net::RawTls(&certs);
    let cases = vec![
        (
            tls,
            case(
                "keygen msg3: equality response bit flip",
                Proto::Keygen,
                P1,
                3,
                flip(K3_EQ_NU),
                proto_err(
                    CoreError::ProofInvalid(Proof::PaillierPedersenEq),
                    "keygen, message 3",
                ),
                &[0x12, 0xff],
            ),
        ),
        (
            tls,
            case(
                "keygen msg3 replayed from an earlier session",
                Proto::Keygen,
                P1,
                3,
                Action::Replay(fx.keygen.sent[KG_M3].clone()),
                proto_err(CoreError::CommitmentMismatch, "keygen, message 3"),
                &[0x12, 0xff],
            ),
        ),
        (
            tls,
            case(
                "keygen msg1 and msg3 replayed (a whole earlier transcript)",
                Proto::Keygen,
                P1,
                1,
                Action::Replay(fx.keygen.sent[KG_M1].clone()),
                proto_err(CoreError::CommitmentMismatch, "keygen, message 3"),
                &[0x12, 0xff],
            )
            .also(3, Action::Replay(fx.keygen.sent[KG_M3].clone())),
        ),
        (
            tls,
            case(
                "refresh msg3: equality proof response bit flip",
                Proto::Refresh,
                P1,
                3,
                flip(R3_D1),
                proto_err(
                    CoreError::ProofInvalid(Proof::PaillierPedersenEq),
                    "refresh, message 3",
                ),
                &[0x32, 0xff],
            ),
        ),
        (
            tls,
            case(
                "sign msg4 stalled",
                Proto::Sign,
                P2,
                4,
                Action::Stall,
                Expect::Timeout,
                &[0x21, 0x23],
            )
            .timeout(STALL_TIMEOUT),
        ),
        (
            raw,
            case(
                "sign msg2 frame cut after 10 bytes, connection closed",
                Proto::Sign,
                P2,
                2,
                Action::CutFrame {
                    keep: 10,
                    then: Then::Close,
                },
                Expect::PeerClosed { mid_message: true },
                &[0x21],
            ),
        ),
        (
            raw,
            case(
                "sign msg2 dripped one byte per 150 ms (slow loris)",
                Proto::Sign,
                P2,
                2,
                Action::Drip {
                    every: Duration::from_millis(150),
                },
                Expect::Timeout,
                &[0x21],
            )
            .timeout(STALL_TIMEOUT),
        ),
    ];
    for (net, c) in cases {
        println!("{}", run_case(net, &fx, c));
    }
    selective_abort(tls, &fx);
    println!("mTLS suite in {:.2?}", started.elapsed());
}

/// Nonce hygiene (docs/SECURITY.md A10, F19): after an abort at message 3, a retry of the same
/// digest gets a fresh nonce point R2 and a fresh session nonce from the honest P2.
#[test]
fn a_retry_after_an_abort_gets_fresh_nonces() {
    let fx = fixture();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (end, run) = pair(
            Net::Pipe,
            [ATTACKER, HONEST],
            |t, ctx| {
                let peer = MaliciousPeer::new(t).attack(3, Action::Truncate(10));
                attacker(Proto::Sign, Party::P1, peer, &ctx, fx)
            },
            |t, ctx| {
                let dir = TempDir::new("malicious-retry");
                fx.install(dir.path());
                honest(Proto::Sign, Party::P2, dir.path(), t, &ctx)
            },
        );
        assert!(matches!(
            run.result,
            Err(NetError::Protocol(ProtocolError {
                error: CoreError::Malformed,
                ..
            }))
        ));
        assert!(matches!(end.0, End::PeerAborted(CoreError::Malformed)));
        let m2 = sign::Msg2::decode(&end.1.received[0]).unwrap();
        seen.push((m2.nonce2, m2.r2));
    }
    assert_ne!(seen[0].0, seen[1].0, "a fresh session nonce");
    assert_ne!(seen[0].1, seen[1].1, "a fresh R2");
}

/// Reflection (docs/SECURITY.md F12, F21): a context that names us as our own peer is refused
/// before any protocol message; only the abort is written.
#[test]
fn a_session_with_ourselves_is_refused() {
    let (a, _b) = memory_pipe();
    let mut rec = Recorder {
        inner: Conn::Pipe(Framed::new(a, MAX_MSG_LEN)),
        sent: Vec::new(),
        last: Instant::now(),
    };
    let me = Ctx {
        own: [1; 32],
        peer: [1; 32],
        binding: b"mirror".to_vec(),
    };
    let mut rng = ecdsa2pc_net::rng::os_rng().unwrap();
    let err = driver::keygen_p1(
        &mut rec,
        &mut rng,
        &me.get(),
        crate::fixtures::paillier(0),
        crate::fixtures::params(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            NetError::Protocol(ProtocolError {
                error: CoreError::SessionMismatch,
                step: "keygen, message 1"
            })
        ),
        "{err}"
    );
    assert_eq!(
        rec.sent,
        [abort_message(CoreError::SessionMismatch).to_vec()]
    );
}
