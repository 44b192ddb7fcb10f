//! Runs the firmware images in QEMU and plays the other party on the host.
//!
//! Scenario 1: party 1 in firmware (`party1` image) — verification of party 0's ring-Pedersen
//! parameters, keygen, sign (party 1 proves π_c3), refresh, sign again — against party 0
//! here. Scenario 2: party 0 in firmware (`party0` image): signing (verifying π_c3) with a
//! share and party 0's parameter secret provisioned from here, then keygen and refresh on the
//! device (its own Paillier keys) under that secret, each followed by a signature, against
//! party 1 here. Before the honest runs each scenario feeds the firmware inputs it
//! must refuse and checks the error it names. Every
//! signature is verified with k256 against the joint public key; each run's RAM (static +
//! painted-stack peak, as the firmware reports it) is checked against the role's cap; the
//! figures go to a Markdown report. Exits non-zero on any failure.
//!
//! Usage: `ecdsa2pc-firmware-host --qemu <qemu-system-arm> --party1 <elf> --party0 <elf>
//! --report <file.md>`

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crypto_bigint::U1024;
use ecdsa2pc_core::{
    Context, Error, KeyShare, KeyShareP1, KeyShareP2, MAX_MSG_LEN, Message,
    PaillierSecretKey as SecretKey, ParamsMsg, Proof, RingPedersenParams, RingPedersenSecret,
    keygen, peer_abort, refresh, sign,
};
use ecdsa2pc_firmware_proto::{
    CHANNEL_BINDING, DIGEST_LEN, PID_PARTY0, PID_PARTY1, Report as DeviceReport, SEED_LEN,
    SIGNATURE_LEN, TICKS_HZ, cmd, keygen_stored,
};
use k256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

#[path = "../../../core/fixtures/safe_primes.rs"]
mod safe_primes;

/// RAM cap for party 1 (parameters, keygen, refresh): static RAM plus peak stack.
const CAP_PARTY1: u32 = 128 * 1024;
/// RAM cap for party 1's signing, under [`CAP_PARTY1`]: signing is what a device does
/// often, and this cap catches a change that lays the core's signing states side by side
/// again (BIP32 paths once took it from 95.5 to 104.7 KiB unnoticed under the 128 KiB cap).
const CAP_PARTY1_SIGN: u32 = 96 * 1024;
/// RAM cap for party 0's keygen and refresh (each with its Paillier key's prime search): a
/// 128 KiB part, party 1's class. The core's P1 steps keep their 31 KB states and 21 KB
/// messages in the firmware's slots and write into them in place (`start_into`,
/// `on_msg2_from`, firmware/README.md); returned by value, they took 205 and 226 KiB.
const CAP_PARTY0: u32 = 128 * 1024;
/// RAM cap for party 0's signing, under [`CAP_PARTY0`].
const CAP_PARTY0_SIGN: u32 = 64 * 1024;
const ROLE_PARTY1: &str = "party 1 (P2)";
/// Under `-icount shift=0` one guest instruction is 1 ns of virtual time.
const INSTRUCTIONS_PER_TICK: u64 = 1_000_000_000 / TICKS_HZ as u64;
/// The clock the README's time estimates assume.
const REFERENCE_HZ: f64 = 100e6;
/// How long one firmware reply may take in the emulator before the run is declared hung.
const REPLY_TIMEOUT: Duration = Duration::from_secs(900);

type Fallible<T> = Result<T, String>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("firmware run FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Args {
    qemu: String,
    party1: String,
    party0: String,
    report: String,
}

fn parse_args() -> Fallible<Args> {
    let mut it = std::env::args().skip(1);
    let (mut qemu, mut party1, mut party0, mut report) = (None, None, None, None);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--qemu" => qemu = Some(value.clone()),
            "--party1" => party1 = Some(value.clone()),
            "--party0" => party0 = Some(value.clone()),
            "--report" => report = Some(value.clone()),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let need = |v: Option<String>, f: &str| v.ok_or(format!("missing {f}"));
    Ok(Args {
        qemu: need(qemu, "--qemu")?,
        party1: need(party1, "--party1")?,
        party0: need(party0, "--party0")?,
        report: need(report, "--report")?,
    })
}

/// RAM a run needs: static RAM and the stack peak.
fn ram(r: &DeviceReport) -> u32 {
    r.static_ram + r.stack_peak
}

/// One measured row of the report.
struct Row {
    role: &'static str,
    protocol: &'static str,
    report: DeviceReport,
    step_names: &'static [&'static str],
    /// The RAM cap CI enforces for this run, if any.
    cap: Option<u32>,
}

/// QEMU with the image, its UART connected to us over a local TCP socket.
struct Emulator {
    child: Child,
    stream: TcpStream,
    started: Instant,
}

