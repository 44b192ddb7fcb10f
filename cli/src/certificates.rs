//! The certificate check: before any protocol message, both certificates of the session
//! must be the ones the key share was made with.

use std::path::Path;

use ecdsa2pc_core::KeyShare;
use ecdsa2pc_net::{Pid, SessionInfo};

use crate::error::{CertMismatch, CliError};
use crate::output::{Log, hex};

/// Checks the peer's pid and our own against the share's; prints the `certificates` phase.
pub(crate) fn check<S: KeyShare>(
    share: &S,
    path: &Path,
    info: &SessionInfo,
    log: &Log,
) -> Result<(), CliError> {
    log.phase(
        "certificates",
        || matches(share, path, info),
        |()| "both are the ones the key share was made with".to_owned(),
    )
}

fn matches<S: KeyShare>(share: &S, path: &Path, info: &SessionInfo) -> Result<(), CliError> {
    let (own_pid, peer_pid) = share.pids();
    let mismatch = |subject: &str, got: &Pid, expected: &Pid| {
        (got != expected).then(|| {
            Box::new(CertMismatch {
                subject: subject.to_owned(),
                got: pid_prefix(got),
                expected: pid_prefix(expected),
            })
        })
    };
    let peer = mismatch(&info.peer_subject, &info.peer_pid, peer_pid);
    let own = mismatch(&info.own_subject, &info.own_pid, own_pid);
    if peer.is_none() && own.is_none() {
        return Ok(());
    }
    Err(CliError::WrongCertificate {
        share: path.to_path_buf(),
        peer,
        own,
    })
}

/// The first bytes of a pid in hex, enough to tell two apart.
fn pid_prefix(pid: &Pid) -> String {
    format!("{}…", hex(pid.get(..8).unwrap_or(pid)))
}
