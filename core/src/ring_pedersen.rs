//! Ring-Pedersen commitment parameters (N̂, g, h), owned by party 0 (P1), for π_c3.
//!
//! π_c3 commits P2's integer witnesses as g^w·h^ρ mod N̂ (design-research.md §1.3, option (a)).
//! Binding protects P1, the verifier, so P1 makes the parameters: N̂ = p̂·q̂ with 1024-bit safe
//! primes, h = τ² for a random unit τ, g = h^λ. Hiding protects P2, and holds only if
//! g ∈ ⟨h⟩, which P1 proves once with Π^prm ([`ParamsMsg`]); P2 verifies that proof once and
//! pins the parameters' [`RingPedersenParams::hash`] into its key share, the fingerprint and so
//! every session id. One parameter set serves every key of one party-0 identity.
//!
//! P1 keeps p̂, q̂ and λ ([`RingPedersenSecret`]) to verify π_c3 faster: g^z·h^u = h^(λz + u)
//! computed mod p̂ and q̂. Knowing them weakens only P1's own soundness.

use core::fmt;

use crypto_bigint::{
    ConstOne, NonZero, Odd, U896, U1024, U2048, U3072,
    modular::{FixedMontyForm, FixedMontyParams},
};
use crypto_primes::{Flavor, is_prime, random_prime};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{
    Error, Result, bigint,
    session::ID_LEN,
    sizes::{HASH_LEN, HEADER_LEN, MOD_N_LEN},
    tags,
    transcript::Transcript,
    wire::{Fields, Message, MsgType, Reader, Writer},
    zk::{prm::PrmProof, sign_ciphertext::U2368},
};

/// Bits of the ring-Pedersen modulus N̂.
pub(crate) const MODULUS_BITS: u32 = 2048;
/// Bits of each safe prime factor of N̂.
pub(crate) const PRIME_BITS: u32 = 1024;

/// A random 1024-bit safe prime for [`RingPedersenSecret::from_safe_primes`]: the slow half of
/// making the parameters (about a second on average, with high variance), safe to run on any
/// thread, so that a caller can show progress between the two primes or find them in parallel.
#[must_use]
pub fn generate_safe_prime<R: CryptoRng + ?Sized>(rng: &mut R) -> U1024 {
    random_prime(rng, Flavor::Safe, PRIME_BITS)
}

/// Montgomery parameters mod N̂.
pub(crate) type MontyN = FixedMontyParams<{ U2048::LIMBS }>;
/// An element mod N̂ in Montgomery form.
pub(crate) type ElementN = FixedMontyForm<{ U2048::LIMBS }>;

/// Public ring-Pedersen parameters (N̂ 2048 bits, g = h^λ, h = τ²) made by party 0 (P1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingPedersenParams {
    /// The modulus N̂ (2048 bits, odd).
    pub(crate) n: U2048,
    /// g = h^λ.
    pub(crate) g: U2048,
    /// h = τ².
    pub(crate) h: U2048,
}

impl RingPedersenParams {
    /// Length of [`RingPedersenParams::encode`]: N̂, g, h at 256 bytes each.
    pub const ENCODED_LEN: usize = 3 * MOD_N_LEN;

    /// The hash shares, fingerprints and session ids pin: H(N̂, g, h) under its own tag.
    #[must_use]
    pub fn hash(&self) -> [u8; HASH_LEN] {
        let mut t = Transcript::new(tags::RING_PEDERSEN_PARAMS);
        t.integer("N^", &self.n)
            .integer("g", &self.g)
            .integer("h", &self.h);
        t.finish()
    }

