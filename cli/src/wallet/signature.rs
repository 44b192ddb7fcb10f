//! Signature encodings wallets use, with the recovery id computed by the signer.
//!
//! | name | bytes | who reads it |
//! |---|---|---|
//! | `der` | ASN.1 DER `SEQUENCE { r, s }` (binary) | OpenSSL, most X.509-world tooling |
//! | `hex` | the DER as hex text | the same, through text channels |
//! | `compact` | 64 bytes `r ‖ s` as hex text | Bitcoin libraries (secp256k1 "compact"), JOSE ES256K |
//! | `eth` | 65 bytes `r ‖ s ‖ v`, `v = 27 + recovery id`, as `0x` hex text | Ethereum (`personal_sign`, `ecrecover`) |
//! | Bitcoin message | 65 bytes `header ‖ r ‖ s`, header `27 + 4 + recovery id` (compressed key), base64 | Bitcoin Core `verifymessage`, Electrum (BIP137 headers) |
//!
//! Every signature is normalised to low s first: Bitcoin (BIP146 LOW_S) and Ethereum (EIP-2)
//! reject the high-s twin, and the recovery id belongs to the s it is written with.

use core::str::FromStr;

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ecdsa2pc_core::sign::Digest;
use k256::ecdsa::signature::hazmat::PrehashVerifier as _;
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use crate::digest::parse_hex;
use crate::output::hex;
use crate::share_file::public_key_hex;

/// How `sign` writes a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignatureFormat {
    /// Binary DER.
    Der,
    /// DER as lower-case hex.
    DerHex,
    /// `r ‖ s` (64 bytes) as lower-case hex.
    Compact,
    /// `r ‖ s ‖ v` (65 bytes) as `0x`-prefixed lower-case hex.
    Eth,
}

impl FromStr for SignatureFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "der" => Ok(Self::Der),
            "hex" => Ok(Self::DerHex),
            "compact" => Ok(Self::Compact),
            "eth" => Ok(Self::Eth),
            other => Err(format!(
                "unknown signature format '{other}': use der, hex, compact or eth"
            )),
        }
    }
}

impl SignatureFormat {
    /// The name `--format` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Der => "der",
            Self::DerHex => "hex",
            Self::Compact => "compact",
            Self::Eth => "eth",
        }
    }
}

/// A low-s signature with the recovery id that gives back the signer's key from it and the
/// digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecoverableSignature {
    signature: Signature,
    recovery_id: RecoveryId,
}

impl RecoverableSignature {
    /// Normalises `signature` to low s and finds its recovery id by trial recovery against
    /// `key`.
    pub(crate) fn new(
        key: &VerifyingKey,
        digest: &Digest,
        signature: &Signature,
    ) -> Result<Self, String> {
        let signature = signature.normalize_s();
        let recovery_id = RecoveryId::trial_recovery_from_prehash(key, digest, &signature)
            .map_err(|_| {
                format!(
                    "the signature does not verify for public key {} and digest {}, so it has \
                     no recovery id",
                    public_key_hex(key),
                    hex(digest)
                )
            })?;
        Ok(Self {
            signature,
            recovery_id,
        })
    }

    /// The low-s signature.
    pub(crate) fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Its recovery id.
    pub(crate) fn recovery_id(&self) -> RecoveryId {
        self.recovery_id
    }

