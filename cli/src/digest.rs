//! Message digests: SHA-256 of a text, or a digest given in hex; and the message options
//! `sign` and `verify` share (`--message`, `--message-file`, `--digest`, `--hash`,
//! `--eth-message`, `--btc-message`).

use std::path::Path;

use ecdsa2pc_core::sign::Digest;
use sha2::{Digest as _, Sha256};

use crate::error::CliError;
use crate::output::hex;
use crate::wallet::message::MessageHash;
use ecdsa2pc_net::input_file;

/// The message options of `sign` and `verify`, as given.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MessageOptions<'a> {
    /// `--message TEXT`.
    pub(crate) message: Option<&'a str>,
    /// `--message-file FILE` (`-` for standard input).
    pub(crate) message_file: Option<&'a Path>,
    /// `--digest HEX`.
    pub(crate) digest: Option<&'a str>,
    /// `--hash NAME`.
    pub(crate) hash: Option<MessageHash>,
    /// `--eth-message`.
    pub(crate) eth_message: bool,
    /// `--btc-message`.
    pub(crate) btc_message: bool,
}

/// The digest to sign or verify and how it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MessageDigest {
    /// The 32 bytes signed.
    pub(crate) digest: Digest,
    /// How the message was hashed; `None` for `--digest`.
    pub(crate) hash: Option<MessageHash>,
    /// What was hashed, for the log (e.g. `SHA-256 of message "pay Bob"`).
    pub(crate) what: String,
}

impl MessageOptions<'_> {
    /// Reads the message (once) and hashes it, or parses `--digest`; refuses conflicting
    /// options with a usage error.
    pub(crate) fn resolve(&self) -> Result<MessageDigest, CliError> {
        let usage = |text: &str| CliError::Usage(text.to_owned());
        let hash = match (self.hash, self.eth_message, self.btc_message) {
            (None, false, false) => None,
            (Some(hash), false, false) => Some(hash),
            (None, true, false) => Some(MessageHash::EthPersonal),
            (None, false, true) => Some(MessageHash::BitcoinSigned),
            _ => {
                return Err(usage(
                    "give at most one of --hash, --eth-message and --btc-message",
                ));
            }
        };
        let (bytes, source) = match (self.message, self.message_file, self.digest) {
            (Some(text), None, None) => (text.as_bytes().to_vec(), format!("message {text:?}")),
            (None, Some(path), None) => (read_message_file(path)?, describe_file(path)),
            (None, None, Some(text)) => {
                if hash.is_some() {
                    return Err(usage(
                        "--digest is already a hash: --hash, --eth-message and --btc-message \
                         apply to --message or --message-file",
                    ));
                }
                let digest = parse_digest_hex(text)
                    .map_err(|e| CliError::Usage(format!("--digest: {e}")))?;
                return Ok(MessageDigest {
                    digest,
                    hash: None,
                    what: format!("digest {}", hex(&digest)),
                });
            }
            _ => {
                return Err(usage(
                    "give exactly one of --message TEXT, --message-file FILE and --digest HEX",
                ));
            }
        };
        let hash = hash.unwrap_or(MessageHash::Sha256);
        Ok(MessageDigest {
            digest: hash.digest(&bytes),
            hash: Some(hash),
            what: format!("{} of {source} ({} bytes)", hash.label(), bytes.len()),
        })
    }
}

/// The largest message `--message-file` reads: 256 MiB. A larger file is hashed by the caller
/// and signed with `--digest`.
pub(crate) const MAX_MESSAGE_LEN: u64 = 256 * 1024 * 1024;

