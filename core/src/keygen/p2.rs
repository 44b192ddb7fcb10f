//! Keygen, P2's side: answers P1's commitment, then checks every proof about N and c_key.

use k256::{AffinePoint, Scalar};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{
    Msg1, Msg2, Msg3, RUN, label,
    p1::{bindings, q1_transcript},
};
use crate::{
    Error, Party, Result,
    bip32::ChainCode,
    commitment, curve,
    ring_pedersen::RingPedersenParams,
    session::{self, Context, RunIds, SessionIds},
    share::{Common, KeyShareP2, PublicShares},
    wire::redacted_debug,
    work::{Executor, Sequential},
    zk::{
        ckey::{self, Challenges},
        dlog::DlogProof,
    },
};

/// P2 after sending [`Msg2`], waiting for [`Msg3`].
#[must_use]
// Fuzzing only (`--cfg fuzzing`, set by cargo-fuzz): the fuzz targets build this once and
// clone it per input. Normal builds keep it non-Clone so a consumed state cannot be reused.
#[cfg_attr(fuzzing, derive(Clone))]
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct AwaitMsg3 {
    x2: Scalar,
    // Everything else here is public (sent, received or derived from both).
    #[zeroize(skip)]
    q2: AffinePoint,
    #[zeroize(skip)]
    first: Msg1,
    #[zeroize(skip)]
    ids: SessionIds,
    #[zeroize(skip)]
    challenges: Challenges,
    #[zeroize(skip)]
    cc2: ChainCode,
    #[zeroize(skip)]
    params: RingPedersenParams,
}
redacted_debug!(AwaitMsg3);

/// Answers P1's first message (already decoded, so N and c_key passed their checks), with
/// P1's ring-Pedersen parameters as P2 verified them ([`crate::ParamsMsg::verify`]) or found
/// them pinned for this peer. The new share stores them.
///
/// # Errors
/// [`Error::ParamsMismatch`] if `params` are not the parameters whose hash P1 announced;
/// [`Error::SessionMismatch`] if the context names us as our own peer.
pub fn start<R: CryptoRng + ?Sized>(
    rng: &mut R,
    ctx: &Context<'_>,
    msg: &Msg1,
    params: &RingPedersenParams,
) -> Result<(AwaitMsg3, Msg2)> {
    let params_hash = params.hash();
    if params_hash != msg.params_hash {
        return Err(Error::ParamsMismatch);
    }
    let run = RunIds::new(ctx, Party::P2, RUN, &msg.nonce1, &params_hash)?;
    let nonce2 = session::nonce(rng);
    let ids = run.with_nonce2(&nonce2);
    let x2 = curve::random_scalar(rng);
    let q2 = curve::mul_g(&x2);
    let proof_q2 = DlogProof::prove(rng, &x2, &q2, &ids.proof_by(Party::P2, label::Q2));
    let challenges = Challenges::draw(rng);
    let mut cc2 = [0u8; 32];
    rng.fill_bytes(&mut cc2);
    let reply = Msg2 {
        nonce2,
        q2,
        proof_q2,
        challenges,
        cc2,
    };
    let state = AwaitMsg3 {
        x2,
        q2,
        first: msg.clone(),
        ids,
        challenges,
        cc2,
        params: *params,
    };
    Ok((state, reply))
}

impl AwaitMsg3 {
    /// Opens Q1 and cc1 and verifies, in order: P1's proof of x1, the Paillier key proof, the
    /// equality proof (c_key, the Pedersen commitment and Q1 hold the same x1) and the range
    /// proof. Only then is a share produced.
    ///
    /// # Errors
    /// [`crate::Error::CommitmentMismatch`], [`crate::Error::InvalidPoint`],
    /// [`crate::Error::ProofInvalid`] naming the proof that failed, or
    /// [`crate::Error::PaillierModulus`] if the key proof shows N to be prime.
    pub fn on_msg3<R: CryptoRng + ?Sized>(self, rng: &mut R, msg: &Msg3) -> Result<KeyShareP2> {
        self.on_msg3_with(rng, msg, &Sequential)
    }