    /// Ethereum's 65 bytes `r ‖ s ‖ v` with `v = 27 + (y parity)`.
    pub(crate) fn eth_bytes(&self) -> Result<[u8; 65], String> {
        if self.recovery_id.is_x_reduced() {
            // x(R) ≥ n happens with probability about 2^-128; Ethereum's v has no room for it.
            return Err(
                "this signature's R has x ≥ n, which Ethereum's v cannot express: \
                        sign again (a new nonce)"
                    .to_owned(),
            );
        }
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&self.signature.to_bytes());
        out[64] = 27 + self.recovery_id.to_byte();
        Ok(out)
    }

    /// Bitcoin's message signature: header `27 + 4 + recovery id` (the `+ 4` says the
    /// address is of the compressed key, as this tool's keys are) then `r ‖ s`, in base64.
    pub(crate) fn bitcoin_message_base64(&self) -> String {
        let mut out = [0u8; 65];
        out[0] = 27 + 4 + self.recovery_id.to_byte();
        out[1..].copy_from_slice(&self.signature.to_bytes());
        BASE64.encode(out)
    }

    /// The bytes `sign` writes for `format` (only [`SignatureFormat::Der`] is binary).
    pub(crate) fn encode(&self, format: SignatureFormat) -> Result<Vec<u8>, String> {
        Ok(match format {
            SignatureFormat::Der => self.signature.to_der().as_bytes().to_vec(),
            SignatureFormat::DerHex => hex(self.signature.to_der().as_bytes()).into_bytes(),
            SignatureFormat::Compact => hex(&self.signature.to_bytes()).into_bytes(),
            SignatureFormat::Eth => format!("0x{}", hex(&self.eth_bytes()?)).into_bytes(),
        })
    }
}

/// A signature as read back by `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParsedSignature {
    /// DER or 64-byte `r ‖ s`: no recovery id.
    Plain(Signature),
    /// 65 bytes with a recovery id (Ethereum or Bitcoin message form).
    Recoverable {
        /// The signature as written (its s is checked to be low).
        signature: Signature,
        /// The recovery id it carries.
        recovery_id: RecoveryId,
    },
}

/// Reads a signature in any form [`RecoverableSignature`] writes: binary DER, 64 or 65
/// bytes; the same as hex text (optional `0x`); a Bitcoin message signature in base64.
pub(crate) fn parse_signature(input: &[u8]) -> Result<ParsedSignature, String> {
    let text = core::str::from_utf8(input).ok().map(str::trim);
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return parse_raw(&parse_hex(digits).map_err(|e| format!("hex signature: {e}"))?);
        }
        // Base64 of 65 bytes is 88 characters ending in '=', never all hex digits.
        if let Ok(raw) = BASE64.decode(text) {
            return parse_bitcoin_message(&raw);
        }
    }
    parse_raw(input)
}

/// DER, 64-byte `r ‖ s` or Ethereum's 65-byte `r ‖ s ‖ v`.
fn parse_raw(raw: &[u8]) -> Result<ParsedSignature, String> {
    match raw.len() {
        64 => Signature::from_slice(raw)
            .map(ParsedSignature::Plain)
            .map_err(|_| "64-byte signature: r or s is zero or not below the group order".into()),
        65 => {
            let (rs, v) = raw.split_at(64);
            let recovery_id = match v {
                [v @ (0 | 1)] => *v,
                [v @ (27 | 28)] => v - 27,
                [v, ..] => {
                    return Err(format!(
                        "65-byte signature: v = {v}, expected 27 or 28 (or 0 or 1); \
                         EIP-155 chain-id values belong to transactions, not messages"
                    ));
                }
                [] => return Err("65-byte signature without v".into()),
            };
            recoverable(rs, recovery_id)
        }
        _ => Signature::from_der(raw)
            .map(ParsedSignature::Plain)
            .map_err(|_| {
                format!(
                    "not a signature: {} bytes are neither DER nor 64-byte r||s nor 65-byte \
                 r||s||v",
                    raw.len()
                )
            }),
    }
}

/// The 65 bytes of a Bitcoin message signature: `header ‖ r ‖ s`, header 27–42 (BIP137:
/// 27–30 uncompressed P2PKH, 31–34 compressed P2PKH, 35–38 P2SH-P2WPKH, 39–42 P2WPKH).
fn parse_bitcoin_message(raw: &[u8]) -> Result<ParsedSignature, String> {
    match raw.split_first() {
        Some((&header @ 27..=42, rs)) if rs.len() == 64 => recoverable(rs, (header - 27) % 4),
        Some((header, rs)) if rs.len() == 64 => Err(format!(
            "Bitcoin message signature: header byte {header}, expected 27 to 42"
        )),
        _ => Err(format!(
            "base64 signature of {} bytes: a Bitcoin message signature has 65",
            raw.len()
        )),
    }
}

