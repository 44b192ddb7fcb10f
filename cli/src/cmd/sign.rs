//! `ecdsa2pc sign`: sign one digest with the peer, using the share on disk.

use std::path::{Path, PathBuf};

use argh::FromArgs;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party, sign::Digest};
use k256::ecdsa::signature::hazmat::PrehashVerifier;

use crate::digest::{parse_digest_hex, sha256};
use crate::error::{CliError, ExitStatus};
use crate::keyfile::write_atomic;
use crate::network::{DEFAULT_SERVER, DEFAULT_TIMEOUT_SECS, Net};
use crate::output::{Log, finish, hex, report_error};
use crate::protocols::{self, Protocols};
use crate::session::ShareSession;
use crate::share_file::{public_key, public_key_hex};

/// Sign SHA-256(--message) or a given --digest with the peer, using this party's key share.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "sign",
    example = "{command_name} --party 0 --share p0.share --message \"pay Bob\" --out sig.der\n\
               {command_name} --party 1 --share p1.share --message \"pay Bob\"    (other machine)",
    note = "Both parties must sign the same message or digest. Before any protocol message \
            each party checks that the TLS peer (and its own certificate) is the one its share \
            was made with, then both settle on their newest common share epoch. The signature \
            is printed as DER hex; both parties verify it against the public key. If party 0's \
            final check of a signature fails it locks its share on disk before replying: do not \
            sign with that key again.",
    error_code(0, "the signature was made and verifies against the public key"),
    error_code(
        1,
        "protocol or verification failure (peer rejected or aborted, no common epoch, \
         signature invalid, key share locked)"
    ),
    error_code(
        2,
        "usage or configuration error (bad option, missing certificate file, missing, damaged, \
         other-party or busy share file, peer certificate not the one of the share)"
    ),
    error_code(
        3,
        "network error (cannot connect or listen, timeout, TLS handshake failure)"
    )
)]
pub(crate) struct SignArgs {
    /// which party this process is: 0 (listens, owns the Paillier key) or 1 (connects)
    #[argh(option)]
    party: Party,
    /// this party's key share file (made by `ecdsa2pc keygen`)
    #[argh(option)]
    share: PathBuf,
    /// the text to sign: its SHA-256 digest is signed
    #[argh(option)]
    message: Option<String>,
    /// the 32-byte digest to sign as 64 hex digits, instead of --message
    #[argh(option)]
    digest: Option<String>,
    /// also write the signature (DER) to this file
    #[argh(option)]
    out: Option<PathBuf>,
    /// address party 0 listens on and party 1 connects to (default: localhost:8443)
    #[argh(option, default = "DEFAULT_SERVER.to_owned()")]
    server: String,
    /// directory holding ca-cert.pem and this party's certificate and key (default: ./certs)
    #[argh(option, default = "PathBuf::from(\"certs\")")]
    certs: PathBuf,
    /// seconds to wait for the peer: to connect, and for each message (default: 60)
    #[argh(option, default = "DEFAULT_TIMEOUT_SECS")]
    timeout: u64,
    /// also print TLS details, party ids and the causes of an error
    #[argh(switch, short = 'v')]
    verbose: bool,
}

/// Signs as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &SignArgs) -> ExitStatus {
    let net = Net {
        party: args.party,
        server: &args.server,
        certs: &args.certs,
        timeout_secs: args.timeout,
    };
    let digest = match (&args.message, &args.digest) {
        (Some(message), None) => Ok(sha256(message.as_bytes())),
        (None, Some(text)) => {
            parse_digest_hex(text).map_err(|e| CliError::Usage(format!("--digest: {e}")))
        }
        _ => Err(CliError::Usage(
            "give exactly one of --message TEXT and --digest HEX".to_owned(),
        )),
    };
    let checked = net.validate().and(digest);
    let digest = match checked {
        Ok(digest) => digest,
        Err(err) => {
            report_error(&err, args.verbose);
            return err.exit_status();
        }
    };
    let log = net.log(args.verbose);
    let result = match args.party {
        Party::P1 => sign::<KeyShareP1>(args, &net, &log, &digest),
        Party::P2 => sign::<KeyShareP2>(args, &net, &log, &digest),
    };
    finish(&log, args.verbose, result)
}

fn sign<S: Protocols>(
    args: &SignArgs,
    net: &Net<'_>,
    log: &Log,
    digest: &Digest,
) -> Result<String, CliError> {
    if let Some(out) = &args.out {
        let (dir, _) = split(out)?;
        if !dir.is_dir() {
            return Err(CliError::Usage(format!(
                "--out {}: the directory {} does not exist; create it first",
                out.display(),
                dir.display()
            )));
        }
    }
    // Holds the share's lock until the end of the command.
    let mut held = ShareSession::<S>::establish(net, &args.share, log)?;
    let key = public_key(&held.share)?;
    let what = match &args.message {
        Some(message) => format!("SHA-256 of message {message:?}"),
        None => format!("digest {}", hex(digest)),
    };
    log.detail(format_args!("digest: {}", hex(digest)));
    let sig = log
        .phase(
            "sign",
            || {
                Ok(protocols::sign(
                    &mut held.share,
                    &mut held.session,
                    digest,
                    &mut held.files,
                )?)
            },
            |_| what.clone(),
        )
        .inspect_err(|err| {
            if err.exit_status() == ExitStatus::Failure && !err.locked_share() {
                log.line(format_args!(
                    "note: both parties must sign the same digest (ours: {}); a different \
                     --message or --digest fails like a faulty peer would",
                    hex(digest)
                ));
            }
        })?;
    log.line(format_args!(
        "signature (DER): {}",
        hex(sig.to_der().as_bytes())
    ));
    log.phase(
        "verify",
        || {
            key.verify_prehash(digest, &sig).map_err(|_| {
                CliError::Verification(format!(
                    "the signature does NOT verify against the joint public key {}",
                    public_key_hex(&key)
                ))
            })
        },
        |()| format!("valid for public key {}", public_key_hex(&key)),
    )?;
    if let Some(out) = &args.out {
        let (dir, name) = split(out)?;
        write_atomic(dir, name, sig.to_der().as_bytes())?;
        log.line(format_args!("wrote {} (DER)", out.display()));
    }
    let epoch = held.share.epoch();
    held.session.close(log);
    Ok(format!(
        "signature made with key share epoch {epoch} and verified"
    ))
}

/// The directory and file name of an output file.
fn split(path: &Path) -> Result<(&Path, &str), CliError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::Usage(format!("--out {}: not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Ok((dir, name))
}
