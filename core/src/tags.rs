//! Versioned domain-separation tags: one per hash use, so no two uses can collide.

/// Protocol name and version, hashed into every session id.
pub const PROTOCOL: &[u8] = b"ecdsa2pc/v1";
/// Session-id prefix before P2's nonce is known (binds P1's commitments).
pub const SESSION_PREFIX: &[u8] = b"ecdsa2pc/v1/session-prefix";
/// Session id once both nonces are known.
pub const SESSION_ID: &[u8] = b"ecdsa2pc/v1/sid";
/// Schnorr proof of knowledge of a discrete log.
pub const ZK_DLOG: &[u8] = b"ecdsa2pc/v1/zk/dlog";
/// Seed of the N-th-root challenges of the Paillier key proof.
pub const ZK_PAILLIER_KEY: &[u8] = b"ecdsa2pc/v1/zk/paillier-key";
/// First message of the Paillier-Pedersen equality proof.
pub const ZK_EQ_COMMIT: &[u8] = b"ecdsa2pc/v1/zk/paillier-pedersen-eq";
/// Refresh: P1's commitment to its coin-toss share ρ1.
pub const REFRESH_RHO1: &[u8] = b"ecdsa2pc/v1/refresh/rho1";
/// First message of the range proof.
pub const ZK_RANGE_COMMIT: &[u8] = b"ecdsa2pc/v1/zk/range";
/// Ring-Pedersen parameter proof Π^prm (challenge bits).
pub const ZK_PRM: &[u8] = b"ecdsa2pc/v1/zk/ring-pedersen-params";
/// Hash of ring-Pedersen parameters (N̂, g, h): what shares and session ids pin.
pub const RING_PEDERSEN_PARAMS: &[u8] = b"ecdsa2pc/v1/ring-pedersen-params";
/// π_c3, P2's proof that its signing ciphertext is well formed (challenge).
pub const ZK_SIGN_CIPHERTEXT: &[u8] = b"ecdsa2pc/v1/zk/sign-ciphertext";
/// Seed of one window of a Paillier prime search, from the search's seed and the window's index.
pub const PRIME_WINDOW: &[u8] = b"ecdsa2pc/v1/paillier/prime-window";
/// Keygen: P1's commitment to Q1.
pub const KEYGEN_Q1: &[u8] = b"ecdsa2pc/v1/keygen/q1";
/// Keygen: the joint BIP32 chain code from P1's committed cc1 and P2's cc2.
pub const KEYGEN_CHAIN_CODE: &[u8] = b"ecdsa2pc/v1/keygen/bip32-chain-code";
/// Sign: the derivation path a signature is made under (its id in sign message 1).
pub const SIGN_PATH: &[u8] = b"ecdsa2pc/v1/sign/derivation-path";
/// Sign: P1's commitment to R1 and the digest.
pub const SIGN_R1: &[u8] = b"ecdsa2pc/v1/sign/r1";
/// Fingerprint of a key's public state (Q, N, c_key).
pub const KEY_FINGERPRINT: &[u8] = b"ecdsa2pc/v1/key-fingerprint";
/// Hash-derived Pedersen generator h (its root u is a constant in `pedersen`; only the test
/// that derives it again, and the `internals` feature, hash this tag).
#[cfg(any(test, feature = "internals"))]
pub const PEDERSEN_H: &[u8] = b"ecdsa2pc/v1/pedersen/h";
/// Receipt of share bytes that passed every check (in memory only, never on the wire).
pub const SHARE_RECEIPT: &[u8] = b"ecdsa2pc/v1/share-receipt";
