//! π_c3 (P2's proof that its signing ciphertext is well formed) at the proof level and in
//! P1's round: every check fed the input that fails it, each expecting
//! `ProofInvalid(SignCiphertext)` (or the specific error named), P1's trapdoor verifier agreeing
//! with the public one, replays across sessions, and the ring-Pedersen parameters' pinning
//! (`ParamsMismatch`) and proof (Π^prm in its message).

mod support;

use crypto_bigint::{U256, U512, U896, U2048, U4096};
use ecdsa2pc_core::internals::{
    curve,
    session::Binding,
    zk::sign_ciphertext::{SignCiphertextProof, Statement, Trapdoors, U2368},
};
use ecdsa2pc_core::work::{Idle, Reversed, Sequential};
use ecdsa2pc_core::{Error, KeyShare, Message, ParamsMsg, Proof, RingPedersenParams, keygen, sign};
use k256::Scalar;
use support::{PID1, PID2, Threads};

const SID: [u8; 32] = support::PIC3_SID;

fn invalid() -> Result<(), Error> {
    Err(Error::ProofInvalid(Proof::SignCiphertext))
}

use support::Pic3Fixture as Fixture;

/// Both verifiers' verdicts on `proof` for this statement; they must agree.
fn verdict(
    f: &Fixture,
    proof: &SignCiphertextProof,
    st: &Statement<'_>,
    b: &Binding<'_>,
) -> Result<(), Error> {
    let public = proof.verify(st, b);
    let trapdoor = proof.verify_with_trapdoors(st, b, &f.trapdoors(None));
    assert_eq!(
        public, trapdoor,
        "P1's trapdoor verifier disagrees with the public one"
    );
    let tabled = proof.verify_with_trapdoors(st, b, &f.trapdoors(Some(trapdoor_tables())));
    assert_eq!(
        public, tabled,
        "P1's trapdoor verifier with its tables disagrees with the public one"
    );
    // Its checks as work items: the same verdict (the same error) on every schedule.
    for tables in [None, Some(trapdoor_tables())] {
        let trapdoors = f.trapdoors(tables);
        let on = |exec: &dyn Fn(&SignCiphertextProof) -> Result<(), Error>| exec(proof);
        let sequential = on(&|p| p.verify_with_trapdoors_on(st, b, &trapdoors, &Sequential));
        let backwards = on(&|p| p.verify_with_trapdoors_on(st, b, &trapdoors, &Reversed));
        let threads =
            on(&|p| p.verify_with_trapdoors_on(st, b, &trapdoors, &Threads::ONE_PER_ITEM));
        let idle = on(&|p| p.verify_with_trapdoors_on(st, b, &trapdoors, &Idle));
        for (name, got) in [
            ("sequential", sequential),
            ("backwards", backwards),
            ("threads", threads),
            ("idle", idle),
        ] {
            assert_eq!(got, public, "schedule {name}, tables {}", tables.is_some());
        }
    }
    public
}

/// P1's comb tables of h mod p̂, q̂ for the support secret, built once for the whole binary.
fn trapdoor_tables() -> &'static ecdsa2pc_core::TrapdoorTables<'static> {
    static TABLES: std::sync::OnceLock<ecdsa2pc_core::TrapdoorTables<'static>> =
        std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let len = ecdsa2pc_core::trapdoor_tables_len(4).unwrap();
        let storage = Box::leak(vec![crypto_bigint::U1024::ZERO; len].into_boxed_slice());
        support::rp().trapdoor_tables(4, storage).unwrap()
    })
}

fn binding(sid: &[u8; 32]) -> Binding<'_> {
    support::pic3_binding(sid)
}

#[test]
fn honest_proofs_verify_with_both_verifiers() {
    for seed in 0..5 {
        let f = Fixture::new(seed);
        assert_eq!(
            verdict(&f, &f.proof, &f.statement(), &binding(&SID)),
            Ok(()),
            "seed {seed}"
        );
    }
}

#[test]
fn p1s_check_rests_on_the_plaintext_of_c_prime() {
    // P1's Paillier check reads the plaintext of C' (x1 + q·2^64) instead of raising C' to
    // p − 1: given any other value, it refuses an honest proof that the public equations
    // accept. (P1's share is only used once Dec(c_key) = x1 has been checked.)
    let f = Fixture::new(20);
    let st = f.statement();
    let b = binding(&SID);
    assert_eq!(f.proof.verify(&st, &b), Ok(()));
    for wrong in [
        f.c_prime_plain.wrapping_add(&U512::ONE),
        f.c_prime_plain.wrapping_sub(&support::Q_ORDER.resize()),
        U512::ZERO,
    ] {
        let trapdoors = Trapdoors {
            c_prime_plain: &wrong,
            ..f.trapdoors(None)
        };
        assert_eq!(
            f.proof.verify_with_trapdoors(&st, &b, &trapdoors),
            invalid()
        );
    }
}