    /// As [`Self::on_msg3`], with the proof checks (the key proof, each Paillier equation of
    /// the equality proof, its group relations and the range proof: independent of each
    /// other) run by `exec`, e.g. on every core. The outcome, the error included, and what
    /// `rng` gives afterwards are those of [`Self::on_msg3`].
    ///
    /// # Errors
    /// As [`Self::on_msg3`].
    pub fn on_msg3_with<R: CryptoRng + ?Sized, X: Executor + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg3,
        exec: &X,
    ) -> Result<KeyShareP2> {
        commitment::open(
            &self.first.com_q1,
            q1_transcript(&msg.q1, &msg.cc1, &self.ids.run),
            &msg.open_q1,
        )?;
        let at = |label| self.ids.proof_by(Party::P1, label);
        msg.proof_q1.verify(&msg.q1, &at(label::Q1))?;
        let public = PublicShares::combine(msg.q1, self.q2)?;

        let key = &self.first.paillier;
        let made = &self.first.commitment;
        let statement = ckey::Statement::new(key, made, &msg.q1);
        ckey::verify_with(
            rng,
            exec,
            &statement,
            &self.challenges,
            &msg.responses,
            &at(label::KEY),
            &bindings(&self.ids.run),
        )?;

        Ok(KeyShareP2 {
            x2: self.x2,
            paillier: key.clone(),
            params: self.params,
            common: Common::new(
                public,
                made.c_key,
                *self.ids.run.pid(Party::P2),
                *self.ids.run.pid(Party::P1),
                super::chain_code(&self.ids, &msg.cc1, &self.cc2),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// An honest run up to P2's last step, from `seed`.
    fn up_to_msg3(seed: u64) -> (AwaitMsg3, Msg3) {
        let (ctx1, ctx2) = fixtures::contexts();
        let params = *fixtures::ring_pedersen(0).params();
        let mut r1 = fixtures::rng(seed);
        let (p1, m1) =
            super::super::p1::start(&mut r1, &ctx1, fixtures::paillier_key(0), &params).unwrap();
        let (p2, m2) = start(&mut fixtures::rng(seed + 1), &ctx2, &m1, &params).unwrap();
        let (_, m3) = p1.on_msg2(&mut r1, &m2).unwrap();
        (p2, m3)
    }

    /// The checks run out of order give the sequential outcome: the same share, and for a
    /// message with two bad proofs the error of the first in the sequential order (the key
    /// proof, then the range proof), whichever finished first.
    #[test]
    fn checks_run_out_of_order_give_the_sequential_outcome() {
        use crate::{KeyShare, Proof, work::Reversed};
        let (p2, m3) = up_to_msg3(60);
        let sequential = p2.on_msg3(&mut fixtures::rng(61), &m3).unwrap();
        let (p2, m3) = up_to_msg3(60);
        let reversed = p2
            .on_msg3_with(&mut fixtures::rng(61), &m3, &Reversed)
            .unwrap();
        assert_eq!(sequential.fingerprint(), reversed.fingerprint());
        assert_eq!(sequential.x2, reversed.x2);

        let (_, other) = up_to_msg3(62);
        let (p2, mut m3) = up_to_msg3(60);
        m3.responses.key_proof = other.responses.key_proof.clone();
        m3.responses.range = other.responses.range.clone();
        assert_eq!(
            p2.on_msg3_with(&mut fixtures::rng(61), &m3, &Reversed)
                .err(),
            Some(Error::ProofInvalid(Proof::PaillierKey))
        );
    }

    #[test]
    fn zeroizing_the_state_wipes_x2() {
        let (ctx1, ctx2) = fixtures::contexts();
        let mut rng = fixtures::rng(51);
        let params = *fixtures::ring_pedersen(0).params();
        let (_, m1) =
            super::super::p1::start(&mut rng, &ctx1, fixtures::paillier_key(0), &params).unwrap();
        let (mut state, _) = start(&mut rng, &ctx2, &m1, &params).unwrap();
        assert_ne!(state.x2, Scalar::ZERO);
        state.zeroize();
        assert_eq!(state.x2, Scalar::ZERO);
    }
}
