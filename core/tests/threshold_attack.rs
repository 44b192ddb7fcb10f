//! The threshold attack of issue 10 (docs/SECURITY.md A1) against P1, with π_c3 in place.
//!
//! A malicious P2 sends c = c_key^α·Enc(β) with α ≡ k2⁻¹·r (mod q), α ≈ N/q, and
//! β ≡ k2⁻¹·(m + r·x2) + N (mod q), offset so that the integer α·x1 + β crosses N/2 exactly at
//! x1 = t. P1's centered decryption is then the honest value iff x1 ≥ t, so without a proof
//! every probe with x1 ≥ t signs, indistinguishable from an honest run, and P2 learns
//! log2(M + 1) bits of x1 over M probes. Here every probe, below, at and above x1, must fail
//! π_c3 (made by the honest prover from the honest witnesses: the best P2 can do without P1's
//! trapdoors), P1 must decrypt nothing (counted), and the share must stay unlocked and sign.
//!
//! One test in its own binary: the decryption counter is per process.

mod support;

use crypto_bigint::{NonZero, U256, U2048};
use ecdsa2pc_core::internals::{curve, paillier::half_decryptions};
use ecdsa2pc_core::{Error, KeyShare, Proof, sign};
use k256::elliptic_curve::ops::Reduce;
use k256::{ProjectivePoint, Scalar};
use rand_core::Rng;

const DIGEST: [u8; 32] = [0x3c; 32];

fn scalar_uint(s: &Scalar) -> U2048 {
    U2048::from_be_slice(&[[0u8; 224].as_slice(), s.to_bytes().as_slice()].concat())
}

fn uint_scalar(x: &U256) -> Scalar {
    <Scalar as Reduce<U256>>::reduce(x)
}

fn mod_q(x: &U2048) -> Scalar {
    let q = NonZero::new(support::Q_ORDER.resize::<{ U2048::LIMBS }>()).unwrap();
    uint_scalar(&x.rem_vartime(&q).resize())
}

#[test]
fn every_threshold_probe_fails_the_proof_decrypts_nothing_and_leaves_the_share_usable() {
    let keys = support::keygen_run(300, 0);
    let mut s1 = support::p1_share(300, 0);
    assert_eq!(s1.fingerprint(), keys.s1.fingerprint());
    let sk = support::paillier(0);
    let pk = sk.public_key();
    let n = *pk.modulus();
    let n_nz = NonZero::new(n).unwrap();
    let q_wide: U2048 = support::Q_ORDER.resize();
    let q_sq = NonZero::new(q_wide.wrapping_mul(&q_wide)).unwrap();
    let half_n = n.shr_vartime(1).wrapping_add(&U2048::ONE);
    let x1 = U256::from_be_slice(&keys.x1.to_bytes());
    let m = <Scalar as Reduce<k256::FieldBytes>>::reduce(&k256::FieldBytes::from(DIGEST));

    let mut thresholds = vec![
        U256::ZERO,
        x1.shr_vartime(1),
        x1.wrapping_sub(&U256::from_u64(1000)),
        x1.wrapping_sub(&U256::ONE),
        x1,
        x1.wrapping_add(&U256::ONE),
        x1.wrapping_add(&U256::from_u64(1000)),
        support::Q_ORDER.wrapping_sub(&U256::ONE),
    ];
    let mut spread = support::rng(301);
    for _ in 0..6 {
        let mut b = [0u8; 32];
        spread.fill_bytes(&mut b);
        thresholds
            .push(U256::from_be_slice(&b).rem_vartime(&NonZero::new(support::Q_ORDER).unwrap()));
    }

    for (i, t) in thresholds.iter().enumerate() {
        let seed = 400 + 10 * i as u64;
        let mut rng = support::rng(seed);
        let (p1, m1) = sign::p1::start(
            &mut support::rng(seed + 1),
            &mut s1,
            support::rp(),
            &support::ctx1(),
            &DIGEST,
        )
        .unwrap();
        let m1 = support::wire(&m1);
        // P2's Msg2 with its own k2 and an honest proof of it.
        let k2 = curve::random_scalar(&mut rng);
        let (m2, sid) = support::msg2_with_nonce(&mut rng, &m1, &k2);
        let (p1, m3) = p1
            .on_msg2(&mut support::rng(seed + 2), &support::wire(&m2))
            .unwrap();
        let r = curve::x_mod_q(&(ProjectivePoint::from(m3.r1) * k2).to_affine());
        let k2_inv = Option::<Scalar>::from(k2.invert()).unwrap();

        // α = (k2⁻¹·r mod q) + q·⌊N/q²⌋ ≈ N/q.
        let alpha = scalar_uint(&(k2_inv * r))
            .wrapping_add(&q_wide.wrapping_mul(&n.wrapping_div_vartime(&q_sq)));
        // β = ⌈N/2⌉ − α·t + δ, with δ ∈ [0, q) making β ≡ k2⁻¹·(m + r·x2) + N (mod q).
        let target = k2_inv * (m + r * keys.x2) + mod_q(&n);
        let t_wide: U2048 = t.resize();
        let start = mod_q(&half_n) - (k2_inv * r) * uint_scalar(t);
        let delta = scalar_uint(&(target - start));
        let beta = half_n
            .sub_mod(&alpha.mul_mod(&t_wide, &n_nz), &n_nz)
            .add_mod(&delta, &n_nz);
        let (c_beta, _) = pk.encrypt(&mut rng, &beta);
        let c = pk.add(&pk.mul_plain(&keys.m1.commitment.c_key, &alpha), &c_beta);

        let m4 = support::forged_msg4(
            seed + 3,
            &keys.s2,
            &keys.m1.commitment.c_key,
            &keys.x2,
            &k2,
            &r,
            &DIGEST,
            &sid,
            &c,
        );
        let before = half_decryptions();
        assert_eq!(
            p1.on_msg4(&support::wire(&m4)).unwrap_err(),
            Error::ProofInvalid(Proof::SignCiphertext),
            "probe {i}"
        );
        assert_eq!(half_decryptions(), before, "probe {i}: P1 decrypted");
        assert!(!s1.is_locked(), "probe {i} locked the share");

        // Control: the probe is the real attack. Decrypted without the proof, c gives the
        // honest s' = k2⁻¹·(m + r·x) exactly when x1 ≥ t.
        let honest = k2_inv * (m + r * (keys.x1 + keys.x2));
        let leaked = sk.decrypt_centered_mod_q(&c) == honest;
        assert_eq!(leaked, x1 >= *t, "probe {i}: the threshold is not at t");
    }

    // The share still signs honestly.
    let (a, b) = support::sign(500, &mut s1, &keys.s2, &DIGEST).unwrap();
    assert_eq!(a, b);
    assert!(!s1.is_locked());
}
