//! Protocol errors: a step of ours rejected a message, or the peer aborted.

use core::fmt;

use ecdsa2pc_core::{Error as CoreError, Proof};

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
        f.write_str(own_hint(self.error, self.step).unwrap_or_else(|| hint(self.error)))
    }
}

impl fmt::Display for PeerAbort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: the peer stopped the run: {}", self.step, self.error)?;
        f.write_str(peer_hint(self.error, self.step).unwrap_or_else(|| hint(self.error)))
    }
}

/// What a user can do about an error our own round found, where the step matters.
fn own_hint(error: CoreError, step: &str) -> Option<&'static str> {
    Some(match error {
        // Party 0 checks its parameter secret against the share before signing.
        CoreError::ParamsMismatch if step.starts_with("sign") => {
            "; party 0's key share was made with other commitment parameters than the parameter \
             secret given (was the parameter secret file replaced, or does the share come from \
             another party 0 directory?): use the parameter secret file that sat beside the \
             share at keygen, restored from a backup if need be. Nothing was sent but the abort"
        }
        // Party 1: keygen message 1 names other parameters than the ones proved or pinned.
        CoreError::ParamsMismatch => {
            "; party 0 announced other commitment parameters in keygen than the ones it proved \
             (or party 1 pinned): party 0 is faulty or malicious. Nothing was saved"
        }
        CoreError::ProofInvalid(Proof::SignCiphertext) => {
            "; party 1 sent a malformed or dishonest signing ciphertext (its proof π_c3 is \
             invalid): nothing was decrypted and the key is NOT locked, since party 1 learned \
             nothing. Party 1 is faulty, runs an incompatible version, or is probing the key: \
             find out which before signing with it again"
        }
        _ => return None,
    })
}

/// What a user can do about an abort the peer sent, where the step matters.
fn peer_hint(error: CoreError, step: &str) -> Option<&'static str> {
    Some(match error {
        // Party 0's lock record before or after its decryption could not be written: if it
        // was the one after, the key stays refused on party 0's side until its operator acts.
        CoreError::StorageFailed if step.starts_with("sign") => {
            "; party 0 could not write its lock record (or found that another run of party 0 \
             with the same key had just made one), and its own log names the file. If that was \
             the record before decrypting, nothing was decrypted: fix party 0's storage (or \
             let the other run finish) and run again. If it was the one after (party 0 could not record that the \
             signature verified), party 0 now refuses this key as it would after a crash, and \
             says so on the next run: make a new key"
        }
        // Party 0 refused to sign: its parameter secret is not the one of its share.
        CoreError::ParamsMismatch if step.starts_with("sign") => {
            "; party 0's commitment-parameter secret is not the one this key was made with: \
             party 0 must restore the parameter secret file that sat beside its share at \
             keygen"
        }
        // Party 1 refused party 0's parameters at keygen (a pin, or a keygen message 1 that
        // names other parameters).
        CoreError::ParamsMismatch => {
            "; party 1 holds other commitment parameters for this party 0 (pinned at an \
             earlier keygen). If party 0 replaced its parameter secret on purpose, party 1 must \
             delete its pin (the error on party 1's side names the file); otherwise find out \
             why party 0's parameter secret changed"
        }
        CoreError::ProofInvalid(Proof::SignCiphertext) => {
            "; party 0 rejected our proof that the signing ciphertext is well formed: nothing \
             was decrypted and the key is not locked. Check that both parties run the same \
             version"
        }
        // Party 1 refused party 0's parameter proof (party 0 kept it in ring-pedersen.proof
        // and does not re-check what it reads).
        CoreError::ProofInvalid(Proof::RingPedersenParams) => {
            "; party 1 refused party 0's proof of its commitment parameters. Party 0 dropped \
             the proof it kept (ring-pedersen.proof beside its parameter secret) and proves \
             again at the next keygen: retry. If it fails again, check that both parties run \
             the same version. Nothing was saved"
        }
        _ => return None,
    })
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
        // A caller mistake on one side, found before anything was computed from the peer's
        // messages: nothing to suspect.
        CoreError::PathMismatch => {
            "; nothing was computed or decrypted, and the key is not locked: start both sides \
             with the same derivation path"
        }
        // The core's own message already says what to do about these.
        CoreError::EpochExhausted
        | CoreError::ForeignPrecomputation
        | CoreError::NoChainCode
        | CoreError::InvalidChildKey
        | CoreError::OldShareFormat => "",
        CoreError::RefreshChangesKey => "; the peer is faulty or malicious",
        // Only ever the peer's word (an abort): its own log names the file and the cause.
        CoreError::StorageFailed => {
            "; nothing is wrong with the protocol or the keys. The peer's own log names the file \
             and the cause: fix its storage (free space, permissions) and run again"
        }
        CoreError::DegenerateNonce => "; nothing was saved",
        _ => "; the peer is faulty or malicious. Nothing was saved; check both versions and retry",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_storage_failure_reads_as_storage_with_the_sign_case_spelled_out() {
        let keygen = PeerAbort {
            error: CoreError::StorageFailed,
            step: "keygen, message 3",
        }
        .to_string();
        assert!(
            keygen.contains("could not write its key share or lock record")
                && keygen.contains("fix its storage (free space, permissions) and run again"),
            "{keygen}"
        );
        let sign = PeerAbort {
            error: CoreError::StorageFailed,
            step: "sign, message 5",
        }
        .to_string();
        assert!(
            sign.contains("If that was the record before decrypting, nothing was decrypted")
                && sign.contains("party 0 now refuses this key as it would after a crash"),
            "{sign}"
        );
        for text in [&keygen, &sign] {
            assert!(!text.contains("malicious"), "{text}");
        }
    }

    #[test]
    fn path_mismatch_reads_as_a_caller_mistake_not_an_attack() {
        let own = ProtocolError {
            error: CoreError::PathMismatch,
            step: "sign, message 1",
        }
        .to_string();
        let peer = PeerAbort {
            error: CoreError::PathMismatch,
            step: "sign, message 2",
        }
        .to_string();
        for text in [&own, &peer] {
            assert!(
                text.contains("the parties signed under different derivation paths")
                    && text.contains("start both sides with the same derivation path"),
                "{text}"
            );
            assert!(!text.contains("malicious"), "{text}");
        }
        let old = ProtocolError {
            error: CoreError::NoChainCode,
            step: "sign, message 1",
        }
        .to_string();
        assert!(
            old.ends_with("run a new keygen to derive child keys"),
            "{old}"
        );
    }
}
