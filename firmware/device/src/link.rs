//! Frames over the UART, timed steps and the firmware's reports.
//!
//! The wire format is the network's: each frame is a 4-byte big-endian payload length, then
//! the payload; protocol messages are the core's own encoding (`wire::Message`), and a failed
//! run sends the core's abort message. Around the protocol messages the host sends one
//! command frame per run and the firmware answers with one report frame (both defined in
//! `ecdsa2pc-firmware-proto`).

use ecdsa2pc_core::{Error, MAX_MSG_LEN, Message, Result, peer_abort};
use ecdsa2pc_firmware_proto::{FRAME_HEADER_LEN, MAX_STEPS, REPORT_LEN, Report, SEED_LEN, cmd};

use crate::board::{StandInRng, Timer, Uart};

/// The UART seen as a frame transport, timing the device's work between frames.
///
/// Message buffers live in the frames of the `#[inline(never)]` receive and send functions,
/// not in the caller: a decoded message outlives its frame buffer, so the 21 KB buffer of
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
    /// [`Error::Malformed`] for a frame longer than `buf`. A body of at most
    /// [`MAX_MSG_LEN`] bytes is read and dropped, so that the stream stays in step; a longer
    /// length is no frame of this protocol (line noise, or a peer out of step), and its body
    /// is not waited for: draining up to 4 GiB would hold the device for hours.
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
                if len <= MAX_MSG_LEN {
                    let mut sink = [0u8; 1];
                    for _ in 0..len {
                        self.uart.read_exact(&mut sink);
                    }
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
    pub fn recv_into<M: Message, const N: usize>(&mut self, out: &mut M) -> Result<()> {
        let mut buf = [0u8; N];
        let len = self.recv(&mut buf)?;
        self.step_start();
        let frame = buf.get(..len).ok_or(Error::Malformed)?;
        if let Some(e) = peer_abort(frame) {
            return Err(e);
        }
        M::decode_into(frame, out)
    }

    /// Receives message `M` (`N` = `M::LEN`); starts a timed step once its frame has arrived.
    ///
    /// # Errors
    /// The host's abort reason, or the decoding error.
    #[inline(never)]
    pub fn recv_message<M: Message, const N: usize>(&mut self) -> Result<M> {
        let mut buf = [0u8; N];
        let len = self.recv(&mut buf)?;
        self.step_start();
        let frame = buf.get(..len).ok_or(Error::Malformed)?;
        match peer_abort(frame) {
            Some(e) => Err(e),
            None => M::decode(frame),
        }
    }

    /// Encodes `msg` (`N` = `M::LEN`), ends the timed step, and sends it.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `N` is too small for it.
    #[inline(never)]
    pub fn send_message<M: Message, const N: usize>(&mut self, msg: &M) -> Result<()> {
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

    /// Sends the report of this run (its timed steps included).
    pub fn report(
        &mut self,
        outcome: Result<()>,
        static_ram: u32,
        stack_peak: u32,
        signature: Option<[u8; ecdsa2pc_firmware_proto::SIGNATURE_LEN]>,
    ) {
        let report = Report {
            outcome,
            static_ram,
            stack_peak,
            steps: self.ticks,
            step_count: self.len,
            signature,
        };
        let mut out = [0u8; REPORT_LEN];
        let n = report.encode(&mut out);
        self.send(out.get(..n).unwrap_or_default());
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
