//! Message hashing as each ecosystem does it, before the 32-byte digest is signed.
//!
//! | ecosystem | digest of a message |
//! |---|---|
//! | OpenSSL, most ECDSA tooling | SHA-256 (`openssl dgst -sha256`) |
//! | Ethereum raw hashes (transactions are hashed by the wallet) | Keccak-256 |
//! | Ethereum `personal_sign` / `eth_sign` (EIP-191 version 0x45) | Keccak-256 of `"\x19Ethereum Signed Message:\n" ‖ decimal length ‖ message` |
//! | Bitcoin `signmessage` / `verifymessage` | double SHA-256 of `varstr("Bitcoin Signed Message:\n") ‖ varstr(message)` |

use ecdsa2pc_core::sign::Digest;
use sha2::{Digest as _, Sha256};
use sha3::Keccak256;

use crate::digest::sha256;

/// How a message becomes the digest that is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageHash {
    /// SHA-256 of the bytes (the default, what OpenSSL verifies).
    Sha256,
    /// Keccak-256 of the bytes (Ethereum's hash; not NIST SHA3-256).
    Keccak256,
    /// EIP-191 personal message: Keccak-256 of the prefixed message.
    EthPersonal,
    /// Bitcoin signed message: double SHA-256 of the prefixed message.
    BitcoinSigned,
}

impl core::str::FromStr for MessageHash {
    type Err = String;

    /// The names `--hash` takes; the prefixed forms have their own flags.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "sha256" => Ok(Self::Sha256),
            "keccak256" => Ok(Self::Keccak256),
            other => Err(format!(
                "unknown hash '{other}': use sha256 or keccak256 (or --eth-message / \
                 --btc-message for the prefixed message forms)"
            )),
        }
    }
}

impl MessageHash {
    /// The name `--json` output gives this rule (and `--hash` takes, for the first two).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Keccak256 => "keccak256",
            Self::EthPersonal => "eip191",
            Self::BitcoinSigned => "bitcoin-message",
        }
    }

    /// How the log describes this rule.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Keccak256 => "Keccak-256",
            Self::EthPersonal => "EIP-191 personal-message hash",
            Self::BitcoinSigned => "Bitcoin signed-message hash",
        }
    }

    /// The digest of `message` under this rule.
    pub(crate) fn digest(self, message: &[u8]) -> Digest {
        match self {
            Self::Sha256 => sha256(message),
            Self::Keccak256 => keccak256(message),
            Self::EthPersonal => eth_personal_digest(message),
            Self::BitcoinSigned => bitcoin_message_digest(message),
        }
    }
}

/// Keccak-256 (the pre-standard padding Ethereum uses).
pub(crate) fn keccak256(data: &[u8]) -> Digest {
    Keccak256::digest(data).into()
}

/// EIP-191 version `0x45` ("personal_sign"): the length is written in decimal ASCII.
pub(crate) fn eth_personal_digest(message: &[u8]) -> Digest {
    let mut hasher = Keccak256::new();
    hasher.update(b"\x19Ethereum Signed Message:\n");
    hasher.update(message.len().to_string().as_bytes());
    hasher.update(message);
    hasher.finalize().into()
}

/// The magic Bitcoin Core prefixes to a signed message (its length byte 0x18 comes from
/// [`compact_size`]).
const BITCOIN_MESSAGE_MAGIC: &[u8] = b"Bitcoin Signed Message:\n";

/// Bitcoin Core's `MessageHash`: SHA-256d over the length-prefixed magic and message.
pub(crate) fn bitcoin_message_digest(message: &[u8]) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(compact_size(BITCOIN_MESSAGE_MAGIC.len()));
    hasher.update(BITCOIN_MESSAGE_MAGIC);
    hasher.update(compact_size(message.len()));
    hasher.update(message);
    Sha256::digest(hasher.finalize()).into()
}

/// Bitcoin's CompactSize length prefix: one byte below 0xfd, else a marker and 2, 4 or 8
/// little-endian bytes.
fn compact_size(len: usize) -> Vec<u8> {
    // usize is at most 64 bits on every target Rust supports.
    let n = u64::try_from(len).unwrap_or(u64::MAX);
    match n {
        0..=0xfc => vec![n.to_le_bytes()[0]],
        0xfd..=0xffff => [&[0xfd][..], &n.to_le_bytes()[..2]].concat(),
        0x1_0000..=0xffff_ffff => [&[0xfe][..], &n.to_le_bytes()[..4]].concat(),
        _ => [&[0xff][..], &n.to_le_bytes()[..]].concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::hex;

    #[test]
    fn keccak256_is_ethereums_hash() {
        // Keccak-256 of the empty string (Ethereum's well-known empty hash), not SHA3-256's
        // a7ffc6f8….
        assert_eq!(
            hex(&keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(MessageHash::Keccak256.digest(b""), keccak256(b""));
        assert_eq!(MessageHash::Sha256.digest(b"abc"), sha256(b"abc"));
        assert_eq!("keccak256".parse(), Ok(MessageHash::Keccak256));
        assert_eq!("sha256".parse(), Ok(MessageHash::Sha256));
        assert!(
            "sha3"
                .parse::<MessageHash>()
                .unwrap_err()
                .contains("unknown hash 'sha3'")
        );
    }

    #[test]
    fn eip191_hello_world() {
        // ethers.js `hashMessage("hello world")` / web3 `eth.accounts.hashMessage`.
        assert_eq!(
            hex(&eth_personal_digest(b"hello world")),
            "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"
        );
        assert_eq!(
            MessageHash::EthPersonal.digest(b"hello world"),
            eth_personal_digest(b"hello world")
        );
    }

    #[test]
    fn compact_size_boundaries() {
        assert_eq!(compact_size(0), [0x00]);
        assert_eq!(compact_size(0x18), [0x18]);
        assert_eq!(compact_size(0xfc), [0xfc]);
        assert_eq!(compact_size(0xfd), [0xfd, 0xfd, 0x00]);
        assert_eq!(compact_size(0xffff), [0xfd, 0xff, 0xff]);
        assert_eq!(compact_size(0x1_0000), [0xfe, 0x00, 0x00, 0x01, 0x00]);
        assert_eq!(compact_size(0x1_0000_0000), [0xff, 0, 0, 0, 0, 1, 0, 0, 0]);
    }
}