fn recoverable(rs: &[u8], recovery_id: u8) -> Result<ParsedSignature, String> {
    let signature = Signature::from_slice(rs)
        .map_err(|_| "r or s is zero or not below the group order".to_owned())?;
    let recovery_id = RecoveryId::from_byte(recovery_id)
        .ok_or_else(|| format!("recovery id {recovery_id} is out of range"))?;
    Ok(ParsedSignature::Recoverable {
        signature,
        recovery_id,
    })
}

/// What a successful verification found out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verified {
    /// The signature had a high s: valid plain ECDSA, refused by Bitcoin and Ethereum.
    pub(crate) high_s: bool,
}

/// Verifies a parsed signature for `key` and `digest`; for a 65-byte signature the key
/// recovered from it must be `key`.
pub(crate) fn verify(
    parsed: &ParsedSignature,
    key: &VerifyingKey,
    digest: &Digest,
) -> Result<Verified, String> {
    let fails = || {
        format!(
            "the signature does NOT verify for public key {} and digest {}",
            public_key_hex(key),
            hex(digest)
        )
    };
    match parsed {
        ParsedSignature::Plain(signature) => {
            let low_s = signature.normalize_s();
            key.verify_prehash(digest, &low_s).map_err(|_| fails())?;
            Ok(Verified {
                high_s: low_s != *signature,
            })
        }
        ParsedSignature::Recoverable {
            signature,
            recovery_id,
        } => {
            if signature.normalize_s() != *signature {
                return Err("a 65-byte signature must have a low s (Ethereum's EIP-2, \
                            Bitcoin's LOW_S): this one's recovery id belongs to the high-s \
                            form no wallet accepts"
                    .to_owned());
            }
            let recovered = recover(signature, *recovery_id, digest).map_err(|_| fails())?;
            if recovered != *key {
                return Err(format!(
                    "the signature recovers public key {}, not {} (digest {})",
                    public_key_hex(&recovered),
                    public_key_hex(key),
                    hex(digest)
                ));
            }
            // Recovery solves the verification equation, but k256's recovery does not re-check
            // it: verify plainly too, so a 65-byte signature never passes on recovery alone.
            key.verify_prehash(digest, signature).map_err(|_| fails())?;
            Ok(Verified { high_s: false })
        }
    }
}

