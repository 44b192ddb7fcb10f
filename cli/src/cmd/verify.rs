//! `ecdsa2pc verify`: plain ECDSA verification of one signature, no peer.

use std::path::PathBuf;

use argh::FromArgs;
use k256::ecdsa::signature::hazmat::PrehashVerifier;

use crate::digest::{parse_digest_hex, sha256};
use crate::error::{CliError, ExitStatus};
use crate::keyfile::{read_public_key, read_signature};
use crate::output::{hex, report_error};

/// Verify an ECDSA (secp256k1) signature over SHA-256(message) or over a given digest.
#[derive(FromArgs, Debug)]
#[argh(
    subcommand,
    name = "verify",
    example = "{command_name} --public-key demo-out/public-key.pem --signature \
               demo-out/signature.der --message \"$(cat demo-out/message.txt)\"",
    note = "--public-key takes a SubjectPublicKeyInfo PEM or DER (as `demo --out-dir` and \
            OpenSSL write it) or a SEC1 point in hex. --signature takes DER, or hex of the DER \
            or of the 64-byte r||s. A high-s signature is accepted (plain ECDSA) with a note.",
    error_code(0, "the signature is valid"),
    error_code(1, "the signature is not valid for this key and message"),
    error_code(2, "usage error, or an unreadable or malformed input file")
)]
pub(crate) struct VerifyArgs {
    /// public key file (SPKI PEM or DER, or SEC1 hex)
    #[argh(option)]
    public_key: PathBuf,
    /// signature file (DER, or hex)
    #[argh(option)]
    signature: PathBuf,
    /// the signed text (its SHA-256 digest is verified)
    #[argh(option)]
    message: Option<String>,
    /// the signed 32-byte digest as 64 hex digits, instead of --message
    #[argh(option)]
    digest: Option<String>,
}

/// Verifies; prints the result; returns the exit status.
pub(crate) fn run(args: &VerifyArgs) -> ExitStatus {
    match verify(args) {
        Ok(()) => ExitStatus::Success,
        Err(err) => {
            report_error(&err, false);
            err.exit_status()
        }
    }
}

fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let digest = match (&args.message, &args.digest) {
        (Some(message), None) => sha256(message.as_bytes()),
        (None, Some(text)) => {
            parse_digest_hex(text).map_err(|e| CliError::Usage(format!("--digest: {e}")))?
        }
        _ => {
            return Err(CliError::Usage(
                "give exactly one of --message TEXT and --digest HEX".to_owned(),
            ));
        }
    };
    let key = read_public_key(&args.public_key)?;
    let signature = read_signature(&args.signature)?;
    let low_s = signature.normalize_s();
    if key.verify_prehash(&digest, &low_s).is_err() {
        return Err(CliError::Verification(format!(
            "the signature does NOT verify for public key {} and digest {}",
            hex(key.to_sec1_point(true).as_bytes()),
            hex(&digest)
        )));
    }
    if low_s != signature {
        println!(
            "note: the signature has a high s; valid as plain ECDSA, but Bitcoin and \
             Ethereum rules accept only the low-s form"
        );
    }
    println!(
        "valid: the signature verifies for public key {} and digest {}",
        hex(key.to_sec1_point(true).as_bytes()),
        hex(&digest)
    );
    Ok(())
}