impl Emulator {
    fn start(qemu: &str, elf: &str) -> Fallible<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let child = Command::new(qemu)
            .args(["-machine", "mps2-an386", "-cpu", "cortex-m4"])
            .args(["-display", "none", "-monitor", "none"])
            .args(["-icount", "shift=0"])
            .args(["-semihosting-config", "enable=on,target=native"])
            .args(["-serial", &format!("tcp:127.0.0.1:{port}")])
            .args(["-kernel", elf])
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {qemu}: {e} (Debian/Ubuntu: apt-get install qemu-system-arm)")
            })?;
        let (stream, _) = listener
            .accept()
            .map_err(|e| format!("QEMU did not connect its UART: {e}"))?;
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self {
            child,
            stream,
            started: Instant::now(),
        })
    }

    fn send(&mut self, payload: &[u8]) -> Fallible<()> {
        let len = u32::try_from(payload.len()).map_err(|e| e.to_string())?;
        self.stream
            .write_all(&len.to_be_bytes())
            .and_then(|()| self.stream.write_all(payload))
            .map_err(|e| format!("send to firmware: {e}"))
    }

    /// A frame header announcing `len` bytes, and no body.
    fn send_header_only(&mut self, len: u32) -> Fallible<()> {
        self.stream
            .write_all(&len.to_be_bytes())
            .map_err(|e| format!("send to firmware: {e}"))
    }

    fn recv(&mut self) -> Fallible<Vec<u8>> {
        let mut header = [0u8; 4];
        self.stream
            .read_exact(&mut header)
            .map_err(|e| format!("receive from firmware: {e}"))?;
        let len = u32::from_be_bytes(header) as usize;
        if len > MAX_MSG_LEN {
            return Err(format!("firmware sent a {len}-byte frame"));
        }
        let mut body = vec![0u8; len];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| format!("receive from firmware: {e}"))?;
        Ok(body)
    }

    /// Receives a protocol message; the firmware's abort (or its report) is an error.
    fn recv_message<M: Message>(&mut self) -> Fallible<M> {
        let frame = self.recv()?;
        if let Some(e) = peer_abort(&frame) {
            return Err(format!("firmware aborted: {e:?}"));
        }
        M::decode(&frame).map_err(|e| format!("bad message from firmware: {e:?}"))
    }

    fn send_message<M: Message>(&mut self, msg: &M) -> Fallible<()> {
        let mut buf = vec![0u8; M::LEN];
        let n = msg.encode(&mut buf).map_err(|e| format!("{e:?}"))?;
        self.send(&buf[..n])
    }

    /// The report of a run that must have succeeded.
    fn report(&mut self) -> Fallible<DeviceReport> {
        let report = self.any_report()?;
        report
            .outcome
            .map_err(|e| format!("firmware run failed: {e:?}"))?;
        Ok(report)
    }

    fn any_report(&mut self) -> Fallible<DeviceReport> {
        let frame = self.recv()?;
        DeviceReport::decode(&frame).ok_or_else(|| format!("malformed report frame {frame:02x?}"))
    }

    /// The end of a run the firmware must refuse with `expected`: for a protocol run its abort
    /// message names the error first; the report must name it too. Returns the report.
    fn expect_refusal(
        &mut self,
        what: &str,
        command: u8,
        expected: Error,
    ) -> Fallible<DeviceReport> {
        if cmd::runs_protocol(command) {
            let frame = self.recv()?;
            if peer_abort(&frame) != Some(expected) {
                return Err(format!(
                    "{what}: expected the firmware to abort with {expected:?}, got the frame \
                     {frame:02x?}"
                ));
            }
        }
        let report = self.any_report()?;
        if report.outcome != Err(expected) {
            return Err(format!(
                "{what}: expected the firmware to refuse with {expected:?}, it reported {:?}",
                report.outcome
            ));
        }
        eprintln!("  refused as expected ({what}): {expected:?}");
        Ok(report)
    }

    fn quit(mut self) -> Fallible<Duration> {
        self.send(&[cmd::QUIT])?;
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("QEMU exited with {status}"));
        }
        Ok(self.started.elapsed())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // A run that failed leaves QEMU waiting on the UART: end it (a no-op after quit).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ctx(own: [u8; 32], peer: [u8; 32]) -> Context<'static> {
    Context {
        own_pid: own,
        peer_pid: peer,
        channel_binding: CHANNEL_BINDING,
    }
}

fn core_err(what: &str) -> impl Fn(ecdsa2pc_core::Error) -> String + '_ {
    move |e| format!("{what} on the host: {e:?}")
}

