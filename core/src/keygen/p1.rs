//! Keygen, P1's side: owns the Paillier key, commits first, proves everything about c_key.

use k256::{AffinePoint, Scalar};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Msg1, Msg2, Msg3, RUN, label};
use crate::{
    Party, Result, bigint,
    bip32::ChainCode,
    commitment, curve,
    paillier::SecretKey,
    pedersen,
    ring_pedersen::RingPedersenParams,
    session::{self, Context, Opened, RunIds},
    share::{Common, KeyShareP1, PublicShares},
    slot, tags,
    transcript::Transcript,
    wire::redacted_debug,
    work::{Executor, Sequential},
    zk::{ckey, dlog::DlogProof},
};

/// P1 after sending [`Msg1`], waiting for [`Msg2`].
#[must_use]
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct AwaitMsg2 {
    #[zeroize(skip)]
    nonce1: [u8; session::ID_LEN],
    x1: Scalar,
    #[zeroize(skip)]
    q1: AffinePoint,
    // Public once opened, but kept secret until then: P2 must not see it before sending cc2.
    cc1: ChainCode,
    open_q1: [u8; 32],
    paillier: SecretKey,
    ckey: ckey::Prover,
    #[zeroize(skip)]
    ids: RunIds,
    #[zeroize(skip)]
    params_hash: [u8; 32],
}
redacted_debug!(AwaitMsg2);

/// The transcript P1 commits to Q1 and its chain-code contribution cc1 under.
pub(crate) fn q1_transcript(q1: &AffinePoint, cc1: &ChainCode, ids: &RunIds) -> Transcript {
    let mut t = ids.committed(label::Q1).transcript(tags::KEYGEN_Q1);
    t.point("Q1", q1).bytes("cc1", cc1);
    t
}

/// Where keygen's proofs about c_key are bound: its run ids with the labels `keygen/eq` and
/// `keygen/range`.
pub(crate) fn bindings(ids: &RunIds) -> ckey::Bindings<'_> {
    ckey::Bindings::new(ids, label::EQ, label::RANGE)
}

/// Starts keygen with a Paillier key made beforehand (see [`SecretKey::generate`]) and P1's
/// ring-Pedersen parameters (those of its [`crate::RingPedersenSecret`]), whose hash the new
/// shares pin and the session ids include.
///
/// # Errors
/// [`crate::Error::SessionMismatch`] if the context names us as our own peer.
pub fn start<R: CryptoRng + ?Sized>(
    rng: &mut R,
    ctx: &Context<'_>,
    paillier: SecretKey,
    params: &RingPedersenParams,
) -> Result<(AwaitMsg2, Msg1)> {
    start_with(rng, ctx, paillier, params, None, &Sequential)
}

/// As [`start`], with the Pedersen fixed-base table (1.1 MiB, built once per process) if the
/// caller has one, which makes P1's proofs faster, and the step's
/// independent computations run by `exec` (e.g. on every core): the range proof's 50
/// commitments in 5 pieces, the equality proof's 4 encryptions and its Pedersen commitment,
/// c_key's encryption and the commitment to x1. All randomness is drawn first, in the order
/// [`start`] has always drawn it, so the message is the one [`start`] makes from the same RNG
/// on any schedule.
///
/// # Errors
/// As [`start`].
pub fn start_with<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
    rng: &mut R,
    ctx: &Context<'_>,
    paillier: SecretKey,
    params: &RingPedersenParams,
    table: Option<&pedersen::Table<'_>>,
    exec: &X,
) -> Result<(AwaitMsg2, Msg1)> {
    let opened = session::open(rng, ctx, RUN, params.hash())?;
    let mut state = AwaitMsg2::blank(rng, opened, paillier);
    let msg = state.commit(rng, table, exec);
    Ok((state, msg))
}

