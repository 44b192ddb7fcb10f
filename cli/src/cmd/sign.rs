//! `ecdsa2pc sign`: sign one digest with the peer, using the share on disk.

use core::sync::atomic::{AtomicBool, Ordering};
use ecdsa2pc_net::request::Operation;
use ecdsa2pc_net::{input_file, interrupt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use argh::FromArgs;
use ecdsa2pc_core::bip32::DerivationPath;
use ecdsa2pc_core::{KeyShareP1, KeyShareP2, Party};
use k256::ecdsa::signature::hazmat::PrehashVerifier;

use crate::digest::{MessageDigest, MessageOptions};
use crate::error::{CliError, ExitStatus};
use crate::keyfile::{check_output_dir, write_atomic};
use crate::network::Net;
use crate::output::{Log, Outcome, fail, finish, hex};
use crate::protocols::{self, Protocols};
use crate::secret::existing_share;
use crate::session::ShareSession;
use crate::share_file::{derived_key, public_key_hex};
use crate::wallet::Network;
use crate::wallet::message::MessageHash;
use crate::wallet::signature::{RecoverableSignature, SignatureFormat};

peer_command! {
    sealed
    /// Sign a message (SHA-256 by default, or another --hash) or a given --digest with the
    /// peer, using this party's key share.
    #[derive(FromArgs, Debug)]
    #[argh(
        subcommand,
        help_triggers("-h", "--help", "help"),
        name = "sign",
        example = "{command_name} --party 0 --share p0.share --message \"pay Bob\" --out sig.der\n\
                   {command_name} --party 1 --share p1.share --message \"pay Bob\"    (other machine)\n\
                   {command_name} --party 0 --share p0.share --message-file tx.bin --format compact\n\
                   {command_name} --party 0 --share p0.share --message hello --eth-message --format eth\n\
                   {command_name} --party 0 --share p0.share --message hello --btc-message\n\
                   {command_name} --party 0 --share p0.share --message hello --path m/0/7",
        note = "Both parties must sign the same message or digest with the same hash option. The \
                signature alone is printed on stdout (progress on stderr): DER hex by default, or \
                --format der (binary DER), hex (DER hex), compact (64-byte r||s hex) or eth \
                (0x-prefixed 65-byte r||s||v, v = 27 + recovery id); --btc-message prints the \
                base64 65-byte signature Bitcoin's verifymessage takes. --out writes the same \
                format (binary DER without --format). Always low-s. Before any protocol message \
                each party checks that the TLS peer (and its own certificate) is the one its share \
                was made with, then both settle on their newest common share epoch; both parties \
                verify the signature against the public key. --path m/0/7 signs with the BIP32 \
                child key at that non-hardened path (`pubkey --path` shows it); both parties must \
                give the same path, and the signature verifies under the child key, not the joint \
                key. If party 0's final check of a \
                signature fails it locks its share on disk before replying: do not sign with that \
                key again.",
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
        /// this party's key share file (made by `ecdsa2pc keygen`)
        #[argh(option)]
        share: PathBuf,
        /// the text to sign (hashed with --hash, default SHA-256)
        #[argh(option)]
        message: Option<String>,
        /// sign the exact bytes of this file (`-` for standard input), trailing newlines included
        #[argh(option)]
        message_file: Option<PathBuf>,
        /// the 32-byte digest to sign as 64 hex digits, instead of a message
        #[argh(option)]
        digest: Option<String>,
        /// how the message is hashed: sha256 (default) or keccak256
        #[argh(option)]
        hash: Option<MessageHash>,
        /// hash the message as an Ethereum personal message (EIP-191, personal_sign)
        #[argh(switch)]
        eth_message: bool,
        /// hash the message as a Bitcoin signed message and print the base64 65-byte signature
        #[argh(switch)]
        btc_message: bool,
        /// sign with the BIP32 child key at this non-hardened path, e.g. m/0/7 (both parties
        /// give the same path; default: m, the joint key)
        #[argh(option, default = "DerivationPath::MASTER")]
        path: DerivationPath,
        /// signature format: der, hex, compact or eth (default: DER hex on stdout, DER in --out)
        #[argh(option)]
        format: Option<SignatureFormat>,
        /// also write the signature to this file
        #[argh(option)]
        out: Option<PathBuf>,
    }
}

