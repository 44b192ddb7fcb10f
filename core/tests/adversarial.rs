//! Adversarial suite: every check the protocol makes, fed the input a cheating peer would send,
//! expecting the specific error and no share or signature (docs/SECURITY.md A1–A15, F).
//!
//! A cheating party is played by the test with the public API only: the public provers, the
//! public Paillier and Pedersen primitives, and the session-binding replicas in `support.rs`.
//! The `control_*` tests run those cheating builders with honest inputs and expect success, so a
//! negative test cannot pass because the builder itself is broken.

mod support;

use crypto_bigint::{
    NonZero, Odd, RandomBits, RandomMod, U128, U256, U384, U512, U768, U1024, U2048, U4096, Uint,
    modular::{FixedMontyForm, FixedMontyParams},
};
use ecdsa2pc_core::internals::{curve, pedersen, tags};
use ecdsa2pc_core::{
    Context, Error, KeyShare, KeyShareP1, KeyShareP2, Message, PaillierPublicKey,
    PaillierSecretKey, Proof,
    internals::{
        session::Binding,
        wire::Reader,
        zk::{
            ckey, dlog::DlogProof, eq_paillier_pedersen as eqp, paillier_key::PaillierKeyProof,
            range,
        },
    },
    keygen, refresh, sign,
};
use k256::{AffinePoint, ProjectivePoint, Scalar};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;
use support::{PID1, PID2};

// ---------------------------------------------------------------------------------------------
// Constants and byte-level helpers
// ---------------------------------------------------------------------------------------------

/// The secp256k1 group order q.
const Q: U256 = support::Q_ORDER;
/// The secp256k1 field prime p.
const FIELD_P: U256 =
    U256::from_be_hex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F");

/// Byte offsets of every field of keygen Msg3 (checked against the LEN constants).
mod k3 {
    pub(crate) const Q1: usize = 2;
    pub(crate) const CC1: usize = Q1 + 33;
    pub(crate) const OPEN: usize = CC1 + 32;
    pub(crate) const PROOF: usize = OPEN + 32;
    pub(crate) const PROOF_Z: usize = PROOF + 33;
    pub(crate) const EQ: usize = PROOF + 65;
    pub(crate) const EQ_CT: usize = EQ;
    pub(crate) const EQ_COMT: usize = EQ_CT + 3 * 512;
    pub(crate) const EQ_R: usize = EQ_COMT + 256;
    pub(crate) const EQ_OPEN: usize = EQ_R + 33;
    pub(crate) const EQ_D: usize = EQ_OPEN + 32;
    /// Bytes of each d_i: q·(2^82 + 2^18) < 2^338.
    pub(crate) const EQ_D_LEN: usize = 43;
    pub(crate) const EQ_BIGD: usize = EQ_D + 3 * EQ_D_LEN;
    pub(crate) const EQ_NU: usize = EQ_BIGD + 3 * 256;
    /// Bytes of ν: 2^374 + 2^310 needs 375 bits.
    pub(crate) const EQ_NU_LEN: usize = 47;
    pub(crate) const RANGE: usize = EQ_NU + EQ_NU_LEN;
    pub(crate) const RANGE_CT: usize = RANGE;
    pub(crate) const RANGE_OPEN: usize = RANGE_CT + 50 * 256;
    pub(crate) const RANGE_D: usize = RANGE_OPEN + 32;
    pub(crate) const RANGE_F: usize = RANGE_D + 50 * 40;
    /// Bytes of each f_i: 2^326 + 2^256 needs 327 bits.
    pub(crate) const RANGE_F_LEN: usize = 41;
    pub(crate) const KEY: usize = RANGE_F + 50 * RANGE_F_LEN;
    pub(crate) const END: usize = KEY + 3 * 256;
}

/// Byte offsets of keygen Msg1.
mod k1 {
    pub(crate) const N: usize = 2 + 32 + 32;
    pub(crate) const C_KEY: usize = N + 256;
    pub(crate) const PED: usize = C_KEY + 512;
    pub(crate) const PARAMS_HASH: usize = PED + 256 + 64;
    pub(crate) const END: usize = PARAMS_HASH + 32;
}

/// Byte offsets of keygen Msg2.
mod k2 {
    pub(crate) const Q2: usize = 2 + 32;
    pub(crate) const PROOF_A: usize = Q2 + 33;
    pub(crate) const PROOF_Z: usize = PROOF_A + 33;
    pub(crate) const SEED: usize = PROOF_Z + 32;
    pub(crate) const E_EQ: usize = SEED + 16;
    pub(crate) const E_RANGE: usize = E_EQ + 8;
    pub(crate) const CC2: usize = E_RANGE + 8;
    pub(crate) const END: usize = CC2 + 32;
}

#[test]
fn layouts_match_the_message_lengths() {
    assert_eq!(k1::END, keygen::Msg1::LEN);
    assert_eq!(k2::END, keygen::Msg2::LEN);
    assert_eq!(k3::END, keygen::Msg3::LEN);
    assert_eq!(k3::RANGE - k3::EQ, eqp::Response::LEN);
    assert_eq!(k3::KEY - k3::RANGE, range::Response::LEN);
    assert_eq!(k3::END - k3::KEY, PaillierKeyProof::LEN);
    assert_eq!(sign::Msg2::LEN, 2 + 32 + 33 + 65);
    assert_eq!(sign::Msg3::LEN, 2 + 33 + 32 + 65);
    // c, W_1..3, A_1..3, G', Q2', C_α, z1, z2, z3, u_1..3, v.
    assert_eq!(
        sign::Msg4::LEN,
        2 + 512 + 6 * 256 + 2 * 33 + 512 + 2 * 57 + 105 + 3 * 289 + 256
    );
    assert_eq!(sign::Msg4::LEN, 3970);
    assert_eq!(ecdsa2pc_core::ParamsMsg::LEN, 2 + 3 * 256 + 16 + 128 * 256);
    assert_eq!(sign::Msg5::LEN, 2 + 64);
}

/// The error of a result that must have failed.
#[track_caller]
fn err<T>(r: ecdsa2pc_core::Result<T>) -> Error {
    match r {
        Ok(_) => panic!("expected an error, got Ok"),
        Err(e) => e,
    }
}

/// `v` big-endian in exactly `width` bytes.
fn be<const L: usize>(v: &Uint<L>, width: usize) -> Vec<u8> {
    let full = v.to_be_bytes();
    let full = full.as_ref();
    let cut = full.len() - width;
    assert!(
        full[..cut].iter().all(|&b| b == 0),
        "value wider than field"
    );
    full[cut..].to_vec()
}

/// A copy of `bytes` with `new` written at `offset`.
fn splice(bytes: &[u8], offset: usize, new: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[offset..offset + new.len()].copy_from_slice(new);
    out
}

/// Adds one to the big-endian integer in `bytes[start..end]`.
fn plus_one(bytes: &[u8], start: usize, end: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for b in out[start..end].iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            break;
        }
    }
    out
}

/// A copy with one byte xored.
fn xor_byte(bytes: &[u8], at: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= mask;
    out
}

fn scalar_uint(s: &Scalar) -> U2048 {
    U256::from_be_slice(&s.to_bytes()).resize()
}

fn q_wide<const L: usize>() -> Uint<L> {
    Q.resize()
}

/// A Schnorr proof with chosen (A, z), through its wire form.
fn dlog_from(a: &AffinePoint, z: &Scalar) -> DlogProof {
    let mut buf = curve::encode_point(a).unwrap().to_vec();
    buf.extend_from_slice(&z.to_bytes());
    DlogProof::read(&mut Reader::new(&buf)).unwrap()
}

/// (A, z) of a Schnorr proof.
fn dlog_parts(p: &DlogProof) -> (AffinePoint, Scalar) {
    let mut buf = [0u8; DlogProof::LEN];
    p.write(&mut ecdsa2pc_core::internals::wire::Writer::new(&mut buf))
        .unwrap();
    let a = curve::decode_point(buf[..33].try_into().unwrap()).unwrap();
    let z = curve::decode_scalar(buf[33..].try_into().unwrap()).unwrap();
    (a, z)
}

/// 33-byte encodings that are not a valid compressed non-identity point.
fn bad_points() -> Vec<(&'static str, [u8; 33])> {
    let g = curve::encode_point(&AffinePoint::GENERATOR).unwrap();
    let mut uncompressed_tag = g;
    uncompressed_tag[0] = 0x04;
    let mut compact_tag = g;
    compact_tag[0] = 0x05;
    let mut off_curve = [0u8; 33];
    off_curve[0] = 0x02;
    off_curve[32] = 5; // y² = 5³ + 7 = 132 is a non-residue mod p
    let mut x_eq_p = [0u8; 33];
    x_eq_p[0] = 0x02;
    x_eq_p[1..].copy_from_slice(&be(&FIELD_P, 32));
    let mut x_max = [0xffu8; 33];
    x_max[0] = 0x03;
    vec![
        ("identity (all zero)", [0u8; 33]),
        ("identity tag 0x00 with x", {
            let mut b = g;
            b[0] = 0;
            b
        }),
        ("uncompressed tag 0x04", uncompressed_tag),
        ("compact tag 0x05", compact_tag),
        ("off-curve x", off_curve),
        ("x = p", x_eq_p),
        ("x = 2^256 - 1", x_max),
    ]
}

/// 32-byte encodings of non-canonical scalars.
fn bad_scalars() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("q", be(&Q, 32)),
        ("q + 1", be(&Q.wrapping_add(&U256::ONE), 32)),
        ("2^256 - 1", vec![0xff; 32]),
    ]
}

// ---------------------------------------------------------------------------------------------
// A cheating P1 for keygen, built from the public provers
// ---------------------------------------------------------------------------------------------

/// How P1 makes its Paillier key proof.
#[allow(clippy::large_enum_variant)] // a handful of values in a test
enum KeyMaterial {
    /// With the real secret key.
    Honest(PaillierSecretKey),
    /// Without one: roots σ = ρ^(N⁻¹ mod φ') for a φ' the cheater hopes works.
    Forged { phi: U2048 },
}

