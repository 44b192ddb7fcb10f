//! Zero-knowledge proofs, each with its prover and verifier, and their soundness parameters.
//!
//! Parameters follow cb-mpc's ECDSA-2PC (docs/PROTOCOL.md has the rationale). The interactive
//! proofs take the verifier's challenge from P2's keygen message; Schnorr is made
//! non-interactive by Fiat–Shamir over the binding, the whole statement and the first message.

pub mod dlog;
pub mod ckey;
pub mod eq_paillier_pedersen;
pub mod paillier_key;
mod paillier_sigma;
pub mod prm;
pub mod range;
pub mod sign_ciphertext;

/// Statistical slack λ: masks are 2^λ times wider than what they hide.
pub const STAT_BITS: u32 = 64;
/// Repetitions of the Paillier–Pedersen equality proof, each with an 18-bit challenge chunk.
pub const EQ_CHUNKS: usize = 3;
/// Bits of each challenge chunk: no wider than the smallest prime factor N may have (trial
/// division leaves none below 2^18), so no difference of two chunks is ≡ 0 modulo a factor.
pub const EQ_CHUNK_BITS: u32 = 18;
/// Bits of the whole equality challenge.
pub const EQ_CHALLENGE_BITS: u32 = 54;
/// Binary repetitions of the range proof.
pub const RANGE_REPS: usize = 50;
/// Bits of the range challenge: one per repetition.
pub const RANGE_CHALLENGE_BITS: u32 = 50;
/// N-th roots in the Paillier key proof; each one a cheater passes with probability ≤ 2^-18
/// (a factor r ≥ 2^18 of both N and φ(N) leaves at most 1/r of the units N-th residues).
pub const KEY_ROOTS: usize = 3;
/// Binary repetitions of the ring-Pedersen parameter proof Π^prm (soundness 2^-m in any group).
pub const PRM_REPS: usize = 128;
/// Bits of P2's signing mask beyond q²: ρ < q²·2^128 hides everything of its plaintext but
/// the value mod q.
pub const MASK_SLACK_BITS: u32 = 128;
/// Bits κ of π_c3's challenge (binary soundness 2^-κ).
pub const SIGN_CHALLENGE_BITS: u32 = 128;
/// Length of the verifier's challenge seed for the key proof.
pub const KEY_CHALLENGE_LEN: usize = 16;

/// A uniform challenge below 2^`bits` (1 ≤ bits ≤ 64).
pub(crate) fn draw_bits<R: rand_core::CryptoRng + ?Sized>(rng: &mut R, bits: u32) -> u64 {
    rng.next_u64() >> (64 - bits)
}

// Soundness floors: lowering any parameter below cb-mpc's fails the build.
const _: () = assert!(STAT_BITS >= 64);
/// Every prime factor of a peer's N is ≥ 2^this (`PublicKey::from_modulus` trial-divides).
const FACTOR_FLOOR_BITS: u32 = crate::paillier::SMALL_FACTOR_BOUND_BITS;
/// cb-mpc's soundness for the equality and key proofs: 2^-52.
const SOUNDNESS_BITS: usize = 52;
const _: () = assert!(EQ_CHALLENGE_BITS as usize == EQ_CHUNKS * EQ_CHUNK_BITS as usize);
// Chunk differences |Δ| < 2^EQ_CHUNK_BITS must be nonzero modulo every factor of N: lowering
// the trial-division bound below the chunk width fails the build.
const _: () = assert!(EQ_CHUNK_BITS <= FACTOR_FLOOR_BITS);
const _: () = assert!(EQ_CHUNKS * EQ_CHUNK_BITS as usize >= SOUNDNESS_BITS);
// The challenge travels as a u64 (`challenge_fits`, `draw_bits`).
const _: () = assert!(EQ_CHALLENGE_BITS <= 64);
const _: () = assert!(RANGE_REPS >= 50 && RANGE_CHALLENGE_BITS as usize == RANGE_REPS);
// Each root: ≤ 2^-FACTOR_FLOOR_BITS for a bad N.
const _: () = assert!(KEY_ROOTS * FACTOR_FLOOR_BITS as usize >= SOUNDNESS_BITS);
const _: () = assert!(PRM_REPS >= 128 && PRM_REPS & 7 == 0);
const _: () = assert!(KEY_CHALLENGE_LEN * 8 >= 128);
const _: () = assert!(SIGN_CHALLENGE_BITS == 128);
const _: () = assert!(MASK_SLACK_BITS >= 128);
// π_c3: a cheating plaintext stays below N/2 (|N| ≥ 3|q| + 3s + κ + 1, cb-mpc's check).
const _: () = assert!(
    crate::paillier::MODULUS_BITS > 3 * 256 + 3 * STAT_BITS + SIGN_CHALLENGE_BITS + 1
);
const _: () = assert!(crate::paillier::MODULUS_BITS >= 2048);
// N must exceed everything P2 packs into one plaintext: q³·2^(3λ+128+1) (reference §3.1).
const _: () = assert!(crate::paillier::MODULUS_BITS > 3 * 256 + 3 * STAT_BITS + 128 + 1);
