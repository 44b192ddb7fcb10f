//! `ecdsa2pc pubkey`: print the joint public key of a key share file (no network), in the
//! formats wallets and tools read.

use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{KeyShare, KeyShareP1, KeyShareP2, Party};
use ecdsa2pc_net::store::ShareFiles;

use crate::error::{CliError, ExitStatus};
use crate::output::{Log, Outcome, Style, finish, hex};
use crate::secret::{SecretOptions, existing_share};
use crate::share_file::{derived_key, lock_state, public_key_hex};
use crate::wallet::Network;
use crate::wallet::pubkey::PublicKeyFormat;

/// Print the joint public key of a key share file, or its BIP32 child at --path: SEC1 hex
/// (compressed or not), PEM, DER, an xpub, an Ethereum address or a Bitcoin address.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "pubkey",
    example = "{command_name} --share p0.share\n\
               {command_name} --share p1.share --format pem > public-key.pem\n\
               {command_name} --share p0.share --format eth-address\n\
               {command_name} --share p0.share --format btc-p2wpkh --testnet\n\
               {command_name} --share p0.share --path m/0/7 --format eth-address\n\
               {command_name} --share p0.share --format xpub",
    note = "The key goes to stdout alone (pipe it to a file); a line naming the share's party \
            and epoch goes to stderr. Formats: hex (SEC1 compressed, default), uncompressed \
            (SEC1 04||x||y hex), pem and der (SubjectPublicKeyInfo, for `openssl dgst -sha256 \
            -verify`; der is binary), eth-address (EIP-55 checksummed), btc-p2wpkh (bc1q..., \
            tb1q... with --testnet), btc-p2pkh (1..., the address Bitcoin Core's \
            verifymessage takes for a `sign --btc-message` signature), xpub (the BIP32 extended \
            public key, tpub... with --testnet; any BIP32 library derives the same non-hardened \
            children from it). --path m/0/7 shows the child key at that non-hardened path (the \
            key `sign --path` signs with), in any format. Shares made before chain codes have \
            no xpub and no children. A pending share from an \
            interrupted refresh is not used here (it holds the same public key); the note says \
            if there is one.",
    error_code(0, "the key was printed"),
    error_code(2, "usage error, or a missing, unreadable or damaged share file")
)]
pub(crate) struct PubkeyArgs {
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
    /// output format: hex (default), uncompressed, pem, der, xpub, eth-address, btc-p2wpkh
    /// or btc-p2pkh
    #[argh(option, default = "PublicKeyFormat::Hex")]
    format: PublicKeyFormat,
    /// the BIP32 child key at this non-hardened path, e.g. m/0/7 (default: m, the joint key)
    #[argh(option, default = "DerivationPath::MASTER")]
    path: DerivationPath,
    /// use the Bitcoin testnet forms (tb1 addresses, tpub keys) instead of mainnet
    #[argh(switch)]
    testnet: bool,
    /// print the result as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

impl PubkeyArgs {
    /// The secret options.
    fn secret(&self) -> SecretOptions<'_> {
        SecretOptions {
            passphrase_file: self.passphrase_file.as_deref(),
            key_file: self.key_file.as_deref(),
        }
    }
}

/// Prints the key; returns the exit status.
pub(crate) fn run(args: &PubkeyArgs) -> ExitStatus {
    let style = Style {
        json: args.json,
        quiet: args.quiet,
        verbose: false,
    };
    let log = Log::new("", style);
    finish(&log, style, pubkey(args, &log))
}

fn pubkey(args: &PubkeyArgs, log: &Log) -> Result<Outcome, CliError> {
    let (files, warning) = existing_share(&args.share, args.secret())?;
    if let Some(warning) = warning {
        log.line(warning);
    }
    // Read once: the party comes from the file's own header.
    let bytes = files.read_active()?;
    match ShareFiles::party_of(files.path(), &bytes)? {
        Party::P1 => show::<KeyShareP1>(args, &files, &bytes, log),
        Party::P2 => show::<KeyShareP2>(args, &files, &bytes, log),
    }
}

/// The key of the share in `bytes` (read from `files`); notes on stderr.
fn show<S: KeyShare>(
    args: &PubkeyArgs,
    files: &ShareFiles,
    bytes: &[u8],
    log: &Log,
) -> Result<Outcome, CliError> {
    let share = files.decode::<S>(files.path(), bytes)?;
    let network = if args.testnet {
        Network::Testnet
    } else {
        Network::Mainnet
    };
    // A share made before chain codes has no xpub: `render` says so.
    let (key, xpub) = derived_key(&share, &args.path, network)?;
    let rendered = args
        .format
        .render(&key, xpub.as_ref(), network)
        .map_err(|e| CliError::Usage(format!("--format {}: {e}", args.format.name())))?;
    let locked = lock_state(files.path(), &share).is_some();
    log.line(format_args!(
        "key share {}: {}, epoch {}{}",
        files.path().display(),
        S::PARTY,
        share.epoch(),
        if locked {
            ", LOCKED (a signing run failed or stopped while deciding: do not sign with this key \
             again; `ecdsa2pc inspect` names why)"
        } else {
            ""
        }
    ));
    if files.pending_path().exists() {
        let state = match files.load_pending::<S>() {
            Ok(pending) => format!("epoch {}", pending.epoch()),
            Err(e) => format!("unusable: {e}"),
        };
        log.line(format_args!(
            "note: {} ({state}) is a pending share from an interrupted refresh; it is ignored \
             here, and the next sign or refresh settles with the peer which epoch stays",
            files.pending_path().display()
        ));
    }
    let text = if args.format == PublicKeyFormat::Der {
        hex(&rendered)
    } else {
        String::from_utf8_lossy(&rendered).trim_end().to_owned()
    };
    let mut stdout = rendered;
    if args.format != PublicKeyFormat::Der && !stdout.ends_with(b"\n") {
        stdout.push(b'\n');
    }
    let mut outcome = Outcome::default()
        .field("command", "pubkey")
        .field("format", args.format.name())
        .field("path", args.path.to_string())
        .field("public_key", text)
        .field("public_key_hex", public_key_hex(&key))
        .field("testnet", args.testnet)
        .field("party", S::PARTY.index())
        .field("epoch", share.epoch())
        .field("locked", locked);
    outcome.stdout = stdout;
    Ok(outcome)
}