    /// N̂ ‖ g ‖ h, big-endian, 256 bytes each.
    #[must_use]
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        // The buffer has exactly the room the three fields need.
        let _ = self.write(&mut Writer::new(&mut out));
        out
    }

    /// Decodes and makes the public sanity checks (N̂ odd of exactly 2048 bits, 1 < g, h <
    /// N̂ − 1, g ≠ h, g and h units). This is NOT the proof that g ∈ ⟨h⟩: parameters from a
    /// peer must come through [`ParamsMsg::verify`] (or from a share that pinned them).
    ///
    /// # Errors
    /// [`Error::Malformed`] for a wrong length; [`Error::PedersenParameters`] for a failed check.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let params = Self::read(&mut r)?;
        r.finish()?;
        params.monty()?;
        Ok(params)
    }

    /// Writes N̂ ‖ g ‖ h.
    pub(crate) fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        w.integer(MOD_N_LEN, &self.n)?;
        w.integer(MOD_N_LEN, &self.g)?;
        w.integer(MOD_N_LEN, &self.h)
    }

    /// Reads N̂ ‖ g ‖ h without checking them.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            n: r.integer_unbounded(MOD_N_LEN)?,
            g: r.integer_unbounded(MOD_N_LEN)?,
            h: r.integer_unbounded(MOD_N_LEN)?,
        })
    }

    /// The public checks on parameters, before anything else is done with them: N̂ odd and
    /// exactly [`MODULUS_BITS`] bits; 1 < g, h < N̂ − 1; g ≠ h; g and h units mod N̂. Returns
    /// the Montgomery parameters mod N̂.
    ///
    /// # Errors
    /// [`Error::PedersenParameters`].
    pub(crate) fn monty(&self) -> Result<MontyN> {
        let bad = Error::PedersenParameters;
        // vartime: the parameters are public.
        if self.n.bit_width_vartime() != MODULUS_BITS {
            return Err(bad);
        }
        let n_odd = Odd::new(self.n).into_option().ok_or(bad)?;
        let top = self.n.wrapping_sub(&U2048::ONE);
        for x in [&self.g, &self.h] {
            // vartime: public parameters.
            if x.cmp_vartime(&U2048::ONE).is_le() || x.cmp_vartime(&top).is_ge() {
                return Err(bad);
            }
            if n_odd.gcd_unsigned_vartime(x).get() != U2048::ONE {
                return Err(bad);
            }
        }
        if self.g == self.h {
            return Err(bad);
        }
        Ok(FixedMontyParams::new_vartime(n_odd))
    }

    /// The Montgomery parameters of parameters that passed [`RingPedersenParams::monty`] when
    /// they were made, verified or loaded (a share's, a secret's): no check, no failure.
    pub(crate) fn monty_checked(&self) -> MontyN {
        // vartime: N̂ is public.
        MontyN::new_vartime(Odd::new(self.n).into_option().unwrap_or(Odd::ONE))
    }

    /// Whether a public x is a unit in (0, N̂).
    pub(crate) fn is_unit_below_n(&self, x: &U2048) -> bool {
        let Some(n_odd) = Odd::new(self.n).into_option() else {
            return false;
        };
        // vartime: only public values (proof commitments) are checked.
        !x.is_zero_vartime()
            && x.cmp_vartime(&self.n).is_lt()
            && n_odd.gcd_unsigned_vartime(x).get() == U2048::ONE
    }
}

/// Party 0's secret for its parameters: the safe primes p̂, q̂ and λ = log_h g, with the
/// parameters. Wiped on drop; `Debug` shows the public parameters only. Store it like a key
/// share (sealed): whoever learns it can forge π_c3 and attack party 0's keys.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RingPedersenSecret {
    p: U1024,
    q: U1024,
    /// λ, reduced mod φ(N̂).
    lambda: U2048,
    /// φ(N̂) = (p̂ − 1)(q̂ − 1).
    phi: U2048,
    #[zeroize(skip)]
    params: RingPedersenParams,
    /// Montgomery parameters mod N̂ (public).
    #[zeroize(skip)]
    monty: MontyN,
    /// π_c3's trapdoor, one per prime factor of N̂.
    halves: [CrtHalf; 2],
}

/// What P1 needs mod one prime factor f of N̂ to compute h^E mod f: every field gives f away.
#[derive(Zeroize, ZeroizeOnDrop)]
struct CrtHalf {
    /// f, at N̂'s width, as a divisor.
    prime: NonZero<U2048>,
    /// f − 1 at N̂'s width, as a divisor (h^(f−1) = 1 mod f).
    order: NonZero<U2048>,
    /// Montgomery parameters mod f.
    monty: FixedMontyParams<{ U1024::LIMBS }>,
    /// h mod f.
    h: U1024,
}

impl CrtHalf {
    fn new(f: &U1024, h: &U2048) -> Result<Self> {
        let bad = Error::PedersenParameters;
        let prime = NonZero::new(f.resize()).into_option().ok_or(bad)?;
        let order = NonZero::new(f.wrapping_sub(&U1024::ONE).resize())
            .into_option()
            .ok_or(bad)?;
        Ok(Self {
            h: h.rem(&prime).resize(),
            prime,
            order,
            monty: FixedMontyParams::new(Odd::new(*f).into_option().ok_or(bad)?),
        })
    }

    /// Whether h^e ≡ x (mod f), constant time in e and f.
    fn holds(&self, e: &U2048, x: &U2048) -> Choice {
        let e: Zeroizing<U1024> = Zeroizing::new(e.rem(&self.order).resize());
        let lhs = FixedMontyForm::new(&self.h, &self.monty)
            .pow(&*e)
            .retrieve();
        let x: U1024 = x.rem(&self.prime).resize();
        lhs.ct_eq(&x)
    }
}

