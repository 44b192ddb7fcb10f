//! Ring-Pedersen commitment parameters (N̂, g, h), owned by party 0 (P1), for π_c3.
//!
//! π_c3 commits P2's integer witnesses as g^w·h^ρ mod N̂ (docs/PROTOCOL.md,
//! "Ring-Pedersen parameters").
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
    ConstOne, NonZero, Odd, U128, U896, U1024, U2048, U3072,
    modular::{FixedMontyForm, FixedMontyParams},
};
use crypto_primes::{Flavor, is_prime, random_prime};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{
    Error, Result, bigint,
    paillier::{Comb, Prime, table_len},
    session::ID_LEN,
    sizes::{HASH_LEN, HEADER_LEN, MOD_N_LEN},
    tags,
    transcript::Transcript,
    wire::{Fields, Message, MsgType, Reader, Writer},
    zk::{
        prm::PrmProof,
        sign_ciphertext::{G_EXPONENT_BITS, H_EXPONENT_BITS, U2368},
    },
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

    /// Whether a public x is a unit in (0, N̂): the public verifier's check (P1 uses
    /// [`RingPedersenSecret::is_unit_below_n`]).
    #[cfg(any(test, feature = "internals"))]
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

/// Entries of [`CommitTables`] for `window`-bit digits (256 bytes each; w = 4: 3.1 MiB).
///
/// # Errors
/// [`Error::TableWindow`] unless `1 ≤ window ≤ MAX_WINDOW`.
pub const fn commit_tables_len(window: u32) -> Result<usize> {
    match (
        table_len(window, G_EXPONENT_BITS),
        table_len(window, H_EXPONENT_BITS),
    ) {
        (Ok(g), Ok(h)) => Ok(g + h),
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// P2's comb tables of g and h mod N̂ for one parameter set, in caller-owned storage of
/// [`commit_tables_len`] entries: π_c3's six commitments g^x·h^ρ at one multiplication per
/// window (each row scanned in constant time) instead of a square per bit. Build once per
/// pinned parameter set (about 2^w/w multiplications per exponent bit of g and of h).
pub struct CommitTables<'t> {
    g: Comb<'t, { U2048::LIMBS }>,
    h: Comb<'t, { U2048::LIMBS }>,
    params: RingPedersenParams,
    monty: MontyN,
}

impl<'t> CommitTables<'t> {
    /// Fills `storage` with the tables of `params`' g and h.
    ///
    /// # Errors
    /// [`Error::TableWindow`] for a window outside 1..=`MAX_WINDOW`; [`Error::BufferTooSmall`]
    /// unless `storage.len() == commit_tables_len(window)`; [`Error::PedersenParameters`] for
    /// parameters that fail the public checks.
    pub fn new(params: &RingPedersenParams, window: u32, storage: &'t mut [U2048]) -> Result<Self> {
        let monty = params.monty()?;
        if storage.len() != commit_tables_len(window)? {
            return Err(Error::BufferTooSmall);
        }
        let (g_rows, h_rows) = storage.split_at_mut(table_len(window, G_EXPONENT_BITS)?);
        let g = ElementN::new(&params.g, &monty);
        let h = ElementN::new(&params.h, &monty);
        Ok(Self {
            g: Comb::build(&g, window, G_EXPONENT_BITS, g_rows)?,
            h: Comb::build(&h, window, H_EXPONENT_BITS, h_rows)?,
            params: *params,
            monty,
        })
    }

    /// g^x·h^blind mod N̂ over the low `x_bits` and `blind_bits` bits (public bounds), constant
    /// time in x and blind; `None` if the tables are for other parameters or do not cover the
    /// bounds (the caller then exponentiates without them).
    pub(crate) fn commit(
        &self,
        params: &RingPedersenParams,
        x: &U896,
        x_bits: u32,
        blind: &U2368,
        blind_bits: u32,
    ) -> Option<U2048> {
        if self.params != *params {
            return None;
        }
        let gx = self.g.pow_bounded(x, x_bits, &self.monty).ok()?;
        let hb = self.h.pow_bounded(blind, blind_bits, &self.monty).ok()?;
        Some(gx.mul(&hb).retrieve())
    }
}

impl fmt::Debug for CommitTables<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitTables").finish_non_exhaustive()
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
    /// f − 1 at the width of λ·z + u, as a divisor (h^(f−1) = 1 mod f).
    order: NonZero<U3072>,
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

    /// Whether h^e ≡ a·w^k (mod f), constant time in e and f; with the comb table of h mod f
    /// if the caller has one. e is reduced mod f − 1, a multiple of h's order mod f.
    fn holds(
        &self,
        e: &U3072,
        a: &U2048,
        w: &U2048,
        k: &U128,
        table: Option<&Comb<'_, { U1024::LIMBS }>>,
    ) -> Choice {
        // Secret: f, the exponent e (from λ) and both sides, which are values mod f (with the
        // public inputs they came from, either one gives f away), and every Montgomery form,
        // which also carries a copy of f's parameters: all wiped when they go out of scope.
        // Only the verdict leaves. (Compiler temporaries are out of reach.)
        let e: Zeroizing<U1024> = Zeroizing::new(e.rem(&self.order).resize());
        let power = Zeroizing::new(
            table
                .and_then(|t| t.pow_bounded(&*e, PRIME_BITS, &self.monty).ok())
                .unwrap_or_else(|| FixedMontyForm::new(&self.h, &self.monty).pow(&*e)),
        );
        let lhs: Zeroizing<U1024> = Zeroizing::new(power.retrieve());
        lhs.ct_eq(&*self.public_power(a, w, k))
    }

    /// a·w^k mod f for public a, w and k: variable time in k only (how many products the
    /// exponentiation makes); every product and reduction is constant time in f. The
    /// reductions mod f and the result are secret (see [`Self::holds`]): wiped on drop.
    fn public_power(&self, a: &U2048, w: &U2048, k: &U128) -> Zeroizing<U1024> {
        let reduce = |x: &U2048| {
            let reduced: Zeroizing<U1024> = Zeroizing::new(x.rem(&self.prime).resize());
            Zeroizing::new(FixedMontyForm::new(&reduced, &self.monty))
        };
        // vartime: the exponent k is π_c3's public challenge; f enters only the constant-time
        // products.
        let w_k = Zeroizing::new(reduce(w).pow_vartime(k));
        Zeroizing::new(reduce(a).mul(&w_k).retrieve())
    }
}

/// Entries of [`TrapdoorTables`] for `window`-bit digits (128 bytes each; w = 4: 1 MiB).
///
/// # Errors
/// [`Error::TableWindow`] unless `1 ≤ window ≤ MAX_WINDOW`.
pub const fn trapdoor_tables_len(window: u32) -> Result<usize> {
    match table_len(window, PRIME_BITS) {
        Ok(half) => Ok(2 * half),
        Err(e) => Err(e),
    }
}

/// P1's comb tables of h mod p̂ and mod q̂ (built by [`RingPedersenSecret::trapdoor_tables`],
/// in caller-owned storage of [`trapdoor_tables_len`] entries): the trapdoor check of π_c3's
/// three Pedersen relations, h^E mod each prime with a secret E, at one multiplication per
/// window, each row scanned in full with constant-time selects. Every entry gives p̂ or q̂
/// away: the storage is wiped on drop; keep it where the secret lives.
pub struct TrapdoorTables<'t> {
    halves: [Comb<'t, { U1024::LIMBS }>; 2],
    params: RingPedersenParams,
}

impl Drop for TrapdoorTables<'_> {
    fn drop(&mut self) {
        for half in &mut self.halves {
            half.zeroize();
        }
    }
}

