//! Frames over the UART, the host's commands and the firmware's reports.
//!
//! The wire format is the network's: each frame is a 4-byte big-endian payload length, then
//! the payload; protocol messages are the core's own encoding (`wire::Message`), and a failed
//! run sends the core's abort message. Around the protocol messages the host sends one
//! command frame per run and the firmware answers with one report frame.

use ecdsa2pc_core::{Error, Result, wire};

use crate::board::{StandInRng, Timer, Uart};

/// Size of the frame header (the big-endian `u32` payload length).
pub const FRAME_HEADER_LEN: usize = 4;
/// Length of a message digest to sign.
pub const DIGEST_LEN: usize = 32;
/// Length of the stand-in generator's seed.
pub const SEED_LEN: usize = 32;
/// Length of a signature (r ‖ s).
pub const SIGNATURE_LEN: usize = 64;
/// Most timed steps one run reports.
pub const MAX_STEPS: usize = 4;

/// Command bytes (the first payload byte of a command frame).
pub mod cmd {
    /// Seed the stand-in generator: followed by [`super::SEED_LEN`] bytes.
    pub const SEED: u8 = b'S';
    /// Key generation as party 1.
    pub const KEYGEN: u8 = b'K';
    /// Signing: followed by the [`super::DIGEST_LEN`]-byte digest.
    pub const SIGN: u8 = b'G';
    /// Key refresh as party 1.
    pub const REFRESH: u8 = b'F';
    /// Party 0's share, provisioned by the host: followed by the share's encoding.
    pub const PROVISION: u8 = b'P';
    /// End the emulation.
    pub const QUIT: u8 = b'Q';
}

/// First payload byte of a report frame.
pub const REPORT: u8 = b'R';

/// Largest report: tag, status, static RAM, stack peak, step count, steps, signature flag
/// and signature.
pub const REPORT_LEN: usize = 1 + 1 + 4 + 4 + 1 + 4 * MAX_STEPS + 1 + SIGNATURE_LEN;

/// The party ids both sides use: a real deployment takes them from its certificates.
pub const PID_PARTY0: [u8; 32] = [0x10; 32];
/// Party 1's id.
pub const PID_PARTY1: [u8; 32] = [0x21; 32];
/// The channel binding: constant here, because the UART is not a secure channel; a real
/// deployment binds every run to its secure channel (as the TLS exporter does on the network).
pub const CHANNEL_BINDING: &[u8] = b"ecdsa2pc firmware example over the emulated UART";

/// The UART seen as a frame transport, timing the device's work between frames.
///
/// Message buffers live in the frames of the `#[inline(never)]` receive and send functions,
/// not in the caller: a decoded message outlives its frame buffer, so the 33 KB buffer of
/// keygen's third message is gone before the proofs in it are verified.
pub struct Link {
    uart: Uart,
    timer: Timer,
    ticks: [u32; MAX_STEPS],
    len: usize,
    started: u32,
}

impl Link {
    /// The link over `uart`, timing with `timer`.
    #[must_use]
    pub fn new(uart: Uart, timer: Timer) -> Self {
        Self {
            uart,
            timer,
            ticks: [0; MAX_STEPS],
            len: 0,
            started: 0,
        }
    }

