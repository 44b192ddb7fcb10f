//! Honest runs: keygen then many signatures, each checked with k256's standard verifier.

mod support;

use ecdsa2pc_core::KeyShare;
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};
use sha2::{Digest, Sha256};

#[test]
fn keygen_then_hundreds_of_signatures_verify_with_k256() {
    for key in 0..2 {
        let (mut s1, s2) = support::keygen(100 + key as u64, key);
        assert_eq!(s1.public(), s2.public());
        s1.check().unwrap();
        s2.check().unwrap();
        let vk = VerifyingKey::from_affine(s1.public().q).unwrap();
        for i in 0..100u64 {
            let digest: [u8; 32] = Sha256::digest(format!("message {key}/{i}")).into();
            let (a, b) = support::sign(1000 * key as u64 + i, &mut s1, &s2, &digest).unwrap();
            assert_eq!(a, b, "both parties output the same signature");
            assert!(a.normalize_s() == a, "low-s");
            vk.verify_prehash(&digest, &a).unwrap();
        }
    }
}

#[test]
fn random_seeds_and_fresh_paillier_keys() {
    use rand_core::{Rng, SeedableRng};
    let mut seeder = rand_chacha::ChaCha20Rng::from_seed([0x5a; 32]);
    let seed: u64 = seeder.next_u64();
    let mut rng = support::rng(seed);
    let key = ecdsa2pc_core::PaillierSecretKey::generate(&mut rng);
    let mut r2 = support::rng(seed ^ 1);
    let (p1, m1) =
        ecdsa2pc_core::keygen::p1::start(&mut rng, &support::ctx1(), key, support::rp().params())
            .unwrap();
    let (p2, m2) = ecdsa2pc_core::keygen::p2::start(
        &mut r2,
        &support::ctx2(),
        &support::wire(&m1),
        support::rp().params(),
    )
    .unwrap();
    let (mut s1, m3) = p1.on_msg2(&mut rng, &support::wire(&m2)).unwrap();
    let s2 = p2.on_msg3(&mut r2, &support::wire(&m3)).unwrap();
    let vk = VerifyingKey::from_affine(s1.public().q).unwrap();
    for i in 0..20u64 {
        let mut digest = [0u8; 32];
        seeder.fill_bytes(&mut digest);
        let (a, b) = support::sign(seeder.next_u64() ^ i, &mut s1, &s2, &digest).unwrap();
        assert_eq!(a, b);
        vk.verify_prehash(&digest, &a).unwrap();
    }
}