/// As [`start_with`], with the state placed into `slot` (replacing what it held) and the
/// commitment computed there: a firmware keeps one slot for the state (31 KB) instead of a
/// copy in each frame it would be returned through. After an error `slot` holds what it held
/// before.
///
/// # Errors
/// As [`start`].
pub fn start_into<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
    rng: &mut R,
    ctx: &Context<'_>,
    paillier: SecretKey,
    params: &RingPedersenParams,
    table: Option<&pedersen::Table<'_>>,
    exec: &X,
    slot: &mut Option<AwaitMsg2>,
) -> Result<Msg1> {
    let opened = session::open(rng, ctx, RUN, params.hash())?;
    let state = AwaitMsg2::place(slot, rng, opened, paillier);
    Ok(state.commit(rng, table, exec))
}

impl AwaitMsg2 {
    /// The state after [`session::open`] (whose `extra` is the parameters' hash): x1, cc1 and Q1's opening drawn, Q1 computed, the proofs'
    /// prover still empty ([`ckey::Prover::EMPTY`]: a constant a caller's slot is written
    /// from directly, where a prover returned by value would pass through a copy).
    /// [`Self::commit`] fills in the rest where the state lies.
    #[inline(always)]
    fn blank<R: CryptoRng + ?Sized>(rng: &mut R, opened: Opened, paillier: SecretKey) -> Self {
        let x1 = curve::random_scalar(rng);
        let q1 = curve::mul_g(&x1);
        let mut cc1: ChainCode = [0; 32];
        rng.fill_bytes(&mut cc1);
        let open_q1 = commitment::randomness(rng);
        Self {
            nonce1: opened.nonce1,
            x1,
            q1,
            cc1,
            open_q1,
            paillier,
            ckey: ckey::Prover::EMPTY,
            ids: opened.ids,
            params_hash: opened.extra,
        }
    }

