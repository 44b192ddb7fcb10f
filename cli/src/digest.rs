//! Message digests: SHA-256 of a text, or a digest given in hex.

use ecdsa2pc_core::sign::Digest;
use sha2::{Digest as _, Sha256};

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

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            crate::output::hex(&sha256(b"abc")),
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
