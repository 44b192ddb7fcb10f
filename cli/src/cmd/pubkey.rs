//! `ecdsa2pc pubkey`: print the joint public key of a key share file (no network).

use core::str::FromStr;
use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::store::ShareFiles;

use crate::error::{CliError, ExitStatus};
use crate::keyfile::spki_pem;
use crate::output::report_error;
use crate::share_file::{public_key, public_key_hex};

/// Print the joint public key of a key share file: SEC1 compressed hex, or PEM.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "pubkey",
    example = "{command_name} --share p0.share\n\
               {command_name} --share p1.share --format pem > public-key.pem",
    note = "The key goes to stdout alone (pipe it to a file); a line naming the share's party \
            and epoch goes to stderr. --format pem writes a SubjectPublicKeyInfo, as `demo \
            --out-dir` does, for `openssl dgst -sha256 -verify`. A pending share from an \
            interrupted refresh is not used here (it holds the same public key); the note says \
            if there is one.",
    error_code(0, "the key was printed"),
    error_code(2, "usage error, or a missing, unreadable or damaged share file")
)]
pub(crate) struct PubkeyArgs {
    /// the key share file (either party's)
    #[argh(option)]
    share: PathBuf,
    /// output format: hex (SEC1 compressed, default) or pem (SubjectPublicKeyInfo)
    #[argh(option, default = "Format::Hex")]
    format: Format,
}

/// The output format of the public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// SEC1 compressed point, hex.
    Hex,
    /// SubjectPublicKeyInfo, PEM.
    Pem,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hex" => Ok(Self::Hex),
            "pem" => Ok(Self::Pem),
            other => Err(format!("--format must be hex or pem, got '{other}'")),
        }
    }
}

/// Prints the key; returns the exit status.
pub(crate) fn run(args: &PubkeyArgs) -> ExitStatus {
    match pubkey(args) {
        Ok(()) => ExitStatus::Success,
        Err(err) => {
            report_error(&err, false);
            err.exit_status()
        }
    }
}

fn pubkey(args: &PubkeyArgs) -> Result<(), CliError> {
    let files = ShareFiles::new(&args.share);
    // Read once: the party comes from the file's own header.
    let bytes = files.read_active()?;
    match ShareFiles::party_of(files.path(), &bytes)? {
        Party::P1 => show::<KeyShareP1>(args.format, &files, &bytes),
        Party::P2 => show::<KeyShareP2>(args.format, &files, &bytes),
    }
}

/// Prints the key of the share in `bytes` (read from `files`) and notes on stderr.
fn show<S: KeyShare>(format: Format, files: &ShareFiles, bytes: &[u8]) -> Result<(), CliError> {
    let share = ShareFiles::decode::<S>(files.path(), bytes)?;
    let key = public_key(&share)?;
    match format {
        Format::Hex => println!("{}", public_key_hex(&key)),
        Format::Pem => print!("{}", spki_pem(&key)),
    }
    eprintln!(
        "key share {}: {}, epoch {}{}",
        files.path().display(),
        S::PARTY,
        share.epoch(),
        if share.is_locked() {
            ", LOCKED (a final signature failed to verify: do not sign with this key again)"
        } else {
            ""
        }
    );
    if files.pending_path().exists() {
        let state = match files.load_pending::<S>() {
            Ok(pending) => format!("epoch {}", pending.epoch()),
            Err(e) => format!("unusable: {e}"),
        };
        eprintln!(
            "note: {} ({state}) is a pending share from an interrupted refresh; it is ignored \
             here, and the next sign or refresh settles with the peer which epoch stays",
            files.pending_path().display()
        );
    }
    Ok(())
}
