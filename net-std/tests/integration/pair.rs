//! Both parties in one process, without a network: their contexts and seeded generators.
//! Shared by the integration tests and the `parallel` bench (which includes this file by
//! path), so that both run the protocol the same way.

use ecdsa2pc_core::Context;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The channel binding of every in-process run.
const BINDING: &[u8] = b"ecdsa2pc-net in-process pair";

/// Party 0's context (protocol role P1).
pub(crate) fn ctx1() -> Context<'static> {
    Context {
        own_pid: [1; 32],
        peer_pid: [2; 32],
        channel_binding: BINDING,
    }
}

/// Party 1's context (protocol role P2).
pub(crate) fn ctx2() -> Context<'static> {
    Context {
        own_pid: [2; 32],
        peer_pid: [1; 32],
        channel_binding: BINDING,
    }
}

/// A generator seeded with `seed`: runs that repeat are the same run.
pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}
