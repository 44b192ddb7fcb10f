//! The secret that seals key shares at rest (`--passphrase-file`, `--key-file`, the
//! `ECDSA2PC_PASSPHRASE` environment variable, or a prompt on a terminal), and the share
//! files opened with it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use ecdsa2pc_net::input_file;
use ecdsa2pc_net::sealed::{self, Sealer, Secret, parse_key};
use ecdsa2pc_net::store::ShareFiles;
use zeroize::Zeroizing;

use crate::error::CliError;

/// The environment variable a passphrase may come from.
pub(crate) const PASSPHRASE_ENV: &str = "ECDSA2PC_PASSPHRASE";

/// The secret options of a command that reads or writes a key share.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SecretOptions<'a> {
    /// `--passphrase-file`: its first line is the passphrase.
    pub(crate) passphrase_file: Option<&'a Path>,
    /// `--key-file`: 32 raw bytes or 64 hex digits.
    pub(crate) key_file: Option<&'a Path>,
}

/// When to ask on the terminal if no secret is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// Never (the file is plaintext and stays so).
    Never,
    /// To open a sealed file.
    Open,
    /// For a new sealed file: asked twice; an empty answer leaves it unencrypted.
    NewOptional,
    /// For a new sealed file: asked twice, required.
    New,
}

impl SecretOptions<'_> {
    /// The sealer from `--key-file`, else `--passphrase-file`, else `ECDSA2PC_PASSPHRASE`,
    /// else (on a terminal, if `prompt` says so) a prompt; `None` if nothing was given.
    pub(crate) fn sealer(&self, prompt: Prompt) -> Result<Option<Sealer>, CliError> {
        self.secret(prompt).map(|s| s.map(Sealer::new))
    }

    fn secret(&self, prompt: Prompt) -> Result<Option<Secret>, CliError> {
        match (self.key_file, self.passphrase_file) {
            (Some(_), Some(_)) => Err(CliError::Usage(
                "give one of --key-file and --passphrase-file, not both".to_owned(),
            )),
            (Some(path), None) => {
                let content = read_secret_file(path, "--key-file")?;
                let key = parse_key(&content).map_err(|reason| CliError::BadInput {
                    path: path.to_path_buf(),
                    reason: format!("--key-file {reason}"),
                })?;
                Ok(Some(Secret::Key(key)))
            }
            (None, Some(path)) => {
                let content = read_secret_file(path, "--passphrase-file")?;
                let line = content.split(|&b| b == b'\n').next().unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.is_empty() {
                    return Err(CliError::BadInput {
                        path: path.to_path_buf(),
                        reason: "--passphrase-file: the first line (the passphrase) is empty"
                            .to_owned(),
                    });
                }
                Ok(Some(Secret::Passphrase(Zeroizing::new(line.to_vec()))))
            }
            (None, None) => match std::env::var_os(PASSPHRASE_ENV) {
                Some(value) if !value.is_empty() => Ok(Some(Secret::Passphrase(Zeroizing::new(
                    value.into_encoded_bytes(),
                )))),
                _ if prompt != Prompt::Never && std::io::stdin().is_terminal() => ask(prompt),
                _ => Ok(None),
            },
        }
    }
}

/// Reads a secret file into a buffer wiped on drop.
fn read_secret_file(path: &Path, flag: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    // A passphrase or a 32-byte key: 64 KiB is far beyond either.
    input_file::read(path, 64 * 1024).map_err(|source| CliError::File {
        path: path.to_path_buf(),
        action: if flag == "--key-file" {
            "read the --key-file"
        } else {
            "read the --passphrase-file"
        },
        source,
    })
}

/// Asks on the terminal (no echo).
fn ask(prompt: Prompt) -> Result<Option<Secret>, CliError> {
    let read = |text: &str| {
        rpassword::prompt_password(text)
            .map(|p| Zeroizing::new(p.into_bytes()))
            .map_err(|source| CliError::File {
                path: PathBuf::from("/dev/tty"),
                action: "read the passphrase from",
                source,
            })
    };
    if prompt == Prompt::Open {
        return Ok(Some(Secret::Passphrase(read(
            "passphrase of the key share: ",
        )?)));
    }
    let first = read(if prompt == Prompt::NewOptional {
        "passphrase to encrypt the key share (empty: leave it unencrypted): "
    } else {
        "passphrase to encrypt the key share: "
    })?;
    if first.is_empty() {
        return match prompt {
            Prompt::NewOptional => Ok(None),
            _ => Err(CliError::Usage(
                "the passphrase must not be empty".to_owned(),
            )),
        };
    }
    if *read("the same passphrase again: ")? != *first {
        return Err(CliError::Usage("the two passphrases differ".to_owned()));
    }
    Ok(Some(Secret::Passphrase(first)))
}

/// The files of the existing share at `path`, with the sealer it needs (asked for on the
/// terminal only if the share is sealed and no secret was given), and for a plaintext share
/// the warning to print ([`plaintext_warning`]).
pub(crate) fn existing_share(
    path: &Path,
    secret: SecretOptions<'_>,
) -> Result<(ShareFiles, Option<String>), CliError> {
    let files = ShareFiles::new(path);
    // A missing or unreadable share is reported by the load that follows.
    let bytes = files.read_active().ok();
    let sealed = bytes.as_ref().map(|b| sealed::is_sealed(b));
    let prompt = if sealed == Some(true) {
        Prompt::Open
    } else {
        Prompt::Never
    };
    let sealer = secret.sealer(prompt)?;
    // Only a file that is a plaintext share gets the warning: any other file is refused by
    // the load as not a share, and a warning first would call it one.
    let is_plain_share = sealed == Some(false)
        && bytes.is_some_and(|b| ShareFiles::party_of(files.path(), &b).is_ok());
    let warning = is_plain_share.then(|| plaintext_warning(path));
    Ok((files.sealed_with(sealer), warning))
}

/// Says that a share is not encrypted, and how to encrypt it.
pub(crate) fn plaintext_warning(path: &Path) -> String {
    format!(
        "warning: key share {} is not encrypted: anyone who copies the file holds this party's \
         half of the key. Encrypt it in place with `ecdsa2pc share encrypt --share {} \
         --passphrase-file FILE` (or --key-file FILE, or {PASSPHRASE_ENV} set)",
        path.display(),
        path.display()
    )
}
