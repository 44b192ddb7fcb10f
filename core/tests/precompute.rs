//! P2's precomputation: the fixed-base table of c_key ⊕ q·2^64 and presigning work
//! ([`sign::p2::Presign`]) give the same kind of signatures, and refuse to serve another share.

mod support;

use ecdsa2pc_core::{Error, KeyShare, ModNN, sign};
use ecdsa2pc_core::{PEDERSEN_TABLE_LEN, PedersenTable, internals::pedersen};
use k256::ecdsa::{VerifyingKey, signature::hazmat::PrehashVerifier};

#[test]
fn signatures_with_table_and_pooled_nonces_verify() {
    let (mut s1, s2) = support::keygen(80, 0);
    let mut storage = vec![ModNN::ZERO; sign::p2::table_len(4).unwrap()];
    let table = sign::p2::Precomputed::new(&s2, 4, &mut storage).unwrap();
    let vk = VerifyingKey::from_affine(s1.public().q).unwrap();
    let mut r1 = support::rng(81);
    let mut r2 = support::rng(82);
    for i in 0..10u8 {
        let digest = [i; 32];
        // Every other presign raises C' with the table.
        let pre = if i % 2 == 0 {
            sign::p2::Presign::new(&mut r2, &s2)
        } else {
            sign::p2::Presign::new_with(&mut r2, &s2, &table).unwrap()
        };
        let (p1, m1) =
            sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap();
        let (p2, m2) =
            sign::p2::start_with(&mut r2, &s2, &support::ctx2(), &digest, &m1, Some(pre)).unwrap();
        let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
        let (p2, m4) = p2.on_msg3_with(&mut r2, &m3, Some(&table)).unwrap();
        let (sig, m5) = p1.on_msg4(&m4).unwrap();
        assert_eq!(p2.on_msg5(&m5).unwrap(), sig);
        vk.verify_prehash(&digest, &sig).unwrap();
    }
}

#[test]
fn a_table_or_presign_of_another_share_is_refused() {
    let (mut s1, s2) = support::keygen(83, 0);
    let (_, other2) = support::keygen(84, 1);
    let mut storage = vec![ModNN::ZERO; sign::p2::table_len(2).unwrap()];
    let other_table = sign::p2::Precomputed::new(&other2, 2, &mut storage).unwrap();
    let digest = [1u8; 32];
    let mut r1 = support::rng(85);
    let mut r2 = support::rng(86);
    let run = |r1: &mut _, r2: &mut _, s1: &mut _, table, pre| {
        let (p1, m1) = sign::p1::start(r1, s1, support::rp(), &support::ctx1(), &digest).unwrap();
        let (p2, m2) = sign::p2::start_with(r2, &s2, &support::ctx2(), &digest, &m1, pre)?;
        let (_, m3) = p1.on_msg2(r1, &m2).unwrap();
        p2.on_msg3_with(r2, &m3, table).map(|_| ())
    };
    assert_eq!(
        run(&mut r1, &mut r2, &mut s1, Some(&other_table), None),
        Err(Error::ForeignPrecomputation)
    );
    assert_eq!(
        sign::p2::Presign::new_with(&mut r2, &s2, &other_table).unwrap_err(),
        Error::ForeignPrecomputation
    );
    let foreign = sign::p2::Presign::new(&mut r2, &other2);
    assert_eq!(
        run(&mut r1, &mut r2, &mut s1, None, Some(foreign)),
        Err(Error::ForeignPrecomputation)
    );
    let mut bad = vec![ModNN::ZERO; 10];
    assert_eq!(
        sign::p2::Precomputed::new(&s2, 4, &mut bad).unwrap_err(),
        Error::BufferTooSmall
    );
}

