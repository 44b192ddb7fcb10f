//! Refresh, P2's side: checks N' and that c_key' encrypts the discrete log of the share's Q1
//! (keygen's proofs about c_key), then shifts its share.

use k256::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{
    Msg1, Msg2, Msg3, Msg4, RUN, label,
    p1::{bindings, rho1_transcript},
};
use crate::{
    Party, Result, commitment, curve,
    session::{self, Context, RunIds, SessionIds},
    share::{KeyShare, KeyShareP2},
    work::{Executor, Sequential},
    zk::ckey::{self, Challenges},
};

/// P2 after sending [`Msg2`], waiting for [`Msg3`].
#[must_use]
pub struct AwaitMsg3<'s> {
    share: &'s KeyShareP2,
    first: Msg1,
    rho2: Zeroizing<Scalar>,
    challenges: Challenges,
    ids: SessionIds,
}

/// Answers P1's first refresh message (already decoded, so N' and c_key' passed their checks).
///
/// # Errors
/// [`crate::Error::SessionMismatch`] if P1 refreshes another share (fingerprint) or the
/// context's peer is not the share's; [`crate::Error::EpochExhausted`] at
/// [`MAX_EPOCH`](crate::MAX_EPOCH).
pub fn start<'s, R: CryptoRng + ?Sized>(
    rng: &mut R,
    share: &'s KeyShareP2,
    ctx: &Context<'_>,
    msg: &Msg1,
) -> Result<(AwaitMsg3<'s>, Msg2)> {
    let fingerprint = share.admit(ctx, &msg.fingerprint)?;
    super::check_epoch(share.common.epoch)?;
    let run = RunIds::new(ctx, Party::P2, RUN, &msg.nonce1, &fingerprint)?;
    let nonce2 = session::nonce(rng);
    let ids = run.with_nonce2(&nonce2);
    let rho2 = curve::random_scalar(rng);
    let challenges = Challenges::draw(rng);
    let reply = Msg2 {
        nonce2,
        rho2,
        challenges,
    };
    let state = AwaitMsg3 {
        share,
        first: msg.clone(),
        rho2: Zeroizing::new(rho2),
        challenges,
        ids,
    };
    Ok((state, reply))
}

impl AwaitMsg3<'_> {
    /// Verifies the key proof for N', then keygen's proofs about c_key for c_key' under N'
    /// with the share's Q1 as the statement (the equality proof: c_key', the Pedersen
    /// commitment and Q1 hold the same x; the range proof), opens ρ1, and returns the new
    /// share with the confirmation for P1.
    ///
    /// The new share is *pending*: store it (beside the old one, which stays in use) before
    /// [`Msg4`] leaves, and make it the active one only when P1's [`crate::refresh::Msg5`]
    /// says P1 made its own active. Never erase the old share before that: if the run is cut
    /// off in between, keep both until the next session settles which epoch both parties
    /// hold (net-std's `epoch` module does this; docs/PROTOCOL.md, refresh).
    ///
    /// # Errors
    /// [`crate::Error::ProofInvalid`] naming the proof,
    /// [`crate::Error::PaillierModulus`] if the key proof shows N' to be prime, or
    /// [`crate::Error::CommitmentMismatch`] for an equivocated ρ1 or proof commitment.
    pub fn on_msg3<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        msg: &Msg3,
    ) -> Result<(KeyShareP2, Msg4)> {
        self.on_msg3_with(rng, msg, &Sequential)
    }

    /// As [`Self::on_msg3`], with the proof checks (each root of the key proof, the equality
    /// proof's group relations and each of its chunks, the range proof: independent of each
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
    ) -> Result<(KeyShareP2, Msg4)> {
        let share = self.share;
        let new_key = &self.first.paillier;
        let made = &self.first.commitment;
        let statement = ckey::Statement::new(new_key, made, &share.common.public.q1);
        // The key proof first (its roots, then whether N' is prime), then the proofs about
        // c_key', all one list for `exec`: the first failure in this order is returned.
        ckey::verify_with(
            rng,
            exec,
            &statement,
            &self.challenges,
            &msg.responses,
            &self.ids.proof_by(Party::P1, label::KEY),
            &bindings(&self.ids.run),
        )?;
        commitment::open(
            &self.first.com_rho1,
            rho1_transcript(&msg.rho1, &self.ids.run),
            &msg.open_rho1,
        )?;

        let rho = msg.rho1 + *self.rho2;
        let common = super::shift_common(&share.common, new_key, &made.c_key, &rho)?;
        let next = KeyShareP2 {
            x2: share.x2 - rho,
            paillier: new_key.clone(),
            params: share.params,
            common,
        };
        let confirm = Msg4 {
            fingerprint: next.fingerprint(),
        };
        Ok((next, confirm))
    }
}