/// Party 0's ring-Pedersen secret over the core's fixture safe-prime pair `i`: a real party 0
/// makes its own once (`RingPedersenSecret::generate`, seconds of safe-prime search) and
/// keeps it; the example takes fixed primes so that no run pays that search. Only the primes
/// are fixed: τ and λ are drawn from `rng`.
fn ring_pedersen(rng: &mut ChaCha20Rng, i: usize) -> Fallible<RingPedersenSecret> {
    let (p, q) = safe_primes::SAFE_PRIME_PAIRS[i];
    RingPedersenSecret::from_safe_primes(rng, &U1024::from_be_hex(p), &U1024::from_be_hex(q))
        .map_err(core_err("ring-Pedersen parameters"))
}

/// `msg`'s encoding with the lowest bit of its last byte flipped: for sign message 4, the
/// last field of π_c3 (v), so the message still decodes and the proof fails.
fn with_last_bit_flipped<M: Message>(msg: &M) -> Fallible<Vec<u8>> {
    let mut bytes = vec![0u8; M::LEN];
    let n = msg.encode(&mut bytes).map_err(core_err("encoding"))?;
    bytes.truncate(n);
    *bytes.last_mut().ok_or("an empty message")? ^= 1;
    Ok(bytes)
}

/// `msg`'s encoding with g replaced by h: parameters that fail the public checks.
fn params_with_g_equal_h(msg: &ParamsMsg) -> Fallible<Vec<u8>> {
    let mut bytes = vec![0u8; ParamsMsg::LEN];
    let n = msg.encode(&mut bytes).map_err(core_err("encoding"))?;
    bytes.truncate(n);
    // The message carries the parameters' own encoding, N̂ ‖ g ‖ h, in one piece.
    let params = msg.params().encode();
    let at = bytes
        .windows(params.len())
        .position(|w| w == params)
        .ok_or("the parameter message does not carry N̂ ‖ g ‖ h in one piece")?;
    let field = params.len() / 3;
    bytes.copy_within(at + 2 * field..at + 3 * field, at + field);
    Ok(bytes)
}

/// Checks a signature with k256 against the joint key, and that both parties output it.
fn verify(
    q: &k256::AffinePoint,
    digest: &[u8; 32],
    host: &Signature,
    device: Option<[u8; SIGNATURE_LEN]>,
) -> Fallible<()> {
    let device = device.ok_or("firmware reported no signature")?;
    if host.to_bytes().as_slice() != device.as_slice() {
        return Err("the firmware's signature differs from the host's".into());
    }
    let key = VerifyingKey::from_affine(*q).map_err(|e| format!("joint key: {e}"))?;
    key.verify_prehash(digest, host)
        .map_err(|e| format!("k256 rejects the signature: {e}"))
}

