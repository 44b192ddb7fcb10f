//! BIP32 extended public keys (`xpub…` / `tpub…`): the 78-byte serialization in
//! base58check, and derivation of a child xpub through the core's CKDpub.
//!
//! Layout: version (4) ‖ depth (1) ‖ parent fingerprint (4) ‖ child number (4, big endian)
//! ‖ chain code (32) ‖ compressed public key (33). The fingerprint of a key is the first 4
//! bytes of HASH160 of its compressed point.

use ecdsa2pc_core::bip32::{ChainCode, DerivationPath, ExtendedPublicKey, derive_path};
use k256::{PublicKey, Scalar, elliptic_curve::sec1::ToSec1Point};

use crate::wallet::Network;
use crate::wallet::address::hash160;

/// Version bytes of a mainnet extended public key (`xpub`).
const MAINNET_VERSION: [u8; 4] = [0x04, 0x88, 0xb2, 0x1e];
/// Version bytes of a testnet extended public key (`tpub`).
const TESTNET_VERSION: [u8; 4] = [0x04, 0x35, 0x87, 0xcf];
/// Serialized length before the 4-byte checksum.
const XPUB_LEN: usize = 78;

/// An extended public key with everything its serialization holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Xpub {
    /// Which version bytes it is written with.
    pub(crate) network: Network,
    /// Steps below the master key (0 for the joint key itself).
    pub(crate) depth: u8,
    /// First 4 bytes of HASH160 of the parent key (zero at depth 0).
    pub(crate) parent_fingerprint: [u8; 4],
    /// The index this key was derived with (zero at depth 0).
    pub(crate) child_number: u32,
    /// Key and chain code.
    pub(crate) key: ExtendedPublicKey,
}

impl Xpub {
    /// The master xpub of a joint key and its agreed chain code (depth 0).
    pub(crate) fn master(key: ExtendedPublicKey, network: Network) -> Self {
        Self {
            network,
            depth: 0,
            parent_fingerprint: [0; 4],
            child_number: 0,
            key,
        }
    }

    /// The xpub at `path` below this one, and the tweak `t` with child key = this key + t·G
    /// (what P2 adds to its share).
    pub(crate) fn derive(&self, path: &DerivationPath) -> Result<(Self, Scalar), String> {
        let derived = derive_path(&self.key, path).map_err(|e| e.to_string())?;
        let Some(parent) = derived.parent_key else {
            // The path m: this very key.
            return Ok((*self, derived.tweak));
        };
        let depth = self.depth.checked_add(derived.depth).ok_or_else(|| {
            format!(
                "the path has {} steps below a key at depth {}: BIP32 stops at depth 255",
                derived.depth, self.depth
            )
        })?;
        let parent = ExtendedPublicKey::new(parent, [0; 32]).map_err(|e| e.to_string())?;
        Ok((
            Self {
                network: self.network,
                depth,
                parent_fingerprint: fingerprint(&parent),
                child_number: derived.child_number,
                key: derived.key,
            },
            derived.tweak,
        ))
    }

    /// The 78-byte serialization.
    pub(crate) fn to_bytes(self) -> [u8; XPUB_LEN] {
        let mut out = [0u8; XPUB_LEN];
        out[..4].copy_from_slice(match self.network {
            Network::Mainnet => &MAINNET_VERSION,
            Network::Testnet => &TESTNET_VERSION,
        });
        out[4] = self.depth;
        out[5..9].copy_from_slice(&self.parent_fingerprint);
        out[9..13].copy_from_slice(&self.child_number.to_be_bytes());
        out[13..45].copy_from_slice(self.key.chain_code());
        out[45..].copy_from_slice(&compressed(&self.key));
        out
    }

    /// The base58check text (`xpub…` or `tpub…`).
    pub(crate) fn encode(&self) -> String {
        bs58::encode(self.to_bytes()).with_check().into_string()
    }