impl core::fmt::Debug for AwaitMsg3<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwaitMsg3").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Error, Proof, fixtures,
        paillier::PublicKey,
        zk::{
            KEY_ROOTS,
            paillier_key::{self, PaillierKeyProof},
        },
    };

    /// A prime N' passes refresh message 1's decode checks (size, parity, small factors); its
    /// key proof's only roots are the challenges themselves (σ^N' = σ), which P2 refuses as a
    /// prime modulus, first of its checks and without a new share. Wrong roots for it are a
    /// wrong proof, as for any N'.
    #[test]
    fn a_prime_new_modulus_is_refused_by_the_key_proof() {
        let (s1, s2) = fixtures::keygen(70);
        let (ctx1, ctx2) = fixtures::contexts();
        let mut r1 = fixtures::rng(71);
        let (p1, m1) =
            crate::refresh::p1::start(&mut r1, &s1, &ctx1, fixtures::paillier_key(1)).unwrap();
        let prime =
            crypto_primes::random_prime(&mut fixtures::rng(72), crypto_primes::Flavor::Any, 2048);
        let prime_key = PublicKey::from_modulus(prime).unwrap();
        let mut m1 = m1;
        m1.paillier = prime_key.clone();
        m1.commitment.c_key = prime_key
            .encrypt(&mut fixtures::rng(75), &crypto_bigint::U256::ONE)
            .0;
        let (p2, m2) = start(&mut fixtures::rng(73), &s2, &ctx2, &m1).unwrap();
        let rhos = paillier_key::challenges(
            &prime_key,
            &p2.challenges.key,
            &p2.ids.proof_by(Party::P1, label::KEY),
        );
        let (_, mut m3) = p1.on_msg2(&mut r1, &m2).unwrap();
        m3.responses.key_proof = PaillierKeyProof::from_roots(rhos);
        assert_eq!(
            p2.on_msg3(&mut fixtures::rng(74), &m3).err(),
            Some(Error::PaillierModulus)
        );

        let (p2, _) = start(&mut fixtures::rng(73), &s2, &ctx2, &m1).unwrap();
        let mut roots = rhos;
        roots[1] = crate::paillier::ModN::ONE;
        m3.responses.key_proof = PaillierKeyProof::from_roots(roots);
        assert_eq!(
            p2.on_msg3(&mut fixtures::rng(74), &m3).err(),
            Some(Error::ProofInvalid(Proof::PaillierKey))
        );
    }

    /// An equality proof wrong only in its last Paillier chunk under the new key (one of the
    /// items the checks run apart) is refused as the equality proof on any schedule, and a
    /// message with a bad key proof as well is refused for the key proof, first in order; the
    /// honest message gives the same share on any schedule.
    #[test]
    fn a_proof_wrong_only_under_the_new_key_is_refused_on_any_schedule() {
        use crate::{
            wire::Message,
            work::{Idle, Reversed},
        };
        let (s1, s2) = fixtures::keygen(80);
        let (ctx1, ctx2) = fixtures::contexts();
        let mut r1 = fixtures::rng(81);
        let (p1, m1) =
            crate::refresh::p1::start(&mut r1, &s1, &ctx1, fixtures::paillier_key(1)).unwrap();
        let p2 = || start(&mut fixtures::rng(82), &s2, &ctx2, &m1).unwrap();
        let (_, m2) = p2();
        let (_, honest) = p1.on_msg2(&mut r1, &m2).unwrap();
        let outcome = |m3: &Msg3| {
            let run = |out: Result<(KeyShareP2, Msg4)>| {
                out.map(|(share, confirm)| (share.fingerprint(), confirm))
            };
            let rng = || fixtures::rng(83);
            let sequential = run(p2().0.on_msg3_with(&mut rng(), m3, &Sequential));
            assert_eq!(run(p2().0.on_msg3(&mut rng(), m3)), sequential);
            assert_eq!(
                run(p2().0.on_msg3_with(&mut rng(), m3, &Reversed)),
                sequential
            );
            assert_eq!(run(p2().0.on_msg3_with(&mut rng(), m3, &Idle)), sequential);
            sequential
        };
        assert!(outcome(&honest).is_ok());

        // The low byte of the equality proof's last D_i (header, ρ1 and its opening, then
        // c̃_1..3, Com̃, R, the opening and d_1..3 come first).
        let mut bytes = [0u8; Msg3::LEN];
        honest.encode(&mut bytes).unwrap();
        let last_d = 2 + 32 + 32 + 3 * 512 + 256 + 33 + 32 + 3 * 43 + 3 * 256 - 1;
        bytes[last_d] ^= 1;
        let bad = Msg3::decode(&bytes).unwrap();
        assert_eq!(
            outcome(&bad),
            Err(Error::ProofInvalid(Proof::PaillierPedersenEq))
        );
        let mut both = bad;
        let mut roots = [crate::paillier::ModN::ONE; KEY_ROOTS];
        roots[0] = crate::paillier::ModN::from_u64(2);
        both.responses.key_proof = PaillierKeyProof::from_roots(roots);
        assert_eq!(outcome(&both), Err(Error::ProofInvalid(Proof::PaillierKey)));
    }
}