fn scenario_party1(args: &Args, rng: &mut ChaCha20Rng, rows: &mut Vec<Row>) -> Fallible<Duration> {
    let ctx0 = ctx(PID_PARTY0, PID_PARTY1);
    let mut emu = Emulator::start(&args.qemu, &args.party1)?;
    let mut seed = [cmd::SEED; 1 + SEED_LEN];
    rng.fill_bytes(&mut seed[1..]);
    emu.send(&seed)?;

    eprintln!("party 1 in firmware: refusals");
    // Keygen before any verified parameters: refused before a message is read.
    emu.send(&[cmd::KEYGEN])?;
    emu.expect_refusal(
        "keygen without parameters",
        cmd::KEYGEN,
        Error::ParamsMismatch,
    )?;
    let secret = ring_pedersen(rng, 0)?;
    let params_msg = secret.params_msg(rng, &PID_PARTY0);
    // Parameters that fail the public checks (g = h): refused before Π^prm is looked at.
    emu.send(&[cmd::PARAMS])?;
    emu.send(&params_with_g_equal_h(&params_msg)?)?;
    emu.expect_refusal(
        "parameters with g = h",
        cmd::PARAMS,
        Error::PedersenParameters,
    )?;

    // A frame header announcing 4 GiB: refused at once, not drained (which would hold the
    // device for hours), and the link stays in step for the next command.
    emu.send(&[cmd::PARAMS])?;
    emu.send_header_only(u32::MAX)?;
    emu.expect_refusal(
        "a frame longer than any message",
        cmd::PARAMS,
        Error::Malformed,
    )?;

    eprintln!("party 1 in firmware: verification of party 0's ring-Pedersen parameters");
    emu.send(&[cmd::PARAMS])?;
    emu.send_message(&params_msg)?;
    rows.push(row1(
        "ring-Pedersen parameters",
        CAP_PARTY1,
        emu.report()?,
        &["parameter message → verified (Π^prm)"],
    ));

    eprintln!("party 1 in firmware: keygen");
    let key = SecretKey::generate(rng);
    emu.send(&[cmd::KEYGEN])?;
    let (p1, m1) =
        keygen::p1::start(rng, &ctx0, key, secret.params()).map_err(core_err("keygen"))?;
    emu.send_message(&m1)?;
    let m2 = emu.recv_message::<keygen::Msg2>()?;
    let (mut share, m3) = p1.on_msg2(rng, &m2).map_err(core_err("keygen"))?;
    emu.send_message(&m3)?;
    rows.push(row1(
        "keygen",
        CAP_PARTY1,
        emu.report()?,
        &["msg 1 → msg 2", "msg 3 → share"],
    ));
    let q = share.public().q;

    for (protocol, run) in [("sign", 0), ("refresh", 1), ("sign after refresh", 2)] {
        eprintln!("party 1 in firmware: {protocol}");
        if run == 1 {
            let new_key = SecretKey::generate(rng);
            emu.send(&[cmd::REFRESH])?;
            let (st, m1) =
                refresh::p1::start(rng, &share, &ctx0, new_key).map_err(core_err("refresh"))?;
            emu.send_message(&m1)?;
            let m2 = emu.recv_message::<refresh::Msg2>()?;
            let (st, m3) = st.on_msg2(rng, &m2).map_err(core_err("refresh"))?;
            emu.send_message(&m3)?;
            let m4 = emu.recv_message::<refresh::Msg4>()?;
            let next = st.on_msg4(&m4).map_err(core_err("refresh"))?;
            if next.public().q != q {
                return Err("refresh changed the joint key".into());
            }
            // Party 0 made the new share active: party 1 may now drop its old one.
            emu.send_message(&refresh::Msg5)?;
            share = next;
            rows.push(row1(
                "refresh",
                CAP_PARTY1,
                emu.report()?,
                &["msg 1 → msg 2", "msg 3 → msg 4"],
            ));
            continue;
        }
        let mut digest = [0u8; DIGEST_LEN];
        rng.fill_bytes(&mut digest);
        let mut command = vec![cmd::SIGN];
        command.extend_from_slice(&digest);
        emu.send(&command)?;
        let (st, m1) =
            sign::p1::start(rng, &mut share, &secret, &ctx0, &digest).map_err(core_err("sign"))?;
        emu.send_message(&m1)?;
        let m2 = emu.recv_message::<sign::Msg2>()?;
        let (st, m3) = st.on_msg2(rng, &m2).map_err(core_err("sign"))?;
        emu.send_message(&m3)?;
        let m4 = emu.recv_message::<sign::Msg4>()?;
        let (sig, m5) = st.on_msg4(&m4).map_err(core_err("sign"))?;
        emu.send_message(&m5)?;
        let report = emu.report()?;
        verify(&q, &digest, &sig, report.signature)?;
        let name = if run == 0 {
            "sign"
        } else {
            "sign (after refresh)"
        };
        rows.push(row1(
            name,
            CAP_PARTY1_SIGN,
            report,
            &[
                "presign (k2, R2, π_c3's message-independent part)",
                "msg 1 → msg 2",
                "msg 3 → msg 4 (c, the rest of π_c3)",
                "msg 5 → signature",
            ],
        ));
    }
    emu.quit()
}

fn row1(
    protocol: &'static str,
    cap: u32,
    report: DeviceReport,
    steps: &'static [&'static str],
) -> Row {
    Row {
        role: ROLE_PARTY1,
        protocol,
        report,
        step_names: steps,
        cap: Some(cap),
    }
}

