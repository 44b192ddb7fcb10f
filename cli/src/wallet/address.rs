//! Addresses and public-key encodings derived from a public key.
//!
//! | format | what it is |
//! |---|---|
//! | `hex` | SEC1 compressed point (33 bytes) as hex |
//! | `uncompressed` | SEC1 uncompressed point (65 bytes, `04 ‖ x ‖ y`) as hex |
//! | `pem`, `der` | SubjectPublicKeyInfo (what OpenSSL reads), from [`crate::keyfile`] |
//! | `eth-address` | last 20 bytes of Keccak-256(x ‖ y), EIP-55 mixed-case checksum |
//! | `btc-p2wpkh` | BIP173 bech32 v0 witness program HASH160(compressed point): `bc1q…` / `tb1q…` |
//! | P2PKH | base58check of `0x00`/`0x6f` ‖ HASH160(compressed point): what `verifymessage` takes |

use bech32::hrp;
use k256::ecdsa::VerifyingKey;
use ripemd::Ripemd160;
use sha2::{Digest as _, Sha256};

use crate::output::hex;
use crate::wallet::Network;
use crate::wallet::message::keccak256;

/// Bitcoin's HASH160: RIPEMD-160 of SHA-256 (addresses, BIP32 fingerprints).
pub(crate) fn hash160(data: &[u8]) -> [u8; 20] {
    Ripemd160::digest(Sha256::digest(data)).into()
}

/// The SEC1 uncompressed point as hex (`04…`, 130 digits).
pub(crate) fn uncompressed_hex(key: &VerifyingKey) -> String {
    hex(key.to_sec1_point(false).as_bytes())
}

/// The Ethereum address of `key`, EIP-55 checksummed (`0x` and 40 mixed-case hex digits).
pub(crate) fn eth_address(key: &VerifyingKey) -> String {
    let point = key.to_sec1_point(false);
    // Keccak-256 of x ‖ y, without SEC1's 0x04 tag; the address is its last 20 bytes.
    let hash = keccak256(&point.as_bytes()[1..]);
    eip55(&hash[12..])
}

/// EIP-55: a hex letter is upper case where the matching nibble of Keccak-256 of the
/// lower-case hex address is 8 or more.
fn eip55(address: &[u8]) -> String {
    let lower = hex(address);
    let hash = keccak256(lower.as_bytes());
    let mut out = String::from("0x");
    for (i, c) in lower.chars().enumerate() {
        let byte = hash[i / 2];
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        out.push(if nibble >= 8 {
            c.to_ascii_uppercase()
        } else {
            c
        });
    }
    out
}

/// The native segwit v0 (P2WPKH) address of `key`: bech32 of HASH160 of the compressed
/// point.
pub(crate) fn p2wpkh(key: &VerifyingKey, network: Network) -> String {
    let program = hash160(key.to_sec1_point(true).as_bytes());
    let hrp = match network {
        Network::Mainnet => hrp::BC,
        Network::Testnet => hrp::TB,
    };
    let mut address = String::new();
    // A 20-byte version-0 program is always a valid witness program, and writing to a
    // String cannot fail: the unchecked encoder has nothing to refuse here.
    let _ = bech32::segwit::encode_lower_to_fmt_unchecked(
        &mut address,
        hrp,
        bech32::segwit::VERSION_0,
        &program,
    );
    address
}

/// The legacy P2PKH address of the compressed `key` (`1…` / `m…`/`n…`): Bitcoin Core's
/// `verifymessage` takes only these.
pub(crate) fn p2pkh(key: &VerifyingKey, network: Network) -> String {
    let version = match network {
        Network::Mainnet => 0x00,
        Network::Testnet => 0x6f,
    };
    let mut payload = vec![version];
    payload.extend_from_slice(&hash160(key.to_sec1_point(true).as_bytes()));
    bs58::encode(payload).with_check().into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::parse_hex;

    fn key(sec1_hex: &str) -> VerifyingKey {
        VerifyingKey::from_sec1_bytes(&parse_hex(sec1_hex).unwrap()).unwrap()
    }

    /// The generator G, the public key of private key 1.
    const G: &str = "0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798";

    #[test]
    fn ethereum_address_of_private_key_one() {
        assert_eq!(
            eth_address(&key(G)),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        assert_eq!(
            uncompressed_hex(&key(G)),
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\
             483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
        );
    }

    #[test]
    fn eip55_published_examples() {
        // The all-caps, all-lower and mixed examples of EIP-55.
        for want in [
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let raw = parse_hex(&want[2..]).unwrap();
            assert_eq!(eip55(&raw), want);
        }
    }

    #[test]
    fn bip173_p2wpkh_of_the_generator() {
        assert_eq!(
            p2wpkh(&key(G), Network::Mainnet),
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert_eq!(
            p2wpkh(&key(G), Network::Testnet),
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
        );
        assert_eq!(
            hex(&hash160(&parse_hex(G).unwrap())),
            "751e76e8199196d454941c45d1b3a323f1433bd6"
        );
    }

    #[test]
    fn p2pkh_of_the_generator() {
        // Private key 1's well-known compressed-key address; the testnet form is the same
        // HASH160 (BIP173's 751e76e8…) under version byte 0x6f.
        assert_eq!(
            p2pkh(&key(G), Network::Mainnet),
            "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
        );
        assert_eq!(
            p2pkh(&key(G), Network::Testnet),
            "mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r"
        );
    }
}
