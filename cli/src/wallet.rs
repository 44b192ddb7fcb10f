//! Wallet formats: what Bitcoin and Ethereum tooling reads and writes.
//!
//! Message hashing ([`message`]: SHA-256, Keccak-256, EIP-191, Bitcoin signed message),
//! signature encodings with recovery ids ([`signature`]: DER, compact, Ethereum's 65 bytes,
//! Bitcoin's base64 message signature), addresses ([`address`]: EIP-55 Ethereum, P2WPKH) and
//! BIP32 extended public keys ([`xpub`]). Pure functions over public data; the commands call
//! them.

pub(crate) mod address;
pub(crate) mod message;
pub(crate) mod pubkey;
pub(crate) mod signature;
pub(crate) mod xpub;

/// Which Bitcoin network an address or xpub is for (Ethereum addresses have no such mark).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Network {
    /// Bitcoin mainnet: `bc1…` addresses, `xpub…` keys.
    Mainnet,
    /// Bitcoin testnet (and signet): `tb1…` addresses, `tpub…` keys.
    Testnet,
}