/// What the cheater changes; `Default` is an honest P1.
#[derive(Default, Clone)]
struct Cheat {
    /// The plaintext of c_key (honest: x1).
    plaintext: Option<U2048>,
    /// A raw c_key sent instead of an encryption (its "randomness" is taken to be 1).
    raw_c_key: Option<U4096>,
    /// The value inside the Pedersen commitment (honest: x1).
    pedersen_value: Option<U2048>,
    /// A point committed and opened as Q1 instead of x1·G.
    q1: Option<AffinePoint>,
    /// A scalar s ≠ x1 whose s·G is committed and opened as Q1, with an honest proof of
    /// knowledge of s (every other proof about x1, honest).
    q1_secret: Option<Scalar>,
}

struct MalP1 {
    rng: ChaCha20Rng,
    pk: PaillierPublicKey,
    key: KeyMaterial,
    x1: Scalar,
    q1_secret: Scalar,
    q1: AffinePoint,
    cc1: [u8; 32],
    open_q1: [u8; 32],
    prefix: [u8; 32],
    r_key: U2048,
    ped_rho: U256,
    eq: eqp::Prover,
    range: range::Prover,
}

impl MalP1 {
    fn start(
        seed: u64,
        pk: PaillierPublicKey,
        key: KeyMaterial,
        cheat: &Cheat,
    ) -> (Self, keygen::Msg1) {
        let mut rng = support::rng(seed);
        let mut nonce1 = [0u8; 32];
        rng.fill_bytes(&mut nonce1);
        let params_hash = support::rp().params().hash();
        let prefix = support::prefix("keygen", &nonce1, &params_hash);
        let x1 = curve::random_scalar(&mut rng);
        let q1_secret = cheat.q1_secret.unwrap_or(x1);
        let q1 = cheat.q1.unwrap_or_else(|| curve::mul_g(&q1_secret));
        let cc1 = [0xc1; 32];
        let open_q1 = ecdsa2pc_core::internals::commitment::randomness(&mut rng);
        let com_q1 = support::com_q1(&q1, &cc1, &prefix, &open_q1);
        let plaintext = cheat.plaintext.unwrap_or_else(|| scalar_uint(&x1));
        let (c_key, r_key) = match cheat.raw_c_key {
            Some(raw) => (pk.validate(&raw).unwrap(), U2048::ONE),
            None => pk.encrypt(&mut rng, &plaintext),
        };
        // Short Pedersen randomness, as the honest P1 draws it.
        let ped_rho = U256::random_bits(&mut rng, pedersen::RANDOMNESS_BITS);
        let (g, h) = pedersen::generators();
        let value = cheat.pedersen_value.unwrap_or_else(|| scalar_uint(&x1));
        let ped = g.pow(&value).mul(&h.pow(&ped_rho));
        let at = |label| Binding {
            session: &prefix,
            prover: &PID1,
            label,
        };
        let (eq, com_eq) = eqp::Prover::commit(&mut rng, &pk, &at("keygen/eq"));
        let (range, com_range) = range::Prover::commit(&mut rng, &at("keygen/range"));
        let msg = keygen::Msg1 {
            nonce1,
            com_q1,
            paillier: pk.clone(),
            commitment: ckey::Commitment {
                c_key,
                pedersen: ped,
                com_eq,
                com_range,
            },
            params_hash,
        };
        let state = Self {
            rng,
            pk,
            key,
            x1,
            q1_secret,
            q1,
            cc1,
            open_q1,
            prefix,
            r_key,
            ped_rho,
            eq,
            range,
        };
        (state, msg)
    }

    fn respond(mut self, m2: &keygen::Msg2) -> keygen::Msg3 {
        let sid = support::sid(&self.prefix, &m2.nonce2);
        let at = |label| Binding {
            session: &sid,
            prover: &PID1,
            label,
        };
        let rng = &mut self.rng;
        let proof_q1 = DlogProof::prove(rng, &self.q1_secret, &self.q1, &at("keygen/Q1"));
        let eq = self.eq.respond(
            &self.pk,
            &self.x1,
            &self.r_key,
            &self.ped_rho,
            m2.challenges.e_eq,
        );
        let range = self
            .range
            .respond(&self.x1, &self.ped_rho, m2.challenges.e_range);
        let key_binding = at("keygen/paillier-key");
        let key_proof = match &self.key {
            KeyMaterial::Honest(sk) => {
                PaillierKeyProof::prove(sk, &m2.challenges.key, &key_binding)
            }
            KeyMaterial::Forged { phi } => {
                forge_roots(&self.pk, phi, &m2.challenges.key, &key_binding)
            }
        };
        keygen::Msg3 {
            q1: self.q1,
            cc1: self.cc1,
            open_q1: self.open_q1,
            proof_q1,
            responses: ckey::Responses {
                eq,
                range,
                key_proof,
            },
        }
    }
}

/// The key proof's challenges ρ_i, recomputed from the seed, N and the binding.
fn key_challenges(pk: &PaillierPublicKey, seed: &[u8; 16], b: &Binding<'_>) -> [U2048; 4] {
    let mut t = support::bound_transcript(tags::ZK_PAILLIER_KEY, b);
    t.bytes("seed", seed).integer("N", pk.modulus());
    let mut xof = t.into_xof();
    let n_wide = NonZero::new(pk.modulus().resize::<{ U2048::LIMBS + U128::LIMBS }>()).unwrap();
    core::array::from_fn(|_| xof.integer_mod(&n_wide).resize())
}

/// Roots ρ_i^(N⁻¹ mod φ'): the real N-th roots when φ' = φ(N) of a valid key, else a forgery.
fn forge_roots(
    pk: &PaillierPublicKey,
    phi: &U2048,
    seed: &[u8; 16],
    b: &Binding<'_>,
) -> PaillierKeyProof {
    let n = *pk.modulus();
    let phi_nz = NonZero::new(*phi).unwrap();
    let d = n.rem(&phi_nz).invert_mod(&phi_nz).unwrap();
    let params = FixedMontyParams::new_vartime(Odd::new(n).unwrap());
    let mut buf = Vec::new();
    for rho in key_challenges(pk, seed, b) {
        let root = FixedMontyForm::new(&rho, &params).pow(&d).retrieve();
        buf.extend(be(&root, 256));
    }
    PaillierKeyProof::read(&mut Reader::new(&buf)).unwrap()
}

/// φ(N) = (p − 1)(q − 1) of fixture key `i`.
fn fixture_phi(i: usize) -> U2048 {
    let (p, q) = support::paillier(i).primes();
    p.wrapping_sub(&U1024::ONE)
        .concatenating_mul(&q.wrapping_sub(&U1024::ONE))
}

const P2_SEED: u64 = 0x5eed_0002;

/// Runs the cheater against an honest P2 over the wire; `tweak` edits Msg3 before it is sent.
fn run_against_p2(
    mal: MalP1,
    m1: &keygen::Msg1,
    tweak: impl FnOnce(&mut keygen::Msg3, &keygen::Msg2),
) -> ecdsa2pc_core::Result<KeyShareP2> {
    let m1 = keygen::Msg1::decode(&support::bytes(m1))?;
    let mut r2 = support::rng(P2_SEED);
    let (p2, m2) = keygen::p2::start(&mut r2, &support::ctx2(), &m1, support::rp().params())?;
    let m2 = support::wire(&m2);
    let mut m3 = mal.respond(&m2);
    tweak(&mut m3, &m2);
    let m3 = keygen::Msg3::decode(&support::bytes(&m3))?;
    p2.on_msg3(&mut r2, &m3)
}

/// Q2 that the honest P2 seeded with `P2_SEED` will send: what a cheater that could bias or
/// predict P2 would know before committing (the strongest rushing adversary).
fn predicted_q2() -> AffinePoint {
    curve::mul_g(&support::predict_secret(&support::rng(P2_SEED)))
}

fn honest_mal(seed: u64, cheat: &Cheat) -> (MalP1, keygen::Msg1) {
    let sk = support::paillier(0);
    MalP1::start(
        seed,
        sk.public_key().clone(),
        KeyMaterial::Honest(sk),
        cheat,
    )
}

// ---------------------------------------------------------------------------------------------
// Controls: the cheating builders with honest inputs are accepted
// ---------------------------------------------------------------------------------------------

#[test]
fn control_cheating_p1_builder_with_honest_inputs_is_accepted() {
    let (mal, m1) = honest_mal(1, &Cheat::default());
    let share = run_against_p2(mal, &m1, |_, _| {}).unwrap();
    share.check().unwrap();
}