    /// [`Self::blank`] into `slot`, in a frame of its own: whatever copy of the state the
    /// compiler makes on the way is gone before [`Self::commit`]'s arithmetic runs.
    #[inline(never)]
    fn place<'a, R: CryptoRng + ?Sized>(
        slot: &'a mut Option<Self>,
        rng: &mut R,
        opened: Opened,
        paillier: SecretKey,
    ) -> &'a mut Self {
        let state = Self::blank(rng, opened, paillier);
        slot.insert(state)
    }

    /// Draws c_key's nonce, the Pedersen randomness and both proofs' (after Q1's), computes
    /// c_key, the Pedersen commitment and both proofs' commitments in place, with `exec`
    /// running the independent items, and returns the first message.
    fn commit<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        &mut self,
        rng: &mut R,
        table: Option<&pedersen::Table<'_>>,
        exec: &X,
    ) -> Msg1 {
        let commitment = self.ckey.commit_in(
            rng,
            &self.paillier,
            &self.x1,
            &bindings(&self.ids),
            table,
            exec,
        );
        Msg1 {
            nonce1: self.nonce1,
            com_q1: commitment::seal(q1_transcript(&self.q1, &self.cc1, &self.ids), &self.open_q1),
            paillier: self.paillier.public_key().clone(),
            commitment,
            params_hash: self.params_hash,
        }
    }

    /// Checks P2's proof of Q2, answers P2's challenges and outputs P1's share.
    ///
    /// # Errors
    /// [`crate::Error::ProofInvalid`] if P2's proof of x2 fails, [`crate::Error::InvalidPoint`]
    /// if Q1 + Q2 is the identity.
    pub fn on_msg2<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg2,
    ) -> Result<(KeyShareP1, Msg3)> {
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
    ) -> Result<(KeyShareP1, Msg3)> {
        let mut reply = Msg3::EMPTY;
        let share = self.on_msg2_into(rng, msg, exec, &mut reply)?;
        Ok((share, reply))
    }

    /// As [`Self::on_msg2_with`], writing the reply into `reply` in place (21 KB) and
    /// returning the share: a firmware keeps one buffer for message 3 rather than a copy in
    /// each frame the reply would be returned through. `reply` is written only once P2's
    /// message has passed every check; after an error it holds what it held before.
    ///
    /// # Errors
    /// As [`Self::on_msg2`].
    pub fn on_msg2_into<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg2,
        exec: &X,
        reply: &mut Msg3,
    ) -> Result<KeyShareP1> {
        let (public, chain_code) = self.answer(rng, msg, exec, reply)?;
        Ok(self.share(public, chain_code))
    }

    /// As [`Self::on_msg2_into`], for a state kept in the caller's slot (where
    /// [`start_into`] put it), with the share written into the caller's `share` (replacing
    /// what it held) once every check has passed: the state is answered where it lies instead
    /// of moved out first, and the share (10 KB) is not returned through a copy. The slot is
    /// empty afterwards, its state wiped, whatever the outcome, as a consumed state is; after
    /// an error `share` holds what it held before.
    ///
    /// # Errors
    /// As [`Self::on_msg2`]; [`crate::Error::InvalidShare`] for an empty slot (no keygen
    /// started, or its state already used) or a state whose commitment never completed (its
    /// `start_into` unwound).
    pub fn on_msg2_from<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        slot: &mut Option<Self>,
        rng: &mut R,
        msg: &Msg2,
        exec: &X,
        reply: &mut Msg3,
        share: &mut Option<KeyShareP1>,
    ) -> Result<()> {
        slot::consume(
            slot,
            share,
            |state| state.answer(rng, msg, exec, reply),
            |state, (public, chain_code)| state.share(public, chain_code),
        )
    }

    /// The answer to message 2 from the state where it lies: every check, then the reply
    /// written; returns the joint public shares and the chain code the share is made of.
    /// Out of line: inlined, its locals shared the caller's frame with the state's wiping.
    #[inline(never)]
    fn answer<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        &self,
        rng: &mut R,
        msg: &Msg2,
        exec: &X,
        reply: &mut Msg3,
    ) -> Result<(PublicShares, ChainCode)> {
        // A state whose commitment never completed (its step unwound inside the caller's
        // slot) answers nothing: its masks may be zero, and no message 1 carried them.
        if !self.ckey.is_committed() {
            return Err(crate::Error::InvalidShare);
        }
        let ids = self.ids.with_nonce2(&msg.nonce2);
        msg.proof_q2
            .verify(&msg.q2, &ids.proof_by(Party::P2, label::Q2))?;
        let public = PublicShares::combine(self.q1, msg.q2)?;

        let at = |label| ids.proof_by(Party::P1, label);
        reply.q1 = self.q1;
        reply.cc1 = self.cc1;
        reply.open_q1 = self.open_q1;
        reply.proof_q1 = DlogProof::prove(rng, &self.x1, &self.q1, &at(label::Q1));
        self.ckey.respond_into(
            &self.paillier,
            &msg.challenges,
            &at(label::KEY),
            exec,
            &mut reply.responses,
        );

        Ok((public, super::chain_code(&ids, &self.cc1, &msg.cc2)))
    }

    /// P1's share, from what [`Self::answer`] returned.
    fn share(&self, public: PublicShares, chain_code: ChainCode) -> KeyShareP1 {
        KeyShareP1 {
            x1: bigint::scalar_to_uint(&self.x1),
            paillier: self.paillier.clone(),
            common: Common::new(
                public,
                *self.ckey.ciphertext(),
                *self.ids.pid(Party::P1),
                *self.ids.pid(Party::P2),
                chain_code,
            ),
            params_hash: self.params_hash,
            locked: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// P1's messages are the same, byte for byte, whether its work items run in order,
    /// backwards, or not at all (then the round computes each itself): the schedule never
    /// changes what P1 sends. net-std's test adds its threads to these schedules.
    #[test]
    fn p1_sends_the_same_bytes_on_every_schedule() {
        use crate::{
            keygen::p2,
            wire::Message,
            work::{Idle, Reversed},
        };
        let (ctx1, ctx2) = fixtures::contexts();
        let params = *fixtures::ring_pedersen(0).params();
        let params = &params;
        // 0: `start` and `on_msg2`; 1: their `_with` forms running items backwards; 2: with
        // an executor that runs nothing.
        let run = |sched: u8| {
            let mut r1 = fixtures::rng(51);
            let key = fixtures::paillier_key(0);
            let (p1, m1) = match sched {
                0 => start(&mut r1, &ctx1, key, params),
                1 => start_with(&mut r1, &ctx1, key, params, None, &Reversed),
                _ => start_with(&mut r1, &ctx1, key, params, None, &Idle),
            }
            .unwrap();
            let (_, m2) = p2::start(&mut fixtures::rng(52), &ctx2, &m1, params).unwrap();
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
    /// run's reply ends up holding a reply P2 accepts (its shares matching P1's) and equal to
    /// the by-value form's. When P2's message fails its checks, nothing is written.
    #[test]
    fn the_reply_is_written_whole_in_place_and_untouched_on_error() {
        use crate::{Error, KeyShare, Proof, keygen::p2};
        let (ctx1, ctx2) = fixtures::contexts();
        let params = *fixtures::ring_pedersen(0).params();
        // One run from seeds (s, s + 1): P1's state, P2's state and message, P1's RNG.
        let run = |s: u64| {
            let mut r1 = fixtures::rng(s);
            let (p1, m1) = start(&mut r1, &ctx1, fixtures::paillier_key(0), &params).unwrap();
            let (p2, m2) = p2::start(&mut fixtures::rng(s + 1), &ctx2, &m1, &params).unwrap();
            (p1, p2, m2, r1)
        };
        let (p1, _, m2, mut r1) = run(60);
        let (_, earlier) = p1.on_msg2(&mut r1, &m2).unwrap();

        let (p1, p2, m2, mut r1) = run(62);
        let mut reply = earlier.clone();
        let share = p1
            .on_msg2_into(&mut r1, &m2, &Sequential, &mut reply)
            .unwrap();
        let p2_share = p2.on_msg3(&mut fixtures::rng(63), &reply).unwrap();
        assert_eq!(share.fingerprint(), p2_share.fingerprint());
        let (p1, _, m2, mut r1) = run(62);
        let (_, expected) = p1.on_msg2(&mut r1, &m2).unwrap();
        assert!(reply == expected && reply != earlier);

        // P2's proof of x2 made for another Q2: refused, the buffer as it was.
        let (p1, _, mut m2, mut r1) = run(62);
        m2.q2 = fixtures::keygen(64).1.common.public.q2;
        let mut reply = earlier.clone();
        let refused = p1.on_msg2_into(&mut r1, &m2, &Sequential, &mut reply);
        assert_eq!(refused.err(), Some(Error::ProofInvalid(Proof::DlogPoK)));
        assert!(reply == earlier);
    }

    /// A state kept in the caller's slot (`start_into`, `on_msg2_from`) sends the bytes the
    /// by-value forms send from the same RNG, whatever the slot held before; the slot is
    /// empty after the answer, refused or not; a refused start leaves the slot as it was; an
    /// empty slot is refused.
    #[test]
    fn a_state_in_the_callers_slot_sends_the_same_bytes() {
        use crate::{Error, KeyShare, Proof, keygen::p2, wire::Message};
        let (ctx1, ctx2) = fixtures::contexts();
        let params = *fixtures::ring_pedersen(0).params();
        let encode = |m: &Msg1| {
            let mut out = [0; Msg1::LEN];
            assert_eq!(m.encode(&mut out), Ok(Msg1::LEN));
            out
        };
        // The by-value forms from seeds 70 (P1) and 71 (P2).
        let mut r1 = fixtures::rng(70);
        let (p1, m1) = start(&mut r1, &ctx1, fixtures::paillier_key(0), &params).unwrap();
        let (_, m2) = p2::start(&mut fixtures::rng(71), &ctx2, &m1, &params).unwrap();
        let (share, m3) = p1.on_msg2(&mut r1, &m2).unwrap();

        // The slot holds another run's state first.
        let mut slot = None;
        let start_in = |rng: &mut _, ctx: &Context<'_>, slot: &mut _| {
            start_into(
                rng,
                ctx,
                fixtures::paillier_key(0),
                &params,
                None,
                &Sequential,
                slot,
            )
        };
        let other_m1 = start_in(&mut fixtures::rng(72), &ctx1, &mut slot).unwrap();
        let mut r1 = fixtures::rng(70);
        let in_slot = start_in(&mut r1, &ctx1, &mut slot).unwrap();
        assert!(encode(&in_slot) == encode(&m1) && encode(&in_slot) != encode(&other_m1));

        // A start refused (P1 as its own peer): the slot still holds this run's state.
        let own = Context {
            peer_pid: ctx1.own_pid,
            ..ctx1
        };
        let refused = start_in(&mut fixtures::rng(73), &own, &mut slot);
        assert_eq!(refused.err(), Some(Error::SessionMismatch));
        assert_eq!(slot.as_ref().map(|s| s.nonce1), Some(m1.nonce1));

        let mut reply = Msg3::EMPTY;
        // The share's place holds another key's share first.
        let mut made = Some(fixtures::keygen(64).0);
        let earlier = made.as_ref().map(KeyShare::fingerprint);
        let answer = |slot: &mut _, r1: &mut _, m2, reply: &mut _, made: &mut _| {
            AwaitMsg2::on_msg2_from(slot, r1, m2, &Sequential, reply, made)
        };
        assert_eq!(
            answer(&mut slot, &mut r1, &m2, &mut reply, &mut made),
            Ok(())
        );
        assert!(
            reply == m3 && made.as_ref().map(KeyShare::fingerprint) == Some(share.fingerprint())
        );
        assert!(slot.is_none());
        // An empty slot: refused, the reply and the share as they were.
        let mut again = Msg3::EMPTY;
        assert_eq!(
            answer(&mut slot, &mut r1, &m2, &mut again, &mut made),
            Err(Error::InvalidShare)
        );
        assert!(
            again == Msg3::EMPTY
                && made.as_ref().map(KeyShare::fingerprint) == Some(share.fingerprint())
        );

        // Refused by the answer's checks: the slot is emptied all the same.
        let mut r1 = fixtures::rng(70);
        start_in(&mut r1, &ctx1, &mut slot).unwrap();
        let mut bad = m2.clone();
        bad.q2 = fixtures::keygen(64).1.common.public.q2;
        let mut made = Some(fixtures::keygen(64).0);
        let mut untouched = Msg3::EMPTY;
        let refused = answer(&mut slot, &mut r1, &bad, &mut untouched, &mut made);
        assert_eq!(refused, Err(Error::ProofInvalid(Proof::DlogPoK)));
        assert!(slot.is_none() && made.as_ref().map(KeyShare::fingerprint) == earlier);
        assert!(untouched == Msg3::EMPTY);

        // A state placed but never committed (its step unwound): refused, never answered.
        let opened = session::open(&mut fixtures::rng(74), &ctx1, RUN, params.hash()).unwrap();
        AwaitMsg2::place(
            &mut slot,
            &mut fixtures::rng(75),
            opened,
            fixtures::paillier_key(0),
        );
        let refused = answer(&mut slot, &mut r1, &m2, &mut untouched, &mut made);
        assert_eq!(refused, Err(Error::InvalidShare));
        assert!(slot.is_none() && untouched == Msg3::EMPTY);
    }

    #[test]
    fn zeroizing_the_state_wipes_x1_and_the_proof_secrets() {
        let (ctx1, _) = fixtures::contexts();
        let mut rng = fixtures::rng(50);
        let (mut state, _) = start(
            &mut rng,
            &ctx1,
            fixtures::paillier_key(0),
            fixtures::ring_pedersen(0).params(),
        )
        .unwrap();
        state.zeroize();
        assert_eq!(state.x1, Scalar::ZERO);
        assert_eq!(state.open_q1, [0; 32]);
        assert_eq!(state.cc1, [0; 32]);
        assert_eq!(state.paillier.q_inv_p, crypto_bigint::U1024::ZERO);
        assert!(state.ckey.is_wiped());
    }
}