#[test]
fn every_statement_field_is_bound_by_the_challenge() {
    // Frozen Heart (docs/SECURITY.md A7): change any field after proving, the proof fails.
    let f = Fixture::new(10);
    let other = Fixture::new(11);
    let b = binding(&SID);
    let other_point = curve::mul_g(&Scalar::from(5u64));
    let other_params = *support::ring_pedersen(1).params();
    let other_scalar = f.m + Scalar::ONE;
    let mut cases: Vec<(&str, Statement<'_>)> = Vec::new();
    let base = f.statement();
    cases.push((
        "C'",
        Statement {
            c_prime: &other.c_prime,
            ..base
        },
    ));
    cases.push((
        "c",
        Statement {
            c: &other.c,
            ..base
        },
    ));
    cases.push((
        "Q2",
        Statement {
            q2: &other_point,
            ..base
        },
    ));
    cases.push((
        "R2",
        Statement {
            r2: &other_point,
            ..base
        },
    ));
    cases.push((
        "m (another message)",
        Statement {
            m: &other_scalar,
            ..base
        },
    ));
    cases.push((
        "r",
        Statement {
            r: &other_scalar,
            ..base
        },
    ));
    cases.push((
        "params",
        Statement {
            params: &other_params,
            ..base
        },
    ));
    cases.push((
        "fingerprint (another key)",
        Statement {
            fingerprint: &[8; 32],
            ..base
        },
    ));
    cases.push(("epoch", Statement { epoch: 4, ..base }));
    cases.push((
        "verifier pid",
        Statement {
            verifier: &PID2,
            ..base
        },
    ));
    for (name, st) in cases {
        assert_eq!(verdict(&f, &f.proof, &st, &b), invalid(), "{name}");
    }
    // Another session, another prover, another label.
    assert_eq!(
        verdict(&f, &f.proof, &base, &binding(&[8; 32])),
        invalid(),
        "sid"
    );
    let as_p1 = Binding { prover: &PID1, ..b };
    assert_eq!(
        verdict(&f, &f.proof, &base, &as_p1),
        invalid(),
        "prover pid"
    );
    let relabelled = Binding {
        label: "sign/R2",
        ..b
    };
    assert_eq!(
        verdict(&f, &f.proof, &base, &relabelled),
        invalid(),
        "label"
    );
    // Another Paillier key N (public verifier: P1 has no other key's factors).
    let other_sk = support::paillier(1);
    let other_n = Statement {
        key: other_sk.public_key(),
        ..base
    };
    assert_eq!(f.proof.verify(&other_n, &b), invalid(), "N");
}

#[test]
fn every_response_one_past_its_bound_fails() {
    let f = Fixture::new(20);
    let st = f.statement();
    let b = binding(&SID);
    let q: U512 = support::Q_ORDER.resize();
    let q_sq: U896 = support::Q_ORDER
        .resize::<{ U896::LIMBS }>()
        .wrapping_mul(&support::Q_ORDER.resize::<{ U896::LIMBS }>());
    let z12_bound = q.shl_vartime(64 + 128 + 1);
    let z3_bound = q_sq.shl_vartime(3 * 64 + 128 + 1);
    let u_bound = f
        .params_n()
        .resize::<{ U2368::LIMBS }>()
        .shl_vartime(2 * 64 + 128 + 1);
    let mut t = f.proof.clone();
    t.z1 = z12_bound;
    assert_eq!(verdict(&f, &t, &st, &b), invalid(), "z1");
    let mut t = f.proof.clone();
    t.z2 = z12_bound;
    assert_eq!(verdict(&f, &t, &st, &b), invalid(), "z2");
    let mut t = f.proof.clone();
    t.z3 = z3_bound;
    assert_eq!(verdict(&f, &t, &st, &b), invalid(), "z3");
    for j in 0..3 {
        let mut t = f.proof.clone();
        t.u[j] = u_bound;
        assert_eq!(verdict(&f, &t, &st, &b), invalid(), "u{j}");
    }
    // Largest in range: still refused (by the equations), so the bound is the only difference.
    let mut t = f.proof.clone();
    t.z1 = z12_bound.wrapping_sub(&U512::ONE);
    assert_eq!(verdict(&f, &t, &st, &b), invalid(), "z1 = bound − 1");
}

impl Fixture {
    fn params_n(&self) -> U2048 {
        U2048::from_be_slice(&self.params.encode()[..256])
    }
}

#[test]
fn commitments_out_of_range_or_not_units_fail() {
    let f = Fixture::new(30);
    let st = f.statement();
    let b = binding(&SID);
    let n_hat = f.params_n();
    let (p_hat, q_hat) = support::SAFE_PRIME_PAIRS[0];
    let p_hat: U2048 = crypto_bigint::U1024::from_be_hex(p_hat).resize();
    let q_hat: U2048 = crypto_bigint::U1024::from_be_hex(q_hat).resize();
    let bad = [
        ("0", U2048::ZERO),
        ("N^", n_hat),
        ("N^ + 1", n_hat.wrapping_add(&U2048::ONE)),
        ("2^2048 − 1", U2048::MAX),
        ("p^ (not a unit)", p_hat),
        // P1 tells units by each factor: the other one too.
        ("3·q^ (not a unit)", q_hat.wrapping_mul(&U2048::from_u8(3))),
    ];
    for (name, x) in bad {
        for j in 0..3 {
            let mut t = f.proof.clone();
            t.w[j] = x;
            assert_eq!(verdict(&f, &t, &st, &b), invalid(), "W{j} = {name}");
            let mut t = f.proof.clone();
            t.a[j] = x;
            assert_eq!(verdict(&f, &t, &st, &b), invalid(), "A{j} = {name}");
        }
    }
}

#[test]
fn paillier_values_out_of_range_or_not_units_fail() {
    let f = Fixture::new(40);
    let st = f.statement();
    let b = binding(&SID);
    let key = f.sk.public_key();
    let n = *key.modulus();
    let (p, q) = f.sk.primes();
    let p_wide: U2048 = p.resize();
    let q_wide: U2048 = q.resize();
    for (name, x) in [
        ("0", U4096::ZERO),
        ("N²", *key.modulus_squared()),
        ("2^4096 − 1", U4096::MAX),
        ("N (not a unit)", n.resize()),
        (
            "p·2^1000 (not a unit)",
            p.resize::<{ U4096::LIMBS }>().shl_vartime(1000),
        ),
        // P1 tells units by each factor: the other one too.
        (
            "q·(N + 1) (not a unit)",
            q.resize::<{ U4096::LIMBS }>()
                .wrapping_mul(&n.resize::<{ U4096::LIMBS }>().wrapping_add(&U4096::ONE)),
        ),
    ] {
        let mut t = f.proof.clone();
        t.c_alpha = x;
        assert_eq!(verdict(&f, &t, &st, &b), invalid(), "C_alpha = {name}");
    }
    for (name, x) in [
        ("0", U2048::ZERO),
        ("N", n),
        ("2^2048 − 1", U2048::MAX),
        ("p (not a unit)", p_wide),
        ("q (not a unit)", q_wide),
    ] {
        let mut t = f.proof.clone();
        t.v = x;
        assert_eq!(verdict(&f, &t, &st, &b), invalid(), "v = {name}");
    }
}

#[test]
fn tampered_answers_fail_and_both_verifiers_agree() {
    let f = Fixture::new(50);
    let st = f.statement();
    let b = binding(&SID);
    let one = |p: &mut SignCiphertextProof, i: usize| match i {
        0 => p.z1 = p.z1.wrapping_add(&U512::ONE),
        1 => p.z2 = p.z2.wrapping_add(&U512::ONE),
        2 => p.z3 = p.z3.wrapping_add(&U896::ONE),
        3..=5 => p.u[i - 3] = p.u[i - 3].wrapping_add(&U2368::ONE),
        6..=8 => p.w[i - 6] = p.w[i - 6].wrapping_add(&U2048::ONE),
        9..=11 => p.a[i - 9] = p.a[i - 9].wrapping_add(&U2048::ONE),
        12 => p.v = p.v.wrapping_add(&U2048::ONE),
        13 => p.c_alpha = p.c_alpha.wrapping_add(&U4096::ONE),
        14 => p.g_prime = curve::mul_g(&Scalar::from(3u64)),
        _ => p.q2_prime = curve::mul_g(&Scalar::from(3u64)),
    };
    for i in 0..16 {
        let mut t = f.proof.clone();
        one(&mut t, i);
        assert_eq!(verdict(&f, &t, &st, &b), invalid(), "field {i}");
    }
}

/// Each half of P1's CRT check stands on its own: a response for which the relation holds
/// modulo one prime and not the other is refused by every verifier and schedule, so no half
/// is skipped or checked twice.
#[test]
fn a_relation_that_holds_modulo_one_prime_only_fails() {
    let f = Fixture::new(80);
    let st = f.statement();
    let b = binding(&SID);
    let n = *f.sk.public_key().modulus();
    let (p, q) = f.sk.primes();
    // v^N mod p² depends on v mod p only: v ± p keeps the Paillier relation mod p² and breaks
    // it mod q², v ± q the other way round.
    for (name, prime) in [("p", p), ("q", q)] {
        let step: U2048 = prime.resize();
        let up = f.proof.v.wrapping_add(&step);
        let moved = if up < n {
            up
        } else {
            f.proof.v.wrapping_sub(&step)
        };
        let mut t = f.proof.clone();
        t.v = moved;
        assert_eq!(verdict(&f, &t, &st, &b), invalid(), "v moved by {name}");
    }
    // h^(u_j) mod p̂ depends on u_j mod (p̂ − 1): u_j + p̂ − 1 keeps the Pedersen relation mod
    // p̂ and breaks it mod q̂, u_j + q̂ − 1 the other way round.
    let (p_hat, q_hat) = support::SAFE_PRIME_PAIRS[0];
    for (name, hex) in [("p̂", p_hat), ("q̂", q_hat)] {
        let step: U2368 = crypto_bigint::U1024::from_be_hex(hex)
            .wrapping_sub(&crypto_bigint::U1024::ONE)
            .resize();
        for j in 0..3 {
            let mut t = f.proof.clone();
            t.u[j] = t.u[j].wrapping_add(&step);
            assert_eq!(verdict(&f, &t, &st, &b), invalid(), "u{j} + {name} − 1");
        }
    }
}

/// P1's message-4 check on the schedule `name` (half of them with the trapdoor tables).
fn check_on<'s>(
    name: &str,
    p1: sign::p1::AwaitMsg4<'s>,
    m4: &sign::Msg4,
) -> Result<sign::p1::AwaitDecryption<'s>, Error> {
    match name {
        "sequential" => p1.check_msg4_on(m4, None, &Sequential),
        "backwards" => p1.check_msg4_on(m4, Some(trapdoor_tables()), &Reversed),
        "threads" => p1.check_msg4_on(m4, Some(trapdoor_tables()), &Threads::ONE_PER_ITEM),
        _ => p1.check_msg4_on(m4, None, &Idle),
    }
}