fn scenario_party0(args: &Args, rng: &mut ChaCha20Rng, rows: &mut Vec<Row>) -> Fallible<Duration> {
    eprintln!("party 0 in firmware: keygen on the host, then provisioning");
    let ctx0 = ctx(PID_PARTY0, PID_PARTY1);
    let ctx1 = ctx(PID_PARTY1, PID_PARTY0);
    let key = SecretKey::generate(rng);
    let secret = ring_pedersen(rng, 0)?;
    // Party 1 on the host verifies the parameters as the firmware does in scenario 1.
    let params = secret
        .params_msg(rng, &PID_PARTY0)
        .verify(&PID_PARTY0)
        .map_err(core_err("parameter verification"))?;
    let (p1, m1) =
        keygen::p1::start(rng, &ctx0, key, secret.params()).map_err(core_err("keygen"))?;
    let (p2, m2) = keygen::p2::start(rng, &ctx1, &m1, &params).map_err(core_err("keygen"))?;
    let (share0, m3) = p1.on_msg2(rng, &m2).map_err(core_err("keygen"))?;
    let share1 = p2.on_msg3(rng, &m3).map_err(core_err("keygen"))?;
    let q = share1.public().q;

    let mut emu = Emulator::start(&args.qemu, &args.party0)?;
    let mut seed = [cmd::SEED; 1 + SEED_LEN];
    rng.fill_bytes(&mut seed[1..]);
    emu.send(&seed)?;
    let mut share_bytes = vec![0u8; KeyShareP1::ENCODED_LEN];
    let n = share0
        .encode(&mut share_bytes)
        .map_err(core_err("share encoding"))?;
    share_bytes.truncate(n);
    drop(share0);
    let mut secret_bytes = vec![0u8; RingPedersenSecret::ENCODED_LEN];
    let n = secret
        .encode(&mut secret_bytes)
        .map_err(core_err("parameter secret encoding"))?;
    secret_bytes.truncate(n);

    eprintln!("party 0 in firmware: refusals");
    emu.send(&[cmd::SIGN])?;
    emu.expect_refusal(
        "a sign command without its digest",
        cmd::SIGN,
        Error::Malformed,
    )?;
    let mut command = vec![cmd::SIGN];
    command.extend_from_slice(&[0x5a; DIGEST_LEN]);
    emu.send(&command)?;
    emu.expect_refusal("signing without a share", cmd::SIGN, Error::InvalidShare)?;
    emu.send(&[cmd::REFRESH])?;
    emu.expect_refusal("refresh without a share", cmd::REFRESH, Error::InvalidShare)?;
    emu.send(&[cmd::KEYGEN])?;
    emu.expect_refusal(
        "keygen without a parameter secret",
        cmd::KEYGEN,
        Error::ParamsMismatch,
    )?;
    // The share with a parameter secret it did not pin (another fixture pair).
    let mut other_bytes = vec![0u8; RingPedersenSecret::ENCODED_LEN];
    let n = ring_pedersen(rng, 1)?
        .encode(&mut other_bytes)
        .map_err(core_err("parameter secret encoding"))?;
    other_bytes.truncate(n);
    emu.send(&[cmd::PROVISION])?;
    emu.send(&share_bytes)?;
    emu.send(&other_bytes)?;
    emu.expect_refusal(
        "a share with another party's parameter secret",
        cmd::PROVISION,
        Error::ParamsMismatch,
    )?;

    emu.send(&[cmd::PROVISION])?;
    emu.send(&share_bytes)?;
    emu.send(&secret_bytes)?;
    rows.push(row0(
        "provision share and parameter secret",
        emu.report()?,
        &[
            "decode + check share",
            "decode + check ring-Pedersen secret",
        ],
        None,
    ));

    // Run 0: party 1 (here) sends a message 4 whose π_c3 fails; the firmware must refuse it
    // before decrypting, and leave the share unlocked: runs 1 and 2 sign with it.
    for run in 0..3 {
        rows.push(sign_party0(&mut emu, rng, &share1, &q, run == 0)?);
    }

    // Keygen and refresh on the device, under the parameter secret it pinned: its own
    // Paillier keys (prime searches), then a signature with each share it made. First a
    // keygen whose acknowledgement names another share: the device must refuse it and keep
    // the share it had (the signature after it uses that share).
    eprintln!("party 0 in firmware: keygen, acknowledgement of another share");
    let (unacknowledged, _) = keygen_party0(&mut emu, rng, &params, true)?;
    let report = emu.expect_refusal(
        "a keygen acknowledgement of another share",
        cmd::KEYGEN,
        Error::SessionMismatch,
    )?;
    rows.push(row0(
        "keygen, acknowledgement refused",
        report,
        KEYGEN_STEPS_P0,
        Some(CAP_PARTY0),
    ));
    drop(unacknowledged);
    rows.push(sign_party0(&mut emu, rng, &share1, &q, false)?);

    eprintln!("party 0 in firmware: keygen");
    let (mut share1, report) = keygen_party0(&mut emu, rng, &params, false)?;
    rows.push(row0(
        "keygen",
        report.ok_or("the firmware reported nothing after keygen")?,
        KEYGEN_STEPS_P0,
        Some(CAP_PARTY0),
    ));
    let q = share1.public().q;
    rows.push(sign_party0(&mut emu, rng, &share1, &q, false)?);

    eprintln!("party 0 in firmware: refresh");
    emu.send(&[cmd::REFRESH])?;
    let m1 = emu.recv_message::<refresh::Msg1>()?;
    let (st, m2) = refresh::p2::start(rng, &share1, &ctx1, &m1).map_err(core_err("refresh"))?;
    emu.send_message(&m2)?;
    let m3 = emu.recv_message::<refresh::Msg3>()?;
    let (next, m4) = st.on_msg3(rng, &m3).map_err(core_err("refresh"))?;
    emu.send_message(&m4)?;
    // Message 5: party 0 made its new share active, so party 1 may drop its old one.
    emu.recv_message::<refresh::Msg5>()?;
    if next.public().q != q {
        return Err("refresh changed the joint key".into());
    }
    share1 = next;
    rows.push(row0(
        "refresh",
        emu.report()?,
        &[
            "Paillier key (prime search)",
            "→ msg 1",
            "msg 2 → msg 3",
            "msg 4 → msg 5 (new share active)",
        ],
        Some(CAP_PARTY0),
    ));
    rows.push(sign_party0(&mut emu, rng, &share1, &q, false)?);
    emu.quit()
}

