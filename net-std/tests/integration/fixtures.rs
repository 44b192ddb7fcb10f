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