/// P1's round with its check and its decryption on every schedule: an honest message 4 gives
/// the same signature as the sequential check and decryption, a tampered proof is `ProofInvalid(SignCiphertext)` (no state to
/// decrypt with) and the share not locked.
#[test]
fn p1_round_gives_the_same_outcome_on_every_schedule() {
    let (mut s1, s2) = support::keygen(70, 0);
    let digest = [5u8; 32];
    for (n, name) in ["sequential", "backwards", "threads", "idle"]
        .iter()
        .enumerate()
    {
        let seed = 71 + n as u64;
        // The same session replayed: the sequential check's signature is the reference.
        let reference = support::sign_to_msg4(seed, &mut s1, &s2, &digest);
        let expected = reference.p1.on_msg4(&reference.m4).unwrap().0;
        let run = support::sign_to_msg4(seed, &mut s1, &s2, &digest);
        let checked = check_on(name, run.p1, &run.m4).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        // The decryption's halves on the same schedule (idle: both computed by the round).
        let finished = match *name {
            "sequential" => checked.finish_on(&Sequential),
            "backwards" => checked.finish_on(&Reversed),
            "threads" => checked.finish_on(&Threads::ONE_PER_ITEM),
            _ => checked.finish_on(&Idle),
        };
        assert_eq!(finished.unwrap().0, expected, "{name}");
        let run = support::sign_to_msg4(seed + 10, &mut s1, &s2, &digest);
        let mut bad = run.m4.clone();
        // v is not hashed into the challenge and has no curve relation: the bad proof gets
        // past the checks done in place and fails in the work items (both Paillier halves).
        bad.proof.v = bad.proof.v.wrapping_add(&U2048::ONE);
        // No state to decrypt with comes back (threshold_attack.rs counts decryptions).
        assert_eq!(
            check_on(name, run.p1, &bad).err(),
            Some(Error::ProofInvalid(Proof::SignCiphertext)),
            "{name}"
        );
        assert!(!s1.is_locked(), "{name}");
    }
}