/// The public key a recoverable signature gives back for `digest` (it verifies under it).
pub(crate) fn recover(
    signature: &Signature,
    recovery_id: RecoveryId,
    digest: &Digest,
) -> Result<VerifyingKey, String> {
    VerifyingKey::recover_from_prehash(digest, signature, recovery_id).map_err(|_| {
        format!(
            "no public key recovers from this signature and digest {}",
            hex(digest)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::Network;
    use crate::wallet::address::p2pkh;
    use crate::wallet::message::bitcoin_message_digest;
    use k256::ecdsa::SigningKey;

    fn signer(seed: u8) -> (SigningKey, VerifyingKey) {
        let sk = SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let vk = *sk.verifying_key();
        (sk, vk)
    }

    #[test]
    fn recovery_id_matches_k256_signer_and_recovers_the_key() {
        for seed in 1..=16u8 {
            let (sk, vk) = signer(seed);
            let digest = crate::digest::sha256(&[seed]);
            let (sig, want) = sk.sign_prehash_recoverable(&digest);
            // Hand over the high-s twin: the recovery id must follow the normalisation.
            let high = Signature::from_scalars(sig.r(), -*sig.s()).unwrap();
            let rec = RecoverableSignature::new(&vk, &digest, &high).unwrap();
            assert_eq!(rec.signature(), &sig);
            assert_eq!(rec.recovery_id(), want);
            assert_eq!(recover(rec.signature(), rec.recovery_id(), &digest), Ok(vk));
        }
    }

    #[test]
    fn recovery_id_needs_a_valid_signature() {
        let (sk, vk) = signer(3);
        let (_, other) = signer(4);
        let digest = crate::digest::sha256(b"m");
        let (sig, _) = sk.sign_prehash_recoverable(&digest);
        let err = RecoverableSignature::new(&other, &digest, &sig).unwrap_err();
        assert!(err.contains("has no recovery id"), "{err}");
        assert!(RecoverableSignature::new(&vk, &digest, &sig).is_ok());
    }

    #[test]
    fn every_format_round_trips_and_verifies() {
        let (sk, vk) = signer(9);
        let digest = crate::digest::sha256(b"formats");
        let (sig, _) = sk.sign_prehash_recoverable(&digest);
        let rec = RecoverableSignature::new(&vk, &digest, &sig).unwrap();
        for format in ["der", "hex", "compact", "eth"] {
            let format: SignatureFormat = format.parse().unwrap();
            let bytes = rec.encode(format).unwrap();
            let parsed = parse_signature(&bytes).unwrap();
            assert_eq!(
                verify(&parsed, &vk, &digest),
                Ok(Verified { high_s: false })
            );
            let back = match parsed {
                ParsedSignature::Plain(s) => s,
                ParsedSignature::Recoverable { signature, .. } => signature,
            };
            assert_eq!(back, sig, "{format:?}");
        }
        // Compact and DER are the same (r, s).
        let der = rec.encode(SignatureFormat::Der).unwrap();
        assert_eq!(
            Signature::from_der(&der).unwrap().to_bytes().to_vec(),
            parse_hex(
                core::str::from_utf8(&rec.encode(SignatureFormat::Compact).unwrap()).unwrap()
            )
            .unwrap()
        );
        // Raw binary 64 and 65 bytes, and 0/1 as v, are read too.
        let eth = rec.eth_bytes().unwrap();
        assert!(matches!(eth[64], 27 | 28));
        assert!(verify(&parse_signature(&eth).unwrap(), &vk, &digest).is_ok());
        assert!(verify(&parse_signature(&eth[..64]).unwrap(), &vk, &digest).is_ok());
        let mut v01 = eth;
        v01[64] -= 27;
        assert_eq!(parse_signature(&v01), parse_signature(&eth));
        // The Bitcoin form reads back to the same signature and recovery id.
        assert_eq!(
            parse_signature(rec.bitcoin_message_base64().as_bytes()),
            parse_signature(&eth)
        );
        assert_eq!(
            "pem".parse::<SignatureFormat>().unwrap_err(),
            "unknown signature format 'pem': use der, hex, compact or eth"
        );
    }

    #[test]
    fn a_recoverable_signature_must_recover_the_given_key() {
        let (sk, vk) = signer(5);
        let (_, other) = signer(6);
        let digest = crate::digest::sha256(b"who");
        let (sig, id) = sk.sign_prehash_recoverable(&digest);
        let parsed = ParsedSignature::Recoverable {
            signature: sig,
            recovery_id: id,
        };
        assert!(verify(&parsed, &vk, &digest).is_ok());
        let err = verify(&parsed, &other, &digest).unwrap_err();
        assert!(
            err.contains(&format!("recovers public key {}", public_key_hex(&vk))),
            "{err}"
        );
        // The wrong parity recovers another key.
        let flipped = ParsedSignature::Recoverable {
            signature: sig,
            recovery_id: RecoveryId::from_byte(id.to_byte() ^ 1).unwrap(),
        };
        assert!(
            verify(&flipped, &vk, &digest)
                .unwrap_err()
                .contains("recovers public key")
        );
        // A plain signature for another key fails plainly.
        let err = verify(&ParsedSignature::Plain(sig), &other, &digest).unwrap_err();
        assert!(err.contains("does NOT verify"), "{err}");
    }

    #[test]
    fn high_s_is_noted_for_plain_and_refused_for_recoverable() {
        let (sk, vk) = signer(7);
        let digest = crate::digest::sha256(b"s");
        let (sig, id) = sk.sign_prehash_recoverable(&digest);
        let high = Signature::from_scalars(sig.r(), -*sig.s()).unwrap();
        assert_eq!(
            verify(&ParsedSignature::Plain(high), &vk, &digest),
            Ok(Verified { high_s: true })
        );
        let err = verify(
            &ParsedSignature::Recoverable {
                signature: high,
                recovery_id: id,
            },
            &vk,
            &digest,
        )
        .unwrap_err();
        assert!(err.contains("must have a low s"), "{err}");
    }

    #[test]
    fn x_reduced_recovery_ids_have_no_ethereum_v() {
        let (sk, vk) = signer(8);
        let digest = crate::digest::sha256(b"x");
        let (sig, _) = sk.sign_prehash_recoverable(&digest);
        let reduced = RecoverableSignature {
            signature: sig,
            recovery_id: RecoveryId::new(false, true),
        };
        assert!(reduced.eth_bytes().unwrap_err().contains("cannot express"));
        assert!(reduced.encode(SignatureFormat::Eth).is_err());
        // The Bitcoin header has room for it (31 + 2).
        let b64 = reduced.bitcoin_message_base64();
        assert_eq!(BASE64.decode(b64).unwrap()[0], 33);
        let _ = vk;
    }

    #[test]
    fn malformed_signatures_are_refused_with_reasons() {
        let mut eth = [1u8; 65];
        eth[64] = 37;
        assert!(parse_signature(&eth).unwrap_err().contains("v = 37"));
        assert!(
            parse_signature(&[0u8; 64])
                .unwrap_err()
                .contains("r or s is zero")
        );
        let mut zero_r = [0u8; 65];
        zero_r[64] = 27;
        assert!(
            parse_signature(&zero_r)
                .unwrap_err()
                .contains("r or s is zero")
        );
        assert!(
            parse_signature(&[0x30, 0x02, 0x01])
                .unwrap_err()
                .contains("neither DER")
        );
        assert!(
            parse_signature(b"abc")
                .unwrap_err()
                .contains("hex signature")
        );
        let mut bad_header = [1u8; 65];
        bad_header[0] = 26;
        let err = parse_signature(BASE64.encode(bad_header).as_bytes()).unwrap_err();
        assert!(err.contains("header byte 26"), "{err}");
        let err = parse_signature(BASE64.encode([1u8; 30]).as_bytes()).unwrap_err();
        assert!(err.contains("of 30 bytes"), "{err}");
    }

    /// bitcoinjs-message's published example (its README): the key of WIF
    /// L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1 signs this message; wallets
    /// verify it against address 1F3sAm6ZtwLAUnj7d38pGFxtP3RVEvtsbV.
    #[test]
    fn verifies_a_published_bitcoin_message_signature() {
        let message = b"This is an example of a signed message.";
        let signature = "H9L5yLFjti0QTHhPyFrZCT1V/MMnBtXKmoiKDZ78NDBjERki6ZTQZdSMCtkgoNmp17By9ItJr8o7ChX0XxY91nk=";
        let digest = bitcoin_message_digest(message);
        let ParsedSignature::Recoverable {
            signature: sig,
            recovery_id,
        } = parse_signature(signature.as_bytes()).unwrap()
        else {
            panic!("a Bitcoin message signature is recoverable");
        };
        let key = recover(&sig, recovery_id, &digest).unwrap();
        assert_eq!(
            p2pkh(&key, Network::Mainnet),
            "1F3sAm6ZtwLAUnj7d38pGFxtP3RVEvtsbV"
        );
        let parsed = parse_signature(signature.as_bytes()).unwrap();
        assert!(verify(&parsed, &key, &digest).is_ok());
        // Our encoder writes the same text back for that key.
        let ours = RecoverableSignature::new(&key, &digest, &sig).unwrap();
        assert_eq!(ours.bitcoin_message_base64(), signature);
        // Another message does not verify under it.
        let other = bitcoin_message_digest(b"This is an example of a signed message!");
        assert!(verify(&parsed, &key, &other).is_err());
    }
}