/// The secret file format: magic, version, p̂, q̂, λ, h, SHA-256 of everything before.
const SECRET_MAGIC: &[u8; 4] = b"E2RP";
const SECRET_VERSION: u8 = 1;
const PRIME_LEN: usize = 128;

impl RingPedersenSecret {
    /// Length of [`RingPedersenSecret::encode`].
    pub const ENCODED_LEN: usize = 4 + 1 + 2 * PRIME_LEN + 2 * MOD_N_LEN + HASH_LEN;

    /// Makes fresh parameters: two 1024-bit safe primes (seconds each, with high variance:
    /// run it off any latency-sensitive path, and show progress), τ and λ.
    #[must_use]
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        loop {
            let p = Zeroizing::new(generate_safe_prime(rng));
            let q = Zeroizing::new(generate_safe_prime(rng));
            if let Ok(secret) = Self::build(rng, &p, &q) {
                return secret;
            }
        }
    }

    /// Makes parameters over two safe primes found elsewhere (tests, fixtures, a pool).
    ///
    /// # Errors
    /// [`Error::PedersenParameters`] unless p̂ and q̂ are distinct 1024-bit safe primes whose
    /// product has 2048 bits.
    pub fn from_safe_primes<R: CryptoRng + ?Sized>(
        rng: &mut R,
        p: &U1024,
        q: &U1024,
    ) -> Result<Self> {
        if !is_prime(Flavor::Safe, p) || !is_prime(Flavor::Safe, q) {
            return Err(Error::PedersenParameters);
        }
        Self::build(rng, p, q)
    }

    /// τ ← Z_N̂*, h = τ², λ ← [0, φ(N̂)), g = h^λ, after the structural checks on p̂, q̂.
    fn build<R: CryptoRng + ?Sized>(rng: &mut R, p: &U1024, q: &U1024) -> Result<Self> {
        let n = modulus(p, q)?;
        let phi = totient(p, q)?;
        let monty = MontyN::new(Odd::new(n).into_option().ok_or(Error::PedersenParameters)?);
        let n_nz = NonZero::new(n)
            .into_option()
            .ok_or(Error::PedersenParameters)?;
        let tau = Zeroizing::new(bigint::random_below(rng, &n_nz));
        let h = ElementN::new(&tau, &monty).square().retrieve();
        let lambda = bigint::random_below(rng, &phi);
        Self::from_parts(p, q, &lambda, &h)
    }

    /// The secret from its stored parts, with g = h^λ recomputed and the public checks made.
    fn from_parts(p: &U1024, q: &U1024, lambda: &U2048, h: &U2048) -> Result<Self> {
        let n = modulus(p, q)?;
        let phi = totient(p, q)?;
        let monty = MontyN::new(Odd::new(n).into_option().ok_or(Error::PedersenParameters)?);
        let lambda = lambda.rem(&phi);
        let g = ElementN::new(h, &monty).pow(&lambda).retrieve();
        let params = RingPedersenParams { n, g, h: *h };
        let monty = params.monty()?;
        Ok(Self {
            p: *p,
            q: *q,
            lambda,
            phi: phi.get(),
            params,
            monty,
            halves: [CrtHalf::new(p, h)?, CrtHalf::new(q, h)?],
        })
    }

    /// The public parameters.
    #[must_use]
    pub fn params(&self) -> &RingPedersenParams {
        &self.params
    }

    /// Encodes into `out` (at least [`RingPedersenSecret::ENCODED_LEN`] bytes, secret
    /// material included: store it sealed, like a key share); returns the length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize> {
        let mut w = Writer::new(out);
        w.bytes(SECRET_MAGIC)?;
        w.bytes(&[SECRET_VERSION])?;
        w.integer(PRIME_LEN, &self.p)?;
        w.integer(PRIME_LEN, &self.q)?;
        w.integer(MOD_N_LEN, &self.lambda)?;
        w.integer(MOD_N_LEN, &self.params.h)?;
        let len = w.position();
        let sum = Sha256::digest(out.get(..len).ok_or(Error::BufferTooSmall)?);
        out.get_mut(len..len + HASH_LEN)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(&sum);
        Ok(len + HASH_LEN)
    }

    /// Decodes a stored secret and re-checks it: format and checksum, p̂ ≠ q̂ of 1024 bits each
    /// with p̂ ≡ q̂ ≡ 3 (mod 4), N̂ = p̂·q̂ of 2048 bits, g = h^λ recomputed, and the public checks
    /// of [`RingPedersenParams::decode`].
    ///
    /// Safe primality is not re-tested here: every primality test we have (crypto-primes) is
    /// variable time in the candidate, a timing oracle on the secret primes at every load, and
    /// the primes were tested when made ([`RingPedersenSecret::generate`],
    /// [`RingPedersenSecret::from_safe_primes`]). A damaged file fails its checksum; parameters
    /// over non-safe primes would weaken only party 0's own soundness.
    ///
    /// # Errors
    /// [`Error::PedersenParameters`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let bad = Error::PedersenParameters;
        if bytes.len() != Self::ENCODED_LEN {
            return Err(bad);
        }
        let (body, sum) = bytes
            .split_at_checked(Self::ENCODED_LEN - HASH_LEN)
            .ok_or(bad)?;
        if !bool::from(Sha256::digest(body).as_slice().ct_eq(sum)) {
            return Err(bad);
        }
        let mut r = Reader::new(body);
        if r.array::<4>().map_err(|_| bad)? != *SECRET_MAGIC
            || r.array::<1>().map_err(|_| bad)? != [SECRET_VERSION]
        {
            return Err(bad);
        }
        let p: Zeroizing<U1024> = Zeroizing::new(r.integer_unbounded(PRIME_LEN).map_err(|_| bad)?);
        let q: Zeroizing<U1024> = Zeroizing::new(r.integer_unbounded(PRIME_LEN).map_err(|_| bad)?);
        let lambda: Zeroizing<U2048> =
            Zeroizing::new(r.integer_unbounded(MOD_N_LEN).map_err(|_| bad)?);
        let h: U2048 = r.integer_unbounded(MOD_N_LEN).map_err(|_| bad)?;
        r.finish().map_err(|_| bad)?;
        Self::from_parts(&p, &q, &lambda, &h)
    }

    /// Whether g^z·h^u ≡ x (mod N̂), computed as h^((λ·z + u) mod φ(N̂)) mod p̂ and mod q̂: the
    /// public equation (g = h^λ, h^φ = 1), about eight times cheaper. Constant time in λ and
    /// the factors; z, u and x are public.
    pub(crate) fn pedersen_holds(&self, z: &U896, u: &U2368, x: &U2048) -> Choice {
        let phi = NonZero::new(self.phi.resize::<{ U3072::LIMBS }>())
            .into_option()
            .unwrap_or(NonZero::ONE);
        let lz: Zeroizing<U3072> = Zeroizing::new(
            self.lambda
                .resize::<{ U3072::LIMBS }>()
                .wrapping_mul(&z.resize::<{ U3072::LIMBS }>())
                .wrapping_add(&u.resize::<{ U3072::LIMBS }>()),
        );
        let e: Zeroizing<U2048> = Zeroizing::new(lz.rem(&phi).resize());
        self.halves
            .iter()
            .fold(Choice::from(1), |ok, half| ok & half.holds(&e, x))
    }

    /// Party 0's one-time message to party 1: the parameters and the Π^prm proof that
    /// g ∈ ⟨h⟩, bound to the owner's party id (party 0's pid, P1's).
    #[must_use]
    pub fn params_msg<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        owner_pid: &[u8; ID_LEN],
    ) -> ParamsMsg {
        let phi = NonZero::new(self.phi).into_option().unwrap_or(NonZero::ONE);
        ParamsMsg {
            params: self.params,
            proof: PrmProof::prove(
                rng,
                &self.params,
                &self.monty,
                &self.lambda,
                &phi,
                owner_pid,
            ),
        }
    }
}

