//! `ecdsa2pc verify`: plain ECDSA verification of one signature, no peer.

use std::path::PathBuf;

use argh::FromArgs;
use ecdsa2pc_core::bip32::DerivationPath;
use k256::ecdsa::VerifyingKey;

use crate::digest::MessageOptions;
use crate::error::{CliError, ExitStatus};
use crate::keyfile::{read, read_public_key};
use crate::output::{Log, Outcome, Style, finish, hex};
use crate::share_file::public_key_hex;
use crate::wallet::message::MessageHash;
use crate::wallet::signature::{self, ParsedSignature};
use crate::wallet::xpub::Xpub;

/// Verify an ECDSA (secp256k1) signature over a message (SHA-256 by default, or another
/// --hash) or over a given digest.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    help_triggers("-h", "--help", "help"),
    name = "verify",
    example = "{command_name} --public-key demo-out/public-key.pem --signature \
               demo-out/signature.der --message-file demo-out/message.txt\n\
               {command_name} --public-key key.hex --signature sig.txt --message hello --eth-message\n\
               {command_name} --public-key key.xpub --path m/0/7 --signature sig.txt --message hello",
    note = "--public-key takes a SubjectPublicKeyInfo PEM or DER (as `demo --out-dir`, `pubkey \
            --format pem|der` and OpenSSL write it), a SEC1 point in hex, or an xpub/tpub \
            (`pubkey --format xpub`), whose child at --path m/0/7 is then the key. --signature takes \
            every format `sign` writes: binary DER, DER hex, 64-byte r||s (hex or binary), \
            Ethereum's 65-byte r||s||v (hex, with or without 0x), Bitcoin's base64 message \
            signature. For a 65-byte signature the public key recovered from it must be \
            --public-key. A high-s signature without recovery id is accepted (plain ECDSA) \
            with a note on stderr. The verdict goes to stdout: a line starting with valid, or \
            invalid (exit 1) with the reason on stderr.",
    error_code(0, "the signature is valid"),
    error_code(1, "the signature is not valid for this key and message"),
    error_code(2, "usage error, or an unreadable or malformed input file")
)]
pub(crate) struct VerifyArgs {
    /// public key file (SPKI PEM or DER, SEC1 hex, or an xpub/tpub)
    #[argh(option)]
    public_key: PathBuf,
    /// verify under the BIP32 child at this non-hardened path (e.g. m/0/7) of the xpub in
    /// --public-key (default: m, the key itself)
    #[argh(option, default = "DerivationPath::MASTER")]
    path: DerivationPath,
    /// signature file (any format `sign` writes)
    #[argh(option)]
    signature: PathBuf,
    /// the signed text
    #[argh(option)]
    message: Option<String>,
    /// the signed message: the exact bytes of this file (`-` for standard input)
    #[argh(option)]
    message_file: Option<PathBuf>,
    /// the signed 32-byte digest as 64 hex digits, instead of a message
    #[argh(option)]
    digest: Option<String>,
    /// how the message was hashed: sha256 (default) or keccak256
    #[argh(option)]
    hash: Option<MessageHash>,
    /// the message was hashed as an Ethereum personal message (EIP-191)
    #[argh(switch)]
    eth_message: bool,
    /// the message was hashed as a Bitcoin signed message
    #[argh(switch)]
    btc_message: bool,
    /// print the result as one JSON object on stdout
    #[argh(switch)]
    json: bool,
    /// print nothing on stderr but errors
    #[argh(switch, short = 'q')]
    quiet: bool,
}

/// Verifies; prints the result; returns the exit status.
pub(crate) fn run(args: &VerifyArgs) -> ExitStatus {
    let style = Style {
        json: args.json,
        quiet: args.quiet,
        verbose: false,
    };
    let log = Log::new("", style);
    let result = verify(args, &log);
    // The verdict is the result either way: "invalid" on stdout too (JSON says it with
    // "ok": false and exit code 1), the reason on stderr.
    if let (false, Err(CliError::Verification(_))) = (args.json, &result) {
        println!("invalid");
    }
    finish(&log, style, result)
}

fn verify(args: &VerifyArgs, log: &Log) -> Result<Outcome, CliError> {
    let input = MessageOptions {
        message: args.message.as_deref(),
        message_file: args.message_file.as_deref(),
        digest: args.digest.as_deref(),
        hash: args.hash,
        eth_message: args.eth_message,
        btc_message: args.btc_message,
    }
    .resolve()?;
    let digest = &input.digest;
    let key = verifying_key(args)?;
    let parsed = signature::parse_signature(&read(&args.signature)?).map_err(|reason| {
        CliError::BadInput {
            path: args.signature.clone(),
            reason,
        }
    })?;
    let verified = signature::verify(&parsed, &key, digest).map_err(CliError::Verification)?;
    if verified.high_s {
        log.line(
            "note: the signature has a high s; valid as plain ECDSA, but Bitcoin and \
             Ethereum rules accept only the low-s form",
        );
    }
    let recoverable = matches!(parsed, ParsedSignature::Recoverable { .. });
    let how = if recoverable {
        " (and recovers that key)"
    } else {
        ""
    };
    Ok(Outcome::default()
        .text(format_args!(
            "valid: the signature verifies for public key {} and digest {}{how}",
            public_key_hex(&key),
            hex(digest)
        ))
        .field("command", "verify")
        .field("valid", true)
        .field("public_key", public_key_hex(&key))
        .field("digest", hex(digest))
        .field("hash", input.hash.map(MessageHash::name))
        .field("recovered", recoverable)
        .field("high_s", verified.high_s))
}

/// The key to verify under: the file's key, or the child at `--path` of the xpub in it.
fn verifying_key(args: &VerifyArgs) -> Result<VerifyingKey, CliError> {
    let bytes = read(&args.public_key)?;
    let text = core::str::from_utf8(&bytes)
        .map(str::trim)
        .unwrap_or_default();
    if !(text.starts_with("xpub") || text.starts_with("tpub")) {
        if args.path.depth() != 0 {
            return Err(CliError::Usage(format!(
                "--path {}: a path derives from an extended public key; give --public-key a \
                 file holding an xpub or tpub (`ecdsa2pc pubkey --format xpub`)",
                args.path
            )));
        }
        return read_public_key(&args.public_key);
    }
    let xpub = Xpub::decode(text).map_err(|reason| CliError::BadInput {
        path: args.public_key.clone(),
        reason,
    })?;
    let (child, _) = xpub
        .derive(&args.path)
        .map_err(|e| CliError::Usage(format!("--path {}: {e}", args.path)))?;
    VerifyingKey::from_affine(*child.key.key())
        .map_err(|_| CliError::Verification("the derived public key is invalid".into()))
}