impl fmt::Debug for TrapdoorTables<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapdoorTables").finish_non_exhaustive()
    }
}

/// The secret file format: magic, version, p̂, q̂, λ, h, SHA-256 of everything before.
const SECRET_MAGIC: &[u8; 4] = &RingPedersenSecret::FILE_MAGIC;
const SECRET_VERSION: u8 = 1;
const PRIME_LEN: usize = 128;

impl RingPedersenSecret {
    /// The first bytes of an encoded secret ([`Self::encode`]): a file that starts with them
    /// is a parameter secret, which a tool must not overwrite by mistake.
    pub const FILE_MAGIC: [u8; 4] = *b"E2RP";

    /// Length of [`RingPedersenSecret::encode`].
    pub const ENCODED_LEN: usize = 4 + 1 + 2 * PRIME_LEN + 2 * MOD_N_LEN + HASH_LEN;

    /// Whether a public x is a unit in (0, N̂), the answer of
    /// [`RingPedersenParams::is_unit_below_n`] from the factors: x ≢ 0 mod p̂ and mod q̂
    /// ([`bigint::is_unit_by_factors`]).
    pub(crate) fn is_unit_below_n(&self, x: &U2048) -> bool {
        let [p, q] = &self.halves;
        bigint::is_unit_by_factors(x, &self.params.n, [&p.prime, &q.prime])
    }

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

