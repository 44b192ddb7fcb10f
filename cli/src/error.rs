//! Errors of the CLI, the exit code each one maps to, and the hints that name the CLI's
//! options and commands: the libraries below describe cause and fix in their own terms,
//! this module adds how to apply the fix with `ecdsa2pc`.

use core::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::network::{CERTS_ENV, SERVER_ENV, option_or_env};
use ecdsa2pc_net::request::{MismatchKind, RefusalCode};
use ecdsa2pc_net::sealed::SecretKind;
use ecdsa2pc_net::{NetError, StoreError, SystemError, TlsProblem, TransportError};

/// The process exit status, one per class of outcome (documented in `--help` and README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Every step succeeded and every signature verified.
    Success = 0,
    /// A protocol step failed (the peer's message was rejected, the peer aborted), a
    /// signature did not verify, or local work did not finish within its time limit.
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
    /// Local work (not the network) did not finish within its time limit, e.g. `load`'s
    /// presigns before the run: the command line was fine, the run failed.
    Deadline(String),
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
            Self::Verification(_) | Self::Deadline(_) => ExitStatus::Failure,
            Self::Net(e) => net_exit_status(e),
        }
    }

    /// Whether the peer stopped the run because it could not write its share or lock record.
    pub(crate) fn peer_storage_failed(&self) -> bool {
        matches!(
            self,
            Self::Net(NetError::PeerAbort(ecdsa2pc_net::PeerAbort {
                error: ecdsa2pc_core::Error::StorageFailed,
                ..
            }))
        )
    }

    /// Whether this error means party 0 locked its key share after a failed signature.
    pub(crate) fn locked_share(&self) -> bool {
        // Only our own round's verdict counts: an abort code from the peer is the peer's word,
        // and a malicious peer could send it to raise a false alarm.
        match self {
            Self::Net(NetError::Protocol(e)) => e.error.locks_key(),
            _ => false,
        }
    }
}

/// Exit class of an `ecdsa2pc-net` error: configuration (2), protocol (1) or network (3).
fn net_exit_status(e: &NetError) -> ExitStatus {
    match e {
        NetError::Config(_)
        | NetError::Transport(TransportError::BadAddress { .. })
        | NetError::System(_) => ExitStatus::Usage,
        NetError::Store(
            StoreError::NoCommonEpoch { .. }
            | StoreError::KeyLocked { .. }
            | StoreError::ParamsPinned { .. },
        ) => ExitStatus::Failure,
        NetError::Store(_) => ExitStatus::Usage,
        NetError::Protocol(_)
        | NetError::PeerAbort(_)
        | NetError::Refused(_)
        | NetError::Transport(TransportError::MessageTooLarge { .. }) => ExitStatus::Failure,
        _ => ExitStatus::Network,
    }
}