/// How the signature is written: one of the `--format`s, or Bitcoin's message signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    /// `--format` (or the default: hex on stdout, DER in `--out`).
    Format(Option<SignatureFormat>),
    /// `--btc-message`: base64 of `header || r || s`.
    BitcoinMessage,
}

/// Signs as one party; prints progress and errors; returns the exit status.
pub(crate) fn run(args: &SignArgs) -> ExitStatus {
    let net = args.net();
    let style = args.style();
    let log = net.log(style);
    let options = MessageOptions {
        message: args.message.as_deref(),
        message_file: args.message_file.as_deref(),
        digest: args.digest.as_deref(),
        hash: args.hash,
        eth_message: args.eth_message,
        btc_message: args.btc_message,
    };
    let output = match (args.btc_message, args.format) {
        (false, format) => Ok(Output::Format(format)),
        (true, None) => Ok(Output::BitcoinMessage),
        (true, Some(_)) => Err(CliError::Usage(
            "--btc-message writes Bitcoin's base64 message signature: leave out --format"
                .to_owned(),
        )),
    };
    let checked = net
        .validate()
        .and(output)
        .and_then(|output| Ok((output, options.resolve()?)));
    let (output, input) = match checked {
        Ok(checked) => checked,
        Err(err) => return fail(&log, style, &err),
    };
    let result = match args.party {
        Party::P1 => hold_off_stops_while_deciding().and_then(|stopped| {
            let result = sign::<KeyShareP1>(args, &net, &log, &input, output);
            if stopped.load(Ordering::SeqCst) {
                log.line(
                    "a stop signal (Ctrl-C or SIGTERM) came while party 0 was deciding the \
                     signature: it was let finish, so that the key is not left refused",
                );
            }
            result
        }),
        Party::P2 => sign::<KeyShareP2>(args, &net, &log, &input, output),
    };
    finish(&log, style, result)
}

/// Makes SIGINT (Ctrl-C) and SIGTERM end party 0 at once as before, except while it decides
/// a signature (from the lock registry's `.deciding` entry to the outcome, milliseconds):
/// stopped there, the key would be refused for good. Returns the flag that says whether such
/// a signal came (it takes effect when the run is over).
fn hold_off_stops_while_deciding() -> Result<Arc<AtomicBool>, CliError> {
    let stopped = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stopped))
            .and_then(|_| {
                signal_hook::flag::register_conditional_shutdown(
                    signal,
                    128 + signal,
                    interrupt::termination_allowed(),
                )
            })
            .map_err(|e| {
                CliError::Usage(format!("cannot install a handler for signal {signal}: {e}"))
            })?;
    }
    Ok(stopped)
}

