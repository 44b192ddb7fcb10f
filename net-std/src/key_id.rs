//! The key id: the one name of a two-party key across the whole project.
//!
//! A key's id is SHA-256 of its joint public key Q in compressed SEC1 form (33 bytes), all
//! 32 bytes. It is the same for both parties and across refreshes (every epoch has the same
//! Q), and it is what names the key everywhere: the request at the start of a connection
//! ([`crate::request`]), party 0's share file under `serve` (`<64 hex digits>.share`), the
//! header of a sealed share file ([`crate::sealed`]) and the lock registry's entries
//! ([`crate::lock_registry`]). Wallet formats name a key by other hashes (HASH160 in BIP-32
//! fingerprints and addresses); those are labelled as such where they are shown.

use k256::AffinePoint;
use k256::elliptic_curve::sec1::ToSec1Point;
use sha2::{Digest as _, Sha256};

/// Length of a key id in bytes.
pub const KEY_ID_LEN: usize = 32;

/// A key's id: SHA-256 of its joint public key Q, SEC1 compressed.
pub type KeyId = [u8; KEY_ID_LEN];

/// The id of the key with joint public key `q`.
#[must_use]
pub fn key_id(q: &AffinePoint) -> KeyId {
    Sha256::digest(q.to_sec1_point(true).as_bytes()).into()
}

/// A key id as 64 lower-case hex digits (the share file name `serve` uses, the lock
/// registry's entry name, what logs show).
#[must_use]
pub fn key_id_hex(id: &KeyId) -> String {
    crate::identity::hex(id)
}

/// Parses 64 hex digits (either case) as a key id.
#[must_use]
pub fn parse_key_id(text: &str) -> Option<KeyId> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * KEY_ID_LEN {
        return None;
    }
    let mut id = [0u8; KEY_ID_LEN];
    for (out, pair) in id.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        let (Some(hi), Some(lo)) = (
            pair.first().copied().and_then(digit),
            pair.get(1).copied().and_then(digit),
        ) else {
            return None;
        };
        *out = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_parse_back_and_are_sha256_of_q() {
        let id = [0xab; KEY_ID_LEN];
        assert_eq!(parse_key_id(&key_id_hex(&id)), Some(id));
        assert_eq!(parse_key_id(&key_id_hex(&id).to_uppercase()), Some(id));
        assert_eq!(parse_key_id("ab"), None);
        assert_eq!(parse_key_id(&"zz".repeat(KEY_ID_LEN)), None);
        // SHA-256 of G compressed (0279be66…), as `sha256sum` gives it.
        assert_eq!(
            key_id_hex(&key_id(&AffinePoint::GENERATOR)),
            "0f715baf5d4c2ed329785cef29e562f73488c8a2bb9dbc5700b361d54b9b0554"
        );
    }
}