    /// Reads one frame into `buf` and returns its length.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a frame longer than `buf` (its body is read and dropped, so
    /// the stream stays in step).
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut header = [0u8; FRAME_HEADER_LEN];
        self.uart.read_exact(&mut header);
        let len = usize::try_from(u32::from_be_bytes(header)).unwrap_or(usize::MAX);
        match buf.get_mut(..len) {
            Some(body) => {
                self.uart.read_exact(body);
                Ok(len)
            }
            None => {
                let mut sink = [0u8; 1];
                for _ in 0..len {
                    self.uart.read_exact(&mut sink);
                }
                Err(Error::Malformed)
            }
        }
    }

    /// Sends one frame.
    pub fn send(&mut self, payload: &[u8]) {
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        self.uart.write_all(&len.to_be_bytes());
        self.uart.write_all(payload);
    }

    /// Receives message `M` (`N` = `M::LEN`) into `out`, in place; starts a timed step once
    /// its frame has arrived. An abort from the host becomes its error.
    ///
    /// # Errors
    /// The host's abort reason, or the decoding error.
    #[inline(never)]
    pub fn recv_into<M: wire::Message, const N: usize>(&mut self, out: &mut M) -> Result<()> {
        let mut buf = [0u8; N];
        let len = self.recv(&mut buf)?;
        self.step_start();
        let frame = buf.get(..len).ok_or(Error::Malformed)?;
        if let Some(e) = wire::peer_abort(frame) {
            return Err(e);
        }
        M::decode_into(frame, out)
    }

    /// Receives message `M` (`N` = `M::LEN`); starts a timed step once its frame has arrived.
    ///
    /// # Errors
    /// The host's abort reason, or the decoding error.
    #[inline(never)]
    pub fn recv_message<M: wire::Message, const N: usize>(&mut self) -> Result<M> {
        let mut buf = [0u8; N];
        let len = self.recv(&mut buf)?;
        self.step_start();
        let frame = buf.get(..len).ok_or(Error::Malformed)?;
        match wire::peer_abort(frame) {
            Some(e) => Err(e),
            None => M::decode(frame),
        }
    }

    /// Encodes `msg` (`N` = `M::LEN`), ends the timed step, and sends it.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `N` is too small for it.
    #[inline(never)]
    pub fn send_message<M: wire::Message, const N: usize>(&mut self, msg: &M) -> Result<()> {
        let mut buf = [0u8; N];
        let n = msg.encode(&mut buf)?;
        self.step_stop();
        self.send(buf.get(..n).ok_or(Error::BufferTooSmall)?);
        Ok(())
    }

    /// Forgets the previous run's steps.
    pub fn begin_run(&mut self) {
        self.len = 0;
    }

    /// A timed step starts.
    pub fn step_start(&mut self) {
        self.started = self.timer.now();
    }

    /// The step that started last ends.
    pub fn step_stop(&mut self) {
        let spent = self.timer.now().wrapping_sub(self.started);
        if let Some(slot) = self.ticks.get_mut(self.len) {
            *slot = spent;
            self.len += 1;
        }
    }

    /// Timer ticks of each step of this run.
    #[must_use]
    pub fn steps(&self) -> &[u32] {
        self.ticks.get(..self.len).unwrap_or_default()
    }
}

/// What one run measured and produced.
pub struct Report {
    /// The run's result.
    pub outcome: Result<()>,
    /// Static RAM of the image.
    pub static_ram: u32,
    /// Deepest stack use during the run.
    pub stack_peak: u32,
    /// The signature, for a signing run.
    pub signature: Option<[u8; SIGNATURE_LEN]>,
}

impl Report {
    /// Sends the report frame: tag, status (0, or 1 + the error's code), static RAM and
    /// stack peak (big-endian `u32`), step count and ticks, then an optional signature.
    pub fn send(&self, link: &mut Link) {
        let mut out = [0u8; REPORT_LEN];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = out.get_mut(n..n + bytes.len()) {
                dst.copy_from_slice(bytes);
                n += bytes.len();
            }
        };
        let status = match &self.outcome {
            Ok(()) => 0,
            Err(e) => e.code().saturating_add(1),
        };
        put(&[REPORT, status]);
        put(&self.static_ram.to_be_bytes());
        put(&self.stack_peak.to_be_bytes());
        let steps = link.steps();
        put(&[u8::try_from(steps.len()).unwrap_or(0)]);
        for t in steps {
            put(&t.to_be_bytes());
        }
        match &self.signature {
            Some(sig) => {
                put(&[1]);
                put(sig);
            }
            None => put(&[0]),
        }
        link.send(out.get(..n).unwrap_or_default());
    }
}

/// Waits for the host's seed command (the stand-in for a hardware RNG, see
/// [`StandInRng`]), ignoring anything else.
pub fn wait_for_seed(link: &mut Link) -> StandInRng {
    loop {
        let mut frame = [0u8; 1 + SEED_LEN];
        if let Ok(len) = link.recv(&mut frame)
            && let Some([cmd::SEED, seed @ ..]) = frame.get(..len)
            && let Ok(seed) = <[u8; SEED_LEN]>::try_from(seed)
        {
            return StandInRng::from_seed(seed);
        }
    }
}
