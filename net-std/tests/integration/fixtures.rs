//! Fixed Paillier keys and ring-Pedersen parameters shared with the core's tests (primes
//! made once with openssl): generating them in every test would dominate the test time.

#[path = "../../../core/fixtures/primes.rs"]
mod primes;
#[path = "../../../core/fixtures/safe_primes.rs"]
mod safe_primes;

use std::sync::OnceLock;

use ecdsa2pc_core::{
    Context, KeyShareP1, KeyShareP2, PaillierSecretKey, ParamsMsg, RingPedersenParams,
    RingPedersenSecret,
};
use ecdsa2pc_net::{Framed, NetError, Pid, driver, memory_pipe, pins, rng::os_rng};

/// The Paillier key of fixture pair `i`.
pub fn paillier(i: usize) -> PaillierSecretKey {
    let (p, q) = primes::PRIME_PAIRS[i];
    PaillierSecretKey::from_primes(
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}

/// A fresh copy of party 0's commitment-parameter secret over fixture safe-prime pair `i`:
/// the same parameters every time (τ and λ come from a generator seeded with `i`).
pub fn params_secret(i: usize) -> RingPedersenSecret {
    use rand_core::SeedableRng as _;
    let (p, q) = safe_primes::SAFE_PRIME_PAIRS[i];
    let mut seed = [0u8; 32];
    seed[0] = u8::try_from(i).unwrap();
    RingPedersenSecret::from_safe_primes(
        &mut rand_chacha::ChaCha20Rng::from_seed(seed),
        &crypto_bigint::U1024::from_be_hex(p),
        &crypto_bigint::U1024::from_be_hex(q),
    )
    .unwrap()
}

/// Party 0's commitment-parameter secret of the tests (fixture pair 0), made once.
pub fn params() -> &'static RingPedersenSecret {
    static PARAMS: OnceLock<RingPedersenSecret> = OnceLock::new();
    PARAMS.get_or_init(|| params_secret(0))
}

/// Party 1's acceptance of party 0's parameters in tests that are not about them: the
/// fixture parameters (as if pinned: no proof check, which would add about a second to every
/// keygen), anything else through the full check.
pub fn trusted(msg: &ParamsMsg, owner: &Pid) -> Result<RingPedersenParams, NetError> {
    if msg.params().hash() == params().params().hash() {
        Ok(*msg.params())
    } else {
        pins::verify(msg, owner)
    }
}

/// Both shares of a keygen over a memory pipe between party 0 (`ctx1`, fixture key 0 and the
/// fixture parameters) and party 1 (`ctx2`, trusting them): the starting point of the tests
/// about what happens to shares afterwards.
pub fn keygen_over_pipe(
    ctx1: Context<'static>,
    ctx2: Context<'static>,
) -> (KeyShareP1, KeyShareP2) {
    let (a, b) = memory_pipe();
    let max = ecdsa2pc_core::MAX_MSG_LEN;
    let p2 = std::thread::spawn(move || {
        driver::keygen_p2(
            &mut Framed::new(b, max),
            &mut os_rng().unwrap(),
            &ctx2,
            &mut trusted,
        )
        .unwrap()
    });
    let s1 = driver::keygen_p1(
        &mut Framed::new(a, max),
        &mut os_rng().unwrap(),
        &ctx1,
        paillier(0),
        params(),
    )
    .unwrap();
    (s1, p2.join().unwrap())
}

/// Locks party 0's share `s1` in memory the one way the core does: a signature that fails
/// party 0's final check after a valid π_c3. Only a broken proof system allows that, so it is
/// made here in-process, both decryption halves taken mod p (as the core's own test does),
/// under the pids the shares were made with. Returns with `s1` locked, as the driver sees it
/// before `Persist::locked`.
pub fn fail_final_check(s1: &mut KeyShareP1, s2: &KeyShareP2) {
    use ecdsa2pc_core::{Error, KeyShare, Prime, sign};
    const BINDING: &[u8] = b"in-process, to lock a share";
    let (own, peer) = s1.pids();
    let ctx1 = Context {
        own_pid: *own,
        peer_pid: *peer,
        channel_binding: BINDING,
    };
    let ctx2 = Context {
        own_pid: *peer,
        peer_pid: *own,
        channel_binding: BINDING,
    };
    let digest = [9; 32];
    let mut rng = os_rng().unwrap();
    let (p1, m1) = sign::p1::start(&mut rng, s1, params(), &ctx1, &digest).unwrap();
    let (p2, m2) = sign::p2::start(&mut rng, s2, &ctx2, &digest, &m1).unwrap();
    let (p1, m3) = p1.on_msg2(&mut rng, &m2).unwrap();
    let (_, m4) = p2.on_msg3(&mut rng, &m3).unwrap();
    let decrypting = p1.check_msg4(&m4).unwrap();
    let half = decrypting.decrypt_half(Prime::P);
    assert_eq!(
        decrypting.finish(&half, &half).unwrap_err(),
        Error::SignatureInvalid
    );
    assert!(s1.is_locked());
}