    /// Reads an `xpub…`/`tpub…`, with BIP32's validity rules (checksum, length, version,
    /// a valid compressed point, depth 0 only with zero fingerprint and index).
    pub(crate) fn decode(text: &str) -> Result<Self, String> {
        let raw = bs58::decode(text.trim())
            .with_check(None)
            .into_vec()
            .map_err(|e| format!("not a base58check extended key: {e}"))?;
        let raw: [u8; XPUB_LEN] = raw.as_slice().try_into().map_err(|_| {
            format!(
                "an extended key has {XPUB_LEN} bytes, this one {}",
                raw.len()
            )
        })?;
        let network = match [raw[0], raw[1], raw[2], raw[3]] {
            MAINNET_VERSION => Network::Mainnet,
            TESTNET_VERSION => Network::Testnet,
            _ => {
                return Err(format!(
                    "version bytes {} are not those of an xpub or tpub (a private or other \
                     coin's extended key?)",
                    crate::output::hex(&raw[..4])
                ));
            }
        };
        let depth = raw[4];
        let parent_fingerprint: [u8; 4] = raw[5..9].try_into().unwrap_or_default();
        let child_number = u32::from_be_bytes(raw[9..13].try_into().unwrap_or_default());
        if depth == 0 && (parent_fingerprint != [0; 4] || child_number != 0) {
            return Err(
                "a depth-0 (master) key must have a zero parent fingerprint and \
                        child number"
                    .to_owned(),
            );
        }
        let chain_code: ChainCode = raw[13..45].try_into().unwrap_or_default();
        let point: [u8; 33] = raw[45..].try_into().unwrap_or([0; 33]);
        // A compressed SEC1 point (prefix 02 or 03), never the identity.
        let point = (point[0] != 0)
            .then(|| PublicKey::from_sec1_bytes(&point).ok())
            .flatten()
            .ok_or_else(|| "the public key is not a compressed point on secp256k1".to_owned())?;
        let key =
            ExtendedPublicKey::new(*point.as_affine(), chain_code).map_err(|e| e.to_string())?;
        Ok(Self {
            network,
            depth,
            parent_fingerprint,
            child_number,
            key,
        })
    }
}

fn compressed(key: &ExtendedPublicKey) -> [u8; 33] {
    // An ExtendedPublicKey never holds the identity, the only point without this encoding.
    key.key()
        .to_sec1_point(true)
        .as_bytes()
        .try_into()
        .unwrap_or([0; 33])
}

