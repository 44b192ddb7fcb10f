//! What the firmware images and the host program agree on, besides the core's own messages:
//! the command frames the host sends, the report frame the firmware answers each run with,
//! and the example's constants. `no_std`, so the device and the host share one definition.
//!
//! Every frame, commands and reports included, is a 4-byte big-endian payload length and
//! the payload: the network transport's framing.
#![no_std]

use ecdsa2pc_core::Error;

/// Size of the frame header (the big-endian `u32` payload length).
pub const FRAME_HEADER_LEN: usize = 4;
/// Length of a message digest to sign.
pub const DIGEST_LEN: usize = 32;
/// Length of the stand-in generator's seed.
pub const SEED_LEN: usize = 32;
/// Length of a signature (r ‖ s).
pub const SIGNATURE_LEN: usize = 64;
/// Longest command frame: the command byte and its argument (a digest or a seed). Bulky
/// inputs (the parameter message, a provisioned share) follow a command in frames of their
/// own, so that the command buffer, which lives across every run, stays small.
pub const COMMAND_LEN: usize = 1 + if DIGEST_LEN > SEED_LEN {
    DIGEST_LEN
} else {
    SEED_LEN
};
/// Most timed steps one run reports.
pub const MAX_STEPS: usize = 4;
/// Rate of the ticks in a report: the board's 25 MHz peripheral clock (MPS2 AN386 timer 0).
pub const TICKS_HZ: u32 = 25_000_000;

/// Command bytes (the first payload byte of a command frame).
pub mod cmd {
    /// Seed the stand-in generator: followed by [`super::SEED_LEN`] bytes.
    pub const SEED: u8 = b'S';
    /// Party 0's ring-Pedersen parameters for party 1 to verify and keep for keygen: followed
    /// by one frame, the core's parameter message (`ParamsMsg`, Π^prm included).
    pub const PARAMS: u8 = b'R';
    /// Key generation: party 1 under the parameters a [`PARAMS`] step verified, party 0 under
    /// the parameter secret [`PROVISION`] pinned (with a Paillier key it generates).
    pub const KEYGEN: u8 = b'K';
    /// Signing: followed by the [`super::DIGEST_LEN`]-byte digest.
    pub const SIGN: u8 = b'G';
    /// Key refresh of the share the image holds (party 0 with a new Paillier key it generates).
    pub const REFRESH: u8 = b'F';
    /// Party 0's share, provisioned by the host: followed by two frames, the share's encoding
    /// and the encoding of party 0's ring-Pedersen secret (the one the share pinned).
    pub const PROVISION: u8 = b'P';
    /// End the emulation.
    pub const QUIT: u8 = b'Q';

    /// Whether the command runs a protocol with the host, so that a failure on the device
    /// sends the core's abort message (the host's protocol state waits for a message) before
    /// the report. The other commands (seed, parameters, provisioning) are answered by the
    /// report alone.
    #[must_use]
    pub const fn runs_protocol(command: u8) -> bool {
        matches!(command, KEYGEN | SIGN | REFRESH)
    }
}

/// The party ids both sides use: a real deployment takes them from its certificates.
pub const PID_PARTY0: [u8; 32] = [0x10; 32];
/// Party 1's id.
pub const PID_PARTY1: [u8; 32] = [0x21; 32];
/// The channel binding: constant here, because the UART is not a secure channel; a real
/// deployment binds every run to its secure channel (as the TLS exporter does on the network).
pub const CHANNEL_BINDING: &[u8] = b"ecdsa2pc firmware example over the emulated UART";

/// Length of party 1's keygen acknowledgement ([`keygen_stored`]): tag and fingerprint.
pub const KEYGEN_STORED_LEN: usize = 16 + 32;

/// Party 1's acknowledgement, after party 0's keygen message 3, that it stored the share with
/// this `fingerprint` (`KeyShare::fingerprint`, the same on both sides): party 0 makes its
/// own share active only on it, as net-std's keygen does on its acknowledgement.
#[must_use]
pub fn keygen_stored(fingerprint: &[u8; 32]) -> [u8; KEYGEN_STORED_LEN] {
    let mut out = [0u8; KEYGEN_STORED_LEN];
    let (tag, rest) = out.split_at_mut(16);
    tag.copy_from_slice(b"E2FW-KEYGEN-ACK1");
    rest.copy_from_slice(fingerprint);
    out
}

/// First payload byte of a report frame.
const REPORT_TAG: u8 = b'R';
/// Largest report: tag, status, static RAM, stack peak, step count, steps, signature flag
/// and signature.
pub const REPORT_LEN: usize = 1 + 1 + 4 + 4 + 1 + 4 * MAX_STEPS + 1 + SIGNATURE_LEN;

/// What one firmware run measured and produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The run's result.
    pub outcome: Result<(), Error>,
    /// Static RAM of the image (`.data` + `.bss` + `.uninit`).
    pub static_ram: u32,
    /// Deepest stack use during the run.
    pub stack_peak: u32,
    /// Ticks ([`TICKS_HZ`]) of each step; the first `step_count` are used.
    pub steps: [u32; MAX_STEPS],
    /// How many steps were timed.
    pub step_count: usize,
    /// The signature, for a signing run.
    pub signature: Option<[u8; SIGNATURE_LEN]>,
}