/// How to apply the fix of an `ecdsa2pc-net` error with this tool's options and commands;
/// `None` where the library's message says all there is to say.
fn net_hint(e: &NetError) -> Option<String> {
    Some(match e {
        NetError::Config(_) => format!(
            "or check that {} points at the directory holding them (or --ca, --cert, --key at \
             the files)",
            option_or_env("--certs", CERTS_ENV)
        ),
        NetError::Tls(tls) => match tls.problem() {
            TlsProblem::UnknownCa | TlsProblem::CertificateRejected => {
                format!(
                    "check {} (or --ca and --cert) on both sides",
                    option_or_env("--certs", CERTS_ENV)
                )
            }
            TlsProblem::NoClientCertificate => "they belong in party 1's --certs directory".into(),
            // Not --force: new keys give new party ids, and every key share is bound to them.
            TlsProblem::Expired => "--renew, not --force: new keys would make every key share \
                 unusable"
                .into(),
            _ => return None,
        },
        NetError::Transport(t) => match t {
            TransportError::BadAddress { .. } => {
                format!("check {}", option_or_env("--server", SERVER_ENV))
            }
            TransportError::ConnectTimeout { .. } => "start it (`ecdsa2pc serve`, or the same \
                 ecdsa2pc command with `--party 0`), or raise --timeout if needed"
                .into(),
            TransportError::Timeout {
                phase: ecdsa2pc_net::Phase::Accept,
                ..
            } => "that is the same ecdsa2pc command with `--party 1` and --server set to it; \
                  or raise --timeout"
                .into(),
            TransportError::Timeout { .. } => "or raise --timeout if it is only slow".into(),
            _ => return None,
        },
        NetError::Refused(r) => match (r.code, r.mismatch()) {
            // The reason names what differs; the hint names the options that set it.
            (_, Some(MismatchKind::Operation)) => return None,
            (_, Some(MismatchKind::Key)) => "check --share on both sides".into(),
            (_, Some(MismatchKind::Digest)) => "check --message, --message-file or --digest, \
                 and --hash, --eth-message or --btc-message, on both sides"
                .into(),
            (_, Some(MismatchKind::Path)) => "check --path on both sides".into(),
            (_, Some(MismatchKind::Counts)) => return None,
            (RefusalCode::Mismatch, _) => "give both parties the same command and options, \
                 and the shares of one key (--share)"
                .into(),
            (RefusalCode::Busy, _) => "try again in a moment".into(),
            _ => return None,
        },
        NetError::Store(s) => match s {
            StoreError::Missing { path }
                if path.file_name() == Some(ecdsa2pc_net::params_secret::FILE_NAME.as_ref()) =>
            {
                "party 0 keeps it beside its --share file, where `ecdsa2pc keygen --party 0` made \
                 it: restore it there from the backup of the shares (a new one would not match \
                 the keys made with the old one)"
                    .into()
            }
            StoreError::Missing { .. } => "run `ecdsa2pc keygen` first, or check --share".into(),
            StoreError::OtherParty { found, .. } => {
                format!("or use it with --party {}", found.index())
            }
            // Only the options that can hold the kind of secret the file was sealed with.
            StoreError::WrongSecret { sealed_with, .. } => match sealed_with {
                SecretKind::Passphrase => "check --passphrase-file or the ECDSA2PC_PASSPHRASE \
                     environment variable (a --key-file does not open a share encrypted with \
                     a passphrase)"
                    .into(),
                SecretKind::KeyFile => "check --key-file (a passphrase does not open a share \
                     encrypted with a key file)"
                    .into(),
            },
            StoreError::NoSecret { sealed_with, .. } => match sealed_with {
                SecretKind::Passphrase => "with --passphrase-file FILE or the \
                     ECDSA2PC_PASSPHRASE environment variable"
                    .into(),
                SecretKind::KeyFile => "with --key-file FILE".into(),
            },
            StoreError::OldFormat { .. } => "`ecdsa2pc keygen` on both parties makes the new \
                 key (into a new --share file)"
                .into(),
            _ => return None,
        },
        _ => return None,
    })
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) | Self::Verification(msg) | Self::Deadline(msg) => f.write_str(msg),
            Self::Net(e) => {
                fmt::Display::fmt(e, f)?;
                match net_hint(e) {
                    Some(hint) => write!(f, "; {hint}"),
                    None => Ok(()),
                }
            }
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
                     `ecdsa2pc keygen`. No protocol message was sent: nothing was signed or changed"
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

/// `?` on a call that returns one category of `ecdsa2pc-net` error.
macro_rules! from_net_category {
    ($($ty:ty),*) => {$(
        impl From<$ty> for CliError {
            fn from(e: $ty) -> Self {
                Self::Net(e.into())
            }
        }
    )*};
}

