//! Refresh, P1's side: a new Paillier key, proven valid and holding the same x1.

use k256::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{Msg1, Msg2, Msg3, Msg4, RUN, label};
use crate::{
    Error, Party, Result, bigint, commitment, curve,
    paillier::{Ciphertext, ModN, SecretKey},
    session::{self, Context, RunIds},
    share::{KeyShare, KeyShareP1, X1},
    tags,
    transcript::Transcript,
    work::{self, Executor, Sequential, Task, Work},
    zk::{eq_paillier_paillier, paillier_key::PaillierKeyProof},
};

/// P1 after sending [`Msg1`], waiting for [`Msg2`].
#[must_use]
pub struct AwaitMsg2<'s> {
    share: &'s KeyShareP1,
    new_key: SecretKey,
    c_key: Ciphertext,
    r_key: Zeroizing<ModN>,
    rho1: Zeroizing<Scalar>,
    open_rho1: [u8; 32],
    eq: eq_paillier_paillier::Prover,
    ids: RunIds,
}

/// P1 after sending [`Msg3`], holding the new share until P2 confirms it.
#[must_use]
pub struct AwaitMsg4 {
    pending: KeyShareP1,
}

/// The transcript P1 commits to ρ1 under.
pub(crate) fn rho1_transcript(rho1: &Scalar, ids: &RunIds) -> Transcript {
    let mut t = ids.committed(label::RHO1).transcript(tags::REFRESH_RHO1);
    t.scalar("rho1", rho1);
    t
}

/// Starts a refresh of `share` with a fresh Paillier key made beforehand.
///
/// # Errors
/// [`Error::KeyLocked`] for a locked share; [`Error::SessionMismatch`] if the context's peer
/// is not the share's; [`Error::EpochExhausted`] at [`MAX_EPOCH`](crate::MAX_EPOCH).
pub fn start<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP1,
    ctx: &Context<'_>,
    new_key: SecretKey,
) -> Result<(AwaitMsg2<'s>, Msg1)> {
    start_with(rng, share, ctx, new_key, &Sequential)
}

/// As [`start`], with the step's 9 encryptions (c_key under the new key, and the equality
/// proof's 8, all independent of each other) run by `exec`, e.g. on every core. The same
/// randomness is drawn in the same order, so the message is the one [`start`] makes from the
/// same RNG.
///
/// # Errors
/// As [`start`].
pub fn start_with<'s, R: CryptoRng + ?Sized, X: Executor + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP1,
    ctx: &Context<'_>,
    new_key: SecretKey,
    exec: &X,
) -> Result<(AwaitMsg2<'s>, Msg1)> {
    let fingerprint = share.admit(ctx)?;
    super::check_epoch(share.common.epoch)?;
    let nonce1 = session::nonce(rng);
    let ids = RunIds::new(ctx, Party::P1, RUN, &nonce1, &fingerprint)?;
    let rho1 = curve::random_scalar(rng);
    let open_rho1 = commitment::randomness(rng);
    let com_rho1 = commitment::seal(rho1_transcript(&rho1, &ids), &open_rho1);
    let new_pk = new_key.public_key().clone();
    let r_key = Zeroizing::new(new_pk.random_nonce(rng));
    let mut eq = eq_paillier_paillier::Prover::draw(rng, &share.paillier, &new_key);

    // Every encryption below reads only what was drawn above: one list of work items.
    let c_key_of = || new_key.encrypt_with(&share.x1, &r_key);
    let (this, key0, key1) = (&eq, &share.paillier, &new_key);
    let encryption_of: [_; eq_paillier_paillier::ENCRYPTIONS] =
        core::array::from_fn(|i| move || this.encryption(key0, key1, i));
    let mut c_key = Task::new(&c_key_of);
    let mut encryptions = encryption_of.each_ref().map(|f| Task::new(f));
    {
        let mut items: [_; 1 + eq_paillier_paillier::ENCRYPTIONS] = work::join(
            [&mut c_key as &mut dyn Work]
                .into_iter()
                .chain(encryptions.iter_mut().map(|t| t as &mut dyn Work)),
        );
        exec.run(&mut items);
    }
    let c_key = c_key.take();
    let c_tilde = encryptions.each_mut().map(Task::take);
    let com_eq = eq.seal(&c_tilde, &ids.committed(label::EQ));
    let msg = Msg1 {
        nonce1,
        fingerprint,
        com_rho1,
        paillier: new_pk,
        c_key,
        com_eq,
    };
    let state = AwaitMsg2 {
        share,
        new_key,
        c_key,
        r_key,
        rho1: Zeroizing::new(rho1),
        open_rho1,
        eq,
        ids,
    };
    Ok((state, msg))
}