fn fingerprint(key: &ExtendedPublicKey) -> [u8; 4] {
    let h = hash160(&compressed(key));
    [h[0], h[1], h[2], h[3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ProjectivePoint;

    /// BIP32 test vectors 1 and 2: (path from the seed, published xpub).
    const VECTOR_1: [(&str, &str); 6] = [
        (
            "m",
            "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
        ),
        (
            "m/0H",
            "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw",
        ),
        (
            "m/0H/1",
            "xpub6ASuArnXKPbfEwhqN6e3mwBcDTgzisQN1wXN9BJcM47sSikHjJf3UFHKkNAWbWMiGj7Wf5uMash7SyYq527Hqck2AxYysAA7xmALppuCkwQ",
        ),
        (
            "m/0H/1/2H",
            "xpub6D4BDPcP2GT577Vvch3R8wDkScZWzQzMMUm3PWbmWvVJrZwQY4VUNgqFJPMM3No2dFDFGTsxxpG5uJh7n7epu4trkrX7x7DogT5Uv6fcLW5",
        ),
        (
            "m/0H/1/2H/2",
            "xpub6FHa3pjLCk84BayeJxFW2SP4XRrFd1JYnxeLeU8EqN3vDfZmbqBqaGJAyiLjTAwm6ZLRQUMv1ZACTj37sR62cfN7fe5JnJ7dh8zL4fiyLHV",
        ),
        (
            "m/0H/1/2H/2/1000000000",
            "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy",
        ),
    ];
    const VECTOR_2: [(&str, &str); 6] = [
        (
            "m",
            "xpub661MyMwAqRbcFW31YEwpkMuc5THy2PSt5bDMsktWQcFF8syAmRUapSCGu8ED9W6oDMSgv6Zz8idoc4a6mr8BDzTJY47LJhkJ8UB7WEGuduB",
        ),
        (
            "m/0",
            "xpub69H7F5d8KSRgmmdJg2KhpAK8SR3DjMwAdkxj3ZuxV27CprR9LgpeyGmXUbC6wb7ERfvrnKZjXoUmmDznezpbZb7ap6r1D3tgFxHmwMkQTPH",
        ),
        (
            "m/0/2147483647H",
            "xpub6ASAVgeehLbnwdqV6UKMHVzgqAG8Gr6riv3Fxxpj8ksbH9ebxaEyBLZ85ySDhKiLDBrQSARLq1uNRts8RuJiHjaDMBU4Zn9h8LZNnBC5y4a",
        ),
        (
            "m/0/2147483647H/1",
            "xpub6DF8uhdarytz3FWdA8TvFSvvAh8dP3283MY7p2V4SeE2wyWmG5mg5EwVvmdMVCQcoNJxGoWaU9DCWh89LojfZ537wTfunKau47EL2dhHKon",
        ),
        (
            "m/0/2147483647H/1/2147483646H",
            "xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL",
        ),
        (
            "m/0/2147483647H/1/2147483646H/2",
            "xpub6FnCn6nSzZAw5Tw7cgR9bi15UV96gLZhjDstkXXxvCLsUXBGXPdSnLFbdpq8p9HmGsApME5hQTZ3emM2rnY5agb9rXpVGyy3bdW6EEgAtqt",
        ),
    ];

    /// Every published xpub decodes and re-encodes to itself; every non-hardened step, taken
    /// from the published parent xpub, gives the published child xpub exactly (key, chain
    /// code, depth, parent fingerprint, child number).
    #[test]
    fn bip32_vectors_through_xpub_text() {
        for vector in [VECTOR_1, VECTOR_2] {
            for pair in vector.windows(2) {
                let [(_, parent), (child_path, child)] = pair else {
                    unreachable!()
                };
                let parent = Xpub::decode(parent).unwrap();
                assert_eq!(Xpub::decode(child).unwrap().encode(), *child);
                let last = child_path.rsplit('/').next().unwrap();
                if last.ends_with('H') {
                    // A hardened step: this tool refuses it, and says why.
                    let err = format!("m/{last}").parse::<DerivationPath>().unwrap_err();
                    assert!(
                        err.to_string()
                            .contains("two-party hardened derivation is not supported")
                    );
                    continue;
                }
                let path: DerivationPath = format!("m/{last}").parse().unwrap();
                let (derived, tweak) = parent.derive(&path).unwrap();
                assert_eq!(derived.encode(), *child, "{child_path}");
                assert_eq!(derived.parent_fingerprint, fingerprint(&parent.key));
                let shifted = (ProjectivePoint::from(*parent.key.key())
                    + ProjectivePoint::GENERATOR * tweak)
                    .to_affine();
                assert_eq!(shifted, *derived.key.key());
            }
        }
    }

    #[test]
    fn multi_step_paths_and_testnet() {
        // m/0H/1/2H → m/0H/1/2H/2/1000000000 in one call.
        let start = Xpub::decode(VECTOR_1[3].1).unwrap();
        let (end, _) = start.derive(&"m/2/1000000000".parse().unwrap()).unwrap();
        assert_eq!(end.encode(), VECTOR_1[5].1);
        // The path m gives the key back unchanged, with a zero tweak.
        let (same, tweak) = start.derive(&DerivationPath::MASTER).unwrap();
        assert_eq!((same, tweak), (start, Scalar::ZERO));
        // A tpub carries the same fields under other version bytes.
        let mut testnet = start;
        testnet.network = Network::Testnet;
        let text = testnet.encode();
        assert!(text.starts_with("tpub"), "{text}");
        assert_eq!(Xpub::decode(&text).unwrap(), testnet);
        // A master key of the joint key: depth 0, zero fingerprint and index.
        let master = Xpub::master(start.key, Network::Mainnet);
        assert_eq!(&master.to_bytes()[4..13], &[0; 9]);
        assert!(master.encode().starts_with("xpub"));
    }

    /// The two-party rule: P2 adds the tweak to its share, P1 keeps its own; the sum signs
    /// for the child key the xpub derives, and k256 verifies it.
    #[test]
    fn shares_shifted_by_the_tweak_sign_for_the_child_key() {
        use k256::ecdsa::signature::hazmat::{PrehashSigner as _, PrehashVerifier as _};
        use k256::ecdsa::{Signature, SigningKey, VerifyingKey};

        let x1 = Scalar::from(0x1234_5678_u64);
        let x2 = Scalar::from(0x9abc_def0_u64);
        let q = (ProjectivePoint::GENERATOR * (x1 + x2)).to_affine();
        let master = Xpub::master(
            ExtendedPublicKey::new(q, [42; 32]).unwrap(),
            Network::Mainnet,
        );
        for path in ["m/0", "m/0/7", "m/1/2/3/2147483647"] {
            let (child, tweak) = master.derive(&path.parse().unwrap()).unwrap();
            let x2_shifted = x2 + tweak;
            let signer = SigningKey::from_bytes(&(x1 + x2_shifted).to_bytes()).unwrap();
            let digest = crate::digest::sha256(path.as_bytes());
            let signature: Signature = signer.sign_prehash(&digest).unwrap();
            let child_key = VerifyingKey::from_affine(*child.key.key()).unwrap();
            assert!(
                child_key.verify_prehash(&digest, &signature).is_ok(),
                "{path}"
            );
            // Re-read from its xpub text, the child is the same key.
            assert_eq!(Xpub::decode(&child.encode()).unwrap(), child);
        }
    }

    #[test]
    fn depth_past_255_is_refused() {
        let mut deep = Xpub::decode(VECTOR_1[5].1).unwrap();
        deep.depth = 255;
        let err = deep.derive(&"m/1".parse().unwrap()).unwrap_err();
        assert!(err.contains("BIP32 stops at depth 255"), "{err}");
    }

    fn reencode(mut raw: [u8; XPUB_LEN]) -> String {
        bs58::encode(&mut raw[..]).with_check().into_string()
    }

    #[test]
    fn invalid_extended_keys_are_refused() {
        let good = Xpub::decode(VECTOR_2[0].1).unwrap().to_bytes();
        // Checksum.
        let mut text = VECTOR_2[0].1.to_owned();
        text.replace_range(100..101, "A");
        assert!(Xpub::decode(&text).unwrap_err().contains("base58check"));
        // Length.
        let short = bs58::encode(&good[..77]).with_check().into_string();
        assert!(
            Xpub::decode(&short)
                .unwrap_err()
                .contains("78 bytes, this one 77")
        );
        // Version: an xprv's.
        let mut xprv = good;
        xprv[..4].copy_from_slice(&[0x04, 0x88, 0xad, 0xe4]);
        assert!(
            Xpub::decode(&reencode(xprv))
                .unwrap_err()
                .contains("version bytes 0488ade4")
        );
        // Depth 0 with a parent fingerprint, or with an index.
        let mut orphan = good;
        orphan[5] = 1;
        assert!(
            Xpub::decode(&reencode(orphan))
                .unwrap_err()
                .contains("depth-0")
        );
        let mut indexed = good;
        indexed[12] = 1;
        assert!(
            Xpub::decode(&reencode(indexed))
                .unwrap_err()
                .contains("depth-0")
        );
        // Key: prefix 04, and an x with no point.
        let mut prefix = good;
        prefix[45] = 0x04;
        assert!(
            Xpub::decode(&reencode(prefix))
                .unwrap_err()
                .contains("not a compressed point")
        );
        let mut off_curve = good;
        off_curve[45..].copy_from_slice(&[0; 33]);
        off_curve[45] = 0x02;
        off_curve[77] = 5;
        assert!(
            Xpub::decode(&reencode(off_curve))
                .unwrap_err()
                .contains("not a compressed point")
        );
    }

    /// Fuzz-style: the decoder never panics on any text, and what it accepts is canonical
    /// (it re-encodes to the same text). Random bytes, random base58 text, and every byte of
    /// a valid xpub's payload replaced by random values under a valid checksum.
    #[test]
    fn decode_never_panics_and_accepts_only_canonical_text() {
        use rand_chacha::rand_core::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x32; 32]);
        let check = |text: &str| {
            if let Ok(x) = Xpub::decode(text) {
                assert_eq!(x.encode(), text.trim(), "accepted in a non-canonical form");
            }
        };
        let good = Xpub::decode(VECTOR_2[1].1).unwrap().to_bytes();
        let mut accepted = 0;
        for round in 0..3000 {
            let mut raw = [0u8; 100];
            rng.fill_bytes(&mut raw);
            let len = (raw[0] as usize) % raw.len();
            check(&String::from_utf8_lossy(&raw[..len]));
            check(&bs58::encode(&raw[..len]).into_string());
            check(&bs58::encode(&raw[..len]).with_check().into_string());
            let mut mutated = good;
            mutated[round % XPUB_LEN] = raw[1];
            if raw[2] & 1 == 0 {
                mutated[(round * 7 + 3) % XPUB_LEN] = raw[3];
            }
            let text = bs58::encode(mutated).with_check().into_string();
            check(&text);
            accepted += usize::from(Xpub::decode(&text).is_ok());
        }
        assert!(accepted > 100, "the mutations reach the accepting path too");
    }
}