#[test]
fn control_forged_roots_equal_real_roots_for_a_valid_key() {
    // With the true φ(N) the "forging" recipe is exactly the honest prover: so the challenge
    // derivation replicated in this file matches the core's.
    let sk = support::paillier(0);
    let sid = [3u8; 32];
    let b = Binding {
        session: &sid,
        prover: &PID1,
        label: "keygen/paillier-key",
    };
    let seed = [9u8; 16];
    let forged = forge_roots(sk.public_key(), &fixture_phi(0), &seed, &b);
    assert_eq!(forged, PaillierKeyProof::prove(&sk, &seed, &b));
    assert_eq!(forged.verify(sk.public_key(), &seed, &b), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Keygen: P2 receiving a malicious Msg1 (the Paillier modulus, c_key, the Pedersen commitment)
// ---------------------------------------------------------------------------------------------

/// An honest keygen Msg1 on the wire.
fn honest_k1_bytes() -> Vec<u8> {
    support::bytes(&run().m1)
}

fn with_n(bytes: &[u8], n: &U2048) -> Vec<u8> {
    splice(bytes, k1::N, &be(n, 256))
}

/// The smallest odd 2048-bit multiple of `f` at or above 2^2047 + 1.
fn multiple_of(f: u64) -> U2048 {
    let n = U2048::ONE.shl_vartime(2047).wrapping_add(&U2048::ONE);
    let r = n
        .rem_limb(NonZero::new(crypto_bigint::Limb::from(u32::try_from(f).unwrap())).unwrap())
        .0;
    // A limb is u32 on 32-bit targets, where this conversion is not useless.
    #[allow(clippy::useless_conversion)]
    let mut n = n.wrapping_add(&U2048::from_u64((f - u64::from(r)) % f));
    if !bool::from(n.is_odd()) {
        n = n.wrapping_add(&U2048::from_u64(f));
    }
    n
}

#[test]
fn k1_modulus_of_1024_bits_is_refused() {
    let mut rng = support::rng(21);
    let p: U512 = crypto_primes::random_prime(&mut rng, crypto_primes::Flavor::Any, 512);
    let q: U512 = crypto_primes::random_prime(&mut rng, crypto_primes::Flavor::Any, 512);
    let n: U1024 = p.concatenating_mul(&q);
    // 1024 bits fit the 256-byte field behind 128 zero bytes; the size check must notice.
    let bytes = with_n(&honest_k1_bytes(), &n.resize());
    assert_eq!(
        keygen::Msg1::decode(&bytes).unwrap_err(),
        Error::PaillierModulus
    );
}

#[test]
fn k1_modulus_of_4096_bits_cannot_be_expressed() {
    // The N field is 256 bytes wide: a 4096-bit N needs 512, and a Msg1 carrying one is 256 bytes
    // too long. The fixed layout turns "N too big" into a length error before any arithmetic.
    let honest = honest_k1_bytes();
    let mut long = honest[..k1::N].to_vec();
    long.extend(core::iter::repeat_n(0xc3, 512));
    long.extend_from_slice(&honest[k1::C_KEY..]);
    assert_eq!(long.len(), keygen::Msg1::LEN + 256);
    assert_eq!(keygen::Msg1::decode(&long).unwrap_err(), Error::Malformed);
}

#[test]
fn k1_even_modulus_is_refused() {
    let sk = support::paillier(0);
    let even = sk.public_key().modulus().wrapping_sub(&U2048::ONE);
    let bytes = with_n(&honest_k1_bytes(), &even);
    assert_eq!(
        keygen::Msg1::decode(&bytes).unwrap_err(),
        Error::PaillierModulus
    );
}

#[test]
fn k1_modulus_with_small_factor_is_refused() {
    // 8191 and 65521 are the largest primes below 2^13 and 2^16 (cb-mpc's bound and our old
    // one); 65537 the smallest and 262139 the largest prime between 2^16 and 2^18, the bound
    // the proofs' 18-bit chunks and 2^-18-per-root key proof now need.
    for f in [3u64, 8191, 65521, 65537, 262_139] {
        let bytes = with_n(&honest_k1_bytes(), &multiple_of(f));
        assert_eq!(
            keygen::Msg1::decode(&bytes).unwrap_err(),
            Error::PaillierModulus,
            "factor {f}"
        );
    }
}

#[test]
fn k1_prime_modulus_is_refused() {
    // A prime N has no small factor and decodes; gcd(N, N − 1) = 1, so its "roots" exist:
    // σ_i = ρ_i^(N⁻¹ mod (N−1)) = ρ_i. The key proof, first of P2's checks of message 3,
    // refuses roots that all equal their challenges, before any share holds N.
    let mut rng = support::rng(22);
    let n: U2048 = crypto_primes::random_prime(&mut rng, crypto_primes::Flavor::Any, 2048);
    let bytes = with_n(&honest_k1_bytes(), &n);
    assert!(keygen::Msg1::decode(&bytes).is_ok());
    let pk = PaillierPublicKey::from_modulus(n).unwrap();
    let phi = n.wrapping_sub(&U2048::ONE);
    let (mal, m1) = MalP1::start(22, pk, KeyMaterial::Forged { phi }, &Cheat::default());
    assert_eq!(
        err(run_against_p2(mal, &m1, |_, _| {})),
        Error::PaillierModulus
    );
}

#[test]
fn k1_smooth_modulus_of_sixteen_16_bit_primes_is_refused() {
    // "6ix1een" (docs/SECURITY.md A2): N = p1⋯p16·P with 16-bit p_i. Trial division by every prime
    // below 2^18 (2^16 when this test was written) refuses it at decode (before it, with trial division to 2^13 only, it decoded
    // and only the proofs' 13-bit challenge chunks stood between it and a key leak).
    let mut rng = support::rng(23);
    let mut small = Vec::new();
    let mut candidate = 65_521u32;
    while small.len() < 16 {
        if crypto_primes::is_prime(crypto_primes::Flavor::Any, &U256::from_u32(candidate)) {
            small.push(candidate);
        }
        candidate -= 2;
    }
    let smooth = small
        .iter()
        .fold(U2048::ONE, |acc, &p| acc.wrapping_mul(&U2048::from_u32(p)));
    let n = loop {
        let bits = 2048 - smooth.bit_width();
        let big: U2048 = crypto_primes::random_prime(&mut rng, crypto_primes::Flavor::Any, bits);
        let n = smooth.wrapping_mul(&big);
        if n.bit_width() == 2048 {
            break n;
        }
    };
    assert!(bool::from(n.is_odd()));
    let bytes = with_n(&honest_k1_bytes(), &n);
    assert_eq!(
        keygen::Msg1::decode(&bytes).unwrap_err(),
        Error::PaillierModulus
    );
}

#[test]
fn k1_modulus_p_squared_q_fails_the_key_proof() {
    // N = p²·q passes every decode check (2048 bits, odd, no small factor), so the
    // N-th-root proof must catch it: gcd(N, φ(N)) = p ≠ 1, so x ↦ x^N is p-to-1 on Z_N^* and only
    // a 1/p fraction of the verifier's ρ_i have an N-th root. The cheater's best recipe (roots
    // with exponent N⁻¹ mod (p−1)(q−1)) is right mod q but not mod p².
    let mut rng = support::rng(24);
    let (_, q) = support::paillier(1).primes();
    let (p, n) = loop {
        let p: U512 = crypto_primes::random_prime(&mut rng, crypto_primes::Flavor::Any, 512);
        let p2: U1024 = p.concatenating_square();
        let n: U2048 = p2.concatenating_mul(&q);
        if n.bit_width() == 2048 {
            break (p, n);
        }
    };
    let pk = PaillierPublicKey::from_modulus(n).expect("p²q passes the decode checks");
    let phi = p
        .wrapping_sub(&U512::ONE)
        .resize::<{ U1024::LIMBS }>()
        .concatenating_mul(&q.wrapping_sub(&U1024::ONE));
    let (mal, m1) = MalP1::start(25, pk, KeyMaterial::Forged { phi }, &Cheat::default());
    assert_eq!(
        err(run_against_p2(mal, &m1, |_, _| {})),
        Error::ProofInvalid(Proof::PaillierKey)
    );
}

#[test]
fn k1_c_key_out_of_range_or_not_a_unit_is_refused_at_decode() {
    let sk = support::paillier(0);
    let pk = sk.public_key();
    let n: U4096 = pk.modulus().resize();
    let (p, _) = sk.primes();
    let cases: [(&str, U4096); 6] = [
        ("0", U4096::ZERO),
        ("N", n),
        ("N²", *pk.modulus_squared()),
        ("N² + 1", pk.modulus_squared().wrapping_add(&U4096::ONE)),
        ("2^4096 - 1", U4096::MAX),
        (
            "multiple of p",
            p.resize::<{ U4096::LIMBS }>()
                .wrapping_mul(&U4096::from_u8(77)),
        ),
    ];
    for (name, c) in cases {
        let bytes = splice(&honest_k1_bytes(), k1::C_KEY, &be(&c, 512));
        assert_eq!(
            keygen::Msg1::decode(&bytes).unwrap_err(),
            Error::InvalidCiphertext,
            "c_key = {name}"
        );
    }
}

#[test]
fn k1_c_key_valid_unit_but_not_enc_x1_fails_equality() {
    // 1 = Enc(0; 1) and 4 ("Zero Proof") are units, so decode accepts them; P1 can prove nothing
    // about them: the equality proof (checked right after the key proof) fails.
    for raw in [U4096::ONE, U4096::from_u8(4)] {
        let cheat = Cheat {
            raw_c_key: Some(raw),
            ..Cheat::default()
        };
        let (mal, m1) = honest_mal(26, &cheat);
        assert_eq!(
            err(run_against_p2(mal, &m1, |_, _| {})),
            Error::ProofInvalid(Proof::PaillierPedersenEq)
        );
    }
}

#[test]
fn k1_pedersen_commitment_outside_the_subgroup_is_malformed() {
    let p = pedersen::P;
    let cases: [(&str, U2048); 7] = [
        ("0", U2048::ZERO),
        ("1", U2048::ONE),
        ("p - 1 (= -1, a non-residue)", p.wrapping_sub(&U2048::ONE)),
        (
            "p - 4 (= -4, a non-residue)",
            p.wrapping_sub(&U2048::from_u8(4)),
        ),
        ("p", p),
        ("p + 1", p.wrapping_add(&U2048::ONE)),
        ("2^2048 - 1", U2048::MAX),
    ];
    for (name, v) in cases {
        let bytes = splice(&honest_k1_bytes(), k1::PED, &be(&v, 256));
        assert_eq!(
            keygen::Msg1::decode(&bytes).unwrap_err(),
            Error::Malformed,
            "Pedersen commitment = {name}"
        );
    }
}

/// x1 + 2^300·q: equal to x1 mod q, far out of range.
fn big_plaintext(x1: &Scalar) -> U2048 {
    scalar_uint(x1).wrapping_add(&q_wide::<{ U2048::LIMBS }>().shl_vartime(300))
}

#[test]
fn k1_c_key_of_x1_plus_2_300_q_fails_equality_whatever_the_pedersen_value() {
    // A3: the cheater encrypts x1 + 2^300·q and runs every honest prover on that ciphertext and
    // its randomness. Verifier order is key proof → equality → range; the equality proof is the
    // first to notice, since its integer responses d_i = e_i·x1 + r_i do not open c̃_i·c_key^(e_i).
    let x1 = support::predict_secret(&support::rng(27));
    for pedersen_big in [false, true] {
        let cheat = Cheat {
            plaintext: Some(big_plaintext(&x1)),
            pedersen_value: pedersen_big.then(|| big_plaintext(&x1)),
            ..Cheat::default()
        };
        let (mal, m1) = honest_mal(27, &cheat);
        assert_eq!(mal.x1, x1);
        assert_eq!(
            err(run_against_p2(mal, &m1, |_, _| {})),
            Error::ProofInvalid(Proof::PaillierPedersenEq),
            "Pedersen commitment to the big value: {pedersen_big}"
        );
    }
}

#[test]
fn k1_pedersen_commitment_to_out_of_range_value_fails_equality() {
    // c_key honest, but the commitment the range proof is about holds x1 + 2^300·q: the
    // equality proof ties the two together and fails.
    let x1 = support::predict_secret(&support::rng(28));
    let cheat = Cheat {
        pedersen_value: Some(big_plaintext(&x1)),
        ..Cheat::default()
    };
    let (mal, m1) = honest_mal(28, &cheat);
    assert_eq!(
        err(run_against_p2(mal, &m1, |_, _| {})),
        Error::ProofInvalid(Proof::PaillierPedersenEq)
    );
}

// ---------------------------------------------------------------------------------------------
// Keygen: P1 receiving a malicious Msg2
// ---------------------------------------------------------------------------------------------

const P1_SEED: u64 = 0x5eed_0001;

/// A fresh P1 (same seed, so the same state every time) and an honest Msg2 for its Msg1.
fn p1_and_msg2() -> (keygen::p1::AwaitMsg2, keygen::Msg1, keygen::Msg2) {
    let (p1, m1) = keygen::p1::start(
        &mut support::rng(P1_SEED),
        &support::ctx1(),
        support::paillier(0),
        support::rp().params(),
    )
    .unwrap();
    let m1 = support::wire(&m1);
    let (_, m2) = keygen::p2::start(
        &mut support::rng(P2_SEED),
        &support::ctx2(),
        &m1,
        support::rp().params(),
    )
    .unwrap();
    (p1, m1, support::wire(&m2))
}

fn p1_on(p1: keygen::p1::AwaitMsg2, m2: &keygen::Msg2) -> Error {
    err(p1.on_msg2(&mut support::rng(P1_SEED + 1), m2))
}

#[test]
fn k2_proof_q2_with_z_plus_one_is_rejected() {
    let (p1, _, mut m2) = p1_and_msg2();
    let (a, z) = dlog_parts(&m2.proof_q2);
    m2.proof_q2 = dlog_from(&a, &(z + Scalar::ONE));
    assert_eq!(p1_on(p1, &m2), Error::ProofInvalid(Proof::DlogPoK));
}

#[test]
fn k2_proof_q2_with_a_replaced_is_rejected() {
    let (p1, _, mut m2) = p1_and_msg2();
    let (_, z) = dlog_parts(&m2.proof_q2);
    m2.proof_q2 = dlog_from(&AffinePoint::GENERATOR, &z);
    assert_eq!(p1_on(p1, &m2), Error::ProofInvalid(Proof::DlogPoK));
}

#[test]
fn k2_proof_q2_for_another_statement_is_rejected() {
    let (p1, _, mut m2) = p1_and_msg2();
    m2.q2 = (ProjectivePoint::from(m2.q2) + ProjectivePoint::GENERATOR).to_affine();
    assert_eq!(p1_on(p1, &m2), Error::ProofInvalid(Proof::DlogPoK));
}

#[test]
fn k2_msg2_replayed_from_another_session_is_rejected() {
    // P2's Msg2 for another P1 nonce: its proof is bound to the other session id.
    let run = support::keygen_run(31, 0);
    let (p1, _, _) = p1_and_msg2();
    assert_eq!(p1_on(p1, &run.m2), Error::ProofInvalid(Proof::DlogPoK));
}

#[test]
fn k2_rogue_q2_equal_to_minus_q1_is_rejected() {
    // A9: a P2 that somehow knows x1 sends Q2 = −Q1 with a *valid* proof for −x1; the joint key
    // would be the identity. (Knowing x1 here is the test's privilege: it replays P1's RNG.)
    let x1 = support::predict_secret(&support::rng(P1_SEED));
    let (p1, m1, _) = p1_and_msg2();
    let mut rng = support::rng(32);
    let mut nonce2 = [0u8; 32];
    rng.fill_bytes(&mut nonce2);
    let sid = support::sid(
        &support::prefix("keygen", &m1.nonce1, &support::rp().params().hash()),
        &nonce2,
    );
    let q2 = -curve::mul_g(&x1);
    let proof_q2 = DlogProof::prove(
        &mut rng,
        &(-x1),
        &q2,
        &Binding {
            session: &sid,
            prover: &PID2,
            label: "keygen/Q2",
        },
    );
    let m2 = keygen::Msg2 {
        nonce2,
        q2,
        proof_q2,
        challenges: ckey::Challenges {
            key: [1; 16],
            e_eq: 5,
            e_range: 7,
        },
        cc2: [2; 32],
    };
    // The proof is valid (so the session-id replica is right); the sum check refuses Q = O.
    assert_eq!(p1_on(p1, &m2), Error::InvalidPoint);
}

#[test]
fn k2_challenges_wider_than_their_bits_are_malformed() {
    let honest = support::bytes(&run().m2);
    let cases = [
        (k2::E_EQ, 1u64 << 54, false),
        (k2::E_EQ, (1u64 << 54) - 1, true),
        // The old 52-bit width's bound is now inside the range.
        (k2::E_EQ, 1u64 << 52, true),
        (k2::E_EQ, u64::MAX, false),
        (k2::E_RANGE, 1u64 << 50, false),
        (k2::E_RANGE, (1u64 << 50) - 1, true),
        (k2::E_RANGE, u64::MAX, false),
    ];
    for (at, v, ok) in cases {
        let r = keygen::Msg2::decode(&splice(&honest, at, &v.to_be_bytes()));
        if ok {
            assert!(r.is_ok(), "{v:#x} at {at} must decode");
        } else {
            assert_eq!(r.unwrap_err(), Error::Malformed, "{v:#x} at {at}");
        }
    }
}

#[test]
fn k2_points_and_scalars_are_checked_at_decode() {
    let honest = support::bytes(&run().m2);
    for (name, bad) in bad_points() {
        for (field, at) in [("Q2", k2::Q2), ("proof A", k2::PROOF_A)] {
            assert_eq!(
                keygen::Msg2::decode(&splice(&honest, at, &bad)).unwrap_err(),
                Error::InvalidPoint,
                "{field} = {name}"
            );
        }
    }
    for (name, bad) in bad_scalars() {
        assert_eq!(
            keygen::Msg2::decode(&splice(&honest, k2::PROOF_Z, &bad)).unwrap_err(),
            Error::Malformed,
            "proof z = {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Keygen: P2 receiving a malicious Msg3
// ---------------------------------------------------------------------------------------------

const K3_SEED: u64 = 0x5eed_0003;

static RUN: std::sync::OnceLock<support::KeygenRun> = std::sync::OnceLock::new();

/// One honest keygen shared by the read-only tests.
fn run() -> &'static support::KeygenRun {
    RUN.get_or_init(|| support::keygen_run(K3_SEED, 0))
}

/// Feeds Msg3 bytes to a fresh P2 in the shared run's session (same seed: same state).
fn p2_on_bytes(bytes: &[u8]) -> ecdsa2pc_core::Result<KeyShareP2> {
    let run = run();
    let mut r2 = support::rng(K3_SEED ^ 0xffff);
    let (p2, m2) =
        keygen::p2::start(&mut r2, &support::ctx2(), &run.m1, support::rp().params()).unwrap();
    assert_eq!(support::wire(&m2), run.m2, "P2 replays the same session");
    let m3 = keygen::Msg3::decode(bytes)?;
    p2.on_msg3(&mut r2, &m3)
}

fn k3_honest() -> Vec<u8> {
    support::bytes(&run().m3)
}

/// Before 18-bit chunks, 4 chunks (with 42- and 44-byte d_i) and 4 roots made keygen Msg3
/// 33,478 bytes and refresh Msg3 7,442; with the PDL proof still beside the equality proof,
/// keygen Msg3 was 32,415 bytes; with Pedersen responses mod p' (before short Pedersen
/// randomness), 31,574. Refresh Msg3 was 5,609 bytes with the Paillier–Paillier equality proof
/// (protocol 5) and is now 20,517 with keygen's proofs. A peer still on any of these layouts
/// is refused by length.
#[test]
fn msg3_of_older_layouts_is_malformed() {
    let honest = k3_honest();
    assert_eq!(honest.len(), 20_615);
    for old_len in [33_478, 32_415, 31_574] {
        let old = [honest.as_slice(), &vec![0u8; old_len - honest.len()]].concat();
        assert_eq!(keygen::Msg3::decode(&old).unwrap_err(), Error::Malformed);
        let mut in_place = keygen::Msg3::EMPTY;
        assert_eq!(
            keygen::Msg3::decode_into(&old, &mut in_place),
            Err(Error::Malformed),
            "{old_len} bytes"
        );
    }
    assert_eq!(refresh::Msg3::LEN, 20_517);
    for old_len in [7_442, 5_609] {
        let mut old = vec![0u8; old_len];
        old[0] = honest[0];
        old[1] = refresh::Msg3::TYPE as u8;
        assert_eq!(refresh::Msg3::decode(&old).unwrap_err(), Error::Malformed);
        let mut in_place = refresh::Msg3::EMPTY;
        assert_eq!(
            refresh::Msg3::decode_into(&old, &mut in_place),
            Err(Error::Malformed)
        );
    }
    // Protocol 5's refresh Msg1 (898 bytes, no Pedersen commitment or range commitment) and
    // Msg2 (90 bytes, no range challenge).
    for (old_len, ty) in [
        (898, refresh::Msg1::TYPE as u8),
        (90, refresh::Msg2::TYPE as u8),
    ] {
        let mut old = vec![0u8; old_len];
        old[0] = honest[0];
        old[1] = ty;
        assert_eq!(
            refresh::Msg1::decode(&old)
                .map(drop)
                .or(refresh::Msg2::decode(&old).map(drop)),
            Err(Error::Malformed)
        );
    }
}

#[test]
fn keygen_msg3_decodes_in_place_as_decode_does() {
    let honest = k3_honest();
    let mut m3 = keygen::Msg3::EMPTY;
    keygen::Msg3::decode_into(&honest, &mut m3).unwrap();
    assert_eq!(m3, run().m3);
    // The storage is reused as it is: decoding again over a decoded message is the same.
    keygen::Msg3::decode_into(&honest, &mut m3).unwrap();
    assert_eq!(m3, run().m3);
    // Length and header are checked before any field.
    assert_eq!(
        keygen::Msg3::decode_into(&honest[..honest.len() - 1], &mut m3),
        Err(Error::Malformed)
    );
    assert_eq!(
        keygen::Msg3::decode_into(&support::flipped(&honest, 0), &mut m3),
        Err(Error::Malformed)
    );
    // The placeholder is no message P2 accepts.
    assert_ne!(keygen::Msg3::EMPTY, run().m3);
}

/// The round's error for tampered Msg3 bytes, which must decode.
#[track_caller]
fn k3_round_error(bytes: &[u8]) -> Error {
    keygen::Msg3::decode(bytes).expect("the tampered Msg3 still decodes");
    err(p2_on_bytes(bytes))
}

#[test]
fn control_k3_honest_bytes_are_accepted() {
    p2_on_bytes(&k3_honest()).unwrap();
}

#[test]
fn k3_q1_opened_to_another_point_is_a_commitment_mismatch() {
    let g = curve::encode_point(&AffinePoint::GENERATOR).unwrap();
    let bytes = splice(&k3_honest(), k3::Q1, &g);
    assert_eq!(k3_round_error(&bytes), Error::CommitmentMismatch);
    let mut m3 = run().m3.clone();
    m3.q1 = -m3.q1;
    assert_eq!(
        err(p2_on_bytes(&support::bytes(&m3))),
        Error::CommitmentMismatch
    );
}

#[test]
fn k3_opening_flipped_is_a_commitment_mismatch() {
    for at in [k3::OPEN, k3::OPEN + 31] {
        let bytes = xor_byte(&k3_honest(), at, 0x01);
        assert_eq!(k3_round_error(&bytes), Error::CommitmentMismatch);
    }
}

#[test]
fn k3_chain_code_share_opened_to_another_value_is_a_commitment_mismatch() {
    // cc1 is committed with Q1 in message 1: P1 cannot change it after seeing cc2.
    for at in [k3::CC1, k3::CC1 + 31] {
        let bytes = xor_byte(&k3_honest(), at, 0x01);
        assert_eq!(k3_round_error(&bytes), Error::CommitmentMismatch);
    }
}

#[test]
fn k3_proof_q1_tampered_is_rejected() {
    let mut m3 = run().m3.clone();
    let (a, z) = dlog_parts(&m3.proof_q1);
    m3.proof_q1 = dlog_from(&a, &(z + Scalar::ONE));
    assert_eq!(
        err(p2_on_bytes(&support::bytes(&m3))),
        Error::ProofInvalid(Proof::DlogPoK)
    );
    m3.proof_q1 = dlog_from(&AffinePoint::GENERATOR, &z);
    assert_eq!(
        err(p2_on_bytes(&support::bytes(&m3))),
        Error::ProofInvalid(Proof::DlogPoK)
    );
}

#[test]
fn k3_reflected_proof_q2_is_rejected() {
    // A8/F12: P1 echoes P2's own (Q2, π) as (Q1, π). Against the honest commitment it fails
    // the opening; a rushing cheater that committed to Q2 in advance fails the proof, which is
    // bound to the prover's pid and the label "keygen/Q1".
    let run = run();
    let mut m3 = run.m3.clone();
    m3.q1 = run.m2.q2;
    m3.proof_q1 = run.m2.proof_q2;
    assert_eq!(
        err(p2_on_bytes(&support::bytes(&m3))),
        Error::CommitmentMismatch
    );

    let cheat = Cheat {
        q1: Some(predicted_q2()),
        ..Cheat::default()
    };
    let (mal, m1) = honest_mal(33, &cheat);
    let r = run_against_p2(mal, &m1, |m3, m2| {
        assert_eq!(m3.q1, m2.q2, "the prediction of Q2 holds");
        m3.proof_q1 = m2.proof_q2;
    });
    assert_eq!(err(r), Error::ProofInvalid(Proof::DlogPoK));
}

#[test]
fn k3_rogue_q1_equal_to_minus_q2_is_rejected() {
    // A9: a rushing P1 that knew Q2 commits to Q1 = −Q2; it cannot prove knowledge of −x2.
    let cheat = Cheat {
        q1: Some(-predicted_q2()),
        ..Cheat::default()
    };
    let (mal, m1) = honest_mal(34, &cheat);
    let r = run_against_p2(mal, &m1, |m3, m2| assert_eq!(m3.q1, -m2.q2));
    assert_eq!(err(r), Error::ProofInvalid(Proof::DlogPoK));
}

#[test]
fn k3_q1_of_another_known_secret_fails_equality() {
    // c_key and the Pedersen commitment hold x1 and every proof about them is honest, but P1
    // commits and opens Q1 = s·G for an s ≠ x1 it knows (so its proof of knowledge passes):
    // the equality proof's curve relation d·G = R + e·Q1 is what ties c_key to Q1.
    let x1 = support::predict_secret(&support::rng(36));
    let cheat = Cheat {
        q1_secret: Some(x1 + Scalar::ONE),
        ..Cheat::default()
    };
    let (mal, m1) = honest_mal(36, &cheat);
    assert_eq!(mal.x1, x1);
    let r = run_against_p2(mal, &m1, |m3, _| {
        assert_eq!(m3.q1, curve::mul_g(&(x1 + Scalar::ONE)));
    });
    assert_eq!(err(r), Error::ProofInvalid(Proof::PaillierPedersenEq));
}

#[test]
fn k3_points_and_scalars_are_checked_at_decode() {
    let honest = k3_honest();
    for (name, bad) in bad_points() {
        for (field, at) in [("Q1", k3::Q1), ("proof A", k3::PROOF), ("eq R", k3::EQ_R)] {
            assert_eq!(
                keygen::Msg3::decode(&splice(&honest, at, &bad)).unwrap_err(),
                Error::InvalidPoint,
                "{field} = {name}"
            );
        }
    }
    for (name, bad) in bad_scalars() {
        assert_eq!(
            keygen::Msg3::decode(&splice(&honest, k3::PROOF_Z, &bad)).unwrap_err(),
            Error::Malformed,
            "proof z = {name}"
        );
    }
}

#[test]
fn k3_key_proof_tampered_is_rejected() {
    let honest = k3_honest();
    let n = *run().m1.paillier.modulus();
    let bad = Error::ProofInvalid(Proof::PaillierKey);
    let root = |i: usize| k3::KEY + 256 * i;
    assert_eq!(k3_round_error(&plus_one(&honest, root(0), root(1))), bad);
    assert_eq!(k3_round_error(&xor_byte(&honest, root(2) + 100, 0x40)), bad);
    assert_eq!(
        k3_round_error(&splice(&honest, root(1), &[0u8; 256])),
        bad,
        "root 0"
    );
    assert_eq!(
        k3_round_error(&splice(&honest, root(2), &be(&n, 256))),
        bad,
        "root N"
    );
}

#[test]
fn k3_equality_proof_tampered_is_rejected() {
    let honest = k3_honest();
    let bad = Error::ProofInvalid(Proof::PaillierPedersenEq);
    let n = *run().m1.paillier.modulus();
    let d = |i: usize| k3::EQ_D + k3::EQ_D_LEN * i;
    let big_d = |i: usize| k3::EQ_BIGD + 256 * i;
    let ct = |i: usize| k3::EQ_CT + 512 * i;
    let responses: Vec<(&str, Vec<u8>)> = vec![
        ("d_0 + 1", plus_one(&honest, d(0), d(1))),
        ("d_1 + 1", plus_one(&honest, d(1), d(2))),
        ("d_2 + 1", plus_one(&honest, d(2), k3::EQ_BIGD)),
        ("D_2 + 1", plus_one(&honest, big_d(2), k3::EQ_NU)),
        ("D_0 = 0", splice(&honest, big_d(0), &[0u8; 256])),
        ("D_1 = N", splice(&honest, big_d(1), &be(&n, 256))),
        ("nu + 1", plus_one(&honest, k3::EQ_NU, k3::RANGE)),
    ];
    for (name, bytes) in responses {
        assert_eq!(k3_round_error(&bytes), bad, "{name}");
    }
    // The first message is committed in Msg1: changing it breaks the opening.
    let first: Vec<(&str, Vec<u8>)> = vec![
        ("c~_0", xor_byte(&honest, ct(0) + 300, 0x10)),
        ("c~_1", xor_byte(&honest, ct(1) + 17, 0x04)),
        ("c~_2", plus_one(&honest, ct(2), k3::EQ_COMT)),
        ("Com~", xor_byte(&honest, k3::EQ_COMT + 200, 0x02)),
        (
            "R = G",
            splice(
                &honest,
                k3::EQ_R,
                &curve::encode_point(&AffinePoint::GENERATOR).unwrap(),
            ),
        ),
        ("opening", xor_byte(&honest, k3::EQ_OPEN, 0x80)),
    ];
    for (name, bytes) in first {
        assert_eq!(k3_round_error(&bytes), Error::CommitmentMismatch, "{name}");
    }
}

#[test]
fn k3_range_proof_tampered_is_rejected() {
    let honest = k3_honest();
    let bad = Error::ProofInvalid(Proof::Range);
    let d = |i: usize| k3::RANGE_D + 40 * i;
    let f = |i: usize| k3::RANGE_F + k3::RANGE_F_LEN * i;
    let responses: Vec<(&str, Vec<u8>)> = vec![
        ("d_0 + 1", plus_one(&honest, d(0), d(1))),
        ("d_49 + 1", plus_one(&honest, d(49), k3::RANGE_F)),
        ("f_7 + 1", plus_one(&honest, f(7), f(8))),
    ];
    for (name, bytes) in responses {
        assert_eq!(k3_round_error(&bytes), bad, "{name}");
    }
    let first: Vec<(&str, Vec<u8>)> = vec![
        ("c~_0", xor_byte(&honest, k3::RANGE_CT + 255, 0x01)),
        (
            "c~_49",
            xor_byte(&honest, k3::RANGE_CT + 49 * 256 + 7, 0x20),
        ),
        ("opening", xor_byte(&honest, k3::RANGE_OPEN + 31, 0x01)),
    ];
    for (name, bytes) in first {
        assert_eq!(k3_round_error(&bytes), Error::CommitmentMismatch, "{name}");
    }
}

/// Bounds of the bounded response fields (see the zk modules): B − 1 decodes, B is Malformed.
#[test]
fn k3_each_bounded_field_one_past_its_bound_is_malformed() {
    let honest = k3_honest();
    let q: U768 = q_wide();
    // Equality d_i < q·(2^82 + 2^18); range d_i < q·2^64 (cb-mpc's bound).
    let eq_d = q.shl_vartime(82).wrapping_add(&q.shl_vartime(18));
    let range_d = q.shl_vartime(64);
    // ν < 2^374 + 2^310 and f_i < 2^326 + 2^256 (short Pedersen randomness, ρ < 2^256).
    let nu_bound = U384::ONE
        .shl_vartime(374)
        .wrapping_add(&U384::ONE.shl_vartime(310));
    let f_bound = U384::ONE
        .shl_vartime(326)
        .wrapping_add(&U384::ONE.shl_vartime(256));
    let ped_p = pedersen::P;
    /// (name, offset, width, value at the bound, value one below).
    type Field = (&'static str, usize, usize, Vec<u8>, Vec<u8>);
    let fields: Vec<Field> = vec![
        (
            "eq d_1",
            k3::EQ_D + k3::EQ_D_LEN,
            k3::EQ_D_LEN,
            be(&eq_d, k3::EQ_D_LEN),
            be(&eq_d.wrapping_sub(&Uint::ONE), k3::EQ_D_LEN),
        ),
        (
            "eq Com~",
            k3::EQ_COMT,
            256,
            be(&ped_p, 256),
            be(&ped_p.wrapping_sub(&U2048::ONE), 256),
        ),
        (
            "eq nu",
            k3::EQ_NU,
            k3::EQ_NU_LEN,
            be(&nu_bound, k3::EQ_NU_LEN),
            be(&nu_bound.wrapping_sub(&U384::ONE), k3::EQ_NU_LEN),
        ),
        (
            "range c~_5",
            k3::RANGE_CT + 5 * 256,
            256,
            be(&ped_p, 256),
            be(&ped_p.wrapping_sub(&U2048::ONE), 256),
        ),
        (
            "range d_9",
            k3::RANGE_D + 9 * 40,
            40,
            be(&range_d, 40),
            be(&range_d.wrapping_sub(&Uint::ONE), 40),
        ),
        (
            "range f_49",
            k3::RANGE_F + 49 * k3::RANGE_F_LEN,
            k3::RANGE_F_LEN,
            be(&f_bound, k3::RANGE_F_LEN),
            be(&f_bound.wrapping_sub(&U384::ONE), k3::RANGE_F_LEN),
        ),
    ];
    for (name, at, width, at_bound, below) in fields {
        assert_eq!(at_bound.len(), width);
        assert_eq!(
            keygen::Msg3::decode(&splice(&honest, at, &at_bound)).unwrap_err(),
            Error::Malformed,
            "{name} = bound"
        );
        assert!(
            keygen::Msg3::decode(&splice(&honest, at, &below)).is_ok(),
            "{name} = bound - 1 must decode"
        );
        // Decoding in place (what a firmware does) applies the same checks.
        let mut in_place = keygen::Msg3::EMPTY;
        assert_eq!(
            keygen::Msg3::decode_into(&splice(&honest, at, &at_bound), &mut in_place),
            Err(Error::Malformed),
            "{name} = bound, in place"
        );
        assert_eq!(
            keygen::Msg3::decode_into(&splice(&honest, at, &below), &mut in_place),
            Ok(()),
            "{name} = bound - 1 must decode in place"
        );
    }
    // Just below the bound decodes but is no valid response (one case per proof).
    let below = |at, v: Vec<u8>| k3_round_error(&splice(&honest, at, &v));
    assert_eq!(
        below(
            k3::EQ_D + k3::EQ_D_LEN,
            be(&eq_d.wrapping_sub(&Uint::ONE), k3::EQ_D_LEN)
        ),
        Error::ProofInvalid(Proof::PaillierPedersenEq)
    );
    assert_eq!(
        below(
            k3::RANGE_D + 9 * 40,
            be(&range_d.wrapping_sub(&Uint::ONE), 40)
        ),
        Error::ProofInvalid(Proof::Range)
    );
}

#[test]
fn k3_msg3_from_another_keygen_session_is_rejected() {
    let other = support::keygen_run(35, 1);
    assert_eq!(
        err(p2_on_bytes(&support::bytes(&other.m3))),
        Error::CommitmentMismatch
    );
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

const DIGEST: [u8; 32] = [0x42; 32];
const SIGN_SEED: u64 = 0x5eed_0005;

/// A fresh, unlocked copy of P1's share of the shared run (keygen is deterministic).
fn fresh_p1() -> KeyShareP1 {
    support::p1_share(K3_SEED, 0)
}

/// A fresh P1 share and P2's share of the same key, for the tests that lock P1's.
fn fresh_shares() -> (KeyShareP1, &'static KeyShareP2) {
    (fresh_p1(), &run().s2)
}

static SHARED_P1: std::sync::Mutex<Option<KeyShareP1>> = std::sync::Mutex::new(None);

/// Runs `f` with one P1 share shared by the tests that must leave it unlocked (they check).
fn with_shares(f: impl FnOnce(&mut KeyShareP1, &'static KeyShareP2)) {
    let mut guard = SHARED_P1
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let s1 = guard.get_or_insert_with(fresh_p1);
    assert!(!s1.is_locked(), "a previous test locked the shared share");
    f(s1, &run().s2);
    assert!(!s1.is_locked(), "this test must not lock the shared share");
}

fn ctx(own: [u8; 32], peer: [u8; 32]) -> Context<'static> {
    Context {
        own_pid: own,
        peer_pid: peer,
        channel_binding: support::BINDING,
    }
}

#[test]
fn s1_other_fingerprint_is_a_session_mismatch() {
    with_shares(|s1, s2| {
        let (_, m1) = sign::p1::start(
            &mut support::rng(1),
            s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        let mut m1 = support::wire(&m1);
        m1.fingerprint[0] ^= 1;
        let r = sign::p2::start(&mut support::rng(2), s2, &support::ctx2(), &DIGEST, &m1);
        assert_eq!(err(r), Error::SessionMismatch);
        // A Msg1 from P1 holding another key.
        let other = support::keygen_run(41, 1);
        let mut s1b = other.s1;
        let (_, m1b) = sign::p1::start(
            &mut support::rng(3),
            &mut s1b,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        let r = sign::p2::start(&mut support::rng(2), s2, &support::ctx2(), &DIGEST, &m1b);
        assert_eq!(err(r), Error::SessionMismatch);
    });
}

#[test]
fn s1_context_with_another_peer_is_a_session_mismatch() {
    with_shares(|s1, s2| {
        let stranger = [0x33; 32];
        for c in [ctx(PID1, stranger), ctx(stranger, PID2), ctx(PID1, PID1)] {
            let r = sign::p1::start(&mut support::rng(1), s1, support::rp(), &c, &DIGEST);
            assert_eq!(err(r), Error::SessionMismatch);
        }
        let (_, m1) = sign::p1::start(
            &mut support::rng(1),
            s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        for c in [ctx(PID2, stranger), ctx(stranger, PID1), ctx(PID2, PID2)] {
            let r = sign::p2::start(&mut support::rng(2), s2, &c, &DIGEST, &m1);
            assert_eq!(err(r), Error::SessionMismatch);
        }
        assert!(!s1.is_locked());
    });
}

#[test]
fn s1_other_channel_binding_fails_p2s_proof() {
    // A relay between two TLS sessions: P2 sees another channel binding, so its session id and
    // P1's differ and P1 refuses P2's proof.
    with_shares(|s1, s2| {
        let (p1, m1) = sign::p1::start(
            &mut support::rng(1),
            s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        let relayed = Context {
            channel_binding: b"another TLS session",
            ..support::ctx2()
        };
        let (_, m2) = sign::p2::start(&mut support::rng(2), s2, &relayed, &DIGEST, &m1).unwrap();
        assert_eq!(
            err(p1.on_msg2(&mut support::rng(3), &m2)),
            Error::ProofInvalid(Proof::DlogPoK)
        );
    });
}

/// P1 started on `s1`, with an honest Msg2 from P2 for it.
fn p1_with_msg2<'a>(
    s1: &'a mut KeyShareP1,
    s2: &KeyShareP2,
) -> (sign::p1::AwaitMsg2<'a>, sign::Msg2) {
    let (p1, m1) = sign::p1::start(
        &mut support::rng(SIGN_SEED),
        s1,
        support::rp(),
        &support::ctx1(),
        &DIGEST,
    )
    .unwrap();
    let (_, m2) = sign::p2::start(
        &mut support::rng(SIGN_SEED + 1),
        s2,
        &support::ctx2(),
        &DIGEST,
        &support::wire(&m1),
    )
    .unwrap();
    (p1, support::wire(&m2))
}

#[test]
fn s2_bad_proof_r2_is_rejected() {
    with_shares(|s1, s2| {
        let bad = Error::ProofInvalid(Proof::DlogPoK);
        type Mutation = (&'static str, Box<dyn Fn(&mut sign::Msg2)>);
        let mutations: Vec<Mutation> = vec![
            (
                "z + 1",
                Box::new(|m| {
                    let (a, z) = dlog_parts(&m.proof_r2);
                    m.proof_r2 = dlog_from(&a, &(z + Scalar::ONE));
                }),
            ),
            (
                "A = G",
                Box::new(|m| {
                    let (_, z) = dlog_parts(&m.proof_r2);
                    m.proof_r2 = dlog_from(&AffinePoint::GENERATOR, &z);
                }),
            ),
            (
                "R2 + G",
                Box::new(|m| {
                    m.r2 = (ProjectivePoint::from(m.r2) + ProjectivePoint::GENERATOR).to_affine();
                }),
            ),
            ("nonce2 changed", Box::new(|m| m.nonce2[5] ^= 1)),
        ];
        for (name, mutate) in mutations {
            let (p1, mut m2) = p1_with_msg2(s1, s2);
            mutate(&mut m2);
            let m2 = sign::Msg2::decode(&support::bytes(&m2)).unwrap();
            assert_eq!(err(p1.on_msg2(&mut support::rng(9), &m2)), bad, "{name}");
        }
        // P2's Msg2 of an earlier session, replayed.
        let (_, old) = p1_with_msg2(s1, s2);
        let (p1, _) = sign::p1::start(
            &mut support::rng(77),
            s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        assert_eq!(err(p1.on_msg2(&mut support::rng(9), &old)), bad, "replay");
        assert!(!s1.is_locked());
    });
}

/// A fresh P2 waiting for Msg3 in session (`SIGN_SEED`), with P1's honest Msg3 for it.
fn p2_with_msg3<'a>(
    s1: &mut KeyShareP1,
    s2: &'a KeyShareP2,
    p2_digest: &[u8; 32],
) -> (sign::p2::AwaitMsg3<'a>, sign::Msg3) {
    let (p1, m1) = sign::p1::start(
        &mut support::rng(SIGN_SEED),
        s1,
        support::rp(),
        &support::ctx1(),
        &DIGEST,
    )
    .unwrap();
    let (p2, m2) = sign::p2::start(
        &mut support::rng(SIGN_SEED + 1),
        s2,
        &support::ctx2(),
        p2_digest,
        &support::wire(&m1),
    )
    .unwrap();
    let (_, m3) = p1
        .on_msg2(&mut support::rng(SIGN_SEED + 2), &support::wire(&m2))
        .unwrap();
    (p2, support::wire(&m3))
}

#[test]
fn s3_tampered_msg3_is_rejected() {
    with_shares(|s1, s2| {
        let on = |p2: sign::p2::AwaitMsg3<'_>, m3: &sign::Msg3| {
            err(p2.on_msg3(&mut support::rng(5), &support::wire(m3)))
        };
        // Control: the honest Msg3 is accepted.
        let (p2, m3) = p2_with_msg3(s1, s2, &DIGEST);
        assert!(p2.on_msg3(&mut support::rng(5), &m3).is_ok());

        let (p2, mut m3) = p2_with_msg3(s1, s2, &DIGEST);
        m3.r1 = (ProjectivePoint::from(m3.r1) + ProjectivePoint::GENERATOR).to_affine();
        assert_eq!(on(p2, &m3), Error::CommitmentMismatch, "R1 changed");

        let (p2, mut m3) = p2_with_msg3(s1, s2, &DIGEST);
        m3.open_r1[0] ^= 1;
        assert_eq!(on(p2, &m3), Error::CommitmentMismatch, "opening changed");

        let (p2, m3) = p2_with_msg3(s1, s2, &[0x43; 32]);
        assert_eq!(
            on(p2, &m3),
            Error::CommitmentMismatch,
            "P2 asked to sign another digest"
        );

        let (p2, mut m3) = p2_with_msg3(s1, s2, &DIGEST);
        let (a, z) = dlog_parts(&m3.proof_r1);
        m3.proof_r1 = dlog_from(&a, &(z + Scalar::ONE));
        assert_eq!(on(p2, &m3), Error::ProofInvalid(Proof::DlogPoK), "z + 1");

        let (p2, mut m3) = p2_with_msg3(s1, s2, &DIGEST);
        m3.proof_r1 = dlog_from(&AffinePoint::GENERATOR, &z);
        assert_eq!(on(p2, &m3), Error::ProofInvalid(Proof::DlogPoK), "A = G");
    });
}

#[test]
fn s3_msg3_replayed_from_an_earlier_session_is_rejected() {
    with_shares(|s1, s2| {
        // An earlier, complete session leaves its Msg3 behind.
        let old = support::sign_to_msg4(61, s1, s2, &DIGEST).m3;
        let (p2, _) = p2_with_msg3(s1, s2, &DIGEST);
        assert_eq!(
            err(p2.on_msg3(&mut support::rng(5), &old)),
            Error::CommitmentMismatch
        );
    });
}

#[test]
fn s3_reflected_proof_r2_is_rejected() {
    // P1 echoes P2's (R2, π) as its own opening: the commitment made before R2 was known fails.
    with_shares(|s1, s2| {
        let run = support::sign_to_msg4(62, s1, s2, &DIGEST);
        let m2 = run.m2.clone();
        drop(run);
        let (p2, _) = p2_with_msg3(s1, s2, &DIGEST);
        let m3 = sign::Msg3 {
            r1: m2.r2,
            open_r1: [0; 32],
            proof_r1: m2.proof_r2,
        };
        assert_eq!(
            err(p2.on_msg3(&mut support::rng(5), &m3)),
            Error::CommitmentMismatch
        );
    });
}

#[test]
fn s4_invalid_ciphertexts_are_refused_without_locking() {
    with_shares(|s1, s2| {
        let sk = support::paillier(0);
        let pk = sk.public_key();
        let (p, q) = sk.primes();
        let cases: [(&str, U4096); 7] = [
            ("0", U4096::ZERO),
            ("N", pk.modulus().resize()),
            ("N²", *pk.modulus_squared()),
            (
                "N² + 5",
                pk.modulus_squared().wrapping_add(&U4096::from_u8(5)),
            ),
            ("2^4096 - 1", U4096::MAX),
            (
                "multiple of p",
                p.resize::<{ U4096::LIMBS }>().shl_vartime(1000),
            ),
            (
                "multiple of q",
                q.resize::<{ U4096::LIMBS }>()
                    .wrapping_mul(&U4096::from_u8(3)),
            ),
        ];
        for (name, c) in cases {
            let run = support::sign_to_msg4(70, s1, s2, &DIGEST);
            // Msg4 has no N to check against: it decodes, and P1's round refuses it.
            let m4 =
                sign::Msg4::decode(&splice(&support::bytes(&run.m4), 2, &be(&c, 512))).unwrap();
            assert_eq!(err(run.p1.on_msg4(&m4)), Error::InvalidCiphertext, "{name}");
            assert!(
                !s1.is_locked(),
                "{name}: a malformed ciphertext must not lock"
            );
        }
        // The share still signs.
        let (a, b) = support::sign(71, s1, s2, &DIGEST).unwrap();
        assert_eq!(a, b);
    });
}

#[test]
fn s4_wrong_ciphertext_fails_pic3_without_decrypting_or_locking() {
    // A1: c ⊕ Enc(1) under the proof made for the honest c. π_c3 fails before P1 decrypts
    // anything, so P2 learns nothing that depends on x1, and the share stays usable.
    let (mut s1, s2) = fresh_shares();
    let pk = run().m1.paillier.clone();
    let session = support::sign_to_msg4(80, &mut s1, s2, &DIGEST);
    let c = pk.validate(&session.m4.c).unwrap();
    let (one, _) = pk.encrypt(&mut support::rng(81), &U256::ONE);
    let m4 = sign::Msg4 {
        c: *pk.add(&c, &one).as_uint(),
        proof: session.m4.proof.clone(),
    };
    let e = err(session.p1.on_msg4(&m4));
    assert_eq!(e, Error::ProofInvalid(Proof::SignCiphertext));
    assert!(!e.locks_key());
    assert!(!s1.is_locked());
    let (a, b) = support::sign(83, &mut s1, s2, &[1; 32]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn s4_failed_signature_after_a_valid_proof_locks_the_share() {
    // Defence in depth: a proof that verifies followed by a signature that does not (here,
    // two decryption halves mod the same prime) gives SignatureInvalid, locks the share before
    // the round returns, and every later session is refused with KeyLocked.
    let (mut s1, s2) = fresh_shares();
    let session = support::sign_to_msg4(84, &mut s1, s2, &DIGEST);
    let decrypting = session.p1.check_msg4(&session.m4).unwrap();
    let a = decrypting.decrypt_half(ecdsa2pc_core::Prime::P);
    let b = decrypting.decrypt_half(ecdsa2pc_core::Prime::P);
    let e = err(decrypting.finish(&a, &b));
    assert_eq!(e, Error::SignatureInvalid);
    assert!(e.locks_key());
    assert!(s1.is_locked());
    assert_eq!(
        err(sign::p1::start(
            &mut support::rng(82),
            &mut s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST
        )),
        Error::KeyLocked
    );
    assert_eq!(
        err(support::sign(83, &mut s1, s2, &[1; 32])),
        Error::KeyLocked
    );
}

/// A cheating P2 in signing: k2 = 2^ℓ and the Broken-Record ciphertext guessing the low bits y
/// of x1 (docs/SECURITY.md A1, ePrint 2023/1234 §3). Ok means P1 output a valid signature.
///
/// The ciphertext decrypts to the honest s' iff 2^ℓ divides r·(x1 − y), so the attacker learns
/// whether its guess of bit ℓ − 1 − v₂(r) of x1 was right. The test, which knows x1, makes the
/// guess right or wrong on purpose.
fn broken_record(s1: &mut KeyShareP1, ell: u32, guess_right: bool) -> ecdsa2pc_core::Result<()> {
    let keys = run();
    let mut rng = support::rng(90);
    let pk = &keys.m1.paillier;
    let n = *pk.modulus();
    let n_nz = NonZero::new(n).unwrap();
    let (p1, m1) = sign::p1::start(
        &mut support::rng(91),
        s1,
        support::rp(),
        &support::ctx1(),
        &DIGEST,
    )?;
    let m1 = support::wire(&m1);

    // Msg2: R2 = 2^ℓ·G with an honest proof (P2 knows k2).
    let k2 = Scalar::from(1u64 << ell);
    let (m2, sid) = support::msg2_with_nonce(&mut rng, &m1, &k2);
    let (p1, m3) = p1.on_msg2(&mut support::rng(92), &support::wire(&m2))?;

    // Msg4: c = c_key^(r·[2^-ℓ]_N) · Enc(w1·m + w1·x2·r + w1·r·y − r·y·[2^-ℓ]_N + ρ·q), w1 = 2^-ℓ
    // mod q. It decrypts to r·(x1 − y)·[2^-ℓ]_N + w1·(m + x2·r + r·y) + ρ·q mod N: the honest s'
    // when 2^ℓ divides x1 − y (then r·(x1 − y)/2^ℓ is a small integer), garbage otherwise.
    let r = curve::x_mod_q(&(ProjectivePoint::from(m3.r1) * k2).to_affine());
    let r_int = scalar_uint(&r);
    let v2 = r_int.trailing_zeros();
    assert!(v2 < ell, "r must keep a bit of x1 in play");
    let low = u64::from(keys.x1.to_bytes()[31]) & ((1 << ell) - 1);
    let y = if guess_right {
        low
    } else {
        low ^ (1 << (ell - 1 - v2))
    };
    let inv = U2048::from_u64(1 << ell)
        .invert_odd_mod(&Odd::new(n).unwrap())
        .unwrap();
    let exponent = r_int.mul_mod(&inv, &n_nz);
    let w1 = Option::<Scalar>::from(k2.invert()).unwrap();
    let m = <Scalar as k256::elliptic_curve::ops::Reduce<k256::FieldBytes>>::reduce(
        &k256::FieldBytes::from(DIGEST),
    );
    let small = w1 * m + w1 * keys.x2 * r + w1 * r * Scalar::from(y);
    let mask_bound = NonZero::new(U2048::ONE.shl_vartime(600)).unwrap();
    let rho = U2048::random_mod_vartime(&mut rng, &mask_bound);
    let positive =
        scalar_uint(&small).wrapping_add(&rho.wrapping_mul(&q_wide::<{ U2048::LIMBS }>()));
    let correction = exponent.mul_mod(&U2048::from_u64(y), &n_nz);
    let plain = positive.sub_mod(&correction, &n_nz);
    let (c_plain, _) = pk.encrypt(&mut rng, &plain);
    let c = pk.add(
        &pk.mul_plain(&keys.m1.commitment.c_key, &exponent),
        &c_plain,
    );
    let m4 = support::forged_msg4(
        93,
        &keys.s2,
        &keys.m1.commitment.c_key,
        &keys.x2,
        &k2,
        &r,
        &DIGEST,
        &sid,
        &c,
    );
    p1.on_msg4(&support::wire(&m4)).map(|_| ())
}

#[test]
fn s4_broken_record_fails_pic3_for_either_guess() {
    // A1 (Broken Record, k2 = 2^ℓ): without π_c3 the right guess of a bit of x1 gave a valid
    // signature and the wrong one a lock, one bit per key. With π_c3 both guesses fail the
    // proof before anything is decrypted: the outcome no longer depends on x1, and nothing locks.
    let ell = 6u32;
    for guess_right in [false, true] {
        let mut share = fresh_p1();
        assert_eq!(
            err(broken_record(&mut share, ell, guess_right)),
            Error::ProofInvalid(Proof::SignCiphertext),
            "guess right: {guess_right}"
        );
        assert!(!share.is_locked());
    }
}

/// P2 waiting for Msg5 in a fresh honest session, with P1's honest Msg5.
fn p2_with_msg5<'a>(
    seed: u64,
    s1: &mut KeyShareP1,
    s2: &'a KeyShareP2,
) -> (sign::p2::AwaitMsg5<'a>, sign::Msg5, k256::ecdsa::Signature) {
    let mut r1 = support::rng(seed);
    let mut r2 = support::rng(seed + 1);
    let (p1, m1) = sign::p1::start(&mut r1, s1, support::rp(), &support::ctx1(), &DIGEST).unwrap();
    let (p2, m2) = sign::p2::start(&mut r2, s2, &support::ctx2(), &DIGEST, &m1).unwrap();
    let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    let (p2, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
    let (sig, m5) = p1.on_msg4(&m4).unwrap();
    (p2, m5, sig)
}

#[test]
fn s5_tampered_signature_is_rejected_by_p2() {
    with_shares(|s1, s2| {
        let bad = Error::SignatureInvalid;
        let (p2, m5, _) = p2_with_msg5(100, s1, s2);
        assert!(p2.on_msg5(&m5).is_ok(), "control");

        let (p2, mut m5, _) = p2_with_msg5(100, s1, s2);
        m5.s += Scalar::ONE;
        assert_eq!(err(p2.on_msg5(&m5)), bad, "s + 1");

        let (p2, mut m5, _) = p2_with_msg5(100, s1, s2);
        m5.r += Scalar::ONE;
        assert_eq!(err(p2.on_msg5(&m5)), bad, "r + 1");

        let (p2, mut m5, _) = p2_with_msg5(100, s1, s2);
        m5.s = Scalar::ZERO;
        assert_eq!(err(p2.on_msg5(&m5)), bad, "s = 0");

        // A valid signature of another session (other R) for the same digest.
        let (_, other, _) = p2_with_msg5(200, s1, s2);
        let (p2, _, _) = p2_with_msg5(100, s1, s2);
        assert_eq!(err(p2.on_msg5(&other)), bad, "signature of another session");
    });
}

#[test]
fn s5_high_s_version_of_the_valid_signature_is_rejected() {
    // A13: P1's output is low-s and verifies with k256; the high-s twin (−s) verifies under
    // plain ECDSA, yet P2 refuses it: both parties must output the one canonical signature.
    use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};
    with_shares(|s1, s2| {
        let (p2, mut m5, sig) = p2_with_msg5(110, s1, s2);
        assert_eq!(sig.normalize_s(), sig, "P1 outputs low-s");
        let vk = VerifyingKey::from_affine(s1.public().q).unwrap();
        vk.verify_prehash(&DIGEST, &sig).unwrap();
        m5.s = -m5.s;
        let high = k256::ecdsa::Signature::from_scalars(m5.r, m5.s).unwrap();
        assert_ne!(high.normalize_s(), high, "the tampered s is high");
        assert_eq!(err(p2.on_msg5(&m5)), Error::SignatureInvalid);
    });
}

#[test]
fn sign_points_are_checked_at_decode() {
    with_shares(|s1, s2| {
        let run = support::sign_to_msg4(120, s1, s2, &DIGEST);
        let m2 = support::bytes(&run.m2);
        let m3 = support::bytes(&run.m3);
        for (name, bad) in bad_points() {
            for (field, at) in [("R2", 34), ("proof A", 67)] {
                assert_eq!(
                    sign::Msg2::decode(&splice(&m2, at, &bad)).unwrap_err(),
                    Error::InvalidPoint,
                    "Msg2 {field} = {name}"
                );
            }
            for (field, at) in [("R1", 2), ("proof A", 67)] {
                assert_eq!(
                    sign::Msg3::decode(&splice(&m3, at, &bad)).unwrap_err(),
                    Error::InvalidPoint,
                    "Msg3 {field} = {name}"
                );
            }
        }
    });
}

#[test]
fn sign_scalars_are_checked_at_decode() {
    with_shares(|s1, s2| {
        let (_, m5, _) = p2_with_msg5(130, s1, s2);
        let m5 = support::bytes(&m5);
        let run = support::sign_to_msg4(131, s1, s2, &DIGEST);
        let m2 = support::bytes(&run.m2);
        let m3 = support::bytes(&run.m3);
        for (name, bad) in bad_scalars() {
            for (field, at) in [("r", 2), ("s", 34)] {
                assert_eq!(
                    sign::Msg5::decode(&splice(&m5, at, &bad)).unwrap_err(),
                    Error::Malformed,
                    "Msg5 {field} = {name}"
                );
            }
            assert_eq!(
                sign::Msg2::decode(&splice(&m2, 100, &bad)).unwrap_err(),
                Error::Malformed,
                "Msg2 proof z = {name}"
            );
            assert_eq!(
                sign::Msg3::decode(&splice(&m3, 100, &bad)).unwrap_err(),
                Error::Malformed,
                "Msg3 proof z = {name}"
            );
        }
        // q − 1 is canonical.
        let q_minus_1 = be(&Q.wrapping_sub(&U256::ONE), 32);
        assert!(sign::Msg5::decode(&splice(&m5, 34, &q_minus_1)).is_ok());
    });
}

#[test]
fn a_locked_share_is_not_unlocked_by_an_honest_session_attempt() {
    // Lock, then try every entry point P1 has for signing: all refuse, and the flag stays set.
    let (mut s1, s2) = fresh_shares();
    let session = support::sign_to_msg4(140, &mut s1, s2, &DIGEST);
    let decrypting = session.p1.check_msg4(&session.m4).unwrap();
    let q_half = decrypting.decrypt_half(ecdsa2pc_core::Prime::Q);
    assert_eq!(
        err(decrypting.finish(&q_half, &q_half)),
        Error::SignatureInvalid
    );
    for seed in 0..3 {
        assert_eq!(
            err(support::sign(seed, &mut s1, s2, &DIGEST)),
            Error::KeyLocked
        );
        assert!(s1.is_locked());
    }
}