impl AwaitMsg2<'_> {
    /// Answers P2's challenges, opens ρ1 and computes the new share (pending P2's confirmation).
    ///
    /// # Errors
    /// None in practice; the signature keeps room for checks on P2's message.
    pub fn on_msg2<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg2,
    ) -> Result<(AwaitMsg4, Msg3)> {
        self.on_msg2_with(rng, msg, &Sequential)
    }

    /// As [`Self::on_msg2`], with the key proof's N-th roots (independent of each other) run
    /// by `exec`, e.g. on every core: the same reply on any schedule.
    ///
    /// # Errors
    /// As [`Self::on_msg2`].
    pub fn on_msg2_with<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        self,
        _rng: &mut R,
        msg: &Msg2,
        exec: &X,
    ) -> Result<(AwaitMsg4, Msg3)> {
        let share = self.share;
        let ids = self.ids.with_nonce2(&msg.nonce2);
        let old = &share.paillier;
        let r0 = Zeroizing::new(old.randomness_of(&share.common.c_key));
        let st = eq_paillier_paillier::Statement {
            key0: old.public_key(),
            c0: &share.common.c_key,
            key1: self.new_key.public_key(),
            c1: &self.c_key,
        };
        let eq = self.eq.respond(&st, &share.x1, &r0, &self.r_key, msg.e_eq);
        let key_proof = PaillierKeyProof::prove_with(
            &self.new_key,
            &msg.key_challenge,
            &ids.proof_by(Party::P1, label::KEY),
            exec,
        );
        let rho = *self.rho1 + msg.rho2;
        let pending = next_share_p1(share, self.new_key.clone(), &self.c_key, &rho)?;
        Ok((
            AwaitMsg4 { pending },
            Msg3 {
                rho1: *self.rho1,
                open_rho1: self.open_rho1,
                eq,
                key_proof,
            },
        ))
    }
}

/// P1's share after adding ρ: x1 + ρ over the integers, and the shifted common part.
fn next_share_p1(
    share: &KeyShareP1,
    key: SecretKey,
    c_key: &Ciphertext,
    rho: &Scalar,
) -> Result<KeyShareP1> {
    let common = super::shift_common(&share.common, key.public_key(), c_key, rho)?;
    let rho_int: X1 = bigint::scalar_to_uint(rho);
    Ok(KeyShareP1 {
        x1: share.x1.wrapping_add(&rho_int),
        paillier: key,
        common,
        params_hash: share.params_hash,
        locked: false,
    })
}

impl AwaitMsg4 {
    /// The new share, to persist as pending before P2's confirmation arrives.
    #[must_use]
    pub fn pending(&self) -> &KeyShareP1 {
        &self.pending
    }

    /// Takes P2's confirmation; the new share is now the one both hold.
    ///
    /// # Errors
    /// [`Error::SessionMismatch`] if P2 holds a different new share.
    pub fn on_msg4(self, msg: &Msg4) -> Result<KeyShareP1> {
        if msg.fingerprint != self.pending.fingerprint() {
            return Err(Error::SessionMismatch);
        }
        Ok(self.pending)
    }
}

crate::wire::redacted_debug!(AwaitMsg4);

impl core::fmt::Debug for AwaitMsg2<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitMsg2").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        fixtures,
        wire::Message,
        work::{Idle, Reversed},
    };

    /// P1's refresh messages are the same, byte for byte, whether its work items (c_key's and
    /// the equality proof's encryptions of step 1, the key proof's roots) run in order,
    /// backwards, or not at all (then the round computes each itself).
    #[test]
    fn p1_sends_the_same_bytes_on_every_schedule() {
        let (s1, s2) = fixtures::keygen(40);
        let (ctx1, ctx2) = fixtures::contexts();
        // 0: `start` and `on_msg2`; 1: their `_with` forms running items backwards; 2: with
        // an executor that runs nothing.
        let run = |sched: u8| {
            let mut r1 = fixtures::rng(41);
            let key = fixtures::paillier_key(1);
            let (p1, m1) = match sched {
                0 => start(&mut r1, &s1, &ctx1, key),
                1 => start_with(&mut r1, &s1, &ctx1, key, &Reversed),
                _ => start_with(&mut r1, &s1, &ctx1, key, &Idle),
            }
            .unwrap();
            let (_, m2) =
                crate::refresh::p2::start(&mut fixtures::rng(42), &s2, &ctx2, &m1).unwrap();
            let (_, m3) = match sched {
                0 => p1.on_msg2(&mut r1, &m2),
                1 => p1.on_msg2_with(&mut r1, &m2, &Reversed),
                _ => p1.on_msg2_with(&mut r1, &m2, &Idle),
            }
            .unwrap();
            let mut out1 = [0; Msg1::LEN];
            assert_eq!(m1.encode(&mut out1), Ok(Msg1::LEN));
            (out1, m3)
        };
        let sequential = run(0);
        assert!(sequential == run(1) && sequential == run(2));
    }
}