/// The exact bytes of `path`, or of standard input for `-` (nothing trimmed: a trailing
/// newline is part of the message).
fn read_message_file(path: &Path) -> Result<Vec<u8>, CliError> {
    let fail = |source| CliError::File {
        path: path.to_path_buf(),
        action: "read the message file",
        source,
    };
    let bytes = if path == Path::new("-") {
        input_file::read_stream(&mut std::io::stdin().lock(), MAX_MESSAGE_LEN)
    } else {
        input_file::read(path, MAX_MESSAGE_LEN)
    };
    bytes.map(|b| b.to_vec()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            fail(std::io::Error::new(
                e.kind(),
                format!("{e}: to sign a larger file, hash it and pass the hash with --digest"),
            ))
        } else {
            fail(e)
        }
    })
}

fn describe_file(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_owned()
    } else {
        format!("file {}", path.display())
    }
}

/// SHA-256 of `message`: what the demo signs and what `openssl dgst -sha256` verifies.
pub(crate) fn sha256(message: &[u8]) -> Digest {
    Sha256::digest(message).into()
}

/// Parses a 32-byte digest written as 64 hex digits (an optional `0x` prefix is allowed,
/// as Ethereum tools print it).
pub(crate) fn parse_digest_hex(text: &str) -> Result<Digest, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let bytes = parse_hex(digits)?;
    Digest::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "a digest must be 32 bytes (64 hex digits), got {} hex digits",
            digits.len()
        )
    })
}

/// Decodes hex (upper or lower case, no separators).
pub(crate) fn parse_hex(digits: &str) -> Result<Vec<u8>, String> {
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of hex digits ({}): each byte needs two",
            digits.len()
        ));
    }
    digits
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Ok((nibble(*hi)? << 4) | nibble(*lo)?),
            _ => Err("odd number of hex digits".to_owned()),
        })
        .collect()
}

fn nibble(c: u8) -> Result<u8, String> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("'{}' is not a hex digit", char::from(c))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options<'a>() -> MessageOptions<'a> {
        MessageOptions {
            message: None,
            message_file: None,
            digest: None,
            hash: None,
            eth_message: false,
            btc_message: false,
        }
    }

    #[test]
    fn message_options_pick_one_input_and_one_hash() {
        let abc = MessageOptions {
            message: Some("abc"),
            ..options()
        };
        let got = abc.resolve().unwrap();
        assert_eq!(got.digest, sha256(b"abc"));
        assert_eq!(got.hash, Some(MessageHash::Sha256));
        let eth = MessageOptions {
            eth_message: true,
            ..abc
        };
        assert_eq!(
            eth.resolve().unwrap().digest,
            MessageHash::EthPersonal.digest(b"abc")
        );
        let both = MessageOptions {
            btc_message: true,
            ..eth
        };
        let err = both.resolve().unwrap_err().to_string();
        assert!(err.contains("at most one of --hash"), "{err}");
        let none = options().resolve().unwrap_err().to_string();
        assert!(none.contains("exactly one of --message"), "{none}");
        let two = MessageOptions {
            digest: Some("00"),
            ..abc
        };
        assert!(
            two.resolve()
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        let hashed_digest = MessageOptions {
            digest: Some(&"ab".repeat(32)),
            hash: Some(MessageHash::Keccak256),
            ..options()
        };
        let err = hashed_digest.resolve().unwrap_err().to_string();
        assert!(err.contains("--digest is already a hash"), "{err}");
        let missing = MessageOptions {
            message_file: Some(Path::new("/nonexistent/message")),
            ..options()
        };
        let err = missing.resolve().unwrap_err();
        assert!(
            err.to_string().contains("cannot read the message file"),
            "{err}"
        );
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn digest_hex_round_trip_and_errors() {
        let hex = "BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(parse_digest_hex(hex), Ok(sha256(b"abc")));
        assert_eq!(parse_digest_hex(&format!("0x{hex}")), Ok(sha256(b"abc")));
        assert!(
            parse_digest_hex("abcd")
                .unwrap_err()
                .contains("64 hex digits")
        );
        assert!(parse_digest_hex("abc").unwrap_err().contains("odd"));
        assert!(
            parse_digest_hex(&hex.replace('B', "g"))
                .unwrap_err()
                .contains("'g'")
        );
    }
}