#[test]
fn keygen_with_the_pedersen_table_is_accepted_and_signs() {
    use ecdsa2pc_core::keygen;
    let mut storage = vec![crypto_bigint::U2048::ZERO; PEDERSEN_TABLE_LEN];
    let table = PedersenTable::new(&mut storage).unwrap();
    let mut r1 = support::rng(90);
    let mut r2 = support::rng(91);
    let (p1, m1) = keygen::p1::start_with(
        &mut r1,
        &support::ctx1(),
        support::paillier(1),
        support::rp().params(),
        Some(&table),
        &ecdsa2pc_core::work::Sequential,
    )
    .unwrap();
    let (p2, m2) = keygen::p2::start(
        &mut r2,
        &support::ctx2(),
        &support::wire(&m1),
        support::rp().params(),
    )
    .unwrap();
    let (mut s1, m3) = p1.on_msg2(&mut r1, &support::wire(&m2)).unwrap();
    let s2 = p2.on_msg3(&mut r2, &support::wire(&m3)).unwrap();
    let digest = [4u8; 32];
    let (sig, _) = support::sign(92, &mut s1, &s2, &digest).unwrap();
    VerifyingKey::from_affine(s1.public().q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();
}

#[test]
fn decryption_in_halves_gives_the_same_signature_and_refuses_two_of_one_prime() {
    use ecdsa2pc_core::Prime;
    let (mut s1, s2) = support::keygen(93, 0);
    let digest = [6u8; 32];
    let mut r1 = support::rng(94);
    let mut r2 = support::rng(95);
    let (p1, m1) =
        sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap();
    let (p2, m2) = sign::p2::start(&mut r2, &s2, &support::ctx2(), &digest, &m1).unwrap();
    let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    let (_, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
    let d = p1.check_msg4(&m4).unwrap();
    let (p, q) = (d.decrypt_half(Prime::P), d.decrypt_half(Prime::Q));
    let (sig, _) = d.finish(&q, &p).unwrap();
    VerifyingKey::from_affine(s1.public().q)
        .unwrap()
        .verify_prehash(&digest, &sig)
        .unwrap();

    let (p1, m1) =
        sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap();
    let (p2, m2) = sign::p2::start(&mut r2, &s2, &support::ctx2(), &digest, &m1).unwrap();
    let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    let (_, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
    let d = p1.check_msg4(&m4).unwrap();
    let p = d.decrypt_half(Prime::P);
    assert_eq!(d.finish(&p, &p).unwrap_err(), Error::SignatureInvalid);
    assert!(s1.is_locked(), "a wrong join fails closed");
}

#[test]
fn a_decryption_abandoned_midway_leaves_the_share_locked() {
    let (mut s1, s2) = support::keygen(96, 0);
    let digest = [8u8; 32];
    let mut r1 = support::rng(97);
    let mut r2 = support::rng(98);
    let (p1, m1) =
        sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap();
    let (p2, m2) = sign::p2::start(&mut r2, &s2, &support::ctx2(), &digest, &m1).unwrap();
    let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
    let (_, m4) = p2.on_msg3(&mut r2, &m3).unwrap();
    let d = p1.check_msg4(&m4).unwrap();
    let _half = d.decrypt_half(ecdsa2pc_core::Prime::P);
    drop(d);
    assert!(s1.is_locked(), "fail closed");
    let mut r1 = support::rng(99);
    assert_eq!(
        sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap_err(),
        Error::KeyLocked
    );
}

#[test]
fn fixed_base_powers_match_plain_powers_for_every_window() {
    use crypto_bigint::{U256, U512};
    use ecdsa2pc_core::internals::paillier::table_len;
    let sk = support::paillier(0);
    let pk = sk.public_key();
    let mut rng = support::rng(20);
    let (c, _) = pk.encrypt(&mut rng, &U256::from_u64(77));
    for window in [1u32, 2, 4, 5] {
        let mut storage = vec![ModNN::ZERO; table_len(window, 512).unwrap()];
        let table = pk.fixed_base(&c, window, 512, &mut storage).unwrap();
        for e in [
            U512::ZERO,
            U512::ONE,
            U512::MAX,
            U512::from_u64(0xdead_beef).shl_vartime(300),
        ] {
            assert_eq!(
                pk.pow_fixed(&table, &e).unwrap(),
                pk.mul_plain(&c, &e),
                "window {window}"
            );
        }
    }
    let mut wrong = vec![ModNN::ZERO; 3];
    assert_eq!(
        pk.fixed_base(&c, 4, 512, &mut wrong).unwrap_err(),
        Error::BufferTooSmall
    );
    let other = support::paillier(1);
    let mut storage = vec![ModNN::ZERO; table_len(4, 512).unwrap()];
    let table = pk.fixed_base(&c, 4, 512, &mut storage).unwrap();
    assert_eq!(
        other
            .public_key()
            .pow_fixed(&table, &U512::ONE)
            .unwrap_err(),
        Error::ForeignPrecomputation
    );
    // A table made for 512-bit exponents cannot raise to a wider one.
    assert_eq!(
        pk.pow_fixed(&table, &crypto_bigint::U1024::ONE)
            .unwrap_err(),
        Error::ForeignPrecomputation
    );
}

#[test]
fn precomputed_nonces_encrypt_correctly_and_only_under_their_key() {
    use crypto_bigint::{U256, U2048};
    let sk = support::paillier(0);
    let pk = sk.public_key();
    let mut rng = support::rng(21);
    let nonce = pk.nonce_power_random(&mut rng);
    let c = pk.encrypt_with_nonce(&U256::from_u64(5), &nonce).unwrap();
    assert_eq!(sk.decrypt(&c), U2048::from_u64(5));
    let other = support::paillier(1);
    let nonce = pk.nonce_power_random(&mut rng);
    assert_eq!(
        other
            .public_key()
            .encrypt_with_nonce(&U256::ONE, &nonce)
            .unwrap_err(),
        Error::ForeignPrecomputation
    );
}

/// Every power the provers take through the Pedersen table equals the plain power, at the
/// edges of the widths the table covers (u below 2^384, h below 2^383, 2 below 2^320); a
/// width beyond them takes the plain power; a wrong storage length is an error.
#[test]
fn pedersen_table_powers_match_plain_powers() {
    use crypto_bigint::{U320, U384};
    let mut storage = vec![crypto_bigint::U2048::ZERO; PEDERSEN_TABLE_LEN];
    let table = PedersenTable::new(&mut storage).unwrap();
    let (_, h) = pedersen::generators();
    let (sg, u) = pedersen::generator_roots();
    let top_h = U384::MAX.shr_vartime(2);
    for e in [
        U384::ZERO,
        U384::ONE,
        U384::from_u64(0x1234_5678),
        U384::from_u64(0x1234_5679),
        U384::from_u64(0xfeed).shl_vartime(300),
        top_h,
    ] {
        assert_eq!(pedersen::pow_root_h(Some(&table), &e, 384), u.pow(&e));
        assert_eq!(table.pow_root_h(&e), u.pow(&e));
        assert_eq!(pedersen::pow_root_h(None, &e, 384), u.pow(&e));
        assert_eq!(pedersen::pow_h(Some(&table), &e, 383), h.pow(&e));
        assert_eq!(pedersen::pow_h(None, &e, 383), h.pow(&e));
        // Widths the table does not cover take the plain power.
        assert_eq!(pedersen::pow_h(Some(&table), &e, 384), h.pow(&e));
        let xi = e.resize::<{ U320::LIMBS }>();
        assert_eq!(pedersen::pow_root_g(Some(&table), &xi, 320), sg.pow(&xi));
        assert_eq!(pedersen::pow_root_g(None, &xi, 320), sg.pow(&xi));
        assert_eq!(pedersen::pow_root_g(Some(&table), &e, 384), sg.pow(&e));
        // Both roots at once (the range proof's commitments): through the table where it
        // covers both widths, one shared chain of squarings without it or beyond them.
        let both = sg.pow(&xi).mul(&u.pow(&e));
        let xi_wide = xi.resize::<{ U384::LIMBS }>();
        assert_eq!(
            pedersen::pow_roots(Some(&table), &xi_wide, 320, &e, 384),
            both
        );
        assert_eq!(pedersen::pow_roots(None, &xi_wide, 320, &e, 384), both);
        let both_wide = sg.pow(&e).mul(&u.pow(&e));
        assert_eq!(
            pedersen::pow_roots(Some(&table), &e, 384, &e, 384),
            both_wide
        );
    }
    let all = U384::MAX;
    assert_eq!(pedersen::pow_root_h(Some(&table), &all, 384), u.pow(&all));
    // Exponents narrower than the rows: the rows past their width read zeros, not their low
    // bits again.
    let narrow = crypto_bigint::U256::MAX;
    assert_eq!(table.pow_root_h(&narrow), u.pow(&narrow));
    let narrow_g = crypto_bigint::U128::MAX;
    assert_eq!(
        pedersen::pow_root_g(Some(&table), &narrow_g, 128),
        sg.pow(&narrow_g)
    );
    let top = U320::MAX;
    assert_eq!(pedersen::pow_root_g(Some(&table), &top, 320), sg.pow(&top));
    let mut short = vec![crypto_bigint::U2048::ZERO; 5];
    assert_eq!(
        PedersenTable::new(&mut short).unwrap_err(),
        Error::BufferTooSmall
    );
}

/// 2^ξ·u^r is a residue (symbol 1) for an even and an odd r: the Legendre symbol of a range
/// commitment says nothing about its nonce's parity.
#[test]
fn pedersen_commitment_symbols_hide_nonce_parity() {
    use crypto_bigint::U384;
    let mut storage = vec![crypto_bigint::U2048::ZERO; PEDERSEN_TABLE_LEN];
    let table = PedersenTable::new(&mut storage).unwrap();
    let (sg, _) = pedersen::generator_roots();
    for r in [U384::from_u64(0x1234_5678), U384::from_u64(0x1234_5679)] {
        let com = sg
            .pow(&crypto_bigint::U64::from_u8(3))
            .mul(&pedersen::pow_root_h(Some(&table), &r, 320));
        assert_eq!(
            com.jacobi_symbol_vartime(),
            crypto_bigint::JacobiSymbol::One
        );
    }
}

#[test]
fn a_window_outside_one_to_max_window_is_an_error_not_a_panic() {
    use ecdsa2pc_core::{MAX_WINDOW, internals::paillier::table_len};
    for window in [0, MAX_WINDOW + 1, 63, 64, u32::MAX] {
        assert_eq!(
            table_len(window, 512),
            Err(Error::TableWindow),
            "window {window}"
        );
        assert_eq!(sign::p2::table_len(window), Err(Error::TableWindow));
    }
    assert_eq!(table_len(MAX_WINDOW, 512), Ok(64 << MAX_WINDOW));
    let sk = support::paillier(0);
    let pk = sk.public_key();
    let (c, _) = pk.encrypt(&mut support::rng(21), &crypto_bigint::U256::from_u64(5));
    let mut storage = vec![ModNN::ZERO; 16];
    for window in [0, MAX_WINDOW + 1] {
        assert_eq!(
            pk.fixed_base(&c, window, 512, &mut storage).unwrap_err(),
            Error::TableWindow
        );
    }
}

#[test]
fn commit_tables_give_the_same_message_4_byte_for_byte() {
    use crypto_bigint::U2048;
    let (mut s1, s2) = support::keygen(87, 0);
    let mut storage = vec![ModNN::ZERO; sign::p2::table_len(4).unwrap()];
    let mut commit = vec![U2048::ZERO; ecdsa2pc_core::commit_tables_len(3).unwrap()];
    let plain = sign::p2::Precomputed::new(&s2, 4, &mut storage).unwrap();
    let mut storage2 = vec![ModNN::ZERO; sign::p2::table_len(4).unwrap()];
    let tabled = sign::p2::Precomputed::new(&s2, 4, &mut storage2)
        .unwrap()
        .with_commit_tables(&s2, 3, &mut commit)
        .unwrap();
    let digest = [5u8; 32];
    // The same seeds through both tables: presigned, and computed at message 3.
    for presign in [true, false] {
        let mut msgs = Vec::new();
        for table in [&plain, &tabled] {
            let mut r1 = support::rng(88);
            let mut r2 = support::rng(89);
            let pre = presign.then(|| sign::p2::Presign::new_with(&mut r2, &s2, table).unwrap());
            let (p1, m1) =
                sign::p1::start(&mut r1, &mut s1, support::rp(), &support::ctx1(), &digest)
                    .unwrap();
            let (p2, m2) =
                sign::p2::start_with(&mut r2, &s2, &support::ctx2(), &digest, &m1, pre).unwrap();
            let (p1, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
            let (_, m4) = p2.on_msg3_with(&mut r2, &m3, Some(table)).unwrap();
            p1.on_msg4(&m4).unwrap();
            let mut buf = vec![0u8; ecdsa2pc_core::MAX_MSG_LEN];
            let len = ecdsa2pc_core::Message::encode(&m4, &mut buf).unwrap();
            buf.truncate(len);
            msgs.push(buf);
        }
        assert!(msgs[0] == msgs[1], "presign {presign}");
    }
    // Tables of another share's parameters are refused when attached.
    let (_, other2) = support::keygen(84, 1);
    let mut storage3 = vec![ModNN::ZERO; sign::p2::table_len(2).unwrap()];
    let mut commit3 = vec![U2048::ZERO; ecdsa2pc_core::commit_tables_len(2).unwrap()];
    assert_eq!(
        sign::p2::Precomputed::new(&other2, 2, &mut storage3)
            .unwrap()
            .with_commit_tables(&s2, 2, &mut commit3)
            .unwrap_err(),
        Error::ForeignPrecomputation
    );
}
