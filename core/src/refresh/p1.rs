//! Refresh, P1's side: a new Paillier key, proven valid, and c_key' = Enc'(x1 mod q) proven
//! to encrypt the discrete log of the share's Q1, as keygen proves c_key.

use k256::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{Msg1, Msg2, Msg3, Msg4, RUN, label};
use crate::{
    Error, Party, Result, bigint, commitment, curve,
    paillier::SecretKey,
    pedersen,
    session::{self, Context, Opened, RunIds},
    share::{Common, KeyShare, KeyShareP1, X1},
    slot, tags,
    transcript::Transcript,
    work::{Executor, Sequential},
    zk::ckey,
};

/// P1 after sending [`Msg1`], waiting for [`Msg2`].
#[must_use]
pub struct AwaitMsg2<'s> {
    share: &'s KeyShareP1,
    nonce1: [u8; session::ID_LEN],
    fingerprint: [u8; 32],
    new_key: SecretKey,
    // x1 mod q: the plaintext of c_key', the discrete log of the share's Q1.
    x1: Zeroizing<Scalar>,
    rho1: Zeroizing<Scalar>,
    open_rho1: Zeroizing<[u8; 32]>,
    ckey: ckey::Prover,
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

/// Where refresh's proofs about c_key' are bound: its run ids with the labels `refresh/eq`
/// and `refresh/range` (keygen's proofs, bound to `keygen/…` and to keygen's session, do not
/// open here).
pub(crate) fn bindings(ids: &RunIds) -> ckey::Bindings<'_> {
    ckey::Bindings::new(ids, label::EQ, label::RANGE)
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
    start_with(rng, share, ctx, new_key, None, &Sequential)
}

/// As [`start`], with the Pedersen fixed-base table (1.1 MiB, built once per process) if the
/// caller has one, and the step's independent computations (c_key', the Pedersen commitment
/// and both proofs' first messages, as keygen's [`crate::keygen::p1::start_with`]) run by
/// `exec`, e.g. on every core. The same randomness is drawn in the same order, so the message
/// is the one [`start`] makes from the same RNG.
///
/// # Errors
/// As [`start`].
pub fn start_with<'s, R: CryptoRng + ?Sized, X: Executor + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP1,
    ctx: &Context<'_>,
    new_key: SecretKey,
    table: Option<&pedersen::Table<'_>>,
    exec: &X,
) -> Result<(AwaitMsg2<'s>, Msg1)> {
    let opened = open(rng, share, ctx)?;
    let mut state = AwaitMsg2::blank(rng, share, opened, new_key);
    let msg = state.commit(rng, table, exec);
    Ok((state, msg))
}

/// As [`start_with`], with the state placed into `slot` (replacing what it held) and the
/// commitment computed there, as keygen's [`crate::keygen::p1::start_into`]. After an error
/// `slot` holds what it held before.
///
/// # Errors
/// As [`start`].
pub fn start_into<'s, R: CryptoRng + ?Sized, X: Executor + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP1,
    ctx: &Context<'_>,
    new_key: SecretKey,
    table: Option<&pedersen::Table<'_>>,
    exec: &X,
    slot: &mut Option<AwaitMsg2<'s>>,
) -> Result<Msg1> {
    let opened = open(rng, share, ctx)?;
    let state = AwaitMsg2::place(slot, rng, share, opened, new_key);
    Ok(state.commit(rng, table, exec))
}

/// Admits `share` for the session of `ctx` and opens the run about its fingerprint.
fn open<R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &KeyShareP1,
    ctx: &Context<'_>,
) -> Result<Opened> {
    let fingerprint = share.admit(ctx)?;
    super::check_epoch(share.common.epoch)?;
    session::open(rng, ctx, RUN, fingerprint)
}