impl Report {
    /// The timed steps.
    #[must_use]
    pub fn steps(&self) -> &[u32] {
        self.steps.get(..self.step_count).unwrap_or_default()
    }

    /// Encodes the report: tag, status (0, or 1 + the error's code), static RAM and stack
    /// peak (big-endian `u32`), step count and ticks, a signature flag and the signature.
    /// Returns the length used.
    #[must_use]
    pub fn encode(&self, out: &mut [u8; REPORT_LEN]) -> usize {
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
        put(&[REPORT_TAG, status]);
        put(&self.static_ram.to_be_bytes());
        put(&self.stack_peak.to_be_bytes());
        put(&[u8::try_from(self.steps().len()).unwrap_or(0)]);
        for t in self.steps() {
            put(&t.to_be_bytes());
        }
        match &self.signature {
            Some(sig) => {
                put(&[1]);
                put(sig);
            }
            None => put(&[0]),
        }
        n
    }

    /// Decodes a report frame; `None` if it is not one.
    #[must_use]
    pub fn decode(frame: &[u8]) -> Option<Self> {
        let [REPORT_TAG, status, rest @ ..] = frame else {
            return None;
        };
        let (static_ram, rest) = rest.split_first_chunk::<4>()?;
        let (stack_peak, rest) = rest.split_first_chunk::<4>()?;
        let (&count, mut rest) = rest.split_first()?;
        let step_count = usize::from(count);
        let mut steps = [0u32; MAX_STEPS];
        for slot in steps.get_mut(..step_count)? {
            let (t, tail) = rest.split_first_chunk::<4>()?;
            *slot = u32::from_be_bytes(*t);
            rest = tail;
        }
        let signature = match rest {
            [0] => None,
            [1, sig @ ..] => Some(<[u8; SIGNATURE_LEN]>::try_from(sig).ok()?),
            _ => return None,
        };
        Some(Self {
            outcome: match status {
                0 => Ok(()),
                code => Err(Error::from_code(code - 1)),
            },
            static_ram: u32::from_be_bytes(*static_ram),
            stack_peak: u32::from_be_bytes(*stack_peak),
            steps,
            step_count,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            outcome: Ok(()),
            static_ram: 12,
            stack_peak: 125_000,
            steps: [7, 8, 9, 0],
            step_count: 3,
            signature: Some([0xab; SIGNATURE_LEN]),
        }
    }

    fn encoded(r: &Report) -> ([u8; REPORT_LEN], usize) {
        let mut out = [0u8; REPORT_LEN];
        let n = r.encode(&mut out);
        (out, n)
    }

    #[test]
    fn only_protocol_runs_answer_a_failure_with_an_abort() {
        for c in [cmd::KEYGEN, cmd::SIGN, cmd::REFRESH] {
            assert!(cmd::runs_protocol(c), "{c}");
        }
        for c in [cmd::SEED, cmd::PARAMS, cmd::PROVISION, cmd::QUIT, b'?'] {
            assert!(!cmd::runs_protocol(c), "{c}");
        }
    }

    #[test]
    fn reports_round_trip() {
        let r = sample();
        let (out, n) = encoded(&r);
        assert_eq!(n, REPORT_LEN - 4);
        assert_eq!(Report::decode(&out[..n]), Some(r));
        let failed = Report {
            outcome: Err(Error::ProofInvalid(ecdsa2pc_core::Proof::Range)),
            steps: [0; MAX_STEPS],
            step_count: 0,
            signature: None,
            ..sample()
        };
        let (out, n) = encoded(&failed);
        assert_eq!(Report::decode(&out[..n]), Some(failed));
    }

    #[test]
    fn malformed_reports_are_refused() {
        let (out, n) = encoded(&sample());
        // Wrong tag: an abort message or a protocol message is no report.
        let mut wrong_tag = out;
        wrong_tag[0] = b'X';
        assert_eq!(Report::decode(&wrong_tag[..n]), None);
        // Truncated anywhere, or one byte too long.
        for cut in 0..n {
            assert_eq!(Report::decode(&out[..cut]), None, "cut at {cut}");
        }
        let mut long = [0u8; REPORT_LEN + 1];
        long[..n].copy_from_slice(&out[..n]);
        assert_eq!(Report::decode(&long[..=n]), None);
        // More steps than a report holds.
        let mut too_many = out;
        too_many[10] = u8::try_from(MAX_STEPS + 1).unwrap();
        assert_eq!(Report::decode(&too_many[..n]), None);
        // A signature flag other than 0 or 1.
        let (mut bad_flag, m) = encoded(&Report {
            signature: None,
            ..sample()
        });
        bad_flag[m - 1] = 2;
        assert_eq!(Report::decode(&bad_flag[..m]), None);
    }
}
