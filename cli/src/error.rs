//! Errors of the CLI and the exit code each one maps to.

use core::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use ecdsa2pc_net::NetError;

/// The process exit status, one per class of outcome (documented in `--help` and README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Every step succeeded and every signature verified.
    Success = 0,
    /// A protocol step failed (the peer's message was rejected, the peer aborted) or a
    /// signature did not verify.
    Failure = 1,
    /// Bad command line or configuration: missing certificate files, a bad address, an
    /// unreadable input file, an unwritable output directory, a missing, damaged or busy
    /// key share, a session whose certificates are not the ones the share was made with.
    Usage = 2,
    /// Network: could not connect or listen, timeout, TLS handshake failure, peer gone.
    Network = 3,
}

impl ExitStatus {
    /// Prints argh's help (exit 0) or its parse error (exit 2).
    pub(crate) fn from_early_exit(early: &argh::EarlyExit) -> Self {
        if early.status.is_ok() {
            print!("{}", early.output);
            Self::Success
        } else {
            eprintln!("error: {}", early.output.trim_end());
            eprintln!("Run with --help for usage.");
            Self::Usage
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status as u8)
    }
}

/// Everything that can make a command fail.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A bad argument or argument combination.
    Usage(String),
    /// A transport or protocol error from `ecdsa2pc-net` (carries its own exit class).
    Net(NetError),
    /// A signature did not verify (or a tampered one did): the result cannot be trusted.
    Verification(String),
    /// A local file could not be read or written.
    File {
        /// The file.
        path: PathBuf,
        /// What we were doing with it.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// A local input file has the wrong content.
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The session's certificates are not the ones the key share was made with; found
    /// before any protocol message.
    WrongCertificate {
        /// The key share file.
        share: PathBuf,
        /// The peer's certificate, if it is not the recorded one.
        peer: Option<Box<CertMismatch>>,
        /// Our own certificate, if it is not the recorded one.
        own: Option<Box<CertMismatch>>,
    },
}

/// A certificate whose pid is not the one a key share records.
#[derive(Debug)]
pub(crate) struct CertMismatch {
    /// The certificate's subject, e.g. `CN=client1`.
    pub(crate) subject: String,
    /// Hex prefix of the certificate's pid.
    pub(crate) got: String,
    /// Hex prefix of the pid the share records.
    pub(crate) expected: String,
}

impl CliError {
    /// The exit status of this error.
    pub(crate) fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Usage(_)
            | Self::File { .. }
            | Self::BadInput { .. }
            | Self::WrongCertificate { .. } => ExitStatus::Usage,
            Self::Verification(_) => ExitStatus::Failure,
            Self::Net(e) => net_exit_status(e),
        }
    }

    /// Whether this error means party 0 locked its key share after a failed signature.
    pub(crate) fn locked_share(&self) -> bool {
        // Only our own round's verdict counts: an abort code from the peer is the peer's word,
        // and a malicious peer could send it to raise a false alarm.
        match self {
            Self::Net(NetError::Protocol { error, .. }) => {
                matches!(
                    error,
                    ecdsa2pc_core::Error::SignatureInvalid | ecdsa2pc_core::Error::KeyLocked
                )
            }
            _ => false,
        }
    }
}

/// Exit class of a transport error: configuration (2), protocol (1) or network (3).
fn net_exit_status(e: &NetError) -> ExitStatus {
    match e {
        NetError::CertFile { .. } | NetError::BadAddress { .. } | NetError::ShareFile { .. } => {
            ExitStatus::Usage
        }
        NetError::Protocol { .. }
        | NetError::PeerAborted { .. }
        | NetError::MessageTooLarge { .. }
        | NetError::EpochMismatch { .. } => ExitStatus::Failure,
        _ => ExitStatus::Network,
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) | Self::Verification(msg) => f.write_str(msg),
            Self::Net(e) => fmt::Display::fmt(e, f),
            Self::File {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Self::BadInput { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::WrongCertificate { share, peer, own } => {
                write!(
                    f,
                    "key share {} was made with other certificates than this session's: ",
                    share.display()
                )?;
                if let Some(m) = peer {
                    write!(
                        f,
                        "the peer's certificate ({}, pid {}) is not the one this share was \
                         made with (pid {}); ",
                        m.subject, m.got, m.expected
                    )?;
                }
                if let Some(m) = own {
                    write!(
                        f,
                        "our own certificate ({}, pid {}) is not the one this share was made \
                         with (pid {}); ",
                        m.subject, m.got, m.expected
                    )?;
                }
                let who = if peer.is_some() { "peer" } else { "party" };
                write!(
                    f,
                    "another certificate from the same CA is not the same {who}. Use the \
                     certificates both parties had at keygen (--certs), or make a new key with \
                     `ecdsa2pc keygen`. Nothing was sent to the peer"
                )
            }
        }
    }
}

impl core::error::Error for CliError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Net(e) => core::error::Error::source(e),
            Self::File { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<NetError> for CliError {
    fn from(e: NetError) -> Self {
        Self::Net(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn exit_classes() {
        let cert = CliError::Net(NetError::CertFile {
            path: "x".into(),
            reason: "missing".into(),
        });
        assert_eq!(cert.exit_status(), ExitStatus::Usage);
        let timeout = CliError::Net(NetError::ConnectTimeout {
            addr: "a:1".into(),
            waited: Duration::from_secs(1),
            last_error: None,
        });
        assert_eq!(timeout.exit_status(), ExitStatus::Network);
        let locked = CliError::Net(NetError::Protocol {
            error: ecdsa2pc_core::Error::SignatureInvalid,
            step: "sign, message 4",
        });
        assert_eq!(locked.exit_status(), ExitStatus::Failure);
        assert!(locked.locked_share());
        assert!(!timeout.locked_share());
        let peer_says_locked = CliError::Net(NetError::PeerAborted {
            error: ecdsa2pc_core::Error::KeyLocked,
            step: "sign, message 2",
        });
        assert!(
            !peer_says_locked.locked_share(),
            "the peer cannot raise our alarm"
        );
        assert_eq!(
            CliError::Verification("x".into()).exit_status(),
            ExitStatus::Failure
        );
        let share = CliError::Net(NetError::ShareFile {
            path: "p1.share".into(),
            problem: "is damaged".into(),
        });
        assert_eq!(share.exit_status(), ExitStatus::Usage);
        let epochs = CliError::Net(NetError::EpochMismatch {
            ours: vec![1],
            theirs: vec![0],
        });
        assert_eq!(epochs.exit_status(), ExitStatus::Failure);
        let wrong = CliError::WrongCertificate {
            share: "p1.share".into(),
            peer: Some(Box::new(CertMismatch {
                subject: "CN=other".into(),
                got: "aa…".into(),
                expected: "bb…".into(),
            })),
            own: None,
        };
        assert_eq!(wrong.exit_status(), ExitStatus::Usage);
        let text = wrong.to_string();
        assert!(
            text.contains("the peer's certificate (CN=other, pid aa…) is not the one"),
            "{text}"
        );
        assert!(!text.contains("our own"), "{text}");
    }
}