impl<'s> AwaitMsg2<'s> {
    /// The state after [`open`] (whose `extra` is the share's fingerprint): ρ1 and its opening drawn, the proofs' prover still empty,
    /// as keygen's; [`Self::commit`] fills in the rest where the state lies.
    #[inline(always)]
    fn blank<R: CryptoRng + ?Sized>(
        rng: &mut R,
        share: &'s KeyShareP1,
        opened: Opened,
        new_key: SecretKey,
    ) -> Self {
        let rho1 = curve::random_scalar(rng);
        let open_rho1 = commitment::randomness(rng);
        Self {
            share,
            nonce1: opened.nonce1,
            fingerprint: opened.extra,
            new_key,
            // The share's x1 may be ≥ q (shares refreshed by older releases grew it over
            // the integers); c_key' encrypts its residue, the discrete log of Q1, which
            // keeps x1' < 2q.
            x1: Zeroizing::new(bigint::reduce_mod_q(&share.x1)),
            rho1: Zeroizing::new(rho1),
            open_rho1: Zeroizing::new(open_rho1),
            ckey: ckey::Prover::EMPTY,
            ids: opened.ids,
        }
    }

    /// [`Self::blank`] into `slot`, in a frame of its own, as keygen's.
    #[inline(never)]
    fn place<'a, R: CryptoRng + ?Sized>(
        slot: &'a mut Option<Self>,
        rng: &mut R,
        share: &'s KeyShareP1,
        opened: Opened,
        new_key: SecretKey,
    ) -> &'a mut Self {
        slot.insert(Self::blank(rng, share, opened, new_key))
    }

    /// Draws the proofs' randomness (after ρ1's), computes c_key', the Pedersen commitment
    /// and both proofs' commitments in place, with `exec` running the independent items,
    /// and returns the first message.
    fn commit<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        &mut self,
        rng: &mut R,
        table: Option<&pedersen::Table<'_>>,
        exec: &X,
    ) -> Msg1 {
        let commitment = self.ckey.commit_in(
            rng,
            &self.new_key,
            &self.x1,
            &bindings(&self.ids),
            table,
            exec,
        );
        Msg1 {
            nonce1: self.nonce1,
            fingerprint: self.fingerprint,
            com_rho1: commitment::seal(rho1_transcript(&self.rho1, &self.ids), &self.open_rho1),
            paillier: self.new_key.public_key().clone(),
            commitment,
        }
    }
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
        rng: &mut R,
        msg: &Msg2,
        exec: &X,
    ) -> Result<(AwaitMsg4, Msg3)> {
        let mut reply = Msg3::EMPTY;
        let pending = self.on_msg2_into(rng, msg, exec, &mut reply)?;
        Ok((pending, reply))
    }

    /// As [`Self::on_msg2_with`], writing the reply into `reply` in place (20 KB), as
    /// keygen's [`crate::keygen::p1::AwaitMsg2::on_msg2_into`]; after an error `reply` holds
    /// what it held before.
    ///
    /// # Errors
    /// As [`Self::on_msg2`].
    pub fn on_msg2_into<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg2,
        exec: &X,
        reply: &mut Msg3,
    ) -> Result<AwaitMsg4> {
        let (common, rho) = self.answer(rng, msg, exec, reply)?;
        Ok(self.pending(common, &rho))
    }

    /// As [`Self::on_msg2_into`], for a state kept in the caller's slot (where
    /// [`start_into`] put it), with the pending state written into the caller's `pending`
    /// (replacing what it held) once every check has passed, as keygen's
    /// [`crate::keygen::p1::AwaitMsg2::on_msg2_from`]: the slot is empty afterwards, its
    /// state wiped, whatever the outcome; after an error `pending` holds what it held before.
    ///
    /// # Errors
    /// As [`Self::on_msg2`]; [`Error::InvalidShare`] for an empty slot (no refresh started,
    /// or its state already used) or a state whose commitment never completed.
    pub fn on_msg2_from<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        slot: &mut Option<Self>,
        rng: &mut R,
        msg: &Msg2,
        exec: &X,
        reply: &mut Msg3,
        pending: &mut Option<AwaitMsg4>,
    ) -> Result<()> {
        slot::consume(
            slot,
            pending,
            |state| state.answer(rng, msg, exec, reply),
            |state, (common, rho)| state.pending(common, &rho),
        )
    }

    /// The answer to message 2 from the state where it lies: every check, then the reply
    /// written; returns the new share's common part and ρ. Out of line as keygen's.
    #[inline(never)]
    fn answer<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        &self,
        _rng: &mut R,
        msg: &Msg2,
        exec: &X,
        reply: &mut Msg3,
    ) -> Result<(Common, Scalar)> {
        // A state whose commitment never completed answers nothing, as keygen's.
        if !self.ckey.is_committed() {
            return Err(Error::InvalidShare);
        }
        let rho = *self.rho1 + msg.rho2;
        // Every check first (the shifted shares must still add up to the key), so that an
        // error leaves `reply` untouched.
        let common = super::shift_common(
            &self.share.common,
            self.new_key.public_key(),
            self.ckey.ciphertext(),
            &rho,
        )?;
        let ids = self.ids.with_nonce2(&msg.nonce2);
        reply.rho1 = *self.rho1;
        reply.open_rho1 = *self.open_rho1;
        self.ckey.respond_into(
            &self.new_key,
            &msg.challenges,
            &ids.proof_by(Party::P1, label::KEY),
            exec,
            &mut reply.responses,
        );
        Ok((common, rho))
    }

    /// The new share, pending P2's confirmation, from what [`Self::answer`] returned.
    fn pending(&self, common: Common, rho: &Scalar) -> AwaitMsg4 {
        let rho_int: X1 = bigint::scalar_to_uint(rho);
        let x1_int: Zeroizing<X1> = Zeroizing::new(bigint::scalar_to_uint(&self.x1));
        AwaitMsg4 {
            pending: KeyShareP1 {
                // (x1 mod q) + ρ over the integers (< 2q, the plaintext of c_key' ⊕ ρ): both
                // below q < 2^256, no wrap in 384 bits.
                x1: x1_int.wrapping_add(&rho_int),
                // A copy: the state's own is wiped when the state drops (a move would leave
                // the primes where the state was, unwiped).
                paillier: self.new_key.clone(),
                common,
                params_hash: self.share.params_hash,
                locked: false,
            },
        }
    }
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

    /// P1's refresh messages are the same, byte for byte, whether its work items (c_key', the
    /// Pedersen commitment and the proofs' first messages of step 1, the key proof's roots)
    /// run in order, backwards, or not at all (then the round computes each itself).
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
                1 => start_with(&mut r1, &s1, &ctx1, key, None, &Reversed),
                _ => start_with(&mut r1, &s1, &ctx1, key, None, &Idle),
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

    /// `on_msg2_into` writes every field of the caller's buffer: one still holding another
    /// run's reply ends up holding a reply P2 accepts, confirming the very share P1 holds
    /// pending, and equal to the by-value form's.
    #[test]
    fn the_reply_is_written_whole_in_place() {
        use crate::refresh::p2;
        let (s1, s2) = fixtures::keygen(40);
        let (ctx1, ctx2) = fixtures::contexts();
        let run = |seed: u64| {
            let mut r1 = fixtures::rng(seed);
            let (p1, m1) = start(&mut r1, &s1, &ctx1, fixtures::paillier_key(1)).unwrap();
            let (p2, m2) = p2::start(&mut fixtures::rng(seed + 1), &s2, &ctx2, &m1).unwrap();
            (p1, p2, m2, r1)
        };
        let (p1, _, m2, mut r1) = run(43);
        let (_, earlier) = p1.on_msg2(&mut r1, &m2).unwrap();

        let (p1, p2, m2, mut r1) = run(45);
        let mut reply = earlier.clone();
        let pending = p1
            .on_msg2_into(&mut r1, &m2, &Sequential, &mut reply)
            .unwrap();
        let (_, m4) = p2.on_msg3(&mut fixtures::rng(47), &reply).unwrap();
        assert!(pending.on_msg4(&m4).is_ok());
        let (p1, _, m2, mut r1) = run(45);
        let (_, expected) = p1.on_msg2(&mut r1, &m2).unwrap();
        assert!(reply == expected && reply != earlier);
    }

    /// A state kept in the caller's slot (`start_into`, `on_msg2_from`) sends the bytes the
    /// by-value forms send from the same RNG, whatever the slot held before; a refused start
    /// leaves the slot as it was; the slot is empty after the answer; an empty slot is
    /// refused.
    #[test]
    fn a_state_in_the_callers_slot_sends_the_same_bytes() {
        use crate::refresh::p2;
        let (s1, s2) = fixtures::keygen(40);
        let (ctx1, ctx2) = fixtures::contexts();
        let encode = |m: &Msg1| {
            let mut out = [0; Msg1::LEN];
            assert_eq!(m.encode(&mut out), Ok(Msg1::LEN));
            out
        };
        let mut r1 = fixtures::rng(48);
        let (p1, m1) = start(&mut r1, &s1, &ctx1, fixtures::paillier_key(1)).unwrap();
        let (p2, m2) = p2::start(&mut fixtures::rng(49), &s2, &ctx2, &m1).unwrap();
        let (pending, m3) = p1.on_msg2(&mut r1, &m2).unwrap();

        let mut slot = None;
        let start_in = |rng: &mut _, share, slot: &mut _| {
            start_into(
                rng,
                share,
                &ctx1,
                fixtures::paillier_key(1),
                None,
                &Sequential,
                slot,
            )
        };
        let other_m1 = start_in(&mut fixtures::rng(50), &s1, &mut slot).unwrap();
        let mut r1 = fixtures::rng(48);
        let in_slot = start_in(&mut r1, &s1, &mut slot).unwrap();
        assert!(encode(&in_slot) == encode(&m1) && encode(&in_slot) != encode(&other_m1));

        // A locked share: refused, the slot still holds this run's state.
        let mut locked = fixtures::keygen(40).0;
        locked.locked = true;
        let refused = start_in(&mut fixtures::rng(51), &locked, &mut slot);
        assert_eq!(refused.err(), Some(Error::KeyLocked));
        assert_eq!(slot.as_ref().map(|s| s.nonce1), Some(m1.nonce1));

        let mut reply = Msg3::EMPTY;
        // The pending state's place holds another run's first.
        let (other, _) = start(
            &mut fixtures::rng(53),
            &s1,
            &ctx1,
            fixtures::paillier_key(1),
        )
        .unwrap()
        .0
        .on_msg2(&mut fixtures::rng(54), &m2)
        .unwrap();
        let fingerprint = |p: &AwaitMsg4| p.pending().fingerprint();
        assert!(fingerprint(&other) != fingerprint(&pending));
        let mut made = Some(other);
        let answer = |slot: &mut _, r1: &mut _, reply: &mut _, made: &mut _| {
            AwaitMsg2::on_msg2_from(slot, r1, &m2, &Sequential, reply, made)
        };
        assert_eq!(answer(&mut slot, &mut r1, &mut reply, &mut made), Ok(()));
        assert!(reply == m3 && made.as_ref().map(fingerprint) == Some(fingerprint(&pending)));
        assert!(slot.is_none());
        // An empty slot: refused, the reply and the pending state as they were.
        let mut untouched = Msg3::EMPTY;
        assert_eq!(
            answer(&mut slot, &mut r1, &mut untouched, &mut made),
            Err(Error::InvalidShare)
        );
        assert!(untouched == Msg3::EMPTY);
        assert!(made.as_ref().map(fingerprint) == Some(fingerprint(&pending)));

        // A state placed but never committed (its step unwound): refused, never answered.
        let opened = open(&mut fixtures::rng(55), &s1, &ctx1).unwrap();
        AwaitMsg2::place(
            &mut slot,
            &mut fixtures::rng(56),
            &s1,
            opened,
            fixtures::paillier_key(1),
        );
        assert_eq!(
            answer(&mut slot, &mut r1, &mut untouched, &mut made),
            Err(Error::InvalidShare)
        );
        assert!(slot.is_none() && untouched == Msg3::EMPTY);

        let (_, m4) = p2.on_msg3(&mut fixtures::rng(52), &reply).unwrap();
        assert!(made.is_some_and(|p| p.on_msg4(&m4).is_ok()));
    }
}
