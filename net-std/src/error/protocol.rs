//! Protocol errors: a step of ours rejected a message, or the peer aborted.

use core::fmt;

use ecdsa2pc_core::Error as CoreError;

/// Our side of the protocol rejected a message (or refused to run): the peer is faulty or
/// malicious, or the two parties do not hold matching shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// What the protocol core reported.
    pub error: CoreError,
    /// The step that failed, e.g. "sign, message 4".
    pub step: &'static str,
}

/// The peer stopped the run and sent its abort code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAbort {
    /// The error the peer reported (decoded from its abort code).
    pub error: CoreError,
    /// Our step when the abort arrived.
    pub step: &'static str,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step, self.error)?;
        f.write_str(hint(self.error))
    }
}

impl fmt::Display for PeerAbort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: the peer stopped the run: {}", self.step, self.error)?;
        f.write_str(hint(self.error))
    }
}

impl core::error::Error for ProtocolError {}
impl core::error::Error for PeerAbort {}

/// What a user can do about a protocol error.
fn hint(error: CoreError) -> &'static str {
    match error {
        CoreError::SessionMismatch => {
            "; the two parties hold shares of different keys (or epochs), sign different \
             digests, or the peer's certificate is not the one recorded in the share"
        }
        CoreError::KeyLocked | CoreError::SignatureInvalid => {
            "; a final signature failed to verify, so party 0 locked this key share: the peer \
             may be probing the key. Do not use the share again; investigate, then run a new keygen"
        }
        CoreError::InvalidShare => {
            "; the key share file is damaged or was altered: restore it from backup"
        }
        // The core's own message already says what to do about these.
        CoreError::EpochExhausted | CoreError::ForeignPrecomputation => "",
        CoreError::RefreshChangesKey => "; the peer is faulty or malicious",
        CoreError::DegenerateNonce => "; nothing was saved",
        _ => "; the peer is faulty or malicious. Nothing was saved; check both versions and retry",
    }
}