/// N̂ = p̂·q̂ after the structural checks: distinct, odd, ≡ 3 (mod 4), 1024 bits each (a safe
/// prime above 7 is ≡ 3 mod 4), product of 2048 bits.
fn modulus(p: &U1024, q: &U1024) -> Result<U2048> {
    let bad = Error::PedersenParameters;
    let shape = |x: &U1024| x.as_limbs()[0].0 & 3 == 3 && x.bit(PRIME_BITS - 1).into();
    // p == q compares in constant time; the top bit and the low two bits of a valid prime
    // are public (1…11).
    if p == q || !shape(p) || !shape(q) {
        return Err(bad);
    }
    let n: U2048 = p.concatenating_mul(q);
    if n.bit_width() != MODULUS_BITS {
        return Err(bad);
    }
    Ok(n)
}

/// φ(N̂) = (p̂ − 1)(q̂ − 1).
fn totient(p: &U1024, q: &U1024) -> Result<NonZero<U2048>> {
    let phi: U2048 = p
        .wrapping_sub(&U1024::ONE)
        .concatenating_mul(&q.wrapping_sub(&U1024::ONE));
    NonZero::new(phi)
        .into_option()
        .ok_or(Error::PedersenParameters)
}

impl fmt::Debug for RingPedersenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingPedersenSecret")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The parameter message (party 0 → party 1, once per party-0 identity): the parameters and
/// the compact Π^prm proof. Its decoder checks only the layout; [`ParamsMsg::verify`] checks
/// the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsMsg {
    params: RingPedersenParams,
    proof: PrmProof,
}