    /// τ ← Z_N̂*, h = τ², λ ← [0, N̂) mod φ(N̂), g = h^λ, after the structural checks on p̂, q̂.
    fn build<R: CryptoRng + ?Sized>(rng: &mut R, p: &U1024, q: &U1024) -> Result<Self> {
        let n = modulus(p, q)?;
        let monty = MontyN::new(Odd::new(n).into_option().ok_or(Error::PedersenParameters)?);
        let n_nz = NonZero::new(n)
            .into_option()
            .ok_or(Error::PedersenParameters)?;
        let tau = Zeroizing::new(bigint::random_below(rng, &n_nz));
        let h = ElementN::new(&tau, &monty).square().retrieve();
        // Below the public N̂, not φ(N̂) (the sampler rejects in variable time, which only a
        // public bound allows); `from_parts` reduces it mod φ(N̂), within 2^-1021 of uniform.
        let lambda = Zeroizing::new(bigint::random_below(rng, &n_nz));
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

    /// Whether g^z·h^u ≡ a·w^k (mod N̂), computed as h^(λ·z + u) ≡ a·w^k mod p̂ and mod q̂
    /// ([`RingPedersenSecret::pedersen_half_holds`], both halves): the public equation
    /// (g = h^λ, and h's order divides f − 1 mod each prime f), about eight times cheaper.
    #[cfg(test)]
    pub(crate) fn pedersen_holds(
        &self,
        z: &U896,
        u: &U2368,
        a: &U2048,
        w: &U2048,
        k: &U128,
        tables: Option<&TrapdoorTables<'_>>,
    ) -> Choice {
        self.pedersen_half_holds(Prime::P, z, u, a, w, k, tables)
            & self.pedersen_half_holds(Prime::Q, z, u, a, w, k, tables)
    }

    /// Whether g^z·h^u ≡ a·w^k mod one prime factor of N̂ (`Prime::P` for p̂, `Prime::Q` for
    /// q̂), as h^((λ·z + u) mod (f − 1)) ≡ a·w^k (mod f), both sides at half width. The public
    /// equation mod N̂ holds exactly when both halves hold (CRT); the halves are independent
    /// work (two threads may run them). Constant time in λ and the factors; z, u, a, w and k
    /// are public.
    ///
    /// `tables`, if they are this secret's ([`RingPedersenSecret::trapdoor_tables`]), make the
    /// exponentiation of h several times cheaper; other tables are not used.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pedersen_half_holds(
        &self,
        prime: Prime,
        z: &U896,
        u: &U2368,
        a: &U2048,
        w: &U2048,
        k: &U128,
        tables: Option<&TrapdoorTables<'_>>,
    ) -> Choice {
        let i = match prime {
            Prime::P => 0,
            Prime::Q => 1,
        };
        let Some(half) = self.halves.get(i) else {
            return Choice::from(0);
        };
        let lz: Zeroizing<U3072> = Zeroizing::new(
            self.lambda
                .resize::<{ U3072::LIMBS }>()
                .wrapping_mul(&z.resize::<{ U3072::LIMBS }>())
                .wrapping_add(&u.resize::<{ U3072::LIMBS }>()),
        );
        let tables = tables.filter(|t| t.params == self.params);
        half.holds(&lz, a, w, k, tables.and_then(|t| t.halves.get(i)))
    }