/// The timed steps of party 0's keygen.
const KEYGEN_STEPS_P0: &[&str] = &["Paillier key (prime search)", "→ msg 1", "msg 2 → msg 3"];

/// Party 0's keygen in firmware with party 1 here: party 1's share, and the device's report
/// (none if `wrong_ack`: then the acknowledgement names another share, and the caller reads
/// the refusal).
fn keygen_party0(
    emu: &mut Emulator,
    rng: &mut ChaCha20Rng,
    params: &RingPedersenParams,
    wrong_ack: bool,
) -> Fallible<(KeyShareP2, Option<DeviceReport>)> {
    let ctx1 = ctx(PID_PARTY1, PID_PARTY0);
    emu.send(&[cmd::KEYGEN])?;
    let m1 = emu.recv_message::<keygen::Msg1>()?;
    let (p2, m2) = keygen::p2::start(rng, &ctx1, &m1, params).map_err(core_err("keygen"))?;
    emu.send_message(&m2)?;
    let m3 = emu.recv_message::<keygen::Msg3>()?;
    let share = p2.on_msg3(rng, &m3).map_err(core_err("keygen"))?;
    let mut fingerprint = share.fingerprint();
    if wrong_ack {
        fingerprint[0] ^= 1;
    }
    // Party 1 stored its share (here: holds it): party 0 may make its own active.
    emu.send(&keygen_stored(&fingerprint))?;
    let report = if wrong_ack { None } else { Some(emu.report()?) };
    Ok((share, report))
}

/// One signature of party 0 in firmware with party 1 here; with `tamper`, message 4's π_c3
/// is broken (its last bit flipped) and the firmware must refuse it before decrypting.
fn sign_party0(
    emu: &mut Emulator,
    rng: &mut ChaCha20Rng,
    share1: &KeyShareP2,
    q: &k256::AffinePoint,
    tamper: bool,
) -> Fallible<Row> {
    let ctx1 = ctx(PID_PARTY1, PID_PARTY0);
    eprintln!(
        "party 0 in firmware: sign{}",
        if tamper {
            ", message 4's π_c3 broken"
        } else {
            ""
        }
    );
    let mut digest = [0u8; DIGEST_LEN];
    rng.fill_bytes(&mut digest);
    let mut command = vec![cmd::SIGN];
    command.extend_from_slice(&digest);
    emu.send(&command)?;
    let m1 = emu.recv_message::<sign::Msg1>()?;
    let (st, m2) = sign::p2::start(rng, share1, &ctx1, &digest, &m1).map_err(core_err("sign"))?;
    emu.send_message(&m2)?;
    let m3 = emu.recv_message::<sign::Msg3>()?;
    let (st, m4) = st.on_msg3(rng, &m3).map_err(core_err("sign"))?;
    if tamper {
        emu.send(&with_last_bit_flipped(&m4)?)?;
        let report = emu.expect_refusal(
            "a message 4 whose π_c3 fails (v changed)",
            cmd::SIGN,
            Error::ProofInvalid(Proof::SignCiphertext),
        )?;
        return Ok(row0(
            "sign, π_c3 refused",
            report,
            SIGN_STEPS_P0,
            Some(CAP_PARTY0_SIGN),
        ));
    }
    emu.send_message(&m4)?;
    let m5 = emu.recv_message::<sign::Msg5>()?;
    let sig = st.on_msg5(&m5).map_err(core_err("sign"))?;
    let report = emu.report()?;
    verify(q, &digest, &sig, report.signature)?;
    Ok(row0("sign", report, SIGN_STEPS_P0, Some(CAP_PARTY0_SIGN)))
}

/// The timed steps of party 0's signing (a refused π_c3 ends after the third).
const SIGN_STEPS_P0: &[&str] = &[
    "→ msg 1",
    "msg 2 → msg 3",
    "msg 4 → π_c3 verified (nothing decrypted yet)",
    "decrypt, check the signature → msg 5",
];

/// A party 0 row under `cap`; none for provisioning, which the caps do not cover (it runs
/// once, before deployment, and rebuilds the CRT key from the primes).
fn row0(
    protocol: &'static str,
    report: DeviceReport,
    steps: &'static [&'static str],
    cap: Option<u32>,
) -> Row {
    Row {
        role: "party 0 (P1)",
        protocol,
        report,
        step_names: steps,
        cap,
    }
}