#[test]
fn p1_refuses_a_proof_for_another_session_or_message_without_locking() {
    let (mut s1, s2) = support::keygen(60, 0);
    let digest_a = [1u8; 32];
    let digest_b = [2u8; 32];
    let old = support::sign_to_msg4(61, &mut s1, &s2, &digest_a).m4;
    // Same message, another session: the old (c, proof) replayed.
    let run = support::sign_to_msg4(62, &mut s1, &s2, &digest_a);
    assert_eq!(
        run.p1.on_msg4(&old).unwrap_err(),
        Error::ProofInvalid(Proof::SignCiphertext)
    );
    assert!(!s1.is_locked());
    // Another message: its c with the old proof.
    let run = support::sign_to_msg4(63, &mut s1, &s2, &digest_b);
    let mixed = sign::Msg4 {
        c: run.m4.c,
        proof: old.proof.clone(),
    };
    assert_eq!(
        run.p1.on_msg4(&mixed).unwrap_err(),
        Error::ProofInvalid(Proof::SignCiphertext)
    );
    assert!(!s1.is_locked());
    // Another key (another keygen): its session's message 4 sent to this P1.
    let (mut o1, o2) = support::keygen(64, 1);
    let foreign = support::sign_to_msg4(65, &mut o1, &o2, &digest_a).m4;
    let run = support::sign_to_msg4(65, &mut s1, &s2, &digest_a);
    assert!(matches!(
        run.p1.on_msg4(&foreign).unwrap_err(),
        Error::ProofInvalid(Proof::SignCiphertext) | Error::InvalidCiphertext
    ));
    assert!(!s1.is_locked());
    let (a, b) = support::sign(66, &mut s1, &s2, &digest_b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn honest_witnesses_with_a_ciphertext_of_another_value_fail() {
    let keys = support::keygen_run(70, 0);
    let mut s1 = support::p1_share(70, 0);
    let digest = [5u8; 32];
    let mut rng = support::rng(71);
    let (p1, m1) =
        sign::p1::start(&mut rng, &mut s1, support::rp(), &support::ctx1(), &digest).unwrap();
    let k2 = curve::random_scalar(&mut rng);
    let (m2, sid) = support::msg2_with_nonce(&mut rng, &m1, &k2);
    let (p1, m3) = p1.on_msg2(&mut rng, &m2).unwrap();
    let r = curve::x_mod_q(&(k256::ProjectivePoint::from(m3.r1) * k2).to_affine());
    let pk = keys.s2.paillier_key();
    let (c, _) = pk.encrypt(&mut rng, &U256::from_u64(12345));
    let m4 = support::forged_msg4(
        72,
        &keys.s2,
        &keys.m1.commitment.c_key,
        &keys.x2,
        &k2,
        &r,
        &digest,
        &sid,
        &c,
    );
    assert_eq!(
        p1.on_msg4(&support::wire(&m4)).unwrap_err(),
        Error::ProofInvalid(Proof::SignCiphertext)
    );
    assert!(!s1.is_locked());
}

#[test]
fn p1_signing_with_another_parameter_secret_is_a_params_mismatch() {
    let (mut s1, _) = support::keygen(80, 0);
    let other = support::ring_pedersen(1);
    let e = sign::p1::start(
        &mut support::rng(81),
        &mut s1,
        &other,
        &support::ctx1(),
        &[0; 32],
    )
    .unwrap_err();
    assert_eq!(e, Error::ParamsMismatch);
    assert_eq!(s1.params_hash(), support::rp().params().hash());
}

#[test]
fn p2_keygen_with_parameters_other_than_announced_is_a_params_mismatch() {
    let (_, m1) = keygen::p1::start(
        &mut support::rng(90),
        &support::ctx1(),
        support::paillier(0),
        support::rp().params(),
    )
    .unwrap();
    let other = support::ring_pedersen(1);
    assert_eq!(
        keygen::p2::start(&mut support::rng(91), &support::ctx2(), &m1, other.params())
            .unwrap_err(),
        Error::ParamsMismatch
    );
    // P1 announcing another hash than the parameters P2 pinned: refused as well.
    let mut changed = support::wire(&m1);
    changed.params_hash[0] ^= 1;
    assert_eq!(
        keygen::p2::start(
            &mut support::rng(91),
            &support::ctx2(),
            &changed,
            support::rp().params()
        )
        .unwrap_err(),
        Error::ParamsMismatch
    );
    // The pinned parameters land in P2's share and in both fingerprints.
    let (s1, s2) = support::keygen(92, 0);
    assert_eq!(s2.ring_pedersen_params(), support::rp().params());
    assert_eq!(s1.params_hash(), s2.params_hash());
}

#[test]
fn params_message_verifies_for_its_owner_only_and_round_trips() {
    let secret = support::rp();
    let msg = secret.params_msg(&mut support::rng(100), &PID1);
    let msg = support::wire(&msg);
    assert_eq!(msg.verify(&PID1), Ok(*secret.params()));
    assert_eq!(
        msg.verify(&PID2),
        Err(Error::ProofInvalid(Proof::RingPedersenParams))
    );
    assert_eq!(ParamsMsg::LEN, ecdsa2pc_core::MAX_MSG_LEN);
    let bytes = support::bytes(&msg);
    // Wrong size: malformed.
    assert_eq!(
        ParamsMsg::decode(&bytes[..bytes.len() - 1]).unwrap_err(),
        Error::Malformed
    );
    // A flipped challenge bit: the recomputed commitments hash to other bits.
    let mut t = bytes.clone();
    t[2 + 768] ^= 1;
    assert_eq!(
        ParamsMsg::decode(&t).unwrap().verify(&PID1),
        Err(Error::ProofInvalid(Proof::RingPedersenParams))
    );
    // g = h, and g not a unit: refused before the proof.
    let mut t = bytes.clone();
    let h = t[2 + 512..2 + 768].to_vec();
    t[2 + 256..2 + 512].copy_from_slice(&h);
    assert_eq!(
        ParamsMsg::decode(&t).unwrap().verify(&PID1),
        Err(Error::PedersenParameters)
    );
    let (p_hat, _) = support::SAFE_PRIME_PAIRS[0];
    let mut t = bytes.clone();
    t[2 + 256..2 + 384].fill(0);
    t[2 + 384..2 + 512].copy_from_slice(&crypto_bigint::U1024::from_be_hex(p_hat).to_be_bytes());
    assert_eq!(
        ParamsMsg::decode(&t).unwrap().verify(&PID1),
        Err(Error::PedersenParameters)
    );
    // Parameters of the wrong size (N̂ of 2047 bits).
    let mut t = bytes.clone();
    t[2] &= 0x7f;
    assert_eq!(
        ParamsMsg::decode(&t).unwrap().verify(&PID1),
        Err(Error::PedersenParameters)
    );
    // RingPedersenParams' own decoder makes the same public checks.
    assert_eq!(
        RingPedersenParams::decode(&secret.params().encode()),
        Ok(*secret.params())
    );
    assert_eq!(
        RingPedersenParams::decode(&t[2..2 + 768]).unwrap_err(),
        Error::PedersenParameters
    );
    assert_eq!(
        RingPedersenParams::decode(&t[2..2 + 767]).unwrap_err(),
        Error::Malformed
    );
}

#[test]
fn parameter_secrets_round_trip_and_refuse_damage() {
    let secret = support::rp();
    let mut buf = vec![0u8; ecdsa2pc_core::RingPedersenSecret::ENCODED_LEN];
    let n = secret.encode(&mut buf).unwrap();
    assert_eq!(n, buf.len());
    let back = ecdsa2pc_core::RingPedersenSecret::decode(&buf).unwrap();
    assert_eq!(back.params(), secret.params());
    for pos in (0..buf.len()).step_by(37) {
        let mut t = buf.clone();
        t[pos] ^= 4;
        assert_eq!(
            ecdsa2pc_core::RingPedersenSecret::decode(&t).unwrap_err(),
            Error::PedersenParameters,
            "flip at {pos}"
        );
    }
    assert_eq!(
        ecdsa2pc_core::RingPedersenSecret::encode(secret, &mut [0u8; 10]).unwrap_err(),
        Error::BufferTooSmall
    );
    // Not safe primes (the Paillier fixture primes): refused.
    let (p, q) = support::PRIME_PAIRS[0];
    assert_eq!(
        ecdsa2pc_core::RingPedersenSecret::from_safe_primes(
            &mut support::rng(1),
            &crypto_bigint::U1024::from_be_hex(p),
            &crypto_bigint::U1024::from_be_hex(q),
        )
        .unwrap_err(),
        Error::PedersenParameters
    );
}