    /// Fills `storage` with the comb tables of h mod p̂ and mod q̂ for
    /// [`crate::sign::p1::AwaitMsg4::on_msg4_with`]. About 2^w/w multiplications mod each
    /// prime per exponent bit (w = 4: 2 × 4096 half-size multiplications, a few ms), each
    /// signature's check then saves most of its six half-size exponentiations: it pays for a
    /// process that signs more than once (the service), not for one signature.
    ///
    /// # Errors
    /// [`Error::TableWindow`] for a window outside 1..=`MAX_WINDOW`; [`Error::BufferTooSmall`]
    /// unless `storage.len() == trapdoor_tables_len(window)`.
    pub fn trapdoor_tables<'t>(
        &self,
        window: u32,
        storage: &'t mut [U1024],
    ) -> Result<TrapdoorTables<'t>> {
        if storage.len() != trapdoor_tables_len(window)? {
            return Err(Error::BufferTooSmall);
        }
        let (p_rows, q_rows) = storage.split_at_mut(table_len(window, PRIME_BITS)?);
        let [hp, hq] = &self.halves;
        let comb = |half: &CrtHalf, rows| {
            Comb::build(
                &FixedMontyForm::new(&half.h, &half.monty),
                window,
                PRIME_BITS,
                rows,
            )
        };
        Ok(TrapdoorTables {
            halves: [comb(hp, p_rows)?, comb(hq, q_rows)?],
            params: self.params,
        })
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
    // The tables (MiBs) cannot live on a test thread's stack: the test harness's allocator
    // holds them. The library itself never allocates.
    extern crate alloc;
    use super::*;
    use crate::fixtures;
    use alloc::vec;

    /// P1's unit check mod N̂ by p̂ and q̂ gives the gcd's answers, multiples of each factor
    /// included.
    #[test]
    fn unit_check_by_the_factors_agrees_with_the_gcd() {
        let s = fixtures::ring_pedersen(0);
        let n = s.params().n;
        let wide = |x: &U1024| x.resize::<{ U2048::LIMBS }>();
        let cases: [(&str, U2048, bool); 8] = [
            ("0", U2048::ZERO, false),
            ("1", U2048::ONE, true),
            ("h", s.params().h, true),
            ("N̂ − 1", n.wrapping_sub(&U2048::ONE), true),
            ("N̂", n, false),
            ("N̂ + 1", n.wrapping_add(&U2048::ONE), false),
            ("p̂·7", wide(&s.p).wrapping_mul(&U2048::from_u8(7)), false),
            ("q̂", wide(&s.q), false),
        ];
        for (name, x, unit) in cases {
            assert_eq!(s.is_unit_below_n(&x), unit, "{name}");
            assert_eq!(
                s.params().is_unit_below_n(&x),
                unit,
                "{name}: the gcd agrees"
            );
        }
    }

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
            assert_eq!(half.order.get(), U3072::ONE);
            assert_eq!(half.h, U1024::ZERO);
            assert_eq!(half.monty.modulus().get(), U1024::ONE);
        }
        // The public parameters are kept: both parties know them.
        assert_eq!(*s.params(), params);
    }

    #[test]
    fn commit_tables_give_the_plain_commitments() {
        let s = fixtures::ring_pedersen(0);
        let p = s.params();
        let monty = p.monty().unwrap();
        let (g, h) = (ElementN::new(&p.g, &monty), ElementN::new(&p.h, &monty));
        let mut rng = fixtures::rng(4);
        for window in [1u32, 4, 5] {
            let mut storage = vec![U2048::ZERO; commit_tables_len(window).unwrap()];
            let tables = CommitTables::new(p, window, &mut storage).unwrap();
            for _ in 0..2 {
                let x = bigint::random_below(&mut rng, &NonZero::new(U896::MAX).unwrap());
                let b = bigint::random_below(&mut rng, &NonZero::new(U2368::MAX).unwrap());
                let want = g
                    .pow_bounded_exp(&x, G_EXPONENT_BITS)
                    .mul(&h.pow_bounded_exp(&b, H_EXPONENT_BITS))
                    .retrieve();
                let got = tables.commit(p, &x, G_EXPONENT_BITS, &b, H_EXPONENT_BITS);
                assert_eq!(got, Some(want), "window {window}");
            }
            // Bounds the tables do not cover, or other parameters: no answer, so the caller
            // exponentiates without them.
            let other = *fixtures::ring_pedersen(1).params();
            assert_eq!(tables.commit(&other, &U896::ONE, 1, &U2368::ONE, 1), None);
            let wide = G_EXPONENT_BITS + window;
            assert_eq!(tables.commit(p, &U896::ONE, wide, &U2368::ONE, 1), None);
        }
        let mut short = vec![U2048::ZERO; 3];
        assert_eq!(
            CommitTables::new(p, 4, &mut short).unwrap_err(),
            Error::BufferTooSmall
        );
        assert_eq!(
            CommitTables::new(p, 0, &mut short).unwrap_err(),
            Error::TableWindow
        );
    }

    #[test]
    fn the_trapdoor_check_is_the_public_equation() {
        let s = fixtures::ring_pedersen(0);
        let p = s.params();
        let monty = p.monty().unwrap();
        let (g, h) = (ElementN::new(&p.g, &monty), ElementN::new(&p.h, &monty));
        let mut rng = fixtures::rng(3);
        let mut storage = vec![U1024::ZERO; trapdoor_tables_len(4).unwrap()];
        let tables = s.trapdoor_tables(4, &mut storage).unwrap();
        let other = fixtures::ring_pedersen(1);
        let mut other_storage = vec![U1024::ZERO; trapdoor_tables_len(3).unwrap()];
        let foreign = other.trapdoor_tables(3, &mut other_storage).unwrap();
        let n = NonZero::new(p.n).unwrap();
        for _ in 0..4 {
            // g^z·h^(u + t·k) = A·W^k for A = g^z·h^u and W = h^t.
            let z = bigint::random_below(&mut rng, &NonZero::new(U896::MAX).unwrap());
            let u = bigint::random_below(&mut rng, &NonZero::new(U2368::MAX >> 72).unwrap());
            let t: U128 = bigint::random_below(&mut rng, &NonZero::new(U128::MAX).unwrap());
            let k: U128 = bigint::random_below(&mut rng, &NonZero::new(U128::MAX).unwrap());
            let a = g.pow(&z).mul(&h.pow(&u)).retrieve();
            let w = h.pow(&t).retrieve();
            let u = u.wrapping_add(&t.concatenating_mul(&k).resize());
            let holds = |a: &U2048, w: &U2048, k: &U128, tables| {
                bool::from(s.pedersen_holds(&z, &u, a, w, k, tables))
            };
            let off_a = a.add_mod(&U2048::ONE, &n);
            let off_w = w.add_mod(&U2048::ONE, &n);
            let off_k = k.wrapping_add(&U128::ONE);
            // Tables of another secret are not used: the check stays right.
            for tables in [None, Some(&tables), Some(&foreign)] {
                assert!(holds(&a, &w, &k, tables));
                assert!(!holds(&off_a, &w, &k, tables));
                assert!(!holds(&a, &off_w, &k, tables));
                assert!(!holds(&a, &w, &off_k, tables));
            }
        }
        let mut short = vec![U1024::ZERO; 3];
        assert_eq!(
            s.trapdoor_tables(4, &mut short).unwrap_err(),
            Error::BufferTooSmall
        );
        assert_eq!(
            s.trapdoor_tables(crate::MAX_WINDOW + 1, &mut short)
                .unwrap_err(),
            Error::TableWindow
        );
    }
}