/// An image's footprint from its ELF section headers: (flash, static RAM). Flash holds every
/// allocated section with contents (vector table, code, read-only data, `.data`'s initial
/// values); static RAM is every writable allocated section (`.data`, `.bss`, `.uninit`).
fn elf_footprint(path: &str) -> Fallible<(u64, u64)> {
    const SHF_WRITE: u32 = 0x1;
    const SHF_ALLOC: u32 = 0x2;
    const SHT_NOBITS: u32 = 8;
    let elf = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let bad = || format!("{path}: not a 32-bit little-endian ELF file");
    if elf.get(..6) != Some(b"\x7fELF\x01\x01".as_slice()) {
        return Err(bad());
    }
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let shoff = u32_at(0x20).ok_or_else(bad)? as usize;
    let shentsize = usize::from(u16_at(0x2e).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(0x30).ok_or_else(bad)?);
    let (mut flash, mut ram) = (0u64, 0u64);
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (kind, flags, size) = (
            u32_at(h + 4).ok_or_else(bad)?,
            u32_at(h + 8).ok_or_else(bad)?,
            u64::from(u32_at(h + 20).ok_or_else(bad)?),
        );
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        if kind != SHT_NOBITS {
            flash += size;
        }
        if flags & SHF_WRITE != 0 {
            ram += size;
        }
    }
    Ok((flash, ram))
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn write_report(rows: &[Row], flash: (u64, u64), wall: &[(&str, Duration)]) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Firmware run (QEMU mps2-an386, Cortex-M4, thumbv7em-none-eabihf)\n\n\
         Written by `firmware/run-qemu.sh`. RAM = static RAM (`.data` + `.bss` + `.uninit`, from the \
         linker's symbols) + peak stack (painted before each run, scanned after it). Caps: \
         party 1 {} per run and {} to sign, party 0 {} per keygen or refresh and {} to sign; \
         no optional tables.\n",
        kib(CAP_PARTY1.into()),
        kib(CAP_PARTY1_SIGN.into()),
        kib(CAP_PARTY0.into()),
        kib(CAP_PARTY0_SIGN.into())
    );
    let _ = writeln!(md, "## RAM per role\n");
    let _ = writeln!(
        md,
        "| role | protocol | static RAM | peak stack | total | cap |\n|---|---|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} B | {} B | **{}** | {} |",
            r.role,
            r.protocol,
            r.report.static_ram,
            r.report.stack_peak,
            kib(ram(&r.report).into()),
            r.cap
                .map_or("none (one-time)".to_string(), |c| kib(c.into()))
        );
    }
    let _ = writeln!(
        md,
        "\nFlash (vector table, code, read-only data, `.data` image; from the ELF section \
         headers): party 1 image {}, party 0 image {}.\n",
        kib(flash.0),
        kib(flash.1)
    );
    let _ = writeln!(
        md,
        "## Instructions per step (emulator figures)\n\n\
         QEMU `-icount shift=0` (one virtual ns per guest instruction), read through the \
         board's 25 MHz timer: resolution {INSTRUCTIONS_PER_TICK} instructions. A step is \
         the device's work between receiving a message and having its reply encoded. The \
         time column assumes one instruction per cycle at 100 MHz; a real Cortex-M4 needs \
         more cycles for loads, stores and taken branches, so read it as a lower bound.\n"
    );
    let _ = writeln!(
        md,
        "| role | protocol | step | instructions | at 100 MHz |\n|---|---|---|---|---|"
    );
    for r in rows {
        for (name, ticks) in r.step_names.iter().zip(r.report.steps()) {
            let insns = u64::from(*ticks) * INSTRUCTIONS_PER_TICK;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.1} M | {:.2} s |",
                r.role,
                r.protocol,
                name,
                insns as f64 / 1e6,
                insns as f64 / REFERENCE_HZ
            );
        }
    }
    let _ = writeln!(md, "\nWall-clock time of the emulation on the CI machine:");
    for (what, d) in wall {
        let _ = writeln!(md, "- {what}: {:.1} s", d.as_secs_f64());
    }
    md
}

/// Fails, naming every offender, if a capped run needed more RAM than its cap.
fn check_caps(rows: &[Row]) -> Fallible<()> {
    let over: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let cap = r.cap?;
            (ram(&r.report) > cap).then(|| {
                format!(
                    "{} {} needs {} B of RAM, cap {cap} B",
                    r.role,
                    r.protocol,
                    ram(&r.report)
                )
            })
        })
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!("memory cap exceeded: {}", over.join("; ")))
    }
}