impl ParamsMsg {
    /// Storage for [`Message::decode_into`] (33.6 KB, so a firmware keeps one and decodes into
    /// it in place); not a message anyone accepts: its parameters are zero.
    pub const EMPTY: Self = Self {
        params: RingPedersenParams {
            n: U2048::ZERO,
            g: U2048::ZERO,
            h: U2048::ZERO,
        },
        proof: PrmProof::EMPTY,
    };

    /// The parameters the message announces (not yet verified).
    #[must_use]
    pub fn params(&self) -> &RingPedersenParams {
        &self.params
    }

    /// Party 1's check: the public checks on the parameters, then Π^prm for `owner_pid`
    /// (party 0's pid). Returns the verified parameters, to pin.
    ///
    /// # Errors
    /// [`Error::PedersenParameters`] for parameters that fail the public checks;
    /// [`Error::ProofInvalid`] with [`crate::Proof::RingPedersenParams`] if the proof fails.
    pub fn verify(&self, owner_pid: &[u8; ID_LEN]) -> Result<RingPedersenParams> {
        self.proof.verify(&self.params, owner_pid)?;
        Ok(self.params)
    }

    /// A message with another proof, for tests of the verifier.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn with_parts(params: RingPedersenParams, proof: PrmProof) -> Self {
        Self { params, proof }
    }

    /// The proof, for tests of the verifier.
    #[cfg(any(test, feature = "internals"))]
    #[must_use]
    pub fn proof(&self) -> &PrmProof {
        &self.proof
    }
}

impl Message for ParamsMsg {
    const TYPE: MsgType = MsgType::Params;
    const LEN: usize = HEADER_LEN + RingPedersenParams::ENCODED_LEN + PrmProof::LEN;
}

impl Fields for ParamsMsg {
    fn write_fields(&self, w: &mut Writer<'_>) -> Result<()> {
        self.params.write(w)?;
        self.proof.write(w)
    }

    fn read_fields(r: &mut Reader<'_>) -> Result<Self> {
        let mut out = Self::EMPTY;
        Self::read_fields_into(r, &mut out)?;
        Ok(out)
    }

    fn read_fields_into(r: &mut Reader<'_>, out: &mut Self) -> Result<()> {
        out.params = RingPedersenParams::read(r)?;
        out.proof.read_into(r)
    }
}

crate::wire::sealed!(ParamsMsg);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn zeroizing_the_secret_wipes_primes_lambda_and_the_crt_halves() {
        let mut s = fixtures::ring_pedersen(0);
        let params = *s.params();
        s.zeroize();
        assert_eq!((s.p, s.q), (U1024::ZERO, U1024::ZERO));
        assert_eq!((s.lambda, s.phi), (U2048::ZERO, U2048::ZERO));
        for half in &s.halves {
            // A NonZero or Odd wipes to 1, the nearest it can hold to 0.
            assert_eq!(half.prime.get(), U2048::ONE);
            assert_eq!(half.order.get(), U2048::ONE);
            assert_eq!(half.h, U1024::ZERO);
            assert_eq!(half.monty.modulus().get(), U1024::ONE);
        }
        // The public parameters are kept: both parties know them.
        assert_eq!(*s.params(), params);
    }

    #[test]
    fn the_trapdoor_check_is_the_public_equation() {
        let s = fixtures::ring_pedersen(0);
        let p = s.params();
        let monty = p.monty().unwrap();
        let (g, h) = (ElementN::new(&p.g, &monty), ElementN::new(&p.h, &monty));
        let mut rng = fixtures::rng(3);
        for _ in 0..4 {
            let z = bigint::random_below(&mut rng, &NonZero::new(U896::MAX).unwrap());
            let u = bigint::random_below(&mut rng, &NonZero::new(U2368::MAX).unwrap());
            let x = g.pow(&z).mul(&h.pow(&u)).retrieve();
            assert!(bool::from(s.pedersen_holds(&z, &u, &x)));
            let off = x.add_mod(&U2048::ONE, &NonZero::new(p.n).unwrap());
            assert!(!bool::from(s.pedersen_holds(&z, &u, &off)));
        }
    }
}
