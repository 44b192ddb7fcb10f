//! `ecdsa2pc share`: manage a key share file without the peer (`share encrypt`).

use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::params_secret::ParamsSecretFile;
use ecdsa2pc_net::store::ShareFiles;

use crate::error::{CliError, ExitStatus};
use crate::output::report_error;
use crate::secret::{Prompt, SecretOptions};

/// Manage a key share file on this machine (no network).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "share")]
pub(crate) struct ShareArgs {
    #[argh(subcommand)]
    command: ShareCommand,
}

/// The `share` subcommands.
#[derive(FromArgs, Debug)]
#[argh(subcommand)]
enum ShareCommand {
    Encrypt(EncryptArgs),
}

/// Encrypt a plaintext key share file in place (and its FILE.pending, if any).
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "encrypt",
    example = "{command_name} --share p0.share --passphrase-file ~/.ecdsa2pc-pass\n\
               ECDSA2PC_PASSPHRASE=... {command_name} --share p1.share\n\
               {command_name} --share p1.share --key-file share.key",
    note = "Each file is replaced atomically (temporary file, sync, rename, sync of the \
            directory): if the command is interrupted, the file holds the old plaintext share or \
            the encrypted one, never a mix, and running it again finishes the job. Copies of the \
            plaintext file made before (backups) stay plaintext: replace them with the encrypted \
            file and destroy them. Without --passphrase-file, --key-file or ECDSA2PC_PASSPHRASE \
            the passphrase is asked for on the terminal (twice).",
    error_code(0, "the share is encrypted (or already was)"),
    error_code(
        2,
        "usage error, no secret given, or a missing, damaged, busy or unwritable share file"
    )
)]
pub(crate) struct EncryptArgs {
    /// the key share file to encrypt (either party's)
    #[argh(option)]
    share: PathBuf,
    /// file whose first line is the passphrase that encrypts the key share (or set
    /// ECDSA2PC_PASSPHRASE; on a terminal it is asked for)
    #[argh(option)]
    passphrase_file: Option<PathBuf>,
    /// file holding a 32-byte key (raw, or 64 hex digits) that encrypts the key share,
    /// instead of a passphrase
    #[argh(option)]
    key_file: Option<PathBuf>,
}

/// Runs a `share` subcommand; returns the exit status.
pub(crate) fn run(args: &ShareArgs) -> ExitStatus {
    let ShareCommand::Encrypt(args) = &args.command;
    match encrypt(args) {
        Ok(message) => {
            eprintln!("{message}");
            ExitStatus::Success
        }
        Err(err) => {
            report_error(&err, false);
            err.exit_status()
        }
    }
}

fn encrypt(args: &EncryptArgs) -> Result<String, CliError> {
    let secret = SecretOptions {
        passphrase_file: args.passphrase_file.as_deref(),
        key_file: args.key_file.as_deref(),
    };
    let files = ShareFiles::new(&args.share);
    // Held while the files are replaced: no protocol run may write them meanwhile.
    let _lock = files.lock_existing()?;
    let party = ShareFiles::party_of(files.path(), &files.read_active()?)?;
    let sealer = secret.sealer(Prompt::New)?.ok_or_else(|| {
        CliError::Usage(
            "no secret to encrypt with: give --passphrase-file FILE, --key-file FILE or set \
             ECDSA2PC_PASSPHRASE"
                .to_owned(),
        )
    })?;
    let files = files.sealed_with(Some(sealer.clone()));
    let mut count = match party {
        Party::P1 => files.encrypt_in_place::<KeyShareP1>()?,
        Party::P2 => files.encrypt_in_place::<KeyShareP2>()?,
    };
    // Party 0's parameter secret beside the share is a secret like the share: sealed too.
    let params = ParamsSecretFile::beside(files.path()).sealed_with(Some(sealer));
    let params_sealed = party == Party::P1 && params.encrypt_in_place()?;
    count += usize::from(params_sealed);
    Ok(if count == 0 {
        format!(
            "key share {} is already encrypted; nothing changed",
            files.path().display()
        )
    } else {
        format!(
            "encrypted key share {} in place ({count} file{}{}); copies of the plaintext file \
             (backups) are still readable by whoever holds them: replace them with this file \
             and destroy them",
            files.path().display(),
            if count == 1 { "" } else { "s" },
            if params_sealed {
                format!(
                    ", with party 0's commitment-parameter secret {}",
                    params.path().display()
                )
            } else {
                String::new()
            }
        )
    })
}