fn run() -> Fallible<()> {
    let args = parse_args()?;
    let (flash1, ram1) = elf_footprint(&args.party1)?;
    let (flash0, ram0) = elf_footprint(&args.party0)?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("OS random generator: {e}"))?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut rows = Vec::new();
    let t1 = scenario_party1(&args, &mut rng, &mut rows)?;
    let t0 = scenario_party0(&args, &mut rng, &mut rows)?;
    for r in &rows {
        let elf_ram = if r.role == ROLE_PARTY1 { ram1 } else { ram0 };
        if u64::from(r.report.static_ram) != elf_ram {
            return Err(format!(
                "{}: the firmware reports {} B of static RAM, its ELF file {elf_ram} B",
                r.role, r.report.static_ram
            ));
        }
    }
    let md = write_report(
        &rows,
        (flash1, flash0),
        &[
            (
                "party 1 image (refusals, parameters, keygen, sign, refresh, sign)",
                t1,
            ),
            (
                "party 0 image (refusals, provision, refused π_c3, 2 × sign, refused keygen acknowledgement, sign, keygen, sign, refresh, sign)",
                t0,
            ),
        ],
    );
    std::fs::write(&args.report, &md).map_err(|e| format!("{}: {e}", args.report))?;
    print!("{md}");
    check_caps(&rows)?;
    eprintln!("all firmware signatures verified; RAM within the caps");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecdsa2pc_firmware_proto::MAX_STEPS;

    fn row(stack_peak: u32, cap: Option<u32>) -> Row {
        Row {
            role: ROLE_PARTY1,
            protocol: "keygen",
            report: DeviceReport {
                outcome: Ok(()),
                static_ram: 12,
                stack_peak,
                steps: [0; MAX_STEPS],
                step_count: 0,
                signature: None,
            },
            step_names: &[],
            cap,
        }
    }

    #[test]
    fn a_run_over_its_cap_fails_and_is_named() {
        assert_eq!(
            check_caps(&[row(CAP_PARTY1 - 12, Some(CAP_PARTY1))]),
            Ok(())
        );
        let err = check_caps(&[
            row(CAP_PARTY1 - 12, Some(CAP_PARTY1)),
            row(CAP_PARTY1 - 11, Some(CAP_PARTY1)),
        ])
        .unwrap_err();
        assert!(err.contains("needs 131073 B of RAM, cap 131072 B"), "{err}");
        // An uncapped run (provisioning) is reported, not checked.
        assert_eq!(check_caps(&[row(u32::MAX / 2, None)]), Ok(()));
    }

    #[test]
    fn the_tampered_parameter_message_fails_the_public_checks() {
        // What the firmware must refuse in scenario 1: the same message with g = h decodes
        // (the decoder checks only the layout) and fails the public checks, before Π^prm.
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let secret = ring_pedersen(&mut rng, 0).unwrap();
        let msg = secret.params_msg(&mut rng, &PID_PARTY0);
        let bytes = params_with_g_equal_h(&msg).unwrap();
        let tampered = ParamsMsg::decode(&bytes).unwrap();
        assert_ne!(tampered.params(), msg.params());
        assert_eq!(tampered.verify(&PID_PARTY0), Err(Error::PedersenParameters));
    }

    #[test]
    fn a_file_that_is_no_32_bit_elf_is_refused() {
        let path = std::env::temp_dir().join("ecdsa2pc-firmware-host-not-elf");
        std::fs::write(&path, b"\x7fELF\x02\x01 a 64-bit header").unwrap();
        let err = elf_footprint(path.to_str().unwrap()).unwrap_err();
        assert!(err.contains("not a 32-bit little-endian ELF file"), "{err}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn flash_counts_loaded_sections_and_ram_writable_ones() {
        // A minimal ELF32 header and three section headers: code (alloc, 100 B), .bss
        // (alloc + write, no bits, 12 B) and debug info (not allocated, 999 B).
        let mut elf = vec![0u8; 52];
        elf[..6].copy_from_slice(b"\x7fELF\x01\x01");
        elf[0x20..0x24].copy_from_slice(&52u32.to_le_bytes());
        elf[0x2e..0x30].copy_from_slice(&40u16.to_le_bytes());
        elf[0x30..0x32].copy_from_slice(&3u16.to_le_bytes());
        for (kind, flags, size) in [(1u32, 0x6u32, 100u32), (8, 0x3, 12), (1, 0, 999)] {
            let mut h = [0u8; 40];
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[8..12].copy_from_slice(&flags.to_le_bytes());
            h[20..24].copy_from_slice(&size.to_le_bytes());
            elf.extend_from_slice(&h);
        }
        let path = std::env::temp_dir().join("ecdsa2pc-firmware-host-elf32");
        std::fs::write(&path, &elf).unwrap();
        assert_eq!(elf_footprint(path.to_str().unwrap()), Ok((100, 12)));
        // Cut inside the section headers: refused, not a panic.
        std::fs::write(&path, &elf[..elf.len() - 30]).unwrap();
        assert!(elf_footprint(path.to_str().unwrap()).is_err());
        let _ = std::fs::remove_file(&path);
    }
}
