//! `ecdsa2pc inspect`: the public facts of a key share file (no network, nothing secret).

use std::io::IsTerminal;
use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::sealed;
use ecdsa2pc_net::store::ShareFiles;
use ecdsa2pc_net::{key_id, key_id_hex};

use crate::error::{CliError, ExitStatus};
use crate::output::{Log, Outcome, Style, finish, hex};
use crate::secret::{Prompt, SecretOptions, existing_share};
use crate::share_file::{lock_state, public_key, public_key_hex};
use crate::wallet::address::hash160;

/// Show the public facts of a key share file: party, public key, key id, fingerprint,
/// epoch, lock state, both party ids. Nothing secret is printed.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "inspect",
    example = "{command_name} --share p0.share\n{command_name} --share p1.share --json",
    note = "One `name: value` line per fact on stdout. The key id is ecdsa2pc's name of the \
            key (SHA-256 of the compressed public key: the name of party 0's file under `serve`, \
            of the lock registry's entries and in the service's log); bip32_key_identifier is \
            the wallet format's HASH160 of the compressed public key (its first 4 bytes are the \
            fingerprint wallets show); the share fingerprint is the hash of the public state both parties must \
            hold (Q, Q1, Q2, the Paillier modulus, c_key, the epoch, the commitment parameters' hash \
            and the chain code) and is the same in both \
            parties' shares of one epoch. Party ids are the hashes of the certificates the \
            share was made with. The share's secret (x1 or x2, the Paillier secret key) is \
            never printed. An encrypted share needs its secret for all of this; without one \
            (and no terminal to ask on) its public header is shown: party, key id, epoch and \
            the kind of secret, with header_only: true.",
    error_code(0, "the share was read and shown"),
    error_code(2, "usage error, or a missing, unreadable or damaged share file")
)]
pub(crate) struct InspectArgs {
    /// the key share file (either party's)
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
    /// print the result as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

impl InspectArgs {
    /// The secret options.
    fn secret(&self) -> SecretOptions<'_> {
        SecretOptions {
            passphrase_file: self.passphrase_file.as_deref(),
            key_file: self.key_file.as_deref(),
        }
    }
}

/// Shows the share; returns the exit status.
pub(crate) fn run(args: &InspectArgs) -> ExitStatus {
    let style = Style {
        json: args.json,
        quiet: args.quiet,
        verbose: false,
    };
    let log = Log::new("", style);
    finish(&log, style, inspect(args, &log))
}

fn inspect(args: &InspectArgs, log: &Log) -> Result<Outcome, CliError> {
    // A sealed share needs its secret for the facts checked against the decrypted share;
    // without one (none given, no terminal to ask on), its public header is what there is.
    let sealed = ShareFiles::new(&args.share).active_is_sealed().ok() == Some(true);
    if sealed && args.secret().sealer(Prompt::Never)?.is_none() && !std::io::stdin().is_terminal() {
        return header_facts(args, log);
    }
    let (files, warning) = existing_share(&args.share, args.secret())?;
    if let Some(warning) = warning {
        log.line(warning);
    }
    let bytes = files.read_active()?;
    match ShareFiles::party_of(files.path(), &bytes)? {
        Party::P1 => facts::<KeyShareP1>(&files, &bytes),
        Party::P2 => facts::<KeyShareP2>(&files, &bytes),
    }
}

/// The public header of a sealed share (party, key id, epoch, the kind of secret), read
/// without its secret: unauthenticated until the share is opened, and said so.
fn header_facts(args: &InspectArgs, log: &Log) -> Result<Outcome, CliError> {
    let files = ShareFiles::new(&args.share);
    let bytes = files.read_active()?;
    let header = sealed::header(files.path(), &bytes)?;
    log.line(format_args!(
        "{} is encrypted: shown is its public header, not checked until the share is opened; \
         the public key, fingerprint, lock and party ids need its secret (--passphrase-file, \
         --key-file or the {} environment variable)",
        files.path().display(),
        crate::secret::PASSPHRASE_ENV
    ));
    let fields: [(&str, serde_json::Value); 6] = [
        ("share", files.path().display().to_string().into()),
        ("party", header.party.index().into()),
        ("key_id", key_id_hex(&header.key_id).into()),
        ("epoch", header.epoch.into()),
        ("encrypted_with", header.kind.to_string().into()),
        ("header_only", true.into()),
    ];
    Ok(lines(fields))
}

/// The facts as `name: value` lines on stdout and as JSON fields.
fn lines(fields: impl IntoIterator<Item = (&'static str, serde_json::Value)>) -> Outcome {
    let mut text = String::new();
    let mut outcome = Outcome::default().field("command", "inspect");
    for (name, value) in fields {
        let shown = match &value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!("{name}: {shown}\n"));
        outcome = outcome.field(name, value);
    }
    outcome.stdout = text.into_bytes();
    outcome
}

/// The facts of the share in `bytes`, as text lines and JSON fields.
fn facts<S: KeyShare>(files: &ShareFiles, bytes: &[u8]) -> Result<Outcome, CliError> {
    let share = files.decode::<S>(files.path(), bytes)?;
    let key = public_key(&share)?;
    let (own_pid, peer_pid) = share.pids();
    let (pid0, pid1) = match S::PARTY {
        Party::P1 => (own_pid, peer_pid),
        Party::P2 => (peer_pid, own_pid),
    };
    let role = match S::PARTY {
        Party::P1 => "party 0 (TLS server, Paillier key owner)",
        Party::P2 => "party 1 (TLS client)",
    };
    let pending = files.pending_path().exists();
    let lock = lock_state(files.path(), &share);
    let lock_entry = lock.clone().flatten().map(|e| e.display().to_string());
    let fields: [(&str, serde_json::Value); 12] = [
        ("share", files.path().display().to_string().into()),
        ("party", S::PARTY.index().into()),
        ("role", role.into()),
        ("public_key", public_key_hex(&key).into()),
        ("key_id", key_id_hex(&key_id(key.as_affine())).into()),
        (
            "bip32_key_identifier",
            hex(&hash160(key.to_sec1_point(true).as_bytes())).into(),
        ),
        ("fingerprint", hex(&share.fingerprint()).into()),
        ("epoch", share.epoch().into()),
        ("locked", lock.is_some().into()),
        ("party0_id", hex(pid0).into()),
        ("party1_id", hex(pid1).into()),
        // What party 1 pins for party 0: the same on both shares and in the pin file.
        ("params_hash", hex(&share.params_hash()).into()),
    ];
    // Whether keygen agreed a BIP32 chain code (format-3 shares); without one the share
    // signs with the joint key only and has no xpub.
    Ok(lines(fields.into_iter().chain([
        ("chain_code", share.chain_code().is_some().into()),
        ("pending", pending.into()),
        // The lock registry's entry that locks the key, when the share's own flag does not.
        ("lock_registry_entry", lock_entry.into()),
    ])))
}