from_net_category!(StoreError, SystemError);

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;
    use ecdsa2pc_core::Party;
    use ecdsa2pc_net::{CertProblem, ConfigError, PeerAbort, ProtocolError};

    #[test]
    fn exit_classes() {
        let cert = CliError::Net(
            ConfigError::CertFile {
                path: "x".into(),
                problem: CertProblem::NotFound,
            }
            .into(),
        );
        assert_eq!(cert.exit_status(), ExitStatus::Usage);
        assert!(cert.to_string().contains("--certs"), "{cert}");
        let timeout = CliError::Net(
            TransportError::ConnectTimeout {
                addr: "a:1".into(),
                waited: Duration::from_secs(1),
                last_error: None,
            }
            .into(),
        );
        assert_eq!(timeout.exit_status(), ExitStatus::Network);
        let accept = CliError::Net(
            TransportError::Timeout {
                phase: ecdsa2pc_net::Phase::Accept,
                after: Some(Duration::from_secs(3)),
            }
            .into(),
        );
        let text = accept.to_string();
        assert!(
            text.contains("no connection from party 1 within 3 s")
                && text.contains("`--party 1`")
                && text.contains("--timeout"),
            "{text}"
        );
        let text = timeout.to_string();
        assert!(
            text.contains("could not reach party 0")
                && text.contains("`--party 0`")
                && text.contains("--timeout"),
            "{text}"
        );
        let locked = CliError::Net(
            ProtocolError {
                error: ecdsa2pc_core::Error::SignatureInvalid,
                step: "sign, message 4",
            }
            .into(),
        );
        assert_eq!(locked.exit_status(), ExitStatus::Failure);
        assert!(locked.locked_share());
        assert!(!timeout.locked_share());
        let peer_says_locked = CliError::Net(
            PeerAbort {
                error: ecdsa2pc_core::Error::KeyLocked,
                step: "sign, message 2",
            }
            .into(),
        );
        assert!(
            !peer_says_locked.locked_share(),
            "the peer cannot raise our alarm"
        );
        assert_eq!(
            CliError::Verification("x".into()).exit_status(),
            ExitStatus::Failure
        );
        let share = CliError::Net(
            StoreError::Damaged {
                path: "p1.share".into(),
                expected: Party::P2,
                error: ecdsa2pc_core::Error::InvalidShare,
            }
            .into(),
        );
        assert_eq!(share.exit_status(), ExitStatus::Usage);
        let params = CliError::Net(
            StoreError::Missing {
                path: "keys/ring-pedersen.secret".into(),
            }
            .into(),
        );
        let text = params.to_string();
        assert!(
            text.starts_with(
                "party 0's commitment-parameter secret keys/ring-pedersen.secret: does not exist"
            ) && text.contains("beside its --share file")
                && text.contains("restore it"),
            "{text}"
        );
        let missing = CliError::Net(
            StoreError::Missing {
                path: "p1.share".into(),
            }
            .into(),
        );
        assert!(
            missing
                .to_string()
                .contains("does not exist; run `ecdsa2pc keygen` first"),
            "{missing}"
        );
        let other = CliError::Net(
            StoreError::OtherParty {
                path: "p0.share".into(),
                expected: Party::P2,
                found: Party::P1,
            }
            .into(),
        );
        let text = other.to_string();
        assert!(
            text.contains("is not a party 1 key share but party 0's")
                && text.contains("with --party 0"),
            "{text}"
        );
        let epochs = CliError::Net(
            StoreError::NoCommonEpoch {
                ours: vec![1],
                theirs: vec![0],
            }
            .into(),
        );
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

    /// Each mismatch names the options that set what differs, and only those: a refresh
    /// against a sign is not told about --message.
    #[test]
    fn mismatch_hints_name_the_options_that_differ() {
        use ecdsa2pc_net::request::{Operation, Request};
        let key = [7u8; ecdsa2pc_net::KEY_ID_LEN];
        let sign = |d: u8| Request::on_key(Operation::Sign([d; 32]), key);
        let refused = |ours: Request, theirs: Request| {
            CliError::Net(NetError::Refused(ours.check_matches(&theirs).unwrap_err())).to_string()
        };
        let text = refused(sign(1), Request::on_key(Operation::Refresh, key));
        assert!(
            text.contains("party 1 runs refresh but party 0 runs sign"),
            "{text}"
        );
        assert!(
            !text.contains("--message") && !text.contains("--share"),
            "{text}"
        );
        let text = refused(sign(1), sign(2));
        assert!(
            text.ends_with("--hash, --eth-message or --btc-message, on both sides"),
            "{text}"
        );
        let text = refused(sign(1), Request::on_key(Operation::Sign([1; 32]), [8; 32]));
        assert!(text.ends_with("; check --share on both sides"), "{text}");
        assert!(!text.contains("--message"), "{text}");
        let under = |p: &str| Request::sign_under([1; 32], key, p.parse().unwrap());
        let text = refused(under("m/0/1"), under("m/0/2"));
        assert!(text.ends_with("; check --path on both sides"), "{text}");
        // A reason worded by another release: the general hint.
        let other = ecdsa2pc_net::request::Refusal::new(RefusalCode::Mismatch, "they differ");
        let text = CliError::Net(NetError::Refused(other)).to_string();
        assert!(
            text.ends_with("and the shares of one key (--share)"),
            "{text}"
        );
    }
}
