//! `pubkey --format`: one public key in each encoding wallets and tools expect.

use core::str::FromStr;

use k256::ecdsa::VerifyingKey;

use crate::keyfile::{spki_der, spki_pem};
use crate::share_file::public_key_hex;
use crate::wallet::Network;
use crate::wallet::address::{eth_address, p2pkh, p2wpkh, uncompressed_hex};
use crate::wallet::xpub::Xpub;

/// A public-key output format (the table in [`crate::wallet::address`] says what each is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PublicKeyFormat {
    /// Compressed SEC1 point, hex.
    Hex,
    /// Uncompressed SEC1 point, hex.
    Uncompressed,
    /// SubjectPublicKeyInfo PEM.
    Pem,
    /// SubjectPublicKeyInfo DER (binary).
    Der,
    /// BIP32 extended public key (`xpub`/`tpub`).
    Xpub,
    /// EIP-55 Ethereum address.
    EthAddress,
    /// Native segwit v0 address (`bc1q`/`tb1q`).
    BtcP2wpkh,
    /// Legacy address of the compressed key (`1…`, testnet `m…`/`n…`): the one Bitcoin
    /// Core's `verifymessage` takes for a `sign --btc-message` signature.
    BtcP2pkh,
}

impl FromStr for PublicKeyFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(match name {
            "hex" => Self::Hex,
            "uncompressed" => Self::Uncompressed,
            "pem" => Self::Pem,
            "der" => Self::Der,
            "xpub" => Self::Xpub,
            "eth-address" => Self::EthAddress,
            "btc-p2wpkh" => Self::BtcP2wpkh,
            "btc-p2pkh" => Self::BtcP2pkh,
            other => {
                return Err(format!(
                    "unknown public key format '{other}': use hex, uncompressed, pem, der, \
                     xpub, eth-address, btc-p2wpkh or btc-p2pkh"
                ));
            }
        })
    }
}

impl PublicKeyFormat {
    /// The name `--format` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Hex => "hex",
            Self::Uncompressed => "uncompressed",
            Self::Pem => "pem",
            Self::Der => "der",
            Self::Xpub => "xpub",
            Self::EthAddress => "eth-address",
            Self::BtcP2wpkh => "btc-p2wpkh",
            Self::BtcP2pkh => "btc-p2pkh",
        }
    }

    /// The bytes to print or write (only [`Self::Der`] is binary). `xpub` is the extended
    /// key of `key` when the share has a chain code (it must be the same key, at the path
    /// asked for); `network` picks `xpub`/`tpub` and `bc`/`tb`.
    pub(crate) fn render(
        self,
        key: &VerifyingKey,
        xpub: Option<&Xpub>,
        network: Network,
    ) -> Result<Vec<u8>, String> {
        Ok(match self {
            Self::Hex => public_key_hex(key).into_bytes(),
            Self::Uncompressed => uncompressed_hex(key).into_bytes(),
            Self::Pem => spki_pem(key).into_bytes(),
            Self::Der => spki_der(key),
            Self::EthAddress => eth_address(key).into_bytes(),
            Self::BtcP2wpkh => p2wpkh(key, network).into_bytes(),
            Self::BtcP2pkh => p2pkh(key, network).into_bytes(),
            Self::Xpub => {
                let xpub = xpub.ok_or_else(|| ecdsa2pc_core::Error::NoChainCode.to_string())?;
                if xpub.key.key() != key.as_affine() {
                    return Err("the extended key is not of this public key".to_owned());
                }
                Xpub { network, ..*xpub }.encode().into_bytes()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecdsa2pc_core::bip32::ExtendedPublicKey;
    use k256::AffinePoint;

    fn render(format: &str, xpub: Option<&Xpub>, network: Network) -> Result<String, String> {
        let key = VerifyingKey::from_affine(AffinePoint::GENERATOR).unwrap();
        let bytes = format
            .parse::<PublicKeyFormat>()?
            .render(&key, xpub, network)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    #[test]
    fn every_format_of_the_generator() {
        let main = Network::Mainnet;
        assert_eq!(
            render("hex", None, main).unwrap(),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
        assert!(
            render("uncompressed", None, main)
                .unwrap()
                .starts_with("0479be66")
        );
        assert!(
            render("pem", None, main)
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        let key = VerifyingKey::from_affine(AffinePoint::GENERATOR).unwrap();
        assert_eq!(
            PublicKeyFormat::Der.render(&key, None, main).unwrap(),
            spki_der(&key)
        );
        assert_eq!(
            render("eth-address", None, main).unwrap(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        // The compressed generator's P2PKH address (private key 1).
        assert_eq!(
            render("btc-p2pkh", None, main).unwrap(),
            "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
        );
        assert_eq!(
            render("btc-p2wpkh", None, Network::Testnet).unwrap(),
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
        );
        let xpub = Xpub::master(
            ExtendedPublicKey::new(AffinePoint::GENERATOR, [0; 32]).unwrap(),
            main,
        );
        assert!(
            render("xpub", Some(&xpub), main)
                .unwrap()
                .starts_with("xpub")
        );
        assert!(
            render("xpub", Some(&xpub), Network::Testnet)
                .unwrap()
                .starts_with("tpub")
        );
    }

    #[test]
    fn refusals_say_why() {
        let main = Network::Mainnet;
        assert!(
            render("xpub", None, main)
                .unwrap_err()
                .contains("made before chain codes")
        );
        let other = Xpub::master(
            ExtendedPublicKey::new(
                (k256::ProjectivePoint::GENERATOR.double()).to_affine(),
                [0; 32],
            )
            .unwrap(),
            main,
        );
        assert!(
            render("xpub", Some(&other), main)
                .unwrap_err()
                .contains("not of this public key")
        );
        assert!(
            render("wif", None, main)
                .unwrap_err()
                .contains("unknown public key format 'wif'")
        );
    }
}