fn sign<S: Protocols>(
    args: &SignArgs,
    net: &Net<'_>,
    log: &Log,
    input: &MessageDigest,
    output: Output,
) -> Result<Outcome, CliError> {
    let digest = &input.digest;
    if let Some(out) = &args.out {
        check_out(out)?;
    }
    // Holds the share's lock until the end of the command.
    let (files, warning) = existing_share(&args.share, args.secret())?;
    if let Some(warning) = warning {
        log.line(warning);
    }
    // Party 0's parameter secret, loaded and checked before the peer is kept waiting.
    let (mut held, params) = ShareSession::<S>::establish_with(
        net,
        files,
        log,
        Operation::Sign(*digest),
        &args.path,
        |files| S::params_on_disk(files.path(), files.sealer(), false, log),
    )?;
    // The key the signature verifies under: the child key at --path (the joint key for m).
    let (key, _) = derived_key(&held.share, &args.path, Network::Mainnet)?;
    log.detail(format_args!("digest: {}", hex(digest)));
    if args.path.depth() != 0 {
        log.line(format_args!(
            "signing under {} (public key {})",
            args.path,
            public_key_hex(&key)
        ));
    }
    let sig = log
        .phase(
            "sign",
            || {
                Ok(protocols::sign(
                    &mut held.share,
                    &mut held.session,
                    digest,
                    &args.path,
                    &params,
                    &mut held.store,
                )?)
            },
            |_| input.what.clone(),
        )
        .inspect_err(|err| {
            // Not after the peer's storage failure, nor after our own store's refusal (a
            // locked key): those name their own cause, which no digest explains.
            if err.exit_status() == ExitStatus::Failure
                && !err.locked_share()
                && !err.peer_storage_failed()
                && !matches!(err, CliError::Net(ecdsa2pc_net::NetError::Store(_)))
            {
                log.line(format_args!(
                    "note: both parties must sign the same digest (ours: {}) under the same \
                     --path (ours: {}); a different message, --digest, hash option or path \
                     fails like a faulty peer would",
                    hex(digest),
                    args.path
                ));
            }
        })?;
    log.line(format_args!(
        "signature (DER): {}",
        hex(sig.to_der().as_bytes())
    ));
    let rec = log.phase(
        "verify",
        || {
            key.verify_prehash(digest, &sig).map_err(|_| {
                CliError::Verification(format!(
                    "the signature does NOT verify against the public key {} ({})",
                    public_key_hex(&key),
                    args.path
                ))
            })?;
            RecoverableSignature::new(&key, digest, &sig).map_err(CliError::Verification)
        },
        |_| format!("valid for public key {}", public_key_hex(&key)),
    )?;
    let encoded = |format| rec.encode(format).map_err(CliError::Verification);
    // What stdout shows, what `--out` holds, and the text `--json` gives.
    let (stdout, file, text, format_name) = match output {
        Output::Format(None) => {
            let der_hex = encoded(SignatureFormat::DerHex)?;
            let text = String::from_utf8_lossy(&der_hex).into_owned();
            (line(der_hex), encoded(SignatureFormat::Der)?, text, "hex")
        }
        Output::Format(Some(SignatureFormat::Der)) => {
            let der = encoded(SignatureFormat::Der)?;
            (der.clone(), der.clone(), hex(&der), "der")
        }
        Output::Format(Some(format)) => {
            let bytes = encoded(format)?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            (line(bytes.clone()), bytes, text, format.name())
        }
        Output::BitcoinMessage => {
            let text = rec.bitcoin_message_base64();
            (
                line(text.clone().into_bytes()),
                text.clone().into_bytes(),
                text,
                "btc-message",
            )
        }
    };
    if let Some(out) = &args.out {
        let (dir, name) = split(out)?;
        write_atomic(dir, name, &file)?;
        log.line(format_args!("wrote {}", out.display()));
    }
    let epoch = held.share.epoch();
    held.session.close(log);
    let mut outcome = Outcome::summary(format!(
        "signature made with key share epoch {epoch} and verified"
    ))
    .field("command", "sign")
    .field("party", S::PARTY.index())
    .field("signature", text)
    .field("format", format_name)
    .field("digest", hex(digest))
    .field("hash", input.hash.map(MessageHash::name))
    .field("public_key", public_key_hex(&key))
    .field("path", args.path.to_string())
    .field("der", hex(rec.signature().to_der().as_bytes()))
    .field("recovery_id", rec.recovery_id().to_byte())
    .field("epoch", epoch)
    .field("out", args.out.as_ref().map(|p| p.display().to_string()));
    outcome.stdout = stdout;
    Ok(outcome)
}

/// `bytes` followed by a newline, for text on stdout.
fn line(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(b'\n');
    bytes
}

/// Refuses, before the peer is involved, an `--out` the signature could not be written to or
/// must not replace: a missing directory, a directory, or a file holding a key share or party
/// 0's parameter secret (a mistyped `--out` would destroy the key).
fn check_out(out: &Path) -> Result<(), CliError> {
    let (dir, _) = split(out)?;
    check_output_dir("--out", out, dir)?;
    if out.is_dir() {
        return Err(CliError::Usage(format!(
            "--out {}: is a directory; give a file name in it, e.g. {}",
            out.display(),
            out.join("signature.der").display()
        )));
    }
    if let Some(content) = input_file::secret_content(out) {
        return Err(CliError::Usage(format!(
            "--out {}: holds {}; refusing to overwrite it with a signature. Choose another \
             --out",
            out.display(),
            content.describe()
        )));
    }
    Ok(())
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
